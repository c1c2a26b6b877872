/* SPDX-License-Identifier: MIT */
/*
 * backend-aliasing: a guest whose operands overlap, and whose input
 * changes while the engine reads it (docs/security.md: the rule on
 * overlapping operands and input a library parses).
 *
 * Overlap.  For every operation whose libraries forbid aliasing (COMPRESS
 * and DECOMPRESS in each format, AEAD_ENCRYPT and AEAD_DECRYPT), operands
 * that overlap in the guest's I/O address space are refused with
 * -XEN_EINVAL and no effect: partial overlap either way, exact alias, dst
 * inside src, src inside dst, one shared octet, scatter lists whose
 * entries overlap src or one another.  Their legal neighbours work:
 * adjacent operands, interleaved scatter lists, a src list that repeats
 * itself, AEAD exactly in place (also with scatter lists cut differently
 * on the two sides).  COPY, DIGEST, COMPARE and FILL allow overlap and
 * give their documented results.
 *
 * Aliasing the backend cannot see: a second region over the same grants.
 * DECOMPRESS into the alias of its own input still decodes correctly (the
 * engine parses a private copy); COMPRESS and AEAD into such an alias
 * answer with a documented status.
 *
 * Flips.  A guest thread toggles bits of a compressed stream while the
 * backend decompresses it, a fixed number of requests per format; every
 * answer is the original data (the format's checksum vouches for it; raw
 * deflate has none, so there only the bounds are checked) or a documented
 * error, and pvacceld lives on.  Worth most under ASan/UBSan
 * (make check-sanitize).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>
#include <lz4frame.h>
#include <zstd.h>

#include "tests/rawfront.h"

/*
 * The work region R, and R_ALIAS, a second region over the same grants.
 * In R: reference data, the AEAD key, scatter lists, reference outputs,
 * a scratch area, and at X the operands of the overlap shapes, with
 * WINDOW bytes on either side that a refused request must leave as they
 * were.
 */
#define R        0x1000000ull
#define R_PAGES  256
#define R_ALIAS  0x2000000ull
#define DATA     (R + 0x0000)        /* DATA_LEN octets of text */
#define NOISE    (R + 0x1000)        /* DATA_LEN octets that do not compress */
#define KEY      (R + 0x2000)
#define SG_SRC   (R + 0x3000)        /* up to 128 entries each */
#define SG_DST   (R + 0x3800)
#define REF      (R + 0x4000)        /* outputs to compare against */
#define TMP      (R + 0x8000)        /* 32 KiB to decode results into */
#define X        (R + 0x80000)
#define WINDOW   0x10000u
#define DATA_LEN 4096u
#define ROOM     8192u               /* dst of a COMPRESS shape */

/* The flip test's region: the stream, then FLIP_DEPTH outputs. */
#define S          0x4000000ull
#define S_ROOM     0x20000u          /* for the stream */
#define S_PAGES    ((S_ROOM + FLIP_DEPTH * FLIP_LEN) / 4096)
#define FLIP_LEN   (80u * 1024)      /* two lz4 blocks of at most 64 KiB */
#define FLIP_DEPTH 8u
#define FLIP_ROUNDS 48u

static struct rf_env env;

static const uint8_t compress_algs[] = {
    VACCEL_ALG_DEFLATE, VACCEL_ALG_ZLIB, VACCEL_ALG_GZIP, VACCEL_ALG_ZSTD,
    VACCEL_ALG_LZ4,
};
static const char *const alg_names[] = {
    [VACCEL_ALG_DEFLATE] = "deflate", [VACCEL_ALG_ZLIB] = "zlib",
    [VACCEL_ALG_GZIP] = "gzip", [VACCEL_ALG_ZSTD] = "zstd",
    [VACCEL_ALG_LZ4] = "lz4",
};

struct guest {
    struct rawfront f;
    struct rf_mem m;                 /* R, and R_ALIAS */
    uint8_t *mem;
    uint32_t aead;                   /* an aes-256-gcm session */
};

static uint8_t *at(struct guest *g, uint64_t iova)
{
    return g->mem + (iova - R);
}

static int32_t call(struct guest *g, const vaccel_request_t *req,
                    vaccel_response_t *rsp)
{
    vaccel_response_t dummy;

    if (!rsp)
        rsp = &dummy;
    if (rf_call(&g->f, 0, req, rsp))
        return -9999;           /* no answer: fails every status check */
    return rsp->status;
}

static void data_req(vaccel_request_t *req, uint8_t op, uint8_t alg,
                     uint64_t src, uint64_t src_len, uint64_t dst,
                     uint64_t dst_len)
{
    rf_req_init(req, op, 0x0a);
    req->alg = alg;
    req->u.data.src = (struct vaccel_seg){ src, src_len };
    req->u.data.dst = (struct vaccel_seg){ dst, dst_len };
}

static void aead_req(struct guest *g, vaccel_request_t *req, uint8_t op,
                     uint32_t aad, uint64_t src, uint64_t src_len,
                     uint64_t dst, uint64_t dst_len)
{
    data_req(req, op, 0, src, src_len, dst, dst_len);
    req->handle = g->aead;
    memset(req->u.aead.nonce, 0x4e, sizeof(req->u.aead.nonce));
    req->u.aead.aad_len = aad;
}

/* Words with some repetition: compresses a few times, like text. */
static void gen(uint8_t *p, size_t n, uint32_t x)
{
    static const char *const w[] = { "grant ", "ring ", "event ", "page ",
                                     "queue ", "the ", "of ", "backend ",
                                     "0x3f1a ", "\n" };

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

static void noise(uint8_t *p, size_t n)
{
    uint32_t x = 2463534242u;

    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)(x >> 24);
    }
}

/* ------------------------------------------------------------------------
 * Shapes of overlap, as dst's place and length around src at X
 */

struct shape {
    const char *name;
    int64_t dst_off;                 /* from X */
    uint64_t dst_len;
};

/* Seven ways for dst to overlap src = [X, X + ls), dst ld long. */
static unsigned int overlapping(uint64_t ls, uint64_t ld, struct shape *s)
{
    const int64_t l = (int64_t)ls, d = (int64_t)ld;
    const struct shape all[] = {
        { "exact alias", 0, ls },
        { "dst starts inside src", l / 2, ld },
        { "src starts inside dst", -d / 2, ld },
        { "dst inside src", 1, ls - 2 },
        { "src inside dst", -64, ls + 128 },
        { "last octet of src shared", l - 1, ld },
        { "first octet of src shared", 1 - d, ld },
    };

    memcpy(s, all, sizeof(all));
    return sizeof(all) / sizeof(all[0]);
}

/* Two legal neighbours: dst right after src, and right before it. */
static void adjacent(uint64_t ls, uint64_t ld, struct shape s[2])
{
    s[0] = (struct shape){ "adjacent after", (int64_t)ls, ld };
    s[1] = (struct shape){ "adjacent before", -(int64_t)ld, ld };
}

/* @req is refused as overlapping, and nothing around X changed. */
static void expect_refused(struct guest *g, const vaccel_request_t *req,
                           const char *op, const char *shape)
{
    static uint8_t before[2 * WINDOW];
    int32_t st;

    memcpy(before, at(g, X - WINDOW), sizeof(before));
    st = call(g, req, NULL);
    PVT_CHECK_MSG(st == -XEN_EINVAL, "%s, %s: status %d, want -XEN_EINVAL",
                  op, shape, st);
    PVT_CHECK_MSG(memcmp(before, at(g, X - WINDOW), sizeof(before)) == 0,
                  "%s, %s: a refused request changed memory", op, shape);
}

/* Decompress @len octets at @iova into TMP: the number of octets out. */
static int64_t decode(struct guest *g, uint8_t alg, uint64_t iova,
                      uint64_t len, bool indirect)
{
    vaccel_response_t rsp;
    vaccel_request_t req;

    data_req(&req, VACCEL_OP_DECOMPRESS, alg, iova, len, TMP, 32768);
    if (indirect)
        req.flags = VACCEL_REQ_F_SRC_INDIRECT;
    if (call(g, &req, &rsp))
        return -1;
    return (int64_t)rsp.len;
}

/* The backend compresses DATA into REF: the stream's length. */
static uint64_t reference_stream(struct guest *g, uint8_t alg)
{
    vaccel_response_t rsp;
    vaccel_request_t req;

    data_req(&req, VACCEL_OP_COMPRESS, alg, DATA, DATA_LEN, REF, ROOM);
    PVT_EQ_INT(call(g, &req, &rsp), 0);
    return rsp.len;
}

/* ------------------------------------------------------------------------
 * Operations that refuse overlap
 */

/*
 * COMPRESS of @data (text, or noise: libdeflate then stores blocks,
 * memcpy() from src to dst, which is where a hostile guest first made
 * pvacceld copy between overlapping ranges).
 */
static void compress_shapes(struct guest *g, uint8_t alg, uint64_t data)
{
    struct shape s[8], n[2];
    unsigned int ns = overlapping(DATA_LEN, ROOM, s);
    vaccel_response_t rsp;
    vaccel_request_t req;
    int32_t st;

    memcpy(at(g, X), at(g, data), DATA_LEN);
    for (unsigned int i = 0; i < ns; i++) {
        data_req(&req, VACCEL_OP_COMPRESS, alg, X, DATA_LEN,
                 X + (uint64_t)s[i].dst_off, s[i].dst_len);
        expect_refused(g, &req, alg_names[alg], s[i].name);
    }
    adjacent(DATA_LEN, ROOM, n);
    for (unsigned int i = 0; i < 2; i++) {
        uint64_t dst = X + (uint64_t)n[i].dst_off;

        data_req(&req, VACCEL_OP_COMPRESS, alg, X, DATA_LEN, dst,
                 n[i].dst_len);
        st = call(g, &req, &rsp);
        PVT_CHECK_MSG(st == 0, "%s, %s: status %d", alg_names[alg],
                      n[i].name, st);
        PVT_CHECK_MSG(decode(g, alg, dst, rsp.len, false) == DATA_LEN &&
                      memcmp(at(g, TMP), at(g, data), DATA_LEN) == 0,
                      "%s, %s: the stream does not decode to src",
                      alg_names[alg], n[i].name);
    }
}

static void decompress_shapes(struct guest *g, uint8_t alg)
{
    uint64_t clen = reference_stream(g, alg);
    struct shape s[8], n[2];
    unsigned int ns = overlapping(clen, DATA_LEN, s);
    vaccel_response_t rsp;
    vaccel_request_t req;
    int32_t st;

    memcpy(at(g, X), at(g, REF), clen);
    for (unsigned int i = 0; i < ns; i++) {
        data_req(&req, VACCEL_OP_DECOMPRESS, alg, X, clen,
                 X + (uint64_t)s[i].dst_off, s[i].dst_len);
        expect_refused(g, &req, alg_names[alg], s[i].name);
    }
    adjacent(clen, DATA_LEN, n);
    for (unsigned int i = 0; i < 2; i++) {
        uint64_t dst = X + (uint64_t)n[i].dst_off;

        data_req(&req, VACCEL_OP_DECOMPRESS, alg, X, clen, dst,
                 n[i].dst_len);
        st = call(g, &req, &rsp);
        PVT_CHECK_MSG(st == 0 && rsp.len == DATA_LEN &&
                      memcmp(at(g, dst), at(g, DATA), DATA_LEN) == 0,
                      "%s decompress, %s: status %d", alg_names[alg],
                      n[i].name, st);
    }
}

#define AAD   16u
#define PLAIN 1000u

/* Encrypt AAD || plaintext at @src (out of place) into REF. */
static void aead_reference(struct guest *g, uint32_t aad)
{
    vaccel_request_t req;

    aead_req(g, &req, VACCEL_OP_AEAD_ENCRYPT, aad, DATA, aad + PLAIN, REF,
             PLAIN + 16);
    PVT_EQ_INT(call(g, &req, NULL), 0);
}

/* Misaligned overlaps of dst with src = [X, X + ls). */
static void aead_refused(struct guest *g, uint8_t op, uint64_t ls,
                         uint64_t ld, const char *name)
{
    const struct shape s[] = {
        { "dst at the AAD", 0, ld },
        { "dst one octet before the text", AAD - 1, ld },
        { "dst one octet after the text", AAD + 1, ld },
        { "dst inside the text", AAD + 100, 100 },
        { "src inside dst", -64, ls + 128 },
        { "dst starts inside src", (int64_t)ls / 2, ld },
        { "src starts inside dst", -(int64_t)ld / 2, ld },
        { "last octet of src shared", (int64_t)ls - 1, ld },
    };
    vaccel_request_t req;

    for (unsigned int i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        aead_req(g, &req, op, AAD, X, ls, X + (uint64_t)s[i].dst_off,
                 s[i].dst_len);
        expect_refused(g, &req, name, s[i].name);
    }
}

static void aead_shapes(struct guest *g)
{
    const uint64_t enc_len = AAD + PLAIN, dec_len = AAD + PLAIN + 16;
    struct shape n[2];
    vaccel_response_t rsp;
    vaccel_request_t req;
    int32_t st;

    /* Encrypt: src = AAD || P at X. */
    aead_reference(g, AAD);
    memcpy(at(g, X), at(g, DATA), enc_len);
    aead_refused(g, VACCEL_OP_AEAD_ENCRYPT, enc_len, PLAIN + 16, "encrypt");
    adjacent(enc_len, PLAIN + 16, n);
    for (unsigned int i = 0; i < 2; i++) {
        uint64_t dst = X + (uint64_t)n[i].dst_off;

        aead_req(g, &req, VACCEL_OP_AEAD_ENCRYPT, AAD, X, enc_len, dst,
                 PLAIN + 16);
        st = call(g, &req, NULL);
        PVT_CHECK_MSG(st == 0 &&
                      memcmp(at(g, dst), at(g, REF), PLAIN + 16) == 0,
                      "encrypt, %s: status %d", n[i].name, st);
    }
    /* In place: dst starts exactly where the text starts. */
    memcpy(at(g, X), at(g, DATA), enc_len);
    aead_req(g, &req, VACCEL_OP_AEAD_ENCRYPT, AAD, X, enc_len, X + AAD,
             PLAIN + 16);
    PVT_EQ_INT(call(g, &req, NULL), 0);
    PVT_CHECK_MSG(memcmp(at(g, X + AAD), at(g, REF), PLAIN + 16) == 0,
                  "encrypt in place: wrong ciphertext");

    /* Decrypt: src = AAD || C || tag at X (the in-place result above). */
    aead_refused(g, VACCEL_OP_AEAD_DECRYPT, dec_len, PLAIN, "decrypt");
    adjacent(dec_len, PLAIN, n);
    for (unsigned int i = 0; i < 2; i++) {
        uint64_t dst = X + (uint64_t)n[i].dst_off;

        aead_req(g, &req, VACCEL_OP_AEAD_DECRYPT, AAD, X, dec_len, dst,
                 PLAIN);
        st = call(g, &req, NULL);
        PVT_CHECK_MSG(st == 0 &&
                      memcmp(at(g, dst), at(g, DATA + AAD), PLAIN) == 0,
                      "decrypt, %s: status %d", n[i].name, st);
    }
    /* In place, also with dst reaching over the tag it must not touch. */
    aead_req(g, &req, VACCEL_OP_AEAD_DECRYPT, AAD, X, dec_len, X + AAD,
             PLAIN + 16);
    PVT_EQ_INT(call(g, &req, &rsp), 0);
    PVT_EQ_INT(rsp.len, PLAIN);
    PVT_CHECK_MSG(memcmp(at(g, X), at(g, DATA), enc_len) == 0,
                  "decrypt in place: wrong plaintext");

    /* Without AAD, in place is src and dst at the same IOVA. */
    aead_reference(g, 0);
    memcpy(at(g, X), at(g, DATA), PLAIN);
    aead_req(g, &req, VACCEL_OP_AEAD_ENCRYPT, 0, X, PLAIN, X, PLAIN + 16);
    PVT_EQ_INT(call(g, &req, NULL), 0);
    PVT_CHECK_MSG(memcmp(at(g, X), at(g, REF), PLAIN + 16) == 0,
                  "encrypt in place without AAD: wrong ciphertext");
    aead_req(g, &req, VACCEL_OP_AEAD_DECRYPT, 0, X, PLAIN + 16, X, PLAIN);
    PVT_EQ_INT(call(g, &req, NULL), 0);
    PVT_CHECK_MSG(memcmp(at(g, X), at(g, DATA), PLAIN) == 0,
                  "decrypt in place without AAD: wrong plaintext");
    /* ... and one octet off is not. */
    aead_req(g, &req, VACCEL_OP_AEAD_ENCRYPT, 0, X, PLAIN, X + 1, PLAIN + 16);
    expect_refused(g, &req, "encrypt without AAD", "dst one octet on");
}

/* ------------------------------------------------------------------------
 * Scatter lists
 */

static struct vaccel_seg *sg(struct guest *g, uint64_t list)
{
    return (struct vaccel_seg *)at(g, list);
}

/* Interleaved lists (legal), then one dst entry moved onto src. */
static void scatter_interleaved(struct guest *g)
{
    struct vaccel_seg *s = sg(g, SG_SRC), *d = sg(g, SG_DST);
    vaccel_response_t rsp;
    vaccel_request_t req;

    /* 64 src entries of 64 octets, each followed by a dst entry. */
    for (unsigned int i = 0; i < 64; i++) {
        s[i] = (struct vaccel_seg){ X + 128 * i, 64 };
        d[i] = (struct vaccel_seg){ X + 128 * i + 64, 64 };
        memcpy(at(g, X + 128 * i), at(g, DATA + 64 * i), 64);
    }
    data_req(&req, VACCEL_OP_COMPRESS, VACCEL_ALG_ZSTD, SG_SRC, 64 * 16,
             SG_DST, 64 * 16);
    req.flags = VACCEL_REQ_F_SRC_INDIRECT | VACCEL_REQ_F_DST_INDIRECT;
    PVT_EQ_INT(call(g, &req, &rsp), 0);
    /* The stream now lies in dst's pieces: decode it through the list. */
    PVT_CHECK_MSG(decode(g, VACCEL_ALG_ZSTD, SG_DST, 64 * 16, true) ==
                  DATA_LEN &&
                  memcmp(at(g, TMP), at(g, DATA), DATA_LEN) == 0,
                  "interleaved lists: the stream does not decode to src");

    /* The same gaps in a scrambled order: the check sorts them. */
    for (unsigned int i = 0; i < 64; i++)
        d[i] = (struct vaccel_seg){ X + 128 * (i * 37 % 64) + 64, 64 };
    PVT_EQ_INT(call(g, &req, &rsp), 0);
    d[50] = d[5];
    expect_refused(g, &req, "zstd lists", "scrambled, one gap twice");
    d[50] = (struct vaccel_seg){ X + 128 * (50 * 37 % 64) + 1, 64 };
    expect_refused(g, &req, "zstd lists", "scrambled, one entry on src");
    for (unsigned int i = 0; i < 64; i++)
        d[i] = (struct vaccel_seg){ X + 128 * i + 64, 64 };

    d[40] = (struct vaccel_seg){ X + 128 * 40 + 32, 64 };
    expect_refused(g, &req, "zstd lists", "dst entry 40 in src entry 40");
    d[40] = (struct vaccel_seg){ X + 128 * 63 + 63, 1 };
    expect_refused(g, &req, "zstd lists", "dst entry 40 on src's last octet");
    d[40] = (struct vaccel_seg){ X + 128 * 40 + 64, 64 };
    /* Decompressing the stream back into src's pieces: dst on src. */
    data_req(&req, VACCEL_OP_DECOMPRESS, VACCEL_ALG_ZSTD, SG_DST, 64 * 16,
             SG_DST, 64 * 16);
    req.flags = VACCEL_REQ_F_SRC_INDIRECT | VACCEL_REQ_F_DST_INDIRECT;
    expect_refused(g, &req, "zstd lists", "the same list for src and dst");
}

/* dst entries on one another; src entries on one another are fine. */
static void scatter_self(struct guest *g)
{
    struct vaccel_seg *s = sg(g, SG_SRC), *d = sg(g, SG_DST);
    const uint64_t D = X + 0x8000;
    vaccel_response_t rsp;
    vaccel_request_t req;

    data_req(&req, VACCEL_OP_COMPRESS, VACCEL_ALG_LZ4, X, DATA_LEN, SG_DST,
             2 * 16);
    req.flags = VACCEL_REQ_F_DST_INDIRECT;
    memcpy(at(g, X), at(g, DATA), DATA_LEN);
    d[0] = (struct vaccel_seg){ D, 4096 };
    d[1] = (struct vaccel_seg){ D + 2048, 4096 };
    expect_refused(g, &req, "lz4 dst list", "entries overlap");
    d[1] = (struct vaccel_seg){ D, 4096 };
    expect_refused(g, &req, "lz4 dst list", "an entry twice");
    d[1] = (struct vaccel_seg){ D + 4096, 4096 };
    PVT_EQ_INT(call(g, &req, NULL), 0);

    s[0] = (struct vaccel_seg){ X, 1000 };
    s[1] = (struct vaccel_seg){ X, 1000 };
    data_req(&req, VACCEL_OP_COMPRESS, VACCEL_ALG_GZIP, SG_SRC, 2 * 16, D,
             ROOM);
    req.flags = VACCEL_REQ_F_SRC_INDIRECT;
    PVT_EQ_INT(call(g, &req, &rsp), 0);
    PVT_CHECK_MSG(decode(g, VACCEL_ALG_GZIP, D, rsp.len, false) == 2000 &&
                  memcmp(at(g, TMP), at(g, X), 1000) == 0 &&
                  memcmp(at(g, TMP + 1000), at(g, X), 1000) == 0,
                  "a src list that repeats itself: wrong stream");
}

/* AEAD in place with the two lists cut at different places. */
static void scatter_aead(struct guest *g)
{
    struct vaccel_seg *s = sg(g, SG_SRC), *d = sg(g, SG_DST);
    vaccel_request_t req;

    aead_reference(g, AAD);
    memcpy(at(g, X), at(g, DATA), AAD + PLAIN);
    s[0] = (struct vaccel_seg){ X, AAD + 100 };
    s[1] = (struct vaccel_seg){ X + AAD + 100, PLAIN - 100 };
    d[0] = (struct vaccel_seg){ X + AAD, 500 };
    d[1] = (struct vaccel_seg){ X + AAD + 500, PLAIN - 500 + 16 };
    aead_req(g, &req, VACCEL_OP_AEAD_ENCRYPT, AAD, SG_SRC, 2 * 16, SG_DST,
             2 * 16);
    req.flags = VACCEL_REQ_F_SRC_INDIRECT | VACCEL_REQ_F_DST_INDIRECT;
    /* Swapped, each piece of dst lies over text it does not receive. */
    d[0] = (struct vaccel_seg){ X + AAD + 500, PLAIN - 500 + 16 };
    d[1] = (struct vaccel_seg){ X + AAD, 500 };
    expect_refused(g, &req, "aead lists", "in place, pieces swapped");
    d[0] = (struct vaccel_seg){ X + AAD, 500 };
    d[1] = (struct vaccel_seg){ X + AAD + 500, PLAIN - 500 + 16 };
    PVT_EQ_INT(call(g, &req, NULL), 0);
    PVT_CHECK_MSG(memcmp(at(g, X + AAD), at(g, REF), PLAIN + 16) == 0,
                  "aead lists in place: wrong ciphertext");
}

/* ------------------------------------------------------------------------
 * Operations that allow overlap
 */

static void overlap_allowed(struct guest *g)
{
    static uint8_t want[DATA_LEN + 100];
    const uint64_t D = X + 0x8000;
    struct vaccel_seg *d = sg(g, SG_DST);
    vaccel_response_t rsp;
    vaccel_request_t req;

    /* COPY is memmove when each operand is one piece. */
    memcpy(at(g, X), at(g, DATA), DATA_LEN);
    memcpy(want, at(g, DATA), DATA_LEN);
    memmove(want + 100, want, 1000);
    data_req(&req, VACCEL_OP_COPY, 0, X, 1000, X + 100, 1000);
    PVT_EQ_INT(call(g, &req, NULL), 0);
    PVT_CHECK_MSG(memcmp(at(g, X), want, DATA_LEN) == 0,
                  "overlapping COPY is not memmove");

    /* DIGEST writes its dst after reading all of src. */
    memcpy(at(g, X), at(g, DATA), DATA_LEN);
    data_req(&req, VACCEL_OP_DIGEST, VACCEL_ALG_SHA256, X, DATA_LEN, REF, 32);
    PVT_EQ_INT(call(g, &req, NULL), 0);
    data_req(&req, VACCEL_OP_DIGEST, VACCEL_ALG_SHA256, X, DATA_LEN, X + 100,
             32);
    PVT_EQ_INT(call(g, &req, NULL), 0);
    PVT_CHECK_MSG(memcmp(at(g, X + 100), at(g, REF), 32) == 0,
                  "DIGEST into its own src: wrong digest");

    /* COMPARE of a range with itself. */
    data_req(&req, VACCEL_OP_COMPARE, 0, X, DATA_LEN, X, DATA_LEN);
    PVT_EQ_INT(call(g, &req, &rsp), 0);
    PVT_EQ_INT(rsp.value, 0);

    /* FILL through entries that overlap. */
    d[0] = (struct vaccel_seg){ D, 100 };
    d[1] = (struct vaccel_seg){ D + 50, 100 };
    rf_req_init(&req, VACCEL_OP_FILL, 0x0f);
    req.flags = VACCEL_REQ_F_DST_INDIRECT;
    req.u.fill.dst = (struct vaccel_seg){ SG_DST, 2 * 16 };
    req.u.fill.pattern = 0x5a;
    PVT_EQ_INT(call(g, &req, &rsp), 0);
    PVT_EQ_INT(rsp.len, 200);
    for (unsigned int i = 0; i < 150; i++)
        if (at(g, D)[i] != 0x5a) {
            PVT_CHECK_MSG(false, "FILL with overlapping entries: octet %u",
                          i);
            break;
        }
}

/* ------------------------------------------------------------------------
 * Aliasing the backend cannot see: R_ALIAS maps R's grants again
 */

static bool documented(int32_t st)
{
    return st == 0 || st == -XEN_ENOSPC || st == -XEN_ENODATA ||
           st == -XEN_EILSEQ || st == -XEN_ENOMEM;
}

static void hidden_alias(struct guest *g)
{
    const uint64_t xa = R_ALIAS + (X - R);
    vaccel_response_t rsp;
    vaccel_request_t req;
    int32_t st;

    for (unsigned int a = 0; a < sizeof(compress_algs); a++) {
        uint8_t alg = compress_algs[a];
        uint64_t clen = reference_stream(g, alg);

        /* The stream at X, its output over it through the alias. */
        memcpy(at(g, X), at(g, REF), clen);
        data_req(&req, VACCEL_OP_DECOMPRESS, alg, X, clen, xa, DATA_LEN);
        st = call(g, &req, &rsp);
        PVT_CHECK_MSG(st == 0 && rsp.len == DATA_LEN &&
                      memcmp(at(g, X), at(g, DATA), DATA_LEN) == 0,
                      "%s: decompressed over its own input: status %d",
                      alg_names[alg], st);
        /* Compression over its own input: any result, a documented one. */
        memcpy(at(g, X), at(g, DATA), DATA_LEN);
        data_req(&req, VACCEL_OP_COMPRESS, alg, X, DATA_LEN, xa + 1000,
                 ROOM);
        st = call(g, &req, NULL);
        PVT_CHECK_MSG(st == 0 || st == -XEN_ENOSPC,
                      "%s: compressed over its own input: status %d",
                      alg_names[alg], st);
    }
    memcpy(at(g, X), at(g, DATA), AAD + PLAIN);
    aead_req(g, &req, VACCEL_OP_AEAD_ENCRYPT, AAD, X, AAD + PLAIN, xa + 7,
             PLAIN + 16);
    PVT_EQ_INT(call(g, &req, NULL), 0);
    aead_req(g, &req, VACCEL_OP_AEAD_DECRYPT, AAD, X, AAD + PLAIN + 16,
             xa + 3, PLAIN);
    st = call(g, &req, NULL);
    PVT_CHECK_MSG(st == 0 || st == -XEN_EBADMSG,
                  "decrypted over its own input: status %d", st);
}

/* ------------------------------------------------------------------------
 * Flips under DECOMPRESS
 */

struct flipper {
    uint8_t *stream;
    size_t len;
    volatile bool stop;
    unsigned long flips;
};

static void pause_a_little(unsigned int n)
{
    for (volatile unsigned int i = 0; i < n; i++)
        ;
}

/* Toggle a bit, leave it a moment, toggle it back, rest a moment. */
static void *flip(void *arg)
{
    struct flipper *fl = arg;
    uint64_t x = 0x2545f4914f6cdd1dull;

    while (!fl->stop) {
        uint8_t *p, bit;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p = fl->stream + x % fl->len;
        bit = (uint8_t)(1u << (x >> 61));
        __atomic_xor_fetch(p, bit, __ATOMIC_RELAXED);
        pause_a_little(200);
        __atomic_xor_fetch(p, bit, __ATOMIC_RELAXED);
        pause_a_little(200);
        fl->flips++;
    }
    return NULL;
}

/* @alg's stream of @in, with a checksum of the content where it has one. */
static size_t make_stream(uint8_t alg, const uint8_t *in, size_t n,
                          uint8_t *out, size_t room)
{
    struct libdeflate_compressor *c;
    LZ4F_preferences_t lp;
    ZSTD_CCtx *z;
    size_t r = 0;

    switch (alg) {
    case VACCEL_ALG_ZSTD:
        z = ZSTD_createCCtx();
        ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, 3);
        ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 1);
        r = ZSTD_compress2(z, out, room, in, n);
        ZSTD_freeCCtx(z);
        return ZSTD_isError(r) ? 0 : r;
    case VACCEL_ALG_LZ4:
        memset(&lp, 0, sizeof(lp));
        lp.frameInfo.blockSizeID = LZ4F_max64KB;
        lp.frameInfo.blockMode = LZ4F_blockLinked;
        lp.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
        lp.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled;
        lp.frameInfo.contentSize = n;
        r = LZ4F_compressFrame(out, room, in, n, &lp);
        return LZ4F_isError(r) ? 0 : r;
    default:
        c = libdeflate_alloc_compressor(6);
        if (alg == VACCEL_ALG_ZLIB)
            r = libdeflate_zlib_compress(c, in, n, out, room);
        else if (alg == VACCEL_ALG_GZIP)
            r = libdeflate_gzip_compress(c, in, n, out, room);
        else
            r = libdeflate_deflate_compress(c, in, n, out, room);
        libdeflate_free_compressor(c);
        return r;
    }
}

struct tally {
    unsigned int ok, refused, wrong;
};

static void judge(uint8_t alg, const vaccel_response_t *rsp,
                  const uint8_t *out, const uint8_t *orig, size_t clen,
                  struct tally *t)
{
    /* Raw deflate carries no checksum: a flip may decode to other data. */
    bool vouched = alg != VACCEL_ALG_DEFLATE;

    if (rsp->status && documented(rsp->status)) {
        t->refused++;
    } else if (rsp->status) {
        printf("# flips, %s: status %d\n", alg_names[alg], rsp->status);
        t->wrong++;
    } else if (rsp->len > FLIP_LEN || rsp->value > clen ||
               (vouched && (rsp->len != FLIP_LEN ||
                            memcmp(out, orig, FLIP_LEN)))) {
        printf("# flips, %s: success with len %llu, value %llu%s\n",
               alg_names[alg], (unsigned long long)rsp->len,
               (unsigned long long)rsp->value,
               vouched ? ", or wrong data" : "");
        t->wrong++;
    } else {
        t->ok++;
    }
}

static void flips(struct guest *g, uint8_t alg, struct rf_mem *sm,
                  const uint8_t *orig)
{
    uint8_t *stream = sm->addr, *outs = stream + S_ROOM;
    struct flipper fl = { stream, 0, false, 0 };
    struct tally t = { 0, 0, 0 };
    pthread_t th;

    fl.len = make_stream(alg, orig, FLIP_LEN, stream, S_ROOM);
    PVT_CHECK_MSG(fl.len > 0, "%s: no stream", alg_names[alg]);
    if (!fl.len)
        return;
    pthread_create(&th, NULL, flip, &fl);
    for (unsigned int round = 0; round < FLIP_ROUNDS; round++) {
        memset(outs, 0, FLIP_DEPTH * FLIP_LEN);
        for (unsigned int i = 0; i < FLIP_DEPTH; i++) {
            vaccel_request_t *r = rf_req(&g->f, 0);

            data_req(r, VACCEL_OP_DECOMPRESS, alg, S, fl.len,
                     S + S_ROOM + (uint64_t)i * FLIP_LEN, FLIP_LEN);
            r->id = i;
        }
        rf_push(&g->f, 0);
        for (unsigned int i = 0; i < FLIP_DEPTH; i++) {
            vaccel_response_t rsp;

            if (rf_rsp(&g->f, 0, &rsp)) {
                t.wrong++;
                break;
            }
            judge(alg, &rsp, outs + (rsp.id % FLIP_DEPTH) * FLIP_LEN, orig,
                  fl.len, &t);
        }
    }
    fl.stop = true;
    pthread_join(th, NULL);
    printf("# flips, %s: %lu flips of a %zu-octet stream; %u decoded, "
           "%u refused\n", alg_names[alg], fl.flips, fl.len, t.ok,
           t.refused);
    PVT_EQ_INT(t.wrong, 0);
    PVT_CHECK(t.ok + t.refused == FLIP_ROUNDS * FLIP_DEPTH);
}

static void flips_all(struct guest *g)
{
    uint8_t *orig = malloc(FLIP_LEN);
    struct rf_mem sm;

    PVT_CHECK(orig != NULL);
    if (!orig)
        return;
    gen(orig, FLIP_LEN, 777);
    PVT_EQ_INT(rf_mem_alloc(&g->f, S_PAGES, true, &sm), 0);
    PVT_EQ_INT(rf_map_region(&g->f, 0, S, &sm, true), 0);
    for (unsigned int a = 0; a < sizeof(compress_algs); a++)
        flips(g, compress_algs[a], &sm, orig);
    PVT_EQ_INT(rf_unmap_region(&g->f, 0, S, (uint64_t)S_PAGES * 4096), 0);
    rf_mem_free(&g->f, &sm);
    free(orig);
}

/* ------------------------------------------------------------------------ */

static int guest(void *arg)
{
    struct guest g;
    vaccel_response_t rsp;
    vaccel_request_t req;

    (void)arg;
    memset(&g, 0, sizeof(g));
    PVT_EQ_INT(rf_init(&g.f, 0), 0);
    PVT_EQ_INT(rf_connect(&g.f, 1, 0), 0);
    PVT_EQ_INT(rf_mem_alloc(&g.f, R_PAGES, true, &g.m), 0);
    PVT_EQ_INT(rf_map_region(&g.f, 0, R, &g.m, true), 0);
    PVT_EQ_INT(rf_map_region(&g.f, 0, R_ALIAS, &g.m, true), 0);
    g.mem = g.m.addr;
    gen(at(&g, DATA), DATA_LEN, 12345);
    noise(at(&g, NOISE), DATA_LEN);
    memset(at(&g, KEY), 0x6b, 32);
    rf_req_init(&req, VACCEL_OP_SESSION_CREATE, 1);
    req.alg = VACCEL_ALG_AES_256_GCM;
    req.u.session_create.key = (struct vaccel_seg){ KEY, 32 };
    PVT_EQ_INT(call(&g, &req, &rsp), 0);
    g.aead = (uint32_t)rsp.value;

    for (unsigned int a = 0; a < sizeof(compress_algs); a++) {
        compress_shapes(&g, compress_algs[a], DATA);
        compress_shapes(&g, compress_algs[a], NOISE);
        decompress_shapes(&g, compress_algs[a]);
    }
    aead_shapes(&g);
    scatter_interleaved(&g);
    scatter_self(&g);
    scatter_aead(&g);
    overlap_allowed(&g);
    hidden_alias(&g);
    flips_all(&g);
    rf_fini(&g.f);
    return 0;
}

int main(void)
{
    char stats[16384];
    pid_t pid;
    int dom;

    if (rf_env_start(&env, NULL)) {
        fprintf(stderr, "cannot start the sim and pvacceld\n");
        return 99;
    }
    dom = pvt_sim_create(&env.sim, "aliasing");
    PVT_CHECK(dom > 0);
    PVT_EQ_INT(rf_env_attach(&env, dom, 0, NULL), 0);
    pid = pvt_sim_spawn(&env.sim, dom, guest, NULL);
    PVT_EQ_INT(pvt_wait(pid), 0);
    /* The daemon survived all of it and still answers. */
    PVT_EQ_INT(rf_env_stats(&env, stats, sizeof(stats)), 0);
    PVT_CHECK(strstr(stats, "\"engine\":\"cpu\"") != NULL);
    PVT_EQ_INT(rf_env_stop_backend(&env), 0);
    rf_env_stop(&env);
    return pvt_done();
}
