/* SPDX-License-Identifier: MIT */
/*
 * queue.c: one thread per device queue, the data path.
 *
 * A round: consume up to cfg.batch requests (each copied out of the ring
 * once and validated as a copy), run control operations inline, submit
 * data operations to the engine, collect completions, and publish the
 * responses written.  Responses are published every PVAD_PUBLISH_EVERY
 * and at the end of the round, so a polling frontend refills the ring
 * while we work through the rest of a batch instead of waiting for all of
 * it; the cost is one memory barrier per PVAD_PUBLISH_EVERY responses.  A
 * thread with nothing to do spins for cfg.spin_us before it re-arms
 * req_event and sleeps in poll() on its event channel and its wake-up
 * eventfd; the engine writes that eventfd only when the thread sleeps, so
 * a busy queue makes no system call per request.
 *
 * The ring is the guest's: the producer index is checked before use
 * (RING_REQUEST_PROD_OVERFLOW), and a violation stops this queue only.
 *
 * Asked to stop (pvacceld.h "Teardown"), the thread consumes nothing more,
 * cancels what it queued in the engine on its next round (it is the
 * queue's only submitter, so nothing can be submitted after that), and
 * exits once what was running has completed and been answered.  The
 * cancelled requests get no response: the guest is gone or closing, and
 * fails every request the backend did not answer with -XEN_ENOTCONN
 * (accelif.h).
 *
 * The top of the request path (queue_internal.h): it calls fault.c,
 * job.c and response.c for what happens to a request after it is
 * consumed, and control.c for control operations; none of them calls it.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backend/queue_internal.h"
#include "platform/cpu_relax.h"

/* ---------------------------------------------------------- completion */

/* Finish the jobs of @fifo in order.  Returns how many. */
static unsigned int finish_list(struct pvad_queue *q, struct pvad_job *fifo)
{
    unsigned int n = 0;

    while (fifo) {
        struct pvad_job *next = fifo->next;

        if (fifo->retry)
            pvad_fault_retry(q, fifo);
        else
            pvad_job_finish(q, fifo);
        fifo = next;
        n++;
    }
    return n;
}

/* Post the responses of every job the engine finished.  Returns how many. */
static unsigned int reap(struct pvad_queue *q)
{
    unsigned int n = 0;

    /* Finishing may complete more jobs locally (a retried fault): loop. */
    while (q->local_done.head ||
           atomic_load_explicit(&q->done_list, memory_order_relaxed)) {
        struct pvad_job *fifo = q->local_done.head, *list;

        q->local_done.head = NULL;
        n += finish_list(q, fifo);
        list = atomic_exchange_explicit(&q->done_list, NULL,
                                        memory_order_acquire);
        fifo = NULL;
        while (list) {          /* the list is LIFO: restore order */
            struct pvad_job *next = list->next;

            list->next = fifo;
            fifo = list;
            list = next;
        }
        n += finish_list(q, fifo);
    }
    return n;
}

/* ------------------------------------------------------------ requests */

/*
 * A step: the data requests of up to PVAD_PUBLISH_EVERY consecutive requests
 * are resolved under one hold of as_lock (taking it per request cost a
 * fifth of the backend's time at 64-byte requests), then started, in
 * ring order, after it is released: engines and fault handling never run
 * under as_lock.  A control request ends the step first, so it takes
 * effect after the data requests before it and before those after it, and
 * may take as_lock for writing.
 */
struct step {
    bool locked;
    unsigned int n;
    struct pvad_job *job[PVAD_PUBLISH_EVERY];
    int rc[PVAD_PUBLISH_EVERY];
    struct pvad_fault fault[PVAD_PUBLISH_EVERY];
};

/*
 * Start a resolved job, or answer its resolution error: a fault is held
 * for the guest's answer if the request asked for that and may, else it
 * is answered at once, after a fault record.
 */
static void start_resolved(struct pvad_queue *q, struct pvad_job *job, int rc,
                           const struct pvad_fault *f)
{
    const vaccel_request_t *req = &job->req;

    if (!rc) {
        pvad_job_start(q, job);
        return;
    }
    if (rc == -XEN_EFAULT && (req->flags & VACCEL_REQ_F_IOPF) &&
        pvad_fault_hold(q, job, f))
        return;                 /* answered after FAULT_RESPONSE */
    if (rc == -XEN_EFAULT) {
        job->fault = *f;
        pvad_evt_fault(q->dev, q->index, req->id, req->op, f, 0);
    }
    pvad_job_fail(q, job, rc);
}

static void step_end(struct pvad_queue *q, struct step *st)
{
    if (st->locked)
        pthread_rwlock_unlock(&q->dev->as_lock);
    st->locked = false;
    for (unsigned int i = 0; i < st->n; i++)
        start_resolved(q, st->job[i], st->rc[i], &st->fault[i]);
    st->n = 0;
}

static void resolve_data(struct pvad_queue *q, struct step *st,
                         const vaccel_request_t *req, vaccel_response_t *rsp,
                         uint64_t t0)
{
    struct pvad_job *job;
    unsigned int i = st->n;
    int rc;

    rc = pvad_in_flight_take(q);
    if (rc) {
        rsp->status = rc;
        pvad_respond(q, rsp, t0, 0);
        return;
    }
    job = pvad_job_alloc(q, req, t0);
    q->in_flight++;
    if (!st->locked)
        pthread_rwlock_rdlock(&q->dev->as_lock);
    st->locked = true;
    st->job[i] = job;
    st->rc[i] = pvad_job_resolve_locked(q, &job->req, job, &st->fault[i]);
    st->n = i + 1;
}

/* @rc: what validating the request gave. */
static void handle_request(struct pvad_queue *q, struct step *st,
                           const vaccel_request_t *req, int rc)
{
    uint64_t t0 = q->now_ns;
    vaccel_response_t rsp;

    memset(&rsp, 0, sizeof(rsp));
    rsp.id = req->id;
    rsp.op = req->op;
    if (rc) {
        rsp.status = rc;
        pvad_respond(q, &rsp, t0, 0);
    } else if (!VACCEL_OP_IS_DATA(req->op)) {
        step_end(q, st);
        pvad_control(q, req, &rsp);
        pvad_respond(q, &rsp, t0, 0);
    } else {
        resolve_data(q, st, req, &rsp, t0);
    }
}

static void stop_queue(struct pvad_queue *q, RING_IDX prod)
{
    struct pvad_device *dev = q->dev;

    q->stopped = true;
    pvad_log(pvad_log_ratelimit(&dev->warn_last_ns) ? PVAD_LOG_WARN :
             PVAD_LOG_DEBUG,"vaccel %u/%u queue %u: request producer %u runs more than "
              "%u slots ahead of our responses (%u): queue stopped",
              dev->fe_domid, dev->devid, q->index, prod,
              RING_SIZE(&q->ring), q->ring.rsp_prod_pvt);
    pvad_evt_queue_stopped(dev, q->index, VACCEL_STOP_RING_OVERFLOW);
}

/*
 * One step: copy and validate the requests up to @prod, at most @budget
 * (<= PVAD_PUBLISH_EVERY) of them and no more than the ring has response slots
 * for; reserve in-flight quota for exactly the valid data requests among
 * them; handle them in order.  Returns how many were consumed.
 */
static unsigned int consume_to(struct pvad_queue *q, RING_IDX prod,
                               unsigned int budget)
{
    const struct pvad_device *dev = q->dev;
    RING_IDX cons = q->ring.req_cons;
    struct step st = { .locked = false, .n = 0 };
    vaccel_request_t req[PVAD_PUBLISH_EVERY];
    int rc[PVAD_PUBLISH_EVERY];
    unsigned int n = 0, data = 0;

    while (cons != prod && n < budget &&
           !RING_REQUEST_CONS_OVERFLOW(&q->ring, cons)) {
        RING_COPY_REQUEST(&q->ring, cons, &req[n]);
        q->ring.req_cons = ++cons;
        rc[n] = pvad_validate(&dev->d->offer, &dev->lim, &req[n]);
        data += !rc[n] && VACCEL_OP_IS_DATA(req[n].op);
        n++;
    }
    pvad_in_flight_reserve(q, data);
    for (unsigned int i = 0; i < n; i++)
        handle_request(q, &st, &req[i], rc[i]);
    step_end(q, &st);
    pvad_in_flight_return_credit(q);
    return n;
}

/*
 * Consume at most cfg.batch requests.  Returns how many.  They are taken
 * PVAD_PUBLISH_EVERY at a time, and after each step the jobs the engine has
 * finished (an inline engine finishes them during submit) are answered
 * and published, and the producer index is read again: a polling frontend
 * refills the ring while we work, and we serve it in the same round.
 */
static unsigned int consume(struct pvad_queue *q)
{
    unsigned int budget = q->dev->d->cfg.batch, n = 0;

    while (n < budget && !q->deferred.head && !q->stopped) {
        RING_IDX prod = *(volatile RING_IDX *)&q->ring.sring->req_prod;
        unsigned int step = budget - n, done;

        xen_rmb(); /* requests after the index */
        if (RING_REQUEST_PROD_OVERFLOW(&q->ring, prod)) {
            stop_queue(q, prod);
            break;
        }
        if (prod == q->ring.req_cons)
            break;
        done = consume_to(q, prod, step < PVAD_PUBLISH_EVERY ? step
                                                         : PVAD_PUBLISH_EVERY);
        if (!done)
            break;
        n += done;
        reap(q);
        pvad_responses_publish(q);
    }
    return n;
}

/* One round of work; returns true if anything happened. */
static bool round_once(struct pvad_queue *q, bool stopping)
{
    unsigned int n = 0;

    q->now_ns = pvad_now_ns();
    n += pvad_job_submit_deferred(q);
    if (!q->stopped && !stopping)
        n += consume(q);
    n += reap(q);
    pvad_fault_expire(q, stopping);
    pvad_responses_publish(q);
    return n != 0;
}

/* ------------------------------------------------------------- sleeping */

static void drain_wakeups(struct pvad_queue *q)
{
    uint64_t v;
    int port;

    while ((port = pvad_queue_platform(q)->evtchn->pending(q->evh)) >= 0)
        pvad_queue_platform(q)->evtchn->unmask(q->evh, (pva_port_t)port);
    if (read(q->wake_fd, &v, sizeof(v)) < 0) {
        /* EAGAIN: nothing was written. */
    }
}

static int sleep_timeout_ms(const struct pvad_queue *q)
{
    uint64_t now;

    if (q->deferred.head)
        return 1;
    if (!q->held)
        return -1;
    now = pvad_now_ns();
    if (q->next_expiry_ns <= now)
        return 0;
    return (int)((q->next_expiry_ns - now) / 1000000u) + 1;
}

static void sleep_until_work(struct pvad_queue *q, bool stopping)
{
    struct pollfd pfd[2] = {
        { .fd = pvad_queue_platform(q)->evtchn->fd(q->evh), .events = POLLIN },
        { .fd = q->wake_fd, .events = POLLIN },
    };
    int more = 0;

    /* With a deferred job, pending requests wait for the engine, not us. */
    if (!q->stopped && !stopping && !q->deferred.head) {
        RING_FINAL_CHECK_FOR_REQUESTS(&q->ring, more);
        if (more)
            return;
    }
    atomic_store(&q->sleeping, true);
    if (q->local_done.head || atomic_load(&q->done_list) ||
        atomic_load(&q->stop) != stopping) {
        atomic_store(&q->sleeping, false);
        return;
    }
    /*
     * A deferred job may wait on other queues' jobs: poll for it.  Held
     * requests time out: wake up for the first deadline.
     */
    if (poll(pfd, 2, sleep_timeout_ms(q)) < 0 && errno != EINTR)
        pvad_err("queue %u: poll: %s", q->index, strerror(errno));
    atomic_store(&q->sleeping, false);
    pvad_stat_add(&q->stats.wakeups, 1);
    drain_wakeups(q);
}

static void *queue_main(void *arg)
{
    struct pvad_queue *q = arg;
    uint64_t spin_ns = (uint64_t)q->dev->d->cfg.spin_us * 1000;
    uint64_t spin_until = 0;

    q->self = pthread_self();
    for (;;) {
        bool stopping = atomic_load(&q->stop);

        /* Submitting is over: what the engine has not started, it drops. */
        if (stopping && !q->cancelled)
            pvad_job_cancel_all(q);
        if (round_once(q, stopping)) {
            spin_until = 0;
            continue;
        }
        /* Orderly end: nothing consumed is left in flight. */
        if (stopping && !q->in_flight && !q->deferred.head)
            break;
        /* round_once() read the clock: the spin needs no read of its own. */
        if (!spin_until)
            spin_until = q->now_ns + spin_ns;
        if (q->now_ns < spin_until) {
            cpu_relax();
            continue;
        }
        spin_until = 0;
        sleep_until_work(q, stopping);
    }
    pvad_responses_publish(q);
    return NULL;
}

int pvad_queue_start(struct pvad_queue *q)
{
    int rc;

    q->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->wake_fd < 0)
        return -errno;
    atomic_init(&q->done_list, NULL);
    q->local_done.head = NULL;
    atomic_init(&q->sleeping, false);
    atomic_init(&q->stop, false);
    rc = pthread_create(&q->thread, NULL, queue_main, q);
    if (rc)
        return -rc;
    q->thread_started = true;
    return 0;
}

void pvad_queue_ask_stop(struct pvad_queue *q)
{
    uint64_t one = 1;

    if (!q->thread_started)
        return;
    atomic_store(&q->stop, true);
    if (write(q->wake_fd, &one, sizeof(one)) < 0) {
        /* saturated: it wakes anyway */
    }
}

void pvad_queue_join(struct pvad_queue *q)
{
    if (q->thread_started) {
        pthread_join(q->thread, NULL);
        q->thread_started = false;
    }
    /*
     * wake_fd stays open: an engine thread may still be inside job_done()
     * for the last job.  The engine queue's close waits for that, and
     * pvad_queue_fini() comes after it.
     */
}

void pvad_queue_fini(struct pvad_queue *q)
{
    if (q->wake_fd >= 0) {
        close(q->wake_fd);
        q->wake_fd = -1;
    }
    pvad_queue_free_jobs(q);
}
