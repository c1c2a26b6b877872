/* SPDX-License-Identifier: MIT */
/*
 * quota.c: limits per device and quotas per frontend domain.
 *
 * A resource (regions, mapped pages, the platform's mappings of them,
 * sessions, requests in flight, blobs, blob pages) is taken from both the
 * device's budget and its domain's, or from neither,
 * so a refusal changes nothing.  Counters are atomic: queue threads of
 * several devices of one domain take from the same domain budget.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "backend/pvacceld.h"

static const int32_t res_status[PVAD_RES_NR] = {
    [PVAD_RES_REGIONS] = -XEN_EMFILE,
    [PVAD_RES_MAPPED_PAGES] = -XEN_ENOMEM,
    [PVAD_RES_SESSIONS] = -XEN_EMFILE,
    [PVAD_RES_IN_FLIGHT] = -XEN_EBUSY,
    [PVAD_RES_BLOBS] = -XEN_EMFILE,
    [PVAD_RES_BLOB_PAGES] = -XEN_ENOMEM,
    [PVAD_RES_MAPPINGS] = -XEN_ENOMEM,
};

uint32_t pvad_res_quota_code(enum pvad_res res)
{
    static const uint32_t code[PVAD_RES_NR] = {
        [PVAD_RES_REGIONS] = VACCEL_QUOTA_REGIONS,
        [PVAD_RES_MAPPED_PAGES] = VACCEL_QUOTA_MAPPED_PAGES,
        [PVAD_RES_SESSIONS] = VACCEL_QUOTA_SESSIONS,
        [PVAD_RES_IN_FLIGHT] = VACCEL_QUOTA_IN_FLIGHT,
        [PVAD_RES_BLOBS] = VACCEL_QUOTA_BLOBS,
        [PVAD_RES_BLOB_PAGES] = VACCEL_QUOTA_BLOB_PAGES,
        [PVAD_RES_MAPPINGS] = VACCEL_QUOTA_MAPPINGS,
    };

    return code[res];
}

void pvad_usage_init(struct pvad_usage *u, const struct pvad_limits *lim)
{
    for (int r = 0; r < PVAD_RES_NR; r++)
        atomic_init(&u->used[r], 0);
    u->limit[PVAD_RES_REGIONS] = lim->max_regions;
    u->limit[PVAD_RES_MAPPED_PAGES] = lim->max_mapped_pages;
    u->limit[PVAD_RES_SESSIONS] = lim->max_sessions;
    u->limit[PVAD_RES_IN_FLIGHT] = lim->max_in_flight;
    u->limit[PVAD_RES_BLOBS] = lim->max_blobs;
    u->limit[PVAD_RES_BLOB_PAGES] = lim->max_blob_pages;
    u->limit[PVAD_RES_MAPPINGS] = lim->max_mappings;
}

static bool take_one(struct pvad_usage *u, enum pvad_res res, uint64_t n)
{
    uint64_t old = atomic_load_explicit(&u->used[res], memory_order_relaxed);

    do {
        if (n > u->limit[res] || old > u->limit[res] - n)
            return false;
    } while (!atomic_compare_exchange_weak_explicit(
                 &u->used[res], &old, old + n, memory_order_relaxed,
                 memory_order_relaxed));
    return true;
}

static void give_one(struct pvad_usage *u, enum pvad_res res, uint64_t n)
{
    atomic_fetch_sub_explicit(&u->used[res], n, memory_order_relaxed);
}

int pvad_usage_take(struct pvad_usage *dev, struct pvad_usage *dom,
                    enum pvad_res res, uint64_t n, uint64_t *limit)
{
    if (!take_one(dev, res, n)) {
        *limit = dev->limit[res];
        return res_status[res];
    }
    if (!take_one(dom, res, n)) {
        give_one(dev, res, n);
        *limit = dom->limit[res];
        return res_status[res];
    }
    return 0;
}

void pvad_usage_give(struct pvad_usage *dev, struct pvad_usage *dom,
                     enum pvad_res res, uint64_t n)
{
    give_one(dev, res, n);
    give_one(dom, res, n);
}

void pvad_quota_init(struct pvad_quota *q, const uint64_t limit[PVAD_RES_NR])
{
    pthread_mutex_init(&q->lock, NULL);
    for (int r = 0; r < PVAD_RES_NR; r++)
        q->limit[r] = limit[r];
    q->domains = NULL;
}

void pvad_quota_fini(struct pvad_quota *q)
{
    while (q->domains) {
        struct pvad_domain *dom = q->domains;

        q->domains = dom->next;
        free(dom);
    }
    pthread_mutex_destroy(&q->lock);
}

/* The domain's accounting, shared by all its devices. */
struct pvad_domain *pvad_quota_domain_get(struct pvad_quota *q, uint16_t domid)
{
    struct pvad_domain *dom;

    pthread_mutex_lock(&q->lock);
    for (dom = q->domains; dom; dom = dom->next)
        if (dom->domid == domid)
            break;
    if (!dom) {
        dom = calloc(1, sizeof(*dom));
        if (dom) {
            dom->domid = domid;
            for (int r = 0; r < PVAD_RES_NR; r++) {
                atomic_init(&dom->usage.used[r], 0);
                dom->usage.limit[r] = q->limit[r];
            }
            dom->next = q->domains;
            q->domains = dom;
        }
    }
    if (dom)
        dom->refs++;
    pthread_mutex_unlock(&q->lock);
    return dom;
}

void pvad_quota_domain_put(struct pvad_quota *q, struct pvad_domain *dom)
{
    struct pvad_domain **link;

    if (!dom)
        return;
    pthread_mutex_lock(&q->lock);
    if (--dom->refs == 0) {
        for (link = &q->domains; *link != dom; link = &(*link)->next)
            ;
        *link = dom->next;
        free(dom);
    }
    pthread_mutex_unlock(&q->lock);
}
