/* SPDX-License-Identifier: MIT */
/*
 * backend-log: a guest that tries to forge pvacceld's log lines and to
 * plant control sequences in its error node (issue 17, log injection).
 *
 * The guest writes newlines, terminal escape sequences, fake escapes,
 * quotes, non-ASCII octets and a 1500-byte value into the frontend nodes
 * the backend reads at connect; the toolstack's params node gets a newline
 * too.  pvacceld runs with its stderr in a file the test reads once the
 * daemon has exited: every line must be one of its own (timestamp,
 * "pvacceld:", level), every byte printable ASCII, every hostile value
 * there in its escaped form, and each error node the guest reads back
 * likewise escaped and bounded.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/rawfront.h"

static struct rf_env env;

/* A value as the guest writes it, and as the log and error node show it. */
struct hostile {
    const char *node;
    const char *raw;
    const char *escaped;
};

static const struct hostile hostile[] = {
    { VACCEL_FIELD_FE_VERSION, "1\n2024-01-01T00:00:00.000Z pvacceld: "
      "error: forged line", "1\\x0a2024-01-01T00:00:00.000Z pvacceld: "
      "error: forged line" },
    { VACCEL_FIELD_FE_VERSION, "1\r\x1b[2K\x1b[31mred\x1b[0m",
      "1\\x0d\\x1b[2K\\x1b[31mred\\x1b[0m" },
    { VACCEL_FIELD_FE_VERSION, "\\x0a\" is 1", "\\\\x0a\\\" is 1" },
    { VACCEL_FIELD_FE_VERSION, "caf\xc3\xa9\xff\x7f\x01",
      "caf\\xc3\\xa9\\xff\\x7f\\x01" },
    { VACCEL_FIELD_NUM_QUEUES, "2\n[pvacceld] forged queue line",
      "2\\x0a[pvacceld] forged queue line" },
};

#define LONG_VALUE_LEN 1500    /* within the 2048-byte node quota */
#define ERROR_NODE_MAX 256     /* what a bounded error node stays within */

/* Write @len bytes into a frontend node, without rf_fe_write's bound. */
static int fe_write_raw(struct rawfront *f, const char *node, const char *v,
                        size_t len)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", f->fe_path, node);
    return f->p->xs->write(f->xs, NULL, path, v, (unsigned int)len);
}

static bool printable_ascii(const char *s)
{
    for (; *s; s++)
        if (*s < 0x20 || *s > 0x7e)
            return false;
    return true;
}

/*
 * Initialised with the nodes as they are: the backend must refuse with
 * Closing and an error node, which is returned (the caller frees it);
 * then Closed and a fresh InitWait for the next attempt.
 */
static char *refused(struct rawfront *f)
{
    char *err;

    rf_set_fe_state(f, XenbusStateInitialised);
    PVT_EQ_INT(rf_wait_be_state(f, 1u << XenbusStateClosing |
                                   1u << XenbusStateConnected),
               XenbusStateClosing);
    err = rf_be_read(f, VACCEL_FIELD_ERROR);
    rf_set_fe_state(f, XenbusStateClosing);
    PVT_EQ_INT(rf_wait_be_state(f, 1u << XenbusStateClosed),
               XenbusStateClosed);
    rf_set_fe_state(f, XenbusStateInitialising);
    PVT_EQ_INT(rf_wait_be_state(f, 1u << XenbusStateInitWait),
               XenbusStateInitWait);
    return err;
}

static void check_error_node(const char *err, const char *escaped)
{
    PVT_CHECK_MSG(err && strstr(err, escaped), "error node \"%s\" holds "
                  "\"%s\"", err ? err : "(none)", escaped);
    PVT_CHECK_MSG(err && printable_ascii(err), "error node is printable "
                  "ASCII");
}

static void hostile_values(struct rawfront *f)
{
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        const struct hostile *h = &hostile[i];
        char *err;

        /* A queue count is read only after a good version. */
        rf_fe_write(f, VACCEL_FIELD_FE_VERSION, "1");
        PVT_EQ_INT(fe_write_raw(f, h->node, h->raw, strlen(h->raw)), 0);
        err = refused(f);
        check_error_node(err, h->escaped);
        free(err);
    }
    rf_fe_write(f, VACCEL_FIELD_NUM_QUEUES, "1");
}

/* 1500 newlines: the error node and the log line stay short. */
static void long_value(struct rawfront *f)
{
    char *v = malloc(LONG_VALUE_LEN);
    char *err;

    PVT_CHECK(v != NULL);
    if (!v)
        return;
    memset(v, '\n', LONG_VALUE_LEN);
    PVT_EQ_INT(fe_write_raw(f, VACCEL_FIELD_FE_VERSION, v, LONG_VALUE_LEN), 0);
    free(v);
    err = refused(f);
    check_error_node(err, "\"\\x0a\\x0a\\x0a");
    PVT_CHECK_MSG(err && strstr(err, "\\x0a...\" is not a number"),
                  "the value is cut after a whole escape, with an ellipsis: "
                  "%s", err ? err : "(none)");
    PVT_CHECK_MSG(err && strlen(err) < ERROR_NODE_MAX, "error node of %zu "
                  "bytes", err ? strlen(err) : 0);
    free(err);
}

/* Device 1's params (the toolstack's) hold a newline: Closed, escaped. */
static void hostile_params(void)
{
    struct rawfront f;
    char *err;

    PVT_EQ_INT(rf_init(&f, 1), 0);
    PVT_EQ_INT(rf_wait_be_state(&f, 1u << XenbusStateClosed),
               XenbusStateClosed);
    err = rf_be_read(&f, VACCEL_FIELD_ERROR);
    check_error_node(err, "bogus\\x0a[pvacceld] forged params line");
    free(err);
    rf_fini(&f);
}

static int guest(void *arg)
{
    struct rawfront f;

    (void)arg;
    PVT_EQ_INT(rf_init(&f, 0), 0);
    PVT_EQ_INT(rf_wait_be_state(&f, 1u << XenbusStateInitWait),
               XenbusStateInitWait);
    hostile_values(&f);
    long_value(&f);
    /* After all that, a correct handshake still connects. */
    PVT_EQ_INT(rf_connect(&f, 1, 0), 0);
    rf_fini(&f);
    hostile_params();
    return 0;
}

/* ------------------------------------------------------- the log file */

/* Start pvacceld with its stderr in @log (the test keeps its own). */
static int start_logged(FILE *log)
{
    static const char *const opts[] = { "--verbose", NULL };
    int saved = dup(STDERR_FILENO);
    int rc;

    if (saved < 0)
        return -errno;
    fflush(stderr);
    dup2(fileno(log), STDERR_FILENO);
    rc = rf_env_start(&env, opts);
    dup2(saved, STDERR_FILENO);
    close(saved);
    return rc;
}

static char *read_all(FILE *log)
{
    long len;
    char *buf;

    if (fseek(log, 0, SEEK_END) || (len = ftell(log)) < 0 ||
        fseek(log, 0, SEEK_SET))
        return NULL;
    buf = malloc((size_t)len + 1);
    if (buf && fread(buf, 1, (size_t)len, log) != (size_t)len) {
        free(buf);
        return NULL;
    }
    if (buf)
        buf[len] = '\0';
    return buf;
}

/* "2024-01-01T00:00:00.000Z pvacceld: LEVEL: ": a line pvad_log wrote. */
static bool own_line(const char *line)
{
    static const char *const levels[] = { "error: ", "warning: ", "info: ",
                                          "debug: " };
    static const char stamp[] = "####-##-##T##:##:##.###Z pvacceld: ";

    for (size_t i = 0; i < sizeof(stamp) - 1; i++)
        if (stamp[i] == '#' ? line[i] < '0' || line[i] > '9'
                            : line[i] != stamp[i])
            return false;
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (!strncmp(line + sizeof(stamp) - 1, levels[i], strlen(levels[i])))
            return true;
    return false;
}

/* Lines a forger would make: one starting with its fake stamp or tag. */
static bool forged_line(const char *line)
{
    return !strncmp(line, "2024-01-01T00:00:00.000Z", 24) ||
           !strncmp(line, "[pvacceld] forged", 17);
}

static void check_log(const char *log)
{
    unsigned int lines = 0, foreign = 0, forged = 0, unprintable = 0;

    for (const char *line = log; *line; ) {
        size_t len = strcspn(line, "\n");

        lines++;
        if (!own_line(line))
            foreign++;
        if (forged_line(line))
            forged++;
        for (size_t i = 0; i < len; i++)
            if (line[i] < 0x20 || line[i] > 0x7e)
                unprintable++;
        line += len + (line[len] == '\n');
    }
    PVT_CHECK_MSG(lines > 0, "pvacceld logged %u lines", lines);
    PVT_EQ_INT(foreign, 0);
    PVT_EQ_INT(forged, 0);
    PVT_EQ_INT(unprintable, 0);
}

static void check_log_holds(const char *log, const char *escaped)
{
    PVT_CHECK_MSG(strstr(log, escaped) != NULL, "the log holds \"%s\"",
                  escaped);
}

int main(void)
{
    FILE *log = tmpfile();
    char *text;
    pid_t pid;
    int dom;

    if (!log || start_logged(log)) {
        fprintf(stderr, "cannot start the sim and pvacceld\n");
        return 99;
    }
    dom = pvt_sim_create(&env.sim, "forger");
    PVT_CHECK(dom > 0);
    PVT_EQ_INT(rf_env_attach(&env, dom, 0, NULL), 0);
    PVT_EQ_INT(rf_env_attach(&env, dom, 1,
                             "bogus\n[pvacceld] forged params line"), 0);
    pid = pvt_sim_spawn(&env.sim, dom, guest, NULL);
    PVT_EQ_INT(pvt_wait(pid), 0);
    PVT_EQ_INT(rf_env_stop_backend(&env), 0);

    text = read_all(log);
    PVT_CHECK(text != NULL);
    if (text) {
        for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
            check_log_holds(text, hostile[i].escaped);
        check_log_holds(text, "...\" is not a number");
        check_log_holds(text, "bogus\\x0a[pvacceld] forged params line");
        check_log(text);
        if (pvt_failures)
            fprintf(stderr, "---- pvacceld's log ----\n%s", text);
        free(text);
    }
    fclose(log);
    rf_env_stop(&env);
    return pvt_done();
}
