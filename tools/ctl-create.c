/* SPDX-License-Identifier: MIT */
/*
 * ctl-create.c: `pvaccel-ctl create CFG`, xl create with the domain's
 * vaccel devices in place before it runs (docs/admin.md, "Devices that
 * come up with the domain", says why a wrapper and not a watcher).
 *
 *   1. The config is read and every vaccel entry checked (ctl-config.c);
 *      a bad one stops everything before xl runs.
 *   2. `xl create -F -p CFG [KEY=VALUE...]` runs as our child: it builds
 *      the domain paused, then stays to watch it, as xl's own background
 *      process does, and restarts it (on_reboot and the like) paused too.
 *   3. Each time xl reports a domain built ("Waiting for domain NAME
 *      (domid N) to die", its line after libxl_domain_create_new), the
 *      devices are attached to domid N and `xl unpause N` lets it run:
 *      the guest's frontend finds every device at its first look.  A
 *      device that cannot be attached destroys that domain.
 *   4. When xl is done (the domain destroyed for good), once the domain
 *      is gone from xenstore, the backend directories are removed: libxl
 *      removes those of devices it knows, vaccel is not one of them.
 *
 * By default the command returns once the first domain runs, leaving
 * this monitor (and xl under it) in the background with its output in a
 * log, as xl create does; --foreground stays, as xl create -F.
 * A verb: above ctl-config.c and ctl-device.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/ctl.h"

/* What xl create prints once the domain is built (tools/xl/xl_vmcontrol.c). */
#define XL_BUILT "Waiting for domain "

/* The default log, beside xl's own xl-NAME.log. */
#define LOG_DIR "/var/log/xen"

struct monitor {
    struct ctl *c;
    const struct ctl_create_opts *o;
    struct ctl_config cfg;
    int domid;          /* the running incarnation, -1 before the first */
    char *vm;           /* its /vm/<uuid>, to tell it from later ones */
    int report_fd;      /* to the command waiting in the foreground */
    FILE *out;          /* xl's output and ours: stderr, then the log */
};

static void say(struct monitor *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(struct monitor *m, const char *fmt, ...)
{
    va_list ap;

    fputs("pvaccel-ctl: ", m->out);
    va_start(ap, fmt);
    vfprintf(m->out, fmt, ap);
    va_end(ap);
    fputc('\n', m->out);
    fflush(m->out);
}

/* ------------------------------------------------------------ running xl */

/* Exec xl with @args, its output into @out_fd; the pid or -1. */
static pid_t spawn_xl(const char *xl, char *const *args, int out_fd)
{
    pid_t pid = fork();
    int null;

    if (pid != 0)
        return pid;
    null = open("/dev/null", O_RDONLY);

    signal(SIGPIPE, SIG_DFL);
    /* xl reads nothing: the monitor's terminal is not its to keep. */
    if (null < 0 || dup2(null, STDIN_FILENO) < 0 ||
        dup2(out_fd, STDOUT_FILENO) < 0 || dup2(out_fd, STDERR_FILENO) < 0)
        _exit(127);
    execvp(xl, args);
    fprintf(stderr, "pvaccel-ctl: cannot run %s: %s\n", xl, strerror(errno));
    _exit(127);
}

static int wait_exit(pid_t pid)
{
    int status;

    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* `xl VERB DOMID`, waited for; its exit status. */
static int xl_on(struct monitor *m, const char *verb, int domid)
{
    char id[16];
    char *args[] = { (char *)m->o->xl, (char *)verb, id, NULL };
    pid_t pid;

    snprintf(id, sizeof(id), "%d", domid);
    fflush(m->out);
    pid = spawn_xl(m->o->xl, args, fileno(m->out));
    return pid < 0 ? -1 : wait_exit(pid);
}

/* xl create -F -p FILE EXTRA..., its output on a pipe into *@fd. */
static pid_t start_create(struct monitor *m, int *fd)
{
    const struct ctl_create_opts *o = m->o;
    char **args = calloc((size_t)o->nextra + 6, sizeof(*args));
    int p[2], n = 0;
    pid_t pid = -1;

    if (!args || pipe2(p, O_CLOEXEC) < 0) {
        free(args);
        return -1;
    }
    args[n++] = (char *)o->xl;
    args[n++] = "create";
    args[n++] = "-F";
    args[n++] = "-p";
    args[n++] = (char *)o->file;
    for (int i = 0; i < o->nextra; i++)
        args[n++] = o->extra[i];
    pid = spawn_xl(o->xl, args, p[1]);
    free(args);
    close(p[1]);
    if (pid < 0)
        close(p[0]);
    else
        *fd = p[0];
    return pid;
}

/* The domid of xl's "Waiting for domain NAME (domid N) to die" line. */
static int built_domid(const char *line)
{
    const char *s = strstr(line, XL_BUILT);
    int domid;

    if (!s || !(s = strstr(s, " (domid ")) ||
        sscanf(s, " (domid %d)", &domid) != 1 || domid < 1 ||
        domid > CTL_DOMID_MAX)
        return -1;
    return domid;
}

/* ------------------------------------------------------------- devices */

static void remove_devices(struct monitor *m, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++)
        ctl_dev_remove(m->c, &m->cfg.dev[i]);
}

static int attach_devices(struct monitor *m, int domid)
{
    for (unsigned int i = 0; i < m->cfg.n; i++) {
        struct ctl_dev *dev = &m->cfg.dev[i];
        int err;

        dev->fe = domid;
        ctl_dev_paths(dev);
        err = ctl_dev_attach(m->c, dev);
        if (err < 0) {
            say(m, "domain %d: cannot attach vaccel device %d (%s): %s",
                domid, dev->devid, dev->be_path, strerror(-err));
            remove_devices(m, i);
            return err;
        }
    }
    return 0;
}

static void list_devices(struct monitor *m, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (unsigned int i = 0; i < m->cfg.n && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%d",
                                 i ? ", " : "", m->cfg.dev[i].devid);
    if (!m->cfg.n)
        snprintf(buf, len, "none");
}

/* ------------------------------------------------------------ reporting */

/* Tell the waiting command how the first domain went (once). */
static void report(struct monitor *m, bool ok)
{
    char c = ok ? '0' : '1';

    if (m->report_fd < 0)
        return;
    if (write(m->report_fd, &c, 1) != 1)
        say(m, "the command that started this monitor is gone");
    close(m->report_fd);
    m->report_fd = -1;
}

/* From now on the monitor runs alone: its output to the log. */
static int detach_to_log(struct monitor *m)
{
    char path[512];
    int fd, null;
    FILE *f;

    if (m->o->log)
        snprintf(path, sizeof(path), "%s", m->o->log);
    else
        snprintf(path, sizeof(path), LOG_DIR "/pvaccel-ctl-%s.log",
                 m->cfg.name);
    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0 || null < 0 || !(f = fdopen(fd, "a"))) {
        say(m, "cannot open the log %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        if (null >= 0)
            close(null);
        return -1;
    }
    say(m, "domain %s: monitor pid %d, log %s", m->cfg.name, (int)getpid(),
        path);
    fflush(stdout);
    dup2(null, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(null);
    m->out = f;
    return 0;
}

/* ------------------------------------------------------------- the loop */

/* xl built a domain (the first, or a restart): devices, then it runs. */
static void on_built(struct monitor *m, int domid)
{
    bool first = m->domid < 0;
    char *name = ctl_domain_name(m->c, domid), ids[256];

    if (!name || strcmp(name, m->cfg.name)) {
        say(m, "domain %d is not '%s': not ours, left alone", domid,
            m->cfg.name);
        free(name);
        return;
    }
    free(name);
    /* xl destroyed the last one before it built this one. */
    if (!first)
        remove_devices(m, m->cfg.n);
    free(m->vm);
    m->vm = ctl_domain_vm(m->c, domid);
    m->domid = domid;
    if (!m->vm || attach_devices(m, domid) < 0) {
        say(m, "destroying domain %d: its vaccel devices are missing", domid);
        xl_on(m, "destroy", domid);
        report(m, false);
        return;
    }
    list_devices(m, ids, sizeof(ids));
    say(m, "domain %s (domid %d): vaccel devices %s attached", m->cfg.name,
        domid, ids);
    if (!(first && m->o->paused) && xl_on(m, "unpause", domid) != 0) {
        say(m, "destroying domain %d: xl unpause failed", domid);
        xl_on(m, "destroy", domid);
        report(m, false);
        return;
    }
    if (first && !m->o->foreground && detach_to_log(m) < 0) {
        report(m, false);
        return;
    }
    report(m, true);
}

/* Once the last domain is gone, the backend directories go too. */
static void after_xl(struct monitor *m)
{
    if (m->domid < 0 || !m->vm)
        return;
    if (ctl_domain_is(m->c, m->domid, m->vm))
        say(m, "xl is done but domain %d still exists: waiting for it to go",
            m->domid);
    if (ctl_domain_wait_gone(m->c, m->domid, m->vm) < 0)
        say(m, "cannot watch domain %d: its devices are left", m->domid);
    else
        remove_devices(m, m->cfg.n);
    say(m, "domain %s (domid %d) is gone, its vaccel devices removed",
        m->cfg.name, m->domid);
}

static int monitor(struct monitor *m)
{
    char *line = NULL;
    size_t cap = 0;
    FILE *xl_out;
    int fd, status;
    pid_t pid = start_create(m, &fd);

    if (pid < 0 || !(xl_out = fdopen(fd, "r"))) {
        say(m, "cannot run %s: %s", m->o->xl, strerror(errno));
        report(m, false);
        return 1;
    }
    while (getline(&line, &cap, xl_out) >= 0) {
        int domid = built_domid(line);

        fputs(line, m->out);
        fflush(m->out);
        if (domid > 0)
            on_built(m, domid);
    }
    free(line);
    fclose(xl_out);
    status = wait_exit(pid);
    after_xl(m);
    if (m->report_fd >= 0)
        say(m, "%s create failed (exit status %d)", m->o->xl, status);
    report(m, false);
    return status == 0 ? 0 : 1;
}

/* ---------------------------------------------------------- the verb */

static void print_plan(const char *file, const struct ctl_config *cfg)
{
    printf("%s: domain '%s', %u vaccel device(s)\n", file, cfg->name, cfg->n);
    for (unsigned int i = 0; i < cfg->n; i++)
        printf("  vaccel %d: backend %d, params '%s'\n", cfg->dev[i].devid,
               cfg->dev[i].be, cfg->dev[i].params);
}

/* Everything after the fork, or in the foreground: one monitor's life. */
static int run(struct ctl *c, const struct ctl_create_opts *o, int report_fd)
{
    struct monitor m = { .c = c, .o = o, .domid = -1, .report_fd = report_fd,
                         .out = stderr };
    int rc;

    signal(SIGPIPE, SIG_IGN);    /* a terminal gone must not kill us */
    if (ctl_config_read(c, o->file, o->extra, o->nextra, &m.cfg) < 0) {
        report(&m, false);
        return 1;
    }
    if (o->dry_run) {
        print_plan(o->file, &m.cfg);
        ctl_config_free(&m.cfg);
        return 0;
    }
    rc = monitor(&m);
    ctl_config_free(&m.cfg);
    free(m.vm);
    return rc;
}

int ctl_cmd_create(struct ctl *c, const struct ctl_create_opts *o)
{
    int p[2];
    char res = '1';
    pid_t pid;

    if (o->foreground || o->dry_run)
        return ctl_open(c) < 0 ? 1 : run(c, o, -1);
    if (pipe2(p, O_CLOEXEC) < 0) {
        perror("pvaccel-ctl: create");
        return 1;
    }
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        close(p[0]);
        setsid();       /* the monitor outlives this terminal session */
        /* A failure closes the pipe unwritten: the command reports it. */
        _exit(ctl_open(c) < 0 ? 1 : run(c, o, p[1]));
    }
    close(p[1]);
    if (pid < 0) {
        perror("pvaccel-ctl: create");
        close(p[0]);
        return 1;
    }
    while (read(p[0], &res, 1) < 0 && errno == EINTR)
        ;
    close(p[0]);
    return res == '0' ? 0 : 1;
}
