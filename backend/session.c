/* SPDX-License-Identifier: MIT */
/*
 * session.c: a device's session table: AEAD key sessions and streaming
 * digest sessions.  SESSION_CREATE and SESSION_DESTROY are handled here;
 * the data path (queue.c) looks sessions up by id and pins them.
 *
 * Layering: control.c dispatches SESSION_* here; this file sits over
 * region.c (the quota), iova.c (reading the key) and the engine's
 * session hooks.  It maps no grants.
 *
 * Locking: SESSION_CREATE and SESSION_DESTROY run under ctl_lock and
 * write-hold as_lock only to publish or retire a slot; the data path
 * looks up and pins with as_lock read-held, so a pinned session is never
 * destroyed under it.  Init runs on the main thread, release-all on the
 * device's teardown (teardown.c) with the queues joined.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pvacceld.h"

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

int pvad_session_create(struct pvad_queue *q, const vaccel_request_t *req,
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

int pvad_session_destroy(struct pvad_device *dev, const vaccel_request_t *req)
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
