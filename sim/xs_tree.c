/* SPDX-License-Identifier: MIT */
/*
 * xs_tree.c: the node store, permissions, paths, and request views.
 *
 * The store is a hash table from absolute path to node, like C
 * xenstored's tdb: a node holds its data, permissions and the names of its
 * children, so a directory listing or a subtree walk goes through the
 * children lists.  Every change gives the node a fresh generation number;
 * transactions compare those at commit.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/xs_internal.h"

/* --- node table ----------------------------------------------------------- */

#define XS_DB_MIN_BUCKETS 256u

static size_t hash_path(const char *s)
{
    size_t h = 5381; /* djb2, as xenstored's hashtable */

    while (*s)
        h = h * 33 + (unsigned char)*s++;
    return h;
}

int xs_db_init(struct xs_db *db)
{
    db->nbuckets = XS_DB_MIN_BUCKETS;
    db->count = 0;
    db->buckets = calloc(db->nbuckets, sizeof(*db->buckets));
    return db->buckets ? 0 : -ENOMEM;
}

void xs_db_destroy(struct xs_db *db)
{
    size_t i;

    for (i = 0; i < db->nbuckets; i++) {
        while (db->buckets[i]) {
            struct xs_node *n = db->buckets[i];

            db->buckets[i] = n->hnext;
            xs_node_free(n);
        }
    }
    free(db->buckets);
    db->buckets = NULL;
    db->count = 0;
}

struct xs_node *xs_db_find(const struct xs_db *db, const char *path)
{
    struct xs_node *n = db->buckets[hash_path(path) % db->nbuckets];

    while (n && strcmp(n->path, path))
        n = n->hnext;
    return n;
}

/* Grow when the chains get long; a failed grow only costs speed. */
static void db_grow(struct xs_db *db)
{
    size_t nb = db->nbuckets * 2, i;
    struct xs_node **b = calloc(nb, sizeof(*b));

    if (!b)
        return;
    for (i = 0; i < db->nbuckets; i++) {
        while (db->buckets[i]) {
            struct xs_node *n = db->buckets[i];
            size_t h = hash_path(n->path) % nb;

            db->buckets[i] = n->hnext;
            n->hnext = b[h];
            b[h] = n;
        }
    }
    free(db->buckets);
    db->buckets = b;
    db->nbuckets = nb;
}

/* Insert @n; the caller made sure its path is not present. */
void xs_db_insert(struct xs_db *db, struct xs_node *n)
{
    size_t h;

    if (db->count >= db->nbuckets * 2)
        db_grow(db);
    h = hash_path(n->path) % db->nbuckets;
    n->hnext = db->buckets[h];
    db->buckets[h] = n;
    db->count++;
}

struct xs_node *xs_db_unlink(struct xs_db *db, const char *path)
{
    struct xs_node **pp = &db->buckets[hash_path(path) % db->nbuckets];

    for (; *pp; pp = &(*pp)->hnext) {
        struct xs_node *n = *pp;

        if (!strcmp(n->path, path)) {
            *pp = n->hnext;
            n->hnext = NULL;
            db->count--;
            return n;
        }
    }
    return NULL;
}

/* --- nodes ---------------------------------------------------------------- */

struct xs_node *xs_node_new(const char *path)
{
    struct xs_node *n = calloc(1, sizeof(*n));

    if (!n)
        return NULL;
    n->path = strdup(path);
    if (!n->path) {
        free(n);
        return NULL;
    }
    return n;
}

void xs_node_free(struct xs_node *n)
{
    if (!n)
        return;
    free(n->path);
    free(n->data);
    free(n->children);
    free(n->perms.p);
    free(n);
}

static void *memdup(const void *src, size_t len)
{
    void *p;

    if (!len)
        return NULL;
    p = malloc(len);
    if (p)
        memcpy(p, src, len);
    return p;
}

struct xs_node *xs_node_dup(const struct xs_node *src)
{
    struct xs_node *n = xs_node_new(src->path);

    if (!n)
        return NULL;
    n->gen = src->gen;
    n->absent = src->absent;
    n->dirty = src->dirty;
    n->base_gen = src->base_gen;
    n->datalen = src->datalen;
    n->childlen = src->childlen;
    n->data = memdup(src->data, src->datalen);
    n->children = memdup(src->children, src->childlen);
    if ((src->datalen && !n->data) || (src->childlen && !n->children) ||
        xs_perms_copy(&n->perms, &src->perms)) {
        xs_node_free(n);
        return NULL;
    }
    return n;
}

int xs_node_set_data(struct xs_node *n, const void *data, unsigned int len)
{
    void *p = memdup(data, len);

    if (len && !p)
        return -ENOMEM;
    free(n->data);
    n->data = p;
    n->datalen = len;
    return 0;
}

int xs_node_add_child(struct xs_node *n, const char *name)
{
    size_t len = strlen(name) + 1;
    char *c = realloc(n->children, n->childlen + len);

    if (!c)
        return -ENOMEM;
    memcpy(c + n->childlen, name, len);
    n->children = c;
    n->childlen += len;
    return 0;
}

void xs_node_del_child(struct xs_node *n, const char *name)
{
    unsigned int off = 0, len;

    while (off < n->childlen) {
        len = strlen(n->children + off) + 1;
        if (!strcmp(n->children + off, name)) {
            memmove(n->children + off, n->children + off + len,
                    n->childlen - off - len);
            n->childlen -= len;
            return;
        }
        off += len;
    }
}

/* The record size C xenstored checks against the entry-size quota. */
unsigned int xs_node_size(const struct xs_node *n)
{
    return XS_NODE_HDR_SIZE + n->perms.num * XS_PERM_ENTRY_SIZE +
           n->datalen + n->childlen;
}

/* --- permissions ---------------------------------------------------------- */

int xs_perms_copy(struct xs_perms *dst, const struct xs_perms *src)
{
    dst->num = src->num;
    dst->p = memdup(src->p, src->num * sizeof(*src->p));
    return (src->num && !dst->p) ? -ENOMEM : 0;
}

struct xs_perms *xs_perms_clone(const struct xs_perms *src)
{
    struct xs_perms *p = malloc(sizeof(*p));

    if (p && xs_perms_copy(p, src)) {
        free(p);
        p = NULL;
    }
    return p;
}

void xs_perms_free(struct xs_perms *p)
{
    if (p) {
        free(p->p);
        free(p);
    }
}

static int perm_from_char(char c, uint8_t *out)
{
    switch (c) {
    case 'n': *out = XS_P_NONE; return 0;
    case 'r': *out = XS_P_READ; return 0;
    case 'w': *out = XS_P_WRITE; return 0;
    case 'b': *out = XS_P_READ | XS_P_WRITE; return 0;
    default: return -EINVAL;
    }
}

/*
 * Parse @num permission strings ("r5", "n0", ...) from @strings, which
 * holds @len bytes of NUL-terminated strings.  Domids must be decimal and
 * below DOMID_FIRST_RESERVED.
 */
int xs_perms_parse(struct xs_perms *dst, const char *strings,
                   unsigned int len, unsigned int num)
{
    const char *s = strings, *end = strings + len;
    unsigned int i;

    dst->num = num;
    dst->p = calloc(num, sizeof(*dst->p));
    if (!dst->p)
        return -ENOMEM;
    for (i = 0; i < num; i++) {
        char *e;
        unsigned long id;

        if (s >= end || perm_from_char(s[0], &dst->p[i].perms) ||
            s[1] < '0' || s[1] > '9')
            goto inval;
        errno = 0;
        id = strtoul(s + 1, &e, 10);
        if (errno || *e || id >= 0x7ff0)
            goto inval;
        dst->p[i].id = (uint16_t)id;
        s = e + 1;
    }
    return 0;

inval:
    free(dst->p);
    dst->p = NULL;
    return -EINVAL;
}

/* "r5\0n0\0...": the GET_PERMS reply body.  Returns NULL on ENOMEM. */
char *xs_perms_format(const struct xs_perms *p, unsigned int *len)
{
    static const char letter[] = { 'n', 'r', 'w', 'b' };
    char *out = malloc(p->num * 8);
    unsigned int i, off = 0;

    if (!out)
        return NULL;
    for (i = 0; i < p->num; i++)
        off += (unsigned int)sprintf(out + off, "%c%u",
                                     letter[p->p[i].perms & 3],
                                     p->p[i].id) + 1;
    *len = off;
    return out;
}

/*
 * Access @id has under @p: privileged callers and the owner get
 * everything; otherwise the first entry naming the domain, else the
 * default in entry 0.
 */
unsigned int xs_perm_for(const struct xs_id *id, const struct xs_perms *p)
{
    const unsigned int all = XS_P_READ | XS_P_WRITE | XS_P_OWNER;
    unsigned int i;

    if (id->priv || p->p[0].id == id->domid)
        return all;
    for (i = 1; i < p->num; i++)
        if (p->p[i].id == id->domid)
            return p->p[i].perms;
    return p->p[0].perms;
}

/* --- paths ---------------------------------------------------------------- */

/* @path is absolute and not "/". */
const char *xs_basename(const char *path)
{
    return strrchr(path, '/') + 1;
}

char *xs_parent_path(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

char *xs_child_path(const char *parent, const char *name)
{
    char *p;

    if (asprintf(&p, "%s/%s", strcmp(parent, "/") ? parent : "", name) < 0)
        return NULL;
    return p;
}

/* Is @child equal to or below @parent? */
bool xs_is_child(const char *child, const char *parent)
{
    size_t len = strlen(parent);

    if (!strcmp(parent, "/"))
        return true;
    return !strncmp(child, parent, len) &&
           (child[len] == '/' || child[len] == '\0');
}

static bool valid_chars(const char *p)
{
    return strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                     "abcdefghijklmnopqrstuvwxyz"
                     "0123456789-/_@") == strlen(p);
}

/*
 * Length of @path charged to an unprivileged caller: C xenstored limits
 * the part below /local/domain/<id>/ to XENSTORE_REL_PATH_MAX so that a
 * domain's own home prefix does not count.
 */
static size_t charged_len(const char *path)
{
    unsigned int domid;
    int off = 0;

    if (sscanf(path, "/local/domain/%5u/%n", &domid, &off) == 1 && off > 0)
        return strlen(path) - (size_t)off;
    return strlen(path);
}

static bool valid_path(const struct xs_id *id, const char *p)
{
    size_t len = strlen(p);

    if (p[0] != '/' || len > XENSTORE_ABS_PATH_MAX)
        return false;
    if (len > 1 && p[len - 1] == '/')
        return false;
    if (strstr(p, "//") || !valid_chars(p))
        return false;
    return id->priv || charged_len(p) <= XENSTORE_REL_PATH_MAX;
}

static bool valid_special(const char *p)
{
    return strlen(p) <= XENSTORE_REL_PATH_MAX && valid_chars(p);
}

/*
 * Turn a request path into an absolute one: relative paths are resolved
 * under the caller's home /local/domain/<domid>.  "@..." names are only
 * accepted where @allow_special.  Returns 0 and a malloc'ed *out, or
 * -EINVAL / -ENOMEM.
 */
int xs_canonicalize(const struct xs_id *id, const char *in, char **out,
                    bool allow_special)
{
    char home[32];
    char *p;

    if (in[0] == '@') {
        if (!allow_special || !valid_special(in))
            return -EINVAL;
        p = strdup(in);
    } else if (in[0] == '/') {
        p = strdup(in);
    } else {
        if (asprintf(&p, "%s/%s", xs_home_path(id, home, sizeof(home)),
                     in) < 0)
            p = NULL;
    }
    if (!p)
        return -ENOMEM;
    if (p[0] == '/' && !valid_path(id, p)) {
        free(p);
        return -EINVAL;
    }
    *out = p;
    return 0;
}

/* --- views ---------------------------------------------------------------- */

/*
 * In a transaction, the first touch of a path copies the live node (or
 * its absence) into the overlay and remembers the live generation, which
 * commit compares against.
 */
static struct xs_node *txn_touch(struct xs_view *v, const char *path,
                                 int *err)
{
    struct xs_db *ov = xs_txn_overlay(v->txn);
    struct xs_node *n = xs_db_find(ov, path);
    const struct xs_node *live;

    if (n)
        return n;
    if (!v->id.priv && ov->count >= XS_QUOTA_TXN_NODES) {
        *err = ENOSPC;
        return NULL;
    }
    live = xs_db_find(&v->xs->db, path);
    n = live ? xs_node_dup(live) : xs_node_new(path);
    if (!n) {
        *err = ENOMEM;
        return NULL;
    }
    n->absent = !live;
    n->base_gen = live ? live->gen : 0;
    xs_db_insert(ov, n);
    return n;
}

/* Look @path up.  NULL with *err = ENOENT (or ENOSPC/ENOMEM). */
const struct xs_node *xs_view_get(struct xs_view *v, const char *path,
                                  int *err)
{
    const struct xs_node *n;

    if (v->txn) {
        n = txn_touch(v, path, err);
        if (n && n->absent) {
            *err = ENOENT;
            n = NULL;
        }
        return n;
    }
    n = xs_db_find(&v->xs->db, path);
    if (!n)
        *err = ENOENT;
    return n;
}

static void acct(struct xs_view *v, uint16_t domid, int delta)
{
    if (v->txn)
        xs_txn_acct(v->txn, domid, delta);
    else
        xs_domain_acct_nodes(v->xs, domid, delta);
}

/*
 * Store @n (takes ownership), replacing any node at its path.  Node
 * counts follow the owner (entry 0), as C xenstored's accounting does.
 */
int xs_view_put(struct xs_view *v, struct xs_node *n)
{
    struct xs_db *db = v->txn ? xs_txn_overlay(v->txn) : &v->xs->db;
    struct xs_node *old;
    int err = 0;

    if (v->txn && !txn_touch(v, n->path, &err)) {
        xs_node_free(n);
        return -err;
    }
    old = xs_db_unlink(db, n->path);
    if (old && !old->absent)
        acct(v, old->perms.p[0].id, -1);
    acct(v, n->perms.p[0].id, +1);
    n->gen = ++v->xs->gen;
    if (old) {
        n->base_gen = old->base_gen;
        n->dirty = true;
    }
    n->absent = false;
    xs_node_free(old);
    xs_db_insert(db, n);
    return 0;
}

/* Delete the node at @path (its children are the caller's business). */
int xs_view_del(struct xs_view *v, const char *path)
{
    struct xs_node *n;
    int err = 0;

    if (!v->txn) {
        n = xs_db_unlink(&v->xs->db, path);
        if (n)
            acct(v, n->perms.p[0].id, -1);
        xs_node_free(n);
        return 0;
    }
    n = txn_touch(v, path, &err);
    if (!n)
        return -err;
    if (!n->absent)
        acct(v, n->perms.p[0].id, -1);
    n->absent = true;
    n->dirty = true;
    n->datalen = n->childlen = 0;
    return 0;
}

/*
 * Nearest existing ancestor's say: a caller who may not see the parent
 * must not learn whether a node exists (C xenstored's errno_from_parents).
 */
static int errno_from_parents(struct xs_view *v, const char *path, int err,
                              unsigned int perm)
{
    char *p = strdup(path);
    const struct xs_node *n = NULL;
    int e = 0;

    if (!p)
        return ENOMEM;
    while (!n && strcmp(p, "/")) {
        char *up = xs_parent_path(p);

        free(p);
        p = up;
        if (!p)
            return ENOMEM;
        n = xs_view_get(v, p, &e);
        if (!n && e != ENOENT) {
            free(p);
            return e;
        }
    }
    free(p);
    if (n && (xs_perm_for(&v->id, &n->perms) & perm))
        return err;
    return EACCES;
}

/*
 * Get @path for an operation needing @perm.  On failure *err is EACCES,
 * ENOENT (only if the caller may know), ENOSPC or ENOMEM.
 */
const struct xs_node *xs_view_access(struct xs_view *v, const char *path,
                                     unsigned int perm, int *err)
{
    const struct xs_node *n = xs_view_get(v, path, err);

    if (n && (xs_perm_for(&v->id, &n->perms) & perm) == perm)
        return n;
    if (n)
        *err = EACCES;
    if (*err != ENOMEM && *err != ENOSPC)
        *err = errno_from_parents(v, path, *err, perm);
    return NULL;
}

/* Entry-size quota for unprivileged writers. */
int xs_view_check_size(const struct xs_view *v, const struct xs_node *n)
{
    if (!v->id.priv && xs_node_size(n) >= XS_QUOTA_ENTRY_SIZE)
        return -ENOSPC;
    return 0;
}

/* May the caller create @want more nodes?  0 or -ENOSPC. */
int xs_view_nodes_left(struct xs_view *v, unsigned int want)
{
    const struct xs_domain *d;
    long have;

    if (v->id.priv)
        return 0;
    d = xs_domain_get(v->xs, v->id.domid, false);
    have = d ? (long)d->nodes : 0;
    if (v->txn)
        have += xs_txn_acct_delta(v->txn, v->id.domid);
    return have + (long)want > (long)XS_QUOTA_NODES ? -ENOSPC : 0;
}

/* --- tree operations ---------------------------------------------------- */

/*
 * Create @path and any missing ancestors.  New nodes inherit the nearest
 * existing ancestor's permissions, except that an unprivileged creator
 * becomes the owner (C xenstored 4.17).  Quotas are checked for every
 * node before anything is stored, so a refused write leaves no trace.
 */
int xs_view_create(struct xs_view *v, const char *path, const void *data,
                   unsigned int datalen)
{
    struct xs_node *chain[XENSTORE_ABS_PATH_MAX / 2 + 2];
    const struct xs_node *top;
    unsigned int depth = 0, i;
    char *p = strdup(path), *up;
    int err = 0, rc = -ENOMEM;

    /* Walk up to the first existing node: chain[0] = @path ... */
    while (p) {
        top = xs_view_get(v, p, &err);
        if (top || err != ENOENT)
            break;
        chain[depth] = xs_node_new(p);
        if (!chain[depth])
            goto out;
        depth++;
        up = xs_parent_path(p);
        free(p);
        p = up;
    }
    if (!p)
        goto out;
    rc = top ? 0 : -err;
    if (rc)
        goto out;
    /* ... chain[depth] = the existing parent, copied to get a child. */
    chain[depth] = xs_node_dup(top);
    rc = -ENOMEM;
    if (!chain[depth])
        goto out;
    depth++;
    for (i = depth - 1; i > 0; i--) {
        struct xs_node *n = chain[i - 1];

        if (xs_perms_copy(&n->perms, &chain[i]->perms) ||
            xs_node_add_child(chain[i], xs_basename(n->path)))
            goto out;
        if (!v->id.priv)
            n->perms.p[0].id = v->id.domid;
    }
    if (xs_node_set_data(chain[0], data, datalen))
        goto out;
    rc = xs_view_nodes_left(v, depth - 1);
    for (i = 0; i < depth && !rc; i++)
        rc = xs_view_check_size(v, chain[i]);
    /* Store bottom-up; puts cannot fail after the checks above... */
    for (i = 0; i < depth && !rc; i++) {
        rc = xs_view_put(v, chain[i]);
        chain[i] = NULL;
    }
    /* ...except a transaction touching too many nodes: ENOSPC, as C. */
out:
    for (i = 0; i < depth; i++)
        xs_node_free(chain[i]);
    free(p);
    return rc;
}

/*
 * Queue the event for one removed node while its permissions, and its
 * parent's, are still known: the watcher check needs them.
 */
static void removed(struct xs_view *v, const struct xs_node *n,
                    const struct xs_perms *parent, bool exact)
{
    struct xs_change *c = xs_change_new(n->path, exact);

    if (c && (!(c->node_perms = xs_perms_clone(&n->perms)) ||
              (parent && !(c->parent_perms = xs_perms_clone(parent))))) {
        xs_change_free(c);
        c = NULL;
    }
    xs_view_changed(v, c);
}

/* Remove @path and everything below it, children first. */
static int rm_subtree(struct xs_view *v, const char *path,
                      const struct xs_perms *parent, bool exact)
{
    const struct xs_node *n;
    struct xs_node *copy;
    unsigned int off;
    int err = 0, rc = 0;

    n = xs_view_get(v, path, &err);
    if (!n)
        return err == ENOENT ? 0 : -err; /* a dangling child name */
    copy = xs_node_dup(n);
    if (!copy)
        return -ENOMEM;
    for (off = 0; off < copy->childlen && !rc;
         off += (unsigned int)strlen(copy->children + off) + 1) {
        char *child = xs_child_path(path, copy->children + off);

        rc = child ? rm_subtree(v, child, &copy->perms, true) : -ENOMEM;
        free(child);
    }
    if (!rc) {
        removed(v, copy, parent, exact);
        rc = xs_view_del(v, path);
    }
    xs_node_free(copy);
    return rc;
}

/*
 * Remove @path (which exists and is not "/") with everything below it;
 * @parent is a copy of its parent node, which this stores back without
 * the child (and takes).
 */
int xs_view_rm(struct xs_view *v, const char *path, struct xs_node *parent)
{
    int rc = rm_subtree(v, path, &parent->perms, false);

    if (rc) {
        xs_node_free(parent);
        return rc;
    }
    xs_node_del_child(parent, xs_basename(path));
    return xs_view_put(v, parent);
}

/* Fire @c now, or at commit when inside a transaction.  Takes @c. */
void xs_view_changed(struct xs_view *v, struct xs_change *c)
{
    if (!c)
        return; /* out of memory: the event is lost, the change is not */
    if (v->txn) {
        xs_txn_queue_change(v->txn, c);
        return;
    }
    xs_watch_fire(v->xs, c);
    xs_change_free(c);
}

struct xs_change *xs_change_new(const char *path, bool exact)
{
    struct xs_change *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->path = strdup(path);
    if (!c->path) {
        free(c);
        return NULL;
    }
    c->exact = exact;
    return c;
}

void xs_change_free(struct xs_change *c)
{
    if (!c)
        return;
    free(c->path);
    xs_perms_free(c->node_perms);
    xs_perms_free(c->parent_perms);
    xs_perms_free(c->old_perms);
    free(c);
}
