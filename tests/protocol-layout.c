/* SPDX-License-Identifier: MIT */
/*
 * protocol-layout: the vaccel wire ABI (xen-protocol/accelif.h), checked at
 * run time with messages.
 *
 * The header already fails to compile if a size or offset is wrong; this
 * test repeats the checks where a failure names the field, adds the ring
 * slot counts per page order against hand-computed numbers (both from
 * __CONST_RING_SIZE and from a ring actually initialised on a buffer), pins
 * the worked example of docs/protocol.md byte for byte, and exercises the
 * event ring macros across the 2^32 index wrap.
 *
 * Build it for every ABI you can: tests/protocol-abi.sh compiles it with
 * -m32 and runs it, and checks the header's static assertions for arm64
 * and arm32 with clang cross targets.
 *
 * Exit status: 0 pass, 1 failure (automake test driver).
 */
#include "accelif.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned int checks, failures;

static void check_eq(const char *what, unsigned long long got,
                     unsigned long long want)
{
    checks++;
    if (got != want) {
        failures++;
        printf("FAIL %-52s = %llu, expected %llu\n", what, got, want);
    }
}

#define SIZE(type, want)  check_eq("sizeof(" #type ")", sizeof(type), (want))
#define OFF(type, field, want) \
    check_eq("offsetof(" #type ", " #field ")", offsetof(type, field), (want))

/* How the ABI aligns a uint64_t inside a structure (4 on x86_32). */
struct u64_in_struct {
    char     c;
    uint64_t u;
};

static const char *abi(void)
{
#if defined(__x86_64__)
    return "x86_64";
#elif defined(__i386__)
    return "x86_32";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__arm__)
    return "arm32";
#else
    return "unknown";
#endif
}

static void check_layout(void)
{
    unsigned int before = checks;

    SIZE(grant_ref_t, 4);
    SIZE(RING_IDX, 4);
    SIZE(struct vaccel_seg, 16);
    OFF(struct vaccel_seg, iova, 0);
    OFF(struct vaccel_seg, len, 8);
    SIZE(struct vaccel_page_directory, 4096);
    OFF(struct vaccel_page_directory, gref, 4);
    check_eq("VACCEL_DIR_GREFS_PER_PAGE", VACCEL_DIR_GREFS_PER_PAGE, 1023);

    /* request header */
    SIZE(struct vaccel_request, 64);
    OFF(struct vaccel_request, id, 0);
    OFF(struct vaccel_request, op, 8);
    OFF(struct vaccel_request, alg, 9);
    OFF(struct vaccel_request, flags, 10);
    OFF(struct vaccel_request, handle, 12);
    OFF(struct vaccel_request, u, 16);

    /* control bodies */
    SIZE(struct vaccel_req_map_region, 48);
    OFF(struct vaccel_request, u.map_region.iova, 16);
    OFF(struct vaccel_request, u.map_region.len, 24);
    OFF(struct vaccel_request, u.map_region.gref_dir, 32);
    OFF(struct vaccel_request, u.map_region.reserved0, 36);
    OFF(struct vaccel_request, u.map_region.reserved1, 40);
    SIZE(struct vaccel_req_unmap_region, 48);
    OFF(struct vaccel_request, u.unmap_region.iova, 16);
    OFF(struct vaccel_request, u.unmap_region.len, 24);
    SIZE(struct vaccel_req_session_create, 48);
    OFF(struct vaccel_request, u.session_create.key.iova, 16);
    OFF(struct vaccel_request, u.session_create.key.len, 24);
    SIZE(struct vaccel_req_blob_create, 48);
    OFF(struct vaccel_request, u.blob_create.iova, 16);
    OFF(struct vaccel_request, u.blob_create.len, 24);
    SIZE(struct vaccel_req_blob_migrate, 48);
    OFF(struct vaccel_request, u.blob_migrate.iova, 16);
    OFF(struct vaccel_request, u.blob_migrate.len, 24);
    OFF(struct vaccel_request, u.blob_migrate.bitmap_iova, 32);
    SIZE(struct vaccel_req_blob_readback, 48);
    OFF(struct vaccel_request, u.blob_readback.gref_dir, 16);
    SIZE(struct vaccel_req_fault_response, 48);
    OFF(struct vaccel_request, u.fault_response.fault_id, 16);
    OFF(struct vaccel_request, u.fault_response.status, 20);

    /* data bodies */
    SIZE(struct vaccel_req_data, 48);
    OFF(struct vaccel_request, u.data.src.iova, 16);
    OFF(struct vaccel_request, u.data.src.len, 24);
    OFF(struct vaccel_request, u.data.dst.iova, 32);
    OFF(struct vaccel_request, u.data.dst.len, 40);
    OFF(struct vaccel_request, u.data.param, 48);
    SIZE(struct vaccel_req_compress, 48);
    OFF(struct vaccel_request, u.compress.level, 48);
    SIZE(struct vaccel_req_aead, 48);
    OFF(struct vaccel_request, u.aead.src, 16);
    OFF(struct vaccel_request, u.aead.dst, 32);
    OFF(struct vaccel_request, u.aead.nonce, 48);
    OFF(struct vaccel_request, u.aead.aad_len, 60);
    SIZE(struct vaccel_req_fill, 48);
    OFF(struct vaccel_request, u.fill.dst, 32);
    OFF(struct vaccel_request, u.fill.pattern, 48);
    SIZE(struct vaccel_req_compare, 48);
    OFF(struct vaccel_request, u.compare.a, 16);
    OFF(struct vaccel_request, u.compare.b, 32);
    SIZE(struct vaccel_req_crc32c, 48);
    OFF(struct vaccel_request, u.crc32c.src, 16);
    OFF(struct vaccel_request, u.crc32c.seed, 48);

    /* response */
    SIZE(struct vaccel_response, 64);
    OFF(struct vaccel_response, id, 0);
    OFF(struct vaccel_response, op, 8);
    OFF(struct vaccel_response, fault_access, 9);
    OFF(struct vaccel_response, reserved0, 10);
    OFF(struct vaccel_response, status, 12);
    OFF(struct vaccel_response, len, 16);
    OFF(struct vaccel_response, value, 24);
    OFF(struct vaccel_response, aux, 32);
    OFF(struct vaccel_response, fault_iova, 40);
    OFF(struct vaccel_response, reserved1, 48);

    /* shared request ring */
    SIZE(union vaccel_sring_entry, 64);
    OFF(struct vaccel_sring, req_prod, 0);
    OFF(struct vaccel_sring, req_event, 4);
    OFF(struct vaccel_sring, rsp_prod, 8);
    OFF(struct vaccel_sring, rsp_event, 12);
    OFF(struct vaccel_sring, ring, 64);

    /* events */
    SIZE(struct vaccel_evt, 64);
    OFF(struct vaccel_evt, type, 0);
    OFF(struct vaccel_evt, flags, 2);
    OFF(struct vaccel_evt, reserved, 4);
    OFF(struct vaccel_evt, seq, 8);
    OFF(struct vaccel_evt, u, 16);
    SIZE(struct vaccel_evt_fault, 48);
    OFF(struct vaccel_evt, u.fault.iova, 16);
    OFF(struct vaccel_evt, u.fault.len, 24);
    OFF(struct vaccel_evt, u.fault.req_id, 32);
    OFF(struct vaccel_evt, u.fault.fault_id, 40);
    OFF(struct vaccel_evt, u.fault.queue, 44);
    OFF(struct vaccel_evt, u.fault.access, 46);
    OFF(struct vaccel_evt, u.fault.op, 47);
    SIZE(struct vaccel_evt_queue_stopped, 48);
    OFF(struct vaccel_evt, u.queue_stopped.queue, 16);
    OFF(struct vaccel_evt, u.queue_stopped.reason, 20);
    SIZE(struct vaccel_evt_engine_reset, 48);
    OFF(struct vaccel_evt, u.engine_reset.failed, 16);
    SIZE(struct vaccel_evt_quota, 48);
    OFF(struct vaccel_evt, u.quota.quota, 16);
    OFF(struct vaccel_evt, u.quota.status, 20);
    OFF(struct vaccel_evt, u.quota.limit, 24);
    OFF(struct vaccel_evt_sring, evt_prod, 0);
    OFF(struct vaccel_evt_sring, evt_event, 4);
    OFF(struct vaccel_evt_sring, evt_cons, 8);
    OFF(struct vaccel_evt_sring, lost, 12);
    OFF(struct vaccel_evt_sring, ring, 64);

    printf("ok   %u size/offset checks (%s, alignof(uint64_t) in structs %zu)\n",
           checks - before, abi(), offsetof(struct u64_in_struct, u));
}

/*
 * Ring slots per order, by hand: (4096 * 2^order - 64) / 64 rounded down to
 * a power of two:  63 -> 32, 127 -> 64, 255 -> 128, 511 -> 256, 1023 -> 512.
 */
static void check_rings(void)
{
    static const unsigned int want[VACCEL_MAX_RING_PAGE_ORDER + 1] = {
        32, 64, 128, 256, 512
    };
    unsigned int before = checks;
    char what[96];

    for (unsigned int order = 0; order <= VACCEL_MAX_RING_PAGE_ORDER; order++) {
        size_t bytes = (size_t)4096 << order;
        void *mem = aligned_alloc(4096, bytes);
        vaccel_front_ring_t front;
        vaccel_back_ring_t back;

        if (!mem) {
            perror("aligned_alloc");
            exit(1);
        }
        snprintf(what, sizeof(what), "__CONST_RING_SIZE(vaccel, %zu)", bytes);
        check_eq(what, __CONST_RING_SIZE(vaccel, bytes), want[order]);
        snprintf(what, sizeof(what), "VACCEL_RING_SIZE(%u)", order);
        check_eq(what, VACCEL_RING_SIZE(order), want[order]);
        snprintf(what, sizeof(what), "VACCEL_EVT_RING_SIZE(%u)", order);
        check_eq(what, VACCEL_EVT_RING_SIZE(order), want[order]);

        memset(mem, 0xa5, bytes);
        XEN_FRONT_RING_INIT(&front, (vaccel_sring_t *)mem, bytes);
        BACK_RING_INIT(&back, (vaccel_sring_t *)mem, bytes);
        snprintf(what, sizeof(what), "RING_SIZE(front ring, order %u)", order);
        check_eq(what, RING_SIZE(&front), want[order]);
        snprintf(what, sizeof(what), "RING_SIZE(back ring, order %u)", order);
        check_eq(what, RING_SIZE(&back), want[order]);
        /* the last slot must end inside the ring pages */
        snprintf(what, sizeof(what), "end of last slot <= ring bytes (order %u)", order);
        check_eq(what,
                 (size_t)((char *)&front.sring->ring[RING_SIZE(&front)] - (char *)mem) <= bytes,
                 1);
        printf("ok   order %u: %2u page(s), %3u request slots, %3u event slots\n",
               order, 1u << order, RING_SIZE(&front),
               (unsigned int)VACCEL_EVT_RING_SIZE(order));
        free(mem);
    }
    (void)before;
}

static void check_constants(void)
{
    unsigned int before = checks;

    check_eq("VACCEL_PROTOCOL_VERSION", VACCEL_PROTOCOL_VERSION, 1);
    check_eq("VACCEL_PAGE_SIZE", VACCEL_PAGE_SIZE, 4096);
    check_eq("VACCEL_BLOB_CHUNK_SIZE", VACCEL_BLOB_CHUNK_SIZE, 2u << 20);
    check_eq("VACCEL_DEFAULT_MAX_SG_ENTRIES * 16 == page", VACCEL_DEFAULT_MAX_SG_ENTRIES * 16, 4096);
    check_eq("VACCEL_MAX_QUEUES <= 65536 (u16 queue in events)", VACCEL_MAX_QUEUES <= 65536, 1);
    /* status codes used by the protocol, as numbers (ABI) */
    check_eq("XEN_EINVAL", XEN_EINVAL, 22);
    check_eq("XEN_EFAULT", XEN_EFAULT, 14);
    check_eq("XEN_ENOSPC", XEN_ENOSPC, 28);
    check_eq("XEN_EBADMSG", XEN_EBADMSG, 74);
    check_eq("XEN_EILSEQ", XEN_EILSEQ, 84);
    check_eq("XEN_ENODATA", XEN_ENODATA, 61);
    check_eq("XEN_EOPNOTSUPP", XEN_EOPNOTSUPP, 95);
    check_eq("XEN_ENOTCONN", XEN_ENOTCONN, 107);
    check_eq("XEN_ETIMEDOUT", XEN_ETIMEDOUT, 110);
    check_eq("XEN_E2BIG", XEN_E2BIG, 7);
    check_eq("XEN_EMFILE", XEN_EMFILE, 24);
    /* flags of different classes do not collide */
    check_eq("generic flags within mask",
             (VACCEL_REQ_F_SRC_INDIRECT | VACCEL_REQ_F_DST_INDIRECT |
              VACCEL_REQ_F_IOPF) & ~VACCEL_REQ_F_GENERIC_MASK, 0);
    check_eq("op flags above mask",
             (VACCEL_MAP_F_WRITE | VACCEL_READBACK_F_REMAP | VACCEL_DIGEST_F_MORE |
              VACCEL_FILL_F_PATTERN64) & VACCEL_REQ_F_GENERIC_MASK, 0);
    check_eq("VACCEL_OP_IS_DATA(COMPRESS)", VACCEL_OP_IS_DATA(VACCEL_OP_COMPRESS), 1);
    check_eq("VACCEL_OP_IS_DATA(FAULT_RESPONSE)", VACCEL_OP_IS_DATA(VACCEL_OP_FAULT_RESPONSE), 0);
    check_eq("VACCEL_ALG_IS_COMPRESS(LZ4)", VACCEL_ALG_IS_COMPRESS(VACCEL_ALG_LZ4), 1);
    check_eq("VACCEL_ALG_IS_AEAD(SHA256)", VACCEL_ALG_IS_AEAD(VACCEL_ALG_SHA256), 0);
    printf("ok   %u constant checks\n", checks - before);
}

static int check_bytes(const char *what, const void *obj, const uint8_t *want)
{
    const uint8_t *got = obj;

    checks++;
    for (unsigned int i = 0; i < 64; i++) {
        if (got[i] != want[i]) {
            failures++;
            printf("FAIL %s: byte %u is 0x%02x, expected 0x%02x\n",
                   what, i, got[i], want[i]);
            return 0;
        }
    }
    return 1;
}

/* The worked example of docs/protocol.md: sha256 of 10000 octets. */
static void check_worked_example(void)
{
    static const uint8_t map_req[64] = {
        0x01, 0, 0, 0, 0, 0, 0, 0,                /* id 1 */
        0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0,       /* MAP_REGION, alg 0, flags WRITE, handle 0 */
        0x00, 0x00, 0x10, 0, 0, 0, 0, 0,          /* iova 0x100000 */
        0x00, 0x40, 0, 0, 0, 0, 0, 0,             /* len 0x4000 (4 pages) */
        0x14, 0, 0, 0, 0, 0, 0, 0,                /* gref_dir 20, reserved */
    };
    static const uint8_t map_rsp[64] = {
        0x01, 0, 0, 0, 0, 0, 0, 0,                /* id 1 */
        0x01, 0, 0, 0, 0, 0, 0, 0,                /* op, status 0 */
        0, 0, 0, 0, 0, 0, 0, 0,                   /* len 0 */
        0x04, 0, 0, 0, 0, 0, 0, 0,                /* value: 4 pages mapped */
    };
    static const uint8_t digest_req[64] = {
        0x02, 0, 0, 0, 0, 0, 0, 0,                /* id 2 */
        0x42, 0x10, 0x00, 0x00, 0, 0, 0, 0,       /* DIGEST, sha256, flags 0, handle 0 */
        0x00, 0x00, 0x10, 0, 0, 0, 0, 0,          /* src.iova 0x100000 */
        0x10, 0x27, 0, 0, 0, 0, 0, 0,             /* src.len 10000 */
        0x00, 0x30, 0x10, 0, 0, 0, 0, 0,          /* dst.iova 0x103000 */
        0x20, 0, 0, 0, 0, 0, 0, 0,                /* dst.len 32 */
    };
    static const uint8_t digest_rsp[64] = {
        0x02, 0, 0, 0, 0, 0, 0, 0,                /* id 2 */
        0x42, 0, 0, 0, 0, 0, 0, 0,                /* op, status 0 */
        0x20, 0, 0, 0, 0, 0, 0, 0,                /* len 32 */
    };
    static const uint8_t enospc_rsp[64] = {
        0x03, 0, 0, 0, 0, 0, 0, 0,                /* id 3 */
        0x42, 0, 0, 0, 0xe4, 0xff, 0xff, 0xff,    /* status -28 (-XEN_ENOSPC) */
        0, 0, 0, 0, 0, 0, 0, 0,                   /* len 0 */
        0, 0, 0, 0, 0, 0, 0, 0,                   /* value 0 */
        0x20, 0, 0, 0, 0, 0, 0, 0,                /* aux: 32 needed */
    };
    struct vaccel_request req;
    struct vaccel_response rsp;
    int ok = 1;

    memset(&req, 0, sizeof(req));
    req.id = 1;
    req.op = VACCEL_OP_MAP_REGION;
    req.flags = VACCEL_MAP_F_WRITE;
    req.u.map_region.iova = 0x100000;
    req.u.map_region.len = 4 * VACCEL_PAGE_SIZE;
    req.u.map_region.gref_dir = 20;
    ok &= check_bytes("MAP_REGION request", &req, map_req);

    memset(&rsp, 0, sizeof(rsp));
    rsp.id = 1;
    rsp.op = VACCEL_OP_MAP_REGION;
    rsp.value = 4;
    ok &= check_bytes("MAP_REGION response", &rsp, map_rsp);

    memset(&req, 0, sizeof(req));
    req.id = 2;
    req.op = VACCEL_OP_DIGEST;
    req.alg = VACCEL_ALG_SHA256;
    req.u.digest.src.iova = 0x100000;
    req.u.digest.src.len = 10000;
    req.u.digest.dst.iova = 0x103000;
    req.u.digest.dst.len = VACCEL_SHA256_LEN;
    ok &= check_bytes("DIGEST request", &req, digest_req);

    memset(&rsp, 0, sizeof(rsp));
    rsp.id = 2;
    rsp.op = VACCEL_OP_DIGEST;
    rsp.len = VACCEL_SHA256_LEN;
    ok &= check_bytes("DIGEST response", &rsp, digest_rsp);

    memset(&rsp, 0, sizeof(rsp));
    rsp.id = 3;
    rsp.op = VACCEL_OP_DIGEST;
    rsp.status = -XEN_ENOSPC;
    rsp.aux = VACCEL_SHA256_LEN;
    ok &= check_bytes("DIGEST -XEN_ENOSPC response", &rsp, enospc_rsp);

    if (ok)
        printf("ok   worked example of docs/protocol.md encodes byte for byte\n");
}

/* Event ring: produce/consume with the header's macros across the wrap. */
static void check_evt_ring(void)
{
    const unsigned int size = VACCEL_EVT_RING_SIZE(0);
    vaccel_evt_sring_t *s = aligned_alloc(4096, 4096);
    uint32_t prod, cons, start = 0xfffffff0u; /* wraps after 16 records */
    unsigned int produced = 0, consumed = 0, notifies = 0, dropped = 0;
    int notify, more;

    if (!s) {
        perror("aligned_alloc");
        exit(1);
    }
    memset(s, 0, 4096);
    VACCEL_EVT_RING_INIT(s);
    check_eq("evt ring init: evt_event", s->evt_event, 1);
    /* pretend a long-lived connection: indices close to the wrap */
    s->evt_cons = start;
    s->evt_event = start + 1;
    prod = cons = start;

    for (unsigned int round = 0; round < 4; round++) {
        /* backend: produce until full, plus 3 that must be dropped */
        uint32_t old = prod;
        for (unsigned int i = 0; i < size + 3; i++) {
            if (!VACCEL_EVT_RING_HAS_ROOM(s, size, prod)) {
                s->lost++;
                dropped++;
                continue;
            }
            struct vaccel_evt *e = VACCEL_EVT_RING_SLOT(s, size, prod);
            memset(e, 0, sizeof(*e));
            e->type = VACCEL_EVT_FAULT;
            e->seq = (uint64_t)produced + dropped;
            e->u.fault.req_id = produced;
            prod++;
            produced++;
        }
        VACCEL_EVT_RING_PUSH_AND_CHECK_NOTIFY(s, old, prod, notify);
        notifies += notify != 0;
        /* frontend: consume all, re-arm */
        while (cons != s->evt_prod) {
            struct vaccel_evt e = *VACCEL_EVT_RING_SLOT(s, size, cons);
            checks++;
            if (e.u.fault.req_id != consumed) {
                failures++;
                printf("FAIL evt ring: record %u has req_id %" PRIu64 "\n",
                       consumed, e.u.fault.req_id);
            }
            cons++;
            consumed++;
        }
        VACCEL_EVT_RING_FINAL_CHECK(s, cons, more);
        check_eq("evt ring: nothing more after final check", more, 0);
    }
    check_eq("evt ring: records consumed", consumed, 4 * size);
    check_eq("evt ring: records dropped", dropped, 4 * 3);
    check_eq("evt ring: lost counter", s->lost, 4 * 3);
    check_eq("evt ring: one notification per batch", notifies, 4);
    check_eq("evt ring: producer wrapped past 2^32", prod < start, 1);
    printf("ok   event ring: %u records through a %u-slot ring across the index "
           "wrap, %u dropped when full\n", consumed, size, dropped);
    free(s);
}

int main(void)
{
    printf("vaccel protocol %s layout on %s\n", VACCEL_PROTOCOL_VERSION_STR, abi());
    check_layout();
    check_rings();
    check_constants();
    check_worked_example();
    check_evt_ring();
    if (failures) {
        printf("FAILED: %u of %u checks\n", failures, checks);
        return 1;
    }
    printf("PASS: %u checks\n", checks);
    return 0;
}
