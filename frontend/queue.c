/* SPDX-License-Identifier: MIT */
/*
 * queue.c: the data path.  A queue owns a table of request slots
 * (allocated once: no heap allocation per request), the ring of the
 * current connection, and a FIFO of completions for pva_*_cqe.
 *
 * Request ids are (slot generation << 16 | slot index): a response whose
 * id does not name a slot in flight on this ring is ignored, so a confused
 * backend cannot complete a request twice.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "frontend/internal.h"
#include "platform/cpu_relax.h"

static inline struct fe_slot *sqe_slot(struct pva_sqe *sqe)
{
    /* sqe is the first member of struct fe_slot. */
    return (struct fe_slot *)(void *)sqe;
}

static inline uint16_t slot_index(const struct pva_queue *q,
                                  const struct fe_slot *s)
{
    return (uint16_t)(s - q->slots);
}

int fe_queue_init(struct pva_queue *q, struct pva_dev *dev,
                  unsigned int index, unsigned int nslots)
{
    memset(q, 0, sizeof(*q));
    q->wake_fd = -1;
    q->dev = dev;
    q->index = index;
    q->poll = dev->opts.flags & PVA_DEV_POLL;
    q->spin_us = dev->opts.spin_us;
    q->nslots = nslots;
    q->slots = calloc(nslots, sizeof(*q->slots));
    q->raw = calloc(nslots, sizeof(*q->raw));
    q->free_list = calloc(nslots, sizeof(uint16_t));
    q->prep = calloc(nslots, sizeof(uint16_t));
    q->fifo = calloc(nslots, sizeof(uint16_t));
    if (q->slots)
        q->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!q->slots || !q->raw || !q->free_list || !q->prep || !q->fifo ||
        q->wake_fd < 0) {
        fe_queue_fini(q);
        return -ENOMEM;
    }
    for (unsigned int i = 0; i < nslots; i++)
        q->free_list[q->nfree++] = (uint16_t)(nslots - 1 - i);
    return 0;
}

void fe_queue_fini(struct pva_queue *q)
{
    if (q->wake_fd >= 0)
        close(q->wake_fd);
    q->wake_fd = -1;
    free(q->slots);
    free(q->raw);
    free(q->free_list);
    free(q->prep);
    free(q->fifo);
    q->slots = NULL;
    q->raw = NULL;
    q->free_list = q->prep = q->fifo = NULL;
}

static void slot_free(struct pva_queue *q, struct fe_slot *s)
{
    s->state = FE_SLOT_FREE;
    s->sync = false;
    s->raw = false;
    s->gen++;
    q->free_list[q->nfree++] = slot_index(q, s);
}

/* Deliver a completed slot: to pva_run, a callback, or the FIFO. */
static void slot_finish(struct pva_queue *q, struct fe_slot *s)
{
    q->st.completed++;
    if (s->sync) {
        s->state = FE_SLOT_DONE;
    } else if (s->sqe.fn) {
        pva_complete_fn *fn = s->sqe.fn;
        void *arg = s->sqe.fn_arg;
        struct pva_cqe cqe = s->cqe;

        /* Free first: the callback may submit again. */
        slot_free(q, s);
        fn(arg, &cqe);
    } else {
        s->state = FE_SLOT_DONE;
        q->fifo[(q->fifo_head + q->fifo_len++) % q->nslots] = slot_index(q, s);
    }
}

static void slot_fail(struct pva_queue *q, struct fe_slot *s, int err)
{
    s->cqe = (struct pva_cqe){ .user_data = s->sqe.user_data, .res = err,
                               .op = s->sqe.op };
    if (err == -ENOTCONN)
        q->st.lost++;
    slot_finish(q, s);
}

struct pva_sqe *pva_get_sqe(struct pva_queue *q)
{
    struct fe_slot *s;

    if (!q->nfree)
        return NULL;
    s = &q->slots[q->free_list[--q->nfree]];
    s->state = FE_SLOT_PREPARED;
    q->prep[q->nprep++] = slot_index(q, s);
    return &s->sqe;
}

/* Digest stream bookkeeping: a stream cut by a reconnection must fail. */
static int session_check(struct pva_session *ss, const struct pva_sqe *sqe)
{
    bool more = sqe->flags & PVA_DIGEST_F_MORE;

    if (sqe->op != PVA_OP_DIGEST)
        return 0;
    if (atomic_load(&ss->stream_lost)) {
        if (!more)
            atomic_store(&ss->stream_lost, false);
        return -ENOTCONN;
    }
    atomic_store(&ss->stream_open, more);
    return 0;
}

/* Fill the wire request for a data operation (native-order fields). */
static int build_request(struct pva_queue *q, struct fe_slot *s,
                         vaccel_request_t *req)
{
    const struct pva_sqe *sqe = &s->sqe;
    uint64_t id = ((uint64_t)s->gen << 16) | slot_index(q, s);
    int rc;

    if (s->raw) {
        *req = q->raw[slot_index(q, s)];
        req->id = id;
        return 0;
    }
    memset(req, 0, sizeof(*req));
    req->id = id;
    req->op = sqe->op;
    req->alg = sqe->alg;
    req->flags = sqe->flags;
    if (sqe->session) {
        rc = session_check(sqe->session, sqe);
        if (rc < 0)
            return rc;
        req->handle = atomic_load_explicit(&sqe->session->id,
                                           memory_order_relaxed);
    }
    if (sqe->op == PVA_OP_NOP)
        return 0;
    req->u.data.src.iova = sqe->src.iova;
    req->u.data.src.len = sqe->src.len;
    req->u.data.dst.iova = sqe->dst.iova;
    req->u.data.dst.len = sqe->dst.len;
    switch (sqe->op) {
    case PVA_OP_COMPRESS:
        req->u.compress.level = sqe->p.level;
        break;
    case PVA_OP_AEAD_ENCRYPT:
    case PVA_OP_AEAD_DECRYPT:
        memcpy(req->u.aead.nonce, sqe->p.aead.nonce, VACCEL_AEAD_NONCE_LEN);
        req->u.aead.aad_len = sqe->p.aead.aad_len;
        break;
    case PVA_OP_FILL:
        req->u.fill.pattern = sqe->p.pattern;
        break;
    case PVA_OP_CRC32C:
        req->u.crc32c.seed = sqe->p.seed;
        break;
    default:
        break;
    }
    return 0;
}

static inline bool ring_live(const struct pva_queue *q)
{
    return q->ring && q->ring->conn ==
        atomic_load_explicit(&q->dev->live_conn, memory_order_acquire);
}

int pva_submit(struct pva_queue *q)
{
    struct fe_ring *r;
    unsigned int taken = 0, i;
    int notify = 0;

    fe_queue_sync_conn(q);
    r = q->ring;
    for (i = 0; i < q->nprep; i++) {
        struct fe_slot *s = &q->slots[q->prep[i]];
        vaccel_request_t req;
        int rc;

        if (!ring_live(q)) {
            slot_fail(q, s, -ENOTCONN);
            taken++;
            continue;
        }
        if (RING_FULL(&r->fr))
            break; /* a smaller ring after a reconnection: keep the rest */
        rc = build_request(q, s, &req);
        taken++;
        if (rc < 0) {
            slot_fail(q, s, rc);
            continue;
        }
        memcpy(RING_GET_REQUEST(&r->fr, r->fr.req_prod_pvt), &req, sizeof(req));
        r->fr.req_prod_pvt++;
        s->state = FE_SLOT_INFLIGHT;
        s->conn = r->conn;
        q->inflight++;
        q->st.submitted++;
    }
    memmove(q->prep, q->prep + i, (q->nprep - i) * sizeof(*q->prep));
    q->nprep -= i;
    if (r && ring_live(q)) {
        RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&r->fr, notify);
        if (notify) {
            q->dev->plat->evtchn->notify(r->ev, (pva_port_t)r->port);
            q->st.notifies++;
        }
    }
    return (int)taken;
}

static void complete_rsp(struct pva_queue *q, const vaccel_response_t *rsp)
{
    uint64_t id = rsp->id;
    unsigned int idx = id & 0xffff;
    struct fe_slot *s;

    if (idx >= q->nslots)
        return;
    s = &q->slots[idx];
    if (s->state != FE_SLOT_INFLIGHT || s->gen != (uint16_t)(id >> 16) ||
        s->conn != q->ring->conn)
        return;
    s->cqe = (struct pva_cqe){
        .user_data = s->sqe.user_data,
        .res = fe_errno_from_status(rsp->status),
        .op = rsp->op,
        .fault_access = rsp->fault_access,
        .len = rsp->len,
        .value = rsp->value,
        .aux = rsp->aux,
        .fault_iova = rsp->fault_iova,
    };
    q->inflight--;
    slot_finish(q, s);
}

/* Consume every response in the ring (without re-arming rsp_event). */
static unsigned int reap_ring(struct pva_queue *q)
{
    struct fe_ring *r = q->ring;
    RING_IDX prod, cons;
    unsigned int n = 0;

    if (!r)
        return 0;
    prod = r->fr.sring->rsp_prod;
    xen_rmb(); /* rsp_prod before the responses */
    cons = r->fr.rsp_cons;
    if ((RING_IDX)(prod - cons) > r->size)
        return 0; /* a broken backend: wait for the reconnection */
    for (; cons != prod; cons++, n++) {
        vaccel_response_t rsp;

        memcpy(&rsp, RING_GET_RESPONSE(&r->fr, cons), sizeof(rsp));
        r->fr.rsp_cons = cons + 1;
        complete_rsp(q, &rsp);
        /* A callback may have re-entered; it only adds requests. */
    }
    return n;
}

/*
 * The slow path of every call: the connection changed.  A ring whose
 * backend is gone is drained (responses posted before the end count), the
 * rest fail with -ENOTCONN, exactly once; then the ring of the new
 * connection, if it is live, is adopted.
 */
void fe_queue_sync_conn(struct pva_queue *q)
{
    struct pva_dev *dev = q->dev;
    unsigned int live = atomic_load_explicit(&dev->live_conn,
                                             memory_order_acquire);
    struct fe_ring *r = q->ring;

    if (r && r->conn == live)
        return;
    if (r && r->conn <= atomic_load_explicit(&dev->down_conn,
                                             memory_order_acquire)) {
        reap_ring(q);
        for (unsigned int i = 0; i < q->nslots; i++) {
            struct fe_slot *s = &q->slots[i];

            if (s->state == FE_SLOT_INFLIGHT && s->conn == r->conn) {
                q->inflight--;
                slot_fail(q, s, -ENOTCONN);
            }
        }
        q->ring = NULL;
        fe_ring_free(dev, r);
    }
    if (!q->ring && live) {
        pthread_mutex_lock(&dev->lock);
        if (q->pending && q->pending->conn == live) {
            q->ring = q->pending;
            q->pending = NULL;
        }
        pthread_mutex_unlock(&dev->lock);
    }
}

void fe_queue_abandon(struct pva_queue *q)
{
    if (q->ring)
        reap_ring(q);
    for (unsigned int i = 0; i < q->nslots; i++)
        if (q->slots[i].state == FE_SLOT_INFLIGHT) {
            q->inflight--;
            q->slots[i].state = FE_SLOT_DONE;
        }
}

static int pop_fifo(struct pva_queue *q, struct pva_cqe *cqe)
{
    struct fe_slot *s;

    if (!q->fifo_len)
        return -EAGAIN;
    s = &q->slots[q->fifo[q->fifo_head]];
    q->fifo_head = (q->fifo_head + 1) % q->nslots;
    q->fifo_len--;
    *cqe = s->cqe;
    slot_free(q, s);
    return 0;
}

int pva_peek_cqe(struct pva_queue *q, struct pva_cqe *cqe)
{
    fe_queue_sync_conn(q);
    if (!q->fifo_len)
        reap_ring(q);
    return pop_fifo(q, cqe);
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no syscall */
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool something_new(struct pva_queue *q, unsigned int live,
                          unsigned int down)
{
    return (q->ring && RING_HAS_UNCONSUMED_RESPONSES(&q->ring->fr)) ||
           live != atomic_load_explicit(&q->dev->live_conn, memory_order_relaxed) ||
           down != atomic_load_explicit(&q->dev->down_conn, memory_order_relaxed);
}

/* Sleep on the ring's event channel and the monitor's wake-up fd. */
static void sleep_queue(struct pva_queue *q)
{
    const struct pva_evtchn_ops *ops = q->dev->plat->evtchn;
    struct pollfd pfd[2] = { { .fd = q->wake_fd, .events = POLLIN } };
    nfds_t n = 1;
    uint64_t v;
    int more = 0;

    if (q->ring) {
        /* Ask for a notification, then look once more (no lost wake-up). */
        RING_FINAL_CHECK_FOR_RESPONSES(&q->ring->fr, more);
        if (more)
            return;
        pfd[1] = (struct pollfd){ .fd = ops->fd(q->ring->ev), .events = POLLIN };
        n = 2;
    }
    q->st.sleeps++;
    if (poll(pfd, n, -1) <= 0)
        return;
    if (pfd[0].revents & POLLIN)
        (void)!read(q->wake_fd, &v, sizeof(v));
    if (n == 2 && (pfd[1].revents & POLLIN)) {
        /* A doorbell: clear and unmask; the ring is what we look at. */
        int port = ops->pending(q->ring->ev);

        if (port >= 0)
            ops->unmask(q->ring->ev, (pva_port_t)port);
    }
}

/* Wait for anything that may complete a request: spin, then sleep. */
static void wait_activity(struct pva_queue *q)
{
    unsigned int live = atomic_load(&q->dev->live_conn);
    unsigned int down = atomic_load(&q->dev->down_conn);
    uint64_t until;

    if (q->poll) {
        /* Busy-poll mode: no syscall, the caller loops. */
        for (int i = 0; i < 64 && !something_new(q, live, down); i++)
            cpu_relax();
        return;
    }
    until = now_ns() + (uint64_t)q->spin_us * 1000u;
    while (now_ns() < until)
        if (something_new(q, live, down))
            return;
    sleep_queue(q);
}

int pva_wait_cqe(struct pva_queue *q, struct pva_cqe *cqe)
{
    for (;;) {
        if (pva_peek_cqe(q, cqe) == 0)
            return 0;
        if (!q->inflight && !q->fifo_len)
            return -EAGAIN;
        wait_activity(q);
    }
}

int pva_queue_poll(struct pva_queue *q, bool wait)
{
    uint64_t done = q->st.completed;

    for (;;) {
        fe_queue_sync_conn(q);
        reap_ring(q);
        if (!wait || q->st.completed != done || !q->inflight)
            return (int)(q->st.completed - done);
        wait_activity(q);
    }
}

unsigned int pva_queue_inflight(const struct pva_queue *q)
{
    return q->inflight + q->fifo_len;
}

int pva_run(struct pva_queue *q, struct pva_sqe *sqe, struct pva_cqe *cqe)
{
    struct fe_slot *s = sqe_slot(sqe);
    int rc;

    s->sync = true;
    for (;;) {
        if (s->state == FE_SLOT_PREPARED)
            pva_submit(q);
        fe_queue_sync_conn(q);
        reap_ring(q);
        if (s->state == FE_SLOT_DONE)
            break;
        wait_activity(q);
    }
    *cqe = s->cqe;
    rc = cqe->res;
    slot_free(q, s);
    return rc;
}

int fe_queue_control(struct pva_queue *q, const vaccel_request_t *req,
                     uint64_t *value)
{
    struct pva_sqe *sqe = pva_get_sqe(q);
    struct pva_cqe cqe;
    struct fe_slot *s;
    int rc;

    if (!sqe)
        return -EBUSY;
    s = sqe_slot(sqe);
    memset(sqe, 0, sizeof(*sqe));
    sqe->op = req->op;
    s->raw = true;
    q->raw[slot_index(q, s)] = *req;
    rc = pva_run(q, sqe, &cqe);
    if (value)
        *value = cqe.value;
    return rc;
}

void pva_queue_get_stats(const struct pva_queue *q, struct pva_queue_stats *st)
{
    *st = q->st;
}

/*
 * A control request on a ring nobody has adopted yet (re-registration
 * after a reconnection, by the monitor).  Gives up with -ENOTCONN when the
 * backend leaves Connected meanwhile.
 */
int fe_ring_control(struct pva_dev *dev, struct fe_ring *r,
                    const vaccel_request_t *req, uint64_t *value)
{
    const struct pva_evtchn_ops *ops = dev->plat->evtchn;
    vaccel_response_t rsp;
    int notify, more;

    memcpy(RING_GET_REQUEST(&r->fr, r->fr.req_prod_pvt), req, sizeof(*req));
    r->fr.req_prod_pvt++;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&r->fr, notify);
    if (notify)
        ops->notify(r->ev, (pva_port_t)r->port);
    for (;;) {
        struct pollfd pfd[3] = {
            { .fd = ops->fd(r->ev), .events = POLLIN },
            { .fd = dev->plat->xs->watch_fd(dev->xs), .events = POLLIN },
            { .fd = dev->stop_fd, .events = POLLIN },
        };
        int port;

        RING_FINAL_CHECK_FOR_RESPONSES(&r->fr, more);
        if (more)
            break;
        if (poll(pfd, 3, -1) < 0 && errno != EINTR)
            return -errno;
        if (pfd[2].revents & POLLIN)
            return -ESHUTDOWN;
        if (pfd[1].revents & POLLIN) {
            fe_xb_drain_watch(dev);
            if (fe_xb_read_be_state(dev) != XenbusStateConnected)
                return -ENOTCONN;
        }
        port = ops->pending(r->ev);
        if (port >= 0)
            ops->unmask(r->ev, (pva_port_t)port);
    }
    memcpy(&rsp, RING_GET_RESPONSE(&r->fr, r->fr.rsp_cons), sizeof(rsp));
    r->fr.rsp_cons++;
    if (value)
        *value = rsp.value;
    return fe_errno_from_status(rsp.status);
}
