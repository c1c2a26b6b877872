/* SPDX-License-Identifier: MIT */
/*
 * iova.c: a device's I/O address space.
 *
 * Regions are kept in an array sorted by IOVA (they never overlap), so a
 * lookup is a binary search.  Translation turns [iova, iova + len) into
 * pieces of backend memory, one per region crossed; every bound is checked
 * without overflow: a region is [iova, iova + len) with iova + len <=
 * 2^iova-bits <= 2^63, so sums of region bounds cannot wrap, and a
 * request's range is checked against 2^iova-bits before any sum.
 *
 * Locking is the caller's: as_lock read-held to resolve, write-held to
 * insert or remove.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pvacceld.h"

int pvad_ioas_init(struct pvad_ioas *as, unsigned int max_ranges,
                   uint32_t iova_bits)
{
    as->regions = calloc(max_ranges ? max_ranges : 1, sizeof(as->regions[0]));
    if (!as->regions)
        return -ENOMEM;
    as->nr = 0;
    as->cap = max_ranges;
    as->iova_end = (uint64_t)1 << iova_bits;
    return 0;
}

void pvad_ioas_fini(struct pvad_ioas *as)
{
    free(as->regions);
    as->regions = NULL;
    as->nr = as->cap = 0;
}

/* A non-empty range lies below 2^iova-bits and does not wrap. */
bool pvad_ioas_range_ok(const struct pvad_ioas *as, uint64_t iova,
                        uint64_t len)
{
    return len <= as->iova_end && iova <= as->iova_end - len;
}

/* Index of the first region ending above @iova (nr if none). */
static unsigned int first_ending_above(const struct pvad_ioas *as,
                                       uint64_t iova)
{
    unsigned int lo = 0, hi = as->nr;

    while (lo < hi) {
        unsigned int mid = lo + (hi - lo) / 2;
        const struct pvad_region *r = as->regions[mid];

        if (r->iova + r->len <= iova)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int add_piece(struct pvad_pieces *pc, struct pvad_region *r,
                     uint64_t off, uint64_t len)
{
    if (pc->n == pc->cap)
        return -XEN_E2BIG;
    pc->iov[pc->n] = (struct pva_iov){ (char *)r->addr + off, (size_t)len };
    pc->reg[pc->n] = r;
    pc->n++;
    pc->len += len;
    return 0;
}

int pvad_ioas_resolve(const struct pvad_ioas *as, uint64_t iova, uint64_t len,
                      bool write, struct pvad_pieces *pc,
                      struct pvad_fault *f)
{
    uint64_t end;
    unsigned int i;

    if (!len)
        return 0;
    /* Validation checked the range; this is the last line of defence. */
    if (!pvad_ioas_range_ok(as, iova, len))
        return -XEN_EINVAL;
    end = iova + len;
    for (i = first_ending_above(as, iova); iova < end; i++) {
        struct pvad_region *r = i < as->nr ? as->regions[i] : NULL;
        uint64_t stop;
        int rc;

        if (!r || r->iova > iova) {
            /* A hole: the fault covers it up to the next region or end. */
            f->iova = iova;
            f->len = (r && r->iova < end ? r->iova : end) - iova;
            f->access = write ? VACCEL_ACCESS_WRITE : VACCEL_ACCESS_READ;
            return -XEN_EFAULT;
        }
        if (write && !r->writable)
            return -XEN_EACCES;
        stop = end < r->iova + r->len ? end : r->iova + r->len;
        rc = add_piece(pc, r, iova - r->iova, stop - iova);
        if (rc)
            return rc;
        iova = stop;
    }
    return 0;
}

void pvad_pieces_copy_out(const struct pvad_pieces *pc, void *dst, size_t len)
{
    char *out = dst;

    for (unsigned int i = 0; i < pc->n && len; i++) {
        size_t n = pc->iov[i].len < len ? pc->iov[i].len : len;

        memcpy(out, pc->iov[i].base, n);
        out += n;
        len -= n;
    }
}

/*
 * Pin the regions under the pieces (as_lock read-held, so no unmap can
 * look at the counts meanwhile).  One writer per slot: a load and a store.
 */
void pvad_pieces_get(struct pvad_pieces *pc, unsigned int qi)
{
    for (unsigned int i = 0; i < pc->n; i++) {
        _Atomic uint32_t *u = &pc->reg[i]->users[qi];

        atomic_store_explicit(u, atomic_load_explicit(u, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    }
}

/* Release: the engine's use of the memory happens before an unmap sees 0. */
void pvad_pieces_put(struct pvad_pieces *pc, unsigned int qi)
{
    for (unsigned int i = 0; i < pc->n; i++) {
        _Atomic uint32_t *u = &pc->reg[i]->users[qi];

        atomic_store_explicit(u, atomic_load_explicit(u, memory_order_relaxed) - 1,
                              memory_order_release);
    }
    pc->n = 0;
    pc->len = 0;
}

bool pvad_region_in_use(const struct pvad_region *r)
{
    for (unsigned int i = 0; i < VACCEL_MAX_QUEUES; i++)
        if (atomic_load_explicit(&r->users[i], memory_order_acquire))
            return true;
    return false;
}

struct pvad_region *pvad_ioas_find_exact(const struct pvad_ioas *as,
                                         uint64_t iova, uint64_t len)
{
    unsigned int i = first_ending_above(as, iova);

    if (i < as->nr && as->regions[i]->iova == iova &&
        as->regions[i]->len == len)
        return as->regions[i];
    return NULL;
}

bool pvad_ioas_overlaps(const struct pvad_ioas *as, uint64_t iova,
                        uint64_t len)
{
    unsigned int i = first_ending_above(as, iova);

    return i < as->nr && as->regions[i]->iova < iova + len;
}

/* Blobs are few (max-blobs) and looked up only by control operations. */
struct pvad_region *pvad_ioas_find_blob(const struct pvad_ioas *as,
                                        uint32_t blob_id)
{
    if (!blob_id)
        return NULL;
    for (unsigned int i = 0; i < as->nr; i++)
        if (as->regions[i]->blob_id == blob_id)
            return as->regions[i];
    return NULL;
}

int pvad_ioas_insert(struct pvad_ioas *as, struct pvad_region *r)
{
    unsigned int i = first_ending_above(as, r->iova);

    if (as->nr == as->cap)
        return -XEN_EMFILE;
    memmove(&as->regions[i + 1], &as->regions[i],
            (as->nr - i) * sizeof(as->regions[0]));
    as->regions[i] = r;
    as->nr++;
    return 0;
}

void pvad_ioas_remove(struct pvad_ioas *as, struct pvad_region *r)
{
    for (unsigned int i = 0; i < as->nr; i++)
        if (as->regions[i] == r) {
            memmove(&as->regions[i], &as->regions[i + 1],
                    (as->nr - i - 1) * sizeof(as->regions[0]));
            as->nr--;
            return;
        }
}

void pvad_ioas_replace(struct pvad_ioas *as, struct pvad_region *old,
                       struct pvad_region *new_r)
{
    unsigned int i = first_ending_above(as, old->iova);

    /* Same range, so the order is kept; the caller found @old there. */
    if (i < as->nr && as->regions[i] == old &&
        new_r->iova == old->iova && new_r->len == old->len)
        as->regions[i] = new_r;
}
