/* SPDX-License-Identifier: MIT */
/*
 * gnttab.c: sim grant tables, the daemon side of SIM_GNT_* (sim/proto.h).
 *
 * A domain's grant table has SIM_GNT_NR_ENTRIES refs in frames of 512
 * allocated on first use, as Xen grows a table; refs 0..7 are reserved as
 * Linux reserves them.  Guest memory is a memfd per share() call (struct
 * gnt_share), whose pages each get one ref granted to one domain.
 *
 * Lifetime of a share, following Linux gntalloc on Xen:
 *   - active:   owned by the connection that shared it, mappable;
 *   - ended:    its owner unshared it or went away while the grantee still
 *               maps pages; no new maps, refs stay in use (Xen cannot reuse
 *               a grant entry that is mapped) until the last unmap frees it;
 *   - orphaned: its domain died while mapped; out of any table, freed on
 *               the last unmap.
 * Unsharing an active share that is mapped is refused with EBUSY (the
 * platform contract), unlike gntalloc, which cannot tell and defers.
 *
 * Maps belong to the mapping connection (struct gnt_map) and count on
 * their shares, so a mapper that dies releases its maps.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/simd.h"

#define GNT_PAGE_SIZE 4096u

struct gnt_share {
    struct gnt_share *prev, *next; /* in tab->shares while tab != NULL */
    struct sim_gnttab *tab;        /* NULL once orphaned */
    const struct sim_conn *owner;  /* NULL once ended */
    int fd;                        /* the memfd, read-write */
    int ro_fd;                     /* read-only reopen, made on demand */
    uint16_t grantee;
    bool readonly;
    uint32_t count;
    uint64_t maps;                 /* pages of this share mapped */
    uint32_t map_slot;             /* scratch while building a map */
    uint32_t refs[];               /* page i is granted as refs[i] */
};

/* One grant table entry. */
struct gnt_entry {
    struct gnt_share *share;       /* NULL: free */
    uint32_t page;                 /* index in share */
};

struct sim_gnttab {
    struct sim_domain *dom;
    struct gnt_entry *frames[SIM_GNT_NR_FRAMES];
    uint32_t nr_used;              /* refs in use, reserved ones excluded */
    uint32_t hint;                 /* where the next free ref search starts */
    struct gnt_share *shares;
};

/* A page of a map, and the map (one map() call of a connection). */
struct gnt_map_page {
    struct gnt_share *share;
    uint32_t page;                 /* index in share */
    uint32_t slot;                 /* fd slot of share in this map */
};

struct gnt_map {
    struct gnt_map *next;
    uint32_t id;
    uint32_t count;
    bool writable;
    uint32_t next_page;            /* first page not yet described */
    uint32_t next_slot;            /* first slot whose fd was not sent */
    uint32_t nr_slots;
    struct gnt_share **slots;      /* distinct shares, first use order */
    struct gnt_map_page pages[];
};

struct sim_gnt_conn {
    struct gnt_map *maps;
    uint32_t next_id;
};

/* ---- the table -------------------------------------------------------- */

static struct gnt_entry *entry_get(struct sim_gnttab *t, uint32_t ref)
{
    struct gnt_entry *f;

    if (ref < SIM_GNT_NR_RESERVED || ref >= SIM_GNT_NR_ENTRIES)
        return NULL;
    f = t->frames[ref / SIM_GNT_ENTRIES_PER_FRAME];
    return f ? &f[ref % SIM_GNT_ENTRIES_PER_FRAME] : NULL;
}

static struct gnt_entry *entry_get_alloc(struct sim_gnttab *t, uint32_t ref)
{
    struct gnt_entry **f = &t->frames[ref / SIM_GNT_ENTRIES_PER_FRAME];

    if (!*f)
        *f = calloc(SIM_GNT_ENTRIES_PER_FRAME, sizeof(**f));
    return *f ? &(*f)[ref % SIM_GNT_ENTRIES_PER_FRAME] : NULL;
}

static uint32_t ref_next(uint32_t ref)
{
    return ref + 1 < SIM_GNT_NR_ENTRIES ? ref + 1 : SIM_GNT_NR_RESERVED;
}

/*
 * Give every page of @s a free ref, next-fit from the hint so that refs of
 * one share are usually consecutive.  All or nothing.
 */
static int refs_alloc(struct sim_gnttab *t, struct gnt_share *s)
{
    uint32_t ref = t->hint, done = 0;

    if (s->count > SIM_GNT_MAX_SHARED - t->nr_used)
        return -ENOSPC;
    while (done < s->count) {
        struct gnt_entry *e = entry_get_alloc(t, ref);

        if (!e) {
            for (uint32_t i = 0; i < done; i++)
                entry_get(t, s->refs[i])->share = NULL;
            return -ENOMEM;
        }
        if (!e->share) {
            e->share = s;
            e->page = done;
            s->refs[done++] = ref;
        }
        ref = ref_next(ref);
    }
    t->hint = ref;
    t->nr_used += s->count;
    return 0;
}

static void refs_free(struct sim_gnttab *t, struct gnt_share *s)
{
    for (uint32_t i = 0; i < s->count; i++)
        entry_get(t, s->refs[i])->share = NULL;
    t->nr_used -= s->count;
}

/* ---- shares ----------------------------------------------------------- */

static void share_unlink(struct gnt_share *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        s->tab->shares = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
}

static void share_free(struct gnt_share *s)
{
    if (s->tab) {
        refs_free(s->tab, s);
        share_unlink(s);
    }
    close(s->fd);
    if (s->ro_fd >= 0)
        close(s->ro_fd);
    free(s);
}

/* End a share: now if nobody maps it, else on its last unmap. */
static void share_end(struct gnt_share *s)
{
    s->owner = NULL;
    if (!s->maps)
        share_free(s);
}

/* Its domain died: drop it from the table, or free it if unmapped. */
static void share_orphan(struct gnt_share *s)
{
    s->owner = NULL;
    if (!s->maps) {
        share_free(s);
        return;
    }
    refs_free(s->tab, s);
    share_unlink(s);
    s->tab = NULL;
}

/*
 * The memfd must be exactly @count pages and sealed against resizing (a
 * shrink would SIGBUS the grantee) and against further seals (a write
 * seal would stop the grantee mapping it writable), and nothing else.
 */
static int memfd_check(int fd, uint32_t count)
{
    const int want = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
    struct stat st;
    int seals = fcntl(fd, F_GET_SEALS);

    if (seals < 0)
        return errno == EINVAL ? -EBADF : -errno;
    if (seals != want)
        return -EBADF;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode) ||
        (uint64_t)st.st_size != (uint64_t)count * GNT_PAGE_SIZE)
        return -EBADF;
    return 0;
}

static int share_new(struct sim_gnttab *t, const struct sim_conn *c, int fd,
                     const struct sim_gnt_share_req *r,
                     struct gnt_share **out)
{
    struct gnt_share *s;
    int err;

    if (!r->count || (r->flags & ~SIM_GNT_F_WRITABLE) ||
        r->domid > SIM_MAX_DOMID)
        return -EINVAL;
    if (r->count > SIM_GNT_MAX_SHARED)
        return -ENOSPC;
    err = memfd_check(fd, r->count);
    if (err < 0)
        return err;
    s = calloc(1, sizeof(*s) + r->count * sizeof(s->refs[0]));
    if (!s)
        return -ENOMEM;
    s->tab = t;
    s->owner = c;
    s->fd = fd;
    s->ro_fd = -1;
    s->grantee = r->domid;
    s->readonly = !(r->flags & SIM_GNT_F_WRITABLE);
    s->count = r->count;
    err = refs_alloc(t, s);
    if (err < 0) {
        free(s);
        return err;
    }
    s->next = t->shares;
    if (t->shares)
        t->shares->prev = s;
    t->shares = s;
    *out = s;
    return 0;
}

/* The active share of this connection that @ref0 starts, or NULL. */
static struct gnt_share *share_find(struct sim_gnttab *t,
                                    const struct sim_conn *c, uint32_t ref0)
{
    struct gnt_entry *e = entry_get(t, ref0);

    if (!e || !e->share || e->page != 0 || e->share->owner != c)
        return NULL;
    return e->share;
}

/*
 * A read-only view of the memfd: a new open file description with
 * O_RDONLY, so the grantee's mmap(PROT_WRITE, MAP_SHARED) and
 * mprotect(PROT_WRITE) fail with EACCES whatever it tries.
 */
static int share_ro_fd(struct gnt_share *s)
{
    char path[64];

    if (s->ro_fd >= 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/self/fd/%d", s->fd);
    s->ro_fd = open(path, O_RDONLY | O_CLOEXEC);
    return s->ro_fd < 0 ? -errno : 0;
}

/* ---- connection state ------------------------------------------------- */

static struct sim_gnt_conn *gconn(struct sim_conn *c)
{
    if (!c->gnt)
        c->gnt = calloc(1, sizeof(*c->gnt));
    return c->gnt;
}

static void map_release(struct gnt_map *m)
{
    for (uint32_t i = 0; i < m->count; i++) {
        struct gnt_share *s = m->pages[i].share;

        /* The last page of an ended share frees it; no later page of
         * this map can point to it then, as each one counts in maps. */
        if (--s->maps == 0 && !s->owner)
            share_free(s);
    }
    free(m->slots);
    free(m);
}

static struct gnt_map *map_find(struct sim_gnt_conn *g, uint32_t id,
                                struct gnt_map ***link_out)
{
    struct gnt_map **link;

    for (link = &g->maps; *link; link = &(*link)->next)
        if ((*link)->id == id) {
            if (link_out)
                *link_out = link;
            return *link;
        }
    return NULL;
}

/* ---- requests --------------------------------------------------------- */

/* Reply with refs [first, first + window) of @s. */
static void reply_refs(struct sim_conn *c, const struct sim_req *req,
                       const struct gnt_share *s, uint32_t first)
{
    struct sim_gnt_refs_rsp *rsp;
    uint32_t n;

    if (first >= s->count) {
        simd_reply(c, req, -EINVAL, NULL, 0, NULL, 0);
        return;
    }
    n = s->count - first;
    if (n > SIM_GNT_REFS_WINDOW)
        n = SIM_GNT_REFS_WINDOW;
    rsp = malloc(sizeof(*rsp) + n * sizeof(rsp->refs[0]));
    if (!rsp) {
        simd_reply(c, req, -ENOMEM, NULL, 0, NULL, 0);
        return;
    }
    *rsp = (struct sim_gnt_refs_rsp){ .count = s->count, .first = first,
                                      .n = n };
    memcpy(rsp->refs, &s->refs[first], n * sizeof(rsp->refs[0]));
    simd_reply(c, req, 0, rsp, sizeof(*rsp) + n * sizeof(rsp->refs[0]),
               NULL, 0);
    free(rsp);
}

static void handle_share(struct sim_conn *c, struct sim_req *req)
{
    const struct sim_gnt_share_req *r = req->body;
    struct sim_gnttab *t = c->dom->gnttab;
    struct gnt_share *s;
    int err;

    if (req->len != sizeof(*r) || req->nfds != 1) {
        simd_reply(c, req, -EINVAL, NULL, 0, NULL, 0);
        return;
    }
    err = share_new(t, c, req->fds[0], r, &s);
    if (err < 0) {
        simd_reply(c, req, err, NULL, 0, NULL, 0);
        return;
    }
    req->fds[0] = -1; /* the share owns it now */
    simd_log(c->simd, "dom%u: shared %u pages with dom%u (%s), ref %u",
             c->dom->domid, s->count, s->grantee,
             s->readonly ? "ro" : "rw", s->refs[0]);
    reply_refs(c, req, s, 0);
}

static void handle_share_refs(struct sim_conn *c, struct sim_req *req)
{
    const struct sim_gnt_refs_req *r = req->body;
    struct gnt_share *s;

    if (req->len != sizeof(*r)) {
        simd_reply(c, req, -EINVAL, NULL, 0, NULL, 0);
        return;
    }
    s = share_find(c->dom->gnttab, c, r->ref0);
    if (!s) {
        simd_reply(c, req, -ENOENT, NULL, 0, NULL, 0);
        return;
    }
    reply_refs(c, req, s, r->first);
}

static void handle_unshare(struct sim_conn *c, struct sim_req *req)
{
    const struct sim_gnt_unshare_req *r = req->body;
    struct gnt_share *s;
    int err = 0;

    if (req->len != sizeof(*r)) {
        simd_reply(c, req, -EINVAL, NULL, 0, NULL, 0);
        return;
    }
    s = share_find(c->dom->gnttab, c, r->ref0);
    if (!s || s->count != r->count)
        err = -ENOENT;
    else if (s->maps)
        err = -EBUSY;
    else
        share_free(s);
    simd_reply(c, req, err, NULL, 0, NULL, 0);
}

/*
 * May this domain map @ref of @t as asked?  Xen says GNTST_bad_gntref or
 * GNTST_permission_denied (and gntdev turns both into EINVAL); the sim
 * keeps them apart: EINVAL for a ref that is not an active grant, EPERM
 * for one granted to another domain or read-only when asked writable.
 */
static int ref_check(struct sim_gnttab *t, uint32_t ref, uint16_t mapper,
                     bool writable, struct gnt_entry **out)
{
    struct gnt_entry *e = entry_get(t, ref);

    if (!e || !e->share || !e->share->owner)
        return -EINVAL;
    if (e->share->grantee != mapper)
        return -EPERM;
    if (writable && e->share->readonly)
        return -EPERM;
    *out = e;
    return 0;
}

/* Give each distinct share of @m a slot, in order of first use. */
static void map_assign_slots(struct gnt_map *m)
{
    uint32_t i;

    for (i = 0; i < m->count; i++) {
        struct gnt_share *s = m->pages[i].share;

        if (!s->map_slot) {
            m->slots[m->nr_slots++] = s;
            s->map_slot = m->nr_slots; /* slot + 1, so 0 means none */
        }
        m->pages[i].slot = s->map_slot - 1;
    }
    for (i = 0; i < m->nr_slots; i++)
        m->slots[i]->map_slot = 0;
}

/*
 * Check every ref, then take them all: fill @m's pages and fd slots
 * (read-only fds opened when needed) and count the maps.  On error
 * nothing is counted.
 */
static int map_build(struct sim_gnttab *t, uint16_t mapper,
                     const struct sim_gnt_map_req *r, struct gnt_map *m)
{
    uint32_t i;
    int err;

    for (i = 0; i < r->count; i++) {
        struct gnt_entry *e;

        err = ref_check(t, r->refs[i], mapper, m->writable, &e);
        if (err < 0)
            return err;
        m->pages[i] = (struct gnt_map_page){ e->share, e->page, 0 };
    }
    m->slots = calloc(r->count, sizeof(m->slots[0]));
    if (!m->slots)
        return -ENOMEM;
    map_assign_slots(m);
    for (i = 0; i < m->nr_slots && !m->writable; i++) {
        err = share_ro_fd(m->slots[i]);
        if (err < 0)
            return err;
    }
    for (i = 0; i < r->count; i++)
        m->pages[i].share->maps++;
    return 0;
}

/*
 * Describe the next pages of @m as runs (same share, consecutive pages),
 * up to SIM_GNT_RUNS_WINDOW runs and SIM_FDS_MAX new fds per reply.
 */
static void reply_map(struct sim_conn *c, const struct sim_req *req,
                      struct gnt_map *m)
{
    struct sim_gnt_map_rsp *rsp;
    int fds[SIM_FDS_MAX];
    uint32_t p = m->next_page;

    rsp = malloc(sizeof(*rsp) + SIM_GNT_RUNS_WINDOW * sizeof(rsp->runs[0]));
    if (!rsp) {
        simd_reply(c, req, -ENOMEM, NULL, 0, NULL, 0);
        return;
    }
    *rsp = (struct sim_gnt_map_rsp){ .map_id = m->id, .count = m->count,
                                     .first_page = p,
                                     .first_slot = m->next_slot };
    while (p < m->count && rsp->nruns < SIM_GNT_RUNS_WINDOW) {
        const struct gnt_map_page *pg = &m->pages[p];
        struct sim_gnt_run *run = &rsp->runs[rsp->nruns];
        uint32_t slot = pg->slot;

        /* Slots are numbered in first use order: a new one is next. */
        if (slot == m->next_slot) {
            if (rsp->nfds == SIM_FDS_MAX)
                break;
            fds[rsp->nfds++] = m->writable ? pg->share->fd : pg->share->ro_fd;
            m->next_slot++;
        }
        *run = (struct sim_gnt_run){ slot, pg->page, 1 };
        while (++p < m->count && m->pages[p].share == pg->share &&
               m->pages[p].page == run->pgoff + run->npages)
            run->npages++;
        rsp->nruns++;
    }
    m->next_page = p;
    simd_reply(c, req, 0, rsp,
               sizeof(*rsp) + rsp->nruns * sizeof(rsp->runs[0]), fds,
               rsp->nfds);
    free(rsp);
}

static void handle_map(struct sim_conn *c, struct sim_req *req)
{
    const struct sim_gnt_map_req *r = req->body;
    struct sim_gnt_conn *g = gconn(c);
    struct sim_domain *granter;
    struct gnt_map *m;
    int err;

    if (!g || req->len < sizeof(*r)) {
        simd_reply(c, req, g ? -EINVAL : -ENOMEM, NULL, 0, NULL, 0);
        return;
    }
    if (r->count > SIM_GNT_MAP_MAX) {
        simd_reply(c, req, -E2BIG, NULL, 0, NULL, 0);
        return;
    }
    if (!r->count || (r->flags & ~SIM_GNT_F_WRITABLE) ||
        req->len != sizeof(*r) + r->count * sizeof(r->refs[0])) {
        simd_reply(c, req, -EINVAL, NULL, 0, NULL, 0);
        return;
    }
    granter = simd_domain_find(c->simd, r->domid);
    if (!granter) {
        simd_reply(c, req, -ESRCH, NULL, 0, NULL, 0);
        return;
    }
    m = calloc(1, sizeof(*m) + r->count * sizeof(m->pages[0]));
    if (!m) {
        simd_reply(c, req, -ENOMEM, NULL, 0, NULL, 0);
        return;
    }
    m->count = r->count;
    m->writable = r->flags & SIM_GNT_F_WRITABLE;
    err = map_build(granter->gnttab, c->dom->domid, r, m);
    if (err < 0) {
        free(m->slots);
        free(m);
        simd_reply(c, req, err, NULL, 0, NULL, 0);
        return;
    }
    if (++g->next_id == 0) /* 0 means "no map" to clients */
        g->next_id = 1;
    m->id = g->next_id;
    m->next = g->maps;
    g->maps = m;
    reply_map(c, req, m);
}

static void handle_map_next(struct sim_conn *c, struct sim_req *req)
{
    const struct sim_gnt_map_id_req *r = req->body;
    struct gnt_map *m = NULL;

    if (req->len == sizeof(*r) && c->gnt)
        m = map_find(c->gnt, r->map_id, NULL);
    if (!m || m->next_page >= m->count) {
        simd_reply(c, req, -EINVAL, NULL, 0, NULL, 0);
        return;
    }
    reply_map(c, req, m);
}

static void handle_unmap(struct sim_conn *c, struct sim_req *req)
{
    const struct sim_gnt_map_id_req *r = req->body;
    struct gnt_map *m = NULL, **link;

    if (req->len == sizeof(*r) && c->gnt)
        m = map_find(c->gnt, r->map_id, &link);
    if (!m || m->count != r->count) {
        simd_reply(c, req, -EINVAL, NULL, 0, NULL, 0);
        return;
    }
    *link = m->next;
    map_release(m);
    simd_reply(c, req, 0, NULL, 0, NULL, 0);
}

void sim_gnttab_handle(struct sim_conn *c, struct sim_req *req)
{
    switch (req->hdr.type) {
    case SIM_GNT_SHARE:
        handle_share(c, req);
        break;
    case SIM_GNT_SHARE_REFS:
        handle_share_refs(c, req);
        break;
    case SIM_GNT_UNSHARE:
        handle_unshare(c, req);
        break;
    case SIM_GNT_MAP:
        handle_map(c, req);
        break;
    case SIM_GNT_MAP_NEXT:
        handle_map_next(c, req);
        break;
    case SIM_GNT_UNMAP:
        handle_unmap(c, req);
        break;
    default:
        simd_reply(c, req, -ENOSYS, NULL, 0, NULL, 0);
        break;
    }
}

/* ---- lifetime --------------------------------------------------------- */

int sim_gnttab_domain_init(struct sim_domain *d)
{
    d->gnttab = calloc(1, sizeof(*d->gnttab));
    if (!d->gnttab)
        return -ENOMEM;
    d->gnttab->dom = d;
    d->gnttab->hint = SIM_GNT_NR_RESERVED;
    return 0;
}

/*
 * The connection went away (its process exited or closed the handle):
 * its maps are released and its shares end, the mapped ones deferred.
 */
void sim_gnttab_conn_closed(struct sim_conn *c)
{
    struct sim_gnttab *t = c->dom ? c->dom->gnttab : NULL;
    struct gnt_share *s, *next;

    if (c->gnt) {
        while (c->gnt->maps) {
            struct gnt_map *m = c->gnt->maps;

            c->gnt->maps = m->next;
            map_release(m);
        }
        free(c->gnt);
        c->gnt = NULL;
    }
    for (s = t ? t->shares : NULL; s; s = next) {
        next = s->next;
        if (s->owner == c)
            share_end(s);
    }
}

void sim_gnttab_domain_destroy(struct sim_domain *d)
{
    struct sim_gnttab *t = d->gnttab;

    if (!t)
        return;
    /* The core closed the domain's connections first; be safe anyway. */
    for (struct sim_conn *c = d->simd->conns; c; c = c->next)
        if (c->dom == d)
            sim_gnttab_conn_closed(c);
    while (t->shares)
        share_orphan(t->shares);
    for (unsigned int i = 0; i < SIM_GNT_NR_FRAMES; i++)
        free(t->frames[i]);
    free(t);
    d->gnttab = NULL;
}

unsigned int sim_gnttab_count(const struct sim_domain *d)
{
    return d->gnttab ? d->gnttab->nr_used : 0;
}
