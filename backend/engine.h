/* SPDX-License-Identifier: MIT */
/*
 * engine.h: what pvacceld expects of an accelerator engine.
 *
 * The backend owns the Xen side: rings, grants, validation, quotas.  An
 * engine owns the device: it says what it can do, takes the memory the
 * backend mapped, runs jobs and reports completions.  The CPU engine
 * (backend/engines/cpu.c) is the only one so far; an engine for a real
 * device (a GPU, a uacce/UADK queue, a VFIO/iommufd device) would fill the
 * same table, and the memory modes below are what such devices need.
 *
 * Objects:
 *   engine   one per daemon, created by the backend at start-up;
 *   ctx      one per frontend device: its I/O address space as the engine
 *            sees it (DMA mappings) and its sessions;
 *   queue    one per device queue: the engine's "hardware queue".  Jobs are
 *            submitted by the backend thread that owns the device queue;
 *            completions may come in any order, from any engine thread.
 *
 * Memory.  Every operand reaches the engine as a list of pva_iov pieces in
 * backend virtual memory that the backend has already translated from IOVAs
 * and bounds-checked; the engine never sees an IOVA, a grant or a guest
 * scatter list.  For COMPRESS, DECOMPRESS and AEAD the backend has also
 * refused operands whose pieces overlap (backend/overlap.c; AEAD in place,
 * src octet aad_len + i at dst octet i, aside).  It cannot see one guest
 * frame behind two mappings, and the guest may write its memory while a
 * job runs: an engine must not let a parser read guest input twice (the
 * CPU engine decodes a private copy).  How the engine wants guest memory
 * (caps.mem):
 *   PVA_ENGINE_MEM_DIRECT  it reads and writes the mapped grants in place
 *                          (zero copy); dma_map is told for bookkeeping;
 *   PVA_ENGINE_MEM_DMA     the device reaches memory only through its
 *                          IOMMU: dma_map of every region is required
 *                          before a job may use it, and the engine keeps
 *                          the per-mapping handle;
 *   PVA_ENGINE_MEM_BLOB    the device works on its own memory only: the
 *                          backend would copy operands into blobs
 *                          (bounce); it does not yet, and serves such an
 *                          engine mapped memory with a warning.
 *
 * Threading.  ops->submit is called by one backend thread per queue.
 * job->done is called exactly once per submitted job, from any thread,
 * possibly before submit returns; after it returns the engine must not
 * touch the job again.  Control calls (ctx_*, dma_*, session_*) come from
 * the device's control path, never concurrently for one ctx.
 *
 * Cancellation.  When a device goes away (its guest died or closed) the
 * backend cancels the work of each of its queues (ops->queue_cancel): a
 * guest must not keep the engine busy after it is gone, nor make its own
 * teardown wait for its queued work.  Jobs not yet started complete at
 * once with PVA_JOB_CANCELLED; a job already running may finish and
 * completes normally.
 *
 * Errors are negative XEN_E* values (xen/errno.h), the protocol's status
 * codes, so a job's status goes to the guest unchanged.
 */
#ifndef PVACCEL_BACKEND_ENGINE_H
#define PVACCEL_BACKEND_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "accelif.h"

struct pva_engine;
struct pva_engine_ctx;
struct pva_engine_queue;

enum pva_engine_mem {
    PVA_ENGINE_MEM_DIRECT,
    PVA_ENGINE_MEM_DMA,
    PVA_ENGINE_MEM_BLOB,
};

/* Bit i set: VACCEL_ALG code i offered (codes are below 64). */
typedef uint64_t pva_alg_mask;
#define PVA_ALG_BIT(alg) ((pva_alg_mask)1 << (alg))

/* The highest COMPRESS level an engine gives a cost for (zstd's). */
#define PVA_COST_LEVEL_MAX 22

struct pva_engine_caps {
    const char *name;          /* "cpu", for the "engine" node */
    enum pva_engine_mem mem;
    pva_alg_mask compress_algs; /* COMPRESS and DECOMPRESS */
    pva_alg_mask digest_algs;
    pva_alg_mask aead_algs;
    bool copy, fill, compare, crc32c;
    /* Accepted COMPRESS levels per algorithm (level 0 always accepted). */
    int32_t level_min[VACCEL_ALG_LZ4 + 1];
    int32_t level_max[VACCEL_ALG_LZ4 + 1];
    /*
     * What one COMPRESS costs at most, for the backend's cap on the work
     * of one request (max-op-ms): microseconds of one execution unit per
     * MiB of input, at inputs of a few MiB.  Index 0 is level 0 (the
     * default level), 1 .. PVA_COST_LEVEL_MAX the levels themselves.  0,
     * and every level outside that range: no estimate, no cap.
     */
    uint32_t compress_us_per_mib[VACCEL_ALG_LZ4 + 1][PVA_COST_LEVEL_MAX + 1];
    unsigned int hw_queues;    /* parallelism the engine really has */
};

/* A piece of an operand in backend memory. */
struct pva_iov {
    void *base;
    size_t len;
};

/* An operand: pieces in order; len is their total. */
struct pva_operand {
    const struct pva_iov *iov;
    unsigned int niov;
    size_t len;
};

struct pva_engine_session;

/*
 * One request, resolved.  The backend fills the inputs from its validated
 * copy of the guest's request; the engine fills the outputs and calls
 * done().  Jobs live in backend-owned pools (no allocation per request).
 */
struct pva_job {
    /* inputs */
    uint8_t op;                 /* VACCEL_OP_* (data operations) */
    uint8_t alg;
    uint16_t flags;             /* the request's operation flags */
    struct pva_operand src;
    struct pva_operand dst;
    struct pva_engine_session *session; /* DIGEST in a session, AEAD */
    union {
        int32_t level;                      /* COMPRESS */
        struct {
            uint8_t nonce[VACCEL_AEAD_NONCE_LEN];
            uint32_t aad_len;
        } aead;
        uint64_t pattern;                   /* FILL */
        uint32_t seed;                      /* CRC32C */
    } param;

    /*
     * outputs (zero on entry).  On error only status, and aux with
     * -XEN_ENOSPC (the room needed, if known), are read: whatever a failed
     * job left in len and value never reaches the guest, because the
     * backend's response step applies the protocol's error rule for every
     * engine (backend/response.c).
     */
    int32_t status;             /* 0 or -XEN_E* */
    uint64_t len;               /* bytes written to dst */
    uint64_t value;
    uint64_t aux;

    /* completion: the submitter's own job structure embeds this one */
    void (*done)(struct pva_job *job);
};

/*
 * The status of a job queue_cancel completed without running it: the
 * protocol's status for a request lost with its connection, which no
 * engine returns otherwise.  Its outputs are zero.
 */
#define PVA_JOB_CANCELLED (-XEN_ENOTCONN)

struct pva_engine_ops {
    const char *name;

    /* Create the engine; @args is the admin's engine option string. */
    int (*create)(const char *args, struct pva_engine **out);
    void (*destroy)(struct pva_engine *e);
    void (*caps)(struct pva_engine *e, struct pva_engine_caps *caps);

    /* A frontend device's context; destroyed after all its queues. */
    int (*ctx_open)(struct pva_engine *e, uint16_t domid,
                    struct pva_engine_ctx **out);
    void (*ctx_close)(struct pva_engine_ctx *ctx);

    /*
     * Map [addr, addr + len), the backend's persistent mapping of a
     * region's grants or a blob's memory (backend/region.c), into the device
     * (its IOMMU) at @iova.  @handle is the engine's, returned to
     * dma_unmap.  Called once per region or blob, never per request.  When
     * BLOB_MIGRATE or BLOB_READBACK moves an IOVA range between a region
     * and a blob, the old mapping is unmapped before the new one is made:
     * an IOVA is never mapped twice.
     */
    int (*dma_map)(struct pva_engine_ctx *ctx, void *addr, size_t len,
                   uint64_t iova, bool writable, void **handle);
    void (*dma_unmap)(struct pva_engine_ctx *ctx, void *handle);

    /* Sessions: AEAD keys (@key, @key_len) or digest state (no key). */
    int (*session_create)(struct pva_engine_ctx *ctx, uint8_t alg,
                          const uint8_t *key, size_t key_len,
                          struct pva_engine_session **out);
    void (*session_destroy)(struct pva_engine_ctx *ctx,
                            struct pva_engine_session *s);

    /* Queues: the engine's side of one device queue. */
    int (*queue_open)(struct pva_engine_ctx *ctx,
                      struct pva_engine_queue **out);
    /* Waits for every submitted job to complete, then frees. */
    void (*queue_close)(struct pva_engine_queue *q);
    /*
     * Complete every job of @q that has not started with status
     * PVA_JOB_CANCELLED, each through its done() on the calling thread,
     * before returning; jobs already running are left to finish.  Called
     * by the thread that submits to @q (so never during a submit on it),
     * rarely: O(jobs queued in the engine) is fine, but nothing may be
     * added to submit or to a job's execution for it.  Later submissions
     * run normally.  Afterwards queue_close waits only for the jobs that
     * were running.
     */
    void (*queue_cancel)(struct pva_engine_queue *q);
    /*
     * Start a job.  Returns 0 (done() will be called) or a negative
     * XEN_E* without calling done() (e.g. -XEN_EBUSY when the hardware
     * queue is full: the backend retries later).
     */
    int (*submit)(struct pva_engine_queue *q, struct pva_job *job);
};

/* The engines built in; NULL-terminated.  Lookup by name. */
const struct pva_engine_ops *pva_engine_find(const char *name);

#endif
