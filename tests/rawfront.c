/* SPDX-License-Identifier: MIT */
/*
 * rawfront.c: a raw vaccel frontend and the backend tests' fixture.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "tests/rawfront.h"

static int xs_writef(struct rawfront *f, struct pva_xs_txn *t,
                     const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int xs_writef(struct rawfront *f, struct pva_xs_txn *t,
                     const char *name, const char *fmt, ...)
{
    char path[256], val[64];
    va_list ap;

    snprintf(path, sizeof(path), "%s/%s", f->fe_path, name);
    va_start(ap, fmt);
    vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    return f->p->xs->write(f->xs, t, path, val, (unsigned int)strlen(val));
}

int rf_init(struct rawfront *f, unsigned int devid)
{
    char err[256], path[256], *v;
    unsigned int len;

    memset(f, 0, sizeof(*f));
    f->devid = devid;
    f->p = pva_platform_open("sim", err, sizeof(err));
    if (!f->p) {
        fprintf(stderr, "rawfront: %s\n", err);
        return -ENODEV;
    }
    f->xs = f->p->xs->open(f->p);
    f->gs = f->p->gntshr->open(f->p);
    f->ev = f->p->evtchn->open(f->p);
    if (!f->xs || !f->gs || !f->ev)
        return -EIO;
    f->self = f->p->xs->self_domid(f->xs);
    snprintf(f->fe_path, sizeof(f->fe_path), "/local/domain/%d/device/vaccel/%u",
             f->self, devid);
    snprintf(path, sizeof(path), "%s/backend", f->fe_path);
    v = f->p->xs->read(f->xs, NULL, path, &len);
    if (!v)
        return -ENOENT;
    snprintf(f->be_path, sizeof(f->be_path), "%s", v);
    free(v);
    snprintf(path, sizeof(path), "%s/backend-id", f->fe_path);
    v = f->p->xs->read(f->xs, NULL, path, &len);
    if (!v)
        return -ENOENT;
    f->backend_id = atoi(v);
    free(v);
    snprintf(path, sizeof(path), "%s/state", f->be_path);
    return f->p->xs->watch(f->xs, path, "be") ? -EIO : 0;
}

char *rf_be_read(struct rawfront *f, const char *node)
{
    char path[256];
    unsigned int len;

    snprintf(path, sizeof(path), "%s/%s", f->be_path, node);
    return f->p->xs->read(f->xs, NULL, path, &len);
}

long rf_be_long(struct rawfront *f, const char *node)
{
    char *v = rf_be_read(f, node);
    long r = v ? atol(v) : -1;

    free(v);
    return r;
}

int rf_fe_write(struct rawfront *f, const char *node, const char *value)
{
    return xs_writef(f, NULL, node, "%s", value);
}

int rf_set_fe_state(struct rawfront *f, int state)
{
    return xs_writef(f, NULL, "state", "%d", state);
}

int rf_wait_be_state(struct rawfront *f, unsigned int mask)
{
    struct pollfd pfd = { .fd = f->p->xs->watch_fd(f->xs), .events = POLLIN };

    for (;;) {
        long s = rf_be_long(f, "state");
        char *path, *token;

        if (s >= 0 && s < 32 && (mask & (1u << s)))
            return (int)s;
        while (f->p->xs->read_watch(f->xs, &path, &token) == 0) {
            free(path);
            free(token);
        }
        s = rf_be_long(f, "state");
        if (s >= 0 && s < 32 && (mask & (1u << s)))
            return (int)s;
        if (poll(&pfd, 1, RF_TIMEOUT_MS) == 0) {
            fprintf(stderr, "rawfront: backend state %ld, waited for mask "
                    "%#x\n", s, mask);
            return -ETIMEDOUT;
        }
    }
}

/* ----------------------------------------------------------- handshake */

static int setup_queue(struct rawfront *f, struct rf_queue *q)
{
    uint32_t n = 1u << f->order;
    int port;

    q->pages = f->p->gntshr->share(f->gs, (pva_domid_t)f->backend_id, n,
                                   q->refs, true);
    if (!q->pages)
        return -errno;
    SHARED_RING_INIT((vaccel_sring_t *)q->pages);
    FRONT_RING_INIT(&q->ring, (vaccel_sring_t *)q->pages,
                    VACCEL_RING_BYTES(f->order));
    port = f->p->evtchn->bind_unbound(f->ev, (pva_domid_t)f->backend_id);
    if (port < 0)
        return port;
    q->port = (pva_port_t)port;
    return 0;
}

static int setup_evtring(struct rawfront *f)
{
    int port;

    f->evt = f->p->gntshr->share(f->gs, (pva_domid_t)f->backend_id, 1,
                                 &f->evt_ref, true);
    if (!f->evt)
        return -errno;
    VACCEL_EVT_RING_INIT(f->evt);
    f->evt_size = VACCEL_EVT_RING_SIZE(0);
    f->evt_cons = 0;
    port = f->p->evtchn->bind_unbound(f->ev, (pva_domid_t)f->backend_id);
    if (port < 0)
        return port;
    f->evt_port = (pva_port_t)port;
    return 0;
}

static int write_transport(struct rawfront *f, struct pva_xs_txn *t)
{
    int rc = 0;

    rc |= xs_writef(f, t, VACCEL_FIELD_FE_VERSION, "1");
    rc |= xs_writef(f, t, VACCEL_FIELD_NUM_QUEUES, "%u", f->nq);
    rc |= xs_writef(f, t, VACCEL_FIELD_RING_PAGE_ORDER, "%u", f->order);
    for (unsigned int i = 0; i < f->nq; i++) {
        char prefix[32] = "", name[64];

        if (f->nq > 1)
            snprintf(prefix, sizeof(prefix), "queue-%u/", i);
        for (unsigned int pg = 0; pg < (1u << f->order); pg++) {
            if (f->order)
                snprintf(name, sizeof(name), "%sring-ref%u", prefix, pg);
            else
                snprintf(name, sizeof(name), "%sring-ref", prefix);
            rc |= xs_writef(f, t, name, "%u", f->q[i].refs[pg]);
        }
        snprintf(name, sizeof(name), "%sevent-channel", prefix);
        rc |= xs_writef(f, t, name, "%u", f->q[i].port);
    }
    rc |= xs_writef(f, t, VACCEL_FIELD_EVT_RING_REF, "%u", f->evt_ref);
    rc |= xs_writef(f, t, VACCEL_FIELD_EVT_EVENT_CHANNEL, "%u", f->evt_port);
    rc |= xs_writef(f, t, "state", "%d", XenbusStateInitialised);
    return rc;
}

int rf_connect(struct rawfront *f, unsigned int nq, unsigned int order)
{
    int rc;

    if (nq > RF_MAX_QUEUES)
        return -EINVAL;
    f->nq = nq;
    f->order = order;
    rc = rf_wait_be_state(f, 1u << XenbusStateInitWait);
    if (rc < 0)
        return rc;
    for (unsigned int i = 0; i < nq; i++) {
        rc = setup_queue(f, &f->q[i]);
        if (rc)
            return rc;
    }
    rc = setup_evtring(f);
    if (rc)
        return rc;
    for (;;) {
        struct pva_xs_txn *t = f->p->xs->txn_start(f->xs);

        rc = write_transport(f, t);
        rc = f->p->xs->txn_end(f->xs, t, rc != 0);
        if (rc != -EAGAIN)
            break;
    }
    if (rc)
        return rc;
    rc = rf_wait_be_state(f, 1u << XenbusStateConnected |
                             1u << XenbusStateClosing |
                             1u << XenbusStateClosed);
    if (rc != XenbusStateConnected)
        return rc < 0 ? rc : -ECONNREFUSED;
    rf_set_fe_state(f, XenbusStateConnected);
    f->connected = true;
    return 0;
}

int rf_release_rings(struct rawfront *f)
{
    int rc = 0;

    for (unsigned int i = 0; i < f->nq; i++) {
        if (f->q[i].pages &&
            f->p->gntshr->unshare(f->gs, f->q[i].pages, 1u << f->order))
            rc = -EBUSY;
        if (f->q[i].port)
            f->p->evtchn->unbind(f->ev, f->q[i].port);
        memset(&f->q[i], 0, sizeof(f->q[i]));
    }
    if (f->evt && f->p->gntshr->unshare(f->gs, f->evt, 1))
        rc = -EBUSY;
    if (f->evt_port)
        f->p->evtchn->unbind(f->ev, f->evt_port);
    f->evt = NULL;
    f->evt_port = 0;
    f->connected = false;
    return rc;
}

int rf_disconnect(struct rawfront *f)
{
    int rc;

    rf_set_fe_state(f, XenbusStateClosing);
    rc = rf_wait_be_state(f, 1u << XenbusStateClosed);
    if (rc >= 0)
        rc = rf_release_rings(f);   /* -EBUSY: the backend still maps them */
    rf_set_fe_state(f, XenbusStateClosed);
    /* Ready for the next connection, as a frontend that stays. */
    rf_set_fe_state(f, XenbusStateInitialising);
    return rc < 0 ? rc : 0;
}

void rf_fini(struct rawfront *f)
{
    if (f->ev)
        f->p->evtchn->close(f->ev);
    if (f->gs)
        f->p->gntshr->close(f->gs);
    if (f->xs)
        f->p->xs->close(f->xs);
    if (f->p)
        pva_platform_close(f->p);
}

/* ------------------------------------------------------------ requests */

void rf_req_init(vaccel_request_t *req, uint8_t op, uint64_t id)
{
    memset(req, 0, sizeof(*req));
    req->op = op;
    req->id = id;
}

vaccel_request_t *rf_req(struct rawfront *f, unsigned int qi)
{
    struct rf_queue *q = &f->q[qi];
    vaccel_request_t *r = RING_GET_REQUEST(&q->ring, q->ring.req_prod_pvt);

    q->ring.req_prod_pvt++;
    return r;
}

void rf_push(struct rawfront *f, unsigned int qi)
{
    struct rf_queue *q = &f->q[qi];
    int notify;

    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->ring, notify);
    if (notify)
        f->p->evtchn->notify(f->ev, q->port);
}

static int wait_any_event(struct rawfront *f, int timeout_ms)
{
    struct pollfd pfd = { .fd = f->p->evtchn->fd(f->ev), .events = POLLIN };
    int port, n = poll(&pfd, 1, timeout_ms);

    if (n < 0)
        return -errno;
    while ((port = f->p->evtchn->pending(f->ev)) >= 0)
        f->p->evtchn->unmask(f->ev, (pva_port_t)port);
    return n ? 0 : -ETIMEDOUT;
}

int rf_rsp(struct rawfront *f, unsigned int qi, vaccel_response_t *rsp)
{
    struct rf_queue *q = &f->q[qi];

    for (;;) {
        int more;

        if (RING_HAS_UNCONSUMED_RESPONSES(&q->ring)) {
            xen_rmb();
            memcpy(rsp, RING_GET_RESPONSE(&q->ring, q->ring.rsp_cons),
                   sizeof(*rsp));
            q->ring.rsp_cons++;
            return 0;
        }
        RING_FINAL_CHECK_FOR_RESPONSES(&q->ring, more);
        if (more)
            continue;
        if (wait_any_event(f, RF_TIMEOUT_MS) == -ETIMEDOUT)
            return -ETIMEDOUT;
    }
}

int rf_call(struct rawfront *f, unsigned int qi, const vaccel_request_t *req,
            vaccel_response_t *rsp)
{
    memcpy(rf_req(f, qi), req, sizeof(*req));
    rf_push(f, qi);
    return rf_rsp(f, qi, rsp);
}

int32_t rf_call_status(struct rawfront *f, const vaccel_request_t *req,
                       vaccel_response_t *rsp)
{
    vaccel_response_t dummy;

    if (!rsp)
        rsp = &dummy;
    if (rf_call(f, 0, req, rsp))
        return RF_NO_ANSWER;
    return rsp->status;
}

int rf_evt(struct rawfront *f, struct vaccel_evt *evt, int timeout_ms)
{
    for (;;) {
        uint32_t prod = __atomic_load_n(&f->evt->evt_prod, __ATOMIC_ACQUIRE);
        int more;

        if (prod != f->evt_cons) {
            memcpy(evt, VACCEL_EVT_RING_SLOT(f->evt, f->evt_size, f->evt_cons),
                   sizeof(*evt));
            f->evt_cons++;
            VACCEL_EVT_RING_FINAL_CHECK(f->evt, f->evt_cons, more);
            (void)more;
            return 1;
        }
        VACCEL_EVT_RING_FINAL_CHECK(f->evt, f->evt_cons, more);
        if (more)
            continue;
        if (wait_any_event(f, timeout_ms) == -ETIMEDOUT)
            return 0;
    }
}

/* -------------------------------------------------------------- memory */

int rf_mem_alloc(struct rawfront *f, uint32_t npages, bool writable,
                 struct rf_mem *m)
{
    m->npages = npages;
    m->refs = calloc(npages, sizeof(m->refs[0]));
    if (!m->refs)
        return -ENOMEM;
    m->addr = f->p->gntshr->share(f->gs, (pva_domid_t)f->backend_id, npages,
                                  m->refs, writable);
    if (!m->addr) {
        free(m->refs);
        m->refs = NULL;
        return -errno;
    }
    return 0;
}

void rf_mem_free(struct rawfront *f, struct rf_mem *m)
{
    if (m->addr)
        f->p->gntshr->unshare(f->gs, m->addr, m->npages);
    free(m->refs);
    memset(m, 0, sizeof(*m));
}

int rf_dir_build(struct rawfront *f, const pva_gref_t *grefs, uint32_t n,
                 struct rf_mem *dir)
{
    uint32_t ndir = (n + VACCEL_DIR_GREFS_PER_PAGE - 1) /
                    VACCEL_DIR_GREFS_PER_PAGE;
    int rc = rf_mem_alloc(f, ndir ? ndir : 1, false, dir);

    if (rc)
        return rc;
    for (uint32_t d = 0; d < ndir; d++) {
        struct vaccel_page_directory *pd =
            (void *)((char *)dir->addr + (size_t)d * VACCEL_PAGE_SIZE);
        uint32_t first = d * VACCEL_DIR_GREFS_PER_PAGE;
        uint32_t cnt = n - first < VACCEL_DIR_GREFS_PER_PAGE ?
                       n - first : VACCEL_DIR_GREFS_PER_PAGE;

        memcpy(pd->gref, &grefs[first], cnt * sizeof(grefs[0]));
        pd->gref_dir_next_page = d + 1 < ndir ? dir->refs[d + 1] : 0;
    }
    return 0;
}

int32_t rf_map_region(struct rawfront *f, unsigned int qi, uint64_t iova,
                      struct rf_mem *m, bool writable)
{
    struct rf_mem dir;
    vaccel_request_t req;
    vaccel_response_t rsp;
    int rc = rf_dir_build(f, m->refs, m->npages, &dir);

    if (rc)
        return rc;
    rf_req_init(&req, VACCEL_OP_MAP_REGION, 0x3a9);
    req.flags = writable ? VACCEL_MAP_F_WRITE : 0;
    req.u.map_region.iova = iova;
    req.u.map_region.len = (uint64_t)m->npages * VACCEL_PAGE_SIZE;
    req.u.map_region.gref_dir = dir.refs[0];
    rc = rf_call(f, qi, &req, &rsp);
    rf_mem_free(f, &dir);
    return rc ? rc : rsp.status;
}

int32_t rf_unmap_region(struct rawfront *f, unsigned int qi, uint64_t iova,
                        uint64_t len)
{
    vaccel_request_t req;
    vaccel_response_t rsp;
    int rc;

    rf_req_init(&req, VACCEL_OP_UNMAP_REGION, 0x3aa);
    req.u.unmap_region.iova = iova;
    req.u.unmap_region.len = len;
    rc = rf_call(f, qi, &req, &rsp);
    return rc ? rc : rsp.status;
}

/* ------------------------------------------------------------- fixture */

int rf_env_start_backend(struct rf_env *e, const char *const *opts)
{
    char prog[4096], rundir[200];
    char *argv[64];
    int n = 0;

    snprintf(rundir, sizeof(rundir), "--rundir=%s", e->sim.dir);
    argv[n++] = (char *)pvt_builddir_prog("pvacceld", prog, sizeof(prog));
    argv[n++] = "--platform=sim";
    argv[n++] = "--foreground";
    if (getenv("PVACCELD_DEBUG"))
        argv[n++] = "--verbose";
    argv[n++] = rundir;
    for (; opts && *opts && n < 60; opts++) {
        if (strncmp(*opts, "--", 2))
            argv[n++] = "-o";
        argv[n++] = (char *)*opts;
    }
    argv[n] = NULL;
    e->backend = pvt_sim_spawn_exec(&e->sim, 0, argv);
    return e->backend > 0 ? 0 : -EIO;
}

int rf_env_start(struct rf_env *e, const char *const *opts)
{
    int rc;

    memset(e, 0, sizeof(*e));
    rc = pvt_sim_start(&e->sim);
    if (rc)
        return rc;
    snprintf(e->sock, sizeof(e->sock), "%s/pvacceld.sock", e->sim.dir);
    return rf_env_start_backend(e, opts);
}

int rf_env_stop_backend(struct rf_env *e)
{
    int rc;

    if (e->backend <= 0)
        return 0;
    kill(e->backend, SIGTERM);
    rc = pvt_wait(e->backend);
    e->backend = 0;
    return rc;
}

void rf_env_stop(struct rf_env *e)
{
    rf_env_stop_backend(e);
    pvt_sim_stop(&e->sim);
}

struct attach_args {
    int fe;
    unsigned int devid;
    const char *params;
};

static int attach_write(struct pva_platform *p, struct pva_xs *xs,
                        struct pva_xs_txn *t, const struct attach_args *a,
                        const char *be, const char *fe)
{
    const struct pva_xs_acl fe_acl[] = {
        { (pva_domid_t)a->fe, PVA_XS_PERM_NONE }, { 0, PVA_XS_PERM_READ },
    };
    const struct pva_xs_acl be_acl[] = {
        { 0, PVA_XS_PERM_NONE }, { (pva_domid_t)a->fe, PVA_XS_PERM_READ },
    };
    char path[256], val[256];
    struct { const char *dir, *node, *val; } nodes[] = {
        { be, "frontend", fe }, { be, "frontend-id", NULL },
        { be, "online", "1" }, { be, "params", a->params ? a->params : "" },
        { be, "state", "1" }, { fe, "backend", be },
        { fe, "backend-id", "0" }, { fe, "state", "1" },
    };
    int rc = 0;

    /* As a toolstack: nothing left of an earlier domain with this id. */
    p->xs->rm(xs, t, be);
    p->xs->rm(xs, t, fe);
    rc |= p->xs->mkdir(xs, t, be);
    rc |= p->xs->set_perms(xs, t, be, be_acl, 2);
    rc |= p->xs->mkdir(xs, t, fe);
    rc |= p->xs->set_perms(xs, t, fe, fe_acl, 2);
    snprintf(val, sizeof(val), "%d", a->fe);
    for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
        const char *v = nodes[i].val ? nodes[i].val : val;

        snprintf(path, sizeof(path), "%s/%s", nodes[i].dir, nodes[i].node);
        rc |= p->xs->write(xs, t, path, v, (unsigned int)strlen(v));
    }
    return rc;
}

static int attach_in_dom0(void *arg)
{
    const struct attach_args *a = arg;
    char err[256], be[128], fe[128];
    struct pva_platform *p = pva_platform_open("sim", err, sizeof(err));
    struct pva_xs *xs = p ? p->xs->open(p) : NULL;
    int rc;

    if (!xs)
        return 3;
    snprintf(be, sizeof(be), "/local/domain/0/backend/vaccel/%d/%u", a->fe,
             a->devid);
    snprintf(fe, sizeof(fe), "/local/domain/%d/device/vaccel/%u", a->fe,
             a->devid);
    do {
        struct pva_xs_txn *t = p->xs->txn_start(xs);

        rc = attach_write(p, xs, t, a, be, fe);
        rc = p->xs->txn_end(xs, t, rc != 0);
    } while (rc == -EAGAIN);
    p->xs->close(xs);
    pva_platform_close(p);
    return rc ? 4 : 0;
}

int rf_env_attach(struct rf_env *e, int fe, unsigned int devid,
                  const char *params)
{
    struct attach_args a = { fe, devid, params };
    pid_t pid = pvt_sim_spawn(&e->sim, 0, attach_in_dom0, &a);

    return pid > 0 && pvt_wait(pid) == 0 ? 0 : -EIO;
}

static int hold(void *arg)
{
    struct pvt_chan *c = arg;
    uint32_t v;

    close(c->wr);
    pvt_chan_recv(c, &v);   /* returns when the parent closes its end */
    return 0;
}

pid_t rf_env_hold(struct rf_env *e, int dom, struct pvt_chan *c)
{
    pid_t pid;

    if (pvt_chan_open(c))
        return -1;
    pid = pvt_sim_spawn(&e->sim, dom, hold, c);
    close(c->rd);
    c->rd = -1;
    return pid;
}

void rf_env_unhold(pid_t holder, struct pvt_chan *c)
{
    pvt_chan_close(c);
    if (holder > 0)
        pvt_wait(holder);
}

int rf_env_stats_within(struct rf_env *e, char *buf, size_t len,
                        int timeout_ms)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct pollfd pfd = { .events = POLLIN };
    size_t got = 0;
    ssize_t n = 1;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    if (fd < 0)
        return -errno;
    if (strlen(e->sock) >= sizeof(sa.sun_path)) {
        close(fd);
        return -ENAMETOOLONG;
    }
    memcpy(sa.sun_path, e->sock, strlen(e->sock) + 1);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        write(fd, "stats\n", 6) != 6) {
        close(fd);
        return -errno;
    }
    pfd.fd = fd;
    /* The reply ends when the daemon closes the connection. */
    while (got < len - 1 && n > 0) {
        if (poll(&pfd, 1, timeout_ms) <= 0) {
            close(fd);
            buf[got] = '\0';
            return -ETIMEDOUT;
        }
        n = read(fd, buf + got, len - 1 - got);
        if (n > 0)
            got += (size_t)n;
    }
    buf[got] = '\0';
    close(fd);
    return 0;
}

int rf_env_stats(struct rf_env *e, char *buf, size_t len)
{
    return rf_env_stats_within(e, buf, len, RF_TIMEOUT_MS);
}

long long rf_json_num(const char *json, const char *key)
{
    char pat[96];
    const char *at;

    snprintf(pat, sizeof(pat), "\"%s\":", key);
    at = strstr(json, pat);
    return at ? atoll(at + strlen(pat)) : -1;
}

/* ----------------------------------------------- what pvacceld holds */

unsigned int rf_env_backend_threads(const struct rf_env *e)
{
    char path[64];
    unsigned int n = 0;
    DIR *d;

    snprintf(path, sizeof(path), "/proc/%d/task", (int)e->backend);
    d = opendir(path);
    if (!d)
        return 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

unsigned int rf_env_backend_grant_maps(const struct rf_env *e)
{
    char path[64], line[512];
    unsigned int n = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/maps", (int)e->backend);
    f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        n += strstr(line, "memfd:") != NULL;
    fclose(f);
    return n;
}

/* In dom0: block until @path is gone (a watch, then re-read). */
static int wait_gone_in_dom0(void *arg)
{
    const char *path = arg;
    char err[128];
    struct pva_platform *p = pva_platform_open("sim", err, sizeof(err));
    struct pva_xs *xs = p ? p->xs->open(p) : NULL;
    struct pollfd pfd;
    unsigned int len;

    if (!xs || p->xs->watch(xs, path, "gone"))
        return 2;
    pfd = (struct pollfd){ .fd = p->xs->watch_fd(xs), .events = POLLIN };
    for (;;) {
        char *v = p->xs->read(xs, NULL, path, &len), *wp, *wt;

        free(v);
        if (!v && errno == ENOENT)
            break;
        if (poll(&pfd, 1, RF_TIMEOUT_MS) == 0)
            return 3;
        while (p->xs->read_watch(xs, &wp, &wt) == 0) {
            free(wp);
            free(wt);
        }
    }
    p->xs->close(xs);
    pva_platform_close(p);
    return 0;
}

int rf_env_wait_gone(struct rf_env *e, const char *path)
{
    pid_t pid = pvt_sim_spawn(&e->sim, 0, wait_gone_in_dom0, (void *)path);

    if (pid < 0)
        return (int)pid;
    return pvt_wait(pid) == 0 ? 0 : -ETIMEDOUT;
}
