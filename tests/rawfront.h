/* SPDX-License-Identifier: MIT */
/*
 * rawfront.h: a raw vaccel frontend for the backend tests.
 *
 * It does the xenbus handshake by hand and then hands the rings to the
 * test, which may write anything into them: well-formed requests, or
 * whatever a hostile guest would.  Nothing here depends on libpvaccel.
 *
 * Also the fixture the backend tests share: a private sim, pvacceld
 * running in dom0, and the toolstack's attach step (as pvaccel-ctl does
 * it) run in dom0.
 */
#ifndef PVACCEL_TESTS_RAWFRONT_H
#define PVACCEL_TESTS_RAWFRONT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "accelif.h"
#include "platform/platform.h"
#include "tests/testlib.h"

#define RF_MAX_QUEUES 8
#define RF_TIMEOUT_MS 20000    /* a hung backend fails, it does not hang */

struct rf_queue {
    vaccel_front_ring_t ring;
    void *pages;
    pva_gref_t refs[VACCEL_MAX_RING_PAGES];
    pva_port_t port;
};

struct rawfront {
    struct pva_platform *p;
    struct pva_xs *xs;
    struct pva_gntshr *gs;
    struct pva_evtchn *ev;
    int self;
    int backend_id;
    unsigned int devid;
    char fe_path[128];
    char be_path[128];
    unsigned int nq;
    unsigned int order;
    struct rf_queue q[RF_MAX_QUEUES];
    vaccel_evt_sring_t *evt;
    pva_gref_t evt_ref;
    pva_port_t evt_port;
    uint32_t evt_cons;
    uint32_t evt_size;
    bool connected;
};

/* Granted memory of this guest. */
struct rf_mem {
    void *addr;
    pva_gref_t *refs;
    uint32_t npages;
};

/* Open the platform and find device @devid (no handshake yet). */
int rf_init(struct rawfront *f, unsigned int devid);
/* Handshake: wait InitWait, set up @nq queues of 2^@order pages, Connected. */
int rf_connect(struct rawfront *f, unsigned int nq, unsigned int order);
/* Orderly close: Closing, wait for the backend's Closed, free the rings. */
int rf_disconnect(struct rawfront *f);
void rf_fini(struct rawfront *f);
/* End the rings' grants, unbind; -EBUSY if the backend still maps one. */
int rf_release_rings(struct rawfront *f);

/* Read a node of the backend directory as a number (-1 if absent). */
long rf_be_long(struct rawfront *f, const char *node);
char *rf_be_read(struct rawfront *f, const char *node);
/* Block until the backend state is one of @mask (bit per state). */
int rf_wait_be_state(struct rawfront *f, unsigned int mask);
int rf_set_fe_state(struct rawfront *f, int state);
/* Write a node of the frontend directory (a hostile handshake). */
int rf_fe_write(struct rawfront *f, const char *node, const char *value);

/* Requests: fill the slot rf_req() returns, then rf_push(). */
vaccel_request_t *rf_req(struct rawfront *f, unsigned int qi);
void rf_push(struct rawfront *f, unsigned int qi);
/* Next response of queue @qi, copied out; blocks.  0 or -ETIMEDOUT. */
int rf_rsp(struct rawfront *f, unsigned int qi, vaccel_response_t *rsp);
/* Submit one request and wait for its response. */
int rf_call(struct rawfront *f, unsigned int qi, const vaccel_request_t *req,
            vaccel_response_t *rsp);
/*
 * rf_call() on queue 0, returning the response's status (@rsp may be
 * NULL), or RF_NO_ANSWER, which fails every status check, if none came.
 */
#define RF_NO_ANSWER (-9999)
int32_t rf_call_status(struct rawfront *f, const vaccel_request_t *req,
                       vaccel_response_t *rsp);
/* Next event record, waiting up to @timeout_ms.  1 got, 0 none. */
int rf_evt(struct rawfront *f, struct vaccel_evt *evt, int timeout_ms);

/* Memory. */
int rf_mem_alloc(struct rawfront *f, uint32_t npages, bool writable,
                 struct rf_mem *m);
void rf_mem_free(struct rawfront *f, struct rf_mem *m);
/* A page directory chain for @n grants (read-only pages to the backend). */
int rf_dir_build(struct rawfront *f, const pva_gref_t *grefs, uint32_t n,
                 struct rf_mem *dir);
/* MAP_REGION of all of @m at @iova; returns the status. */
int32_t rf_map_region(struct rawfront *f, unsigned int qi, uint64_t iova,
                      struct rf_mem *m, bool writable);
int32_t rf_unmap_region(struct rawfront *f, unsigned int qi, uint64_t iova,
                        uint64_t len);

/* A request with the common header set and everything else zero. */
void rf_req_init(vaccel_request_t *req, uint8_t op, uint64_t id);

/* ------------------------------------------------------------ fixture */

struct rf_env {
    struct pvt_sim sim;
    pid_t backend;
    char sock[256];
};

/*
 * Start the sim and pvacceld.  @opts: "name=value" settings (passed as
 * "-o name=value") or options starting with "--", passed as they are.
 */
int rf_env_start(struct rf_env *e, const char *const *opts);
/* SIGTERM pvacceld and wait; its exit status. */
int rf_env_stop_backend(struct rf_env *e);
int rf_env_start_backend(struct rf_env *e, const char *const *opts);
void rf_env_stop(struct rf_env *e);
/* The toolstack's attach, run in dom0.  0 or -errno. */
int rf_env_attach(struct rf_env *e, int fe, unsigned int devid,
                  const char *params);
/*
 * Keep domain @dom alive (a domain dies with its last process) until
 * rf_env_unhold().  Returns the holder's pid.
 */
pid_t rf_env_hold(struct rf_env *e, int dom, struct pvt_chan *c);
void rf_env_unhold(pid_t holder, struct pvt_chan *c);
/*
 * The backend's admin socket: the reply to "stats" in @buf.  0, or
 * -ETIMEDOUT if the whole reply did not come within RF_TIMEOUT_MS (or
 * @timeout_ms): the daemon serves it from its main loop, so a late reply
 * means that loop was blocked.
 */
int rf_env_stats(struct rf_env *e, char *buf, size_t len);
int rf_env_stats_within(struct rf_env *e, char *buf, size_t len,
                        int timeout_ms);
/* A number after "key": in a JSON reply, from @from on (-1 if absent). */
long long rf_json_num(const char *json, const char *key);

/*
 * What pvacceld holds, from /proc: its threads, and its mappings of guest
 * memory (sim grants are memfd pages).  A device released everything when
 * both are back to what they were before it connected.
 */
unsigned int rf_env_backend_threads(const struct rf_env *e);
unsigned int rf_env_backend_grant_maps(const struct rf_env *e);
/* Block until the xenstore node @path is gone (a watch in dom0).  0 or <0. */
int rf_env_wait_gone(struct rf_env *e, const char *path);
#endif
