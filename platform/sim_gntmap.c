/* SPDX-License-Identifier: MIT */
/*
 * sim_gntmap.c: mapping another sim domain's grants (the gntdev side).
 *
 * The daemon checks and takes the whole batch, then describes it as runs
 * of pages of the granter's memfds, one fd per memfd (read-only grants
 * and read-only maps come as O_RDONLY fds, so the pages cannot be made
 * writable here).  We reserve the address range PROT_NONE and map each
 * run over it with MAP_FIXED, so the result is contiguous.
 *
 * Each run is a VMA of its own, so a map costs as many of the process's
 * vm.max_map_count mappings as it has runs: one for pages in the order
 * they were shared, one per page for pages listed backwards.  mmap of a
 * memfd cannot do better; the count is kept per map and reported by
 * mappings(), for the backend to charge to a quota.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "platform/sim.h"
#include "sim/client.h"

struct gntmap_map {
    struct gntmap_map *next;
    void *addr;
    uint32_t count;
    uint32_t id;    /* the daemon's name for it */
    uint32_t runs;  /* VMAs: one mmap() per run */
};

struct pva_gntmap {
    struct sim_client cli;
    struct gntmap_map *maps;
};

/* One map() in progress. */
struct map_build {
    uint8_t *base;
    uint32_t count;
    int prot;
    uint32_t id;
    uint32_t next_page;
    uint32_t runs;  /* mapped so far */
    uint32_t nr_slots;
    int *slots;     /* fd per slot, [count] at most */
};

static struct pva_gntmap *sim_gntmap_open(struct pva_platform *p)
{
    struct pva_gntmap *h = calloc(1, sizeof(*h));
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

/* Closing the connection releases every map in the daemon. */
static void sim_gntmap_close(struct pva_gntmap *h)
{
    if (!h)
        return;
    while (h->maps) {
        struct gntmap_map *m = h->maps;

        h->maps = m->next;
        munmap(m->addr, (size_t)m->count * PVA_PAGE_SIZE);
        free(m);
    }
    sim_client_close(&h->cli);
    free(h);
}

static void close_fds(const int *fds, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++)
        close(fds[i]);
}

static bool window_ok(const struct map_build *b,
                      const struct sim_gnt_map_rsp *rsp, size_t len,
                      unsigned int nfds)
{
    return len >= sizeof(*rsp) && rsp->map_id == b->id &&
           rsp->count == b->count && rsp->first_page == b->next_page &&
           rsp->first_slot == b->nr_slots && rsp->nfds == nfds &&
           nfds <= b->count - b->nr_slots && rsp->nruns &&
           len == sizeof(*rsp) + rsp->nruns * sizeof(rsp->runs[0]);
}

/*
 * Map the runs of one reply window over the reserved range.  Takes the
 * window's fds (they join the slots, closed when the map is done).
 */
static int map_window(struct map_build *b, const struct sim_gnt_map_rsp *rsp,
                      size_t len, const int *fds, unsigned int nfds)
{
    if (!window_ok(b, rsp, len, nfds)) {
        close_fds(fds, nfds);
        return -EPROTO;
    }
    memcpy(&b->slots[b->nr_slots], fds, nfds * sizeof(int));
    b->nr_slots += nfds;
    for (uint32_t i = 0; i < rsp->nruns; i++) {
        const struct sim_gnt_run *r = &rsp->runs[i];
        void *at = b->base + (size_t)b->next_page * PVA_PAGE_SIZE;

        if (r->slot >= b->nr_slots || !r->npages ||
            r->npages > b->count - b->next_page)
            return -EPROTO;
        if (mmap(at, (size_t)r->npages * PVA_PAGE_SIZE, b->prot,
                 MAP_SHARED | MAP_FIXED, b->slots[r->slot],
                 (off_t)r->pgoff * PVA_PAGE_SIZE) == MAP_FAILED)
            return -errno;
        b->next_page += r->npages;
        b->runs++;
    }
    return 0;
}

/*
 * Send the map request, then fetch and map every window of the map the
 * daemon took (b->id is set from then on).
 */
static int map_fetch(struct pva_gntmap *h, struct map_build *b,
                     const struct sim_gnt_map_req *req, size_t req_len)
{
    const size_t max = sizeof(struct sim_gnt_map_rsp) +
                       SIM_GNT_RUNS_WINDOW * sizeof(struct sim_gnt_run);
    struct sim_gnt_map_rsp *rsp = malloc(max);
    struct sim_gnt_map_id_req next;
    int fds[SIM_FDS_MAX];
    unsigned int nfds;
    size_t len;
    int err;

    if (!rsp)
        return -ENOMEM;
    err = sim_client_call(&h->cli, SIM_GNT_MAP, req, req_len, NULL, 0, rsp,
                          max, &len, fds, SIM_FDS_MAX, &nfds);
    if (!err && len >= sizeof(*rsp))
        b->id = rsp->map_id;
    while (!err) {
        err = map_window(b, rsp, len, fds, nfds);
        if (err || b->next_page == b->count)
            break;
        next = (struct sim_gnt_map_id_req){ b->id, b->count };
        err = sim_client_call(&h->cli, SIM_GNT_MAP_NEXT, &next, sizeof(next),
                              NULL, 0, rsp, max, &len, fds, SIM_FDS_MAX,
                              &nfds);
    }
    free(rsp);
    return err;
}

static void *sim_gntmap_map(struct pva_gntmap *h, pva_domid_t domid,
                            uint32_t count, const pva_gref_t *refs,
                            bool writable)
{
    struct map_build b = { .count = count, .base = MAP_FAILED,
                           .prot = PROT_READ | (writable ? PROT_WRITE : 0) };
    struct sim_gnt_map_req *req = NULL;
    size_t req_len = sizeof(*req) + (size_t)count * sizeof(req->refs[0]);
    struct gntmap_map *m = NULL;
    int err;

    if (!count || !refs) {
        errno = EINVAL;
        return NULL;
    }
    if (count > SIM_GNT_MAP_MAX) {
        errno = E2BIG;
        return NULL;
    }
    req = malloc(req_len);
    m = malloc(sizeof(*m));
    b.slots = malloc(count * sizeof(int));
    if (!req || !m || !b.slots) {
        err = -ENOMEM;
        goto out;
    }
    *req = (struct sim_gnt_map_req){ domid, writable ? SIM_GNT_F_WRITABLE : 0,
                                     count };
    memcpy(req->refs, refs, count * sizeof(req->refs[0]));
    b.base = mmap(NULL, (size_t)count * PVA_PAGE_SIZE, PROT_NONE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (b.base == MAP_FAILED) {
        err = -errno;
        goto out;
    }
    err = map_fetch(h, &b, req, req_len);
    if (err < 0 && b.id) {
        /* The daemon took the refs: give them back, all or nothing. */
        struct sim_gnt_map_id_req un = { b.id, count };

        sim_client_call(&h->cli, SIM_GNT_UNMAP, &un, sizeof(un), NULL, 0,
                        NULL, 0, NULL, NULL, 0, NULL);
    }
out:
    if (b.slots)
        close_fds(b.slots, b.nr_slots); /* the mappings keep the memory */
    free(b.slots);
    free(req);
    if (err < 0) {
        if (b.base != MAP_FAILED)
            munmap(b.base, (size_t)count * PVA_PAGE_SIZE);
        free(m);
        errno = -err;
        return NULL;
    }
    *m = (struct gntmap_map){ h->maps, b.base, count, b.id, b.runs };
    h->maps = m;
    return b.base;
}

/* The link to the map at @addr, or the list's end (*link NULL). */
static struct gntmap_map **map_link(struct pva_gntmap *h, const void *addr)
{
    struct gntmap_map **link;

    for (link = &h->maps; *link; link = &(*link)->next)
        if ((*link)->addr == addr)
            break;
    return link;
}

static uint32_t sim_gntmap_mappings(struct pva_gntmap *h, const void *addr)
{
    const struct gntmap_map *m = *map_link(h, addr);

    return m ? m->runs : 0;
}

/* Unmap first, then tell the daemon: the granter may end it after that. */
static int sim_gntmap_unmap(struct pva_gntmap *h, void *addr, uint32_t count)
{
    struct gntmap_map **link = map_link(h, addr), *m = *link;
    struct sim_gnt_map_id_req req;

    if (!m || m->count != count)
        return -EINVAL;
    *link = m->next;
    munmap(m->addr, (size_t)count * PVA_PAGE_SIZE);
    req = (struct sim_gnt_map_id_req){ m->id, count };
    free(m);
    return sim_client_call(&h->cli, SIM_GNT_UNMAP, &req, sizeof(req), NULL,
                           0, NULL, 0, NULL, NULL, 0, NULL);
}

const struct pva_gntmap_ops pva_sim_gntmap_ops = {
    .open = sim_gntmap_open,
    .close = sim_gntmap_close,
    .map = sim_gntmap_map,
    .unmap = sim_gntmap_unmap,
    .mappings = sim_gntmap_mappings,
};
