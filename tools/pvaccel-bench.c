/* SPDX-License-Identifier: MIT */
/*
 * pvaccel bench: drive a vaccel device at a fixed queue depth for a bounded
 * time (or count) and print ops/s, MB/s and latency p50/p99.
 *
 *   pvaccel bench [--op NAME] [--size N] [--depth N] [--queues N] [--poll]
 *                 [--time S] [--count N] [--json] [--barrier READY:GO]
 *
 * One thread per queue, each keeping @depth requests in flight on its own
 * queue (the library's queues are single-threaded by design, like
 * io_uring's).  The steady state allocates nothing and, with --poll, makes
 * no syscall: buffers, sessions, slots and the latency array are set up
 * before the clock starts, and each request costs a pva_get_sqe, an
 * inline prep, a clock read (vDSO) and one reaped completion.
 *
 * If the counting allocator of tools/bench-malloc.c is preloaded, the
 * allocations made inside the measured window are reported per request.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pvaccel.h>

#include "tools/bench-common.h"
#include "tools/pvaccel-bench.h"

#define BENCH_MAX_DEPTH 256
#define BENCH_MAX_QUEUES 64
/* Distinct output buffers per queue: at most this much memory. */
#define BENCH_OUT_BUDGET (32u << 20)
/* Latency samples per queue: 4 Mi (16 MiB), above 3 M ops/s for 1 s. */
#define BENCH_LAT_CAP (4u << 20)

struct bench_cfg {
    struct pva_dev_opts opts;
    const struct bench_op *op;
    size_t size;
    unsigned int depth;
    double secs, warm_secs;
    unsigned long long count;
    unsigned int guests;
    bool json;
    const char *barrier;
};

struct worker {
    const struct bench_cfg *cfg;
    struct pva_queue *q;
    struct pva_session *session;
    struct pva_buf in;
    struct pva_buf out[BENCH_MAX_DEPTH];
    unsigned int nout;
    uint64_t sent_ns[BENCH_MAX_DEPTH];
    uint16_t free_slot[BENCH_MAX_DEPTH];
    struct bench_lat lat;
    uint64_t ops, t0, t1, mallocs;
    int err;
    pthread_t thread;
};

/* The preloaded allocator's counter, if any (tools/bench-malloc.c). */
static atomic_ulong *malloc_counter;

static unsigned long mallocs_now(void)
{
    return malloc_counter ? atomic_load(malloc_counter) : 0;
}

static void prep(struct worker *w, struct pva_sqe *sqe, unsigned int slot)
{
    static const uint8_t nonce[PVA_AEAD_NONCE_LEN];
    const struct bench_cfg *c = w->cfg;
    struct pva_seg src = pva_seg(&w->in, 0, c->size);
    struct pva_seg dst = src;

    if (w->nout) {
        const struct pva_buf *o = &w->out[slot % w->nout];

        dst = pva_seg(o, 0, o->len);
    }

    switch (c->op->id) {
    case BENCH_NOP:
        pva_prep_nop(sqe);
        break;
    case BENCH_CRC32C:
        pva_prep_crc32c(sqe, src, 0);
        break;
    case BENCH_COPY:
        pva_prep_copy(sqe, src, dst);
        break;
    case BENCH_SHA256:
        pva_prep_digest(sqe, PVA_ALG_SHA256, NULL, 0, src, dst);
        break;
    case BENCH_AES_256_GCM:
        /* A fixed nonce: the figures, not the secrecy, matter here. */
        pva_prep_aead(sqe, true, w->session, nonce, 0, src, dst);
        break;
    case BENCH_DEFLATE_1:
        pva_prep_compress(sqe, PVA_ALG_DEFLATE, 1, src, dst);
        break;
    case BENCH_ZSTD_1:
        pva_prep_compress(sqe, PVA_ALG_ZSTD, 1, src, dst);
        break;
    case BENCH_LZ4:
        pva_prep_compress(sqe, PVA_ALG_LZ4, 0, src, dst);
        break;
    }
    pva_sqe_set_data(sqe, slot);
}

/* Buffers, session and slots: everything the loop needs, before it runs. */
static int worker_setup(struct worker *w)
{
    const struct bench_cfg *c = w->cfg;
    size_t out_len = bench_out_len(c->op, c->size);
    int rc;

    rc = pva_buf_alloc(w->q, c->size ? c->size : 64, &w->in);
    if (rc)
        return rc;
    bench_gen(w->in.addr, w->in.len);
    /* Requests in flight together write distinct outputs, within a budget. */
    w->nout = 0;
    if (out_len) {
        size_t fit = BENCH_OUT_BUDGET / out_len;

        w->nout = c->depth < fit ? c->depth : fit ? (unsigned int)fit : 1;
        for (unsigned int i = 0; i < w->nout; i++) {
            rc = pva_buf_alloc(w->q, out_len, &w->out[i]);
            if (rc)
                return rc;
            memset(w->out[i].addr, 0, out_len);
        }
    }
    if (c->op->id == BENCH_AES_256_GCM) {
        uint8_t key[PVA_AEAD_KEY_LEN];

        memset(key, 7, sizeof(key));
        rc = pva_session_create(w->q, PVA_ALG_AES_256_GCM, key, sizeof(key),
                                &w->session);
        if (rc)
            return rc;
    }
    for (unsigned int i = 0; i < c->depth; i++)
        w->free_slot[i] = (uint16_t)(c->depth - 1 - i);
    return bench_lat_init(&w->lat, BENCH_LAT_CAP) ? -ENOMEM : 0;
}

/*
 * The loop: top up to @depth in flight, submit the batch (one notification
 * at most), then reap everything that completed, blocking (or spinning,
 * with PVA_DEV_POLL) for the first.  A warm-up runs before the window.
 */
static void *worker_run(void *arg)
{
    struct worker *w = arg;
    const struct bench_cfg *c = w->cfg;
    uint64_t start = bench_now_ns();
    uint64_t warm_end = start + (uint64_t)(c->warm_secs * 1e9);
    uint64_t end = warm_end + (uint64_t)(c->secs * 1e9);
    unsigned int nfree = c->depth, inflight = 0;
    bool measuring = false, stopping = false;
    unsigned long m0 = 0;

    for (;;) {
        uint64_t t = bench_now_ns();
        struct pva_sqe *sqe;
        struct pva_cqe cqe;
        int rc;

        if (!measuring && t >= warm_end) {
            measuring = true;
            w->t0 = t;
            m0 = mallocs_now();
        }
        if (measuring && !stopping && (t >= end || (c->count && w->ops >= c->count))) {
            stopping = true;
            w->t1 = t;
            w->mallocs = mallocs_now() - m0;
        }
        while (!stopping && nfree && (sqe = pva_get_sqe(w->q))) {
            unsigned int slot = w->free_slot[--nfree];

            prep(w, sqe, slot);
            w->sent_ns[slot] = t;
            inflight++;
        }
        if (pva_submit(w->q) < 0) {
            w->err = -EIO;
            break;
        }
        if (!inflight)
            break;
        rc = pva_wait_cqe(w->q, &cqe);
        while (rc == 0) {
            unsigned int slot = (unsigned int)cqe.user_data;
            uint64_t done = bench_now_ns();

            if (cqe.res && !w->err)
                w->err = cqe.res;
            if (measuring && !stopping) {
                bench_lat_add(&w->lat, done - w->sent_ns[slot]);
                w->ops++;
            }
            w->free_slot[nfree++] = (uint16_t)slot;
            inflight--;
            rc = pva_peek_cqe(w->q, &cqe);
        }
        if (rc != -EAGAIN) {
            w->err = rc;
            break;
        }
    }
    return NULL;
}

static void worker_fini(struct worker *w, struct pva_dev *dev)
{
    if (w->session)
        pva_session_destroy(w->q, w->session);
    pva_buf_free(dev, &w->in);
    for (unsigned int i = 0; i < w->nout; i++)
        pva_buf_free(dev, &w->out[i]);
    bench_lat_free(&w->lat);
}

/* Each guest says it is ready on READY, then waits for a byte on GO: the
 * driver starts every guest's clock together, without sleeping. */
static int barrier(const char *spec)
{
    char ready[4096], c = 1;
    const char *go = strchr(spec, ':');
    int fd, ok;

    if (!go || (size_t)(go - spec) >= sizeof(ready))
        return -EINVAL;
    memcpy(ready, spec, (size_t)(go - spec));
    ready[go - spec] = '\0';
    go++;
    fd = open(ready, O_WRONLY);
    if (fd < 0)
        return -errno;
    ok = write(fd, &c, 1) == 1;
    close(fd);
    fd = open(go, O_RDONLY);
    if (fd < 0)
        return -errno;
    ok = ok && read(fd, &c, 1) == 1;
    close(fd);
    return ok ? 0 : -EIO;
}

static int run(struct bench_cfg *c)
{
    static struct worker w[BENCH_MAX_QUEUES];
    struct bench_result r = { .path = "pvaccel", .op = c->op->name,
                              .size = c->size, .depth = c->depth,
                              .guests = c->guests,
                              .mode = c->opts.flags & PVA_DEV_POLL ? "poll"
                                      : c->opts.spin_us ? "block" : "sleep",
                              .mallocs_per_op = -1 };
    struct bench_lat lat[BENCH_MAX_QUEUES];
    struct pva_dev *dev;
    char err[256];
    unsigned int nq;
    uint64_t t0 = UINT64_MAX, t1 = 0;
    int rc;

    rc = pva_dev_open(&c->opts, &dev, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "pvaccel: bench: cannot open the device: %s\n",
                err[0] ? err : pva_strerror(rc));
        return EXIT_FAILURE;
    }
    nq = pva_dev_num_queues(dev);
    if (nq > BENCH_MAX_QUEUES)
        nq = BENCH_MAX_QUEUES;
    for (unsigned int i = 0; i < nq && rc == 0; i++) {
        w[i].cfg = c;
        w[i].q = pva_dev_queue(dev, i);
        rc = worker_setup(&w[i]);
    }
    if (rc == 0 && c->barrier)
        rc = barrier(c->barrier);
    for (unsigned int i = 0; i < nq && rc == 0; i++)
        rc = -pthread_create(&w[i].thread, NULL, worker_run, &w[i]);
    if (rc) {
        fprintf(stderr, "pvaccel: bench: setup: %s\n", pva_strerror(rc));
        pva_dev_close(dev);
        return EXIT_FAILURE;
    }
    r.queues = nq;
    r.mallocs_per_op = malloc_counter ? 0 : -1;
    for (unsigned int i = 0; i < nq; i++) {
        pthread_join(w[i].thread, NULL);
        if (w[i].err && !rc)
            rc = w[i].err;
        r.ops += w[i].ops;
        if (malloc_counter)
            r.mallocs_per_op += (double)w[i].mallocs;
        t0 = w[i].t0 < t0 ? w[i].t0 : t0;
        t1 = w[i].t1 > t1 ? w[i].t1 : t1;
        lat[i] = w[i].lat;
    }
    r.secs = (double)(t1 - t0) / 1e9;
    if (malloc_counter && r.ops)
        r.mallocs_per_op /= (double)r.ops;
    bench_lat_percentiles(lat, nq, &r.p50_us, &r.p99_us);
    if (rc)
        fprintf(stderr, "pvaccel: bench: %s failed: %s\n", c->op->name,
                pva_strerror(rc));
    else
        bench_print(&r, c->json);
    for (unsigned int i = 0; i < nq; i++)
        worker_fini(&w[i], dev);
    pva_dev_close(dev);
    return rc ? EXIT_FAILURE : EXIT_SUCCESS;
}

static void bench_usage(FILE *f)
{
    fputs("Usage: pvaccel bench [OPTIONS]\n"
          "Keep DEPTH requests in flight on each queue for a while; print\n"
          "ops/s, MB/s and latency p50/p99 (docs/performance.md).\n"
          "  --op=NAME        nop, crc32c, copy, sha256, aes-256-gcm,\n"
          "                   deflate-1, zstd-1, lz4 (default nop)\n"
          "  --size=N[K|M]    input bytes per request (default 4096; nop: 0)\n"
          "  --depth=N        requests in flight per queue (default 1, max 256)\n"
          "  --queues=N       queues, one thread each (default 1; 0: one per CPU)\n"
          "  --poll           busy-poll instead of sleeping\n"
          "  --time=S         measured seconds (default 1), after a warm-up\n"
          "  --warmup=S       warm-up seconds (default 0.1)\n"
          "  --count=N        stop after N requests (per queue) if sooner\n"
          "  --json           one JSON object instead of a line\n"
          "  --guests=N       reported as is (the driver runs N guests)\n"
          "  --barrier=R:G    after setup, write a byte to fifo R, read one\n"
          "                   from fifo G, then start\n"
          "  --spin-us=N      blocking mode: spin N us before sleeping (default 20;\n"
          "                   0 measures the wake-up path)\n"
          "  -d, --device=N, -p, --platform=NAME   as for the other commands\n",
          f);
}

static unsigned long num(const char *what, const char *s, unsigned long max)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);

    if (end == s || *end || v > max) {
        fprintf(stderr, "pvaccel: bench: bad %s '%s'\n", what, s);
        exit(2);
    }
    return v;
}

int pvaccel_bench_main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "op", required_argument, NULL, 'o' },
        { "size", required_argument, NULL, 's' },
        { "depth", required_argument, NULL, 'D' },
        { "queues", required_argument, NULL, 'q' },
        { "poll", no_argument, NULL, 'P' },
        { "time", required_argument, NULL, 't' },
        { "warmup", required_argument, NULL, 'w' },
        { "count", required_argument, NULL, 'n' },
        { "json", no_argument, NULL, 'j' },
        { "guests", required_argument, NULL, 'g' },
        { "barrier", required_argument, NULL, 'b' },
        { "spin-us", required_argument, NULL, 'S' },
        { "device", required_argument, NULL, 'd' },
        { "platform", required_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct bench_cfg c = { .size = 4096, .depth = 1, .secs = 1,
                           .warm_secs = 0.1, .guests = 1 };
    long long sz;
    int opt;

    pva_dev_opts_init(&c.opts);
    c.opts.queues = 1;
    c.op = bench_op_find("nop");
    optind = 1;
    while ((opt = getopt_long(argc, argv, "d:p:h", lo, NULL)) != -1) {
        switch (opt) {
        case 'o':
            c.op = bench_op_find(optarg);
            if (!c.op) {
                fprintf(stderr, "pvaccel: bench: unknown op '%s'\n", optarg);
                return 2;
            }
            break;
        case 's':
            sz = bench_parse_size(optarg);
            if (sz < 0 || sz > (1ll << 30)) {
                fprintf(stderr, "pvaccel: bench: bad size '%s'\n", optarg);
                return 2;
            }
            c.size = (size_t)sz;
            break;
        case 'D': c.depth = (unsigned int)num("depth", optarg, BENCH_MAX_DEPTH); break;
        case 'q': c.opts.queues = (unsigned int)num("queues", optarg, BENCH_MAX_QUEUES); break;
        case 'P': c.opts.flags |= PVA_DEV_POLL; break;
        case 't': c.secs = atof(optarg); break;
        case 'w': c.warm_secs = atof(optarg); break;
        case 'n': c.count = num("count", optarg, ~0ul); break;
        case 'j': c.json = true; break;
        case 'g': c.guests = (unsigned int)num("guests", optarg, 1024); break;
        case 'b': c.barrier = optarg; break;
        case 'S': c.opts.spin_us = (unsigned int)num("spin-us", optarg, 1000000); break;
        case 'd': c.opts.devid = (unsigned int)num("device", optarg, 1u << 20); break;
        case 'p': c.opts.platform = optarg; break;
        case 'h': bench_usage(stdout); return 0;
        default: bench_usage(stderr); return 2;
        }
    }
    if (optind != argc || c.depth == 0 || c.secs <= 0 || c.warm_secs < 0) {
        bench_usage(stderr);
        return 2;
    }
    if (c.op->id == BENCH_NOP)
        c.size = 0;     /* no operand: MB/s is 0, ops/s is the figure */
    malloc_counter = dlsym(RTLD_DEFAULT, "pva_bench_mallocs");
    return run(&c);
}
