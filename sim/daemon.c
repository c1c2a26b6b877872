/* SPDX-License-Identifier: MIT */
/*
 * daemon.c: the pvaccel-sim daemon core: sockets, domains, control
 * connections, and the hand-over of xenstore connections.
 *
 * Identity.  A domain's processes hold a member token: one end of a
 * socketpair whose other end the daemon keeps.  The token proves the
 * domain on the control socket (HELLO passes it with SCM_RIGHTS and the
 * daemon compares inodes) and on the xenstored socket (the daemon looks
 * for the token among the peer process's open files, since libxenstore
 * cannot pass fds).  When every copy of a token is closed the daemon's end
 * reads EOF: that is how it learns the processes have exited.
 *
 * Stopping (SIM_SHUTDOWN, SIGTERM, SIGINT) ends every domain's processes
 * first, while the loop still serves them (sim/procs.c).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sim/client.h"
#include "sim/daemon.h"
#include "sim/simd.h"
#include "sim/xenstored.h"

void simd_log(struct simd *s, const char *fmt, ...)
{
    va_list ap;

    if (!s->verbose)
        return;
    va_start(ap, fmt);
    fputs("pvaccel-sim: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

struct sim_domain *simd_domain_find(struct simd *s, uint16_t domid)
{
    for (struct sim_domain *d = s->domains; d; d = d->next)
        if (d->domid == domid && !d->dying)
            return d;
    return NULL;
}

static struct sim_domain *domain_find_name(struct simd *s, const char *name)
{
    for (struct sim_domain *d = s->domains; d; d = d->next)
        if (!strcmp(d->name, name) && !d->dying)
            return d;
    return NULL;
}

int simd_reply(struct sim_conn *c, const struct sim_req *req, int status,
               const void *body, size_t len, const int *fds,
               unsigned int nfds)
{
    struct sim_msg hdr = {
        .type = req->hdr.type,
        .seq = req->hdr.seq,
        .status = status,
        .len = status == 0 ? len : 0,
    };

    return sim_msg_send(c->fd, &hdr, status == 0 ? body : NULL,
                        status == 0 ? fds : NULL, status == 0 ? nfds : 0);
}

/* ---- connections ------------------------------------------------------ */

static void conn_free(struct simd *s, struct sim_conn *c)
{
    struct sim_conn **link;

    if (c->dom) {
        sim_gnttab_conn_closed(c);
        sim_evtchn_conn_closed(c);
    }
    for (link = &s->conns; *link; link = &(*link)->next)
        if (*link == c) {
            *link = c->next;
            break;
        }
    sim_loop_del(s->loop, c->fd);
    close(c->fd);
    free(c);
}

/* ---- domains ---------------------------------------------------------- */

static void member_free(struct simd *s, struct sim_member *m)
{
    sim_loop_del(s->loop, m->fd);
    close(m->fd);
    if (m->pidfd >= 0)
        close(m->pidfd);
    free(m);
}

/*
 * The domain is gone: as when Xen destroys a domain, its connections,
 * grants and ports go first, then the toolstack's xenstore entries, and
 * @releaseDomain tells the watchers.
 */
static void domain_destroy(struct simd *s, struct sim_domain *d)
{
    struct sim_domain **link;
    struct sim_conn *c, *next;

    d->dying = true;
    simd_log(s, "domain %u (%s) destroyed", d->domid, d->name);
    for (c = s->conns; c; c = next) {
        next = c->next;
        if (c->dom == d)
            conn_free(s, c);
    }
    while (d->members) {
        struct sim_member *m = d->members;

        d->members = m->next;
        member_free(s, m);
    }
    sim_evtchn_domain_destroy(d);
    sim_gnttab_domain_destroy(d);
    if (s->xs)
        xs_server_domain_released(s->xs, d->domid);
    for (link = &s->domains; *link; link = &(*link)->next)
        if (*link == d) {
            *link = d->next;
            break;
        }
    free(d);
}

/*
 * As Xen does (domctl's domid rover): the next free domid after the last
 * one handed out, wrapping below DOMID_FIRST_RESERVED.  A domid is not
 * reused at once, so a backend still releasing a dead domain's devices
 * never meets a new domain under the same id.
 */
static uint16_t next_free_domid(struct simd *s)
{
    unsigned int id = s->last_domid;

    for (unsigned int n = 0; n < SIM_MAX_DOMID; n++) {
        id = id >= SIM_MAX_DOMID ? 1 : id + 1;
        if (!simd_domain_find(s, (uint16_t)id)) {
            s->last_domid = (uint16_t)id;
            return (uint16_t)id;
        }
    }
    return 0;
}

static int domain_create(struct simd *s, uint16_t domid, const char *name,
                         struct sim_domain **out)
{
    struct sim_domain *d;
    int err;

    if (domid > SIM_MAX_DOMID)
        return -EINVAL;
    if (simd_domain_find(s, domid) || (*name && domain_find_name(s, name)))
        return -EEXIST;
    d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    d->simd = s;
    d->domid = domid;
    if (*name)
        snprintf(d->name, sizeof(d->name), "%s", name);
    else
        snprintf(d->name, sizeof(d->name), "domU-%u", domid);
    err = sim_gnttab_domain_init(d);
    if (err < 0)
        goto fail;
    err = sim_evtchn_domain_init(d);
    if (err < 0) {
        sim_gnttab_domain_destroy(d);
        goto fail;
    }
    d->next = s->domains;
    s->domains = d;
    err = xs_server_domain_created(s->xs, domid, d->name);
    if (err < 0) {
        domain_destroy(s, d);
        return err;
    }
    simd_log(s, "domain %u (%s) created", domid, d->name);
    *out = d;
    return 0;
fail:
    free(d);
    return err;
}

/* A member token's last copy closed: its processes are gone. */
static void member_event(struct sim_loop *loop, int fd, uint32_t events,
                         void *opaque)
{
    struct sim_domain *d = opaque;
    struct simd *s = d->simd;
    struct sim_member **link;
    char buf[64];
    ssize_t n;

    (void)loop;
    (void)events;
    /* Tokens carry no data; anything written to one is ignored. */
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        ;
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    for (link = &d->members; *link; link = &(*link)->next)
        if ((*link)->fd == fd) {
            struct sim_member *m = *link;

            *link = m->next;
            member_free(s, m);
            break;
        }
    if (!d->members && d->domid != 0)
        domain_destroy(s, d);
}

/* Make a member token for @d; returns the end to hand out, or -errno. */
static int member_new(struct simd *s, struct sim_domain *d, pid_t pid)
{
    struct sim_member *m = calloc(1, sizeof(*m));
    struct stat st;
    int sv[2];

    if (!m)
        return -ENOMEM;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
                   sv) < 0 || fstat(sv[1], &st) < 0) {
        int err = -errno;

        free(m);
        return err;
    }
    m->fd = sv[0];
    m->token_ino = st.st_ino;
    m->pid = pid;
    /* Taken now, while the process waits for our reply: it is this one. */
    m->pidfd = simd_pidfd_open(pid);
    if (sim_loop_add(s->loop, m->fd, EPOLLIN | EPOLLRDHUP, member_event,
                     d) < 0) {
        if (m->pidfd >= 0)
            close(m->pidfd);
        close(sv[0]);
        close(sv[1]);
        free(m);
        return -ENOMEM;
    }
    m->next = d->members;
    d->members = m;
    d->ever_joined = true;
    return sv[1];
}

static struct sim_domain *domain_by_token(struct simd *s, ino_t ino)
{
    for (struct sim_domain *d = s->domains; d; d = d->next)
        for (struct sim_member *m = d->members; m; m = m->next)
            if (m->token_ino == ino && !d->dying)
                return d;
    return NULL;
}

/* ---- control requests ------------------------------------------------- */

static bool is_admin(const struct sim_conn *c)
{
    return !c->dom || c->dom->domid == 0;
}

static void handle_hello(struct sim_conn *c, struct sim_req *req)
{
    struct sim_hello_rsp rsp = { 0 };
    struct stat st;

    if (c->dom || req->nfds != 1 || fstat(req->fds[0], &st) < 0) {
        simd_reply(c, req, -EINVAL, NULL, 0, NULL, 0);
        return;
    }
    c->dom = domain_by_token(c->simd, st.st_ino);
    if (!c->dom) {
        simd_reply(c, req, -ESRCH, NULL, 0, NULL, 0);
        return;
    }
    rsp.domid = c->dom->domid;
    simd_reply(c, req, 0, &rsp, sizeof(rsp), NULL, 0);
}

static void handle_create(struct sim_conn *c, struct sim_req *req)
{
    struct sim_domain_create_req in;
    struct sim_domain_create_rsp rsp = { 0 };
    struct sim_domain *d;
    int err;

    if (req->len != sizeof(in)) {
        simd_reply(c, req, -EINVAL, NULL, 0, NULL, 0);
        return;
    }
    memcpy(&in, req->body, sizeof(in));
    if (memchr(in.name, '\0', sizeof(in.name)) == NULL ||
        strchr(in.name, '/')) {
        simd_reply(c, req, -EINVAL, NULL, 0, NULL, 0);
        return;
    }
    if (c->simd->stop) {
        simd_reply(c, req, -ESHUTDOWN, NULL, 0, NULL, 0);
        return;
    }
    if (in.domid == 0)
        in.domid = next_free_domid(c->simd);
    err = in.domid ? domain_create(c->simd, in.domid, in.name, &d) : -ENOSPC;
    if (err == 0)
        rsp.domid = d->domid;
    simd_reply(c, req, err, &rsp, sizeof(rsp), NULL, 0);
}

static struct sim_domain *req_domain(struct sim_conn *c, struct sim_req *req)
{
    struct sim_domid_req in;

    if (req->len != sizeof(in))
        return NULL;
    memcpy(&in, req->body, sizeof(in));
    return simd_domain_find(c->simd, in.domid);
}

static void kill_members(struct sim_domain *d)
{
    for (struct sim_member *m = d->members; m; m = m->next)
        simd_proc_signal(m->pid, m->pidfd, SIGKILL);
}

static void handle_destroy(struct sim_conn *c, struct sim_req *req)
{
    struct sim_domain *d = req_domain(c, req);

    if (!d || d->domid == 0) {
        simd_reply(c, req, d ? -EPERM : -ESRCH, NULL, 0, NULL, 0);
        return;
    }
    kill_members(d);
    domain_destroy(c->simd, d);
    simd_reply(c, req, 0, NULL, 0, NULL, 0);
}

static void handle_join(struct sim_conn *c, struct sim_req *req)
{
    struct sim_domain *d = req_domain(c, req);
    struct ucred cred = { 0 };
    socklen_t clen = sizeof(cred);
    int token;

    if (!d || c->simd->stop) {
        /* Stopping: a process joining now would escape the SIGTERM. */
        simd_reply(c, req, d ? -ESHUTDOWN : -ESRCH, NULL, 0, NULL, 0);
        return;
    }
    getsockopt(c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen);
    token = member_new(c->simd, d, cred.pid);
    if (token < 0) {
        simd_reply(c, req, token, NULL, 0, NULL, 0);
        return;
    }
    simd_reply(c, req, 0, NULL, 0, &token, 1);
    close(token);
}

static void handle_list(struct sim_conn *c, struct sim_req *req)
{
    struct sim_domain_info info[SIM_MSG_MAX / sizeof(struct sim_domain_info) - 1];
    unsigned int n = 0;

    for (struct sim_domain *d = c->simd->domains;
         d && n < sizeof(info) / sizeof(info[0]); d = d->next) {
        struct sim_domain_info *i = &info[n++];

        memset(i, 0, sizeof(*i));
        i->domid = d->domid;
        for (struct sim_member *m = d->members; m; m = m->next)
            i->nr_members++;
        i->nr_grants = sim_gnttab_count(d);
        i->nr_ports = sim_evtchn_count(d);
        memcpy(i->name, d->name, sizeof(i->name));
    }
    simd_reply(c, req, 0, info, n * sizeof(info[0]), NULL, 0);
}

static void dispatch(struct sim_conn *c, struct sim_req *req)
{
    uint32_t t = req->hdr.type;

    if (t == SIM_HELLO) {
        handle_hello(c, req);
    } else if (t >= 0x100 && t < 0x200 && c->dom) {
        sim_gnttab_handle(c, req);
    } else if (t >= 0x200 && t < 0x300 && c->dom) {
        sim_evtchn_handle(c, req);
    } else if (!is_admin(c) || t < SIM_DOMAIN_CREATE || t > SIM_SHUTDOWN) {
        simd_reply(c, req, c->dom ? -EPERM : -EINVAL, NULL, 0, NULL, 0);
    } else if (t == SIM_DOMAIN_CREATE) {
        handle_create(c, req);
    } else if (t == SIM_DOMAIN_DESTROY) {
        handle_destroy(c, req);
    } else if (t == SIM_DOMAIN_JOIN) {
        handle_join(c, req);
    } else if (t == SIM_DOMAIN_LIST) {
        handle_list(c, req);
    } else {
        /* SIM_SHUTDOWN: the client waits for our end of its socket. */
        simd_reply(c, req, 0, NULL, 0, NULL, 0);
        simd_stop_begin(c->simd);
    }
}

static void conn_event(struct sim_loop *loop, int fd, uint32_t events,
                       void *opaque)
{
    struct sim_conn *c = opaque;
    struct simd *s = c->simd;
    unsigned char *buf = malloc(SIM_MSG_MAX);
    int fds[SIM_FDS_MAX];
    struct sim_req req = { .fds = fds };
    ssize_t n;

    (void)loop;
    (void)events;
    if (!buf) {
        conn_free(s, c);
        return;
    }
    n = sim_msg_recv(fd, buf, SIM_MSG_MAX, fds, SIM_FDS_MAX, &req.nfds);
    if (n == -EAGAIN) {
        free(buf);
        return;
    }
    if (n < (ssize_t)sizeof(struct sim_msg)) {
        /* EOF, error or a runt: the client is gone or broken. */
        for (unsigned int i = 0; i < req.nfds; i++)
            close(fds[i]);
        free(buf);
        conn_free(s, c);
        return;
    }
    memcpy(&req.hdr, buf, sizeof(req.hdr));
    req.body = buf + sizeof(req.hdr);
    req.len = (size_t)n - sizeof(req.hdr);
    if (req.hdr.len != req.len)
        simd_reply(c, &req, -EINVAL, NULL, 0, NULL, 0);
    else
        dispatch(c, &req);
    for (unsigned int i = 0; i < req.nfds; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    free(buf);
}

static void control_accept(struct sim_loop *loop, int fd, uint32_t events,
                           void *opaque)
{
    struct simd *s = opaque;
    struct sim_conn *c;
    int cfd;

    (void)events;
    cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (cfd < 0)
        return;
    c = calloc(1, sizeof(*c));
    if (!c || sim_loop_add(loop, cfd, EPOLLIN, conn_event, c) < 0) {
        free(c);
        close(cfd);
        return;
    }
    c->simd = s;
    c->fd = cfd;
    c->next = s->conns;
    s->conns = c;
}

/* ---- xenstore connections --------------------------------------------- */

/* Which domain's token does process @pid hold?  NULL if none or several. */
static struct sim_domain *domain_of_pid(struct simd *s, pid_t pid)
{
    struct sim_domain *found = NULL;
    char path[64];
    struct dirent *de;
    DIR *dir;

    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    dir = opendir(path);
    if (!dir)
        return NULL;
    while ((de = readdir(dir))) {
        char link[sizeof(path) + sizeof(de->d_name) + 1], target[64];
        unsigned long ino;
        struct sim_domain *d;
        ssize_t n;

        snprintf(link, sizeof(link), "%s/%s", path, de->d_name);
        n = readlink(link, target, sizeof(target) - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (sscanf(target, "socket:[%lu]", &ino) != 1)
            continue;
        d = domain_by_token(s, (ino_t)ino);
        if (d && found && d != found) {
            found = NULL;
            break;
        }
        if (d)
            found = d;
    }
    closedir(dir);
    return found;
}

static void xenstored_accept(struct sim_loop *loop, int fd, uint32_t events,
                             void *opaque)
{
    struct simd *s = opaque;
    struct ucred cred = { 0 };
    socklen_t clen = sizeof(cred);
    struct sim_domain *d;
    int cfd;

    (void)loop;
    (void)events;
    cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (cfd < 0)
        return;
    if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
        !(d = domain_of_pid(s, cred.pid))) {
        simd_log(s, "xenstore connection from pid %d refused: not in a sim "
                 "domain (use pvaccel-sim run)", (int)cred.pid);
        close(cfd);
        return;
    }
    /* add_conn owns cfd from here, on failure too. */
    xs_server_add_conn(s->xs, cfd, d->domid);
}

/* ---- start-up and shutdown -------------------------------------------- */

static int listen_on(const char *dir, const char *name, int type,
                     char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir,
                         name) >= sizeof(sa.sun_path)) {
        snprintf(err, errlen, "%s/%s: path too long for a socket", dir, name);
        return -1;
    }
    unlink(sa.sun_path);
    fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(fd, 64) < 0) {
        snprintf(err, errlen, "%s: %s", sa.sun_path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* SIGTERM or SIGINT: stop as for SIM_SHUTDOWN. */
static void signal_event(struct sim_loop *loop, int fd, uint32_t events,
                         void *opaque)
{
    struct signalfd_siginfo si;

    (void)loop;
    (void)events;
    if (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
        simd_stop_begin(opaque);
}

static int add_signals(struct simd *s)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -errno;
    s->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (s->signal_fd < 0)
        return -errno;
    return sim_loop_add(s->loop, s->signal_fd, EPOLLIN, signal_event, s);
}

/*
 * Every share holds a memfd and every port an eventfd, so a full dom0 port
 * table alone needs more descriptors than the usual soft limit of 1024.
 */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

struct simd *simd_new(const char *dir, bool verbose, char *err, size_t errlen)
{
    struct simd *s = calloc(1, sizeof(*s));
    struct sim_domain *dom0;
    int rc;

    if (!s || !(s->dir = strdup(dir)) || !(s->loop = sim_loop_new())) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    s->verbose = verbose;
    s->control_fd = s->xenstored_fd = s->signal_fd = -1;
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    s->control_fd = listen_on(dir, SIM_CONTROL_SOCK, SOCK_SEQPACKET, err,
                              errlen);
    if (s->control_fd < 0)
        goto fail;
    s->xenstored_fd = listen_on(dir, SIM_XENSTORED_SOCK, SOCK_STREAM, err,
                                errlen);
    if (s->xenstored_fd < 0)
        goto fail;
    s->xs = xs_server_new(s->loop, verbose);
    if (!s->xs) {
        snprintf(err, errlen, "cannot start the xenstore server");
        goto fail;
    }
    if (sim_loop_add(s->loop, s->control_fd, EPOLLIN, control_accept, s) <
            0 ||
        sim_loop_add(s->loop, s->xenstored_fd, EPOLLIN, xenstored_accept,
                     s) < 0 ||
        add_signals(s) < 0) {
        snprintf(err, errlen, "event loop: %s", strerror(errno));
        goto fail;
    }
    rc = domain_create(s, 0, "Domain-0", &dom0);
    if (rc < 0) {
        snprintf(err, errlen, "cannot create dom0: %s", strerror(-rc));
        goto fail;
    }
    return s;
fail:
    simd_free(s);
    return NULL;
}

int simd_run(struct simd *s)
{
    return sim_loop_run(s->loop);
}

static void unlink_socket(const struct simd *s, const char *name)
{
    char path[4096];

    snprintf(path, sizeof(path), "%s/%s", s->dir, name);
    unlink(path);
}

void simd_free(struct simd *s)
{
    if (!s)
        return;
    simd_stop_free(s);
    /* What outlived the stop, or all of a daemon that never ran. */
    while (s->domains) {
        struct sim_domain *d = s->domains;

        if (d->domid != 0)
            kill_members(d);
        domain_destroy(s, d);
    }
    while (s->conns)
        conn_free(s, s->conns);
    if (s->xs)
        xs_server_free(s->xs);
    if (s->control_fd >= 0) {
        close(s->control_fd);
        unlink_socket(s, SIM_CONTROL_SOCK);
    }
    if (s->xenstored_fd >= 0) {
        close(s->xenstored_fd);
        unlink_socket(s, SIM_XENSTORED_SOCK);
    }
    if (s->signal_fd >= 0)
        close(s->signal_fd);
    sim_loop_free(s->loop);
    free(s->dir);
    free(s);
}
