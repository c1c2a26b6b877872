/* SPDX-License-Identifier: MIT */
/*
 * simd.h: the pvaccel-sim daemon's core objects, shared by its modules.
 *
 * The daemon stands for the hypervisor and xenstored.  It owns:
 *   - the domain table (dom0 exists from start-up; domUs are created and
 *     destroyed like `xl create` / `xl destroy`);
 *   - control connections (sim/proto.h), each acting as one domain;
 *   - per-domain grant tables (sim/gnttab.c) and event channel tables
 *     (sim/evtchn.c);
 *   - the xenstore server (sim/xenstored.h).
 *
 * A domain is alive while at least one member token is open.  `pvaccel-sim
 * run` receives a token for the domain and leaves it open across exec, so
 * the token lives exactly as long as the processes of the domain do.  When
 * the last one closes, the domain dies: its grants, ports and xenstore home
 * go away and @releaseDomain fires.  dom0 never dies.  When the daemon
 * stops, every domain's processes are ended first (sim/procs.c).
 */
#ifndef PVACCEL_SIM_SIMD_H
#define PVACCEL_SIM_SIMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sim/loop.h"
#include "sim/proto.h"

#define SIM_MAX_DOMID 0x7fefu /* DOMID_FIRST_RESERVED - 1 */

struct simd;
struct sim_gnttab;     /* sim/gnttab.c */
struct sim_evtchn_dom; /* sim/evtchn.c */
struct sim_gnt_conn;   /* per-connection grant state */
struct sim_evtchn_conn;/* per-connection event channel state */
struct xs_server;      /* sim/xenstored.h */

struct sim_member {
    struct sim_member *next;
    int fd;        /* daemon's end of the token socketpair */
    ino_t token_ino; /* inode of the end handed to the domain */
    pid_t pid;     /* the `run` process (its process group is killed) */
    int pidfd;     /* of that process, from the join on; -1 if none */
};

struct sim_domain {
    struct sim_domain *next;
    struct simd *simd;
    uint16_t domid;
    char name[SIM_NAME_MAX];
    bool ever_joined;  /* had a process; dies when the last one exits */
    bool dying;
    struct sim_member *members;
    struct sim_gnttab *gnttab;
    struct sim_evtchn_dom *evtchn;
};

struct sim_conn {
    struct sim_conn *next;
    struct simd *simd;
    int fd;
    struct sim_domain *dom;    /* NULL until HELLO: the host admin */
    struct sim_gnt_conn *gnt;  /* lazily created by the grant module */
    struct sim_evtchn_conn *evtchn;
};

/*
 * A received request: header, body and any fds that came with it.  The
 * handler takes ownership of the fds it keeps and sets them to -1 in
 * @fds; the core closes what is left.
 */
struct sim_req {
    struct sim_msg hdr;
    const void *body;
    size_t len;
    int *fds;
    unsigned int nfds;
};

struct simd_stop;       /* sim/procs.c */

struct simd {
    struct sim_loop *loop;
    char *dir;
    int control_fd;
    int xenstored_fd;
    int signal_fd;
    struct sim_domain *domains;
    struct sim_conn *conns;
    struct xs_server *xs;
    bool verbose;
    struct simd_stop *stop;    /* NULL until the daemon starts to stop */
    uint16_t last_domid;        /* the rover: last domid created without --domid */
};

struct sim_domain *simd_domain_find(struct simd *s, uint16_t domid);

/*
 * Send a reply to @req on @c: header with @status, @body, and @nfds file
 * descriptors (not closed by this call).  Returns 0 or -errno.
 */
int simd_reply(struct sim_conn *c, const struct sim_req *req, int status,
               const void *body, size_t len, const int *fds,
               unsigned int nfds);

/* Log a line when the daemon runs verbose (stderr). */
void simd_log(struct simd *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Processes of the domains (sim/procs.c).  simd_pidfd_open() returns a
 * pidfd or -1.  simd_proc_signal() sends @sig to a process, through
 * @pidfd if it is not -1 (then never to a later process with the same
 * pid), and to its process group if it leads one.
 *
 * simd_stop_begin() starts the daemon's stop: SIGTERM to every process of
 * every domain, dom0's too; the loop serves on and ends once they have
 * exited, SIGKILL going to those left after a grace period.  Idempotent.
 * simd_stop_free() releases what it used.
 */
int simd_pidfd_open(pid_t pid);
void simd_proc_signal(pid_t pid, int pidfd, int sig);
void simd_stop_begin(struct simd *s);
void simd_stop_free(struct simd *s);

/*
 * Grant module (sim/gnttab.c).  handle() gets every SIM_GNT_* request of a
 * connection that passed HELLO and must reply exactly once.
 */
int sim_gnttab_domain_init(struct sim_domain *d);
void sim_gnttab_domain_destroy(struct sim_domain *d);
void sim_gnttab_handle(struct sim_conn *c, struct sim_req *req);
void sim_gnttab_conn_closed(struct sim_conn *c);
unsigned int sim_gnttab_count(const struct sim_domain *d);

/* Event channel module (sim/evtchn.c), same contract. */
int sim_evtchn_domain_init(struct sim_domain *d);
void sim_evtchn_domain_destroy(struct sim_domain *d);
void sim_evtchn_handle(struct sim_conn *c, struct sim_req *req);
void sim_evtchn_conn_closed(struct sim_conn *c);
unsigned int sim_evtchn_count(const struct sim_domain *d);

#endif
