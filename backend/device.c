/* SPDX-License-Identifier: MIT */
/*
 * device.c: a device, and its connection: read the frontend's transport
 * nodes, map rings, bind event channels, open the engine, start the queue
 * threads.
 *
 * Connect runs on the main thread.  Its exact reverse is teardown.c's:
 * pvad_device_disconnect() is idempotent and undoes any partial connect,
 * so every error path of connect is "disconnect".  Threads are joined
 * before anything they use is freed (XSA-350).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pvacceld.h"

static const struct pva_platform *plat(const struct pvad_device *dev)
{
    return dev->d->p;
}

struct pvad_device *pvad_device_new(struct pvad *d, uint16_t fe_domid,
                                    unsigned int devid)
{
    struct pvad_device *dev = calloc(1, sizeof(*dev));

    if (!dev)
        return NULL;
    dev->d = d;
    dev->fe_domid = fe_domid;
    dev->devid = devid;
    dev->state = XenbusStateUnknown;
    if (asprintf(&dev->be_path, "%s/%u/%u", d->be_base, fe_domid, devid) < 0)
        dev->be_path = NULL;
    if (asprintf(&dev->token, "dev:%u:%u", fe_domid, devid) < 0)
        dev->token = NULL;
    dev->dom = pvad_quota_domain_get(&d->quota, fe_domid);
    if (!dev->be_path || !dev->token || !dev->dom) {
        pvad_device_free(dev);
        return NULL;
    }
    return dev;
}

void pvad_device_free(struct pvad_device *dev)
{
    if (!dev)
        return;
    pvad_device_disconnect(dev);
    pvad_quota_domain_put(&dev->d->quota, dev->dom);
    free(dev->be_path);
    free(dev->fe_path);
    free(dev->token);
    free(dev);
}

/* ------------------------------------------------------ reading nodes */

/*
 * The error text of a failed connect goes into the log and into the
 * "error" node the guest reads: a value the guest wrote appears in it
 * only through pvad_escape().
 */
static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* A frontend node as a number in [0, max]; @def if absent (def < 0: required). */
static int read_fe_u32(struct pvad_device *dev, const char *name, int64_t def,
                       uint32_t max, uint32_t *out, char *err, size_t errlen)
{
    char path[256];
    unsigned int len;
    uint64_t v;
    char *s;
    int rc;

    snprintf(path, sizeof(path), "%s/%s", dev->fe_path, name);
    s = plat(dev)->xs->read(dev->d->xs, NULL, path, &len);
    if (!s) {
        if (def >= 0) {
            *out = (uint32_t)def;
            return 0;
        }
        seterr(err, errlen, "%s is missing", name);
        return -EINVAL;
    }
    rc = pvad_parse_u64(s, max, &v);
    if (rc) {
        char shown[PVAD_ESCAPE_LEN];

        seterr(err, errlen, "%s = \"%s\" is not a number in 0..%u", name,
               pvad_escape(shown, sizeof(shown), s), max);
    }
    free(s);
    if (!rc)
        *out = (uint32_t)v;
    return rc;
}

/*
 * Grant refs of a ring: "<prefix>ring-ref" with order 0, else
 * "<prefix>ring-ref0" .. ring-ref(2^order - 1).
 */
static int read_ring_refs(struct pvad_device *dev, const char *prefix,
                          const char *base, uint32_t order, pva_gref_t *refs,
                          char *err, size_t errlen)
{
    char name[96];
    int rc = 0;

    for (uint32_t i = 0; !rc && i < (1u << order); i++) {
        if (order)
            snprintf(name, sizeof(name), "%s%s%u", prefix, base, i);
        else
            snprintf(name, sizeof(name), "%s%s", prefix, base);
        rc = read_fe_u32(dev, name, -1, UINT32_MAX, &refs[i], err, errlen);
    }
    return rc;
}

static void *map_ring(struct pvad_device *dev, const pva_gref_t *refs,
                      uint32_t order, const char *what, char *err,
                      size_t errlen)
{
    void *p = plat(dev)->gntmap->map(dev->gm, dev->fe_domid, 1u << order,
                                     refs, true);

    if (!p)
        seterr(err, errlen, "cannot map %s (grant %u...): %s", what, refs[0],
               strerror(errno));
    return p;
}

static int bind_port(struct pvad_device *dev, struct pva_evtchn **evh,
                     uint32_t remote, pva_port_t *port, const char *what,
                     char *err, size_t errlen)
{
    int rc;

    *evh = plat(dev)->evtchn->open(dev->d->p);
    if (!*evh) {
        seterr(err, errlen, "event channel handle: %s", strerror(errno));
        return -EIO;
    }
    rc = plat(dev)->evtchn->bind_interdomain(*evh, dev->fe_domid, remote);
    if (rc < 0) {
        seterr(err, errlen, "cannot bind %s event channel %u: %s", what,
               remote, strerror(-rc));
        return rc;
    }
    *port = (pva_port_t)rc;
    return 0;
}

/* ------------------------------------------------------------- connect */

static int connect_evtring(struct pvad_device *dev, uint32_t *evt_remote,
                           char *err, size_t errlen)
{
    pva_gref_t refs[VACCEL_MAX_RING_PAGES];
    struct pvad_evtring *e = &dev->evt;
    uint32_t order;
    int rc;

    rc = read_fe_u32(dev, VACCEL_FIELD_EVT_RING_PAGE_ORDER, 0,
                     dev->lim.max_ring_page_order, &order, err, errlen);
    if (!rc)
        rc = read_ring_refs(dev, "", VACCEL_FIELD_EVT_RING_REF, order, refs,
                            err, errlen);
    if (!rc)
        rc = read_fe_u32(dev, VACCEL_FIELD_EVT_EVENT_CHANNEL, -1, UINT32_MAX,
                         evt_remote, err, errlen);
    if (rc)
        return rc;
    e->map = map_ring(dev, refs, order, "the event ring", err, errlen);
    if (!e->map)
        return -EACCES;
    e->npages = 1u << order;
    e->size = VACCEL_EVT_RING_SIZE(order);
    e->prod = 0;
    e->seq = 0;
    memset(e->quota_last_ns, 0, sizeof(e->quota_last_ns));
    rc = bind_port(dev, &e->evh, *evt_remote, &e->port, "the event ring's",
                   err, errlen);
    if (rc)
        return rc;
    /* Published last: from here on, queue threads may post records. */
    pthread_mutex_lock(&e->lock);
    e->sring = e->map;
    pthread_mutex_unlock(&e->lock);
    return 0;
}

static int connect_queue(struct pvad_device *dev, struct pvad_queue *q,
                         uint32_t evt_remote, char *err, size_t errlen)
{
    pva_gref_t refs[VACCEL_MAX_RING_PAGES];
    char prefix[32] = "";
    uint32_t remote;
    int rc;

    if (dev->nr_queues > 1)
        snprintf(prefix, sizeof(prefix), VACCEL_FIELD_QUEUE_FMT "/", q->index);
    rc = read_ring_refs(dev, prefix, VACCEL_FIELD_RING_REF, dev->ring_order,
                        refs, err, errlen);
    if (!rc) {
        char name[64];

        snprintf(name, sizeof(name), "%s%s", prefix,
                 VACCEL_FIELD_EVENT_CHANNEL);
        rc = read_fe_u32(dev, name, -1, UINT32_MAX, &remote, err, errlen);
    }
    if (rc)
        return rc;
    if (remote == evt_remote) {
        seterr(err, errlen, "queue %u shares the event ring's event channel",
               q->index);
        return -EINVAL;
    }
    q->ring_map = map_ring(dev, refs, dev->ring_order, "a request ring", err,
                           errlen);
    if (!q->ring_map)
        return -EACCES;
    q->ring_pages = 1u << dev->ring_order;
    /* Our indices start at 0, whatever the shared page says. */
    BACK_RING_INIT(&q->ring, (vaccel_sring_t *)q->ring_map,
                   VACCEL_RING_BYTES(dev->ring_order));
    rc = bind_port(dev, &q->evh, remote, &q->port, "a queue's", err, errlen);
    if (!rc) {
        rc = dev->d->eops->queue_open(dev->ectx, &q->eq);
        if (rc)
            seterr(err, errlen, "engine queue: status %d", rc);
    }
    if (!rc) {
        rc = pvad_queue_alloc_jobs(q);
        if (rc)
            seterr(err, errlen, "out of memory");
    }
    return rc;
}

static int connect_state(struct pvad_device *dev, char *err, size_t errlen)
{
    int rc;

    pthread_mutex_init(&dev->ctl_lock, NULL);
    pthread_rwlock_init(&dev->as_lock, NULL);
    pthread_mutex_init(&dev->evt.lock, NULL);
    pthread_mutex_init(&dev->fault_lock, NULL);
    dev->held = NULL;
    dev->next_fault_id = 0;
    dev->next_blob_id = 0;
    dev->connected = true;   /* from here on disconnect() undoes */
    pvad_usage_init(&dev->usage, &dev->lim);
    /* Blobs live in the I/O address space beside the regions. */
    rc = pvad_ioas_init(&dev->ioas, dev->lim.max_regions + dev->lim.max_blobs,
                        dev->lim.iova_bits);
    if (!rc)
        rc = pvad_sessions_init(&dev->sessions, dev->lim.max_sessions);
    if (rc) {
        seterr(err, errlen, "out of memory");
        return rc;
    }
    dev->gm = plat(dev)->gntmap->open(dev->d->p);
    if (!dev->gm) {
        seterr(err, errlen, "grant map handle: %s", strerror(errno));
        return -EIO;
    }
    rc = dev->d->eops->ctx_open(dev->d->engine, dev->fe_domid, &dev->ectx);
    if (rc) {
        dev->ectx = NULL;
        seterr(err, errlen, "engine context: status %d", rc);
    }
    return rc;
}

static int read_transport(struct pvad_device *dev, char *err, size_t errlen)
{
    uint32_t version;
    int rc;

    rc = read_fe_u32(dev, VACCEL_FIELD_FE_VERSION, -1, UINT32_MAX, &version,
                     err, errlen);
    if (!rc && version != VACCEL_PROTOCOL_VERSION) {
        seterr(err, errlen, "version %u not offered", version);
        rc = -EINVAL;
    }
    if (!rc)
        rc = read_fe_u32(dev, VACCEL_FIELD_NUM_QUEUES, 1, dev->lim.max_queues,
                         &dev->nr_queues, err, errlen);
    if (!rc && !dev->nr_queues) {
        seterr(err, errlen, "%s is 0", VACCEL_FIELD_NUM_QUEUES);
        rc = -EINVAL;
    }
    if (!rc)
        rc = read_fe_u32(dev, VACCEL_FIELD_RING_PAGE_ORDER, 0,
                         dev->lim.max_ring_page_order, &dev->ring_order, err,
                         errlen);
    return rc;
}

int pvad_device_connect(struct pvad_device *dev, char *err, size_t errlen)
{
    uint32_t evt_remote = 0;
    int rc;

    rc = read_transport(dev, err, errlen);
    if (rc) {
        dev->nr_queues = 0;
        return rc;
    }
    rc = connect_state(dev, err, errlen);
    if (!rc)
        rc = connect_evtring(dev, &evt_remote, err, errlen);
    if (!rc) {
        dev->queues = calloc(dev->nr_queues, sizeof(dev->queues[0]));
        rc = dev->queues ? 0 : -ENOMEM;
    }
    for (unsigned int i = 0; !rc && i < dev->nr_queues; i++) {
        dev->queues[i].dev = dev;
        dev->queues[i].index = i;
        dev->queues[i].wake_fd = -1;   /* before any error path */
    }
    for (unsigned int i = 0; !rc && i < dev->nr_queues; i++)
        rc = connect_queue(dev, &dev->queues[i], evt_remote, err, errlen);
    for (unsigned int i = 0; !rc && i < dev->nr_queues; i++) {
        rc = pvad_queue_start(&dev->queues[i]);
        if (rc)
            seterr(err, errlen, "queue thread: %s", strerror(-rc));
    }
    if (rc) {
        pvad_device_disconnect(dev);
        return rc;
    }
    dev->connections++;
    return 0;
}
