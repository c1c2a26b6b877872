/* SPDX-License-Identifier: MIT */
/*
 * engine-bench.c: throughput of the CPU engine against the libraries
 * called directly, on this machine, in one run.  Not part of make check
 * (timings are not pass/fail); docs/engines.md quotes its output.
 *
 *   tests/engine-bench [SECONDS-PER-CASE [ENGINE-ARGS]]   (default 0.5, "")
 *
 * Engine figures drive pva_engine_cpu.submit() the way pvacceld does: one
 * submitting thread, a fixed depth of jobs in flight, completions polled
 * (a spinning backend).  It also counts heap allocations per job in the
 * steady state, which must be zero.  The decoding cases (decompression,
 * AEAD decryption) undo the 1 MiB encoding cases and count MB/s of their
 * output, the same 1 MiB.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <stdbool.h>
#include <time.h>

#include <libdeflate.h>
#include <lz4frame.h>
#include <openssl/evp.h>
#include <zstd.h>

#include "accelif.h"
#include "backend/engine.h"
#include "backend/engines/cpu.h"
#include "backend/engines/cpu_crc32c.h"

/* ------------------------------------------------------------------------
 * Counting allocations: interpose malloc family (not under sanitizers,
 * which interpose them themselves).
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define BENCH_NO_MALLOC_COUNT 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BENCH_NO_MALLOC_COUNT 1
#endif

static atomic_ulong bench_mallocs;
/* Set while counting: "break malloc if bench_counting" finds a culprit. */
static volatile int bench_counting;

#ifndef BENCH_NO_MALLOC_COUNT
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t m);
void *__libc_realloc(void *p, size_t n);
void *malloc(size_t n);
void *calloc(size_t n, size_t m);
void *realloc(void *p, size_t n);

void *malloc(size_t n)
{
    atomic_fetch_add_explicit(&bench_mallocs, 1, memory_order_relaxed);
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
    atomic_fetch_add_explicit(&bench_mallocs, 1, memory_order_relaxed);
    return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
    atomic_fetch_add_explicit(&bench_mallocs, 1, memory_order_relaxed);
    return __libc_realloc(p, n);
}
#endif

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double bench_secs = 0.5;
static const char *bench_args = "";

/* ------------------------------------------------------------------------
 * Engine driver
 */

#define MAXDEPTH 64

struct bjob {
    struct pva_job job;
    struct pva_iov s, d;
    atomic_bool busy;
};

static void bjob_done(struct pva_job *job)
{
    struct bjob *b = (struct bjob *)job;    /* job is its first member */

    atomic_store_explicit(&b->busy, false, memory_order_release);
}

struct bcase {
    const char *name;
    uint8_t op, alg;
    int32_t level;
    size_t src_len, dst_len;
    struct pva_engine_session *session;
    const uint8_t *input;       /* src, if not the common text */
    size_t counted;             /* octets per op for MB/s, if not src_len */
};

struct bres {
    double ops, mbps;
    double mallocs_per_op;
};

static struct bres run_engine(struct pva_engine_queue *q,
                              const struct bcase *c, uint8_t *src,
                              uint8_t *dst, unsigned int depth)
{
    static struct bjob jobs[MAXDEPTH];
    unsigned long n = 0, m0 = 0;
    double t0, t1 = 0, warm;
    struct bres r;

    for (unsigned int i = 0; i < depth; i++) {
        struct bjob *b = &jobs[i];

        memset(&b->job, 0, sizeof(b->job));
        b->job.op = c->op;
        b->job.alg = c->alg;
        b->job.session = c->session;
        if (c->op == VACCEL_OP_COMPRESS)
            b->job.param.level = c->level;
        b->s.base = src;
        b->s.len = c->src_len;
        /* Separate outputs per slot: jobs run concurrently. */
        b->d.base = dst + (size_t)i * c->dst_len;
        b->d.len = c->dst_len;
        b->job.src = (struct pva_operand){ &b->s, c->src_len ? 1 : 0,
                                           c->src_len };
        b->job.dst = (struct pva_operand){ &b->d, c->dst_len ? 1 : 0,
                                           c->dst_len };
        b->job.done = bjob_done;
        atomic_init(&b->busy, false);
    }

    /* Warm up (contexts, bounce buffers), then count. */
    warm = now() + bench_secs / 5;
    t0 = 0;
    for (unsigned int i = 0;; i = (i + 1) % depth) {
        struct bjob *b = &jobs[i];
        double t;

        /* Poll like a backend: spin, then leave the CPU to the workers. */
        for (unsigned int spins = 0;
             atomic_load_explicit(&b->busy, memory_order_acquire); spins++) {
            if (spins < 4096)
                __builtin_ia32_pause();
            else
                sched_yield();
        }
        if ((n & 63) == 0) {
            t = now();
            if (!t0 && t >= warm) {
                t0 = t;
                n = 0;
                m0 = atomic_load(&bench_mallocs);
                bench_counting = 1;
            } else if (t0 && t - t0 >= bench_secs) {
                t1 = t;
                break;
            }
        }
        if (b->job.status) {
            fprintf(stderr, "%s: status %d\n", c->name, b->job.status);
            exit(1);
        }
        b->job.status = 0;
        b->job.len = b->job.value = b->job.aux = 0;
        atomic_store_explicit(&b->busy, true, memory_order_relaxed);
        if (pva_engine_cpu.submit(q, &b->job)) {
            fprintf(stderr, "%s: submit failed\n", c->name);
            exit(1);
        }
        n++;
    }
    for (unsigned int i = 0; i < depth; i++)
        while (atomic_load_explicit(&jobs[i].busy, memory_order_acquire))
            ;
    bench_counting = 0;
    r.ops = n / (t1 - t0);
    r.mbps = r.ops * (double)(c->counted ? c->counted
                                         : c->src_len ? c->src_len
                                                      : c->dst_len) / 1e6;
    r.mallocs_per_op = (double)(atomic_load(&bench_mallocs) - m0) / n;
    return r;
}

/* ------------------------------------------------------------------------
 * The libraries called directly: the "native" reference
 */

struct native {
    struct libdeflate_compressor *dc;
    struct libdeflate_decompressor *dd;
    ZSTD_CCtx *zc;
    ZSTD_DCtx *zd;
    LZ4F_cctx *lc;
    LZ4F_dctx *ld;
    EVP_MD_CTX *md;
    EVP_CIPHER_CTX *cc, *dcc;
    uint8_t key[32], iv[12];
};

static void native_decompress(struct native *nt, const struct bcase *c,
                              const uint8_t *src, uint8_t *dst)
{
    size_t out = c->dst_len, in = c->src_len;

    if (c->alg == VACCEL_ALG_DEFLATE) {
        libdeflate_deflate_decompress(nt->dd, src, c->src_len, dst,
                                      c->dst_len, NULL);
    } else if (c->alg == VACCEL_ALG_ZSTD) {
        ZSTD_decompressDCtx(nt->zd, dst, c->dst_len, src, c->src_len);
    } else {
        LZ4F_resetDecompressionContext(nt->ld);
        LZ4F_decompress(nt->ld, dst, &out, src, &in, NULL);
    }
}

static void native_one(struct native *nt, const struct bcase *c,
                       const uint8_t *src, uint8_t *dst)
{
    switch (c->op) {
    case VACCEL_OP_COMPRESS:
        if (c->alg == VACCEL_ALG_DEFLATE) {
            libdeflate_deflate_compress(nt->dc, src, c->src_len, dst,
                                        c->dst_len);
        } else if (c->alg == VACCEL_ALG_ZSTD) {
            ZSTD_compressCCtx(nt->zc, dst, c->dst_len, src, c->src_len,
                              c->level);
        } else {
            LZ4F_preferences_t p;

            memset(&p, 0, sizeof(p));
            p.compressionLevel = c->level;
            LZ4F_compressFrame(dst, c->dst_len, src, c->src_len, &p);
        }
        break;
    case VACCEL_OP_DIGEST: {
        unsigned int l;

        EVP_DigestInit_ex2(nt->md, EVP_sha256(), NULL);
        EVP_DigestUpdate(nt->md, src, c->src_len);
        EVP_DigestFinal_ex(nt->md, dst, &l);
        break;
    }
    case VACCEL_OP_AEAD_ENCRYPT: {
        int l;

        EVP_EncryptInit_ex2(nt->cc, NULL, nt->key, nt->iv, NULL);
        EVP_EncryptUpdate(nt->cc, dst, &l, src, (int)c->src_len);
        EVP_EncryptFinal_ex(nt->cc, dst + l, &l);
        EVP_CIPHER_CTX_ctrl(nt->cc, EVP_CTRL_AEAD_GET_TAG, 16,
                            dst + c->src_len);
        break;
    }
    case VACCEL_OP_CRC32C:
        dst[0] = (uint8_t)pva_crc32c(0, src, c->src_len);
        break;
    case VACCEL_OP_DECOMPRESS:
        native_decompress(nt, c, src, dst);
        break;
    case VACCEL_OP_AEAD_DECRYPT: {
        int l, text = (int)c->src_len - 16;

        EVP_DecryptInit_ex2(nt->dcc, NULL, nt->key, nt->iv, NULL);
        EVP_DecryptUpdate(nt->dcc, dst, &l, src, text);
        EVP_CIPHER_CTX_ctrl(nt->dcc, EVP_CTRL_AEAD_SET_TAG, 16,
                            (uint8_t *)src + text);
        EVP_DecryptFinal_ex(nt->dcc, dst + l, &l);
        break;
    }
    }
}

static double run_native(struct native *nt, const struct bcase *c,
                         const uint8_t *src, uint8_t *dst)
{
    unsigned long n = 0;
    double t0, t;

    for (int i = 0; i < 3; i++)
        native_one(nt, c, src, dst);
    t0 = now();
    do {
        for (int i = 0; i < 4; i++, n++)
            native_one(nt, c, src, dst);
        t = now();
    } while (t - t0 < bench_secs);
    return n / (t - t0);
}

/* ------------------------------------------------------------------------ */

static void gen(uint8_t *p, size_t n)
{
    static const char *const w[] = { "grant ", "ring ", "event ", "page ",
                                     "queue ", "the ", "of ", "backend ",
                                     "0x3f1a ", "\n" };
    uint32_t x = 12345;

    for (size_t off = 0; off < n;) {
        const char *s;
        size_t l;

        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        s = w[x % 10];
        l = strlen(s) < n - off ? strlen(s) : n - off;
        memcpy(p + off, s, l);
        off += l;
    }
}

struct engine_fx {
    struct pva_engine *e;
    struct pva_engine_ctx *ctx;
    struct pva_engine_queue *q;
};

static void fx_open(struct engine_fx *f, const char *args)
{
    if (pva_engine_cpu.create(args, &f->e) ||
        pva_engine_cpu.ctx_open(f->e, 1, &f->ctx) ||
        pva_engine_cpu.queue_open(f->ctx, &f->q)) {
        fprintf(stderr, "engine \"%s\" failed\n", args);
        exit(1);
    }
}

static void fx_close(struct engine_fx *f)
{
    pva_engine_cpu.queue_close(f->q);
    pva_engine_cpu.ctx_close(f->ctx);
    pva_engine_cpu.destroy(f->e);
}

/*
 * The encoded forms of @text that the decoding cases undo: what the
 * engine's own COMPRESS would make (for lz4, its 256 KiB independent
 * blocks), and aes-256-gcm ciphertext || tag under nt's key and nonce.
 */
struct encoded {
    uint8_t *deflate, *zstd, *lz4, *sealed;
    size_t deflate_len, zstd_len, lz4_len;
};

static void encode(struct native *nt, const uint8_t *text, size_t n,
                   struct encoded *e)
{
    size_t room = n + n / 8 + 4096;
    LZ4F_preferences_t p;
    int l;

    e->deflate = malloc(room);
    e->zstd = malloc(room);
    e->lz4 = malloc(room);
    e->sealed = malloc(n + 16);
    if (!e->deflate || !e->zstd || !e->lz4 || !e->sealed)
        exit(2);
    e->deflate_len = libdeflate_deflate_compress(nt->dc, text, n, e->deflate,
                                                 room);
    e->zstd_len = ZSTD_compressCCtx(nt->zc, e->zstd, room, text, n, 1);
    memset(&p, 0, sizeof(p));
    p.frameInfo.blockSizeID = LZ4F_max256KB;
    p.frameInfo.blockMode = LZ4F_blockIndependent;
    p.frameInfo.contentSize = n;
    e->lz4_len = LZ4F_compressFrame(e->lz4, room, text, n, &p);
    EVP_EncryptInit_ex2(nt->cc, NULL, nt->key, nt->iv, NULL);
    EVP_EncryptUpdate(nt->cc, e->sealed, &l, text, (int)n);
    EVP_EncryptFinal_ex(nt->cc, e->sealed + l, &l);
    EVP_CIPHER_CTX_ctrl(nt->cc, EVP_CTRL_AEAD_GET_TAG, 16, e->sealed + n);
    if (!e->deflate_len || ZSTD_isError(e->zstd_len) ||
        LZ4F_isError(e->lz4_len))
        exit(2);
}

static void encoded_free(struct encoded *e)
{
    free(e->deflate);
    free(e->zstd);
    free(e->lz4);
    free(e->sealed);
}

static void big_ops(uint8_t *src, uint8_t *dst)
{
    const size_t mib = 1u << 20, out = mib + mib / 8;
    struct pva_engine_session *aes[2] = { NULL, NULL };
    struct engine_fx f[2];
    struct encoded enc;
    struct native nt;
    uint8_t key[32];

    memset(key, 7, sizeof(key));
    memset(&nt, 0, sizeof(nt));
    nt.dc = libdeflate_alloc_compressor(1);
    nt.dd = libdeflate_alloc_decompressor();
    nt.zc = ZSTD_createCCtx();
    nt.zd = ZSTD_createDCtx();
    LZ4F_createDecompressionContext(&nt.ld, LZ4F_VERSION);
    nt.md = EVP_MD_CTX_new();
    nt.cc = EVP_CIPHER_CTX_new();
    nt.dcc = EVP_CIPHER_CTX_new();
    memcpy(nt.key, key, 32);
    EVP_EncryptInit_ex2(nt.cc, EVP_aes_256_gcm(), key, nt.iv, NULL);
    EVP_DecryptInit_ex2(nt.dcc, EVP_aes_256_gcm(), key, nt.iv, NULL);
    encode(&nt, src, mib, &enc);

    struct bcase cases[] = {
        { "deflate-1", VACCEL_OP_COMPRESS, VACCEL_ALG_DEFLATE, 1, mib, out, NULL, NULL, 0 },
        { "zstd-1", VACCEL_OP_COMPRESS, VACCEL_ALG_ZSTD, 1, mib, out, NULL, NULL, 0 },
        { "lz4", VACCEL_OP_COMPRESS, VACCEL_ALG_LZ4, 0, mib, out, NULL, NULL, 0 },
        { "sha256", VACCEL_OP_DIGEST, VACCEL_ALG_SHA256, 0, mib, 32, NULL, NULL, 0 },
        { "aes-256-gcm", VACCEL_OP_AEAD_ENCRYPT, 0, 0, mib, mib + 16, NULL, NULL, 0 },
        { "crc32c", VACCEL_OP_CRC32C, 0, 0, mib, 0, NULL, NULL, 0 },
        { "inflate-1", VACCEL_OP_DECOMPRESS, VACCEL_ALG_DEFLATE, 0,
          enc.deflate_len, mib, NULL, enc.deflate, mib },
        { "unzstd-1", VACCEL_OP_DECOMPRESS, VACCEL_ALG_ZSTD, 0, enc.zstd_len,
          mib, NULL, enc.zstd, mib },
        { "unlz4", VACCEL_OP_DECOMPRESS, VACCEL_ALG_LZ4, 0, enc.lz4_len, mib,
          NULL, enc.lz4, mib },
        { "gcm-decrypt", VACCEL_OP_AEAD_DECRYPT, 0, 0, mib + 16, mib, NULL,
          enc.sealed, mib },
    };

    /* [0] the engine as configured, [1] every job on a worker. */
    fx_open(&f[0], bench_args);
    fx_open(&f[1], "inline=0");
    for (int i = 0; i < 2; i++)
        pva_engine_cpu.session_create(f[i].ctx, VACCEL_ALG_AES_256_GCM, key,
                                      32, &aes[i]);
    printf("1 MiB operations, MB/s of input (of output for decoding); "
           "engine \"%s\" (inline up to %zu) at depth 1 and 4, and all "
           "jobs on workers at depth 4\n",
           bench_args, pva_cpu_inline_max(f[0].e));
    printf("%-12s %8s %8s %6s %8s %6s %8s %6s %7s\n", "op", "native",
           "depth1", "ratio", "depth4", "ratio", "workers", "ratio",
           "allocs");
    for (unsigned int i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct bcase *c = &cases[i];
        uint8_t *in = c->input ? (uint8_t *)c->input : src;
        double nat = run_native(&nt, c, in, dst) * mib / 1e6;
        struct bres d1, d4, w4;
        bool aead = c->op == VACCEL_OP_AEAD_ENCRYPT ||
                    c->op == VACCEL_OP_AEAD_DECRYPT;

        c->session = aead ? aes[0] : NULL;
        d1 = run_engine(f[0].q, c, in, dst, 1);
        d4 = run_engine(f[0].q, c, in, dst, 4);
        c->session = aead ? aes[1] : NULL;
        w4 = run_engine(f[1].q, c, in, dst, 4);
        printf("%-12s %8.0f %8.0f %6.3f %8.0f %6.3f %8.0f %6.3f %7.3f\n",
               c->name, nat, d1.mbps, d1.mbps / nat, d4.mbps, d4.mbps / nat,
               w4.mbps, w4.mbps / nat, w4.mallocs_per_op);
    }
    for (int i = 0; i < 2; i++) {
        pva_engine_cpu.session_destroy(f[i].ctx, aes[i]);
        fx_close(&f[i]);
    }
    encoded_free(&enc);
    libdeflate_free_compressor(nt.dc);
    libdeflate_free_decompressor(nt.dd);
    ZSTD_freeCCtx(nt.zc);
    ZSTD_freeDCtx(nt.zd);
    LZ4F_freeDecompressionContext(nt.ld);
    EVP_MD_CTX_free(nt.md);
    EVP_CIPHER_CTX_free(nt.cc);
    EVP_CIPHER_CTX_free(nt.dcc);
}

static void tiny_ops(uint8_t *src, uint8_t *dst)
{
    static const char *const modes[] = { "", "inline=0" };
    struct bcase nop = { "nop", VACCEL_OP_NOP, 0, 0, 0, 0, NULL, NULL, 0 };
    struct bcase crc = { "crc32c-64", VACCEL_OP_CRC32C, 0, 0, 64, 0, NULL,
                         NULL, 0 };

    printf("\ntiny operations at depth 64, Mops/s\n");
    printf("%-12s %12s %12s %8s\n", "op", "inline", "workers", "allocs");
    for (int k = 0; k < 2; k++) {
        const struct bcase *c = k ? &crc : &nop;
        struct bres r[2];

        for (int m = 0; m < 2; m++) {
            struct engine_fx f;

            fx_open(&f, modes[m]);
            r[m] = run_engine(f.q, c, src, dst, 64);
            fx_close(&f);
        }
        printf("%-12s %12.2f %12.2f %8.3f\n", c->name, r[0].ops / 1e6,
               r[1].ops / 1e6, r[0].mallocs_per_op);
    }

    /* The price of a handoff: one tiny job at a time, inline or not. */
    for (int m = 0; m < 2; m++) {
        struct engine_fx f;
        struct bres r;

        fx_open(&f, modes[m]);
        r = run_engine(f.q, &crc, src, dst, 1);
        fx_close(&f);
        printf("%s crc32c-64 at depth 1: %.2f us per job\n",
               m ? "worker" : "inline", 1e6 / r.ops);
    }
}

/* Inline against workers, by size: where the handoff starts to pay. */
static void threshold(uint8_t *src, uint8_t *dst)
{
    static const size_t sizes[] = { 1024, 4096, 16384, 65536, 262144,
                                    1048576 };
    static const uint8_t ops[][2] = {
        { VACCEL_OP_CRC32C, 0 },
        { VACCEL_OP_COMPRESS, VACCEL_ALG_ZSTD },
    };

    printf("\ninline vs workers by size (depth 4), MB/s\n");
    printf("%-8s %9s %10s %10s %10s\n", "op", "size", "inline", "workers",
           "ratio");
    for (unsigned int o = 0; o < 2; o++) {
        for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
            struct bcase c = { ops[o][0] == VACCEL_OP_CRC32C ? "crc32c"
                                                             : "zstd-1",
                               ops[o][0], ops[o][1], 1, sizes[i],
                               ops[o][0] == VACCEL_OP_CRC32C ? 0
                                   : sizes[i] + sizes[i] / 8 + 1024,
                               NULL, NULL, 0 };
            struct engine_fx a, b;
            struct bres ri, rw;

            fx_open(&a, "inline=18446744073709551615");
            fx_open(&b, "inline=0");
            ri = run_engine(a.q, &c, src, dst, 4);
            rw = run_engine(b.q, &c, src, dst, 4);
            fx_close(&a);
            fx_close(&b);
            printf("%-8s %9zu %10.0f %10.0f %10.2f\n", c.name, sizes[i],
                   ri.mbps, rw.mbps, rw.mbps / ri.mbps);
        }
    }
}

int main(int argc, char **argv)
{
    size_t mib = 1u << 20;
    uint8_t *src = malloc(mib), *dst = malloc(MAXDEPTH * (mib + mib / 4));

    if (argc > 1)
        bench_secs = atof(argv[1]);
    if (argc > 2)
        bench_args = argv[2];
    if (!src || !dst || bench_secs <= 0)
        return 2;
    gen(src, mib);
    big_ops(src, dst);
    if (argc <= 2) {
        tiny_ops(src, dst);
        threshold(src, dst);
    }
#ifdef BENCH_NO_MALLOC_COUNT
    printf("(allocation counts unavailable under sanitizers)\n");
#endif
    free(src);
    free(dst);
    return 0;
}
