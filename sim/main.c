/* SPDX-License-Identifier: MIT */
/*
 * pvaccel-sim: the sim platform's hypervisor and xenstored stand-in.
 *
 *   pvaccel-sim [--dir DIR] start [--foreground] [--verbose]
 *   pvaccel-sim [--dir DIR] stop
 *   pvaccel-sim [--dir DIR] create [--domid N] [NAME] [-- CMD [ARG...]]
 *   pvaccel-sim [--dir DIR] destroy DOMAIN
 *   pvaccel-sim [--dir DIR] list
 *   pvaccel-sim [--dir DIR] run DOMAIN -- CMD [ARG...]
 *
 * DOMAIN is a domid or a name.  See docs/sim.md.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/client.h"
#include "sim/daemon.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: pvaccel-sim [--dir DIR] COMMAND [ARGS]\n"
            "\n"
            "  start [--foreground] [--verbose]  start the sim daemon\n"
            "  stop                              end every domain's processes,"
            " dom0's\n"
            "                                    too (SIGTERM, SIGKILL after"
            " 5 s),\n"
            "                                    then the daemon\n"
            "  create [--domid N] [NAME] [-- CMD...]\n"
            "                                    create a domain, print its"
            " domid,\n"
            "                                    optionally run CMD in it\n"
            "  destroy DOMAIN                    kill a domain's processes,"
            " free it\n"
            "  list                              list the domains\n"
            "  run DOMAIN -- CMD [ARG...]        run CMD as a process of"
            " DOMAIN\n"
            "\n"
            "DIR defaults to $" SIM_ENV_DIR " or " SIM_DEFAULT_DIR ".\n"
            "DOMAIN is a domid or a domain name.\n");
}

static int die_errno(int err, const char *what)
{
    fprintf(stderr, "pvaccel-sim: %s: %s\n", what, strerror(-err));
    if (err == -ENOENT || err == -ECONNREFUSED)
        fprintf(stderr, "pvaccel-sim: is the sim running? start it with "
                        "'pvaccel-sim start'\n");
    return 1;
}

static int admin_connect(struct sim_client *c, const char *dir)
{
    return sim_client_connect(c, dir, 0);
}

/* ---- start / stop ----------------------------------------------------- */

static int serve(const char *dir, bool verbose, int ready_fd)
{
    char err[512] = "";
    struct simd *s = simd_new(dir, verbose, err, sizeof(err));
    int rc;

    if (!s) {
        if (ready_fd >= 0 && write(ready_fd, err, strlen(err)) < 0)
            return 1;
        fprintf(stderr, "pvaccel-sim: %s\n", err);
        return 1;
    }
    if (ready_fd >= 0) {
        if (write(ready_fd, "", 1) != 1)
            return 1;
        close(ready_fd);
    }
    rc = simd_run(s);
    simd_free(s);
    return rc < 0 ? 1 : 0;
}

static void redirect_stdio(const char *dir)
{
    char log[PATH_MAX];
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    int fd;

    snprintf(log, sizeof(log), "%s/pvaccel-sim.log", dir);
    fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        dup2(null, STDOUT_FILENO);
        close(null);
    }
    if (fd >= 0) {
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
}

/* Fork the daemon; return once it is serving (or has failed to start). */
static int start_background(const char *dir, bool verbose)
{
    char msg[512];
    int pfd[2];
    ssize_t n;
    pid_t pid;

    if (pipe2(pfd, O_CLOEXEC) < 0)
        return die_errno(-errno, "pipe");
    pid = fork();
    if (pid < 0)
        return die_errno(-errno, "fork");
    if (pid == 0) {
        close(pfd[0]);
        setsid();
        redirect_stdio(dir);
        _exit(serve(dir, verbose, pfd[1]));
    }
    close(pfd[1]);
    n = read(pfd[0], msg, sizeof(msg) - 1);
    close(pfd[0]);
    if (n == 1 && msg[0] == '\0') {
        printf("pvaccel-sim: running in %s (pid %d)\n", dir, (int)pid);
        return 0;
    }
    msg[n > 0 ? n : 0] = '\0';
    fprintf(stderr, "pvaccel-sim: failed to start: %s\n",
            n > 0 ? msg : "daemon exited");
    waitpid(pid, NULL, 0);
    return 1;
}

static int cmd_start(const char *dir, int argc, char **argv)
{
    static const struct option opts[] = {
        { "foreground", no_argument, NULL, 'f' },
        { "verbose", no_argument, NULL, 'v' },
        { NULL, 0, NULL, 0 },
    };
    bool fg = false, verbose = false;
    struct sim_client c;
    int opt;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "+fv", opts, NULL)) != -1) {
        if (opt == 'f')
            fg = true;
        else if (opt == 'v')
            verbose = true;
        else
            return 2;
    }
    if (admin_connect(&c, dir) == 0) {
        sim_client_close(&c);
        fprintf(stderr, "pvaccel-sim: already running in %s\n", dir);
        return 1;
    }
    if (fg)
        return serve(dir, verbose, -1);
    return start_background(dir, verbose);
}

static int cmd_stop(const char *dir)
{
    struct sim_client c;
    char byte;
    int err = admin_connect(&c, dir);

    if (err < 0)
        return die_errno(err, "stop");
    err = sim_client_call(&c, SIM_SHUTDOWN, NULL, 0, NULL, 0, NULL, 0, NULL,
                          NULL, 0, NULL);
    if (err < 0) {
        sim_client_close(&c);
        return die_errno(err, "stop");
    }
    /*
     * The daemon ends the domains' processes, then exits: its end of the
     * socket closes only then.
     */
    while (read(c.fd, &byte, 1) > 0)
        ;
    sim_client_close(&c);
    return 0;
}

/* ---- domains ---------------------------------------------------------- */

static int list_domains(const char *dir, struct sim_domain_info *info,
                        size_t max, size_t *n)
{
    struct sim_client c;
    size_t len = 0;
    int err = admin_connect(&c, dir);

    if (err < 0)
        return err;
    err = sim_client_call(&c, SIM_DOMAIN_LIST, NULL, 0, NULL, 0, info,
                          max * sizeof(*info), &len, NULL, 0, NULL);
    sim_client_close(&c);
    *n = len / sizeof(*info);
    return err;
}

/* A domid or a name; -ESRCH if no such domain. */
static int resolve_domain(const char *dir, const char *spec)
{
    static struct sim_domain_info info[SIM_MSG_MAX / sizeof(struct sim_domain_info)];
    size_t n;
    char *end;
    long id;
    int err = list_domains(dir, info, sizeof(info) / sizeof(info[0]), &n);

    if (err < 0)
        return err;
    errno = 0;
    id = strtol(spec, &end, 10);
    for (size_t i = 0; i < n; i++) {
        if ((!*end && !errno && info[i].domid == id) ||
            !strncmp(info[i].name, spec, sizeof(info[i].name)))
            return info[i].domid;
    }
    return -ESRCH;
}

static int cmd_list(const char *dir)
{
    static struct sim_domain_info info[SIM_MSG_MAX / sizeof(struct sim_domain_info)];
    size_t n;
    int err = list_domains(dir, info, sizeof(info) / sizeof(info[0]), &n);

    if (err < 0)
        return die_errno(err, "list");
    printf("%-24s %5s %8s %7s %6s\n", "Name", "ID", "Procs", "Grants",
           "Ports");
    for (size_t i = n; i-- > 0;)
        printf("%-24.*s %5u %8u %7u %6u\n", SIM_NAME_MAX, info[i].name,
               info[i].domid, info[i].nr_members, info[i].nr_grants,
               info[i].nr_ports);
    return 0;
}

static int cmd_destroy(const char *dir, const char *spec)
{
    struct sim_domid_req req = { 0 };
    struct sim_client c;
    int id = resolve_domain(dir, spec);
    int err;

    if (id < 0)
        return die_errno(id, spec);
    err = admin_connect(&c, dir);
    if (err < 0)
        return die_errno(err, "destroy");
    req.domid = (uint16_t)id;
    err = sim_client_call(&c, SIM_DOMAIN_DESTROY, &req, sizeof(req), NULL, 0,
                          NULL, 0, NULL, NULL, 0, NULL);
    sim_client_close(&c);
    return err < 0 ? die_errno(err, "destroy") : 0;
}

static int setenv_num(const char *name, long v)
{
    char buf[32];

    snprintf(buf, sizeof(buf), "%ld", v);
    return setenv(name, buf, 1);
}

/* Join @domid and exec @argv as one of its processes. */
static int exec_in_domain(const char *dir, int domid, char **argv)
{
    struct sim_domid_req req = { .domid = (uint16_t)domid };
    char xs_path[PATH_MAX];
    struct sim_client c;
    unsigned int nfds = 0;
    int token = -1;
    int err = admin_connect(&c, dir);

    if (err < 0)
        return die_errno(err, "run");
    err = sim_client_call(&c, SIM_DOMAIN_JOIN, &req, sizeof(req), NULL, 0,
                          NULL, 0, NULL, &token, 1, &nfds);
    sim_client_close(&c);
    if (err < 0 || nfds != 1)
        return die_errno(err < 0 ? err : -EPROTO, "run");
    /* The token must survive exec: it is the domain's life line. */
    if (fcntl(token, F_SETFD, 0) < 0)
        return die_errno(-errno, "run");
    snprintf(xs_path, sizeof(xs_path), "%s/%s", dir, SIM_XENSTORED_SOCK);
    if (setenv(SIM_ENV_DIR, dir, 1) || setenv_num(SIM_ENV_DOMID, domid) ||
        setenv_num(SIM_ENV_TOKEN, token) ||
        setenv("XENSTORED_PATH", xs_path, 1))
        return die_errno(-errno, "run");
    execvp(argv[0], argv);
    fprintf(stderr, "pvaccel-sim: %s: %s\n", argv[0], strerror(errno));
    return 127;
}

static int cmd_run(const char *dir, int argc, char **argv)
{
    int id;

    if (argc < 3 || strcmp(argv[2], "--") || argc < 4) {
        fprintf(stderr, "usage: pvaccel-sim run DOMAIN -- CMD [ARG...]\n");
        return 2;
    }
    id = resolve_domain(dir, argv[1]);
    if (id < 0)
        return die_errno(id, argv[1]);
    return exec_in_domain(dir, id, argv + 3);
}

static int cmd_create(const char *dir, int argc, char **argv)
{
    struct sim_domain_create_req req = { 0 };
    struct sim_domain_create_rsp rsp;
    struct sim_client c;
    int i, err;

    for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
        if (!strcmp(argv[i], "--domid") && i + 1 < argc) {
            req.domid = (uint16_t)atoi(argv[++i]);
            if (req.domid == 0) {
                fprintf(stderr, "pvaccel-sim: --domid: 1..%u\n", 0x7fef);
                return 2;
            }
        } else if (argv[i][0] != '-' && !req.name[0] &&
                   strlen(argv[i]) < sizeof(req.name)) {
            strcpy(req.name, argv[i]);
        } else {
            usage(stderr);
            return 2;
        }
    }
    err = admin_connect(&c, dir);
    if (err < 0)
        return die_errno(err, "create");
    err = sim_client_call(&c, SIM_DOMAIN_CREATE, &req, sizeof(req), NULL, 0,
                          &rsp, sizeof(rsp), NULL, NULL, 0, NULL);
    sim_client_close(&c);
    if (err < 0)
        return die_errno(err, "create");
    if (i + 1 < argc)
        return exec_in_domain(dir, rsp.domid, argv + i + 1);
    printf("%u\n", rsp.domid);
    return 0;
}

/* The runtime dir, created if needed, as an absolute path. */
static char *runtime_dir(const char *dir, bool create)
{
    if (create && mkdir(dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "pvaccel-sim: %s: %s\n", dir, strerror(errno));
        return NULL;
    }
    return realpath(dir, NULL) ?: strdup(dir);
}

int main(int argc, char **argv)
{
    const char *dir_arg = sim_client_dir();
    const char *cmd;
    char *dir;
    int i = 1, rc;

    if (argc > 2 && !strcmp(argv[1], "--dir")) {
        dir_arg = argv[2];
        i = 3;
    }
    if (i >= argc || !strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
        usage(i >= argc ? stderr : stdout);
        return i >= argc ? 2 : 0;
    }
    cmd = argv[i];
    dir = runtime_dir(dir_arg, !strcmp(cmd, "start"));
    if (!dir)
        return 1;
    argc -= i;
    argv += i;
    if (!strcmp(cmd, "start"))
        rc = cmd_start(dir, argc, argv);
    else if (!strcmp(cmd, "stop"))
        rc = cmd_stop(dir);
    else if (!strcmp(cmd, "create"))
        rc = cmd_create(dir, argc, argv);
    else if (!strcmp(cmd, "destroy") && argc == 2)
        rc = cmd_destroy(dir, argv[1]);
    else if (!strcmp(cmd, "list"))
        rc = cmd_list(dir);
    else if (!strcmp(cmd, "run"))
        rc = cmd_run(dir, argc, argv);
    else {
        usage(stderr);
        rc = 2;
    }
    free(dir);
    return rc;
}
