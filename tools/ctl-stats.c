/* SPDX-License-Identifier: MIT */
/*
 * ctl-stats.c: `pvaccel-ctl stats DOMAIN`, the counters pvacceld keeps
 * for a domain: its devices and its usage against the per-domain quotas,
 * taken from the daemon's admin socket (docs/admin.md, "Statistics")
 * and filtered to the domain.  Text prints every counter the daemon
 * sends, one line per counter, groups (ops, errors, latency) on one
 * line; --json prints them as the daemon wrote them.  A verb: above
 * ctl-json.c.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl_tree.h>

#include "tools/ctl.h"

static yajl_val member(yajl_val obj, const char *key)
{
    const char *path[] = { key, NULL };

    return yajl_tree_get(obj, path, yajl_t_any);
}

static bool has_id(yajl_val obj, const char *key, int id)
{
    yajl_val v = member(obj, key);

    return v && YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) == id;
}

static void print_scalar(yajl_val v)
{
    const char *s = YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) :
                    YAJL_IS_NUMBER(v) ? YAJL_GET_NUMBER(v) : NULL;

    if (s)
        fputs(s, stdout);
    else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
        fputs(YAJL_IS_TRUE(v) ? "true" : "false", stdout);
    else
        fputs("-", stdout);
}

/* "  key: value", or for a group "  key: k=v k=v" ("-" if empty). */
static void print_members(yajl_val obj, const char *skip1, const char *skip2)
{
    for (size_t i = 0; i < obj->u.object.len; i++) {
        const char *key = obj->u.object.keys[i];
        yajl_val v = obj->u.object.values[i];

        if (!strcmp(key, skip1) || !strcmp(key, skip2))
            continue;
        printf("  %s:", key);
        if (YAJL_IS_OBJECT(v)) {
            for (size_t k = 0; k < v->u.object.len; k++) {
                printf(" %s=", v->u.object.keys[k]);
                print_scalar(v->u.object.values[k]);
            }
            if (!v->u.object.len)
                fputs(" -", stdout);
        } else {
            putchar(' ');
            print_scalar(v);
        }
        putchar('\n');
    }
}

static void print_text(int domid, yajl_val devs, yajl_val dom)
{
    for (size_t i = 0; devs && i < devs->u.array.len; i++) {
        yajl_val d = devs->u.array.values[i];
        yajl_val id = member(d, "devid");

        if (!has_id(d, "frontend-id", domid))
            continue;
        printf("vaccel %d/", domid);
        print_scalar(id);
        putchar('\n');
        print_members(d, "frontend-id", "devid");
    }
    if (dom) {
        printf("domain %d\n", domid);
        print_members(dom, "domid", "domid");
    }
}

static int print_json(int domid, yajl_val engine, yajl_val devs,
                      yajl_val dom)
{
    struct ctl_json *j = ctl_json_new();

    if (!j)
        return -ENOMEM;
    ctl_json_map_open(j);
    ctl_json_key(j, "domid");
    ctl_json_int(j, domid);
    ctl_json_key(j, "engine");
    ctl_json_value(j, engine);
    ctl_json_key(j, "devices");
    ctl_json_array_open(j);
    for (size_t i = 0; devs && i < devs->u.array.len; i++)
        if (has_id(devs->u.array.values[i], "frontend-id", domid))
            ctl_json_value(j, devs->u.array.values[i]);
    ctl_json_array_close(j);
    ctl_json_key(j, "domain");
    ctl_json_value(j, dom);
    ctl_json_map_close(j);
    return ctl_json_print(j);
}

/* The domain's entry of "domains", or NULL if it uses nothing. */
static yajl_val find_domain(yajl_val doms, int domid)
{
    for (size_t i = 0; doms && i < doms->u.array.len; i++)
        if (has_id(doms->u.array.values[i], "domid", domid))
            return doms->u.array.values[i];
    return NULL;
}

static yajl_val array_member(yajl_val obj, const char *key)
{
    yajl_val v = member(obj, key);

    return v && YAJL_IS_ARRAY(v) ? v : NULL;
}

int ctl_cmd_stats(struct ctl *c, int domid)
{
    yajl_val tree = ctl_json_backend_stats(c->rundir);
    yajl_val devs, dom;
    int rc = 0;

    if (!tree)
        return 1;
    devs = array_member(tree, "devices");
    dom = find_domain(array_member(tree, "domains"), domid);
    if (c->json)
        rc = print_json(domid, member(tree, "engine"), devs, dom);
    else
        print_text(domid, devs, dom);
    ctl_json_free(tree);
    if (rc < 0)
        fprintf(stderr, "pvaccel-ctl: stats: %s\n", strerror(-rc));
    return rc < 0;
}
