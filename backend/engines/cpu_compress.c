/* SPDX-License-Identifier: MIT */
/*
 * cpu_compress.c: COMPRESS and DECOMPRESS for the CPU engine.
 *
 *   deflate, zlib, gzip  libdeflate (one compressor per level, created on
 *                        first use and kept; one decompressor)
 *   zstd                 libzstd (one ZSTD_CCtx, one ZSTD_DCtx)
 *   lz4                  liblz4 frame format (one LZ4F cctx, one dctx)
 *
 * Decoders parse their input, and none is written for input that changes
 * under it: a guest can rewrite src from another vCPU while the job runs,
 * or alias it with dst through a second mapping of the same frames (which
 * the backend's overlap check cannot see, backend/overlap.c).  So every
 * DECOMPRESS first copies src, in one pass, into the execution context's
 * bounce buffer and decodes that private copy (cpu_src_private()): the
 * XSA-155 rule, read once, applied to parsed data.  Compressors only
 * stream their input (whatever it holds, the output is some valid stream
 * within the bounds), so COMPRESS reads src in place.
 *
 * libdeflate works on flat buffers only: a scattered operand is gathered
 * into (or produced in) the bounce buffers, which only grow
 * (cpu_compress_trim() aside).  zstd streams through scattered pieces both
 * ways, and takes its one-shot calls (the fastest) when the operands are
 * flat (a private copy is).  lz4 streams its output and decompression
 * input; its compression input is gathered when scattered, so frame blocks
 * never break at piece boundaries.
 *
 * Statuses (accelif.h, DECOMPRESS): output bound exceeded -XEN_ENOSPC
 * (aux = decompressed size when the frame records it: zstd and lz4 frame
 * content size; 0 for the deflate family), input ends inside the stream
 * -XEN_ENODATA, anything else wrong -XEN_EILSEQ.  libdeflate cannot tell
 * these apart (cpu_inflate_classify()); on its error paths only, zlib's
 * streaming inflate does.
 */
#include "config.h"

#include <limits.h>
#include <string.h>

#include <libdeflate.h>
#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "accelif.h"
#include "backend/engines/cpu_internal.h"
#include "backend/engines/cpu_iter.h"

/*
 * zstd streaming decompression keeps a window buffer of the size the
 * frame asks for.  A guest can ask for up to 2^31; cap what it gets at
 * 2^25 (32 MiB, twice the default max-op-bytes: zstd never needs a window
 * beyond the content it compresses).  A larger frame: -XEN_ENOMEM.
 */
#define CPU_ZSTD_WINDOWLOG_MAX 25
/* ZSTD_FRAMEHEADERSIZE_MAX, which zstd.h only gives static linkers. */
#define CPU_ZSTD_HEADER_MAX 18
/* lz4 block size, and input per LZ4F_compressUpdate when dst is tight. */
#define CPU_LZ4_BLOCK_ID LZ4F_max256KB
#define CPU_LZ4_CHUNK    (256u * 1024)

void cpu_compress_levels(int32_t *min, int32_t *max, uint8_t alg)
{
    switch (alg) {
    case VACCEL_ALG_DEFLATE:
    case VACCEL_ALG_ZLIB:
    case VACCEL_ALG_GZIP:
        *min = CPU_DEFLATE_LEVEL_MIN;
        *max = CPU_DEFLATE_LEVEL_MAX;
        break;
    case VACCEL_ALG_ZSTD:
        *min = ZSTD_minCLevel();
        *max = ZSTD_maxCLevel();
        break;
    case VACCEL_ALG_LZ4:
        /* LZ4F: 1-2 the fast compressor, 3-12 LZ4HC. */
        *min = CPU_LZ4_LEVEL_MIN;
        *max = CPU_LZ4_LEVEL_MAX;
        break;
    default:
        *min = *max = 0;
    }
}

/*
 * What a level costs at most, in milliseconds of one core per MiB of input:
 * the slowest of repetitive text and of a binary (libcrypto), measured at
 * 1-2 MiB on the development VM (2 vCPU AMD EPYC, shared; libzstd 1.5.4,
 * libdeflate 1.14, liblz4 1.9.4) and rounded up.  Index: the level.  The
 * backend turns them into each level's input cap (docs/admin.md,
 * max-op-ms, has the measurements).
 */
static const uint16_t zstd_ms_per_mib[PVA_COST_LEVEL_MAX + 1] = {
    [1] = 10, [2] = 10, [3] = 10, [4] = 15, [5] = 20, [6] = 35, [7] = 35,
    [8] = 40, [9] = 60, [10] = 80, [11] = 100, [12] = 120, [13] = 200,
    [14] = 300, [15] = 350, [16] = 600, [17] = 600, [18] = 850,
    [19] = 1000, [20] = 1000, [21] = 1000, [22] = 1000,
};
static const uint16_t deflate_ms_per_mib[CPU_DEFLATE_LEVEL_MAX + 1] = {
    [1] = 10, [2] = 15, [3] = 20, [4] = 20, [5] = 25, [6] = 30, [7] = 75,
    [8] = 260, [9] = 400, [10] = 400, [11] = 420, [12] = 550,
};
static const uint16_t lz4_ms_per_mib[CPU_LZ4_LEVEL_MAX + 1] = {
    [1] = 5, [2] = 5, [3] = 20, [4] = 30, [5] = 40, [6] = 60, [7] = 85,
    [8] = 110, [9] = 130, [10] = 130, [11] = 320, [12] = 320,
};

void cpu_compress_costs(uint32_t us_per_mib[PVA_COST_LEVEL_MAX + 1],
                        uint8_t alg)
{
    const uint16_t *ms;
    unsigned int n, dflt;

    memset(us_per_mib, 0, (PVA_COST_LEVEL_MAX + 1) * sizeof(us_per_mib[0]));
    switch (alg) {
    case VACCEL_ALG_DEFLATE:
    case VACCEL_ALG_ZLIB:
    case VACCEL_ALG_GZIP:
        ms = deflate_ms_per_mib;
        n = CPU_DEFLATE_LEVEL_MAX;
        dflt = CPU_DEFLATE_LEVEL_DEFAULT;
        break;
    case VACCEL_ALG_ZSTD:
        ms = zstd_ms_per_mib;
        n = (unsigned int)ZSTD_maxCLevel();
        dflt = ZSTD_CLEVEL_DEFAULT;
        break;
    case VACCEL_ALG_LZ4:
        ms = lz4_ms_per_mib;
        n = CPU_LZ4_LEVEL_MAX;
        dflt = 1;               /* LZ4F's level 0 is its fast compressor */
        break;
    default:
        return;
    }
    if (n > PVA_COST_LEVEL_MAX)
        n = PVA_COST_LEVEL_MAX; /* a newer libzstd: its new levels unpriced */
    for (unsigned int l = 1; l <= n; l++)
        us_per_mib[l] = ms[l] * 1000u;
    us_per_mib[0] = us_per_mib[dflt];
}

/*
 * Roughly how much slower than a copy a level compresses, as a power of
 * two: fast levels (zstd <= 3, lz4 fast, deflate <= 4) x16, middle levels
 * x64, the high ones (zstd >= 10, deflate and LZ4HC >= 10) x1024.  Level
 * 0 is the default level of each.  Out-of-range levels are refused later.
 */
unsigned int cpu_compress_cost_shift(uint8_t alg, int32_t level)
{
    if (alg == VACCEL_ALG_ZSTD)
        level = level ? level : ZSTD_CLEVEL_DEFAULT;
    else if (alg == VACCEL_ALG_LZ4)
        level = level ? level : 1;
    else
        level = level ? level : CPU_DEFLATE_LEVEL_DEFAULT;
    if (level >= 10)
        return 10;
    if (level > (alg == VACCEL_ALG_DEFLATE || alg == VACCEL_ALG_ZLIB ||
                 alg == VACCEL_ALG_GZIP ? 4 : alg == VACCEL_ALG_LZ4 ? 2 : 3))
        return 6;
    return 4;
}

/* Validate @level and turn 0 into the library's default. */
static int cpu_level(uint8_t alg, int32_t level, int *out)
{
    int32_t min, max;

    cpu_compress_levels(&min, &max, alg);
    if (level && (level < min || level > max))
        return -XEN_EINVAL;
    if (!level && VACCEL_ALG_IS_COMPRESS(alg) && alg <= VACCEL_ALG_GZIP)
        level = CPU_DEFLATE_LEVEL_DEFAULT;
    *out = level;   /* zstd and LZ4F take 0 as "default" themselves */
    return 0;
}

void cpu_compress_wctx_fini(struct cpu_wctx *w)
{
    for (unsigned int i = 0; i <= CPU_DEFLATE_LEVEL_MAX; i++) {
        libdeflate_free_compressor(w->deflate_c[i]);
        w->deflate_c[i] = NULL;
    }
    libdeflate_free_decompressor(w->deflate_d);
    w->deflate_d = NULL;
    ZSTD_freeCCtx(w->zstd_c);
    w->zstd_c = NULL;
    ZSTD_freeDCtx(w->zstd_d);
    w->zstd_d = NULL;
    LZ4F_freeCompressionContext(w->lz4_c);
    w->lz4_c = NULL;
    LZ4F_freeDecompressionContext(w->lz4_d);
    w->lz4_d = NULL;
}

void cpu_compress_trim(struct cpu_wctx *w)
{
    if (w->zstd_c && ZSTD_sizeof_CCtx(w->zstd_c) > CPU_KEEP_BYTES) {
        ZSTD_freeCCtx(w->zstd_c);
        w->zstd_c = NULL;
    }
    if (w->zstd_d && ZSTD_sizeof_DCtx(w->zstd_d) > CPU_KEEP_BYTES) {
        ZSTD_freeDCtx(w->zstd_d);
        w->zstd_d = NULL;
    }
    cpu_buf_trim(&w->bounce_in, CPU_KEEP_BYTES);
    cpu_buf_trim(&w->bounce_out, CPU_KEEP_BYTES);
}

/*
 * Flat views of operands.  A flat operand is used in place; otherwise the
 * source is gathered into bounce_in, or the output goes to bounce_out
 * (at least one byte, so a pointer is never NULL).
 */
static const uint8_t *cpu_src_flat(struct cpu_wctx *w,
                                   const struct pva_operand *src, int *rc)
{
    uint8_t *p = cpu_operand_flat(src);
    struct cpu_iter it;

    *rc = 0;
    if (p)
        return p;
    *rc = cpu_buf_reserve(&w->bounce_in, src->len ? src->len : 1);
    if (*rc)
        return NULL;
    cpu_iter_init(&it, src);
    cpu_iter_read(&it, w->bounce_in.p, src->len);
    return w->bounce_in.p;
}

/*
 * DECOMPRESS input: all of src copied into bounce_in (at least one byte,
 * so the pointer is never NULL), and described as the one-piece operand
 * @priv over @piece, for the streaming decoders.
 */
static int cpu_src_private(struct cpu_wctx *w, const struct pva_operand *src,
                           struct pva_iov *piece, struct pva_operand *priv)
{
    struct cpu_iter it;
    int rc = cpu_buf_reserve(&w->bounce_in, src->len ? src->len : 1);

    if (rc)
        return rc;
    cpu_iter_init(&it, src);
    cpu_iter_read(&it, w->bounce_in.p, src->len);
    *piece = (struct pva_iov){ w->bounce_in.p, src->len };
    *priv = (struct pva_operand){ piece, 1, src->len };
    return 0;
}

static uint8_t *cpu_dst_flat(struct cpu_wctx *w, const struct pva_operand *dst,
                             size_t need, int *rc)
{
    uint8_t *p = cpu_operand_flat(dst);

    *rc = 0;
    if (p)
        return p;
    *rc = cpu_buf_reserve(&w->bounce_out, need ? need : 1);
    return *rc ? NULL : w->bounce_out.p;
}

/* Publish @len bytes produced at @out (a no-op when it is dst itself). */
static void cpu_dst_done(const struct pva_operand *dst, const uint8_t *out,
                         size_t len)
{
    struct cpu_iter it;

    if (out == cpu_operand_flat(dst))
        return;
    cpu_iter_init(&it, dst);
    cpu_iter_write(&it, out, len);
}

/* ------------------------------------------------------------------------
 * deflate, zlib, gzip: libdeflate
 */

static struct libdeflate_compressor *cpu_deflate_c(struct cpu_wctx *w,
                                                   int level)
{
    if (!w->deflate_c[level])
        w->deflate_c[level] = libdeflate_alloc_compressor(level);
    return w->deflate_c[level];
}

static size_t cpu_deflate_bound(struct libdeflate_compressor *c, uint8_t alg,
                                size_t n)
{
    switch (alg) {
    case VACCEL_ALG_ZLIB:
        return libdeflate_zlib_compress_bound(c, n);
    case VACCEL_ALG_GZIP:
        return libdeflate_gzip_compress_bound(c, n);
    default:
        return libdeflate_deflate_compress_bound(c, n);
    }
}

static size_t cpu_deflate_run(struct libdeflate_compressor *c, uint8_t alg,
                              const uint8_t *in, size_t n, uint8_t *out,
                              size_t avail)
{
    switch (alg) {
    case VACCEL_ALG_ZLIB:
        return libdeflate_zlib_compress(c, in, n, out, avail);
    case VACCEL_ALG_GZIP:
        return libdeflate_gzip_compress(c, in, n, out, avail);
    default:
        return libdeflate_deflate_compress(c, in, n, out, avail);
    }
}

static int cpu_deflate_compress(struct cpu_wctx *w, struct pva_job *job,
                                int level)
{
    struct libdeflate_compressor *c = cpu_deflate_c(w, level);
    size_t bound, avail, n;
    const uint8_t *in;
    uint8_t *out = NULL;
    int rc;

    if (!c)
        return -XEN_ENOMEM;
    bound = cpu_deflate_bound(c, job->alg, job->src.len);
    in = cpu_src_flat(w, &job->src, &rc);
    if (rc)
        return rc;
    /*
     * libdeflate fails unless it has some slack after the output, so it
     * writes straight into dst only when dst is flat and holds the worst
     * case; otherwise it writes into the bounce buffer and what fits is
     * copied out.
     */
    if (job->dst.len >= bound)
        out = cpu_operand_flat(&job->dst);
    avail = out ? job->dst.len : bound;
    if (!out) {
        rc = cpu_buf_reserve(&w->bounce_out, bound);
        if (rc)
            return rc;
        out = w->bounce_out.p;
    }
    n = cpu_deflate_run(c, job->alg, in, job->src.len, out, avail);
    if (!n || n > job->dst.len) {
        job->aux = bound;
        return -XEN_ENOSPC;
    }
    cpu_dst_done(&job->dst, out, n);
    job->len = n;
    return 0;
}

/*
 * libdeflate reports a truncated stream as "bad data", or even as "no
 * space" (it reads past the end as zeros).  Decode again with zlib, which
 * stops where the input stops, to find the real cause: more than @limit
 * bytes of output -XEN_ENOSPC, input exhausted -XEN_ENODATA, else
 * -XEN_EILSEQ.  The decode stops at @limit, so its cost is bounded by
 * the job's own output bound.
 */
static int cpu_inflate_classify(uint8_t alg, const uint8_t *in, size_t n,
                                size_t limit)
{
    int wbits = alg == VACCEL_ALG_DEFLATE ? -MAX_WBITS :
                alg == VACCEL_ALG_ZLIB ? MAX_WBITS : 16 + MAX_WBITS;
    uint8_t sink[16384];
    size_t out = 0;
    z_stream z;
    int r;

    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, wbits) != Z_OK)
        return -XEN_ENOMEM;
    z.next_in = (Bytef *)in;
    do {
        if (!z.avail_in && n) {
            z.avail_in = n > UINT_MAX ? UINT_MAX : (uInt)n;
            n -= z.avail_in;
        }
        z.next_out = sink;
        z.avail_out = sizeof(sink);
        r = inflate(&z, Z_NO_FLUSH);
        out += sizeof(sink) - z.avail_out;
    } while (r == Z_OK && out <= limit);
    inflateEnd(&z);
    if (out > limit)
        return -XEN_ENOSPC;
    return r == Z_BUF_ERROR && !z.avail_in && !n ? -XEN_ENODATA
                                                 : -XEN_EILSEQ;
}

static enum libdeflate_result
cpu_deflate_unrun(struct libdeflate_decompressor *d, uint8_t alg,
                  const uint8_t *in, size_t n, uint8_t *out, size_t avail,
                  size_t *in_used, size_t *out_len)
{
    switch (alg) {
    case VACCEL_ALG_ZLIB:
        return libdeflate_zlib_decompress_ex(d, in, n, out, avail, in_used,
                                             out_len);
    case VACCEL_ALG_GZIP:
        return libdeflate_gzip_decompress_ex(d, in, n, out, avail, in_used,
                                             out_len);
    default:
        return libdeflate_deflate_decompress_ex(d, in, n, out, avail,
                                                in_used, out_len);
    }
}

/* @in: the private copy of src. */
static int cpu_deflate_decompress(struct cpu_wctx *w, struct pva_job *job,
                                  const uint8_t *in)
{
    size_t in_used = 0, out_len = 0;
    enum libdeflate_result r;
    uint8_t *out;
    int rc;

    if (!w->deflate_d) {
        w->deflate_d = libdeflate_alloc_decompressor();
        if (!w->deflate_d)
            return -XEN_ENOMEM;
    }
    out = cpu_dst_flat(w, &job->dst, job->dst.len, &rc);
    if (rc)
        return rc;
    r = cpu_deflate_unrun(w->deflate_d, job->alg, in, job->src.len, out,
                          job->dst.len, &in_used, &out_len);
    switch (r) {
    case LIBDEFLATE_SUCCESS:
        cpu_dst_done(&job->dst, out, out_len);
        job->len = out_len;
        job->value = in_used;
        return 0;
    default:
        /* aux stays 0: the deflate family records no size up front. */
        return cpu_inflate_classify(job->alg, in, job->src.len,
                                    job->dst.len);
    }
}

/* ------------------------------------------------------------------------
 * zstd
 */

static int cpu_zstd_status(size_t r)
{
    switch (ZSTD_getErrorCode(r)) {
    case ZSTD_error_dstSize_tooSmall:
        return -XEN_ENOSPC;
    case ZSTD_error_srcSize_wrong:
        return -XEN_ENODATA;
    case ZSTD_error_memory_allocation:
    case ZSTD_error_frameParameter_windowTooLarge:
        return -XEN_ENOMEM;
    default:
        return -XEN_EILSEQ;
    }
}

/* Stream src's pieces through the cctx into dst's pieces. */
static int cpu_zstd_compress_stream(ZSTD_CCtx *zc, struct pva_job *job)
{
    size_t r = ZSTD_CCtx_setPledgedSrcSize(zc, job->src.len);
    struct cpu_iter s, d;

    if (ZSTD_isError(r))
        return -XEN_EIO;
    cpu_iter_init(&s, &job->src);
    cpu_iter_init(&d, &job->dst);
    for (;;) {
        uint8_t *sp = NULL, *dp;
        size_t sn = cpu_iter_peek(&s, &sp);
        size_t dn = cpu_iter_peek(&d, &dp);
        ZSTD_EndDirective mode = sn ? ZSTD_e_continue : ZSTD_e_end;
        ZSTD_inBuffer in = { sp, sn, 0 };
        ZSTD_outBuffer out = { dp, dn, 0 };

        /* The frame is not finished yet, so it needs more room. */
        if (!dn)
            return -XEN_ENOSPC;
        r = ZSTD_compressStream2(zc, &out, &in, mode);
        if (ZSTD_isError(r))
            return cpu_zstd_status(r);
        cpu_iter_advance(&s, in.pos);
        cpu_iter_advance(&d, out.pos);
        job->len += out.pos;
        if (mode == ZSTD_e_end && r == 0)
            return 0;
    }
}

static int cpu_zstd_compress(struct cpu_wctx *w, struct pva_job *job,
                             int level)
{
    const uint8_t *in = cpu_operand_flat(&job->src);
    uint8_t *out = cpu_operand_flat(&job->dst);
    size_t r;
    int rc;

    if (!w->zstd_c) {
        w->zstd_c = ZSTD_createCCtx();
        if (!w->zstd_c)
            return -XEN_ENOMEM;
    }
    ZSTD_CCtx_reset(w->zstd_c, ZSTD_reset_session_only);
    r = ZSTD_CCtx_setParameter(w->zstd_c, ZSTD_c_compressionLevel, level);
    if (ZSTD_isError(r))
        return -XEN_EINVAL;

    /*
     * One-shot when both are flat and dst holds the worst case; it writes
     * straight into dst.  It wants some slack at the end, so a tighter dst
     * streams, which fits down to the last byte.
     */
    if ((in || !job->src.len) && out &&
        job->dst.len >= ZSTD_compressBound(job->src.len)) {
        r = ZSTD_compress2(w->zstd_c, out, job->dst.len, in ? in : out,
                           job->src.len);
        rc = ZSTD_isError(r) ? cpu_zstd_status(r) : 0;
        if (!rc)
            job->len = r;
    } else {
        rc = cpu_zstd_compress_stream(w->zstd_c, job);
    }
    if (rc == -XEN_ENOSPC)
        job->aux = ZSTD_compressBound(job->src.len);
    else if (rc)
        rc = -XEN_EIO;
    return rc;
}

/* The frame content size from src's header, or 0 if not recorded. */
static uint64_t cpu_zstd_content_size(const struct pva_operand *src)
{
    uint8_t hdr[CPU_ZSTD_HEADER_MAX];
    struct cpu_iter it;
    size_t n;
    unsigned long long v;

    cpu_iter_init(&it, src);
    n = cpu_iter_read(&it, hdr, sizeof(hdr));
    v = ZSTD_getFrameContentSize(hdr, n);
    return v == ZSTD_CONTENTSIZE_UNKNOWN || v == ZSTD_CONTENTSIZE_ERROR ? 0
                                                                        : v;
}

/* dst flat (src is): find the frame, then decode it in one call. */
static int cpu_zstd_decompress_flat(ZSTD_DCtx *zd, struct pva_job *job,
                                    const uint8_t *in, uint8_t *out)
{
    size_t frame = ZSTD_findFrameCompressedSize(in, job->src.len);
    size_t r;

    if (ZSTD_isError(frame))
        return cpu_zstd_status(frame);
    r = ZSTD_decompressDCtx(zd, out, job->dst.len, in, frame);
    if (ZSTD_isError(r))
        return cpu_zstd_status(r);
    job->len = r;
    job->value = frame;
    return 0;
}

/*
 * Scattered dst: stream.  Once dst is full, keep decoding into a scratch
 * byte: any output there means dst was too small; the frame ending
 * without output means it fitted exactly.
 */
static int cpu_zstd_decompress_stream(ZSTD_DCtx *zd, struct pva_job *job,
                                      const struct pva_operand *src)
{
    struct cpu_iter s, d;
    uint8_t scratch[1];

    cpu_iter_init(&s, src);
    cpu_iter_init(&d, &job->dst);
    for (;;) {
        uint8_t *sp = scratch, *dp;
        size_t sn = cpu_iter_peek(&s, &sp);
        size_t dn = cpu_iter_peek(&d, &dp);
        bool probing = !dn;
        ZSTD_inBuffer in = { sp, sn, 0 };
        ZSTD_outBuffer out = { probing ? scratch : dp,
                               probing ? sizeof(scratch) : dn, 0 };
        size_t r = ZSTD_decompressStream(zd, &out, &in);

        if (ZSTD_isError(r))
            return cpu_zstd_status(r);
        if (probing && out.pos)
            return -XEN_ENOSPC;
        cpu_iter_advance(&s, in.pos);
        job->value += in.pos;
        if (!probing) {
            cpu_iter_advance(&d, out.pos);
            job->len += out.pos;
        }
        if (r == 0)
            return 0;
        if (!in.pos && !out.pos)
            return sn ? -XEN_EIO : -XEN_ENODATA;
    }
}

/* @src: the private copy of job->src, one piece. */
static int cpu_zstd_decompress(struct cpu_wctx *w, struct pva_job *job,
                               const struct pva_operand *src)
{
    uint8_t *out = cpu_operand_flat(&job->dst);
    int rc;

    if (!w->zstd_d) {
        w->zstd_d = ZSTD_createDCtx();
        if (!w->zstd_d)
            return -XEN_ENOMEM;
        ZSTD_DCtx_setParameter(w->zstd_d, ZSTD_d_windowLogMax,
                               CPU_ZSTD_WINDOWLOG_MAX);
    }
    ZSTD_DCtx_reset(w->zstd_d, ZSTD_reset_session_only);
    if (out)
        rc = cpu_zstd_decompress_flat(w->zstd_d, job, src->iov[0].base, out);
    else
        rc = cpu_zstd_decompress_stream(w->zstd_d, job, src);
    if (rc == -XEN_ENOSPC)
        job->aux = cpu_zstd_content_size(src);
    return rc;
}

/* ------------------------------------------------------------------------
 * lz4 frame
 */

/*
 * Output window for an LZ4F call that may write @bound bytes: dst's
 * current piece when it has room (zero copy), else the stage buffer.
 */
static uint8_t *cpu_lz4_window(struct cpu_wctx *w, struct cpu_iter *d,
                               size_t bound)
{
    uint8_t *p = NULL;

    if (cpu_iter_peek(d, &p) >= bound)
        return p;
    return w->lz4_stage.p;
}

/* Account @n bytes the call wrote at @p; copies out of the stage. */
static int cpu_lz4_commit(struct cpu_wctx *w, struct cpu_iter *d,
                          const uint8_t *p, size_t n, uint64_t *len)
{
    if (p != w->lz4_stage.p)
        cpu_iter_advance(d, n);
    else if (cpu_iter_write(d, p, n) != n)
        return -XEN_ENOSPC;
    *len += n;
    return 0;
}

/* Compress the flat @in into dst's pieces, block by block if dst is tight. */
static int cpu_lz4_compress_frame(struct cpu_wctx *w, struct pva_job *job,
                                  const uint8_t *in,
                                  const LZ4F_preferences_t *prefs)
{
    size_t left = job->src.len, n, bound, r;
    struct cpu_iter d;
    uint8_t *out;
    int rc;

    cpu_iter_init(&d, &job->dst);
    out = cpu_lz4_window(w, &d, LZ4F_HEADER_SIZE_MAX);
    r = LZ4F_compressBegin(w->lz4_c, out, LZ4F_HEADER_SIZE_MAX, prefs);
    if (LZ4F_isError(r))
        return -XEN_EIO;
    rc = cpu_lz4_commit(w, &d, out, r, &job->len);

    while (!rc && left) {
        /* All of it at once if dst's piece has room, else one block. */
        n = left;
        bound = LZ4F_compressBound(n, prefs);
        if (cpu_iter_peek(&d, &out) < bound) {
            n = n < CPU_LZ4_CHUNK ? n : CPU_LZ4_CHUNK;
            bound = LZ4F_compressBound(n, prefs);
        }
        out = cpu_lz4_window(w, &d, bound);
        r = LZ4F_compressUpdate(w->lz4_c, out, bound, in, n, NULL);
        if (LZ4F_isError(r))
            return -XEN_EIO;
        rc = cpu_lz4_commit(w, &d, out, r, &job->len);
        in += n;
        left -= n;
    }
    if (rc)
        return rc;
    bound = LZ4F_compressBound(0, prefs);
    out = cpu_lz4_window(w, &d, bound);
    r = LZ4F_compressEnd(w->lz4_c, out, bound, NULL);
    if (LZ4F_isError(r))
        return -XEN_EIO;
    return cpu_lz4_commit(w, &d, out, r, &job->len);
}

/*
 * Frames of independent 256 KiB blocks, flushed as they are made.  With
 * any other mode liblz4 1.9.4's LZ4F_compressBegin reallocates (calloc,
 * above the mmap threshold) its block buffer on every frame: it forgets
 * the size it allocated.  256 KiB independent blocks compress as well as
 * the default 64 KiB linked ones (measured within 0.05% on text) and
 * every lz4 decoder takes them.  A scattered src is gathered first, so
 * blocks never break at piece boundaries.
 */
static int cpu_lz4_compress(struct cpu_wctx *w, struct pva_job *job,
                            int level)
{
    LZ4F_preferences_t prefs;
    const uint8_t *in;
    int rc;

    memset(&prefs, 0, sizeof(prefs));
    prefs.frameInfo.blockSizeID = CPU_LZ4_BLOCK_ID;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.frameInfo.contentSize = job->src.len;
    prefs.compressionLevel = level;
    prefs.autoFlush = 1;
    if (!w->lz4_c &&
        LZ4F_isError(LZ4F_createCompressionContext(&w->lz4_c, LZ4F_VERSION)))
        return -XEN_ENOMEM;
    /* The stage takes one block's worst case (and the header, the end). */
    rc = cpu_buf_reserve(&w->lz4_stage, LZ4F_compressBound(CPU_LZ4_CHUNK,
                                                           &prefs));
    if (rc)
        return rc;
    in = cpu_src_flat(w, &job->src, &rc);
    if (rc)
        return rc;
    rc = cpu_lz4_compress_frame(w, job, in, &prefs);
    if (rc == -XEN_ENOSPC)
        job->aux = LZ4F_compressFrameBound(job->src.len, &prefs);
    return rc;
}

/*
 * The content size the frame header recorded, or 0.  Ask before the call
 * that may finish the frame: a finished frame resets the dctx.  The info
 * is copied out even when the hint LZ4F_getFrameInfo returns is an error.
 */
static uint64_t cpu_lz4_content_size(LZ4F_dctx *ld)
{
    LZ4F_frameInfo_t info;
    size_t none = 0;

    memset(&info, 0, sizeof(info));
    (void)LZ4F_getFrameInfo(ld, &info, NULL, &none);
    return info.contentSize;
}

/* Same shape as cpu_zstd_decompress_stream; @src is the private copy. */
static int cpu_lz4_decompress_frame(LZ4F_dctx *ld, struct pva_job *job,
                                    const struct pva_operand *src)
{
    struct cpu_iter s, d;
    uint8_t scratch[64];

    cpu_iter_init(&s, src);
    cpu_iter_init(&d, &job->dst);
    for (;;) {
        uint8_t *sp = scratch, *dp = scratch;
        size_t sn = cpu_iter_peek(&s, &sp);
        size_t dn = cpu_iter_peek(&d, &dp);
        bool probing = !dn;
        uint64_t need = probing ? cpu_lz4_content_size(ld) : 0;
        size_t in = sn, out = probing ? sizeof(scratch) : dn;
        size_t r = LZ4F_decompress(ld, dp, &out, sp, &in, NULL);

        if (LZ4F_isError(r))
            return -XEN_EILSEQ;
        if (probing && out) {
            job->aux = need;
            return -XEN_ENOSPC;
        }
        cpu_iter_advance(&s, in);
        job->value += in;
        if (!probing) {
            cpu_iter_advance(&d, out);
            job->len += out;
        }
        if (r == 0)
            return 0;
        if (!in && !out)
            return sn ? -XEN_EIO : -XEN_ENODATA;
    }
}

static int cpu_lz4_decompress(struct cpu_wctx *w, struct pva_job *job,
                              const struct pva_operand *src)
{
    if (!w->lz4_d &&
        LZ4F_isError(LZ4F_createDecompressionContext(&w->lz4_d,
                                                     LZ4F_VERSION)))
        return -XEN_ENOMEM;
    /* A previous job may have left it mid-frame (error, ENOSPC). */
    LZ4F_resetDecompressionContext(w->lz4_d);
    return cpu_lz4_decompress_frame(w->lz4_d, job, src);
}

/* ------------------------------------------------------------------------
 * Entry points
 */

int cpu_compress(struct cpu_wctx *w, struct pva_job *job)
{
    int level, rc;

    if (!VACCEL_ALG_IS_COMPRESS(job->alg))
        return -XEN_EOPNOTSUPP;
    rc = cpu_level(job->alg, job->param.level, &level);
    if (rc)
        return rc;
    switch (job->alg) {
    case VACCEL_ALG_ZSTD:
        return cpu_zstd_compress(w, job, level);
    case VACCEL_ALG_LZ4:
        return cpu_lz4_compress(w, job, level);
    default:
        return cpu_deflate_compress(w, job, level);
    }
}

int cpu_decompress(struct cpu_wctx *w, struct pva_job *job)
{
    struct pva_operand src;
    struct pva_iov piece;
    int rc;

    if (!VACCEL_ALG_IS_COMPRESS(job->alg))
        return -XEN_EOPNOTSUPP;
    rc = cpu_src_private(w, &job->src, &piece, &src);
    if (rc)
        return rc;
    switch (job->alg) {
    case VACCEL_ALG_ZSTD:
        return cpu_zstd_decompress(w, job, &src);
    case VACCEL_ALG_LZ4:
        return cpu_lz4_decompress(w, job, &src);
    default:
        return cpu_deflate_decompress(w, job, piece.base);
    }
}
