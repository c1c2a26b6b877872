/* SPDX-License-Identifier: MIT */
/*
 * pvaccel.h: libpvaccel, the guest side of the Xen paravirtual accelerator.
 *
 * A Xen guest opens a vaccel device (device/vaccel/<id> of its own domain),
 * places buffers of long-term granted memory in the device's I/O address
 * space, and submits compression, digest, AEAD and memory operations on
 * queues it shares with the backend.  The model is liburing:
 *
 *     struct pva_sqe *sqe = pva_get_sqe(q);          // a free request slot
 *     pva_prep_crc32c(sqe, pva_seg(&buf, 0, n), 0);   // describe the work
 *     pva_submit(q);                                  // publish, notify once
 *     pva_wait_cqe(q, &cqe);                          // reap a completion
 *
 * Thread safety.  A device (struct pva_dev) may be shared by threads.  A
 * queue (struct pva_queue) is owned by one thread at a time and takes no
 * lock on its data path: give each thread its own queue.  Calls that take
 * a queue and change the device's I/O address space or sessions
 * (pva_buf_alloc, pva_region_*, pva_session_*) serialise on a device lock
 * and may run from any thread that owns the queue it passes.  pva_dev_close
 * must not race with any other call on the device.
 *
 * Errors.  Every call that can fail returns a negative errno value
 * (-EINVAL, -ENOMEM, ...), and completions carry 0 or a negative errno in
 * pva_cqe.res; pva_strerror() explains them in the device's terms.
 *
 * The connection.  If the backend goes away (it exits, is killed and
 * restarted, or is detached and re-attached) the library notices it on its
 * own monitor thread, and:
 *  - every request submitted on the lost connection completes exactly
 *    once: with the backend's answer if the backend posted one, else with
 *    -ENOTCONN ("may or may not have executed; outputs undefined");
 *    nothing is resubmitted behind the caller's back;
 *  - while the device is disconnected, pva_submit completes each request
 *    at once with -ENOTCONN; pva_dev_wait_connected() sleeps until the
 *    connection is back;
 *  - on reconnection the library registers again every region (same
 *    IOVAs, same pages: pointers and IOVAs the caller holds stay valid)
 *    and re-creates every session (AEAD keys are kept by the library for
 *    this); a digest session that was part-way through a message
 *    (PVA_DIGEST_F_MORE) has lost its state: its next request completes
 *    with -ENOTCONN, and the session is reset by the next request without
 *    PVA_DIGEST_F_MORE (which fails too); then it works as new.
 */
#ifndef PVACCEL_H
#define PVACCEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PVACCEL_VERSION_MAJOR 0
#define PVACCEL_VERSION_MINOR 1

struct pva_dev;
struct pva_queue;
struct pva_region;
struct pva_session;
struct pva_blob;

/* ---------------------------------------------------------------------- */
/* Operations and algorithms (the numbers are the wire protocol's).       */

enum pva_op {
    PVA_OP_NOP = 0x00,
    PVA_OP_COMPRESS = 0x40,
    PVA_OP_DECOMPRESS = 0x41,
    PVA_OP_DIGEST = 0x42,
    PVA_OP_AEAD_ENCRYPT = 0x43,
    PVA_OP_AEAD_DECRYPT = 0x44,
    PVA_OP_COPY = 0x45,
    PVA_OP_FILL = 0x46,
    PVA_OP_COMPARE = 0x47,
    PVA_OP_CRC32C = 0x48,
};

enum pva_alg {
    PVA_ALG_NONE = 0,
    PVA_ALG_DEFLATE = 1,
    PVA_ALG_ZLIB = 2,
    PVA_ALG_GZIP = 3,
    PVA_ALG_ZSTD = 4,
    PVA_ALG_LZ4 = 5,
    PVA_ALG_SHA256 = 16,
    PVA_ALG_SHA512 = 17,
    PVA_ALG_AES_256_GCM = 32,
    PVA_ALG_CHACHA20_POLY1305 = 33,
};

/* Request flags (pva_sqe.flags). */
#define PVA_F_SRC_INDIRECT   (1u << 0)   /* src is a scatter list of pva_seg */
#define PVA_F_DST_INDIRECT   (1u << 1)   /* dst is a scatter list of pva_seg */
#define PVA_F_IOPF           (1u << 2)   /* faults are recoverable: see
                                            pva_fault_respond (feature_iopf) */
#define PVA_DIGEST_F_MORE    (1u << 8)   /* DIGEST: absorb only, more follows */
#define PVA_FILL_F_PATTERN64 (1u << 8)   /* FILL: 8-octet pattern */

#define PVA_AEAD_KEY_LEN   32u
#define PVA_AEAD_NONCE_LEN 12u
#define PVA_AEAD_TAG_LEN   16u
#define PVA_SHA256_LEN     32u
#define PVA_SHA512_LEN     64u
#define PVA_PAGE_SIZE      4096u

/* "deflate", "sha256", ... and back; -EINVAL for an unknown name. */
const char *pva_alg_name(int alg);
int pva_alg_from_name(const char *name);
/* Digest size of a digest algorithm, else 0. */
unsigned int pva_digest_len(int alg);

/* ---------------------------------------------------------------------- */
/* Devices                                                                */

/* pva_dev_opts.flags */
#define PVA_DEV_POLL (1u << 0)  /* busy-poll: no syscall in steady state */

struct pva_event;
typedef void pva_event_fn(void *arg, const struct pva_event *ev);

struct pva_dev_opts {
    const char *platform;  /* "xen", "sim" or NULL: $PVACCEL_PLATFORM, auto */
    unsigned int devid;     /* device/vaccel/<devid> of this domain */
    unsigned int queues;    /* 0: one per online CPU, capped by the backend */
    int ring_order;         /* ring pages = 2^order; -1: min(2, backend max) */
    unsigned int flags;     /* PVA_DEV_* */
    unsigned int spin_us;   /* blocking mode: spin this long before sleeping */
    int timeout_ms;         /* handshake and close; -1: wait for ever */
    pva_event_fn *event_fn; /* device events (faults, ...), monitor thread */
    void *event_arg;
};

/* Defaults: auto platform, devid 0, per-CPU queues, blocking, 10 s. */
void pva_dev_opts_init(struct pva_dev_opts *opts);

/*
 * Open a device: run the xenbus handshake (accelif.h) and wait until the
 * backend is connected.  @opts may be NULL for the defaults.  Returns 0
 * and *devp, or: -ENODEV (no such device node), -ETIMEDOUT (the backend
 * did not answer in timeout_ms), -ECONNREFUSED (the backend rejected the
 * parameters; pva_dev_error() says why), -EPROTONOSUPPORT (no common
 * version), or the platform's error.  @err (if not NULL) receives a
 * one-line message on failure.
 */
int pva_dev_open(const struct pva_dev_opts *opts, struct pva_dev **devp,
                 char *err, size_t errlen);

/*
 * Close: switch to Closing, wait for the backend to finish and unmap
 * everything, end every grant (rings, regions, buffers), switch to Closed.
 * Requests still in flight are abandoned (their callbacks do not run);
 * regions, buffers and sessions of the device are freed.
 */
void pva_dev_close(struct pva_dev *dev);

struct pva_dev_info {
    unsigned int domid;        /* this domain */
    unsigned int backend_id;   /* the backend's domain */
    unsigned int devid;
    char frontend_path[96];
    char backend_path[96];
    char engine[32];
    char platform[8];
    unsigned int version;      /* protocol version in use */
    unsigned int queues;       /* queues in use */
    unsigned int max_queues;   /* the backend's maximum */
    unsigned int ring_order, max_ring_order;
    unsigned int ring_slots;   /* requests per queue in flight at most */
    char feature_ops[96];
    char compress_algs[96];
    char compress_levels[128];
    char digest_algs[64];
    char aead_algs[64];
    bool feature_blobs, feature_iopf;
    uint32_t max_regions, max_region_pages, max_blobs, max_sessions;
    uint32_t max_in_flight, max_sg_entries, iova_bits, fault_timeout_ms;
    uint64_t max_mapped_pages, max_blob_pages, max_op_bytes;
    unsigned int connections;  /* connections made so far (1 + reconnects) */
};

/* Snapshot of what the backend offers and what was negotiated. */
void pva_dev_get_info(struct pva_dev *dev, struct pva_dev_info *info);
/* Is @alg offered (and its family in feature-ops)? */
bool pva_dev_has_alg(struct pva_dev *dev, int alg);
/* Is the operation family of @op offered? */
bool pva_dev_has_op(struct pva_dev *dev, int op);
/* The backend's last "error" node, or "" . */
const char *pva_dev_error(struct pva_dev *dev);

/* Is the device connected now? */
bool pva_dev_connected(struct pva_dev *dev);
/*
 * Sleep until the device is connected (0), @timeout_ms passed
 * (-ETIMEDOUT; -1 waits for ever), or it was closed (-ESHUTDOWN).
 * The timeout is measured on CLOCK_MONOTONIC, immune to clock changes.
 */
int pva_dev_wait_connected(struct pva_dev *dev, int timeout_ms);

unsigned int pva_dev_num_queues(struct pva_dev *dev);
/* Queue @index (0 .. num_queues - 1), owned by one thread at a time. */
struct pva_queue *pva_dev_queue(struct pva_dev *dev, unsigned int index);
/* The device of a queue. */
struct pva_dev *pva_queue_dev(const struct pva_queue *q);

/* Device events (event ring records), delivered to pva_dev_opts.event_fn. */
enum pva_event_type {
    PVA_EVENT_FAULT = 1,          /* a request touched unmapped IOVA space */
    PVA_EVENT_QUEUE_STOPPED = 2,  /* the backend stopped serving a queue */
    PVA_EVENT_ENGINE_RESET = 3,
    PVA_EVENT_QUOTA = 4,          /* a request hit a limit */
    PVA_EVENT_LOST = 100,         /* records were dropped (ring full) */
};

/* pva_event.flags of a FAULT: the request waits for pva_fault_respond. */
#define PVA_EVENT_F_RECOVERABLE (1u << 0)

struct pva_event {
    unsigned int type;            /* enum pva_event_type */
    unsigned int flags;
    uint64_t seq;
    uint64_t iova, len, req_user_data;  /* FAULT */
    unsigned int queue;           /* FAULT, QUEUE_STOPPED */
    unsigned int access, op;      /* FAULT */
    uint32_t reason;              /* QUEUE_STOPPED; lost count for LOST */
    int32_t status;               /* QUOTA */
    uint64_t limit;               /* QUOTA */
    uint32_t fault_id;            /* FAULT, recoverable: non-zero */
    unsigned int conn;            /* private: the connection it came on */
};

/*
 * Answer a recoverable fault (a PVA_EVENT_FAULT with
 * PVA_EVENT_F_RECOVERABLE, from a request submitted with PVA_F_IOPF).  The
 * request is held by the backend until then (or fault-timeout-ms, then it
 * completes with -ETIMEDOUT).  @status 0: the range is mapped now, run the
 * request again (it may fault again); a negative errno: complete the
 * request with it.  Sent on @q, any queue of the device, and waited for;
 * the held request itself completes on its own queue.  Call it from a
 * thread that owns @q, not from the event callback (which must not call
 * into the device): the callback hands a copy of the event over.
 * Returns 0, -ENOENT (nothing held on that fault: it timed out), -ENOTCONN
 * (the event came on an earlier connection: the request has already
 * completed with -ENOTCONN), -EINVAL (not a recoverable fault, @status
 * positive).
 */
int pva_fault_respond(struct pva_queue *q, const struct pva_event *ev,
                      int status);

/* ---------------------------------------------------------------------- */
/* Memory: regions of granted pages in the device's I/O address space.    */

/*
 * A region: @len bytes (rounded up to pages) of zeroed memory, granted to
 * the backend once and registered (MAP_REGION, sent on @q) at an IOVA the
 * library chooses.  Pages stay granted until pva_region_free.  With
 * PVA_REGION_RDONLY the backend may only read it.  Returns 0 or -errno
 * (the backend's -EMFILE, -ENOMEM, -E2BIG for its limits).
 */
#define PVA_REGION_RDONLY (1u << 0)
int pva_region_alloc(struct pva_queue *q, size_t len, unsigned int flags,
                     struct pva_region **rp);
/* UNMAP_REGION on @q, then end the grants and free the pages. */
int pva_region_free(struct pva_queue *q, struct pva_region *r);
void *pva_region_addr(const struct pva_region *r);
uint64_t pva_region_iova(const struct pva_region *r);
size_t pva_region_len(const struct pva_region *r);

/*
 * Buffers: pieces of writable regions the library keeps as arenas (a new
 * arena, registered on @q, when none has room).  64-byte aligned.  Keep
 * buffers for the life of the work: allocating is not for the fast path.
 */
struct pva_buf {
    void *addr;       /* local address */
    uint64_t iova;    /* device address of addr */
    size_t len;
    struct pva_region *region; /* private */
};
int pva_buf_alloc(struct pva_queue *q, size_t len, struct pva_buf *buf);
void pva_buf_free(struct pva_dev *dev, struct pva_buf *buf);

/* An operand: @len bytes at @iova (or a scatter list with *_INDIRECT). */
struct pva_seg {
    uint64_t iova;
    uint64_t len;
};

/* The operand [off, off + len) of @buf. */
static inline struct pva_seg pva_seg(const struct pva_buf *buf, size_t off,
                                     size_t len)
{
    struct pva_seg s = { buf->iova + off, len };
    return s;
}

/* ---------------------------------------------------------------------- */
/* Sessions                                                               */

/*
 * An AEAD key session (alg PVA_ALG_AES_256_GCM or _CHACHA20_POLY1305, key
 * of PVA_AEAD_KEY_LEN octets) or a streaming digest session (alg
 * PVA_ALG_SHA256/512, key NULL).  The library keeps a copy of the key,
 * wiped on destroy, to re-create the session after a reconnection.
 */
int pva_session_create(struct pva_queue *q, int alg, const void *key,
                       size_t keylen, struct pva_session **sp);
int pva_session_destroy(struct pva_queue *q, struct pva_session *s);

/* ---------------------------------------------------------------------- */
/* Blobs: backend memory in the device's I/O address space                */

/*
 * A blob is memory the backend (or its device) owns, placed in the I/O
 * address space like a region and used by requests the same way, read and
 * write, but holding no grant of the guest (pva_dev_info.feature_blobs;
 * otherwise every call here gives -EOPNOTSUPP).  Lengths are rounded up to
 * pages; the backend reserves memory in 2 MiB chunks and counts blobs and
 * their chunks against max-blobs (-EMFILE) and max-blob-pages (-ENOMEM).
 *
 * Blobs do not survive the connection: after a reconnection a blob is
 * "lost" (pva_blob_lost): its IOVA range stays reserved but maps nothing
 * (requests touching it fail with -EFAULT), and every call but
 * pva_blob_destroy gives -ESTALE.  Read back what must be kept before a
 * planned disconnect (save, migration, pva_dev_close).
 */

/* A zero-filled blob of @len bytes at an IOVA the library chooses. */
int pva_blob_create(struct pva_queue *q, size_t len, struct pva_blob **bp);
/*
 * Move region @r into a new blob at the same IOVA: the backend copies the
 * pages whose bit is set in @dirty (bit i, LSB first, of octet i / 8 for
 * page i; NULL: every page), the others read as zero, and releases the
 * region's grants.  On success @r is freed (its pages with it) and *bp is
 * the blob; on failure @r is unchanged.  -EBUSY if a request in flight
 * uses @r; -EINVAL for a buffer arena.
 */
int pva_blob_migrate(struct pva_queue *q, struct pva_region *r,
                     const void *dirty, struct pva_blob **bp);
/*
 * Copy blob @b into the first pva_blob_len(b) bytes of @dst, a writable
 * region at least that long.  The blob stays.
 */
int pva_blob_readback(struct pva_queue *q, struct pva_blob *b,
                      struct pva_region *dst);
/*
 * The inverse of pva_blob_migrate: copy @b into new granted pages that
 * become a writable region at the blob's IOVA (*rp), and free the blob.
 */
int pva_blob_to_region(struct pva_queue *q, struct pva_blob *b,
                       struct pva_region **rp);
/* BLOB_DESTROY on @q (-EBUSY while a request uses it), then free @b. */
int pva_blob_destroy(struct pva_queue *q, struct pva_blob *b);
uint64_t pva_blob_iova(const struct pva_blob *b);
size_t pva_blob_len(const struct pva_blob *b);
/* Was the blob lost with an earlier connection? */
bool pva_blob_lost(const struct pva_blob *b);

/* The operand [off, off + len) of blob @b. */
static inline struct pva_seg pva_blob_seg(const struct pva_blob *b,
                                          size_t off, size_t len)
{
    struct pva_seg s = { pva_blob_iova(b) + off, len };
    return s;
}

/* ---------------------------------------------------------------------- */
/* Requests and completions                                               */

struct pva_cqe;
typedef void pva_complete_fn(void *arg, const struct pva_cqe *cqe);

/* A request being prepared.  Fill it with a pva_prep_* call. */
struct pva_sqe {
    uint8_t op;                 /* enum pva_op */
    uint8_t alg;                /* enum pva_alg, where the op takes one */
    uint16_t flags;             /* PVA_F_*, op flags */
    uint32_t reserved;
    struct pva_session *session;
    struct pva_seg src, dst;
    union {
        int32_t level;          /* COMPRESS */
        struct {
            uint8_t nonce[PVA_AEAD_NONCE_LEN];
            uint32_t aad_len;
        } aead;                 /* AEAD_* */
        uint64_t pattern;       /* FILL */
        uint32_t seed;          /* CRC32C */
        uint8_t raw[16];
    } p;
    uint64_t user_data;         /* echoed in the completion */
    pva_complete_fn *fn;        /* if set, called instead of queuing a cqe */
    void *fn_arg;
};

/* A completion. */
struct pva_cqe {
    uint64_t user_data;
    int32_t res;        /* 0 or -errno; -ENOTCONN: lost with the connection */
    uint8_t op;
    uint8_t fault_access;
    uint64_t len;       /* bytes written to dst */
    uint64_t value;     /* DECOMPRESS: input consumed; CRC32C: crc; ... */
    uint64_t aux;       /* -ENOSPC: bytes needed; COMPARE: first diff */
    uint64_t fault_iova;/* -EFAULT: first unmapped IOVA */
};

/*
 * A free request slot of @q, or NULL when every slot is in flight (reap
 * completions first).  The slot belongs to the caller until pva_submit.
 */
struct pva_sqe *pva_get_sqe(struct pva_queue *q);

/*
 * Publish every prepared request to the ring and notify the backend if it
 * sleeps (one notification for the batch).  Returns the number of requests
 * taken; each of them completes exactly once.  When the device is not
 * connected they complete at once with -ENOTCONN.
 */
int pva_submit(struct pva_queue *q);

/*
 * Reap.  pva_peek_cqe never blocks (-EAGAIN if nothing completed);
 * pva_wait_cqe blocks (or spins with PVA_DEV_POLL) until a completion
 * arrives; -EAGAIN if nothing is in flight.  Requests with a callback are
 * delivered to it from inside these calls (and pva_queue_poll) instead.
 */
int pva_peek_cqe(struct pva_queue *q, struct pva_cqe *cqe);
int pva_wait_cqe(struct pva_queue *q, struct pva_cqe *cqe);
/*
 * Reap what has completed, run callbacks; with @wait, block until at least
 * one completion was reaped.  Returns the number reaped or -errno.
 */
int pva_queue_poll(struct pva_queue *q, bool wait);
/* Requests submitted and not yet reaped by the caller. */
unsigned int pva_queue_inflight(const struct pva_queue *q);

/*
 * Synchronous: submit @sqe (from pva_get_sqe, prepared) with whatever else
 * is prepared, and wait for its completion, stored in @cqe.  Returns
 * cqe->res.  Other completions stay queued for pva_*_cqe.
 */
int pva_run(struct pva_queue *q, struct pva_sqe *sqe, struct pva_cqe *cqe);

struct pva_queue_stats {
    uint64_t submitted, completed, notifies, sleeps, lost;
};
void pva_queue_get_stats(const struct pva_queue *q, struct pva_queue_stats *st);

/* ---- preparing requests (inline: no call, no syscall) ---- */

static inline void pva_prep(struct pva_sqe *sqe, int op, int alg,
                            struct pva_seg src, struct pva_seg dst)
{
    memset(sqe, 0, sizeof(*sqe));
    sqe->op = (uint8_t)op;
    sqe->alg = (uint8_t)alg;
    sqe->src = src;
    sqe->dst = dst;
}

static inline void pva_prep_nop(struct pva_sqe *sqe)
{
    static const struct pva_seg none = { 0, 0 };
    pva_prep(sqe, PVA_OP_NOP, 0, none, none);
}

/* @level 0 is the algorithm's default. */
static inline void pva_prep_compress(struct pva_sqe *sqe, int alg, int level,
                                     struct pva_seg src, struct pva_seg dst)
{
    pva_prep(sqe, PVA_OP_COMPRESS, alg, src, dst);
    sqe->p.level = level;
}

/* cqe.value = input consumed (one stream), cqe.len = output. */
static inline void pva_prep_decompress(struct pva_sqe *sqe, int alg,
                                       struct pva_seg src, struct pva_seg dst)
{
    pva_prep(sqe, PVA_OP_DECOMPRESS, alg, src, dst);
}

/* One-shot (@s NULL) or streamed in a digest session (@flags MORE). */
static inline void pva_prep_digest(struct pva_sqe *sqe, int alg,
                                   struct pva_session *s, unsigned int flags,
                                   struct pva_seg src, struct pva_seg dst)
{
    pva_prep(sqe, PVA_OP_DIGEST, alg, src, dst);
    sqe->session = s;
    sqe->flags = (uint16_t)flags;
}

/* src = AAD (@aad_len octets) || text; dst = text' (|| tag on encrypt). */
static inline void pva_prep_aead(struct pva_sqe *sqe, bool encrypt,
                                 struct pva_session *s, const uint8_t *nonce,
                                 uint32_t aad_len, struct pva_seg src,
                                 struct pva_seg dst)
{
    pva_prep(sqe, encrypt ? PVA_OP_AEAD_ENCRYPT : PVA_OP_AEAD_DECRYPT, 0,
             src, dst);
    sqe->session = s;
    memcpy(sqe->p.aead.nonce, nonce, PVA_AEAD_NONCE_LEN);
    sqe->p.aead.aad_len = aad_len;
}

static inline void pva_prep_copy(struct pva_sqe *sqe, struct pva_seg src,
                                 struct pva_seg dst)
{
    pva_prep(sqe, PVA_OP_COPY, 0, src, dst);
}

/* Every octet = @byte; with PVA_FILL_F_PATTERN64 use pva_prep_fill64. */
static inline void pva_prep_fill(struct pva_sqe *sqe, uint8_t byte,
                                 struct pva_seg dst)
{
    static const struct pva_seg none = { 0, 0 };
    pva_prep(sqe, PVA_OP_FILL, 0, none, dst);
    sqe->p.pattern = byte;
}

static inline void pva_prep_fill64(struct pva_sqe *sqe, uint64_t pattern,
                                   struct pva_seg dst)
{
    static const struct pva_seg none = { 0, 0 };
    pva_prep(sqe, PVA_OP_FILL, 0, none, dst);
    sqe->flags = PVA_FILL_F_PATTERN64;
    sqe->p.pattern = pattern;
}

/* cqe.value = 0 if equal, else 1 and cqe.aux = first difference. */
static inline void pva_prep_compare(struct pva_sqe *sqe, struct pva_seg a,
                                    struct pva_seg b)
{
    pva_prep(sqe, PVA_OP_COMPARE, 0, a, b);
}

/* cqe.value = crc32c(@seed, src); seed 0 starts a new CRC. */
static inline void pva_prep_crc32c(struct pva_sqe *sqe, struct pva_seg src,
                                   uint32_t seed)
{
    static const struct pva_seg none = { 0, 0 };
    pva_prep(sqe, PVA_OP_CRC32C, 0, src, none);
    sqe->p.seed = seed;
}

static inline void pva_sqe_set_data(struct pva_sqe *sqe, uint64_t user_data)
{
    sqe->user_data = user_data;
}

static inline void pva_sqe_set_callback(struct pva_sqe *sqe,
                                        pva_complete_fn *fn, void *arg)
{
    sqe->fn = fn;
    sqe->fn_arg = arg;
}

/* ---------------------------------------------------------------------- */

/* A message for a negative errno value as the device means it. */
const char *pva_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* PVACCEL_H */
