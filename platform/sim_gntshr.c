/* SPDX-License-Identifier: MIT */
/*
 * sim_gntshr.c: sharing pages with another sim domain (the gntalloc side).
 *
 * share() makes a memfd of the pages, seals its size, maps it here and
 * hands it to the daemon, which grants each page in this domain's grant
 * table.  The fd is closed locally at once: the mapping keeps the memory.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "platform/sim.h"
#include "sim/client.h"

struct gntshr_share {
    struct gntshr_share *next;
    void *addr;
    uint32_t count;
    uint32_t ref0;  /* names the share to the daemon */
};

struct pva_gntshr {
    struct sim_client cli;
    struct gntshr_share *shares;
};

static struct pva_gntshr *sim_gntshr_open(struct pva_platform *p)
{
    struct pva_gntshr *h = calloc(1, sizeof(*h));
    int err;

    (void)p;
    if (!h)
        return NULL;
    err = sim_client_connect(&h->cli, NULL, 1);
    if (err < 0) {
        free(h);
        errno = -err;
        return NULL;
    }
    return h;
}

/* Closing the connection ends the grants (deferred while mapped). */
static void sim_gntshr_close(struct pva_gntshr *h)
{
    if (!h)
        return;
    while (h->shares) {
        struct gntshr_share *s = h->shares;

        h->shares = s->next;
        munmap(s->addr, (size_t)s->count * PVA_PAGE_SIZE);
        free(s);
    }
    sim_client_close(&h->cli);
    free(h);
}

/* @count zeroed pages, sealed as the daemon requires (sim/proto.h). */
static int memfd_pages(uint32_t count)
{
    int fd = memfd_create("pvaccel-grant", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    int err;

    if (fd < 0)
        return -errno;
    if (ftruncate(fd, (off_t)count * PVA_PAGE_SIZE) < 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
        err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

/* Copy one reply window of refs; the next window starts at *done. */
static int take_refs(const struct sim_gnt_refs_rsp *rsp, size_t len,
                     uint32_t count, pva_gref_t *refs, uint32_t *done)
{
    if (len < sizeof(*rsp) || rsp->count != count || rsp->first != *done ||
        !rsp->n || rsp->n > count - *done ||
        len != sizeof(*rsp) + rsp->n * sizeof(rsp->refs[0]))
        return -EPROTO;
    memcpy(&refs[*done], rsp->refs, rsp->n * sizeof(rsp->refs[0]));
    *done += rsp->n;
    return 0;
}

/* Ask the daemon to grant the memfd's pages; fills @refs. */
static int grant_pages(struct pva_gntshr *h, int fd, pva_domid_t domid,
                       uint32_t count, pva_gref_t *refs, bool writable)
{
    const struct sim_gnt_share_req req = {
        .domid = domid,
        .flags = writable ? SIM_GNT_F_WRITABLE : 0,
        .count = count,
    };
    const size_t max = sizeof(struct sim_gnt_refs_rsp) +
                       SIM_GNT_REFS_WINDOW * sizeof(uint32_t);
    struct sim_gnt_refs_rsp *rsp = malloc(max);
    uint32_t done = 0;
    size_t len;
    int err;

    if (!rsp)
        return -ENOMEM;
    err = sim_client_call(&h->cli, SIM_GNT_SHARE, &req, sizeof(req), &fd, 1,
                          rsp, max, &len, NULL, 0, NULL);
    if (!err)
        err = take_refs(rsp, len, count, refs, &done);
    while (!err && done < count) {
        const struct sim_gnt_refs_req more = { refs[0], done };

        err = sim_client_call(&h->cli, SIM_GNT_SHARE_REFS, &more,
                              sizeof(more), NULL, 0, rsp, max, &len, NULL, 0,
                              NULL);
        if (!err)
            err = take_refs(rsp, len, count, refs, &done);
    }
    if (err && done) {
        /* Granted but unusable: end it (nobody knows the refs yet). */
        const struct sim_gnt_unshare_req un = { refs[0], count };

        sim_client_call(&h->cli, SIM_GNT_UNSHARE, &un, sizeof(un), NULL, 0,
                        NULL, 0, NULL, NULL, 0, NULL);
    }
    free(rsp);
    return err;
}

static void *sim_gntshr_share(struct pva_gntshr *h, pva_domid_t domid,
                              uint32_t count, pva_gref_t *refs, bool writable)
{
    struct gntshr_share *s;
    void *addr = MAP_FAILED;
    int fd = -1, err;

    if (!count || !refs) {
        errno = EINVAL;
        return NULL;
    }
    if (count > SIM_GNT_MAX_SHARED) {
        errno = ENOSPC;
        return NULL;
    }
    s = malloc(sizeof(*s));
    err = s ? memfd_pages(count) : -ENOMEM;
    if (err < 0)
        goto fail;
    fd = err;
    addr = mmap(NULL, (size_t)count * PVA_PAGE_SIZE, PROT_READ | PROT_WRITE,
                MAP_SHARED, fd, 0);
    if (addr == MAP_FAILED) {
        err = -errno;
        goto fail;
    }
    err = grant_pages(h, fd, domid, count, refs, writable);
    if (err < 0)
        goto fail;
    close(fd);
    *s = (struct gntshr_share){ h->shares, addr, count, refs[0] };
    h->shares = s;
    return addr;
fail:
    if (addr != MAP_FAILED)
        munmap(addr, (size_t)count * PVA_PAGE_SIZE);
    if (fd >= 0)
        close(fd);
    free(s);
    errno = -err;
    return NULL;
}

static int sim_gntshr_unshare(struct pva_gntshr *h, void *addr,
                              uint32_t count)
{
    struct gntshr_share **link, *s;
    struct sim_gnt_unshare_req req;
    int err;

    for (link = &h->shares; *link; link = &(*link)->next)
        if ((*link)->addr == addr)
            break;
    s = *link;
    if (!s || s->count != count)
        return -EINVAL;
    req = (struct sim_gnt_unshare_req){ s->ref0, count };
    err = sim_client_call(&h->cli, SIM_GNT_UNSHARE, &req, sizeof(req), NULL,
                          0, NULL, 0, NULL, NULL, 0, NULL);
    if (err < 0)
        return err; /* -EBUSY: still mapped; nothing changed */
    *link = s->next;
    munmap(s->addr, (size_t)s->count * PVA_PAGE_SIZE);
    free(s);
    return 0;
}

const struct pva_gntshr_ops pva_sim_gntshr_ops = {
    .open = sim_gntshr_open,
    .close = sim_gntshr_close,
    .share = sim_gntshr_share,
    .unshare = sim_gntshr_unshare,
};
