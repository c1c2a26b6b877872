/* SPDX-License-Identifier: MIT */
/*
 * backend-quota: per-device limits and per-domain quotas.
 *
 * pvacceld runs with small quotas.  Each limit, when hit, gives its
 * documented status and a VACCEL_EVT_QUOTA record, and disturbs nothing
 * else: the same queue keeps serving, other devices of the domain have
 * their own limits but share the domain's quota, and another domain has
 * its own quota.  Bad "params" nodes are handshake errors.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/rawfront.h"

static struct rf_env env;

static const char *const opts[] = {
    "max-regions=4", "domain-max-regions=6",
    "max-sessions=2", "domain-max-sessions=3",
    "max-mapped-pages=600", "domain-max-mapped-pages=700",
    "fault-timeout-ms=3600000",     /* held requests wait for their answer */
    NULL,
};

static int32_t nop(struct rawfront *f)
{
    vaccel_request_t req;
    vaccel_response_t rsp;

    rf_req_init(&req, VACCEL_OP_NOP, 1);
    return rf_call(f, 0, &req, &rsp) ? -9999 : rsp.status;
}

static int32_t session(struct rawfront *f)
{
    vaccel_request_t req;
    vaccel_response_t rsp;

    rf_req_init(&req, VACCEL_OP_SESSION_CREATE, 2);
    req.alg = VACCEL_ALG_SHA256;
    return rf_call(f, 0, &req, &rsp) ? -9999 : rsp.status;
}

/* The next record of @type, skipping others. */
static bool next_evt(struct rawfront *f, uint16_t type, struct vaccel_evt *e)
{
    while (rf_evt(f, e, RF_TIMEOUT_MS))
        if (e->type == type)
            return true;
    return false;
}

static int32_t map_pages(struct rawfront *f, uint64_t iova, uint32_t n,
                         struct rf_mem *m)
{
    int rc = rf_mem_alloc(f, n, true, m);

    return rc ? rc : rf_map_region(f, 0, iova, m, true);
}

/* Domain 1: two devices share the domain's quota. */
static int guest_one(void *arg)
{
    struct rawfront f, g;
    struct rf_mem m[8], big;
    struct vaccel_evt e;

    (void)arg;
    PVT_EQ_INT(rf_init(&f, 0), 0);
    PVT_EQ_INT(rf_connect(&f, 1, 0), 0);
    PVT_EQ_INT(rf_init(&g, 1), 0);
    PVT_EQ_INT(rf_connect(&g, 1, 0), 0);

    /* max-regions (device): the 5th region of dev 0. */
    for (int i = 0; i < 4; i++)
        PVT_EQ_INT(map_pages(&f, 0x100000ull * (i + 1), 1, &m[i]), 0);
    PVT_EQ_INT(map_pages(&f, 0x500000, 1, &m[4]), -XEN_EMFILE);
    PVT_CHECK(next_evt(&f, VACCEL_EVT_QUOTA, &e));
    PVT_EQ_INT(e.u.quota.quota, VACCEL_QUOTA_REGIONS);
    PVT_EQ_INT(e.u.quota.status, -XEN_EMFILE);
    PVT_EQ_INT(e.u.quota.limit, 4);
    PVT_EQ_INT(nop(&f), 0);              /* the queue still serves */

    /* domain-max-regions: dev 1 gets 2 more, then the domain is full. */
    PVT_EQ_INT(map_pages(&g, 0x100000, 1, &m[5]), 0);
    PVT_EQ_INT(map_pages(&g, 0x200000, 1, &m[6]), 0);
    PVT_EQ_INT(map_pages(&g, 0x300000, 1, &m[7]), -XEN_EMFILE);
    PVT_CHECK(next_evt(&g, VACCEL_EVT_QUOTA, &e));
    PVT_EQ_INT(e.u.quota.limit, 6);
    /* Freeing one on dev 0 makes room for dev 1. */
    PVT_EQ_INT(rf_unmap_region(&f, 0, 0x100000, 4096), 0);
    rf_mem_free(&g, &m[7]);
    PVT_EQ_INT(map_pages(&g, 0x300000, 1, &m[7]), 0);

    /* Mapped pages: 600 per device, 700 per domain. */
    PVT_EQ_INT(rf_unmap_region(&f, 0, 0x200000, 4096), 0);
    PVT_EQ_INT(rf_unmap_region(&f, 0, 0x300000, 4096), 0);
    /* dev 0: 1 page mapped; dev 1: 3 pages. */
    PVT_EQ_INT(map_pages(&f, 0x10000000, 600, &big), -XEN_ENOMEM);
    rf_mem_free(&f, &big);
    PVT_CHECK(next_evt(&f, VACCEL_EVT_QUOTA, &e));
    PVT_EQ_INT(e.u.quota.quota, VACCEL_QUOTA_MAPPED_PAGES);
    PVT_EQ_INT(e.u.quota.limit, 600);
    PVT_EQ_INT(map_pages(&f, 0x10000000, 599, &big), 0);   /* 600 on dev 0 */
    /* dev 1 is far below its 600, but the domain is at 603 of 700. */
    {
        struct rf_mem more;

        PVT_EQ_INT(map_pages(&g, 0x10000000, 98, &more), -XEN_ENOMEM);
        rf_mem_free(&g, &more);
        PVT_CHECK(next_evt(&g, VACCEL_EVT_QUOTA, &e));
        PVT_EQ_INT(e.u.quota.limit, 700);
        PVT_EQ_INT(map_pages(&g, 0x10000000, 97, &more), 0);
    }
    PVT_EQ_INT(nop(&g), 0);

    /* Sessions: 2 per device, 3 per domain. */
    PVT_EQ_INT(session(&f), 0);
    PVT_EQ_INT(session(&f), 0);
    PVT_EQ_INT(session(&f), -XEN_EMFILE);
    PVT_EQ_INT(session(&g), 0);
    PVT_EQ_INT(session(&g), -XEN_EMFILE);
    PVT_CHECK(next_evt(&g, VACCEL_EVT_QUOTA, &e));
    PVT_EQ_INT(e.u.quota.quota, VACCEL_QUOTA_SESSIONS);
    PVT_EQ_INT(e.u.quota.limit, 3);
    PVT_EQ_INT(nop(&f), 0);
    rf_fini(&g);
    rf_fini(&f);
    return 0;
}

/* A CRC32C of @iova that may be held on a recoverable fault. */
static void push_crc(struct rawfront *f, uint64_t id, uint64_t iova, bool iopf)
{
    vaccel_request_t *r = rf_req(f, 0);

    rf_req_init(r, VACCEL_OP_CRC32C, id);
    r->flags = iopf ? VACCEL_REQ_F_IOPF : 0;
    r->u.crc32c.src = (struct vaccel_seg){ iova, 9 };
}

static void push_compress(struct rawfront *f, uint64_t id)
{
    vaccel_request_t *r = rf_req(f, 0);

    rf_req_init(r, VACCEL_OP_COMPRESS, id);
    r->alg = VACCEL_ALG_ZSTD;
    r->u.compress.level = 19;
    r->u.compress.src = (struct vaccel_seg){ 0x100000, 1u << 20 };
    r->u.compress.dst = (struct vaccel_seg){ 0x200000, 1u << 20 };
}

static int32_t fault_answer(struct rawfront *f, uint32_t fault_id,
                            int32_t status)
{
    vaccel_request_t req;
    vaccel_response_t rsp;

    rf_req_init(&req, VACCEL_OP_FAULT_RESPONSE, 0xfa);
    req.u.fault_response.fault_id = fault_id;
    req.u.fault_response.status = status;
    return rf_call(f, 1, &req, &rsp) ? -9999 : rsp.status;
}

/* One of the compressions 30..33, each once, in any order. */
static bool compressed(const vaccel_response_t *rsp, unsigned int *seen)
{
    bool ours = rsp->id >= 30 && rsp->id < 34;
    unsigned int bit = ours ? 1u << (rsp->id - 30) : 0;

    if (!ours || (*seen & bit)) {
        PVT_CHECK_MSG(false, "unexpected response %llu",
                      (unsigned long long)rsp->id);
        return false;
    }
    PVT_EQ_INT(rsp->status, 0);
    *seen |= bit;
    return true;
}

/* Domain 2: its own quota; in-flight lowered to 4 by the params node. */
static int guest_two(void *arg)
{
    const uint32_t pages = 512;   /* 2 MiB: 1 MiB source, 1 MiB output */
    const uint64_t hole = 0x800000;     /* never mapped */
    unsigned int busy = 0, unmaps = 0;
    uint32_t fault_id[4];
    struct rawfront f;
    struct rf_mem m;
    struct vaccel_evt e;
    vaccel_request_t req;
    vaccel_response_t rsp;

    (void)arg;
    PVT_EQ_INT(rf_init(&f, 0), 0);
    PVT_EQ_INT(rf_be_long(&f, VACCEL_FIELD_MAX_IN_FLIGHT), 4);
    PVT_EQ_INT(rf_connect(&f, 2, 0), 0);
    PVT_EQ_INT(rf_be_long(&f, VACCEL_FIELD_FEATURE_IOPF), 1);
    PVT_EQ_INT(map_pages(&f, 0x100000, pages, &m), 0);
    for (size_t i = 0; i < (size_t)pages * 4096 / 2; i++)
        ((uint8_t *)m.addr)[i] = (uint8_t)(i * 2654435761u >> 13);

    /*
     * max-in-flight: a request held on a recoverable fault is in flight
     * until it is answered (fault-timeout-ms is an hour here), so four
     * held requests fill the device, whatever the engine's speed.
     */
    for (int i = 0; i < 4; i++)
        push_crc(&f, (uint64_t)i, hole, true);
    rf_push(&f, 0);
    for (int i = 0; i < 4; i++) {
        PVT_CHECK(next_evt(&f, VACCEL_EVT_FAULT, &e));
        PVT_EQ_INT(e.flags, VACCEL_EVT_FAULT_F_RECOVERABLE);
        PVT_EQ_INT(e.u.fault.req_id, i);
        fault_id[i] = e.u.fault.fault_id;
    }
    /* The fifth is refused at once, whether it would fault or not. */
    push_crc(&f, 10, 0x100000, false);
    push_crc(&f, 11, hole, true);
    rf_req_init(rf_req(&f, 0), VACCEL_OP_NOP, 100);
    rf_push(&f, 0);
    for (int i = 10; i < 12; i++) {
        PVT_EQ_INT(rf_rsp(&f, 0, &rsp), 0);
        PVT_EQ_INT(rsp.id, i);
        PVT_EQ_INT(rsp.status, -XEN_EBUSY);
    }
    PVT_EQ_INT(rf_rsp(&f, 0, &rsp), 0);
    PVT_EQ_INT(rsp.id, 100);             /* NOP: never counted */
    PVT_EQ_INT(rsp.status, 0);
    PVT_CHECK(next_evt(&f, VACCEL_EVT_QUOTA, &e));
    PVT_EQ_INT(e.u.quota.quota, VACCEL_QUOTA_IN_FLIGHT);
    PVT_EQ_INT(e.u.quota.status, -XEN_EBUSY);
    PVT_EQ_INT(e.u.quota.limit, 4);
    /*
     * Answering one frees its slot: queue 0 posts the held request's
     * response and gives the slot back before it reads the next request.
     */
    PVT_EQ_INT(fault_answer(&f, fault_id[0], -XEN_EIO), 0);
    PVT_EQ_INT(rf_rsp(&f, 0, &rsp), 0);
    PVT_EQ_INT(rsp.id, 0);
    PVT_EQ_INT(rsp.status, -XEN_EIO);
    push_crc(&f, 12, hole, true);
    push_crc(&f, 13, 0x100000, false);
    rf_push(&f, 0);
    PVT_CHECK(next_evt(&f, VACCEL_EVT_FAULT, &e));
    PVT_EQ_INT(e.u.fault.req_id, 12);
    fault_id[0] = e.u.fault.fault_id;
    PVT_EQ_INT(rf_rsp(&f, 0, &rsp), 0);
    PVT_EQ_INT(rsp.id, 13);
    PVT_EQ_INT(rsp.status, -XEN_EBUSY);
    /* Answering all of them frees the device. */
    for (int i = 0; i < 4; i++) {
        PVT_EQ_INT(fault_answer(&f, fault_id[i], -XEN_EIO), 0);
        PVT_EQ_INT(rf_rsp(&f, 0, &rsp), 0);
        PVT_EQ_INT(rsp.id, i ? i : 12);
        PVT_EQ_INT(rsp.status, -XEN_EIO);
    }
    for (int i = 0; i < 4; i++)
        push_crc(&f, 20 + (uint64_t)i, 0x100000, false);
    rf_push(&f, 0);
    for (int i = 0; i < 4; i++) {
        PVT_EQ_INT(rf_rsp(&f, 0, &rsp), 0);
        PVT_EQ_INT(rsp.id, 20 + i);
        PVT_EQ_INT(rsp.status, 0);
    }

    /*
     * A region in use by a request in flight cannot be unmapped.  A held
     * request pins nothing, so this takes requests the engine is running:
     * slow compressions, with UNMAPs behind them on the same queue.  How
     * long they run is not assumed.  One thread serves queue 0 and posts
     * its responses in order; it posts a request's response, then unpins
     * its regions, before it reads further.  So an UNMAP answered ahead of
     * one of the compressions is refused, and one answered behind all
     * four succeeds.
     */
    for (int i = 0; i < 4; i++)
        push_compress(&f, 30 + (uint64_t)i);
    rf_push(&f, 0);
    rf_req_init(&req, VACCEL_OP_UNMAP_REGION, 50);
    req.u.unmap_region = (struct vaccel_req_unmap_region){
        .iova = 0x100000, .len = (uint64_t)pages * 4096 };
    for (unsigned int seen = 0;;) {   /* bit i: compression 30 + i */
        int rc = rf_call(&f, 0, &req, &rsp);

        while (!rc && rsp.id != 50 && compressed(&rsp, &seen))
            rc = rf_rsp(&f, 0, &rsp);
        if (rc || rsp.id != 50) {
            PVT_CHECK_MSG(false, "no UNMAP response (%d)", rc);
            break;
        }
        unmaps++;
        if (seen == 0xf) {
            PVT_EQ_INT(rsp.status, 0);
            break;
        }
        PVT_EQ_INT(rsp.status, -XEN_EBUSY);
        busy++;
        /* Ask again once another compression is out. */
        rc = rf_rsp(&f, 0, &rsp);
        PVT_EQ_INT(rc, 0);
        if (rc || !compressed(&rsp, &seen))
            break;
    }
    printf("# region in use: %u of %u UNMAPs refused with EBUSY\n", busy,
           unmaps);
    /* The domain-wide region quota is this domain's own. */
    for (int i = 0; i < 3; i++) {
        struct rf_mem r;

        PVT_EQ_INT(map_pages(&f, 0x1000000ull * (i + 1), 1, &r), 0);
    }
    rf_fini(&f);
    return 0;
}

/* A params node the backend refuses: Closed, with a reason. */
static int guest_bad_params(void *arg)
{
    struct rawfront f;
    unsigned int devid = *(unsigned int *)arg;
    char *err;

    PVT_EQ_INT(rf_init(&f, devid), 0);
    PVT_EQ_INT(rf_wait_be_state(&f, 1u << XenbusStateClosed), XenbusStateClosed);
    err = rf_be_read(&f, VACCEL_FIELD_ERROR);
    PVT_CHECK_MSG(err != NULL, "error node: %s", err ? err : "(none)");
    free(err);
    rf_fini(&f);
    return 0;
}

int main(void)
{
    unsigned int bad1 = 1, bad2 = 2;
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
    PVT_EQ_INT(rf_env_attach(&env, d1, 1, NULL), 0);
    PVT_EQ_INT(rf_env_attach(&env, d2, 0, "engine=cpu,max-in-flight=4"), 0);
    PVT_EQ_INT(rf_env_attach(&env, d2, 1, "no-such-key=1"), 0);
    PVT_EQ_INT(rf_env_attach(&env, d2, 2, "max-regions=5"), 0);

    holder = rf_env_hold(&env, d2, &hold_c);
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&env.sim, d1, guest_one, NULL)), 0);
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&env.sim, d2, guest_two, NULL)), 0);
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&env.sim, d2, guest_bad_params, &bad1)),
               0);
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&env.sim, d2, guest_bad_params, &bad2)),
               0);
    rf_env_unhold(holder, &hold_c);
    PVT_EQ_INT(rf_env_stop_backend(&env), 0);
    rf_env_stop(&env);
    return pvt_done();
}
