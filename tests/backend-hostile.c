/* SPDX-License-Identifier: MIT */
/*
 * backend-hostile: a guest that breaks every rule, one check per backend
 * rule of DESIGN.md ("Rules for the backend"), and a backend that must
 * answer each with the documented status and keep serving.
 *
 * The guest writes raw requests into its rings (tests/rawfront.h): non-zero
 * reserved fields, wrapping and out-of-space IOVAs, unmapped and read-only
 * memory, oversized and hostile scatter lists, broken page directory
 * chains, grants the backend may not map, request fields flipped after
 * submission, garbage-filled response slots, random requests, and finally
 * a request producer index far beyond the ring.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/rawfront.h"

#define A 0x100000ull        /* writable region, 16 pages */
#define A_PAGES 16
#define RO 0x200000ull       /* read-only region, 1 page */

static struct rf_env env;

static int32_t crc_req(struct rawfront *f, uint64_t iova, uint64_t len,
                       vaccel_response_t *rsp)
{
    vaccel_request_t req;

    rf_req_init(&req, VACCEL_OP_CRC32C, 0xc);
    req.u.crc32c.src = (struct vaccel_seg){ iova, len };
    return rf_call_status(f, &req, rsp);
}

/* Rule: reserved fields, flags, unused slots zero; unknown ops. */
static void reserved_fields(struct rawfront *f)
{
    vaccel_request_t req;

    rf_req_init(&req, VACCEL_OP_NOP, 1);
    req.u.reserved[47] = 1;
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EINVAL);
    rf_req_init(&req, VACCEL_OP_NOP, 1);
    req.flags = 1;
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EINVAL);
    rf_req_init(&req, VACCEL_OP_NOP, 1);
    req.handle = 3;
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EINVAL);
    rf_req_init(&req, VACCEL_OP_CRC32C, 1);
    req.u.crc32c.src = (struct vaccel_seg){ A, 9 };
    req.u.crc32c.reserved0.len = 1;          /* the unused dst slot */
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EINVAL);
    rf_req_init(&req, VACCEL_OP_CRC32C, 1);
    req.u.crc32c.src = (struct vaccel_seg){ A, 9 };
    req.u.crc32c.reserved2 = 1;
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EINVAL);
    rf_req_init(&req, VACCEL_OP_COPY, 1);
    req.alg = VACCEL_ALG_ZSTD;               /* alg on a COPY */
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EINVAL);
    rf_req_init(&req, VACCEL_OP_COPY, 1);
    req.flags = 1u << 3;                     /* undefined generic flag */
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EINVAL);
    rf_req_init(&req, VACCEL_OP_FILL, 1);
    req.u.fill.dst = (struct vaccel_seg){ A, 8 };
    req.u.fill.pattern = 0x1ff;              /* high bits without PATTERN64 */
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EINVAL);
    rf_req_init(&req, VACCEL_OP_COMPRESS, 1);
    req.alg = VACCEL_ALG_ZSTD;
    req.u.compress.src = (struct vaccel_seg){ A, 8 };
    req.u.compress.dst = (struct vaccel_seg){ A + 4096, 4096 };
    req.u.compress.level = 1000;
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EINVAL);
    rf_req_init(&req, VACCEL_OP_COMPRESS, 1);
    req.alg = 99;                            /* not offered */
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EOPNOTSUPP);
    rf_req_init(&req, 0x30, 1);
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_ENOSYS);
    rf_req_init(&req, 0xff, 1);
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_ENOSYS);
    rf_req_init(&req, VACCEL_OP_BLOB_CREATE, 1);   /* IOVA page 0 */
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EINVAL);
    rf_req_init(&req, VACCEL_OP_NOP, 1);
    req.flags = VACCEL_REQ_F_IOPF;           /* data operations only */
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EINVAL);
    rf_req_init(&req, VACCEL_OP_FAULT_RESPONSE, 1);
    req.u.fault_response.fault_id = 5;
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_ENOENT);
    req.u.fault_response.status = 1;         /* positive status */
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EINVAL);
}

/* Rule: every IOVA and length bounds-checked; faults reported. */
static void iova_bounds(struct rawfront *f)
{
    vaccel_response_t rsp;
    struct vaccel_evt evt;
    vaccel_request_t req;

    PVT_EQ_INT(crc_req(f, UINT64_MAX - 4, 10, NULL), -XEN_EINVAL);
    PVT_EQ_INT(crc_req(f, (1ull << 48) - 4, 8, NULL), -XEN_EINVAL);
    PVT_EQ_INT(crc_req(f, 1ull << 63, 1, NULL), -XEN_EINVAL);
    PVT_EQ_INT(crc_req(f, A, (16u << 20) + 1, NULL), -XEN_E2BIG);
    PVT_EQ_INT(crc_req(f, (1ull << 48) - 1, 1, NULL), -XEN_EFAULT);

    /* Unmapped: status, fault_iova, access, and a fault record. */
    while (rf_evt(f, &evt, 0))
        ;
    PVT_EQ_INT(crc_req(f, A + A_PAGES * 4096 - 8, 24, &rsp), -XEN_EFAULT);
    PVT_EQ_INT(rsp.fault_iova, A + A_PAGES * 4096);
    PVT_EQ_INT(rsp.fault_access, VACCEL_ACCESS_READ);
    PVT_EQ_INT(rsp.len, 0);
    PVT_EQ_INT(rf_evt(f, &evt, RF_TIMEOUT_MS), 1);
    PVT_EQ_INT(evt.type, VACCEL_EVT_FAULT);
    PVT_EQ_INT(evt.u.fault.iova, A + A_PAGES * 4096);
    PVT_EQ_INT(evt.u.fault.len, 16);
    PVT_EQ_INT(evt.u.fault.req_id, 0xc);
    PVT_EQ_INT(evt.u.fault.fault_id, 0);
    PVT_EQ_INT(evt.u.fault.op, VACCEL_OP_CRC32C);

    /* Output into a read-only region. */
    rf_req_init(&req, VACCEL_OP_COPY, 2);
    req.u.copy.src = (struct vaccel_seg){ A, 8 };
    req.u.copy.dst = (struct vaccel_seg){ RO, 8 };
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EACCES);
    /* ... while reading it is fine. */
    PVT_EQ_INT(crc_req(f, RO, 4096, NULL), 0);
    /* An operand spanning both regions' gap faults for writes too. */
    rf_req_init(&req, VACCEL_OP_FILL, 3);
    req.u.fill.dst = (struct vaccel_seg){ A + A_PAGES * 4096 - 4, 8 };
    PVT_EQ_INT(rf_call_status(f, &req, &rsp), -XEN_EFAULT);
    PVT_EQ_INT(rsp.fault_access, VACCEL_ACCESS_WRITE);
    /* Region registration: page 0, overlap, misalignment, wrap. */
    PVT_EQ_INT(crc_req(f, 0, 1, NULL), -XEN_EFAULT);
    {
        struct rf_mem m;

        PVT_EQ_INT(rf_mem_alloc(f, 1, true, &m), 0);
        PVT_EQ_INT(rf_map_region(f, 0, 0, &m, true), -XEN_EINVAL);
        PVT_EQ_INT(rf_map_region(f, 0, A + 4096, &m, true), -XEN_EEXIST);
        PVT_EQ_INT(rf_map_region(f, 0, A + 4096 + 8, &m, true), -XEN_EINVAL);
        PVT_EQ_INT(rf_map_region(f, 0, (1ull << 48) - 4096, &m, true), 0);
        PVT_EQ_INT(rf_unmap_region(f, 0, (1ull << 48) - 4096, 4096), 0);
        PVT_EQ_INT(rf_map_region(f, 0, 1ull << 48, &m, true), -XEN_EINVAL);
        PVT_EQ_INT(rf_unmap_region(f, 0, A, 4096), -XEN_ENOENT);
        rf_mem_free(f, &m);
    }
}

/* Rule: scatter lists read once, capped, every entry checked. */
static void scatter_lists(struct rawfront *f, struct rf_mem *a)
{
    struct vaccel_seg *sg = (struct vaccel_seg *)((char *)a->addr + 8 * 4096);
    uint64_t sg_iova = A + 8 * 4096;
    vaccel_response_t rsp, direct;
    vaccel_request_t req;

    /* At the cap: 256 one-byte entries == a direct CRC of 256 bytes. */
    for (int i = 0; i < 256; i++)
        sg[i] = (struct vaccel_seg){ A + (uint64_t)i, 1 };
    rf_req_init(&req, VACCEL_OP_CRC32C, 4);
    req.flags = VACCEL_REQ_F_SRC_INDIRECT;
    req.u.crc32c.src = (struct vaccel_seg){ sg_iova, 256 * 16 };
    PVT_EQ_INT(rf_call_status(f, &req, &rsp), 0);
    PVT_EQ_INT(crc_req(f, A, 256, &direct), 0);
    PVT_EQ_INT(rsp.value, direct.value);
    /* Over the cap, misaligned, ragged. */
    req.u.crc32c.src.len = 257 * 16;
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_E2BIG);
    req.u.crc32c.src = (struct vaccel_seg){ sg_iova + 4, 16 };
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EINVAL);
    req.u.crc32c.src = (struct vaccel_seg){ sg_iova, 24 };
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EINVAL);
    req.u.crc32c.src = (struct vaccel_seg){ sg_iova, 0 };
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EINVAL);
    /* Entries outside: unmapped, wrapping, beyond iova-bits, too long. */
    req.u.crc32c.src = (struct vaccel_seg){ sg_iova, 32 };
    sg[1] = (struct vaccel_seg){ 0x7000000, 5 };
    PVT_EQ_INT(rf_call_status(f, &req, &rsp), -XEN_EFAULT);
    PVT_EQ_INT(rsp.fault_iova, 0x7000000);
    sg[1] = (struct vaccel_seg){ UINT64_MAX - 1, 5 };
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EINVAL);
    sg[1] = (struct vaccel_seg){ 1ull << 48, 1 };
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EINVAL);
    sg[0] = (struct vaccel_seg){ A, 10u << 20 };
    sg[1] = (struct vaccel_seg){ A, 10u << 20 };
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_E2BIG);
    /* The list itself unmapped, and a list pointing into itself. */
    req.u.crc32c.src = (struct vaccel_seg){ 0x7000000, 32 };
    PVT_EQ_INT(rf_call_status(f, &req, &rsp), -XEN_EFAULT);
    PVT_EQ_INT(rsp.fault_iova, 0x7000000);
    sg[0] = (struct vaccel_seg){ sg_iova, 32 };
    sg[1] = (struct vaccel_seg){ 0, 0 };
    req.u.crc32c.src = (struct vaccel_seg){ sg_iova, 32 };
    PVT_EQ_INT(rf_call_status(f, &req, NULL), 0);
    /* An indirect dst on an op without dst. */
    req.flags = VACCEL_REQ_F_DST_INDIRECT;
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EINVAL);
}

/* MAP_REGION with a directory the test wrote itself. */
static int32_t map_with_dir(struct rawfront *f, uint64_t iova, uint32_t npages,
                            pva_gref_t gref_dir, bool writable,
                            vaccel_response_t *rsp)
{
    vaccel_request_t req;

    rf_req_init(&req, VACCEL_OP_MAP_REGION, 0xd1);
    req.flags = writable ? VACCEL_MAP_F_WRITE : 0;
    req.u.map_region.iova = iova;
    req.u.map_region.len = (uint64_t)npages * 4096;
    req.u.map_region.gref_dir = gref_dir;
    return rf_call_status(f, &req, rsp);
}

/* Rule: chains bounded; every map status checked; grants checked. */
static void directories(struct rawfront *f)
{
    const uint64_t iova = 0x40000000;
    const uint32_t two_dirs = VACCEL_DIR_GREFS_PER_PAGE + 1;
    struct rf_mem pages, dir, ro;
    struct vaccel_page_directory *pd;
    vaccel_response_t rsp;
    pva_gref_t *grefs;

    PVT_EQ_INT(rf_mem_alloc(f, two_dirs, true, &pages), 0);
    PVT_EQ_INT(rf_mem_alloc(f, 1, false, &ro), 0);
    grefs = calloc(two_dirs, sizeof(*grefs));
    memcpy(grefs, pages.refs, two_dirs * sizeof(*grefs));

    /* Grant 0 among the pages. */
    grefs[5] = 0;
    PVT_EQ_INT(rf_dir_build(f, grefs, 8, &dir), 0);
    PVT_EQ_INT(map_with_dir(f, iova, 8, dir.refs[0], true, NULL), -XEN_EINVAL);
    rf_mem_free(f, &dir);
    grefs[5] = pages.refs[5];

    /* A page not granted to us: EACCES, value = its index. */
    grefs[6] = 0xfffff;
    PVT_EQ_INT(rf_dir_build(f, grefs, 8, &dir), 0);
    PVT_EQ_INT(map_with_dir(f, iova, 8, dir.refs[0], true, &rsp), -XEN_EACCES);
    PVT_EQ_INT(rsp.value, 6);
    rf_mem_free(f, &dir);

    /* A read-only grant in a writable region; fine in a read-only one. */
    grefs[6] = ro.refs[0];
    PVT_EQ_INT(rf_dir_build(f, grefs, 8, &dir), 0);
    PVT_EQ_INT(map_with_dir(f, iova, 8, dir.refs[0], true, &rsp), -XEN_EACCES);
    PVT_EQ_INT(rsp.value, 6);
    PVT_EQ_INT(map_with_dir(f, iova, 8, dir.refs[0], false, &rsp), 0);
    PVT_EQ_INT(rsp.value, 8);
    PVT_EQ_INT(rf_unmap_region(f, 0, iova, 8 * 4096), 0);
    rf_mem_free(f, &dir);
    grefs[6] = pages.refs[6];

    /* Overlong: the last directory page used has a next pointer. */
    PVT_EQ_INT(rf_dir_build(f, grefs, 8, &dir), 0);
    pd = dir.addr;
    pd->gref_dir_next_page = dir.refs[0];
    PVT_EQ_INT(map_with_dir(f, iova, 8, dir.refs[0], true, NULL), -XEN_EINVAL);
    rf_mem_free(f, &dir);

    /* A loop: the first page points at itself; two pages are needed. */
    PVT_EQ_INT(rf_dir_build(f, grefs, two_dirs, &dir), 0);
    pd = dir.addr;
    pd->gref_dir_next_page = dir.refs[0];
    PVT_EQ_INT(map_with_dir(f, iova, two_dirs, dir.refs[0], true, NULL),
               -XEN_EINVAL);
    /* Ends early: the next pointer is 0 before all grants were read. */
    pd->gref_dir_next_page = 0;
    PVT_EQ_INT(map_with_dir(f, iova, two_dirs, dir.refs[0], true, NULL),
               -XEN_EINVAL);
    /* Well formed, two directory pages. */
    pd->gref_dir_next_page = dir.refs[1];
    PVT_EQ_INT(map_with_dir(f, iova, two_dirs, dir.refs[0], true, &rsp), 0);
    PVT_EQ_INT(rsp.value, two_dirs);
    PVT_EQ_INT(rf_unmap_region(f, 0, iova, (uint64_t)two_dirs * 4096), 0);
    rf_mem_free(f, &dir);

    /* A directory page we were not granted. */
    PVT_EQ_INT(map_with_dir(f, iova, 8, 0xffffe, true, NULL), -XEN_EACCES);
    PVT_EQ_INT(map_with_dir(f, iova, 8, 0, true, NULL), -XEN_EINVAL);
    /* Above max-region-pages. */
    PVT_EQ_INT(map_with_dir(f, iova, 8193, pages.refs[0], true, NULL),
               -XEN_E2BIG);
    free(grefs);
    rf_mem_free(f, &ro);
    /* Every failed map left nothing mapped: the grants can be ended. */
    PVT_EQ_INT(f->p->gntshr->unshare(f->gs, pages.addr, pages.npages), 0);
    pages.addr = NULL;
    rf_mem_free(f, &pages);
}

/* Rule: zero every response slot (XSA-216). */
static void zeroed_responses(struct rawfront *f)
{
    struct rf_queue *q = &f->q[0];
    unsigned int n = RING_SIZE(&q->ring);
    vaccel_response_t rsp;
    const uint8_t *b = (const uint8_t *)&rsp;
    int dirty = 0;

    /* Garbage in every slot; then requests that are garbage but for op. */
    for (unsigned int i = 0; i < n; i++)
        memset(&q->ring.sring->ring[i], 0xa5, sizeof(q->ring.sring->ring[i]));
    for (unsigned int i = 0; i < n; i++) {
        vaccel_request_t *r = rf_req(f, 0);

        memset(r, 0xa5, sizeof(*r));
        r->id = i;
        r->op = VACCEL_OP_NOP;
    }
    rf_push(f, 0);
    for (unsigned int i = 0; i < n; i++) {
        if (rf_rsp(f, 0, &rsp)) {
            dirty++;
            break;
        }
        dirty += rsp.status != -XEN_EINVAL || rsp.op != VACCEL_OP_NOP;
        for (size_t o = 16; o < sizeof(rsp); o++)
            dirty += b[o] != 0;
        dirty += b[9] || b[10] || b[11];
    }
    PVT_EQ_INT(dirty, 0);
}

/* Rule: copy once.  A thread flips a request's length after submission. */
struct flipper {
    vaccel_request_t *slots;
    unsigned int n;
    volatile bool stop;
};

static void *flip(void *arg)
{
    struct flipper *fl = arg;
    uint64_t x = 88172645463325252ull;

    while (!fl->stop) {
        vaccel_request_t *r;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        r = &fl->slots[x % fl->n];
        /* Offset 24 is the response's value: see the checks below. */
        __atomic_store_n(&r->u.crc32c.src.len,
                         (x & 0x100) ? 9 : 0x7fffffffffffull, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void toctou(struct rawfront *f)
{
    struct rf_queue *q = &f->q[1];
    unsigned int n = RING_SIZE(&q->ring), ok = 0, refused = 0, wrong = 0;
    struct flipper fl = { (vaccel_request_t *)q->ring.sring->ring, n, false };
    pthread_t t;

    pthread_create(&t, NULL, flip, &fl);
    for (int round = 0; round < 40; round++) {
        for (unsigned int i = 0; i < n; i++) {
            vaccel_request_t *r = rf_req(f, 1);

            rf_req_init(r, VACCEL_OP_CRC32C, i);
            r->u.crc32c.src = (struct vaccel_seg){ A, 9 };
        }
        rf_push(f, 1);
        for (unsigned int i = 0; i < n; i++) {
            vaccel_response_t rsp;

            if (rf_rsp(f, 1, &rsp)) {
                wrong++;
                break;
            }
            /*
             * Used as checked: a CRC of 9 bytes, or a refusal of the huge
             * length.  Never a fault (checked 9, then used the huge one).
             * The flipper may clobber the posted value, never the status.
             */
            if (rsp.status == 0)
                ok++;
            else if (rsp.status == -XEN_E2BIG)
                refused++;
            else {
                printf("# toctou: unexpected status %d\n", rsp.status);
                wrong++;
            }
        }
    }
    fl.stop = true;
    pthread_join(t, NULL);
    printf("# toctou: %u computed on the checked copy, %u refused\n", ok,
           refused);
    PVT_EQ_INT(wrong, 0);
    PVT_CHECK(ok + refused == 40 * n);
}

/* Random requests: every one answered, the daemon alive. */
static void random_requests(struct rawfront *f)
{
    unsigned int n = RING_SIZE(&f->q[1].ring), answered = 0;
    uint64_t seed = 0x9e3779b97f4a7c15ull;

    for (int round = 0; round < 20; round++) {
        for (unsigned int i = 0; i < n; i++) {
            vaccel_request_t *r = rf_req(f, 1);
            uint64_t *w = (uint64_t *)r;

            for (int k = 0; k < 8; k++) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                w[k] = seed;
            }
            /* Keep ops interesting; point some operands at real memory. */
            r->op = (uint8_t)((seed & 1) ? 0x40 + seed % 10 : seed % 12);
            if (seed & 2)
                r->u.data.src = (struct vaccel_seg){ A + seed % 4096,
                                                     seed % 8192 };
            if (seed & 4)
                r->u.data.dst = (struct vaccel_seg){ A + 4096 * 4 + seed % 4096,
                                                     seed % 8192 };
            if (seed & 8)
                r->flags &= 0xff03;
            if (seed & 16)
                r->u.data.param[0] = 0;
        }
        rf_push(f, 1);
        for (unsigned int i = 0; i < n; i++) {
            vaccel_response_t rsp;

            if (rf_rsp(f, 1, &rsp) == 0)
                answered++;
        }
    }
    PVT_EQ_INT(answered, 20 * n);
}

/*
 * Regions come and go on queue 0 while queue 1 keeps data requests on
 * them in flight: a region in use is never unmapped under a request
 * (-XEN_EBUSY), a request never uses a region that is gone (-XEN_EFAULT).
 * Run under ASan, a use after unmap in the backend would be fatal.
 */
static void unmap_races(struct rawfront *f)
{
    const uint64_t r2 = 0x20000000;
    unsigned int bad = 0, unmapped = 0, busy = 0, faulted = 0, ok = 0;
    struct rf_mem m2;

    PVT_EQ_INT(rf_mem_alloc(f, 64, true, &m2), 0);
    PVT_EQ_INT(rf_map_region(f, 0, r2, &m2, true), 0);
    for (int round = 0; round < 200; round++) {
        int32_t st;

        for (int i = 0; i < 8; i++) {
            vaccel_request_t *r = rf_req(f, 1);

            rf_req_init(r, i % 2 ? VACCEL_OP_COPY : VACCEL_OP_CRC32C, 9);
            r->u.copy.src = (struct vaccel_seg){ i % 2 ? A : r2, 60 * 1024 };
            if (i % 2)
                r->u.copy.dst = (struct vaccel_seg){ r2, 64 * 4096 };
        }
        rf_push(f, 1);
        st = rf_unmap_region(f, 0, r2, 64 * 4096);
        if (st == 0) {
            unmapped++;
            st = rf_map_region(f, 0, r2, &m2, true);
            bad += st != 0;
        } else {
            busy += st == -XEN_EBUSY;
            bad += st != -XEN_EBUSY;
        }
        for (int i = 0; i < 8; i++) {
            vaccel_response_t rsp;

            if (rf_rsp(f, 1, &rsp)) {
                bad++;
                break;
            }
            ok += rsp.status == 0;
            faulted += rsp.status == -XEN_EFAULT;
            bad += rsp.status != 0 && rsp.status != -XEN_EFAULT;
        }
    }
    printf("# unmap races: %u unmapped, %u busy; requests: %u done, %u "
           "faulted\n", unmapped, busy, ok, faulted);
    PVT_EQ_INT(bad, 0);
    PVT_EQ_INT(rf_unmap_region(f, 0, r2, 64 * 4096), 0);
    rf_mem_free(f, &m2);
}

/* Rule: check the producer index; stop only that queue. */
static void prod_overflow(struct rawfront *f, struct rawfront *g)
{
    struct rf_queue *q = &f->q[1];
    struct vaccel_evt evt;
    vaccel_request_t req;
    vaccel_response_t rsp;
    int got;

    while (rf_evt(f, &evt, 0))
        ;
    q->ring.sring->req_prod = q->ring.req_prod_pvt + RING_SIZE(&q->ring) + 5;
    f->p->evtchn->notify(f->ev, q->port);
    do {
        got = rf_evt(f, &evt, RF_TIMEOUT_MS);
    } while (got && evt.type != VACCEL_EVT_QUEUE_STOPPED);
    PVT_EQ_INT(got, 1);
    PVT_EQ_INT(evt.type, VACCEL_EVT_QUEUE_STOPPED);
    PVT_EQ_INT(evt.u.queue_stopped.queue, 1);
    PVT_EQ_INT(evt.u.queue_stopped.reason, VACCEL_STOP_RING_OVERFLOW);
    /* Queue 0 of this device, and the other device, still serve. */
    rf_req_init(&req, VACCEL_OP_NOP, 77);
    PVT_EQ_INT(rf_call(f, 0, &req, &rsp), 0);
    PVT_EQ_INT(rsp.id, 77);
    PVT_EQ_INT(rf_call(g, 0, &req, &rsp), 0);
    PVT_EQ_INT(rsp.status, 0);
    /* And the stopped queue answers nothing more. */
    RING_IDX before = q->ring.sring->rsp_prod;
    PVT_EQ_INT(rf_call(f, 0, &req, &rsp), 0);
    PVT_EQ_INT(q->ring.sring->rsp_prod, before);
}

/* Expect a handshake error: Closing with a reason, then Closed, reinit. */
static void refused(struct rawfront *h, const char *what)
{
    char *err;

    rf_set_fe_state(h, XenbusStateInitialised);
    PVT_EQ_INT(rf_wait_be_state(h, 1u << XenbusStateClosing |
                                   1u << XenbusStateConnected),
               XenbusStateClosing);
    err = rf_be_read(h, VACCEL_FIELD_ERROR);
    PVT_CHECK_MSG(err != NULL, "%s: error = %s", what, err ? err : "(none)");
    free(err);
    rf_set_fe_state(h, XenbusStateClosing);
    PVT_EQ_INT(rf_wait_be_state(h, 1u << XenbusStateClosed),
               XenbusStateClosed);
    rf_set_fe_state(h, XenbusStateInitialising);
    PVT_EQ_INT(rf_wait_be_state(h, 1u << XenbusStateInitWait),
               XenbusStateInitWait);
    err = rf_be_read(h, VACCEL_FIELD_ERROR);
    PVT_CHECK_MSG(err == NULL, "%s: error node removed at InitWait", what);
    free(err);
}

/* Rule: every value a guest writes in xenstore is validated. */
static void bad_handshakes(void)
{
    struct rawfront h;
    struct rf_mem page;
    char v[32];
    int port_q, port_e;

    PVT_EQ_INT(rf_init(&h, 2), 0);
    PVT_EQ_INT(rf_wait_be_state(&h, 1u << XenbusStateInitWait),
               XenbusStateInitWait);
    PVT_EQ_INT(rf_mem_alloc(&h, 2, true, &page), 0);
    port_q = h.p->evtchn->bind_unbound(h.ev, 0);
    port_e = h.p->evtchn->bind_unbound(h.ev, 0);
    PVT_CHECK(port_q > 0 && port_e > 0);

    refused(&h, "no version");
    rf_fe_write(&h, VACCEL_FIELD_FE_VERSION, "2");
    refused(&h, "version 2");
    rf_fe_write(&h, VACCEL_FIELD_FE_VERSION, "01");
    refused(&h, "leading zero");
    rf_fe_write(&h, VACCEL_FIELD_FE_VERSION, "1");
    refused(&h, "no event ring");
    snprintf(v, sizeof(v), "%u", page.refs[1]);
    rf_fe_write(&h, VACCEL_FIELD_EVT_RING_REF, v);
    rf_fe_write(&h, VACCEL_FIELD_EVT_EVENT_CHANNEL, "12345");
    refused(&h, "event ring channel not ours");
    snprintf(v, sizeof(v), "%d", port_e);
    rf_fe_write(&h, VACCEL_FIELD_EVT_EVENT_CHANNEL, v);
    refused(&h, "no ring-ref");
    rf_fe_write(&h, VACCEL_FIELD_RING_REF, "99999");
    snprintf(v, sizeof(v), "%d", port_q);
    rf_fe_write(&h, VACCEL_FIELD_EVENT_CHANNEL, v);
    refused(&h, "ring not granted to the backend");
    snprintf(v, sizeof(v), "%u", page.refs[0]);
    rf_fe_write(&h, VACCEL_FIELD_RING_REF, v);
    snprintf(v, sizeof(v), "%d", port_e);
    rf_fe_write(&h, VACCEL_FIELD_EVENT_CHANNEL, v);
    refused(&h, "queue and event ring share a port");
    snprintf(v, sizeof(v), "%d", port_q);
    rf_fe_write(&h, VACCEL_FIELD_EVENT_CHANNEL, v);
    /* Too many queues, too big a ring. */
    rf_fe_write(&h, VACCEL_FIELD_NUM_QUEUES, "65");
    refused(&h, "65 queues");
    rf_fe_write(&h, VACCEL_FIELD_NUM_QUEUES, "0");
    refused(&h, "0 queues");
    rf_fe_write(&h, VACCEL_FIELD_NUM_QUEUES, "1");
    rf_fe_write(&h, VACCEL_FIELD_RING_PAGE_ORDER, "5");
    refused(&h, "ring order 5");
    rf_fe_write(&h, VACCEL_FIELD_RING_PAGE_ORDER, "4294967296");
    refused(&h, "ring order overflow");
    h.p->evtchn->unbind(h.ev, (pva_port_t)port_q);
    h.p->evtchn->unbind(h.ev, (pva_port_t)port_e);
    /* Nothing of the refused attempts is mapped any more. */
    PVT_EQ_INT(h.p->gntshr->unshare(h.gs, page.addr, 2), 0);
    page.addr = NULL;
    rf_mem_free(&h, &page);
    /* The device still works after all that. */
    PVT_EQ_INT(rf_connect(&h, 1, 0), 0);
    rf_fini(&h);
}

/* AEAD sessions: the key is read once; its length and place are checked. */
static void aead_keys(struct rawfront *f)
{
    vaccel_request_t req;
    vaccel_response_t rsp;

    rf_req_init(&req, VACCEL_OP_SESSION_CREATE, 30);
    req.alg = VACCEL_ALG_AES_256_GCM;
    req.u.session_create.key = (struct vaccel_seg){ A, 16 };
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EINVAL);
    req.u.session_create.key = (struct vaccel_seg){ 0x7000000, 32 };
    PVT_EQ_INT(rf_call_status(f, &req, &rsp), -XEN_EFAULT);
    PVT_EQ_INT(rsp.fault_iova, 0x7000000);
    req.u.session_create.key = (struct vaccel_seg){ A, 32 };
    PVT_EQ_INT(rf_call_status(f, &req, &rsp), 0);
    PVT_CHECK(rsp.value != 0);
    /* A digest session with a key, an AEAD op on a digest session. */
    req.alg = VACCEL_ALG_SHA256;
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EINVAL);
    req.u.session_create.key = (struct vaccel_seg){ 0, 0 };
    PVT_EQ_INT(rf_call_status(f, &req, &rsp), 0);
    rf_req_init(&req, VACCEL_OP_AEAD_ENCRYPT, 31);
    req.handle = (uint32_t)rsp.value;
    req.u.aead.src = (struct vaccel_seg){ A, 16 };
    req.u.aead.dst = (struct vaccel_seg){ A + 4096, 64 };
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EINVAL);
    req.handle = 0xdead0001;
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_ENOENT);
    rf_req_init(&req, VACCEL_OP_SESSION_CREATE, 32);
    req.alg = VACCEL_ALG_ZSTD;
    PVT_EQ_INT(rf_call_status(f, &req, NULL), -XEN_EOPNOTSUPP);
}

static int guest(void *arg)
{
    struct rawfront f, g;
    struct rf_mem a, ro;

    (void)arg;
    PVT_EQ_INT(rf_init(&f, 0), 0);
    PVT_EQ_INT(rf_connect(&f, 2, 0), 0);
    PVT_EQ_INT(rf_init(&g, 1), 0);
    PVT_EQ_INT(rf_connect(&g, 1, 0), 0);
    PVT_EQ_INT(rf_mem_alloc(&f, A_PAGES, true, &a), 0);
    PVT_EQ_INT(rf_map_region(&f, 0, A, &a, true), 0);
    memcpy(a.addr, "123456789", 9);
    PVT_EQ_INT(rf_mem_alloc(&f, 1, false, &ro), 0);
    PVT_EQ_INT(rf_map_region(&f, 0, RO, &ro, false), 0);

    reserved_fields(&f);
    aead_keys(&f);
    iova_bounds(&f);
    scatter_lists(&f, &a);
    memcpy(a.addr, "123456789", 9);
    directories(&f);
    zeroed_responses(&f);
    toctou(&f);
    random_requests(&f);
    unmap_races(&f);
    prod_overflow(&f, &g);
    bad_handshakes();
    rf_fini(&g);
    rf_fini(&f);
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
    dom = pvt_sim_create(&env.sim, "hostile");
    PVT_CHECK(dom > 0);
    PVT_EQ_INT(rf_env_attach(&env, dom, 0, NULL), 0);
    PVT_EQ_INT(rf_env_attach(&env, dom, 1, NULL), 0);
    PVT_EQ_INT(rf_env_attach(&env, dom, 2, NULL), 0);
    pid = pvt_sim_spawn(&env.sim, dom, guest, NULL);
    PVT_EQ_INT(pvt_wait(pid), 0);
    /* The daemon survived all of it and still answers. */
    PVT_EQ_INT(rf_env_stats(&env, stats, sizeof(stats)), 0);
    PVT_CHECK(strstr(stats, "\"engine\":\"cpu\"") != NULL);
    PVT_EQ_INT(rf_env_stop_backend(&env), 0);
    rf_env_stop(&env);
    return pvt_done();
}
