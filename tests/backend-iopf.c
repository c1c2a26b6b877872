/* SPDX-License-Identifier: MIT */
/*
 * backend-iopf: recoverable I/O page faults (feature-iopf).
 *
 * A request with VACCEL_REQ_F_IOPF that touches unmapped IOVA space is
 * held, and a recoverable fault record is posted; the queue keeps serving.
 * The guest maps the range and answers with FAULT_RESPONSE (on another
 * queue), and the request completes as if nothing happened; or it answers
 * with an error, which the request completes with; or it does not answer
 * and the request times out; or it answers "retry" without mapping, and
 * after VACCEL_MAX_FAULTS_PER_REQUEST faults the request fails.  With no
 * room on the event ring the request fails at once, and a connection that
 * closes with a request held still closes.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/rawfront.h"

#define A 0x100000ull
#define B 0x200000ull

static struct rf_env env;

static void push_crc(struct rawfront *f, unsigned int qi, uint64_t id,
                     uint64_t iova, bool iopf)
{
    vaccel_request_t *r = rf_req(f, qi);

    rf_req_init(r, VACCEL_OP_CRC32C, id);
    r->flags = iopf ? VACCEL_REQ_F_IOPF : 0;
    r->u.crc32c.src = (struct vaccel_seg){ iova, 9 };
    rf_push(f, qi);
}

static int32_t answer(struct rawfront *f, uint32_t fault_id, int32_t status)
{
    vaccel_request_t req;
    vaccel_response_t rsp;

    rf_req_init(&req, VACCEL_OP_FAULT_RESPONSE, 0xfa);
    req.u.fault_response.fault_id = fault_id;
    req.u.fault_response.status = status;
    return rf_call(f, 1, &req, &rsp) ? -9999 : rsp.status;
}

static bool fault_record(struct rawfront *f, struct vaccel_evt *e)
{
    while (rf_evt(f, e, RF_TIMEOUT_MS))
        if (e->type == VACCEL_EVT_FAULT)
            return true;
    return false;
}

/* Map, answer 0: the held request completes with its real result. */
static void resolved(struct rawfront *f)
{
    struct vaccel_evt e;
    vaccel_response_t rsp;
    vaccel_request_t req;
    struct rf_mem b;

    push_crc(f, 0, 1, B, true);
    PVT_CHECK(fault_record(f, &e));
    PVT_EQ_INT(e.flags, VACCEL_EVT_FAULT_F_RECOVERABLE);
    PVT_CHECK(e.u.fault.fault_id != 0);
    PVT_EQ_INT(e.u.fault.iova, B);
    PVT_EQ_INT(e.u.fault.len, 9);
    PVT_EQ_INT(e.u.fault.req_id, 1);
    PVT_EQ_INT(e.u.fault.queue, 0);
    PVT_EQ_INT(e.u.fault.access, VACCEL_ACCESS_READ);
    PVT_EQ_INT(e.u.fault.op, VACCEL_OP_CRC32C);
    /* The queue is not blocked by the held request. */
    rf_req_init(&req, VACCEL_OP_NOP, 2);
    PVT_EQ_INT(rf_call(f, 0, &req, &rsp), 0);
    PVT_EQ_INT(rsp.id, 2);
    PVT_EQ_INT(rf_mem_alloc(f, 1, true, &b), 0);
    memcpy(b.addr, "123456789", 9);
    PVT_EQ_INT(rf_map_region(f, 1, B, &b, true), 0);
    PVT_EQ_INT(answer(f, e.u.fault.fault_id, 0), 0);
    PVT_EQ_INT(rf_rsp(f, 0, &rsp), 0);
    PVT_EQ_INT(rsp.id, 1);
    PVT_EQ_INT(rsp.status, 0);
    PVT_EQ_INT(rsp.value, VACCEL_CRC32C_CHECK);
    /* The id is used up. */
    PVT_EQ_INT(answer(f, e.u.fault.fault_id, 0), -XEN_ENOENT);
    PVT_EQ_INT(answer(f, 0x7777, 0), -XEN_ENOENT);
}

static void refused_by_guest(struct rawfront *f)
{
    struct vaccel_evt e;
    vaccel_response_t rsp;

    push_crc(f, 0, 3, 0x300000, true);
    PVT_CHECK(fault_record(f, &e));
    PVT_EQ_INT(answer(f, e.u.fault.fault_id, -XEN_EIO), 0);
    PVT_EQ_INT(rf_rsp(f, 0, &rsp), 0);
    PVT_EQ_INT(rsp.id, 3);
    PVT_EQ_INT(rsp.status, -XEN_EIO);
}

/* "Mapped, retry" without mapping: a new fault each time, then EFAULT. */
static void too_many_faults(struct rawfront *f)
{
    unsigned int records = 0;
    uint32_t last = 0;
    vaccel_response_t rsp;
    struct vaccel_evt e;

    push_crc(f, 0, 4, 0x400000, true);
    while (!RING_HAS_UNCONSUMED_RESPONSES(&f->q[0].ring) &&
           fault_record(f, &e)) {
        records++;
        PVT_CHECK(e.u.fault.fault_id != last);
        last = e.u.fault.fault_id;
        answer(f, e.u.fault.fault_id, 0);
    }
    PVT_EQ_INT(records, VACCEL_MAX_FAULTS_PER_REQUEST);
    PVT_EQ_INT(rf_rsp(f, 0, &rsp), 0);
    PVT_EQ_INT(rsp.status, -XEN_EFAULT);
    PVT_EQ_INT(rsp.fault_iova, 0x400000);
    PVT_EQ_INT(rsp.fault_access, VACCEL_ACCESS_READ);
}

/* No room on the event ring: -XEN_EFAULT at once, records counted lost. */
static void event_ring_full(struct rawfront *f)
{
    vaccel_response_t rsp;
    struct vaccel_evt e;
    uint32_t lost = f->evt->lost;

    for (uint32_t i = 0; i < f->evt_size; i++) {
        push_crc(f, 0, 100 + i, 0x500000, false);
        PVT_EQ_INT(rf_rsp(f, 0, &rsp), 0);
    }
    push_crc(f, 0, 5, 0x500000, true);
    PVT_EQ_INT(rf_rsp(f, 0, &rsp), 0);
    PVT_EQ_INT(rsp.id, 5);
    PVT_EQ_INT(rsp.status, -XEN_EFAULT);
    PVT_CHECK(f->evt->lost != lost);
    while (rf_evt(f, &e, 0))
        ;
}

static int guest_main(void *arg)
{
    struct rawfront f;
    struct rf_mem a;

    (void)arg;
    PVT_EQ_INT(rf_init(&f, 0), 0);
    PVT_EQ_INT(rf_connect(&f, 2, 0), 0);
    PVT_EQ_INT(rf_be_long(&f, VACCEL_FIELD_FEATURE_IOPF), 1);
    PVT_EQ_INT(rf_mem_alloc(&f, 1, true, &a), 0);
    PVT_EQ_INT(rf_map_region(&f, 0, A, &a, true), 0);
    resolved(&f);
    refused_by_guest(&f);
    too_many_faults(&f);
    event_ring_full(&f);
    /* Closing with a request held: the backend completes it and closes. */
    push_crc(&f, 0, 6, 0x600000, true);
    {
        struct vaccel_evt e;

        PVT_CHECK(fault_record(&f, &e));
    }
    PVT_EQ_INT(rf_disconnect(&f), 0);
    rf_fini(&f);
    return 0;
}

/* Device 1 has fault-timeout-ms = 200: nobody answers. */
static int guest_timeout(void *arg)
{
    struct rawfront f;
    vaccel_response_t rsp;
    struct vaccel_evt e;

    (void)arg;
    PVT_EQ_INT(rf_init(&f, 1), 0);
    PVT_EQ_INT(rf_connect(&f, 2, 0), 0);
    PVT_EQ_INT(rf_be_long(&f, VACCEL_FIELD_FAULT_TIMEOUT_MS), 200);
    push_crc(&f, 0, 7, B, true);
    PVT_CHECK(fault_record(&f, &e));
    PVT_EQ_INT(rf_rsp(&f, 0, &rsp), 0);
    PVT_EQ_INT(rsp.id, 7);
    PVT_EQ_INT(rsp.status, -XEN_ETIMEDOUT);
    PVT_EQ_INT(answer(&f, e.u.fault.fault_id, 0), -XEN_ENOENT);
    rf_fini(&f);
    return 0;
}

int main(void)
{
    struct pvt_chan hold_c;
    pid_t holder;
    int dom;

    if (rf_env_start(&env, NULL)) {
        fprintf(stderr, "cannot start the sim and pvacceld\n");
        return 99;
    }
    dom = pvt_sim_create(&env.sim, "faulty");
    PVT_EQ_INT(rf_env_attach(&env, dom, 0, NULL), 0);
    PVT_EQ_INT(rf_env_attach(&env, dom, 1, "fault-timeout-ms=200"), 0);
    holder = rf_env_hold(&env, dom, &hold_c);
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&env.sim, dom, guest_main, NULL)), 0);
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&env.sim, dom, guest_timeout, NULL)), 0);
    rf_env_unhold(holder, &hold_c);
    PVT_EQ_INT(rf_env_stop_backend(&env), 0);
    rf_env_stop(&env);
    return pvt_done();
}
