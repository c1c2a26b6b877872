/* SPDX-License-Identifier: MIT */
/*
 * fault.c: answering recoverable I/O page faults (FAULT_RESPONSE).
 *
 * A request submitted with PVA_F_IOPF that touches unmapped IOVA space is
 * held by the backend, which posts a recoverable fault record; the library
 * hands it to the event callback on its monitor thread.  The callback may
 * not call into the device, so the caller answers from a thread that owns
 * a queue, usually after mapping the range.
 *
 * Fault ids are numbered per connection by the backend: an answer meant
 * for a lost connection could hit an unrelated fault of the new one.  The
 * event therefore records its connection, and an answer for another one is
 * refused here (its request has completed with -ENOTCONN already), never
 * sent and never retried on a new connection.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "frontend/internal.h"

int pva_fault_respond(struct pva_queue *q, const struct pva_event *ev,
                      int status)
{
    struct pva_dev *dev = q->dev;
    vaccel_request_t req = { .op = VACCEL_OP_FAULT_RESPONSE };
    int rc;

    if (!ev || ev->type != PVA_EVENT_FAULT ||
        !(ev->flags & PVA_EVENT_F_RECOVERABLE) || !ev->fault_id ||
        status > 0 || status < -4095)
        return -EINVAL;
    /* Linux errno values are Xen's (xen/errno.h) on x86 and Arm. */
    req.u.fault_response.fault_id = ev->fault_id;
    req.u.fault_response.status = status;
    pthread_mutex_lock(&dev->ctl_lock);
    fe_queue_sync_conn(q);
    if (!q->ring || q->ring->conn != ev->conn ||
        q->ring->conn != atomic_load(&dev->live_conn))
        rc = -ENOTCONN;
    else
        rc = fe_queue_control(q, &req, NULL);
    pthread_mutex_unlock(&dev->ctl_lock);
    return rc;
}
