/* SPDX-License-Identifier: MIT */
/*
 * testlib.c: checks and the sim fixture for pvaccel's C tests.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sim/client.h"
#include "tests/testlib.h"

int pvt_failures;
int pvt_checks;

void pvt_report(bool ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    pvt_checks++;
    if (!ok)
        pvt_failures++;
    printf("%s %d - %s:%d: ", ok ? "ok" : "not ok", pvt_checks, file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

int pvt_done(void)
{
    printf("%d checks, %d failed\n", pvt_checks, pvt_failures);
    return pvt_failures ? 1 : 0;
}

const char *pvt_builddir_prog(const char *name, char *buf, size_t len)
{
    const char *top = getenv("top_builddir");

    if (!top)
        return name;
    snprintf(buf, len, "%s/%s", top, name);
    return buf;
}

static int run_wait(char *const argv[])
{
    pid_t pid = fork();

    if (pid < 0)
        return -errno;
    if (pid == 0) {
        execv(argv[0], argv);
        fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    return pvt_wait(pid);
}

int pvt_sim_start(struct pvt_sim *s)
{
    const char *tmp = getenv("TMPDIR");
    char prog[4096];
    int rc;

    snprintf(s->dir, sizeof(s->dir), "%s/pvaccel-test.XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(s->dir)) {
        perror("mkdtemp");
        return -errno;
    }
    {
        char *argv[] = { (char *)pvt_builddir_prog("pvaccel-sim", prog,
                                                   sizeof(prog)),
                         "--dir", s->dir, "start", "--verbose", NULL };

        rc = run_wait(argv);
    }
    if (rc != 0) {
        fprintf(stderr, "testlib: pvaccel-sim start failed (%d)\n", rc);
        return -EIO;
    }
    return 0;
}

static void dump_log(const struct pvt_sim *s)
{
    char path[256], line[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/pvaccel-sim.log", s->dir);
    f = fopen(path, "r");
    if (!f)
        return;
    fprintf(stderr, "---- %s ----\n", path);
    while (fgets(line, sizeof(line), f))
        fputs(line, stderr);
    fclose(f);
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (!d)
        return;
    while ((de = readdir(d))) {
        char path[512];

        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

void pvt_sim_stop(struct pvt_sim *s)
{
    struct sim_client c;
    char byte;

    if (sim_client_connect(&c, s->dir, 0) == 0) {
        if (sim_client_call(&c, SIM_SHUTDOWN, NULL, 0, NULL, 0, NULL, 0,
                            NULL, NULL, 0, NULL) == 0)
            while (read(c.fd, &byte, 1) > 0)
                ;
        sim_client_close(&c);
    }
    if (pvt_failures)
        dump_log(s);
    remove_dir(s->dir);
}

int pvt_sim_create(struct pvt_sim *s, const char *name)
{
    struct sim_domain_create_req req = { 0 };
    struct sim_domain_create_rsp rsp;
    struct sim_client c;
    int err = sim_client_connect(&c, s->dir, 0);

    if (err < 0)
        return err;
    snprintf(req.name, sizeof(req.name), "%s", name ? name : "");
    err = sim_client_call(&c, SIM_DOMAIN_CREATE, &req, sizeof(req), NULL, 0,
                          &rsp, sizeof(rsp), NULL, NULL, 0, NULL);
    sim_client_close(&c);
    return err < 0 ? err : rsp.domid;
}

int pvt_sim_create_fresh(struct pvt_sim *s, const char *prefix)
{
    static unsigned int n;
    char name[SIM_NAME_MAX];
    int domid;

    snprintf(name, sizeof(name), "%s-%u", prefix, ++n);
    domid = pvt_sim_create(s, name);
    PVT_CHECK_MSG(domid > 0, "create domain %s", name);
    return domid;
}

static int admin_domid_call(struct pvt_sim *s, uint32_t type, int domid,
                            int *fd)
{
    struct sim_domid_req req = { .domid = (uint16_t)domid };
    struct sim_client c;
    unsigned int nfds = 0;
    int err = sim_client_connect(&c, s->dir, 0);

    if (err < 0)
        return err;
    err = sim_client_call(&c, type, &req, sizeof(req), NULL, 0, NULL, 0,
                          NULL, fd, fd ? 1 : 0, &nfds);
    sim_client_close(&c);
    if (err == 0 && fd && nfds != 1)
        err = -EPROTO;
    return err;
}

int pvt_sim_destroy(struct pvt_sim *s, int domid)
{
    return admin_domid_call(s, SIM_DOMAIN_DESTROY, domid, NULL);
}

/* In a fresh child: become a process of @domid, as `pvaccel-sim run`. */
static int join_domain(struct pvt_sim *s, int domid)
{
    char buf[512];
    int token = -1;
    int err = admin_domid_call(s, SIM_DOMAIN_JOIN, domid, &token);

    if (err < 0)
        return err;
    if (fcntl(token, F_SETFD, 0) < 0)
        return -errno;
    setenv(SIM_ENV_DIR, s->dir, 1);
    snprintf(buf, sizeof(buf), "%d", domid);
    setenv(SIM_ENV_DOMID, buf, 1);
    snprintf(buf, sizeof(buf), "%d", token);
    setenv(SIM_ENV_TOKEN, buf, 1);
    snprintf(buf, sizeof(buf), "%s/%s", s->dir, SIM_XENSTORED_SOCK);
    setenv("XENSTORED_PATH", buf, 1);
    return 0;
}

/*
 * Fork a child that joins @domid and then runs @body(arg).  Returns only
 * once the child is a member of the domain, so a domain never dies in the
 * gap between one process's exit and another's joining.
 */
static pid_t spawn_joined(struct pvt_sim *s, int domid,
                          void (*body)(void *arg), void *arg)
{
    int pfd[2];
    char ok = 0;
    pid_t pid;

    if (pipe2(pfd, O_CLOEXEC) < 0)
        return -errno;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        int err = -errno;

        close(pfd[0]);
        close(pfd[1]);
        return err;
    }
    if (pid == 0) {
        int err = join_domain(s, domid);

        close(pfd[0]);
        if (err < 0) {
            fprintf(stderr, "testlib: join domain %d: %s\n", domid,
                    strerror(-err));
            _exit(126);
        }
        if (write(pfd[1], "j", 1) != 1)
            _exit(126);
        close(pfd[1]);
        alarm(PVT_CHILD_DEADLINE_S);
        body(arg);
        _exit(127);
    }
    close(pfd[1]);
    if (read(pfd[0], &ok, 1) != 1) {
        close(pfd[0]);
        pvt_wait(pid);
        return -ESRCH;
    }
    close(pfd[0]);
    return pid;
}

struct fn_call {
    int (*fn)(void *);
    void *arg;
};

static void run_fn(void *p)
{
    struct fn_call *call = p;
    int err;

    /* The child's checks are reported through its exit status. */
    pvt_failures = 0;
    err = call->fn(call->arg);
    fflush(stdout);
    _exit(err ? err : (pvt_failures ? 1 : 0));
}

pid_t pvt_sim_spawn(struct pvt_sim *s, int domid, int (*fn)(void *),
                    void *arg)
{
    struct fn_call call = { fn, arg };

    return spawn_joined(s, domid, run_fn, &call);
}

static void run_exec(void *p)
{
    char *const *argv = p;

    execvp(argv[0], argv);
    fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
}

pid_t pvt_sim_spawn_exec(struct pvt_sim *s, int domid, char *const argv[])
{
    return spawn_joined(s, domid, run_exec, (void *)argv);
}

int pvt_wait(pid_t pid)
{
    int status;

    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -errno;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}

int pvt_sim_domstat(struct pvt_sim *s, int domid, struct pvt_sim_domstat *st)
{
    static struct sim_domain_info info[SIM_MSG_MAX / sizeof(struct sim_domain_info)];
    struct sim_client c;
    size_t len = 0;
    int err = sim_client_connect(&c, s->dir, 0);

    if (err < 0)
        return err;
    err = sim_client_call(&c, SIM_DOMAIN_LIST, NULL, 0, NULL, 0, info,
                          sizeof(info), &len, NULL, 0, NULL);
    sim_client_close(&c);
    if (err < 0)
        return err;
    for (size_t i = 0; i < len / sizeof(info[0]); i++)
        if (info[i].domid == domid) {
            st->members = info[i].nr_members;
            st->grants = info[i].nr_grants;
            st->ports = info[i].nr_ports;
            return 0;
        }
    return -ESRCH;
}

int pvt_chan_open(struct pvt_chan *c)
{
    int fds[2];

    if (pipe(fds) < 0)
        return -errno;
    c->rd = fds[0];
    c->wr = fds[1];
    return 0;
}

void pvt_chan_close(struct pvt_chan *c)
{
    if (c->rd >= 0)
        close(c->rd);
    if (c->wr >= 0)
        close(c->wr);
    c->rd = c->wr = -1;
}

int pvt_chan_send(struct pvt_chan *c, uint32_t v)
{
    return write(c->wr, &v, sizeof(v)) == (ssize_t)sizeof(v) ? 0 : -EPIPE;
}

int pvt_chan_recv(struct pvt_chan *c, uint32_t *v)
{
    struct pollfd pfd = { .fd = c->rd, .events = POLLIN };
    ssize_t n;
    int rc;

    /*
     * Every process of a test holds both ends, so a peer that died never
     * gives EOF: without a bound the test would hang instead of failing.
     * This is a failure bound, far beyond any legitimate wait.
     */
    do {
        rc = poll(&pfd, 1, PVT_CHAN_TIMEOUT_S * 1000);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) {
        fprintf(stderr, "pvt_chan_recv: nothing in %d s: did the other "
                "side die?\n", PVT_CHAN_TIMEOUT_S);
        return -ETIMEDOUT;
    }
    do {
        n = read(c->rd, v, sizeof(*v));
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof(*v) ? 0 : -EPIPE;
}
