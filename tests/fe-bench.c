/* SPDX-License-Identifier: MIT */
/*
 * fe-bench: figures for docs and reviews, printed as "# " lines: round
 * trips of one NOP (blocking and busy-poll), NOP throughput with the ring
 * full, crc32c and zstd throughput with 1 MiB requests, and how many
 * notifications and sleeps that cost.  Checks only that the work was done.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tests/fe-harness.h"

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void round_trips(struct pva_queue *q, const char *mode)
{
    enum { N = 20000 };
    struct pva_queue_stats a, b;
    struct pva_cqe cqe;
    int bad = 0;
    double t0;

    pva_queue_get_stats(q, &a);
    t0 = now();
    for (int i = 0; i < N; i++) {
        struct pva_sqe *sqe = pva_get_sqe(q);

        pva_prep_nop(sqe);
        bad += pva_run(q, sqe, &cqe) != 0;
    }
    pva_queue_get_stats(q, &b);
    printf("# %s: NOP round trip %.1f us (%llu notifications, %llu sleeps for %d)\n",
           mode, (now() - t0) / N * 1e6, (unsigned long long)(b.notifies - a.notifies),
           (unsigned long long)(b.sleeps - a.sleeps), N);
    PVT_EQ_INT(bad, 0);
}

/* Keep the ring full of @prep'd requests for @n completions. */
static double stream(struct pva_queue *q, unsigned int n,
                     void (*prep)(struct pva_sqe *, void *), void *arg, int *bad)
{
    unsigned int sent = 0, done = 0;
    struct pva_cqe cqe;
    double t0 = now();

    while (done < n) {
        struct pva_sqe *sqe;

        while (sent < n && (sqe = pva_get_sqe(q))) {
            prep(sqe, arg);
            sent++;
        }
        pva_submit(q);
        while (pva_peek_cqe(q, &cqe) == 0 || (done < n && pva_wait_cqe(q, &cqe) == 0)) {
            *bad += cqe.res != 0;
            if (++done == n || pva_queue_inflight(q) < 8)
                break;
        }
    }
    return now() - t0;
}

static void prep_nop(struct pva_sqe *sqe, void *arg)
{
    (void)arg;
    pva_prep_nop(sqe);
}

struct big {
    struct pva_buf in, out;
    int op;
};

static void prep_big(struct pva_sqe *sqe, void *arg)
{
    struct big *b = arg;

    if (b->op == PVA_OP_CRC32C)
        pva_prep_crc32c(sqe, pva_seg(&b->in, 0, b->in.len), 0);
    else
        pva_prep_compress(sqe, PVA_ALG_ZSTD, 1, pva_seg(&b->in, 0, b->in.len),
                          pva_seg(&b->out, 0, b->out.len));
}

static void throughput(struct pva_dev *dev, struct pva_queue *q, const char *mode)
{
    struct pva_queue_stats a, b;
    struct big big = { .op = PVA_OP_CRC32C };
    int bad = 0;
    double dt;

    pva_queue_get_stats(q, &a);
    dt = stream(q, 200000, prep_nop, NULL, &bad);
    pva_queue_get_stats(q, &b);
    printf("# %s: NOP throughput %.0f k/s, ring full (%llu notifications, %llu sleeps "
           "for 200000)\n", mode, 200000 / dt / 1e3,
           (unsigned long long)(b.notifies - a.notifies),
           (unsigned long long)(b.sleeps - a.sleeps));
    fe_buf(q, 1 << 20, &big.in);
    fe_buf(q, (1 << 20) + 65536, &big.out);
    for (size_t i = 0; i < big.in.len; i++)
        ((uint8_t *)big.in.addr)[i] = (uint8_t)(i * 7 + i / 1000);
    dt = stream(q, 512, prep_big, &big, &bad);
    printf("# %s: crc32c %.0f MiB/s in 1 MiB requests\n", mode, 512 / dt);
    big.op = PVA_OP_COMPRESS;
    dt = stream(q, 128, prep_big, &big, &bad);
    printf("# %s: zstd -1 %.0f MiB/s in 1 MiB requests\n", mode, 128 / dt);
    PVT_EQ_INT(bad, 0);
    pva_buf_free(dev, &big.in);
    pva_buf_free(dev, &big.out);
}

static int guest(void *arg)
{
    (void)arg;
    for (int poll = 0; poll < 2; poll++) {
        const char *mode = poll ? "busy-poll" : "blocking";
        struct pva_dev *dev;

        if (fe_open(&dev, 1, poll ? PVA_DEV_POLL : 0))
            return 1;
        round_trips(pva_dev_queue(dev, 0), mode);
        throughput(dev, pva_dev_queue(dev, 0), mode);
        pva_dev_close(dev);
    }
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
