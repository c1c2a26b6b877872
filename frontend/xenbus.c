/* SPDX-License-Identifier: MIT */
/*
 * xenbus.c: the frontend half of the vaccel handshake (accelif.h, "STATE
 * DIAGRAMS"): find the device, read what the backend offers, publish the
 * rings and event channels in one transaction with XenbusStateInitialised,
 * and follow the backend's state node through a watch.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frontend/internal.h"

#define BE_WATCH_TOKEN "pvaccel-be-state"

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static char *xs_read(struct pva_dev *dev, struct pva_xs_txn *t,
                     const char *dir, const char *node)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, node);
    return dev->plat->xs->read(dev->xs, t, path, NULL);
}

static int xs_write_num(struct pva_dev *dev, struct pva_xs_txn *t,
                        const char *node, unsigned long v)
{
    char path[256], val[32];
    int n = snprintf(val, sizeof(val), "%lu", v);

    snprintf(path, sizeof(path), "%s/%s", dev->fe_path, node);
    return dev->plat->xs->write(dev->xs, t, path, val, (unsigned int)n);
}

/* Strict decimal as accelif.h encodes numbers: digits only, no sign. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (!s || !*s)
        return -EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return -EINVAL;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

int fe_xb_read_be_state(struct pva_dev *dev)
{
    char *v = dev->plat->xs->read(dev->xs, NULL, dev->be_state_path, NULL);
    uint64_t st = XenbusStateUnknown;

    /* A vanished or garbled node counts as Unknown: connection lost. */
    if (v && parse_u64(v, XenbusStateReconfigured, &st) < 0)
        st = XenbusStateUnknown;
    free(v);
    return (int)st;
}

int fe_xb_write_state(struct pva_dev *dev, int state)
{
    return xs_write_num(dev, NULL, VACCEL_FIELD_STATE, (unsigned long)state);
}

static long elapsed_ms(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

void fe_xb_drain_watch(struct pva_dev *dev)
{
    char *path, *token;

    while (dev->plat->xs->read_watch(dev->xs, &path, &token) == 0) {
        free(path);
        free(token);
    }
}

/*
 * Wait until the backend state is in @mask (FE_BIT(state) bits).  The
 * watch fires on every change; the node is re-read each time (watches
 * coalesce nothing for us, but the state is what counts, not the event).
 * -ETIMEDOUT, or -ESHUTDOWN when the device is being closed.
 */
int fe_xb_wait_be(struct pva_dev *dev, unsigned int mask, int timeout_ms,
                  int *state)
{
    struct pollfd pfd[2] = {
        { .fd = dev->plat->xs->watch_fd(dev->xs), .events = POLLIN },
        { .fd = dev->stop_fd, .events = POLLIN },
    };
    struct timespec t0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int st, wait = -1;

        fe_xb_drain_watch(dev);
        st = fe_xb_read_be_state(dev);
        if (state)
            *state = st;
        if (mask & FE_BIT(st))
            return 0;
        if (timeout_ms >= 0) {
            wait = timeout_ms - (int)elapsed_ms(&t0);
            if (wait <= 0)
                return -ETIMEDOUT;
        }
        if (poll(pfd, 2, wait) < 0 && errno != EINTR)
            return -errno;
        if (pfd[1].revents & POLLIN)
            return -ESHUTDOWN;
    }
}

void fe_xb_unwatch(struct pva_dev *dev)
{
    if (dev->be_state_path[0])
        dev->plat->xs->unwatch(dev->xs, dev->be_state_path, BE_WATCH_TOKEN);
}

/*
 * Frontend restart (accelif.h): a state other than Initialising or Closed
 * is left from an earlier instance (it crashed, or did not close).  Close
 * it and wait until the backend has unmapped everything of that connection.
 */
static int close_stale(struct pva_dev *dev, char *err, size_t errlen)
{
    char *v = xs_read(dev, NULL, dev->fe_path, VACCEL_FIELD_STATE);
    uint64_t st = XenbusStateInitialising;
    int rc;

    if (v)
        parse_u64(v, XenbusStateReconfigured, &st);
    free(v);
    if (st == XenbusStateInitialising || st == XenbusStateClosed)
        return 0;
    rc = fe_xb_write_state(dev, XenbusStateClosing);
    if (rc == 0)
        rc = fe_xb_wait_be(dev, FE_BIT(XenbusStateClosed) |
                           FE_BIT(XenbusStateInitWait) |
                           FE_BIT(XenbusStateUnknown) |
                           FE_BIT(XenbusStateInitialising),
                           dev->opts.timeout_ms, NULL);
    if (rc < 0)
        set_err(err, errlen, "%s: stale connection did not close: %s",
                dev->fe_path, strerror(-rc));
    return rc;
}

/* Find the device and its backend; watch the backend state. */
int fe_xb_prepare(struct pva_dev *dev, char *err, size_t errlen)
{
    const struct pva_xs_ops *xs = dev->plat->xs;
    char *be, *beid;
    uint64_t id = 0;
    int rc;

    snprintf(dev->fe_path, sizeof(dev->fe_path),
             "/local/domain/%d/device/" VACCEL_DEVICE_TYPE "/%u", dev->self,
             dev->opts.devid);
    be = xs_read(dev, NULL, dev->fe_path, VACCEL_FIELD_BACKEND);
    beid = xs_read(dev, NULL, dev->fe_path, VACCEL_FIELD_BACKEND_ID);
    rc = (!be || !beid) ? -ENODEV : parse_u64(beid, 0x7fef, &id);
    if (rc == 0 && strlen(be) >= sizeof(dev->be_path))
        rc = -ENAMETOOLONG;
    if (rc == 0) {
        strcpy(dev->be_path, be);
        dev->backend_id = (int)id;
        snprintf(dev->be_state_path, sizeof(dev->be_state_path), "%s/%s",
                 be, VACCEL_FIELD_STATE);
    }
    free(be);
    free(beid);
    if (rc < 0) {
        set_err(err, errlen, "no vaccel device at %s: %s", dev->fe_path,
                strerror(-rc));
        return rc;
    }
    rc = xs->watch(dev->xs, dev->be_state_path, BE_WATCH_TOKEN);
    if (rc < 0) {
        set_err(err, errlen, "cannot watch %s: %s", dev->be_state_path,
                strerror(-rc));
        return rc;
    }
    return close_stale(dev, err, errlen);
}

static void rm_transport_nodes(struct pva_dev *dev)
{
    static const char *const nodes[] = {
        VACCEL_FIELD_FE_VERSION, VACCEL_FIELD_NUM_QUEUES,
        VACCEL_FIELD_RING_PAGE_ORDER, VACCEL_FIELD_RING_REF,
        VACCEL_FIELD_EVENT_CHANNEL, VACCEL_FIELD_EVT_RING_PAGE_ORDER,
        VACCEL_FIELD_EVT_RING_REF, VACCEL_FIELD_EVT_EVENT_CHANNEL,
    };
    char path[256];
    unsigned int n = 0;
    char **names;

    for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dev->fe_path, nodes[i]);
        dev->plat->xs->rm(dev->xs, NULL, path);
    }
    /* ring-refN, evt-ring-refN, queue-N */
    names = dev->plat->xs->directory(dev->xs, NULL, dev->fe_path, &n);
    for (unsigned int i = 0; names && i < n; i++) {
        if (strncmp(names[i], "ring-ref", 8) && strncmp(names[i], "queue-", 6) &&
            strncmp(names[i], "evt-ring-ref", 12))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dev->fe_path, names[i]);
        dev->plat->xs->rm(dev->xs, NULL, path);
    }
    free(names);
}

/* Read an optional numeric node with a default and a range. */
static int read_num(struct pva_dev *dev, const char *node, uint64_t def,
                    uint64_t min, uint64_t max, uint64_t *out)
{
    char *v = xs_read(dev, NULL, dev->be_path, node);
    int rc = 0;

    *out = def;
    if (v)
        rc = parse_u64(v, max, out);
    free(v);
    if (rc == 0 && *out < min)
        rc = -ERANGE;
    if (rc < 0)
        snprintf(dev->error, sizeof(dev->error),
                 "backend node %s/%s is malformed", dev->be_path, node);
    return rc;
}

static void read_str(struct pva_dev *dev, const char *node, char *buf,
                     size_t len)
{
    char *v = xs_read(dev, NULL, dev->be_path, node);

    snprintf(buf, len, "%s", v ? v : "");
    free(v);
}

/* Highest version in the backend's list that we speak. */
static unsigned int pick_version(const char *list)
{
    unsigned int best = 0;
    char buf[128], *save = NULL;

    snprintf(buf, sizeof(buf), "%s", list);
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        uint64_t v;

        if (parse_u64(t, UINT32_MAX, &v) == 0 && v == VACCEL_PROTOCOL_VERSION)
            best = (unsigned int)v;
    }
    return best;
}

static int read_caps(struct pva_dev *dev, struct fe_backend_caps *c)
{
    struct { const char *node; uint64_t def, min, max; uint64_t *out; } num[] = {
        { VACCEL_FIELD_MAX_QUEUES, 1, 1, VACCEL_MAX_QUEUES, NULL },
        { VACCEL_FIELD_MAX_RING_PAGE_ORDER, 0, 0, VACCEL_MAX_RING_PAGE_ORDER, NULL },
        { VACCEL_FIELD_MAX_REGIONS, VACCEL_DEFAULT_MAX_REGIONS, 0, UINT32_MAX, NULL },
        { VACCEL_FIELD_MAX_REGION_PAGES, VACCEL_DEFAULT_MAX_REGION_PAGES, 0, UINT32_MAX, NULL },
        { VACCEL_FIELD_MAX_MAPPED_PAGES, VACCEL_DEFAULT_MAX_MAPPED_PAGES, 0, UINT64_MAX, NULL },
        { VACCEL_FIELD_MAX_BLOBS, VACCEL_DEFAULT_MAX_BLOBS, 0, UINT32_MAX, NULL },
        { VACCEL_FIELD_MAX_BLOB_PAGES, VACCEL_DEFAULT_MAX_BLOB_PAGES, 0, UINT64_MAX, NULL },
        { VACCEL_FIELD_MAX_SESSIONS, VACCEL_DEFAULT_MAX_SESSIONS, 0, UINT32_MAX, NULL },
        { VACCEL_FIELD_MAX_IN_FLIGHT, VACCEL_DEFAULT_MAX_IN_FLIGHT, 0, UINT32_MAX, NULL },
        { VACCEL_FIELD_MAX_SG_ENTRIES, VACCEL_DEFAULT_MAX_SG_ENTRIES, 0, UINT32_MAX, NULL },
        { VACCEL_FIELD_MAX_OP_BYTES, VACCEL_DEFAULT_MAX_OP_BYTES, 0, UINT64_MAX, NULL },
        { VACCEL_FIELD_IOVA_BITS, VACCEL_DEFAULT_IOVA_BITS, VACCEL_MIN_IOVA_BITS, VACCEL_MAX_IOVA_BITS, NULL },
        { VACCEL_FIELD_FAULT_TIMEOUT_MS, VACCEL_DEFAULT_FAULT_TIMEOUT_MS, 0, UINT32_MAX, NULL },
        { VACCEL_FIELD_FEATURE_BLOBS, 0, 0, 1, NULL },
        { VACCEL_FIELD_FEATURE_IOPF, 0, 0, 1, NULL },
    };
    uint64_t v[sizeof(num) / sizeof(num[0])];
    char versions[128];

    for (size_t i = 0; i < sizeof(num) / sizeof(num[0]); i++)
        if (read_num(dev, num[i].node, num[i].def, num[i].min, num[i].max,
                     &v[i]) < 0)
            return -EPROTO;
    read_str(dev, VACCEL_FIELD_BE_VERSIONS, versions, sizeof(versions));
    c->versions_max = pick_version(versions);
    c->max_queues = (unsigned int)v[0];
    c->max_ring_order = (unsigned int)v[1];
    c->max_regions = (uint32_t)v[2];
    c->max_region_pages = (uint32_t)v[3];
    c->max_mapped_pages = v[4];
    c->max_blobs = (uint32_t)v[5];
    c->max_blob_pages = v[6];
    c->max_sessions = (uint32_t)v[7];
    c->max_in_flight = (uint32_t)v[8];
    c->max_sg_entries = (uint32_t)v[9];
    c->max_op_bytes = v[10];
    c->iova_bits = (uint32_t)v[11];
    c->fault_timeout_ms = (uint32_t)v[12];
    c->blobs = v[13];
    c->iopf = v[14];
    read_str(dev, VACCEL_FIELD_ENGINE, c->engine, sizeof(c->engine));
    read_str(dev, VACCEL_FIELD_FEATURE_OPS, c->feature_ops, sizeof(c->feature_ops));
    read_str(dev, VACCEL_FIELD_COMPRESS_ALGS, c->compress_algs, sizeof(c->compress_algs));
    read_str(dev, VACCEL_FIELD_COMPRESS_LEVELS, c->compress_levels, sizeof(c->compress_levels));
    read_str(dev, VACCEL_FIELD_DIGEST_ALGS, c->digest_algs, sizeof(c->digest_algs));
    read_str(dev, VACCEL_FIELD_AEAD_ALGS, c->aead_algs, sizeof(c->aead_algs));
    if (!c->versions_max) {
        snprintf(dev->error, sizeof(dev->error),
                 "backend offers versions \"%s\", we speak %u", versions,
                 VACCEL_PROTOCOL_VERSION);
        return -EPROTONOSUPPORT;
    }
    return 0;
}

/* ring-ref / ring-refN under @prefix (queue dir or evt-). */
static int write_refs(struct pva_dev *dev, struct pva_xs_txn *t,
                      const char *dir, const char *one, unsigned int order,
                      const pva_gref_t *refs)
{
    char node[96], name[32];
    int rc = 0;

    if (order == 0) {
        snprintf(node, sizeof(node), "%s%s", dir, one);
        return xs_write_num(dev, t, node, refs[0]);
    }
    for (unsigned int i = 0; rc == 0 && i < (1u << order); i++) {
        snprintf(name, sizeof(name), "%s%u", one, i); /* ring-ref%u */
        snprintf(node, sizeof(node), "%s%s", dir, name);
        rc = xs_write_num(dev, t, node, refs[i]);
    }
    return rc;
}

static int write_transport(struct pva_dev *dev, struct pva_xs_txn *t,
                           struct fe_ring **rings)
{
    int rc = xs_write_num(dev, t, VACCEL_FIELD_FE_VERSION, dev->caps.versions_max);

    rc = rc ?: xs_write_num(dev, t, VACCEL_FIELD_NUM_QUEUES, dev->nqueues);
    rc = rc ?: xs_write_num(dev, t, VACCEL_FIELD_RING_PAGE_ORDER, rings[0]->order);
    for (unsigned int i = 0; rc == 0 && i < dev->nqueues; i++) {
        char dir[32] = "", node[64];

        if (dev->nqueues > 1)
            snprintf(dir, sizeof(dir), VACCEL_FIELD_QUEUE_FMT "/", i);
        rc = write_refs(dev, t, dir, VACCEL_FIELD_RING_REF, rings[i]->order,
                        rings[i]->refs);
        snprintf(node, sizeof(node), "%s%s", dir, VACCEL_FIELD_EVENT_CHANNEL);
        rc = rc ?: xs_write_num(dev, t, node, (unsigned long)rings[i]->port);
    }
    rc = rc ?: xs_write_num(dev, t, VACCEL_FIELD_EVT_RING_PAGE_ORDER, dev->evt.order);
    rc = rc ?: write_refs(dev, t, "", VACCEL_FIELD_EVT_RING_REF,
                          dev->evt.order, dev->evt.refs);
    rc = rc ?: xs_write_num(dev, t, VACCEL_FIELD_EVT_EVENT_CHANNEL, (unsigned long)dev->evt.port);
    rc = rc ?: xs_write_num(dev, t, VACCEL_FIELD_STATE, XenbusStateInitialised);
    return rc;
}

/* Publish everything and XenbusStateInitialised atomically. */
static int publish(struct pva_dev *dev, struct fe_ring **rings)
{
    for (int tries = 0; tries < 100; tries++) {
        struct pva_xs_txn *t = dev->plat->xs->txn_start(dev->xs);
        int rc;

        if (!t)
            return -errno;
        rc = write_transport(dev, t, rings);
        if (rc < 0) {
            dev->plat->xs->txn_end(dev->xs, t, true);
            return rc;
        }
        rc = dev->plat->xs->txn_end(dev->xs, t, false);
        if (rc != -EAGAIN)
            return rc;
    }
    return -EAGAIN;
}

static void choose_params(struct pva_dev *dev, bool first)
{
    unsigned int want = dev->opts.ring_order < 0 ? 2u : (unsigned int)dev->opts.ring_order;

    if (first) {
        unsigned int n = dev->opts.queues ? dev->opts.queues : fe_online_cpus();

        dev->nqueues = n < dev->caps.max_queues ? n : dev->caps.max_queues;
        if (dev->nqueues == 0)
            dev->nqueues = 1;
        dev->ring_order = want < dev->caps.max_ring_order ? want
                                                          : dev->caps.max_ring_order;
    } else if (dev->ring_order > dev->caps.max_ring_order) {
        /* A backend restarted with a smaller limit: follow it. */
        dev->ring_order = dev->caps.max_ring_order;
    }
    dev->evt_order = 0;
}

static void undo_rings(struct pva_dev *dev, struct fe_ring **rings)
{
    /* The backend undid its mappings; fe_ring_free defers if not yet. */
    for (unsigned int i = 0; i < dev->nqueues; i++) {
        if (rings[i])
            fe_ring_free(dev, rings[i]);
        rings[i] = NULL;
    }
}

/*
 * Wait for InitWait.  A backend that refuses the device (bad params) writes
 * "error" and stays Closing or Closed without reaching InitWait: report that
 * at once instead of timing out.  Closing or Closed without "error" (a
 * detach in progress, or our Initialising not seen yet) is waited out.
 */
static int wait_init_wait(struct pva_dev *dev, int timeout)
{
    int st, rc = fe_xb_wait_be(dev, FE_BIT(XenbusStateInitWait) |
                               FE_BIT(XenbusStateClosing) |
                               FE_BIT(XenbusStateClosed), timeout, &st);

    if (rc == 0 && st != XenbusStateInitWait) {
        read_str(dev, VACCEL_FIELD_ERROR, dev->error, sizeof(dev->error));
        if (dev->error[0])
            return -ECONNREFUSED;
        rc = fe_xb_wait_be(dev, FE_BIT(XenbusStateInitWait), timeout, &st);
    }
    return rc;
}

/*
 * One connection: Initialising, wait InitWait, negotiate, grant, publish
 * with Initialised, wait Connected.  On success @rings holds one new ring
 * per queue (connection dev->conn_seq) and the event ring is live.
 */
int fe_xb_connect(struct pva_dev *dev, bool first, struct fe_ring **rings,
                  char *err, size_t errlen)
{
    int timeout = first ? dev->opts.timeout_ms : -1;
    struct fe_backend_caps caps;
    unsigned int conn;
    int rc, st;

    rm_transport_nodes(dev);
    dev->error[0] = 0;
    rc = fe_xb_write_state(dev, XenbusStateInitialising);
    if (rc == 0)
        rc = wait_init_wait(dev, timeout);
    if (rc < 0) {
        set_err(err, errlen, "backend %s did not reach InitWait: %s",
                dev->be_path, dev->error[0] ? dev->error : strerror(-rc));
        return rc;
    }
    rc = read_caps(dev, &caps);
    if (rc < 0) {
        set_err(err, errlen, "%s", dev->error);
        return rc;
    }
    pthread_mutex_lock(&dev->lock);
    dev->caps = caps;
    pthread_mutex_unlock(&dev->lock);
    choose_params(dev, first);
    if (!first && dev->nqueues > dev->caps.max_queues) {
        snprintf(dev->error, sizeof(dev->error),
                 "backend now allows %u queues, %u are open",
                 dev->caps.max_queues, dev->nqueues);
        return -EPROTO;
    }
    conn = ++dev->conn_seq;
    for (unsigned int i = 0; i < dev->nqueues; i++) {
        rings[i] = fe_ring_new(dev, conn, dev->ring_order);
        if (!rings[i]) {
            rc = -errno;
            goto fail;
        }
    }
    rc = fe_evt_ring_init(dev, &dev->evt, dev->evt_order);
    if (rc < 0)
        goto fail;
    rc = publish(dev, rings);
    if (rc == 0)
        rc = fe_xb_wait_be(dev, FE_BIT(XenbusStateConnected) |
                           FE_BIT(XenbusStateClosing) | FE_BIT(XenbusStateClosed) |
                           FE_BIT(XenbusStateUnknown), timeout, &st);
    if (rc == 0 && st != XenbusStateConnected) {
        read_str(dev, VACCEL_FIELD_ERROR, dev->error, sizeof(dev->error));
        rc = -ECONNREFUSED;
    }
    if (rc == 0)
        rc = fe_xb_write_state(dev, XenbusStateConnected);
    if (rc == 0) {
        dev->evt_live = true;
        return 0;
    }
    set_err(err, errlen, "handshake with %s failed: %s", dev->be_path,
            dev->error[0] ? dev->error : strerror(-rc));
    /* Tell the backend we gave up, so that it can undo and settle. */
    fe_xb_write_state(dev, XenbusStateClosed);
    fe_evt_ring_fini(dev, &dev->evt);
fail:
    undo_rings(dev, rings);
    return rc;
}
