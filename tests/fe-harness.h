/* SPDX-License-Identifier: MIT */
/*
 * fe-harness.h: the whole stack for libpvaccel's integration tests: a
 * private sim, pvacceld (CPU engine) in dom0, guests with a vaccel device
 * attached by pvaccel-ctl, and helpers to open the device in a guest.
 */
#ifndef PVACCEL_FE_HARNESS_H
#define PVACCEL_FE_HARNESS_H

#include <sys/types.h>

#include "frontend/pvaccel.h"
#include "tests/testlib.h"

#define FE_MAX_GUESTS 4

struct fe_env {
    struct pvt_sim sim;
    pid_t backend;
    int guest[FE_MAX_GUESTS];
    int nguests;
    char sim_prog[4096];
};

/*
 * Sim + backend + @nguests guests each with vaccel 0.  Returns 0 (or 99).
 * A test that runs longer than FE_TEST_TIMEOUT seconds stops the sim and
 * fails (exit 99) instead of hanging the suite.
 */
#define FE_TEST_TIMEOUT 300
int fe_env_start(struct fe_env *e, int nguests);
/* Start pvacceld (again); returns 0 or -errno. */
int fe_env_backend_start(struct fe_env *e);
/* SIGKILL the backend and reap it. */
void fe_env_backend_kill(struct fe_env *e);
void fe_env_stop(struct fe_env *e);

/* Open vaccel 0 in the calling guest process (sim platform). */
int fe_open(struct pva_dev **dev, unsigned int queues, unsigned int flags);
/* The same with an event callback. */
int fe_open_events(struct pva_dev **dev, unsigned int queues, unsigned int flags,
                   pva_event_fn *fn, void *arg);

/* A buffer or die (with a failed check). */
void fe_buf(struct pva_queue *q, size_t len, struct pva_buf *b);

#endif
