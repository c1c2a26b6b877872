/* SPDX-License-Identifier: MIT */
/*
 * ctl-xs.c: the xenstore helpers of pvaccel-ctl, over the platform
 * layer's xenstore ops (platform/platform.h), so that the same tool runs
 * against xenstored and the sim.  The lowest layer of tools/ctl.h.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ctl.h"

int ctl_open(struct ctl *c)
{
    char err[512];

    c->p = pva_platform_open(c->platform, err, sizeof(err));
    if (!c->p) {
        fprintf(stderr, "pvaccel-ctl: %s\n", err);
        return -1;
    }
    c->xs = c->p->xs->open(c->p);
    if (!c->xs) {
        fprintf(stderr, "pvaccel-ctl: xenstore: %s\n", strerror(errno));
        pva_platform_close(c->p);
        c->p = NULL;
        return -1;
    }
    return 0;
}

void ctl_close(struct ctl *c)
{
    if (c->xs)
        c->p->xs->close(c->xs);
    if (c->p)
        pva_platform_close(c->p);
    c->xs = NULL;
    c->p = NULL;
}

int ctl_path(char *buf, size_t len, const char *dir, const char *node)
{
    int n = snprintf(buf, len, "%s/%s", dir, node);

    return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

char *ctl_read(struct ctl *c, struct pva_xs_txn *t, const char *dir,
               const char *node)
{
    char path[256];

    if (ctl_path(path, sizeof(path), dir, node) < 0) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    return c->p->xs->read(c->xs, t, path, NULL);
}

/* Decimal, no sign: what accelif.h and xenbus nodes hold. */
long ctl_read_long(struct ctl *c, struct pva_xs_txn *t, const char *dir,
                   const char *node, long def)
{
    char *s = ctl_read(c, t, dir, node), *end;
    long v;

    if (!s)
        return def;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > INT32_MAX)
        v = def;
    free(s);
    return v;
}

int ctl_printf(struct ctl *c, struct pva_xs_txn *t, const char *dir,
               const char *node, const char *fmt, ...)
{
    char path[256], val[CTL_PARAMS_MAX + 1];
    va_list ap;
    int n;

    if (ctl_path(path, sizeof(path), dir, node) < 0)
        return -ENAMETOOLONG;
    va_start(ap, fmt);
    n = vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(val))
        return -E2BIG;
    return c->p->xs->write(c->xs, t, path, val, (unsigned int)n);
}

int ctl_in_transaction(struct ctl *c,
                       int (*fn)(struct ctl *c, struct pva_xs_txn *t,
                                 void *arg),
                       void *arg)
{
    for (;;) {
        struct pva_xs_txn *t = c->p->xs->txn_start(c->xs);
        int err;

        if (!t)
            return -errno;
        err = fn(c, t, arg);
        if (err < 0) {
            c->p->xs->txn_end(c->xs, t, true);
            return err;
        }
        err = c->p->xs->txn_end(c->xs, t, false);
        if (err != -EAGAIN)
            return err;
    }
}

/*
 * Callers re-read what they wait for after each event: events coalesce
 * and a watch fires once when set, so an event means "look again".
 */
int ctl_wait_watch(struct ctl *c, long ms)
{
    struct pollfd pfd = { .fd = c->p->xs->watch_fd(c->xs), .events = POLLIN };
    char *path, *token;
    int got = 0, rc;

    while (c->p->xs->read_watch(c->xs, &path, &token) == 0) {
        free(path);
        free(token);
        got = 1;
    }
    if (got)
        return 0;
    rc = poll(&pfd, 1, ms < 0 ? -1 : (int)ms);
    if (rc < 0)
        return errno == EINTR ? 0 : -errno;
    if (rc == 0)
        return -ETIMEDOUT;
    while (c->p->xs->read_watch(c->xs, &path, &token) == 0) {
        free(path);
        free(token);
    }
    return 0;
}
