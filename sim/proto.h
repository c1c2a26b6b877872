/* SPDX-License-Identifier: MIT */
/*
 * proto.h: messages between sim clients and the pvaccel-sim daemon.
 *
 * Transport: SOCK_SEQPACKET on <simdir>/control, one message per request
 * and per reply, file descriptors in SCM_RIGHTS.  Xenstore does not use
 * this socket: it speaks xs_wire.h on <simdir>/xenstored.
 *
 * Every request starts with struct sim_msg; the reply echoes type and seq
 * and carries status (0 or -errno) followed by the reply body.  A
 * connection acts as a domain once HELLO presented that domain's member
 * token (the fd `pvaccel-sim run` hands to the domain's processes); a
 * connection without HELLO is the host administrator (it may create and
 * destroy domains, nothing else).
 */
#ifndef PVACCEL_SIM_PROTO_H
#define PVACCEL_SIM_PROTO_H

#include <stdint.h>

#define SIM_ENV_DIR "PVACCEL_SIM_DIR"       /* the sim's runtime dir */
#define SIM_ENV_DOMID "PVACCEL_SIM_DOMID"   /* set in a domain's processes */
#define SIM_ENV_TOKEN "PVACCEL_SIM_TOKEN_FD" /* member token fd number */
#define SIM_DEFAULT_DIR "/run/pvaccel-sim"
#define SIM_CONTROL_SOCK "control"
#define SIM_XENSTORED_SOCK "xenstored"
#define SIM_PID_FILE "pvaccel-sim.pid"

#define SIM_MSG_MAX 65536u   /* largest message, header included */
#define SIM_FDS_MAX 250u     /* fds per message (SCM_MAX_FD is 253) */

enum sim_msg_type {
    /* core (sim/daemon.c) */
    SIM_HELLO = 0x001,      /* fd[0] = member token; reply: sim_hello_rsp */
    SIM_DOMAIN_CREATE = 0x002, /* admin; sim_domain_create_req -> _rsp */
    SIM_DOMAIN_DESTROY = 0x003, /* admin; sim_domid_req */
    SIM_DOMAIN_JOIN = 0x004, /* admin; sim_domid_req; reply fd[0] = token */
    SIM_DOMAIN_LIST = 0x005, /* admin; reply: n x sim_domain_info */
    SIM_SHUTDOWN = 0x006,   /* admin; stop the daemon */

    /* grants (sim/gnttab.c) */
    SIM_GNT_SHARE = 0x100,
    SIM_GNT_UNSHARE = 0x101,
    SIM_GNT_MAP = 0x102,
    SIM_GNT_UNMAP = 0x103,
    SIM_GNT_SHARE_REFS = 0x104, /* more refs of a large share */
    SIM_GNT_MAP_NEXT = 0x105,   /* more runs/fds of a large map */

    /* event channels (sim/evtchn.c) */
    SIM_EVTCHN_OPEN = 0x200,
    SIM_EVTCHN_BIND_UNBOUND = 0x201,
    SIM_EVTCHN_BIND_INTERDOMAIN = 0x202,
    SIM_EVTCHN_UNBIND = 0x203,
    SIM_EVTCHN_PEER = 0x204,
};

struct sim_msg {
    uint32_t type;
    uint32_t seq;    /* chosen by the client, echoed */
    int32_t status;  /* replies: 0 or -errno */
    uint32_t len;    /* body bytes after this header */
};

struct sim_hello_rsp {
    uint16_t domid;
    uint16_t pad;
};

#define SIM_NAME_MAX 64

struct sim_domain_create_req {
    uint16_t domid;  /* 0: pick the next free id (>= 1) */
    uint16_t pad;
    char name[SIM_NAME_MAX]; /* NUL-terminated, unique; "" = "domU-<id>" */
};

struct sim_domain_create_rsp {
    uint16_t domid;
    uint16_t pad;
};

struct sim_domid_req {
    uint16_t domid;
    uint16_t pad;
};

struct sim_domain_info {
    uint16_t domid;
    uint16_t nr_members; /* live member tokens: processes groups */
    uint32_t nr_grants;  /* active grant entries */
    uint32_t nr_ports;   /* bound event channel ports */
    uint32_t pad;
    char name[SIM_NAME_MAX];
};


/*
 * ---- Grants and event channels (sim/gnttab.c, sim/evtchn.c,
 *      platform/sim_gntshr.c, sim_gntmap.c, sim_evtchn.c) ----------------
 *
 * Behaviour, limits and deviations from Xen: docs/sim-grants-evtchn.md.
 * All bodies are fixed-size little structs in host byte order (client and
 * daemon always run on the same host).
 */

/*
 * Grant table geometry, as Xen's defaults: gnttab_max_frames = 64 frames
 * of 512 v1 entries.  Refs 0..7 are reserved as Linux reserves them
 * (GNTTAB_NR_RESERVED_ENTRIES: console, xenstore, ...), so a domain can
 * have at most SIM_GNT_NR_ENTRIES - SIM_GNT_NR_RESERVED = 32,760 grants.
 */
#define SIM_GNT_NR_FRAMES 64u
#define SIM_GNT_ENTRIES_PER_FRAME 512u
#define SIM_GNT_NR_ENTRIES (SIM_GNT_NR_FRAMES * SIM_GNT_ENTRIES_PER_FRAME)
#define SIM_GNT_NR_RESERVED 8u
#define SIM_GNT_MAX_SHARED (SIM_GNT_NR_ENTRIES - SIM_GNT_NR_RESERVED)

/*
 * Refs per map call.  All refs travel in one request so the daemon checks
 * and takes the whole batch in one step (all or nothing); 8192 refs keep
 * that request well inside SIM_MSG_MAX.  More is E2BIG.
 */
#define SIM_GNT_MAP_MAX 8192u
/* Refs per SIM_GNT_SHARE / SIM_GNT_SHARE_REFS reply. */
#define SIM_GNT_REFS_WINDOW 8192u
/* Runs per SIM_GNT_MAP / SIM_GNT_MAP_NEXT reply. */
#define SIM_GNT_RUNS_WINDOW 4096u

#define SIM_GNT_F_WRITABLE 0x1u

/*
 * SIM_GNT_SHARE: fd[0] is a memfd of exactly count pages, sealed with
 * F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL and nothing else (so no peer
 * can truncate it under a mapper, nor seal it against writers).  The daemon
 * grants every page to @domid; reply: sim_gnt_refs_rsp with the first
 * window of refs; fetch the rest with SIM_GNT_SHARE_REFS.
 */
struct sim_gnt_share_req {
    uint16_t domid;
    uint16_t flags;  /* SIM_GNT_F_* */
    uint32_t count;
};

/* SIM_GNT_SHARE_REFS: refs [first, first + window) of the share @ref0. */
struct sim_gnt_refs_req {
    uint32_t ref0;   /* first ref of the share: names it */
    uint32_t first;
};

struct sim_gnt_refs_rsp {
    uint32_t count;  /* pages in the share */
    uint32_t first;  /* index of refs[0] */
    uint32_t n;      /* refs in this reply */
    uint32_t pad;
    uint32_t refs[];
};

/* SIM_GNT_UNSHARE: end every grant of the share; -EBUSY while mapped. */
struct sim_gnt_unshare_req {
    uint32_t ref0;
    uint32_t count;
};

/*
 * SIM_GNT_MAP: map @count refs of @domid (<= SIM_GNT_MAP_MAX).  Reply:
 * sim_gnt_map_rsp, then SIM_GNT_MAP_NEXT until first_page + pages of a
 * reply reaches count.  Each reply describes consecutive pages as runs
 * and carries the fds of slots not sent before, in slot order (one fd per
 * shared memfd, read-only ones opened O_RDONLY).
 */
struct sim_gnt_map_req {
    uint16_t domid;
    uint16_t flags;  /* SIM_GNT_F_* */
    uint32_t count;
    uint32_t refs[];
};

struct sim_gnt_run {
    uint32_t slot;   /* fd slot: index over all fds of this map */
    uint32_t pgoff;  /* page offset in that fd */
    uint32_t npages;
};

struct sim_gnt_map_rsp {
    uint32_t map_id;    /* names the map for MAP_NEXT and UNMAP */
    uint32_t count;
    uint32_t first_page;
    uint32_t nruns;
    uint32_t first_slot; /* slot of this message's fd[0] */
    uint32_t nfds;
    struct sim_gnt_run runs[];
};

/* SIM_GNT_MAP_NEXT and SIM_GNT_UNMAP. */
struct sim_gnt_map_id_req {
    uint32_t map_id;
    uint32_t count;  /* UNMAP: must match the map; MAP_NEXT: ignored */
};

/*
 * Event channel limits: port 0 is never valid (reserved, as in Xen).  A
 * domU gets ports 1..1023 (xl's max_event_channels default, 1023), dom0
 * ports 1..4095 (the 2-level ABI limit on 64-bit guests).
 */
#define SIM_EVTCHN_MAX_PORT_DOMU 1023u
#define SIM_EVTCHN_MAX_PORT_DOM0 4095u

/*
 * SIM_EVTCHN_OPEN: no body.  Reply: sim_evtchn_open_rsp, fd[0] = the
 * domain's generation page (read-only memfd): uint32_t gen[max_port + 1],
 * bumped by the daemon whenever port N's binding changes.  A notifier
 * checks gen[its port] with one atomic load and asks SIM_EVTCHN_PEER for
 * the peer's eventfd only when it moved.
 */
struct sim_evtchn_open_rsp {
    uint32_t max_port;
    uint32_t gen_size; /* bytes of the generation page mapping */
};

/*
 * The caller's own domain, as a remote domid: Xen's DOMID_SELF (xen/xen.h).
 * The sim platform passes the platform layer's PVA_DOMID_SELF through
 * unchanged, so the two must be equal (platform/sim_evtchn.c checks).
 */
#define SIM_DOMID_SELF 0x7ff0u

/* SIM_EVTCHN_BIND_UNBOUND: reply sim_evtchn_bind_rsp, fd[0] = eventfd. */
struct sim_evtchn_unbound_req {
    uint16_t remote;   /* SIM_DOMID_SELF allowed (loopback) */
    uint16_t pad;
};

/*
 * SIM_EVTCHN_BIND_INTERDOMAIN: reply sim_evtchn_bind_rsp, fd[0] = the
 * local port's eventfd (already pending once), fd[1] = the peer's.
 */
struct sim_evtchn_interdomain_req {
    uint16_t remote;
    uint16_t pad;
    uint32_t remote_port;
};

struct sim_evtchn_bind_rsp {
    uint32_t port;
    uint32_t gen;      /* gen[port] this reply reflects */
};

/* SIM_EVTCHN_UNBIND and SIM_EVTCHN_PEER. */
struct sim_evtchn_port_req {
    uint32_t port;
};

enum sim_evtchn_state {
    SIM_EVTCHN_UNBOUND = 1,
    SIM_EVTCHN_INTERDOMAIN = 2,
};

/* SIM_EVTCHN_PEER reply; fd[0] = peer eventfd when INTERDOMAIN. */
struct sim_evtchn_peer_rsp {
    uint32_t gen;
    uint32_t state;    /* enum sim_evtchn_state */
};

#endif
