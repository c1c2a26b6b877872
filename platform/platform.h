/* SPDX-License-Identifier: MIT */
/*
 * platform.h: the only way pvaccel code reaches Xen facilities.
 *
 * Frontend, backend and tools never call libxen* directly.  They open a
 * platform (xen or sim) and use four small ops tables, one per facility,
 * in the manner of QEMU's include/hw/xen/xen_backend_ops.h:
 *
 *   gntshr  - guest side: allocate pages and grant them to a domain
 *   gntmap  - backend side: map grant refs of another domain (batch, ro/rw),
 *             and what a map costs in kernel mappings
 *   evtchn  - event channels: alloc unbound, bind interdomain, notify,
 *             pending/unmask, a pollable fd
 *   xs      - xenstore: read, write, mkdir, rm, directory, permissions,
 *             watches, transactions
 *
 * Two implementations sit behind the tables:
 *
 *   xen  libxengnttab, libxenevtchn, libxenstore on a real Xen host;
 *   sim  the pvaccel-sim daemon (docs/sim.md): grants are memfd pages passed
 *        with SCM_RIGHTS, event channels are eventfds, and xenstore is the
 *        unmodified libxenstore talking to the sim's xenstored over a Unix
 *        socket, so the xs table is libxenstore in both modes.
 *
 * Conventions: calls return 0 (or a value >= 0, or a non-NULL pointer) on
 * success and a negative errno value (or NULL with errno set) on failure.
 * A handle is used by one thread at a time unless stated otherwise; open
 * one per thread on the data path.
 */
#ifndef PVACCEL_PLATFORM_H
#define PVACCEL_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PVA_PAGE_SIZE 4096u
#define PVA_PAGE_SHIFT 12

typedef uint16_t pva_domid_t;
typedef uint32_t pva_gref_t;
typedef uint32_t pva_port_t;

#define PVA_DOMID_SELF 0x7ff0u /* DOMID_SELF from xen.h */

enum pva_platform_kind {
    PVA_PLATFORM_XEN,
    PVA_PLATFORM_SIM,
};

struct pva_platform;
struct pva_gntshr;
struct pva_gntmap;
struct pva_evtchn;
struct pva_xs;
struct pva_xs_txn;

/* Guest side: pages this domain grants to another domain. */
struct pva_gntshr_ops {
    struct pva_gntshr *(*open)(struct pva_platform *p);
    void (*close)(struct pva_gntshr *h);
    /*
     * Allocate @count zeroed pages, grant each to @domid (read-only unless
     * @writable) and store the grant refs in @refs.  Returns the local
     * mapping of the pages, or NULL with errno set (ENOSPC when the
     * domain's grant table is full).
     */
    void *(*share)(struct pva_gntshr *h, pva_domid_t domid, uint32_t count,
                   pva_gref_t *refs, bool writable);
    /*
     * End the grants of a whole share() mapping and free its pages.
     * Returns -EBUSY, changing nothing, while the grantee maps any of them
     * (sim).  On Xen, gntalloc cannot report this: the kernel defers the
     * end of access until the grantee unmaps, so release only after the
     * peer said it unmapped.
     */
    int (*unshare)(struct pva_gntshr *h, void *addr, uint32_t count);
};

/* Backend side: map another domain's grant refs. */
struct pva_gntmap_ops {
    struct pva_gntmap *(*open)(struct pva_platform *p);
    void (*close)(struct pva_gntmap *h);
    /*
     * Map @count refs granted by @domid to us, contiguously, in one batch.
     * Read-write only if @writable (a read-only grant then fails with
     * EPERM/EINVAL).  All or nothing: on failure nothing stays mapped.
     */
    void *(*map)(struct pva_gntmap *h, pva_domid_t domid, uint32_t count,
                 const pva_gref_t *refs, bool writable);
    /* Unmap a whole map() result. */
    int (*unmap)(struct pva_gntmap *h, void *addr, uint32_t count);
    /*
     * The mappings (VMAs, what the kernel's vm.max_map_count limits) the
     * map() result at @addr costs this process: 1 on Xen, where gntdev
     * maps any list of grants as one VMA; on the sim one per run of pages
     * consecutive in one of the granter's share() calls, so up to @count
     * if the refs were listed out of that order.  0 if @addr is no map()
     * result of @h.  Backends charge it to a quota (docs/admin.md).
     */
    uint32_t (*mappings)(struct pva_gntmap *h, const void *addr);
};

/*
 * Event channels.  Events are doorbells: they coalesce into one pending
 * bit per port, binding an interdomain port sets it pending once, and a
 * delivered port stays masked until unmask().  After each event, re-check
 * the shared state the event was about.
 */
struct pva_evtchn_ops {
    struct pva_evtchn *(*open)(struct pva_platform *p);
    void (*close)(struct pva_evtchn *h);
    /* A file descriptor that polls readable when a port is pending. */
    int (*fd)(struct pva_evtchn *h);
    /* Allocate a port that @remote may bind to.  Returns port or -errno. */
    int (*bind_unbound)(struct pva_evtchn *h, pva_domid_t remote);
    /* Bind @remote's unbound @remote_port.  Returns the local port or -errno. */
    int (*bind_interdomain)(struct pva_evtchn *h, pva_domid_t remote,
                            pva_port_t remote_port);
    int (*unbind)(struct pva_evtchn *h, pva_port_t port);
    int (*notify)(struct pva_evtchn *h, pva_port_t port);
    /* Never blocks: a pending port (now masked), or -EAGAIN. */
    int (*pending)(struct pva_evtchn *h);
    int (*unmask)(struct pva_evtchn *h, pva_port_t port);
};

/* Xenstore permissions, as in docs/misc/xenstore.txt. */
enum pva_xs_perm {
    PVA_XS_PERM_NONE = 0,
    PVA_XS_PERM_READ = 1,
    PVA_XS_PERM_WRITE = 2,
    PVA_XS_PERM_BOTH = 3,
};

struct pva_xs_acl {
    pva_domid_t domid;
    enum pva_xs_perm perm;
};

/*
 * Xenstore.  @t is NULL outside a transaction.  Strings returned are
 * malloc()ed; the caller frees them.
 */
struct pva_xs_ops {
    struct pva_xs *(*open)(struct pva_platform *p);
    void (*close)(struct pva_xs *h);
    /* Returns the value (NUL-terminated, length in *len) or NULL + errno. */
    char *(*read)(struct pva_xs *h, struct pva_xs_txn *t, const char *path,
                  unsigned int *len);
    int (*write)(struct pva_xs *h, struct pva_xs_txn *t, const char *path,
                 const void *data, unsigned int len);
    int (*mkdir)(struct pva_xs *h, struct pva_xs_txn *t, const char *path);
    int (*rm)(struct pva_xs *h, struct pva_xs_txn *t, const char *path);
    /* Returns a malloc()ed array of *n names (one free() frees it all). */
    char **(*directory)(struct pva_xs *h, struct pva_xs_txn *t,
                        const char *path, unsigned int *n);
    /* Returns a malloc()ed array of *n entries, owner first. */
    struct pva_xs_acl *(*get_perms)(struct pva_xs *h, struct pva_xs_txn *t,
                                    const char *path, unsigned int *n);
    int (*set_perms)(struct pva_xs *h, struct pva_xs_txn *t, const char *path,
                     const struct pva_xs_acl *acl, unsigned int n);
    int (*watch)(struct pva_xs *h, const char *path, const char *token);
    int (*unwatch)(struct pva_xs *h, const char *path, const char *token);
    /* Pollable fd: readable when a watch event is queued. */
    int (*watch_fd)(struct pva_xs *h);
    /*
     * Next queued watch event without blocking: *path and *token are
     * malloc()ed; the caller frees both.  -EAGAIN if none is queued.
     */
    int (*read_watch)(struct pva_xs *h, char **path, char **token);
    struct pva_xs_txn *(*txn_start)(struct pva_xs *h);
    /* Commit (or abort).  -EAGAIN: a conflicting change; redo the work. */
    int (*txn_end)(struct pva_xs *h, struct pva_xs_txn *t, bool abort);
    /* This domain's id as xenstore sees it. */
    int (*self_domid)(struct pva_xs *h);
};

struct pva_platform {
    enum pva_platform_kind kind;
    const char *name;
    const struct pva_gntshr_ops *gntshr;
    const struct pva_gntmap_ops *gntmap;
    const struct pva_evtchn_ops *evtchn;
    const struct pva_xs_ops *xs;
    void *priv; /* implementation state */
};

/*
 * Open a platform by name ("xen", "sim", or NULL/"auto": xen when
 * /dev/xen/evtchn exists, otherwise sim when running inside a sim domain).
 * On failure returns NULL and writes a message saying what to start into
 * @err (if not NULL, @errlen bytes).
 */
struct pva_platform *pva_platform_open(const char *name, char *err,
                                       size_t errlen);
void pva_platform_close(struct pva_platform *p);

/* Implementations (platform/xen.c, platform/sim.c). */
struct pva_platform *pva_platform_xen_open(char *err, size_t errlen);
struct pva_platform *pva_platform_sim_open(char *err, size_t errlen);

extern const struct pva_xs_ops pva_xs_libxenstore_ops;

#endif /* PVACCEL_PLATFORM_H */
