/* SPDX-License-Identifier: MIT */
/*
 * response.c: the bottom of the request path (queue_internal.h): a
 * queue's responses, written into its ring, accounted and published in
 * batches, and the in-flight quota that is settled around them.
 *
 * Every response of the queue passes through pvad_respond(), so the
 * protocol's rules for what a response slot holds are kept here once:
 * every octet written (XSA-216), and on error only the fields the status
 * gives a meaning.  Called by job.c and queue.c; calls only quota.c,
 * stats.c, events.c and the platform's event channels.
 */
#include "config.h"

#include "backend/queue_internal.h"

static void settle_in_flight(struct pvad_queue *q)
{
    if (q->in_flight_returned)
        pvad_usage_give(&q->dev->usage, &q->dev->dom->usage,
                        PVAD_RES_IN_FLIGHT, q->in_flight_returned);
    q->in_flight_returned = 0;
}

void pvad_responses_publish(struct pvad_queue *q)
{
    int notify;

    settle_in_flight(q);
    if (!q->rsp_unpushed)
        return;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->ring, notify);
    q->rsp_unpushed = 0;
    pvad_stat_add(&q->stats.batches, 1);
    if (notify) {
        pvad_queue_platform(q)->evtchn->notify(q->evh, q->port);
        pvad_stat_add(&q->stats.notifies, 1);
    }
}

/*
 * Write every octet of the slot (XSA-216: nothing stale reaches the
 * guest); published later, in a batch.  Field by field, not a block copy:
 * @rsp was just written field by field, and a wide load of narrow stores
 * cannot be forwarded, so it waits for the store buffer to drain, which
 * holds the previous responses' stores to lines the guest reads: every
 * response would pay a cross-CPU cache miss in turn.
 */
static void post_response(struct pvad_queue *q, const vaccel_response_t *rsp)
{
    vaccel_response_t *slot = RING_GET_RESPONSE(&q->ring,
                                                q->ring.rsp_prod_pvt);

    _Static_assert(sizeof(*slot) == 64, "post_response writes 64 octets");
    slot->id = rsp->id;
    slot->op = rsp->op;
    slot->fault_access = rsp->fault_access;
    slot->reserved0 = 0;
    slot->status = rsp->status;
    slot->len = rsp->len;
    slot->value = rsp->value;
    slot->aux = rsp->aux;
    slot->fault_iova = rsp->fault_iova;
    slot->reserved1[0] = 0;
    slot->reserved1[1] = 0;
    q->ring.rsp_prod_pvt++;
    if (++q->rsp_unpushed >= PVAD_PUBLISH_EVERY)
        pvad_responses_publish(q);
}

/*
 * An error response (accelif.h): len is 0; aux means something only with
 * -XEN_ENOSPC (the bytes needed, if known); value only with a control
 * operation's -XEN_EACCES (the index of the grant that failed to map) or
 * -XEN_EINVAL (the index of the first grant a directory lists twice, or 0).
 * Cleared here for every response, so what reaches the guest never
 * depends on an engine or a control operation having cleaned up after
 * itself when it failed.
 */
static bool error_keeps_value(const vaccel_response_t *rsp)
{
    return !VACCEL_OP_IS_DATA(rsp->op) &&
           (rsp->status == -XEN_EACCES || rsp->status == -XEN_EINVAL);
}

static void clear_error_fields(vaccel_response_t *rsp)
{
    rsp->len = 0;
    if (!error_keeps_value(rsp))
        rsp->value = 0;
    if (rsp->status != -XEN_ENOSPC)
        rsp->aux = 0;
}

void pvad_respond(struct pvad_queue *q, vaccel_response_t *rsp, uint64_t t0,
                  uint64_t bytes_in)
{
    if (rsp->status)
        clear_error_fields(rsp);
    post_response(q, rsp);
    /* Latency at the resolution of a round: no clock read per request. */
    pvad_qstats_account(&q->stats, rsp->op, rsp->status, bytes_in, rsp->len,
                        q->now_ns - t0);
}

void pvad_in_flight_reserve(struct pvad_queue *q, unsigned int n)
{
    struct pvad_device *dev = q->dev;
    uint64_t limit;

    if (n > 1 && !q->in_flight_credit &&
        !pvad_usage_take(&dev->usage, &dev->dom->usage, PVAD_RES_IN_FLIGHT, n,
                         &limit))
        q->in_flight_credit = n;
}

void pvad_in_flight_return_credit(struct pvad_queue *q)
{
    if (q->in_flight_credit)
        pvad_usage_give(&q->dev->usage, &q->dev->dom->usage,
                        PVAD_RES_IN_FLIGHT, q->in_flight_credit);
    q->in_flight_credit = 0;
}
