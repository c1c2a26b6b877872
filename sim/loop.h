/* SPDX-License-Identifier: MIT */
/*
 * loop.h: the sim daemon's single-threaded event loop (epoll).
 *
 * Callbacks run one at a time; a callback may add or delete any watch,
 * including its own: deleted entries are freed only after the current
 * dispatch batch.
 */
#ifndef PVACCEL_SIM_LOOP_H
#define PVACCEL_SIM_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

struct sim_loop;

/* @events is the epoll event mask that fired (EPOLLIN, EPOLLHUP, ...). */
typedef void sim_loop_cb(struct sim_loop *loop, int fd, uint32_t events,
                         void *opaque);

struct sim_loop *sim_loop_new(void);
void sim_loop_free(struct sim_loop *loop);
/* Watch @fd for @events (EPOLLIN etc.).  Returns 0 or -errno. */
int sim_loop_add(struct sim_loop *loop, int fd, uint32_t events,
                 sim_loop_cb *cb, void *opaque);
int sim_loop_mod(struct sim_loop *loop, int fd, uint32_t events);
/* Stop watching @fd (does not close it). */
void sim_loop_del(struct sim_loop *loop, int fd);
/* Dispatch until sim_loop_stop().  Returns 0 or -errno. */
int sim_loop_run(struct sim_loop *loop);
void sim_loop_stop(struct sim_loop *loop);

#endif
