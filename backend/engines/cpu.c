/* SPDX-License-Identifier: MIT */
/*
 * cpu.c: the CPU engine, pvacceld's embedded default device.
 *
 * It behaves like a hardware accelerator with a pool of identical
 * execution units:
 *
 *  - workers: N threads (default: online CPUs; "workers=N") pull jobs from
 *    one engine-wide job ring, so jobs of a queue run in parallel and
 *    complete in any order.  The ring holds "depth=N" jobs (default 8192);
 *    submit on a full ring returns -XEN_EBUSY, it never waits.
 *    A worker that finished a job polls the ring for "spin=MICROSECONDS"
 *    (default CPU_SPIN_US_DEFAULT) before it sleeps.
 *  - inline: a job whose cost (cpu_job_cost(): src.len + dst.len, scaled
 *    by the operation's cost per byte relative to a copy) is at most
 *    "inline=BYTES" (default CPU_INLINE_DEFAULT, about 10 us of work, or
 *    CPU_INLINE_SMALL, about 10 ms, on hosts with fewer than
 *    CPU_HANDOFF_MIN_CPUS CPUs) runs
 *    in submit() on the caller's thread and is completed before submit
 *    returns.  Handing a job to a worker costs a lock, a wake-up and cache
 *    misses on both sides (microseconds, tens of them on a VM whose idle
 *    vCPU must be woken); below the threshold that is more than the work
 *    itself.  docs/engines.md has the measurements behind the default.
 *
 *  - cancel: queue_cancel takes the queue's jobs off the job ring, under
 *    its lock, and completes them as cancelled; the ring is scanned and
 *    compacted in place (the other queues' jobs keep their order), which
 *    costs nothing on the path of a job that is not cancelled.
 *
 * Every execution context (worker, and each queue for its inline jobs)
 * owns a struct cpu_wctx with its library state, so no job allocates or
 * locks anything but the job ring.
 *
 * Memory is PVA_ENGINE_MEM_DIRECT: the engine works on the backend's
 * mappings of the guest's grants in place.  dma_map only records the
 * mapping, for the context's statistics.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accelif.h"
#include "backend/engines/cpu.h"
#include "backend/engines/cpu_internal.h"
#include "platform/cpu_relax.h"

/*
 * Default inline threshold, in cpu_job_cost() units (docs/engines.md has
 * the measurements): about 10 us of work, the price of a handoff.  Below
 * CPU_HANDOFF_MIN_CPUS online CPUs there is no CPU for a worker that the
 * submitting thread (and on the sim, the guest) does not already use, and
 * workers lost to inline execution at every size measured: there the
 * threshold is about 10 ms of work, so only the slowest jobs (high
 * compression levels, huge operands) leave the queue's thread.  Either way
 * the threshold also bounds the library memory a queue's own context can
 * grow to, since that scales with the jobs it runs.
 */
#define CPU_INLINE_DEFAULT   ((size_t)64 << 10)
#define CPU_INLINE_SMALL     ((size_t)64 << 20)
#define CPU_HANDOFF_MIN_CPUS 4u
#define CPU_DEPTH_DEFAULT    8192u
#define CPU_WORKERS_MAX      256u
#define CPU_SPIN_US_DEFAULT  20u
#define CPU_SPIN_US_MAX      10000u
/* Jobs queue_cancel takes off the ring per hold of its lock. */
#define CPU_CANCEL_BATCH     64u

struct cpu_slot {
    struct pva_job *job;
    struct pva_engine_queue *q;
};

struct cpu_worker {
    struct pva_engine *e;
    pthread_t thread;
    struct cpu_wctx w;
};

struct pva_engine {
    struct cpu_algs algs;
    unsigned int nworkers;
    size_t inline_max;
    unsigned int spin_us;

    /* The job ring: slots[head % depth] is the oldest job. */
    pthread_mutex_t lock;
    pthread_cond_t work;
    struct cpu_slot *slots;
    unsigned int depth;
    uint64_t head, tail;
    atomic_uint queued;                 /* tail - head, read without lock */
    unsigned int idle;                  /* workers waiting on @work */
    bool stopping;

    struct cpu_worker *workers;
};

struct pva_engine_ctx {
    struct pva_engine *e;
    uint16_t domid;
    uint64_t mapped_bytes;
    unsigned int mappings;
};

struct cpu_dma {
    struct pva_engine_ctx *ctx;
    void *addr;
    size_t len;
    uint64_t iova;
    bool writable;
};

struct pva_engine_queue {
    struct pva_engine *e;
    struct pva_engine_ctx *ctx;
    struct cpu_wctx w;                  /* for inline jobs */

    /*
     * Jobs handed to workers and not yet done; queue_close waits for 0.
     * Only the decrement to 0 takes @lock (cpu_queue_job_done).
     */
    pthread_mutex_t lock;
    pthread_cond_t drained;
    atomic_uint outstanding;
};

/* ------------------------------------------------------------------------
 * Execution contexts
 */

static void cpu_wctx_init(struct cpu_wctx *w, const struct cpu_algs *algs)
{
    memset(w, 0, sizeof(*w));
    w->algs = algs;
}

static void cpu_wctx_fini(struct cpu_wctx *w)
{
    cpu_compress_wctx_fini(w);
    cpu_crypto_wctx_fini(w);
    cpu_buf_free(&w->bounce_in);
    cpu_buf_free(&w->bounce_out);
    cpu_buf_free(&w->lz4_stage);
}

/* ------------------------------------------------------------------------
 * Running one job
 */

static int cpu_execute(struct cpu_wctx *w, struct pva_job *job)
{
    switch (job->op) {
    case VACCEL_OP_NOP:
        return 0;
    case VACCEL_OP_COMPRESS:
        return cpu_compress(w, job);
    case VACCEL_OP_DECOMPRESS:
        return cpu_decompress(w, job);
    case VACCEL_OP_DIGEST:
        return cpu_digest(w, job);
    case VACCEL_OP_AEAD_ENCRYPT:
    case VACCEL_OP_AEAD_DECRYPT:
        return cpu_aead(w, job);
    case VACCEL_OP_COPY:
        return cpu_copy(job);
    case VACCEL_OP_FILL:
        return cpu_fill(job);
    case VACCEL_OP_COMPARE:
        return cpu_compare(job);
    case VACCEL_OP_CRC32C:
        return cpu_crc32c_job(job);
    default:
        return -XEN_ENOSYS;
    }
}

static void cpu_run(struct cpu_wctx *w, struct pva_job *job)
{
    /* engine.h promises zero outputs; do not depend on it (they add up). */
    job->len = job->value = job->aux = 0;
    job->status = cpu_execute(w, job);
    if (job->op == VACCEL_OP_COMPRESS || job->op == VACCEL_OP_DECOMPRESS)
        cpu_compress_trim(w);
}

/* ------------------------------------------------------------------------
 * Workers
 */

static bool cpu_ring_pop(struct pva_engine *e, struct cpu_slot *out)
{
    if (e->head == e->tail)
        return false;
    *out = e->slots[e->head % e->depth];
    e->head++;
    atomic_fetch_sub_explicit(&e->queued, 1, memory_order_relaxed);
    return true;
}

/*
 * A worker finished a job of @q.  Decrements above 1 are lock-free; the
 * last one happens under the lock queue_close waits with, so queue_close
 * cannot see 0 and free the queue while this thread still touches it.
 */
static void cpu_queue_job_done(struct pva_engine_queue *q)
{
    unsigned int v = atomic_load_explicit(&q->outstanding,
                                          memory_order_relaxed);

    while (v > 1) {
        if (atomic_compare_exchange_weak_explicit(&q->outstanding, &v, v - 1,
                                                  memory_order_release,
                                                  memory_order_relaxed))
            return;
    }
    pthread_mutex_lock(&q->lock);
    if (atomic_fetch_sub_explicit(&q->outstanding, 1,
                                  memory_order_acq_rel) == 1)
        pthread_cond_broadcast(&q->drained);
    pthread_mutex_unlock(&q->lock);
}

static uint64_t cpu_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/*
 * After a job, look for the next one for a while before sleeping: a
 * submitter that waits for each completion before the next submission
 * (queue depth 1) then never pays a futex wake-up, which costs tens of
 * microseconds on a VM.  An idle engine does not spin.
 */
static void cpu_worker_spin(struct pva_engine *e)
{
    uint64_t end;

    if (!e->spin_us)
        return;
    end = cpu_now_us() + e->spin_us;
    for (unsigned int i = 1;; i++) {
        if (atomic_load_explicit(&e->queued, memory_order_relaxed))
            return;
        cpu_relax();
        if (!(i % 64) && cpu_now_us() >= end)
            return;
    }
}

static void *cpu_worker_main(void *arg)
{
    struct cpu_worker *wk = arg;
    struct pva_engine *e = wk->e;
    struct cpu_slot s;

    for (;;) {
        pthread_mutex_lock(&e->lock);
        while (!cpu_ring_pop(e, &s)) {
            if (e->stopping) {
                pthread_mutex_unlock(&e->lock);
                return NULL;
            }
            e->idle++;
            pthread_cond_wait(&e->work, &e->lock);
            e->idle--;
        }
        pthread_mutex_unlock(&e->lock);

        cpu_run(&wk->w, s.job);
        s.job->done(s.job);
        /* Only now may queue_close return: done() has finished. */
        cpu_queue_job_done(s.q);
        cpu_worker_spin(e);
    }
}

static void cpu_workers_stop(struct pva_engine *e, unsigned int started)
{
    pthread_mutex_lock(&e->lock);
    e->stopping = true;
    pthread_cond_broadcast(&e->work);
    pthread_mutex_unlock(&e->lock);
    for (unsigned int i = 0; i < started; i++) {
        pthread_join(e->workers[i].thread, NULL);
        cpu_wctx_fini(&e->workers[i].w);
    }
}

static int cpu_workers_start(struct pva_engine *e)
{
    e->workers = calloc(e->nworkers, sizeof(*e->workers));
    if (!e->workers)
        return -XEN_ENOMEM;
    for (unsigned int i = 0; i < e->nworkers; i++) {
        struct cpu_worker *wk = &e->workers[i];

        wk->e = e;
        cpu_wctx_init(&wk->w, &e->algs);
        if (pthread_create(&wk->thread, NULL, cpu_worker_main, wk)) {
            cpu_wctx_fini(&wk->w);
            cpu_workers_stop(e, i);
            free(e->workers);
            e->workers = NULL;
            return -XEN_ENOMEM;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Engine
 */

/* Parse "key=value,key=value"; 0 or -XEN_EINVAL for anything unknown. */
static int cpu_parse_args(struct pva_engine *e, const char *args)
{
    const char *p = args;

    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t klen = strcspn(p, "=,");
        unsigned long long v;
        char *vend;

        /* Digits only: strtoull would take a sign or white space. */
        if (p[klen] != '=' || p[klen + 1] < '0' || p[klen + 1] > '9')
            return -XEN_EINVAL;
        errno = 0;
        v = strtoull(p + klen + 1, &vend, 10);
        if (errno || vend == p + klen + 1 || (*vend && *vend != ','))
            return -XEN_EINVAL;
        if (klen == 7 && !strncmp(p, "workers", 7) && v >= 1 &&
            v <= CPU_WORKERS_MAX)
            e->nworkers = (unsigned int)v;
        else if (klen == 6 && !strncmp(p, "inline", 6) && v <= SIZE_MAX)
            e->inline_max = (size_t)v;
        else if (klen == 5 && !strncmp(p, "depth", 5) && v >= 1 &&
                 v <= (1u << 20))
            e->depth = (unsigned int)v;
        else if (klen == 4 && !strncmp(p, "spin", 4) && v <= CPU_SPIN_US_MAX)
            e->spin_us = (unsigned int)v;
        else
            return -XEN_EINVAL;
        p = end ? end + 1 : NULL;
        if (p && !*p)
            return -XEN_EINVAL;     /* a trailing comma */
    }
    return 0;
}

static unsigned int cpu_online(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    if (n < 1)
        return 1;
    return n > (long)CPU_WORKERS_MAX ? CPU_WORKERS_MAX : (unsigned int)n;
}

static void cpu_engine_free(struct pva_engine *e)
{
    pthread_cond_destroy(&e->work);
    pthread_mutex_destroy(&e->lock);
    cpu_algs_fini(&e->algs);
    free(e->slots);
    free(e);
}

static int cpu_create(const char *args, struct pva_engine **out)
{
    struct pva_engine *e = calloc(1, sizeof(*e));
    unsigned int online = cpu_online();
    int rc;

    if (!e)
        return -XEN_ENOMEM;
    e->nworkers = online;
    e->inline_max = online >= CPU_HANDOFF_MIN_CPUS ? CPU_INLINE_DEFAULT
                                                   : CPU_INLINE_SMALL;
    e->depth = CPU_DEPTH_DEFAULT;
    e->spin_us = CPU_SPIN_US_DEFAULT;
    atomic_init(&e->queued, 0);
    pthread_mutex_init(&e->lock, NULL);
    pthread_cond_init(&e->work, NULL);

    rc = cpu_parse_args(e, args);
    if (!rc)
        rc = cpu_algs_init(&e->algs);
    if (!rc) {
        e->slots = calloc(e->depth, sizeof(*e->slots));
        rc = e->slots ? 0 : -XEN_ENOMEM;
    }
    if (!rc)
        rc = cpu_workers_start(e);
    if (rc) {
        cpu_engine_free(e);
        return rc;
    }
    *out = e;
    return 0;
}

static void cpu_destroy(struct pva_engine *e)
{
    if (!e)
        return;
    cpu_workers_stop(e, e->nworkers);
    free(e->workers);
    cpu_engine_free(e);
}

static void cpu_caps(struct pva_engine *e, struct pva_engine_caps *caps)
{
    memset(caps, 0, sizeof(*caps));
    caps->name = "cpu";
    caps->mem = PVA_ENGINE_MEM_DIRECT;
    for (uint8_t a = VACCEL_ALG_DEFLATE; a <= VACCEL_ALG_LZ4; a++) {
        caps->compress_algs |= PVA_ALG_BIT(a);
        cpu_compress_levels(&caps->level_min[a], &caps->level_max[a], a);
        cpu_compress_costs(caps->compress_us_per_mib[a], a);
    }
    caps->digest_algs = PVA_ALG_BIT(VACCEL_ALG_SHA256) |
                        PVA_ALG_BIT(VACCEL_ALG_SHA512);
    caps->aead_algs = PVA_ALG_BIT(VACCEL_ALG_AES_256_GCM) |
                      PVA_ALG_BIT(VACCEL_ALG_CHACHA20_POLY1305);
    caps->copy = caps->fill = caps->compare = caps->crc32c = true;
    caps->hw_queues = e->nworkers;
}

size_t pva_cpu_inline_max(const struct pva_engine *e)
{
    return e->inline_max;
}

/* ------------------------------------------------------------------------
 * Contexts and DMA bookkeeping
 */

static int cpu_ctx_open(struct pva_engine *e, uint16_t domid,
                        struct pva_engine_ctx **out)
{
    struct pva_engine_ctx *ctx = calloc(1, sizeof(*ctx));

    if (!ctx)
        return -XEN_ENOMEM;
    ctx->e = e;
    ctx->domid = domid;
    *out = ctx;
    return 0;
}

static void cpu_ctx_close(struct pva_engine_ctx *ctx)
{
    /* The backend unmaps every region first; a leak here is its bug. */
    free(ctx);
}

static int cpu_dma_map(struct pva_engine_ctx *ctx, void *addr, size_t len,
                       uint64_t iova, bool writable, void **handle)
{
    struct cpu_dma *m;

    if (!addr || !len)
        return -XEN_EINVAL;
    m = malloc(sizeof(*m));
    if (!m)
        return -XEN_ENOMEM;
    *m = (struct cpu_dma){ .ctx = ctx, .addr = addr, .len = len,
                           .iova = iova, .writable = writable };
    ctx->mapped_bytes += len;
    ctx->mappings++;
    *handle = m;
    return 0;
}

static void cpu_dma_unmap(struct pva_engine_ctx *ctx, void *handle)
{
    struct cpu_dma *m = handle;

    if (!m || m->ctx != ctx)
        return;
    ctx->mapped_bytes -= m->len;
    ctx->mappings--;
    free(m);
}

uint64_t pva_cpu_ctx_mapped_bytes(const struct pva_engine_ctx *ctx)
{
    return ctx->mapped_bytes;
}

unsigned int pva_cpu_ctx_mappings(const struct pva_engine_ctx *ctx)
{
    return ctx->mappings;
}

/* ------------------------------------------------------------------------
 * Sessions
 */

static int cpu_session_create(struct pva_engine_ctx *ctx, uint8_t alg,
                              const uint8_t *key, size_t key_len,
                              struct pva_engine_session **out)
{
    struct pva_engine_session *s;
    int rc;

    if (!VACCEL_ALG_IS_DIGEST(alg) && !VACCEL_ALG_IS_AEAD(alg))
        return -XEN_EOPNOTSUPP;
    s = calloc(1, sizeof(*s));
    if (!s)
        return -XEN_ENOMEM;
    s->alg = alg;
    atomic_init(&s->busy, false);
    rc = cpu_session_init(&ctx->e->algs, s, key, key_len);
    if (rc) {
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static void cpu_session_destroy(struct pva_engine_ctx *ctx,
                                struct pva_engine_session *s)
{
    (void)ctx;
    if (!s)
        return;
    cpu_session_fini(s);
    free(s);
}

/* ------------------------------------------------------------------------
 * Queues
 */

static int cpu_queue_open(struct pva_engine_ctx *ctx,
                          struct pva_engine_queue **out)
{
    struct pva_engine_queue *q = calloc(1, sizeof(*q));

    if (!q)
        return -XEN_ENOMEM;
    q->e = ctx->e;
    q->ctx = ctx;
    cpu_wctx_init(&q->w, &ctx->e->algs);
    atomic_init(&q->outstanding, 0);
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->drained, NULL);
    *out = q;
    return 0;
}

static void cpu_queue_close(struct pva_engine_queue *q)
{
    if (!q)
        return;
    pthread_mutex_lock(&q->lock);
    while (atomic_load_explicit(&q->outstanding, memory_order_acquire))
        pthread_cond_wait(&q->drained, &q->lock);
    pthread_mutex_unlock(&q->lock);

    pthread_cond_destroy(&q->drained);
    pthread_mutex_destroy(&q->lock);
    cpu_wctx_fini(&q->w);
    free(q);
}

/*
 * What a job costs, in bytes of memcpy-speed work: src.len + dst.len (dst
 * bounds the work of DECOMPRESS and FILL), scaled by how much slower than
 * a copy the operation runs per byte on one core (roughly: crc32c and copy
 * ~10 GB/s, AEAD ~4, sha2 ~2, decompression ~1-2, fast compression
 * ~0.3-1, high levels down to a few MB/s).
 */
static size_t cpu_job_cost(const struct pva_job *job)
{
    size_t bytes = job->src.len, shift;

    if (job->dst.len > SIZE_MAX - bytes)
        return SIZE_MAX;
    bytes += job->dst.len;
    switch (job->op) {
    case VACCEL_OP_COMPRESS:
        shift = cpu_compress_cost_shift(job->alg, job->param.level);
        break;
    case VACCEL_OP_DECOMPRESS:
        shift = 3;
        break;
    case VACCEL_OP_DIGEST:
        shift = 2;
        break;
    case VACCEL_OP_AEAD_ENCRYPT:
    case VACCEL_OP_AEAD_DECRYPT:
        shift = 1;
        break;
    default:
        shift = 0;
    }
    return bytes > SIZE_MAX >> shift ? SIZE_MAX : bytes << shift;
}

/*
 * Take up to @max jobs of @q off the job ring into @out, oldest first;
 * the jobs of other queues move up and keep their order.  e->lock held.
 * Returns how many were taken.
 */
static unsigned int cpu_ring_take(struct pva_engine *e,
                                  const struct pva_engine_queue *q,
                                  struct pva_job **out, unsigned int max)
{
    uint64_t kept = e->head;
    unsigned int n = 0;

    for (uint64_t i = e->head; i != e->tail; i++) {
        struct cpu_slot s = e->slots[i % e->depth];

        if (s.q == q && n < max) {
            out[n++] = s.job;
            continue;
        }
        if (kept != i)
            e->slots[kept % e->depth] = s;
        kept++;
    }
    e->tail = kept;
    atomic_fetch_sub_explicit(&e->queued, n, memory_order_relaxed);
    return n;
}

static void cpu_job_cancelled(struct pva_engine_queue *q, struct pva_job *job)
{
    job->status = PVA_JOB_CANCELLED;
    job->len = job->value = job->aux = 0;
    job->done(job);
    cpu_queue_job_done(q);
}

/*
 * A batch at a time, so that done() runs without the ring's lock held and
 * no memory is needed for the jobs taken off.
 */
static void cpu_queue_cancel(struct pva_engine_queue *q)
{
    struct pva_engine *e = q->e;
    struct pva_job *batch[CPU_CANCEL_BATCH];
    unsigned int n;

    do {
        if (!atomic_load_explicit(&q->outstanding, memory_order_acquire))
            return;             /* nothing of ours on the ring */
        pthread_mutex_lock(&e->lock);
        n = cpu_ring_take(e, q, batch, CPU_CANCEL_BATCH);
        pthread_mutex_unlock(&e->lock);
        for (unsigned int i = 0; i < n; i++)
            cpu_job_cancelled(q, batch[i]);
    } while (n == CPU_CANCEL_BATCH);
}

static int cpu_submit(struct pva_engine_queue *q, struct pva_job *job)
{
    struct pva_engine *e = q->e;
    bool wake;

    if (cpu_job_cost(job) <= e->inline_max) {
        cpu_run(&q->w, job);
        job->done(job);
        return 0;
    }

    /* Count it first: a worker may finish it before we return. */
    atomic_fetch_add_explicit(&q->outstanding, 1, memory_order_relaxed);

    pthread_mutex_lock(&e->lock);
    if (e->tail - e->head == e->depth) {
        pthread_mutex_unlock(&e->lock);
        cpu_queue_job_done(q);
        return -XEN_EBUSY;
    }
    e->slots[e->tail % e->depth] = (struct cpu_slot){ .job = job, .q = q };
    e->tail++;
    atomic_fetch_add_explicit(&e->queued, 1, memory_order_relaxed);
    wake = e->idle > 0;
    pthread_mutex_unlock(&e->lock);
    if (wake)
        pthread_cond_signal(&e->work);
    return 0;
}

const struct pva_engine_ops pva_engine_cpu = {
    .name = "cpu",
    .create = cpu_create,
    .destroy = cpu_destroy,
    .caps = cpu_caps,
    .ctx_open = cpu_ctx_open,
    .ctx_close = cpu_ctx_close,
    .dma_map = cpu_dma_map,
    .dma_unmap = cpu_dma_unmap,
    .session_create = cpu_session_create,
    .session_destroy = cpu_session_destroy,
    .queue_open = cpu_queue_open,
    .queue_close = cpu_queue_close,
    .queue_cancel = cpu_queue_cancel,
    .submit = cpu_submit,
};
