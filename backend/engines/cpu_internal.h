/* SPDX-License-Identifier: MIT */
/*
 * cpu_internal.h: the CPU engine's private header, the contract between
 * its dispatcher and its operation files.  Nothing outside
 * backend/engines/ includes it; the engine's public part is cpu.h.
 *
 * The files, top to bottom; each calls only files below it:
 *
 *   cpu.c           the engine object, contexts, DMA bookkeeping, sessions,
 *                   queues, the worker pool and job dispatch; execution
 *                   contexts (struct cpu_wctx) are made and freed here;
 *   cpu_compress.c  deflate / zlib / gzip (libdeflate), zstd, lz4 frame;
 *   cpu_crypto.c    sha256 / sha512 and the AEADs (OpenSSL EVP);
 *   cpu_mem.c       copy, fill, compare, and the crc32c job;
 *   cpu_iter.c      operand iterators (cpu_iter.h);
 *   cpu_buf.c       grow-only bounce buffers (cpu_buf.h);
 *   cpu_crc32c.c    CRC-32C (cpu_crc32c.h).
 *
 * Every operation runs on a struct cpu_wctx, the library state of one
 * execution context: a worker thread, or a queue's submitting thread for
 * jobs run inline.  A wctx is only ever used by one thread at a time, so
 * nothing in it is locked.  Its members are created on first use and kept,
 * so the steady state allocates nothing per job.
 */
#ifndef PVACCEL_ENGINES_CPU_INTERNAL_H
#define PVACCEL_ENGINES_CPU_INTERNAL_H

#include <stdatomic.h>
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
    /* bounce_in: gathered COMPRESS input, every DECOMPRESS input */
    struct cpu_buf bounce_in, bounce_out, lz4_stage;
};

/*
 * Free the library state of each family (cpu_compress.c, cpu_crypto.c),
 * for cpu.c, which frees the context.
 */
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
/*
 * COMPRESS's worst cost per level for the caps (us_per_mib[level], [0] the
 * default level; 0 where not estimated).
 */
void cpu_compress_costs(uint32_t us_per_mib[PVA_COST_LEVEL_MAX + 1],
                        uint8_t alg);
/* log2 of COMPRESS's cost per byte relative to a copy (cpu.c's inline test). */
unsigned int cpu_compress_cost_shift(uint8_t alg, int32_t level);

/* Crypto objects of the engine and of sessions (cpu_crypto.c). */
int cpu_algs_init(struct cpu_algs *a);
void cpu_algs_fini(struct cpu_algs *a);
int cpu_session_init(const struct cpu_algs *a, struct pva_engine_session *s,
                     const uint8_t *key, size_t key_len);
void cpu_session_fini(struct pva_engine_session *s);

#endif
