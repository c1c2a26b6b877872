/* SPDX-License-Identifier: MIT */
/*
 * xenbus.c: device discovery and the per-device state machine.
 *
 * Watches: the backend directory (backend/vaccel, for devices appearing
 * and vanishing and for the toolstack's online/state writes),
 * @releaseDomain, and of each frontend only its "state" node (XSA-349):
 * never a directory a guest can fill with nodes.  Events are coalesced:
 * all queued events are drained first and mark devices dirty, then each
 * dirty device's machine runs once.
 *
 * The machine is serialised (main thread only) and idempotent: it reads
 * the current frontend state, online and the backend state node, and
 * moves from where the device is; a spurious or repeated event changes
 * nothing.
 *
 * Ending a connection takes as long as the guest's running work, so it
 * runs on a thread of the device (teardown.c) and the machine waits for
 * it: a device being torn down does not move, whatever its frontend does,
 * until the teardown thread has said it is done (d->teardown_fd); then
 * the machine finishes the step that started it (Closed) and runs again
 * from the frontend's state as it is by then.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/pvacceld.h"

#define TOKEN_BACKEND "backend"
#define TOKEN_RELEASE "release"

static const struct pva_xs_ops *xs(const struct pvad *d)
{
    return d->p->xs;
}

/* ------------------------------------------------------------- helpers */

static char *read_node(struct pvad *d, struct pva_xs_txn *t, const char *dir,
                       const char *name)
{
    char path[320];
    unsigned int len;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return xs(d)->read(d->xs, t, path, &len);
}

/* A node as a number; @def if absent or malformed. */
static long read_long(struct pvad *d, const char *dir, const char *name,
                      long def)
{
    char *s = read_node(d, NULL, dir, name);
    uint64_t v;
    long r = def;

    if (s && pvad_parse_u64(s, INT32_MAX, &v) == 0)
        r = (long)v;
    free(s);
    return r;
}

/*
 * Inside a transaction (publishing) a node is removed before it is
 * written, so it is created afresh with the permissions of the device
 * directory as the toolstack set them now: a node left from an earlier
 * domain with the same domid would keep that domain's (revoked) ACL.
 */
static int write_node(struct pvad *d, struct pva_xs_txn *t, const char *dir,
                      const char *name, const char *value)
{
    char path[320];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (t)
        xs(d)->rm(d->xs, t, path);
    return xs(d)->write(d->xs, t, path, value, (unsigned int)strlen(value));
}

static int write_fmt(struct pvad *d, struct pva_xs_txn *t, const char *dir,
                     const char *name, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int write_fmt(struct pvad *d, struct pva_xs_txn *t, const char *dir,
                     const char *name, const char *fmt, ...)
{
    char value[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(value, sizeof(value), fmt, ap);
    va_end(ap);
    return write_node(d, t, dir, name, value);
}

static void set_state(struct pvad_device *dev, enum xenbus_state s)
{
    if (write_fmt(dev->d, NULL, dev->be_path, VACCEL_FIELD_STATE, "%d", s))
        pvad_warn("vaccel %u/%u: cannot write state %d", dev->fe_domid,
                  dev->devid, s);
    if (dev->state != s)
        pvad_debug("vaccel %u/%u: state %d -> %d", dev->fe_domid, dev->devid,
                   dev->state, s);
    dev->state = s;
}

/* ----------------------------------------------------- capabilities */

/* Append @name to a list if @bit is in @mask. */
static void list_add(char *buf, size_t len, bool cond, const char *name)
{
    size_t used = strlen(buf);

    if (!cond || used >= len - 1)
        return;
    snprintf(buf + used, len - used, "%s%s", used ? VACCEL_LIST_SEPARATOR : "",
             name);
}

static const char *const alg_names[64] = {
    [VACCEL_ALG_DEFLATE] = VACCEL_ALG_NAME_DEFLATE,
    [VACCEL_ALG_ZLIB] = VACCEL_ALG_NAME_ZLIB,
    [VACCEL_ALG_GZIP] = VACCEL_ALG_NAME_GZIP,
    [VACCEL_ALG_ZSTD] = VACCEL_ALG_NAME_ZSTD,
    [VACCEL_ALG_LZ4] = VACCEL_ALG_NAME_LZ4,
    [VACCEL_ALG_SHA256] = VACCEL_ALG_NAME_SHA256,
    [VACCEL_ALG_SHA512] = VACCEL_ALG_NAME_SHA512,
    [VACCEL_ALG_AES_256_GCM] = VACCEL_ALG_NAME_AES_256_GCM,
    [VACCEL_ALG_CHACHA20_POLY1305] = VACCEL_ALG_NAME_CHACHA20_POLY1305,
};

static void alg_list(char *buf, size_t len, pva_alg_mask mask)
{
    buf[0] = '\0';
    for (unsigned int a = 0; a < 64; a++)
        list_add(buf, len, alg_names[a] && (mask & PVA_ALG_BIT(a)),
                 alg_names[a]);
}

static int publish_caps(struct pvad *d, struct pva_xs_txn *t, const char *dir)
{
    const struct pvad_offer *o = &d->offer;
    char buf[512];
    int rc = 0;

    buf[0] = '\0';
    list_add(buf, sizeof(buf), o->compress_algs, VACCEL_FAMILY_COMPRESS);
    list_add(buf, sizeof(buf), o->compress_algs, VACCEL_FAMILY_DECOMPRESS);
    list_add(buf, sizeof(buf), o->digest_algs, VACCEL_FAMILY_DIGEST);
    list_add(buf, sizeof(buf), o->aead_algs, VACCEL_FAMILY_AEAD);
    list_add(buf, sizeof(buf), o->copy, VACCEL_FAMILY_COPY);
    list_add(buf, sizeof(buf), o->fill, VACCEL_FAMILY_FILL);
    list_add(buf, sizeof(buf), o->compare, VACCEL_FAMILY_COMPARE);
    list_add(buf, sizeof(buf), o->crc32c, VACCEL_FAMILY_CRC32C);
    rc |= write_node(d, t, dir, VACCEL_FIELD_FEATURE_OPS, buf);
    alg_list(buf, sizeof(buf), o->compress_algs);
    rc |= write_node(d, t, dir, VACCEL_FIELD_COMPRESS_ALGS, buf);
    alg_list(buf, sizeof(buf), o->digest_algs);
    rc |= write_node(d, t, dir, VACCEL_FIELD_DIGEST_ALGS, buf);
    alg_list(buf, sizeof(buf), o->aead_algs);
    rc |= write_node(d, t, dir, VACCEL_FIELD_AEAD_ALGS, buf);
    buf[0] = '\0';
    for (unsigned int a = VACCEL_ALG_DEFLATE; a <= VACCEL_ALG_LZ4; a++)
        if (o->compress_algs & PVA_ALG_BIT(a)) {
            size_t used = strlen(buf);

            snprintf(buf + used, sizeof(buf) - used, "%s%s:%" PRId32 ":%" PRId32,
                     used ? VACCEL_LIST_SEPARATOR : "", alg_names[a],
                     o->level_min[a], o->level_max[a]);
        }
    rc |= write_node(d, t, dir, VACCEL_FIELD_COMPRESS_LEVELS, buf);
    rc |= write_node(d, t, dir, VACCEL_FIELD_FEATURE_IOPF, "1");
    rc |= write_node(d, t, dir, VACCEL_FIELD_ENGINE, d->caps.name);
    return rc;
}

/*
 * compress-max-bytes: "<alg>:<level>:<bytes>" for every COMPRESS level
 * whose cost cap (max-op-ms) is below this device's max-op-bytes, so that
 * a guest can choose a level, or split its input, before it is refused.
 */
static int publish_cost_caps(struct pvad *d, struct pva_xs_txn *t,
                             const char *dir, const struct pvad_limits *l)
{
    const struct pvad_offer *o = &d->offer;
    char buf[3072];             /* 75 levels, 23 characters each at most */
    size_t used = 0;

    buf[0] = '\0';
    for (unsigned int a = VACCEL_ALG_DEFLATE; a <= VACCEL_ALG_LZ4; a++)
        for (unsigned int lv = 0; lv <= PVA_COST_LEVEL_MAX; lv++) {
            uint64_t max = o->compress_max_src[a][lv];

            if (!(o->compress_algs & PVA_ALG_BIT(a)) ||
                max >= l->max_op_bytes || used >= sizeof(buf) - 1)
                continue;
            used += (size_t)snprintf(buf + used, sizeof(buf) - used,
                                     "%s%s:%u:%" PRIu64,
                                     used ? VACCEL_LIST_SEPARATOR : "",
                                     alg_names[a], lv, max);
        }
    if (used >= sizeof(buf) - 1)
        return -ENOSPC;         /* never with the table's sizes */
    return write_node(d, t, dir, VACCEL_FIELD_COMPRESS_MAX_BYTES, buf);
}

static int publish_limits(struct pvad *d, struct pva_xs_txn *t,
                          const char *dir, const struct pvad_limits *l)
{
    int rc = 0;

    rc |= write_fmt(d, t, dir, VACCEL_FIELD_MAX_QUEUES, "%u", l->max_queues);
    rc |= write_fmt(d, t, dir, VACCEL_FIELD_MAX_RING_PAGE_ORDER, "%u",
                    l->max_ring_page_order);
    rc |= write_fmt(d, t, dir, VACCEL_FIELD_MAX_REGIONS, "%u", l->max_regions);
    rc |= write_fmt(d, t, dir, VACCEL_FIELD_MAX_REGION_PAGES, "%u",
                    l->max_region_pages);
    rc |= write_fmt(d, t, dir, VACCEL_FIELD_MAX_MAPPED_PAGES, "%" PRIu64,
                    l->max_mapped_pages);
    rc |= write_fmt(d, t, dir, VACCEL_FIELD_MAX_MAPPINGS, "%" PRIu64,
                    l->max_mappings);
    /* Blobs are offered unless the admin limited them to nothing. */
    rc |= write_node(d, t, dir, VACCEL_FIELD_FEATURE_BLOBS,
                     pvad_blobs_offered(l) ? "1" : "0");
    rc |= write_fmt(d, t, dir, VACCEL_FIELD_MAX_BLOBS, "%u", l->max_blobs);
    rc |= write_fmt(d, t, dir, VACCEL_FIELD_MAX_BLOB_PAGES, "%" PRIu64,
                    l->max_blob_pages);
    rc |= write_fmt(d, t, dir, VACCEL_FIELD_MAX_SESSIONS, "%u",
                    l->max_sessions);
    rc |= write_fmt(d, t, dir, VACCEL_FIELD_MAX_IN_FLIGHT, "%u",
                    l->max_in_flight);
    rc |= write_fmt(d, t, dir, VACCEL_FIELD_MAX_SG_ENTRIES, "%u",
                    l->max_sg_entries);
    rc |= write_fmt(d, t, dir, VACCEL_FIELD_MAX_OP_BYTES, "%" PRIu64,
                    l->max_op_bytes);
    rc |= publish_cost_caps(d, t, dir, l);
    rc |= write_fmt(d, t, dir, VACCEL_FIELD_IOVA_BITS, "%u", l->iova_bits);
    rc |= write_fmt(d, t, dir, VACCEL_FIELD_FAULT_TIMEOUT_MS, "%u",
                    l->fault_timeout_ms);
    return rc;
}

/*
 * Everything the frontend reads before Initialised, and the state, in one
 * transaction: a frontend never sees InitWait with half the nodes.
 */
static int publish_txn(struct pvad_device *dev, enum xenbus_state state,
                       const char *error)
{
    struct pvad *d = dev->d;

    for (int tries = 0; tries < 16; tries++) {
        struct pva_xs_txn *t = xs(d)->txn_start(d->xs);
        char path[320];
        int rc = 0;

        if (!t)
            return -errno;
        snprintf(path, sizeof(path), "%s/%s", dev->be_path, VACCEL_FIELD_ERROR);
        xs(d)->rm(d->xs, t, path);
        if (error)
            rc |= write_node(d, t, dev->be_path, VACCEL_FIELD_ERROR, error);
        rc |= write_node(d, t, dev->be_path, VACCEL_FIELD_BE_VERSIONS,
                         VACCEL_PROTOCOL_VERSION_STR);
        rc |= publish_caps(d, t, dev->be_path);
        rc |= publish_limits(d, t, dev->be_path, &dev->lim);
        rc |= write_node(d, t, dev->be_path, VACCEL_FIELD_HOTPLUG_STATUS,
                         "connected");
        rc |= write_fmt(d, t, dev->be_path, VACCEL_FIELD_STATE, "%d", state);
        rc = xs(d)->txn_end(d->xs, t, rc != 0);
        if (rc != -EAGAIN) {
            if (!rc)
                dev->state = state;
            return rc;
        }
    }
    return -EAGAIN;
}

/*
 * Read params, publish, go to @want: InitWait, or Closed for a device no
 * frontend may use yet.  Closed with "error" on a bad params node.
 */
static void republish(struct pvad_device *dev, enum xenbus_state want)
{
    struct pvad *d = dev->d;
    char *params = read_node(d, NULL, dev->be_path, VACCEL_FIELD_PARAMS);
    char err[256] = "";
    int rc;

    dev->lim = d->cfg.limits;
    rc = pvad_limits_apply_params(&dev->lim, params, d->caps.name, err,
                                  sizeof(err));
    free(params);
    if (rc) {
        char shown[sizeof(err)];

        /* The message quotes the toolstack's params node as it is. */
        pvad_escape(shown, sizeof(shown), err);
        pvad_warn("vaccel %u/%u: %s", dev->fe_domid, dev->devid, shown);
        dev->lim = d->cfg.limits;
        publish_txn(dev, XenbusStateClosed, shown);
        return;
    }
    rc = publish_txn(dev, want, NULL);
    if (rc)
        pvad_err("vaccel %u/%u: cannot publish: %s", dev->fe_domid,
                 dev->devid, strerror(-rc));
    else if (want == XenbusStateInitWait)
        pvad_info("vaccel %u/%u: InitWait", dev->fe_domid, dev->devid);
    else
        pvad_info("vaccel %u/%u: Closed until the frontend initialises",
                  dev->fe_domid, dev->devid);
}

/* ------------------------------------------------------ the frontend */

/*
 * The frontend path comes from the toolstack's node, but we insist it is
 * the canonical one for this device: a bogus "frontend" node cannot make
 * us watch or read some other domain's tree.
 */
static int attach_frontend(struct pvad_device *dev)
{
    struct pvad *d = dev->d;
    char *fe = read_node(d, NULL, dev->be_path, VACCEL_FIELD_FRONTEND);
    long fe_id = read_long(d, dev->be_path, VACCEL_FIELD_FRONTEND_ID, -1);
    char want[128], path[160];

    snprintf(want, sizeof(want), "/local/domain/%u/device/%s/%u",
             dev->fe_domid, VACCEL_DEVICE_TYPE, dev->devid);
    if (!fe || strcmp(fe, want) || fe_id != dev->fe_domid) {
        char shown[PVAD_ESCAPE_LEN];

        pvad_debug("vaccel %u/%u: frontend node %s, frontend-id %ld: "
                   "not a complete device (yet)", dev->fe_domid, dev->devid,
                   fe ? pvad_escape(shown, sizeof(shown), fe) : "missing",
                   fe_id);
        free(fe);
        return -ENOENT;
    }
    dev->fe_path = fe;
    snprintf(path, sizeof(path), "%s/%s", fe, VACCEL_FIELD_STATE);
    if (xs(d)->watch(d->xs, path, dev->token)) {
        pvad_err("vaccel %u/%u: cannot watch %s", dev->fe_domid, dev->devid,
                 path);
        return -EIO;
    }
    dev->fe_watched = true;
    return 0;
}

static void detach_frontend(struct pvad_device *dev)
{
    char path[160];

    if (dev->fe_watched) {
        snprintf(path, sizeof(path), "%s/%s", dev->fe_path,
                 VACCEL_FIELD_STATE);
        xs(dev->d)->unwatch(dev->d->xs, path, dev->token);
        dev->fe_watched = false;
    }
}

static bool domain_alive(struct pvad *d, uint16_t domid)
{
    char path[64];
    unsigned int len;
    char *s;

    snprintf(path, sizeof(path), "/local/domain/%u", domid);
    s = xs(d)->read(d->xs, NULL, path, &len);
    free(s);
    return s != NULL || errno != ENOENT;
}

/* ---------------------------------------------------- state machine */

static void do_connect(struct pvad_device *dev)
{
    char err[256] = "";

    if (pvad_device_connect(dev, err, sizeof(err)) == 0) {
        set_state(dev, XenbusStateConnected);
        pvad_info("vaccel %u/%u: connected, %u queue(s), ring order %u",
                  dev->fe_domid, dev->devid, dev->nr_queues, dev->ring_order);
        return;
    }
    /* @err holds guest values only escaped (device.c), so it is safe. */
    pvad_log(pvad_log_ratelimit(&dev->warn_last_ns) ? PVAD_LOG_WARN :
             PVAD_LOG_DEBUG, "vaccel %u/%u: handshake error: %s",
             dev->fe_domid, dev->devid, err);
    write_node(dev->d, NULL, dev->be_path, VACCEL_FIELD_ERROR, err);
    set_state(dev, XenbusStateClosing);
}

/*
 * Stop serving: Closing, and the connection is torn down; Closed when
 * that is over (teardown_ended()), which may be at once.  True if Closed.
 */
static bool do_close(struct pvad_device *dev)
{
    if (dev->connected) {
        set_state(dev, XenbusStateClosing);
        if (pvad_teardown_start(dev))
            return false;
        pvad_info("vaccel %u/%u: disconnected", dev->fe_domid, dev->devid);
    }
    set_state(dev, XenbusStateClosed);
    return true;
}

/*
 * @dev's teardown is over and reaped: finish the step that started it.
 * A closing device says Closed; then the machine runs again (dirty) from
 * where the frontend is now.  What the frontend did meanwhile was not
 * looked at, so its state counts as new: a move to Initialising during
 * the teardown is a reinitialisation.
 */
static void teardown_ended(struct pvad_device *dev)
{
    pvad_info("vaccel %u/%u: disconnected", dev->fe_domid, dev->devid);
    if (dev->state == XenbusStateClosing)
        set_state(dev, XenbusStateClosed);
    dev->fe_seen = -1;
    dev->dirty = true;
}

/*
 * The first state of a device found new or after a restart.  InitWait is
 * an offer the frontend may act on at once, so make it only if the device
 * is usable: offered to a Closed frontend (as the previous instance left
 * it on exit) it would be withdrawn in the same step, and a frontend
 * initialising just then could take the passing InitWait, publish, and
 * find us Closed.  A Closed device goes to InitWait when the frontend
 * moves to Initialising.
 */
static enum xenbus_state first_state(long fe, long online)
{
    if (!online || fe == XenbusStateClosing || fe == XenbusStateClosed)
        return XenbusStateClosed;
    return XenbusStateInitWait;
}

static bool fe_lost_connection(long fe)
{
    return fe != XenbusStateConnected && fe != XenbusStateInitialised;
}

/* Returns false when the device is gone and must be freed. */
static bool device_step(struct pvad_device *dev)
{
    struct pvad *d = dev->d;
    long fe, online, be_node;
    bool detach, fe_reinit;

    if (dev->tearing_down)
        return true;            /* runs again when the teardown is over */
    if (!dev->fe_path && attach_frontend(dev))
        return domain_alive(d, dev->fe_domid); /* wait for the toolstack */
    fe = read_long(d, dev->fe_path, VACCEL_FIELD_STATE, -1);
    if (fe < 0) {
        /* The frontend directory vanished: its domain died or is going. */
        if (pvad_teardown_start(dev))
            return true;
        if (!domain_alive(d, dev->fe_domid)) {
            pvad_info("vaccel %u/%u: frontend domain gone, device released",
                      dev->fe_domid, dev->devid);
            return false;
        }
        if (dev->state != XenbusStateClosed)
            set_state(dev, XenbusStateClosed);
        return true;
    }
    /*
     * Republish on the frontend's move to Initialising, not on its being
     * there: a device that stays Closed (bad params, detached) must not
     * republish on every unrelated event.
     */
    fe_reinit = fe == XenbusStateInitialising && dev->fe_seen != fe;
    dev->fe_seen = (int)fe;

    /*
     * We never write Initialising: the toolstack (re)created the device,
     * perhaps for a new domain that got the same domid before we saw the
     * old one die.  Start from scratch.
     */
    be_node = read_long(d, dev->be_path, VACCEL_FIELD_STATE, -1);
    if (be_node == XenbusStateInitialising &&
        dev->state != XenbusStateUnknown) {
        pvad_info("vaccel %u/%u: re-created by the toolstack", dev->fe_domid,
                  dev->devid);
        dev->state = XenbusStateUnknown;
        if (pvad_teardown_start(dev))
            return true;        /* then republished from scratch */
    }
    online = read_long(d, dev->be_path, VACCEL_FIELD_ONLINE, 0);
    if (dev->state == XenbusStateUnknown) {
        /* New, or found after a restart: never reuse anything found. */
        republish(dev, first_state(fe, online));
        if (dev->state != XenbusStateInitWait)
            return true;
    }
    be_node = read_long(d, dev->be_path, VACCEL_FIELD_STATE, -1);
    detach = !online || (be_node == XenbusStateClosing &&
                         dev->state != XenbusStateClosing &&
                         dev->state != XenbusStateClosed);

    switch (dev->state) {
    case XenbusStateInitWait:
        if (detach || fe == XenbusStateClosing || fe == XenbusStateClosed)
            do_close(dev);
        else if (fe == XenbusStateInitialised)
            do_connect(dev);
        break;
    case XenbusStateConnected:
        /* Reinitialising: InitWait after Closed, now or after teardown. */
        if ((detach || fe_lost_connection(fe)) && do_close(dev) && !detach &&
            fe == XenbusStateInitialising)
            republish(dev, XenbusStateInitWait);
        break;
    case XenbusStateClosing:
        if (detach || fe == XenbusStateClosing || fe == XenbusStateClosed)
            do_close(dev);
        else if (fe_reinit)
            republish(dev, XenbusStateInitWait);
        break;
    case XenbusStateClosed:
        if (online && fe_reinit)
            republish(dev, XenbusStateInitWait);
        break;
    default:
        break;
    }
    return true;
}

/* ----------------------------------------------------------- discovery */

static struct pvad_device *find_device(struct pvad *d, uint16_t fe,
                                       unsigned int id)
{
    for (struct pvad_device *dev = d->devices; dev; dev = dev->next)
        if (dev->fe_domid == fe && dev->devid == id)
            return dev;
    return NULL;
}

/*
 * Forget @dev (and with @remove_nodes its backend directory).  A device
 * with a connection is torn down first: it stays on the list, doomed, and
 * is freed when its teardown thread has ended (pvad_xenbus_handle_teardowns),
 * never under it.  Idempotent.
 */
static void device_destroy(struct pvad *d, struct pvad_device *dev,
                           bool remove_nodes)
{
    struct pvad_device **link;

    detach_frontend(dev);
    dev->doomed = true;
    dev->doomed_rm_nodes |= remove_nodes;
    if (pvad_teardown_start(dev))
        return;
    for (link = &d->devices; *link != dev; link = &(*link)->next)
        ;
    *link = dev->next;
    if (dev->doomed_rm_nodes)
        xs(d)->rm(d->xs, NULL, dev->be_path);
    pvad_device_free(dev);
}

static bool parse_id(const char *s, uint64_t max, uint64_t *v)
{
    return pvad_parse_u64(s, max, v) == 0;
}

/* One backend/vaccel/<fe> directory: create devices for new ids. */
static void scan_frontend(struct pvad *d, const char *fe_name)
{
    char path[128];
    unsigned int n;
    uint64_t fe, id;
    char **ids;

    if (!parse_id(fe_name, 0x7fef, &fe))   /* DOMID_FIRST_RESERVED - 1 */
        return;
    snprintf(path, sizeof(path), "%s/%s", d->be_base, fe_name);
    ids = xs(d)->directory(d->xs, NULL, path, &n);
    for (unsigned int i = 0; ids && i < n; i++) {
        struct pvad_device *dev;

        if (!parse_id(ids[i], UINT16_MAX, &id))
            continue;
        dev = find_device(d, (uint16_t)fe, (unsigned int)id);
        if (!dev) {
            dev = pvad_device_new(d, (uint16_t)fe, (unsigned int)id);
            if (!dev) {
                pvad_err("vaccel %s/%s: out of memory", fe_name, ids[i]);
                continue;
            }
            dev->next = d->devices;
            d->devices = dev;
            dev->dirty = true;
            pvad_debug("vaccel %u/%u: found", dev->fe_domid, dev->devid);
        }
        dev->seen_gen = d->scan_gen;
    }
    free(ids);
}

static void scan(struct pvad *d)
{
    unsigned int n;
    char **fes = xs(d)->directory(d->xs, NULL, d->be_base, &n);
    struct pvad_device *dev, *next;

    d->scan_gen++;
    for (unsigned int i = 0; fes && i < n; i++)
        scan_frontend(d, fes[i]);
    free(fes);
    /* Devices whose backend directory the toolstack removed. */
    for (dev = d->devices; dev; dev = next) {
        next = dev->next;
        if (dev->seen_gen != d->scan_gen) {
            pvad_info("vaccel %u/%u: backend directory removed",
                      dev->fe_domid, dev->devid);
            device_destroy(d, dev, false);
        }
    }
}

/*
 * A write under backend/vaccel/<fe>/<id>/: the toolstack's online or
 * state nodes concern that device's machine.
 */
static void mark_backend_path(struct pvad *d, const char *path)
{
    size_t blen = strlen(d->be_base);
    unsigned int fe, id;
    char node[32] = "";

    if (strncmp(path, d->be_base, blen) || path[blen] != '/')
        return;
    if (sscanf(path + blen, "/%u/%u/%31s", &fe, &id, node) == 3 &&
        (!strcmp(node, VACCEL_FIELD_ONLINE) ||
         !strcmp(node, VACCEL_FIELD_STATE))) {
        struct pvad_device *dev = find_device(d, (uint16_t)fe, id);

        if (dev)
            dev->dirty = true;
    }
}

static void mark_token(struct pvad *d, const char *token)
{
    for (struct pvad_device *dev = d->devices; dev; dev = dev->next)
        if (!strcmp(dev->token, token))
            dev->dirty = true;
}

/* Each dirty device's machine (@all: every device's) runs once. */
static void run_machines(struct pvad *d, bool all)
{
    struct pvad_device *dev, *next;

    for (dev = d->devices; dev; dev = next) {
        next = dev->next;
        if (!dev->dirty && !all)
            continue;
        dev->dirty = false;
        if (!dev->doomed && !device_step(dev))
            device_destroy(d, dev, true);
    }
}

void pvad_xenbus_handle_watches(struct pvad *d)
{
    bool rescan = false, release = false;
    char *path, *token;

    /* Coalesce: drain every queued event before acting on any. */
    while (xs(d)->read_watch(d->xs, &path, &token) == 0) {
        /* Tokens are ours; xenstore paths are [A-Za-z0-9/_@-] only. */
        pvad_debug("watch %s %s", token, path);
        if (!strcmp(token, TOKEN_BACKEND)) {
            rescan = true;
            mark_backend_path(d, path);
        } else if (!strcmp(token, TOKEN_RELEASE)) {
            release = true;
        } else {
            mark_token(d, token);
        }
        free(path);
        free(token);
    }
    if (rescan)
        scan(d);
    run_machines(d, release);
}

void pvad_xenbus_handle_teardowns(struct pvad *d)
{
    struct pvad_device *dev, *next;
    bool rescan = false;
    uint64_t v;

    if (read(d->teardown_fd, &v, sizeof(v)) < 0) {
        /* EAGAIN: the teardowns it counted were reaped already. */
    }
    for (dev = d->devices; dev; dev = next) {
        next = dev->next;
        if (!pvad_teardown_reap(dev))
            continue;
        if (dev->doomed) {
            device_destroy(d, dev, false);
            /* It hid a backend directory the toolstack made again. */
            rescan = true;
        } else {
            teardown_ended(dev);
        }
    }
    if (rescan)
        scan(d);
    run_machines(d, false);
}

int pvad_xenbus_init(struct pvad *d)
{
    int self = xs(d)->self_domid(d->xs);

    if (self < 0)
        return self;
    d->self_domid = self;
    snprintf(d->be_base, sizeof(d->be_base), "/local/domain/%d/backend/%s",
             self, VACCEL_DEVICE_TYPE);
    if (pvad_teardown_init(d))
        return -EIO;
    if (xs(d)->watch(d->xs, d->be_base, TOKEN_BACKEND) ||
        xs(d)->watch(d->xs, "@releaseDomain", TOKEN_RELEASE)) {
        pvad_teardown_fini(d);
        return -EIO;
    }
    /* Watches fire once when set, which runs the first scan. */
    return 0;
}

/*
 * Orderly exit (accelif.h): every connection is torn down, all at once,
 * then each device says Closed and is freed.  The exit waits for the
 * teardowns, which the cancelled engine work keeps short.
 */
void pvad_xenbus_shutdown(struct pvad *d)
{
    struct pvad_device *dev;

    for (dev = d->devices; dev; dev = dev->next) {
        detach_frontend(dev);
        if (dev->connected && !dev->tearing_down) {
            set_state(dev, XenbusStateClosing);
            pvad_teardown_start(dev);
        }
    }
    while ((dev = d->devices)) {
        if (dev->connected) {
            pvad_teardown_wait(dev);
            pvad_info("vaccel %u/%u: disconnected", dev->fe_domid,
                      dev->devid);
        }
        /* A doomed device's directory is gone: do not write it again. */
        if (!dev->doomed && dev->state != XenbusStateUnknown)
            set_state(dev, XenbusStateClosed);
        device_destroy(d, dev, false);
    }
    xs(d)->unwatch(d->xs, "@releaseDomain", TOKEN_RELEASE);
    xs(d)->unwatch(d->xs, d->be_base, TOKEN_BACKEND);
    pvad_teardown_fini(d);
}
