/* SPDX-License-Identifier: MIT */
/*
 * sim.c: the platform on the pvaccel-sim daemon (docs/sim.md).
 *
 * Grant and event channel handles each open their own control connection
 * to the daemon (platform/sim_*.c); xenstore is libxenstore pointed at the
 * sim's xenstored by `pvaccel-sim run`.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/platform.h"
#include "platform/sim.h"
#include "sim/client.h"

struct pva_platform *pva_platform_sim_open(char *err, size_t errlen)
{
    struct pva_platform *p;
    struct sim_client c;
    int rc;

    /* Prove now that the daemon is there and knows us, to fail clearly. */
    rc = sim_client_connect(&c, NULL, 1);
    if (rc == -ENXIO) {
        snprintf(err, errlen, "not inside a sim domain: run this command "
                 "under 'pvaccel-sim run DOMAIN -- ...'");
        errno = ENXIO;
        return NULL;
    }
    if (rc < 0) {
        snprintf(err, errlen, "cannot reach the sim daemon in %s: %s (start "
                 "it with 'pvaccel-sim start')", sim_client_dir(),
                 strerror(-rc));
        errno = -rc;
        return NULL;
    }
    sim_client_close(&c);
    p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->kind = PVA_PLATFORM_SIM;
    p->name = "sim";
    p->gntshr = &pva_sim_gntshr_ops;
    p->gntmap = &pva_sim_gntmap_ops;
    p->evtchn = &pva_sim_evtchn_ops;
    p->xs = &pva_xs_libxenstore_ops;
    return p;
}
