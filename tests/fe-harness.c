/* SPDX-License-Identifier: MIT */
/* fe-harness.c: see fe-harness.h. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/fe-harness.h"

int fe_env_backend_start(struct fe_env *e)
{
    char prog[4096], rundir[256];
    char *argv[] = { prog, "--foreground", "--platform=sim", "--rundir", rundir,
                     NULL };

    pvt_builddir_prog("pvacceld", prog, sizeof(prog));
    snprintf(rundir, sizeof(rundir), "%s", e->sim.dir);
    e->backend = pvt_sim_spawn_exec(&e->sim, 0, argv);
    return e->backend > 0 ? 0 : -EIO;
}

void fe_env_backend_kill(struct fe_env *e)
{
    if (e->backend <= 0)
        return;
    kill(e->backend, SIGKILL);
    pvt_wait(e->backend);
    e->backend = 0;
}

static int attach(struct fe_env *e, int domid)
{
    char prog[4096], dom[16];
    char *argv[] = { prog, "--platform=sim", "attach", dom, NULL };

    pvt_builddir_prog("pvaccel-ctl", prog, sizeof(prog));
    snprintf(dom, sizeof(dom), "%d", domid);
    return pvt_wait(pvt_sim_spawn_exec(&e->sim, 0, argv));
}

static struct fe_env *timeout_env;

/* SIGALRM: only async-signal-safe calls (kill, fork, execv, _exit). */
static void on_timeout(int sig)
{
    static const char msg[] = "fe-harness: test timed out, stopping the sim\n";
    struct fe_env *e = timeout_env;
    pid_t pid;

    (void)sig;
    (void)!write(2, msg, sizeof(msg) - 1);
    if (e->backend > 0)
        kill(e->backend, SIGKILL);
    pid = fork();
    if (pid == 0) {
        char *argv[] = { e->sim_prog, "--dir", e->sim.dir, "stop", NULL };

        execv(argv[0], argv);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
    _exit(99);
}

int fe_env_start(struct fe_env *e, int nguests)
{
    memset(e, 0, sizeof(*e));
    pvt_builddir_prog("pvaccel-sim", e->sim_prog, sizeof(e->sim_prog));
    if (pvt_sim_start(&e->sim) < 0)
        return 99;
    timeout_env = e;
    signal(SIGALRM, on_timeout);
    alarm(FE_TEST_TIMEOUT);
    PVT_EQ_INT(fe_env_backend_start(e), 0);
    for (int i = 0; i < nguests && i < FE_MAX_GUESTS; i++) {
        char name[32];

        snprintf(name, sizeof(name), "guest%d", i);
        e->guest[i] = pvt_sim_create(&e->sim, name);
        PVT_CHECK_MSG(e->guest[i] > 0, "create %s: %d", name, e->guest[i]);
        PVT_EQ_INT(attach(e, e->guest[i]), 0);
        e->nguests++;
    }
    return pvt_failures ? 99 : 0;
}

void fe_env_stop(struct fe_env *e)
{
    if (e->backend > 0) {
        kill(e->backend, SIGTERM);
        pvt_wait(e->backend);
        e->backend = 0;
    }
    pvt_sim_stop(&e->sim);
}

int fe_open(struct pva_dev **dev, unsigned int queues, unsigned int flags)
{
    return fe_open_events(dev, queues, flags, NULL, NULL);
}

int fe_open_events(struct pva_dev **dev, unsigned int queues, unsigned int flags,
                   pva_event_fn *fn, void *arg)
{
    struct pva_dev_opts o;
    char err[256];
    int rc;

    pva_dev_opts_init(&o);
    o.platform = "sim";
    o.queues = queues;
    o.flags = flags;
    o.timeout_ms = 20000;
    o.event_fn = fn;
    o.event_arg = arg;
    rc = pva_dev_open(&o, dev, err, sizeof(err));
    PVT_CHECK_MSG(rc == 0, "pva_dev_open: %s", rc ? err : "ok");
    return rc;
}

void fe_buf(struct pva_queue *q, size_t len, struct pva_buf *b)
{
    int rc = pva_buf_alloc(q, len, b);

    PVT_CHECK_MSG(rc == 0, "pva_buf_alloc(%zu): %s", len, pva_strerror(rc));
    if (rc)
        exit(1);
}
