/* SPDX-License-Identifier: MIT */
/*
 * blob.c: backend blobs (feature-blobs): memory the backend owns, placed
 * in the device's I/O address space.
 *
 * The library chooses a blob's IOVA from the same allocator as regions'.
 * A blob made from a region (BLOB_MIGRATE) takes over the region's IOVA
 * range, and a region made from a blob (BLOB_READBACK with REMAP) the
 * blob's, so IOVAs the caller holds stay valid across both.
 *
 * Blobs belong to one connection (accelif.h "Reconnect and recovery"):
 * unlike regions and sessions they cannot be re-created on a new one,
 * because their contents live only in the backend.  A blob of a lost
 * connection stays a "lost" object (-ESTALE for everything but destroy),
 * and keeps its IOVA range reserved, so that a request with a stale IOVA
 * faults instead of reaching memory allocated since.  Callers that must
 * keep blob contents read them back before a planned disconnect.
 *
 * Like the region calls, these run under the device's control lock on a
 * live connection (fe_with_connection); the dirty bitmap of a migration
 * travels in the device's scratch page, which that lock also guards.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/internal.h"

static bool blobs_offered(const struct pva_dev *dev)
{
    return dev->caps.blobs;
}

static void blob_list(struct pva_dev *dev, struct pva_blob *b)
{
    pthread_mutex_lock(&dev->lock);
    b->next = dev->blobs;
    dev->blobs = b;
    pthread_mutex_unlock(&dev->lock);
}

static void blob_unlist(struct pva_dev *dev, struct pva_blob *b)
{
    pthread_mutex_lock(&dev->lock);
    for (struct pva_blob **pp = &dev->blobs; *pp; pp = &(*pp)->next)
        if (*pp == b) {
            *pp = b->next;
            break;
        }
    pthread_mutex_unlock(&dev->lock);
}

/* Free the object and, with @free_iova, its IOVA range. */
static void blob_release(struct pva_dev *dev, struct pva_blob *b,
                         bool free_iova)
{
    if (free_iova) {
        pthread_mutex_lock(&dev->lock);
        fe_extents_free(&dev->iova, b->iova, b->len);
        pthread_mutex_unlock(&dev->lock);
    }
    free(b);
}

/* Was @b made on the connection @q now runs on? */
static bool blob_current(const struct pva_queue *q, const struct pva_blob *b)
{
    return b->conn == q->ring->conn;
}

static int blob_reply_id(uint64_t value, uint32_t *id)
{
    if (!value || value > UINT32_MAX)
        return -EPROTO;
    *id = (uint32_t)value;
    return 0;
}

/* -------------------------------------------------------------- create */

static int create_locked(struct pva_queue *q, void *arg)
{
    struct pva_blob *b = arg;
    vaccel_request_t req = { .op = VACCEL_OP_BLOB_CREATE };
    uint64_t value = 0;
    int rc;

    req.u.blob_create.iova = b->iova;
    req.u.blob_create.len = b->len;
    rc = fe_queue_control(q, &req, &value);
    if (rc == 0)
        rc = blob_reply_id(value, &b->id);
    if (rc == 0) {
        b->conn = q->ring->conn;
        blob_list(q->dev, b);
    }
    return rc;
}

int pva_blob_create(struct pva_queue *q, size_t len, struct pva_blob **bp)
{
    struct pva_dev *dev = q->dev;
    struct pva_blob *b;
    int rc;

    if (!blobs_offered(dev))
        return -EOPNOTSUPP;
    if (!len || len > SIZE_MAX - VACCEL_PAGE_SIZE)
        return -EINVAL;
    b = calloc(1, sizeof(*b));
    if (!b)
        return -ENOMEM;
    b->dev = dev;
    b->len = (len + VACCEL_PAGE_SIZE - 1) & ~(size_t)(VACCEL_PAGE_SIZE - 1);
    pthread_mutex_lock(&dev->lock);
    rc = fe_extents_alloc(&dev->iova, b->len, VACCEL_PAGE_SIZE, &b->iova);
    pthread_mutex_unlock(&dev->lock);
    if (rc < 0) {
        free(b);
        return -ENOSPC;
    }
    rc = fe_with_connection(q, create_locked, b);
    if (rc < 0) {
        blob_release(dev, b, true);
        return rc;
    }
    *bp = b;
    return 0;
}

/* ------------------------------------------------------------- destroy */

static int destroy_locked(struct pva_queue *q, void *arg)
{
    struct pva_blob *b = arg;
    vaccel_request_t req = { .op = VACCEL_OP_BLOB_DESTROY };
    int rc = 0;

    if (blob_current(q, b)) {
        req.handle = b->id;
        rc = fe_queue_control(q, &req, NULL);
    }
    /* Lost with a connection: the backend has freed it already. */
    if (rc == 0 || rc == -ENOTCONN) {
        blob_unlist(q->dev, b);
        return 0;
    }
    return rc;
}

int pva_blob_destroy(struct pva_queue *q, struct pva_blob *b)
{
    int rc;

    if (!b)
        return 0;
    rc = fe_with_connection(q, destroy_locked, b);
    if (rc == -ETIMEDOUT || rc == -ESHUTDOWN) {
        /* No backend to ask: it holds nothing of ours once it is gone. */
        blob_unlist(q->dev, b);
        rc = 0;
    }
    if (rc < 0)
        return rc;
    blob_release(q->dev, b, true);
    return 0;
}

/* ------------------------------------------------------------- migrate */

struct migrate_args {
    struct pva_region *r;
    const uint8_t *dirty;            /* NULL: every page */
    struct pva_blob *b;
};

static int migrate_locked(struct pva_queue *q, void *arg)
{
    struct migrate_args *a = arg;
    struct pva_dev *dev = q->dev;
    size_t bm_len = ((size_t)a->r->npages + 7) / 8;
    vaccel_request_t req = { .op = VACCEL_OP_BLOB_MIGRATE };
    uint64_t value = 0;
    int rc;

    /* Bits beyond the last page are ignored by the backend. */
    if (a->dirty)
        memcpy(dev->scratch->addr, a->dirty, bm_len);
    else
        memset(dev->scratch->addr, 0xff, bm_len);
    req.u.blob_migrate.iova = a->r->iova;
    req.u.blob_migrate.len = a->r->len;
    req.u.blob_migrate.bitmap_iova = dev->scratch->iova;
    rc = fe_queue_control(q, &req, &value);
    memset(dev->scratch->addr, 0, bm_len);
    if (rc == 0)
        rc = blob_reply_id(value, &a->b->id);
    if (rc == 0) {
        /* Under ctl_lock: a reconnection cannot re-register it meanwhile. */
        fe_region_unlist(dev, a->r);
        a->b->conn = q->ring->conn;
        blob_list(dev, a->b);
    }
    return rc;
}

int pva_blob_migrate(struct pva_queue *q, struct pva_region *r,
                     const void *dirty, struct pva_blob **bp)
{
    struct pva_dev *dev = q->dev;
    struct migrate_args a = { .r = r, .dirty = dirty };
    int rc;

    if (!blobs_offered(dev))
        return -EOPNOTSUPP;
    /* Buffers live in arenas: they cannot move under their owners. */
    if (!r || r->arena)
        return -EINVAL;
    /* The bitmap travels in the scratch page: 32768 pages (128 MiB). */
    if (((size_t)r->npages + 7) / 8 > VACCEL_PAGE_SIZE)
        return -E2BIG;
    a.b = calloc(1, sizeof(*a.b));
    if (!a.b)
        return -ENOMEM;
    *a.b = (struct pva_blob){ .dev = dev, .iova = r->iova, .len = r->len };
    rc = fe_with_connection(q, migrate_locked, &a);
    if (rc < 0) {
        free(a.b);
        return rc;
    }
    /* The backend unmapped the grants before answering: end them now. */
    fe_region_release(dev, r, false);
    *bp = a.b;
    return 0;
}

/* ------------------------------------------------------------ readback */

struct readback_args {
    struct pva_blob *b;
    struct pva_region *dst;          /* grants to copy into */
    bool remap;
};

/* BLOB_READBACK into the first blob-length pages of @a->dst. */
static int readback_locked(struct pva_queue *q, void *arg)
{
    struct readback_args *a = arg;
    struct pva_dev *dev = q->dev;
    uint32_t npages = (uint32_t)(a->b->len / VACCEL_PAGE_SIZE);
    uint32_t ndir = fe_pagedir_pages(npages);
    vaccel_request_t req = { .op = VACCEL_OP_BLOB_READBACK };
    pva_gref_t *dir_refs;
    void *dir;
    int rc;

    if (!blob_current(q, a->b))
        return -ESTALE;
    dir_refs = calloc(ndir, sizeof(*dir_refs));
    if (!dir_refs)
        return -ENOMEM;
    dir = fe_share(dev, ndir, dir_refs, false);
    if (!dir) {
        rc = -errno;
        free(dir_refs);
        return rc;
    }
    fe_pagedir_fill(dir, ndir, dir_refs, a->dst->refs, npages);
    req.flags = a->remap ? VACCEL_READBACK_F_REMAP : 0;
    req.handle = a->b->id;
    req.u.blob_readback.gref_dir = dir_refs[0];
    rc = fe_queue_control(q, &req, NULL);
    fe_unshare(dev, dir, ndir);
    free(dir_refs);
    if (rc == 0 && a->remap) {
        a->dst->reg_conn = q->ring->conn;
        fe_region_list(dev, a->dst);
        blob_unlist(dev, a->b);
    }
    return rc;
}

int pva_blob_readback(struct pva_queue *q, struct pva_blob *b,
                      struct pva_region *dst)
{
    struct readback_args a = { .b = b, .dst = dst };

    if (!b || !dst || !dst->writable || dst->len < b->len)
        return -EINVAL;
    return fe_with_connection(q, readback_locked, &a);
}

int pva_blob_to_region(struct pva_queue *q, struct pva_blob *b,
                       struct pva_region **rp)
{
    struct pva_dev *dev = q->dev;
    struct readback_args a = { .b = b, .remap = true };
    int rc;

    if (!b)
        return -EINVAL;
    a.dst = fe_region_share(dev, b->len, true);
    if (!a.dst)
        return -errno;
    a.dst->iova = b->iova;
    rc = fe_with_connection(q, readback_locked, &a);
    if (rc < 0) {
        fe_region_release(dev, a.dst, false);
        return rc;
    }
    blob_release(dev, b, false);     /* the region has the IOVA range now */
    *rp = a.dst;
    return 0;
}

/* ----------------------------------------------------------- accessors */

uint64_t pva_blob_iova(const struct pva_blob *b) { return b->iova; }
size_t pva_blob_len(const struct pva_blob *b) { return b->len; }

bool pva_blob_lost(const struct pva_blob *b)
{
    return b->conn <= atomic_load_explicit(&b->dev->down_conn,
                                           memory_order_acquire);
}

/* Close: the backend has freed every blob (or is gone). */
void fe_blobs_free_all(struct pva_dev *dev)
{
    while (dev->blobs) {
        struct pva_blob *b = dev->blobs;

        dev->blobs = b->next;
        blob_release(dev, b, true);
    }
}
