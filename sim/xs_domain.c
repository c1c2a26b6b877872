/* SPDX-License-Identifier: MIT */
/*
 * xs_domain.c: the server object, per-domain accounting, and the
 * toolstack's part of the domain lifecycle.
 *
 * In a real system xl writes a new domain's /local/domain/<id> skeleton,
 * xenstored fires @introduceDomain when the domain's ring is introduced,
 * and on death xenstored fires @releaseDomain while xl removes the
 * domain's nodes.  In the sim the daemon does all of it through
 * xs_server_domain_created() / xs_server_domain_released().
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/xs_internal.h"

void xs_log(const struct xs_server *xs, const char *fmt, ...)
{
    va_list ap;

    if (!xs->verbose)
        return;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

struct xs_domain *xs_domain_get(struct xs_server *xs, uint16_t domid,
                                bool create)
{
    struct xs_domain *d;

    for (d = xs->domains; d; d = d->next)
        if (d->domid == domid)
            return d;
    if (!create)
        return NULL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->domid = domid;
    d->next = xs->domains;
    xs->domains = d;
    return d;
}

void xs_domain_acct_nodes(struct xs_server *xs, uint16_t domid, int delta)
{
    struct xs_domain *d = xs_domain_get(xs, domid, true);

    if (d)
        d->nodes = (unsigned int)((int)d->nodes + delta);
}

struct xs_special *xs_special_find(struct xs_server *xs, const char *path)
{
    if (!strcmp(path, xs->introduce.path))
        return &xs->introduce;
    if (!strcmp(path, xs->release.path))
        return &xs->release;
    return NULL;
}

/* --- toolstack writes ------------------------------------------------------ */

static struct xs_view tool_view(struct xs_server *xs)
{
    struct xs_view v = { .xs = xs, .txn = NULL, .id = { 0, true } };

    return v;
}

/*
 * Write @path as the toolstack (dom0) does: create it if needed, set
 * @data if not NULL and @perms if not NULL, and fire its watches.
 */
static int tool_write(struct xs_server *xs, const char *path,
                      const char *data, const struct xs_perm *perms,
                      unsigned int nperms)
{
    struct xs_view v = tool_view(xs);
    const struct xs_node *n;
    struct xs_node *copy;
    int err = 0, rc;

    n = xs_view_get(&v, path, &err);
    if (!n) {
        rc = xs_view_create(&v, path, data, data ? strlen(data) : 0);
        if (rc)
            return rc;
        n = xs_view_get(&v, path, &err);
        if (!n)
            return -err;
    }
    copy = xs_node_dup(n);
    if (!copy)
        return -ENOMEM;
    rc = data ? xs_node_set_data(copy, data, strlen(data)) : 0;
    if (!rc && perms) {
        struct xs_perms p = { nperms, (struct xs_perm *)perms };

        free(copy->perms.p);
        rc = xs_perms_copy(&copy->perms, &p);
    }
    if (rc) {
        xs_node_free(copy);
        return rc;
    }
    rc = xs_view_put(&v, copy);
    if (!rc)
        xs_view_changed(&v, xs_change_new(path, false));
    return rc;
}

static int tool_writef(struct xs_server *xs, const char *data,
                       const struct xs_perm *perms, unsigned int nperms,
                       const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int tool_writef(struct xs_server *xs, const char *data,
                       const struct xs_perm *perms, unsigned int nperms,
                       const char *fmt, ...)
{
    va_list ap;
    char *path;
    int rc;

    va_start(ap, fmt);
    rc = vasprintf(&path, fmt, ap);
    va_end(ap);
    if (rc < 0)
        return -ENOMEM;
    rc = tool_write(xs, path, data, perms, nperms);
    free(path);
    return rc;
}

static void tool_rm(struct xs_server *xs, const char *path)
{
    struct xs_view v = tool_view(xs);
    const struct xs_node *parent;
    struct xs_node *copy;
    char *up;
    int err;

    if (!xs_db_find(&xs->db, path))
        return;
    up = xs_parent_path(path);
    parent = up ? xs_view_get(&v, up, &err) : NULL;
    copy = parent ? xs_node_dup(parent) : NULL;
    if (copy && xs_view_rm(&v, path, copy))
        xs_log(xs, "xenstore: could not remove %s", path);
    free(up);
}

/* --- domain lifecycle ------------------------------------------------------ */

#define RO(domid) { { 0, XS_P_NONE }, { (domid), XS_P_READ } }
#define RW(domid) { { (domid), XS_P_NONE } }

/* libxl__domain_make(): the nodes a domain gets and who may touch them. */
static int write_skeleton(struct xs_server *xs, struct xs_domain *d)
{
    static const char *const rw_nodes[] = {
        "control/shutdown", "control/feature-poweroff",
        "control/feature-reboot", "control/feature-suspend",
        "control/sysrq", "device/suspend/event-channel",
        "data", "drivers", "feature", "attr", "error",
    };
    const struct xs_perm ro[] = RO(d->domid), rw[] = RW(d->domid);
    const struct xs_perm none[] = { { 0, XS_P_NONE } };
    const unsigned int id = d->domid;
    char num[8];
    size_t i;
    int rc = 0;

    snprintf(num, sizeof(num), "%u", id);
    rc |= tool_writef(xs, NULL, ro, 2, "/local/domain/%u", id);
    rc |= tool_writef(xs, NULL, ro, 2, "%s", d->vm_path);
    rc |= tool_writef(xs, NULL, none, 1, "/libxl/%u", id);
    rc |= tool_writef(xs, NULL, none, 1, "/libxl/%u/device", id);
    rc |= tool_writef(xs, "pv", NULL, 0, "/libxl/%u/type", id);
    rc |= tool_writef(xs, d->vm_path, NULL, 0, "/local/domain/%u/vm", id);
    rc |= tool_writef(xs, d->name, NULL, 0, "/local/domain/%u/name", id);
    rc |= tool_writef(xs, num, NULL, 0, "/local/domain/%u/domid", id);
    rc |= tool_writef(xs, d->vm_path + 4, NULL, 0, "%s/uuid", d->vm_path);
    rc |= tool_writef(xs, d->name, NULL, 0, "%s/name", d->vm_path);
    rc |= tool_writef(xs, NULL, ro, 2, "/local/domain/%u/cpu", id);
    rc |= tool_writef(xs, NULL, ro, 2, "/local/domain/%u/memory", id);
    rc |= tool_writef(xs, NULL, ro, 2, "/local/domain/%u/device", id);
    rc |= tool_writef(xs, NULL, ro, 2, "/local/domain/%u/control", id);
    for (i = 0; i < sizeof(rw_nodes) / sizeof(rw_nodes[0]); i++)
        rc |= tool_writef(xs, NULL, rw, 1, "/local/domain/%u/%s", id,
                          rw_nodes[i]);
    rc |= tool_writef(xs, "1", NULL, 0, "/local/domain/%u/control/"
                      "platform-feature-multiprocessor-suspend", id);
    rc |= tool_writef(xs, "1", NULL, 0, "/local/domain/%u/control/"
                      "platform-feature-xs_reset_watches", id);
    return rc ? -ENOMEM : 0;
}

/* Dom0's home, as xen-init-dom0 leaves it: owned by dom0, private. */
static int write_dom0(struct xs_server *xs, struct xs_domain *d)
{
    const struct xs_perm none[] = { { 0, XS_P_NONE } };
    int rc = 0;

    rc |= tool_write(xs, "/local/domain/0", NULL, none, 1);
    rc |= tool_write(xs, "/local/domain/0/name", d->name, NULL, 0);
    rc |= tool_write(xs, "/local/domain/0/domid", "0", NULL, 0);
    return rc ? -ENOMEM : 0;
}

int xs_server_domain_created(struct xs_server *xs, uint16_t domid,
                             const char *name)
{
    struct xs_domain *d = xs_domain_get(xs, domid, true);
    int rc;

    if (!d)
        return -ENOMEM;
    if (d->introduced)
        return -EEXIST;
    free(d->name);
    free(d->vm_path);
    d->vm_path = NULL;
    d->name = strdup(name);
    /* A fixed UUID per domid is enough: /vm/<uuid> goes with the domain. */
    if (!d->name || asprintf(&d->vm_path,
                             "/vm/00000000-0000-4000-8000-%012x",
                             (unsigned int)domid) < 0) {
        d->vm_path = NULL;
        return -ENOMEM;
    }
    rc = domid ? write_skeleton(xs, d) : write_dom0(xs, d);
    if (rc)
        return rc;
    d->introduced = true;
    xs_log(xs, "xenstore: introduced dom%u (%s)", domid, name);
    xs_watch_fire_special(xs, &xs->introduce);
    return 0;
}

/* Drop @domid from @p; if it owned the list, dom0 inherits it. */
static bool perms_forget(struct xs_perms *p, uint16_t domid)
{
    bool changed = false;
    unsigned int i = 1;

    if (p->p[0].id == domid) {
        p->p[0].id = 0;
        changed = true;
    }
    while (i < p->num) {
        if (p->p[i].id == domid) {
            memmove(&p->p[i], &p->p[i + 1],
                    (p->num - i - 1) * sizeof(p->p[0]));
            p->num--;
            changed = true;
        } else {
            i++;
        }
    }
    return changed;
}

/*
 * A dead domain's id may be reused, and the new domain must not inherit
 * rights to nodes that outlived the old one.  C xenstored marks such
 * entries ignored and hands ownership to dom0; the sim does the same
 * eagerly.
 */
static void forget_domain_perms(struct xs_server *xs, uint16_t domid)
{
    size_t i;

    for (i = 0; i < xs->db.nbuckets; i++) {
        struct xs_node *n;

        for (n = xs->db.buckets[i]; n; n = n->hnext) {
            uint16_t owner = n->perms.p[0].id;

            if (!perms_forget(&n->perms, domid))
                continue;
            n->gen = ++xs->gen;
            if (owner != n->perms.p[0].id) {
                xs_domain_acct_nodes(xs, owner, -1);
                xs_domain_acct_nodes(xs, n->perms.p[0].id, +1);
            }
        }
    }
    perms_forget(&xs->introduce.perms, domid);
    perms_forget(&xs->release.perms, domid);
}

static void close_domain_conns(struct xs_server *xs, uint16_t domid)
{
    struct xs_conn *c = xs->conns, *next;

    for (; c; c = next) {
        next = c->next;
        if (c->id.domid == domid)
            xs_conn_close(c);
    }
}

void xs_server_domain_released(struct xs_server *xs, uint16_t domid)
{
    struct xs_domain *d = xs_domain_get(xs, domid, false);
    char path[32];

    if (!d || !d->introduced || !domid)
        return; /* dom0 never dies */
    /* First, so the dying domain gets no events about its own removal. */
    close_domain_conns(xs, domid);
    snprintf(path, sizeof(path), "/local/domain/%u", domid);
    tool_rm(xs, path);
    if (d->vm_path)
        tool_rm(xs, d->vm_path);
    snprintf(path, sizeof(path), "/libxl/%u", domid);
    tool_rm(xs, path);
    forget_domain_perms(xs, domid);
    d->introduced = false;
    xs_log(xs, "xenstore: released dom%u", domid);
    xs_watch_fire_special(xs, &xs->release);
}

/* --- server ---------------------------------------------------------------- */

static int special_init(struct xs_special *sp, const char *path)
{
    sp->path = path;
    sp->perms.num = 1;
    sp->perms.p = calloc(1, sizeof(*sp->perms.p)); /* n0: dom0 only */
    return sp->perms.p ? 0 : -ENOMEM;
}

/* The initial tree of C xenstored: /, /tool, /tool/xenstored, all n0. */
static int root_init(struct xs_server *xs)
{
    static const char *const paths[] = { "/", "/tool", "/tool/xenstored" };
    size_t i;

    for (i = 0; i < 3; i++) {
        struct xs_node *n = xs_node_new(paths[i]);

        if (!n || !(n->perms.p = calloc(1, sizeof(*n->perms.p))) ||
            (i < 2 && xs_node_add_child(n, xs_basename(paths[i + 1])))) {
            xs_node_free(n);
            return -ENOMEM;
        }
        n->perms.num = 1;
        n->gen = ++xs->gen;
        xs_db_insert(&xs->db, n);
        xs_domain_acct_nodes(xs, 0, +1);
    }
    return 0;
}

struct xs_server *xs_server_new(struct sim_loop *loop, bool verbose)
{
    struct xs_server *xs = calloc(1, sizeof(*xs));

    if (!xs)
        return NULL;
    xs->loop = loop;
    xs->verbose = verbose;
    if (xs_db_init(&xs->db)) {
        free(xs);
        return NULL;
    }
    if (special_init(&xs->introduce, "@introduceDomain") ||
        special_init(&xs->release, "@releaseDomain") || root_init(xs)) {
        xs_server_free(xs);
        return NULL;
    }
    return xs;
}

void xs_server_free(struct xs_server *xs)
{
    if (!xs)
        return;
    while (xs->conns)
        xs_conn_close(xs->conns);
    while (xs->domains) {
        struct xs_domain *d = xs->domains;

        xs->domains = d->next;
        free(d->name);
        free(d->vm_path);
        free(d);
    }
    free(xs->introduce.perms.p);
    free(xs->release.perms.p);
    xs_db_destroy(&xs->db);
    free(xs);
}
