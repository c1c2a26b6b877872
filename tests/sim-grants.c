/* SPDX-License-Identifier: MIT */
/*
 * sim-grants: sim grant tables through the platform API.  Two processes in
 * two sim domains share pages and see each other's writes; every refusal
 * (bad ref, another domain's grant, writable map of a read-only grant,
 * unshare while mapped, full table, oversized batch) and every release
 * (unmap, mapper death, sharer death, domain death) is checked.
 *
 * Processes proceed in lock-step over pipes (pvt_chan); nothing sleeps.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "platform/platform.h"
#include "sim/proto.h"
#include "tests/testlib.h"

#define PG PVA_PAGE_SIZE

static struct pvt_sim sim;

static pid_t spawn(int domid, int (*fn)(void *), void *arg)
{
    return pvt_sim_spawn(&sim, domid, fn, arg);
}

/* A fresh domain: a domain dies with its last process. */
static int new_domain(const char *what)
{
    return pvt_sim_create_fresh(&sim, what);
}

/* Who talks to whom: front shares, back maps, third is a bystander. */
struct scene {
    int front, back, third;
    struct pvt_chan fb, bf, fc, cf, pf, bp; /* x->y: x writes, y reads */
};

static struct pva_platform *sim_platform(void)
{
    char err[256];
    struct pva_platform *p = pva_platform_open("sim", err, sizeof(err));

    if (!p)
        fprintf(stderr, "sim platform: %s\n", err);
    return p;
}

static void send_refs(struct pvt_chan *c, const pva_gref_t *refs, uint32_t n)
{
    pvt_chan_send(c, n);
    for (uint32_t i = 0; i < n; i++)
        pvt_chan_send(c, refs[i]);
}

static uint32_t recv_refs(struct pvt_chan *c, pva_gref_t *refs, uint32_t max)
{
    uint32_t n = 0, v;

    if (pvt_chan_recv(c, &n) < 0 || n > max)
        return 0;
    for (uint32_t i = 0; i < n; i++) {
        if (pvt_chan_recv(c, &v) < 0)
            return 0;
        refs[i] = v;
    }
    return n;
}

static uint32_t wait_for(struct pvt_chan *c)
{
    uint32_t v = 0;

    PVT_EQ_INT(pvt_chan_recv(c, &v), 0);
    return v;
}

static void scene_init(struct scene *s)
{
    memset(s, 0, sizeof(*s));
    PVT_EQ_INT(pvt_chan_open(&s->fb), 0);
    PVT_EQ_INT(pvt_chan_open(&s->bf), 0);
    PVT_EQ_INT(pvt_chan_open(&s->fc), 0);
    PVT_EQ_INT(pvt_chan_open(&s->cf), 0);
    PVT_EQ_INT(pvt_chan_open(&s->pf), 0);
    PVT_EQ_INT(pvt_chan_open(&s->bp), 0);
}

static void scene_fini(struct scene *s)
{
    pvt_chan_close(&s->fb);
    pvt_chan_close(&s->bf);
    pvt_chan_close(&s->fc);
    pvt_chan_close(&s->cf);
    pvt_chan_close(&s->pf);
    pvt_chan_close(&s->bp);
}

/* ---- read-write sharing, unshare while mapped ------------------------- */

static int rw_front(void *arg)
{
    struct scene *s = arg;
    struct pva_platform *p = sim_platform();
    struct pva_gntshr *g = p ? p->gntshr->open(p) : NULL;
    pva_gref_t refs[4];
    unsigned char *a;

    if (!g)
        return 2;
    a = p->gntshr->share(g, (pva_domid_t)s->back, 4, refs, true);
    PVT_CHECK(a != NULL);
    if (!a)
        return 1;
    for (int i = 0; i < 4; i++) {
        PVT_CHECK(refs[i] >= SIM_GNT_NR_RESERVED);
        PVT_EQ_INT(a[i * PG], 0); /* zeroed */
        memset(a + i * PG, 'A' + i, PG);
    }
    send_refs(&s->fb, refs, 4);
    wait_for(&s->bf);                       /* back mapped and wrote */
    PVT_EQ_INT(a[PG + 100], 'b');
    /* Refused while mapped, and nothing changes. */
    PVT_EQ_INT(p->gntshr->unshare(g, a, 4), -EBUSY);
    PVT_EQ_INT(a[PG + 100], 'b');
    PVT_EQ_INT(p->gntshr->unshare(g, a, 3), -EINVAL);
    pvt_chan_send(&s->fb, 1);               /* please unmap */
    wait_for(&s->bf);
    PVT_EQ_INT(p->gntshr->unshare(g, a, 4), 0);
    p->gntshr->close(g);
    pva_platform_close(p);
    return 0;
}

static int rw_back(void *arg)
{
    struct scene *s = arg;
    struct pva_platform *p = sim_platform();
    struct pva_gntmap *g = p ? p->gntmap->open(p) : NULL;
    pva_gref_t refs[4];
    unsigned char *m;

    if (!g)
        return 2;
    PVT_EQ_INT(recv_refs(&s->fb, refs, 4), 4);
    m = p->gntmap->map(g, (pva_domid_t)s->front, 4, refs, true);
    PVT_CHECK(m != NULL);
    if (!m)
        return 1;
    for (int i = 0; i < 4; i++)
        PVT_CHECK(m[i * PG] == 'A' + i && m[i * PG + PG - 1] == 'A' + i);
    m[PG + 100] = 'b';
    pvt_chan_send(&s->bf, 1);
    wait_for(&s->fb);
    PVT_EQ_INT(p->gntmap->unmap(g, m, 3), -EINVAL);
    PVT_EQ_INT(p->gntmap->unmap(g, m, 4), 0);
    pvt_chan_send(&s->bf, 1);
    p->gntmap->close(g);
    pva_platform_close(p);
    return 0;
}

/* ---- refusals: read-only, other domain's grant, bad refs -------------- */

static int ro_front(void *arg)
{
    struct scene *s = arg;
    struct pva_platform *p = sim_platform();
    struct pva_gntshr *g = p ? p->gntshr->open(p) : NULL;
    pva_gref_t ref;
    char *a;

    if (!g)
        return 2;
    a = p->gntshr->share(g, (pva_domid_t)s->back, 1, &ref, false);
    PVT_CHECK(a != NULL);
    if (!a)
        return 1;
    strcpy(a, "read me");
    send_refs(&s->fb, &ref, 1);
    send_refs(&s->fc, &ref, 1);
    send_refs(&s->fb, &ref, 1);
    wait_for(&s->bf);
    wait_for(&s->cf);
    PVT_EQ_INT(p->gntshr->unshare(g, a, 1), 0);
    p->gntshr->close(g);
    pva_platform_close(p);
    return 0;
}

static int ro_back(void *arg)
{
    struct scene *s = arg;
    struct pva_platform *p = sim_platform();
    struct pva_gntmap *g = p ? p->gntmap->open(p) : NULL;
    pva_gref_t ref, many[SIM_GNT_MAP_MAX + 1];
    char *m;

    if (!g)
        return 2;
    PVT_EQ_INT(recv_refs(&s->fb, &ref, 1), 1);
    errno = 0;
    PVT_CHECK(!p->gntmap->map(g, (pva_domid_t)s->front, 1, &ref, true));
    PVT_EQ_INT(errno, EPERM);
    m = p->gntmap->map(g, (pva_domid_t)s->front, 1, &ref, false);
    PVT_CHECK(m != NULL);
    if (!m)
        return 1;
    PVT_EQ_STR(m, "read me");
    /* The fd behind it is O_RDONLY: no way to make the page writable. */
    errno = 0;
    PVT_EQ_INT(mprotect(m, PG, PROT_READ | PROT_WRITE), -1);
    PVT_EQ_INT(errno, EACCES);
    PVT_EQ_INT(p->gntmap->unmap(g, m, 1), 0);

    /* Refs that are not grants, and batches that are not allowed. */
    errno = 0;
    ref = 5000; /* never allocated */
    PVT_CHECK(!p->gntmap->map(g, (pva_domid_t)s->front, 1, &ref, false));
    PVT_EQ_INT(errno, EINVAL);
    ref = 1;    /* reserved */
    PVT_CHECK(!p->gntmap->map(g, (pva_domid_t)s->front, 1, &ref, false));
    PVT_EQ_INT(errno, EINVAL);
    PVT_CHECK(!p->gntmap->map(g, 4000, 1, &ref, false));
    PVT_EQ_INT(errno, ESRCH);
    PVT_CHECK(!p->gntmap->map(g, (pva_domid_t)s->front, 0, &ref, false));
    PVT_EQ_INT(errno, EINVAL);
    for (uint32_t i = 0; i <= SIM_GNT_MAP_MAX; i++)
        many[i] = SIM_GNT_NR_RESERVED;
    PVT_CHECK(!p->gntmap->map(g, (pva_domid_t)s->front, SIM_GNT_MAP_MAX + 1,
                              many, false));
    PVT_EQ_INT(errno, E2BIG);
    /* One bad ref fails the whole batch: nothing stays mapped, so the
     * front's unshare after this succeeds. */
    PVT_EQ_INT(recv_refs(&s->fb, many, 1), 1);
    many[1] = 5000;
    PVT_CHECK(!p->gntmap->map(g, (pva_domid_t)s->front, 2, many, false));
    PVT_EQ_INT(errno, EINVAL);
    pvt_chan_send(&s->bf, 1);
    p->gntmap->close(g);
    pva_platform_close(p);
    return 0;
}

/* A third domain may not map what was granted to the back domain. */
static int ro_third(void *arg)
{
    struct scene *s = arg;
    struct pva_platform *p = sim_platform();
    struct pva_gntmap *g = p ? p->gntmap->open(p) : NULL;
    pva_gref_t ref;

    if (!g)
        return 2;
    PVT_EQ_INT(recv_refs(&s->fc, &ref, 1), 1);
    errno = 0;
    PVT_CHECK(!p->gntmap->map(g, (pva_domid_t)s->front, 1, &ref, false));
    PVT_EQ_INT(errno, EPERM);
    pvt_chan_send(&s->cf, 1);
    p->gntmap->close(g);
    pva_platform_close(p);
    return 0;
}

/* ---- many memfds and scattered pages: windows and fd chunks ----------- */

#define NR_SMALL 300 /* > SIM_FDS_MAX distinct memfds in one map */
#define BIG 64

static int many_front(void *arg)
{
    struct scene *s = arg;
    struct pva_platform *p = sim_platform();
    struct pva_gntshr *g = p ? p->gntshr->open(p) : NULL;
    static pva_gref_t refs[NR_SMALL + BIG];
    static uint32_t *pages[NR_SMALL];
    uint32_t *big;

    if (!g)
        return 2;
    for (uint32_t i = 0; i < NR_SMALL; i++) {
        pages[i] = p->gntshr->share(g, (pva_domid_t)s->back, 1, &refs[i],
                                    true);
        if (!pages[i])
            return 1;
        pages[i][0] = i;
    }
    big = p->gntshr->share(g, (pva_domid_t)s->back, BIG, &refs[NR_SMALL],
                           true);
    if (!big)
        return 1;
    for (uint32_t i = 0; i < BIG; i++)
        big[i * PG / 4] = 1000 + i;
    send_refs(&s->fb, refs, NR_SMALL + BIG);
    wait_for(&s->bf);
    for (uint32_t i = 0; i < NR_SMALL; i++)
        PVT_CHECK_MSG(pages[i][1] == 2 * i, "small page %u written", i);
    for (uint32_t i = 0; i < NR_SMALL; i++)
        PVT_EQ_INT(p->gntshr->unshare(g, pages[i], 1), 0);
    PVT_EQ_INT(p->gntshr->unshare(g, big, BIG), 0);
    p->gntshr->close(g);
    pva_platform_close(p);
    return 0;
}

static int many_back(void *arg)
{
    struct scene *s = arg;
    struct pva_platform *p = sim_platform();
    struct pva_gntmap *g = p ? p->gntmap->open(p) : NULL;
    static pva_gref_t refs[NR_SMALL + BIG], rev[BIG];
    uint32_t *m;
    bool ok = true;

    if (!g)
        return 2;
    PVT_EQ_INT(recv_refs(&s->fb, refs, NR_SMALL + BIG), NR_SMALL + BIG);
    /* All 364 pages in one call: 301 memfds, so two fd chunks. */
    m = p->gntmap->map(g, (pva_domid_t)s->front, NR_SMALL + BIG, refs, true);
    PVT_CHECK(m != NULL);
    if (!m)
        return 1;
    for (uint32_t i = 0; i < NR_SMALL; i++) {
        ok &= m[i * PG / 4] == i;
        m[i * PG / 4 + 1] = 2 * i;
    }
    for (uint32_t i = 0; i < BIG; i++)
        ok &= m[(NR_SMALL + i) * PG / 4] == 1000 + i;
    PVT_CHECK_MSG(ok, "364 pages from 301 memfds in order");
    /* A VMA per memfd: the big share's pages are in order, one run. */
    PVT_EQ_INT(p->gntmap->mappings(g, m), NR_SMALL + 1);
    PVT_EQ_INT(p->gntmap->unmap(g, m, NR_SMALL + BIG), 0);
    PVT_EQ_INT(p->gntmap->mappings(g, m), 0);
    /* The big share backwards: one run per page, same fd. */
    for (uint32_t i = 0; i < BIG; i++)
        rev[i] = refs[NR_SMALL + BIG - 1 - i];
    m = p->gntmap->map(g, (pva_domid_t)s->front, BIG, rev, false);
    PVT_CHECK(m != NULL);
    if (!m)
        return 1;
    ok = true;
    for (uint32_t i = 0; i < BIG; i++)
        ok &= m[i * PG / 4] == 1000 + BIG - 1 - i;
    PVT_CHECK_MSG(ok, "reversed pages in order");
    PVT_EQ_INT(p->gntmap->mappings(g, m), BIG);
    PVT_EQ_INT(p->gntmap->unmap(g, m, BIG), 0);
    pvt_chan_send(&s->bf, 1);
    p->gntmap->close(g);
    pva_platform_close(p);
    return 0;
}

/* ---- a full grant table ----------------------------------------------- */

static bool refs_distinct(const pva_gref_t *refs, uint32_t n)
{
    static unsigned char seen[SIM_GNT_NR_ENTRIES];

    memset(seen, 0, sizeof(seen));
    for (uint32_t i = 0; i < n; i++) {
        if (refs[i] < SIM_GNT_NR_RESERVED || refs[i] >= SIM_GNT_NR_ENTRIES ||
            seen[refs[i]])
            return false;
        seen[refs[i]] = 1;
    }
    return true;
}

static int full_front(void *arg)
{
    struct scene *s = arg;
    struct pva_platform *p = sim_platform();
    struct pva_gntshr *g = p ? p->gntshr->open(p) : NULL;
    static pva_gref_t refs[SIM_GNT_MAX_SHARED + 1];
    void *all, *one;

    if (!g)
        return 2;
    all = p->gntshr->share(g, (pva_domid_t)s->back, SIM_GNT_MAX_SHARED, refs,
                           true);
    PVT_CHECK(all != NULL);
    if (!all)
        return 1;
    PVT_CHECK(refs_distinct(refs, SIM_GNT_MAX_SHARED));
    errno = 0;
    PVT_CHECK(!p->gntshr->share(g, (pva_domid_t)s->back, 1, refs, true));
    PVT_EQ_INT(errno, ENOSPC);
    pvt_chan_send(&s->bf, 1); /* parent: count them */
    wait_for(&s->pf);
    PVT_EQ_INT(p->gntshr->unshare(g, all, SIM_GNT_MAX_SHARED), 0);
    errno = 0;
    PVT_CHECK(!p->gntshr->share(g, (pva_domid_t)s->back,
                                SIM_GNT_MAX_SHARED + 1, refs, true));
    PVT_EQ_INT(errno, ENOSPC);
    one = p->gntshr->share(g, (pva_domid_t)s->back, 1, refs, true);
    PVT_CHECK(one != NULL);
    p->gntshr->close(g); /* ends it */
    pva_platform_close(p);
    return 0;
}

/* ---- lifetimes: mapper death, sharer death, domain death -------------- */

/* Keeps its domain alive until told to go. */
static int keeper(void *arg)
{
    struct pvt_chan *c = arg;
    uint32_t v;

    pvt_chan_recv(c, &v);
    return 0;
}

/* Shares two pages, maps one of them elsewhere, and dies. */
static int dying_front(void *arg)
{
    struct scene *s = arg;
    struct pva_platform *p = sim_platform();
    struct pva_gntshr *g = p ? p->gntshr->open(p) : NULL;
    pva_gref_t refs[2];
    char *a, *b;

    if (!g)
        return 2;
    a = p->gntshr->share(g, (pva_domid_t)s->back, 1, &refs[0], true);
    b = p->gntshr->share(g, (pva_domid_t)s->back, 1, &refs[1], true);
    if (!a || !b)
        return 1;
    strcpy(a, "still here");
    send_refs(&s->fb, refs, 1);
    wait_for(&s->bf);       /* mapped */
    return 0;               /* exit without unsharing */
}

/* Maps what the front shares, then reads it after the front is gone. */
static int outliving_back(void *arg)
{
    struct scene *s = arg;
    struct pva_platform *p = sim_platform();
    struct pva_gntmap *g = p ? p->gntmap->open(p) : NULL;
    pva_gref_t ref;
    char *m;

    if (!g)
        return 2;
    PVT_EQ_INT(recv_refs(&s->fb, &ref, 1), 1);
    m = p->gntmap->map(g, (pva_domid_t)s->front, 1, &ref, true);
    PVT_CHECK(m != NULL);
    if (!m)
        return 1;
    pvt_chan_send(&s->bf, 1);
    wait_for(&s->pf);       /* the front's process (or domain) is gone */
    PVT_EQ_STR(m, "still here");
    errno = 0;
    PVT_CHECK(!p->gntmap->map(g, (pva_domid_t)s->front, 1, &ref, false));
    PVT_CHECK(errno == EINVAL || errno == ESRCH);
    PVT_EQ_INT(p->gntmap->unmap(g, m, 1), 0);
    pvt_chan_send(&s->bp, 1);
    p->gntmap->close(g);
    pva_platform_close(p);
    return 0;
}

/* Maps and dies without unmapping. */
static int dying_back(void *arg)
{
    struct scene *s = arg;
    struct pva_platform *p = sim_platform();
    struct pva_gntmap *g = p ? p->gntmap->open(p) : NULL;
    pva_gref_t refs[2];

    if (!g)
        return 2;
    PVT_EQ_INT(recv_refs(&s->fb, refs, 2), 2);
    PVT_CHECK(p->gntmap->map(g, (pva_domid_t)s->front, 2, refs, false));
    return 0;
}

static int unshare_after_mapper_died(void *arg)
{
    struct scene *s = arg;
    struct pva_platform *p = sim_platform();
    struct pva_gntshr *g = p ? p->gntshr->open(p) : NULL;
    pva_gref_t refs[2];
    void *a;

    if (!g)
        return 2;
    a = p->gntshr->share(g, (pva_domid_t)s->back, 2, refs, false);
    if (!a)
        return 1;
    send_refs(&s->fb, refs, 2);
    wait_for(&s->pf);       /* the mapper exited */
    PVT_EQ_INT(p->gntshr->unshare(g, a, 2), 0);
    p->gntshr->close(g);
    pva_platform_close(p);
    return 0;
}

static struct pvt_sim_domstat stat_of(int domid)
{
    struct pvt_sim_domstat st = { 0 };

    PVT_EQ_INT(pvt_sim_domstat(&sim, domid, &st), 0);
    return st;
}

static void test_lifetimes(void)
{
    struct scene s;
    struct pvt_chan keep;
    pid_t k, f, m;
    int a = new_domain("front"), b = new_domain("back");

    /* The mapper dies: its maps no longer hold the grants. */
    scene_init(&s);
    s.front = a;
    s.back = b;
    f = spawn(a, unshare_after_mapper_died, &s);
    m = spawn(b, dying_back, &s);
    PVT_EQ_INT(pvt_wait(m), 0);
    pvt_chan_send(&s.pf, 1);
    PVT_EQ_INT(pvt_wait(f), 0);
    scene_fini(&s);

    /* The sharer dies: unmapped grants end, mapped ones wait (gntalloc). */
    a = new_domain("front");
    b = new_domain("back");
    scene_init(&s);
    s.front = a;
    s.back = b;
    PVT_EQ_INT(pvt_chan_open(&keep), 0);
    k = spawn(a, keeper, &keep);
    f = spawn(a, dying_front, &s);
    m = spawn(b, outliving_back, &s);
    PVT_EQ_INT(pvt_wait(f), 0);
    PVT_EQ_INT(stat_of(a).grants, 1);
    pvt_chan_send(&s.pf, 1);
    wait_for(&s.bp);
    PVT_EQ_INT(stat_of(a).grants, 0);
    PVT_EQ_INT(pvt_wait(m), 0);
    pvt_chan_send(&keep, 1);
    PVT_EQ_INT(pvt_wait(k), 0);
    pvt_chan_close(&keep);
    scene_fini(&s);
}

/* The granting domain is destroyed while its page is mapped. */
static void test_domain_death(void)
{
    struct pvt_sim_domstat st;
    struct scene s;
    pid_t f, m;
    int a = new_domain("doomed"), b = new_domain("back");

    scene_init(&s);
    s.front = a;
    s.back = b;
    f = spawn(a, dying_front, &s);
    m = spawn(b, outliving_back, &s);
    PVT_EQ_INT(pvt_wait(f), 0);  /* the domain dies with its last process */
    PVT_EQ_INT(pvt_sim_domstat(&sim, a, &st), -ESRCH);
    pvt_chan_send(&s.pf, 1);
    wait_for(&s.bp);
    PVT_EQ_INT(pvt_wait(m), 0);
    scene_fini(&s);
}

static void run_pair(int (*front)(void *), int (*back)(void *),
                     int (*third)(void *))
{
    struct scene s;
    pid_t pf, pb, pt = -1;
    int a = new_domain("front"), b = new_domain("back");
    int c = third ? new_domain("third") : 0;

    scene_init(&s);
    s.front = a;
    s.back = b;
    s.third = c;
    pf = spawn(a, front, &s);
    pb = spawn(b, back, &s);
    if (third)
        pt = spawn(c, third, &s);
    PVT_EQ_INT(pvt_wait(pf), 0);
    PVT_EQ_INT(pvt_wait(pb), 0);
    if (third)
        PVT_EQ_INT(pvt_wait(pt), 0);
    scene_fini(&s);
}

static void test_full_table(void)
{
    struct scene s;
    struct pvt_chan keep;
    pid_t k, f;
    int a = new_domain("front"), b = new_domain("back");

    scene_init(&s);
    s.front = a;
    s.back = b;
    PVT_EQ_INT(pvt_chan_open(&keep), 0);
    k = spawn(a, keeper, &keep);
    f = spawn(a, full_front, &s);
    wait_for(&s.bf);
    PVT_EQ_INT(stat_of(a).grants, SIM_GNT_MAX_SHARED);
    pvt_chan_send(&s.pf, 1);
    PVT_EQ_INT(pvt_wait(f), 0);
    PVT_EQ_INT(stat_of(a).grants, 0);
    pvt_chan_send(&keep, 1);
    PVT_EQ_INT(pvt_wait(k), 0);
    pvt_chan_close(&keep);
    scene_fini(&s);
}

int main(void)
{
    struct rlimit rl;
    int err;

    /* The daemon inherits this: it holds an fd per share. */
    if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (pvt_sim_start(&sim) < 0)
        return 99;
    alarm(2 * PVT_CHILD_DEADLINE_S); /* the whole run, as for each child */

    run_pair(rw_front, rw_back, NULL);
    run_pair(ro_front, ro_back, ro_third);
    run_pair(many_front, many_back, NULL);
    test_full_table();
    test_lifetimes();
    test_domain_death();

    err = pvt_done();
    pvt_sim_stop(&sim);
    return err;
}
