/* SPDX-License-Identifier: MIT */
/*
 * fault.c: recoverable I/O page faults (feature-iopf).
 *
 * A request with VACCEL_REQ_F_IOPF that touches unmapped IOVA space waits
 * on dev->held until the frontend answers with FAULT_RESPONSE (on any
 * queue of the device), or until fault-timeout-ms.  It pins nothing
 * meanwhile (resolution failed, so no region or session reference was
 * taken) and counts as in flight.  The answer goes back to the owning
 * queue through its completion list, so only the owner writes its ring.
 *
 * In the request path (queue_internal.h) it sits between the queue thread,
 * which holds a job that faulted and hands back the answered ones, and
 * job.c, which it calls to resolve, start or fail a job again.
 */
#include "config.h"

#include "backend/queue_internal.h"

static void held_unlink(struct pvad_device *dev, struct pvad_job *job)
{
    struct pvad_job **link;

    for (link = &dev->held; *link; link = &(*link)->held_next)
        if (*link == job) {
            *link = job->held_next;
            return;
        }
}

/* Hold @job; false if it may not (fault limit, event ring full). */
bool pvad_fault_hold(struct pvad_queue *q, struct pvad_job *job,
                     const struct pvad_fault *f)
{
    struct pvad_device *dev = q->dev;
    uint32_t id;

    if (job->faults >= VACCEL_MAX_FAULTS_PER_REQUEST)
        return false;
    pthread_mutex_lock(&dev->fault_lock);
    id = ++dev->next_fault_id;
    if (!id)
        id = ++dev->next_fault_id;
    job->fault_id = id;
    job->fault = *f;
    job->deadline_ns = pvad_now_ns() +
                       (uint64_t)dev->lim.fault_timeout_ms * 1000000u;
    job->held_next = dev->held;
    dev->held = job;
    pthread_mutex_unlock(&dev->fault_lock);
    /* Held before the record is out: an answer cannot miss the job. */
    if (!pvad_evt_fault(dev, q->index, job->req.id, job->req.op, f, id)) {
        bool still_held;

        pthread_mutex_lock(&dev->fault_lock);
        still_held = job->fault_id == id;
        held_unlink(dev, job);
        job->fault_id = 0;
        pthread_mutex_unlock(&dev->fault_lock);
        if (still_held)
            return false;
    }
    job->faults++;
    q->held++;
    if (!q->next_expiry_ns || job->deadline_ns < q->next_expiry_ns)
        q->next_expiry_ns = job->deadline_ns;
    return true;
}

int pvad_fault_answer(struct pvad_device *dev, uint32_t fault_id,
                      int32_t status)
{
    struct pvad_job *job;

    if (!fault_id)
        return -XEN_ENOENT;
    pthread_mutex_lock(&dev->fault_lock);
    for (job = dev->held; job; job = job->held_next)
        if (job->fault_id == fault_id)
            break;
    if (job) {
        held_unlink(dev, job);
        job->fault_id = 0;
        job->answer = status;
        job->retry = true;
    }
    pthread_mutex_unlock(&dev->fault_lock);
    if (!job)
        return -XEN_ENOENT;
    pvad_queue_push_done(job->q, job);
    return 0;
}

/* The owner's side of an answer: retry, or complete with the answer. */
void pvad_fault_retry(struct pvad_queue *q, struct pvad_job *job)
{
    struct pvad_fault f;
    int rc;

    job->retry = false;
    q->held--;
    if (job->answer < 0) {
        pvad_job_fail(q, job, job->answer);
        return;
    }
    /* Stopping: as if unanswered, no new engine work (pvad_fault_expire). */
    if (q->cancelled) {
        pvad_job_fail(q, job, -XEN_EFAULT);
        return;
    }
    rc = pvad_job_resolve(q, &job->req, job, &f);
    if (rc == -XEN_EFAULT && pvad_fault_hold(q, job, &f))
        return;
    if (rc == -XEN_EFAULT)
        job->fault = f;
    if (rc)
        pvad_job_fail(q, job, rc);
    else
        pvad_job_start(q, job);
}

/*
 * Complete this queue's held requests whose time is up (@all: every one,
 * the queue is stopping and nobody will answer them now).
 */
void pvad_fault_expire(struct pvad_queue *q, bool all)
{
    struct pvad_device *dev = q->dev;
    uint64_t now = q->now_ns, next = 0;
    struct pvad_job *expired = NULL, **link;

    if (!q->held || (!all && now < q->next_expiry_ns))
        return;
    pthread_mutex_lock(&dev->fault_lock);
    for (link = &dev->held; *link;) {
        struct pvad_job *job = *link;

        if (job->q == q && (all || job->deadline_ns <= now)) {
            *link = job->held_next;
            job->fault_id = 0;
            job->next = expired;
            expired = job;
            continue;
        }
        if (job->q == q && (!next || job->deadline_ns < next))
            next = job->deadline_ns;
        link = &job->held_next;
    }
    pthread_mutex_unlock(&dev->fault_lock);
    q->next_expiry_ns = next;
    while (expired) {
        struct pvad_job *job = expired;

        expired = job->next;
        q->held--;
        pvad_job_fail(q, job, all ? -XEN_EFAULT : -XEN_ETIMEDOUT);
    }
}
