/* SPDX-License-Identifier: MIT */
/*
 * sim-evtchn: sim event channels through the platform API, with Xen's
 * semantics: notifications both ways through the pollable fd, pending bits
 * that coalesce, the pending bit bind_interdomain sets once, delivered
 * ports masked until unmask, every refusal, the port limit, a notify after
 * the peer closed reaching nobody (not the port number's next user), and
 * ports released with their handle, process and domain.
 *
 * Processes proceed in lock-step over pipes (pvt_chan); nothing sleeps.
 * poll() waits with a generous timeout only as a safety net.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "platform/platform.h"
#include "sim/proto.h"
#include "tests/testlib.h"

static struct pvt_sim sim;

static pid_t spawn(int domid, int (*fn)(void *), void *arg)
{
    return pvt_sim_spawn(&sim, domid, fn, arg);
}

/* A fresh domain: a domain dies with its last process. */
static int new_domain(const char *what)
{
    return pvt_sim_create_fresh(&sim, what);
}

struct scene {
    int a, b, c;                 /* domids */
    /* x->y: x writes, y reads; p is the parent */
    struct pvt_chan ab, ba, ac, ca, bc, pa, ap, pb;
};

struct evt {
    struct pva_platform *p;
    struct pva_evtchn *h;
    const struct pva_evtchn_ops *ops;
};

static bool evt_open(struct evt *e)
{
    char err[256];

    e->p = pva_platform_open("sim", err, sizeof(err));
    if (!e->p) {
        fprintf(stderr, "sim platform: %s\n", err);
        return false;
    }
    e->ops = e->p->evtchn;
    e->h = e->ops->open(e->p);
    return e->h != NULL;
}

static void evt_close(struct evt *e)
{
    e->ops->close(e->h);
    pva_platform_close(e->p);
}

/* Is the handle's fd readable within @ms? */
static bool readable(struct evt *e, int ms)
{
    struct pollfd pfd = { .fd = e->ops->fd(e->h), .events = POLLIN };

    return poll(&pfd, 1, ms) == 1 && (pfd.revents & POLLIN);
}

#define SAFETY_MS 20000

static uint32_t wait_for(struct pvt_chan *c)
{
    uint32_t v = 0;

    PVT_EQ_INT(pvt_chan_recv(c, &v), 0);
    return v;
}

static void scene_init(struct scene *s, int a, int b, int c)
{
    memset(s, 0, sizeof(*s));
    s->a = a;
    s->b = b;
    s->c = c;
    PVT_EQ_INT(pvt_chan_open(&s->ab), 0);
    PVT_EQ_INT(pvt_chan_open(&s->ba), 0);
    PVT_EQ_INT(pvt_chan_open(&s->ac), 0);
    PVT_EQ_INT(pvt_chan_open(&s->ca), 0);
    PVT_EQ_INT(pvt_chan_open(&s->bc), 0);
    PVT_EQ_INT(pvt_chan_open(&s->pa), 0);
    PVT_EQ_INT(pvt_chan_open(&s->ap), 0);
    PVT_EQ_INT(pvt_chan_open(&s->pb), 0);
}

static void scene_fini(struct scene *s)
{
    pvt_chan_close(&s->ab);
    pvt_chan_close(&s->ba);
    pvt_chan_close(&s->ac);
    pvt_chan_close(&s->ca);
    pvt_chan_close(&s->bc);
    pvt_chan_close(&s->pa);
    pvt_chan_close(&s->ap);
    pvt_chan_close(&s->pb);
}

/* ---- both ways, bind pending, coalescing, masking --------------------- */

static int exchange_a(void *arg)
{
    struct scene *s = arg;
    struct evt e;
    int pa;

    if (!evt_open(&e))
        return 2;
    pa = e.ops->bind_unbound(e.h, (pva_domid_t)s->b);
    PVT_CHECK(pa > 0);
    PVT_EQ_INT(e.ops->pending(e.h), -EAGAIN); /* alloc_unbound: no event */
    pvt_chan_send(&s->ab, (uint32_t)pa);

    /* B -> A through the pollable fd. */
    PVT_CHECK(readable(&e, SAFETY_MS));
    PVT_EQ_INT(e.ops->pending(e.h), pa);
    PVT_EQ_INT(e.ops->pending(e.h), -EAGAIN);
    PVT_EQ_INT(e.ops->unmask(e.h, (pva_port_t)pa), 0);

    /* Ten notifications make one pending bit. */
    for (int i = 0; i < 10; i++)
        PVT_EQ_INT(e.ops->notify(e.h, (pva_port_t)pa), 0);
    pvt_chan_send(&s->ab, 1);
    wait_for(&s->ba);

    /* One more while B's port is masked. */
    PVT_EQ_INT(e.ops->notify(e.h, (pva_port_t)pa), 0);
    pvt_chan_send(&s->ab, 1);
    wait_for(&s->ba);
    evt_close(&e);
    return 0;
}

static int exchange_b(void *arg)
{
    struct scene *s = arg;
    struct evt e;
    int pb;

    if (!evt_open(&e))
        return 2;
    pb = e.ops->bind_interdomain(e.h, (pva_domid_t)s->a, wait_for(&s->ab));
    PVT_CHECK(pb > 0);
    /* bind_interdomain sets the new port pending, once. */
    PVT_CHECK(readable(&e, 0));
    PVT_EQ_INT(e.ops->pending(e.h), pb);
    PVT_EQ_INT(e.ops->unmask(e.h, (pva_port_t)pb), 0);
    PVT_EQ_INT(e.ops->pending(e.h), -EAGAIN);
    PVT_EQ_INT(e.ops->notify(e.h, (pva_port_t)pb), 0);

    wait_for(&s->ab);                  /* A notified ten times */
    PVT_CHECK(readable(&e, 0));
    PVT_EQ_INT(e.ops->pending(e.h), pb);
    PVT_EQ_INT(e.ops->pending(e.h), -EAGAIN);
    pvt_chan_send(&s->ba, 1);          /* pb stays masked */

    wait_for(&s->ab);                  /* A notified once more */
    PVT_CHECK(!readable(&e, 0));
    PVT_EQ_INT(e.ops->pending(e.h), -EAGAIN);
    PVT_EQ_INT(e.ops->unmask(e.h, (pva_port_t)pb), 0);
    PVT_CHECK(readable(&e, 0));
    PVT_EQ_INT(e.ops->pending(e.h), pb);
    PVT_EQ_INT(e.ops->unmask(e.h, (pva_port_t)pb), 0);
    /* Ten before the mask and one during it: no more than that. */
    PVT_EQ_INT(e.ops->pending(e.h), -EAGAIN);
    pvt_chan_send(&s->ba, 1);
    evt_close(&e);
    return 0;
}

/* ---- refusals --------------------------------------------------------- */

static int refuse_a(void *arg)
{
    struct scene *s = arg;
    struct evt e, e2;
    int for_b, for_c;

    if (!evt_open(&e) || !evt_open(&e2))
        return 2;
    for_c = e.ops->bind_unbound(e.h, (pva_domid_t)s->c);
    for_b = e.ops->bind_unbound(e.h, (pva_domid_t)s->b);
    PVT_CHECK(for_b > 0 && for_c > 0);
    pvt_chan_send(&s->ab, (uint32_t)for_c);
    pvt_chan_send(&s->ab, (uint32_t)for_b);
    pvt_chan_send(&s->ac, (uint32_t)for_c);
    /* Another handle of the same domain does not own these ports. */
    PVT_EQ_INT(e2.ops->unbind(e2.h, (pva_port_t)for_b), -ENOTCONN);
    PVT_EQ_INT(e2.ops->notify(e2.h, (pva_port_t)for_b), -ENOTCONN);
    wait_for(&s->ba);
    wait_for(&s->ca);                  /* C bound its port: we may go */
    evt_close(&e2);
    evt_close(&e);
    return 0;
}

static int refuse_b(void *arg)
{
    struct scene *s = arg;
    pva_domid_t a = (pva_domid_t)s->a;
    uint32_t for_c = wait_for(&s->ab), for_b = wait_for(&s->ab);
    struct evt e;
    int pb;

    if (!evt_open(&e))
        return 2;
    /* Reserved for another domain, then bound: EINVAL, as Xen. */
    PVT_EQ_INT(e.ops->bind_interdomain(e.h, a, for_c), -EINVAL);
    pb = e.ops->bind_interdomain(e.h, a, for_b);
    PVT_CHECK(pb > 0);
    PVT_EQ_INT(e.ops->bind_interdomain(e.h, a, for_b), -EINVAL);
    PVT_EQ_INT(e.ops->bind_interdomain(e.h, a, 0), -EINVAL);
    PVT_EQ_INT(e.ops->bind_interdomain(e.h, a, 5000), -EINVAL);
    PVT_EQ_INT(e.ops->bind_interdomain(e.h, a, (pva_port_t)pb + 100),
               -EINVAL);
    PVT_EQ_INT(e.ops->bind_interdomain(e.h, 4000, 1), -ESRCH);
    PVT_EQ_INT(e.ops->unbind(e.h, 0), -EINVAL);
    PVT_EQ_INT(e.ops->unbind(e.h, SIM_EVTCHN_MAX_PORT_DOMU + 1), -EINVAL);
    PVT_EQ_INT(e.ops->unbind(e.h, (pva_port_t)pb + 1), -ENOTCONN);
    PVT_EQ_INT(e.ops->notify(e.h, (pva_port_t)pb + 1), -ENOTCONN);
    PVT_EQ_INT(e.ops->unmask(e.h, (pva_port_t)pb + 1), -ENOTCONN);
    PVT_EQ_INT(e.ops->unbind(e.h, (pva_port_t)pb), 0);
    PVT_EQ_INT(e.ops->unbind(e.h, (pva_port_t)pb), -ENOTCONN);
    pvt_chan_send(&s->bc, 1);
    pvt_chan_send(&s->ba, 1);
    evt_close(&e);
    return 0;
}

/* The domain a port was reserved for can bind it, after B was refused. */
static int refuse_c(void *arg)
{
    struct scene *s = arg;
    uint32_t for_c = wait_for(&s->ac);
    struct evt e;
    int pc;

    if (!evt_open(&e))
        return 2;
    wait_for(&s->bc);
    pc = e.ops->bind_interdomain(e.h, (pva_domid_t)s->a, for_c);
    PVT_CHECK(pc > 0);
    pvt_chan_send(&s->ca, 1);
    evt_close(&e);
    return 0;
}

/* ---- port limit ------------------------------------------------------- */

struct limit_arg {
    struct scene *s;
    uint32_t max_port;
};

static int limit_fill(void *arg)
{
    struct limit_arg *l = arg;
    struct evt e;
    bool seq = true;
    int port;

    if (!evt_open(&e))
        return 2;
    /* Xen hands out the lowest free port; port 0 is never one. */
    for (uint32_t i = 1; i <= l->max_port; i++)
        seq &= e.ops->bind_unbound(e.h, PVA_DOMID_SELF) == (int)i;
    PVT_CHECK_MSG(seq, "ports 1..%u", l->max_port);
    PVT_EQ_INT(e.ops->bind_unbound(e.h, PVA_DOMID_SELF), -ENOSPC);
    PVT_EQ_INT(e.ops->bind_interdomain(e.h, PVA_DOMID_SELF, 1), -ENOSPC);
    pvt_chan_send(&l->s->ap, 1);       /* parent counts them */
    wait_for(&l->s->pa);
    PVT_EQ_INT(e.ops->unbind(e.h, 500), 0);
    port = e.ops->bind_unbound(e.h, PVA_DOMID_SELF);
    PVT_EQ_INT(port, 500);
    evt_close(&e);                     /* releases all of them */
    return 0;
}

static int keeper(void *arg)
{
    uint32_t v;

    pvt_chan_recv(arg, &v);
    return 0;
}

static struct pvt_sim_domstat stat_of(int domid)
{
    struct pvt_sim_domstat st = { 0 };

    PVT_EQ_INT(pvt_sim_domstat(&sim, domid, &st), 0);
    return st;
}

static void test_limit(bool dom0, uint32_t max_port)
{
    int domid = dom0 ? 0 : new_domain("full");
    struct scene s;
    struct limit_arg l = { &s, max_port };
    struct pvt_chan keep;
    pid_t k = -1, f;

    scene_init(&s, domid, 0, 0);
    PVT_EQ_INT(pvt_chan_open(&keep), 0);
    if (domid) /* keep the domU alive to count after the worker exits */
        k = spawn(domid, keeper, &keep);
    f = spawn(domid, limit_fill, &l);
    wait_for(&s.ap);
    PVT_EQ_INT(stat_of(domid).ports, max_port);
    pvt_chan_send(&s.pa, 1);
    PVT_EQ_INT(pvt_wait(f), 0);
    PVT_EQ_INT(stat_of(domid).ports, 0);
    pvt_chan_send(&keep, 1);
    if (k > 0)
        PVT_EQ_INT(pvt_wait(k), 0);
    pvt_chan_close(&keep);
    scene_fini(&s);
}

/* ---- a notify after the peer closed ----------------------------------- */

static int stale_a(void *arg)
{
    struct scene *s = arg;
    struct evt e;
    int pa;

    if (!evt_open(&e))
        return 2;
    pa = e.ops->bind_unbound(e.h, (pva_domid_t)s->b);
    pvt_chan_send(&s->ab, (uint32_t)pa);
    wait_for(&s->ba);                   /* bound */
    PVT_EQ_INT(e.ops->notify(e.h, (pva_port_t)pa), 0);
    pvt_chan_send(&s->ab, 1);
    wait_for(&s->ba);                   /* B closed, reused the number */
    /* Our port is unbound again: the notify goes nowhere, as in Xen. */
    PVT_EQ_INT(e.ops->notify(e.h, (pva_port_t)pa), 0);
    pvt_chan_send(&s->ab, 1);
    wait_for(&s->ba);                   /* B bound to us again */
    PVT_EQ_INT(e.ops->notify(e.h, (pva_port_t)pa), 0);
    pvt_chan_send(&s->ab, 1);
    wait_for(&s->ba);
    evt_close(&e);
    return 0;
}

static int stale_b(void *arg)
{
    struct scene *s = arg;
    uint32_t pa = wait_for(&s->ab);
    struct evt e;
    int pb, other, pb2;

    if (!evt_open(&e))
        return 2;
    pb = e.ops->bind_interdomain(e.h, (pva_domid_t)s->a, pa);
    PVT_CHECK(pb > 0);
    PVT_EQ_INT(e.ops->pending(e.h), pb);          /* bind's own event */
    PVT_EQ_INT(e.ops->unmask(e.h, (pva_port_t)pb), 0);
    pvt_chan_send(&s->ba, 1);
    wait_for(&s->ab);
    PVT_EQ_INT(e.ops->pending(e.h), pb);          /* A's notify */
    PVT_EQ_INT(e.ops->unmask(e.h, (pva_port_t)pb), 0);

    /* Close it; the lowest free port, the same number, goes elsewhere. */
    PVT_EQ_INT(e.ops->unbind(e.h, (pva_port_t)pb), 0);
    other = e.ops->bind_unbound(e.h, (pva_domid_t)s->c);
    PVT_EQ_INT(other, pb);
    pvt_chan_send(&s->ba, 1);
    wait_for(&s->ab);
    PVT_CHECK(!readable(&e, 0));
    PVT_EQ_INT(e.ops->pending(e.h), -EAGAIN);

    /* A's port went back to unbound, reserved for us: bind it again. */
    pb2 = e.ops->bind_interdomain(e.h, (pva_domid_t)s->a, pa);
    PVT_CHECK(pb2 > 0 && pb2 != other);
    PVT_EQ_INT(e.ops->pending(e.h), pb2);
    PVT_EQ_INT(e.ops->unmask(e.h, (pva_port_t)pb2), 0);
    pvt_chan_send(&s->ba, 1);
    wait_for(&s->ab);
    PVT_CHECK(readable(&e, 0));
    PVT_EQ_INT(e.ops->pending(e.h), pb2);         /* A found the new peer */
    PVT_EQ_INT(e.ops->pending(e.h), -EAGAIN);
    pvt_chan_send(&s->ba, 1);
    evt_close(&e);
    return 0;
}

/* ---- release with the process and the domain -------------------------- */

static int owner_a(void *arg)
{
    struct scene *s = arg;
    struct evt e;
    int pa;

    if (!evt_open(&e))
        return 2;
    pa = e.ops->bind_unbound(e.h, (pva_domid_t)s->b);
    pvt_chan_send(&s->ab, (uint32_t)pa);
    wait_for(&s->pa);                   /* B's process is gone */
    /* Our port survived, unbound: notifies are dropped. */
    PVT_EQ_INT(e.ops->notify(e.h, (pva_port_t)pa), 0);
    pvt_chan_send(&s->ap, 1);
    wait_for(&s->pa);                   /* B's domain is gone */
    PVT_EQ_INT(e.ops->notify(e.h, (pva_port_t)pa), 0);
    evt_close(&e);
    return 0;
}

/* Binds four ports and, once counted, exits without unbinding any. */
static int owner_b(void *arg)
{
    struct scene *s = arg;
    struct evt e;

    if (!evt_open(&e))
        return 2;
    PVT_CHECK(e.ops->bind_interdomain(e.h, (pva_domid_t)s->a,
                                      wait_for(&s->ab)) > 0);
    for (int i = 0; i < 3; i++)
        PVT_CHECK(e.ops->bind_unbound(e.h, (pva_domid_t)s->a) > 0);
    pvt_chan_send(&s->ba, 1);
    wait_for(&s->pb);
    return 0;
}

static void test_release(void)
{
    struct scene s;
    struct pvt_chan keep;
    struct pvt_sim_domstat st;
    int a = new_domain("alpha"), b = new_domain("short-lived");
    pid_t proc_a, proc_b, k;

    scene_init(&s, a, b, 0);
    PVT_EQ_INT(pvt_chan_open(&keep), 0);
    k = spawn(b, keeper, &keep);
    proc_a = spawn(a, owner_a, &s);
    proc_b = spawn(b, owner_b, &s);
    wait_for(&s.ba);
    PVT_EQ_INT(stat_of(b).ports, 4);
    pvt_chan_send(&s.pb, 1);
    PVT_EQ_INT(pvt_wait(proc_b), 0);
    PVT_EQ_INT(stat_of(b).ports, 0);
    PVT_EQ_INT(stat_of(a).ports, 1);
    pvt_chan_send(&s.pa, 1);
    wait_for(&s.ap);
    PVT_EQ_INT(pvt_sim_destroy(&sim, b), 0);
    PVT_EQ_INT(pvt_wait(k), 128 + 9);
    PVT_EQ_INT(pvt_sim_domstat(&sim, b, &st), -ESRCH);
    pvt_chan_send(&s.pa, 1);
    PVT_EQ_INT(pvt_wait(proc_a), 0);
    pvt_chan_close(&keep);
    scene_fini(&s);
}

static void run3(int (*fa)(void *), int (*fb)(void *), int (*fc)(void *))
{
    struct scene s;
    pid_t pa, pb, pc = -1;
    int a = new_domain("alpha"), b = new_domain("beta");
    int c = new_domain("gamma");

    scene_init(&s, a, b, c);
    pa = spawn(a, fa, &s);
    pb = spawn(b, fb, &s);
    if (fc)
        pc = spawn(c, fc, &s);
    PVT_EQ_INT(pvt_wait(pa), 0);
    PVT_EQ_INT(pvt_wait(pb), 0);
    if (fc)
        PVT_EQ_INT(pvt_wait(pc), 0);
    scene_fini(&s);
}

int main(void)
{
    struct rlimit rl;
    int err;

    /* dom0's 4095 ports are 4095 eventfds here and in the daemon. */
    if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (pvt_sim_start(&sim) < 0)
        return 99;
    alarm(2 * PVT_CHILD_DEADLINE_S); /* the whole run, as for each child */

    run3(exchange_a, exchange_b, NULL);
    run3(refuse_a, refuse_b, refuse_c);
    run3(stale_a, stale_b, NULL);
    test_limit(false, SIM_EVTCHN_MAX_PORT_DOMU);
    test_limit(true, SIM_EVTCHN_MAX_PORT_DOM0);
    test_release();

    err = pvt_done();
    pvt_sim_stop(&sim);
    return err;
}
