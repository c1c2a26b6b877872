/* SPDX-License-Identifier: MIT */
/*
 * procs.c: the processes of the sim's domains, as the daemon (sim/daemon.c)
 * signals them (`destroy`).
 *
 * A member token records the process that joined (`pvaccel-sim run`, or a
 * test's child) and a pidfd for it, taken at join time: signalled through
 * the pidfd, a process that has exited is never mistaken for a later one
 * that got its pid.  Its process group, if it leads one, is signalled too.
 */
#include "config.h"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sim/simd.h"

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
