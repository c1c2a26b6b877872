/* SPDX-License-Identifier: MIT */
/*
 * xs_ops.c: the xenstore request handlers.
 *
 * Each handler gets the request with its payload NUL-terminated one byte
 * past its end (so string functions cannot run off it) and returns 0
 * after queueing its reply, or a positive errno which becomes an XS_ERROR
 * reply.  Argument checks follow C xenstored: a request whose strings are
 * not NUL-terminated, or that has the wrong number of them, gets EINVAL.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/xs_internal.h"

struct xs_req {
    struct xs_conn *conn;
    const struct xsd_sockmsg *hdr;
    char *body;
    unsigned int len;
    struct xs_view view;
};

/* Number of NUL-terminated strings in the payload. */
static unsigned int count_strings(const struct xs_req *r)
{
    unsigned int i, n = 0;

    for (i = 0; i < r->len; i++)
        if (!r->body[i])
            n++;
    return n;
}

/* The payload must be exactly one string (C xenstored's onearg()). */
static const char *onearg(const struct xs_req *r)
{
    if (!r->len || strlen(r->body) + 1 != r->len)
        return NULL;
    return r->body;
}

/* The first two strings, if the payload is exactly two strings. */
static bool twoargs(const struct xs_req *r, const char **a, const char **b)
{
    if (!r->len || r->body[r->len - 1] || count_strings(r) != 2)
        return false;
    *a = r->body;
    *b = r->body + strlen(r->body) + 1;
    return true;
}

static int reply(struct xs_req *r, const void *data, unsigned int len)
{
    return -xs_conn_reply(r->conn, r->hdr, r->hdr->type, data, len);
}

static int reply_str(struct xs_req *r, const char *s)
{
    return reply(r, s, (unsigned int)strlen(s) + 1);
}

static int ack(struct xs_req *r)
{
    return reply_str(r, "OK");
}

/* Canonicalize and look up the node named by @name for @perm. */
static const struct xs_node *get_node(struct xs_req *r, const char *name,
                                      unsigned int perm, char **path,
                                      int *err)
{
    const struct xs_node *n;
    int rc;

    *path = NULL;
    if (!name) {
        *err = EINVAL;
        return NULL;
    }
    rc = xs_canonicalize(&r->view.id, name, path, false);
    if (rc) {
        *err = -rc;
        return NULL;
    }
    n = xs_view_access(&r->view, *path, perm, err);
    return n;
}

/* --- reading -------------------------------------------------------------- */

static int op_read(struct xs_req *r)
{
    const struct xs_node *n;
    char *path;
    int err;

    n = get_node(r, onearg(r), XS_P_READ, &path, &err);
    free(path);
    return n ? reply(r, n->data, n->datalen) : err;
}

static int op_directory(struct xs_req *r)
{
    const struct xs_node *n;
    char *path;
    int err;

    n = get_node(r, onearg(r), XS_P_READ, &path, &err);
    free(path);
    return n ? reply(r, n->children, n->childlen) : err;
}

/*
 * DIRECTORY_PART: "<generation>\0" then as many whole child names from
 * byte @offset as fit; the last part ends with an extra "\0".
 */
static int op_directory_part(struct xs_req *r)
{
    const char *name, *offstr;
    const struct xs_node *n;
    unsigned int off, len = 0, genlen, maxlen;
    char gen[24], *path, *data;
    int err;

    if (!twoargs(r, &name, &offstr))
        return EINVAL;
    n = get_node(r, name, XS_P_READ, &path, &err);
    free(path);
    if (!n)
        return err;
    off = (unsigned int)strtoul(offstr, NULL, 10);
    genlen = (unsigned int)snprintf(gen, sizeof(gen), "%" PRIu64, n->gen) + 1;
    if (off >= n->childlen) {
        gen[genlen] = '\0';
        return reply(r, gen, genlen + 1);
    }
    /* A part starts at a name boundary (clients pass back our offsets). */
    if (off && n->children[off - 1])
        return EINVAL;
    maxlen = XENSTORE_PAYLOAD_MAX - genlen - 1;
    while (off + len < n->childlen) {
        unsigned int l = (unsigned int)strlen(n->children + off + len) + 1;

        if (len + l > maxlen)
            break;
        len += l;
    }
    data = malloc(genlen + len + 1);
    if (!data)
        return ENOMEM;
    memcpy(data, gen, genlen);
    memcpy(data + genlen, n->children + off, len);
    if (off + len == n->childlen)
        data[genlen + len++] = '\0';
    err = reply(r, data, genlen + len);
    free(data);
    return err;
}

static int op_get_perms(struct xs_req *r)
{
    const struct xs_node *n;
    unsigned int len;
    char *path, *s;
    int err;

    n = get_node(r, onearg(r), XS_P_READ, &path, &err);
    free(path);
    if (!n)
        return err;
    s = xs_perms_format(&n->perms, &len);
    if (!s)
        return ENOMEM;
    err = reply(r, s, len);
    free(s);
    return err;
}

/* --- creating ------------------------------------------------------------- */

static void changed(struct xs_req *r, const char *path,
                    const struct xs_perms *old)
{
    struct xs_change *c = xs_change_new(path, false);

    if (c && old && !(c->old_perms = xs_perms_clone(old))) {
        xs_change_free(c);
        c = NULL;
    }
    xs_view_changed(&r->view, c);
}

static int op_write(struct xs_req *r)
{
    const struct xs_node *n;
    struct xs_node *copy;
    unsigned int off, datalen;
    char *path;
    int err, rc;

    /* Path, then binary data, which may hold NULs or lack a final one. */
    if (!memchr(r->body, '\0', r->len))
        return EINVAL;
    off = (unsigned int)strlen(r->body) + 1;
    datalen = r->len - off;
    n = get_node(r, r->body, XS_P_WRITE, &path, &err);
    if (!n && err != ENOENT) {
        free(path);
        return err;
    }
    if (n) {
        copy = xs_node_dup(n);
        rc = copy ? xs_node_set_data(copy, r->body + off, datalen) : -ENOMEM;
        if (!rc)
            rc = xs_view_check_size(&r->view, copy);
        if (!rc) {
            rc = xs_view_put(&r->view, copy);
            copy = NULL;
        }
        xs_node_free(copy);
    } else {
        rc = xs_view_create(&r->view, path, r->body + off, datalen);
    }
    if (!rc) {
        changed(r, path, NULL);
        rc = -ack(r);
    }
    free(path);
    return -rc;
}

static int op_mkdir(struct xs_req *r)
{
    const struct xs_node *n;
    char *path;
    int err;

    n = get_node(r, onearg(r), XS_P_WRITE, &path, &err);
    if (!n && err == ENOENT) {
        err = -xs_view_create(&r->view, path, NULL, 0);
        if (!err)
            changed(r, path, NULL);
    } else if (n) {
        err = 0; /* exists already: fine, and no event */
    }
    free(path);
    return err ? err : ack(r);
}

/* --- removing ------------------------------------------------------------- */

static int op_rm(struct xs_req *r)
{
    const struct xs_node *n, *parent;
    struct xs_node *pcopy;
    char *path, *up;
    int err, rc;

    n = get_node(r, onearg(r), XS_P_WRITE, &path, &err);
    if (!path)
        return err;
    if (!strcmp(path, "/")) {
        free(path);
        return n ? EINVAL : err;
    }
    up = xs_parent_path(path);
    if (!up) {
        free(path);
        return ENOMEM;
    }
    if (!n) {
        /* Removing what does not exist is fine if its parent exists. */
        if (err == ENOENT)
            err = xs_view_get(&r->view, up, &err) ? ack(r) : err;
        goto out;
    }
    parent = xs_view_get(&r->view, up, &err);
    pcopy = parent ? xs_node_dup(parent) : NULL;
    if (!pcopy) {
        err = parent ? ENOMEM : err;
        goto out;
    }
    rc = xs_view_rm(&r->view, path, pcopy);
    err = rc ? -rc : ack(r);
out:
    free(up);
    free(path);
    return err;
}

/* --- permissions ---------------------------------------------------------- */

static int set_perms_special(struct xs_req *r, const char *name,
                             struct xs_perms *perms)
{
    struct xs_special *sp = xs_special_find(r->view.xs, name);
    const unsigned int need = XS_P_WRITE | XS_P_OWNER;

    if (!sp)
        return EINVAL;
    if ((xs_perm_for(&r->view.id, &sp->perms) & need) != need)
        return EACCES;
    free(sp->perms.p);
    sp->perms = *perms;
    perms->p = NULL;
    return ack(r);
}

static int set_perms_node(struct xs_req *r, const char *name,
                          struct xs_perms *perms)
{
    const struct xs_node *n;
    struct xs_node *copy;
    struct xs_perms *old;
    char *path;
    int err, rc;

    n = get_node(r, name, XS_P_WRITE | XS_P_OWNER, &path, &err);
    if (!n)
        goto out;
    /* Unprivileged domains may not give nodes away. */
    err = EPERM;
    if (!r->view.id.priv && perms->p[0].id != n->perms.p[0].id)
        goto out;
    err = ENOMEM;
    old = xs_perms_clone(&n->perms);
    copy = xs_node_dup(n);
    if (!old || !copy) {
        xs_perms_free(old);
        xs_node_free(copy);
        goto out;
    }
    free(copy->perms.p);
    copy->perms = *perms;
    perms->p = NULL;
    rc = xs_view_check_size(&r->view, copy);
    if (!rc) {
        rc = xs_view_put(&r->view, copy);
        copy = NULL;
    }
    xs_node_free(copy);
    if (!rc)
        changed(r, path, old);
    xs_perms_free(old);
    err = rc ? -rc : ack(r);
out:
    free(path);
    return err;
}

static int op_set_perms(struct xs_req *r)
{
    struct xs_perms perms = { 0, NULL };
    unsigned int num = count_strings(r), off;
    int err;

    if (num < 2 || r->body[r->len - 1])
        return EINVAL;
    num--;
    if (!r->view.id.priv && num > XS_QUOTA_PERMS)
        return ENOSPC;
    off = (unsigned int)strlen(r->body) + 1;
    err = -xs_perms_parse(&perms, r->body + off, r->len - off, num);
    if (err)
        return err;
    if (r->body[0] == '@')
        err = set_perms_special(r, r->body, &perms);
    else
        err = set_perms_node(r, r->body, &perms);
    free(perms.p);
    return err;
}

/* --- watches and transactions --------------------------------------------- */

static int op_watch(struct xs_req *r)
{
    const char *path, *token;
    int err;

    if (!twoargs(r, &path, &token))
        return EINVAL;
    err = xs_watch_add(r->conn, path, token);
    if (err)
        return err;
    err = ack(r);
    /* "We fire once up front: simplifies clients and restart." */
    xs_watch_fire_initial(r->conn);
    return err;
}

static int op_unwatch(struct xs_req *r)
{
    const char *path, *token;
    int err;

    if (!twoargs(r, &path, &token))
        return EINVAL;
    err = xs_watch_remove(r->conn, path, token);
    return err ? err : ack(r);
}

static int op_reset_watches(struct xs_req *r)
{
    xs_watch_free_all(r->conn);
    xs_txn_free_all(r->conn);
    return ack(r);
}

static int op_transaction_start(struct xs_req *r)
{
    uint32_t id;
    char buf[16];
    int err;

    if (r->view.txn)
        return EBUSY;
    err = xs_txn_start(r->conn, &id);
    if (err)
        return err;
    snprintf(buf, sizeof(buf), "%" PRIu32, id);
    return reply_str(r, buf);
}

static int op_transaction_end(struct xs_req *r)
{
    const char *arg = onearg(r);
    bool commit;
    int err;

    if (!r->view.txn)
        return ENOENT;
    if (!arg || (strcmp(arg, "T") && strcmp(arg, "F")))
        return EINVAL;
    commit = arg[0] == 'T';
    err = xs_txn_end(r->conn, r->view.txn, commit);
    r->view.txn = NULL;
    return err ? err : ack(r);
}

/* --- domains ---------------------------------------------------------------- */

static int parse_domid(const char *s, unsigned int *domid)
{
    char *end;
    unsigned long v;

    if (!s || *s < '0' || *s > '9')
        return EINVAL;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end || v > 0xffff)
        return EINVAL;
    *domid = (unsigned int)v;
    return 0;
}

static int op_get_domain_path(struct xs_req *r)
{
    unsigned int domid;
    char buf[32];
    int err = parse_domid(onearg(r), &domid);

    if (err)
        return err;
    snprintf(buf, sizeof(buf), "/local/domain/%u", domid);
    return reply_str(r, buf);
}

static int op_is_domain_introduced(struct xs_req *r)
{
    const struct xs_domain *d;
    unsigned int domid;
    int err = parse_domid(onearg(r), &domid);

    if (err)
        return err;
    d = xs_domain_get(r->view.xs, (uint16_t)domid, false);
    return reply_str(r, domid == XS_DOMID_SELF || (d && d->introduced)
                            ? "T" : "F");
}

/*
 * The sim's domains are made and destroyed by pvaccel-sim (like xl), and
 * xenstore learns about them from the daemon, not from a toolstack's
 * INTRODUCE/RELEASE.  So: introducing a live domain is EEXIST, anything
 * else ENOSYS; RELEASE refuses (EPERM for dom0, ENOENT for an unknown
 * domain, ENOSYS: use `pvaccel-sim destroy`).
 */
static int known_domain(struct xs_req *r, unsigned int *domid)
{
    const struct xs_domain *d;
    const char *arg = r->len && !r->body[r->len - 1] ? r->body : NULL;
    int err = parse_domid(arg, domid);

    if (err)
        return err;
    d = xs_domain_get(r->view.xs, (uint16_t)*domid, false);
    return d && d->introduced ? 0 : ENOENT;
}

static int op_introduce(struct xs_req *r)
{
    unsigned int domid;

    return known_domain(r, &domid) ? ENOSYS : EEXIST;
}

static int op_release(struct xs_req *r)
{
    unsigned int domid;
    int err = known_domain(r, &domid);

    if (err)
        return err;
    return domid ? ENOSYS : EINVAL;
}

/* RESUME clears a shutdown flag the sim does not have: a no-op. */
static int op_resume(struct xs_req *r)
{
    unsigned int domid;
    int err = known_domain(r, &domid);

    if (err)
        return err;
    return domid ? ack(r) : EINVAL;
}

static int op_set_target(struct xs_req *r)
{
    (void)r;
    return ENOSYS; /* no device-model stub domains in the sim */
}

/*
 * CONTROL: "print <text>" logs the text (tests use it as a marker), "help"
 * lists what is there, anything else is EINVAL like an unknown command in
 * C xenstored.
 */
static int op_control(struct xs_req *r)
{
    const char *cmd = r->len && !r->body[r->len - 1] ? r->body : NULL;

    if (!cmd)
        return EINVAL;
    if (!strcmp(cmd, "print")) {
        const char *text = cmd + strlen(cmd) + 1;

        if (text >= r->body + r->len)
            return EINVAL;
        fprintf(stderr, "xenstore: %s\n", text);
        return ack(r);
    }
    if (!strcmp(cmd, "help"))
        return reply_str(r, "Available commands:\nhelp\nprint <text>\n");
    return EINVAL;
}

/* --- dispatch ------------------------------------------------------------- */

#define F_PRIV 1u  /* privileged callers only: EACCES otherwise */
#define F_NOTX 2u  /* ignores tx_id */

static const struct {
    int (*fn)(struct xs_req *r);
    unsigned int flags;
} ops[XS_TYPE_COUNT] = {
    [XS_CONTROL] = { op_control, F_PRIV },
    [XS_DIRECTORY] = { op_directory, 0 },
    [XS_READ] = { op_read, 0 },
    [XS_GET_PERMS] = { op_get_perms, 0 },
    [XS_WATCH] = { op_watch, F_NOTX },
    [XS_UNWATCH] = { op_unwatch, F_NOTX },
    [XS_TRANSACTION_START] = { op_transaction_start, 0 },
    [XS_TRANSACTION_END] = { op_transaction_end, 0 },
    [XS_INTRODUCE] = { op_introduce, F_PRIV },
    [XS_RELEASE] = { op_release, F_PRIV },
    [XS_GET_DOMAIN_PATH] = { op_get_domain_path, 0 },
    [XS_WRITE] = { op_write, 0 },
    [XS_MKDIR] = { op_mkdir, 0 },
    [XS_RM] = { op_rm, 0 },
    [XS_SET_PERMS] = { op_set_perms, 0 },
    [XS_IS_DOMAIN_INTRODUCED] = { op_is_domain_introduced, F_PRIV },
    [XS_RESUME] = { op_resume, F_PRIV },
    [XS_SET_TARGET] = { op_set_target, F_PRIV },
    [XS_RESET_WATCHES] = { op_reset_watches, F_NOTX },
    [XS_DIRECTORY_PART] = { op_directory_part, 0 },
};

void xs_ops_dispatch(struct xs_conn *conn, const struct xsd_sockmsg *hdr,
                     char *body, unsigned int len)
{
    struct xs_req r = {
        .conn = conn, .hdr = hdr, .body = body, .len = len,
        .view = { .xs = conn->xs, .txn = NULL, .id = conn->id },
    };
    int err;

    if (hdr->type >= XS_TYPE_COUNT || !ops[hdr->type].fn) {
        /* Unknown, or a server-to-client type (WATCH_EVENT, ERROR). */
        xs_conn_error(conn, hdr, ENOSYS);
        return;
    }
    if ((ops[hdr->type].flags & F_PRIV) && !conn->id.priv) {
        xs_conn_error(conn, hdr, EACCES);
        return;
    }
    if (!(ops[hdr->type].flags & F_NOTX) && hdr->tx_id) {
        r.view.txn = xs_txn_find(conn, hdr->tx_id);
        if (!r.view.txn) {
            xs_conn_error(conn, hdr, ENOENT);
            return;
        }
    }
    err = ops[hdr->type].fn(&r);
    if (err)
        xs_conn_error(conn, hdr, err);
}
