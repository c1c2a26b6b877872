/* SPDX-License-Identifier: MIT */
/*
 * ctl-device.c: a vaccel device's two xenstore directories, written and
 * removed the way libxl does it for a PV device.
 *
 * attach creates, in one transaction, the backend directory (owned by
 * the backend domain, readable by the frontend) and the frontend
 * directory (owned by the frontend domain, readable by the backend), both
 * in XenbusStateInitialising, with online = 1 in the backend.  detach
 * writes online = 0 and asks the backend to close in one transaction,
 * waits for it to reach Closed (10 s at most, as libxl), then removes
 * both directories.  remove is what is left to do once the frontend's
 * domain is gone: its directory went with the domain, the backend's is
 * the toolstack's to remove (libxl__device_destroy for devices libxl
 * knows; vaccel is not one of them).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xen/io/xenbus.h>

#include "accelif.h"
#include "tools/ctl.h"

void ctl_dev_paths(struct ctl_dev *dev)
{
    snprintf(dev->fe_path, sizeof(dev->fe_path),
             "/local/domain/%d/device/%s/%d", dev->fe, VACCEL_DEVICE_TYPE,
             dev->devid);
    snprintf(dev->be_path, sizeof(dev->be_path),
             "/local/domain/%d/backend/%s/%d/%d", dev->be, VACCEL_DEVICE_TYPE,
             dev->fe, dev->devid);
}

static int make_dirs(struct ctl *c, struct pva_xs_txn *t,
                     const struct ctl_dev *dev)
{
    const struct pva_xs_acl fe_acl[] = {
        { (pva_domid_t)dev->fe, PVA_XS_PERM_NONE },
        { (pva_domid_t)dev->be, PVA_XS_PERM_READ },
    };
    const struct pva_xs_acl be_acl[] = {
        { (pva_domid_t)dev->be, PVA_XS_PERM_NONE },
        { (pva_domid_t)dev->fe, PVA_XS_PERM_READ },
    };
    const struct pva_xs_ops *xs = c->p->xs;
    int err;

    if ((err = xs->mkdir(c->xs, t, dev->be_path)) < 0 ||
        (err = xs->set_perms(c->xs, t, dev->be_path, be_acl, 2)) < 0 ||
        (err = xs->mkdir(c->xs, t, dev->fe_path)) < 0 ||
        (err = xs->set_perms(c->xs, t, dev->fe_path, fe_acl, 2)) < 0)
        return err;
    return 0;
}

/* Write one device's two directories; -EEXIST if it is already there. */
static int attach_txn(struct ctl *c, struct pva_xs_txn *t, void *arg)
{
    const struct ctl_dev *dev = arg;
    char *old = c->p->xs->read(c->xs, t, dev->be_path, NULL);
    int err;

    if (old) {
        free(old);
        return -EEXIST;
    }
    if ((err = make_dirs(c, t, dev)) < 0)
        return err;
    if ((err = ctl_printf(c, t, dev->be_path, VACCEL_FIELD_FRONTEND, "%s",
                          dev->fe_path)) < 0 ||
        (err = ctl_printf(c, t, dev->be_path, VACCEL_FIELD_FRONTEND_ID, "%d",
                          dev->fe)) < 0 ||
        (err = ctl_printf(c, t, dev->be_path, VACCEL_FIELD_ONLINE, "1")) < 0 ||
        (err = ctl_printf(c, t, dev->be_path, VACCEL_FIELD_PARAMS, "%s",
                          dev->params)) < 0 ||
        (err = ctl_printf(c, t, dev->be_path, VACCEL_FIELD_STATE, "%d",
                          XenbusStateInitialising)) < 0)
        return err;
    if ((err = ctl_printf(c, t, dev->fe_path, VACCEL_FIELD_BACKEND, "%s",
                          dev->be_path)) < 0 ||
        (err = ctl_printf(c, t, dev->fe_path, VACCEL_FIELD_BACKEND_ID, "%d",
                          dev->be)) < 0 ||
        (err = ctl_printf(c, t, dev->fe_path, VACCEL_FIELD_STATE, "%d",
                          XenbusStateInitialising)) < 0)
        return err;
    return 0;
}

int ctl_dev_attach(struct ctl *c, struct ctl_dev *dev)
{
    return ctl_in_transaction(c, attach_txn, dev);
}

/*
 * online = 0 and, for a backend that serves the device, state = Closing,
 * in one transaction as libxl does: written apart, a backend that reacts
 * to online = 0 may reach Closed before our Closing overwrites it.
 */
static int detach_txn(struct ctl *c, struct pva_xs_txn *t, void *arg)
{
    const struct ctl_dev *dev = arg;
    char *v = ctl_read(c, t, dev->be_path, VACCEL_FIELD_STATE);
    int state, err;

    if (!v)
        return -errno;
    state = atoi(v);
    free(v);
    err = ctl_printf(c, t, dev->be_path, VACCEL_FIELD_ONLINE, "0");
    if (err < 0 || state == XenbusStateInitialising ||
        state == XenbusStateClosed)
        return err;
    return ctl_printf(c, t, dev->be_path, VACCEL_FIELD_STATE, "%d",
                      XenbusStateClosing);
}

static long ms_since(const struct timespec *t0)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t0->tv_sec) * 1000 +
           (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * Wait until the backend reports Closed (or its directory vanished), at
 * most DETACH_TIMEOUT_MS as libxl does: a backend that is not running
 * never answers, and the device is then removed all the same.
 */
#define DETACH_TIMEOUT_MS 10000

static int wait_backend_closed(struct ctl *c, const struct ctl_dev *dev)
{
    char path[256];
    struct timespec t0;
    int err;

    if ((err = ctl_path(path, sizeof(path), dev->be_path,
                        VACCEL_FIELD_STATE)) < 0 ||
        (err = c->p->xs->watch(c->xs, path, "detach")) < 0)
        return err;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        long state = ctl_read_long(c, NULL, dev->be_path, VACCEL_FIELD_STATE,
                                   -1);
        long left = DETACH_TIMEOUT_MS - ms_since(&t0);

        if (state < 0 || state == XenbusStateClosed ||
            state == XenbusStateInitialising)
            break;
        if (left <= 0) {
            err = -ETIMEDOUT;
            break;
        }
        if ((err = ctl_wait_watch(c, left)) < 0 && err != -ETIMEDOUT)
            break;
        err = 0;
    }
    c->p->xs->unwatch(c->xs, path, "detach");
    return err;
}

int ctl_dev_detach(struct ctl *c, struct ctl_dev *dev, int *close_err)
{
    int err = ctl_in_transaction(c, detach_txn, dev);

    if (err < 0)
        return err;
    /* A backend that is serving the device closes it; wait for that. */
    *close_err = wait_backend_closed(c, dev);
    ctl_dev_remove(c, dev);
    return 0;
}

/* Remove backend/vaccel/<fe> if no device is left in it. */
static int rm_empty_txn(struct ctl *c, struct pva_xs_txn *t, void *arg)
{
    const char *dir = arg;
    unsigned int n = 0;
    char **names = c->p->xs->directory(c->xs, t, dir, &n);

    if (!names)
        return errno == ENOENT ? 0 : -errno;
    free(names);
    return n ? 0 : c->p->xs->rm(c->xs, t, dir);
}

void ctl_dev_remove(struct ctl *c, const struct ctl_dev *dev)
{
    char parent[96];
    char *slash;

    c->p->xs->rm(c->xs, NULL, dev->fe_path);
    c->p->xs->rm(c->xs, NULL, dev->be_path);
    /* As libxl__xs_path_cleanup: no empty directory left behind. */
    snprintf(parent, sizeof(parent), "%s", dev->be_path);
    slash = strrchr(parent, '/');
    if (slash) {
        *slash = '\0';
        ctl_in_transaction(c, rm_empty_txn, parent);
    }
}
