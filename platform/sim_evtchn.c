/* SPDX-License-Identifier: MIT */
/*
 * sim_evtchn.c: sim event channels, a handle as Linux's /dev/xen/evtchn.
 *
 * Each bound port has an eventfd from the daemon: its counter is the
 * port's pending bit (notifies add to it and so coalesce; a read clears
 * it).  The handle's pollable fd is an epoll set holding its ports'
 * eventfds with EPOLLONESHOT: pending() takes one ready port, clears its
 * bit and leaves it disarmed, which is "masked" as the Linux driver masks
 * a delivered port; unmask() re-arms it, and it fires at once if
 * notified meanwhile.
 *
 * notify() writes the peer port's eventfd directly, no daemon round trip.
 * It first checks, with one atomic load, the port's generation in the
 * domain's read-only generation page (sim/evtchn.c); only when it moved
 * (the peer bound, closed or rebound) does it ask the daemon where
 * notifications go now.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>

#include "platform/sim.h"
#include "sim/client.h"

/* Remote domids go to the daemon as they are, DOMID_SELF included. */
_Static_assert(PVA_DOMID_SELF == SIM_DOMID_SELF,
               "the platform and the sim protocol agree on DOMID_SELF");

struct evtchn_port {
    int fd;          /* our pending bit; -1: not bound by this handle */
    int peer_fd;     /* where notify() writes; -1: dropped (unbound) */
    uint32_t gen;    /* generation peer_fd is valid for */
    bool masked;
};

struct pva_evtchn {
    struct sim_client cli;
    int epfd;
    uint32_t max_port;
    const uint32_t *gen;  /* the domain's generation page, read-only */
    size_t gen_size;
    struct evtchn_port *ports;  /* [max_port + 1] */
};

static void port_reset(struct evtchn_port *p)
{
    *p = (struct evtchn_port){ .fd = -1, .peer_fd = -1 };
}

/* SIM_EVTCHN_OPEN: map the generation page, size the port table. */
static int handle_init(struct pva_evtchn *h)
{
    struct sim_evtchn_open_rsp rsp;
    unsigned int nfds;
    size_t len;
    int fd, err;

    err = sim_client_call(&h->cli, SIM_EVTCHN_OPEN, NULL, 0, NULL, 0, &rsp,
                          sizeof(rsp), &len, &fd, 1, &nfds);
    if (err < 0)
        return err;
    if (nfds != 1 || len != sizeof(rsp) ||
        rsp.gen_size < (rsp.max_port + 1) * sizeof(uint32_t)) {
        if (nfds)
            close(fd);
        return -EPROTO;
    }
    h->gen = mmap(NULL, rsp.gen_size, PROT_READ, MAP_SHARED, fd, 0);
    err = h->gen == MAP_FAILED ? -errno : 0;
    close(fd);
    if (err < 0) {
        h->gen = NULL;
        return err;
    }
    h->gen_size = rsp.gen_size;
    h->max_port = rsp.max_port;
    h->ports = malloc((rsp.max_port + 1) * sizeof(h->ports[0]));
    if (!h->ports)
        return -ENOMEM;
    for (uint32_t i = 0; i <= rsp.max_port; i++)
        port_reset(&h->ports[i]);
    return 0;
}

static void sim_evtchn_close(struct pva_evtchn *h)
{
    if (!h)
        return;
    for (uint32_t i = 0; h->ports && i <= h->max_port; i++) {
        if (h->ports[i].fd >= 0)
            close(h->ports[i].fd);
        if (h->ports[i].peer_fd >= 0)
            close(h->ports[i].peer_fd);
    }
    free(h->ports);
    if (h->gen)
        munmap((void *)h->gen, h->gen_size);
    if (h->epfd >= 0)
        close(h->epfd);
    /* The daemon closes every port this connection bound. */
    sim_client_close(&h->cli);
    free(h);
}

static struct pva_evtchn *sim_evtchn_open(struct pva_platform *p)
{
    struct pva_evtchn *h = calloc(1, sizeof(*h));
    int err;

    (void)p;
    if (!h)
        return NULL;
    h->epfd = -1;
    err = sim_client_connect(&h->cli, NULL, 1);
    if (err < 0) {
        free(h);
        errno = -err;
        return NULL;
    }
    h->epfd = epoll_create1(EPOLL_CLOEXEC);
    err = h->epfd < 0 ? -errno : handle_init(h);
    if (err < 0) {
        sim_evtchn_close(h);
        errno = -err;
        return NULL;
    }
    return h;
}

static int sim_evtchn_fd(struct pva_evtchn *h)
{
    return h->epfd;
}

/* A port this handle bound, or NULL. */
static struct evtchn_port *port_get(struct pva_evtchn *h, pva_port_t port)
{
    if (!port || port > h->max_port || h->ports[port].fd < 0)
        return NULL;
    return &h->ports[port];
}

static int port_arm(struct pva_evtchn *h, pva_port_t port, int op)
{
    struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT,
                              .data.u32 = port };

    return epoll_ctl(h->epfd, op, h->ports[port].fd, &ev) < 0 ? -errno : 0;
}

static bool bind_rsp_ok(const struct pva_evtchn *h,
                        const struct sim_evtchn_bind_rsp *rsp, size_t len,
                        unsigned int nfds, unsigned int want_fds)
{
    return len == sizeof(*rsp) && nfds == want_fds && rsp->port &&
           rsp->port <= h->max_port && h->ports[rsp->port].fd < 0;
}

/*
 * Record a port the daemon just bound for us (fds[0] its eventfd, fds[1]
 * the peer's if interdomain) and start polling it.  On failure the port is
 * unbound again so that nothing leaks.
 */
static int port_add(struct pva_evtchn *h, const struct sim_evtchn_bind_rsp *rsp,
                    size_t len, const int *fds, unsigned int nfds,
                    unsigned int want_fds)
{
    struct sim_evtchn_port_req un;
    struct evtchn_port *p;
    int err = -EPROTO;

    if (bind_rsp_ok(h, rsp, len, nfds, want_fds)) {
        p = &h->ports[rsp->port];
        p->fd = fds[0];
        p->peer_fd = want_fds > 1 ? fds[1] : -1;
        p->gen = rsp->gen;
        err = port_arm(h, rsp->port, EPOLL_CTL_ADD);
        if (!err)
            return (int)rsp->port;
        port_reset(p);
    }
    for (unsigned int i = 0; i < nfds; i++)
        close(fds[i]);
    if (len == sizeof(*rsp) && rsp->port) {
        un = (struct sim_evtchn_port_req){ rsp->port };
        sim_client_call(&h->cli, SIM_EVTCHN_UNBIND, &un, sizeof(un), NULL, 0,
                        NULL, 0, NULL, NULL, 0, NULL);
    }
    return err;
}

static int sim_evtchn_bind_unbound(struct pva_evtchn *h, pva_domid_t remote)
{
    const struct sim_evtchn_unbound_req req = { .remote = remote };
    struct sim_evtchn_bind_rsp rsp;
    unsigned int nfds;
    size_t len;
    int fds[1], err;

    err = sim_client_call(&h->cli, SIM_EVTCHN_BIND_UNBOUND, &req,
                          sizeof(req), NULL, 0, &rsp, sizeof(rsp), &len, fds,
                          1, &nfds);
    return err < 0 ? err : port_add(h, &rsp, len, fds, nfds, 1);
}

static int sim_evtchn_bind_interdomain(struct pva_evtchn *h,
                                       pva_domid_t remote,
                                       pva_port_t remote_port)
{
    const struct sim_evtchn_interdomain_req req = {
        .remote = remote,
        .remote_port = remote_port,
    };
    struct sim_evtchn_bind_rsp rsp;
    unsigned int nfds;
    size_t len;
    int fds[2], err;

    err = sim_client_call(&h->cli, SIM_EVTCHN_BIND_INTERDOMAIN, &req,
                          sizeof(req), NULL, 0, &rsp, sizeof(rsp), &len, fds,
                          2, &nfds);
    return err < 0 ? err : port_add(h, &rsp, len, fds, nfds, 2);
}

/* As IOCTL_EVTCHN_UNBIND: EINVAL out of range, ENOTCONN if not ours. */
static int sim_evtchn_unbind(struct pva_evtchn *h, pva_port_t port)
{
    const struct sim_evtchn_port_req req = { port };
    struct evtchn_port *p;
    int err;

    if (!port || port > h->max_port)
        return -EINVAL;
    p = port_get(h, port);
    if (!p)
        return -ENOTCONN;
    err = sim_client_call(&h->cli, SIM_EVTCHN_UNBIND, &req, sizeof(req),
                          NULL, 0, NULL, 0, NULL, NULL, 0, NULL);
    if (err < 0)
        return err;
    /* Others hold this eventfd too: closing ours would not leave the set. */
    epoll_ctl(h->epfd, EPOLL_CTL_DEL, p->fd, NULL);
    close(p->fd);
    if (p->peer_fd >= 0)
        close(p->peer_fd);
    port_reset(p);
    return 0;
}

/* The binding of @port changed: ask the daemon where notifies go now. */
static int peer_refresh(struct pva_evtchn *h, pva_port_t port,
                        struct evtchn_port *p)
{
    const struct sim_evtchn_port_req req = { port };
    struct sim_evtchn_peer_rsp rsp;
    unsigned int nfds;
    size_t len;
    int fd, err;

    err = sim_client_call(&h->cli, SIM_EVTCHN_PEER, &req, sizeof(req), NULL,
                          0, &rsp, sizeof(rsp), &len, &fd, 1, &nfds);
    if (err < 0)
        return err;
    if (len != sizeof(rsp)) {
        if (nfds)
            close(fd);
        return -EPROTO;
    }
    if (p->peer_fd >= 0)
        close(p->peer_fd);
    p->peer_fd = nfds ? fd : -1;
    p->gen = rsp.gen;
    return 0;
}

/*
 * As EVTCHNOP_send: set the peer's pending bit; on a port whose peer is
 * gone (unbound) the notification is dropped silently, as Xen does.
 */
static int sim_evtchn_notify(struct pva_evtchn *h, pva_port_t port)
{
    struct evtchn_port *p = port_get(h, port);
    const uint64_t one = 1;
    int err;

    if (!p)
        return -ENOTCONN;
    if (__atomic_load_n(&h->gen[port], __ATOMIC_ACQUIRE) != p->gen) {
        err = peer_refresh(h, port, p);
        if (err < 0)
            return err;
    }
    if (p->peer_fd < 0)
        return 0;
    /* EAGAIN: the counter is saturated, so the bit is set anyway. */
    if (write(p->peer_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        return -errno;
    return 0;
}

static int sim_evtchn_pending(struct pva_evtchn *h)
{
    struct epoll_event ev;
    uint64_t v;
    int n;

    do {
        n = epoll_wait(h->epfd, &ev, 1, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    if (n == 0)
        return -EAGAIN;
    /* EPOLLONESHOT disarmed it: it stays masked until unmask(). */
    h->ports[ev.data.u32].masked = true;
    if (read(h->ports[ev.data.u32].fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
        return -errno;
    return (int)ev.data.u32;
}

static int sim_evtchn_unmask(struct pva_evtchn *h, pva_port_t port)
{
    struct evtchn_port *p = port_get(h, port);
    int err;

    if (!p)
        return -ENOTCONN;
    if (!p->masked)
        return 0;
    err = port_arm(h, port, EPOLL_CTL_MOD);
    if (!err)
        p->masked = false;
    return err;
}

const struct pva_evtchn_ops pva_sim_evtchn_ops = {
    .open = sim_evtchn_open,
    .close = sim_evtchn_close,
    .fd = sim_evtchn_fd,
    .bind_unbound = sim_evtchn_bind_unbound,
    .bind_interdomain = sim_evtchn_bind_interdomain,
    .unbind = sim_evtchn_unbind,
    .notify = sim_evtchn_notify,
    .pending = sim_evtchn_pending,
    .unmask = sim_evtchn_unmask,
};
