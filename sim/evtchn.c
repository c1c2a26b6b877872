/* SPDX-License-Identifier: MIT */
/*
 * evtchn.c: sim event channels, the daemon side of SIM_EVTCHN_*.
 *
 * The daemon keeps Xen's port state machine (xen/common/event_channel.c):
 * per domain, ports 1..max_port, each FREE, UNBOUND (reserved for one
 * remote domain) or INTERDOMAIN (linked to a port of another domain).
 * Closing an interdomain port puts its peer back to UNBOUND, reserved for
 * the closer, as Xen does.
 *
 * The pending bit of a port is an eventfd made when the port is allocated
 * and closed when it is freed (writes coalesce, a read clears).  The daemon
 * hands it to the handle that bound the port, which polls it, and to the
 * peer, which writes it to notify: notifications never pass through here.
 * Because a port number reused later gets a new eventfd, a notifier still
 * holding an old peer's eventfd can only reach that dead channel, never an
 * unrelated one.  To find the new peer after a change, a client compares
 * gen[port] in its domain's generation page (a memfd the daemon writes and
 * clients map read-only) with the value it cached, and asks
 * SIM_EVTCHN_PEER when it moved.
 *
 * Ports belong to the connection (handle) that bound them; they are closed
 * when it goes away, and all of a domain's when the domain dies.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim/simd.h"

enum port_state {
    PORT_FREE = 0,
    PORT_UNBOUND = SIM_EVTCHN_UNBOUND,
    PORT_INTERDOMAIN = SIM_EVTCHN_INTERDOMAIN,
};

struct evt_port {
    enum port_state state;
    uint16_t remote_dom;        /* UNBOUND: who may bind; else the peer */
    uint32_t remote_port;       /* INTERDOMAIN */
    int fd;                     /* the pending bit (eventfd), -1 if FREE */
    const struct sim_conn *owner;
};

struct sim_evtchn_dom {
    struct sim_domain *dom;
    uint32_t max_port;
    uint32_t nr_used;
    struct evt_port *ports;     /* [max_port + 1]; port 0 never used */
    int gen_fd;                 /* memfd of the generation page */
    uint32_t *gen;              /* [max_port + 1], daemon's mapping */
    size_t gen_size;
};

/* Marks a connection that opened event channels (SIM_EVTCHN_OPEN). */
struct sim_evtchn_conn {
    uint32_t nr_ports;
};

/* ---- ports ------------------------------------------------------------ */

static struct evt_port *port_get(struct sim_evtchn_dom *e, uint32_t port)
{
    return port && port <= e->max_port ? &e->ports[port] : NULL;
}

/* Tell the port's clients that its binding changed. */
static void gen_bump(struct sim_evtchn_dom *e, uint32_t port)
{
    __atomic_store_n(&e->gen[port], e->gen[port] + 1, __ATOMIC_RELEASE);
}

static struct sim_evtchn_dom *evtchn_of(struct simd *s, uint16_t domid)
{
    struct sim_domain *d = simd_domain_find(s, domid);

    return d ? d->evtchn : NULL;
}

/* The lowest free port, as Xen's get_free_port(); -ENOSPC at the limit. */
static int port_find_free(const struct sim_evtchn_dom *e)
{
    for (uint32_t port = 1; port <= e->max_port; port++)
        if (e->ports[port].state == PORT_FREE)
            return (int)port;
    return -ENOSPC;
}

/* Allocate free @port to @c as unbound, reserved for @remote. */
static int port_take(struct sim_evtchn_dom *e, uint32_t port,
                     struct sim_conn *c, uint16_t remote)
{
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

    if (fd < 0)
        return -errno;
    e->ports[port] = (struct evt_port){ .state = PORT_UNBOUND,
                                        .remote_dom = remote,
                                        .fd = fd, .owner = c };
    e->nr_used++;
    c->evtchn->nr_ports++;
    gen_bump(e, port);
    return 0;
}

static void port_free(struct sim_evtchn_dom *e, uint32_t port,
                      struct sim_evtchn_conn *owner)
{
    struct evt_port *p = &e->ports[port];

    close(p->fd);
    *p = (struct evt_port){ .state = PORT_FREE, .fd = -1 };
    e->nr_used--;
    if (owner)
        owner->nr_ports--;
    gen_bump(e, port);
}

/*
 * Close @port of @e, as EVTCHNOP_close: an interdomain peer goes back to
 * unbound, reserved for us, and notifies into the void until rebound.
 */
static void port_close(struct simd *s, struct sim_evtchn_dom *e,
                       uint32_t port, struct sim_evtchn_conn *owner)
{
    struct evt_port *p = &e->ports[port];

    if (p->state == PORT_INTERDOMAIN) {
        struct sim_evtchn_dom *re = evtchn_of(s, p->remote_dom);
        struct evt_port *rp = re ? port_get(re, p->remote_port) : NULL;

        if (rp && rp->state == PORT_INTERDOMAIN &&
            rp->remote_dom == e->dom->domid && rp->remote_port == port) {
            rp->state = PORT_UNBOUND;
            rp->remote_dom = e->dom->domid;
            rp->remote_port = 0;
            gen_bump(re, p->remote_port);
        }
    }
    port_free(e, port, owner);
}

/* ---- requests --------------------------------------------------------- */

static struct sim_evtchn_conn *econn(struct sim_conn *c)
{
    if (!c->evtchn)
        c->evtchn = calloc(1, sizeof(*c->evtchn));
    return c->evtchn;
}

/* A port of @c's domain that @c bound, or an errno as Linux evtchn says. */
static int own_port(struct sim_conn *c, const struct sim_req *req,
                    struct evt_port **out, uint32_t *portp)
{
    const struct sim_evtchn_port_req *r = req->body;
    struct evt_port *p;

    if (req->len != sizeof(*r))
        return -EINVAL;
    p = port_get(c->dom->evtchn, r->port);
    if (!p)
        return -EINVAL;
    if (p->state == PORT_FREE || p->owner != c)
        return -ENOTCONN;
    *out = p;
    *portp = r->port;
    return 0;
}

static uint16_t domid_resolve(const struct sim_conn *c, uint16_t domid)
{
    return domid == SIM_DOMID_SELF ? c->dom->domid : domid;
}

/*
 * The generation page, read-only: a fresh O_RDONLY open file description
 * of the memfd, so a client cannot map it writable.
 */
static void handle_open(struct sim_conn *c, struct sim_req *req)
{
    struct sim_evtchn_dom *e = c->dom->evtchn;
    struct sim_evtchn_open_rsp rsp = { e->max_port, (uint32_t)e->gen_size };
    char path[64];
    int fd;

    if (req->len) {
        simd_reply(c, req, -EINVAL, NULL, 0, NULL, 0);
        return;
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", e->gen_fd);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        simd_reply(c, req, -errno, NULL, 0, NULL, 0);
        return;
    }
    simd_reply(c, req, 0, &rsp, sizeof(rsp), &fd, 1);
    close(fd);
}

static void handle_bind_unbound(struct sim_conn *c, struct sim_req *req)
{
    const struct sim_evtchn_unbound_req *r = req->body;
    struct sim_evtchn_dom *e = c->dom->evtchn;
    struct sim_evtchn_bind_rsp rsp;
    uint16_t remote;
    int port, err;

    if (req->len != sizeof(*r)) {
        simd_reply(c, req, -EINVAL, NULL, 0, NULL, 0);
        return;
    }
    remote = domid_resolve(c, r->remote);
    if (remote > SIM_MAX_DOMID) {
        simd_reply(c, req, -EINVAL, NULL, 0, NULL, 0);
        return;
    }
    port = port_find_free(e);
    err = port < 0 ? port : port_take(e, (uint32_t)port, c, remote);
    if (err < 0) {
        simd_reply(c, req, err, NULL, 0, NULL, 0);
        return;
    }
    rsp = (struct sim_evtchn_bind_rsp){ (uint32_t)port, e->gen[port] };
    simd_reply(c, req, 0, &rsp, sizeof(rsp), &e->ports[port].fd, 1);
}

/*
 * As EVTCHNOP_bind_interdomain: a free local port first (ENOSPC), then
 * the remote one must be unbound and reserved for us (else EINVAL).  The
 * new local port starts pending: notifications sent to the unbound remote
 * port were dropped, so the binder must look at the shared state once.
 */
static void handle_bind_interdomain(struct sim_conn *c, struct sim_req *req)
{
    const struct sim_evtchn_interdomain_req *r = req->body;
    struct sim_evtchn_dom *e = c->dom->evtchn, *re;
    struct evt_port *lp, *rp;
    struct sim_evtchn_bind_rsp rsp;
    const uint64_t one = 1;
    int port, err, fds[2];

    if (req->len != sizeof(*r)) {
        simd_reply(c, req, -EINVAL, NULL, 0, NULL, 0);
        return;
    }
    re = evtchn_of(c->simd, domid_resolve(c, r->remote));
    if (!re) {
        simd_reply(c, req, -ESRCH, NULL, 0, NULL, 0);
        return;
    }
    port = port_find_free(e);
    rp = port_get(re, r->remote_port);
    if (port < 0)
        err = port;
    else if (!rp || rp->state != PORT_UNBOUND ||
             rp->remote_dom != c->dom->domid)
        err = -EINVAL;
    else
        err = port_take(e, (uint32_t)port, c, re->dom->domid);
    if (err < 0) {
        simd_reply(c, req, err, NULL, 0, NULL, 0);
        return;
    }
    lp = &e->ports[port];
    lp->state = PORT_INTERDOMAIN;
    lp->remote_port = r->remote_port;
    rp->state = PORT_INTERDOMAIN;
    rp->remote_port = (uint32_t)port;
    gen_bump(re, r->remote_port);
    if (write(lp->fd, &one, sizeof(one)) < 0)
        simd_log(c->simd, "evtchn: set pending: %s", strerror(errno));
    rsp = (struct sim_evtchn_bind_rsp){ (uint32_t)port, e->gen[port] };
    fds[0] = lp->fd;
    fds[1] = rp->fd;
    simd_reply(c, req, 0, &rsp, sizeof(rsp), fds, 2);
}

static void handle_unbind(struct sim_conn *c, struct sim_req *req)
{
    struct evt_port *p;
    uint32_t port;
    int err = own_port(c, req, &p, &port);

    if (!err)
        port_close(c->simd, c->dom->evtchn, port, c->evtchn);
    simd_reply(c, req, err, NULL, 0, NULL, 0);
}

/* Where notifications on @port go now, and which generation that is. */
static void handle_peer(struct sim_conn *c, struct sim_req *req)
{
    struct sim_evtchn_peer_rsp rsp;
    struct sim_evtchn_dom *re;
    struct evt_port *p, *rp = NULL;
    uint32_t port;
    int err = own_port(c, req, &p, &port);

    if (err) {
        simd_reply(c, req, err, NULL, 0, NULL, 0);
        return;
    }
    rsp = (struct sim_evtchn_peer_rsp){ c->dom->evtchn->gen[port],
                                        (uint32_t)p->state };
    if (p->state == PORT_INTERDOMAIN) {
        re = evtchn_of(c->simd, p->remote_dom);
        rp = re ? port_get(re, p->remote_port) : NULL;
    }
    if (rp)
        simd_reply(c, req, 0, &rsp, sizeof(rsp), &rp->fd, 1);
    else
        simd_reply(c, req, 0, &rsp, sizeof(rsp), NULL, 0);
}

void sim_evtchn_handle(struct sim_conn *c, struct sim_req *req)
{
    if (!econn(c)) {
        simd_reply(c, req, -ENOMEM, NULL, 0, NULL, 0);
        return;
    }
    switch (req->hdr.type) {
    case SIM_EVTCHN_OPEN:
        handle_open(c, req);
        break;
    case SIM_EVTCHN_BIND_UNBOUND:
        handle_bind_unbound(c, req);
        break;
    case SIM_EVTCHN_BIND_INTERDOMAIN:
        handle_bind_interdomain(c, req);
        break;
    case SIM_EVTCHN_UNBIND:
        handle_unbind(c, req);
        break;
    case SIM_EVTCHN_PEER:
        handle_peer(c, req);
        break;
    default:
        simd_reply(c, req, -ENOSYS, NULL, 0, NULL, 0);
        break;
    }
}

/* ---- lifetime --------------------------------------------------------- */

static int gen_page_init(struct sim_evtchn_dom *e)
{
    size_t size = (e->max_port + 1) * sizeof(uint32_t);
    int err;

    e->gen_size = (size + 4095) & ~(size_t)4095;
    e->gen_fd = memfd_create("pvaccel-sim-evtchn-gen", MFD_CLOEXEC);
    if (e->gen_fd < 0)
        return -errno;
    if (ftruncate(e->gen_fd, (off_t)e->gen_size) < 0) {
        err = -errno;
        close(e->gen_fd);
        return err;
    }
    e->gen = mmap(NULL, e->gen_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                  e->gen_fd, 0);
    if (e->gen == MAP_FAILED) {
        err = -errno;
        close(e->gen_fd);
        return err;
    }
    return 0;
}

int sim_evtchn_domain_init(struct sim_domain *d)
{
    struct sim_evtchn_dom *e = calloc(1, sizeof(*e));
    int err;

    if (!e)
        return -ENOMEM;
    e->dom = d;
    e->max_port = d->domid == 0 ? SIM_EVTCHN_MAX_PORT_DOM0
                                : SIM_EVTCHN_MAX_PORT_DOMU;
    e->ports = calloc(e->max_port + 1, sizeof(e->ports[0]));
    if (!e->ports) {
        free(e);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i <= e->max_port; i++)
        e->ports[i].fd = -1;
    err = gen_page_init(e);
    if (err < 0) {
        free(e->ports);
        free(e);
        return err;
    }
    d->evtchn = e;
    return 0;
}

/* The handle went away: close every port it bound, as Linux evtchn does. */
void sim_evtchn_conn_closed(struct sim_conn *c)
{
    struct sim_evtchn_dom *e = c->dom ? c->dom->evtchn : NULL;

    if (!c->evtchn)
        return;
    for (uint32_t port = 1; e && c->evtchn->nr_ports && port <= e->max_port;
         port++)
        if (e->ports[port].state != PORT_FREE && e->ports[port].owner == c)
            port_close(c->simd, e, port, c->evtchn);
    free(c->evtchn);
    c->evtchn = NULL;
}

/* The domain died: all its ports close, their peers become unbound. */
void sim_evtchn_domain_destroy(struct sim_domain *d)
{
    struct sim_evtchn_dom *e = d->evtchn;

    if (!e)
        return;
    for (struct sim_conn *c = d->simd->conns; c; c = c->next)
        if (c->dom == d)
            sim_evtchn_conn_closed(c);
    for (uint32_t port = 1; port <= e->max_port; port++)
        if (e->ports[port].state != PORT_FREE)
            port_close(d->simd, e, port, NULL);
    munmap(e->gen, e->gen_size);
    close(e->gen_fd);
    free(e->ports);
    free(e);
    d->evtchn = NULL;
}

unsigned int sim_evtchn_count(const struct sim_domain *d)
{
    return d->evtchn ? d->evtchn->nr_used : 0;
}
