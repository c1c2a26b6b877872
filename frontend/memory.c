/* SPDX-License-Identifier: MIT */
/*
 * memory.c: regions (granted pages at an IOVA, MAP_REGION) and the buffer
 * allocator that carves arenas out of them.
 *
 * A region's pages are granted once, when it is allocated, and the grants
 * are kept across reconnections: a new connection maps the same grants at
 * the same IOVA again, so the caller's pointers and IOVAs stay valid.  The
 * page directory is built per registration and its grants end as soon as
 * the backend answered (it maps the directory only during the request).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/internal.h"

#define ARENA_MIN   (4u << 20)  /* arenas are at least 4 MiB */
#define BUF_ALIGN   64u

/*
 * MAP_REGION for @r, on the caller's queue @q or (the monitor) on a ring
 * not yet adopted.  Records the connection it is registered on.
 */
int fe_region_register(struct pva_dev *dev, struct pva_region *r,
                       struct pva_queue *q, struct fe_ring *ring)
{
    uint32_t ndir = fe_pagedir_pages(r->npages);
    pva_gref_t *dir_refs = calloc(ndir, sizeof(*dir_refs));
    vaccel_request_t req = { .op = VACCEL_OP_MAP_REGION };
    uint64_t mapped = 0;
    void *dir;
    int rc;

    if (!dir_refs)
        return -ENOMEM;
    dir = fe_share(dev, ndir, dir_refs, false);
    if (!dir) {
        rc = -errno;
        free(dir_refs);
        return rc;
    }
    fe_pagedir_fill(dir, ndir, dir_refs, r->refs, r->npages);
    req.flags = r->writable ? VACCEL_MAP_F_WRITE : 0;
    req.u.map_region.iova = r->iova;
    req.u.map_region.len = r->len;
    req.u.map_region.gref_dir = dir_refs[0];
    rc = q ? fe_queue_control(q, &req, &mapped)
           : fe_ring_control(dev, ring, &req, &mapped);
    fe_unshare(dev, dir, ndir);
    free(dir_refs);
    if (rc == 0 && mapped != r->npages)
        rc = -EPROTO;
    if (rc == 0)
        r->reg_conn = q ? q->ring->conn : ring->conn;
    return rc;
}

/* Granted zeroed pages for a region, not yet at an IOVA (errno set). */
struct pva_region *fe_region_share(struct pva_dev *dev, size_t len,
                                   bool writable)
{
    struct pva_region *r = calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    r->npages = (uint32_t)((len + VACCEL_PAGE_SIZE - 1) / VACCEL_PAGE_SIZE);
    r->len = (size_t)r->npages * VACCEL_PAGE_SIZE;
    r->writable = writable;
    r->refs = calloc(r->npages, sizeof(*r->refs));
    if (r->refs)
        r->addr = fe_share(dev, r->npages, r->refs, writable);
    if (!r->addr) {
        free(r->refs);
        free(r);
        return NULL;
    }
    return r;
}

static struct pva_region *region_new(struct pva_dev *dev, size_t len,
                                     bool writable)
{
    struct pva_region *r = fe_region_share(dev, len, writable);

    if (!r)
        return NULL;
    pthread_mutex_lock(&dev->lock);
    if (fe_extents_alloc(&dev->iova, r->len, VACCEL_PAGE_SIZE, &r->iova) < 0)
        r->iova = 0;
    pthread_mutex_unlock(&dev->lock);
    if (!r->iova) {
        fe_region_release(dev, r, false);
        errno = ENOSPC;
        return NULL;
    }
    return r;
}

/*
 * End the grants (now, or once the backend has unmapped them) and free.
 * The IOVA range goes back to the allocator only with @free_iova: a blob
 * made from the region (or the region made from a blob) keeps it.
 */
void fe_region_release(struct pva_dev *dev, struct pva_region *r,
                       bool free_iova)
{
    if (free_iova) {
        pthread_mutex_lock(&dev->lock);
        fe_extents_free(&dev->iova, r->iova, r->len);
        pthread_mutex_unlock(&dev->lock);
    }
    fe_unshare(dev, r->addr, r->npages);
    if (r->arena)
        fe_extents_fini(&r->bufs);
    free(r->refs);
    free(r);
}

static void region_destroy(struct pva_dev *dev, struct pva_region *r)
{
    fe_region_release(dev, r, true);
}

void fe_region_list(struct pva_dev *dev, struct pva_region *r)
{
    pthread_mutex_lock(&dev->lock);
    r->next = dev->regions;
    dev->regions = r;
    pthread_mutex_unlock(&dev->lock);
}

static int register_and_list(struct pva_queue *q, void *arg)
{
    struct pva_region *r = arg;
    int rc = fe_region_register(q->dev, r, q, NULL);

    if (rc == 0)
        fe_region_list(q->dev, r);
    return rc;
}

int pva_region_alloc(struct pva_queue *q, size_t len, unsigned int flags,
                     struct pva_region **rp)
{
    struct pva_dev *dev = q->dev;
    struct pva_region *r;
    int rc;

    if (!len)
        return -EINVAL;
    /* Larger regions are refused by the backend (-E2BIG) anyway. */
    r = region_new(dev, len, !(flags & PVA_REGION_RDONLY));
    if (!r)
        return -errno;
    rc = fe_with_connection(q, register_and_list, r);
    if (rc < 0) {
        region_destroy(dev, r);
        return rc;
    }
    *rp = r;
    return 0;
}

void fe_region_unlist(struct pva_dev *dev, struct pva_region *r)
{
    pthread_mutex_lock(&dev->lock);
    for (struct pva_region **pp = &dev->regions; *pp; pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    pthread_mutex_unlock(&dev->lock);
}

static int unregister(struct pva_queue *q, void *arg)
{
    struct pva_region *r = arg;
    vaccel_request_t req = { .op = VACCEL_OP_UNMAP_REGION };
    int rc;

    req.u.unmap_region.iova = r->iova;
    req.u.unmap_region.len = r->len;
    rc = fe_queue_control(q, &req, NULL);
    /* Lost with the connection: the backend has dropped it anyway. */
    if (rc == 0 || rc == -ENOTCONN) {
        fe_region_unlist(q->dev, r);
        return 0;
    }
    return rc;
}

int pva_region_free(struct pva_queue *q, struct pva_region *r)
{
    int rc;

    if (!r)
        return 0;
    rc = fe_with_connection(q, unregister, r);
    if (rc == -ETIMEDOUT || rc == -ESHUTDOWN) {
        /* No backend to ask: it holds nothing of ours once it is gone. */
        fe_region_unlist(q->dev, r);
        rc = 0;
    }
    if (rc < 0)
        return rc;
    region_destroy(q->dev, r);
    return 0;
}

void *pva_region_addr(const struct pva_region *r) { return r->addr; }
uint64_t pva_region_iova(const struct pva_region *r) { return r->iova; }
size_t pva_region_len(const struct pva_region *r) { return r->len; }

/* Close: the backend has unmapped everything (or is gone). */
void fe_regions_free_all(struct pva_dev *dev)
{
    while (dev->regions) {
        struct pva_region *r = dev->regions;

        dev->regions = r->next;
        region_destroy(dev, r);
    }
    if (dev->scratch)
        region_destroy(dev, dev->scratch);
    dev->scratch = NULL;
}

/* The scratch page for keys: a region of its own, outside the list. */
int fe_scratch_init(struct pva_queue *q)
{
    struct pva_dev *dev = q->dev;
    struct pva_region *r = region_new(dev, VACCEL_PAGE_SIZE, false);
    int rc;

    if (!r)
        return -errno;
    rc = fe_region_register(dev, r, q, NULL);
    if (rc < 0) {
        region_destroy(dev, r);
        return rc;
    }
    dev->scratch = r;
    return 0;
}

static bool arena_alloc(struct pva_dev *dev, size_t len, struct pva_buf *buf)
{
    for (struct pva_region *r = dev->regions; r; r = r->next) {
        uint64_t off;

        if (!r->arena || fe_extents_alloc(&r->bufs, len, BUF_ALIGN, &off) < 0)
            continue;
        buf->addr = (char *)r->addr + off;
        buf->iova = r->iova + off;
        buf->region = r;
        return true;
    }
    return false;
}

int pva_buf_alloc(struct pva_queue *q, size_t len, struct pva_buf *buf)
{
    struct pva_dev *dev = q->dev;
    size_t want = (len + BUF_ALIGN - 1) & ~(size_t)(BUF_ALIGN - 1);
    struct pva_region *r;
    bool ok;
    int rc;

    if (!len || want < len)
        return -EINVAL;
    buf->len = len;
    pthread_mutex_lock(&dev->lock);
    ok = arena_alloc(dev, want, buf);
    pthread_mutex_unlock(&dev->lock);
    if (ok)
        return 0;
    rc = pva_region_alloc(q, want > ARENA_MIN ? want : ARENA_MIN, 0, &r);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&dev->lock);
    rc = fe_extents_init(&r->bufs, 0, r->len);
    if (rc == 0)
        r->arena = true;
    ok = rc == 0 && arena_alloc(dev, want, buf);
    pthread_mutex_unlock(&dev->lock);
    return ok ? 0 : -ENOMEM;
}

void pva_buf_free(struct pva_dev *dev, struct pva_buf *buf)
{
    size_t want = (buf->len + BUF_ALIGN - 1) & ~(size_t)(BUF_ALIGN - 1);

    if (!buf->region)
        return;
    pthread_mutex_lock(&dev->lock);
    fe_extents_free(&buf->region->bufs, buf->iova - buf->region->iova, want);
    pthread_mutex_unlock(&dev->lock);
    buf->region = NULL;
    buf->addr = NULL;
}
