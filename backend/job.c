/* SPDX-License-Identifier: MIT */
/*
 * job.c: a data request's life as a job (queue_internal.h), between the
 * queue thread that consumed it and the response that answers it.
 *
 * Each queue has a pool of jobs, one per ring slot, with room for their
 * resolved operands: nothing is allocated per request.  A job's operands
 * are resolved (scatter lists read once into backend memory) and pinned
 * before anything executes, it is submitted to the engine (or waits in
 * q->deferred while the engine is busy), comes back through a completion
 * list, and is finished into its response (response.c).
 *
 * Called by queue.c and fault.c; calls response.c, iova.c and the engine,
 * never back up.  Queue thread, except pvad_queue_push_done() and
 * job_done().
 *
 * When the queue stops, pvad_job_cancel_all() drops the deferred jobs and
 * has the engine cancel the ones it queues; those come back through the
 * completion list like any other and pvad_job_finish() drops them: a
 * predictable branch per job, nothing more.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/queue_internal.h"

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
    q->spans = calloc(per, sizeof(q->spans[0]));
    if (!q->jobs || !q->iov_store || !q->reg_store || !q->sg_scratch ||
        !q->spans)
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
    free(q->spans);
    q->jobs = NULL;
    q->iov_store = NULL;
    q->reg_store = NULL;
    q->sg_scratch = NULL;
    q->spans = NULL;
    q->free_jobs = NULL;
}

/* ----------------------------------------------------- operand lookup */

/*
 * Read a scatter list once into backend memory (q->sg_scratch) and
 * resolve each entry.  The list itself must be readable I/O address
 * space: it faults like data.  Its entries add up to at most @max_bytes.
 */
static int resolve_indirect(struct pvad_queue *q, const struct vaccel_seg *seg,
                            bool write, uint64_t max_bytes,
                            struct pvad_pieces *pc, struct pvad_fault *f)
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
        if (e->len > max_bytes - total)
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

/* A direct operand's length was checked against @max_bytes already. */
static int resolve_operand(struct pvad_queue *q, const struct vaccel_seg *seg,
                           bool indirect, bool write, uint64_t max_bytes,
                           struct pvad_pieces *pc, struct pvad_fault *f)
{
    pc->n = 0;
    pc->len = 0;
    if (indirect)
        return resolve_indirect(q, seg, write, max_bytes, pc, f);
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

/*
 * Semantic checks that need the resolved operands: AEAD lengths, and
 * operands that share memory where the operation forbids it (overlap.c);
 * AEAD's text may be in place, src octet aad_len + i on dst octet i.
 */
static int check_resolved(struct pvad_queue *q, const vaccel_request_t *req,
                          const struct pvad_job *job)
{
    bool aead = req->op == VACCEL_OP_AEAD_ENCRYPT ||
                req->op == VACCEL_OP_AEAD_DECRYPT;

    if (aead && req->u.aead.aad_len > job->src.len)
        return -XEN_EINVAL;
    if (req->op == VACCEL_OP_AEAD_DECRYPT &&
        job->src.len - req->u.aead.aad_len < VACCEL_AEAD_TAG_LEN)
        return -XEN_EINVAL;
    if (pvad_op_forbids_overlap(req->op))
        return pvad_overlap_check(&job->src, &job->dst, aead,
                                  aead ? req->u.aead.aad_len : 0, q->spans);
    return 0;
}

/*
 * Resolve every operand before anything executes, so faults and
 * permission errors are reported with no effect (accelif.h).
 */
int pvad_job_resolve_locked(struct pvad_queue *q, const vaccel_request_t *req,
                            struct pvad_job *job, struct pvad_fault *f)
{
    const struct pvad_device *dev = q->dev;
    uint16_t flags = req->flags;
    int rc;

    rc = resolve_operand(q, &req->u.data.src,
                         flags & VACCEL_REQ_F_SRC_INDIRECT, false,
                         pvad_src_max_bytes(&dev->d->offer, &dev->lim, req),
                         &job->src, f);
    if (!rc)
        rc = resolve_operand(q, &req->u.data.dst,
                             flags & VACCEL_REQ_F_DST_INDIRECT,
                             pvad_op_writes_dst(req->op), dev->lim.max_op_bytes,
                             &job->dst, f);
    if (!rc)
        rc = check_resolved(q, req, job);
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
    rc = pvad_job_resolve_locked(q, req, job, f);
    pthread_rwlock_unlock(&q->dev->as_lock);
    return rc;
}

/* ---------------------------------------------------------- completion */

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
    pvad_in_flight_release(q);
    job->next = q->free_jobs;
    q->free_jobs = job;
}

/*
 * A job cancelled at teardown: counted (as -XEN_ENOTCONN, in the stats),
 * released, not answered.
 */
static void job_drop(struct pvad_queue *q, struct pvad_job *job)
{
    pvad_qstats_account(&q->stats, job->req.op, PVA_JOB_CANCELLED, 0, 0,
                        q->now_ns - job->t_start_ns);
    job_release(q, job);
    q->in_flight--;
}

void pvad_job_finish(struct pvad_queue *q, struct pvad_job *job)
{
    uint64_t t0, bytes_in;
    vaccel_response_t rsp;

    if (q->cancelled && job->job.status == PVA_JOB_CANCELLED) {
        job_drop(q, job);
        return;
    }

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
    pvad_respond(q, &rsp, t0, bytes_in);
}

void pvad_job_fail(struct pvad_queue *q, struct pvad_job *job, int32_t status)
{
    memset(&job->job, 0, sizeof(job->job));
    job->job.status = status;
    /*
     * A failed resolution may leave the session of the job's last use
     * here; this request pinned none.
     */
    job->session = NULL;
    pvad_job_finish(q, job);
}

/* ------------------------------------------------------------ submission */

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

/*
 * Jobs the engine refused with -XEN_EBUSY (its hardware queue is full)
 * wait in q->deferred, oldest first, and are submitted again each round;
 * while any waits, later jobs queue behind it and the queue thread
 * consumes no request.
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

unsigned int pvad_job_submit_deferred(struct pvad_queue *q)
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

void pvad_job_cancel_all(struct pvad_queue *q)
{
    if (q->cancelled)
        return;
    q->cancelled = true;
    /* Deferred jobs never reached the engine: resolved and pinned only. */
    while (q->deferred.head) {
        struct pvad_job *job = q->deferred.head;

        q->deferred.head = job->next;
        job_drop(q, job);
    }
    /* The engine completes the rest here, onto q->local_done. */
    q->dev->d->eops->queue_cancel(q->eq);
}

void pvad_job_start(struct pvad_queue *q, struct pvad_job *job)
{
    job->bytes_in = job->src.len;
    fill_job(job, &job->req);
    job->job.done = job_done;
    if (q->deferred.head || !submit(q, job))
        fifo_push(&q->deferred, job);
}
