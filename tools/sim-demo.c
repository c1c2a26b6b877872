/* SPDX-License-Identifier: MIT */
/*
 * pvaccel-sim-demo: a grant + event channel + xenstore exchange between a
 * guest and dom0, through the platform layer only, so it runs unchanged on
 * the sim and on Xen.
 *
 *   pvaccel-sim-demo guest [--rounds N]   in the domU
 *   pvaccel-sim-demo backend GUEST_DOMID  in dom0
 *
 * The guest shares one page with dom0, allocates an event channel for it,
 * and publishes both under its xenstore data/demo/ directory.  dom0 watches
 * that directory, maps the page, reads the guest's message, writes a reply,
 * binds the event channel and notifies.  Then both sides ping-pong N events
 * through a counter in the shared page and the guest reports the round-trip
 * time.  Finally dom0 unmaps and says so, and the guest ends its grant,
 * which the grant table refuses while the page is still mapped.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "platform/platform.h"

struct shared_page {
    char guest_msg[256];
    char backend_msg[256];
    _Atomic uint32_t ping; /* written by the guest */
    _Atomic uint32_t pong; /* written by dom0 */
};

struct demo {
    struct pva_platform *p;
    struct pva_xs *xs;
    struct pva_evtchn *ev;
    int self;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what, int err)
{
    fprintf(stderr, "pvaccel-sim-demo: %s: %s\n", what, strerror(-err));
    return 1;
}

/* Block until an event arrives on @port (events are doorbells). */
static int wait_event(struct demo *d, pva_port_t port)
{
    struct pollfd pfd = { .fd = d->p->evtchn->fd(d->ev), .events = POLLIN };

    for (;;) {
        int got = d->p->evtchn->pending(d->ev);

        if (got >= 0) {
            d->p->evtchn->unmask(d->ev, (pva_port_t)got);
            if ((pva_port_t)got == port)
                return 0;
            continue;
        }
        if (got != -EAGAIN)
            return got;
        if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
            return -errno;
    }
}

/* Block until @path reads @want (a watch fires, then re-read). */
static int wait_node(struct demo *d, const char *path, const char *want)
{
    struct pollfd pfd;
    int err = d->p->xs->watch(d->xs, path, "demo");

    if (err < 0)
        return err;
    pfd.fd = d->p->xs->watch_fd(d->xs);
    pfd.events = POLLIN;
    for (;;) {
        char *v = d->p->xs->read(d->xs, NULL, path, NULL);
        char *wpath, *token;
        bool done = v && !strcmp(v, want);

        free(v);
        if (done)
            break;
        while (d->p->xs->read_watch(d->xs, &wpath, &token) == -EAGAIN)
            if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                return -errno;
        free(wpath);
        free(token);
    }
    d->p->xs->unwatch(d->xs, path, "demo");
    return 0;
}

static int write_str(struct demo *d, const char *path, const char *v)
{
    return d->p->xs->write(d->xs, NULL, path, v, (unsigned int)strlen(v));
}

static long read_long(struct demo *d, const char *path)
{
    char *v = d->p->xs->read(d->xs, NULL, path, NULL);
    long n = v ? strtol(v, NULL, 10) : -1;

    free(v);
    return n;
}

static int run_guest(struct demo *d, unsigned int rounds)
{
    struct pva_gntshr *gs = d->p->gntshr->open(d->p);
    struct shared_page *page;
    pva_gref_t ref;
    char buf[64];
    double t0, dt;
    int port, err;

    if (!gs)
        return fail("open gntshr", -errno);
    page = d->p->gntshr->share(gs, 0, 1, &ref, true);
    if (!page)
        return fail("share a page with dom0", -errno);
    snprintf(page->guest_msg, sizeof(page->guest_msg),
             "hello from domain %d", d->self);
    port = d->p->evtchn->bind_unbound(d->ev, 0);
    if (port < 0)
        return fail("allocate an event channel", port);
    printf("guest:   domain %d shared page ref %u, event channel %d\n",
           d->self, ref, port);
    snprintf(buf, sizeof(buf), "%u", ref);
    write_str(d, "data/demo/ring-ref", buf);
    snprintf(buf, sizeof(buf), "%d", port);
    write_str(d, "data/demo/event-channel", buf);
    snprintf(buf, sizeof(buf), "%u", rounds);
    write_str(d, "data/demo/rounds", buf);
    err = write_str(d, "data/demo/state", "ready");
    if (err < 0)
        return fail("publish in xenstore", err);

    err = wait_event(d, (pva_port_t)port);
    if (err < 0)
        return fail("wait for dom0's event", err);
    printf("guest:   dom0 answered: \"%s\"\n", page->backend_msg);

    t0 = now_s();
    for (uint32_t i = 1; i <= rounds; i++) {
        atomic_store_explicit(&page->ping, i, memory_order_release);
        d->p->evtchn->notify(d->ev, (pva_port_t)port);
        while (atomic_load_explicit(&page->pong, memory_order_acquire) != i)
            if ((err = wait_event(d, (pva_port_t)port)) < 0)
                return fail("ping-pong", err);
    }
    dt = now_s() - t0;
    printf("guest:   %u event round trips in %.3f s (%.1f us each)\n",
           rounds, dt, rounds ? dt * 1e6 / rounds : 0.0);

    /* Only the sim can say so: Linux gntalloc defers the end silently. */
    if (d->p->kind == PVA_PLATFORM_SIM) {
        err = d->p->gntshr->unshare(gs, page, 1);
        printf("guest:   ending the grant while dom0 maps it: %s (refused, "
               "as expected)\n", err == -EBUSY ? "EBUSY" : strerror(-err));
        if (err != -EBUSY)
            return fail("grant end while mapped", err ? err : -EINVAL);
    }
    write_str(d, "data/demo/state", "ending");
    err = wait_node(d, "data/demo/state", "unmapped");
    if (err < 0)
        return fail("wait for dom0 to unmap", err);
    err = d->p->gntshr->unshare(gs, page, 1);
    if (err < 0)
        return fail("end the grant", err);
    printf("guest:   dom0 unmapped; grant ended\n");
    d->p->gntshr->close(gs);
    return 0;
}

static int run_backend(struct demo *d, int guest)
{
    struct pva_gntmap *gm = d->p->gntmap->open(d->p);
    struct shared_page *page;
    char path[128];
    long ref, rport, rounds;
    int port, err;

    if (!gm)
        return fail("open gntmap", -errno);
    snprintf(path, sizeof(path), "/local/domain/%d/data/demo/state", guest);
    err = wait_node(d, path, "ready");
    if (err < 0)
        return fail("wait for the guest", err);
    snprintf(path, sizeof(path), "/local/domain/%d/data/demo/ring-ref", guest);
    ref = read_long(d, path);
    snprintf(path, sizeof(path), "/local/domain/%d/data/demo/event-channel",
             guest);
    rport = read_long(d, path);
    snprintf(path, sizeof(path), "/local/domain/%d/data/demo/rounds", guest);
    rounds = read_long(d, path);
    if (ref < 0 || rport <= 0 || rounds < 0)
        return fail("read the guest's nodes", -EPROTO);

    page = d->p->gntmap->map(gm, (pva_domid_t)guest, 1,
                             &(pva_gref_t){ (pva_gref_t)ref }, true);
    if (!page)
        return fail("map the guest's grant", -errno);
    printf("backend: mapped ref %ld of domain %d: \"%.*s\"\n", ref, guest,
           (int)sizeof(page->guest_msg), page->guest_msg);
    snprintf(page->backend_msg, sizeof(page->backend_msg),
             "hello domain %d, this is dom0", guest);
    port = d->p->evtchn->bind_interdomain(d->ev, (pva_domid_t)guest,
                                          (pva_port_t)rport);
    if (port < 0)
        return fail("bind the guest's event channel", port);
    printf("backend: bound event channel %ld of domain %d as port %d\n",
           rport, guest, port);
    d->p->evtchn->notify(d->ev, (pva_port_t)port);

    for (uint32_t i = 1; i <= (uint32_t)rounds; i++) {
        while (atomic_load_explicit(&page->ping, memory_order_acquire) != i)
            if ((err = wait_event(d, (pva_port_t)port)) < 0)
                return fail("ping-pong", err);
        atomic_store_explicit(&page->pong, i, memory_order_release);
        d->p->evtchn->notify(d->ev, (pva_port_t)port);
    }
    /* The guest tries to end its grant while we map it: it is refused. */
    snprintf(path, sizeof(path), "/local/domain/%d/data/demo/state", guest);
    err = wait_node(d, path, "ending");
    if (err < 0)
        return fail("wait for the guest's grant end", err);
    d->p->gntmap->unmap(gm, page, 1);
    d->p->evtchn->unbind(d->ev, (pva_port_t)port);
    err = write_str(d, path, "unmapped");
    if (err < 0)
        return fail("tell the guest", err);
    printf("backend: served %ld round trips, unmapped, unbound\n", rounds);
    d->p->gntmap->close(gm);
    return 0;
}

int main(int argc, char **argv)
{
    char err[512];
    struct demo d = { 0 };
    unsigned int rounds = 1000;
    int rc;

    setvbuf(stdout, NULL, _IOLBF, 0); /* two processes share the terminal */
    if (argc < 2 || (strcmp(argv[1], "guest") && strcmp(argv[1], "backend")) ||
        (!strcmp(argv[1], "backend") && argc != 3)) {
        fprintf(stderr, "usage: pvaccel-sim-demo guest [--rounds N]\n"
                        "       pvaccel-sim-demo backend GUEST_DOMID\n");
        return 2;
    }
    if (!strcmp(argv[1], "guest") && argc == 4 && !strcmp(argv[2], "--rounds"))
        rounds = (unsigned int)strtoul(argv[3], NULL, 10);
    d.p = pva_platform_open(getenv("PVACCEL_PLATFORM"), err, sizeof(err));
    if (!d.p) {
        fprintf(stderr, "pvaccel-sim-demo: %s\n", err);
        return 1;
    }
    d.xs = d.p->xs->open(d.p);
    d.ev = d.p->evtchn->open(d.p);
    if (!d.xs || !d.ev)
        return fail("open xenstore and event channels", -errno);
    d.self = d.p->xs->self_domid(d.xs);
    if (d.self < 0)
        return fail("read own domid", d.self);
    if (!strcmp(argv[1], "guest"))
        rc = run_guest(&d, rounds);
    else
        rc = run_backend(&d, atoi(argv[2]));
    d.p->evtchn->close(d.ev);
    d.p->xs->close(d.xs);
    pva_platform_close(d.p);
    return rc;
}
