/* SPDX-License-Identifier: MIT */
/*
 * control.c: the dispatcher of control operations.  It decodes the op of a
 * checked request copy and hands it to the module that owns the object:
 * regions (region.c), sessions (session.c), blobs (blob.c) and fault
 * answers (fault.c).  It owns no object itself.  queue.c calls it and
 * nothing it calls calls back: every call from here runs downward.
 *
 * Control operations run inline on the queue thread that consumed them,
 * under the device's ctl_lock, so each takes effect before that queue
 * consumes its next request (accelif.h "Ordering").  Only ctl_lock holders
 * change the address space or the session table, and they take as_lock
 * for writing just around the change, so data requests of other queues
 * keep going while a region's grants are being mapped.
 */
#include "config.h"

#include "backend/pvacceld.h"

void pvad_control(struct pvad_queue *q, const vaccel_request_t *req,
                  vaccel_response_t *rsp)
{
    struct pvad_device *dev = q->dev;
    int rc;

    pthread_mutex_lock(&dev->ctl_lock);
    switch (req->op) {
    case VACCEL_OP_NOP:
        rc = 0;
        break;
    case VACCEL_OP_MAP_REGION:
        rc = pvad_region_map(dev, req, rsp);
        break;
    case VACCEL_OP_UNMAP_REGION:
        rc = pvad_region_unmap(dev, req);
        break;
    case VACCEL_OP_SESSION_CREATE:
        rc = pvad_session_create(q, req, rsp);
        break;
    case VACCEL_OP_SESSION_DESTROY:
        rc = pvad_session_destroy(dev, req);
        break;
    case VACCEL_OP_BLOB_CREATE:
        rc = pvad_blob_create(dev, req, rsp);
        break;
    case VACCEL_OP_BLOB_DESTROY:
        rc = pvad_blob_destroy(dev, req);
        break;
    case VACCEL_OP_BLOB_MIGRATE:
        rc = pvad_blob_migrate(q, req, rsp);
        break;
    case VACCEL_OP_BLOB_READBACK:
        rc = pvad_blob_readback(dev, req, rsp);
        break;
    case VACCEL_OP_FAULT_RESPONSE:
        rc = pvad_fault_answer(dev, req->u.fault_response.fault_id,
                               req->u.fault_response.status);
        break;
    default:
        rc = -XEN_EOPNOTSUPP;
        break;
    }
    pthread_mutex_unlock(&dev->ctl_lock);
    rsp->status = rc;
    /*
     * Errors carry no value but the index of the page at fault: with
     * -XEN_EACCES the page that did not map, with -XEN_EINVAL the first
     * grant a page directory lists twice (MAP_REGION, BLOB_READBACK).
     */
    if (rc && rc != -XEN_EACCES && rc != -XEN_EINVAL)
        rsp->value = 0;
}
