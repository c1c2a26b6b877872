/* SPDX-License-Identifier: MIT */
/*
 * fe-iopf: recoverable I/O page faults through libpvaccel.
 *
 * A CRC32C with PVA_F_IOPF on an IOVA with nothing mapped is held by the
 * backend; the event callback (monitor thread) passes the fault record to
 * the test thread over a pipe; the thread maps a region there and answers
 * with pva_fault_respond(0), and the request completes with the right
 * CRC.  Answered with an error, the request completes with that error; a
 * second answer finds nothing (-ENOENT); an informational fault (no
 * PVA_F_IOPF) or a positive status cannot be answered (-EINVAL).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tests/fe-harness.h"

#define PG 4096u
#define CHECK_CRC 0xe3069283u   /* crc32c("123456789") */

static struct pvt_chan faults;
static struct pva_event last;   /* written before the pipe byte */

/* Monitor thread: no call into the device; hand the record over. */
static void on_event(void *arg, const struct pva_event *ev)
{
    (void)arg;
    if (ev->type != PVA_EVENT_FAULT)
        return;
    last = *ev;
    pvt_chan_send(&faults, 1);
}

static struct pva_event next_fault(void)
{
    uint32_t byte;

    PVT_EQ_INT(pvt_chan_recv(&faults, &byte), 0);
    return last;
}

static void submit_crc(struct pva_queue *q, uint64_t iova, unsigned int flags)
{
    struct pva_sqe *sqe = pva_get_sqe(q);

    pva_prep_crc32c(sqe, (struct pva_seg){ iova, 9 }, 0);
    sqe->flags |= (uint16_t)flags;
    PVT_EQ_INT(pva_submit(q), 1);
}

/* The IOVA a one-page region gets now (first fit), left unmapped. */
static uint64_t free_iova(struct pva_queue *q)
{
    struct pva_region *r;
    uint64_t iova;

    PVT_EQ_INT(pva_region_alloc(q, PG, 0, &r), 0);
    iova = pva_region_iova(r);
    PVT_EQ_INT(pva_region_free(q, r), 0);
    return iova;
}

static int guest(void *arg)
{
    struct pva_dev *dev;
    struct pva_dev_info in;
    struct pva_queue *q;
    struct pva_region *r;
    struct pva_event ev;
    struct pva_cqe cqe;
    uint64_t hole;

    (void)arg;
    if (fe_open_events(&dev, 1, 0, on_event, NULL))
        return 1;
    q = pva_dev_queue(dev, 0);
    pva_dev_get_info(dev, &in);
    PVT_CHECK(in.feature_iopf);

    /* Map, answer 0: the held request completes with its real result. */
    hole = free_iova(q);
    submit_crc(q, hole, PVA_F_IOPF);
    ev = next_fault();
    PVT_EQ_INT(ev.flags & PVA_EVENT_F_RECOVERABLE, PVA_EVENT_F_RECOVERABLE);
    PVT_CHECK(ev.fault_id != 0);
    PVT_EQ_INT(ev.iova, hole);
    PVT_EQ_INT(ev.len, 9);
    PVT_EQ_INT(ev.access, 1);                /* read */
    PVT_EQ_INT(pva_queue_inflight(q), 1);    /* held, not answered */
    PVT_EQ_INT(pva_region_alloc(q, PG, 0, &r), 0);
    PVT_EQ_INT(pva_region_iova(r), hole);
    memcpy(pva_region_addr(r), "123456789", 9);
    PVT_EQ_INT(pva_fault_respond(q, &ev, 0), 0);
    PVT_EQ_INT(pva_wait_cqe(q, &cqe), 0);
    PVT_EQ_INT(cqe.res, 0);
    PVT_EQ_INT(cqe.value, CHECK_CRC);
    /* Answered already: nothing is held on that id any more. */
    PVT_EQ_INT(pva_fault_respond(q, &ev, 0), -ENOENT);
    PVT_EQ_INT(pva_region_free(q, r), 0);

    /* Answer with an error: the request completes with it. */
    submit_crc(q, hole, PVA_F_IOPF);
    ev = next_fault();
    PVT_EQ_INT(pva_fault_respond(q, &ev, 1), -EINVAL);
    PVT_EQ_INT(pva_fault_respond(q, &ev, -EIO), 0);
    PVT_EQ_INT(pva_wait_cqe(q, &cqe), 0);
    PVT_EQ_INT(cqe.res, -EIO);

    /* Without PVA_F_IOPF: -EFAULT at once, and nothing to answer. */
    submit_crc(q, hole, 0);
    PVT_EQ_INT(pva_wait_cqe(q, &cqe), 0);
    PVT_EQ_INT(cqe.res, -EFAULT);
    PVT_EQ_INT(cqe.fault_iova, hole);
    ev = next_fault();
    PVT_EQ_INT(ev.flags & PVA_EVENT_F_RECOVERABLE, 0);
    PVT_EQ_INT(pva_fault_respond(q, &ev, 0), -EINVAL);
    pva_dev_close(dev);
    return pvt_failures ? 1 : 0;
}

int main(void)
{
    struct fe_env env;
    int rc = fe_env_start(&env, 1);

    if (rc)
        return rc;
    PVT_EQ_INT(pvt_chan_open(&faults), 0);
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&env.sim, env.guest[0], guest, NULL)), 0);
    fe_env_stop(&env);
    return pvt_done();
}
