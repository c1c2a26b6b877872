/* SPDX-License-Identifier: MIT */
/*
 * backend-bench: rough figures for pvacceld's data path on the sim.
 *
 *   make tests/backend-bench && top_builddir=$PWD tests/backend-bench
 *
 * Not part of "make check" (timings are not assertions).  Prints:
 *  - NOP round trip, one at a time, blocking on the event channel;
 *  - NOP and CRC32C(4 KiB) rate with a full ring per push, busy-polling
 *    for responses (no event channel wait on the guest side);
 *  - COPY of 1 MiB, bandwidth;
 *  - the backend's notification and wake-up counts per request, from its
 *    admin socket: near zero when busy means no system call per request.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/rawfront.h"

#define IOVA 0x100000ull

static struct rf_env env;
static struct pvt_chan done_c, release_c;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Busy-poll one response (no event channel). */
static void poll_rsp(struct rawfront *f, unsigned int qi)
{
    struct rf_queue *q = &f->q[qi];

    while (!RING_HAS_UNCONSUMED_RESPONSES(&q->ring))
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#else
        ;
#endif
    xen_rmb();
    q->ring.rsp_cons++;
}

static double batch_rate(struct rawfront *f, uint8_t op, uint64_t len,
                         unsigned int rounds)
{
    unsigned int n = RING_SIZE(&f->q[0].ring);
    double t0 = now_s();

    for (unsigned int r = 0; r < rounds; r++) {
        for (unsigned int i = 0; i < n; i++) {
            vaccel_request_t *req = rf_req(f, 0);

            rf_req_init(req, op, i);
            if (op == VACCEL_OP_CRC32C)
                req->u.crc32c.src = (struct vaccel_seg){ IOVA, len };
        }
        rf_push(f, 0);
        for (unsigned int i = 0; i < n; i++)
            poll_rsp(f, 0);
    }
    return (double)n * rounds / (now_s() - t0);
}

static int guest(void *arg)
{
    struct rawfront f;
    struct rf_mem m;
    vaccel_request_t req;
    vaccel_response_t rsp;
    double t0, dt;
    const int rtt_n = 2000;

    (void)arg;
    if (rf_init(&f, 0) || rf_connect(&f, 1, 4) ||
        rf_mem_alloc(&f, 1024, true, &m) ||
        rf_map_region(&f, 0, IOVA, &m, true))
        return 2;
    memset(m.addr, 0x5a, 1024 * 4096);

    rf_req_init(&req, VACCEL_OP_NOP, 1);
    t0 = now_s();
    for (int i = 0; i < rtt_n; i++)
        rf_call(&f, 0, &req, &rsp);
    dt = now_s() - t0;
    printf("# NOP round trip, blocking:      %8.1f us\n", dt / rtt_n * 1e6);

    printf("# NOP, 512 per push, polling:    %8.0f requests/s\n",
           batch_rate(&f, VACCEL_OP_NOP, 0, 400));
    printf("# CRC32C 4 KiB, 512 per push:    %8.0f requests/s\n",
           batch_rate(&f, VACCEL_OP_CRC32C, 4096, 100));

    rf_req_init(&req, VACCEL_OP_COPY, 2);
    req.u.copy.src = (struct vaccel_seg){ IOVA, 1u << 20 };
    req.u.copy.dst = (struct vaccel_seg){ IOVA + (2u << 20), 1u << 20 };
    t0 = now_s();
    for (int i = 0; i < 500; i++)
        rf_call(&f, 0, &req, &rsp);
    dt = now_s() - t0;
    printf("# COPY 1 MiB, one at a time:     %8.2f GB/s\n",
           500.0 * (1u << 20) / dt / 1e9);

    pvt_chan_send(&done_c, 1);
    pvt_chan_recv(&release_c, &(uint32_t){ 0 });
    rf_fini(&f);
    return 0;
}

int main(void)
{
    char stats[16384];
    long long ops, notifies, wakeups, batches;
    pid_t pid;
    int dom;

    if (rf_env_start(&env, NULL))
        return 99;
    dom = pvt_sim_create(&env.sim, "bench");
    rf_env_attach(&env, dom, 0, NULL);
    pvt_chan_open(&done_c);
    pvt_chan_open(&release_c);
    pid = pvt_sim_spawn(&env.sim, dom, guest, NULL);
    if (pvt_chan_recv(&done_c, &(uint32_t){ 0 }) == 0 &&
        rf_env_stats(&env, stats, sizeof(stats)) == 0) {
        ops = rf_json_num(stats, "count");
        notifies = rf_json_num(stats, "notifies");
        wakeups = rf_json_num(stats, "wakeups");
        batches = rf_json_num(stats, "batches");
        printf("# backend: %lld requests, %lld response batches, %lld "
               "notifications (%.4f per request), %lld wake-ups (%.4f per "
               "request)\n", ops, batches, notifies,
               ops ? (double)notifies / (double)ops : 0.0, wakeups,
               ops ? (double)wakeups / (double)ops : 0.0);
    }
    pvt_chan_send(&release_c, 1);
    pvt_wait(pid);
    rf_env_stop(&env);
    return 0;
}
