/* SPDX-License-Identifier: MIT */
/*
 * backend-pipeline: the queue thread's pipeline under pressure.
 *
 * Plays against a real pvacceld on the sim what the queue thread's steps,
 * batched publication, engine deferral and bulk quota settling must keep
 * true (docs/protocol.md, "Rules"):
 *
 *  1. Engine busy.  With "--engine-args=workers=1,inline=0,depth=2" every
 *     data job goes to one worker through a two-slot engine ring, so the
 *     engine refuses jobs with -XEN_EBUSY almost at once and the queue
 *     defers them.  One push fills the whole ring with CRC32C (values
 *     checked against a CRC-32C computed here), COPY and FILL (contents
 *     checked, and nothing written past them), NOPs, an unknown operation
 *     (-XEN_ENOSYS), a bad FILL pattern (-XEN_EINVAL), a CRC32C of a
 *     region not mapped yet (-XEN_EFAULT: it comes before the MAP_REGION),
 *     the MAP_REGION of that region, and a CRC32C and a COPY using it right
 *     after it (they succeed: a control request takes effect after the
 *     requests before it and before those after it).  Every request is
 *     answered exactly once, by id, with the right op, status and result.
 *     Several rounds; the region is unmapped between them.
 *  2. A region in use on another queue.  Two queues; queue 1 runs four
 *     1 MiB compressions of a region (and a NOP behind them: once it is
 *     answered, all four are pinned or done) while queue 0 asks to UNMAP
 *     the region.  An UNMAP refused (-XEN_EBUSY) is asked again after
 *     each compression is read; once all four are read it must succeed.
 *     Whenever it succeeds, all compressions succeed too (the region was
 *     not unmapped under a running job: the pins of queue 1 count for an
 *     UNMAP on queue 0).  Prints how many UNMAPs were refused.
 *  3. In-flight quota settled in bulk.  With max-in-flight=8 (params
 *     node), one push of 40 CRC32Cs: each id answered once, each either
 *     succeeds (right value) or is refused with -XEN_EBUSY, at least 8
 *     succeed (nothing else is in flight).  Then exactly max-in-flight
 *     requests, split over two queues and then on one, all succeed: the
 *     credits reserved and given back in bulk leaked nothing.  The admin
 *     socket's in_flight figures (device and domains) are 0 when the
 *     queues are idle.
 *  4. NOPs are never counted.  With max-in-flight=16, each time 16 NOPs
 *     on queue 0 and one CRC32C on queue 1: the CRC32C is never refused
 *     (quota reserved in bulk for a step of NOPs made queue 1 see the
 *     device full, 11% of the time, before the reservation counted only
 *     valid data requests).
 *
 * Cases 1 and 3 run with the restricted engine above (jobs stay in flight
 * on the worker), cases 2, 3 and 4 with the default engine (small jobs run
 * inline, during submit).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/rawfront.h"

#define ROUNDS 5

static struct rf_env env;
static struct pvt_chan guest_done, guest_release;

/* CRC-32C, bit by bit: an oracle independent of the engine's code. */
static uint32_t crc32c(uint32_t seed, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint32_t c = ~seed;

    while (len--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1u)));
    }
    return ~c;
}

static void fill_random(void *buf, size_t len, uint32_t seed)
{
    uint8_t *p = buf;
    uint32_t x = seed * 2654435761u + 1;

    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

/* Each id answered once: @seen is a bitmap of @n ids. */
static bool first_answer(uint64_t id, uint64_t n, uint8_t *seen)
{
    if (id >= n || (seen[id / 8] & (1u << (id % 8))))
        return false;
    seen[id / 8] |= (uint8_t)(1u << (id % 8));
    return true;
}

/* -------------------------------------------------- 1. engine busy */

#define C1_IOVA_A 0x100000u      /* 16 pages: source, then 256-byte slots */
#define C1_PAGES_A 16u
#define C1_SRC_LEN 0x8000u
#define C1_SLOTS 0x8000u         /* offset of the slots in region A */
#define C1_SLOT 256u
#define C1_IOVA_B 0x400000u      /* 4 pages, mapped inside the push */
#define C1_PAGES_B 4u

enum kind { K_NOP, K_CRC, K_COPY, K_FILL, K_ENOSYS, K_EINVAL, K_EFAULT,
            K_MAP, K_CRC_B, K_COPY_B };

struct expect {
    enum kind kind;
    uint8_t op;
    int32_t status;
    uint32_t value;          /* CRC32C */
    uint32_t len;            /* COPY / FILL: bytes written in the slot */
    uint8_t pattern;         /* FILL */
    uint32_t src_off;        /* COPY: offset in region A (or B) */
};

static enum kind c1_kind(unsigned int i, unsigned int n)
{
    if (i == 0)
        return K_EFAULT;
    if (i == 5)
        return K_ENOSYS;
    if (i == 7)
        return K_EINVAL;
    if (i == n / 2)
        return K_MAP;
    if (i == n / 2 + 1)
        return K_CRC_B;
    if (i == n / 2 + 2)
        return K_COPY_B;
    return (enum kind)(i % 4);   /* NOP, CRC, COPY, FILL */
}

static void c1_round(struct rawfront *f, struct rf_mem *a, struct rf_mem *b,
                     unsigned int round)
{
    unsigned int n = RING_SIZE(&f->q[0].ring);
    uint8_t *am = a->addr, *bm = b->addr;
    struct expect *ex = calloc(n, sizeof(*ex));
    uint8_t seen[32] = { 0 };
    unsigned int bad_id = 0, bad = 0;
    struct rf_mem dir;
    vaccel_response_t rsp;

    PVT_CHECK(ex != NULL);
    if (!ex)
        return;
    fill_random(am, C1_SRC_LEN, 100 + round);
    memset(am + C1_SLOTS, 0, (size_t)n * C1_SLOT);
    fill_random(bm, C1_PAGES_B * 4096, 200 + round);
    PVT_EQ_INT(rf_dir_build(f, b->refs, b->npages, &dir), 0);

    for (unsigned int i = 0; i < n; i++) {
        vaccel_request_t *r = rf_req(f, 0);
        struct expect *e = &ex[i];
        uint32_t off = (i * 97u + round * 11u) % (C1_SRC_LEN - 3000);
        uint32_t slot = C1_IOVA_A + C1_SLOTS + i * C1_SLOT;

        e->kind = c1_kind(i, n);
        switch (e->kind) {
        case K_NOP:
            rf_req_init(r, VACCEL_OP_NOP, i);
            break;
        case K_CRC:
            e->len = 1 + (i * 37u + round) % 3000;
            rf_req_init(r, VACCEL_OP_CRC32C, i);
            r->u.crc32c.src = (struct vaccel_seg){ C1_IOVA_A + off, e->len };
            e->value = crc32c(0, am + off, e->len);
            break;
        case K_COPY:
            e->len = 50 + (i * 13u + round) % 200;
            e->src_off = off;
            rf_req_init(r, VACCEL_OP_COPY, i);
            r->u.copy.src = (struct vaccel_seg){ C1_IOVA_A + off, e->len };
            r->u.copy.dst = (struct vaccel_seg){ slot, C1_SLOT };
            break;
        case K_FILL:
            e->len = 1 + (i * 29u + round) % C1_SLOT;
            e->pattern = (uint8_t)(i * 7 + round + 1);
            rf_req_init(r, VACCEL_OP_FILL, i);
            r->u.fill.dst = (struct vaccel_seg){ slot, e->len };
            r->u.fill.pattern = e->pattern;
            break;
        case K_ENOSYS:
            rf_req_init(r, 0x7e, i);
            e->status = -XEN_ENOSYS;
            break;
        case K_EINVAL:
            rf_req_init(r, VACCEL_OP_FILL, i);
            r->u.fill.dst = (struct vaccel_seg){ slot, 16 };
            r->u.fill.pattern = 0x1ff;   /* more than a byte, no PATTERN64 */
            e->status = -XEN_EINVAL;
            break;
        case K_EFAULT:       /* region B is mapped later in this push */
            rf_req_init(r, VACCEL_OP_CRC32C, i);
            r->u.crc32c.src = (struct vaccel_seg){ C1_IOVA_B, 100 };
            e->status = -XEN_EFAULT;
            break;
        case K_MAP:
            rf_req_init(r, VACCEL_OP_MAP_REGION, i);
            r->flags = VACCEL_MAP_F_WRITE;
            r->u.map_region.iova = C1_IOVA_B;
            r->u.map_region.len = (uint64_t)C1_PAGES_B * VACCEL_PAGE_SIZE;
            r->u.map_region.gref_dir = dir.refs[0];
            break;
        case K_CRC_B:        /* right after the MAP_REGION: it exists */
            e->len = C1_PAGES_B * 4096 - 1 - round;
            rf_req_init(r, VACCEL_OP_CRC32C, i);
            r->u.crc32c.src = (struct vaccel_seg){ C1_IOVA_B + 1 + round,
                                                   e->len };
            e->value = crc32c(0, bm + 1 + round, e->len);
            break;
        case K_COPY_B:
            e->len = C1_SLOT;
            e->src_off = 4096 + round;
            rf_req_init(r, VACCEL_OP_COPY, i);
            r->u.copy.src = (struct vaccel_seg){ C1_IOVA_B + e->src_off,
                                                 e->len };
            r->u.copy.dst = (struct vaccel_seg){ slot, C1_SLOT };
            break;
        }
        e->op = r->op;
    }
    rf_push(f, 0);           /* the whole ring, one notification */

    for (unsigned int k = 0; k < n; k++) {
        struct expect *e;

        if (rf_rsp(f, 0, &rsp)) {
            PVT_CHECK_MSG(false, "round %u: %u of %u responses", round, k, n);
            break;
        }
        if (!first_answer(rsp.id, n, seen)) {
            PVT_CHECK_MSG(false, "round %u: id %llu unexpected or twice",
                          round, (unsigned long long)rsp.id);
            bad_id++;
            continue;
        }
        e = &ex[rsp.id];
        if (rsp.op != e->op || rsp.status != e->status) {
            PVT_CHECK_MSG(false, "round %u: id %llu (kind %d) op %u status %d,"
                          " expected op %u status %d", round,
                          (unsigned long long)rsp.id, e->kind, rsp.op,
                          rsp.status, e->op, e->status);
            bad++;
            continue;
        }
        if ((e->kind == K_CRC || e->kind == K_CRC_B) &&
            rsp.value != e->value) {
            PVT_CHECK_MSG(false, "round %u: id %llu crc %08llx, expected %08x",
                          round, (unsigned long long)rsp.id,
                          (unsigned long long)rsp.value, e->value);
            bad++;
        }
        if ((e->kind == K_COPY || e->kind == K_COPY_B || e->kind == K_FILL) &&
            rsp.len != e->len) {
            PVT_CHECK_MSG(false, "round %u: id %llu len %llu, expected %u",
                          round, (unsigned long long)rsp.id,
                          (unsigned long long)rsp.len, e->len);
            bad++;
        }
    }
    PVT_EQ_INT(bad_id, 0);
    PVT_EQ_INT(bad, 0);

    /* Contents: written exactly where and as far as asked. */
    for (unsigned int i = 0; i < n; i++) {
        const struct expect *e = &ex[i];
        const uint8_t *s = am + C1_SLOTS + (size_t)i * C1_SLOT;
        uint32_t w = 0;
        bool ok = true;

        if (e->kind == K_COPY) {
            ok = !memcmp(s, am + e->src_off, e->len);
            w = e->len;
        } else if (e->kind == K_COPY_B) {
            ok = !memcmp(s, bm + e->src_off, e->len);
            w = e->len;
        } else if (e->kind == K_FILL) {
            for (uint32_t j = 0; j < e->len; j++)
                ok = ok && s[j] == e->pattern;
            w = e->len;
        }
        for (uint32_t j = w; j < C1_SLOT; j++)
            ok = ok && s[j] == 0;
        if (!ok) {
            PVT_CHECK_MSG(false, "round %u: slot %u (kind %d) contents",
                          round, i, e->kind);
        }
    }
    /* Everything answered: nothing pins region B, nothing is deferred. */
    PVT_EQ_INT(rf_unmap_region(f, 0, C1_IOVA_B,
                               (uint64_t)C1_PAGES_B * VACCEL_PAGE_SIZE), 0);
    rf_mem_free(f, &dir);
    free(ex);
}

static int guest_busy(void *arg)
{
    struct rawfront f;
    struct rf_mem a, b;
    vaccel_request_t req;
    vaccel_response_t rsp;

    (void)arg;
    PVT_CHECK(crc32c(0, "123456789", 9) == VACCEL_CRC32C_CHECK);
    PVT_EQ_INT(rf_init(&f, 0), 0);
    PVT_EQ_INT(rf_connect(&f, 1, 1), 0);
    printf("# case 1: ring of %u requests\n", RING_SIZE(&f.q[0].ring));
    PVT_CHECK(RING_SIZE(&f.q[0].ring) >= 16 &&
              RING_SIZE(&f.q[0].ring) <= 256 &&
              RING_SIZE(&f.q[0].ring) * C1_SLOT <= C1_PAGES_A * 4096 - C1_SLOTS);
    PVT_EQ_INT(rf_mem_alloc(&f, C1_PAGES_A, true, &a), 0);
    PVT_EQ_INT(rf_mem_alloc(&f, C1_PAGES_B, true, &b), 0);
    PVT_EQ_INT(rf_map_region(&f, 0, C1_IOVA_A, &a, true), 0);
    for (unsigned int r = 0; r < ROUNDS; r++)
        c1_round(&f, &a, &b, r);
    /* The queue still serves, one request at a time. */
    rf_req_init(&req, VACCEL_OP_NOP, 0xabc);
    PVT_EQ_INT(rf_call(&f, 0, &req, &rsp), 0);
    PVT_EQ_INT(rsp.status, 0);
    PVT_EQ_INT(rsp.id, 0xabc);
    PVT_EQ_INT(rf_unmap_region(&f, 0, C1_IOVA_A,
                               (uint64_t)C1_PAGES_A * VACCEL_PAGE_SIZE), 0);
    PVT_EQ_INT(rf_disconnect(&f), 0);
    rf_mem_free(&f, &a);
    rf_mem_free(&f, &b);
    rf_fini(&f);
    return 0;
}

/* ------------------------------------- 2. region in use on another queue */

#define C2_IOVA 0x100000u
#define C2_SRC_LEN (1u << 20)
#define C2_DST_LEN (1u << 18)
#define C2_PAGES ((C2_SRC_LEN + 4 * C2_DST_LEN) / 4096)
#define C2_ROUNDS 3
#define C2_JOBS 4

static void push_compress(struct rawfront *f, unsigned int qi, uint64_t id,
                          unsigned int k)
{
    vaccel_request_t *r = rf_req(f, qi);

    rf_req_init(r, VACCEL_OP_COMPRESS, id);
    r->alg = k % 2 ? VACCEL_ALG_DEFLATE : VACCEL_ALG_ZSTD;
    /*
     * Level 6: the CPU engine hands these to its workers even on a small
     * host (at level 1 it runs them inline, during submit, so nothing
     * would be in flight when the UNMAP comes).
     */
    r->u.compress.level = 6;
    r->u.compress.src = (struct vaccel_seg){ C2_IOVA, C2_SRC_LEN };
    r->u.compress.dst = (struct vaccel_seg){
        C2_IOVA + C2_SRC_LEN + (uint64_t)k * C2_DST_LEN, C2_DST_LEN };
}

/* One of the compressions of queue 1, each once, all successful. */
static bool compressed(const vaccel_response_t *rsp, unsigned int *seen)
{
    bool ours = rsp->id >= 30 && rsp->id < 30 + C2_JOBS;
    unsigned int bit = ours ? 1u << (rsp->id - 30) : 0;

    if (!ours || (*seen & bit)) {
        PVT_CHECK_MSG(false, "unexpected response %llu",
                      (unsigned long long)rsp->id);
        return false;
    }
    PVT_EQ_INT(rsp->status, 0);
    PVT_CHECK_MSG(rsp->len > 0 && rsp->len < C2_DST_LEN, "compressed to %llu",
                  (unsigned long long)rsp->len);
    *seen |= bit;
    return true;
}

static int guest_in_use(void *arg)
{
    unsigned int busy = 0, unmaps = 0, early = 0;
    struct rawfront f;
    struct rf_mem m;
    vaccel_request_t req;
    vaccel_response_t rsp;

    (void)arg;
    PVT_EQ_INT(rf_init(&f, 0), 0);
    PVT_EQ_INT(rf_connect(&f, 2, 0), 0);
    PVT_EQ_INT(rf_mem_alloc(&f, C2_PAGES, true, &m), 0);
    for (size_t i = 0; i < C2_SRC_LEN; i++)    /* compressible */
        ((uint8_t *)m.addr)[i] = (uint8_t)(i * 2654435761u >> 13);

    for (unsigned int round = 0; round < C2_ROUNDS; round++) {
        unsigned int seen = 0;

        PVT_EQ_INT(rf_map_region(&f, 0, C2_IOVA, &m, true), 0);
        for (unsigned int k = 0; k < C2_JOBS; k++)
            push_compress(&f, 1, 30 + k, k);
        /*
         * A NOP behind them: queue 1 consumes in ring order and a control
         * request first starts the data requests before it, so once the
         * NOP is answered every compression is pinned or finished.
         */
        rf_req_init(rf_req(&f, 1), VACCEL_OP_NOP, 40);
        rf_push(&f, 1);
        for (;;) {
            if (rf_rsp(&f, 1, &rsp)) {
                PVT_CHECK_MSG(false, "no NOP response on queue 1");
                break;
            }
            if (rsp.id == 40) {
                PVT_EQ_INT(rsp.status, 0);
                break;
            }
            if (!compressed(&rsp, &seen))
                break;
        }
        rf_req_init(&req, VACCEL_OP_UNMAP_REGION, 50);
        req.u.unmap_region = (struct vaccel_req_unmap_region){
            .iova = C2_IOVA, .len = (uint64_t)C2_PAGES * 4096 };
        for (;;) {
            int rc = rf_call(&f, 0, &req, &rsp);

            if (rc || rsp.id != 50) {
                PVT_CHECK_MSG(false, "no UNMAP response (%d)", rc);
                break;
            }
            unmaps++;
            if (rsp.status == 0) {
                /* The jobs pinned nothing any more: they must all succeed. */
                if (seen != (1u << C2_JOBS) - 1)
                    early++;
                while (seen != (1u << C2_JOBS) - 1) {
                    rc = rf_rsp(&f, 1, &rsp);
                    PVT_EQ_INT(rc, 0);
                    if (rc || !compressed(&rsp, &seen))
                        break;
                }
                break;
            }
            if (seen == (1u << C2_JOBS) - 1) {
                PVT_CHECK_MSG(false, "UNMAP %d with every job answered",
                              rsp.status);
                break;
            }
            PVT_EQ_INT(rsp.status, -XEN_EBUSY);
            busy++;
            /* Ask again once another compression is out. */
            rc = rf_rsp(&f, 1, &rsp);
            PVT_EQ_INT(rc, 0);
            if (rc || !compressed(&rsp, &seen))
                break;
        }
        /* Gone: a second UNMAP finds nothing. */
        PVT_EQ_INT(rf_unmap_region(&f, 0, C2_IOVA,
                                   (uint64_t)C2_PAGES * 4096), -XEN_ENOENT);
    }
    printf("# case 2: %u of %u UNMAPs refused with EBUSY, %u succeeded "
           "before all %u compressions were read\n", busy, unmaps, early,
           C2_ROUNDS * C2_JOBS);
    /* Both queues still serve. */
    for (unsigned int qi = 0; qi < 2; qi++) {
        rf_req_init(&req, VACCEL_OP_NOP, 60 + qi);
        PVT_EQ_INT(rf_call(&f, qi, &req, &rsp), 0);
        PVT_EQ_INT(rsp.status, 0);
    }
    PVT_EQ_INT(rf_disconnect(&f), 0);
    rf_mem_free(&f, &m);
    rf_fini(&f);
    return 0;
}

/* ------------------------------------------------------- 3. quota */

#define C3_LIMIT 8u
#define C3_MANY 40u
#define C3_IOVA 0x100000u
#define C3_PAGES 8u
#define C3_ROUNDS 3

static void push_crc(struct rawfront *f, unsigned int qi, uint64_t id,
                     uint32_t len)
{
    vaccel_request_t *r = rf_req(f, qi);

    rf_req_init(r, VACCEL_OP_CRC32C, id);
    r->u.crc32c.src = (struct vaccel_seg){ C3_IOVA + id % 1024, len };
}

static uint32_t crc_len(uint64_t id)
{
    return 1 + (uint32_t)(id * 131 % (C3_PAGES * 4096 - 1024));
}

/*
 * Read @n answers on @qi, to ids in [@base, @base + @span), each once;
 * returns the successes.
 */
static unsigned int read_crcs(struct rawfront *f, unsigned int qi,
                              uint64_t base, unsigned int span, unsigned int n,
                              const uint8_t *mem, unsigned int *busy)
{
    uint8_t seen[16] = { 0 };
    unsigned int ok = 0, other = 0;
    vaccel_response_t rsp;

    *busy = 0;
    for (unsigned int k = 0; k < n; k++) {
        uint64_t id;

        if (rf_rsp(f, qi, &rsp)) {
            PVT_CHECK_MSG(false, "queue %u: %u of %u responses", qi, k, n);
            break;
        }
        id = rsp.id;
        if (id < base || !first_answer(id - base, span, seen)) {
            PVT_CHECK_MSG(false, "id %llu unexpected or twice",
                          (unsigned long long)id);
            other++;
        } else if (rsp.status == -XEN_EBUSY) {
            (*busy)++;
        } else if (rsp.status || rsp.op != VACCEL_OP_CRC32C ||
                   rsp.value != crc32c(0, mem + id % 1024, crc_len(id))) {
            PVT_CHECK_MSG(false, "id %llu: status %d value %08llx",
                          (unsigned long long)id, rsp.status,
                          (unsigned long long)rsp.value);
            other++;
        } else {
            ok++;
        }
    }
    PVT_EQ_INT(other, 0);
    return ok;
}

static void sync_queue(struct rawfront *f, unsigned int qi)
{
    vaccel_request_t req;
    vaccel_response_t rsp;

    rf_req_init(&req, VACCEL_OP_NOP, 999);
    PVT_EQ_INT(rf_call(f, qi, &req, &rsp), 0);
    PVT_EQ_INT(rsp.id, 999);
    PVT_EQ_INT(rsp.status, 0);
}

static int guest_quota(void *arg)
{
    unsigned int busy_total = 0;
    struct rawfront f;
    struct rf_mem m;

    (void)arg;
    PVT_EQ_INT(rf_init(&f, 0), 0);
    PVT_EQ_INT(rf_be_long(&f, VACCEL_FIELD_MAX_IN_FLIGHT), C3_LIMIT);
    PVT_EQ_INT(rf_connect(&f, 2, 1), 0);
    PVT_CHECK(RING_SIZE(&f.q[0].ring) >= C3_MANY);
    PVT_EQ_INT(rf_mem_alloc(&f, C3_PAGES, true, &m), 0);
    fill_random(m.addr, C3_PAGES * 4096, 7);
    PVT_EQ_INT(rf_map_region(&f, 0, C3_IOVA, &m, true), 0);

    for (unsigned int round = 0; round < C3_ROUNDS; round++) {
        uint64_t base = 1000 * (round + 1);
        unsigned int ok, busy, ok0, ok1, b0, b1;

        /* More than the limit in one push. */
        for (unsigned int i = 0; i < C3_MANY; i++)
            push_crc(&f, 0, base + i, crc_len(base + i));
        rf_push(&f, 0);
        ok = read_crcs(&f, 0, base, C3_MANY, C3_MANY, m.addr, &busy);
        PVT_EQ_INT(ok + busy, C3_MANY);
        PVT_CHECK_MSG(ok >= C3_LIMIT, "round %u: %u succeeded", round, ok);
        busy_total += busy;
        sync_queue(&f, 0);

        /* Exactly the limit, over both queues: nothing leaked. */
        for (unsigned int i = 0; i < C3_LIMIT; i++)
            push_crc(&f, i % 2, base + 100 + i, crc_len(base + 100 + i));
        rf_push(&f, 0);
        rf_push(&f, 1);
        ok0 = read_crcs(&f, 0, base + 100, C3_LIMIT, C3_LIMIT / 2, m.addr,
                        &b0);
        ok1 = read_crcs(&f, 1, base + 100, C3_LIMIT, C3_LIMIT / 2, m.addr,
                        &b1);
        PVT_CHECK_MSG(ok0 + ok1 == C3_LIMIT, "round %u: two queues %u+%u of "
                      "%u, %u+%u refused", round, ok0, ok1, C3_LIMIT, b0, b1);
        sync_queue(&f, 0);
        sync_queue(&f, 1);

        /* And on one queue. */
        for (unsigned int i = 0; i < C3_LIMIT; i++)
            push_crc(&f, 1, base + 200 + i, crc_len(base + 200 + i));
        rf_push(&f, 1);
        ok = read_crcs(&f, 1, base + 200, C3_LIMIT, C3_LIMIT, m.addr, &busy);
        PVT_CHECK_MSG(ok == C3_LIMIT, "round %u: one queue %u of %u, %u "
                      "refused", round, ok, C3_LIMIT, busy);
        sync_queue(&f, 1);
        sync_queue(&f, 0);
    }
    printf("# case 3: %u of %u requests over the limit refused with EBUSY\n",
           busy_total, C3_ROUNDS * C3_MANY);
    /* Idle and connected: the parent reads the statistics. */
    pvt_chan_send(&guest_done, 1);
    pvt_chan_recv(&guest_release, &(uint32_t){ 0 });
    PVT_EQ_INT(rf_unmap_region(&f, 0, C3_IOVA,
                               (uint64_t)C3_PAGES * VACCEL_PAGE_SIZE), 0);
    PVT_EQ_INT(rf_disconnect(&f), 0);
    rf_mem_free(&f, &m);
    rf_fini(&f);
    return 0;
}

/* Every "in_flight" of the statistics (devices and domains) is 0. */
static void check_idle_stats(const char *what)
{
    char stats[16384];
    const char *p;
    unsigned int found = 0;
    long long sum = 0;

    PVT_EQ_INT(rf_env_stats(&env, stats, sizeof(stats)), 0);
    for (p = stats; (p = strstr(p, "\"in_flight\":")); p++) {
        sum += atoll(p + strlen("\"in_flight\":"));
        found++;
    }
    printf("# %s: %u in_flight figures, sum %lld\n", what, found, sum);
    /* At least the connected device's and its domain's. */
    PVT_CHECK_MSG(found >= 2, "stats: %s", stats);
    PVT_EQ_INT(sum, 0);
}

/* Case 4. */
#define NOP_ROUNDS 500

static int guest_nops_uncounted(void *arg)
{
    const uint64_t iova = 0x100000;
    unsigned int busy = 0, nop_bad = 0;
    struct rawfront f;
    struct rf_mem m;
    vaccel_response_t rsp;

    (void)arg;
    PVT_EQ_INT(rf_init(&f, 0), 0);
    PVT_EQ_INT(rf_connect(&f, 2, 1), 0);
    PVT_EQ_INT(rf_be_long(&f, VACCEL_FIELD_MAX_IN_FLIGHT), 16);
    PVT_EQ_INT(rf_mem_alloc(&f, 1, true, &m), 0);
    memcpy(m.addr, "123456789", 9);
    PVT_EQ_INT(rf_map_region(&f, 0, iova, &m, true), 0);
    for (unsigned int it = 0; it < NOP_ROUNDS; it++) {
        vaccel_request_t *r;

        for (uint64_t i = 0; i < 16; i++)
            rf_req_init(rf_req(&f, 0), VACCEL_OP_NOP, i);
        rf_push(&f, 0);
        r = rf_req(&f, 1);
        rf_req_init(r, VACCEL_OP_CRC32C, 100);
        r->u.crc32c.src = (struct vaccel_seg){ iova, 9 };
        rf_push(&f, 1);
        for (int i = 0; i < 16; i++) {
            PVT_EQ_INT(rf_rsp(&f, 0, &rsp), 0);
            nop_bad += rsp.status != 0;
        }
        PVT_EQ_INT(rf_rsp(&f, 1, &rsp), 0);
        busy += rsp.status == -XEN_EBUSY;
        if (rsp.status != -XEN_EBUSY) {
            PVT_EQ_INT(rsp.status, 0);
            PVT_EQ_INT(rsp.value, VACCEL_CRC32C_CHECK);
        }
    }
    PVT_EQ_INT(nop_bad, 0);
    PVT_CHECK_MSG(busy == 0, "%u of %d lone CRC32Cs refused with EBUSY next "
                  "to a queue of NOPs", busy, NOP_ROUNDS);
    PVT_EQ_INT(rf_disconnect(&f), 0);
    rf_fini(&f);
    return 0;
}

static void run_quota(int dom)
{
    pid_t pid = pvt_sim_spawn(&env.sim, dom, guest_quota, NULL);

    PVT_EQ_INT(pvt_chan_recv(&guest_done, &(uint32_t){ 0 }), 0);
    check_idle_stats("case 3");
    pvt_chan_send(&guest_release, 1);
    PVT_EQ_INT(pvt_wait(pid), 0);
}

int main(void)
{
    static const char *const busy_opts[] = {
        "--engine-args=workers=1,inline=0,depth=2", NULL };
    int d1, d2, d3, d4;

    pvt_chan_open(&guest_done);
    pvt_chan_open(&guest_release);

    /* The engine busy at once: cases 1 and 3. */
    if (rf_env_start(&env, busy_opts)) {
        fprintf(stderr, "cannot start the sim and pvacceld\n");
        return 99;
    }
    d1 = pvt_sim_create(&env.sim, "one");
    d3 = pvt_sim_create(&env.sim, "three");
    PVT_CHECK(d1 > 0 && d3 > 0);
    PVT_EQ_INT(rf_env_attach(&env, d1, 0, NULL), 0);
    PVT_EQ_INT(rf_env_attach(&env, d3, 0, "max-in-flight=8"), 0);
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&env.sim, d1, guest_busy, NULL)), 0);
    run_quota(d3);
    PVT_EQ_INT(rf_env_stop_backend(&env), 0);
    rf_env_stop(&env);

    /* The default engine: cases 2 and 3. */
    if (rf_env_start(&env, NULL)) {
        fprintf(stderr, "cannot start the sim and pvacceld\n");
        return 99;
    }
    d2 = pvt_sim_create(&env.sim, "two");
    d3 = pvt_sim_create(&env.sim, "three");
    PVT_CHECK(d2 > 0 && d3 > 0);
    PVT_EQ_INT(rf_env_attach(&env, d2, 0, NULL), 0);
    PVT_EQ_INT(rf_env_attach(&env, d3, 0, "max-in-flight=8"), 0);
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&env.sim, d2, guest_in_use, NULL)), 0);
    run_quota(d3);
    d4 = pvt_sim_create(&env.sim, "four");
    PVT_CHECK(d4 > 0);
    PVT_EQ_INT(rf_env_attach(&env, d4, 0, "max-in-flight=16"), 0);
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&env.sim, d4, guest_nops_uncounted,
                                      NULL)), 0);
    PVT_EQ_INT(rf_env_stop_backend(&env), 0);
    rf_env_stop(&env);
    return pvt_done();
}
