/* SPDX-License-Identifier: MIT */
/*
 * loop.c: epoll event loop for the sim daemon.
 *
 * Each watched fd has an entry; epoll carries a pointer to it.  Deleting an
 * entry from inside a callback only marks it dead and unlinks it from the
 * fd lookup list: another event for it may still sit in the batch that
 * epoll_wait() returned, so the memory is released after the batch.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "sim/loop.h"

#define LOOP_BATCH 64

struct loop_entry {
    struct loop_entry *next; /* live list, or the graveyard once dead */
    int fd;
    bool dead;
    sim_loop_cb *cb;
    void *opaque;
};

struct sim_loop {
    int epfd;
    bool stop;
    struct loop_entry *live;
    struct loop_entry *graveyard;
};

struct sim_loop *sim_loop_new(void)
{
    struct sim_loop *loop = calloc(1, sizeof(*loop));

    if (!loop)
        return NULL;
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        free(loop);
        return NULL;
    }
    return loop;
}

static void free_list(struct loop_entry *e)
{
    while (e) {
        struct loop_entry *next = e->next;

        free(e);
        e = next;
    }
}

void sim_loop_free(struct sim_loop *loop)
{
    if (!loop)
        return;
    free_list(loop->live);
    free_list(loop->graveyard);
    close(loop->epfd);
    free(loop);
}

static struct loop_entry **find_link(struct sim_loop *loop, int fd)
{
    struct loop_entry **link;

    for (link = &loop->live; *link; link = &(*link)->next)
        if ((*link)->fd == fd)
            return link;
    return NULL;
}

int sim_loop_add(struct sim_loop *loop, int fd, uint32_t events,
                 sim_loop_cb *cb, void *opaque)
{
    struct loop_entry *e = calloc(1, sizeof(*e));
    struct epoll_event ev = { .events = events };

    if (!e)
        return -ENOMEM;
    e->fd = fd;
    e->cb = cb;
    e->opaque = opaque;
    ev.data.ptr = e;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int err = -errno;

        free(e);
        return err;
    }
    e->next = loop->live;
    loop->live = e;
    return 0;
}

int sim_loop_mod(struct sim_loop *loop, int fd, uint32_t events)
{
    struct loop_entry **link = find_link(loop, fd);
    struct epoll_event ev = { .events = events };

    if (!link)
        return -ENOENT;
    ev.data.ptr = *link;
    return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -errno : 0;
}

void sim_loop_del(struct sim_loop *loop, int fd)
{
    struct loop_entry **link = find_link(loop, fd);
    struct loop_entry *e;

    if (!link)
        return;
    e = *link;
    *link = e->next;
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    e->dead = true;
    e->next = loop->graveyard;
    loop->graveyard = e;
}

void sim_loop_stop(struct sim_loop *loop)
{
    loop->stop = true;
}

int sim_loop_run(struct sim_loop *loop)
{
    struct epoll_event evs[LOOP_BATCH];

    loop->stop = false;
    while (!loop->stop) {
        int n = epoll_wait(loop->epfd, evs, LOOP_BATCH, -1);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        for (int i = 0; i < n; i++) {
            struct loop_entry *e = evs[i].data.ptr;

            if (!e->dead)
                e->cb(loop, e->fd, evs[i].events, e->opaque);
        }
        free_list(loop->graveyard);
        loop->graveyard = NULL;
    }
    return 0;
}
