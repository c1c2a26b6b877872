/* SPDX-License-Identifier: MIT */
/*
 * monitor.c: the device's background thread, the frontend's "xenbus
 * watch handler".  It follows the backend state node, consumes the event
 * ring, ends deferred grants, and on a lost connection runs the recovery of
 * accelif.h: stop submissions, let the backend finish if it is closing,
 * declare the connection down (queues then fail what is left with
 * -ENOTCONN, exactly once), connect again, register the regions and
 * sessions the library knows about, and publish the new rings.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend/internal.h"

void fe_wake_queues(struct pva_dev *dev)
{
    uint64_t one = 1;

    for (unsigned int i = 0; i < dev->nqueues; i++)
        (void)!write(dev->queues[i].wake_fd, &one, sizeof(one));
}

/* Hand each queue its new ring, then declare the connection live. */
void fe_publish_connection(struct pva_dev *dev, unsigned int conn,
                           struct fe_ring **rings)
{
    pthread_mutex_lock(&dev->lock);
    for (unsigned int i = 0; i < dev->nqueues; i++) {
        struct pva_queue *q = &dev->queues[i];

        /* Never adopted: its connection is over; the backend is gone. */
        if (q->pending)
            fe_ring_free(dev, q->pending);
        q->pending = rings[i];
        rings[i] = NULL;
    }
    dev->connections++;
    atomic_store_explicit(&dev->live_conn, conn, memory_order_release);
    pthread_cond_broadcast(&dev->cond);
    pthread_mutex_unlock(&dev->lock);
    fe_wake_queues(dev);
}

/* New connection: the scratch page first (keys), then regions, sessions. */
int fe_reregister(struct pva_dev *dev, struct fe_ring *ring)
{
    int rc = dev->scratch ? fe_region_register(dev, dev->scratch, NULL, ring) : 0;

    for (struct pva_region *r = dev->regions; rc == 0 && r; r = r->next)
        rc = fe_region_register(dev, r, NULL, ring);
    for (struct pva_session *s = dev->sessions; rc == 0 && s; s = s->next)
        rc = fe_session_register(dev, s, NULL, ring);
    return rc;
}

/* Stop submissions: queues see live_conn != their ring's connection. */
static void stop_submissions(struct pva_dev *dev)
{
    pthread_mutex_lock(&dev->lock);
    atomic_store_explicit(&dev->live_conn, 0, memory_order_release);
    pthread_mutex_unlock(&dev->lock);
}

/* The backend side of connection @conn is gone: queues fail the rest. */
static void declare_down(struct pva_dev *dev, unsigned int conn)
{
    fe_evt_ring_fini(dev, &dev->evt);
    fe_sessions_mark_lost(dev);
    atomic_store_explicit(&dev->down_conn, conn, memory_order_release);
    fe_wake_queues(dev);
}

static int reconnect_once(struct pva_dev *dev)
{
    struct fe_ring *rings[VACCEL_MAX_QUEUES] = { 0 };
    int rc;

    pthread_mutex_lock(&dev->ctl_lock);
    rc = fe_xb_connect(dev, false, rings, NULL, 0);
    if (rc == 0) {
        rc = fe_reregister(dev, rings[0]);
        if (rc == 0) {
            fe_publish_connection(dev, dev->conn_seq, rings);
        } else {
            /* Lost again while re-registering: this one is down too. */
            declare_down(dev, dev->conn_seq);
            for (unsigned int i = 0; i < dev->nqueues; i++)
                fe_ring_free(dev, rings[i]);
        }
    }
    pthread_mutex_unlock(&dev->ctl_lock);
    return rc;
}

/* Sleep @ms unless the device is being closed (then -ESHUTDOWN). */
static int pause_ms(struct pva_dev *dev, int ms)
{
    struct pollfd pfd = { .fd = dev->stop_fd, .events = POLLIN };

    if (poll(&pfd, 1, ms) > 0)
        return -ESHUTDOWN;
    return 0;
}

/*
 * Is the device still attached?  After a detach (online = "0", or the
 * directories removed) there is nothing to reconnect to until the
 * toolstack attaches it again, which the backend state watch will show.
 */
static bool attached(struct pva_dev *dev)
{
    char path[160];
    char *online, *be;
    bool yes;

    snprintf(path, sizeof(path), "%s/%s", dev->be_path, VACCEL_FIELD_ONLINE);
    online = dev->plat->xs->read(dev->xs, NULL, path, NULL);
    snprintf(path, sizeof(path), "%s/%s", dev->fe_path, VACCEL_FIELD_BACKEND);
    be = dev->plat->xs->read(dev->xs, NULL, path, NULL);
    yes = online && !strcmp(online, "1") && be;
    free(online);
    free(be);
    return yes;
}

static int try_reconnect(struct pva_dev *dev)
{
    for (;;) {
        int rc;

        if (!attached(dev)) {
            dev->need_connect = true;  /* wait for a re-attach */
            return 0;
        }
        rc = reconnect_once(dev);
        if (rc == 0 || rc == -ESHUTDOWN) {
            dev->need_connect = rc != 0;
            return rc;
        }
        /* Handshake refused or lost again: retry, gently. */
        if (pause_ms(dev, 100) < 0)
            return -ESHUTDOWN;
    }
}

static int handle_loss(struct pva_dev *dev, int state)
{
    unsigned int conn = dev->conn_seq;
    int rc;

    stop_submissions(dev);
    if (state == XenbusStateClosing) {
        /* It finishes what it consumed; queues keep reaping meanwhile. */
        rc = fe_xb_wait_be(dev, FE_BIT(XenbusStateClosed) |
                           FE_BIT(XenbusStateInitWait) |
                           FE_BIT(XenbusStateUnknown) |
                           FE_BIT(XenbusStateInitialising), -1, &state);
        if (rc < 0)
            return rc;
    }
    declare_down(dev, conn);
    return try_reconnect(dev);
}

static void *monitor_main(void *arg)
{
    struct pva_dev *dev = arg;
    unsigned int deferred = 0;

    for (;;) {
        struct pollfd pfd[3] = {
            { .fd = dev->stop_fd, .events = POLLIN },
            { .fd = dev->plat->xs->watch_fd(dev->xs), .events = POLLIN },
            { .fd = -1, .events = POLLIN },
        };
        /* Deferred grant ends are retried until the backend lets go. */
        int timeout = deferred ? 100 : -1;

        if (dev->evt_live)
            pfd[2].fd = dev->plat->evtchn->fd(dev->evt.ev);
        if (poll(pfd, 3, timeout) < 0 && errno != EINTR)
            break;
        if (pfd[0].revents & POLLIN)
            break;
        if (dev->evt_live && (pfd[2].revents & POLLIN)) {
            int port = dev->plat->evtchn->pending(dev->evt.ev);

            if (port >= 0)
                dev->plat->evtchn->unmask(dev->evt.ev, (pva_port_t)port);
            fe_evt_ring_drain(dev);
        }
        if (pfd[1].revents & POLLIN) {
            int st;

            fe_xb_drain_watch(dev);
            st = fe_xb_read_be_state(dev);
            if (st != XenbusStateConnected && atomic_load(&dev->live_conn)) {
                if (handle_loss(dev, st) == -ESHUTDOWN)
                    break;
            } else if (dev->need_connect && try_reconnect(dev) == -ESHUTDOWN) {
                break;
            }
        }
        deferred = fe_retire_sweep(dev);
    }
    return NULL;
}

int fe_monitor_start(struct pva_dev *dev)
{
    int rc = pthread_create(&dev->monitor, NULL, monitor_main, dev);

    if (rc)
        return -rc;
    dev->monitor_running = true;
    return 0;
}

void fe_monitor_stop(struct pva_dev *dev)
{
    uint64_t v = 1;

    if (!dev->monitor_running)
        return;
    (void)!write(dev->stop_fd, &v, sizeof(v));
    pthread_join(dev->monitor, NULL);
    dev->monitor_running = false;
    (void)!read(dev->stop_fd, &v, sizeof(v));
}
