/* SPDX-License-Identifier: MIT */
/*
 * pvacceld.h: the dom0 backend daemon's internal interfaces.
 *
 * Threads and what they own:
 *
 *   main thread   xenstore watches, every device's state machine (xenbus.c),
 *                 connect (device.c) and the start and end of a teardown
 *                 (teardown.c), the admin socket (stats.c).  Nothing else
 *                 changes a device's shape.  It never waits for a guest.
 *   queue thread  one per device queue (queue.c): consumes its ring, runs
 *                 control operations inline (control.c, see "The control
 *                 path" below), submits data operations to the engine
 *                 (job.c) and posts responses (response.c).  Only it
 *                 touches its ring.
 *   engine        calls job->done() from its own threads; the job goes
 *                 back to its queue thread through a lock-free list (as
 *                 does a request held on a recoverable fault once the
 *                 guest answers it, fault.c).
 *   teardown      one per device while its connection ends (teardown.c):
 *                 joins the queue threads, then releases what they used.
 *
 * Teardown.  A device's connection ends when its frontend closes or
 * reinitialises, its domain dies, the toolstack detaches it, or the daemon
 * exits.  The main thread writes Closing (as the protocol has it) and asks
 * each queue thread to stop: it consumes nothing more and, on its next
 * round, cancels what it had queued in the engine (job.c: the deferred
 * jobs, and the engine's queue_cancel); the jobs that had not started
 * complete at once as cancelled and are dropped without a response: the
 * guest is gone or closing, and a frontend fails every request the
 * backend did not answer with -XEN_ENOTCONN (accelif.h "Orderly
 * shutdown").  A job already running finishes and is answered (its ring
 * is still mapped); the cost cap (max-op-ms) bounds how long that takes.
 * The teardown thread then joins the queue threads (they end once nothing
 * is in flight, so the engine has let go of every operand), and only then
 * closes the engine queues and unmaps the rings, regions and blobs.  When
 * it is done it tells the main loop (d->teardown_fd), which reaps it and
 * runs the device's machine on: Closed, then InitWait if the frontend
 * reinitialised meanwhile, or the device is freed.  Meanwhile the machine
 * does not move (a frontend that reinitialises waits), a device to be
 * freed (its backend directory removed) is freed only after the thread
 * has ended, the stats socket reports the device with its live counters
 * (its queue array is freed by the main thread, after the fold into
 * closed_stats), and the daemon's exit waits for every teardown.
 *
 * Locks of a connected device: ctl_lock serialises control operations
 * (they come from every queue thread) and guards the grant-map handle;
 * as_lock (a rwlock) guards the I/O address space and the session table,
 * read-locked on the data path, write-locked only to add or remove.  The
 * event ring has its own lock because every queue produces records, and
 * fault_lock guards the list of requests held on recoverable faults.
 * Lock order: ctl_lock first; no code holds two of as_lock, evt.lock and
 * fault_lock at once.
 */
#ifndef PVACCEL_BACKEND_PVACCELD_H
#define PVACCEL_BACKEND_PVACCELD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accelif.h"
#include "backend/engine.h"
#include "platform/platform.h"

/* ------------------------------------------------------------ logging */

enum pvad_log_level {
    PVAD_LOG_ERR,
    PVAD_LOG_WARN,
    PVAD_LOG_INFO,
    PVAD_LOG_DEBUG,
};

void pvad_log_init(enum pvad_log_level level, bool use_syslog);
void pvad_log(enum pvad_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define pvad_err(...)   pvad_log(PVAD_LOG_ERR, __VA_ARGS__)
#define pvad_warn(...)  pvad_log(PVAD_LOG_WARN, __VA_ARGS__)
#define pvad_info(...)  pvad_log(PVAD_LOG_INFO, __VA_ARGS__)
#define pvad_debug(...) pvad_log(PVAD_LOG_DEBUG, __VA_ARGS__)

uint64_t pvad_now_ns(void);
/*
 * True at most once per second per @last: for log lines a guest can
 * trigger at will (handshake errors, stopped queues), so that a guest
 * looping on them cannot flood the log.  Any thread.
 */
bool pvad_log_ratelimit(_Atomic uint64_t *last);

/*
 * @s made safe for a log line or a xenstore node the guest reads, in
 * @buf of @size bytes; returns @buf.  Every string a guest (or the
 * toolstack) wrote goes through this before it is formatted into either,
 * so that it cannot forge log lines, drive a terminal or stretch a line.
 * Printable ASCII stays as it is but for backslash and double quote,
 * written \\ and \"; every other octet is \xNN.  A result that does not
 * fit is cut between escapes and ends in "...".
 */
const char *pvad_escape(char *buf, size_t size, const char *s);
/* A buffer for one guest value in a message: 63 characters at most. */
#define PVAD_ESCAPE_LEN 64

/* ------------------------------------------------- limits and quotas */

/* Per-device limits: advertised in xenstore, enforced per device. */
struct pvad_limits {
    uint32_t max_queues;
    uint32_t max_ring_page_order;
    uint32_t max_regions;
    uint32_t max_region_pages;
    uint64_t max_mapped_pages;
    uint64_t max_mappings;      /* the platform's VMAs for regions */
    uint32_t max_blobs;         /* 0: feature-blobs "0" */
    uint64_t max_blob_pages;
    uint32_t max_sessions;
    uint32_t max_in_flight;
    uint32_t max_sg_entries;
    uint64_t max_op_bytes;
    uint32_t iova_bits;
    uint32_t fault_timeout_ms;
};

/* Resources counted against a device's limits and its domain's quota. */
enum pvad_res {
    PVAD_RES_REGIONS,
    PVAD_RES_MAPPED_PAGES,
    PVAD_RES_SESSIONS,
    PVAD_RES_IN_FLIGHT,
    PVAD_RES_BLOBS,
    PVAD_RES_BLOB_PAGES,        /* whole VACCEL_BLOB_CHUNK_SIZE chunks */
    PVAD_RES_MAPPINGS,          /* gntmap->mappings() of granted ranges */
    PVAD_RES_NR,
};

struct pvad_usage {
    _Atomic uint64_t used[PVAD_RES_NR];
    uint64_t limit[PVAD_RES_NR];
};

/* One frontend domain's usage across all its devices (quota.c). */
struct pvad_domain {
    struct pvad_domain *next;
    uint16_t domid;
    unsigned int refs;          /* devices; under pvad_quota.lock */
    struct pvad_usage usage;
};

struct pvad_quota {
    pthread_mutex_t lock;       /* the domain list */
    uint64_t limit[PVAD_RES_NR];
    struct pvad_domain *domains;
};

void pvad_quota_init(struct pvad_quota *q, const uint64_t limit[PVAD_RES_NR]);
void pvad_quota_fini(struct pvad_quota *q);
struct pvad_domain *pvad_quota_domain_get(struct pvad_quota *q, uint16_t domid);
void pvad_quota_domain_put(struct pvad_quota *q, struct pvad_domain *dom);
void pvad_usage_init(struct pvad_usage *u, const struct pvad_limits *lim);
/*
 * Take @n of @res from the device's and the domain's budget, or neither.
 * Returns 0, or the protocol status for that resource with *limit set to
 * the limit that refused it.
 */
int pvad_usage_take(struct pvad_usage *dev, struct pvad_usage *dom,
                    enum pvad_res res, uint64_t n, uint64_t *limit);
void pvad_usage_give(struct pvad_usage *dev, struct pvad_usage *dom,
                     enum pvad_res res, uint64_t n);
uint32_t pvad_res_quota_code(enum pvad_res res);

/* ------------------------------------------------------- configuration */

struct pvad_config {
    const char *platform;       /* xen, sim, auto */
    const char *engine;
    const char *engine_args;
    const char *rundir;         /* admin socket lives here */
    bool foreground;
    bool use_syslog;
    enum pvad_log_level log_level;
    unsigned int spin_us;       /* adaptive spin before sleeping */
    unsigned int batch;         /* requests consumed per round */
    uint32_t max_op_ms;         /* cost cap of one request, 0: none */
    struct pvad_limits limits;
    uint64_t quota[PVAD_RES_NR]; /* per frontend domain */
    char *file_text;            /* the config file; strings point into it */
};

void pvad_config_defaults(struct pvad_config *cfg);
/* "name=value" from the command line or a config file line. */
int pvad_config_set(struct pvad_config *cfg, const char *name,
                    const char *value, char *err, size_t errlen);
int pvad_config_load(struct pvad_config *cfg, const char *path, char *err,
                     size_t errlen);
/* feature-blobs: "1" unless max-blobs or max-blob-pages allows none. */
bool pvad_blobs_offered(const struct pvad_limits *lim);
/* Per-device lowering of limits from the toolstack's params node. */
int pvad_limits_apply_params(struct pvad_limits *lim, const char *params,
                             const char *engine, char *err, size_t errlen);
int pvad_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* --------------------------------------------------- I/O address space */

/*
 * A range of the I/O address space: a region of granted pages, or a blob
 * of backend memory (blob_id != 0).  Translation treats both alike; only
 * creation and release differ (both in region.c).
 */
struct pvad_region {
    uint64_t iova;
    uint64_t len;
    bool writable;
    void *addr;                 /* grants' persistent mapping, or the blob */
    uint32_t npages;
    uint32_t blob_id;           /* 0: a region of granted pages */
    size_t blob_bytes;          /* blob: len rounded up to whole chunks */
    void *dma_handle;           /* the engine's */
    /*
     * Requests in flight using it, counted per queue: slot i is written
     * only by queue i's thread, so pinning costs no locked instruction.
     * Zero when the region is made; pvad_region_in_use() sums them.
     */
    _Atomic uint32_t users[VACCEL_MAX_QUEUES];
};

struct pvad_ioas {
    struct pvad_region **regions; /* regions and blobs, sorted by iova,
                                     non-overlapping */
    unsigned int nr;
    unsigned int cap;
    uint64_t iova_end;          /* 2^iova-bits */
};

/* Where and how an operand faulted. */
struct pvad_fault {
    uint64_t iova;
    uint64_t len;
    uint8_t access;             /* VACCEL_ACCESS_* */
};

/* Pieces of one resolved operand. */
struct pvad_pieces {
    struct pva_iov *iov;
    struct pvad_region **reg;
    unsigned int n;
    unsigned int cap;
    uint64_t len;
};

/*
 * iova.c: the sorted range table and translation; locking is the caller's.
 * @max_ranges: max-regions + max-blobs, the most that can coexist.
 */
int pvad_ioas_init(struct pvad_ioas *as, unsigned int max_ranges,
                   uint32_t iova_bits);
void pvad_ioas_fini(struct pvad_ioas *as);
bool pvad_ioas_range_ok(const struct pvad_ioas *as, uint64_t iova,
                        uint64_t len);
/*
 * Append the pieces of [iova, iova + len) to @pc.  as_lock held (read).
 * Returns 0, -XEN_EFAULT (*f set), -XEN_EACCES (@write into a read-only
 * region), -XEN_E2BIG (more pieces than @pc holds).  Takes no reference.
 */
int pvad_ioas_resolve(const struct pvad_ioas *as, uint64_t iova, uint64_t len,
                      bool write, struct pvad_pieces *pc,
                      struct pvad_fault *f);
/* Copy @len bytes of resolved memory out (the copy the backend then uses). */
void pvad_pieces_copy_out(const struct pvad_pieces *pc, void *dst, size_t len);
/* Pin / unpin the regions under @pc for queue @qi (that queue's thread). */
void pvad_pieces_get(struct pvad_pieces *pc, unsigned int qi);
void pvad_pieces_put(struct pvad_pieces *pc, unsigned int qi);
/* A request in flight on any queue uses @r (as_lock or ctl_lock held). */
bool pvad_region_in_use(const struct pvad_region *r);

struct pvad_region *pvad_ioas_find_exact(const struct pvad_ioas *as,
                                         uint64_t iova, uint64_t len);
bool pvad_ioas_overlaps(const struct pvad_ioas *as, uint64_t iova,
                        uint64_t len);
struct pvad_region *pvad_ioas_find_blob(const struct pvad_ioas *as,
                                        uint32_t blob_id);
int pvad_ioas_insert(struct pvad_ioas *as, struct pvad_region *r);
void pvad_ioas_remove(struct pvad_ioas *as, struct pvad_region *r);
/* Put @new in @old's slot: same iova and len (BLOB_MIGRATE, READBACK). */
void pvad_ioas_replace(struct pvad_ioas *as, struct pvad_region *old,
                       struct pvad_region *new_r);

/*
 * overlap.c: operands that must not share memory.  A span is one piece of
 * an operand as a range of backend addresses, with its offset in the
 * operand.
 */
struct pvad_span {
    uintptr_t lo, hi;           /* [lo, hi) */
    uint64_t off;               /* of lo, in the operand */
};

/*
 * Do src octet @shift + i and dst octet i lie at one address wherever
 * @s and @d meet (AEAD in place)?  Addresses and operand offsets are far
 * below 2^63, so neither sum wraps.
 */
static inline bool pvad_span_in_place(const struct pvad_span *s,
                                      const struct pvad_span *d,
                                      uint64_t shift)
{
    return s->off + d->lo == d->off + s->lo + shift;
}

int pvad_overlap_check_pieces(const struct pvad_pieces *src,
                              const struct pvad_pieces *dst, bool in_place,
                              uint64_t shift, struct pvad_span *scratch);

/*
 * 0 if no octet of @dst is also an octet of @src or a second octet of
 * @dst, except, with @in_place, octets that are both src octet @shift + i
 * and dst octet i; else -XEN_EINVAL.  @scratch holds a span per piece of
 * @dst.  Runs for every request of those operations: operands of one
 * piece each are judged here, inline.
 */
static inline int pvad_overlap_check(const struct pvad_pieces *src,
                                     const struct pvad_pieces *dst,
                                     bool in_place, uint64_t shift,
                                     struct pvad_span *scratch)
{
    struct pvad_span s, d;

    if (src->n > 1 || dst->n > 1)
        return pvad_overlap_check_pieces(src, dst, in_place, shift, scratch);
    if (!src->n || !dst->n || !src->iov[0].len || !dst->iov[0].len)
        return 0;
    s.lo = (uintptr_t)src->iov[0].base;
    s.hi = s.lo + src->iov[0].len;
    s.off = 0;
    d.lo = (uintptr_t)dst->iov[0].base;
    d.hi = d.lo + dst->iov[0].len;
    d.off = 0;
    if (s.hi <= d.lo || d.hi <= s.lo)
        return 0;
    return in_place && pvad_span_in_place(&s, &d, shift) ? 0 : -XEN_EINVAL;
}

/* ------------------------------------------------------------ sessions */

struct pvad_session {
    uint32_t id;                /* 0: free slot */
    uint8_t alg;
    struct pva_engine_session *es;
    _Atomic uint32_t users;
    atomic_bool digest_busy;    /* at most one DIGEST in flight */
};

struct pvad_sessions {
    struct pvad_session *slots;
    uint32_t cap;
    uint16_t gen;
};

/* ----------------------------------------------------------- event ring */

struct pvad_evtring {
    pthread_mutex_t lock;
    vaccel_evt_sring_t *sring;
    void *map;
    uint32_t npages;
    uint32_t size;
    uint32_t prod;              /* ours; never read back from the ring */
    uint64_t seq;
    struct pva_evtchn *evh;
    pva_port_t port;
    uint64_t quota_last_ns[PVAD_RES_NR];
};

/* -------------------------------------------------------------- stats */

#define PVAD_STAT_OPS 32        /* op codes folded: control 0-15, data 16-31 */
#define PVAD_STAT_ERRNO 128

struct pvad_qstats {
    _Atomic uint64_t ops[PVAD_STAT_OPS];
    _Atomic uint64_t errors[PVAD_STAT_ERRNO]; /* by -status */
    _Atomic uint64_t bytes_in;
    _Atomic uint64_t bytes_out;
    _Atomic uint64_t lat_count;
    _Atomic uint64_t lat_sum_ns;
    _Atomic uint64_t lat_max_ns;
    _Atomic uint64_t notifies;
    _Atomic uint64_t wakeups;
    _Atomic uint64_t batches;
};

unsigned int pvad_stat_op_index(uint8_t op);
/*
 * Counters of a struct pvad_qstats have one writer, their queue's thread,
 * so they are bumped with a plain load and store (no locked instruction
 * per request); readers load them relaxed.
 */
static inline void pvad_stat_add(_Atomic uint64_t *c, uint64_t v)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
                          memory_order_relaxed);
}
void pvad_qstats_account(struct pvad_qstats *s, uint8_t op, int32_t status,
                         uint64_t in, uint64_t out, uint64_t lat_ns);

/* -------------------------------------------------------------- queues */

/*
 * The request path: queue.c, fault.c, job.c and response.c, layered as
 * queue_internal.h describes; that header also holds struct pvad_job, a
 * request on its way through the engine.
 */
struct pvad_job;

/* Pieces of a scatter list or a key: they lie in at most this many regions. */
#define PVAD_SCRATCH_PIECES 8

/* Jobs in order, linked through next. */
struct pvad_job_fifo {
    struct pvad_job *head;
    struct pvad_job *tail;
};

struct pvad_queue {
    struct pvad_device *dev;
    unsigned int index;
    pthread_t thread;
    bool thread_started;

    vaccel_back_ring_t ring;
    void *ring_map;
    uint32_t ring_pages;
    struct pva_evtchn *evh;     /* this thread's own handle */
    pva_port_t port;
    int wake_fd;                /* eventfd: a completion while asleep */
    uint64_t now_ns;            /* the clock, read once per round */

    pthread_t self;             /* the queue's thread, once it runs */
    _Atomic(struct pvad_job *) done_list; /* pushed by engine threads */
    struct pvad_job_fifo local_done; /* finished on our own thread */
    atomic_bool sleeping;
    atomic_bool stop;           /* the main thread wants it to end */
    bool cancelled;             /* its engine work was cancelled (stop) */
    bool stopped;               /* protocol violation: consume no more */

    struct pva_engine_queue *eq;
    struct pvad_job *jobs;
    struct pvad_job *free_jobs;
    struct pvad_job_fifo deferred; /* the engine said busy */
    unsigned int in_flight;
    unsigned int held;          /* of in_flight: waiting on a fault answer */
    uint64_t next_expiry_ns;
    unsigned int rsp_unpushed;
    /*
     * In-flight quota reserved for the valid data requests of a step but
     * not yet used (returned at the end of the step), and quota of
     * finished requests not yet given back (returned before responses are
     * published): settled in bulk, not once per request (response.c).
     */
    unsigned int in_flight_credit;
    unsigned int in_flight_returned;
    struct vaccel_seg *sg_scratch;   /* [max_sg_entries], one list at a time */
    struct pva_iov *iov_store;  /* every job's pieces, then scratch */
    struct pvad_region **reg_store;
    struct pvad_pieces scratch; /* keys, scatter lists: PVAD_SCRATCH_PIECES */
    struct pvad_span *spans;    /* a span per piece of an operand: the
                                   overlap check of scattered operands */

    struct pvad_qstats stats;
};

/* queue.c: the queue thread. */
int pvad_queue_start(struct pvad_queue *q);
/*
 * Ask the thread to consume no more, cancel its work queued in the engine,
 * finish what is running and exit.  Returns at once (main thread).
 */
void pvad_queue_ask_stop(struct pvad_queue *q);
/* Wait for the thread asked to stop (teardown thread). */
void pvad_queue_join(struct pvad_queue *q);
/* After the engine queue is closed: the wake-up fd and the job pool. */
void pvad_queue_fini(struct pvad_queue *q);

/* job.c: the queue's job pool (freed by pvad_queue_fini). */
int pvad_queue_alloc_jobs(struct pvad_queue *q);

/* fault.c: recoverable faults. */
/* FAULT_RESPONSE, from any queue: 0, or -XEN_ENOENT if nothing is held. */
int pvad_fault_answer(struct pvad_device *dev, uint32_t fault_id,
                      int32_t status);

/* ------------------------------------------------------------- devices */

struct pvad;

struct pvad_device {
    struct pvad *d;
    struct pvad_device *next;
    uint16_t fe_domid;
    unsigned int devid;
    char *be_path;
    char *fe_path;
    char *token;                /* watch token of this device */
    enum xenbus_state state;    /* ours, as last written */
    int fe_seen;                /* frontend state at the last step */
    bool fe_watched;
    bool dirty;                 /* a watch fired: evaluate again */
    unsigned int seen_gen;      /* scan generation that last found it */
    _Atomic uint64_t warn_last_ns; /* guest-triggered warnings, rate limit */
    struct pvad_limits lim;
    struct pvad_domain *dom;

    /* The connection (Connected, and during teardown). */
    bool connected;
    bool tearing_down;          /* a teardown thread runs (teardown.c) */
    atomic_bool teardown_done;  /* set by it when it is over */
    pthread_t teardown_thread;
    bool doomed;                /* free it once the teardown is over */
    bool doomed_rm_nodes;       /* ... and remove its backend directory */
    pthread_mutex_t ctl_lock;
    pthread_rwlock_t as_lock;
    struct pva_gntmap *gm;
    struct pva_engine_ctx *ectx;
    struct pvad_ioas ioas;
    struct pvad_sessions sessions;
    struct pvad_evtring evt;
    struct pvad_usage usage;
    pthread_mutex_t fault_lock; /* held, next_fault_id */
    struct pvad_job *held;      /* requests waiting on FAULT_RESPONSE */
    uint32_t next_fault_id;
    uint32_t next_blob_id;      /* under ctl_lock */
    uint32_t ring_order;
    unsigned int nr_queues;
    struct pvad_queue *queues;
    struct pvad_qstats closed_stats; /* of earlier connections */
    unsigned int connections;
};

/* device.c */
struct pvad_device *pvad_device_new(struct pvad *d, uint16_t fe_domid,
                                    unsigned int devid);
void pvad_device_free(struct pvad_device *dev);
/* Read the frontend's nodes, map, bind, start the queues. */
int pvad_device_connect(struct pvad_device *dev, char *err, size_t errlen);

/*
 * teardown.c: the end of a connection (see "Teardown" above).  Main
 * thread, but for what teardown.c's own thread does.
 */
/* The eventfd the teardown threads write when they end (d->teardown_fd). */
int pvad_teardown_init(struct pvad *d);
void pvad_teardown_fini(struct pvad *d);
/*
 * Start ending @dev's connection.  True: a teardown runs (it already
 * did, or starts now); the main loop hears of its end through
 * d->teardown_fd.  False: nothing (any more) to tear down.
 */
bool pvad_teardown_start(struct pvad_device *dev);
/* If @dev's teardown thread has ended: join it, finish, true. */
bool pvad_teardown_reap(struct pvad_device *dev);
/* Wait for @dev's teardown, if one runs, and finish it (daemon exit). */
void pvad_teardown_wait(struct pvad_device *dev);
/*
 * Stop the queues and release everything of the connection now, on this
 * thread (or wait for the teardown that runs).  Idempotent.
 */
void pvad_device_disconnect(struct pvad_device *dev);

/* events.c: records on the device's event ring, from any queue thread. */
/* A fault record; recoverable iff @fault_id.  False: the ring is full. */
bool pvad_evt_fault(struct pvad_device *dev, unsigned int queue,
                    uint64_t req_id, uint8_t op, const struct pvad_fault *f,
                    uint32_t fault_id);
void pvad_evt_queue_stopped(struct pvad_device *dev, unsigned int queue,
                            uint32_t reason);
void pvad_evt_quota(struct pvad_device *dev, enum pvad_res res,
                    int32_t status, uint64_t limit);

/*
 * The control path, top down: control.c dispatches each control op to
 * region.c, session.c or blob.c (and FAULT_RESPONSE to fault.c);
 * session.c and blob.c sit over region.c, the only file that maps grants
 * for the address space, calls the engine's dma_map / dma_unmap and
 * charges ranges to the quota.  No call runs back up.  Unless stated,
 * the functions of these four files run on a queue thread with ctl_lock
 * held.
 */

/* control.c: control operations, run inline by the queue thread. */
void pvad_control(struct pvad_queue *q, const vaccel_request_t *req,
                  vaccel_response_t *rsp);

/* session.c: the session table; SESSION_CREATE and SESSION_DESTROY. */
/* Connect (main thread): a table of @cap free slots. */
int pvad_sessions_init(struct pvad_sessions *s, uint32_t cap);
/* The live session @id names, or NULL.  Data path: as_lock read-held. */
struct pvad_session *pvad_session_lookup(struct pvad_sessions *s, uint32_t id);
int pvad_session_create(struct pvad_queue *q, const vaccel_request_t *req,
                        vaccel_response_t *rsp);
int pvad_session_destroy(struct pvad_device *dev, const vaccel_request_t *req);
/* Teardown (teardown.c, queues joined): every session, then the table. */
void pvad_sessions_release_all(struct pvad_device *dev);

/* blob.c: BLOB_CREATE, _DESTROY, _MIGRATE, _READBACK. */
int pvad_blob_create(struct pvad_device *dev, const vaccel_request_t *req,
                     vaccel_response_t *rsp);
int pvad_blob_destroy(struct pvad_device *dev, const vaccel_request_t *req);
int pvad_blob_migrate(struct pvad_queue *q, const vaccel_request_t *req,
                      vaccel_response_t *rsp);
int pvad_blob_readback(struct pvad_device *dev, const vaccel_request_t *req,
                       vaccel_response_t *rsp);

/* region.c: making, mapping and freeing ranges; MAP_REGION, UNMAP_REGION. */
int pvad_region_map(struct pvad_device *dev, const vaccel_request_t *req,
                    vaccel_response_t *rsp);
int pvad_region_unmap(struct pvad_device *dev, const vaccel_request_t *req);
/*
 * Take @n of @res from the device's and the domain's budget, or neither;
 * a refusal is its status, with a quota record on the event ring.
 */
int pvad_ctl_take(struct pvad_device *dev, enum pvad_res res, uint64_t n);
void pvad_ctl_give(struct pvad_device *dev, enum pvad_res res, uint64_t n);
/* May [iova, iova + len) become a new region or blob?  0 or a status. */
int pvad_new_range_check(struct pvad_device *dev, uint64_t iova, uint64_t len);
/*
 * Read the page directory at @gref_dir (exactly @npages grants, each
 * listed once) and map them in one batch at *addr, charged to the
 * mapping quota.  -XEN_EACCES with *bad_page the index of the first page
 * that does not map; -XEN_EINVAL for a bad directory, with *bad_page the
 * index of the first grant listed again if that is why (else 0); or the
 * mapping quota's status.  On failure nothing stays mapped.
 */
int pvad_grants_map(struct pvad_device *dev, pva_gref_t gref_dir,
                    uint32_t npages, bool writable, void **addr,
                    uint64_t *bad_page);
/* Unmap a pvad_grants_map() result and give back its mappings. */
void pvad_grants_unmap(struct pvad_device *dev, void *addr, uint32_t npages);
/*
 * A new range, charged to the quota (or nothing is), in no address space
 * and not mapped into the engine yet.  A region gets its grants in addr
 * (pvad_grants_map); a blob comes with its zeroed memory.
 */
int pvad_region_new(struct pvad_device *dev, uint64_t iova, uint64_t len,
                    bool writable, struct pvad_region **out);
int pvad_region_new_blob(struct pvad_device *dev, uint64_t iova, uint64_t len,
                         struct pvad_region **out);
/* Map @r into the engine and insert it in the address space. */
int pvad_range_publish(struct pvad_device *dev, struct pvad_region *r);
/*
 * Make @old's range (same iova and len) point at @new_r, in the address
 * space and the engine, unless a request pins @old (-XEN_EBUSY).  On any
 * error @old is still in place and @new_r is not.
 */
int pvad_range_switch(struct pvad_device *dev, struct pvad_region *old,
                      struct pvad_region *new_r);
/* Take @r out of the address space and free it, unless it is pinned. */
int pvad_range_destroy(struct pvad_device *dev, struct pvad_region *r);
/*
 * Unmap @r from the engine and free it: a region's grants or a blob's
 * memory, and its quota.  It is in no address space (any more).
 */
void pvad_range_free(struct pvad_device *dev, struct pvad_region *r);
/* Teardown (teardown.c, queues joined): every region and blob. */
void pvad_regions_release_all(struct pvad_device *dev);

/* validate.c */
struct pvad_offer {
    pva_alg_mask compress_algs, digest_algs, aead_algs;
    bool copy, fill, compare, crc32c;
    int32_t level_min[VACCEL_ALG_LZ4 + 1];
    int32_t level_max[VACCEL_ALG_LZ4 + 1];
    /*
     * The cost cap (max-op-ms): the most source bytes a COMPRESS may take
     * at each level (index as caps.compress_us_per_mib), UINT64_MAX where
     * the engine gives no cost.  Advertised as compress-max-bytes.
     */
    uint64_t compress_max_src[VACCEL_ALG_LZ4 + 1][PVA_COST_LEVEL_MAX + 1];
};
/* What the engine's @caps offer, with requests capped at @max_op_ms. */
void pvad_offer_from_caps(struct pvad_offer *o,
                          const struct pva_engine_caps *caps,
                          uint32_t max_op_ms);
/*
 * The most source bytes @req may read: max-op-bytes, or less for a
 * COMPRESS at a level the cost cap limits.  Called per request (validation
 * of a direct operand, resolution of a scatter list): inline.  @req's
 * fields are the guest's, so they index nothing unchecked.
 */
static inline uint64_t pvad_src_max_bytes(const struct pvad_offer *o,
                                          const struct pvad_limits *lim,
                                          const vaccel_request_t *req)
{
    int32_t level = req->u.compress.level;
    uint64_t cap;

    if (req->op != VACCEL_OP_COMPRESS || req->alg > VACCEL_ALG_LZ4 ||
        level < 0 || level > PVA_COST_LEVEL_MAX)
        return lim->max_op_bytes;
    cap = o->compress_max_src[req->alg][level];
    return cap < lim->max_op_bytes ? cap : lim->max_op_bytes;
}
/* Checks of the request copy that need no memory lookup. */
int pvad_validate(const struct pvad_offer *o, const struct pvad_limits *lim,
                  const vaccel_request_t *req);
/* Does an operand slot of @op carry data (src: 0, dst: 1)? */
bool pvad_op_uses_src(uint8_t op);
bool pvad_op_uses_dst(uint8_t op);
bool pvad_op_writes_dst(uint8_t op);
/*
 * Must @op's dst share no memory with its src or with itself (AEAD: but
 * in place)?  Yes where the libraries behind it forbid aliasing
 * (overlap.c); inline, as job.c asks it for every request.
 */
static inline bool pvad_op_forbids_overlap(uint8_t op)
{
    return op == VACCEL_OP_COMPRESS || op == VACCEL_OP_DECOMPRESS ||
           op == VACCEL_OP_AEAD_ENCRYPT || op == VACCEL_OP_AEAD_DECRYPT;
}

/* ------------------------------------------------------------- daemon */

struct pvad {
    struct pvad_config cfg;
    struct pva_platform *p;
    struct pva_xs *xs;
    int self_domid;
    char be_base[64];           /* /local/domain/<self>/backend/vaccel */
    const struct pva_engine_ops *eops;
    struct pva_engine *engine;
    struct pva_engine_caps caps;
    struct pvad_offer offer;
    struct pvad_quota quota;
    struct pvad_device *devices;
    unsigned int scan_gen;
    int admin_fd;
    char admin_path[256];
    int teardown_fd;            /* eventfd: a teardown thread ended */
};

/* xenbus.c */
int pvad_xenbus_init(struct pvad *d);
/* Drain the queued watch events, then run every dirty device's machine. */
void pvad_xenbus_handle_watches(struct pvad *d);
/* d->teardown_fd is readable: reap ended teardowns, move their devices on. */
void pvad_xenbus_handle_teardowns(struct pvad *d);
/* Orderly exit: tear every device down (waiting for it), write Closed. */
void pvad_xenbus_shutdown(struct pvad *d);

/* stats.c */
int pvad_admin_open(struct pvad *d);
void pvad_admin_close(struct pvad *d);
void pvad_admin_serve(struct pvad *d);

#endif
