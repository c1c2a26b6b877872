/* SPDX-License-Identifier: MIT */
/*
 * region.c: the ranges of a device's I/O address space, as the control
 * path makes and frees them: regions of granted pages and blobs' backend
 * memory.  MAP_REGION and UNMAP_REGION are handled here too.
 *
 * Layering: control.c dispatches to session.c, blob.c and this file;
 * session.c and blob.c sit over it.  Below it are iova.c (the sorted range
 * table), quota.c (the budgets) and the platform's grant mapping.  This is
 * the only file that maps grants for the address space, charges a range to
 * the quota, and calls the engine's dma_map and dma_unmap, so that every
 * range is made and freed one way whatever op made it.
 *
 * What a guest's list of grants costs is bounded here too: a grant may be
 * listed once per region, and the platform's mappings of the grants
 * (VMAs: one per region on Xen, up to one per page on the sim) are
 * charged to the mapping quota, so no page order can drive the daemon to
 * the kernel's vm.max_map_count.
 *
 * Everything here runs under the device's ctl_lock (control operations,
 * control.c) or, for pvad_regions_release_all(), on the device's
 * teardown thread with the queues joined (teardown.c).  as_lock is write-held only around changes of the
 * table, so data requests of other queues keep going while grants are
 * mapped.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "backend/pvacceld.h"

static const struct pva_platform *plat(const struct pvad_device *dev)
{
    return dev->d->p;
}

static const struct pva_engine_ops *eops(const struct pvad_device *dev)
{
    return dev->d->eops;
}

/* -------------------------------------------------------------- quota */

int pvad_ctl_take(struct pvad_device *dev, enum pvad_res res, uint64_t n)
{
    uint64_t limit;
    int rc = pvad_usage_take(&dev->usage, &dev->dom->usage, res, n, &limit);

    if (rc)
        pvad_evt_quota(dev, res, rc, limit);
    return rc;
}

void pvad_ctl_give(struct pvad_device *dev, enum pvad_res res, uint64_t n)
{
    pvad_usage_give(&dev->usage, &dev->dom->usage, res, n);
}

/* ------------------------------------------------------------- grants */

/*
 * Read exactly @npages grants from the directory chain at @gref_dir into
 * @grefs.  Each directory page is mapped read-only, copied once and
 * unmapped at once.  The chain cannot loop for ever: we read exactly the
 * pages the region needs and check the last next pointer is 0.
 */
static int read_directory(struct pvad_device *dev, pva_gref_t gref_dir,
                          uint32_t npages, pva_gref_t *grefs,
                          uint64_t *bad_page)
{
    struct vaccel_page_directory copy;
    uint32_t done = 0;

    while (done < npages) {
        uint32_t n = npages - done;
        void *page;

        if (n > VACCEL_DIR_GREFS_PER_PAGE)
            n = VACCEL_DIR_GREFS_PER_PAGE;
        if (!gref_dir)
            return -XEN_EINVAL;   /* the chain ends before the region */
        page = plat(dev)->gntmap->map(dev->gm, dev->fe_domid, 1, &gref_dir,
                                      false);
        if (!page) {
            *bad_page = done;
            return -XEN_EACCES;
        }
        memcpy(&copy, page, sizeof(copy));
        plat(dev)->gntmap->unmap(dev->gm, page, 1);
        for (uint32_t i = 0; i < n; i++) {
            if (!copy.gref[i])
                return -XEN_EINVAL;
            grefs[done + i] = copy.gref[i];
        }
        done += n;
        gref_dir = copy.gref_dir_next_page;
    }
    return gref_dir ? -XEN_EINVAL : 0; /* "gref 0 terminates" */
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return (x > y) - (x < y);
}

/*
 * The index of the first of @grefs that repeats an earlier one, or 0 if
 * each is listed once (index 0 repeats nothing).  Sorting (grant, index)
 * pairs in @scratch ([n]) groups each grant's listings in index order, so
 * every listing after the first of its group is a repeat: O(n log n),
 * where comparing all pairs would let a guest buy 2^25 steps per region.
 */
static uint32_t first_repeat(const pva_gref_t *grefs, uint32_t n,
                             uint64_t *scratch)
{
    uint32_t first = 0;

    for (uint32_t i = 0; i < n; i++)
        scratch[i] = (uint64_t)grefs[i] << 32 | i;
    qsort(scratch, n, sizeof(*scratch), cmp_u64);
    for (uint32_t i = 1; i < n; i++) {
        uint32_t at = (uint32_t)scratch[i];

        if (scratch[i] >> 32 == scratch[i - 1] >> 32 && (!first || at < first))
            first = at;
    }
    return first;
}

/* The batch map failed: find the first page that does not map. */
static uint64_t first_unmappable(struct pvad_device *dev,
                                 const pva_gref_t *grefs, uint32_t npages,
                                 bool writable)
{
    uint32_t lo = 1, hi = npages;   /* the shortest failing prefix */

    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        void *p = plat(dev)->gntmap->map(dev->gm, dev->fe_domid, mid, grefs,
                                         writable);

        if (p) {
            plat(dev)->gntmap->unmap(dev->gm, p, mid);
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo - 1;
}

/* All @npages grants in one batch, or none with *bad_page the first bad. */
static void *map_grants(struct pvad_device *dev, const pva_gref_t *grefs,
                        uint32_t npages, bool writable, uint64_t *bad_page)
{
    void *addr = plat(dev)->gntmap->map(dev->gm, dev->fe_domid, npages, grefs,
                                        writable);

    if (!addr)
        *bad_page = first_unmappable(dev, grefs, npages, writable);
    return addr;
}

/*
 * Charge the mappings the platform made for @addr, or unmap it.  The cost
 * is known only once the grants are mapped (on the sim it depends on how
 * the guest shared the pages), so a refused map has briefly held up to
 * max-region-pages mappings; ctl_lock makes that one map per device at a
 * time.
 */
static int charge_mappings(struct pvad_device *dev, void *addr,
                           uint32_t npages)
{
    int rc = pvad_ctl_take(dev, PVAD_RES_MAPPINGS,
                           plat(dev)->gntmap->mappings(dev->gm, addr));

    if (rc)
        plat(dev)->gntmap->unmap(dev->gm, addr, npages);
    return rc;
}

int pvad_grants_map(struct pvad_device *dev, pva_gref_t gref_dir,
                    uint32_t npages, bool writable, void **addr,
                    uint64_t *bad_page)
{
    /* The grants, then the scratch of the repeat check: one allocation. */
    uint64_t *scratch = malloc((size_t)npages * (sizeof(uint64_t) +
                                                 sizeof(pva_gref_t)));
    pva_gref_t *grefs;
    void *map = NULL;
    int rc;

    *addr = NULL;
    *bad_page = 0;
    if (!scratch)
        return -XEN_ENOMEM;
    grefs = (pva_gref_t *)(scratch + npages);
    rc = read_directory(dev, gref_dir, npages, grefs, bad_page);
    if (!rc) {
        *bad_page = first_repeat(grefs, npages, scratch);
        if (*bad_page)
            rc = -XEN_EINVAL;
    }
    if (!rc) {
        map = map_grants(dev, grefs, npages, writable, bad_page);
        rc = map ? charge_mappings(dev, map, npages) : -XEN_EACCES;
    }
    if (!rc)
        *addr = map;
    free(scratch);
    return rc;
}

/* The mappings are looked up before they go: they were charged by addr. */
void pvad_grants_unmap(struct pvad_device *dev, void *addr, uint32_t npages)
{
    uint32_t mappings = plat(dev)->gntmap->mappings(dev->gm, addr);

    plat(dev)->gntmap->unmap(dev->gm, addr, npages);
    pvad_ctl_give(dev, PVAD_RES_MAPPINGS, mappings);
}

/* ----------------------------------------------- the engine's mapping */

/* Hand @r's memory to the engine (its IOMMU), if the engine wants it. */
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

/* Idempotent: the handle is cleared, so freeing @r later unmaps nothing. */
static void dma_unmap(struct pvad_device *dev, struct pvad_region *r)
{
    if (r->dma_handle && eops(dev)->dma_unmap)
        eops(dev)->dma_unmap(dev->ectx, r->dma_handle);
    r->dma_handle = NULL;
}

/* ------------------------------------------------- making and freeing */

int pvad_new_range_check(struct pvad_device *dev, uint64_t iova, uint64_t len)
{
    if (iova % VACCEL_PAGE_SIZE || iova < VACCEL_PAGE_SIZE ||
        !len || len % VACCEL_PAGE_SIZE)
        return -XEN_EINVAL;
    if (len / VACCEL_PAGE_SIZE > dev->lim.max_region_pages)
        return -XEN_E2BIG;
    if (!pvad_ioas_range_ok(&dev->ioas, iova, len))
        return -XEN_EINVAL;
    if (pvad_ioas_overlaps(&dev->ioas, iova, len))
        return -XEN_EEXIST;
    return 0;
}

int pvad_region_new(struct pvad_device *dev, uint64_t iova, uint64_t len,
                    bool writable, struct pvad_region **out)
{
    uint32_t npages = (uint32_t)(len / VACCEL_PAGE_SIZE);
    struct pvad_region *r;
    int rc;

    rc = pvad_ctl_take(dev, PVAD_RES_REGIONS, 1);
    if (rc)
        return rc;
    rc = pvad_ctl_take(dev, PVAD_RES_MAPPED_PAGES, npages);
    if (rc) {
        pvad_ctl_give(dev, PVAD_RES_REGIONS, 1);
        return rc;
    }
    r = calloc(1, sizeof(*r));
    if (!r) {
        pvad_ctl_give(dev, PVAD_RES_MAPPED_PAGES, npages);
        pvad_ctl_give(dev, PVAD_RES_REGIONS, 1);
        return -XEN_ENOMEM;
    }
    *r = (struct pvad_region){ .iova = iova, .len = len, .npages = npages,
                               .writable = writable };
    *out = r;
    return 0;
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
 * The quota is taken in whole chunks (accelif.h: "counted that way against
 * max-blob-pages"), before the memory, so a refusal costs nothing.  The
 * memory is an anonymous mapping, zero filled by the kernel as it is
 * first touched.
 */
int pvad_region_new_blob(struct pvad_device *dev, uint64_t iova, uint64_t len,
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

static void blob_memory_free(struct pvad_device *dev, struct pvad_region *b)
{
    munmap(b->addr, b->blob_bytes);
    pvad_ctl_give(dev, PVAD_RES_BLOB_PAGES, b->blob_bytes / VACCEL_PAGE_SIZE);
    pvad_ctl_give(dev, PVAD_RES_BLOBS, 1);
    free(b);
}

static void region_pages_free(struct pvad_device *dev, struct pvad_region *r)
{
    if (r->addr)
        pvad_grants_unmap(dev, r->addr, r->npages);
    pvad_ctl_give(dev, PVAD_RES_MAPPED_PAGES, r->npages);
    pvad_ctl_give(dev, PVAD_RES_REGIONS, 1);
    free(r);
}

void pvad_range_free(struct pvad_device *dev, struct pvad_region *r)
{
    dma_unmap(dev, r);
    if (r->blob_id)
        blob_memory_free(dev, r);
    else
        region_pages_free(dev, r);
}

/* ----------------------------------------------- in the address space */

/* On failure @r may still be in the engine: pvad_range_free() undoes it. */
int pvad_range_publish(struct pvad_device *dev, struct pvad_region *r)
{
    int rc = dma_map(dev, r);

    if (rc)
        return rc;
    pthread_rwlock_wrlock(&dev->as_lock);
    rc = pvad_ioas_insert(&dev->ioas, r);
    pthread_rwlock_unlock(&dev->as_lock);
    return rc;
}

/*
 * The engine sees the range move too: an IOMMU cannot map one IOVA twice,
 * so @old is unmapped from the engine first and mapped back if @new_r
 * cannot be mapped, so that on any error nothing changes.
 */
int pvad_range_switch(struct pvad_device *dev, struct pvad_region *old,
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

int pvad_range_destroy(struct pvad_device *dev, struct pvad_region *r)
{
    int rc = 0;

    pthread_rwlock_wrlock(&dev->as_lock);
    if (pvad_region_in_use(r))
        rc = -XEN_EBUSY;
    else
        pvad_ioas_remove(&dev->ioas, r);
    pthread_rwlock_unlock(&dev->as_lock);
    /* Freed before the response: the frontend may then end the grants. */
    if (!rc)
        pvad_range_free(dev, r);
    return rc;
}

void pvad_regions_release_all(struct pvad_device *dev)
{
    while (dev->ioas.nr) {
        struct pvad_region *r = dev->ioas.regions[dev->ioas.nr - 1];

        pvad_ioas_remove(&dev->ioas, r);
        pvad_range_free(dev, r);
    }
}

/* ------------------------------------------- MAP_REGION, UNMAP_REGION */

/* Map the region's grants once, hand them to the engine, publish. */
int pvad_region_map(struct pvad_device *dev, const vaccel_request_t *req,
                    vaccel_response_t *rsp)
{
    const struct vaccel_req_map_region *m = &req->u.map_region;
    bool writable = req->flags & VACCEL_MAP_F_WRITE;
    struct pvad_region *r;
    uint64_t bad_page = 0;
    int rc = pvad_new_range_check(dev, m->iova, m->len);

    if (!rc)
        rc = pvad_region_new(dev, m->iova, m->len, writable, &r);
    if (rc)
        return rc;
    rc = pvad_grants_map(dev, m->gref_dir, r->npages, writable, &r->addr,
                         &bad_page);
    if (!rc)
        rc = pvad_range_publish(dev, r);
    if (rc) {
        rsp->value = bad_page;      /* the page at fault, if one is */
        pvad_range_free(dev, r);    /* gives the quota back too */
        return rc;
    }
    rsp->value = r->npages;
    return 0;
}

int pvad_region_unmap(struct pvad_device *dev, const vaccel_request_t *req)
{
    const struct vaccel_req_unmap_region *m = &req->u.unmap_region;
    struct pvad_region *r;

    /* Only ctl_lock holders change the array: no as_lock to look it up. */
    r = pvad_ioas_find_exact(&dev->ioas, m->iova, m->len);
    if (!r || r->blob_id)
        return -XEN_ENOENT;     /* blobs go with BLOB_DESTROY */
    return pvad_range_destroy(dev, r);
}
