/* SPDX-License-Identifier: MIT */
/*
 * connection.c: waiting for the device to be connected, and running a
 * control request on the live connection.
 *
 * The monitor (monitor.c) publishes a connection by storing its id in
 * dev->live_conn and broadcasting dev->cond under dev->lock; this file is
 * the other side of that condition variable.  It sits just above the
 * queues (queue.c), whose connection state it syncs, and below everything
 * that sends control requests (memory.c, session.c, blob.c) and the device
 * (device.c), which sets the condition variable up here.
 *
 * Deadlines are taken from CLOCK_MONOTONIC and the condition variable is
 * told so, so that setting the wall clock neither cuts a wait short nor
 * stretches it.
 */
#include "config.h"

#include <errno.h>
#include <time.h>

#include "frontend/internal.h"

int fe_conn_cond_init(struct pva_dev *dev)
{
    pthread_condattr_t attr;
    int rc = pthread_condattr_init(&attr);

    if (rc)
        return -rc;
    rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&dev->cond, &attr);
    pthread_condattr_destroy(&attr);
    return -rc;
}

void fe_conn_cond_fini(struct pva_dev *dev)
{
    pthread_cond_destroy(&dev->cond);
}

/* @ms (>= 0) from now on the clock of dev->cond. */
static struct timespec deadline_after_ms(int ms)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (long)(ms % 1000) * 1000000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    return t;
}

bool pva_dev_connected(struct pva_dev *dev)
{
    return atomic_load(&dev->live_conn) != 0;
}

int pva_dev_wait_connected(struct pva_dev *dev, int timeout_ms)
{
    struct timespec until = { 0 };
    int rc = 0;

    if (timeout_ms >= 0)
        until = deadline_after_ms(timeout_ms);
    pthread_mutex_lock(&dev->lock);
    while (!atomic_load(&dev->live_conn) && rc == 0) {
        if (dev->closing)
            rc = -ESHUTDOWN;
        else if (timeout_ms < 0)
            pthread_cond_wait(&dev->cond, &dev->lock);
        else if (pthread_cond_timedwait(&dev->cond, &dev->lock, &until))
            rc = -ETIMEDOUT;
    }
    pthread_mutex_unlock(&dev->lock);
    return rc;
}

/*
 * Run @fn with the control lock held and the device connected: if the
 * connection is lost meanwhile (-ENOTCONN), wait for the next one and run
 * it again (the lock is dropped so that the monitor can reconnect).
 */
int fe_with_connection(struct pva_queue *q,
                       int (*fn)(struct pva_queue *q, void *arg), void *arg)
{
    struct pva_dev *dev = q->dev;

    for (;;) {
        int rc = pva_dev_wait_connected(dev, dev->opts.timeout_ms);

        if (rc < 0)
            return rc;
        pthread_mutex_lock(&dev->ctl_lock);
        fe_queue_sync_conn(q);
        rc = q->ring && q->ring->conn == atomic_load(&dev->live_conn)
                 ? fn(q, arg) : -ENOTCONN;
        pthread_mutex_unlock(&dev->ctl_lock);
        if (rc != -ENOTCONN)
            return rc;
    }
}
