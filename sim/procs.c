/* SPDX-License-Identifier: MIT */
/*
 * procs.c: the processes of the sim's domains, as the daemon (sim/daemon.c)
 * signals them: one at a time for `destroy`, and all of them, dom0's
 * included, when the daemon stops.
 *
 * A member token records the process that joined (`pvaccel-sim run`, or a
 * test's child) and a pidfd for it, taken at join time: signalled through
 * the pidfd, a process that has exited is never mistaken for a later one
 * that got its pid.  Its process group, if it leads one, is signalled too.
 *
 * Stopping is what a host does when it powers off: every process gets
 * SIGTERM, and the daemon keeps serving, since an orderly exit (pvacceld's,
 * a frontend's) needs xenstore, grants and event channels, until they have
 * all exited; those left after STOP_GRACE_MS get SIGKILL, and after
 * STOP_KILL_MS more the loop ends whatever remains.  Exits are seen on
 * pidfds and the deadlines on a timerfd, both in the event loop: nothing
 * sleeps or polls.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "sim/simd.h"

#define STOP_GRACE_MS 5000   /* SIGTERM to SIGKILL */
#define STOP_KILL_MS 1000    /* SIGKILL to giving up on a process */

struct stop_proc {
    pid_t pid;
    int pidfd;                /* -1 once the process has exited */
};

struct simd_stop {
    struct stop_proc *procs;
    unsigned int nprocs;
    unsigned int running;     /* procs whose exit is still awaited */
    int timer_fd;
    bool killed;              /* SIGKILL sent: the next deadline is the last */
};

/* pidfd_open(2) and pidfd_send_signal(2) without needing glibc 2.36. */
int simd_pidfd_open(pid_t pid)
{
    return pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
}

static int pidfd_signal(int pidfd, int sig)
{
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

void simd_proc_signal(pid_t pid, int pidfd, int sig)
{
    if (pid <= 0)
        return;
    /* Exited: its pid, and its group's id, may be someone else's now. */
    if (pidfd >= 0 && pidfd_signal(pidfd, 0) < 0)
        return;
    if (getpgid(pid) == pid)
        kill(-pid, sig);
    if (pidfd >= 0)
        pidfd_signal(pidfd, sig);
    else
        kill(pid, sig);
}

/* ---- stopping --------------------------------------------------------- */

static void stop_done(struct simd *s)
{
    sim_loop_stop(s->loop);
}

static void proc_forget(struct simd *s, struct stop_proc *p)
{
    sim_loop_del(s->loop, p->pidfd);
    close(p->pidfd);
    p->pidfd = -1;
    s->stop->running--;
}

/* A pidfd is readable once its process has exited. */
static void proc_exited(struct sim_loop *loop, int fd, uint32_t events,
                        void *opaque)
{
    struct simd *s = opaque;
    struct simd_stop *st = s->stop;

    (void)loop;
    (void)events;
    for (unsigned int i = 0; i < st->nprocs; i++)
        if (st->procs[i].pidfd == fd) {
            proc_forget(s, &st->procs[i]);
            break;
        }
    if (!st->running)
        stop_done(s);
}

static int arm_deadline(struct simd_stop *st, unsigned int ms)
{
    struct itimerspec its = {
        .it_value = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L },
    };

    return timerfd_settime(st->timer_fd, 0, &its, NULL) < 0 ? -errno : 0;
}

static void deadline(struct sim_loop *loop, int fd, uint32_t events,
                     void *opaque)
{
    struct simd *s = opaque;
    struct simd_stop *st = s->stop;
    uint64_t expirations;

    (void)loop;
    (void)events;
    if (read(fd, &expirations, sizeof(expirations)) < 0)
        return;
    if (st->killed) {
        simd_log(s, "stop: %u process(es) outlived SIGKILL; exiting anyway",
                 st->running);
        stop_done(s);
        return;
    }
    simd_log(s, "stop: %u process(es) still running after %d ms: SIGKILL",
             st->running, STOP_GRACE_MS);
    for (unsigned int i = 0; i < st->nprocs; i++)
        if (st->procs[i].pidfd >= 0)
            simd_proc_signal(st->procs[i].pid, st->procs[i].pidfd, SIGKILL);
    st->killed = true;
    if (arm_deadline(st, STOP_KILL_MS) < 0)
        stop_done(s);
}

static unsigned int count_members(const struct simd *s)
{
    unsigned int n = 0;

    for (const struct sim_domain *d = s->domains; d; d = d->next)
        for (const struct sim_member *m = d->members; m; m = m->next)
            n++;
    return n;
}

/*
 * Await @m's exit on a pidfd of our own (the member, and its pidfd, go
 * when its token closes, which can be before or after the process ends).
 */
static void await_member(struct simd *s, const struct sim_member *m)
{
    struct simd_stop *st = s->stop;
    struct stop_proc *p = &st->procs[st->nprocs];

    if (m->pidfd < 0)
        return;
    p->pid = m->pid;
    p->pidfd = fcntl(m->pidfd, F_DUPFD_CLOEXEC, 0);
    if (p->pidfd < 0)
        return;
    if (sim_loop_add(s->loop, p->pidfd, EPOLLIN, proc_exited, s) < 0) {
        close(p->pidfd);
        return;
    }
    st->nprocs++;
    st->running++;
}

/* The processes' pidfds are closed already. */
static void stop_state_free(struct simd_stop *st)
{
    if (st->timer_fd >= 0)
        close(st->timer_fd);
    free(st->procs);
    free(st);
}

/* Room to await @nprocs processes, and a deadline timer in the loop. */
static struct simd_stop *stop_state_new(struct simd *s, unsigned int nprocs)
{
    struct simd_stop *st = calloc(1, sizeof(*st));

    if (!st)
        return NULL;
    st->procs = calloc(nprocs ? nprocs : 1, sizeof(st->procs[0]));
    st->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (!st->procs || st->timer_fd < 0 ||
        sim_loop_add(s->loop, st->timer_fd, EPOLLIN, deadline, s) < 0) {
        stop_state_free(st);
        return NULL;
    }
    return st;
}

/* Without the state to wait with: SIGTERM now, and stop at once. */
static void stop_unwaited(struct simd *s)
{
    simd_log(s, "stop: out of resources, not waiting for processes");
    for (struct sim_domain *d = s->domains; d; d = d->next)
        for (struct sim_member *m = d->members; m; m = m->next)
            simd_proc_signal(m->pid, m->pidfd, SIGTERM);
    stop_done(s);
}

void simd_stop_begin(struct simd *s)
{
    struct simd_stop *st;

    if (s->stop)
        return;               /* already stopping: the deadlines hold */
    st = stop_state_new(s, count_members(s));
    if (!st) {
        stop_unwaited(s);
        return;
    }
    s->stop = st;
    for (struct sim_domain *d = s->domains; d; d = d->next)
        for (struct sim_member *m = d->members; m; m = m->next) {
            await_member(s, m);
            simd_proc_signal(m->pid, m->pidfd, SIGTERM);
        }
    simd_log(s, "stop: SIGTERM to the processes of every domain, %u to "
             "wait for", st->running);
    if (!st->running || arm_deadline(st, STOP_GRACE_MS) < 0)
        stop_done(s);
}

void simd_stop_free(struct simd *s)
{
    struct simd_stop *st = s->stop;

    if (!st)
        return;
    for (unsigned int i = 0; i < st->nprocs; i++)
        if (st->procs[i].pidfd >= 0)
            proc_forget(s, &st->procs[i]);
    sim_loop_del(s->loop, st->timer_fd);
    stop_state_free(st);
    s->stop = NULL;
}
