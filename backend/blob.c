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
 * Every operation here runs under the device's ctl_lock (control.c), the
 * only lock that adds, removes or frees a range, so the memory of a range
 * found under it stays valid until we drop it.  The long parts (copying up
 * to max-region-pages pages) therefore run without as_lock; as_lock is
 * write-held only to check that no request pinned the range meanwhile and
 * to switch the range, so data requests of other queues are not held up by
 * a copy.  A guest that runs requests on a range while migrating or reading
 * it back races with itself: the copy may miss those writes, never more.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backend/pvacceld.h"

#define PAGES_PER_CHUNK (VACCEL_BLOB_CHUNK_SIZE / VACCEL_PAGE_SIZE)

static const struct pva_engine_ops *eops(const struct pvad_device *dev)
{
    return dev->d->eops;
}

static size_t chunk_bytes(uint64_t len)
{
    return (size_t)((len + VACCEL_BLOB_CHUNK_SIZE - 1) &
                    ~(uint64_t)(VACCEL_BLOB_CHUNK_SIZE - 1));
}

/* A blob id not in use on the device: non-zero, as the protocol wants. */
static uint32_t blob_id_alloc(struct pvad_device *dev)
{
    do {
        dev->next_blob_id++;
    } while (!dev->next_blob_id ||
             pvad_ioas_find_blob(&dev->ioas, dev->next_blob_id));
    return dev->next_blob_id;
}

/*
 * A new blob of @len bytes at @iova, not yet in the address space.  The
 * quota is taken in whole chunks (accelif.h: "counted that way against
 * max-blob-pages"), before the memory, so a refusal costs nothing.
 */
static int blob_new(struct pvad_device *dev, uint64_t iova, uint64_t len,
                    struct pvad_region **out)
{
    size_t bytes = chunk_bytes(len);
    struct pvad_region *b;
    void *mem;
    int rc;

    rc = pvad_ctl_take(dev, PVAD_RES_BLOBS, 1);
    if (rc)
        return rc;
    rc = pvad_ctl_take(dev, PVAD_RES_BLOB_PAGES, bytes / VACCEL_PAGE_SIZE);
    if (rc) {
        pvad_ctl_give(dev, PVAD_RES_BLOBS, 1);
        return rc;
    }
    b = calloc(1, sizeof(*b));
    mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!b || mem == MAP_FAILED) {
        if (mem != MAP_FAILED)
            munmap(mem, bytes);
        free(b);
        pvad_ctl_give(dev, PVAD_RES_BLOB_PAGES, bytes / VACCEL_PAGE_SIZE);
        pvad_ctl_give(dev, PVAD_RES_BLOBS, 1);
        return -XEN_ENOMEM;
    }
    *b = (struct pvad_region){ .iova = iova, .len = len, .writable = true,
                               .addr = mem,
                               .npages = (uint32_t)(len / VACCEL_PAGE_SIZE),
                               .blob_id = blob_id_alloc(dev),
                               .blob_bytes = bytes };
    *out = b;
    return 0;
}

void pvad_blob_free(struct pvad_device *dev, struct pvad_region *b)
{
    munmap(b->addr, b->blob_bytes);
    pvad_ctl_give(dev, PVAD_RES_BLOB_PAGES, b->blob_bytes / VACCEL_PAGE_SIZE);
    pvad_ctl_give(dev, PVAD_RES_BLOBS, 1);
    free(b);
}

static int dma_map(struct pvad_device *dev, struct pvad_region *r)
{
    int rc;

    if (!eops(dev)->dma_map)
        return 0;
    rc = eops(dev)->dma_map(dev->ectx, r->addr, (size_t)r->len, r->iova,
                            r->writable, &r->dma_handle);
    if (rc) {
        r->dma_handle = NULL;
        return rc < 0 ? rc : -XEN_EIO;
    }
    return 0;
}

static void dma_unmap(struct pvad_device *dev, struct pvad_region *r)
{
    if (r->dma_handle && eops(dev)->dma_unmap)
        eops(dev)->dma_unmap(dev->ectx, r->dma_handle);
    r->dma_handle = NULL;
}

/*
 * Make @old's IOVA range point at @new_r (same iova and len), if no
 * request pinned @old since the caller checked.  The device sees the range
 * move too: an IOMMU cannot map one IOVA twice, so @old is unmapped from
 * the engine first and mapped back if @new_r cannot be mapped, so that on
 * any error nothing changes.  Returns 0 or a status; @old is then still in
 * place, @new_r not.
 */
static int range_switch(struct pvad_device *dev, struct pvad_region *old,
                        struct pvad_region *new_r)
{
    int rc = 0;

    pthread_rwlock_wrlock(&dev->as_lock);
    if (pvad_region_in_use(old))
        rc = -XEN_EBUSY;
    if (!rc) {
        dma_unmap(dev, old);
        rc = dma_map(dev, new_r);
        if (rc && dma_map(dev, old))
            pvad_warn("domain %u device %u: engine lost the mapping of "
                      "IOVA 0x%llx", dev->fe_domid, dev->devid,
                      (unsigned long long)old->iova);
    }
    if (!rc)
        pvad_ioas_replace(&dev->ioas, old, new_r);
    pthread_rwlock_unlock(&dev->as_lock);
    return rc;
}

/* ------------------------------------------------------------- create */

int pvad_blob_create(struct pvad_device *dev, const vaccel_request_t *req,
                     vaccel_response_t *rsp)
{
    const struct vaccel_req_blob_create *c = &req->u.blob_create;
    struct pvad_region *b;
    int rc = pvad_new_range_check(dev, c->iova, c->len);

    if (!rc)
        rc = blob_new(dev, c->iova, c->len, &b);
    if (rc)
        return rc;
    rc = dma_map(dev, b);
    if (!rc) {
        pthread_rwlock_wrlock(&dev->as_lock);
        rc = pvad_ioas_insert(&dev->ioas, b);
        pthread_rwlock_unlock(&dev->as_lock);
    }
    if (rc) {
        dma_unmap(dev, b);
        pvad_blob_free(dev, b);
        return rc;
    }
    rsp->value = b->blob_id;
    return 0;
}

/* ------------------------------------------------------------ destroy */

int pvad_blob_destroy(struct pvad_device *dev, const vaccel_request_t *req)
{
    struct pvad_region *b;
    int rc = 0;

    pthread_rwlock_wrlock(&dev->as_lock);
    b = pvad_ioas_find_blob(&dev->ioas, req->handle);
    if (!b)
        rc = -XEN_ENOENT;
    else if (pvad_region_in_use(b))
        rc = -XEN_EBUSY;
    else
        pvad_ioas_remove(&dev->ioas, b);
    pthread_rwlock_unlock(&dev->as_lock);
    if (!rc)
        pvad_range_free(dev, b);
    return rc;
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
        rc = blob_new(dev, r->iova, r->len, &b);
    if (!rc) {
        copied = copy_dirty(r, b, bitmap);
        rc = range_switch(dev, r, b);
        if (rc)
            pvad_blob_free(dev, b);
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

/* Map the directory's pages (exactly the blob's) writable. */
static int map_readback_pages(struct pvad_device *dev, pva_gref_t gref_dir,
                              uint32_t npages, void **addr,
                              vaccel_response_t *rsp)
{
    pva_gref_t *grefs = malloc((size_t)npages * sizeof(*grefs));
    uint64_t bad_page = 0;
    int rc;

    if (!grefs)
        return -XEN_ENOMEM;
    rc = pvad_read_directory(dev, gref_dir, npages, grefs, &bad_page);
    if (!rc) {
        *addr = pvad_map_grants(dev, grefs, npages, true, &bad_page);
        if (!*addr)
            rc = -XEN_EACCES;
    }
    free(grefs);
    if (rc == -XEN_EACCES)
        rsp->value = bad_page;
    return rc;
}

/*
 * VACCEL_READBACK_F_REMAP: the pages just filled become a writable region
 * at the blob's range, and the blob goes.  The region is counted like one
 * made by MAP_REGION, taken before anything is mapped.
 */
static int readback_remap(struct pvad_device *dev, struct pvad_region *b,
                          void *addr)
{
    struct pvad_region *r = calloc(1, sizeof(*r));
    int rc;

    if (!r)
        return -XEN_ENOMEM;
    *r = (struct pvad_region){ .iova = b->iova, .len = b->len,
                               .writable = true, .addr = addr,
                               .npages = b->npages };
    rc = range_switch(dev, b, r);
    if (rc) {
        free(r);
        return rc;
    }
    pvad_range_free(dev, b);
    return 0;
}

int pvad_blob_readback(struct pvad_device *dev, const vaccel_request_t *req,
                       vaccel_response_t *rsp)
{
    bool remap = req->flags & VACCEL_READBACK_F_REMAP;
    struct pvad_region *b;
    void *addr = NULL;
    uint32_t npages;
    int rc;

    b = pvad_ioas_find_blob(&dev->ioas, req->handle);
    if (!b)
        return -XEN_ENOENT;
    if (pvad_region_in_use(b))
        return -XEN_EBUSY;
    npages = b->npages;
    if (remap) {
        rc = pvad_ctl_take(dev, PVAD_RES_REGIONS, 1);
        if (rc)
            return rc;
        rc = pvad_ctl_take(dev, PVAD_RES_MAPPED_PAGES, npages);
        if (rc) {
            pvad_ctl_give(dev, PVAD_RES_REGIONS, 1);
            return rc;
        }
    }
    rc = map_readback_pages(dev, req->u.blob_readback.gref_dir, npages, &addr,
                            rsp);
    if (!rc) {
        memcpy(addr, b->addr, (size_t)b->len);
        if (remap)
            rc = readback_remap(dev, b, addr);
        else
            dev->d->p->gntmap->unmap(dev->gm, addr, npages);
    }
    if (rc && remap) {
        if (addr)
            dev->d->p->gntmap->unmap(dev->gm, addr, npages);
        pvad_ctl_give(dev, PVAD_RES_MAPPED_PAGES, npages);
        pvad_ctl_give(dev, PVAD_RES_REGIONS, 1);
    }
    if (rc)
        return rc;
    rsp->len = (uint64_t)npages * VACCEL_PAGE_SIZE;
    return 0;
}
