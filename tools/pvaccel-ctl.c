/* SPDX-License-Identifier: MIT */
/*
 * pvaccel-ctl: dom0 administration of vaccel devices (docs/admin.md,
 * "Devices of a domain").  This file holds the command line: global
 * options, one function per verb for its options, and the usage; the
 * work is in the ctl-*.c files (tools/ctl.h has their layering).
 *
 *   pvaccel-ctl [--platform P] [--rundir DIR] VERB ...
 *     create [-F] [-n] [--paused] [--xl PROG] [--log FILE] CFG [KEY=VALUE...]
 *     attach DOMAIN [SPEC] [--devid N] [--backend-domid B] [--params S]
 *     detach DOMAIN [--devid N] [--backend-domid B]
 *     list DOMAIN [--json]
 *     stats DOMAIN [--json]
 *
 * DOMAIN is a domain id or name.  SPEC is one entry of an xl config's
 * vaccel = [ ... ] list ('queues=2,max-in-flight=256').
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ctl.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pvaccel-ctl [--platform xen|sim|auto] [--rundir DIR] "
            "COMMAND ...\n"
            "  create [-F|--foreground] [-n|--dry-run] [--paused] [--xl PROG]\n"
            "         [--log FILE] CONFIG [KEY=VALUE...]\n"
            "  attach DOMAIN [SPEC] [--devid N] [--backend-domid B] "
            "[--params S]\n"
            "  detach DOMAIN [--devid N] [--backend-domid B]\n"
            "  list DOMAIN [--json]\n"
            "  stats DOMAIN [--json]\n"
            "DOMAIN: a domain id or name.  SPEC: one vaccel entry, e.g. "
            "'queues=2,max-in-flight=256'.\n");
}

static int parse_int(const char *s, int max, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < 0 || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

/* Options every verb takes too, wherever they are on the line. */
#define COMMON_OPTS \
    { "platform", required_argument, NULL, 'P' }, \
    { "rundir", required_argument, NULL, 'R' }, \
    { "help", no_argument, NULL, 'h' }

/* A common option, or -1 for the verb to handle (2: bad, 0: help). */
static int common_opt(struct ctl *c, int opt)
{
    switch (opt) {
    case 'P': c->platform = optarg; return 1;
    case 'R': c->rundir = optarg; return 1;
    case 'h': usage(stdout); return 0;
    case '?': return 2;
    default: return -1;
    }
}

/* The one DOMAIN argument of a verb, resolved; -1 after a message. */
static int domain_arg(struct ctl *c, const char *arg, int *domid)
{
    char why[128];

    if (ctl_open(c) < 0)
        return -1;
    if (ctl_domain_resolve(c, arg, domid, why, sizeof(why)) < 0) {
        fprintf(stderr, "pvaccel-ctl: %s\n", why);
        return -1;
    }
    return 0;
}

static int verb_create(struct ctl *c, int argc, char **argv)
{
    static const struct option opts[] = {
        COMMON_OPTS,
        { "foreground", no_argument, NULL, 'F' },
        { "dry-run", no_argument, NULL, 'n' },
        { "paused", no_argument, NULL, 'p' },
        { "xl", required_argument, NULL, 'x' },
        { "log", required_argument, NULL, 'l' },
        { NULL, 0, NULL, 0 },
    };
    struct ctl_create_opts o = { .xl = "xl" };
    int opt, rc;

    while ((opt = getopt_long(argc, argv, "+Fnh", opts, NULL)) != -1) {
        if ((rc = common_opt(c, opt)) >= 0) {
            if (rc != 1)
                return rc;
            continue;
        }
        switch (opt) {
        case 'F': o.foreground = true; break;
        case 'n': o.dry_run = true; break;
        case 'p': o.paused = true; break;
        case 'x': o.xl = optarg; break;
        case 'l': o.log = optarg; break;
        }
    }
    if (optind >= argc)
        goto bad;
    o.file = argv[optind++];
    /* As xl create: what follows the file is KEY=VALUE config lines. */
    for (int i = optind; i < argc; i++)
        if (!strchr(argv[i], '='))
            goto bad;
    o.extra = argv + optind;
    o.nextra = argc - optind;
    return ctl_cmd_create(c, &o);
bad:
    usage(stderr);
    return 2;
}

/* What attach and detach are told about the device. */
struct dev_args {
    struct ctl_dev dev;
    const char *spec;
    bool options;           /* --devid, --backend-domid or --params given */
};

/* -1 to go on, else an exit status: 0 after --help, 2 for bad usage. */
static int parse_device_args(struct ctl *c, int argc, char **argv,
                             bool attach, struct dev_args *a)
{
    static const struct option opts[] = {
        COMMON_OPTS,
        { "devid", required_argument, NULL, 'd' },
        { "backend-domid", required_argument, NULL, 'b' },
        { "params", required_argument, NULL, 'p' },
        { NULL, 0, NULL, 0 },
    };
    int opt, rc;

    while ((opt = getopt_long(argc, argv, "d:b:p:h", opts, NULL)) != -1) {
        if ((rc = common_opt(c, opt)) >= 0) {
            if (rc != 1)
                return rc;
            continue;
        }
        a->options = true;
        if ((opt == 'd' && parse_int(optarg, CTL_DEVID_MAX, &a->dev.devid)) ||
            (opt == 'b' && parse_int(optarg, CTL_DOMID_MAX, &a->dev.be)) ||
            (opt == 'p' && !attach))
            return 2;
        if (opt == 'p' && (size_t)snprintf(a->dev.params,
                                           sizeof(a->dev.params), "%s",
                                           optarg) >= sizeof(a->dev.params))
            return 2;
    }
    if (argc - optind < 1 || argc - optind > (attach ? 2 : 1))
        return 2;
    a->spec = argc - optind == 2 ? argv[optind + 1] : NULL;
    /* One way to say it: a SPEC, or the options of before. */
    return a->spec && a->options ? 2 : -1;
}

/*
 * The options and arguments of attach (@attach) or detach, DOMAIN
 * resolved into *@domid.  -1 to go on; else the exit status: 0 after
 * --help, 1 after a message, 2 after the usage.
 */
static int device_args(struct ctl *c, int argc, char **argv, bool attach,
                       struct dev_args *a, int *domid)
{
    int rc = parse_device_args(c, argc, argv, attach, a);

    if (rc == 2)
        usage(stderr);
    if (rc >= 0)
        return rc;
    return domain_arg(c, argv[optind], domid) < 0 ? 1 : -1;
}

static int verb_attach(struct ctl *c, int argc, char **argv)
{
    struct dev_args a = { .dev = { .be = 0 } };
    int rc = device_args(c, argc, argv, true, &a, &a.dev.fe), err;

    if (rc >= 0)
        return rc;
    if (a.spec) {
        int fe = a.dev.fe;      /* the entry names no frontend domain */

        if (ctl_config_entry(c, "attach", a.spec, &a.dev) < 0)
            return 1;
        a.dev.fe = fe;
        if (a.dev.devid < 0)
            a.dev.devid = 0;    /* as without a SPEC */
    }
    ctl_dev_paths(&a.dev);
    err = ctl_dev_attach(c, &a.dev);
    if (err == -EEXIST)
        fprintf(stderr, "pvaccel-ctl: vaccel device %d of domain %d "
                "already exists (%s)\n", a.dev.devid, a.dev.fe,
                a.dev.be_path);
    else if (err < 0)
        fprintf(stderr, "pvaccel-ctl: attach: %s\n", strerror(-err));
    else
        printf("attached vaccel device %d of domain %d (backend domain "
               "%d)\n", a.dev.devid, a.dev.fe, a.dev.be);
    return err < 0;
}

static int verb_detach(struct ctl *c, int argc, char **argv)
{
    struct dev_args a = { .dev = { .be = 0 } };
    int rc = device_args(c, argc, argv, false, &a, &a.dev.fe), err, close_err;

    if (rc >= 0)
        return rc;
    ctl_dev_paths(&a.dev);
    err = ctl_dev_detach(c, &a.dev, &close_err);
    if (err == -ENOENT) {
        fprintf(stderr, "pvaccel-ctl: no vaccel device %d of domain %d\n",
                a.dev.devid, a.dev.fe);
        return 1;
    }
    if (err < 0) {
        fprintf(stderr, "pvaccel-ctl: detach: %s\n", strerror(-err));
        return 1;
    }
    if (close_err < 0)
        fprintf(stderr, "pvaccel-ctl: the backend did not close the device "
                "(%s); removed it anyway\n", strerror(-close_err));
    printf("detached vaccel device %d of domain %d\n", a.dev.devid, a.dev.fe);
    return 0;
}

/* list and stats: DOMAIN [--json]. */
static int verb_show(struct ctl *c, int argc, char **argv,
                     int (*show)(struct ctl *c, int domid))
{
    static const struct option opts[] = {
        COMMON_OPTS,
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    int opt, rc, domid;

    while ((opt = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        if ((rc = common_opt(c, opt)) >= 0) {
            if (rc != 1)
                return rc;
            continue;
        }
        c->json = true;
    }
    if (argc - optind != 1) {
        usage(stderr);
        return 2;
    }
    if (domain_arg(c, argv[optind], &domid) < 0)
        return 1;
    return show(c, domid);
}

static int verb_list(struct ctl *c, int argc, char **argv)
{
    return verb_show(c, argc, argv, ctl_cmd_list);
}

static int verb_stats(struct ctl *c, int argc, char **argv)
{
    return verb_show(c, argc, argv, ctl_cmd_stats);
}

static const struct {
    const char *name;
    int (*run)(struct ctl *c, int argc, char **argv);
} verbs[] = {
    { "create", verb_create },
    { "attach", verb_attach },
    { "detach", verb_detach },
    { "list", verb_list },
    { "stats", verb_stats },
};

int main(int argc, char **argv)
{
    static const struct option opts[] = { COMMON_OPTS, { NULL, 0, NULL, 0 } };
    struct ctl c = { .platform = getenv("PVACCEL_PLATFORM"),
                     .rundir = "/run/pvaccel" };
    int opt, rc;

    /* Global options stop at the verb ('+'); the verb parses the rest. */
    while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1)
        if ((rc = common_opt(&c, opt)) != 1)
            return rc < 0 ? 2 : rc;
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
        if (strcmp(argv[optind], verbs[i].name))
            continue;
        argc -= optind;
        argv += optind;
        optind = 0;     /* glibc: start a new scan, argv[0] the verb */
        rc = verbs[i].run(&c, argc, argv);
        ctl_close(&c);
        return rc;
    }
    fprintf(stderr, "pvaccel-ctl: unknown command '%s'\n", argv[optind]);
    usage(stderr);
    return 2;
}
