/* SPDX-License-Identifier: MIT */
/*
 * testlib.h: small helpers for pvaccel's C tests.
 *
 * Checks: PVT_CHECK(cond) and friends record a failure with file:line and
 * carry on; pvt_done() prints the tally and returns the automake exit code
 * (0 pass, 1 fail).  Every check prints one "ok"/"not ok" line so a log
 * shows what was asserted.
 *
 * The sim fixture starts a private pvaccel-sim daemon in a fresh temporary
 * directory (so tests run in parallel), creates domains, and forks children
 * that join a domain the way `pvaccel-sim run` does (member token,
 * PVACCEL_SIM_* and XENSTORED_PATH in the environment) and run a function.
 */
#ifndef PVACCEL_TESTLIB_H
#define PVACCEL_TESTLIB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

extern int pvt_failures;
extern int pvt_checks;

void pvt_report(bool ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define PVT_CHECK(cond) \
    pvt_report(!!(cond), __FILE__, __LINE__, "%s", #cond)
#define PVT_CHECK_MSG(cond, ...) \
    pvt_report(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define PVT_EQ_INT(a, b)                                                    \
    do {                                                                    \
        long long pvt_a_ = (long long)(a), pvt_b_ = (long long)(b);         \
        pvt_report(pvt_a_ == pvt_b_, __FILE__, __LINE__,                    \
                   "%s == %s (%lld vs %lld)", #a, #b, pvt_a_, pvt_b_);      \
    } while (0)
#define PVT_EQ_STR(a, b)                                                    \
    do {                                                                    \
        const char *pvt_a_ = (a), *pvt_b_ = (b);                            \
        pvt_report(pvt_a_ && pvt_b_ && !strcmp(pvt_a_, pvt_b_), __FILE__,   \
                   __LINE__, "%s == %s (\"%s\" vs \"%s\")", #a, #b,         \
                   pvt_a_ ? pvt_a_ : "(null)", pvt_b_ ? pvt_b_ : "(null)"); \
    } while (0)

/* Print the tally; returns the process exit status for automake. */
int pvt_done(void);

/* Path of a built program: $top_builddir/NAME (or NAME if unset). */
const char *pvt_builddir_prog(const char *name, char *buf, size_t len);

struct pvt_sim {
    char dir[128];
};

/* Start a private sim daemon.  Returns 0 or -errno (and prints why). */
int pvt_sim_start(struct pvt_sim *s);
/* Stop it and remove its directory. */
void pvt_sim_stop(struct pvt_sim *s);
/* Create a domain; returns its domid or -errno. */
int pvt_sim_create(struct pvt_sim *s, const char *name);
/*
 * Create a domain named PREFIX-N, N counting up within this process, and
 * check that it worked: a test that needs many short-lived domains (a
 * domain dies with its last process) names each once.  domid or -errno.
 */
int pvt_sim_create_fresh(struct pvt_sim *s, const char *prefix);
/* Destroy a domain (kills its processes).  0 or -errno. */
int pvt_sim_destroy(struct pvt_sim *s, int domid);

/*
 * Fork a child that joins @domid and returns fn(arg) as its exit status.
 * Returns the child's pid once it has joined the domain, or -errno.
 * Children get SIGALRM after PVT_CHILD_DEADLINE_S: not synchronisation, a
 * bound on how long a broken run can block (a peer that failed never
 * writes the byte the other waits for).
 */
#define PVT_CHILD_DEADLINE_S 300
pid_t pvt_sim_spawn(struct pvt_sim *s, int domid, int (*fn)(void *),
                    void *arg);
/* Run @argv as a process of @domid (fork + exec); returns the pid. */
pid_t pvt_sim_spawn_exec(struct pvt_sim *s, int domid, char *const argv[]);
/* Wait for a child: its exit status, or 128+signal. */
int pvt_wait(pid_t pid);

/*
 * Domain statistics as the daemon reports them (SIM_DOMAIN_LIST).
 * Returns 0 or -ESRCH if the domain does not exist.
 */
struct pvt_sim_domstat {
    unsigned int members, grants, ports;
};
int pvt_sim_domstat(struct pvt_sim *s, int domid, struct pvt_sim_domstat *st);

/*
 * A pipe for lock-step between a parent and its children: one side
 * writes a byte, the other blocks until it arrives.  No sleeps.
 */
struct pvt_chan {
    int rd, wr;
};
int pvt_chan_open(struct pvt_chan *c);
void pvt_chan_close(struct pvt_chan *c);
int pvt_chan_send(struct pvt_chan *c, uint32_t v);
/*
 * Blocks; returns 0 and the value, -EPIPE if the writer went away, or
 * -ETIMEDOUT after PVT_CHAN_TIMEOUT_S: a peer that died without writing
 * fails the test instead of hanging it.
 */
#define PVT_CHAN_TIMEOUT_S 300
int pvt_chan_recv(struct pvt_chan *c, uint32_t *v);

#endif
