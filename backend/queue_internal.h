/* SPDX-License-Identifier: MIT */
/*
 * queue_internal.h: the private interface of pvacceld's request path.
 *
 * Four files carry a request from the ring to its response, each calling
 * only the ones below it (nothing calls back up):
 *
 *   queue.c     the queue thread: consume a step of requests, start or
 *               answer them, reap completions, sleep; start and stop
 *   fault.c     recoverable faults: hold a faulted job, retry or complete
 *               it once answered, expire it
 *   job.c       the job pool, operand resolution, submission (and
 *               deferral while the engine is busy), completion lists,
 *               finishing a job into its response
 *   response.c  writing, accounting and publishing responses; the
 *               in-flight quota they settle
 *
 * Only those four include this header; the rest of pvacceld sees the
 * request path through pvacceld.h.  Everything here runs on the queue's
 * own thread unless its comment says otherwise.
 *
 * The helpers a request pays for on every trip are static inline here, as
 * they were when all of this was one file: splitting it added no call per
 * request.
 */
#ifndef PVACCEL_BACKEND_QUEUE_INTERNAL_H
#define PVACCEL_BACKEND_QUEUE_INTERNAL_H

#include "backend/pvacceld.h"

/*
 * Requests handled, and responses written, before the responses are
 * published.  Measured with a frontend keeping 64 requests in flight on
 * the sim: publishing only at the end of a 64-request round made the two
 * sides take turns; 16 lets them overlap (docs/performance.md).
 */
#define PVAD_PUBLISH_EVERY 16

/* A request on its way through the engine; pooled per queue (job.c). */
struct pvad_job {
    struct pva_job job;         /* first: done() gets back to us */
    struct pvad_queue *q;
    struct pvad_job *next;      /* free list or completion list */
    vaccel_request_t req;       /* the checked copy, kept for retries */
    uint64_t t_start_ns;
    uint64_t bytes_in;
    struct pvad_session *session;
    struct pvad_pieces src;
    struct pvad_pieces dst;

    /* Recoverable faults (VACCEL_REQ_F_IOPF): held until answered. */
    struct pvad_job *held_next; /* dev->held, under dev->fault_lock */
    uint32_t fault_id;
    unsigned int faults;        /* times this request faulted */
    uint64_t deadline_ns;
    int32_t answer;             /* FAULT_RESPONSE status */
    bool retry;                 /* back on the completion list: answered */
    struct pvad_fault fault;    /* for a final -XEN_EFAULT */
};

static inline const struct pva_platform *
pvad_queue_platform(const struct pvad_queue *q)
{
    return q->dev->d->p;
}

/* ------------------------------------------------------- response.c */

/*
 * Post @rsp in the next response slot, after applying the protocol's rule
 * for error responses (only aux with -XEN_ENOSPC, and value with a control
 * operation's -XEN_EACCES, mean anything), and account for it.  @t0: when
 * the request was consumed; @bytes_in: what it read.  Published with the
 * next PVAD_PUBLISH_EVERY responses, or by pvad_responses_publish().
 */
void pvad_respond(struct pvad_queue *q, vaccel_response_t *rsp, uint64_t t0,
                  uint64_t bytes_in);
/*
 * Give back the in-flight quota of finished requests, then make the
 * posted responses visible to the frontend, notifying it if it asked.
 */
void pvad_responses_publish(struct pvad_queue *q);

/*
 * In-flight quota, settled in bulk, not once per request: a step reserves
 * quota for exactly its valid data requests (pvad_in_flight_reserve) and
 * they take it one by one (pvad_in_flight_take); what is left goes back
 * at the end of the step (pvad_in_flight_return_credit).  NOPs and
 * control requests are never counted.  A finished request's quota
 * (pvad_in_flight_release) is given back before any response is
 * published: a frontend that sees a request answered may at once send
 * another against the same quota.
 */
void pvad_in_flight_reserve(struct pvad_queue *q, unsigned int n);
void pvad_in_flight_return_credit(struct pvad_queue *q);

/* One request's in-flight quota: 0, or the status to answer it with. */
static inline int pvad_in_flight_take(struct pvad_queue *q)
{
    struct pvad_device *dev = q->dev;
    uint64_t limit;
    int rc;

    if (q->in_flight_credit) {
        q->in_flight_credit--;
        return 0;
    }
    /* Near the limit the step reserved nothing: one at a time, exactly. */
    rc = pvad_usage_take(&dev->usage, &dev->dom->usage, PVAD_RES_IN_FLIGHT, 1,
                         &limit);
    if (rc)
        pvad_evt_quota(dev, PVAD_RES_IN_FLIGHT, rc, limit);
    return rc;
}

/* A request is finished: its quota goes back at the next publication. */
static inline void pvad_in_flight_release(struct pvad_queue *q)
{
    q->in_flight_returned++;
}

/* ------------------------------------------------------------ job.c */

/*
 * A job from the pool for the validated request @req, consumed at @t0.
 * Never fails: the ring's overflow check bounds unanswered requests, and
 * the pool has a job for every ring slot.
 */
static inline struct pvad_job *pvad_job_alloc(struct pvad_queue *q,
                                              const vaccel_request_t *req,
                                              uint64_t t0)
{
    struct pvad_job *job = q->free_jobs;

    q->free_jobs = job->next;
    job->req = *req;
    job->t_start_ns = t0;
    job->bytes_in = 0;
    job->faults = 0;
    job->retry = false;
    return job;
}

/*
 * Resolve and pin every operand of @req (and bind its session) into @job,
 * before anything executes.  as_lock held for reading by the caller, or
 * taken here by pvad_job_resolve().  Returns 0, or the request's status
 * (-XEN_EFAULT with *f set), with nothing pinned.
 */
int pvad_job_resolve_locked(struct pvad_queue *q, const vaccel_request_t *req,
                            struct pvad_job *job, struct pvad_fault *f);
int pvad_job_resolve(struct pvad_queue *q, const vaccel_request_t *req,
                     struct pvad_job *job, struct pvad_fault *f);
/*
 * The job's operands are resolved and pinned: off to the engine, or to
 * the back of the deferred jobs while it is busy.
 */
void pvad_job_start(struct pvad_queue *q, struct pvad_job *job);
/* Submit the deferred jobs, in order, until the engine is busy again. */
unsigned int pvad_job_submit_deferred(struct pvad_queue *q);
/* The engine is done with @job: unpin it, answer it, back to the pool. */
void pvad_job_finish(struct pvad_queue *q, struct pvad_job *job);
/*
 * Answer @job, which never reached the engine or will not again, with
 * @status (for -XEN_EFAULT, job->fault says where).  Nothing is pinned.
 */
void pvad_job_fail(struct pvad_queue *q, struct pvad_job *job, int32_t status);
/*
 * Hand a finished @job to its queue's thread (q->local_done from that
 * thread, else q->done_list) and wake the thread if it sleeps.  Any
 * thread.
 */
void pvad_queue_push_done(struct pvad_queue *q, struct pvad_job *job);
void pvad_queue_free_jobs(struct pvad_queue *q);
/*
 * The queue is stopping: cancel everything that has not started, once.
 * The deferred jobs and the jobs the engine still queues are dropped
 * without a response (pvacceld.h "Teardown"); what runs completes.
 */
void pvad_job_cancel_all(struct pvad_queue *q);

/* ---------------------------------------------------------- fault.c */

/* Hold @job on fault @f; false if it may not (limit, event ring full). */
bool pvad_fault_hold(struct pvad_queue *q, struct pvad_job *job,
                     const struct pvad_fault *f);
/* The job came back answered: retry it or complete it with the answer. */
void pvad_fault_retry(struct pvad_queue *q, struct pvad_job *job);
/* Complete held requests whose time is up (@all: every one, stopping). */
void pvad_fault_expire(struct pvad_queue *q, bool all);

#endif
