/* SPDX-License-Identifier: MIT */
/*
 * backend-blobs: backend blobs (feature-blobs) from a raw, hostile guest.
 *
 * BLOB_CREATE gives zero-filled writable memory in the I/O address space
 * that requests use like a region (also across a region boundary);
 * BLOB_MIGRATE copies exactly the dirty pages of a region into a blob and
 * releases the region's grants; BLOB_READBACK copies a blob out, and with
 * REMAP turns it back into a region; BLOB_DESTROY frees it.  Each rule of
 * accelif.h is checked with the requests a hostile guest would send:
 * overlapping IOVAs, bad lengths, bad or overlapping dirty bitmaps, wrong
 * directory lengths, read-only grants, objects in use, limits and domain
 * quotas (counted in whole 2 MiB chunks), and every failure leaves
 * everything as it was.  Blobs die with the connection.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/rawfront.h"

#define KB 1024ull
#define PG 4096ull
#define CHUNK_PAGES (VACCEL_BLOB_CHUNK_SIZE / VACCEL_PAGE_SIZE)

/* IOVAs of the guest's own regions; blobs go elsewhere. */
#define SCR  0x40000000ull    /* 2 MiB writable scratch: outputs */
#define DATA 0x50000000ull    /* 1 MiB of incompressible data */
#define BM   0x60000000ull    /* one page: dirty bitmaps */
#define BLOB 0x100000ull

static struct rf_env env;

static const char *const opts[] = {
    "max-blobs=3", "max-blob-pages=2048",               /* 4 chunks */
    "domain-max-blobs=4", "domain-max-blob-pages=2560", /* 5 chunks */
    NULL,
};

struct guest {
    struct rawfront f;
    struct rf_mem scr, data, bm;
};

static int32_t call(struct rawfront *f, unsigned int qi, vaccel_request_t *req,
                    vaccel_response_t *rsp)
{
    vaccel_response_t local;

    if (!rsp)
        rsp = &local;
    return rf_call(f, qi, req, rsp) ? -9999 : rsp->status;
}

static int32_t blob_create(struct rawfront *f, uint64_t iova, uint64_t len,
                           uint32_t *id)
{
    vaccel_request_t req;
    vaccel_response_t rsp;
    int32_t st;

    rf_req_init(&req, VACCEL_OP_BLOB_CREATE, 0xb1);
    req.u.blob_create.iova = iova;
    req.u.blob_create.len = len;
    st = call(f, 0, &req, &rsp);
    if (!st) {
        PVT_CHECK(rsp.value != 0 && rsp.value <= UINT32_MAX);
        if (id)
            *id = (uint32_t)rsp.value;
    } else {
        PVT_EQ_INT(rsp.value, 0);
    }
    return st;
}

static int32_t blob_destroy(struct rawfront *f, unsigned int qi, uint32_t id)
{
    vaccel_request_t req;

    rf_req_init(&req, VACCEL_OP_BLOB_DESTROY, 0xb2);
    req.handle = id;
    return call(f, qi, &req, NULL);
}

static int32_t migrate(struct rawfront *f, unsigned int qi, uint64_t iova,
                       uint64_t len, uint64_t bitmap, vaccel_response_t *rsp)
{
    vaccel_request_t req;

    rf_req_init(&req, VACCEL_OP_BLOB_MIGRATE, 0xb3);
    req.u.blob_migrate.iova = iova;
    req.u.blob_migrate.len = len;
    req.u.blob_migrate.bitmap_iova = bitmap;
    return call(f, qi, &req, rsp);
}

/* BLOB_READBACK into @m through a directory of @ngrefs of its grants. */
static int32_t readback(struct rawfront *f, unsigned int qi, uint32_t id,
                        struct rf_mem *m, uint32_t ngrefs, bool remap,
                        vaccel_response_t *rsp)
{
    vaccel_request_t req;
    struct rf_mem dir;
    int32_t st;

    PVT_EQ_INT(rf_dir_build(f, m->refs, ngrefs, &dir), 0);
    rf_req_init(&req, VACCEL_OP_BLOB_READBACK, 0xb4);
    req.handle = id;
    req.flags = remap ? VACCEL_READBACK_F_REMAP : 0;
    req.u.blob_readback.gref_dir = dir.refs[0];
    st = call(f, qi, &req, rsp);
    rf_mem_free(f, &dir);
    return st;
}

static int32_t copy(struct rawfront *f, uint64_t src, uint64_t len,
                    uint64_t dst)
{
    vaccel_request_t req;
    vaccel_response_t rsp;
    int32_t st;

    rf_req_init(&req, VACCEL_OP_COPY, 0xc0);
    req.u.copy.src = (struct vaccel_seg){ src, len };
    req.u.copy.dst = (struct vaccel_seg){ dst, len };
    st = call(f, 0, &req, &rsp);
    if (!st)
        PVT_EQ_INT(rsp.len, len);
    return st;
}

static int32_t fill(struct rawfront *f, uint64_t dst, uint64_t len,
                    uint8_t byte)
{
    vaccel_request_t req;

    rf_req_init(&req, VACCEL_OP_FILL, 0xf1);
    req.u.fill.dst = (struct vaccel_seg){ dst, len };
    req.u.fill.pattern = byte;
    return call(f, 0, &req, NULL);
}

static bool all_bytes(const void *p, size_t len, uint8_t byte)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < len; i++)
        if (b[i] != byte)
            return false;
    return true;
}

/* The next record of @type, skipping others. */
static bool next_evt(struct rawfront *f, uint16_t type, struct vaccel_evt *e)
{
    while (rf_evt(f, e, RF_TIMEOUT_MS))
        if (e->type == type)
            return true;
    return false;
}

/*
 * Pin [src, src + 1 MiB) with slow compressions (zstd 19 of incompressible
 * data, hundreds of milliseconds each) on queue 0.  When this returns,
 * queue 0 has consumed them all (the NOP behind them was answered), so the
 * range is in use until unpin().
 */
static void pin(struct rawfront *f, uint64_t src)
{
    vaccel_response_t rsp;

    for (int i = 0; i < 3; i++) {
        vaccel_request_t *r = rf_req(f, 0);

        rf_req_init(r, VACCEL_OP_COMPRESS, 0x500 + (uint64_t)i);
        r->alg = VACCEL_ALG_ZSTD;
        r->u.compress.level = 19;
        r->u.compress.src = (struct vaccel_seg){ src, 1u << 20 };
        r->u.compress.dst = (struct vaccel_seg){ SCR, 2u << 20 };
    }
    rf_req_init(rf_req(f, 0), VACCEL_OP_NOP, 0x5ff);
    rf_push(f, 0);
    PVT_EQ_INT(rf_rsp(f, 0, &rsp), 0);
    PVT_EQ_INT(rsp.id, 0x5ff);
}

static void unpin(struct rawfront *f)
{
    vaccel_response_t rsp;

    for (int i = 0; i < 3; i++) {
        PVT_EQ_INT(rf_rsp(f, 0, &rsp), 0);
        PVT_EQ_INT(rsp.status, 0);
    }
}

static void setup(struct guest *g, unsigned int devid)
{
    PVT_EQ_INT(rf_init(&g->f, devid), 0);
    PVT_EQ_INT(rf_connect(&g->f, 2, 0), 0);
    PVT_EQ_INT(rf_mem_alloc(&g->f, 512, true, &g->scr), 0);
    PVT_EQ_INT(rf_map_region(&g->f, 0, SCR, &g->scr, true), 0);
    PVT_EQ_INT(rf_mem_alloc(&g->f, 256, true, &g->data), 0);
    for (size_t i = 0; i < 256 * PG; i++)
        ((uint8_t *)g->data.addr)[i] = (uint8_t)((i * 2654435761u) >> 13);
    PVT_EQ_INT(rf_map_region(&g->f, 0, DATA, &g->data, false), 0);
    PVT_EQ_INT(rf_mem_alloc(&g->f, 1, true, &g->bm), 0);
    PVT_EQ_INT(rf_map_region(&g->f, 0, BM, &g->bm, false), 0);
}

/* ------------------------------------------------------------- create */

/* Zero filled, writable, an operand like a region, also across regions. */
static void create_and_use(struct guest *g)
{
    struct rawfront *f = &g->f;
    struct rf_mem r;
    uint32_t id, id2;

    PVT_EQ_INT(blob_create(f, BLOB, 3 * PG, &id), 0);
    memset(g->scr.addr, 0xaa, 3 * PG);
    PVT_EQ_INT(copy(f, BLOB, 3 * PG, SCR), 0);
    PVT_CHECK(all_bytes(g->scr.addr, 3 * PG, 0));
    /* Written by a request, read by another. */
    PVT_EQ_INT(copy(f, DATA, 3 * PG, BLOB), 0);
    PVT_EQ_INT(copy(f, BLOB, 3 * PG, SCR), 0);
    PVT_CHECK(!memcmp(g->scr.addr, g->data.addr, 3 * PG));
    /* A blob right after a region: one operand spans both. */
    PVT_EQ_INT(rf_mem_alloc(f, 1, true, &r), 0);
    memset(r.addr, 0x11, PG);
    PVT_EQ_INT(rf_map_region(f, 0, 0x800000, &r, false), 0);
    PVT_EQ_INT(blob_create(f, 0x801000, PG, &id2), 0);
    PVT_CHECK(id2 != id);
    PVT_EQ_INT(fill(f, 0x801000, PG, 0x22), 0);
    PVT_EQ_INT(copy(f, 0x800000, 2 * PG, SCR), 0);
    PVT_CHECK(all_bytes(g->scr.addr, PG, 0x11));
    PVT_CHECK(all_bytes((char *)g->scr.addr + PG, PG, 0x22));
    /* A blob is not a region, a region not a blob. */
    PVT_EQ_INT(rf_unmap_region(f, 0, 0x801000, PG), -XEN_ENOENT);
    PVT_EQ_INT(blob_destroy(f, 0, id2), 0);
    PVT_EQ_INT(blob_destroy(f, 0, id2), -XEN_ENOENT);
    PVT_EQ_INT(rf_unmap_region(f, 0, 0x800000, PG), 0);
    rf_mem_free(f, &r);
    PVT_EQ_INT(blob_destroy(f, 0, id), 0);
    /* Freed: the range is unmapped again. */
    PVT_EQ_INT(copy(f, BLOB, PG, SCR), -XEN_EFAULT);
}

static void create_rules(struct guest *g)
{
    struct rawfront *f = &g->f;
    vaccel_request_t req;
    uint32_t id;

    PVT_EQ_INT(blob_create(f, 0, PG, NULL), -XEN_EINVAL);       /* page 0 */
    PVT_EQ_INT(blob_create(f, BLOB + 1, PG, NULL), -XEN_EINVAL);
    PVT_EQ_INT(blob_create(f, BLOB, 0, NULL), -XEN_EINVAL);
    PVT_EQ_INT(blob_create(f, BLOB, PG + 1, NULL), -XEN_EINVAL);
    PVT_EQ_INT(blob_create(f, BLOB, 8193 * PG, NULL), -XEN_E2BIG);
    PVT_EQ_INT(blob_create(f, (1ull << 48) - PG, 2 * PG, NULL), -XEN_EINVAL);
    PVT_EQ_INT(blob_create(f, UINT64_MAX & ~(PG - 1), PG, NULL), -XEN_EINVAL);
    PVT_EQ_INT(blob_create(f, PG, UINT64_MAX & ~(PG - 1), NULL), -XEN_E2BIG);
    /* Overlaps: a region, a blob, partly. */
    PVT_EQ_INT(blob_create(f, SCR + 511 * PG, 2 * PG, NULL), -XEN_EEXIST);
    PVT_EQ_INT(blob_create(f, BLOB, 4 * PG, &id), 0);
    PVT_EQ_INT(blob_create(f, BLOB + 3 * PG, PG, NULL), -XEN_EEXIST);
    PVT_EQ_INT(blob_create(f, BLOB - PG, 2 * PG, NULL), -XEN_EEXIST);
    {
        struct rf_mem r;

        PVT_EQ_INT(rf_mem_alloc(f, 1, true, &r), 0);
        PVT_EQ_INT(rf_map_region(f, 0, BLOB + PG, &r, true), -XEN_EEXIST);
        rf_mem_free(f, &r);
    }
    /* Header and reserved fields. */
    rf_req_init(&req, VACCEL_OP_BLOB_CREATE, 1);
    req.u.blob_create = (struct vaccel_req_blob_create){ 0x900000, PG, {0} };
    req.u.blob_create.reserved[3] = 1;
    PVT_EQ_INT(call(f, 0, &req, NULL), -XEN_EINVAL);
    req.u.blob_create.reserved[3] = 0;
    req.handle = 1;
    PVT_EQ_INT(call(f, 0, &req, NULL), -XEN_EINVAL);
    req.handle = 0;
    req.flags = VACCEL_READBACK_F_REMAP;
    PVT_EQ_INT(call(f, 0, &req, NULL), -XEN_EINVAL);
    req.flags = VACCEL_REQ_F_IOPF;
    PVT_EQ_INT(call(f, 0, &req, NULL), -XEN_EINVAL);
    req.flags = 0;
    req.alg = VACCEL_ALG_ZSTD;
    PVT_EQ_INT(call(f, 0, &req, NULL), -XEN_EINVAL);
    /* Destroy: unknown ids, body. */
    PVT_EQ_INT(blob_destroy(f, 0, 0), -XEN_ENOENT);
    PVT_EQ_INT(blob_destroy(f, 0, id + 100), -XEN_ENOENT);
    rf_req_init(&req, VACCEL_OP_BLOB_DESTROY, 1);
    req.handle = id;
    req.u.reserved[47] = 1;
    PVT_EQ_INT(call(f, 0, &req, NULL), -XEN_EINVAL);
    PVT_EQ_INT(blob_destroy(f, 0, id), 0);
}

/* max-blobs, max-blob-pages in whole chunks, and their quota records. */
static void limits(struct guest *g)
{
    struct rawfront *f = &g->f;
    struct vaccel_evt e;
    uint32_t id[3], big;

    for (int i = 0; i < 3; i++)
        PVT_EQ_INT(blob_create(f, BLOB + (uint64_t)i * 0x100000, PG, &id[i]),
                   0);
    PVT_EQ_INT(blob_create(f, 0x2000000, PG, NULL), -XEN_EMFILE);
    PVT_CHECK(next_evt(f, VACCEL_EVT_QUOTA, &e));
    PVT_EQ_INT(e.u.quota.quota, VACCEL_QUOTA_BLOBS);
    PVT_EQ_INT(e.u.quota.status, -XEN_EMFILE);
    PVT_EQ_INT(e.u.quota.limit, 3);
    PVT_EQ_INT(blob_destroy(f, 0, id[1]), 0);
    PVT_EQ_INT(blob_destroy(f, 0, id[2]), 0);
    /* One page takes a chunk: 512 of 2048 used, so 3 chunks are left. */
    PVT_EQ_INT(blob_create(f, 0x2000000, (3 * CHUNK_PAGES + 1) * PG, NULL),
               -XEN_ENOMEM);
    PVT_CHECK(next_evt(f, VACCEL_EVT_QUOTA, &e));
    PVT_EQ_INT(e.u.quota.quota, VACCEL_QUOTA_BLOB_PAGES);
    PVT_EQ_INT(e.u.quota.status, -XEN_ENOMEM);
    PVT_EQ_INT(e.u.quota.limit, 2048);
    PVT_EQ_INT(blob_create(f, 0x2000000, 3 * CHUNK_PAGES * PG, &big), 0);
    PVT_EQ_INT(copy(f, DATA, 1u << 20, 0x2000000 + 2 * CHUNK_PAGES * PG), 0);
    PVT_EQ_INT(blob_destroy(f, 0, big), 0);
    PVT_EQ_INT(blob_destroy(f, 0, id[0]), 0);
}

/* ------------------------------------------------------- in use: EBUSY */

static void busy(struct guest *g)
{
    struct rawfront *f = &g->f;
    vaccel_response_t rsp;
    uint32_t id;

    PVT_EQ_INT(blob_create(f, BLOB, 1u << 20, &id), 0);
    PVT_EQ_INT(copy(f, DATA, 1u << 20, BLOB), 0);
    pin(f, BLOB);
    PVT_EQ_INT(blob_destroy(f, 1, id), -XEN_EBUSY);
    PVT_EQ_INT(readback(f, 1, id, &g->scr, 256, false, &rsp), -XEN_EBUSY);
    unpin(f);
    PVT_EQ_INT(blob_destroy(f, 1, id), 0);
    /* A region in use cannot migrate, and stays a region. */
    memset(g->bm.addr, 0xff, 32);
    pin(f, DATA);
    PVT_EQ_INT(migrate(f, 1, DATA, 256 * PG, BM, &rsp), -XEN_EBUSY);
    unpin(f);
    PVT_EQ_INT(f->p->gntshr->unshare(f->gs, g->data.addr, 256), -EBUSY);
}

/* ------------------------------------------------------------ migrate */

static uint8_t page_byte(uint32_t page)
{
    return (uint8_t)(page * 7 + 1);
}

/* Three chunks; only pages 0, 5, 6 and the last one dirty. */
static void migrate_partial(struct guest *g)
{
    const uint32_t n = 2 * CHUNK_PAGES + 3;
    const uint64_t R = 0x10000000, OUT = 0x20000000;
    static const uint32_t dirty[] = { 0, 5, 6, 2 * CHUNK_PAGES + 2 };
    struct rawfront *f = &g->f;
    struct rf_mem r, out;
    vaccel_response_t rsp;
    uint8_t *bm = g->bm.addr;
    uint32_t id;

    PVT_EQ_INT(rf_mem_alloc(f, n, true, &r), 0);
    for (uint32_t p = 0; p < n; p++)
        memset((char *)r.addr + (size_t)p * PG, page_byte(p), PG);
    /* Read-only: the blob it becomes is writable anyway. */
    PVT_EQ_INT(rf_map_region(f, 0, R, &r, false), 0);
    memset(bm, 0, PG);
    for (size_t i = 0; i < sizeof(dirty) / sizeof(dirty[0]); i++)
        bm[dirty[i] / 8] |= (uint8_t)(1u << (dirty[i] % 8));
    bm[(n + 7) / 8 - 1] |= 0x80;    /* a bit beyond the last page: ignored */
    PVT_EQ_INT(f->p->gntshr->unshare(f->gs, r.addr, n), -EBUSY);
    PVT_EQ_INT(migrate(f, 0, R, (uint64_t)n * PG, BM, &rsp), 0);
    PVT_CHECK(rsp.value != 0);
    PVT_EQ_INT(rsp.len, 4 * PG);
    id = (uint32_t)rsp.value;
    /* The grants were unmapped before the response. */
    PVT_EQ_INT(f->p->gntshr->unshare(f->gs, r.addr, n), 0);
    free(r.refs);

    PVT_EQ_INT(rf_mem_alloc(f, n, true, &out), 0);
    PVT_EQ_INT(rf_map_region(f, 0, OUT, &out, true), 0);
    PVT_EQ_INT(copy(f, R, (uint64_t)n * PG, OUT), 0);
    for (uint32_t p = 0, k = 0; p < n; p++) {
        bool d = k < 4 && dirty[k] == p;

        PVT_CHECK_MSG(all_bytes((char *)out.addr + (size_t)p * PG, PG,
                                d ? page_byte(p) : 0), "page %u", p);
        k += d;
    }
    /* It is a blob now: writable, BLOB_DESTROY, not UNMAP_REGION. */
    PVT_EQ_INT(fill(f, R, PG, 0x33), 0);
    PVT_EQ_INT(rf_unmap_region(f, 0, R, (uint64_t)n * PG), -XEN_ENOENT);
    PVT_EQ_INT(migrate(f, 0, R, (uint64_t)n * PG, BM, &rsp), -XEN_ENOENT);
    PVT_EQ_INT(blob_destroy(f, 0, id), 0);
    PVT_EQ_INT(rf_unmap_region(f, 0, OUT, (uint64_t)n * PG), 0);
    rf_mem_free(f, &out);
}

/* Every refused migration leaves the region a region, grants mapped. */
static void migrate_rules(struct guest *g)
{
    const uint64_t R = 0x10000000;
    struct rawfront *f = &g->f;
    vaccel_request_t req;
    vaccel_response_t rsp;
    struct rf_mem r;
    uint32_t id[3];

    PVT_EQ_INT(rf_mem_alloc(f, 16, true, &r), 0);
    memset(r.addr, 0x44, 16 * PG);
    PVT_EQ_INT(rf_map_region(f, 0, R, &r, true), 0);
    memset(g->bm.addr, 0xff, 2);
    PVT_EQ_INT(migrate(f, 0, R, 15 * PG, BM, &rsp), -XEN_ENOENT);
    PVT_EQ_INT(migrate(f, 0, R + PG, 15 * PG, BM, &rsp), -XEN_ENOENT);
    PVT_EQ_INT(migrate(f, 0, 0x30000000, 16 * PG, BM, &rsp), -XEN_ENOENT);
    /* The bitmap: unmapped, inside the region, partly inside, too high. */
    PVT_EQ_INT(migrate(f, 0, R, 16 * PG, 0x30000000, &rsp), -XEN_EFAULT);
    PVT_EQ_INT(rsp.fault_iova, 0x30000000);
    PVT_EQ_INT(rsp.fault_access, VACCEL_ACCESS_READ);
    PVT_EQ_INT(migrate(f, 0, R, 16 * PG, BM + PG - 1, &rsp), -XEN_EFAULT);
    PVT_EQ_INT(rsp.fault_iova, BM + PG);
    PVT_EQ_INT(migrate(f, 0, R, 16 * PG, R + 8 * PG, &rsp), -XEN_EINVAL);
    PVT_EQ_INT(migrate(f, 0, R, 16 * PG, R - 1, &rsp), -XEN_EINVAL);
    PVT_EQ_INT(migrate(f, 0, R, 16 * PG, R + 16 * PG - 1, &rsp), -XEN_EINVAL);
    PVT_EQ_INT(migrate(f, 0, R, 16 * PG, 1ull << 48, &rsp), -XEN_EINVAL);
    PVT_EQ_INT(migrate(f, 0, R, 16 * PG, UINT64_MAX, &rsp), -XEN_EINVAL);
    /* Header and reserved fields. */
    rf_req_init(&req, VACCEL_OP_BLOB_MIGRATE, 1);
    req.u.blob_migrate = (struct vaccel_req_blob_migrate){ R, 16 * PG, BM,
                                                           {0, 0, 1} };
    PVT_EQ_INT(call(f, 0, &req, NULL), -XEN_EINVAL);
    req.u.blob_migrate.reserved[2] = 0;
    req.handle = 7;
    PVT_EQ_INT(call(f, 0, &req, NULL), -XEN_EINVAL);
    req.handle = 0;
    req.flags = VACCEL_MAP_F_WRITE;
    PVT_EQ_INT(call(f, 0, &req, NULL), -XEN_EINVAL);
    /* No blob left to make. */
    for (int i = 0; i < 3; i++)
        PVT_EQ_INT(blob_create(f, BLOB + (uint64_t)i * 0x100000, PG, &id[i]),
                   0);
    PVT_EQ_INT(migrate(f, 0, R, 16 * PG, BM, &rsp), -XEN_EMFILE);
    for (int i = 0; i < 3; i++)
        PVT_EQ_INT(blob_destroy(f, 0, id[i]), 0);
    /* Nothing changed: still a writable region of those grants. */
    PVT_EQ_INT(f->p->gntshr->unshare(f->gs, r.addr, 16), -EBUSY);
    PVT_EQ_INT(fill(f, R, PG, 0x55), 0);
    PVT_CHECK(all_bytes(r.addr, PG, 0x55));
    PVT_CHECK(all_bytes((char *)r.addr + PG, 15 * PG, 0x44));
    PVT_EQ_INT(rf_unmap_region(f, 0, R, 16 * PG), 0);
    rf_mem_free(f, &r);
}

/* ----------------------------------------------------------- readback */

static void readback_copy_and_remap(struct guest *g)
{
    struct rawfront *f = &g->f;
    vaccel_response_t rsp;
    struct rf_mem m;
    uint32_t id;

    PVT_EQ_INT(blob_create(f, BLOB, 3 * PG, &id), 0);
    PVT_EQ_INT(copy(f, DATA, 3 * PG, BLOB), 0);
    PVT_EQ_INT(rf_mem_alloc(f, 3, true, &m), 0);
    memset(m.addr, 0xee, 3 * PG);
    PVT_EQ_INT(readback(f, 0, id, &m, 3, false, &rsp), 0);
    PVT_EQ_INT(rsp.len, 3 * PG);
    PVT_CHECK(!memcmp(m.addr, g->data.addr, 3 * PG));
    /* The pages were unmapped after the copy; the blob stays. */
    PVT_EQ_INT(f->p->gntshr->unshare(f->gs, m.addr, 3), 0);
    free(m.refs);
    PVT_EQ_INT(fill(f, BLOB, PG, 0x66), 0);

    /* REMAP: the range becomes a writable region of the guest's pages. */
    PVT_EQ_INT(rf_mem_alloc(f, 3, true, &m), 0);
    PVT_EQ_INT(readback(f, 0, id, &m, 3, true, &rsp), 0);
    PVT_EQ_INT(rsp.len, 3 * PG);
    PVT_CHECK(all_bytes(m.addr, PG, 0x66));
    PVT_CHECK(!memcmp((char *)m.addr + PG, (char *)g->data.addr + PG, 2 * PG));
    PVT_EQ_INT(blob_destroy(f, 0, id), -XEN_ENOENT);
    PVT_EQ_INT(fill(f, BLOB + PG, PG, 0x77), 0);
    PVT_CHECK(all_bytes((char *)m.addr + PG, PG, 0x77));
    PVT_EQ_INT(f->p->gntshr->unshare(f->gs, m.addr, 3), -EBUSY);
    PVT_EQ_INT(rf_unmap_region(f, 0, BLOB, 3 * PG), 0);
    rf_mem_free(f, &m);
}

static void readback_rules(struct guest *g)
{
    struct rawfront *f = &g->f;
    vaccel_request_t req;
    vaccel_response_t rsp;
    struct rf_mem m, ro, dir;
    pva_gref_t *many;
    uint32_t id;

    PVT_EQ_INT(blob_create(f, BLOB, 3 * PG, &id), 0);
    PVT_EQ_INT(fill(f, BLOB, 3 * PG, 0x99), 0);
    PVT_EQ_INT(rf_mem_alloc(f, 3, true, &m), 0);
    PVT_EQ_INT(readback(f, 0, id + 1, &m, 3, false, &rsp), -XEN_ENOENT);
    PVT_EQ_INT(readback(f, 0, 0, &m, 3, false, &rsp), -XEN_ENOENT);
    /* Too short a directory: its grants end before the blob does. */
    PVT_EQ_INT(readback(f, 0, id, &m, 2, false, &rsp), -XEN_EINVAL);
    PVT_EQ_INT(readback(f, 0, id, &m, 2, true, &rsp), -XEN_EINVAL);
    /* Too long: a second directory page where the chain must end. */
    many = calloc(VACCEL_DIR_GREFS_PER_PAGE + 1, sizeof(*many));
    PVT_CHECK(many != NULL);
    for (uint32_t i = 0; i <= VACCEL_DIR_GREFS_PER_PAGE; i++)
        many[i] = m.refs[i % 3];
    PVT_EQ_INT(rf_dir_build(f, many, VACCEL_DIR_GREFS_PER_PAGE + 1, &dir), 0);
    rf_req_init(&req, VACCEL_OP_BLOB_READBACK, 1);
    req.handle = id;
    req.u.blob_readback.gref_dir = dir.refs[0];
    PVT_EQ_INT(call(f, 0, &req, NULL), -XEN_EINVAL);
    req.flags = VACCEL_READBACK_F_REMAP;
    PVT_EQ_INT(call(f, 0, &req, NULL), -XEN_EINVAL);
    rf_mem_free(f, &dir);
    free(many);
    /* Garbage directory grant, read-only pages: EACCES, value = page. */
    req.flags = 0;
    req.u.blob_readback.gref_dir = 0x7fffff;
    PVT_EQ_INT(call(f, 0, &req, &rsp), -XEN_EACCES);
    PVT_EQ_INT(rf_mem_alloc(f, 3, false, &ro), 0);
    PVT_EQ_INT(readback(f, 0, id, &ro, 3, false, &rsp), -XEN_EACCES);
    PVT_EQ_INT(rsp.value, 0);
    PVT_EQ_INT(readback(f, 0, id, &ro, 3, true, &rsp), -XEN_EACCES);
    rf_mem_free(f, &ro);
    /* Header and reserved fields. */
    rf_req_init(&req, VACCEL_OP_BLOB_READBACK, 1);
    req.handle = id;
    req.u.blob_readback.gref_dir = m.refs[0];
    req.flags = VACCEL_MAP_F_WRITE << 1;
    PVT_EQ_INT(call(f, 0, &req, NULL), -XEN_EINVAL);
    req.flags = 0;
    req.u.blob_readback.reserved0 = 1;
    PVT_EQ_INT(call(f, 0, &req, NULL), -XEN_EINVAL);
    req.u.blob_readback.reserved0 = 0;
    req.u.blob_readback.reserved1[4] = 1;
    PVT_EQ_INT(call(f, 0, &req, NULL), -XEN_EINVAL);
    /* None of it touched the blob or left a page mapped. */
    PVT_EQ_INT(f->p->gntshr->unshare(f->gs, m.addr, 3), 0);
    free(m.refs);
    PVT_EQ_INT(copy(f, BLOB, 3 * PG, SCR), 0);
    PVT_CHECK(all_bytes(g->scr.addr, 3 * PG, 0x99));
    PVT_EQ_INT(blob_destroy(f, 0, id), 0);
}

/* --------------------------------------------------------------- guests */

static int guest_main(void *arg)
{
    struct guest g;
    char *v;

    (void)arg;
    setup(&g, 0);
    v = rf_be_read(&g.f, VACCEL_FIELD_FEATURE_BLOBS);
    PVT_EQ_STR(v, "1");
    free(v);
    PVT_EQ_INT(rf_be_long(&g.f, VACCEL_FIELD_MAX_BLOBS), 3);
    PVT_EQ_INT(rf_be_long(&g.f, VACCEL_FIELD_MAX_BLOB_PAGES), 2048);
    create_and_use(&g);
    create_rules(&g);
    limits(&g);
    busy(&g);
    migrate_partial(&g);
    migrate_rules(&g);
    readback_copy_and_remap(&g);
    readback_rules(&g);

    /* Blobs die with the connection, and give their quota back. */
    for (int round = 0; round < 2; round++) {
        PVT_EQ_INT(blob_create(&g.f, BLOB, PG, NULL), 0);
        PVT_EQ_INT(blob_create(&g.f, 0x1000000, 2 * CHUNK_PAGES * PG, NULL),
                   0);
        PVT_EQ_INT(blob_create(&g.f, 0x2000000, PG, NULL), 0);
        PVT_EQ_INT(rf_disconnect(&g.f), 0);
        PVT_EQ_INT(rf_connect(&g.f, 2, 0), 0);
        PVT_EQ_INT(copy(&g.f, BLOB, PG, BLOB), -XEN_EFAULT);
    }
    /* Closed: the backend has released everything (see main). */
    PVT_EQ_INT(rf_disconnect(&g.f), 0);
    rf_fini(&g.f);
    return 0;
}

/* Device 1 of the same domain: the domain quota; REMAP beyond max-regions. */
static int guest_quota(void *arg)
{
    struct rawfront f, g;
    struct rf_mem m, r;
    vaccel_response_t rsp;
    uint32_t big, a, b;

    (void)arg;
    /* The domain has 5 chunks and 4 blobs; device 0 takes 3 chunks. */
    PVT_EQ_INT(rf_init(&f, 0), 0);
    PVT_EQ_INT(rf_connect(&f, 1, 0), 0);
    PVT_EQ_INT(blob_create(&f, BLOB, 3 * CHUNK_PAGES * PG, &big), 0);
    PVT_EQ_INT(rf_init(&g, 1), 0);
    PVT_EQ_INT(rf_be_long(&g, VACCEL_FIELD_MAX_REGIONS), 1);
    PVT_EQ_INT(rf_connect(&g, 1, 0), 0);
    PVT_EQ_INT(blob_create(&g, BLOB, 3 * CHUNK_PAGES * PG, NULL), -XEN_ENOMEM);
    PVT_EQ_INT(blob_create(&g, BLOB, 2 * CHUNK_PAGES * PG, &a), 0);
    PVT_EQ_INT(blob_create(&g, 0x10000000, PG, NULL), -XEN_ENOMEM);
    PVT_EQ_INT(blob_destroy(&g, 0, a), 0);
    /* Device 0 now holds 2 blobs of a chunk: 2 blobs left to the domain. */
    PVT_EQ_INT(blob_destroy(&f, 0, big), 0);
    PVT_EQ_INT(blob_create(&f, BLOB, PG, NULL), 0);
    PVT_EQ_INT(blob_create(&f, 2 * BLOB, PG, NULL), 0);
    PVT_EQ_INT(blob_create(&g, BLOB, PG, &a), 0);
    PVT_EQ_INT(blob_create(&g, 0x10000000, PG, &b), 0);
    PVT_EQ_INT(blob_create(&g, 0x20000000, PG, NULL), -XEN_EMFILE);
    PVT_EQ_INT(blob_destroy(&g, 0, b), 0);
    /* max-regions=1 on device 1: REMAP needs a region slot. */
    PVT_EQ_INT(rf_mem_alloc(&g, 1, true, &r), 0);
    PVT_EQ_INT(rf_map_region(&g, 0, 0x30000000, &r, true), 0);
    PVT_EQ_INT(rf_mem_alloc(&g, 1, true, &m), 0);
    PVT_EQ_INT(readback(&g, 0, a, &m, 1, true, &rsp), -XEN_EMFILE);
    PVT_EQ_INT(g.p->gntshr->unshare(g.gs, m.addr, 1), 0);
    free(m.refs);
    PVT_EQ_INT(rf_unmap_region(&g, 0, 0x30000000, PG), 0);
    rf_mem_free(&g, &r);
    PVT_EQ_INT(rf_mem_alloc(&g, 1, true, &m), 0);
    PVT_EQ_INT(readback(&g, 0, a, &m, 1, true, &rsp), 0);
    PVT_EQ_INT(blob_destroy(&g, 0, a), -XEN_ENOENT);
    /* Device 0 still holds two blobs: closing frees them. */
    PVT_EQ_INT(rf_disconnect(&g), 0);
    PVT_EQ_INT(rf_disconnect(&f), 0);
    rf_fini(&g);
    rf_fini(&f);
    return 0;
}

/* max-blobs=0 in the params node: no feature, no blob op. */
static int guest_off(void *arg)
{
    struct rawfront f;
    vaccel_request_t req;
    char *v;

    (void)arg;
    PVT_EQ_INT(rf_init(&f, 2), 0);
    v = rf_be_read(&f, VACCEL_FIELD_FEATURE_BLOBS);
    PVT_EQ_STR(v, "0");
    free(v);
    PVT_EQ_INT(rf_connect(&f, 1, 0), 0);
    for (uint8_t op = VACCEL_OP_BLOB_CREATE; op <= VACCEL_OP_BLOB_READBACK;
         op++) {
        rf_req_init(&req, op, 1);
        PVT_EQ_INT(call(&f, 0, &req, NULL), -XEN_EOPNOTSUPP);
    }
    PVT_EQ_INT(rf_disconnect(&f), 0);
    rf_fini(&f);
    return 0;
}

int main(void)
{
    char stats[8192];
    struct pvt_chan hold_c;
    pid_t holder;
    int d1, d2;

    if (rf_env_start(&env, opts)) {
        fprintf(stderr, "cannot start the sim and pvacceld\n");
        return 99;
    }
    d1 = pvt_sim_create(&env.sim, "one");
    d2 = pvt_sim_create(&env.sim, "two");
    PVT_EQ_INT(rf_env_attach(&env, d1, 0, NULL), 0);
    PVT_EQ_INT(rf_env_attach(&env, d2, 0, NULL), 0);
    PVT_EQ_INT(rf_env_attach(&env, d2, 1, "max-regions=1"), 0);
    PVT_EQ_INT(rf_env_attach(&env, d2, 2, "max-blobs=0"), 0);
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&env.sim, d1, guest_main, NULL)), 0);
    holder = rf_env_hold(&env, d2, &hold_c);  /* domain 2 runs two guests */
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&env.sim, d2, guest_quota, NULL)), 0);
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&env.sim, d2, guest_off, NULL)), 0);
    rf_env_unhold(holder, &hold_c);
    /* Every guest closed its devices: no blob memory is left accounted. */
    PVT_EQ_INT(rf_env_stats(&env, stats, sizeof(stats)), 0);
    for (const char *at = stats; (at = strstr(at, "\"blob_pages\":")); at++)
        PVT_CHECK_MSG(rf_json_num(at, "blob_pages") == 0, "%s", stats);
    PVT_EQ_INT(rf_env_stop_backend(&env), 0);
    rf_env_stop(&env);
    return pvt_done();
}
