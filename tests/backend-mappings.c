/* SPDX-License-Identifier: MIT */
/*
 * backend-mappings: what the list of grants of a region may cost the
 * backend (issue 17).
 *
 * A hostile guest lists one granted page thousands of times in a region,
 * and lists distinct pages out of the order it granted them (reversed, in
 * strides).  On the sim each out-of-order page costs pvacceld one mapping
 * (a VMA); left alone, both drive the daemon to vm.max_map_count, and
 * then every other guest fails.  A grant listed twice in one region is
 * refused with -XEN_EINVAL and the index of the repeat; mappings are
 * charged to max-mappings and domain-max-mappings and refused with
 * -XEN_ENOMEM and a quota record long before the kernel's limit, while
 * a region of exactly the limit maps.  No refusal leaves anything mapped
 * (the guest can end every grant), and another domain connects, maps and
 * is served while the hostile one holds its whole quota.
 *
 * pvacceld runs with its default settings: max-mappings and
 * domain-max-mappings are 4096 (docs/admin.md).  Device 1 of the hostile
 * domain is lowered to 16 by its params node.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/rawfront.h"

#define DEFAULT_MAPPINGS 4096   /* max-mappings, domain-max-mappings */
#define DEV1_MAPPINGS 16        /* hostile device 1's params */
#define DUP_PAGES 8192          /* max-region-pages */

static struct rf_env env;

struct sync {
    struct pvt_chan full;       /* hostile -> main: the quota is used up */
    struct pvt_chan go;         /* main -> hostile: finish */
};

/* One queue; false (the guest gives up) if the handshake fails. */
static bool connect_dev(struct rawfront *f, unsigned int devid)
{
    int rc = rf_init(f, devid);

    PVT_EQ_INT(rc, 0);
    if (!rc)
        PVT_EQ_INT(rf_connect(f, 1, 0), 0);
    return !rc && f->connected;
}

static int32_t nop(struct rawfront *f)
{
    vaccel_request_t req;

    rf_req_init(&req, VACCEL_OP_NOP, 1);
    return rf_call_status(f, &req, NULL);
}

/* MAP_REGION of @n grants listed in the order of @grefs. */
static int32_t map_list(struct rawfront *f, uint64_t iova,
                        const pva_gref_t *grefs, uint32_t n,
                        vaccel_response_t *rsp)
{
    vaccel_request_t req;
    struct rf_mem dir;
    int32_t st;

    if (rf_dir_build(f, grefs, n, &dir))
        return -9998;
    rf_req_init(&req, VACCEL_OP_MAP_REGION, 0x3a9);
    req.flags = VACCEL_MAP_F_WRITE;
    req.u.map_region.iova = iova;
    req.u.map_region.len = (uint64_t)n * VACCEL_PAGE_SIZE;
    req.u.map_region.gref_dir = dir.refs[0];
    st = rf_call_status(f, &req, rsp);
    rf_mem_free(f, &dir);
    return st;
}

/*
 * Map all of @m with its pages in the order i -> (i * @stride) % n, the
 * order they were granted in if @stride is 1, reversed if it is 0.  Any
 * other stride must be prime to n, so each page is listed once.
 */
static int32_t map_order(struct rawfront *f, uint64_t iova,
                         const struct rf_mem *m, uint32_t stride)
{
    pva_gref_t *grefs = calloc(m->npages, sizeof(*grefs));
    uint32_t n = m->npages;
    int32_t st;

    if (!grefs)
        return -9997;
    for (uint32_t i = 0; i < n; i++)
        grefs[i] = m->refs[stride ? (uint32_t)((uint64_t)i * stride % n)
                                  : n - 1 - i];
    st = map_list(f, iova, grefs, n, NULL);
    free(grefs);
    return st;
}

/* The next record of @type, skipping others. */
static bool next_evt(struct rawfront *f, uint16_t type, struct vaccel_evt *e)
{
    while (rf_evt(f, e, RF_TIMEOUT_MS))
        if (e->type == type)
            return true;
    return false;
}

static void expect_mappings_quota(struct rawfront *f, uint64_t limit)
{
    struct vaccel_evt e;

    PVT_CHECK(next_evt(f, VACCEL_EVT_QUOTA, &e));
    PVT_EQ_INT(e.u.quota.quota, VACCEL_QUOTA_MAPPINGS);
    PVT_EQ_INT(e.u.quota.status, -XEN_ENOMEM);
    PVT_EQ_INT(e.u.quota.limit, limit);
}

/* End the grants of @m: the sim refuses while the backend maps a page. */
static void end_grants(struct rawfront *f, struct rf_mem *m)
{
    PVT_EQ_INT(f->p->gntshr->unshare(f->gs, m->addr, m->npages), 0);
    m->addr = NULL;
    rf_mem_free(f, m);
}

static int32_t blob_create(struct rawfront *f, uint64_t iova, uint32_t pages,
                           uint32_t *id)
{
    vaccel_request_t req;
    vaccel_response_t rsp;
    int32_t st;

    rf_req_init(&req, VACCEL_OP_BLOB_CREATE, 0xb1);
    req.u.blob_create.iova = iova;
    req.u.blob_create.len = (uint64_t)pages * VACCEL_PAGE_SIZE;
    st = rf_call_status(f, &req, &rsp);
    *id = (uint32_t)rsp.value;
    return st;
}

static int32_t blob_destroy(struct rawfront *f, uint32_t id)
{
    vaccel_request_t req;

    rf_req_init(&req, VACCEL_OP_BLOB_DESTROY, 0xb2);
    req.handle = id;
    return rf_call_status(f, &req, NULL);
}

/* BLOB_READBACK of blob @id into @n grants listed as @grefs. */
static int32_t blob_readback(struct rawfront *f, uint32_t id,
                             const pva_gref_t *grefs, uint32_t n,
                             vaccel_response_t *rsp)
{
    vaccel_request_t req;
    struct rf_mem dir;
    int32_t st;

    if (rf_dir_build(f, grefs, n, &dir))
        return -9998;
    rf_req_init(&req, VACCEL_OP_BLOB_READBACK, 0xb4);
    req.handle = id;
    req.u.blob_readback.gref_dir = dir.refs[0];
    st = rf_call_status(f, &req, rsp);
    rf_mem_free(f, &dir);
    return st;
}

/* CRC32C of "123456789" at @iova, which the caller wrote there. */
static void crc_check(struct rawfront *f, uint64_t iova)
{
    vaccel_request_t req;
    vaccel_response_t rsp;

    rf_req_init(&req, VACCEL_OP_CRC32C, 0xc);
    req.u.crc32c.src = (struct vaccel_seg){ iova, 9 };
    PVT_EQ_INT(rf_call_status(f, &req, &rsp), 0);
    PVT_EQ_INT(rsp.value, VACCEL_CRC32C_CHECK);
}

/*
 * Rule: each grant once per region.  The attack first: one page
 * listed max-region-pages times, over seven regions.
 */
static void duplicates(struct rawfront *f)
{
    const uint32_t n = VACCEL_DIR_GREFS_PER_PAGE + 77;  /* two dir pages */
    struct rf_mem one, d;
    vaccel_response_t rsp;
    pva_gref_t *grefs = calloc(DUP_PAGES, sizeof(*grefs));
    uint32_t blob;

    PVT_CHECK(grefs != NULL);
    if (!grefs)
        return;
    PVT_EQ_INT(rf_mem_alloc(f, 1, true, &one), 0);
    PVT_EQ_INT(rf_mem_alloc(f, n, true, &d), 0);
    for (uint32_t i = 0; i < DUP_PAGES; i++)
        grefs[i] = one.refs[0];
    for (uint64_t r = 1; r <= 7; r++) {
        memset(&rsp, 0xa5, sizeof(rsp));
        PVT_EQ_INT(map_list(f, r << 28, grefs, DUP_PAGES, &rsp), -XEN_EINVAL);
        PVT_EQ_INT(rsp.value, 1);
    }

    /* Distinct pages but one, repeated on the second directory page. */
    memcpy(grefs, d.refs, n * sizeof(*grefs));
    grefs[n - 2] = d.refs[3];
    PVT_EQ_INT(map_list(f, 1ull << 28, grefs, n, &rsp), -XEN_EINVAL);
    PVT_EQ_INT(rsp.value, n - 2);
    /* The first repeat counts, not the first page repeated. */
    grefs[700] = d.refs[900];
    PVT_EQ_INT(map_list(f, 1ull << 28, grefs, n, &rsp), -XEN_EINVAL);
    PVT_EQ_INT(rsp.value, 900);
    /* Side by side. */
    memcpy(grefs, d.refs, n * sizeof(*grefs));
    grefs[1] = d.refs[0];
    PVT_EQ_INT(map_list(f, 1ull << 28, grefs, n, &rsp), -XEN_EINVAL);
    PVT_EQ_INT(rsp.value, 1);
    /* Other directory errors say no index. */
    grefs[1] = 0;
    PVT_EQ_INT(map_list(f, 1ull << 28, grefs, n, &rsp), -XEN_EINVAL);
    PVT_EQ_INT(rsp.value, 0);
    /* Each page once: it maps. */
    grefs[1] = d.refs[1];
    PVT_EQ_INT(map_list(f, 1ull << 28, grefs, n, &rsp), 0);
    PVT_EQ_INT(rsp.value, n);
    PVT_EQ_INT(rf_unmap_region(f, 0, 1ull << 28, (uint64_t)n * 4096), 0);

    /* BLOB_READBACK reads its directory by the same rule. */
    PVT_EQ_INT(blob_create(f, 1ull << 32, 2, &blob), 0);
    PVT_EQ_INT(blob_readback(f, blob, grefs, 2, &rsp), 0);
    grefs[1] = d.refs[0];
    PVT_EQ_INT(blob_readback(f, blob, grefs, 2, &rsp), -XEN_EINVAL);
    PVT_EQ_INT(rsp.value, 1);
    PVT_EQ_INT(blob_destroy(f, blob), 0);

    /* None of it stayed mapped; the queue still serves. */
    end_grants(f, &one);
    end_grants(f, &d);
    PVT_EQ_INT(nop(f), 0);
    free(grefs);
}

/* Device 1, max-mappings 16: the legal extreme and one past it. */
static void device_limit(struct rawfront *f, struct rf_mem *kept)
{
    struct rf_mem r16, r17, one;

    PVT_EQ_INT(rf_be_long(f, VACCEL_FIELD_MAX_MAPPINGS), DEV1_MAPPINGS);
    PVT_EQ_INT(rf_mem_alloc(f, DEV1_MAPPINGS, true, &r16), 0);
    PVT_EQ_INT(rf_mem_alloc(f, DEV1_MAPPINGS + 1, true, &r17), 0);
    PVT_EQ_INT(rf_mem_alloc(f, 1, true, &one), 0);
    /* Reversed, each page is a mapping of its own: exactly the limit. */
    PVT_EQ_INT(map_order(f, 1ull << 28, &r16, 0), 0);
    PVT_EQ_INT(map_order(f, 2ull << 28, &one, 1), -XEN_ENOMEM);
    expect_mappings_quota(f, DEV1_MAPPINGS);
    PVT_EQ_INT(rf_unmap_region(f, 0, 1ull << 28, DEV1_MAPPINGS * 4096), 0);
    PVT_EQ_INT(map_order(f, 1ull << 28, &r17, 0), -XEN_ENOMEM);
    /* In the order they were granted, 1000 pages are one mapping. */
    PVT_EQ_INT(rf_mem_alloc(f, 1000, true, kept), 0);
    PVT_EQ_INT(map_order(f, 3ull << 28, kept, 1), 0);
    PVT_EQ_INT(map_order(f, 1ull << 28, &r16, 0), -XEN_ENOMEM);
    PVT_EQ_INT(map_order(f, 1ull << 28, &r16, 7), -XEN_ENOMEM);
    PVT_EQ_INT(nop(f), 0);
    end_grants(f, &r16);
    end_grants(f, &r17);
    end_grants(f, &one);
}

/*
 * Device 0, default limits, with device 1 holding one mapping: distinct
 * pages in stride and reverse order until the domain's quota is used up,
 * to the last mapping.
 */
static void domain_quota(struct rawfront *f, struct rf_mem s[4],
                         struct rf_mem *last)
{
    struct rf_mem one;

    PVT_EQ_INT(rf_be_long(f, VACCEL_FIELD_MAX_MAPPINGS), DEFAULT_MAPPINGS);
    for (int i = 0; i < 4; i++)
        PVT_EQ_INT(rf_mem_alloc(f, 1024, true, &s[i]), 0);
    PVT_EQ_INT(rf_mem_alloc(f, 1023, true, last), 0);
    PVT_EQ_INT(rf_mem_alloc(f, 1, true, &one), 0);
    memcpy(s[0].addr, "123456789", 9);
    for (uint64_t i = 0; i < 3; i++)
        PVT_EQ_INT(map_order(f, (i + 1) << 28, &s[i], 7), 0);
    /* 1 + 3072 + 1024 > 4096. */
    PVT_EQ_INT(map_order(f, 4ull << 28, &s[3], 7), -XEN_ENOMEM);
    expect_mappings_quota(f, DEFAULT_MAPPINGS);
    PVT_EQ_INT(map_order(f, 4ull << 28, &s[3], 0), -XEN_ENOMEM);
    /* 1 + 3072 + 1023: all of it. */
    PVT_EQ_INT(map_order(f, 4ull << 28, last, 0), 0);
    PVT_EQ_INT(map_order(f, 5ull << 28, &one, 1), -XEN_ENOMEM);
    crc_check(f, 1ull << 28);   /* page 0 of s[0] comes first at stride 7 */
    end_grants(f, &s[3]);
    end_grants(f, &one);
}

static int hostile_guest(void *arg)
{
    struct sync *sy = arg;
    struct rf_mem kept, s[4], last;
    struct rawfront f, g;
    uint32_t v;

    close(sy->full.rd);
    close(sy->go.wr);
    if (!connect_dev(&f, 0) || !connect_dev(&g, 1))
        return 1;

    duplicates(&f);
    device_limit(&g, &kept);
    domain_quota(&f, s, &last);

    /* Hold the whole quota while another domain is served. */
    PVT_EQ_INT(pvt_chan_send(&sy->full, 1), 0);
    PVT_EQ_INT(pvt_chan_recv(&sy->go, &v), 0);
    PVT_EQ_INT(nop(&f), 0);
    for (uint64_t i = 0; i < 4; i++)
        PVT_EQ_INT(rf_unmap_region(&f, 0, (i + 1) << 28,
                                   (i < 3 ? 1024 : 1023) * 4096ull), 0);
    PVT_EQ_INT(rf_unmap_region(&g, 0, 3ull << 28, 1000 * 4096ull), 0);
    for (int i = 0; i < 3; i++)
        end_grants(&f, &s[i]);
    end_grants(&f, &last);
    end_grants(&g, &kept);
    rf_fini(&g);
    rf_fini(&f);
    return 0;
}

/* Another domain: its own quota, whatever the hostile one holds. */
static int good_guest(void *arg)
{
    struct rawfront f;
    struct rf_mem m, r;

    (void)arg;
    if (!connect_dev(&f, 0))
        return 1;
    PVT_EQ_INT(rf_mem_alloc(&f, 256, true, &m), 0);
    PVT_EQ_INT(rf_mem_alloc(&f, 64, true, &r), 0);
    memcpy(m.addr, "123456789", 9);
    PVT_EQ_INT(map_order(&f, 1ull << 28, &m, 1), 0);
    PVT_EQ_INT(map_order(&f, 2ull << 28, &r, 0), 0);
    crc_check(&f, 1ull << 28);
    memcpy((char *)r.addr + 63 * 4096, "123456789", 9);
    crc_check(&f, 2ull << 28);   /* reversed: the last page comes first */
    PVT_EQ_INT(rf_unmap_region(&f, 0, 1ull << 28, 256 * 4096), 0);
    PVT_EQ_INT(rf_unmap_region(&f, 0, 2ull << 28, 64 * 4096), 0);
    end_grants(&f, &m);
    end_grants(&f, &r);
    rf_fini(&f);
    return 0;
}

/* pvacceld's VMAs, or -1 if its maps cannot be read here. */
static long daemon_vmas(void)
{
    char path[64], line[512];
    long n = 0;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/maps", (int)env.backend);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        n += strchr(line, '\n') != NULL;
    fclose(f);
    return n;
}

/* The usage of domain @domid in the stats reply, or -1. */
static long long domain_usage(const char *stats, int domid, const char *key)
{
    char pat[32];
    const char *at;

    snprintf(pat, sizeof(pat), "{\"domid\":%d,", domid);
    at = strstr(stats, pat);
    return at ? rf_json_num(at, key) : -1;
}

/*
 * While the hostile domain holds its whole quota: the charge is what the
 * daemon really maps, and bounds it.
 */
static void check_held(long vmas_before, int bad)
{
    char stats[16384];
    long vmas = daemon_vmas();

    PVT_EQ_INT(rf_env_stats(&env, stats, sizeof(stats)), 0);
    PVT_EQ_INT(domain_usage(stats, bad, "mappings"), DEFAULT_MAPPINGS);
    if (vmas < 0 || vmas_before < 0) {
        printf("# cannot read pvacceld's maps: VMAs not counted\n");
        return;
    }
    printf("# pvacceld VMAs: %ld before the guests, %ld with a domain at "
           "its quota\n", vmas_before, vmas);
    PVT_CHECK(vmas - vmas_before >= DEFAULT_MAPPINGS);
    PVT_CHECK(vmas - vmas_before < DEFAULT_MAPPINGS + 1024);
}

int main(void)
{
    char stats[16384];
    struct sync sy;
    pid_t hostile;
    uint32_t v = 0;
    long vmas;
    int bad, good;

    signal(SIGPIPE, SIG_IGN);   /* a guest that died: fail, do not die */
    if (rf_env_start(&env, NULL)) {
        fprintf(stderr, "cannot start the sim and pvacceld\n");
        return 99;
    }
    bad = pvt_sim_create(&env.sim, "hostile");
    good = pvt_sim_create(&env.sim, "good");
    PVT_EQ_INT(rf_env_attach(&env, bad, 0, NULL), 0);
    PVT_EQ_INT(rf_env_attach(&env, bad, 1, "max-mappings=16"), 0);
    PVT_EQ_INT(rf_env_attach(&env, good, 0, NULL), 0);
    PVT_EQ_INT(pvt_chan_open(&sy.full), 0);
    PVT_EQ_INT(pvt_chan_open(&sy.go), 0);
    vmas = daemon_vmas();

    hostile = pvt_sim_spawn(&env.sim, bad, hostile_guest, &sy);
    close(sy.full.wr);          /* a hostile guest that dies ends the wait */
    close(sy.go.rd);
    PVT_EQ_INT(pvt_chan_recv(&sy.full, &v), 0);
    PVT_EQ_INT(v, 1);
    check_held(vmas, bad);
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&env.sim, good, good_guest, NULL)), 0);
    PVT_EQ_INT(pvt_chan_send(&sy.go, 1), 0);
    PVT_EQ_INT(pvt_wait(hostile), 0);
    /* The daemon survived all of it, answers, and nothing is charged. */
    PVT_EQ_INT(rf_env_stats(&env, stats, sizeof(stats)), 0);
    PVT_CHECK(strstr(stats, "\"engine\":\"cpu\"") != NULL);
    for (const char *at = stats; (at = strstr(at, "\"mappings\":")); at++)
        PVT_CHECK_MSG(rf_json_num(at, "mappings") == 0, "%s", stats);
    close(sy.full.rd);
    close(sy.go.wr);
    PVT_EQ_INT(rf_env_stop_backend(&env), 0);
    rf_env_stop(&env);
    return pvt_done();
}
