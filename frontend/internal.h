/* SPDX-License-Identifier: MIT */
/*
 * internal.h: libpvaccel's private structures.
 *
 * Ownership, which is what keeps the data path free of locks:
 *
 *  - struct fe_ring is one queue's ring on one connection.  The monitor
 *    thread (or pva_dev_open) builds it and parks it in queue->pending; the
 *    queue's owner thread adopts it once that connection is live and from
 *    then on is its only user.  When the connection is dead the owner
 *    drains it, fails what is left, and hands it to dev->retired, whose
 *    grants the monitor ends once the backend has unmapped them.
 *  - dev->live_conn is the id of the connected connection (0: none) and
 *    dev->down_conn the highest id whose backend side is gone.  The owner
 *    compares its ring's id with live_conn on every call: one relaxed
 *    atomic load, no syscall, no lock.
 *  - dev->lock (a mutex) covers the slow path: hand-over of rings, the
 *    lists of regions and sessions, the IOVA and arena allocators.
 *    dev->ctl_lock serialises control requests (MAP_REGION, SESSION_*)
 *    with reconnection, so that every region and session is registered on
 *    the current connection exactly once.
 *
 * Layering: a file calls only files on lower lines (files on one line do
 * not call each other), so no two files call each other.
 *
 *    device.c                     open, close, what the device offers
 *    monitor.c  blob.c            reconnection, events; backend blobs
 *    memory.c  session.c          regions and buffers; sessions
 *    connection.c  fault.c        waiting for a connection; fault answers
 *    queue.c                      submission, completion, control requests
 *    xenbus.c                     the handshake
 *    ring.c                       rings, event ring, grants
 *    util.c  extent.c  pagedir.c  names and statuses; ranges; directories
 */
#ifndef PVACCEL_FE_INTERNAL_H
#define PVACCEL_FE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "accelif.h"
#include "frontend/extent.h"
#include "frontend/pagedir.h"
#include "frontend/pvaccel.h"
#include "platform/platform.h"

#define FE_MAX_RING_PAGES VACCEL_MAX_RING_PAGES

/* Granted pages whose grants could not be ended yet (still mapped). */
struct fe_retired {
    struct fe_retired *next;
    void *pages;
    uint32_t count;
};

/* One queue's ring on one connection. */
struct fe_ring {
    unsigned int conn;           /* connection id */
    unsigned int order;
    unsigned int size;           /* slots */
    void *pages;
    pva_gref_t refs[FE_MAX_RING_PAGES];
    struct pva_evtchn *ev;       /* a handle per ring: one owner thread */
    int port;
    vaccel_front_ring_t fr;
};

/* The event ring of one connection (the monitor's alone). */
struct fe_evt_ring {
    unsigned int order, size;
    void *pages;
    pva_gref_t refs[FE_MAX_RING_PAGES];
    struct pva_evtchn *ev;
    int port;
    uint32_t cons;
    uint64_t next_seq;
    vaccel_evt_sring_t *s;
};

enum fe_slot_state {
    FE_SLOT_FREE,
    FE_SLOT_PREPARED,  /* handed out by pva_get_sqe */
    FE_SLOT_INFLIGHT,  /* in the ring */
    FE_SLOT_DONE,      /* completed, waiting in the FIFO or for pva_run */
};

struct fe_slot {
    struct pva_sqe sqe;
    struct pva_cqe cqe;
    uint16_t gen;      /* bumped per use: stale response ids are ignored */
    uint8_t state;
    bool sync;         /* pva_run waits for it: not queued in the FIFO */
    bool raw;          /* a control request: queue->raw[index] */
    unsigned int conn; /* connection it was put on */
};

struct pva_queue {
    struct pva_dev *dev;
    unsigned int index;
    struct fe_ring *ring;            /* owner thread only */
    struct fe_ring *pending;         /* next ring, under dev->lock */
    int wake_fd;                     /* eventfd: the monitor wakes waiters */
    bool poll;
    unsigned int spin_us;

    unsigned int nslots;
    struct fe_slot *slots;
    vaccel_request_t *raw;           /* per slot: control requests */
    uint16_t *free_list;             /* stack of free slot indices */
    unsigned int nfree;
    uint16_t *prep;                  /* prepared, not yet pushed, in order */
    unsigned int nprep;
    uint16_t *fifo;                  /* completed, for pva_*_cqe */
    unsigned int fifo_head, fifo_len;
    unsigned int inflight;           /* pushed and not yet completed */

    struct pva_queue_stats st;
};

struct pva_region {
    struct pva_region *next;         /* dev->regions */
    void *addr;
    uint64_t iova;
    size_t len;                      /* bytes, page multiple */
    uint32_t npages;
    pva_gref_t *refs;
    bool writable;
    bool arena;                      /* the buffer allocator's */
    unsigned int reg_conn;           /* connection it is registered on */
    struct fe_extents bufs;          /* arena: free space */
};

struct pva_session {
    struct pva_session *next;        /* dev->sessions */
    int alg;
    uint8_t key[PVA_AEAD_KEY_LEN];
    bool has_key;
    _Atomic uint32_t id;             /* on connection conn; the monitor
                                        rewrites it on a reconnection */
    unsigned int conn;
    _Atomic bool stream_open;        /* digest absorbed data since reset */
    _Atomic bool stream_lost;        /* ... and the connection went */
};

/*
 * A blob lives on the connection it was made on (conn) and only there:
 * connections are not resumable.  After that connection is gone the
 * object stays, "lost", until pva_blob_destroy, and keeps its IOVA range
 * reserved so that stale IOVAs fault instead of reaching new memory.
 */
struct pva_blob {
    struct pva_blob *next;           /* dev->blobs */
    struct pva_dev *dev;
    uint64_t iova;
    size_t len;
    uint32_t id;
    unsigned int conn;
};

struct fe_backend_caps {
    unsigned int versions_max;       /* highest common version, 0 none */
    unsigned int max_queues, max_ring_order;
    char engine[32];
    char feature_ops[96], compress_algs[96], compress_levels[128];
    char digest_algs[64], aead_algs[64];
    bool blobs, iopf;
    uint32_t max_regions, max_region_pages, max_blobs, max_sessions;
    uint32_t max_in_flight, max_sg_entries, iova_bits, fault_timeout_ms;
    uint64_t max_mapped_pages, max_blob_pages, max_op_bytes;
};

struct pva_dev {
    struct pva_dev_opts opts;
    struct pva_platform *plat;
    struct pva_xs *xs;               /* the monitor's once it runs */
    struct pva_gntshr *gs;           /* shared, under dev->lock */
    pthread_mutex_t gs_lock;
    int self, backend_id;
    char fe_path[96], be_path[96], be_state_path[112];
    struct fe_backend_caps caps;
    char error[256];

    unsigned int nqueues, ring_order, evt_order;
    struct pva_queue *queues;
    struct fe_evt_ring evt;          /* current connection's */
    bool evt_live;

    _Atomic unsigned int live_conn;  /* connected connection, 0: none */
    _Atomic unsigned int down_conn;  /* highest connection known gone */
    unsigned int conn_seq;           /* last connection id used */
    unsigned int connections;

    pthread_mutex_t lock;
    pthread_cond_t cond;             /* live_conn changes; CLOCK_MONOTONIC */
    pthread_mutex_t ctl_lock;
    struct fe_retired *retired;      /* under gs_lock */
    struct pva_region *regions;
    struct pva_session *sessions;
    struct pva_blob *blobs;          /* under lock; never re-created */
    struct fe_extents iova;          /* under lock */
    struct pva_region *scratch;      /* one page: keys for SESSION_CREATE,
                                        dirty bitmaps for BLOB_MIGRATE */
    bool closing;

    pthread_t monitor;
    bool monitor_running;
    bool need_connect;               /* monitor: lost, not yet reconnected */
    int stop_fd;                     /* eventfd: stop the monitor */
};

/* xenbus.c: the handshake */
int fe_xb_prepare(struct pva_dev *dev, char *err, size_t errlen);
int fe_xb_connect(struct pva_dev *dev, bool first, struct fe_ring **rings,
                  char *err, size_t errlen);
int fe_xb_wait_be(struct pva_dev *dev, unsigned int mask, int timeout_ms,
                  int *state);
int fe_xb_read_be_state(struct pva_dev *dev);
void fe_xb_drain_watch(struct pva_dev *dev);
void fe_xb_unwatch(struct pva_dev *dev);
int fe_xb_write_state(struct pva_dev *dev, int state);
#define FE_BIT(s) (1u << (s))

/* ring.c: ring and event ring memory */
struct fe_ring *fe_ring_new(struct pva_dev *dev, unsigned int conn,
                            unsigned int order);
void fe_ring_free(struct pva_dev *dev, struct fe_ring *r);
int fe_evt_ring_init(struct pva_dev *dev, struct fe_evt_ring *e,
                     unsigned int order);
void fe_evt_ring_fini(struct pva_dev *dev, struct fe_evt_ring *e);
void fe_evt_ring_drain(struct pva_dev *dev);
/* Grant @count zeroed pages to the backend (under gs_lock). */
void *fe_share(struct pva_dev *dev, uint32_t count, pva_gref_t *refs,
               bool writable);
/* End grants now, or later if the backend still maps them. */
void fe_unshare(struct pva_dev *dev, void *pages, uint32_t count);
/* Retry deferred ends; returns how many are still waiting. */
unsigned int fe_retire_sweep(struct pva_dev *dev);

/* queue.c */
int fe_queue_init(struct pva_queue *q, struct pva_dev *dev,
                  unsigned int index, unsigned int nslots);
void fe_queue_fini(struct pva_queue *q);
/* Control request on @q, synchronously: fills *rsp_value.  0 or -errno. */
int fe_queue_control(struct pva_queue *q, const vaccel_request_t *req,
                     uint64_t *value);
/* Sync the queue with the connection state (drain / adopt). */
void fe_queue_sync_conn(struct pva_queue *q);
/* Drain every response of a dead ring and fail the rest (close). */
void fe_queue_abandon(struct pva_queue *q);
int fe_ring_control(struct pva_dev *dev, struct fe_ring *r,
                    const vaccel_request_t *req, uint64_t *value);

/* connection.c: waiting for a live connection (pva_dev_wait_connected) */
/* dev->cond, on CLOCK_MONOTONIC like every deadline of the wait.  -errno. */
int fe_conn_cond_init(struct pva_dev *dev);
void fe_conn_cond_fini(struct pva_dev *dev);
/*
 * Run @fn(q, arg) with ctl_lock held on a live connection; after -ENOTCONN
 * wait for the next connection (lock dropped) and run it again.
 */
int fe_with_connection(struct pva_queue *q,
                       int (*fn)(struct pva_queue *q, void *arg), void *arg);

/* memory.c */
int fe_region_register(struct pva_dev *dev, struct pva_region *r,
                       struct pva_queue *q, struct fe_ring *ring);
void fe_regions_free_all(struct pva_dev *dev);

int fe_scratch_init(struct pva_queue *q);
struct pva_region *fe_region_share(struct pva_dev *dev, size_t len,
                                   bool writable);
void fe_region_release(struct pva_dev *dev, struct pva_region *r,
                       bool free_iova);
/* Add to / remove from dev->regions, the list re-registered on reconnect. */
void fe_region_list(struct pva_dev *dev, struct pva_region *r);
void fe_region_unlist(struct pva_dev *dev, struct pva_region *r);

/* blob.c */
void fe_blobs_free_all(struct pva_dev *dev);

/* session.c */
int fe_session_register(struct pva_dev *dev, struct pva_session *s,
                        struct pva_queue *q, struct fe_ring *ring);
void fe_sessions_free_all(struct pva_dev *dev);
void fe_sessions_mark_lost(struct pva_dev *dev);

/* monitor.c */
int fe_monitor_start(struct pva_dev *dev);
void fe_monitor_stop(struct pva_dev *dev);
int fe_reregister(struct pva_dev *dev, struct fe_ring *ring);
void fe_publish_connection(struct pva_dev *dev, unsigned int conn,
                           struct fe_ring **rings);
void fe_connection_lost(struct pva_dev *dev);
void fe_wake_queues(struct pva_dev *dev);

int fe_errno_from_status(int32_t status);
unsigned int fe_online_cpus(void);

#endif
