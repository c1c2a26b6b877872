/* SPDX-License-Identifier: MIT */
/*
 * sim-core: domains of the sim daemon.  Created like `xl create`, alive
 * while their processes are, dead when the last exits or on destroy; only
 * the host admin and dom0 may manage domains; identity is the member token;
 * `pvaccel-sim stop` ends every domain's processes, dom0's too.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <xenstore.h>

#include "sim/client.h"
#include "tests/testlib.h"

static struct pvt_sim sim;

/* A domU process may not create or destroy domains. */
static int domu_cannot_manage(void *arg)
{
    struct sim_domain_create_req req = { 0 };
    struct sim_domid_req dreq = { .domid = 0 };
    struct sim_client c;
    int err;

    (void)arg;
    PVT_EQ_INT(sim_client_connect(&c, NULL, 1), 0);
    PVT_CHECK(c.domid > 0);
    err = sim_client_call(&c, SIM_DOMAIN_CREATE, &req, sizeof(req), NULL, 0,
                          NULL, 0, NULL, NULL, 0, NULL);
    PVT_EQ_INT(err, -EPERM);
    err = sim_client_call(&c, SIM_DOMAIN_DESTROY, &dreq, sizeof(dreq), NULL,
                          0, NULL, 0, NULL, NULL, 0, NULL);
    PVT_EQ_INT(err, -EPERM);
    sim_client_close(&c);
    return 0;
}

/* HELLO with something that is not a member token is refused. */
static void bogus_token_refused(void)
{
    struct sim_client c;
    int sv[2], err;

    PVT_EQ_INT(sim_client_connect(&c, sim.dir, 0), 0);
    PVT_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    err = sim_client_call(&c, SIM_HELLO, NULL, 0, &sv[1], 1, NULL, 0, NULL,
                          NULL, 0, NULL);
    PVT_EQ_INT(err, -ESRCH);
    err = sim_client_call(&c, SIM_HELLO, NULL, 0, NULL, 0, NULL, 0, NULL,
                          NULL, 0, NULL);
    PVT_EQ_INT(err, -EINVAL);
    close(sv[0]);
    close(sv[1]);
    sim_client_close(&c);
}

/* A runt or lying message gets an error, and the daemon keeps serving. */
static void malformed_messages(void)
{
    struct sim_client c;
    struct sim_msg hdr = { .type = SIM_DOMAIN_LIST, .seq = 1, .len = 100 };
    char buf[SIM_MSG_MAX];
    unsigned int nfds;
    int fds[1];
    ssize_t n;

    PVT_EQ_INT(sim_client_connect(&c, sim.dir, 0), 0);
    PVT_EQ_INT(send(c.fd, &hdr, sizeof(hdr), 0), (ssize_t)sizeof(hdr));
    n = sim_msg_recv(c.fd, buf, sizeof(buf), fds, 1, &nfds);
    PVT_EQ_INT(n, (ssize_t)sizeof(hdr));
    memcpy(&hdr, buf, sizeof(hdr));
    PVT_EQ_INT(hdr.status, -EINVAL);
    hdr = (struct sim_msg){ .type = 0xdead, .seq = 2 };
    PVT_EQ_INT(sim_msg_send(c.fd, &hdr, NULL, NULL, 0), 0);
    n = sim_msg_recv(c.fd, buf, sizeof(buf), fds, 1, &nfds);
    memcpy(&hdr, buf, sizeof(hdr));
    PVT_CHECK(n == (ssize_t)sizeof(hdr) && hdr.status == -EINVAL);
    PVT_EQ_INT(send(c.fd, "x", 1, 0), 1); /* a runt: dropped */
    n = recv(c.fd, buf, sizeof(buf), 0);
    PVT_EQ_INT(n, 0);
    sim_client_close(&c);
    {
        struct pvt_sim_domstat st;

        PVT_EQ_INT(pvt_sim_domstat(&sim, 0, &st), 0);
    }
}

/* In dom0: tell the parent once watching, return at @releaseDomain. */
static int watch_release(void *arg)
{
    struct pvt_chan *ready = arg;
    struct xs_handle *xs = xs_open(0);
    unsigned int n;
    char **ev;

    if (!xs || !xs_watch(xs, "@releaseDomain", "rel"))
        return 2;
    ev = xs_read_watch(xs, &n); /* a watch fires once when set */
    free(ev);
    pvt_chan_send(ready, 1);
    ev = xs_read_watch(xs, &n);
    PVT_CHECK(ev && !strcmp(ev[XS_WATCH_PATH], "@releaseDomain"));
    free(ev);
    xs_close(xs);
    return 0;
}

struct hold {
    struct pvt_chan ready; /* the child says it has joined */
    struct pvt_chan hold;  /* the child lives until the parent closes it */
};

static int hold_open(struct hold *h)
{
    return pvt_chan_open(&h->ready) || pvt_chan_open(&h->hold) ? -1 : 0;
}

static int held_child(void *arg)
{
    struct hold *h = arg;
    uint32_t v;

    close(h->hold.wr);
    pvt_chan_send(&h->ready, 1);
    pvt_chan_recv(&h->hold, &v);
    return 0;
}

/* Spawn a held child in @domid; returns once it has joined the domain. */
static pid_t spawn_held(struct pvt_sim *s, int domid, struct hold *h)
{
    pid_t pid = pvt_sim_spawn(s, domid, held_child, h);
    uint32_t v;

    PVT_EQ_INT(pvt_chan_recv(&h->ready, &v), 0);
    return pid;
}

static void hold_release(struct hold *h)
{
    pvt_chan_close(&h->ready);
    pvt_chan_close(&h->hold);
}

static int exit_now(void *arg)
{
    (void)arg;
    return 0;
}

/* ------------------------------------------------------------- stop */

/* `pvaccel-sim --dir DIR ARGS...` as a child; its pid.  Output to @out. */
static pid_t sim_cli(const struct pvt_sim *s, const char *const *args,
                     int out)
{
    char prog[4096];
    const char *argv[16] = {
        pvt_builddir_prog("pvaccel-sim", prog, sizeof(prog)), "--dir", s->dir,
    };
    pid_t pid;
    int n = 3;

    while (*args && n < 15)
        argv[n++] = *args++;
    argv[n] = NULL;
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        if (out >= 0)
            dup2(out, STDOUT_FILENO);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* `pvaccel-sim run 0 -- sh`: a long-running dom0 process, once it is one. */
static pid_t run_dom0_sleeper(const struct pvt_sim *s)
{
    static const char *const args[] = {
        "run", "0", "--", "sh", "-c", "echo joined; exec sleep 1000", NULL,
    };
    char line[16] = "";
    int pfd[2];
    pid_t pid;

    if (pipe2(pfd, O_CLOEXEC) < 0)
        return -1;
    pid = sim_cli(s, args, pfd[1]);
    close(pfd[1]);
    /* `run` joins the domain before it execs: the line says it has. */
    PVT_CHECK(read(pfd[0], line, sizeof(line) - 1) > 0 &&
              !strncmp(line, "joined", 6));
    close(pfd[0]);
    return pid;
}

/* On SIGTERM, write a node: the sim still serves while processes exit. */
static int orderly_on_sigterm(void *arg)
{
    struct pvt_chan *ready = arg;
    struct xs_handle *xs = xs_open(0);
    sigset_t set;
    int sig = 0;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    if (!xs || sigprocmask(SIG_BLOCK, &set, NULL))
        return 2;
    pvt_chan_send(ready, 1);
    sigwait(&set, &sig);
    if (!xs_write(xs, XBT_NULL, "/local/domain/0/data/stopping", "1", 1))
        return 3;
    xs_close(xs);
    return 0;
}

static int ignore_sigterm(void *arg)
{
    struct pvt_chan *ready = arg;

    signal(SIGTERM, SIG_IGN);
    pvt_chan_send(ready, 1);
    for (;;)
        pause();
    return 0;
}

static pid_t spawn_ready(struct pvt_sim *s, int domid, int (*fn)(void *))
{
    struct pvt_chan ready;
    pid_t pid;
    uint32_t v;

    if (pvt_chan_open(&ready))
        return -1;
    pid = pvt_sim_spawn(s, domid, fn, &ready);
    PVT_EQ_INT(pvt_chan_recv(&ready, &v), 0);
    pvt_chan_close(&ready);
    return pid;
}

/* @pid's exit status if it has already ended; else -1 (and it is killed). */
static int ended(pid_t pid)
{
    int status;

    if (pid <= 0)
        return -1;
    if (waitpid(pid, &status, WNOHANG) != pid) {
        kill(pid, SIGKILL);
        pvt_wait(pid);
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * Stop with processes in dom0 and a domU: once `pvaccel-sim stop` returns,
 * all have ended, by SIGTERM, by their own exit after it, or by SIGKILL
 * for the one that ignores SIGTERM.
 */
static void stop_ends_every_process(void)
{
    static const char *const stop[] = { "stop", NULL };
    struct pvt_sim s;
    pid_t sleeper, orderly, stubborn, domu;
    struct hold h;
    int dom;

    if (pvt_sim_start(&s) < 0) {
        PVT_CHECK_MSG(false, "second sim started");
        return;
    }
    dom = pvt_sim_create(&s, "doomed");
    PVT_CHECK(dom > 0);
    sleeper = run_dom0_sleeper(&s);
    orderly = spawn_ready(&s, 0, orderly_on_sigterm);
    stubborn = spawn_ready(&s, 0, ignore_sigterm);
    PVT_EQ_INT(hold_open(&h), 0);
    domu = spawn_held(&s, dom, &h);
    PVT_EQ_INT(pvt_wait(sim_cli(&s, stop, -1)), 0);
    PVT_EQ_INT(ended(sleeper), 128 + SIGTERM);
    PVT_EQ_INT(ended(orderly), 0);
    PVT_EQ_INT(ended(stubborn), 128 + SIGKILL);
    PVT_EQ_INT(ended(domu), 128 + SIGTERM);
    hold_release(&h);
    pvt_sim_stop(&s);
}

int main(void)
{
    struct pvt_sim_domstat st;
    struct pvt_chan ready;
    struct hold h;
    int a, b, err;
    pid_t p1, p2, watcher;
    uint32_t v;

    if (pvt_sim_start(&sim) < 0)
        return 99;
    PVT_EQ_INT(pvt_sim_domstat(&sim, 0, &st), 0);

    a = pvt_sim_create(&sim, "alpha");
    b = pvt_sim_create(&sim, "beta");
    PVT_CHECK(a > 0 && b > 0 && a != b);
    PVT_EQ_INT(pvt_sim_create(&sim, "alpha"), -EEXIST);

    /* Alive before any process, like a domain `xl create`d paused. */
    PVT_EQ_INT(pvt_sim_domstat(&sim, a, &st), 0);
    PVT_EQ_INT(st.members, 0);

    /* Two processes: the domain lives until both have exited. */
    PVT_EQ_INT(pvt_chan_open(&ready), 0);
    watcher = pvt_sim_spawn(&sim, 0, watch_release, &ready);
    PVT_EQ_INT(pvt_chan_recv(&ready, &v), 0);
    pvt_chan_close(&ready);
    PVT_EQ_INT(hold_open(&h), 0);
    p1 = spawn_held(&sim, a, &h);
    p2 = pvt_sim_spawn(&sim, a, exit_now, NULL);
    PVT_EQ_INT(pvt_wait(p2), 0);
    PVT_EQ_INT(pvt_sim_domstat(&sim, a, &st), 0);
    PVT_EQ_INT(st.members, 1);
    hold_release(&h);
    PVT_EQ_INT(pvt_wait(p1), 0);
    /* dom0 hears @releaseDomain; by then the domain is gone. */
    PVT_EQ_INT(pvt_wait(watcher), 0);
    PVT_EQ_INT(pvt_sim_domstat(&sim, a, &st), -ESRCH);

    /* destroy kills the processes and frees the domain at once. */
    PVT_EQ_INT(hold_open(&h), 0);
    p1 = spawn_held(&sim, b, &h);
    PVT_EQ_INT(pvt_sim_destroy(&sim, b), 0);
    PVT_EQ_INT(pvt_sim_domstat(&sim, b, &st), -ESRCH);
    PVT_EQ_INT(pvt_wait(p1), 128 + 9);
    hold_release(&h);
    PVT_EQ_INT(pvt_sim_destroy(&sim, 0), -EPERM);
    PVT_EQ_INT(pvt_sim_destroy(&sim, 4242), -ESRCH);

    a = pvt_sim_create(&sim, "gamma");
    p1 = pvt_sim_spawn(&sim, a, domu_cannot_manage, NULL);
    PVT_EQ_INT(pvt_wait(p1), 0);
    bogus_token_refused();
    malformed_messages();
    stop_ends_every_process();

    err = pvt_done();
    pvt_sim_stop(&sim);
    return err;
}
