/* SPDX-License-Identifier: MIT */
/*
 * backend-slow: guests that ask for the slowest work the backend accepts.
 *
 * pvacceld runs with the default settings but one engine worker, so one
 * job runs and the rest wait in the engine's job ring.
 *
 *  - the cost cap: the backend advertises the most input a slow COMPRESS
 *    level may take (compress-max-bytes); a byte more, directly or in a
 *    scatter list, is -XEN_E2BIG at once, while a fast level takes the
 *    same input and the device serves on.
 *  - dying under load: guest A fills four queues with zstd level 19
 *    compressions as large as the cap lets them be (1 MiB, about a second
 *    each here: half a minute of engine work) and is destroyed.  While the
 *    job that was running drains, guest B connects and is served and the
 *    stats socket answers, showing A's device being torn down; then every
 *    grant mapping, event channel and thread of A is released.  The jobs
 *    that had not started are cancelled.
 *  - closing under load: the same with an orderly Closing: A gets the
 *    responses of the jobs that ran, none for the cancelled ones, and
 *    Closed once everything is unmapped.
 *
 * Before issue 17 the main thread ran the whole teardown and waited for
 * every queued job: B's handshake timed out and so did the stats.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/rawfront.h"

#define NQ 4
#define PER_QUEUE 8                 /* slow jobs per queue */
#define SLOW_LEVEL 19
#define SRC_IOVA 0x1000000ull
#define DST_IOVA 0x2000000ull
#define SG_IOVA 0x3000000ull
#define FENCE_ID 0xfe
/* The stats socket answers between two watch events: well within this. */
#define STATS_DEADLINE_MS 5000

static struct rf_env env;
static struct pvt_chan to_parent, to_guest;

static const char *const opts[] = { "--engine-args=workers=1", NULL };

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Text zstd works hard on: a few words in a random order. */
static void fill_text(uint8_t *p, size_t n)
{
    static const char *const words[] = {
        "grant ", "ring ", "event ", "channel ", "backend ", "frontend ",
        "xenstore ", "domain ", "page ", "queue ", "the ", "of ", "\n",
    };
    uint32_t x = 1;
    size_t off = 0;

    while (off < n) {
        const char *w;
        size_t l;

        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        w = words[x % (sizeof(words) / sizeof(words[0]))];
        l = strlen(w) < n - off ? strlen(w) : n - off;
        memcpy(p + off, w, l);
        off += l;
    }
}

/* ------------------------------------------------------- the cost cap */

/* The cap of @alg at @level in a compress-max-bytes list, 0 if none. */
static uint64_t listed_cap(const char *list, const char *alg, int level)
{
    char key[32];
    const char *at = list;
    size_t n = (size_t)snprintf(key, sizeof(key), "%s:%d:", alg, level);

    while (at && *at) {
        if (!strncmp(at, key, n))
            return strtoull(at + n, NULL, 10);
        at = strchr(at, ',');
        at = at ? at + 1 : NULL;
    }
    return 0;
}

/* Every "alg:level:bytes" of @list has bytes below @max. */
static bool caps_below(const char *list, uint64_t max)
{
    for (const char *at = list; at && *at;) {
        const char *end = strchr(at, ','), *colon = NULL;

        for (const char *c = at; *c && (!end || c < end); c++)
            if (*c == ':')
                colon = c;
        if (!colon || strtoull(colon + 1, NULL, 10) >= max)
            return false;
        at = end ? end + 1 : NULL;
    }
    return true;
}

static int32_t compress_status(struct rawfront *f, int32_t level,
                               struct vaccel_seg src, uint16_t flags)
{
    vaccel_request_t req;
    vaccel_response_t rsp;

    rf_req_init(&req, VACCEL_OP_COMPRESS, 0xc0);
    req.alg = VACCEL_ALG_ZSTD;
    req.flags = flags;
    req.u.compress.level = level;
    req.u.compress.src = src;
    req.u.compress.dst = (struct vaccel_seg){ DST_IOVA, 1u << 20 };
    return rf_call(f, 0, &req, &rsp) ? -9999 : rsp.status;
}

static int guest_capped(void *arg)
{
    struct rawfront f;
    struct rf_mem src, dst, sg;
    struct vaccel_seg *list;
    uint64_t cap, op_max;
    uint32_t pages;
    char *caps;

    (void)arg;
    PVT_EQ_INT(rf_init(&f, 0), 0);
    PVT_EQ_INT(rf_connect(&f, 1, 0), 0);
    caps = rf_be_read(&f, VACCEL_FIELD_COMPRESS_MAX_BYTES);
    op_max = (uint64_t)rf_be_long(&f, VACCEL_FIELD_MAX_OP_BYTES);
    printf("# %s = \"%s\"\n", VACCEL_FIELD_COMPRESS_MAX_BYTES,
           caps ? caps : "(none)");
    if (!caps) {
        PVT_CHECK_MSG(false, "the cost cap is advertised");
        return 1;
    }
    /* By default zstd 19 is capped, near 1 MiB (about a second here). */
    cap = listed_cap(caps, "zstd", 19);
    PVT_CHECK_MSG(cap >= (512u << 10) && cap <= (2u << 20),
                  "zstd level 19 capped at %llu bytes",
                  (unsigned long long)cap);
    PVT_CHECK(listed_cap(caps, "zstd", 22) > 0);
    PVT_EQ_INT(listed_cap(caps, "zstd", 3), 0);  /* fast: max-op-bytes */
    PVT_EQ_INT(listed_cap(caps, "zstd", 0), 0);  /* the default, 3 */
    PVT_CHECK_MSG(caps_below(caps, op_max), "every listed cap is below "
                  "max-op-bytes (%llu)", (unsigned long long)op_max);
    free(caps);
    if (!cap)
        return 1;

    pages = (uint32_t)((cap + 1 + VACCEL_PAGE_SIZE - 1) / VACCEL_PAGE_SIZE);
    PVT_EQ_INT(rf_mem_alloc(&f, pages, false, &src), 0);
    PVT_EQ_INT(rf_mem_alloc(&f, 256, true, &dst), 0);
    PVT_EQ_INT(rf_mem_alloc(&f, 1, false, &sg), 0);
    fill_text(src.addr, (size_t)pages * VACCEL_PAGE_SIZE);
    PVT_EQ_INT(rf_map_region(&f, 0, SRC_IOVA, &src, false), 0);
    PVT_EQ_INT(rf_map_region(&f, 0, DST_IOVA, &dst, true), 0);
    /* A scatter list of the cap plus one byte, in two entries. */
    list = sg.addr;
    list[0] = (struct vaccel_seg){ SRC_IOVA, cap / 2 };
    list[1] = (struct vaccel_seg){ SRC_IOVA + cap / 2, cap - cap / 2 + 1 };
    PVT_EQ_INT(rf_map_region(&f, 0, SG_IOVA, &sg, false), 0);

    /* One byte over: refused at once, directly or through the list. */
    PVT_EQ_INT(compress_status(&f, 19, (struct vaccel_seg){ SRC_IOVA, cap + 1 },
                               0), -XEN_E2BIG);
    PVT_EQ_INT(compress_status(&f, 19, (struct vaccel_seg){ SG_IOVA,
                                   2 * sizeof(struct vaccel_seg) },
                               VACCEL_REQ_F_SRC_INDIRECT), -XEN_E2BIG);
    /* A fast level takes the same input; a small one is fine at level 19. */
    PVT_EQ_INT(compress_status(&f, 1, (struct vaccel_seg){ SRC_IOVA, cap + 1 },
                               0), 0);
    PVT_EQ_INT(compress_status(&f, 0, (struct vaccel_seg){ SG_IOVA,
                                   2 * sizeof(struct vaccel_seg) },
                               VACCEL_REQ_F_SRC_INDIRECT), 0);
    PVT_EQ_INT(compress_status(&f, 19, (struct vaccel_seg){ SRC_IOVA,
                                                            64u << 10 }, 0),
               0);
    PVT_EQ_INT(rf_disconnect(&f), 0);
    rf_mem_free(&f, &src);
    rf_mem_free(&f, &dst);
    rf_mem_free(&f, &sg);
    rf_fini(&f);
    return 0;
}

static void cost_cap(void)
{
    int dom = pvt_sim_create_fresh(&env.sim, "capped");

    PVT_EQ_INT(rf_env_attach(&env, dom, 0, NULL), 0);
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&env.sim, dom, guest_capped, NULL)), 0);
}

/* ------------------------------------------------------ the slow guest */

struct slow_guest {
    struct rawfront f;
    struct rf_mem src, dst;
    uint32_t bytes;             /* of each compression: the level's cap */
    unsigned int early;         /* compressions answered before the NOPs */
};

/*
 * Connect, map a source and a destination, put PER_QUEUE slow compressions
 * on every queue and wait until the backend has handed them all to the
 * engine: a NOP behind them on each queue is answered only then.
 */
static int slow_load(struct slow_guest *g)
{
    struct rawfront *f = &g->f;
    uint32_t pages;
    char *caps;

    if (rf_init(f, 0) || rf_connect(f, NQ, 0))
        return -1;
    caps = rf_be_read(f, VACCEL_FIELD_COMPRESS_MAX_BYTES);
    g->bytes = caps ? (uint32_t)listed_cap(caps, "zstd", SLOW_LEVEL) : 0;
    free(caps);
    if (!g->bytes || g->bytes > (4u << 20))
        return -1;
    pages = (g->bytes + VACCEL_PAGE_SIZE - 1) / VACCEL_PAGE_SIZE;
    if (rf_mem_alloc(f, pages, false, &g->src) ||
        rf_mem_alloc(f, pages, true, &g->dst))
        return -1;
    fill_text(g->src.addr, g->bytes);
    if (rf_map_region(f, 0, SRC_IOVA, &g->src, false) ||
        rf_map_region(f, 0, DST_IOVA, &g->dst, true))
        return -1;
    for (unsigned int q = 0; q < NQ; q++) {
        for (unsigned int i = 0; i < PER_QUEUE; i++) {
            vaccel_request_t *r = rf_req(f, q);

            rf_req_init(r, VACCEL_OP_COMPRESS, i);
            r->alg = VACCEL_ALG_ZSTD;
            r->u.compress.level = SLOW_LEVEL;
            r->u.compress.src = (struct vaccel_seg){ SRC_IOVA, g->bytes };
            r->u.compress.dst = (struct vaccel_seg){ DST_IOVA, g->bytes };
        }
        rf_req_init(rf_req(f, q), VACCEL_OP_NOP, FENCE_ID);
        rf_push(f, q);
    }
    g->early = 0;
    for (unsigned int q = 0; q < NQ; q++) {
        vaccel_response_t rsp;

        /* A compression takes a second: the NOP is answered long before. */
        do {
            if (rf_rsp(f, q, &rsp))
                return -1;
            g->early += rsp.id != FENCE_ID;
        } while (rsp.id != FENCE_ID);
    }
    return 0;
}

/* Destroyed by the parent once loaded. */
static int guest_dying(void *arg)
{
    struct slow_guest g;
    uint32_t v;

    (void)arg;
    if (slow_load(&g))
        return 2;
    pvt_chan_send(&to_parent, 1);
    pvt_chan_recv(&to_guest, &v);       /* never: the domain dies first */
    return 0;
}

/* Closes in an orderly way once loaded, and checks what it got back. */
static int guest_closing(void *arg)
{
    struct slow_guest g;
    unsigned int answered = 0, failed = 0;
    uint64_t t0;

    (void)arg;
    if (slow_load(&g))
        return 2;
    rf_set_fe_state(&g.f, XenbusStateClosing);
    PVT_CHECK(rf_wait_be_state(&g.f, 1u << XenbusStateClosing |
                                     1u << XenbusStateClosed) >= 0);
    pvt_chan_send(&to_parent, 1);       /* tearing down */
    t0 = now_ms();
    PVT_EQ_INT(rf_wait_be_state(&g.f, 1u << XenbusStateClosed),
               XenbusStateClosed);
    printf("# closing under load: Closed after %llu ms\n",
           (unsigned long long)(now_ms() - t0));
    for (unsigned int q = 0; q < NQ; q++) {
        struct rf_queue *rq = &g.f.q[q];

        while (RING_HAS_UNCONSUMED_RESPONSES(&rq->ring)) {
            const vaccel_response_t *r = RING_GET_RESPONSE(&rq->ring,
                                                           rq->ring.rsp_cons);

            answered++;
            failed += r->op != VACCEL_OP_COMPRESS || r->status != 0;
            rq->ring.rsp_cons++;
        }
    }
    /*
     * One worker: the job running at Closing (and at most one that
     * finished just before) is answered with its result; the jobs that had
     * not started are cancelled and answered by nobody.
     */
    printf("# closing under load: %u of %u compressions answered\n",
           answered, NQ * PER_QUEUE);
    PVT_CHECK_MSG(answered <= 2, "only jobs that ran are answered (%u, and "
                  "%u before Closing)", answered, g.early);
    PVT_EQ_INT(failed, 0);
    /* Closed means unmapped: every grant can be ended. */
    PVT_EQ_INT(rf_release_rings(&g.f), 0);
    PVT_EQ_INT(g.f.p->gntshr->unshare(g.f.gs, g.src.addr, g.src.npages), 0);
    PVT_EQ_INT(g.f.p->gntshr->unshare(g.f.gs, g.dst.addr, g.dst.npages), 0);
    g.src.addr = g.dst.addr = NULL;
    rf_mem_free(&g.f, &g.src);
    rf_mem_free(&g.f, &g.dst);
    rf_set_fe_state(&g.f, XenbusStateClosed);
    rf_fini(&g.f);
    return 0;
}

/* ----------------------------------------------------- the other guest */

/* A full handshake, a NOP and a CRC32C, an orderly close. */
static int guest_quick(void *arg)
{
    struct rawfront f;
    struct rf_mem m;
    vaccel_request_t req;
    vaccel_response_t rsp;
    uint64_t t0 = now_ms();

    (void)arg;
    PVT_EQ_INT(rf_init(&f, 0), 0);
    if (rf_connect(&f, 1, 0)) {
        PVT_CHECK_MSG(false, "another guest connects");
        return 1;
    }
    rf_req_init(&req, VACCEL_OP_NOP, 1);
    PVT_EQ_INT(rf_call(&f, 0, &req, &rsp), 0);
    PVT_EQ_INT(rsp.status, 0);
    PVT_EQ_INT(rf_mem_alloc(&f, 1, false, &m), 0);
    memcpy(m.addr, "123456789", 9);
    PVT_EQ_INT(rf_map_region(&f, 0, SRC_IOVA, &m, false), 0);
    rf_req_init(&req, VACCEL_OP_CRC32C, 2);
    req.u.crc32c.src = (struct vaccel_seg){ SRC_IOVA, 9 };
    PVT_EQ_INT(rf_call(&f, 0, &req, &rsp), 0);
    PVT_EQ_INT(rsp.status, 0);
    PVT_EQ_INT(rsp.value, 0xe3069283);     /* RFC 3720 B.4 */
    printf("# another guest: connected and served in %llu ms\n",
           (unsigned long long)(now_ms() - t0));
    PVT_EQ_INT(rf_disconnect(&f), 0);
    rf_mem_free(&f, &m);
    rf_fini(&f);
    return 0;
}

/* ------------------------------------------------------------- checks */

/* The device of @dom in a stats reply is still being torn down. */
static bool tearing_down(const char *stats, int dom)
{
    char key[64];
    const char *at, *next;

    snprintf(key, sizeof(key), "{\"frontend-id\":%d,", dom);
    at = strstr(stats, key);
    if (!at)
        return false;
    next = strstr(at + 1, "{\"frontend-id\":");
    at = strstr(at, "\"teardown\":true");
    return at && (!next || at < next);
}

struct held {
    struct pvt_sim_domstat dom0;
    unsigned int threads, maps;
};

static void held_now(struct held *h)
{
    PVT_EQ_INT(pvt_sim_domstat(&env.sim, 0, &h->dom0), 0);
    h->threads = rf_env_backend_threads(&env);
    h->maps = rf_env_backend_grant_maps(&env);
}

static void held_same(const struct held *before, const char *what)
{
    struct held now;

    held_now(&now);
    PVT_CHECK_MSG(now.dom0.ports == before->dom0.ports &&
                  now.dom0.grants == before->dom0.grants &&
                  now.threads == before->threads && now.maps == before->maps,
                  "%s: ports %u/%u grants %u/%u threads %u/%u maps %u/%u "
                  "(now/before)", what, now.dom0.ports, before->dom0.ports,
                  now.dom0.grants, before->dom0.grants, now.threads,
                  before->threads, now.maps, before->maps);
}

/*
 * Another domain with a device, made before the slow guest goes: the sim
 * gives a destroyed domain's id to the next domain at once, and that one
 * would get the dying guest's device.
 */
static int quick_domain(void)
{
    int quick = pvt_sim_create_fresh(&env.sim, "quick");

    PVT_EQ_INT(rf_env_attach(&env, quick, 0, NULL), 0);
    return quick;
}

/*
 * While @slow's device is torn down: a guest of domain @quick is served
 * and the stats socket answers, showing the teardown.
 */
static void others_served(int slow, int quick, const char *what)
{
    char stats[16384], path[128];
    uint64_t t0 = now_ms();
    int rc;

    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&env.sim, quick, guest_quick, NULL)), 0);
    rc = rf_env_stats_within(&env, stats, sizeof(stats), STATS_DEADLINE_MS);
    PVT_CHECK_MSG(rc == 0, "%s: stats answered (%d)", what, rc);
    PVT_CHECK_MSG(tearing_down(stats, slow), "%s: the slow guest's device "
                  "is still being torn down meanwhile: %s", what, stats);
    printf("# %s: another guest and the stats served in %llu ms\n", what,
           (unsigned long long)(now_ms() - t0));
    /* Its domain died with its process; it leaves nothing either. */
    snprintf(path, sizeof(path), "/local/domain/0/backend/vaccel/%d/0", quick);
    PVT_EQ_INT(rf_env_wait_gone(&env, path), 0);
}

static void dying_under_load(void)
{
    char path[128], stats[16384];
    struct held before;
    uint32_t v;
    pid_t pid;
    int dom;

    int quick;

    held_now(&before);
    dom = pvt_sim_create_fresh(&env.sim, "dying");
    PVT_EQ_INT(rf_env_attach(&env, dom, 0, NULL), 0);
    quick = quick_domain();
    pid = pvt_sim_spawn(&env.sim, dom, guest_dying, NULL);
    PVT_EQ_INT(pvt_chan_recv(&to_parent, &v), 0);
    PVT_EQ_INT(pvt_sim_destroy(&env.sim, dom), 0);
    pvt_wait(pid);

    others_served(dom, quick, "dying under load");

    snprintf(path, sizeof(path), "/local/domain/0/backend/vaccel/%d/0", dom);
    PVT_EQ_INT(rf_env_wait_gone(&env, path), 0);
    held_same(&before, "dying under load");
    PVT_EQ_INT(rf_env_stats(&env, stats, sizeof(stats)), 0);
    PVT_CHECK_MSG(strstr(stats, "\"devices\":[]") &&
                  strstr(stats, "\"domains\":[]"), "stats: %s", stats);
}

static void closing_under_load(void)
{
    struct held before;
    uint32_t v;
    pid_t pid;
    int dom;

    int quick;

    held_now(&before);
    dom = pvt_sim_create_fresh(&env.sim, "closing");
    PVT_EQ_INT(rf_env_attach(&env, dom, 0, NULL), 0);
    quick = quick_domain();
    pid = pvt_sim_spawn(&env.sim, dom, guest_closing, NULL);
    PVT_EQ_INT(pvt_chan_recv(&to_parent, &v), 0);

    others_served(dom, quick, "closing under load");

    PVT_EQ_INT(pvt_wait(pid), 0);
    held_same(&before, "closing under load");
}

int main(void)
{
    if (rf_env_start(&env, opts)) {
        fprintf(stderr, "cannot start the sim and pvacceld\n");
        return 99;
    }
    pvt_chan_open(&to_parent);
    pvt_chan_open(&to_guest);

    cost_cap();
    dying_under_load();
    closing_under_load();

    PVT_EQ_INT(rf_env_stop_backend(&env), 0);
    rf_env_stop(&env);
    return pvt_done();
}
