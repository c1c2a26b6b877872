/* SPDX-License-Identifier: MIT */
/*
 * cpu.h: internals of the CPU engine, shared by its files only.
 *
 *   cpu.c           the engine object, contexts, DMA bookkeeping, sessions,
 *                   queues, the worker pool and job dispatch;
 *   cpu_compress.c  deflate / zlib / gzip (libdeflate), zstd, lz4 frame;
 *   cpu_crypto.c    sha256 / sha512 and the AEADs (OpenSSL EVP);
 *   cpu_mem.c       copy, fill, compare;
 *   cpu_crc32c.c    CRC-32C (SSE4.2 instruction or slicing-by-8 table).
 *
 * Every operation runs on a struct cpu_wctx, the library state of one
 * execution context: a worker thread, or a queue's submitting thread for
 * jobs run inline.  A wctx is only ever used by one thread at a time, so
 * nothing in it is locked.  Its members are created on first use and kept,
 * so the steady state allocates nothing per job.
 */
#ifndef PVACCEL_ENGINES_CPU_H
#define PVACCEL_ENGINES_CPU_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/engine.h"
#include "backend/engines/cpu_buf.h"

struct libdeflate_compressor;
struct libdeflate_decompressor;
struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;
struct LZ4F_cctx_s;
struct LZ4F_dctx_s;
struct evp_md_st;
struct evp_md_ctx_st;
struct evp_cipher_st;
struct evp_cipher_ctx_st;

/* libdeflate levels 1..12; index 0 unused (level 0 maps to the default). */
#define CPU_DEFLATE_LEVEL_MIN     1
#define CPU_DEFLATE_LEVEL_MAX     12
#define CPU_DEFLATE_LEVEL_DEFAULT 6
#define CPU_LZ4_LEVEL_MIN         1
#define CPU_LZ4_LEVEL_MAX         12

/* Algorithm objects fetched once per engine (OpenSSL 3 explicit fetch). */
struct cpu_algs {
    struct evp_md_st *sha256, *sha512;
    struct evp_cipher_st *aes_gcm, *chacha_poly;
};

struct cpu_wctx {
    const struct cpu_algs *algs;
    struct libdeflate_compressor *deflate_c[CPU_DEFLATE_LEVEL_MAX + 1];
    struct libdeflate_decompressor *deflate_d;
    struct ZSTD_CCtx_s *zstd_c;
    struct ZSTD_DCtx_s *zstd_d;
    struct LZ4F_cctx_s *lz4_c;
    struct LZ4F_dctx_s *lz4_d;
    struct evp_md_ctx_st *md;
    struct evp_cipher_ctx_st *aead[2];  /* [0] aes-256-gcm, [1] chacha */
    uint64_t aead_serial[2];            /* session whose key aead[i] holds,
                                           0: none (cpu_aead()) */
    struct cpu_buf bounce_in, bounce_out, lz4_stage;
};

void cpu_wctx_init(struct cpu_wctx *w, const struct cpu_algs *algs);
void cpu_wctx_fini(struct cpu_wctx *w);
/* Free the library state of each family (cpu_compress.c, cpu_crypto.c). */
void cpu_compress_wctx_fini(struct cpu_wctx *w);
void cpu_crypto_wctx_fini(struct cpu_wctx *w);

/*
 * What an execution context keeps between jobs, per library object and per
 * buffer: a rare huge job (zstd level 20+ on many MiB needs up to ~260 MiB
 * of tables) gives its memory back afterwards instead of pinning it.
 */
#define CPU_KEEP_BYTES ((size_t)128 << 20)
void cpu_compress_trim(struct cpu_wctx *w);

/* Sessions: an AEAD key, or a running digest. */
struct pva_engine_session {
    uint8_t alg;
    uint64_t serial;                    /* unique in the process, never 0:
                                           a wctx's cached AEAD key */
    atomic_bool busy;                   /* a DIGEST of it is running */
    struct evp_md_ctx_st *md;           /* digest sessions */
    uint8_t key[VACCEL_AEAD_KEY_LEN];   /* AEAD sessions */
};

/*
 * Operations.  Each returns the job's status (0 or -XEN_E*) and fills
 * job->len / value / aux; the dispatcher clears len on error.
 */
int cpu_compress(struct cpu_wctx *w, struct pva_job *job);
int cpu_decompress(struct cpu_wctx *w, struct pva_job *job);
int cpu_digest(struct cpu_wctx *w, struct pva_job *job);
int cpu_aead(struct cpu_wctx *w, struct pva_job *job);
int cpu_copy(struct pva_job *job);
int cpu_fill(struct pva_job *job);
int cpu_compare(struct pva_job *job);
int cpu_crc32c_job(struct pva_job *job);

/* Levels accepted per compress algorithm, for caps and validation. */
void cpu_compress_levels(int32_t *min, int32_t *max, uint8_t alg);
/* log2 of COMPRESS's cost per byte relative to a copy (cpu.c's inline test). */
unsigned int cpu_compress_cost_shift(uint8_t alg, int32_t level);

/* Crypto objects of the engine and of sessions (cpu_crypto.c). */
int cpu_algs_init(struct cpu_algs *a);
void cpu_algs_fini(struct cpu_algs *a);
int cpu_session_init(const struct cpu_algs *a, struct pva_engine_session *s,
                     const uint8_t *key, size_t key_len);
void cpu_session_fini(struct pva_engine_session *s);

/*
 * CRC-32C (cpu_crc32c.c).  pva_crc32c() follows accelif.h: seed 0 starts,
 * inversions inside, so results chain.  The two implementations are
 * exported for the tests; pva_crc32c() picks one once, at first use.
 */
uint32_t pva_crc32c(uint32_t seed, const void *buf, size_t len);
uint32_t pva_crc32c_table(uint32_t seed, const void *buf, size_t len);
uint32_t pva_crc32c_sse42(uint32_t seed, const void *buf, size_t len);
bool pva_crc32c_have_sse42(void);

/* Statistics of a context (for the tests and the backend's stats). */
uint64_t pva_cpu_ctx_mapped_bytes(const struct pva_engine_ctx *ctx);
unsigned int pva_cpu_ctx_mappings(const struct pva_engine_ctx *ctx);
/* The inline threshold in effect (bytes of src + dst), for benchmarks. */
size_t pva_cpu_inline_max(const struct pva_engine *e);

#endif
