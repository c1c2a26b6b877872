/* SPDX-License-Identifier: MIT */
/*
 * xs_txn.c: transactions.
 *
 * A transaction works on an overlay: the first time it touches a path
 * (read, write or delete) the live node, or its absence, is copied in
 * together with the live generation at that moment.  All later accesses
 * of that path inside the transaction see the overlay copy.
 *
 * Commit succeeds only if every touched path still has the generation it
 * had when first touched (0 for "did not exist"); otherwise it fails with
 * EAGAIN, as C xenstored does when a node the transaction read or wrote
 * was changed outside it.  A successful commit writes the changed nodes
 * back to the live tree and only then fires the watches the transaction
 * queued; an aborted or failed one fires none.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "sim/xs_internal.h"

/* Node count changes per owner, applied to quota checks in the txn. */
struct xs_delta {
    struct xs_delta *next;
    uint16_t domid;
    int delta;
};

struct xs_txn {
    struct xs_txn *next;
    uint32_t id;
    struct xs_db overlay;
    struct xs_change *changes, **changes_tail;
    struct xs_delta *deltas;
};

struct xs_db *xs_txn_overlay(struct xs_txn *t)
{
    return &t->overlay;
}

void xs_txn_queue_change(struct xs_txn *t, struct xs_change *c)
{
    *t->changes_tail = c;
    t->changes_tail = &c->next;
}

void xs_txn_acct(struct xs_txn *t, uint16_t domid, int delta)
{
    struct xs_delta *d;

    for (d = t->deltas; d; d = d->next)
        if (d->domid == domid)
            break;
    if (!d) {
        d = calloc(1, sizeof(*d));
        if (!d)
            return; /* only loosens the quota check for this txn */
        d->domid = domid;
        d->next = t->deltas;
        t->deltas = d;
    }
    d->delta += delta;
}

int xs_txn_acct_delta(const struct xs_txn *t, uint16_t domid)
{
    const struct xs_delta *d;

    for (d = t->deltas; d; d = d->next)
        if (d->domid == domid)
            return d->delta;
    return 0;
}

static void txn_free(struct xs_txn *t)
{
    while (t->changes) {
        struct xs_change *c = t->changes;

        t->changes = c->next;
        xs_change_free(c);
    }
    while (t->deltas) {
        struct xs_delta *d = t->deltas;

        t->deltas = d->next;
        free(d);
    }
    xs_db_destroy(&t->overlay);
    free(t);
}

static bool txid_in_use(const struct xs_conn *conn, uint32_t id)
{
    const struct xs_txn *t;

    for (t = conn->txns; t; t = t->next)
        if (t->id == id)
            return true;
    return false;
}

/* TRANSACTION_START.  Returns 0 and the new id, or a positive errno. */
int xs_txn_start(struct xs_conn *conn, uint32_t *id)
{
    struct xs_txn *t;

    /* C xenstored compares with '>': one more than the quota fits. */
    if (!conn->id.priv && conn->ntxns > XS_QUOTA_TXNS)
        return ENOSPC;
    t = calloc(1, sizeof(*t));
    if (!t || xs_db_init(&t->overlay)) {
        free(t);
        return ENOMEM;
    }
    t->changes_tail = &t->changes;
    /* Ids are never 0 (that is "no transaction") nor reused while open. */
    do {
        t->id = ++conn->next_txid;
    } while (!t->id || txid_in_use(conn, t->id));
    t->next = conn->txns;
    conn->txns = t;
    conn->ntxns++;
    *id = t->id;
    return 0;
}

struct xs_txn *xs_txn_find(struct xs_conn *conn, uint32_t id)
{
    struct xs_txn *t;

    for (t = conn->txns; t; t = t->next)
        if (t->id == id)
            return t;
    return NULL;
}

static void txn_unlink(struct xs_conn *conn, struct xs_txn *t)
{
    struct xs_txn **pp;

    for (pp = &conn->txns; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            conn->ntxns--;
            return;
        }
    }
}

static bool txn_conflicts(const struct xs_server *xs, const struct xs_txn *t)
{
    size_t i;

    for (i = 0; i < t->overlay.nbuckets; i++) {
        const struct xs_node *n;

        for (n = t->overlay.buckets[i]; n; n = n->hnext) {
            const struct xs_node *live = xs_db_find(&xs->db, n->path);

            if ((live ? live->gen : 0) != n->base_gen)
                return true;
        }
    }
    return false;
}

/*
 * Write the dirty overlay nodes to the live tree.  Nothing here can fail
 * half-way except allocation; a node that cannot be copied is left as it
 * was, which the daemon logs (there is no way to undo the rest).
 */
static void txn_apply(struct xs_conn *conn, struct xs_txn *t)
{
    struct xs_view live = { .xs = conn->xs, .txn = NULL, .id = conn->id };
    size_t i;

    for (i = 0; i < t->overlay.nbuckets; i++) {
        const struct xs_node *n;

        for (n = t->overlay.buckets[i]; n; n = n->hnext) {
            struct xs_node *copy;

            if (!n->dirty)
                continue;
            if (n->absent) {
                xs_view_del(&live, n->path);
                continue;
            }
            copy = xs_node_dup(n);
            if (!copy) {
                xs_log(conn->xs, "xenstore: commit lost %s: no memory",
                       n->path);
                continue;
            }
            copy->dirty = false;
            copy->base_gen = 0;
            xs_view_put(&live, copy);
        }
    }
}

static void txn_fire(struct xs_server *xs, struct xs_txn *t)
{
    const struct xs_change *c;

    for (c = t->changes; c; c = c->next)
        xs_watch_fire(xs, c);
}

/*
 * TRANSACTION_END: commit or abort @t, which is freed either way.
 * Returns 0 or EAGAIN (conflict).
 */
int xs_txn_end(struct xs_conn *conn, struct xs_txn *t, bool commit)
{
    int ret = 0;

    txn_unlink(conn, t);
    if (commit) {
        if (txn_conflicts(conn->xs, t)) {
            ret = EAGAIN;
        } else {
            txn_apply(conn, t);
            txn_fire(conn->xs, t);
        }
    }
    txn_free(t);
    return ret;
}

void xs_txn_free_all(struct xs_conn *conn)
{
    while (conn->txns) {
        struct xs_txn *t = conn->txns;

        conn->txns = t->next;
        txn_free(t);
    }
    conn->ntxns = 0;
}
