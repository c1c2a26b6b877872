/* SPDX-License-Identifier: MIT */
/*
 * fe-ops: every operation and algorithm through the whole stack (libpvaccel
 * in a sim guest, pvacceld with the CPU engine in dom0) against known
 * answers and against the libraries called directly; scatter lists at
 * their cap; many requests in flight on several queues with callbacks and
 * out-of-order completion; in blocking mode, then busy-poll mode (which
 * also closes and reopens the device).
 */
#include "config.h"

#include <errno.h>
#include <lz4frame.h>
#include <libdeflate.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "tests/fe-harness.h"

/* ---- helpers ---- */

static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = strlen(s) / 2;

    for (size_t i = 0; i < n; i++)
        sscanf(s + 2 * i, "%2hhx", &out[i]);
    return n;
}

static bool eq_hex(const void *p, const char *hex)
{
    uint8_t want[256];
    size_t n = unhex(hex, want);

    return !memcmp(p, want, n);
}

/* Run the request prepared in @tmpl synchronously. */
static int run(struct pva_queue *q, const struct pva_sqe *tmpl, struct pva_cqe *cqe)
{
    struct pva_sqe *sqe = pva_get_sqe(q);

    if (!sqe)
        return -EBUSY;
    *sqe = *tmpl;
    return pva_run(q, sqe, cqe);
}

static uint32_t sw_crc32c(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
    }
    return ~crc;
}

/* Compressible but not trivial: words from a small vocabulary. */
static void fill_text(uint8_t *p, size_t n, unsigned int seed)
{
    static const char *const words[] = { "grant ", "ring ", "event ", "xen ",
        "backend ", "frontend ", "page ", "queue ", "\n", "accelerator " };

    for (size_t i = 0; i < n;) {
        const char *w = words[(seed = seed * 1103515245u + 12345u) >> 16 & 7 ?
                              (seed >> 20) % 10 : 8];
        for (; *w && i < n; w++)
            p[i++] = (uint8_t)*w;
    }
}

/* ---- digests ---- */

static void test_digest(struct pva_queue *q)
{
    static const struct { int alg; const char *msg, *hex; } kat[] = {
        { PVA_ALG_SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
        { PVA_ALG_SHA256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { PVA_ALG_SHA256, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
        { PVA_ALG_SHA512, "abc", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
          "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" },
        { PVA_ALG_SHA512, "", "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
          "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e" },
    };
    struct pva_buf in, out, big;
    struct pva_session *s;
    struct pva_sqe sqe;
    struct pva_cqe cqe;
    size_t off = 0;
    int rc;

    fe_buf(q, 4096, &in);
    fe_buf(q, 64, &out);
    for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
        size_t n = strlen(kat[i].msg);

        memcpy(in.addr, kat[i].msg, n);
        memset(out.addr, 0, 64);
        pva_prep_digest(&sqe, kat[i].alg, NULL, 0, pva_seg(&in, 0, n),
                        pva_seg(&out, 0, 64));
        rc = run(q, &sqe, &cqe);
        PVT_CHECK_MSG(rc == 0 && cqe.len == pva_digest_len(kat[i].alg) &&
                      eq_hex(out.addr, kat[i].hex), "%s(\"%.10s\") known answer (%s)",
                      pva_alg_name(kat[i].alg), kat[i].msg, pva_strerror(rc));
    }
    /* dst too small: -ENOSPC with the size needed. */
    pva_prep_digest(&sqe, PVA_ALG_SHA512, NULL, 0, pva_seg(&in, 0, 3),
                    pva_seg(&out, 0, 32));
    PVT_EQ_INT(run(q, &sqe, &cqe), -ENOSPC);
    PVT_EQ_INT(cqe.aux, 64);

    /* A million 'a' streamed through a session in uneven pieces. */
    fe_buf(q, 1000000, &big);
    memset(big.addr, 'a', 1000000);
    PVT_EQ_INT(pva_session_create(q, PVA_ALG_SHA256, NULL, 0, &s), 0);
    for (size_t step = 1; off < 1000000; step = step * 7 + 13) {
        size_t n = step < 1000000 - off ? step : 1000000 - off;

        pva_prep_digest(&sqe, PVA_ALG_SHA256, s, PVA_DIGEST_F_MORE,
                        pva_seg(&big, off, n), (struct pva_seg){ 0, 0 });
        rc = run(q, &sqe, &cqe);
        if (rc)
            break;
        off += n;
    }
    PVT_EQ_INT(rc, 0);
    pva_prep_digest(&sqe, PVA_ALG_SHA256, s, 0, (struct pva_seg){ 0, 0 },
                    pva_seg(&out, 0, 32));
    rc = run(q, &sqe, &cqe);
    PVT_CHECK_MSG(rc == 0 && eq_hex(out.addr, "cdc76e5c9914fb9281a1c7e284d73e67"
                  "f1809a48a497200e046d39ccc7112cd0"),
                  "sha256 of a million 'a' streamed in a session (%s)", pva_strerror(rc));
    /* The session restarts after a final request. */
    memcpy(in.addr, "abc", 3);
    pva_prep_digest(&sqe, PVA_ALG_SHA256, s, 0, pva_seg(&in, 0, 3), pva_seg(&out, 0, 32));
    rc = run(q, &sqe, &cqe);
    PVT_CHECK_MSG(rc == 0 && eq_hex(out.addr, kat[0].hex), "session reset after final");
    PVT_EQ_INT(pva_session_destroy(q, s), 0);
    pva_buf_free(pva_queue_dev(q), &big);
    pva_buf_free(pva_queue_dev(q), &in);
    pva_buf_free(pva_queue_dev(q), &out);
}

/* ---- AEAD ---- */

struct aead_kat {
    int alg;
    const char *key, *nonce, *aad, *pt, *ct, *tag;
};

static const struct aead_kat aead_kats[] = {
    { PVA_ALG_AES_256_GCM, /* GCM spec test case 16 */
      "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
      "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
      "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
      "76fc6ece0f4e1768cddf8853bb2d551b" },
    { PVA_ALG_CHACHA20_POLY1305, /* RFC 8439 2.8.2 */
      "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
      "070000004041424344454647", "50515253c0c1c2c3c4c5c6c7",
      "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
      "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
      "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
      "637265656e20776f756c642062652069742e",
      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
      "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
      "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
      "3ff4def08e4b7a9de576d26586cec64b6116",
      "1ae10b594f09e26a7e902ecbd0600691" },
};

static void test_aead_one(struct pva_queue *q, const struct aead_kat *k)
{
    uint8_t key[32], nonce[12], aad[64], pt[256], ct[256], tag[16];
    size_t al = unhex(k->aad, aad), pl = unhex(k->pt, pt);
    struct pva_buf in, out;
    struct pva_session *s;
    struct pva_sqe sqe;
    struct pva_cqe cqe;
    const char *name = pva_alg_name(k->alg);
    int rc;

    unhex(k->key, key);
    unhex(k->nonce, nonce);
    unhex(k->ct, ct);
    unhex(k->tag, tag);
    fe_buf(q, 512, &in);
    fe_buf(q, 512, &out);
    PVT_EQ_INT(pva_session_create(q, k->alg, key, 32, &s), 0);
    PVT_EQ_INT(pva_session_create(q, k->alg, key, 31, &s), -EINVAL);
    memcpy(in.addr, aad, al);
    memcpy((uint8_t *)in.addr + al, pt, pl);
    pva_prep_aead(&sqe, true, s, nonce, (uint32_t)al, pva_seg(&in, 0, al + pl),
                  pva_seg(&out, 0, 512));
    rc = run(q, &sqe, &cqe);
    PVT_CHECK_MSG(rc == 0 && cqe.len == pl + 16 && !memcmp(out.addr, ct, pl) &&
                  !memcmp((uint8_t *)out.addr + pl, tag, 16),
                  "%s encrypt known answer (%s)", name, pva_strerror(rc));
    /* Decrypt back. */
    memcpy((uint8_t *)in.addr + al, out.addr, pl + 16);
    memset(out.addr, 0xee, 512);
    pva_prep_aead(&sqe, false, s, nonce, (uint32_t)al, pva_seg(&in, 0, al + pl + 16),
                  pva_seg(&out, 0, 512));
    rc = run(q, &sqe, &cqe);
    PVT_CHECK_MSG(rc == 0 && cqe.len == pl && !memcmp(out.addr, pt, pl),
                  "%s decrypt known answer (%s)", name, pva_strerror(rc));
    /* A flipped tag bit: -EBADMSG and no plaintext released. */
    ((uint8_t *)in.addr)[al + pl + 3] ^= 0x10;
    memset(out.addr, 0xee, 512);
    rc = run(q, &sqe, &cqe);
    {
        bool zero = true;

        for (size_t i = 0; i < pl; i++)
            zero &= ((uint8_t *)out.addr)[i] == 0;
        PVT_CHECK_MSG(rc == -EBADMSG && zero,
                      "%s tag mismatch: -EBADMSG, output zero-filled (%s)", name,
                      pva_strerror(rc));
    }
    /* A flipped AAD bit fails too. */
    ((uint8_t *)in.addr)[al + pl + 3] ^= 0x10;
    ((uint8_t *)in.addr)[0] ^= 1;
    PVT_EQ_INT(run(q, &sqe, &cqe), -EBADMSG);
    /* Output too small: -ENOSPC. */
    ((uint8_t *)in.addr)[0] ^= 1;
    pva_prep_aead(&sqe, true, s, nonce, (uint32_t)al, pva_seg(&in, 0, al + pl),
                  pva_seg(&out, 0, pl));
    PVT_EQ_INT(run(q, &sqe, &cqe), -ENOSPC);
    PVT_EQ_INT(cqe.aux, pl + 16);
    PVT_EQ_INT(pva_session_destroy(q, s), 0);
    pva_buf_free(pva_queue_dev(q), &in);
    pva_buf_free(pva_queue_dev(q), &out);
}

/* ---- compression, cross-checked with the libraries ---- */

static size_t lib_compress(int alg, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    struct libdeflate_compressor *c;
    size_t len = 0;

    switch (alg) {
    case PVA_ALG_ZSTD:
        len = ZSTD_compress(out, cap, in, n, 3);
        return ZSTD_isError(len) ? 0 : len;
    case PVA_ALG_LZ4:
        len = LZ4F_compressFrame(out, cap, in, n, NULL);
        return LZ4F_isError(len) ? 0 : len;
    default:
        c = libdeflate_alloc_compressor(6);
        len = alg == PVA_ALG_DEFLATE ? libdeflate_deflate_compress(c, in, n, out, cap)
            : alg == PVA_ALG_ZLIB ? libdeflate_zlib_compress(c, in, n, out, cap)
            : libdeflate_gzip_compress(c, in, n, out, cap);
        libdeflate_free_compressor(c);
        return len;
    }
}

/* Decompress one stream with the library; returns bytes out or -1. */
static long lib_decompress(int alg, const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    struct libdeflate_decompressor *d;
    size_t got = 0;
    enum libdeflate_result r;

    switch (alg) {
    case PVA_ALG_ZSTD:
        got = ZSTD_decompress(out, cap, in, n);
        return ZSTD_isError(got) ? -1 : (long)got;
    case PVA_ALG_LZ4: {
        LZ4F_dctx *ctx;
        size_t o = 0, i = 0, ret = 1;

        LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION);
        while (ret && i < n) {
            size_t dl = cap - o, sl = n - i;

            ret = LZ4F_decompress(ctx, out + o, &dl, in + i, &sl, NULL);
            if (LZ4F_isError(ret))
                break;
            o += dl;
            i += sl;
        }
        LZ4F_freeDecompressionContext(ctx);
        return ret ? -1 : (long)o;
    }
    default:
        d = libdeflate_alloc_decompressor();
        r = alg == PVA_ALG_DEFLATE ? libdeflate_deflate_decompress(d, in, n, out, cap, &got)
          : alg == PVA_ALG_ZLIB ? libdeflate_zlib_decompress(d, in, n, out, cap, &got)
          : libdeflate_gzip_decompress(d, in, n, out, cap, &got);
        libdeflate_free_decompressor(d);
        return r == LIBDEFLATE_SUCCESS ? (long)got : -1;
    }
}

static void test_compress_alg(struct pva_queue *q, int alg, struct pva_buf *src,
                              size_t n, struct pva_buf *dst, struct pva_buf *back)
{
    const char *name = pva_alg_name(alg);
    struct pva_sqe sqe;
    struct pva_cqe cqe;
    size_t clen, llen;
    uint8_t *tmp = malloc(2 * n);
    int rc;

    /* Device compress -> library decompress. */
    pva_prep_compress(&sqe, alg, 0, pva_seg(src, 0, n), pva_seg(dst, 0, dst->len));
    rc = run(q, &sqe, &cqe);
    clen = cqe.len;
    PVT_CHECK_MSG(rc == 0 && clen > 0 && clen < n, "%s: compress %zu -> %zu (%s)",
                  name, n, clen, pva_strerror(rc));
    PVT_CHECK_MSG(lib_decompress(alg, dst->addr, clen, tmp, 2 * n) == (long)n &&
                  !memcmp(tmp, src->addr, n), "%s: the library decompresses the device's "
                  "stream", name);
    /* Device decompress of its own stream, then with trailing bytes. */
    pva_prep_decompress(&sqe, alg, pva_seg(dst, 0, clen), pva_seg(back, 0, back->len));
    rc = run(q, &sqe, &cqe);
    PVT_CHECK_MSG(rc == 0 && cqe.len == n && cqe.value == clen &&
                  !memcmp(back->addr, src->addr, n), "%s: device round trip (%s)",
                  name, pva_strerror(rc));
    /* Library compress -> device decompress, two streams concatenated. */
    llen = lib_compress(alg, src->addr, n, tmp, 2 * n);
    memcpy(dst->addr, tmp, llen);
    memcpy((uint8_t *)dst->addr + llen, tmp, llen);
    pva_prep_decompress(&sqe, alg, pva_seg(dst, 0, 2 * llen), pva_seg(back, 0, back->len));
    rc = run(q, &sqe, &cqe);
    PVT_CHECK_MSG(rc == 0 && cqe.len == n && cqe.value == llen &&
                  !memcmp(back->addr, src->addr, n),
                  "%s: device decompresses the library's stream, input consumed = %zu "
                  "(%s, got %llu)", name, llen, pva_strerror(rc), (unsigned long long)cqe.value);
    /* Output bound too small, truncated input, garbage. */
    pva_prep_decompress(&sqe, alg, pva_seg(dst, 0, llen), pva_seg(back, 0, n / 2));
    PVT_EQ_INT(run(q, &sqe, &cqe), -ENOSPC);
    /*
     * The engine stopped half-way (len and input consumed non-zero); an
     * error answer carries neither (accelif.h, backend/response.c).
     */
    PVT_CHECK_MSG(cqe.len == 0 && cqe.value == 0,
                  "%s: -ENOSPC answer has len %llu, value %llu: want 0, 0",
                  name, (unsigned long long)cqe.len,
                  (unsigned long long)cqe.value);
    pva_prep_decompress(&sqe, alg, pva_seg(dst, 0, llen / 2), pva_seg(back, 0, back->len));
    rc = run(q, &sqe, &cqe);
    PVT_CHECK_MSG(rc == -ENODATA, "%s: truncated stream -> -ENODATA (%s)", name,
                  pva_strerror(rc));
    memset(dst->addr, 0x5a, 4096);
    pva_prep_decompress(&sqe, alg, pva_seg(dst, 0, 4096), pva_seg(back, 0, back->len));
    rc = run(q, &sqe, &cqe);
    PVT_CHECK_MSG(rc == -EILSEQ || rc == -ENODATA, "%s: garbage -> -EILSEQ (%s)", name,
                  pva_strerror(rc));
    /* A level at each end of the advertised range compresses too. */
    pva_prep_compress(&sqe, alg, alg == PVA_ALG_ZSTD ? 19 : 9, pva_seg(src, 0, n),
                      pva_seg(dst, 0, dst->len));
    PVT_EQ_INT(run(q, &sqe, &cqe), 0);
    pva_prep_compress(&sqe, alg, 1000, pva_seg(src, 0, n), pva_seg(dst, 0, dst->len));
    PVT_EQ_INT(run(q, &sqe, &cqe), -EINVAL);
    /* Output too small for compression. */
    pva_prep_compress(&sqe, alg, 0, pva_seg(src, 0, n), pva_seg(dst, 0, 16));
    PVT_EQ_INT(run(q, &sqe, &cqe), -ENOSPC);
    PVT_CHECK_MSG(cqe.len == 0 && cqe.value == 0,
                  "%s: compress -ENOSPC answer has len %llu, value %llu: "
                  "want 0, 0", name, (unsigned long long)cqe.len,
                  (unsigned long long)cqe.value);
    free(tmp);
}

static void test_compress(struct pva_queue *q)
{
    static const int algs[] = { PVA_ALG_DEFLATE, PVA_ALG_ZLIB, PVA_ALG_GZIP,
                                PVA_ALG_ZSTD, PVA_ALG_LZ4 };
    size_t n = 256 * 1024;
    struct pva_buf src, dst, back;

    fe_buf(q, n, &src);
    fe_buf(q, 2 * n, &dst);
    fe_buf(q, 2 * n, &back);
    fill_text(src.addr, n, 1);
    for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
        test_compress_alg(q, algs[i], &src, n, &dst, &back);
    pva_buf_free(pva_queue_dev(q), &src);
    pva_buf_free(pva_queue_dev(q), &dst);
    pva_buf_free(pva_queue_dev(q), &back);
}

/* ---- memory operations, crc32c, scatter lists ---- */

static void test_mem_ops(struct pva_queue *q)
{
    struct pva_buf a, b;
    struct pva_sqe sqe;
    struct pva_cqe cqe;
    bool ok = true;

    fe_buf(q, 8192, &a);
    fe_buf(q, 8192, &b);
    memcpy(a.addr, "123456789", 9);
    pva_prep_crc32c(&sqe, pva_seg(&a, 0, 9), 0);
    PVT_EQ_INT(run(q, &sqe, &cqe), 0);
    PVT_EQ_INT(cqe.value, 0xe3069283u);
    pva_prep_crc32c(&sqe, pva_seg(&a, 0, 4), 0);
    run(q, &sqe, &cqe);
    pva_prep_crc32c(&sqe, pva_seg(&a, 4, 5), (uint32_t)cqe.value);
    run(q, &sqe, &cqe);
    PVT_CHECK_MSG(cqe.value == 0xe3069283u, "crc32c chained through the seed");

    fill_text(a.addr, 8192, 3);
    pva_prep_copy(&sqe, pva_seg(&a, 0, 5000), pva_seg(&b, 0, 8192));
    PVT_CHECK(run(q, &sqe, &cqe) == 0 && cqe.len == 5000 && !memcmp(a.addr, b.addr, 5000));
    pva_prep_copy(&sqe, pva_seg(&a, 0, 5000), pva_seg(&b, 0, 4000));
    PVT_EQ_INT(run(q, &sqe, &cqe), -ENOSPC);
    pva_prep_compare(&sqe, pva_seg(&a, 0, 5000), pva_seg(&b, 0, 5000));
    PVT_CHECK(run(q, &sqe, &cqe) == 0 && cqe.value == 0);
    ((uint8_t *)b.addr)[4321] ^= 1;
    PVT_CHECK(run(q, &sqe, &cqe) == 0 && cqe.value == 1 && cqe.aux == 4321);
    pva_prep_fill(&sqe, 0xa5, pva_seg(&b, 0, 3000));
    PVT_EQ_INT(run(q, &sqe, &cqe), 0);
    for (int i = 0; i < 3000; i++)
        ok &= ((uint8_t *)b.addr)[i] == 0xa5;
    PVT_CHECK_MSG(ok && cqe.len == 3000, "fill with a byte");
    pva_prep_fill64(&sqe, 0x0807060504030201ull, pva_seg(&b, 0, 20));
    PVT_EQ_INT(run(q, &sqe, &cqe), 0);
    PVT_CHECK(eq_hex(b.addr, "0102030405060708010203040506070801020304"));
    /* Nothing mapped at a far IOVA: -EFAULT and where. */
    pva_prep_crc32c(&sqe, (struct pva_seg){ 1ull << 40, 16 }, 0);
    PVT_EQ_INT(run(q, &sqe, &cqe), -EFAULT);
    PVT_EQ_INT(cqe.fault_iova, 1ull << 40);
    pva_prep_nop(&sqe);
    PVT_EQ_INT(run(q, &sqe, &cqe), 0);
    pva_buf_free(pva_queue_dev(q), &a);
    pva_buf_free(pva_queue_dev(q), &b);
}

/* A scatter list of exactly max-sg-entries entries, and one more. */
static void test_sg(struct pva_queue *q, struct pva_dev *dev)
{
    struct pva_dev_info info;
    struct pva_buf data, list, out;
    struct pva_sqe sqe;
    struct pva_cqe cqe;
    struct pva_seg *e;
    uint32_t cap, piece = 48;
    uint8_t *flat;
    int rc;

    pva_dev_get_info(dev, &info);
    cap = info.max_sg_entries;
    fe_buf(q, (size_t)(cap + 1) * piece, &data);
    fe_buf(q, (size_t)(cap + 1) * sizeof(*e), &list);
    fe_buf(q, (size_t)(cap + 1) * piece, &out);
    fill_text(data.addr, (size_t)(cap + 1) * piece, 9);
    flat = malloc((size_t)(cap + 1) * piece);
    e = list.addr;
    /* Entries in reverse order of the pieces, so order matters. */
    for (uint32_t i = 0; i <= cap; i++) {
        e[i] = pva_seg(&data, (size_t)(cap - i) * piece, piece);
        memcpy(flat + (size_t)i * piece, (uint8_t *)data.addr + (size_t)(cap - i) * piece,
               piece);
    }
    pva_prep_crc32c(&sqe, pva_seg(&list, 0, cap * sizeof(*e)), 0);
    sqe.flags |= PVA_F_SRC_INDIRECT;
    rc = run(q, &sqe, &cqe);
    PVT_CHECK_MSG(rc == 0 && cqe.value == sw_crc32c(0, flat, (size_t)cap * piece),
                  "crc32c over a %u-entry scatter list (%s)", cap, pva_strerror(rc));
    pva_prep_copy(&sqe, pva_seg(&list, 0, cap * sizeof(*e)), pva_seg(&out, 0, out.len));
    sqe.flags |= PVA_F_SRC_INDIRECT;
    rc = run(q, &sqe, &cqe);
    PVT_CHECK_MSG(rc == 0 && cqe.len == (size_t)cap * piece &&
                  !memcmp(out.addr, flat, (size_t)cap * piece),
                  "copy gathers a %u-entry scatter list", cap);
    pva_prep_crc32c(&sqe, pva_seg(&list, 0, (cap + 1) * sizeof(*e)), 0);
    sqe.flags |= PVA_F_SRC_INDIRECT;
    PVT_EQ_INT(run(q, &sqe, &cqe), -E2BIG);
    free(flat);
    pva_buf_free(dev, &data);
    pva_buf_free(dev, &list);
    pva_buf_free(dev, &out);
}

/* ---- many in flight, several queues, callbacks, any order ---- */

#define NREQ 3000
#define PIECE 512

struct worker {
    struct pva_dev *dev;
    struct pva_queue *q;
    struct pva_buf data, big, bigout;
    uint8_t seen[NREQ];
    uint32_t want[NREQ];
    unsigned int done, wrong, twice, out_of_order, callbacks;
    uint64_t last;
};

static void check_cqe(struct worker *w, const struct pva_cqe *cqe)
{
    uint64_t id = cqe->user_data;

    if (id >= NREQ) {      /* the big compressions */
        w->wrong += cqe->res != 0;
        return;
    }
    w->twice += w->seen[id]++ != 0;
    w->wrong += cqe->res != 0 || cqe->value != w->want[id];
    w->out_of_order += id < w->last;
    w->last = id;
    w->done++;
}

static void on_complete(void *arg, const struct pva_cqe *cqe)
{
    struct worker *w = arg;

    w->callbacks++;
    check_cqe(w, cqe);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    unsigned int next = 0;
    struct pva_cqe cqe;

    while (next < NREQ || pva_queue_inflight(w->q)) {
        struct pva_sqe *sqe;

        /* Fill the ring, a big compression now and then. */
        while (next < NREQ && (sqe = pva_get_sqe(w->q))) {
            if (next % 500 == 0) {
                pva_prep_compress(sqe, PVA_ALG_ZSTD, 1, pva_seg(&w->big, 0, w->big.len),
                                  pva_seg(&w->bigout, 0, w->bigout.len));
                pva_sqe_set_data(sqe, NREQ + next);
                if (!(sqe = pva_get_sqe(w->q)))
                    break;
            }
            pva_prep_crc32c(sqe, pva_seg(&w->data, (next % 64) * PIECE, PIECE), next);
            pva_sqe_set_data(sqe, next);
            if (next % 2)
                pva_sqe_set_callback(sqe, on_complete, w);
            next++;
        }
        pva_submit(w->q);
        if (pva_wait_cqe(w->q, &cqe) == 0)
            check_cqe(w, &cqe);
        else
            pva_queue_poll(w->q, false);
    }
    return NULL;
}

static void test_many(struct pva_dev *dev)
{
    unsigned int nq = pva_dev_num_queues(dev);
    struct worker *w = calloc(nq, sizeof(*w));
    pthread_t th[64];

    for (unsigned int i = 0; i < nq; i++) {
        w[i].dev = dev;
        w[i].q = pva_dev_queue(dev, i);
        fe_buf(w[i].q, 64 * PIECE, &w[i].data);
        fe_buf(w[i].q, 1 << 20, &w[i].big);
        fe_buf(w[i].q, 2 << 20, &w[i].bigout);
        fill_text(w[i].data.addr, 64 * PIECE, i);
        fill_text(w[i].big.addr, 1 << 20, i + 7);
        for (unsigned int k = 0; k < NREQ; k++)
            w[i].want[k] = sw_crc32c(k, (uint8_t *)w[i].data.addr + (k % 64) * PIECE, PIECE);
    }
    for (unsigned int i = 0; i < nq; i++)
        pthread_create(&th[i], NULL, worker_main, &w[i]);
    for (unsigned int i = 0; i < nq; i++) {
        struct pva_queue_stats st;

        pthread_join(th[i], NULL);
        pva_queue_get_stats(w[i].q, &st);
        PVT_CHECK_MSG(w[i].done == NREQ && !w[i].wrong && !w[i].twice,
                      "queue %u: %u of %u completed once and right (%u wrong, %u twice)",
                      i, w[i].done, NREQ, w[i].wrong, w[i].twice);
        PVT_CHECK_MSG(w[i].callbacks == NREQ / 2, "queue %u: %u callbacks", i,
                      w[i].callbacks);
        PVT_CHECK_MSG(true, "queue %u: %u completions out of submission order, "
                      "%llu notifications, %llu sleeps for %llu requests", i,
                      w[i].out_of_order, (unsigned long long)st.notifies,
                      (unsigned long long)st.sleeps, (unsigned long long)st.submitted);
        pva_buf_free(dev, &w[i].data);
        pva_buf_free(dev, &w[i].big);
        pva_buf_free(dev, &w[i].bigout);
    }
    free(w);
}

/* ---- device events: a fault record on the event ring ---- */

static void on_event(void *arg, const struct pva_event *ev)
{
    struct pvt_chan *c = arg;

    /* The monitor thread: hand the record over a pipe, no shared state. */
    if (ev->type == PVA_EVENT_FAULT)
        pvt_chan_send(c, (uint32_t)(ev->iova >> 32));
}

static void test_fault_event(struct pva_queue *q, struct pvt_chan *c)
{
    struct pollfd pfd = { .fd = c->rd, .events = POLLIN };
    struct pva_sqe sqe;
    struct pva_cqe cqe;
    uint32_t hi = 0;

    pva_prep_copy(&sqe, (struct pva_seg){ 1ull << 41, 64 }, (struct pva_seg){ 1ull << 42, 64 });
    PVT_EQ_INT(run(q, &sqe, &cqe), -EFAULT);
    /* A bound, not a sleep: a missing record must fail, not hang. */
    PVT_CHECK_MSG(poll(&pfd, 1, 10000) == 1, "an event arrived");
    PVT_EQ_INT(pvt_chan_recv(c, &hi), 0);
    PVT_CHECK_MSG(hi == (1u << 9) || hi == (1u << 8),
                  "a FAULT record reached the event callback (iova %#llx)",
                  (unsigned long long)hi << 32);
}

/* ---- the guest ---- */

static void suite(unsigned int flags)
{
    struct pvt_chan events;
    struct pva_dev *dev;
    struct pva_queue *q;

    pvt_chan_open(&events);
    if (fe_open_events(&dev, 2, flags, on_event, &events))
        return;
    printf("# suite in %s mode\n", flags & PVA_DEV_POLL ? "busy-poll" : "blocking");
    q = pva_dev_queue(dev, 0);
    PVT_EQ_INT(pva_dev_num_queues(dev), 2);
    PVT_CHECK(pva_dev_has_alg(dev, PVA_ALG_ZSTD) && pva_dev_has_op(dev, PVA_OP_CRC32C));
    test_digest(q);
    for (size_t i = 0; i < sizeof(aead_kats) / sizeof(aead_kats[0]); i++)
        test_aead_one(q, &aead_kats[i]);
    test_compress(q);
    test_mem_ops(q);
    test_fault_event(q, &events);
    test_sg(q, dev);
    test_many(dev);
    pva_dev_close(dev);
    pvt_chan_close(&events);
}

/* Blocking, then (after a clean close, a reopen) busy-polling. */
static int guest(void *arg)
{
    (void)arg;
    suite(0);
    suite(PVA_DEV_POLL);
    return pvt_failures ? 1 : 0;
}

int main(void)
{
    struct fe_env env;
    int rc = fe_env_start(&env, 1);

    if (rc)
        return rc;
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&env.sim, env.guest[0], guest, NULL)), 0);
    fe_env_stop(&env);
    return pvt_done();
}
