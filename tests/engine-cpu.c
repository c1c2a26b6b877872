/* SPDX-License-Identifier: MIT */
/*
 * engine-cpu.c: the CPU engine driven directly through backend/engine.h.
 *
 * Known answers (FIPS 180-4 / NIST SHA examples, McGrew-Viega GCM test
 * cases 13-16, RFC 8439 2.8.2, RFC 3720 B.4 CRC-32C), compression round
 * trips and cross-checks against the libraries called directly, every
 * documented error status, scatter operands, and the queue machinery:
 * jobs on workers and inline, out-of-order completion, a full job ring,
 * queue_close with jobs outstanding, queue_cancel.
 *
 * Every data test runs twice: on an engine that runs small jobs inline
 * and on one that sends every job to its workers ("inline=0").  The AEAD
 * key cache tests run a third time on one worker, so that every job of
 * theirs shares one cipher context whatever the scheduling.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libdeflate.h>
#include <lz4frame.h>
#include <openssl/evp.h>
#include <zstd.h>

#include "accelif.h"
#include "backend/engine.h"
#include "backend/engines/cpu.h"
#include "backend/engines/cpu_crc32c.h"
#include "tests/testlib.h"

/* A scatter list at the protocol's default cap, plus the test's empty extras. */
#define MAXP (VACCEL_DEFAULT_MAX_SG_ENTRIES + 2)

/* ------------------------------------------------------------------------
 * Fixture and job helpers
 */

struct fx {
    const char *name;
    struct pva_engine *e;
    struct pva_engine_ctx *ctx;
    struct pva_engine_queue *q;
};

/* A job with room for its pieces and a completion flag. */
struct tj {
    struct pva_job job;
    struct pva_iov siov[MAXP], diov[MAXP];
    pthread_mutex_t m;
    pthread_cond_t c;
    bool done;
};

static void tj_init(struct tj *t, uint8_t op, uint8_t alg)
{
    memset(t, 0, sizeof(*t));
    pthread_mutex_init(&t->m, NULL);
    pthread_cond_init(&t->c, NULL);
    t->job.op = op;
    t->job.alg = alg;
}

static void tj_fini(struct tj *t)
{
    pthread_cond_destroy(&t->c);
    pthread_mutex_destroy(&t->m);
}

static void tj_done(struct pva_job *job)
{
    struct tj *t = (struct tj *)job;    /* job is its first member */

    pthread_mutex_lock(&t->m);
    t->done = true;
    pthread_cond_signal(&t->c);
    pthread_mutex_unlock(&t->m);
}

/* Submit and wait; returns the job's status (or submit's error). */
static int tj_run(struct fx *f, struct tj *t)
{
    int rc;

    t->done = false;
    t->job.status = 0;
    t->job.len = t->job.value = t->job.aux = 0;
    t->job.done = tj_done;
    rc = pva_engine_cpu.submit(f->q, &t->job);
    if (rc)
        return rc;
    pthread_mutex_lock(&t->m);
    while (!t->done)
        pthread_cond_wait(&t->c, &t->m);
    pthread_mutex_unlock(&t->m);
    return t->job.status;
}

static void op_flat(struct pva_operand *op, struct pva_iov *iov, void *p,
                    size_t n)
{
    iov[0].base = p;
    iov[0].len = n;
    op->iov = iov;
    op->niov = 1;
    op->len = n;
}

/*
 * Split [p, p + n) into up to MAXP pieces of awkward sizes, with empty
 * pieces among them; the last piece takes the rest.
 */
static void op_split(struct pva_operand *op, struct pva_iov *iov, void *p,
                     size_t n, unsigned int salt)
{
    static const size_t sizes[] = { 0, 1, 3, 0, 17, 512, 4093, 0, 7, 65537,
                                    2, 100, 0, 31, 8191, 5 };
    unsigned int i = 0;
    size_t off = 0;

    while (i < MAXP - 2 && off < n) {
        size_t s = sizes[(i + salt) % (sizeof(sizes) / sizeof(sizes[0]))];

        if (s > n - off)
            s = n - off;
        iov[i].base = (uint8_t *)p + off;
        iov[i].len = s;
        off += s;
        i++;
    }
    iov[i].base = (uint8_t *)p + off;
    iov[i].len = n - off;
    i++;
    iov[i].base = p;        /* a trailing empty piece too */
    iov[i].len = 0;
    op->iov = iov;
    op->niov = i + 1;
    op->len = n;
}

static void set_src(struct tj *t, void *p, size_t n, bool split)
{
    if (split)
        op_split(&t->job.src, t->siov, p, n, 1);
    else
        op_flat(&t->job.src, t->siov, p, n);
}

static void set_dst(struct tj *t, void *p, size_t n, bool split)
{
    if (split)
        op_split(&t->job.dst, t->diov, p, n, 5);
    else
        op_flat(&t->job.dst, t->diov, p, n);
}

static size_t unhex(uint8_t *out, const char *hex)
{
    size_t n = 0;

    for (; hex[0] && hex[1]; hex += 2) {
        unsigned int v;

        if (sscanf(hex, "%2x", &v) != 1)
            break;
        out[n++] = (uint8_t)v;
    }
    return n;
}

static bool eq_hex(const uint8_t *p, size_t n, const char *hex)
{
    uint8_t want[256];

    return unhex(want, hex) == n && !memcmp(p, want, n);
}

/* Text-like test data: compressible, not trivially. */
static void gen_text(uint8_t *p, size_t n, uint32_t seed)
{
    static const char *const words[] = {
        "grant ", "ring ", "event ", "channel ", "backend ", "frontend ",
        "xenstore ", "domain ", "page ", "queue ", "the ", "of ", "a ",
        "accelerator ", "compress ", "\n", "IOVA ", "0x1f3a ", "-- ",
    };
    uint32_t x = seed ? seed : 1;
    size_t off = 0;

    while (off < n) {
        const char *w;
        size_t l;

        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        w = words[x % (sizeof(words) / sizeof(words[0]))];
        l = strlen(w);
        if (l > n - off)
            l = n - off;
        memcpy(p + off, w, l);
        off += l;
    }
}

static int fx_open(struct fx *f, const char *name, const char *args)
{
    int rc;

    memset(f, 0, sizeof(*f));
    f->name = name;
    rc = pva_engine_cpu.create(args, &f->e);
    if (!rc)
        rc = pva_engine_cpu.ctx_open(f->e, 1, &f->ctx);
    if (!rc)
        rc = pva_engine_cpu.queue_open(f->ctx, &f->q);
    return rc;
}

static void fx_close(struct fx *f)
{
    if (f->q)
        pva_engine_cpu.queue_close(f->q);
    if (f->ctx)
        pva_engine_cpu.ctx_close(f->ctx);
    if (f->e)
        pva_engine_cpu.destroy(f->e);
}

/* The COMPRESS levels the engine accepts for @alg, from its caps. */
static void fx_levels(struct fx *f, uint8_t alg, int32_t *min, int32_t *max)
{
    struct pva_engine_caps caps;

    pva_engine_cpu.caps(f->e, &caps);
    *min = caps.level_min[alg];
    *max = caps.level_max[alg];
}

/* ------------------------------------------------------------------------
 * Registry, caps, DMA bookkeeping
 */

static void test_registry(void)
{
    struct pva_engine *e = NULL;
    static const char *const bad[] = { "foo=1", "workers=0", "workers=x",
                                       "inline", "depth=0", "workers=2,",
                                       ",", "workers=2,,inline=0",
                                       "workers=1,bogus=2", "inline=-1",
                                       "workers= 2", "spin=10001" };

    PVT_CHECK(pva_engine_find("cpu") == &pva_engine_cpu);
    PVT_CHECK(pva_engine_find("gpu") == NULL);
    PVT_CHECK(pva_engine_find(NULL) == NULL);
    for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        PVT_CHECK_MSG(pva_engine_cpu.create(bad[i], &e) == -XEN_EINVAL,
                      "engine args \"%s\" refused", bad[i]);
    PVT_EQ_INT(pva_engine_cpu.create("", &e), 0);
    /* The default inline threshold follows the machine (docs/engines.md). */
    PVT_CHECK(pva_cpu_inline_max(e) ==
              (sysconf(_SC_NPROCESSORS_ONLN) >= 4 ? 65536 : 64u << 20));
    pva_engine_cpu.destroy(e);
    PVT_EQ_INT(pva_engine_cpu.create(NULL, &e), 0);
    pva_engine_cpu.destroy(e);
}

static void test_caps(void)
{
    struct pva_engine_caps caps;
    struct pva_engine *e;

    PVT_EQ_INT(pva_engine_cpu.create("workers=3,inline=100", &e), 0);
    pva_engine_cpu.caps(e, &caps);
    PVT_EQ_STR(caps.name, "cpu");
    PVT_CHECK(caps.mem == PVA_ENGINE_MEM_DIRECT);
    PVT_EQ_INT(caps.hw_queues, 3);
    PVT_EQ_INT(pva_cpu_inline_max(e), 100);
    for (uint8_t a = VACCEL_ALG_DEFLATE; a <= VACCEL_ALG_LZ4; a++)
        PVT_CHECK(caps.compress_algs & PVA_ALG_BIT(a));
    PVT_EQ_INT(caps.level_min[VACCEL_ALG_DEFLATE], 1);
    PVT_EQ_INT(caps.level_max[VACCEL_ALG_GZIP], 12);
    PVT_EQ_INT(caps.level_min[VACCEL_ALG_ZSTD], ZSTD_minCLevel());
    PVT_EQ_INT(caps.level_max[VACCEL_ALG_ZSTD], ZSTD_maxCLevel());
    PVT_EQ_INT(caps.level_min[VACCEL_ALG_LZ4], 1);
    PVT_EQ_INT(caps.level_max[VACCEL_ALG_LZ4], 12);
    PVT_CHECK(caps.digest_algs == (PVA_ALG_BIT(VACCEL_ALG_SHA256) |
                                   PVA_ALG_BIT(VACCEL_ALG_SHA512)));
    PVT_CHECK(caps.aead_algs == (PVA_ALG_BIT(VACCEL_ALG_AES_256_GCM) |
                                 PVA_ALG_BIT(VACCEL_ALG_CHACHA20_POLY1305)));
    PVT_CHECK(caps.copy && caps.fill && caps.compare && caps.crc32c);
    pva_engine_cpu.destroy(e);
}

static void test_dma(void)
{
    static uint8_t region[3 * VACCEL_PAGE_SIZE];
    void *h1 = NULL, *h2 = NULL;
    struct fx f;

    PVT_EQ_INT(fx_open(&f, "dma", "workers=1"), 0);
    PVT_EQ_INT(pva_engine_cpu.dma_map(f.ctx, region, 2 * VACCEL_PAGE_SIZE,
                                      0x10000, true, &h1), 0);
    PVT_EQ_INT(pva_engine_cpu.dma_map(f.ctx, region + 2 * VACCEL_PAGE_SIZE,
                                      VACCEL_PAGE_SIZE, 0x20000, false, &h2),
               0);
    PVT_EQ_INT(pva_cpu_ctx_mapped_bytes(f.ctx), 3 * VACCEL_PAGE_SIZE);
    PVT_EQ_INT(pva_cpu_ctx_mappings(f.ctx), 2);
    pva_engine_cpu.dma_unmap(f.ctx, h1);
    PVT_EQ_INT(pva_cpu_ctx_mapped_bytes(f.ctx), VACCEL_PAGE_SIZE);
    pva_engine_cpu.dma_unmap(f.ctx, h2);
    PVT_EQ_INT(pva_cpu_ctx_mapped_bytes(f.ctx), 0);
    PVT_EQ_INT(pva_cpu_ctx_mappings(f.ctx), 0);
    PVT_EQ_INT(pva_engine_cpu.dma_map(f.ctx, NULL, 4096, 0x1000, true, &h1),
               -XEN_EINVAL);
    fx_close(&f);
}

/* ------------------------------------------------------------------------
 * Digests: FIPS 180-4 examples (NIST CSRC "SHA-2 examples")
 */

static const char msg448[] =
    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char msg896[] =
    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
    "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

struct digest_kat {
    uint8_t alg;
    const char *msg;
    const char *hex;
};

static const struct digest_kat digest_kats[] = {
    { VACCEL_ALG_SHA256, "abc",
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
    { VACCEL_ALG_SHA256, "",
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
    { VACCEL_ALG_SHA256, msg448,
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
    { VACCEL_ALG_SHA512, "abc",
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
      "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" },
    { VACCEL_ALG_SHA512, msg448,
      "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
      "96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445" },
    { VACCEL_ALG_SHA512, msg896,
      "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
      "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909" },
};

static const char sha256_million_a[] =
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
static const char sha512_million_a[] =
    "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
    "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b";

static void test_digest_kats(struct fx *f)
{
    for (unsigned int i = 0; i < sizeof(digest_kats) / sizeof(digest_kats[0]);
         i++) {
        const struct digest_kat *k = &digest_kats[i];
        uint8_t out[64];
        struct tj t;

        for (int split = 0; split < 2; split++) {
            tj_init(&t, VACCEL_OP_DIGEST, k->alg);
            set_src(&t, (void *)k->msg, strlen(k->msg), split);
            set_dst(&t, out, sizeof(out), split);
            PVT_EQ_INT(tj_run(f, &t), 0);
            PVT_CHECK_MSG(eq_hex(out, t.job.len, k->hex),
                          "[%s] digest alg %u of \"%.8s...\" split %d",
                          f->name, k->alg, k->msg, split);
            tj_fini(&t);
        }
    }
}

/* One million 'a': one-shot scattered, and streamed through a session. */
static void test_digest_million(struct fx *f, uint8_t alg, const char *hex)
{
    size_t n = 1000000, chunk = 99991;
    uint8_t *a = malloc(n), out[64];
    struct pva_engine_session *s = NULL;
    struct tj t;

    memset(a, 'a', n);
    tj_init(&t, VACCEL_OP_DIGEST, alg);
    set_src(&t, a, n, true);
    set_dst(&t, out, sizeof(out), false);
    PVT_EQ_INT(tj_run(f, &t), 0);
    PVT_CHECK_MSG(eq_hex(out, t.job.len, hex), "[%s] alg %u million a",
                  f->name, alg);

    /* Streamed twice: the session resets after each final request. */
    PVT_EQ_INT(pva_engine_cpu.session_create(f->ctx, alg, NULL, 0, &s), 0);
    for (int round = 0; round < 2; round++) {
        size_t off = 0;

        while (n - off > chunk) {
            t.job.session = s;
            t.job.flags = VACCEL_DIGEST_F_MORE;
            set_src(&t, a + off, chunk, round);
            memset(&t.job.dst, 0, sizeof(t.job.dst));
            PVT_EQ_INT(tj_run(f, &t), 0);
            PVT_EQ_INT(t.job.len, 0);
            off += chunk;
        }
        t.job.flags = 0;
        set_src(&t, a + off, n - off, false);
        set_dst(&t, out, sizeof(out), round);
        memset(out, 0, sizeof(out));
        PVT_EQ_INT(tj_run(f, &t), 0);
        PVT_CHECK_MSG(eq_hex(out, t.job.len, hex),
                      "[%s] alg %u million a streamed, round %d", f->name,
                      alg, round);
    }
    pva_engine_cpu.session_destroy(f->ctx, s);
    tj_fini(&t);
    free(a);
}

static void test_digest_errors(struct fx *f)
{
    struct pva_engine_session *s = NULL;
    uint8_t out[64];
    struct tj t;

    tj_init(&t, VACCEL_OP_DIGEST, VACCEL_ALG_SHA256);
    set_src(&t, "abc", 3, false);
    set_dst(&t, out, 31, false);
    PVT_EQ_INT(tj_run(f, &t), -XEN_ENOSPC);
    PVT_EQ_INT(t.job.aux, 32);
    PVT_EQ_INT(t.job.len, 0);

    t.job.alg = VACCEL_ALG_SHA512;
    set_dst(&t, out, 63, true);
    PVT_EQ_INT(tj_run(f, &t), -XEN_ENOSPC);
    PVT_EQ_INT(t.job.aux, 64);

    /* MORE needs a session and no dst. */
    t.job.flags = VACCEL_DIGEST_F_MORE;
    memset(&t.job.dst, 0, sizeof(t.job.dst));
    PVT_EQ_INT(tj_run(f, &t), -XEN_EINVAL);
    PVT_EQ_INT(pva_engine_cpu.session_create(f->ctx, VACCEL_ALG_SHA512, NULL,
                                             0, &s), 0);
    t.job.session = s;
    set_dst(&t, out, sizeof(out), false);
    PVT_EQ_INT(tj_run(f, &t), -XEN_EINVAL);
    /* A session of another algorithm. */
    t.job.flags = 0;
    t.job.alg = VACCEL_ALG_SHA256;
    PVT_EQ_INT(tj_run(f, &t), -XEN_EINVAL);
    pva_engine_cpu.session_destroy(f->ctx, s);

    t.job.session = NULL;
    t.job.alg = VACCEL_ALG_AES_256_GCM;
    PVT_EQ_INT(tj_run(f, &t), -XEN_EOPNOTSUPP);
    tj_fini(&t);

    PVT_EQ_INT(pva_engine_cpu.session_create(f->ctx, VACCEL_ALG_SHA256,
                                             out, 32, &s), -XEN_EINVAL);
    PVT_EQ_INT(pva_engine_cpu.session_create(f->ctx, VACCEL_ALG_ZSTD, NULL,
                                             0, &s), -XEN_EOPNOTSUPP);
    PVT_EQ_INT(pva_engine_cpu.session_create(f->ctx, VACCEL_ALG_AES_256_GCM,
                                             out, 16, &s), -XEN_EINVAL);
}

/* ------------------------------------------------------------------------
 * AEAD: McGrew-Viega GCM test cases 13-16 (AES-256, 96-bit IV; 17 and 18
 * use other IV lengths, which the protocol does not have), RFC 8439 2.8.2.
 */

struct aead_kat {
    const char *name;
    uint8_t alg;
    const char *key, *iv, *aad, *pt, *ct, *tag;
};

#define GCM_K15 "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
#define GCM_P15 "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
                "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM_C15 "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa" \
                "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"

static const struct aead_kat aead_kats[] = {
    { "gcm tc13", VACCEL_ALG_AES_256_GCM,
      "0000000000000000000000000000000000000000000000000000000000000000",
      "000000000000000000000000", "", "", "",
      "530f8afbc74536b9a963b4f1c4cb738b" },
    { "gcm tc14", VACCEL_ALG_AES_256_GCM,
      "0000000000000000000000000000000000000000000000000000000000000000",
      "000000000000000000000000", "", "00000000000000000000000000000000",
      "cea7403d4d606b6e074ec5d3baf39d18",
      "d0d1c8a799996bf0265b98b5d48ab919" },
    { "gcm tc15", VACCEL_ALG_AES_256_GCM, GCM_K15,
      "cafebabefacedbaddecaf888", "", GCM_P15 "1aafd255",
      GCM_C15 "898015ad", "b094dac5d93471bdec1a502270e3cc6c" },
    { "gcm tc16", VACCEL_ALG_AES_256_GCM, GCM_K15,
      "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
      GCM_P15, GCM_C15, "76fc6ece0f4e1768cddf8853bb2d551b" },
    { "rfc8439 2.8.2", VACCEL_ALG_CHACHA20_POLY1305,
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

struct aead_buf {
    uint8_t key[32], iv[12], src[256], dst[256], want[256];
    size_t aad, pt, ct;
};

static void aead_load(const struct aead_kat *k, struct aead_buf *b)
{
    memset(b, 0, sizeof(*b));
    unhex(b->key, k->key);
    unhex(b->iv, k->iv);
    b->aad = unhex(b->src, k->aad);
    b->pt = unhex(b->src + b->aad, k->pt);
    b->ct = unhex(b->want, k->ct);
    b->ct += unhex(b->want + b->ct, k->tag);
}

static void aead_setup(struct tj *t, uint8_t op, struct pva_engine_session *s,
                       const struct aead_buf *b)
{
    tj_init(t, op, 0);
    t->job.session = s;
    memcpy(t->job.param.aead.nonce, b->iv, sizeof(b->iv));
    t->job.param.aead.aad_len = (uint32_t)b->aad;
}

static void test_aead_kat(struct fx *f, const struct aead_kat *k, bool split)
{
    struct pva_engine_session *s = NULL;
    struct aead_buf b;
    struct tj t;

    aead_load(k, &b);
    PVT_EQ_INT(pva_engine_cpu.session_create(f->ctx, k->alg, b.key, 32, &s),
               0);

    aead_setup(&t, VACCEL_OP_AEAD_ENCRYPT, s, &b);
    set_src(&t, b.src, b.aad + b.pt, split);
    set_dst(&t, b.dst, sizeof(b.dst), split);
    PVT_EQ_INT(tj_run(f, &t), 0);
    PVT_CHECK_MSG(t.job.len == b.ct && !memcmp(b.dst, b.want, b.ct),
                  "[%s] %s encrypt (split %d)", f->name, k->name, split);
    tj_fini(&t);

    /* Decrypt: src = aad || ciphertext || tag. */
    memcpy(b.src + b.aad, b.want, b.ct);
    aead_setup(&t, VACCEL_OP_AEAD_DECRYPT, s, &b);
    set_src(&t, b.src, b.aad + b.ct, split);
    set_dst(&t, b.dst, sizeof(b.dst), split);
    memset(b.dst, 0xaa, sizeof(b.dst));
    PVT_EQ_INT(tj_run(f, &t), 0);
    PVT_EQ_INT(t.job.len, b.pt);
    {
        uint8_t pt[256];

        PVT_CHECK_MSG(unhex(pt, k->pt) == b.pt && !memcmp(b.dst, pt, b.pt),
                      "[%s] %s decrypt (split %d)", f->name, k->name, split);
    }

    /* A flipped tag bit: EBADMSG, and no plaintext left in dst. */
    b.src[b.aad + b.ct - 1] ^= 0x01;
    memset(b.dst, 0xaa, sizeof(b.dst));
    PVT_EQ_INT(tj_run(f, &t), -XEN_EBADMSG);
    PVT_EQ_INT(t.job.len, 0);
    {
        bool zero = true;

        for (size_t i = 0; i < b.pt; i++)
            zero &= b.dst[i] == 0;
        PVT_CHECK_MSG(zero && b.dst[b.pt] == 0xaa,
                      "[%s] %s bad tag zeroes exactly the plaintext",
                      f->name, k->name);
    }
    /* A flipped AAD bit fails the same way (when there is AAD). */
    b.src[b.aad + b.ct - 1] ^= 0x01;
    if (b.aad) {
        b.src[0] ^= 0x80;
        PVT_EQ_INT(tj_run(f, &t), -XEN_EBADMSG);
        b.src[0] ^= 0x80;
    }
    tj_fini(&t);
    pva_engine_cpu.session_destroy(f->ctx, s);
}

/* In place: dst starts where the text starts in src. */
static void test_aead_inplace(struct fx *f)
{
    const struct aead_kat *k = &aead_kats[4];
    struct pva_engine_session *s = NULL;
    struct aead_buf b;
    struct tj t;

    aead_load(k, &b);
    PVT_EQ_INT(pva_engine_cpu.session_create(f->ctx, k->alg, b.key, 32, &s),
               0);
    aead_setup(&t, VACCEL_OP_AEAD_ENCRYPT, s, &b);
    set_src(&t, b.src, b.aad + b.pt, false);
    set_dst(&t, b.src + b.aad, b.pt + 16, false);
    PVT_EQ_INT(tj_run(f, &t), 0);
    PVT_CHECK_MSG(!memcmp(b.src + b.aad, b.want, b.ct),
                  "[%s] chacha encrypt in place", f->name);
    tj_fini(&t);

    aead_setup(&t, VACCEL_OP_AEAD_DECRYPT, s, &b);
    set_src(&t, b.src, b.aad + b.ct, false);
    set_dst(&t, b.src + b.aad, b.pt, false);
    PVT_EQ_INT(tj_run(f, &t), 0);
    PVT_CHECK_MSG(!memcmp(b.src + b.aad, "Ladies and Gentlemen", 20),
                  "[%s] chacha decrypt in place", f->name);
    tj_fini(&t);
    pva_engine_cpu.session_destroy(f->ctx, s);
}

static void test_aead_errors(struct fx *f)
{
    const struct aead_kat *k = &aead_kats[3];
    struct pva_engine_session *s = NULL;
    struct aead_buf b;
    struct tj t;

    aead_load(k, &b);
    PVT_EQ_INT(pva_engine_cpu.session_create(f->ctx, k->alg, b.key, 32, &s),
               0);
    aead_setup(&t, VACCEL_OP_AEAD_ENCRYPT, s, &b);
    set_src(&t, b.src, b.aad + b.pt, false);
    set_dst(&t, b.dst, b.pt + 15, false);
    PVT_EQ_INT(tj_run(f, &t), -XEN_ENOSPC);
    PVT_EQ_INT(t.job.aux, b.pt + 16);

    t.job.param.aead.aad_len = (uint32_t)(b.aad + b.pt + 1);
    set_dst(&t, b.dst, sizeof(b.dst), false);
    PVT_EQ_INT(tj_run(f, &t), -XEN_EINVAL);

    t.job.op = VACCEL_OP_AEAD_DECRYPT;
    t.job.param.aead.aad_len = (uint32_t)b.aad;
    set_src(&t, b.src, b.aad + 15, false);          /* shorter than a tag */
    PVT_EQ_INT(tj_run(f, &t), -XEN_EINVAL);
    set_src(&t, b.src, b.aad + b.ct, false);
    set_dst(&t, b.dst, b.pt - 1, false);
    PVT_EQ_INT(tj_run(f, &t), -XEN_ENOSPC);
    PVT_EQ_INT(t.job.aux, b.pt);

    t.job.session = NULL;
    PVT_EQ_INT(tj_run(f, &t), -XEN_EINVAL);
    tj_fini(&t);
    pva_engine_cpu.session_destroy(f->ctx, s);
}

/* A large message through scattered operands, checked by a round trip. */
static void test_aead_large(struct fx *f, uint8_t alg)
{
    size_t n = 300000, aad = 77;
    uint8_t key[32], *src = malloc(n + 16), *ct = malloc(n + 16);
    uint8_t *back = malloc(n);
    struct pva_engine_session *s = NULL;
    struct tj t;

    memset(key, 0x42, sizeof(key));
    gen_text(src, n, 7);
    PVT_EQ_INT(pva_engine_cpu.session_create(f->ctx, alg, key, 32, &s), 0);
    tj_init(&t, VACCEL_OP_AEAD_ENCRYPT, 0);
    t.job.session = s;
    t.job.param.aead.aad_len = (uint32_t)aad;
    set_src(&t, src, n, true);
    set_dst(&t, ct + aad, n - aad + 16, true);
    PVT_EQ_INT(tj_run(f, &t), 0);
    memcpy(ct, src, aad);
    t.job.op = VACCEL_OP_AEAD_DECRYPT;
    set_src(&t, ct, n + 16, true);
    set_dst(&t, back, n - aad, false);
    PVT_EQ_INT(tj_run(f, &t), 0);
    PVT_CHECK_MSG(t.job.len == n - aad && !memcmp(back, src + aad, n - aad),
                  "[%s] aead alg %u 300 KB scattered round trip", f->name,
                  alg);
    tj_fini(&t);
    pva_engine_cpu.session_destroy(f->ctx, s);
    free(src);
    free(ct);
    free(back);
}

/* ------------------------------------------------------------------------
 * AEAD key cache: an execution context keeps the last session's expanded
 * key and only sets nonce and direction for the next job of that session.
 * References come from OpenSSL called directly, keyed per message.
 */

#define CK_AAD  13u
#define CK_TEXT 64u

static const char *aead_name(uint8_t alg)
{
    return alg == VACCEL_ALG_AES_256_GCM ? "gcm" : "chacha";
}

/* OpenSSL's aad || text -> ciphertext || tag, with a fresh context. */
static void ref_seal(uint8_t alg, const uint8_t *key, const uint8_t *nonce,
                     const uint8_t *in, size_t aad, size_t text, uint8_t *out)
{
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    const EVP_CIPHER *ci = alg == VACCEL_ALG_AES_256_GCM
                               ? EVP_aes_256_gcm()
                               : EVP_chacha20_poly1305();
    int l;

    PVT_CHECK(c && EVP_EncryptInit_ex2(c, ci, key, nonce, NULL) &&
              EVP_EncryptUpdate(c, NULL, &l, in, (int)aad) &&
              EVP_EncryptUpdate(c, out, &l, in + aad, (int)text) &&
              EVP_EncryptFinal_ex(c, out + text, &l) &&
              EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, out + text));
    EVP_CIPHER_CTX_free(c);
}

/* One engine job: encrypt aad || text (@in), or decrypt aad || ct || tag. */
static int ck_job(struct fx *f, struct pva_engine_session *s, uint8_t op,
                  const uint8_t *nonce, const uint8_t *in, size_t in_len,
                  uint8_t *out, size_t out_len, size_t *len)
{
    struct tj t;
    int rc;

    tj_init(&t, op, 0);
    t.job.session = s;
    memcpy(t.job.param.aead.nonce, nonce, VACCEL_AEAD_NONCE_LEN);
    t.job.param.aead.aad_len = CK_AAD;
    set_src(&t, (void *)in, in_len, false);
    set_dst(&t, out, out_len, false);
    rc = tj_run(f, &t);
    *len = t.job.len;
    tj_fini(&t);
    return rc;
}

/* Encrypt @in with @s and check against OpenSSL under @key. */
static bool ck_seal(struct fx *f, struct pva_engine_session *s, uint8_t alg,
                    const uint8_t *key, const uint8_t *nonce,
                    const uint8_t *in, uint8_t *ct)
{
    uint8_t want[CK_TEXT + 16];
    size_t len = 0;
    int rc;

    ref_seal(alg, key, nonce, in, CK_AAD, CK_TEXT, want);
    rc = ck_job(f, s, VACCEL_OP_AEAD_ENCRYPT, nonce, in, CK_AAD + CK_TEXT,
                ct, CK_TEXT + 16, &len);
    return rc == 0 && len == CK_TEXT + 16 && !memcmp(ct, want, len);
}

/* Decrypt aad || @ct with @s; true if it authenticates and gives @pt. */
static bool ck_open(struct fx *f, struct pva_engine_session *s,
                    const uint8_t *nonce, const uint8_t *in,
                    const uint8_t *ct, const uint8_t *pt)
{
    uint8_t src[CK_AAD + CK_TEXT + 16], back[CK_TEXT];
    size_t len = 0;

    memcpy(src, in, CK_AAD);
    memcpy(src + CK_AAD, ct, CK_TEXT + 16);
    return ck_job(f, s, VACCEL_OP_AEAD_DECRYPT, nonce, src, sizeof(src), back,
                  sizeof(back), &len) == 0 &&
           len == CK_TEXT && !memcmp(back, pt, CK_TEXT);
}

static void ck_nonce(uint8_t nonce[VACCEL_AEAD_NONCE_LEN], unsigned int i)
{
    memset(nonce, 0, VACCEL_AEAD_NONCE_LEN);
    nonce[0] = (uint8_t)i;
    nonce[11] = (uint8_t)(0x5a ^ i);
}

/*
 * Sessions with different keys, two of @alg and one of the other AEAD,
 * taking turns on the same contexts: every job is sealed with its own key.
 */
static void test_aead_cache_alternate(struct fx *f, uint8_t alg)
{
    uint8_t other = alg == VACCEL_ALG_AES_256_GCM
                        ? VACCEL_ALG_CHACHA20_POLY1305
                        : VACCEL_ALG_AES_256_GCM;
    static const unsigned int order[] = { 0, 1, 0, 0, 2, 1, 1, 2, 0, 1 };
    uint8_t keys[3][32], in[CK_AAD + CK_TEXT], ct[CK_TEXT + 16];
    uint8_t nonce[VACCEL_AEAD_NONCE_LEN];
    struct pva_engine_session *s[3] = { NULL, NULL, NULL };
    unsigned int good = 0, n = sizeof(order) / sizeof(order[0]);

    for (unsigned int k = 0; k < 3; k++)
        memset(keys[k], 0x11 * (k + 1), sizeof(keys[k]));
    memcpy(keys[2], keys[1], sizeof(keys[2]));  /* same key, other alg */
    for (unsigned int k = 0; k < 3; k++)
        PVT_EQ_INT(pva_engine_cpu.session_create(f->ctx, k == 2 ? other : alg,
                                                 keys[k], 32, &s[k]), 0);
    gen_text(in, sizeof(in), 11);
    for (unsigned int i = 0; i < n; i++) {
        unsigned int k = order[i];

        ck_nonce(nonce, i % 3);             /* nonces repeat across keys */
        good += ck_seal(f, s[k], k == 2 ? other : alg, keys[k], nonce, in,
                        ct);
    }
    PVT_CHECK_MSG(good == n, "[%s] %s: %u of %u jobs of alternating sessions "
                  "sealed with their own key", f->name, aead_name(alg), good,
                  n);
    for (unsigned int k = 0; k < 3; k++)
        pva_engine_cpu.session_destroy(f->ctx, s[k]);
}

/*
 * Destroy a session and create one with another key, which the allocator
 * usually places at the same address: the new key is used.
 */
static void test_aead_cache_recreate(struct fx *f, uint8_t alg)
{
    uint8_t key[32], in[CK_AAD + CK_TEXT], ct[CK_TEXT + 16];
    uint8_t nonce[VACCEL_AEAD_NONCE_LEN];
    struct pva_engine_session *s = NULL;
    void *prev = NULL;
    unsigned int good = 0, reused = 0, n = 8;

    gen_text(in, sizeof(in), 12);
    ck_nonce(nonce, 1);
    for (unsigned int i = 0; i < n; i++) {
        memset(key, 0x30 + i, sizeof(key));
        PVT_EQ_INT(pva_engine_cpu.session_create(f->ctx, alg, key, 32, &s), 0);
        reused += (void *)s == prev;
        prev = s;
        /* Twice: the second job runs on the cached key. */
        good += ck_seal(f, s, alg, key, nonce, in, ct);
        good += ck_seal(f, s, alg, key, nonce, in, ct);
        pva_engine_cpu.session_destroy(f->ctx, s);
    }
    PVT_CHECK_MSG(good == 2 * n, "[%s] %s: %u of %u jobs of re-created "
                  "sessions (%u at the old address) used the new key",
                  f->name, aead_name(alg), good, 2 * n, reused);
}

/* Encrypt, decrypt, encrypt, decrypt on one session: directions follow. */
static void test_aead_cache_directions(struct fx *f, uint8_t alg)
{
    uint8_t key[32], in[2][CK_AAD + CK_TEXT], ct[2][CK_TEXT + 16];
    uint8_t nonce[2][VACCEL_AEAD_NONCE_LEN];
    struct pva_engine_session *s = NULL;
    bool ok = true;

    memset(key, 0x77, sizeof(key));
    PVT_EQ_INT(pva_engine_cpu.session_create(f->ctx, alg, key, 32, &s), 0);
    for (unsigned int m = 0; m < 2; m++) {
        gen_text(in[m], sizeof(in[m]), 20 + m);
        ck_nonce(nonce[m], 7 + m);
    }
    for (unsigned int r = 0; r < 2; r++) {
        for (unsigned int m = 0; m < 2; m++) {
            ok &= ck_seal(f, s, alg, key, nonce[m], in[m], ct[m]);
            ok &= ck_open(f, s, nonce[m], in[m], ct[m], in[m] + CK_AAD);
        }
        /* Two of a kind in a row, both ways. */
        ok &= ck_open(f, s, nonce[0], in[0], ct[0], in[0] + CK_AAD);
        ok &= ck_open(f, s, nonce[1], in[1], ct[1], in[1] + CK_AAD);
        ok &= ck_seal(f, s, alg, key, nonce[0], in[0], ct[0]);
        ok &= ck_seal(f, s, alg, key, nonce[1], in[1], ct[1]);
    }
    PVT_CHECK_MSG(ok, "[%s] %s: encrypt/decrypt alternation on one session",
                  f->name, aead_name(alg));
    pva_engine_cpu.session_destroy(f->ctx, s);
}

/*
 * Failed jobs (bad tag, no room after the AAD was absorbed) leave the
 * context fit for the next job of the same session, same nonce or not.
 */
static void test_aead_cache_after_error(struct fx *f, uint8_t alg)
{
    uint8_t key[32], in[CK_AAD + CK_TEXT], ct[CK_TEXT + 16], bad[CK_TEXT + 16];
    uint8_t src[CK_AAD + CK_TEXT + 16], out[CK_TEXT + 16];
    uint8_t nonce[VACCEL_AEAD_NONCE_LEN], nonce2[VACCEL_AEAD_NONCE_LEN];
    struct pva_engine_session *s = NULL;
    size_t len;
    bool ok = true;

    memset(key, 0x5c, sizeof(key));
    gen_text(in, sizeof(in), 30);
    ck_nonce(nonce, 3);
    ck_nonce(nonce2, 4);
    PVT_EQ_INT(pva_engine_cpu.session_create(f->ctx, alg, key, 32, &s), 0);
    ok &= ck_seal(f, s, alg, key, nonce, in, ct);

    /* Bad tag, then the good message with the same nonce, then others. */
    memcpy(bad, ct, sizeof(bad));
    bad[CK_TEXT + 15] ^= 0x01;
    ok &= !ck_open(f, s, nonce, in, bad, in + CK_AAD);
    ok &= ck_open(f, s, nonce, in, ct, in + CK_AAD);
    ok &= !ck_open(f, s, nonce, in, bad, in + CK_AAD);
    ok &= ck_seal(f, s, alg, key, nonce, in, ct);
    ok &= !ck_open(f, s, nonce, in, bad, in + CK_AAD);
    ok &= ck_seal(f, s, alg, key, nonce2, in, out);

    /* Out of room after the AAD went in, both ways. */
    ok &= ck_job(f, s, VACCEL_OP_AEAD_ENCRYPT, nonce, in, sizeof(in), out,
                 CK_TEXT, &len) == -XEN_ENOSPC;
    ok &= ck_seal(f, s, alg, key, nonce, in, out);
    memcpy(src, in, CK_AAD);
    memcpy(src + CK_AAD, ct, CK_TEXT + 16);
    ok &= ck_job(f, s, VACCEL_OP_AEAD_DECRYPT, nonce, src, sizeof(src), out,
                 CK_TEXT - 1, &len) == -XEN_ENOSPC;
    ok &= ck_open(f, s, nonce, in, ct, in + CK_AAD);
    PVT_CHECK_MSG(ok, "[%s] %s: jobs after failed jobs of the same session",
                  f->name, aead_name(alg));
    pva_engine_cpu.session_destroy(f->ctx, s);
}

static void run_aead_cache_tests(struct fx *f)
{
    for (uint8_t alg = VACCEL_ALG_AES_256_GCM;
         alg <= VACCEL_ALG_CHACHA20_POLY1305; alg++) {
        test_aead_cache_alternate(f, alg);
        test_aead_cache_recreate(f, alg);
        test_aead_cache_directions(f, alg);
        test_aead_cache_after_error(f, alg);
    }
}

/* ------------------------------------------------------------------------
 * Compression
 */

static const char *const alg_names[] = { "", "deflate", "zlib", "gzip",
                                         "zstd", "lz4" };

/* Decompress @c with the library itself into @out; returns size or -1. */
static long lib_decompress(uint8_t alg, const uint8_t *c, size_t cn,
                           uint8_t *out, size_t cap)
{
    struct libdeflate_decompressor *d;
    size_t got = 0;
    long rc = -1;

    switch (alg) {
    case VACCEL_ALG_DEFLATE:
    case VACCEL_ALG_ZLIB:
    case VACCEL_ALG_GZIP: {
        enum libdeflate_result r;

        d = libdeflate_alloc_decompressor();
        r = alg == VACCEL_ALG_DEFLATE ?
                libdeflate_deflate_decompress(d, c, cn, out, cap, &got) :
            alg == VACCEL_ALG_ZLIB ?
                libdeflate_zlib_decompress(d, c, cn, out, cap, &got) :
                libdeflate_gzip_decompress(d, c, cn, out, cap, &got);
        libdeflate_free_decompressor(d);
        return r == LIBDEFLATE_SUCCESS ? (long)got : -1;
    }
    case VACCEL_ALG_ZSTD:
        got = ZSTD_decompress(out, cap, c, cn);
        return ZSTD_isError(got) ? -1 : (long)got;
    case VACCEL_ALG_LZ4: {
        LZ4F_dctx *dc;
        size_t in = cn, o = cap;

        LZ4F_createDecompressionContext(&dc, LZ4F_VERSION);
        if (LZ4F_decompress(dc, out, &o, c, &in, NULL) == 0 && in == cn)
            rc = (long)o;
        LZ4F_freeDecompressionContext(dc);
        return rc;
    }
    }
    return -1;
}

/* Compress with the library itself; returns size or 0. */
static size_t lib_compress(uint8_t alg, const uint8_t *in, size_t n,
                           uint8_t *out, size_t cap)
{
    struct libdeflate_compressor *c;
    size_t r;

    switch (alg) {
    case VACCEL_ALG_DEFLATE:
    case VACCEL_ALG_ZLIB:
    case VACCEL_ALG_GZIP:
        c = libdeflate_alloc_compressor(9);
        r = alg == VACCEL_ALG_DEFLATE ?
                libdeflate_deflate_compress(c, in, n, out, cap) :
            alg == VACCEL_ALG_ZLIB ? libdeflate_zlib_compress(c, in, n, out, cap)
                                   : libdeflate_gzip_compress(c, in, n, out, cap);
        libdeflate_free_compressor(c);
        return r;
    case VACCEL_ALG_ZSTD:
        r = ZSTD_compress(out, cap, in, n, 5);
        return ZSTD_isError(r) ? 0 : r;
    case VACCEL_ALG_LZ4:
        r = LZ4F_compressFrame(out, cap, in, n, NULL);   /* no content size */
        return LZ4F_isError(r) ? 0 : r;
    }
    return 0;
}

static size_t eng_compress(struct fx *f, uint8_t alg, int32_t level,
                           const uint8_t *in, size_t n, uint8_t *out,
                           size_t cap, bool split, int *status)
{
    struct tj t;

    tj_init(&t, VACCEL_OP_COMPRESS, alg);
    t.job.param.level = level;
    set_src(&t, (void *)in, n, split);
    set_dst(&t, out, cap, split);
    *status = tj_run(f, &t);
    tj_fini(&t);
    return t.job.len;
}

static struct pva_job eng_decompress(struct fx *f, uint8_t alg,
                                     const uint8_t *in, size_t n,
                                     uint8_t *out, size_t cap, bool split)
{
    struct tj t;

    tj_init(&t, VACCEL_OP_DECOMPRESS, alg);
    set_src(&t, (void *)in, n, split);
    set_dst(&t, out, cap, split);
    tj_run(f, &t);
    tj_fini(&t);
    return t.job;
}

static void test_compress_roundtrip(struct fx *f, uint8_t alg)
{
    size_t n = 200000, cap = n + n / 2 + 4096;
    uint8_t *in = malloc(n), *c = malloc(cap), *back = malloc(n + 1);
    int32_t lmin, lmax;
    int32_t levels[5];
    int status;

    fx_levels(f, alg, &lmin, &lmax);
    levels[0] = 0;
    levels[1] = lmin;
    levels[2] = 1;
    levels[3] = alg == VACCEL_ALG_ZSTD ? 19 : 9;
    levels[4] = lmax;
    gen_text(in, n, alg);
    for (unsigned int li = 0; li < 5; li++) {
        for (int split = 0; split < 2; split++) {
            size_t cn = eng_compress(f, alg, levels[li], in, n, c, cap, split,
                                     &status);
            struct pva_job j;

            /* zstd's negative levels may store the text as it is. */
            PVT_CHECK_MSG(status == 0 && cn > 0 &&
                              (cn < n / 2 || levels[li] < 0),
                          "[%s] %s level %d split %d compresses (%zu -> %zu)",
                          f->name, alg_names[alg], levels[li], split, n, cn);
            PVT_CHECK_MSG(lib_decompress(alg, c, cn, back, n + 1) == (long)n &&
                              !memcmp(back, in, n),
                          "[%s] %s level %d: library decompresses ours",
                          f->name, alg_names[alg], levels[li]);
            memset(back, 0, n);
            j = eng_decompress(f, alg, c, cn, back, n + 1, !split);
            PVT_CHECK_MSG(j.status == 0 && j.len == n && j.value == cn &&
                              !memcmp(back, in, n),
                          "[%s] %s level %d split %d round trip "
                          "(status %d len %llu value %llu)",
                          f->name, alg_names[alg], levels[li], !split,
                          j.status, (unsigned long long)j.len,
                          (unsigned long long)j.value);
        }
    }
    free(in);
    free(c);
    free(back);
}

/* The library's own output, with trailing bytes, through the engine. */
static void test_compress_foreign(struct fx *f, uint8_t alg)
{
    size_t n = 100000, cap = 2 * n;
    uint8_t *in = malloc(n), *c = malloc(cap), *back = malloc(n);
    size_t cn;

    gen_text(in, n, 99);
    cn = lib_compress(alg, in, n, c, cap);
    PVT_CHECK(cn > 0);
    memset(c + cn, 0x5a, 100);      /* trailing data is allowed */
    for (int split = 0; split < 2; split++) {
        struct pva_job j = eng_decompress(f, alg, c, cn + 100, back, n, split);

        PVT_CHECK_MSG(j.status == 0 && j.len == n && j.value == cn &&
                          !memcmp(back, in, n),
                      "[%s] %s: library output decompresses, value = %zu "
                      "(status %d value %llu)", f->name, alg_names[alg], cn,
                      j.status, (unsigned long long)j.value);
    }
    free(in);
    free(c);
    free(back);
}

static void test_compress_empty(struct fx *f, uint8_t alg)
{
    uint8_t c[256] = { 0 }, back[16] = { 0 };
    struct pva_job j;
    int status;
    size_t cn;

    cn = eng_compress(f, alg, 0, back, 0, c, sizeof(c), false, &status);

    PVT_CHECK_MSG(status == 0 && cn > 0, "[%s] %s empty input compresses",
                  f->name, alg_names[alg]);
    j = eng_decompress(f, alg, c, cn, back, sizeof(back), false);
    PVT_CHECK_MSG(j.status == 0 && j.len == 0 && j.value == cn,
                  "[%s] %s empty round trip", f->name, alg_names[alg]);
    /* Empty src: no stream at all. */
    j = eng_decompress(f, alg, c, 0, back, sizeof(back), false);
    PVT_CHECK_MSG(j.status == -XEN_ENODATA, "[%s] %s empty src: ENODATA (%d)",
                  f->name, alg_names[alg], j.status);
}

/* Small enough to run inline on the default engine, flat and scattered. */
static void test_compress_small(struct fx *f, uint8_t alg)
{
    uint8_t in[1000], c[1200], back[1000];
    int status;

    gen_text(in, sizeof(in), 29);
    for (int split = 0; split < 2; split++) {
        size_t cn = eng_compress(f, alg, 0, in, sizeof(in), c, sizeof(c),
                                 split, &status);
        struct pva_job j;

        memset(back, 0, sizeof(back));
        j = eng_decompress(f, alg, c, cn, back, sizeof(back), split);
        PVT_CHECK_MSG(status == 0 && j.status == 0 && j.len == sizeof(in) &&
                          j.value == cn && !memcmp(back, in, sizeof(in)),
                      "[%s] %s 1000 bytes split %d round trip", f->name,
                      alg_names[alg], split);
    }
}

/*
 * Exactly enough room fits: the libraries want slack (libdeflate, zstd
 * one-shot) or flush through a stage (lz4); the engine hides that.
 */
static void test_compress_exact(struct fx *f, uint8_t alg, const uint8_t *in,
                                size_t n)
{
    uint8_t *c = malloc(2 * n), *back = malloc(n);
    size_t exact, cn;
    struct pva_job j;
    int status;

    exact = eng_compress(f, alg, 0, in, n, c, 2 * n, false, &status);
    for (int split = 0; split < 2; split++) {
        cn = eng_compress(f, alg, 0, in, n, c, exact, split, &status);
        j = eng_decompress(f, alg, c, cn, back, n, !split);
        PVT_CHECK_MSG(status == 0 && cn == exact && j.status == 0 &&
                          j.len == n && !memcmp(back, in, n),
                      "[%s] %s compress into exactly %zu bytes, split %d",
                      f->name, alg_names[alg], exact, split);
        eng_compress(f, alg, 0, in, n, c, exact - 1, split, &status);
        PVT_EQ_INT(status, -XEN_ENOSPC);
    }
    free(c);
    free(back);
}

static void test_compress_errors(struct fx *f, uint8_t alg)
{
    size_t n = 100000, cap = 2 * n;
    uint8_t *in = malloc(n), *c = malloc(cap), *back = malloc(n);
    int32_t lmin, lmax;
    struct pva_job j;
    size_t cn;
    int status;

    gen_text(in, n, 3);
    cn = eng_compress(f, alg, 0, in, n, c, cap, false, &status);
    PVT_EQ_INT(status, 0);

    for (int split = 0; split < 2; split++) {
        uint64_t want_aux = alg == VACCEL_ALG_ZSTD || alg == VACCEL_ALG_LZ4
                                ? n : 0;

        j = eng_decompress(f, alg, c, cn, back, n - 1, split);
        PVT_CHECK_MSG(j.status == -XEN_ENOSPC && j.aux == want_aux,
                      "[%s] %s split %d output bound: ENOSPC aux %llu "
                      "(status %d)", f->name, alg_names[alg], split,
                      (unsigned long long)j.aux, j.status);
        j = eng_decompress(f, alg, c, cn / 2, back, n, split);
        PVT_CHECK_MSG(j.status == -XEN_ENODATA,
                      "[%s] %s split %d truncated: ENODATA (status %d)",
                      f->name, alg_names[alg], split, j.status);
        j = eng_decompress(f, alg, c, cn - 1, back, n, split);
        PVT_CHECK_MSG(j.status == -XEN_ENODATA,
                      "[%s] %s split %d last byte missing: ENODATA (%d)",
                      f->name, alg_names[alg], split, j.status);
    }

    /* A bad header, then damage after a good header. */
    c[0] ^= 0xff;
    if (alg == VACCEL_ALG_DEFLATE)
        c[0] = 0x07;        /* BFINAL, reserved BTYPE 3 */
    j = eng_decompress(f, alg, c, cn, back, n, false);
    PVT_CHECK_MSG(j.status == -XEN_EILSEQ, "[%s] %s bad header: EILSEQ (%d)",
                  f->name, alg_names[alg], j.status);
    if (alg == VACCEL_ALG_GZIP || alg == VACCEL_ALG_ZLIB) {
        cn = eng_compress(f, alg, 0, in, n, c, cap, false, &status);
        /* Inside the checksum: adler32 last, gzip's crc32 before isize. */
        c[cn - (alg == VACCEL_ALG_ZLIB ? 2 : 6)] ^= 0x10;
        j = eng_decompress(f, alg, c, cn, back, n, true);
        PVT_CHECK_MSG(j.status == -XEN_EILSEQ,
                      "[%s] %s bad checksum: EILSEQ (%d)", f->name,
                      alg_names[alg], j.status);
    }

    test_compress_exact(f, alg, in, n);

    /* Compress into too little room, and bad levels. */
    cn = eng_compress(f, alg, 0, in, n, c, 40, false, &status);
    PVT_CHECK_MSG(status == -XEN_ENOSPC && f->q,
                  "[%s] %s compress into 40 bytes: ENOSPC", f->name,
                  alg_names[alg]);
    cn = eng_compress(f, alg, 0, in, n, c, 40, true, &status);
    PVT_EQ_INT(status, -XEN_ENOSPC);
    fx_levels(f, alg, &lmin, &lmax);
    eng_compress(f, alg, lmax + 1, in, 10, c, cap, false, &status);
    PVT_EQ_INT(status, -XEN_EINVAL);
    /* Below the minimum (0 itself means "default"). */
    eng_compress(f, alg, lmin == 1 ? -1 : lmin - 1, in, 10, c, cap, false,
                 &status);
    PVT_EQ_INT(status, -XEN_EINVAL);
    free(in);
    free(c);
    free(back);
}

static void test_compress_aux(struct fx *f)
{
    uint8_t in[5000], c[64];
    struct tj t;

    gen_text(in, sizeof(in), 5);
    tj_init(&t, VACCEL_OP_COMPRESS, VACCEL_ALG_ZSTD);
    set_src(&t, in, sizeof(in), false);
    set_dst(&t, c, sizeof(c), false);
    PVT_EQ_INT(tj_run(f, &t), -XEN_ENOSPC);
    PVT_EQ_INT(t.job.aux, ZSTD_compressBound(sizeof(in)));
    t.job.alg = 9;
    PVT_EQ_INT(tj_run(f, &t), -XEN_EOPNOTSUPP);
    t.job.op = VACCEL_OP_DECOMPRESS;
    PVT_EQ_INT(tj_run(f, &t), -XEN_EOPNOTSUPP);
    tj_fini(&t);
}

/* ------------------------------------------------------------------------
 * CRC-32C: check value and RFC 3720 B.4
 */

static void test_crc32c_fn(const char *name,
                           uint32_t (*fn)(uint32_t, const void *, size_t))
{
    uint8_t b[32], big[1000];
    uint32_t whole;

    PVT_CHECK_MSG(fn(0, "123456789", 9) == VACCEL_CRC32C_CHECK,
                  "%s check value", name);
    memset(b, 0, sizeof(b));
    PVT_CHECK_MSG(fn(0, b, 32) == 0x8a9136aa, "%s 32 zeros", name);
    memset(b, 0xff, sizeof(b));
    PVT_CHECK_MSG(fn(0, b, 32) == 0x62a8ab43, "%s 32 0xff", name);
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)i;
    PVT_CHECK_MSG(fn(0, b, 32) == 0x46dd794e, "%s incrementing", name);
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)(31 - i);
    PVT_CHECK_MSG(fn(0, b, 32) == 0x113fdb5c, "%s decrementing", name);
    PVT_CHECK_MSG(fn(fn(0, "12345", 5), "6789", 4) == VACCEL_CRC32C_CHECK,
                  "%s seeded continuation", name);
    gen_text(big, sizeof(big), 11);
    whole = fn(0, big, sizeof(big));
    for (size_t cut = 0; cut <= sizeof(big); cut += 37)
        if (fn(fn(0, big, cut), big + cut, sizeof(big) - cut) != whole)
            PVT_CHECK_MSG(false, "%s continuation at %zu", name, cut);
    PVT_CHECK_MSG(fn(0, big + 3, 997) == pva_crc32c_table(0, big + 3, 997),
                  "%s agrees with the table (unaligned)", name);
}

static void test_crc32c_paths(void)
{
    test_crc32c_fn("table", pva_crc32c_table);
    if (pva_crc32c_have_sse42())
        test_crc32c_fn("sse4.2", pva_crc32c_sse42);
    else
        printf("# SKIP sse4.2 crc32c: this CPU has no SSE4.2\n");
    test_crc32c_fn("dispatch", pva_crc32c);
}

static void test_crc32c_job(struct fx *f)
{
    uint8_t big[100000];
    struct tj t;
    uint32_t want;

    gen_text(big, sizeof(big), 13);
    want = pva_crc32c_table(0, big, sizeof(big));
    for (int split = 0; split < 2; split++) {
        tj_init(&t, VACCEL_OP_CRC32C, 0);
        set_src(&t, "123456789", 9, split);
        PVT_EQ_INT(tj_run(f, &t), 0);
        PVT_EQ_INT(t.job.value, VACCEL_CRC32C_CHECK);
        PVT_EQ_INT(t.job.len, 0);
        set_src(&t, big, sizeof(big), split);
        PVT_EQ_INT(tj_run(f, &t), 0);
        PVT_EQ_INT(t.job.value, want);
        /* Seeded: the CRC of the first half continues over the second. */
        set_src(&t, big, 5000, split);
        tj_run(f, &t);
        t.job.param.seed = (uint32_t)t.job.value;
        set_src(&t, big + 5000, sizeof(big) - 5000, split);
        PVT_EQ_INT(tj_run(f, &t), 0);
        PVT_EQ_INT(t.job.value, want);
        tj_fini(&t);
    }
}

/* ------------------------------------------------------------------------
 * COPY, FILL, COMPARE
 */

static void test_copy(struct fx *f)
{
    size_t n = 150000;
    uint8_t *a = malloc(n), *b = malloc(n + 10);
    struct tj t;

    gen_text(a, n, 17);
    for (int split = 0; split < 2; split++) {
        memset(b, 0, n + 10);
        tj_init(&t, VACCEL_OP_COPY, 0);
        set_src(&t, a, n, split);
        set_dst(&t, b, n + 10, !split);
        PVT_EQ_INT(tj_run(f, &t), 0);
        PVT_CHECK(t.job.len == n && !memcmp(a, b, n) && b[n] == 0);
        set_dst(&t, b, n - 1, split);
        PVT_EQ_INT(tj_run(f, &t), -XEN_ENOSPC);
        PVT_EQ_INT(t.job.aux, n);
        tj_fini(&t);
    }
    free(a);
    free(b);
}

static void test_fill(struct fx *f)
{
    size_t n = 200003;
    uint8_t *b = malloc(n + 1);
    uint64_t pat = 0x0807060504030201ull;
    bool ok;
    struct tj t;

    for (int split = 0; split < 2; split++) {
        memset(b, 0, n + 1);
        tj_init(&t, VACCEL_OP_FILL, 0);
        t.job.param.pattern = 0xa5;
        set_dst(&t, b, n, split);
        PVT_EQ_INT(tj_run(f, &t), 0);
        ok = t.job.len == n && b[n] == 0;
        for (size_t i = 0; i < n; i++)
            ok &= b[i] == 0xa5;
        PVT_CHECK_MSG(ok, "[%s] fill 8-bit split %d", f->name, split);

        t.job.flags = VACCEL_FILL_F_PATTERN64;
        t.job.param.pattern = pat;
        PVT_EQ_INT(tj_run(f, &t), 0);
        ok = t.job.len == n && b[n] == 0;
        for (size_t i = 0; i < n; i++)
            ok &= b[i] == (uint8_t)(pat >> (8 * (i % 8)));
        PVT_CHECK_MSG(ok, "[%s] fill 64-bit pattern split %d", f->name, split);

        t.job.flags = 0;
        PVT_EQ_INT(tj_run(f, &t), -XEN_EINVAL);    /* high bits set */
        tj_fini(&t);
    }
    free(b);
}

static void test_compare(struct fx *f)
{
    size_t n = 70000;
    uint8_t *a = malloc(n), *b = malloc(n);
    struct tj t;

    gen_text(a, n, 19);
    memcpy(b, a, n);
    for (int split = 0; split < 2; split++) {
        tj_init(&t, VACCEL_OP_COMPARE, 0);
        set_src(&t, a, n, split);
        set_dst(&t, b, n, !split);
        PVT_EQ_INT(tj_run(f, &t), 0);
        PVT_CHECK(t.job.value == 0 && t.job.aux == 0 && t.job.len == 0);
        b[54321] ^= 1;
        PVT_EQ_INT(tj_run(f, &t), 0);
        PVT_CHECK(t.job.value == 1 && t.job.aux == 54321);
        b[54321] ^= 1;
        set_dst(&t, b, n - 7, split);       /* b is a prefix of a */
        PVT_EQ_INT(tj_run(f, &t), 0);
        PVT_CHECK(t.job.value == 1 && t.job.aux == n - 7);
        tj_fini(&t);
    }
    free(a);
    free(b);
}

static void test_misc_ops(struct fx *f)
{
    struct tj t;

    tj_init(&t, VACCEL_OP_NOP, 0);
    PVT_EQ_INT(tj_run(f, &t), 0);
    t.job.op = 0x7f;
    PVT_EQ_INT(tj_run(f, &t), -XEN_ENOSYS);

    /* A tiny job on the inline engine completes before submit returns. */
    if (pva_cpu_inline_max(f->e)) {
        t.done = false;
        t.job.op = VACCEL_OP_CRC32C;
        t.job.done = tj_done;
        set_src(&t, "123456789", 9, false);
        PVT_EQ_INT(pva_engine_cpu.submit(f->q, &t.job), 0);
        PVT_CHECK_MSG(t.done && t.job.value == VACCEL_CRC32C_CHECK,
                      "[%s] 9-byte crc32c completed inline", f->name);
    }
    tj_fini(&t);
}

static void run_data_tests(struct fx *f)
{
    printf("# data tests on engine \"%s\"\n", f->name);
    test_digest_kats(f);
    test_digest_million(f, VACCEL_ALG_SHA256, sha256_million_a);
    test_digest_million(f, VACCEL_ALG_SHA512, sha512_million_a);
    test_digest_errors(f);
    for (unsigned int i = 0; i < sizeof(aead_kats) / sizeof(aead_kats[0]); i++)
        for (int split = 0; split < 2; split++)
            test_aead_kat(f, &aead_kats[i], split);
    test_aead_inplace(f);
    test_aead_errors(f);
    test_aead_large(f, VACCEL_ALG_AES_256_GCM);
    test_aead_large(f, VACCEL_ALG_CHACHA20_POLY1305);
    run_aead_cache_tests(f);
    for (uint8_t alg = VACCEL_ALG_DEFLATE; alg <= VACCEL_ALG_LZ4; alg++) {
        test_compress_roundtrip(f, alg);
        test_compress_foreign(f, alg);
        test_compress_empty(f, alg);
        test_compress_small(f, alg);
        test_compress_errors(f, alg);
    }
    test_compress_aux(f);
    test_crc32c_job(f);
    test_copy(f);
    test_fill(f);
    test_compare(f);
    test_misc_ops(f);
}

/* ------------------------------------------------------------------------
 * Queues: out of order, full ring, close with jobs outstanding
 */

struct gate {
    pthread_mutex_t m;
    pthread_cond_t c;
    unsigned int entered, released, completed;
    unsigned int order[256];
};

static void gate_init(struct gate *g)
{
    memset(g, 0, sizeof(*g));
    pthread_mutex_init(&g->m, NULL);
    pthread_cond_init(&g->c, NULL);
}

static void gate_fini(struct gate *g)
{
    pthread_cond_destroy(&g->c);
    pthread_mutex_destroy(&g->m);
}

static void gate_wait(struct gate *g, unsigned int *field, unsigned int v)
{
    pthread_mutex_lock(&g->m);
    while (*field < v)
        pthread_cond_wait(&g->c, &g->m);
    pthread_mutex_unlock(&g->m);
}

static void gate_bump(struct gate *g, unsigned int *field)
{
    pthread_mutex_lock(&g->m);
    (*field)++;
    pthread_cond_broadcast(&g->c);
    pthread_mutex_unlock(&g->m);
}

/* Jobs of these tests: index in flags' high bits is not allowed, so the
 * job index lives beside the job. */
struct qjob {
    struct pva_job job;
    struct pva_iov iov;
    struct gate *g;
    unsigned int idx;
    bool hold;          /* done() blocks until the gate is released */
    pthread_t by;       /* the thread that called done() */
};

static void qjob_done(struct pva_job *job)
{
    struct qjob *j = (struct qjob *)job;    /* job is its first member */
    struct gate *g = j->g;

    j->by = pthread_self();
    if (j->hold) {
        gate_bump(g, &g->entered);
        gate_wait(g, &g->released, 1);
    }
    pthread_mutex_lock(&g->m);
    g->order[g->completed++ % 256] = j->idx;
    pthread_cond_broadcast(&g->c);
    pthread_mutex_unlock(&g->m);
}

static void qjob_crc(struct qjob *j, struct gate *g, unsigned int idx,
                     void *p, size_t n)
{
    memset(j, 0, sizeof(*j));
    j->g = g;
    j->idx = idx;
    j->job.op = VACCEL_OP_CRC32C;
    j->job.done = qjob_done;
    j->iov.base = p;
    j->iov.len = n;
    j->job.src.iov = &j->iov;
    j->job.src.niov = 1;
    j->job.src.len = n;
}

/*
 * Job 0's completion blocks until job 1 has completed on the other worker:
 * completions are observed out of submission order, deterministically.
 */
static void test_out_of_order(void)
{
    static uint8_t buf[4096];
    struct qjob j[2];
    struct gate g;
    struct fx f;

    gate_init(&g);
    PVT_EQ_INT(fx_open(&f, "ooo", "workers=2,inline=0"), 0);
    qjob_crc(&j[0], &g, 0, buf, sizeof(buf));
    qjob_crc(&j[1], &g, 1, buf, sizeof(buf));
    j[0].hold = true;
    PVT_EQ_INT(pva_engine_cpu.submit(f.q, &j[0].job), 0);
    gate_wait(&g, &g.entered, 1);           /* job 0 holds a worker */
    PVT_EQ_INT(pva_engine_cpu.submit(f.q, &j[1].job), 0);
    gate_wait(&g, &g.completed, 1);
    PVT_EQ_INT(g.order[0], 1);              /* job 1 completed first */
    gate_bump(&g, &g.released);
    gate_wait(&g, &g.completed, 2);
    PVT_EQ_INT(g.order[1], 0);
    PVT_EQ_INT(j[0].job.value, j[1].job.value);
    fx_close(&f);
    gate_fini(&g);
}

/* One worker held, a ring of 2: the 4th job is refused with EBUSY. */
static void test_ring_full(void)
{
    static uint8_t buf[64];
    struct qjob j[4];
    struct gate g;
    struct fx f;

    gate_init(&g);
    PVT_EQ_INT(fx_open(&f, "full", "workers=1,inline=0,depth=2"), 0);
    for (unsigned int i = 0; i < 4; i++)
        qjob_crc(&j[i], &g, i, buf, sizeof(buf));
    j[0].hold = true;
    PVT_EQ_INT(pva_engine_cpu.submit(f.q, &j[0].job), 0);
    gate_wait(&g, &g.entered, 1);
    PVT_EQ_INT(pva_engine_cpu.submit(f.q, &j[1].job), 0);
    PVT_EQ_INT(pva_engine_cpu.submit(f.q, &j[2].job), 0);
    PVT_EQ_INT(pva_engine_cpu.submit(f.q, &j[3].job), -XEN_EBUSY);
    gate_bump(&g, &g.released);
    gate_wait(&g, &g.completed, 3);
    /* Room again. */
    PVT_EQ_INT(pva_engine_cpu.submit(f.q, &j[3].job), 0);
    fx_close(&f);           /* waits for job 3 */
    PVT_EQ_INT(g.completed, 4);
    gate_fini(&g);
}

/*
 * One worker, held by job 0 of queue A; behind it 150 jobs of A (more than
 * one cancel batch) with jobs of queue B among them.  queue_cancel(A)
 * completes A's waiting jobs at once, in order, on the calling thread,
 * as cancelled; B's jobs and the running job are untouched and complete
 * with their results once the worker is free; queue_close(A) then waits
 * for nothing cancelled, and A takes new jobs as before.
 */
#define CANCEL_JOBS 180

static void test_cancel(void)
{
    static uint8_t buf[4096];
    static struct qjob j[CANCEL_JOBS + 1];
    struct pva_engine_queue *qb;
    unsigned int on_a = 0, on_b = 0, bad = 0;
    uint32_t want;
    struct gate g;
    struct fx f;

    gen_text(buf, sizeof(buf), 5);
    want = pva_crc32c(0, buf, sizeof(buf));
    gate_init(&g);
    PVT_EQ_INT(fx_open(&f, "cancel", "workers=1,inline=0"), 0);
    PVT_EQ_INT(pva_engine_cpu.queue_open(f.ctx, &qb), 0);
    pva_engine_cpu.queue_cancel(f.q);       /* nothing queued: nothing */
    PVT_EQ_INT(g.completed, 0);
    for (unsigned int i = 0; i < CANCEL_JOBS; i++)
        qjob_crc(&j[i], &g, i, buf, sizeof(buf));
    j[0].hold = true;
    PVT_EQ_INT(pva_engine_cpu.submit(f.q, &j[0].job), 0);
    gate_wait(&g, &g.entered, 1);           /* job 0 runs: the worker is held */
    for (unsigned int i = 1; i < CANCEL_JOBS; i++) {
        bool b = i % 6 == 0;

        PVT_CHECK(pva_engine_cpu.submit(b ? qb : f.q, &j[i].job) == 0);
        on_b += b;
    }
    on_a = CANCEL_JOBS - 1 - on_b;

    pva_engine_cpu.queue_cancel(f.q);
    PVT_EQ_INT(g.completed, on_a);          /* at once, before it returned */
    for (unsigned int i = 0, k = 0; i < on_a; i++) {
        while (++k % 6 == 0)
            ;                               /* B's indices: not cancelled */
        bad += g.order[i] != k;
    }
    PVT_EQ_INT(bad, 0);                     /* in submission order */
    for (unsigned int i = 1; i < CANCEL_JOBS; i++) {
        if (i % 6 == 0)
            continue;
        bad += j[i].job.status != PVA_JOB_CANCELLED || j[i].job.value ||
               j[i].job.len || !pthread_equal(j[i].by, pthread_self());
    }
    PVT_EQ_INT(bad, 0);
    pva_engine_cpu.queue_cancel(f.q);       /* again: nothing left */
    PVT_EQ_INT(g.completed, on_a);

    gate_bump(&g, &g.released);             /* the running job finishes */
    gate_wait(&g, &g.completed, CANCEL_JOBS);
    PVT_EQ_INT(j[0].job.status, 0);
    PVT_EQ_INT(j[0].job.value, want);
    for (unsigned int i = 6; i < CANCEL_JOBS; i += 6)
        bad += j[i].job.status != 0 || j[i].job.value != want;
    PVT_EQ_INT(bad, 0);                     /* B's jobs ran */
    /* A queue that was cancelled is a queue like any other. */
    qjob_crc(&j[CANCEL_JOBS], &g, CANCEL_JOBS, buf, sizeof(buf));
    PVT_EQ_INT(pva_engine_cpu.submit(f.q, &j[CANCEL_JOBS].job), 0);
    gate_wait(&g, &g.completed, CANCEL_JOBS + 1);
    PVT_EQ_INT(j[CANCEL_JOBS].job.status, 0);
    PVT_EQ_INT(j[CANCEL_JOBS].job.value, want);
    pva_engine_cpu.queue_close(qb);
    fx_close(&f);       /* queue_close(A): no cancelled job to wait for */
    gate_fini(&g);
}

/* Many jobs on several queues from their own threads, then close them. */
struct qthread {
    struct pva_engine_ctx *ctx;
    struct gate g;
    uint8_t *data;
    size_t n;
    uint32_t want;
    unsigned int njobs, bad;
};

static void *qthread_main(void *arg)
{
    struct qthread *qt = arg;
    struct pva_engine_queue *q;
    struct qjob *jobs = calloc(qt->njobs, sizeof(*jobs));

    if (pva_engine_cpu.queue_open(qt->ctx, &q)) {
        qt->bad = qt->njobs;
        free(jobs);
        return NULL;
    }
    for (unsigned int i = 0; i < qt->njobs; i++) {
        /* Alternate large and small jobs so both paths interleave. */
        size_t n = i % 3 ? 64 : qt->n;

        qjob_crc(&jobs[i], &qt->g, i, qt->data, n);
        if (pva_engine_cpu.submit(q, &jobs[i].job))
            qt->bad++;
    }
    pva_engine_cpu.queue_close(q);          /* with jobs outstanding */
    if (qt->g.completed != qt->njobs)
        qt->bad++;
    for (unsigned int i = 0; i < qt->njobs; i++) {
        uint32_t want = i % 3 ? pva_crc32c(0, qt->data, 64) : qt->want;

        if (jobs[i].job.status || jobs[i].job.value != want)
            qt->bad++;
    }
    free(jobs);
    return NULL;
}

static void test_many_queues(void)
{
    size_t n = 256 * 1024;
    uint8_t *data = malloc(n);
    struct qthread qt[4];
    pthread_t th[4];
    struct fx f;

    gen_text(data, n, 23);
    PVT_EQ_INT(fx_open(&f, "many", "workers=2,inline=4096"), 0);
    for (unsigned int i = 0; i < 4; i++) {
        memset(&qt[i], 0, sizeof(qt[i]));
        gate_init(&qt[i].g);
        qt[i].ctx = f.ctx;
        qt[i].data = data;
        qt[i].n = n;
        qt[i].want = pva_crc32c(0, data, n);
        qt[i].njobs = 200;
        pthread_create(&th[i], NULL, qthread_main, &qt[i]);
    }
    for (unsigned int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        PVT_CHECK_MSG(qt[i].bad == 0 && qt[i].g.completed == 200,
                      "queue %u: 200 jobs completed once each, right answers "
                      "(%u bad)", i, qt[i].bad);
        gate_fini(&qt[i].g);
    }
    fx_close(&f);
    free(data);
}

int main(void)
{
    struct fx inl, wrk;

    test_registry();
    test_caps();
    test_dma();
    test_crc32c_paths();

    PVT_EQ_INT(fx_open(&inl, "inline", "workers=2,inline=65536"), 0);
    run_data_tests(&inl);
    fx_close(&inl);
    PVT_EQ_INT(fx_open(&wrk, "workers", "workers=2,inline=0"), 0);
    run_data_tests(&wrk);
    fx_close(&wrk);
    PVT_EQ_INT(fx_open(&wrk, "one worker", "workers=1,inline=0"), 0);
    printf("# aead key cache tests on engine \"%s\"\n", wrk.name);
    run_aead_cache_tests(&wrk);
    fx_close(&wrk);

    test_out_of_order();
    test_ring_full();
    /* A queue_close waiting for a cancelled job would hang: fail instead. */
    alarm(120);
    test_cancel();
    alarm(0);
    test_many_queues();
    return pvt_done();
}
