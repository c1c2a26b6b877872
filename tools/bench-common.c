/* SPDX-License-Identifier: MIT */
/* bench-common.c: see bench-common.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/bench-common.h"

static const struct bench_op ops[] = {
    { "nop", BENCH_NOP },
    { "crc32c", BENCH_CRC32C },
    { "copy", BENCH_COPY },
    { "sha256", BENCH_SHA256 },
    { "aes-256-gcm", BENCH_AES_256_GCM },
    { "deflate-1", BENCH_DEFLATE_1 },
    { "zstd-1", BENCH_ZSTD_1 },
    { "lz4", BENCH_LZ4 },
};

const struct bench_op *bench_op_find(const char *name)
{
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (!strcmp(ops[i].name, name))
            return &ops[i];
    return NULL;
}

size_t bench_out_len(const struct bench_op *op, size_t size)
{
    switch (op->id) {
    case BENCH_NOP:
    case BENCH_CRC32C:
        return 0;
    case BENCH_COPY:
        return size;
    case BENCH_SHA256:
        return 32;
    case BENCH_AES_256_GCM:
        return size + 16;
    default:
        /* Above every bound of the three compressors for incompressible
         * input, frame headers included. */
        return size + size / 8 + 1024;
    }
}

/* The words of engine-bench's data: compresses about 4:1, like text. */
void bench_gen(uint8_t *p, size_t n)
{
    static const char *const w[] = { "grant ", "ring ", "event ", "page ",
                                     "queue ", "the ", "of ", "backend ",
                                     "0x3f1a ", "\n" };
    uint32_t x = 12345;

    for (size_t off = 0; off < n;) {
        size_t l;
        const char *s;

        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        s = w[x % 10];
        l = strlen(s) < n - off ? strlen(s) : n - off;
        memcpy(p + off, s, l);
        off += l;
    }
}

int bench_lat_init(struct bench_lat *l, size_t cap)
{
    l->n = 0;
    l->cap = cap;
    l->ns = malloc(cap * sizeof(*l->ns));
    if (!l->ns)
        return -1;
    memset(l->ns, 0, cap * sizeof(*l->ns));
    return 0;
}

void bench_lat_free(struct bench_lat *l)
{
    free(l->ns);
    l->ns = NULL;
    l->n = l->cap = 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return (x > y) - (x < y);
}

void bench_lat_percentiles(struct bench_lat *l, unsigned int nl, double *p50,
                           double *p99)
{
    size_t total = 0, k = 0;
    uint32_t *all;

    *p50 = *p99 = 0;
    for (unsigned int i = 0; i < nl; i++)
        total += l[i].n;
    if (total == 0)
        return;
    /* After the measured window: allocating here costs nothing measured. */
    all = malloc(total * sizeof(*all));
    if (!all)
        return;
    for (unsigned int i = 0; i < nl; i++) {
        memcpy(all + k, l[i].ns, l[i].n * sizeof(*all));
        k += l[i].n;
    }
    qsort(all, total, sizeof(*all), cmp_u32);
    *p50 = all[total / 2] / 1e3;
    *p99 = all[total * 99 / 100] / 1e3;
    free(all);
}

void bench_print(const struct bench_result *r, bool json)
{
    double ops_s = r->secs > 0 ? (double)r->ops / r->secs : 0;
    double mb_s = ops_s * (double)r->size / 1e6;

    if (json) {
        printf("{\"path\":\"%s\",\"op\":\"%s\",\"size\":%zu,\"depth\":%u,"
               "\"queues\":%u,\"guests\":%u,\"mode\":\"%s\",\"ops\":%llu,"
               "\"secs\":%.6f,\"ops_s\":%.1f,\"mb_s\":%.2f,\"p50_us\":%.3f,"
               "\"p99_us\":%.3f,\"mallocs_per_op\":%.4f}\n",
               r->path, r->op, r->size, r->depth, r->queues, r->guests,
               r->mode, (unsigned long long)r->ops, r->secs, ops_s, mb_s,
               r->p50_us, r->p99_us, r->mallocs_per_op);
    } else {
        printf("%s %s size %zu depth %u queues %u guests %u %s: %.0f ops/s, "
               "%.1f MB/s, p50 %.2f us, p99 %.2f us", r->path, r->op, r->size,
               r->depth, r->queues, r->guests, r->mode, ops_s, mb_s, r->p50_us,
               r->p99_us);
        if (r->mallocs_per_op >= 0)
            printf(", %.4f mallocs/op", r->mallocs_per_op);
        putchar('\n');
    }
    fflush(stdout);
}

long long bench_parse_size(const char *s)
{
    char *end;
    long long v = strtoll(s, &end, 10);

    if (end == s || v < 0)
        return -1;
    switch (*end) {
    case 'K': case 'k': v <<= 10; end++; break;
    case 'M': case 'm': v <<= 20; end++; break;
    case 'G': case 'g': v <<= 30; end++; break;
    default: break;
    }
    return *end ? -1 : v;
}
