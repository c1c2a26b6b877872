/* SPDX-License-Identifier: MIT */
/*
 * pvaccel-ctl: dom0 administration of vaccel devices.
 *
 *   pvaccel-ctl [--platform P] attach FE_DOMID [--devid N]
 *               [--backend-domid B] [--params S]
 *   pvaccel-ctl [--platform P] detach FE_DOMID [--devid N]
 *               [--backend-domid B]
 *
 * attach does what libxl does for a PV device: in one transaction it
 * creates the backend directory (owned by the backend domain, readable by
 * the frontend) and the frontend directory (owned by the frontend domain,
 * readable by the backend), both in XenbusStateInitialising, with
 * online = 1 in the backend.  detach writes online = 0 and asks the backend
 * to close in one transaction, waits for it to reach Closed (10 s at most,
 * as libxl), then removes both directories.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xen/io/xenbus.h>

#include "accelif.h"
#include "platform/platform.h"

struct ctl {
    struct pva_platform *p;
    struct pva_xs *xs;
    int fe, be, devid;
    const char *params;
    char fe_path[128];
    char be_path[128];
};

static int xs_printf(struct ctl *c, struct pva_xs_txn *t, const char *dir,
                     const char *node, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int xs_printf(struct ctl *c, struct pva_xs_txn *t, const char *dir,
                     const char *node, const char *fmt, ...)
{
    char path[256], val[256];
    va_list ap;

    snprintf(path, sizeof(path), "%s/%s", dir, node);
    va_start(ap, fmt);
    vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    return c->p->xs->write(c->xs, t, path, val, (unsigned int)strlen(val));
}

/* Write one device's two directories; -EEXIST if it is already there. */
static int attach_txn(struct ctl *c, struct pva_xs_txn *t)
{
    const struct pva_xs_acl fe_acl[] = {
        { (pva_domid_t)c->fe, PVA_XS_PERM_NONE },
        { (pva_domid_t)c->be, PVA_XS_PERM_READ },
    };
    const struct pva_xs_acl be_acl[] = {
        { (pva_domid_t)c->be, PVA_XS_PERM_NONE },
        { (pva_domid_t)c->fe, PVA_XS_PERM_READ },
    };
    unsigned int len;
    char *old = c->p->xs->read(c->xs, t, c->be_path, &len);
    int err;

    if (old) {
        free(old);
        return -EEXIST;
    }
    if ((err = c->p->xs->mkdir(c->xs, t, c->be_path)) < 0 ||
        (err = c->p->xs->set_perms(c->xs, t, c->be_path, be_acl, 2)) < 0 ||
        (err = c->p->xs->mkdir(c->xs, t, c->fe_path)) < 0 ||
        (err = c->p->xs->set_perms(c->xs, t, c->fe_path, fe_acl, 2)) < 0)
        return err;
    if ((err = xs_printf(c, t, c->be_path, VACCEL_FIELD_FRONTEND, "%s",
                         c->fe_path)) < 0 ||
        (err = xs_printf(c, t, c->be_path, VACCEL_FIELD_FRONTEND_ID, "%d",
                         c->fe)) < 0 ||
        (err = xs_printf(c, t, c->be_path, VACCEL_FIELD_ONLINE, "1")) < 0 ||
        (err = xs_printf(c, t, c->be_path, VACCEL_FIELD_PARAMS, "%s",
                         c->params ? c->params : "")) < 0 ||
        (err = xs_printf(c, t, c->be_path, VACCEL_FIELD_STATE, "%d",
                         XenbusStateInitialising)) < 0)
        return err;
    if ((err = xs_printf(c, t, c->fe_path, VACCEL_FIELD_BACKEND, "%s",
                         c->be_path)) < 0 ||
        (err = xs_printf(c, t, c->fe_path, VACCEL_FIELD_BACKEND_ID, "%d",
                         c->be)) < 0 ||
        (err = xs_printf(c, t, c->fe_path, VACCEL_FIELD_STATE, "%d",
                         XenbusStateInitialising)) < 0)
        return err;
    return 0;
}

/* Run @fn in a transaction, redoing it while it conflicts. */
static int in_transaction(struct ctl *c,
                          int (*fn)(struct ctl *c, struct pva_xs_txn *t))
{
    for (;;) {
        struct pva_xs_txn *t = c->p->xs->txn_start(c->xs);
        int err;

        if (!t)
            return -errno;
        err = fn(c, t);
        if (err < 0) {
            c->p->xs->txn_end(c->xs, t, true);
            return err;
        }
        err = c->p->xs->txn_end(c->xs, t, false);
        if (err != -EAGAIN)
            return err;
    }
}

static int read_state(struct ctl *c, const char *dir)
{
    char path[256], *v;
    int state;

    snprintf(path, sizeof(path), "%s/%s", dir, VACCEL_FIELD_STATE);
    v = c->p->xs->read(c->xs, NULL, path, NULL);
    if (!v)
        return -errno;
    state = atoi(v);
    free(v);
    return state;
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

static int wait_backend_closed(struct ctl *c)
{
    char path[256];
    struct pollfd pfd;
    struct timespec t0;
    int err;

    snprintf(path, sizeof(path), "%s/%s", c->be_path, VACCEL_FIELD_STATE);
    err = c->p->xs->watch(c->xs, path, "detach");
    if (err < 0)
        return err;
    pfd.fd = c->p->xs->watch_fd(c->xs);
    pfd.events = POLLIN;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (err = 0; !err;) {
        int state = read_state(c, c->be_path);
        char *wpath, *token;

        if (state < 0 || state == XenbusStateClosed ||
            state == XenbusStateInitialising)
            break;
        while (!err && c->p->xs->read_watch(c->xs, &wpath, &token) == -EAGAIN) {
            long left = DETACH_TIMEOUT_MS - ms_since(&t0);

            if (left <= 0 || (poll(&pfd, 1, (int)left) < 0 && errno != EINTR))
                err = left <= 0 ? -ETIMEDOUT : -errno;
        }
        if (!err) {
            free(wpath);
            free(token);
        }
    }
    c->p->xs->unwatch(c->xs, path, "detach");
    return err;
}

static int cmd_attach(struct ctl *c)
{
    int err = in_transaction(c, attach_txn);

    if (err == -EEXIST)
        fprintf(stderr, "pvaccel-ctl: vaccel device %d of domain %d "
                "already exists (%s)\n", c->devid, c->fe, c->be_path);
    else if (err < 0)
        fprintf(stderr, "pvaccel-ctl: attach: %s\n", strerror(-err));
    else
        printf("attached vaccel device %d of domain %d (backend domain "
               "%d)\n", c->devid, c->fe, c->be);
    return err < 0 ? 1 : 0;
}

/*
 * online = 0 and, for a backend that serves the device, state = Closing,
 * in one transaction as libxl does: written apart, a backend that reacts
 * to online = 0 may reach Closed before our Closing overwrites it.
 */
static int detach_txn(struct ctl *c, struct pva_xs_txn *t)
{
    char path[256], *v;
    int state, err;

    snprintf(path, sizeof(path), "%s/%s", c->be_path, VACCEL_FIELD_STATE);
    v = c->p->xs->read(c->xs, t, path, NULL);
    if (!v)
        return -errno;
    state = atoi(v);
    free(v);
    err = xs_printf(c, t, c->be_path, VACCEL_FIELD_ONLINE, "0");
    if (err < 0 || state == XenbusStateInitialising ||
        state == XenbusStateClosed)
        return err;
    return xs_printf(c, t, c->be_path, VACCEL_FIELD_STATE, "%d",
                     XenbusStateClosing);
}

static int cmd_detach(struct ctl *c)
{
    int err = in_transaction(c, detach_txn);

    if (err == -ENOENT) {
        fprintf(stderr, "pvaccel-ctl: no vaccel device %d of domain %d\n",
                c->devid, c->fe);
        return 1;
    }
    if (err < 0) {
        fprintf(stderr, "pvaccel-ctl: detach: %s\n", strerror(-err));
        return 1;
    }
    /* A backend that is serving the device closes it; wait for that. */
    err = wait_backend_closed(c);
    if (err < 0)
        fprintf(stderr, "pvaccel-ctl: the backend did not close the device "
                "(%s); removing it anyway\n", strerror(-err));
    c->p->xs->rm(c->xs, NULL, c->fe_path);
    c->p->xs->rm(c->xs, NULL, c->be_path);
    printf("detached vaccel device %d of domain %d\n", c->devid, c->fe);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pvaccel-ctl [--platform xen|sim|auto] COMMAND ...\n"
            "  attach FE_DOMID [--devid N] [--backend-domid B] [--params S]\n"
            "  detach FE_DOMID [--devid N] [--backend-domid B]\n");
}

static int parse_int(const char *s, int max, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < 0 || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "platform", required_argument, NULL, 'P' },
        { "devid", required_argument, NULL, 'd' },
        { "backend-domid", required_argument, NULL, 'b' },
        { "params", required_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct ctl c = { .be = 0 };
    const char *platform = getenv("PVACCEL_PLATFORM");
    const char *cmd;
    char err[512];
    int opt, rc;

    while ((opt = getopt_long(argc, argv, "P:d:b:p:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'P': platform = optarg; break;
        case 'p': c.params = optarg; break;
        case 'd':
            if (parse_int(optarg, 0xffff, &c.devid) < 0)
                goto bad;
            break;
        case 'b':
            if (parse_int(optarg, 0x7fef, &c.be) < 0)
                goto bad;
            break;
        case 'h': usage(stdout); return 0;
        default: goto bad;
        }
    }
    if (argc - optind != 2 || parse_int(argv[optind + 1], 0x7fef, &c.fe) < 0)
        goto bad;
    cmd = argv[optind];
    snprintf(c.fe_path, sizeof(c.fe_path), "/local/domain/%d/device/%s/%d",
             c.fe, VACCEL_DEVICE_TYPE, c.devid);
    snprintf(c.be_path, sizeof(c.be_path),
             "/local/domain/%d/backend/%s/%d/%d", c.be, VACCEL_DEVICE_TYPE,
             c.fe, c.devid);
    c.p = pva_platform_open(platform, err, sizeof(err));
    if (!c.p) {
        fprintf(stderr, "pvaccel-ctl: %s\n", err);
        return 1;
    }
    c.xs = c.p->xs->open(c.p);
    if (!c.xs) {
        fprintf(stderr, "pvaccel-ctl: xenstore: %s\n", strerror(errno));
        pva_platform_close(c.p);
        return 1;
    }
    if (!strcmp(cmd, "attach"))
        rc = cmd_attach(&c);
    else if (!strcmp(cmd, "detach"))
        rc = cmd_detach(&c);
    else
        rc = -1;
    c.p->xs->close(c.xs);
    pva_platform_close(c.p);
    if (rc >= 0)
        return rc;
bad:
    usage(stderr);
    return 2;
}
