/* SPDX-License-Identifier: MIT */
/*
 * ctl-list.c: `pvaccel-ctl list DOMAIN`, the vaccel devices of a domain
 * as `xl block-list` shows disks: one line per device from the nodes
 * both sides keep in xenstore (accelif.h's node list): the backend's
 * state, engine and error, the frontend's queues.  --json prints the
 * same as one object.  A verb: above ctl-json.c and ctl-xs.c.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xen/io/xenbus.h>

#include "accelif.h"
#include "tools/ctl.h"

/* What list shows of one device. */
struct dev_info {
    long devid, be, state, fe_state, queues, max_queues;
    char *be_path, *engine, *params, *error;
};

static void info_free(struct dev_info *d)
{
    free(d->be_path);
    free(d->engine);
    free(d->params);
    free(d->error);
}

/* The device of @fe_dir: its backend is where the frontend says. */
static void read_info(struct ctl *c, const char *fe_dir, long devid,
                      struct dev_info *d)
{
    *d = (struct dev_info){ .devid = devid };
    d->be_path = ctl_read(c, NULL, fe_dir, VACCEL_FIELD_BACKEND);
    d->be = ctl_read_long(c, NULL, fe_dir, VACCEL_FIELD_BACKEND_ID, -1);
    d->fe_state = ctl_read_long(c, NULL, fe_dir, VACCEL_FIELD_STATE, -1);
    d->state = -1;
    d->queues = d->max_queues = -1;
    if (!d->be_path)
        return;
    d->state = ctl_read_long(c, NULL, d->be_path, VACCEL_FIELD_STATE, -1);
    d->engine = ctl_read(c, NULL, d->be_path, VACCEL_FIELD_ENGINE);
    d->params = ctl_read(c, NULL, d->be_path, VACCEL_FIELD_PARAMS);
    d->error = ctl_read(c, NULL, d->be_path, VACCEL_FIELD_ERROR);
    d->max_queues = ctl_read_long(c, NULL, d->be_path,
                                  VACCEL_FIELD_MAX_QUEUES, -1);
    /* One queue needs no multi-queue-num-queues node (docs/protocol.md). */
    if (d->state == XenbusStateConnected)
        d->queues = ctl_read_long(c, NULL, fe_dir, VACCEL_FIELD_NUM_QUEUES,
                                  1);
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;

    return (x > y) - (x < y);
}

/* The domain's device ids, in order; *n of them (malloc()ed). */
static long *devids(struct ctl *c, const char *dir, unsigned int *n)
{
    char **names = c->p->xs->directory(c->xs, NULL, dir, n);
    long *ids = names ? calloc(*n + 1, sizeof(*ids)) : NULL;
    unsigned int k = 0;

    for (unsigned int i = 0; ids && i < *n; i++) {
        char *end;
        long v = strtol(names[i], &end, 10);

        if (!*end && end != names[i] && v >= 0 && v <= CTL_DEVID_MAX)
            ids[k++] = v;
    }
    free(names);
    *n = k;
    if (ids)
        qsort(ids, k, sizeof(*ids), cmp_long);
    return ids;
}

static void print_num(long v, int width)
{
    if (v < 0)
        printf("%-*s", width, "-");
    else
        printf("%-*ld", width, v);
}

static void print_text(const struct dev_info *d, unsigned int n)
{
    printf("%-6s %-4s %-6s %-7s %-8s %s\n", "Devid", "BE", "State", "Queues",
           "Engine", "BE-path");
    for (unsigned int i = 0; i < n; i++) {
        printf("%-6ld ", d[i].devid);
        print_num(d[i].be, 4);
        putchar(' ');
        print_num(d[i].state, 6);
        putchar(' ');
        print_num(d[i].queues, 7);
        printf(" %-8s %s\n", d[i].engine ? d[i].engine : "-",
               d[i].be_path ? d[i].be_path : "-");
        if (d[i].error && *d[i].error)
            printf("       error: %s\n", d[i].error);
    }
}

static void json_num(struct ctl_json *j, const char *key, long v)
{
    ctl_json_key(j, key);
    if (v < 0)
        ctl_json_null(j);
    else
        ctl_json_int(j, v);
}

static void json_str(struct ctl_json *j, const char *key, const char *s)
{
    ctl_json_key(j, key);
    ctl_json_string(j, s);
}

static int print_json(int domid, const char *name, const struct dev_info *d,
                      unsigned int n)
{
    struct ctl_json *j = ctl_json_new();

    if (!j)
        return -ENOMEM;
    ctl_json_map_open(j);
    json_num(j, "domid", domid);
    json_str(j, "name", name);
    ctl_json_key(j, "devices");
    ctl_json_array_open(j);
    for (unsigned int i = 0; i < n; i++) {
        ctl_json_map_open(j);
        json_num(j, "devid", d[i].devid);
        json_num(j, "backend-id", d[i].be);
        json_str(j, "backend", d[i].be_path);
        json_num(j, "state", d[i].state);
        json_num(j, "frontend-state", d[i].fe_state);
        json_num(j, "queues", d[i].queues);
        json_num(j, "max-queues", d[i].max_queues);
        json_str(j, "engine", d[i].engine);
        json_str(j, "params", d[i].params);
        json_str(j, "error", d[i].error);
        ctl_json_map_close(j);
    }
    ctl_json_array_close(j);
    ctl_json_map_close(j);
    return ctl_json_print(j);
}

int ctl_cmd_list(struct ctl *c, int domid)
{
    char dir[64], *name = ctl_domain_name(c, domid);
    struct dev_info *d;
    unsigned int n = 0;
    long *ids;
    int rc;

    snprintf(dir, sizeof(dir), "/local/domain/%d/device/%s", domid,
             VACCEL_DEVICE_TYPE);
    ids = devids(c, dir, &n);
    if (!ids && errno != ENOENT) {
        fprintf(stderr, "pvaccel-ctl: list: %s: %s\n", dir, strerror(errno));
        free(name);
        return 1;
    }
    d = calloc(n + 1, sizeof(*d));
    for (unsigned int i = 0; d && i < n; i++) {
        char fe_dir[96];

        snprintf(fe_dir, sizeof(fe_dir), "%s/%ld", dir, ids[i]);
        read_info(c, fe_dir, ids[i], &d[i]);
    }
    if (!d)
        rc = -ENOMEM;
    else if (c->json)
        rc = print_json(domid, name, d, n);
    else
        rc = (print_text(d, n), 0);
    for (unsigned int i = 0; d && i < n; i++)
        info_free(&d[i]);
    free(d);
    free(ids);
    free(name);
    if (rc < 0)
        fprintf(stderr, "pvaccel-ctl: list: %s\n", strerror(-rc));
    return rc < 0;
}
