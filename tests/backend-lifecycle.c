/* SPDX-License-Identifier: MIT */
/*
 * backend-lifecycle: connections coming and going, the rude way.
 *
 *  - fast connect / disconnect loops, and a frontend that reinitialises
 *    while connected: after each, the backend has unmapped every ring
 *    (the sim refuses to end a grant that is still mapped);
 *  - a guest killed under load: the backend releases every mapping,
 *    event channel, thread and xenstore node it held for it;
 *  - the backend SIGKILLed under load and started again: the device goes
 *    back to InitWait and the guest reconnects;
 *  - the backend stopped with SIGTERM and started again while the guest's
 *    device is Closed: the new instance says Closed, not a passing InitWait
 *    a frontend starting just then would take for an offer;
 *  - a flooding guest does not starve another guest's queue.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/rawfront.h"

#define IOVA 0x100000ull

static struct rf_env env;
static struct pvt_chan to_parent, to_guest;

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------- loops */

static int guest_loops(void *arg)
{
    struct rawfront f;
    vaccel_request_t req;
    vaccel_response_t rsp;
    int failures = 0;

    (void)arg;
    PVT_EQ_INT(rf_init(&f, 0), 0);
    for (int i = 0; i < 50; i++) {
        int ok = rf_connect(&f, 1 + i % 4, (unsigned int)i % 5) == 0;

        rf_req_init(&req, VACCEL_OP_NOP, (uint64_t)i);
        ok = ok && rf_call(&f, 0, &req, &rsp) == 0 && rsp.id == (uint64_t)i;
        if (i % 2) {
            ok = ok && rf_disconnect(&f) == 0;
        } else {
            /* Reinitialise without closing: the backend tears down. */
            rf_set_fe_state(&f, XenbusStateInitialising);
            ok = ok && rf_wait_be_state(&f, 1u << XenbusStateInitWait) ==
                       XenbusStateInitWait;
            /* InitWait means unmapped: ending the grants must work. */
            ok = ok && rf_release_rings(&f) == 0;
        }
        failures += !ok;
    }
    PVT_EQ_INT(failures, 0);
    rf_fini(&f);
    return 0;
}

/* --------------------------------------------------- killed under load */

static int guest_load(void *arg)
{
    struct rawfront f;
    struct rf_mem m;
    bool told = false;

    (void)arg;
    if (rf_init(&f, 0) || rf_connect(&f, 4, 2) ||
        rf_mem_alloc(&f, 64, true, &m) || rf_map_region(&f, 0, IOVA, &m, true))
        return 2;
    for (int s = 0; s < 2; s++) {
        vaccel_request_t req;
        vaccel_response_t rsp;

        rf_req_init(&req, VACCEL_OP_SESSION_CREATE, 1);
        req.alg = VACCEL_ALG_SHA512;
        rf_call(&f, 0, &req, &rsp);
    }
    for (;;) {   /* until the domain is destroyed */
        for (unsigned int q = 0; q < f.nq; q++) {
            struct rf_queue *rq = &f.q[q];
            vaccel_response_t rsp;

            while (RING_FREE_REQUESTS(&rq->ring)) {
                vaccel_request_t *r = rf_req(&f, q);

                rf_req_init(r, VACCEL_OP_CRC32C, 1);
                r->u.crc32c.src = (struct vaccel_seg){ IOVA, 256 * 1024 };
            }
            rf_push(&f, q);
            if (rf_rsp(&f, q, &rsp) == 0 && !told) {
                pvt_chan_send(&to_parent, 1);
                told = true;
            }
            while (RING_HAS_UNCONSUMED_RESPONSES(&rq->ring))
                rq->ring.rsp_cons++;
        }
    }
    return 0;
}

static void killed_under_load(void)
{
    struct pvt_sim_domstat before, after;
    unsigned int threads, maps;
    char path[128], stats[8192];
    uint32_t v;
    pid_t pid;
    int dom;

    PVT_EQ_INT(pvt_sim_domstat(&env.sim, 0, &before), 0);
    threads = rf_env_backend_threads(&env);
    maps = rf_env_backend_grant_maps(&env);
    dom = pvt_sim_create(&env.sim, "victim");
    PVT_EQ_INT(rf_env_attach(&env, dom, 0, NULL), 0);
    pid = pvt_sim_spawn(&env.sim, dom, guest_load, NULL);
    PVT_EQ_INT(pvt_chan_recv(&to_parent, &v), 0);
    PVT_CHECK(rf_env_backend_threads(&env) >= threads + 4);   /* a thread per queue */
    PVT_CHECK(rf_env_backend_grant_maps(&env) > maps);
    PVT_EQ_INT(pvt_sim_destroy(&env.sim, dom), 0);
    pvt_wait(pid);
    snprintf(path, sizeof(path), "/local/domain/0/backend/vaccel/%d/0", dom);
    PVT_EQ_INT(rf_env_wait_gone(&env, path), 0);

    PVT_EQ_INT(pvt_sim_domstat(&env.sim, 0, &after), 0);
    PVT_EQ_INT(after.ports, before.ports);
    PVT_EQ_INT(after.grants, before.grants);
    PVT_EQ_INT(rf_env_backend_threads(&env), threads);
    PVT_EQ_INT(rf_env_backend_grant_maps(&env), maps);
    PVT_EQ_INT(rf_env_stats(&env, stats, sizeof(stats)), 0);
    PVT_CHECK_MSG(strstr(stats, "\"devices\":[]") &&
                  strstr(stats, "\"domains\":[]"), "stats: %s", stats);
}

/* ------------------------------------------------- backend restarted */

static int guest_restart(void *arg)
{
    struct rawfront f;
    struct rf_mem m;
    vaccel_request_t req;
    vaccel_response_t rsp;
    uint32_t v;
    unsigned int answered = 0, dup = 0;
    uint8_t seen[64] = { 0 };

    (void)arg;
    PVT_EQ_INT(rf_init(&f, 0), 0);
    PVT_EQ_INT(rf_connect(&f, 1, 1), 0);
    PVT_EQ_INT(rf_mem_alloc(&f, 512, true, &m), 0);
    PVT_EQ_INT(rf_map_region(&f, 0, IOVA, &m, true), 0);
    /* Slow requests in flight when the backend dies. */
    for (int i = 0; i < 64; i++) {
        vaccel_request_t *r = rf_req(&f, 0);

        rf_req_init(r, VACCEL_OP_COMPRESS, (uint64_t)i);
        r->alg = VACCEL_ALG_ZSTD;
        r->u.compress.level = 19;
        r->u.compress.src = (struct vaccel_seg){ IOVA, 1u << 20 };
        r->u.compress.dst = (struct vaccel_seg){ IOVA + (1u << 20), 1u << 20 };
    }
    rf_push(&f, 0);
    pvt_chan_send(&to_parent, 1);
    PVT_EQ_INT(pvt_chan_recv(&to_guest, &v), 0);   /* killed, restarted */

    /* The new instance never reuses anything: InitWait, whatever it was. */
    PVT_EQ_INT(rf_wait_be_state(&f, 1u << XenbusStateInitWait),
               XenbusStateInitWait);
    while (RING_HAS_UNCONSUMED_RESPONSES(&f.q[0].ring)) {
        const vaccel_response_t *r = RING_GET_RESPONSE(&f.q[0].ring,
                                                       f.q[0].ring.rsp_cons);

        if (r->id < 64)
            dup += seen[r->id]++ != 0;
        answered++;
        f.q[0].ring.rsp_cons++;
    }
    printf("# restart: %u of 64 answered before the kill, the rest lost "
           "(ENOTCONN for the caller)\n", answered);
    PVT_EQ_INT(dup, 0);
    /* A dead backend's mappings died with it: every grant can end. */
    PVT_EQ_INT(f.p->gntshr->unshare(f.gs, m.addr, m.npages), 0);
    m.addr = NULL;
    rf_mem_free(&f, &m);
    PVT_EQ_INT(rf_release_rings(&f), 0);
    rf_set_fe_state(&f, XenbusStateInitialising);
    PVT_EQ_INT(rf_connect(&f, 2, 0), 0);
    rf_req_init(&req, VACCEL_OP_NOP, 5);
    PVT_EQ_INT(rf_call(&f, 1, &req, &rsp), 0);
    PVT_EQ_INT(rsp.status, 0);
    PVT_EQ_INT(rf_disconnect(&f), 0);
    rf_fini(&f);
    return 0;
}

static void backend_restart(void)
{
    uint32_t v;
    pid_t pid;
    int dom = pvt_sim_create(&env.sim, "restart");

    PVT_EQ_INT(rf_env_attach(&env, dom, 0, NULL), 0);
    pid = pvt_sim_spawn(&env.sim, dom, guest_restart, NULL);
    PVT_EQ_INT(pvt_chan_recv(&to_parent, &v), 0);
    kill(env.backend, SIGKILL);
    pvt_wait(env.backend);
    PVT_EQ_INT(rf_env_start_backend(&env, NULL), 0);
    pvt_chan_send(&to_guest, 1);
    PVT_EQ_INT(pvt_wait(pid), 0);
}

/* ---------------------------------- restarted with the frontend Closed */

#define TOKEN_BE "be"
#define TOKEN_MARK "mark"

/*
 * A second connection of the guest that hears every write of the backend
 * state node, and of a node of our own: our write of that node is a mark
 * in the order xenstored applied the writes.
 */
struct be_watch {
    struct rawfront *f;
    struct pva_xs *xs;
    char mark[128];
};

/* Consume events up to a "mark" one; the number of "be" ones before it. */
static int drain_to_mark(struct be_watch *w)
{
    struct pollfd pfd = { .fd = w->f->p->xs->watch_fd(w->xs), .events = POLLIN };
    char *path, *token;
    int n = 0;

    for (;;) {
        while (w->f->p->xs->read_watch(w->xs, &path, &token) == 0) {
            bool mark = !strcmp(token, TOKEN_MARK);

            n += !strcmp(token, TOKEN_BE);
            free(path);
            free(token);
            if (mark)
                return n;
        }
        if (poll(&pfd, 1, RF_TIMEOUT_MS) <= 0)
            return -ETIMEDOUT;
    }
}

/* Writes of the backend state node since the last mark. */
static int be_writes(struct be_watch *w)
{
    if (w->f->p->xs->write(w->xs, NULL, w->mark, "1", 1))
        return -EIO;
    return drain_to_mark(w);
}

static int be_watch_open(struct be_watch *w, struct rawfront *f)
{
    char path[192];

    w->f = f;
    w->xs = f->p->xs->open(f->p);
    snprintf(w->mark, sizeof(w->mark), "/local/domain/%d/data/test-mark",
             f->self);
    snprintf(path, sizeof(path), "%s/state", f->be_path);
    if (!w->xs || f->p->xs->watch(w->xs, path, TOKEN_BE) ||
        f->p->xs->watch(w->xs, w->mark, TOKEN_MARK))
        return -EIO;
    /* Each watch fires once when set, the mark's last. */
    return drain_to_mark(w) < 0 ? -ETIMEDOUT : 0;
}

/* Block until the backend writes its state node (the event, not a value). */
static int wait_be_write(struct be_watch *w)
{
    struct pollfd pfd = { .fd = w->f->p->xs->watch_fd(w->xs), .events = POLLIN };
    char *path, *token;

    for (;;) {
        while (w->f->p->xs->read_watch(w->xs, &path, &token) == 0) {
            bool be = !strcmp(token, TOKEN_BE);

            free(path);
            free(token);
            if (be)
                return 0;
        }
        if (poll(&pfd, 1, RF_TIMEOUT_MS) <= 0)
            return -ETIMEDOUT;
    }
}

static int guest_stale_closed(void *arg)
{
    struct rawfront f;
    struct be_watch w;
    vaccel_request_t req;
    vaccel_response_t rsp;
    int at_start, on_init;
    uint32_t v;

    (void)arg;
    PVT_EQ_INT(rf_init(&f, 0), 0);
    PVT_EQ_INT(rf_connect(&f, 1, 0), 0);
    /* Close as libpvaccel does and stay Closed: an application exited. */
    rf_set_fe_state(&f, XenbusStateClosing);
    PVT_EQ_INT(rf_wait_be_state(&f, 1u << XenbusStateClosed),
               XenbusStateClosed);
    PVT_EQ_INT(rf_release_rings(&f), 0);
    rf_set_fe_state(&f, XenbusStateClosed);
    PVT_EQ_INT(be_watch_open(&w, &f), 0);
    pvt_chan_send(&to_parent, 1);
    PVT_EQ_INT(pvt_chan_recv(&to_guest, &v), 0);   /* SIGTERMed */
    PVT_CHECK(be_writes(&w) >= 0);                  /* what it wrote on exit */
    pvt_chan_send(&to_parent, 2);
    PVT_EQ_INT(pvt_chan_recv(&to_guest, &v), 0);   /* started again */

    /* Its first publish; then the parent knows that step has ended. */
    PVT_EQ_INT(wait_be_write(&w), 0);
    pvt_chan_send(&to_parent, 3);
    PVT_EQ_INT(pvt_chan_recv(&to_guest, &v), 0);
    at_start = 1 + be_writes(&w);
    PVT_EQ_INT(rf_be_long(&f, "state"), XenbusStateClosed);

    /* Initialising: one publish, InitWait, and nothing else. */
    rf_set_fe_state(&f, XenbusStateInitialising);
    PVT_EQ_INT(rf_wait_be_state(&f, 1u << XenbusStateInitWait),
               XenbusStateInitWait);
    on_init = be_writes(&w);
    PVT_CHECK(on_init > 0);
    /*
     * Found with the frontend Closed, the device is published once too,
     * as Closed; a backend that published InitWait and then closed wrote
     * the node once more, and a frontend opening in between took the
     * passing InitWait and was refused ("Connection refused").
     */
    PVT_CHECK_MSG(at_start == on_init, "state writes at start-up %d, on "
                  "Initialising %d", at_start, on_init);

    PVT_EQ_INT(rf_connect(&f, 1, 0), 0);
    rf_req_init(&req, VACCEL_OP_NOP, 7);
    PVT_EQ_INT(rf_call(&f, 0, &req, &rsp), 0);
    PVT_EQ_INT(rsp.status, 0);
    PVT_EQ_INT(rf_disconnect(&f), 0);
    f.p->xs->close(w.xs);
    rf_fini(&f);
    return 0;
}

static void restart_closed_frontend(void)
{
    char stats[8192];
    uint32_t v;
    pid_t pid;
    int dom = pvt_sim_create(&env.sim, "stale");

    PVT_EQ_INT(rf_env_attach(&env, dom, 0, NULL), 0);
    pid = pvt_sim_spawn(&env.sim, dom, guest_stale_closed, NULL);
    PVT_EQ_INT(pvt_chan_recv(&to_parent, &v), 0);   /* Closed */
    PVT_EQ_INT(rf_env_stop_backend(&env), 0);
    pvt_chan_send(&to_guest, 1);
    PVT_EQ_INT(pvt_chan_recv(&to_parent, &v), 0);   /* marked */
    PVT_EQ_INT(rf_env_start_backend(&env, NULL), 0);
    pvt_chan_send(&to_guest, 2);
    PVT_EQ_INT(pvt_chan_recv(&to_parent, &v), 0);   /* it published */
    /* The main thread answers only between two steps of the machine. */
    PVT_EQ_INT(rf_env_stats(&env, stats, sizeof(stats)), 0);
    pvt_chan_send(&to_guest, 3);
    PVT_EQ_INT(pvt_wait(pid), 0);
}

/* ---------------------------------------------------- toolstack detach */

static int guest_detached(void *arg)
{
    struct rawfront f;
    uint32_t v;

    (void)arg;
    PVT_EQ_INT(rf_init(&f, 0), 0);
    PVT_EQ_INT(rf_connect(&f, 2, 1), 0);
    pvt_chan_send(&to_parent, 1);
    PVT_EQ_INT(pvt_chan_recv(&to_guest, &v), 0);
    PVT_EQ_INT(rf_wait_be_state(&f, 1u << XenbusStateClosed),
               XenbusStateClosed);
    PVT_EQ_INT(rf_release_rings(&f), 0);    /* all unmapped */
    rf_set_fe_state(&f, XenbusStateClosed);
    rf_fini(&f);
    return 0;
}

/* In dom0, as "pvaccel-ctl detach": online = 0, backend state Closing. */
static int detach_in_dom0(void *arg)
{
    const char *be = arg;
    char err[128], path[160];
    struct pva_platform *p = pva_platform_open("sim", err, sizeof(err));
    struct pva_xs *xs = p ? p->xs->open(p) : NULL;
    int rc = 0;

    if (!xs)
        return 2;
    /* One transaction, as libxl and pvaccel-ctl: written apart, the
     * backend may reach Closed on online = 0 before "5" overwrites it. */
    do {
        struct pva_xs_txn *t = p->xs->txn_start(xs);

        if (!t) {
            rc = -1;
            break;
        }
        snprintf(path, sizeof(path), "%s/online", be);
        rc = p->xs->write(xs, t, path, "0", 1);
        snprintf(path, sizeof(path), "%s/state", be);
        rc |= p->xs->write(xs, t, path, "5", 1);
        if (rc) {
            p->xs->txn_end(xs, t, true);
            break;
        }
        rc = p->xs->txn_end(xs, t, false);
    } while (rc == -EAGAIN);
    p->xs->close(xs);
    pva_platform_close(p);
    return rc ? 3 : 0;
}

static void toolstack_detach(void)
{
    int dom = pvt_sim_create(&env.sim, "detach");
    char be[128];
    uint32_t v;
    pid_t pid;

    snprintf(be, sizeof(be), "/local/domain/0/backend/vaccel/%d/0", dom);
    PVT_EQ_INT(rf_env_attach(&env, dom, 0, NULL), 0);
    pid = pvt_sim_spawn(&env.sim, dom, guest_detached, NULL);
    PVT_EQ_INT(pvt_chan_recv(&to_parent, &v), 0);
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&env.sim, 0, detach_in_dom0, be)), 0);
    pvt_chan_send(&to_guest, 1);
    PVT_EQ_INT(pvt_wait(pid), 0);
}

/* -------------------------------------------------------------- fairness */

static int guest_flood(void *arg)
{
    struct rawfront f;
    struct rf_mem m;
    uint64_t done = 0;

    (void)arg;
    if (rf_init(&f, 0) || rf_connect(&f, 2, 4) ||
        rf_mem_alloc(&f, 512, true, &m) || rf_map_region(&f, 0, IOVA, &m, true))
        return 2;
    pvt_chan_send(&to_parent, 1);
    for (;;) {
        for (unsigned int q = 0; q < f.nq; q++) {
            struct rf_queue *rq = &f.q[q];

            while (RING_FREE_REQUESTS(&rq->ring)) {
                vaccel_request_t *r = rf_req(&f, q);

                rf_req_init(r, VACCEL_OP_CRC32C, done);
                r->u.crc32c.src = (struct vaccel_seg){
                    IOVA, (done & 1) ? (2u << 20) : 4096 };
            }
            rf_push(&f, q);
            while (RING_HAS_UNCONSUMED_RESPONSES(&rq->ring)) {
                rq->ring.rsp_cons++;
                done++;
            }
        }
    }
    return 0;
}

static int guest_victim(void *arg)
{
    struct rawfront f;
    struct rf_mem m;
    vaccel_request_t req;
    vaccel_response_t rsp;
    uint64_t worst = 0, total = 0;
    int bad = 0;

    (void)arg;
    PVT_EQ_INT(rf_init(&f, 0), 0);
    PVT_EQ_INT(rf_connect(&f, 1, 0), 0);
    PVT_EQ_INT(rf_mem_alloc(&f, 1, true, &m), 0);
    PVT_EQ_INT(rf_map_region(&f, 0, IOVA, &m, true), 0);
    memcpy(m.addr, "123456789", 9);
    for (int i = 0; i < 300; i++) {
        uint64_t t0 = now_ns(), dt;

        rf_req_init(&req, i % 2 ? VACCEL_OP_NOP : VACCEL_OP_CRC32C, 1);
        if (!(i % 2))
            req.u.crc32c.src = (struct vaccel_seg){ IOVA, 9 };
        bad += rf_call(&f, 0, &req, &rsp) != 0 || rsp.status != 0;
        dt = now_ns() - t0;
        total += dt;
        worst = dt > worst ? dt : worst;
    }
    /*
     * Not starved: every round trip completed, and the flooder is only
     * stopped after the last one.  The times are figures, not checks.
     */
    printf("# victim under flood: 300 round trips, mean %llu us, worst %llu "
           "us\n", (unsigned long long)(total / 300 / 1000),
           (unsigned long long)(worst / 1000));
    PVT_EQ_INT(bad, 0);
    rf_fini(&f);
    return 0;
}

static void fairness(void)
{
    int flooder = pvt_sim_create(&env.sim, "flooder");
    int victim = pvt_sim_create(&env.sim, "quiet");
    pid_t fp, vp;
    uint32_t v;

    PVT_EQ_INT(rf_env_attach(&env, flooder, 0, NULL), 0);
    PVT_EQ_INT(rf_env_attach(&env, victim, 0, NULL), 0);
    fp = pvt_sim_spawn(&env.sim, flooder, guest_flood, NULL);
    PVT_EQ_INT(pvt_chan_recv(&to_parent, &v), 0);
    vp = pvt_sim_spawn(&env.sim, victim, guest_victim, NULL);
    PVT_EQ_INT(pvt_wait(vp), 0);
    PVT_EQ_INT(pvt_sim_destroy(&env.sim, flooder), 0);
    pvt_wait(fp);
}

int main(void)
{
    pid_t pid;
    int dom;

    if (rf_env_start(&env, NULL)) {
        fprintf(stderr, "cannot start the sim and pvacceld\n");
        return 99;
    }
    pvt_chan_open(&to_parent);
    pvt_chan_open(&to_guest);

    dom = pvt_sim_create(&env.sim, "loops");
    PVT_EQ_INT(rf_env_attach(&env, dom, 0, NULL), 0);
    pid = pvt_sim_spawn(&env.sim, dom, guest_loops, NULL);
    PVT_EQ_INT(pvt_wait(pid), 0);

    killed_under_load();
    backend_restart();
    restart_closed_frontend();
    toolstack_detach();
    fairness();

    PVT_EQ_INT(rf_env_stop_backend(&env), 0);
    rf_env_stop(&env);
    return pvt_done();
}
