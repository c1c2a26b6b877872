/* SPDX-License-Identifier: MIT */
/*
 * pvacceld: the pvaccel backend daemon (dom0 or a driver domain).
 *
 * Serves every vaccel device under backend/vaccel of the domain it runs
 * in: xenbus handshakes, rings, the I/O address space, validation,
 * quotas, and an engine that does the work.  docs/admin.md describes its
 * options, settings and statistics; docs/security.md the rules it follows
 * towards guests.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "backend/pvacceld.h"

static void usage(FILE *f)
{
    fprintf(f,
"Usage: pvacceld [OPTION]...\n"
"Serve pvaccel (vaccel) devices of guests to an accelerator engine.\n"
"\n"
"  -p, --platform=xen|sim|auto  Xen facilities to use (default: auto,\n"
"                               or $PVACCEL_PLATFORM)\n"
"  -e, --engine=NAME            engine serving the devices (default: cpu)\n"
"      --engine-args=STRING     options for the engine\n"
"  -c, --config=FILE            read settings from FILE (name=value lines)\n"
"  -o, --set=NAME=VALUE         one setting (limits, quotas, tuning; see\n"
"                               docs/admin.md); may be repeated\n"
"  -r, --rundir=DIR             where the admin socket lives\n"
"                               (default: /run/pvaccel)\n"
"  -F, --foreground             do not detach; log to stderr\n"
"  -s, --syslog                 log to syslog\n"
"  -l, --log-level=LEVEL        error, warning, info (default), debug\n"
"  -v, --verbose                same as --log-level=debug\n"
"  -h, --help                   this text\n"
"  -V, --version                print the version\n");
}

enum { OPT_ENGINE_ARGS = 256 };

static const struct option long_opts[] = {
    { "platform", required_argument, NULL, 'p' },
    { "engine", required_argument, NULL, 'e' },
    { "engine-args", required_argument, NULL, OPT_ENGINE_ARGS },
    { "config", required_argument, NULL, 'c' },
    { "set", required_argument, NULL, 'o' },
    { "rundir", required_argument, NULL, 'r' },
    { "foreground", no_argument, NULL, 'F' },
    { "syslog", no_argument, NULL, 's' },
    { "log-level", required_argument, NULL, 'l' },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

static int set_pair(struct pvad_config *cfg, char *pair)
{
    char err[256], *eq = strchr(pair, '=');

    if (!eq) {
        fprintf(stderr, "pvacceld: --set %s: expected NAME=VALUE\n", pair);
        return -1;
    }
    *eq = '\0';
    if (pvad_config_set(cfg, pair, eq + 1, err, sizeof(err))) {
        fprintf(stderr, "pvacceld: %s\n", err);
        return -1;
    }
    return 0;
}

/*
 * The config file is read first, wherever --config appears, so that the
 * command line overrides it.
 */
static int parse_args(struct pvad_config *cfg, int argc, char **argv)
{
    const char *short_opts = "p:e:c:o:r:Fsl:vhV";
    char err[256];
    int c;

    for (c = 1; c < argc; c++) {
        const char *file = NULL;

        if (!strncmp(argv[c], "--config=", 9))
            file = argv[c] + 9;
        else if ((!strcmp(argv[c], "--config") || !strcmp(argv[c], "-c")) &&
                 c + 1 < argc)
            file = argv[c + 1];
        if (file && pvad_config_load(cfg, file, err, sizeof(err))) {
            fprintf(stderr, "pvacceld: %s\n", err);
            return -1;
        }
    }
    if (getenv("PVACCEL_PLATFORM"))
        cfg->platform = getenv("PVACCEL_PLATFORM");
    while ((c = getopt_long(argc, argv, short_opts, long_opts, NULL)) != -1) {
        switch (c) {
        case 'p': cfg->platform = optarg; break;
        case 'e': cfg->engine = optarg; break;
        case OPT_ENGINE_ARGS: cfg->engine_args = optarg; break;
        case 'c': break;   /* read above */
        case 'o':
            if (set_pair(cfg, optarg))
                return -1;
            break;
        case 'r': cfg->rundir = optarg; break;
        case 'F': cfg->foreground = true; break;
        case 's': cfg->use_syslog = true; break;
        case 'l':
            if (pvad_config_set(cfg, "log-level", optarg, err, sizeof(err))) {
                fprintf(stderr, "pvacceld: %s\n", err);
                return -1;
            }
            break;
        case 'v': cfg->log_level = PVAD_LOG_DEBUG; break;
        case 'h': usage(stdout); exit(0);
        case 'V': printf("pvacceld %s\n", PACKAGE_VERSION); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "pvacceld: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

static int open_engine(struct pvad *d)
{
    int rc;

    d->eops = pva_engine_find(d->cfg.engine);
    if (!d->eops) {
        pvad_err("no engine named '%s'", d->cfg.engine);
        return -1;
    }
    rc = d->eops->create(d->cfg.engine_args, &d->engine);
    if (rc) {
        pvad_err("engine %s: cannot start (status %d)", d->cfg.engine, rc);
        return -1;
    }
    memset(&d->caps, 0, sizeof(d->caps));
    d->eops->caps(d->engine, &d->caps);
    if (!d->caps.name)
        d->caps.name = d->eops->name;
    if (d->caps.mem == PVA_ENGINE_MEM_BLOB)
        pvad_warn("engine %s wants blobs (bounce buffers), which this "
                  "backend does not provide yet: using mapped memory",
                  d->caps.name);
    pvad_offer_from_caps(&d->offer, &d->caps, d->cfg.max_op_ms);
    return 0;
}

static int open_platform(struct pvad *d)
{
    char err[512];
    int self;

    d->p = pva_platform_open(d->cfg.platform, err, sizeof(err));
    if (!d->p) {
        pvad_err("%s", err);
        return -1;
    }
    d->xs = d->p->xs->open(d->p);
    if (!d->xs) {
        pvad_err("cannot open xenstore: %s", strerror(errno));
        return -1;
    }
    self = d->p->xs->self_domid(d->xs);
    pvad_info("pvacceld %s: platform %s, domain %d, engine %s",
              PACKAGE_VERSION, d->p->name, self, d->caps.name);
    return 0;
}

/*
 * Tell a service manager how far the daemon is (systemd's Type=notify,
 * pvacceld.service): READY=1 once the xenstore watches are set and the
 * admin socket is open, STOPPING=1 when the devices start to be released.
 * Without $NOTIFY_SOCKET (not started by systemd), or built without
 * libsystemd, it does nothing.
 */
static void notify_service_manager(const char *state)
{
#ifdef HAVE_LIBSYSTEMD
    int rc = sd_notify(0, state);

    if (rc < 0)
        pvad_warn("sd_notify %s: %s", state, strerror(-rc));
#else
    (void)state;
#endif
}

/* Termination signals arrive on a signalfd; every thread blocks them. */
static int block_signals(void)
{
    sigset_t set;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL))
        return -1;
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/*
 * Serve until a termination signal (0) or until the daemon cannot go on
 * (-1): the exit status then says it failed, so that a service manager
 * restarts it.
 */
static int main_loop(struct pvad *d, int sigfd)
{
    struct pollfd pfd[4] = {
        { .fd = d->p->xs->watch_fd(d->xs), .events = POLLIN },
        { .fd = sigfd, .events = POLLIN },
        { .fd = d->teardown_fd, .events = POLLIN },
        { .fd = d->admin_fd, .events = POLLIN },
    };

    pvad_xenbus_handle_watches(d);
    for (;;) {
        if (poll(pfd, d->admin_fd >= 0 ? 4 : 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            pvad_err("poll: %s", strerror(errno));
            return -1;
        }
        if (pfd[1].revents) {
            struct signalfd_siginfo si;

            if (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
                if (si.ssi_signo == SIGHUP) {
                    pvad_info("SIGHUP: settings are read at start only");
                } else {
                    pvad_info("signal %u: shutting down", si.ssi_signo);
                    return 0;
                }
            }
        }
        if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL)) {
            pvad_err("lost the xenstore connection");
            return -1;
        }
        if (pfd[0].revents)
            pvad_xenbus_handle_watches(d);
        /* A device's teardown thread has ended: its machine moves on. */
        if (pfd[2].revents)
            pvad_xenbus_handle_teardowns(d);
        if (d->admin_fd >= 0 && pfd[3].revents)
            pvad_admin_serve(d);
    }
}

int main(int argc, char **argv)
{
    struct pvad d;
    int sigfd, rc = 1;

    memset(&d, 0, sizeof(d));
    d.admin_fd = -1;
    pvad_config_defaults(&d.cfg);
    if (parse_args(&d.cfg, argc, argv))
        return 2;
    if (!d.cfg.foreground && !d.cfg.use_syslog)
        d.cfg.use_syslog = true;   /* a daemon has no stderr */
    pvad_log_init(d.cfg.log_level, d.cfg.use_syslog);
    sigfd = block_signals();
    if (sigfd < 0) {
        pvad_err("signals: %s", strerror(errno));
        return 1;
    }
    if (!d.cfg.foreground && daemon(0, 0) < 0) {
        pvad_err("daemon: %s", strerror(errno));
        return 1;
    }
    pvad_quota_init(&d.quota, d.cfg.quota);
    if (open_engine(&d) || open_platform(&d))
        goto out;
    if (pvad_admin_open(&d))
        pvad_warn("admin socket in %s: %s (stats unavailable)", d.cfg.rundir,
                  strerror(errno));
    if (pvad_xenbus_init(&d)) {
        pvad_err("cannot watch %s: %s", d.be_base, strerror(errno));
        goto out;
    }
    notify_service_manager("READY=1");
    rc = main_loop(&d, sigfd) ? 1 : 0;
    notify_service_manager("STOPPING=1");
    pvad_xenbus_shutdown(&d);
out:
    pvad_admin_close(&d);
    if (d.xs)
        d.p->xs->close(d.xs);
    if (d.p)
        pva_platform_close(d.p);
    if (d.engine)
        d.eops->destroy(d.engine);
    pvad_quota_fini(&d.quota);
    free(d.cfg.file_text);
    close(sigfd);
    return rc;
}
