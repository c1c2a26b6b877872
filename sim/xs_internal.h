/* SPDX-License-Identifier: MIT */
/*
 * xs_internal.h: internals of the sim's xenstore server (sim/xs_*.c).
 *
 * Layout of the server:
 *   xs_tree.c    nodes, the path-keyed node table, permissions, path
 *                checks, and the "view" through which requests read and
 *                modify the store (the live tree or a transaction);
 *   xs_txn.c     transactions: a per-transaction overlay of touched nodes,
 *                conflict check and write-back at commit;
 *   xs_watch.c   watches and watch events;
 *   xs_conn.c    connections: wire framing, input and output queues;
 *   xs_ops.c     the request handlers (one per XS_* type);
 *   xs_domain.c  server object, per-domain accounting, domain lifecycle.
 *
 * Everything runs on the sim daemon's single thread, so a request is
 * handled start to finish without interleaving; watch events it causes
 * are queued on the watchers' connections and written out later by the
 * event loop.
 *
 * Semantics follow C xenstored of Xen 4.17 (see docs/sim-xenstore.md for
 * the list of deliberate differences).
 */
#ifndef PVACCEL_SIM_XS_INTERNAL_H
#define PVACCEL_SIM_XS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/io/xs_wire.h>

#include "sim/xenstored.h"

/* Permission bits, as XS_PERM_* of xenstore_lib.h. */
#define XS_P_NONE 0x00u
#define XS_P_READ 0x01u
#define XS_P_WRITE 0x02u
#define XS_P_OWNER 0x08u

/*
 * Quotas for unprivileged domains: C xenstored 4.17 defaults, applied with
 * its comparisons (watches and transactions allow quota + 1).
 */
#define XS_QUOTA_NODES 1000u       /* nodes owned per domain: ENOSPC */
#define XS_QUOTA_ENTRY_SIZE 2048u  /* bytes per node record: ENOSPC */
#define XS_QUOTA_WATCHES 128u      /* watches per domain: E2BIG */
#define XS_QUOTA_TXNS 10u          /* open transactions per conn: ENOSPC */
#define XS_QUOTA_PERMS 5u          /* entries per permission list: ENOSPC */
#define XS_QUOTA_TXN_NODES 1024u   /* nodes touched per transaction: ENOSPC */
#define XS_QUOTA_OUTSTANDING 20u   /* unread replies before input stalls */

/*
 * Size C xenstored charges a node record against XS_QUOTA_ENTRY_SIZE:
 * its tdb header (generation, counts), 8 bytes per permission entry, the
 * data and the children list.
 */
#define XS_NODE_HDR_SIZE 24u
#define XS_PERM_ENTRY_SIZE 8u

/*
 * Output bound per connection.  Past it, watch events for the connection
 * are dropped and no further requests are read from it until the client
 * drains its socket.  4.17's hard memory quota per domain is 2.5 MiB.
 */
#define XS_OUT_LIMIT (2560u * 1024u)

#define XS_DOMID_SELF 0x7ff0u /* DOMID_SELF, for IS_DOMAIN_INTRODUCED */

struct xs_conn;
struct xs_txn;

struct xs_perm {
    uint16_t id;
    uint8_t perms; /* XS_P_* */
};

struct xs_perms {
    unsigned int num; /* >= 1: entry 0 is the owner and the default */
    struct xs_perm *p;
};

/*
 * A node.  The same structure serves the live tree and transaction
 * overlays; @absent, @dirty and @base_gen only mean something in an
 * overlay.
 */
struct xs_node {
    struct xs_node *hnext; /* hash chain */
    char *path;
    uint64_t gen;          /* bumped by every change; never 0 */
    void *data;
    unsigned int datalen;
    char *children;        /* NUL-separated child names, creation order */
    unsigned int childlen;
    struct xs_perms perms;

    bool absent;           /* overlay: the node does not exist */
    bool dirty;            /* overlay: changed by the transaction */
    uint64_t base_gen;     /* overlay: live gen when first touched, 0 = none */
};

/* Nodes keyed by absolute path. */
struct xs_db {
    struct xs_node **buckets;
    size_t nbuckets;
    size_t count;
};

/*
 * One change, for watch firing: a node was written (@exact false: fires
 * watches on the node and its ancestors) or deleted as part of a subtree
 * (@exact true for the nodes below the removed root: fires only watches
 * set on exactly that node).  The permission lists decide who may see the
 * event; NULL means "look the node up when firing".
 */
struct xs_change {
    struct xs_change *next;
    char *path;
    bool exact;
    struct xs_perms *node_perms;   /* the node's (last) permissions */
    struct xs_perms *parent_perms; /* its parent's, for deleted nodes */
    struct xs_perms *old_perms;    /* before SET_PERMS */
};

/* Who is asking. */
struct xs_id {
    uint16_t domid;
    bool priv;
};

/* The store as seen by one request: live, or inside a transaction. */
struct xs_view {
    struct xs_server *xs;
    struct xs_txn *txn;
    struct xs_id id;
};

/* Per-domain accounting (also for domids that only own nodes). */
struct xs_domain {
    struct xs_domain *next;
    uint16_t domid;
    bool introduced;
    unsigned int nodes;
    unsigned int watches;
    char *name;
    char *vm_path;
};

struct xs_special {
    const char *path;
    struct xs_perms perms;
};

struct xs_server {
    struct sim_loop *loop;
    bool verbose;
    struct xs_db db;
    uint64_t gen;
    struct xs_conn *conns;
    struct xs_domain *domains;
    struct xs_special introduce; /* @introduceDomain */
    struct xs_special release;   /* @releaseDomain */
};

/* --- xs_tree.c ---------------------------------------------------------- */

int xs_db_init(struct xs_db *db);
void xs_db_destroy(struct xs_db *db);
struct xs_node *xs_db_find(const struct xs_db *db, const char *path);
void xs_db_insert(struct xs_db *db, struct xs_node *n);
struct xs_node *xs_db_unlink(struct xs_db *db, const char *path);

struct xs_node *xs_node_new(const char *path);
struct xs_node *xs_node_dup(const struct xs_node *n);
void xs_node_free(struct xs_node *n);
int xs_node_set_data(struct xs_node *n, const void *data, unsigned int len);
int xs_node_add_child(struct xs_node *n, const char *name);
void xs_node_del_child(struct xs_node *n, const char *name);
unsigned int xs_node_size(const struct xs_node *n);

int xs_perms_copy(struct xs_perms *dst, const struct xs_perms *src);
struct xs_perms *xs_perms_clone(const struct xs_perms *src);
void xs_perms_free(struct xs_perms *p);
int xs_perms_parse(struct xs_perms *dst, const char *strings,
                   unsigned int len, unsigned int num);
char *xs_perms_format(const struct xs_perms *p, unsigned int *len);
unsigned int xs_perm_for(const struct xs_id *id, const struct xs_perms *p);

const char *xs_basename(const char *path);
char *xs_parent_path(const char *path);
char *xs_child_path(const char *parent, const char *name);
bool xs_is_child(const char *child, const char *parent);
int xs_canonicalize(const struct xs_id *id, const char *in, char **out,
                    bool allow_special);

const struct xs_node *xs_view_get(struct xs_view *v, const char *path,
                                  int *err);
int xs_view_put(struct xs_view *v, struct xs_node *n);
int xs_view_del(struct xs_view *v, const char *path);
const struct xs_node *xs_view_access(struct xs_view *v, const char *path,
                                     unsigned int perm, int *err);
int xs_view_check_size(const struct xs_view *v, const struct xs_node *n);
int xs_view_nodes_left(struct xs_view *v, unsigned int want);
void xs_view_changed(struct xs_view *v, struct xs_change *c);
int xs_view_create(struct xs_view *v, const char *path, const void *data,
                   unsigned int datalen);
int xs_view_rm(struct xs_view *v, const char *path, struct xs_node *parent);

struct xs_change *xs_change_new(const char *path, bool exact);
void xs_change_free(struct xs_change *c);

/* --- xs_txn.c ----------------------------------------------------------- */

int xs_txn_start(struct xs_conn *conn, uint32_t *id);
struct xs_txn *xs_txn_find(struct xs_conn *conn, uint32_t id);
int xs_txn_end(struct xs_conn *conn, struct xs_txn *t, bool commit);
void xs_txn_free_all(struct xs_conn *conn);
struct xs_db *xs_txn_overlay(struct xs_txn *t);
void xs_txn_queue_change(struct xs_txn *t, struct xs_change *c);
void xs_txn_acct(struct xs_txn *t, uint16_t domid, int delta);
int xs_txn_acct_delta(const struct xs_txn *t, uint16_t domid);

/* --- xs_watch.c --------------------------------------------------------- */

int xs_watch_add(struct xs_conn *conn, const char *path, const char *token);
int xs_watch_remove(struct xs_conn *conn, const char *path,
                    const char *token);
void xs_watch_fire_initial(struct xs_conn *conn);
void xs_watch_free_all(struct xs_conn *conn);
void xs_watch_fire(struct xs_server *xs, const struct xs_change *c);
void xs_watch_fire_special(struct xs_server *xs, struct xs_special *sp);

/* --- xs_conn.c ---------------------------------------------------------- */

struct xs_watch;

struct xs_conn {
    struct xs_conn *next;
    struct xs_server *xs;
    int fd;
    struct xs_id id;
    uint32_t epoll_events;

    /* Input: one message at a time, header then body. */
    struct xsd_sockmsg in_hdr;
    size_t in_used;                 /* bytes of header or body so far */
    bool in_body;
    char in_buf[XENSTORE_PAYLOAD_MAX + 1]; /* +1: always NUL-terminated */

    /* Output queue. */
    struct xs_out *out_head, *out_tail;
    size_t out_bytes;
    unsigned int out_replies;       /* queued replies (not events) */
    bool dropping;                  /* events dropped since last drained */

    struct xs_watch *watches;
    struct xs_txn *txns;
    unsigned int ntxns;
    uint32_t next_txid;
};

int xs_conn_reply(struct xs_conn *conn, const struct xsd_sockmsg *req,
                  uint32_t type, const void *data, unsigned int len);
void xs_conn_error(struct xs_conn *conn, const struct xsd_sockmsg *req,
                   int err);
void xs_conn_event(struct xs_conn *conn, const char *path,
                   const char *token);
void xs_conn_close(struct xs_conn *conn);
const char *xs_home_path(const struct xs_id *id, char *buf, size_t size);

/* --- xs_ops.c ----------------------------------------------------------- */

void xs_ops_dispatch(struct xs_conn *conn, const struct xsd_sockmsg *hdr,
                     char *body, unsigned int len);

/* --- xs_domain.c -------------------------------------------------------- */

struct xs_domain *xs_domain_get(struct xs_server *xs, uint16_t domid,
                                bool create);
void xs_domain_acct_nodes(struct xs_server *xs, uint16_t domid, int delta);
struct xs_special *xs_special_find(struct xs_server *xs, const char *path);
void xs_log(const struct xs_server *xs, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
