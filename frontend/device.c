/* SPDX-License-Identifier: MIT */
/*
 * device.c: opening and closing a vaccel device, and what it offers.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "frontend/internal.h"

void pva_dev_opts_init(struct pva_dev_opts *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->ring_order = -1;
    opts->spin_us = 20;
    opts->timeout_ms = 10000;
}

static int dev_alloc(struct pva_dev **devp, const struct pva_dev_opts *opts)
{
    struct pva_dev *dev = calloc(1, sizeof(*dev));
    int rc;

    if (!dev)
        return -ENOMEM;
    /* First: dev_free may only run once dev->cond exists. */
    rc = fe_conn_cond_init(dev);
    if (rc < 0) {
        free(dev);
        return rc;
    }
    if (opts)
        dev->opts = *opts;
    else
        pva_dev_opts_init(&dev->opts);
    pthread_mutex_init(&dev->lock, NULL);
    pthread_mutex_init(&dev->ctl_lock, NULL);
    pthread_mutex_init(&dev->gs_lock, NULL);
    dev->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    *devp = dev;
    return dev->stop_fd < 0 ? -errno : 0;
}

static void dev_free(struct pva_dev *dev)
{
    /*
     * Grants the backend never let go of: the platform ends them when the
     * sharing handle closes (deferred while mapped); drop the records.
     */
    while (dev->retired) {
        struct fe_retired *r = dev->retired;

        dev->retired = r->next;
        free(r);
    }
    if (dev->queues) {
        for (unsigned int i = 0; i < dev->nqueues; i++)
            fe_queue_fini(&dev->queues[i]);
        free(dev->queues);
    }
    fe_extents_fini(&dev->iova);
    if (dev->xs) {
        fe_xb_unwatch(dev);
        dev->plat->xs->close(dev->xs);
    }
    if (dev->gs)
        dev->plat->gntshr->close(dev->gs);
    if (dev->plat)
        pva_platform_close(dev->plat);
    if (dev->stop_fd >= 0)
        close(dev->stop_fd);
    pthread_mutex_destroy(&dev->lock);
    pthread_mutex_destroy(&dev->ctl_lock);
    pthread_mutex_destroy(&dev->gs_lock);
    fe_conn_cond_fini(dev);
    free(dev);
}

static int open_platform(struct pva_dev *dev, char *err, size_t errlen)
{
    const char *name = dev->opts.platform;

    if (!name)
        name = getenv("PVACCEL_PLATFORM");
    dev->plat = pva_platform_open(name, err, errlen);
    if (!dev->plat)
        return -ENXIO;
    dev->xs = dev->plat->xs->open(dev->plat);
    dev->gs = dev->xs ? dev->plat->gntshr->open(dev->plat) : NULL;
    if (!dev->gs) {
        int rc = -errno;

        if (err)
            snprintf(err, errlen, "cannot open %s %s: %s", dev->plat->name,
                     dev->xs ? "grant sharing" : "xenstore", strerror(-rc));
        return rc;
    }
    dev->self = dev->plat->xs->self_domid(dev->xs);
    return dev->self < 0 ? dev->self : 0;
}

static int setup_queues(struct pva_dev *dev)
{
    unsigned int slots = VACCEL_RING_SIZE(dev->ring_order);
    uint64_t top = dev->caps.iova_bits >= 63 ? (1ull << 63)
                                             : (1ull << dev->caps.iova_bits);
    int rc;

    dev->queues = calloc(dev->nqueues, sizeof(*dev->queues));
    if (!dev->queues)
        return -ENOMEM;
    for (unsigned int i = 0; i < dev->nqueues; i++)
        dev->queues[i].wake_fd = -1;
    for (unsigned int i = 0; i < dev->nqueues; i++) {
        rc = fe_queue_init(&dev->queues[i], dev, i, slots);
        if (rc < 0)
            return rc;
    }
    /* IOVA page 0 is never mapped (accelif.h). */
    return fe_extents_init(&dev->iova, VACCEL_PAGE_SIZE, top - VACCEL_PAGE_SIZE);
}

int pva_dev_open(const struct pva_dev_opts *opts, struct pva_dev **devp,
                 char *err, size_t errlen)
{
    struct fe_ring *rings[VACCEL_MAX_QUEUES] = { 0 };
    struct pva_dev *dev = NULL;
    int rc;

    if (err && errlen)
        err[0] = 0;
    rc = dev_alloc(&dev, opts);
    if (rc == 0)
        rc = open_platform(dev, err, errlen);
    if (rc == 0)
        rc = fe_xb_prepare(dev, err, errlen);
    if (rc == 0)
        rc = fe_xb_connect(dev, true, rings, err, errlen);
    if (rc < 0) {
        if (dev)
            dev_free(dev);
        return rc;
    }
    rc = setup_queues(dev);
    if (rc == 0) {
        fe_publish_connection(dev, dev->conn_seq, rings);
        rc = fe_scratch_init(&dev->queues[0]);
    }
    if (rc == 0)
        rc = fe_monitor_start(dev);
    if (rc < 0) {
        if (err && errlen && !err[0])
            snprintf(err, errlen, "setting up %s: %s", dev->fe_path,
                     strerror(-rc));
        for (unsigned int i = 0; i < dev->nqueues; i++)
            fe_ring_free(dev, rings[i]);
        pva_dev_close(dev);
        return rc;
    }
    *devp = dev;
    return 0;
}

/* Orderly shutdown (accelif.h): Closing, wait Closed, end grants, Closed. */
void pva_dev_close(struct pva_dev *dev)
{
    if (!dev)
        return;
    fe_monitor_stop(dev);
    dev->closing = true;
    atomic_store(&dev->live_conn, 0);
    if (dev->xs && dev->conn_seq) {
        fe_xb_write_state(dev, XenbusStateClosing);
        fe_xb_wait_be(dev, FE_BIT(XenbusStateClosed) | FE_BIT(XenbusStateInitWait) |
                      FE_BIT(XenbusStateUnknown) | FE_BIT(XenbusStateInitialising),
                      dev->opts.timeout_ms, NULL);
    }
    atomic_store(&dev->down_conn, dev->conn_seq);
    for (unsigned int i = 0; dev->queues && i < dev->nqueues; i++) {
        struct pva_queue *q = &dev->queues[i];

        fe_queue_abandon(q);
        fe_ring_free(dev, q->ring);
        fe_ring_free(dev, q->pending);
        q->ring = q->pending = NULL;
    }
    fe_evt_ring_fini(dev, &dev->evt);
    fe_sessions_free_all(dev);
    fe_blobs_free_all(dev);
    fe_regions_free_all(dev);
    fe_retire_sweep(dev);
    if (dev->xs && dev->conn_seq)
        fe_xb_write_state(dev, XenbusStateClosed);
    dev_free(dev);
}

/* The monitor rewrites the capabilities on a reconnection. */
static void caps_snapshot(struct pva_dev *dev, struct fe_backend_caps *c)
{
    pthread_mutex_lock(&dev->lock);
    *c = dev->caps;
    pthread_mutex_unlock(&dev->lock);
}

void pva_dev_get_info(struct pva_dev *dev, struct pva_dev_info *in)
{
    struct fe_backend_caps caps;
    const struct fe_backend_caps *c = &caps;

    caps_snapshot(dev, &caps);
    memset(in, 0, sizeof(*in));
    in->domid = (unsigned int)dev->self;
    in->backend_id = (unsigned int)dev->backend_id;
    in->devid = dev->opts.devid;
    snprintf(in->frontend_path, sizeof(in->frontend_path), "%s", dev->fe_path);
    snprintf(in->backend_path, sizeof(in->backend_path), "%s", dev->be_path);
    _Static_assert(sizeof(in->engine) == sizeof(c->engine), "engine name");
    memcpy(in->engine, c->engine, sizeof(in->engine));
    snprintf(in->platform, sizeof(in->platform), "%s", dev->plat->name);
    in->version = c->versions_max;
    in->queues = dev->nqueues;
    in->max_queues = c->max_queues;
    in->ring_order = dev->ring_order;
    in->max_ring_order = c->max_ring_order;
    in->ring_slots = VACCEL_RING_SIZE(dev->ring_order);
    memcpy(in->feature_ops, c->feature_ops, sizeof(in->feature_ops));
    memcpy(in->compress_algs, c->compress_algs, sizeof(in->compress_algs));
    memcpy(in->compress_levels, c->compress_levels, sizeof(in->compress_levels));
    memcpy(in->digest_algs, c->digest_algs, sizeof(in->digest_algs));
    memcpy(in->aead_algs, c->aead_algs, sizeof(in->aead_algs));
    in->feature_blobs = c->blobs;
    in->feature_iopf = c->iopf;
    in->max_regions = c->max_regions;
    in->max_region_pages = c->max_region_pages;
    in->max_blobs = c->max_blobs;
    in->max_sessions = c->max_sessions;
    in->max_in_flight = c->max_in_flight;
    in->max_sg_entries = c->max_sg_entries;
    in->iova_bits = c->iova_bits;
    in->fault_timeout_ms = c->fault_timeout_ms;
    in->max_mapped_pages = c->max_mapped_pages;
    in->max_blob_pages = c->max_blob_pages;
    in->max_op_bytes = c->max_op_bytes;
    pthread_mutex_lock(&dev->lock);
    in->connections = dev->connections;
    pthread_mutex_unlock(&dev->lock);
}

/* Is @name an element of the ","-separated @list? */
static bool in_list(const char *list, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = list; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);

        if (len == n && !strncmp(p, name, n))
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

static const char *family_of(int op)
{
    switch (op) {
    case PVA_OP_COMPRESS: return VACCEL_FAMILY_COMPRESS;
    case PVA_OP_DECOMPRESS: return VACCEL_FAMILY_DECOMPRESS;
    case PVA_OP_DIGEST: return VACCEL_FAMILY_DIGEST;
    case PVA_OP_AEAD_ENCRYPT:
    case PVA_OP_AEAD_DECRYPT: return VACCEL_FAMILY_AEAD;
    case PVA_OP_COPY: return VACCEL_FAMILY_COPY;
    case PVA_OP_FILL: return VACCEL_FAMILY_FILL;
    case PVA_OP_COMPARE: return VACCEL_FAMILY_COMPARE;
    case PVA_OP_CRC32C: return VACCEL_FAMILY_CRC32C;
    default: return NULL;
    }
}

bool pva_dev_has_op(struct pva_dev *dev, int op)
{
    const char *f = family_of(op);
    struct fe_backend_caps c;

    caps_snapshot(dev, &c);
    return op == PVA_OP_NOP || (f && in_list(c.feature_ops, f));
}

bool pva_dev_has_alg(struct pva_dev *dev, int alg)
{
    const char *name = pva_alg_name(alg);
    struct fe_backend_caps c;

    if (!name)
        return false;
    caps_snapshot(dev, &c);
    if (VACCEL_ALG_IS_COMPRESS(alg))
        return in_list(c.compress_algs, name) &&
               (in_list(c.feature_ops, VACCEL_FAMILY_COMPRESS) ||
                in_list(c.feature_ops, VACCEL_FAMILY_DECOMPRESS));
    if (VACCEL_ALG_IS_DIGEST(alg))
        return in_list(c.digest_algs, name) &&
               in_list(c.feature_ops, VACCEL_FAMILY_DIGEST);
    if (VACCEL_ALG_IS_AEAD(alg))
        return in_list(c.aead_algs, name) &&
               in_list(c.feature_ops, VACCEL_FAMILY_AEAD);
    return false;
}

const char *pva_dev_error(struct pva_dev *dev)
{
    return dev->error;
}

unsigned int pva_dev_num_queues(struct pva_dev *dev)
{
    return dev->nqueues;
}

struct pva_queue *pva_dev_queue(struct pva_dev *dev, unsigned int index)
{
    return index < dev->nqueues ? &dev->queues[index] : NULL;
}

struct pva_dev *pva_queue_dev(const struct pva_queue *q)
{
    return q->dev;
}
