/* SPDX-License-Identifier: MIT */
/*
 * events.c: records on a device's event ring.
 *
 * Every queue of the device produces records, so producers are serialised
 * by evt.lock.  The backend keeps its own producer index and never reads
 * evt_prod back; it reads evt_cons once per record and, when the ring is
 * full (or evt_cons is bogus), drops the record and counts it in "lost".
 * Each slot is zeroed before it is filled (XSA-216).
 */
#include "config.h"

#include <string.h>

#include "backend/pvacceld.h"

static bool evt_post(struct pvad_device *dev, const struct vaccel_evt *rec)
{
    struct pvad_evtring *e = &dev->evt;
    vaccel_evt_sring_t *s;
    bool notify = false, posted = false;

    pthread_mutex_lock(&e->lock);
    s = e->sring;
    if (!s)
        goto out;
    if (!VACCEL_EVT_RING_HAS_ROOM(s, e->size, e->prod)) {
        /*
         * Full, or evt_cons is bogus: drop.  seq counts every record and
         * prod the published ones, so lost is their difference; nothing is
         * read back from the shared page.
         */
        e->seq++;
        __atomic_store_n(&s->lost, (uint32_t)(e->seq - e->prod),
                         __ATOMIC_RELEASE);
        goto out;
    }
    {
        struct vaccel_evt *slot = VACCEL_EVT_RING_SLOT(s, e->size, e->prod);
        uint32_t old = e->prod;

        memset(slot, 0, sizeof(*slot));
        memcpy(slot, rec, sizeof(*slot));
        slot->seq = e->seq++;
        e->prod++;
        posted = true;
        VACCEL_EVT_RING_PUSH_AND_CHECK_NOTIFY(s, old, e->prod, notify);
    }
    if (notify)
        dev->d->p->evtchn->notify(e->evh, e->port);
out:
    pthread_mutex_unlock(&e->lock);
    return posted;
}

bool pvad_evt_fault(struct pvad_device *dev, unsigned int queue,
                    uint64_t req_id, uint8_t op, const struct pvad_fault *f,
                    uint32_t fault_id)
{
    struct vaccel_evt rec;

    memset(&rec, 0, sizeof(rec));
    rec.type = VACCEL_EVT_FAULT;
    rec.flags = fault_id ? VACCEL_EVT_FAULT_F_RECOVERABLE : 0;
    rec.u.fault.iova = f->iova;
    rec.u.fault.len = f->len;
    rec.u.fault.req_id = req_id;
    rec.u.fault.fault_id = fault_id;
    rec.u.fault.queue = (uint16_t)queue;
    rec.u.fault.access = f->access;
    rec.u.fault.op = op;
    return evt_post(dev, &rec);
}

void pvad_evt_queue_stopped(struct pvad_device *dev, unsigned int queue,
                            uint32_t reason)
{
    struct vaccel_evt rec;

    memset(&rec, 0, sizeof(rec));
    rec.type = VACCEL_EVT_QUEUE_STOPPED;
    rec.u.queue_stopped.queue = (uint16_t)queue;
    rec.u.queue_stopped.reason = reason;
    (void)evt_post(dev, &rec);
}

/* At most one record per limit per second (accelif.h). */
void pvad_evt_quota(struct pvad_device *dev, enum pvad_res res,
                    int32_t status, uint64_t limit)
{
    struct pvad_evtring *e = &dev->evt;
    uint64_t now = pvad_now_ns();
    struct vaccel_evt rec;
    bool due;

    pthread_mutex_lock(&e->lock);
    due = !e->quota_last_ns[res] || now - e->quota_last_ns[res] >= 1000000000u;
    if (due)
        e->quota_last_ns[res] = now;
    pthread_mutex_unlock(&e->lock);
    if (!due)
        return;
    memset(&rec, 0, sizeof(rec));
    rec.type = VACCEL_EVT_QUOTA;
    rec.u.quota.quota = pvad_res_quota_code(res);
    rec.u.quota.status = status;
    rec.u.quota.limit = limit;
    (void)evt_post(dev, &rec);
}
