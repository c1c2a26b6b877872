/* SPDX-License-Identifier: MIT */
/*
 * queue.c: one thread per device queue, the data path.
 *
 * A round: consume up to cfg.batch requests (each copied out of the ring
 * once and validated as a copy), run control operations inline, submit
 * data operations to the engine, collect completions, and publish the
 * responses written.  Responses are published every PUBLISH_EVERY and at
 * the end of the round, so a polling frontend refills the ring while we
 * work through the rest of a batch instead of waiting for all of it; the
 * cost is one memory barrier per PUBLISH_EVERY responses.  A
 * thread with nothing to do spins for cfg.spin_us before it re-arms
 * req_event and sleeps in poll() on its event channel and its wake-up
 * eventfd; the engine writes that eventfd only when the thread sleeps, so
 * a busy queue makes no system call per request.
 *
 * The ring is the guest's: the producer index is checked before use
 * (RING_REQUEST_PROD_OVERFLOW), and a violation stops this queue only.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backend/pvacceld.h"

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

/*
 * Requests handled, and responses written, before the responses are
 * published.  Measured with a frontend keeping 64 requests in flight on
 * the sim: publishing only at the end of a 64-request round made the two
 * sides take turns; 16 lets them overlap (docs/performance.md).
 */
#define PUBLISH_EVERY 16

static const struct pva_platform *plat(const struct pvad_queue *q)
{
    return q->dev->d->p;
}

/* ------------------------------------------------------------ job pool */

/* Pieces one operand may resolve to: entries may each cross regions. */
static unsigned int max_pieces(const struct pvad_device *dev)
{
    return 2 * dev->lim.max_sg_entries + 16;
}

int pvad_queue_alloc_jobs(struct pvad_queue *q)
{
    unsigned int n = RING_SIZE(&q->ring), per = max_pieces(q->dev);
    size_t pieces = (size_t)n * 2 * per + PVAD_SCRATCH_PIECES;

    q->jobs = calloc(n, sizeof(q->jobs[0]));
    q->iov_store = calloc(pieces, sizeof(q->iov_store[0]));
    q->reg_store = calloc(pieces, sizeof(q->reg_store[0]));
    q->sg_scratch = calloc(q->dev->lim.max_sg_entries,
                           sizeof(q->sg_scratch[0]));
    if (!q->jobs || !q->iov_store || !q->reg_store || !q->sg_scratch)
        return -ENOMEM;
    /* The last pieces are the scratch of the control path and lists. */
    q->scratch = (struct pvad_pieces){ q->iov_store + pieces - PVAD_SCRATCH_PIECES,
                                       q->reg_store + pieces - PVAD_SCRATCH_PIECES,
                                       0, PVAD_SCRATCH_PIECES, 0 };
    q->free_jobs = NULL;
    for (unsigned int i = 0; i < n; i++) {
        struct pvad_job *j = &q->jobs[i];
        size_t base = ((size_t)i * 2) * per;

        j->q = q;
        j->src = (struct pvad_pieces){ q->iov_store + base,
                                       q->reg_store + base, 0, per, 0 };
        j->dst = (struct pvad_pieces){ q->iov_store + base + per,
                                       q->reg_store + base + per, 0, per, 0 };
        j->next = q->free_jobs;
        q->free_jobs = j;
    }
    return 0;
}

void pvad_queue_free_jobs(struct pvad_queue *q)
{
    free(q->jobs);
    free(q->iov_store);
    free(q->reg_store);
    free(q->sg_scratch);
    q->jobs = NULL;
    q->iov_store = NULL;
    q->reg_store = NULL;
    q->sg_scratch = NULL;
    q->free_jobs = NULL;
}

/* ----------------------------------------------------------- responses */

static void flush_responses(struct pvad_queue *q);

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
    if (++q->rsp_unpushed >= PUBLISH_EVERY)
        flush_responses(q);
}

/*
 * In-flight quota, settled in bulk.  consume_to() reserves quota for the
 * valid data requests of a step (reserve_in_flight) and they use it one
 * by one (take_in_flight); whatever is left goes back at the end of the
 * step.  NOPs and control requests are never counted.
 * Finished requests add to in_flight_returned, given back by
 * settle_in_flight() before any response is published: a frontend that
 * sees a request answered may at once send another against the same
 * quota.
 */
static void reserve_in_flight(struct pvad_queue *q, unsigned int n)
{
    struct pvad_device *dev = q->dev;
    uint64_t limit;

    if (n > 1 && !q->in_flight_credit &&
        !pvad_usage_take(&dev->usage, &dev->dom->usage, PVAD_RES_IN_FLIGHT, n,
                         &limit))
        q->in_flight_credit = n;
}

static int take_in_flight(struct pvad_queue *q)
{
    struct pvad_device *dev = q->dev;
    uint64_t limit;
    int rc;

    if (q->in_flight_credit) {
        q->in_flight_credit--;
        return 0;
    }
    /* Near the limit the round reserved nothing: one at a time, exactly. */
    rc = pvad_usage_take(&dev->usage, &dev->dom->usage, PVAD_RES_IN_FLIGHT, 1,
                         &limit);
    if (rc)
        pvad_evt_quota(dev, PVAD_RES_IN_FLIGHT, rc, limit);
    return rc;
}

static void return_in_flight_credit(struct pvad_queue *q)
{
    if (q->in_flight_credit)
        pvad_usage_give(&q->dev->usage, &q->dev->dom->usage,
                        PVAD_RES_IN_FLIGHT, q->in_flight_credit);
    q->in_flight_credit = 0;
}

static void settle_in_flight(struct pvad_queue *q)
{
    if (q->in_flight_returned)
        pvad_usage_give(&q->dev->usage, &q->dev->dom->usage,
                        PVAD_RES_IN_FLIGHT, q->in_flight_returned);
    q->in_flight_returned = 0;
}

static void flush_responses(struct pvad_queue *q)
{
    int notify;

    settle_in_flight(q);
    if (!q->rsp_unpushed)
        return;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->ring, notify);
    q->rsp_unpushed = 0;
    pvad_stat_add(&q->stats.batches, 1);
    if (notify) {
        plat(q)->evtchn->notify(q->evh, q->port);
        pvad_stat_add(&q->stats.notifies, 1);
    }
}

static void respond(struct pvad_queue *q, vaccel_response_t *rsp,
                    uint64_t t0, uint64_t bytes_in)
{
    if (rsp->status) {
        rsp->len = 0;
        if (rsp->status != -XEN_ENOSPC)
            rsp->aux = 0;
    }
    post_response(q, rsp);
    /* Latency at the resolution of a round: no clock read per request. */
    pvad_qstats_account(&q->stats, rsp->op, rsp->status, bytes_in, rsp->len,
                        q->now_ns - t0);
}

/* ----------------------------------------------------- operand lookup */

/*
 * Read a scatter list once into backend memory (q->sg_scratch) and
 * resolve each entry.  The list itself must be readable I/O address
 * space: it faults like data.
 */
static int resolve_indirect(struct pvad_queue *q, const struct vaccel_seg *seg,
                            bool write, struct pvad_pieces *pc,
                            struct pvad_fault *f)
{
    struct pvad_device *dev = q->dev;
    struct pvad_pieces lp = q->scratch;
    unsigned int nent = (unsigned int)(seg->len / sizeof(struct vaccel_seg));
    uint64_t total = 0;
    int rc;

    rc = pvad_ioas_resolve(&dev->ioas, seg->iova, seg->len, false, &lp, f);
    if (rc)
        return rc;
    pvad_pieces_copy_out(&lp, q->sg_scratch, (size_t)seg->len);
    /* The whole list is checked before any entry is resolved. */
    for (unsigned int i = 0; i < nent; i++) {
        const struct vaccel_seg *e = &q->sg_scratch[i];

        if (!e->len)
            continue;
        if (!pvad_ioas_range_ok(&dev->ioas, e->iova, e->len))
            return -XEN_EINVAL;
        if (e->len > dev->lim.max_op_bytes - total)
            return -XEN_E2BIG;
        total += e->len;
    }
    for (unsigned int i = 0; i < nent; i++) {
        const struct vaccel_seg *e = &q->sg_scratch[i];

        rc = pvad_ioas_resolve(&dev->ioas, e->iova, e->len, write, pc, f);
        if (rc)
            return rc;
    }
    return 0;
}

static int resolve_operand(struct pvad_queue *q, const struct vaccel_seg *seg,
                           bool indirect, bool write, struct pvad_pieces *pc,
                           struct pvad_fault *f)
{
    pc->n = 0;
    pc->len = 0;
    if (indirect)
        return resolve_indirect(q, seg, write, pc, f);
    return pvad_ioas_resolve(&q->dev->ioas, seg->iova, seg->len, write, pc, f);
}

/* The session a DIGEST or AEAD request names, pinned for the request. */
static int bind_session(struct pvad_queue *q, const vaccel_request_t *req,
                        struct pvad_job *job)
{
    bool aead = req->op == VACCEL_OP_AEAD_ENCRYPT ||
                req->op == VACCEL_OP_AEAD_DECRYPT;
    struct pvad_session *s;
    bool idle = false;

    job->session = NULL;
    if (req->op != VACCEL_OP_DIGEST && !aead)
        return 0;
    if (req->op == VACCEL_OP_DIGEST && !req->handle)
        return 0;                         /* one-shot digest */
    s = pvad_session_lookup(&q->dev->sessions, req->handle);
    if (!s)
        return -XEN_ENOENT;
    if (aead ? !VACCEL_ALG_IS_AEAD(s->alg) : s->alg != req->alg)
        return -XEN_EINVAL;
    if (!aead && !atomic_compare_exchange_strong(&s->digest_busy, &idle, true))
        return -XEN_EBUSY;
    atomic_fetch_add_explicit(&s->users, 1, memory_order_relaxed);
    job->session = s;
    return 0;
}

static void release_session(struct pvad_job *job)
{
    struct pvad_session *s = job->session;

    if (!s)
        return;
    if (job->job.op == VACCEL_OP_DIGEST)
        atomic_store(&s->digest_busy, false);
    atomic_fetch_sub_explicit(&s->users, 1, memory_order_release);
    job->session = NULL;
}

/* Semantic checks that need the resolved lengths. */
static int check_resolved(const vaccel_request_t *req,
                          const struct pvad_job *job)
{
    if ((req->op == VACCEL_OP_AEAD_ENCRYPT ||
         req->op == VACCEL_OP_AEAD_DECRYPT) &&
        req->u.aead.aad_len > job->src.len)
        return -XEN_EINVAL;
    if (req->op == VACCEL_OP_AEAD_DECRYPT &&
        job->src.len - req->u.aead.aad_len < VACCEL_AEAD_TAG_LEN)
        return -XEN_EINVAL;
    return 0;
}

/*
 * Resolve every operand before anything executes, so faults and
 * permission errors are reported with no effect (accelif.h).  The caller
 * holds as_lock for reading.
 */
static int job_resolve_locked(struct pvad_queue *q, const vaccel_request_t *req,
                              struct pvad_job *job, struct pvad_fault *f)
{
    uint16_t flags = req->flags;
    int rc;

    rc = resolve_operand(q, &req->u.data.src,
                         flags & VACCEL_REQ_F_SRC_INDIRECT, false, &job->src,
                         f);
    if (!rc)
        rc = resolve_operand(q, &req->u.data.dst,
                             flags & VACCEL_REQ_F_DST_INDIRECT,
                             pvad_op_writes_dst(req->op), &job->dst, f);
    if (!rc)
        rc = check_resolved(req, job);
    if (!rc)
        rc = bind_session(q, req, job);
    if (!rc) {
        pvad_pieces_get(&job->src, q->index);
        pvad_pieces_get(&job->dst, q->index);
    } else {
        job->src.n = job->dst.n = 0;
    }
    return rc;
}

int pvad_job_resolve(struct pvad_queue *q, const vaccel_request_t *req,
                     struct pvad_job *job, struct pvad_fault *f)
{
    int rc;

    pthread_rwlock_rdlock(&q->dev->as_lock);
    rc = job_resolve_locked(q, req, job, f);
    pthread_rwlock_unlock(&q->dev->as_lock);
    return rc;
}

static void fill_job(struct pvad_job *job, const vaccel_request_t *req)
{
    struct pva_job *j = &job->job;

    memset(j, 0, sizeof(*j));
    j->op = req->op;
    j->alg = req->alg;
    j->flags = req->flags & ~VACCEL_REQ_F_GENERIC_MASK;
    j->src = (struct pva_operand){ job->src.iov, job->src.n,
                                   (size_t)job->src.len };
    j->dst = (struct pva_operand){ job->dst.iov, job->dst.n,
                                   (size_t)job->dst.len };
    j->session = job->session ? job->session->es : NULL;
    switch (req->op) {
    case VACCEL_OP_COMPRESS:
        j->param.level = req->u.compress.level;
        break;
    case VACCEL_OP_AEAD_ENCRYPT:
    case VACCEL_OP_AEAD_DECRYPT:
        memcpy(j->param.aead.nonce, req->u.aead.nonce,
               sizeof(j->param.aead.nonce));
        j->param.aead.aad_len = req->u.aead.aad_len;
        break;
    case VACCEL_OP_FILL:
        j->param.pattern = req->u.fill.pattern;
        break;
    case VACCEL_OP_CRC32C:
        j->param.seed = req->u.crc32c.seed;
        break;
    default:
        break;
    }
}

/* --------------------------------------------------------- completion */

static void fifo_push(struct pvad_job_fifo *f, struct pvad_job *job)
{
    job->next = NULL;
    if (f->head)
        f->tail->next = job;
    else
        f->head = job;
    f->tail = job;
}

/*
 * Hand @job to its queue's thread; wake it only if it sleeps.  Any thread.
 * A job finished on the queue's own thread (an inline engine job, a fault
 * answered on the same queue) goes on a private list: no locked
 * instruction, no check for sleep.
 */
void pvad_queue_push_done(struct pvad_queue *q, struct pvad_job *job)
{
    struct pvad_job *head;

    if (pthread_equal(pthread_self(), q->self)) {
        fifo_push(&q->local_done, job);
        return;
    }
    head = atomic_load_explicit(&q->done_list, memory_order_relaxed);

    do {
        job->next = head;
    } while (!atomic_compare_exchange_weak_explicit(
                 &q->done_list, &head, job, memory_order_seq_cst,
                 memory_order_relaxed));
    /* From here the queue thread may recycle the job: only @q is used. */
    if (atomic_load_explicit(&q->sleeping, memory_order_seq_cst)) {
        uint64_t one = 1;

        if (write(q->wake_fd, &one, sizeof(one)) < 0) {
            /* EAGAIN: the counter is saturated, the thread wakes anyway. */
        }
    }
}

/* Engine thread: the job is done. */
static void job_done(struct pva_job *pj)
{
    struct pvad_job *job = (struct pvad_job *)pj;

    pvad_queue_push_done(job->q, job);
}

static void job_release(struct pvad_queue *q, struct pvad_job *job)
{
    pvad_pieces_put(&job->src, q->index);
    pvad_pieces_put(&job->dst, q->index);
    release_session(job);
    q->in_flight_returned++;
    job->next = q->free_jobs;
    q->free_jobs = job;
}

void pvad_job_finish(struct pvad_queue *q, struct pvad_job *job)
{
    uint64_t t0, bytes_in;
    vaccel_response_t rsp;

    memset(&rsp, 0, sizeof(rsp));
    rsp.id = job->req.id;
    rsp.op = job->req.op;
    rsp.status = job->job.status;
    rsp.len = job->job.len;
    rsp.value = job->job.value;
    rsp.aux = job->job.aux;
    /* The engine's status goes out unchanged, but never positive. */
    if (rsp.status > 0)
        rsp.status = -XEN_EIO;
    if (rsp.status == -XEN_EFAULT) {
        rsp.fault_iova = job->fault.iova;
        rsp.fault_access = job->fault.access;
    }
    t0 = job->t_start_ns;
    bytes_in = job->bytes_in;
    /* Unpinned before it can be published: then the guest may unmap. */
    job_release(q, job);
    q->in_flight--;
    respond(q, &rsp, t0, bytes_in);
}

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
 * Jobs the engine refused with -XEN_EBUSY (its hardware queue is full)
 * wait in q->deferred, oldest first, and are submitted again each round;
 * while any waits, later jobs queue behind it and no request is consumed.
 */
/* False if the engine is busy; any other refusal completes the job. */
static bool submit(struct pvad_queue *q, struct pvad_job *job)
{
    int rc = q->dev->d->eops->submit(q->eq, &job->job);

    if (rc == -XEN_EBUSY)
        return false;
    if (rc) {
        job->job.status = rc < 0 ? rc : -XEN_EIO;
        pvad_job_finish(q, job);
    }
    return true;
}

/* Submit what waits, in order, until the engine is busy again. */
static unsigned int submit_deferred(struct pvad_queue *q)
{
    unsigned int n = 0;

    while (q->deferred.head) {
        struct pvad_job *job = q->deferred.head;

        q->deferred.head = job->next;
        if (!submit(q, job)) {
            job->next = q->deferred.head;    /* back in front */
            if (!q->deferred.head)
                q->deferred.tail = job;
            q->deferred.head = job;
            break;
        }
        n++;
    }
    return n;
}

/* The job's operands are resolved and pinned: off to the engine. */
void pvad_job_start(struct pvad_queue *q, struct pvad_job *job)
{
    job->bytes_in = job->src.len;
    fill_job(job, &job->req);
    job->job.done = job_done;
    job->job.opaque = job;
    if (q->deferred.head || !submit(q, job))
        fifo_push(&q->deferred, job);
}

/*
 * A step: the data requests of up to PUBLISH_EVERY consecutive requests
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
    struct pvad_job *job[PUBLISH_EVERY];
    int rc[PUBLISH_EVERY];
    struct pvad_fault fault[PUBLISH_EVERY];
};

/* Start a resolved job, or answer its resolution error. */
static void start_resolved(struct pvad_queue *q, struct pvad_job *job, int rc,
                           const struct pvad_fault *f)
{
    const vaccel_request_t *req = &job->req;
    uint64_t t0 = job->t_start_ns;
    vaccel_response_t rsp;

    if (!rc) {
        pvad_job_start(q, job);
        return;
    }
    if (rc == -XEN_EFAULT && (req->flags & VACCEL_REQ_F_IOPF) &&
        pvad_fault_hold(q, job, f))
        return;                 /* answered after FAULT_RESPONSE */
    memset(&rsp, 0, sizeof(rsp));
    rsp.id = req->id;
    rsp.op = req->op;
    rsp.status = rc;
    if (rc == -XEN_EFAULT) {
        rsp.fault_iova = f->iova;
        rsp.fault_access = f->access;
        pvad_evt_fault(q->dev, q->index, req->id, req->op, f, 0);
    }
    q->in_flight--;
    job->session = NULL;
    job_release(q, job);
    respond(q, &rsp, t0, 0);
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
    struct pvad_job *job = q->free_jobs;
    unsigned int i = st->n;
    int rc;

    rc = take_in_flight(q);
    if (rc) {
        rsp->status = rc;
        respond(q, rsp, t0, 0);
        return;
    }
    /* Never empty: the overflow check bounds unanswered requests. */
    q->free_jobs = job->next;
    job->req = *req;
    job->t_start_ns = t0;
    job->bytes_in = 0;
    job->faults = 0;
    job->retry = false;
    q->in_flight++;
    if (!st->locked)
        pthread_rwlock_rdlock(&q->dev->as_lock);
    st->locked = true;
    st->job[i] = job;
    st->rc[i] = job_resolve_locked(q, &job->req, job, &st->fault[i]);
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
        respond(q, &rsp, t0, 0);
    } else if (!VACCEL_OP_IS_DATA(req->op)) {
        step_end(q, st);
        pvad_control(q, req, &rsp);
        respond(q, &rsp, t0, 0);
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
 * (<= PUBLISH_EVERY) of them and no more than the ring has response slots
 * for; reserve in-flight quota for exactly the valid data requests among
 * them; handle them in order.  Returns how many were consumed.
 */
static unsigned int consume_to(struct pvad_queue *q, RING_IDX prod,
                               unsigned int budget)
{
    const struct pvad_device *dev = q->dev;
    RING_IDX cons = q->ring.req_cons;
    struct step st = { .locked = false, .n = 0 };
    vaccel_request_t req[PUBLISH_EVERY];
    int rc[PUBLISH_EVERY];
    unsigned int n = 0, data = 0;

    while (cons != prod && n < budget &&
           !RING_REQUEST_CONS_OVERFLOW(&q->ring, cons)) {
        RING_COPY_REQUEST(&q->ring, cons, &req[n]);
        q->ring.req_cons = ++cons;
        rc[n] = pvad_validate(&dev->d->offer, &dev->lim, &req[n]);
        data += !rc[n] && VACCEL_OP_IS_DATA(req[n].op);
        n++;
    }
    reserve_in_flight(q, data);
    for (unsigned int i = 0; i < n; i++)
        handle_request(q, &st, &req[i], rc[i]);
    step_end(q, &st);
    return_in_flight_credit(q);
    return n;
}

static unsigned int reap(struct pvad_queue *q);

/*
 * Consume at most cfg.batch requests.  Returns how many.  They are taken
 * PUBLISH_EVERY at a time, and after each step the jobs the engine has
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
        done = consume_to(q, prod, step < PUBLISH_EVERY ? step : PUBLISH_EVERY);
        if (!done)
            break;
        n += done;
        reap(q);
        flush_responses(q);
    }
    return n;
}

/* One round of work; returns true if anything happened. */
static bool round_once(struct pvad_queue *q, bool stopping)
{
    unsigned int n = 0;

    q->now_ns = pvad_now_ns();
    n += submit_deferred(q);
    if (!q->stopped && !stopping)
        n += consume(q);
    n += reap(q);
    pvad_fault_expire(q, stopping);
    flush_responses(q);
    return n != 0;
}

/* ------------------------------------------------------------- sleeping */

static void drain_wakeups(struct pvad_queue *q)
{
    uint64_t v;
    int port;

    while ((port = plat(q)->evtchn->pending(q->evh)) >= 0)
        plat(q)->evtchn->unmask(q->evh, (pva_port_t)port);
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
        { .fd = plat(q)->evtchn->fd(q->evh), .events = POLLIN },
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

        if (round_once(q, stopping)) {
            spin_until = 0;
            continue;
        }
        /* Orderly end: nothing consumed is left unanswered. */
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
    flush_responses(q);
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

void pvad_queue_stop(struct pvad_queue *q)
{
    uint64_t one = 1;

    if (q->thread_started) {
        atomic_store(&q->stop, true);
        if (write(q->wake_fd, &one, sizeof(one)) < 0) {
            /* saturated: it wakes anyway */
        }
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
