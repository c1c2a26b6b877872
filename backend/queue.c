/* SPDX-License-Identifier: MIT */
/*
 * queue.c: one thread per device queue, the data path.
 *
 * A round: consume up to cfg.batch requests (each copied out of the ring
 * once and validated as a copy), run control operations inline, submit
 * data operations to the engine, collect completions, publish all the
 * responses written in this round together and notify at most once.  A
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

/* Zero the slot, then fill it (XSA-216); published later, in a batch. */
static void post_response(struct pvad_queue *q, const vaccel_response_t *rsp)
{
    vaccel_response_t *slot = RING_GET_RESPONSE(&q->ring,
                                                q->ring.rsp_prod_pvt);

    memset(slot, 0, sizeof(*slot));
    memcpy(slot, rsp, sizeof(*slot));
    q->ring.rsp_prod_pvt++;
    q->rsp_unpushed++;
}

static void flush_responses(struct pvad_queue *q)
{
    int notify;

    if (!q->rsp_unpushed)
        return;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->ring, notify);
    q->rsp_unpushed = 0;
    atomic_fetch_add_explicit(&q->stats.batches, 1, memory_order_relaxed);
    if (notify) {
        plat(q)->evtchn->notify(q->evh, q->port);
        atomic_fetch_add_explicit(&q->stats.notifies, 1, memory_order_relaxed);
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
 * permission errors are reported with no effect (accelif.h).
 */
int pvad_job_resolve(struct pvad_queue *q, const vaccel_request_t *req,
                     struct pvad_job *job, struct pvad_fault *f)
{
    struct pvad_device *dev = q->dev;
    uint16_t flags = req->flags;
    int rc;

    pthread_rwlock_rdlock(&dev->as_lock);
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
        pvad_pieces_get(&job->src);
        pvad_pieces_get(&job->dst);
    } else {
        job->src.n = job->dst.n = 0;
    }
    pthread_rwlock_unlock(&dev->as_lock);
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


/* Hand @job to its queue's thread; wake it only if it sleeps.  Any thread. */
void pvad_queue_push_done(struct pvad_queue *q, struct pvad_job *job)
{
    struct pvad_job *head = atomic_load_explicit(&q->done_list,
                                                 memory_order_relaxed);

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
    struct pvad_device *dev = q->dev;

    pvad_pieces_put(&job->src);
    pvad_pieces_put(&job->dst);
    release_session(job);
    pvad_usage_give(&dev->usage, &dev->dom->usage, PVAD_RES_IN_FLIGHT, 1);
    job->next = q->free_jobs;
    q->free_jobs = job;
}

void pvad_job_finish(struct pvad_queue *q, struct pvad_job *job)
{
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
    respond(q, &rsp, job->t_start_ns, job->bytes_in);
    job_release(q, job);
    q->in_flight--;
}

/* Post the responses of every job the engine finished.  Returns how many. */
static unsigned int reap(struct pvad_queue *q)
{
    struct pvad_job *list = atomic_exchange_explicit(&q->done_list, NULL,
                                                     memory_order_acquire);
    struct pvad_job *fifo = NULL;
    unsigned int n = 0;

    while (list) {              /* the list is LIFO: restore order */
        struct pvad_job *next = list->next;

        list->next = fifo;
        fifo = list;
        list = next;
    }
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

/* ------------------------------------------------------------ requests */

static int submit(struct pvad_queue *q, struct pvad_job *job)
{
    int rc = q->dev->d->eops->submit(q->eq, &job->job);

    if (rc == -XEN_EBUSY) {
        q->deferred = job;      /* the hardware queue is full: retry */
        return 0;
    }
    if (rc) {
        job->job.status = rc < 0 ? rc : -XEN_EIO;
        pvad_job_finish(q, job);
    }
    return 0;
}

/* The job's operands are resolved and pinned: off to the engine. */
void pvad_job_start(struct pvad_queue *q, struct pvad_job *job)
{
    job->bytes_in = job->src.len;
    fill_job(job, &job->req);
    job->job.done = job_done;
    job->job.opaque = job;
    submit(q, job);
}

static void start_data(struct pvad_queue *q, const vaccel_request_t *req,
                       vaccel_response_t *rsp, uint64_t t0)
{
    struct pvad_device *dev = q->dev;
    struct pvad_job *job = q->free_jobs;
    struct pvad_fault f;
    uint64_t limit;
    int rc;

    rc = pvad_usage_take(&dev->usage, &dev->dom->usage, PVAD_RES_IN_FLIGHT, 1,
                         &limit);
    if (rc) {
        pvad_evt_quota(dev, PVAD_RES_IN_FLIGHT, rc, limit);
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
    rc = pvad_job_resolve(q, req, job, &f);
    if (rc == -XEN_EFAULT && (req->flags & VACCEL_REQ_F_IOPF) &&
        pvad_fault_hold(q, job, &f))
        return;                 /* answered after FAULT_RESPONSE */
    if (rc) {
        q->in_flight--;
        if (rc == -XEN_EFAULT) {
            rsp->fault_iova = f.iova;
            rsp->fault_access = f.access;
            pvad_evt_fault(dev, q->index, req->id, req->op, &f, 0);
        }
        job->session = NULL;
        job_release(q, job);
        rsp->status = rc;
        respond(q, rsp, t0, 0);
        return;
    }
    pvad_job_start(q, job);
}

static void handle_request(struct pvad_queue *q, const vaccel_request_t *req)
{
    struct pvad_device *dev = q->dev;
    uint64_t t0 = q->now_ns;
    vaccel_response_t rsp;
    int rc;

    memset(&rsp, 0, sizeof(rsp));
    rsp.id = req->id;
    rsp.op = req->op;
    rc = pvad_validate(&dev->d->offer, &dev->lim, req);
    if (rc) {
        rsp.status = rc;
        respond(q, &rsp, t0, 0);
    } else if (!VACCEL_OP_IS_DATA(req->op)) {
        pvad_control(q, req, &rsp);
        respond(q, &rsp, t0, 0);
    } else {
        start_data(q, req, &rsp, t0);
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

/* Consume at most cfg.batch requests.  Returns how many. */
static unsigned int consume(struct pvad_queue *q)
{
    RING_IDX cons = q->ring.req_cons;
    RING_IDX prod = *(volatile RING_IDX *)&q->ring.sring->req_prod;
    unsigned int budget = q->dev->d->cfg.batch, n = 0;

    xen_rmb(); /* requests after the index */
    if (RING_REQUEST_PROD_OVERFLOW(&q->ring, prod)) {
        stop_queue(q, prod);
        return 0;
    }
    while (cons != prod && n < budget && !q->deferred &&
           !RING_REQUEST_CONS_OVERFLOW(&q->ring, cons)) {
        vaccel_request_t req;

        RING_COPY_REQUEST(&q->ring, cons, &req);
        q->ring.req_cons = ++cons;
        handle_request(q, &req);
        n++;
    }
    return n;
}

/* One round of work; returns true if anything happened. */
static bool round_once(struct pvad_queue *q, bool stopping)
{
    unsigned int n = 0;

    q->now_ns = pvad_now_ns();
    if (q->deferred) {
        struct pvad_job *job = q->deferred;

        q->deferred = NULL;
        submit(q, job);
        n += !q->deferred;
    }
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

    if (q->deferred)
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
    if (!q->stopped && !stopping && !q->deferred) {
        RING_FINAL_CHECK_FOR_REQUESTS(&q->ring, more);
        if (more)
            return;
    }
    atomic_store(&q->sleeping, true);
    if (atomic_load(&q->done_list) || atomic_load(&q->stop) != stopping) {
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
    atomic_fetch_add_explicit(&q->stats.wakeups, 1, memory_order_relaxed);
    drain_wakeups(q);
}

static void *queue_main(void *arg)
{
    struct pvad_queue *q = arg;
    uint64_t spin_ns = (uint64_t)q->dev->d->cfg.spin_us * 1000;
    uint64_t spin_until = 0;

    for (;;) {
        bool stopping = atomic_load(&q->stop);

        if (round_once(q, stopping)) {
            spin_until = 0;
            continue;
        }
        /* Orderly end: nothing consumed is left unanswered. */
        if (stopping && !q->in_flight && !q->deferred)
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
