/* SPDX-License-Identifier: MIT */
/*
 * bench-common.h: what every benchmark of pvaccel shares (docs/performance.md):
 * the op families by name, the input data, the clock, a latency recorder
 * with a preallocated sample array, and one result format (a line for
 * people, a flat JSON object for tools/pvaccel-bench.sh).
 *
 * The guest side (`pvaccel bench`) and the host side (pvaccel-hostbench:
 * native calls, socket remoting, the raw transports) link the same code,
 * so the paths are compared on the same data and the same statistics.
 */
#ifndef PVACCEL_BENCH_COMMON_H
#define PVACCEL_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum bench_op_id {
    BENCH_NOP,
    BENCH_CRC32C,
    BENCH_COPY,
    BENCH_SHA256,
    BENCH_AES_256_GCM,
    BENCH_DEFLATE_1,
    BENCH_ZSTD_1,
    BENCH_LZ4,
};

struct bench_op {
    const char *name;
    enum bench_op_id id;
};

/* The op called @name, or NULL. */
const struct bench_op *bench_op_find(const char *name);
/* Room the op's output needs for @size bytes of input (0: none). */
size_t bench_out_len(const struct bench_op *op, size_t size);

/* Fill @p with compressible text-like data, the same on every path. */
void bench_gen(uint8_t *p, size_t n);

static inline uint64_t bench_now_ns(void)
{
    struct timespec ts;

    /* The vDSO: no syscall. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Latencies in ns, stored in an array sized up front (and touched, so the
 * first samples do not fault pages in): adding one is a store.  Samples
 * beyond the capacity are dropped (counted in ops, not in percentiles).
 */
struct bench_lat {
    uint32_t *ns;
    size_t n, cap;
};

int bench_lat_init(struct bench_lat *l, size_t cap);
void bench_lat_free(struct bench_lat *l);

static inline void bench_lat_add(struct bench_lat *l, uint64_t ns)
{
    if (l->n < l->cap)
        l->ns[l->n++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

/* p50 and p99 in microseconds over @nl recorders (sorts them). */
void bench_lat_percentiles(struct bench_lat *l, unsigned int nl, double *p50,
                           double *p99);

struct bench_result {
    const char *path;       /* native, pvaccel, socket, shm-ring, eventfd */
    const char *op;
    size_t size;
    unsigned int depth, queues, guests;
    const char *mode;       /* poll, block, "-" */
    uint64_t ops;
    double secs;
    double p50_us, p99_us;
    double mallocs_per_op;  /* < 0: not counted */
};

/* One line: human-readable, or a flat JSON object with @json. */
void bench_print(const struct bench_result *r, bool json);

/* Parse a size with an optional K, M or G suffix (binary); -1 if bad. */
long long bench_parse_size(const char *s);

#endif
