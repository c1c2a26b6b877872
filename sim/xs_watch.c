/* SPDX-License-Identifier: MIT */
/*
 * xs_watch.c: watches and watch events.
 *
 * A watch is (path, token) on one connection.  It fires once when set,
 * then whenever its node or anything below it is written, created,
 * removed or gets new permissions.  Relative watch paths get relative
 * event paths.
 *
 * Who sees an event follows C xenstored 4.17: privileged connections see
 * all; an unprivileged one only if it may read the node or its parent
 * (with the permissions the node had before a SET_PERMS or deletion, so a
 * watcher that just lost access still learns about it).  The special
 * watches @introduceDomain and @releaseDomain go to connections allowed
 * to read the special node's permission list (dom0 only by default; dom0
 * can widen it with SET_PERMS).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/xs_internal.h"

struct xs_watch {
    struct xs_watch *next;
    char *path;          /* absolute, or "@..." */
    char *token;
    size_t rel_prefix;   /* chars to strip for relative watches, or 0 */
};

static void watch_free(struct xs_watch *w)
{
    free(w->path);
    free(w->token);
    free(w);
}

static void acct_watches(struct xs_conn *conn, int delta)
{
    struct xs_domain *d = xs_domain_get(conn->xs, conn->id.domid, true);

    if (d)
        d->watches = (unsigned int)((int)d->watches + delta);
}

/* The event path for @w: relative watches see paths below their home. */
static const char *event_path(const struct xs_watch *w, const char *path)
{
    if (!w->rel_prefix)
        return path;
    path += w->rel_prefix;
    return *path == '/' ? path + 1 : path;
}

/* WATCH.  Returns 0 (ack and first event queued) or a positive errno. */
int xs_watch_add(struct xs_conn *conn, const char *path, const char *token)
{
    const struct xs_domain *d;
    struct xs_watch *w;
    char home[32];
    char *abs;
    int rc;

    rc = xs_canonicalize(&conn->id, path, &abs, true);
    if (rc)
        return -rc;
    for (w = conn->watches; w; w = w->next) {
        if (!strcmp(w->path, abs) && !strcmp(w->token, token)) {
            free(abs);
            return EEXIST;
        }
    }
    d = xs_domain_get(conn->xs, conn->id.domid, false);
    /* C xenstored compares with '>': one more than the quota fits. */
    if (!conn->id.priv && d && d->watches > XS_QUOTA_WATCHES) {
        free(abs);
        return E2BIG;
    }
    w = calloc(1, sizeof(*w));
    if (!w || !(w->token = strdup(token))) {
        free(w);
        free(abs);
        return ENOMEM;
    }
    w->path = abs;
    if (path[0] != '/' && path[0] != '@')
        w->rel_prefix = strlen(xs_home_path(&conn->id, home, sizeof(home)));
    w->next = conn->watches;
    conn->watches = w;
    acct_watches(conn, +1);
    return 0;
}

/* Queue the initial event of the newest watch (after the ack). */
void xs_watch_fire_initial(struct xs_conn *conn)
{
    const struct xs_watch *w = conn->watches;

    if (w)
        xs_conn_event(conn, event_path(w, w->path), w->token);
}

int xs_watch_remove(struct xs_conn *conn, const char *path, const char *token)
{
    struct xs_watch **pp;
    char *abs;
    int rc;

    rc = xs_canonicalize(&conn->id, path, &abs, true);
    if (rc)
        return -rc;
    for (pp = &conn->watches; *pp; pp = &(*pp)->next) {
        struct xs_watch *w = *pp;

        if (!strcmp(w->path, abs) && !strcmp(w->token, token)) {
            *pp = w->next;
            watch_free(w);
            acct_watches(conn, -1);
            free(abs);
            return 0;
        }
    }
    free(abs);
    return ENOENT;
}

void xs_watch_free_all(struct xs_conn *conn)
{
    while (conn->watches) {
        struct xs_watch *w = conn->watches;

        conn->watches = w->next;
        watch_free(w);
        acct_watches(conn, -1);
    }
}

static bool may_read(const struct xs_id *id, const struct xs_perms *p)
{
    return p && (xs_perm_for(id, p) & XS_P_READ);
}

/*
 * Permission lists for the change: those recorded with it, else the
 * live node's and its parent's.
 */
static void change_perms(struct xs_server *xs, const struct xs_change *c,
                         const struct xs_perms **node,
                         const struct xs_perms **parent)
{
    const struct xs_node *n;
    char *up;

    *node = c->node_perms;
    *parent = c->parent_perms;
    if (!*node) {
        n = xs_db_find(&xs->db, c->path);
        *node = n ? &n->perms : NULL;
    }
    if (!*parent && strcmp(c->path, "/")) {
        up = xs_parent_path(c->path);
        n = up ? xs_db_find(&xs->db, up) : NULL;
        *parent = n ? &n->perms : NULL;
        free(up);
    }
}

static bool watch_permitted(const struct xs_conn *conn,
                            const struct xs_change *c,
                            const struct xs_perms *node,
                            const struct xs_perms *parent)
{
    if (conn->id.priv)
        return true;
    return may_read(&conn->id, c->old_perms) ||
           may_read(&conn->id, node) || may_read(&conn->id, parent);
}

static bool watch_matches(const struct xs_watch *w, const struct xs_change *c)
{
    if (c->exact)
        return !strcmp(w->path, c->path);
    return xs_is_child(c->path, w->path);
}

/* Queue the events @c causes on every connection. */
void xs_watch_fire(struct xs_server *xs, const struct xs_change *c)
{
    const struct xs_perms *node, *parent;
    struct xs_conn *conn;

    change_perms(xs, c, &node, &parent);
    for (conn = xs->conns; conn; conn = conn->next) {
        const struct xs_watch *w;

        if (!conn->watches || !watch_permitted(conn, c, node, parent))
            continue;
        for (w = conn->watches; w; w = w->next)
            if (w->path[0] != '@' && watch_matches(w, c))
                xs_conn_event(conn, event_path(w, c->path), w->token);
    }
}

void xs_watch_fire_special(struct xs_server *xs, struct xs_special *sp)
{
    struct xs_conn *conn;

    for (conn = xs->conns; conn; conn = conn->next) {
        const struct xs_watch *w;

        if (!may_read(&conn->id, &sp->perms))
            continue;
        for (w = conn->watches; w; w = w->next)
            if (!strcmp(w->path, sp->path))
                xs_conn_event(conn, w->path, w->token);
    }
}
