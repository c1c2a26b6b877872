/* SPDX-License-Identifier: MIT */
/*
 * xen.c: the platform on real Xen, through libxengnttab and libxenevtchn
 * (xenstore is platform/xs.c, shared with the sim).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenevtchn.h>
#include <xengnttab.h>

#include "platform/platform.h"

/* ---- grant sharing (gntalloc) ----------------------------------------- */

struct pva_gntshr {
    xengntshr_handle *h;
};

static struct pva_gntshr *xen_gntshr_open(struct pva_platform *p)
{
    struct pva_gntshr *g = calloc(1, sizeof(*g));

    (void)p;
    if (!g)
        return NULL;
    g->h = xengntshr_open(NULL, 0);
    if (!g->h) {
        int err = errno;

        free(g);
        errno = err;
        return NULL;
    }
    return g;
}

static void xen_gntshr_close(struct pva_gntshr *g)
{
    if (!g)
        return;
    xengntshr_close(g->h);
    free(g);
}

/* gntalloc hands out zeroed pages, so nothing to clear here. */
static void *xen_gntshr_share(struct pva_gntshr *g, pva_domid_t domid,
                              uint32_t count, pva_gref_t *refs, bool writable)
{
    return xengntshr_share_pages(g->h, domid, (int)count, refs, writable);
}

static int xen_gntshr_unshare(struct pva_gntshr *g, void *addr,
                              uint32_t count)
{
    return xengntshr_unshare(g->h, addr, count) < 0 ? -errno : 0;
}

static const struct pva_gntshr_ops xen_gntshr_ops = {
    .open = xen_gntshr_open,
    .close = xen_gntshr_close,
    .share = xen_gntshr_share,
    .unshare = xen_gntshr_unshare,
};

/* ---- grant mapping (gntdev) ------------------------------------------- */

struct pva_gntmap {
    xengnttab_handle *h;
};

static struct pva_gntmap *xen_gntmap_open(struct pva_platform *p)
{
    struct pva_gntmap *g = calloc(1, sizeof(*g));

    (void)p;
    if (!g)
        return NULL;
    g->h = xengnttab_open(NULL, 0);
    if (!g->h) {
        int err = errno;

        free(g);
        errno = err;
        return NULL;
    }
    return g;
}

static void xen_gntmap_close(struct pva_gntmap *g)
{
    if (!g)
        return;
    xengnttab_close(g->h);
    free(g);
}

static void *xen_gntmap_map(struct pva_gntmap *g, pva_domid_t domid,
                            uint32_t count, const pva_gref_t *refs,
                            bool writable)
{
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);

    /* libxengnttab takes a non-const array but does not write it. */
    return xengnttab_map_domain_grant_refs(g->h, count, domid,
                                           (uint32_t *)refs, prot);
}

static int xen_gntmap_unmap(struct pva_gntmap *g, void *addr, uint32_t count)
{
    return xengnttab_unmap(g->h, addr, count) < 0 ? -errno : 0;
}

/* gntdev maps one batch as one VMA, whatever the order of the refs. */
static uint32_t xen_gntmap_mappings(struct pva_gntmap *g, const void *addr)
{
    (void)g;
    return addr ? 1 : 0;
}

static const struct pva_gntmap_ops xen_gntmap_ops = {
    .open = xen_gntmap_open,
    .close = xen_gntmap_close,
    .map = xen_gntmap_map,
    .unmap = xen_gntmap_unmap,
    .mappings = xen_gntmap_mappings,
};

/* ---- event channels --------------------------------------------------- */

struct pva_evtchn {
    xenevtchn_handle *h;
};

static struct pva_evtchn *xen_evtchn_open(struct pva_platform *p)
{
    struct pva_evtchn *e = calloc(1, sizeof(*e));
    int fd, fl;

    (void)p;
    if (!e)
        return NULL;
    e->h = xenevtchn_open(NULL, 0);
    if (!e->h)
        goto fail;
    /* pending() must never block: make the device's read non-blocking. */
    fd = xenevtchn_fd(e->h);
    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        goto fail;
    return e;
fail:
    {
        int err = errno;

        if (e->h)
            xenevtchn_close(e->h);
        free(e);
        errno = err;
    }
    return NULL;
}

static void xen_evtchn_close(struct pva_evtchn *e)
{
    if (!e)
        return;
    xenevtchn_close(e->h);
    free(e);
}

static int xen_evtchn_fd(struct pva_evtchn *e)
{
    return xenevtchn_fd(e->h);
}

static int xen_evtchn_bind_unbound(struct pva_evtchn *e, pva_domid_t remote)
{
    xenevtchn_port_or_error_t port = xenevtchn_bind_unbound_port(e->h, remote);

    return port < 0 ? -errno : port;
}

static int xen_evtchn_bind_interdomain(struct pva_evtchn *e,
                                       pva_domid_t remote,
                                       pva_port_t remote_port)
{
    xenevtchn_port_or_error_t port =
        xenevtchn_bind_interdomain(e->h, remote, remote_port);

    return port < 0 ? -errno : port;
}

static int xen_evtchn_unbind(struct pva_evtchn *e, pva_port_t port)
{
    return xenevtchn_unbind(e->h, port) < 0 ? -errno : 0;
}

static int xen_evtchn_notify(struct pva_evtchn *e, pva_port_t port)
{
    return xenevtchn_notify(e->h, port) < 0 ? -errno : 0;
}

static int xen_evtchn_pending(struct pva_evtchn *e)
{
    xenevtchn_port_or_error_t port = xenevtchn_pending(e->h);

    return port < 0 ? -errno : port;
}

static int xen_evtchn_unmask(struct pva_evtchn *e, pva_port_t port)
{
    return xenevtchn_unmask(e->h, port) < 0 ? -errno : 0;
}

static const struct pva_evtchn_ops xen_evtchn_ops = {
    .open = xen_evtchn_open,
    .close = xen_evtchn_close,
    .fd = xen_evtchn_fd,
    .bind_unbound = xen_evtchn_bind_unbound,
    .bind_interdomain = xen_evtchn_bind_interdomain,
    .unbind = xen_evtchn_unbind,
    .notify = xen_evtchn_notify,
    .pending = xen_evtchn_pending,
    .unmask = xen_evtchn_unmask,
};

struct pva_platform *pva_platform_xen_open(char *err, size_t errlen)
{
    struct pva_platform *p;

    if (access("/dev/xen/evtchn", R_OK | W_OK) < 0) {
        snprintf(err, errlen, "/dev/xen/evtchn: %s (is this a Xen domain "
                 "with the xen-evtchn, xen-gntdev and xen-gntalloc modules "
                 "loaded?)", strerror(errno));
        return NULL;
    }
    p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->kind = PVA_PLATFORM_XEN;
    p->name = "xen";
    p->gntshr = &xen_gntshr_ops;
    p->gntmap = &xen_gntmap_ops;
    p->evtchn = &xen_evtchn_ops;
    p->xs = &pva_xs_libxenstore_ops;
    return p;
}
