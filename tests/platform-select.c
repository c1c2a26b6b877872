/* SPDX-License-Identifier: MIT */
/*
 * platform-select: choosing xen or sim at run time, and the messages a user
 * gets when neither is there.  Also proves the xen implementation is built
 * and linked against libxen: every op of its tables is present.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "platform/platform.h"
#include "sim/proto.h"
#include "tests/testlib.h"

static struct pvt_sim sim;

static bool has_xen(void)
{
    return access("/dev/xen/evtchn", F_OK) == 0;
}

static void check_tables(const struct pva_platform *p)
{
    PVT_CHECK(p->gntshr->open && p->gntshr->close && p->gntshr->share &&
              p->gntshr->unshare);
    PVT_CHECK(p->gntmap->open && p->gntmap->close && p->gntmap->map &&
              p->gntmap->unmap && p->gntmap->mappings);
    PVT_CHECK(p->evtchn->open && p->evtchn->close && p->evtchn->fd &&
              p->evtchn->bind_unbound && p->evtchn->bind_interdomain &&
              p->evtchn->unbind && p->evtchn->notify && p->evtchn->pending &&
              p->evtchn->unmask);
    PVT_CHECK(p->xs->open && p->xs->read && p->xs->write && p->xs->mkdir &&
              p->xs->rm && p->xs->directory && p->xs->get_perms &&
              p->xs->set_perms && p->xs->watch && p->xs->unwatch &&
              p->xs->watch_fd && p->xs->read_watch && p->xs->txn_start &&
              p->xs->txn_end && p->xs->self_domid);
}

/* Inside a sim domain, "auto" picks the sim and xenstore knows us. */
static int in_domain(void *arg)
{
    char err[256] = "";
    struct pva_platform *p = pva_platform_open(NULL, err, sizeof(err));
    struct pva_xs *xs;

    (void)arg;
    PVT_CHECK_MSG(p != NULL, "auto platform inside a sim domain: %s", err);
    if (!p)
        return 1;
    PVT_EQ_INT(p->kind, has_xen() ? PVA_PLATFORM_XEN : PVA_PLATFORM_SIM);
    check_tables(p);
    xs = p->xs->open(p);
    PVT_CHECK(xs != NULL);
    if (xs) {
        PVT_EQ_INT(p->xs->self_domid(xs), atoi(getenv(SIM_ENV_DOMID)));
        p->xs->close(xs);
    }
    pva_platform_close(p);
    return 0;
}

int main(void)
{
    char err[512];
    struct pva_platform *p;
    int dom;

    unsetenv(SIM_ENV_TOKEN);
    err[0] = '\0';
    p = pva_platform_open("vmware", err, sizeof(err));
    PVT_CHECK(p == NULL && errno == EINVAL && strstr(err, "unknown platform"));

    p = pva_platform_open("xen", err, sizeof(err));
    if (has_xen()) {
        PVT_CHECK(p != NULL);
    } else {
        PVT_CHECK_MSG(p == NULL && strstr(err, "xen-gntdev"),
                      "xen without /dev/xen explains itself: %s", err);
    }
    if (p) {
        check_tables(p);
        pva_platform_close(p);
    }

    if (!has_xen()) {
        p = pva_platform_open(NULL, err, sizeof(err));
        PVT_CHECK_MSG(p == NULL && strstr(err, "pvaccel-sim start"),
                      "neither xen nor sim says what to start: %s", err);
        p = pva_platform_open("sim", err, sizeof(err));
        PVT_CHECK_MSG(p == NULL && strstr(err, "pvaccel-sim run"),
                      "sim outside a domain says how to enter one: %s", err);
    }

    if (pvt_sim_start(&sim) < 0)
        return 99;
    dom = pvt_sim_create(&sim, "guest");
    PVT_CHECK(dom > 0);
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&sim, dom, in_domain, NULL)), 0);
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&sim, 0, in_domain, NULL)), 0);
    {
        int rc = pvt_done();

        pvt_sim_stop(&sim);
        return rc;
    }
}
