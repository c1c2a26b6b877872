/* SPDX-License-Identifier: MIT */
/*
 * ctl-domain.c: domains as the toolstack sees them in xenstore: by id or
 * by name (/local/domain/N/name, which xl and the sim write), and an
 * incarnation of a domid told from the next by its /vm/<uuid> path.
 * Below the device and config layers, above ctl-xs.c.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ctl.h"

static bool parse_domid(const char *s, int *domid)
{
    char *end;
    long v;

    if (!*s || (s[0] == '0' && s[1]))
        return false;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < 0 || v > CTL_DOMID_MAX)
        return false;
    *domid = (int)v;
    return true;
}

static char *domain_node(struct ctl *c, int domid, const char *node)
{
    char dir[32];

    snprintf(dir, sizeof(dir), "/local/domain/%d", domid);
    return ctl_read(c, NULL, dir, node);
}

char *ctl_domain_name(struct ctl *c, int domid)
{
    return domain_node(c, domid, "name");
}

char *ctl_domain_vm(struct ctl *c, int domid)
{
    return domain_node(c, domid, "vm");
}

/* The domain named @name, scanning /local/domain as xl's lookup does. */
static int find_by_name(struct ctl *c, const char *name, int *domid)
{
    unsigned int n;
    char **ids = c->p->xs->directory(c->xs, NULL, "/local/domain", &n);
    int rc = -ENOENT;

    for (unsigned int i = 0; ids && i < n && rc; i++) {
        int id;
        char *s;

        if (!parse_domid(ids[i], &id))
            continue;
        s = ctl_domain_name(c, id);
        if (s && !strcmp(s, name)) {
            *domid = id;
            rc = 0;
        }
        free(s);
    }
    free(ids);
    return rc;
}

/*
 * A number is taken as given, as before names were: the devices of a
 * domain that is gone can still be detached.
 */
int ctl_domain_resolve(struct ctl *c, const char *name, int *domid,
                       char *why, size_t whylen)
{
    if (parse_domid(name, domid) || find_by_name(c, name, domid) == 0)
        return 0;
    snprintf(why, whylen, "no domain named '%s'", name);
    return -ENOENT;
}

bool ctl_domain_is(struct ctl *c, int domid, const char *vm)
{
    char *now = ctl_domain_vm(c, domid);
    bool same = now && !strcmp(now, vm);

    free(now);
    return same;
}

int ctl_domain_wait_gone(struct ctl *c, int domid, const char *vm)
{
    int rc = c->p->xs->watch(c->xs, "@releaseDomain", "gone");

    if (rc < 0)
        return rc;
    while (!rc && ctl_domain_is(c, domid, vm))
        rc = ctl_wait_watch(c, -1);
    c->p->xs->unwatch(c->xs, "@releaseDomain", "gone");
    return rc;
}
