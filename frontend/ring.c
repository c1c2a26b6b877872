/* SPDX-License-Identifier: MIT */
/*
 * ring.c: the granted memory of a connection: request rings, the event
 * ring, and the rule that a grant ends only after the backend unmapped it.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/internal.h"

void *fe_share(struct pva_dev *dev, uint32_t count, pva_gref_t *refs,
               bool writable)
{
    void *p;

    pthread_mutex_lock(&dev->gs_lock);
    p = dev->plat->gntshr->share(dev->gs, (pva_domid_t)dev->backend_id, count,
                                 refs, writable);
    pthread_mutex_unlock(&dev->gs_lock);
    /* share() hands out zeroed pages; say so where it matters. */
    if (p)
        memset(p, 0, (size_t)count * VACCEL_PAGE_SIZE);
    return p;
}

/*
 * The sim refuses to end a grant that is still mapped (-EBUSY), and on Xen
 * gntalloc would defer it silently; either way the pages must not be
 * reused while the backend can see them.  Keep them on dev->retired and
 * try again later (fe_retire_sweep, from the monitor and close).
 */
void fe_unshare(struct pva_dev *dev, void *pages, uint32_t count)
{
    int rc;

    if (!pages)
        return;
    pthread_mutex_lock(&dev->gs_lock);
    rc = dev->plat->gntshr->unshare(dev->gs, pages, count);
    if (rc < 0) {
        struct fe_retired *r = malloc(sizeof(*r));

        /* Without memory for the record the pages leak: never reused. */
        if (r) {
            *r = (struct fe_retired){ dev->retired, pages, count };
            dev->retired = r;
        }
    }
    pthread_mutex_unlock(&dev->gs_lock);
}

unsigned int fe_retire_sweep(struct pva_dev *dev)
{
    struct fe_retired **pp, *r;
    unsigned int left = 0;

    pthread_mutex_lock(&dev->gs_lock);
    for (pp = &dev->retired; (r = *pp);) {
        if (dev->plat->gntshr->unshare(dev->gs, r->pages, r->count) == 0) {
            *pp = r->next;
            free(r);
        } else {
            pp = &r->next;
            left++;
        }
    }
    pthread_mutex_unlock(&dev->gs_lock);
    return left;
}

/* An event channel on its own handle, so that its owner needs no lock. */
static int open_port(struct pva_dev *dev, struct pva_evtchn **evp, int *port)
{
    struct pva_evtchn *ev = dev->plat->evtchn->open(dev->plat);
    int p;

    if (!ev)
        return -errno;
    p = dev->plat->evtchn->bind_unbound(ev, (pva_domid_t)dev->backend_id);
    if (p < 0) {
        dev->plat->evtchn->close(ev);
        return p;
    }
    *evp = ev;
    *port = p;
    return 0;
}

static void close_port(struct pva_dev *dev, struct pva_evtchn *ev, int port)
{
    if (!ev)
        return;
    dev->plat->evtchn->unbind(ev, (pva_port_t)port);
    dev->plat->evtchn->close(ev);
}

struct fe_ring *fe_ring_new(struct pva_dev *dev, unsigned int conn,
                            unsigned int order)
{
    struct fe_ring *r = calloc(1, sizeof(*r));
    vaccel_sring_t *s;
    int rc;

    if (!r)
        return NULL;
    r->conn = conn;
    r->order = order;
    r->size = VACCEL_RING_SIZE(order);
    r->pages = fe_share(dev, 1u << order, r->refs, true);
    if (!r->pages) {
        rc = -errno;
        free(r);
        errno = -rc;
        return NULL;
    }
    s = r->pages;
    SHARED_RING_INIT(s);
    FRONT_RING_INIT(&r->fr, s, VACCEL_RING_BYTES(order));
    rc = open_port(dev, &r->ev, &r->port);
    if (rc < 0) {
        fe_unshare(dev, r->pages, 1u << order);
        free(r);
        errno = -rc;
        return NULL;
    }
    return r;
}

void fe_ring_free(struct pva_dev *dev, struct fe_ring *r)
{
    if (!r)
        return;
    close_port(dev, r->ev, r->port);
    fe_unshare(dev, r->pages, 1u << r->order);
    free(r);
}

int fe_evt_ring_init(struct pva_dev *dev, struct fe_evt_ring *e,
                     unsigned int order)
{
    int rc;

    memset(e, 0, sizeof(*e));
    e->order = order;
    e->size = VACCEL_EVT_RING_SIZE(order);
    e->pages = fe_share(dev, 1u << order, e->refs, true);
    if (!e->pages)
        return -errno;
    e->s = e->pages;
    VACCEL_EVT_RING_INIT(e->s);
    rc = open_port(dev, &e->ev, &e->port);
    if (rc < 0) {
        fe_unshare(dev, e->pages, 1u << order);
        memset(e, 0, sizeof(*e));
    }
    return rc;
}

void fe_evt_ring_fini(struct pva_dev *dev, struct fe_evt_ring *e)
{
    if (!e->pages)
        return;
    close_port(dev, e->ev, e->port);
    fe_unshare(dev, e->pages, 1u << e->order);
    memset(e, 0, sizeof(*e));
    dev->evt_live = false;
}

static void deliver(struct pva_dev *dev, const struct vaccel_evt *r)
{
    struct pva_event ev = { .type = r->type, .flags = r->flags, .seq = r->seq,
                            .conn = dev->conn_seq };

    switch (r->type) {
    case VACCEL_EVT_FAULT:
        ev.iova = r->u.fault.iova;
        ev.len = r->u.fault.len;
        ev.req_user_data = r->u.fault.req_id;
        ev.queue = r->u.fault.queue;
        ev.access = r->u.fault.access;
        ev.op = r->u.fault.op;
        ev.fault_id = r->u.fault.fault_id;
        break;
    case VACCEL_EVT_QUEUE_STOPPED:
        ev.queue = r->u.queue_stopped.queue;
        ev.reason = r->u.queue_stopped.reason;
        break;
    case VACCEL_EVT_QUOTA:
        ev.status = fe_errno_from_status(r->u.quota.status);
        ev.limit = r->u.quota.limit;
        break;
    default:
        break;
    }
    if (dev->opts.event_fn)
        dev->opts.event_fn(dev->opts.event_arg, &ev);
}

/* Consume the event ring (the monitor thread's job), then re-arm. */
void fe_evt_ring_drain(struct pva_dev *dev)
{
    struct fe_evt_ring *e = &dev->evt;
    int more = 1;

    if (!dev->evt_live)
        return;
    while (more) {
        uint32_t prod = *(volatile uint32_t *)&e->s->evt_prod;

        xen_rmb(); /* the index before the records */
        if (prod - e->cons > e->size) {
            /* A broken backend; the connection will be reset by it. */
            return;
        }
        while (e->cons != prod) {
            struct vaccel_evt rec;

            memcpy(&rec, VACCEL_EVT_RING_SLOT(e->s, e->size, e->cons),
                   sizeof(rec));
            e->cons++;
            if (rec.seq != e->next_seq && dev->opts.event_fn) {
                struct pva_event lost = { .type = PVA_EVENT_LOST,
                                          .seq = e->next_seq,
                                          .reason = (uint32_t)(rec.seq - e->next_seq) };

                dev->opts.event_fn(dev->opts.event_arg, &lost);
            }
            e->next_seq = rec.seq + 1;
            deliver(dev, &rec);
        }
        VACCEL_EVT_RING_FINAL_CHECK(e->s, e->cons, more);
    }
}
