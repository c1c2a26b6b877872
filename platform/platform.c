/* SPDX-License-Identifier: MIT */
/*
 * platform.c: choose the xen or sim implementation at run time.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "platform/platform.h"
#include "sim/proto.h"

#define XEN_EVTCHN_DEV "/dev/xen/evtchn"

struct pva_platform *pva_platform_open(const char *name, char *err,
                                       size_t errlen)
{
    char dummy[1];

    if (!err) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    if (name && !strcmp(name, "xen"))
        return pva_platform_xen_open(err, errlen);
    if (name && !strcmp(name, "sim"))
        return pva_platform_sim_open(err, errlen);
    if (name && strcmp(name, "auto")) {
        snprintf(err, errlen, "unknown platform '%s' (use xen, sim or auto)",
                 name);
        errno = EINVAL;
        return NULL;
    }
    if (access(XEN_EVTCHN_DEV, F_OK) == 0)
        return pva_platform_xen_open(err, errlen);
    if (getenv(SIM_ENV_TOKEN))
        return pva_platform_sim_open(err, errlen);
    snprintf(err, errlen,
             "no Xen here (" XEN_EVTCHN_DEV " is missing) and not inside a "
             "sim domain: on Xen load the xen-evtchn, xen-gntdev and "
             "xen-gntalloc modules; for the sim run 'pvaccel-sim start', "
             "then this command under 'pvaccel-sim run DOMAIN -- ...'");
    errno = ENODEV;
    return NULL;
}

void pva_platform_close(struct pva_platform *p)
{
    free(p);
}
