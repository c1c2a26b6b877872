/* SPDX-License-Identifier: MIT */
/*
 * teardown.c: the end of a device's connection, the reverse of
 * pvad_device_connect() (device.c), run off the main thread.
 *
 * A guest decides how long its own teardown takes: every queue thread
 * must finish the requests it consumed, and the engine the jobs it is
 * running, before the rings, regions and ports those use may go.  So the
 * main thread, which serves every other device, the watches and the
 * admin socket, only starts a teardown: it tells the queue threads to stop
 * (each then cancels its work queued in the engine, job.c) and hands the
 * rest to a thread of the device, which
 *
 *   joins the queue threads (they end once the jobs that were running
 *   have completed: the engine has let go of every operand),
 *   closes the engine queues, unmaps the rings and unbinds the ports,
 *   destroys the sessions, frees every region and blob (dma_unmap, then
 *   the grants), the event ring, the engine context and the grant map,
 *
 * and writes d->teardown_fd when it is done.  The main loop then reaps it
 * (pvad_teardown_reap(): join, fold the connection's counters into
 * closed_stats, free the queue array) and the device's machine goes on
 * (xenbus.c).  Until then dev->queues stays allocated, so the stats socket
 * reads live counters of a device being torn down.
 *
 * pvad_device_disconnect() is the same work done at once on the calling
 * thread: connect's error path, freeing a device, and the fallback when no
 * thread can be made.  Called by xenbus.c and device.c; calls the queue
 * layer (queue.c), session.c, region.c and the engine, never back up.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backend/pvacceld.h"

static const struct pva_platform *plat(const struct pvad_device *dev)
{
    return dev->d->p;
}

int pvad_teardown_init(struct pvad *d)
{
    d->teardown_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return d->teardown_fd < 0 ? -errno : 0;
}

void pvad_teardown_fini(struct pvad *d)
{
    if (d->teardown_fd >= 0)
        close(d->teardown_fd);
    d->teardown_fd = -1;
}

/* ------------------------------------------------------------ release */

static void unbind_port(struct pvad_device *dev, struct pva_evtchn **evh,
                        pva_port_t *port)
{
    if (!*evh)
        return;
    if (*port)
        plat(dev)->evtchn->unbind(*evh, *port);
    plat(dev)->evtchn->close(*evh);
    *evh = NULL;
    *port = 0;
}

/* The queue's thread is joined: its engine queue, wake-up fd, ring, port. */
static void release_queue(struct pvad_device *dev, struct pvad_queue *q)
{
    if (q->eq) {
        /* Waits only for jobs that were running: the rest were cancelled. */
        dev->d->eops->queue_close(q->eq);
        q->eq = NULL;
    }
    pvad_queue_fini(q);
    if (q->ring_map) {
        plat(dev)->gntmap->unmap(dev->gm, q->ring_map, q->ring_pages);
        q->ring_map = NULL;
    }
    unbind_port(dev, &q->evh, &q->port);
}

static void release_evtring(struct pvad_device *dev)
{
    struct pvad_evtring *e = &dev->evt;

    e->sring = NULL;
    if (e->map) {
        plat(dev)->gntmap->unmap(dev->gm, e->map, e->npages);
        e->map = NULL;
    }
    unbind_port(dev, &e->evh, &e->port);
}

/*
 * Everything of the connection but the queue array and the locks, which
 * the main thread frees once this is over (finish()).  The queue threads
 * were asked to stop.  Idempotent: every step checks what is left, so it
 * also undoes any partial connect.
 */
static void release_connection(struct pvad_device *dev)
{
    /* First every thread, so nothing below races with the data path. */
    for (unsigned int i = 0; dev->queues && i < dev->nr_queues; i++)
        pvad_queue_join(&dev->queues[i]);
    for (unsigned int i = 0; dev->queues && i < dev->nr_queues; i++)
        release_queue(dev, &dev->queues[i]);
    if (dev->sessions.slots)
        pvad_sessions_release_all(dev);
    if (dev->gm)
        pvad_regions_release_all(dev);
    release_evtring(dev);
    if (dev->ectx) {
        dev->d->eops->ctx_close(dev->ectx);
        dev->ectx = NULL;
    }
    if (dev->gm) {
        plat(dev)->gntmap->close(dev->gm);
        dev->gm = NULL;
    }
    pvad_ioas_fini(&dev->ioas);
}

static void fold_stats(struct pvad_qstats *into, const struct pvad_qstats *s)
{
    for (int i = 0; i < PVAD_STAT_OPS; i++)
        into->ops[i] += s->ops[i];
    for (int i = 0; i < PVAD_STAT_ERRNO; i++)
        into->errors[i] += s->errors[i];
    into->bytes_in += s->bytes_in;
    into->bytes_out += s->bytes_out;
    into->lat_count += s->lat_count;
    into->lat_sum_ns += s->lat_sum_ns;
    into->notifies += s->notifies;
    into->wakeups += s->wakeups;
    into->batches += s->batches;
    if (s->lat_max_ns > into->lat_max_ns)
        into->lat_max_ns = (uint64_t)s->lat_max_ns;
}

/* Main thread, the connection released: what the stats socket reads. */
static void finish(struct pvad_device *dev)
{
    for (unsigned int i = 0; dev->queues && i < dev->nr_queues; i++)
        fold_stats(&dev->closed_stats, &dev->queues[i].stats);
    free(dev->queues);
    dev->queues = NULL;
    dev->nr_queues = 0;
    pthread_mutex_destroy(&dev->evt.lock);
    pthread_mutex_destroy(&dev->fault_lock);
    pthread_rwlock_destroy(&dev->as_lock);
    pthread_mutex_destroy(&dev->ctl_lock);
    dev->connected = false;
    dev->tearing_down = false;
}

/* ------------------------------------------------------------- thread */

static void *teardown_main(void *arg)
{
    struct pvad_device *dev = arg;
    int fd = dev->d->teardown_fd;
    uint64_t one = 1;

    release_connection(dev);
    atomic_store_explicit(&dev->teardown_done, true, memory_order_release);
    /* From here the main thread may reap us: only @fd is used. */
    if (write(fd, &one, sizeof(one)) < 0) {
        /* EAGAIN: the counter is saturated, the main loop wakes anyway. */
    }
    return NULL;
}

/* Every queue stops consuming and cancels its work queued in the engine. */
static void stop_queues(struct pvad_device *dev)
{
    for (unsigned int i = 0; dev->queues && i < dev->nr_queues; i++)
        pvad_queue_ask_stop(&dev->queues[i]);
}

bool pvad_teardown_start(struct pvad_device *dev)
{
    int rc;

    if (dev->tearing_down)
        return true;
    if (!dev->connected)
        return false;
    stop_queues(dev);
    atomic_store(&dev->teardown_done, false);
    dev->tearing_down = true;
    rc = pthread_create(&dev->teardown_thread, NULL, teardown_main, dev);
    if (rc) {
        /* Bounded anyway: the queues' engine work is being cancelled. */
        pvad_warn("vaccel %u/%u: no teardown thread (%s): tearing down on "
                  "the main thread", dev->fe_domid, dev->devid, strerror(rc));
        release_connection(dev);
        finish(dev);
        return false;
    }
    return true;
}

bool pvad_teardown_reap(struct pvad_device *dev)
{
    if (!dev->tearing_down ||
        !atomic_load_explicit(&dev->teardown_done, memory_order_acquire))
        return false;
    pthread_join(dev->teardown_thread, NULL);
    finish(dev);
    return true;
}

void pvad_teardown_wait(struct pvad_device *dev)
{
    if (!dev->tearing_down)
        return;
    pthread_join(dev->teardown_thread, NULL);
    finish(dev);
}

void pvad_device_disconnect(struct pvad_device *dev)
{
    if (dev->tearing_down) {
        pvad_teardown_wait(dev);
        return;
    }
    if (!dev->connected)
        return;
    stop_queues(dev);
    release_connection(dev);
    finish(dev);
}
