/* SPDX-License-Identifier: MIT */
/*
 * blob.c: backend blobs (feature-blobs): BLOB_CREATE, BLOB_DESTROY,
 * BLOB_MIGRATE and BLOB_READBACK.
 *
 * A blob is backend memory placed in the device's I/O address space.  It
 * is a struct pvad_region with a non-zero blob_id whose addr is an
 * anonymous mapping of whole VACCEL_BLOB_CHUNK_SIZE chunks (zero filled by
 * the kernel), so translation, pinning (users) and the engine's dma_map
 * treat it exactly like a region of granted pages.
 *
 * Layering: control.c dispatches BLOB_* here; this file sits over
 * region.c, which makes, maps, switches and frees every range (a blob's
 * memory included) and charges it to the quota, and over iova.c for
 * lookups and reading the dirty bitmap.  What is left here is what only
 * blobs do: choosing what to copy, and when a range changes hands.
 *
 * Every operation here runs under the device's ctl_lock (control.c), the
 * only lock that adds, removes or frees a range, so the memory of a range
 * found under it stays valid until we drop it.  The long parts (copying up
 * to max-region-pages pages) therefore run without as_lock; as_lock is
 * write-held only to check that no request pinned the range meanwhile and
 * to switch the range (pvad_range_switch), so data requests of other
 * queues are not held up by a copy.  A guest that runs requests on a range
 * while migrating or reading it back races with itself: the copy may miss
 * those writes, never more.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "backend/pvacceld.h"

#define PAGES_PER_CHUNK (VACCEL_BLOB_CHUNK_SIZE / VACCEL_PAGE_SIZE)

/* ------------------------------------------------------------- create */

int pvad_blob_create(struct pvad_device *dev, const vaccel_request_t *req,
                     vaccel_response_t *rsp)
{
    const struct vaccel_req_blob_create *c = &req->u.blob_create;
    struct pvad_region *b;
    int rc = pvad_new_range_check(dev, c->iova, c->len);

    if (!rc)
        rc = pvad_region_new_blob(dev, c->iova, c->len, &b);
    if (rc)
        return rc;
    rc = pvad_range_publish(dev, b);
    if (rc) {
        pvad_range_free(dev, b);
        return rc;
    }
    rsp->value = b->blob_id;
    return 0;
}

/* ------------------------------------------------------------ destroy */

int pvad_blob_destroy(struct pvad_device *dev, const vaccel_request_t *req)
{
    struct pvad_region *b;

    /* Only ctl_lock holders change the array: no as_lock to look it up. */
    b = pvad_ioas_find_blob(&dev->ioas, req->handle);
    if (!b)
        return -XEN_ENOENT;
    return pvad_range_destroy(dev, b);
}

/* ------------------------------------------------------------ migrate */

/*
 * Read the dirty bitmap of a region of @npages pages, once, into @bitmap
 * (ceil(npages / 8) octets).  It must be readable I/O address space
 * outside the region: the region is about to go away, and a bitmap inside
 * it would describe itself.
 */
static int read_bitmap(struct pvad_queue *q, const vaccel_request_t *req,
                       uint32_t npages, uint8_t *bitmap,
                       vaccel_response_t *rsp)
{
    const struct vaccel_req_blob_migrate *m = &req->u.blob_migrate;
    struct pvad_device *dev = q->dev;
    uint64_t bm_len = ((uint64_t)npages + 7) / 8;
    struct pvad_pieces pc = q->scratch;
    struct pvad_fault f;
    int rc;

    if (!pvad_ioas_range_ok(&dev->ioas, m->bitmap_iova, bm_len))
        return -XEN_EINVAL;
    /* Both ranges are below 2^iova-bits <= 2^63: the sums cannot wrap. */
    if (m->bitmap_iova < m->iova + m->len && m->iova < m->bitmap_iova + bm_len)
        return -XEN_EINVAL;
    pthread_rwlock_rdlock(&dev->as_lock);
    rc = pvad_ioas_resolve(&dev->ioas, m->bitmap_iova, bm_len, false, &pc, &f);
    if (!rc)
        pvad_pieces_copy_out(&pc, bitmap, (size_t)bm_len);
    pthread_rwlock_unlock(&dev->as_lock);
    if (rc == -XEN_EFAULT) {
        rsp->fault_iova = f.iova;
        rsp->fault_access = f.access;
        pvad_evt_fault(dev, q->index, req->id, req->op, &f, 0);
    }
    return rc;
}

static bool page_dirty(const uint8_t *bitmap, uint32_t page)
{
    return bitmap[page / 8] & (1u << (page % 8));
}

/* Pages [first, end) of a chunk: @first is chunk aligned, so whole octets. */
static bool chunk_clean(const uint8_t *bitmap, uint32_t first, uint32_t end)
{
    for (uint32_t o = first / 8; o < (end + 7) / 8; o++)
        if (bitmap[o])
            return false;
    return true;
}

/*
 * Copy the dirty pages of @r into @b, a chunk at a time, a run of dirty
 * pages per memcpy.  A chunk with no dirty bit is skipped whole: its blob
 * pages stay zero and are never even faulted in.  Bits beyond the
 * region's last page are ignored.  Returns the bytes copied.
 */
static uint64_t copy_dirty(const struct pvad_region *r, struct pvad_region *b,
                           const uint8_t *bitmap)
{
    uint64_t copied = 0;

    for (uint32_t first = 0; first < r->npages; first += PAGES_PER_CHUNK) {
        uint32_t end = r->npages - first < PAGES_PER_CHUNK ?
                       r->npages : first + PAGES_PER_CHUNK;

        if (chunk_clean(bitmap, first, end))
            continue;
        for (uint32_t p = first, run; p < end; p = run) {
            size_t off = (size_t)p * VACCEL_PAGE_SIZE;

            if (!page_dirty(bitmap, p)) {
                run = p + 1;
                continue;
            }
            for (run = p + 1; run < end && page_dirty(bitmap, run); run++)
                ;
            memcpy((char *)b->addr + off, (const char *)r->addr + off,
                   (size_t)(run - p) * VACCEL_PAGE_SIZE);
            copied += (uint64_t)(run - p) * VACCEL_PAGE_SIZE;
        }
    }
    return copied;
}

int pvad_blob_migrate(struct pvad_queue *q, const vaccel_request_t *req,
                      vaccel_response_t *rsp)
{
    const struct vaccel_req_blob_migrate *m = &req->u.blob_migrate;
    struct pvad_device *dev = q->dev;
    struct pvad_region *r, *b = NULL;
    uint64_t copied = 0;
    uint8_t *bitmap;
    int rc;

    /* Only ctl_lock holders change the array: no as_lock to look it up. */
    r = pvad_ioas_find_exact(&dev->ioas, m->iova, m->len);
    if (!r || r->blob_id)
        return -XEN_ENOENT;
    if (pvad_region_in_use(r))
        return -XEN_EBUSY;
    /* At most max-region-pages / 8 octets: 1 KiB at the largest setting. */
    bitmap = malloc(((size_t)r->npages + 7) / 8);
    if (!bitmap)
        return -XEN_ENOMEM;
    rc = read_bitmap(q, req, r->npages, bitmap, rsp);
    if (!rc)
        rc = pvad_region_new_blob(dev, r->iova, r->len, &b);
    if (!rc) {
        copied = copy_dirty(r, b, bitmap);
        rc = pvad_range_switch(dev, r, b);
        if (rc)
            pvad_range_free(dev, b);
    }
    free(bitmap);
    if (rc)
        return rc;
    /* The grants are unmapped before the response: the guest may end them. */
    pvad_range_free(dev, r);
    rsp->value = b->blob_id;
    rsp->len = copied;
    return 0;
}

/* ----------------------------------------------------------- readback */

/*
 * VACCEL_READBACK_F_REMAP: the pages just filled become the writable
 * region @r at the blob's range, and the blob goes.
 */
static int readback_remap(struct pvad_device *dev, struct pvad_region *b,
                          struct pvad_region *r)
{
    int rc = pvad_range_switch(dev, b, r);

    if (rc)
        return rc;
    pvad_range_free(dev, b);
    return 0;
}

/*
 * The directory lists exactly the blob's pages; they are mapped writable.
 * With REMAP they become a region counted like one made by MAP_REGION,
 * charged before anything is mapped.
 */
int pvad_blob_readback(struct pvad_device *dev, const vaccel_request_t *req,
                       vaccel_response_t *rsp)
{
    bool remap = req->flags & VACCEL_READBACK_F_REMAP;
    struct pvad_region *b, *r = NULL;
    uint64_t bad_page = 0;
    uint32_t npages;
    void *addr;
    int rc;

    b = pvad_ioas_find_blob(&dev->ioas, req->handle);
    if (!b)
        return -XEN_ENOENT;
    if (pvad_region_in_use(b))
        return -XEN_EBUSY;
    npages = b->npages;
    if (remap) {
        rc = pvad_region_new(dev, b->iova, b->len, true, &r);
        if (rc)
            return rc;
    }
    rc = pvad_grants_map(dev, req->u.blob_readback.gref_dir, npages, true,
                         &addr, &bad_page);
    if (rc)
        rsp->value = bad_page;      /* the page at fault, if one is */
    if (!rc) {
        memcpy(addr, b->addr, (size_t)b->len);
        if (remap) {
            r->addr = addr;
            rc = readback_remap(dev, b, r);
        } else {
            pvad_grants_unmap(dev, addr, npages);
        }
    }
    if (rc) {
        if (r)
            pvad_range_free(dev, r);  /* unmaps the pages, gives the quota */
        return rc;
    }
    rsp->len = (uint64_t)npages * VACCEL_PAGE_SIZE;
    return 0;
}
