/* SPDX-License-Identifier: MIT */
/*
 * session.c: AEAD key sessions and streaming digest sessions.
 *
 * SESSION_CREATE reads the key from the I/O address space, so the key is
 * copied into the device's scratch page for the request and wiped right
 * after the response.  The library keeps its own copy (wiped on destroy)
 * to re-create the session on a new connection.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/internal.h"

static void wipe(void *p, size_t n)
{
    explicit_bzero(p, n);
}

int fe_session_register(struct pva_dev *dev, struct pva_session *s,
                        struct pva_queue *q, struct fe_ring *ring)
{
    vaccel_request_t req = { .op = VACCEL_OP_SESSION_CREATE,
                             .alg = (uint8_t)s->alg };
    uint64_t id = 0;
    int rc;

    if (s->has_key) {
        memcpy(dev->scratch->addr, s->key, sizeof(s->key));
        req.u.session_create.key.iova = dev->scratch->iova;
        req.u.session_create.key.len = sizeof(s->key);
    }
    rc = q ? fe_queue_control(q, &req, &id) : fe_ring_control(dev, ring, &req, &id);
    if (s->has_key)
        wipe(dev->scratch->addr, sizeof(s->key));
    if (rc == 0 && (id == 0 || id > UINT32_MAX))
        rc = -EPROTO;
    if (rc == 0) {
        s->id = (uint32_t)id;
        s->conn = q ? q->ring->conn : ring->conn;
    }
    return rc;
}

static int create_locked(struct pva_queue *q, void *arg)
{
    struct pva_session *s = arg;
    struct pva_dev *dev = q->dev;
    int rc = fe_session_register(dev, s, q, NULL);

    if (rc == 0) {
        pthread_mutex_lock(&dev->lock);
        s->next = dev->sessions;
        dev->sessions = s;
        pthread_mutex_unlock(&dev->lock);
    }
    return rc;
}

int pva_session_create(struct pva_queue *q, int alg, const void *key,
                       size_t keylen, struct pva_session **sp)
{
    struct pva_session *s;
    int rc;

    if (VACCEL_ALG_IS_AEAD(alg)) {
        if (!key || keylen != PVA_AEAD_KEY_LEN)
            return -EINVAL;
    } else if (!VACCEL_ALG_IS_DIGEST(alg) || key || keylen) {
        return -EINVAL;
    }
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->alg = alg;
    if (key) {
        memcpy(s->key, key, PVA_AEAD_KEY_LEN);
        s->has_key = true;
    }
    rc = fe_with_connection(q, create_locked, s);
    if (rc < 0) {
        wipe(s, sizeof(*s));
        free(s);
        return rc;
    }
    *sp = s;
    return 0;
}

static void unlist(struct pva_dev *dev, struct pva_session *s)
{
    pthread_mutex_lock(&dev->lock);
    for (struct pva_session **pp = &dev->sessions; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    pthread_mutex_unlock(&dev->lock);
}

static int destroy_locked(struct pva_queue *q, void *arg)
{
    struct pva_session *s = arg;
    vaccel_request_t req = { .op = VACCEL_OP_SESSION_DESTROY };
    int rc;

    req.handle = atomic_load(&s->id);
    rc = fe_queue_control(q, &req, NULL);
    if (rc == 0 || rc == -ENOTCONN) {
        unlist(q->dev, s);
        return 0;
    }
    return rc;
}

int pva_session_destroy(struct pva_queue *q, struct pva_session *s)
{
    int rc;

    if (!s)
        return 0;
    rc = fe_with_connection(q, destroy_locked, s);
    if (rc == -ETIMEDOUT || rc == -ESHUTDOWN) {
        unlist(q->dev, s);
        rc = 0;
    }
    if (rc < 0)
        return rc;
    wipe(s, sizeof(*s));
    free(s);
    return 0;
}

void fe_sessions_free_all(struct pva_dev *dev)
{
    while (dev->sessions) {
        struct pva_session *s = dev->sessions;

        dev->sessions = s->next;
        wipe(s, sizeof(*s));
        free(s);
    }
}

/* A digest stream cut by the lost connection cannot be resumed. */
void fe_sessions_mark_lost(struct pva_dev *dev)
{
    pthread_mutex_lock(&dev->lock);
    for (struct pva_session *s = dev->sessions; s; s = s->next)
        if (atomic_exchange(&s->stream_open, false))
            atomic_store(&s->stream_lost, true);
    pthread_mutex_unlock(&dev->lock);
}
