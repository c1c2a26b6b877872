/* SPDX-License-Identifier: MIT */
/*
 * control.c: control operations (NOP, regions, sessions, fault answers;
 * blobs are in blob.c).
 *
 * They run inline on the queue thread that consumed them, under the
 * device's ctl_lock, so each takes effect before that queue consumes its
 * next request (accelif.h "Ordering").  Only ctl_lock holders change the
 * address space or the session table, and they take as_lock for writing
 * just around the change, so data requests of other queues keep going
 * while a region's grants are being mapped.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pvacceld.h"

static const struct pva_platform *plat(const struct pvad_device *dev)
{
    return dev->d->p;
}

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

/* ------------------------------------------------------------ regions */

/*
 * Read exactly @npages grants from the directory chain at @gref_dir into
 * @grefs.  Each directory page is mapped read-only, copied once and
 * unmapped at once.  The chain cannot loop for ever: we read exactly the
 * pages the region needs and check the last next pointer is 0.
 */
int pvad_read_directory(struct pvad_device *dev, pva_gref_t gref_dir,
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

void *pvad_map_grants(struct pvad_device *dev, const pva_gref_t *grefs,
                      uint32_t npages, bool writable, uint64_t *bad_page)
{
    void *addr = plat(dev)->gntmap->map(dev->gm, dev->fe_domid, npages, grefs,
                                        writable);

    if (!addr)
        *bad_page = first_unmappable(dev, grefs, npages, writable);
    return addr;
}

/* Gives the quota back too: a region's, or (blob.c) a blob's. */
void pvad_range_free(struct pvad_device *dev, struct pvad_region *r)
{
    if (r->dma_handle && dev->d->eops->dma_unmap)
        dev->d->eops->dma_unmap(dev->ectx, r->dma_handle);
    r->dma_handle = NULL;
    if (r->blob_id) {
        pvad_blob_free(dev, r);
        return;
    }
    plat(dev)->gntmap->unmap(dev->gm, r->addr, r->npages);
    pvad_ctl_give(dev, PVAD_RES_MAPPED_PAGES, r->npages);
    pvad_ctl_give(dev, PVAD_RES_REGIONS, 1);
    free(r);
}

/* A new range for MAP_REGION or BLOB_CREATE (ctl_lock held). */
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

/* Map the region's grants once, hand them to the engine, publish. */
static int map_region_pages(struct pvad_device *dev, struct pvad_region *r,
                            const pva_gref_t *grefs, uint64_t *bad_page)
{
    const struct pva_engine_ops *e = dev->d->eops;
    int rc;

    r->addr = pvad_map_grants(dev, grefs, r->npages, r->writable, bad_page);
    if (!r->addr)
        return -XEN_EACCES;
    if (e->dma_map) {
        rc = e->dma_map(dev->ectx, r->addr, (size_t)r->len, r->iova,
                        r->writable, &r->dma_handle);
        if (rc) {
            plat(dev)->gntmap->unmap(dev->gm, r->addr, r->npages);
            r->addr = NULL;
            r->dma_handle = NULL;
            return rc < 0 ? rc : -XEN_EIO;
        }
    }
    pthread_rwlock_wrlock(&dev->as_lock);
    rc = pvad_ioas_insert(&dev->ioas, r);
    pthread_rwlock_unlock(&dev->as_lock);
    return rc;
}

static int map_region(struct pvad_device *dev, const vaccel_request_t *req,
                      vaccel_response_t *rsp)
{
    const struct vaccel_req_map_region *m = &req->u.map_region;
    struct pvad_region *r = NULL;
    pva_gref_t *grefs = NULL;
    uint64_t bad_page = 0;
    uint32_t npages;
    int rc = pvad_new_range_check(dev, m->iova, m->len);

    if (rc)
        return rc;
    npages = (uint32_t)(m->len / VACCEL_PAGE_SIZE);
    rc = pvad_ctl_take(dev, PVAD_RES_REGIONS, 1);
    if (rc)
        return rc;
    rc = pvad_ctl_take(dev, PVAD_RES_MAPPED_PAGES, npages);
    if (rc) {
        pvad_ctl_give(dev, PVAD_RES_REGIONS, 1);
        return rc;
    }
    grefs = malloc((size_t)npages * sizeof(*grefs));
    r = calloc(1, sizeof(*r));
    rc = grefs && r ? 0 : -XEN_ENOMEM;
    if (!rc) {
        *r = (struct pvad_region){ .iova = m->iova, .len = m->len,
                                   .npages = npages,
                                   .writable = req->flags & VACCEL_MAP_F_WRITE };
        rc = pvad_read_directory(dev, m->gref_dir, npages, grefs, &bad_page);
    }
    if (!rc)
        rc = map_region_pages(dev, r, grefs, &bad_page);
    free(grefs);
    if (rc == -XEN_EACCES)
        rsp->value = bad_page;
    if (rc) {
        if (r && r->addr)
            pvad_range_free(dev, r);    /* gives the quota back too */
        else {
            free(r);
            pvad_ctl_give(dev, PVAD_RES_MAPPED_PAGES, npages);
            pvad_ctl_give(dev, PVAD_RES_REGIONS, 1);
        }
        return rc;
    }
    rsp->value = npages;
    return 0;
}

static int unmap_region(struct pvad_device *dev, const vaccel_request_t *req)
{
    const struct vaccel_req_unmap_region *m = &req->u.unmap_region;
    struct pvad_region *r;
    int rc = 0;

    pthread_rwlock_wrlock(&dev->as_lock);
    r = pvad_ioas_find_exact(&dev->ioas, m->iova, m->len);
    if (!r || r->blob_id)
        rc = -XEN_ENOENT;     /* blobs go with BLOB_DESTROY */
    else if (pvad_region_in_use(r))
        rc = -XEN_EBUSY;
    else
        pvad_ioas_remove(&dev->ioas, r);
    pthread_rwlock_unlock(&dev->as_lock);
    /* Unmapped before the response: the frontend may then end the grants. */
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

/* ----------------------------------------------------------- sessions */

int pvad_sessions_init(struct pvad_sessions *s, uint32_t cap)
{
    s->slots = calloc(cap, sizeof(s->slots[0]));
    s->cap = s->slots ? cap : 0;
    s->gen = 0;
    return s->slots ? 0 : -ENOMEM;
}

/* Session ids: generation in the high half, slot + 1 in the low half. */
struct pvad_session *pvad_session_lookup(struct pvad_sessions *s, uint32_t id)
{
    uint32_t slot = (id & 0xffffu) - 1;

    if (!id || slot >= s->cap || s->slots[slot].id != id)
        return NULL;
    return &s->slots[slot];
}

static struct pvad_session *session_slot_free(struct pvad_sessions *s)
{
    for (uint32_t i = 0; i < s->cap; i++)
        if (!s->slots[i].id)
            return &s->slots[i];
    return NULL;
}

/* Read the AEAD key once from guest memory into @key. */
static int read_key(struct pvad_queue *q, const vaccel_request_t *req,
                    uint8_t key[VACCEL_AEAD_KEY_LEN], vaccel_response_t *rsp)
{
    struct pvad_device *dev = q->dev;
    const struct vaccel_seg *k = &req->u.session_create.key;
    struct pvad_pieces pc = q->scratch;
    struct pvad_fault f;
    int rc;

    if (k->len != VACCEL_AEAD_KEY_LEN ||
        !pvad_ioas_range_ok(&dev->ioas, k->iova, k->len))
        return -XEN_EINVAL;
    pthread_rwlock_rdlock(&dev->as_lock);
    rc = pvad_ioas_resolve(&dev->ioas, k->iova, k->len, false, &pc, &f);
    if (!rc)
        pvad_pieces_copy_out(&pc, key, VACCEL_AEAD_KEY_LEN);
    pthread_rwlock_unlock(&dev->as_lock);
    if (rc == -XEN_EFAULT) {
        rsp->fault_iova = f.iova;
        rsp->fault_access = f.access;
        pvad_evt_fault(dev, q->index, req->id, req->op, &f, 0);
    }
    return rc;
}

static int session_create(struct pvad_queue *q, const vaccel_request_t *req,
                          vaccel_response_t *rsp)
{
    struct pvad_device *dev = q->dev;
    const struct pvad_offer *o = &dev->d->offer;
    uint8_t key[VACCEL_AEAD_KEY_LEN];
    bool aead = VACCEL_ALG_IS_AEAD(req->alg) &&
                (o->aead_algs & PVA_ALG_BIT(req->alg));
    bool digest = VACCEL_ALG_IS_DIGEST(req->alg) &&
                  (o->digest_algs & PVA_ALG_BIT(req->alg));
    struct pva_engine_session *es = NULL;
    struct pvad_session *s;
    int rc;

    if (!aead && !digest)
        return -XEN_EOPNOTSUPP;
    if (digest && (req->u.session_create.key.iova ||
                   req->u.session_create.key.len))
        return -XEN_EINVAL;
    if (aead) {
        rc = read_key(q, req, key, rsp);
        if (rc)
            return rc;
    }
    rc = pvad_ctl_take(dev, PVAD_RES_SESSIONS, 1);
    s = rc ? NULL : session_slot_free(&dev->sessions);
    if (!rc && !s) {
        pvad_ctl_give(dev, PVAD_RES_SESSIONS, 1);
        rc = -XEN_EMFILE;
    }
    if (!rc) {
        rc = dev->d->eops->session_create(dev->ectx, req->alg,
                                          aead ? key : NULL,
                                          aead ? sizeof(key) : 0, &es);
        if (rc)
            pvad_ctl_give(dev, PVAD_RES_SESSIONS, 1);
    }
    explicit_bzero(key, sizeof(key));
    if (rc)
        return rc < 0 ? rc : -XEN_EIO;
    pthread_rwlock_wrlock(&dev->as_lock);
    dev->sessions.gen++;
    s->alg = req->alg;
    s->es = es;
    atomic_store(&s->users, 0);
    atomic_store(&s->digest_busy, false);
    s->id = ((uint32_t)dev->sessions.gen << 16) |
            (uint32_t)(s - dev->sessions.slots + 1);
    pthread_rwlock_unlock(&dev->as_lock);
    rsp->value = s->id;
    return 0;
}

static int session_destroy(struct pvad_device *dev, const vaccel_request_t *req)
{
    struct pva_engine_session *es = NULL;
    struct pvad_session *s;
    int rc = 0;

    pthread_rwlock_wrlock(&dev->as_lock);
    s = pvad_session_lookup(&dev->sessions, req->handle);
    if (!s)
        rc = -XEN_ENOENT;
    else if (atomic_load_explicit(&s->users, memory_order_acquire))
        rc = -XEN_EBUSY;
    else {
        es = s->es;
        s->id = 0;
        s->es = NULL;
    }
    pthread_rwlock_unlock(&dev->as_lock);
    if (!rc) {
        dev->d->eops->session_destroy(dev->ectx, es); /* wipes the key */
        pvad_ctl_give(dev, PVAD_RES_SESSIONS, 1);
    }
    return rc;
}

void pvad_sessions_release_all(struct pvad_device *dev)
{
    for (uint32_t i = 0; i < dev->sessions.cap; i++) {
        struct pvad_session *s = &dev->sessions.slots[i];

        if (!s->id)
            continue;
        dev->d->eops->session_destroy(dev->ectx, s->es);
        s->id = 0;
        s->es = NULL;
        pvad_ctl_give(dev, PVAD_RES_SESSIONS, 1);
    }
    free(dev->sessions.slots);
    dev->sessions.slots = NULL;
    dev->sessions.cap = 0;
}

/* ----------------------------------------------------------- dispatch */

void pvad_control(struct pvad_queue *q, const vaccel_request_t *req,
                  vaccel_response_t *rsp)
{
    struct pvad_device *dev = q->dev;
    int rc;

    pthread_mutex_lock(&dev->ctl_lock);
    switch (req->op) {
    case VACCEL_OP_NOP:
        rc = 0;
        break;
    case VACCEL_OP_MAP_REGION:
        rc = map_region(dev, req, rsp);
        break;
    case VACCEL_OP_UNMAP_REGION:
        rc = unmap_region(dev, req);
        break;
    case VACCEL_OP_SESSION_CREATE:
        rc = session_create(q, req, rsp);
        break;
    case VACCEL_OP_SESSION_DESTROY:
        rc = session_destroy(dev, req);
        break;
    case VACCEL_OP_BLOB_CREATE:
        rc = pvad_blob_create(dev, req, rsp);
        break;
    case VACCEL_OP_BLOB_DESTROY:
        rc = pvad_blob_destroy(dev, req);
        break;
    case VACCEL_OP_BLOB_MIGRATE:
        rc = pvad_blob_migrate(q, req, rsp);
        break;
    case VACCEL_OP_BLOB_READBACK:
        rc = pvad_blob_readback(dev, req, rsp);
        break;
    case VACCEL_OP_FAULT_RESPONSE:
        rc = pvad_fault_answer(dev, req->u.fault_response.fault_id,
                               req->u.fault_response.status);
        break;
    default:
        rc = -XEN_EOPNOTSUPP;
        break;
    }
    pthread_mutex_unlock(&dev->ctl_lock);
    rsp->status = rc;           /* pvad_respond() clears what an error left */
}
