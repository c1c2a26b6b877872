/* SPDX-License-Identifier: MIT */
/*
 * ctl-json.c: JSON in and out of pvaccel-ctl, with libyajl (the library
 * libxl itself uses for its JSON): the reply of pvacceld's admin socket
 * (backend/stats.c, docs/admin.md "Statistics") parsed into a tree, and
 * the --json output of list and stats written with yajl's generator, so
 * that every string is escaped as JSON requires.  Below the verbs.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <yajl_gen.h>
#include <yajl_tree.h>

#include "tools/ctl.h"

/* The whole reply: pvacceld answers one line and closes. */
#define STATS_MAX (4 << 20)

static int admin_connect(const char *rundir)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/pvacceld.sock",
                         rundir) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int err = errno;

        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

static char *read_reply(int fd)
{
    size_t n = 0, cap = 16384;
    char *buf = malloc(cap);
    ssize_t got;

    while (buf) {
        if (cap - n < 2) {
            char *more = cap < STATS_MAX ? realloc(buf, cap *= 2) : NULL;

            if (!more) {
                free(buf);
                errno = ENOMEM;
                return NULL;
            }
            buf = more;
        }
        got = read(fd, buf + n, cap - n - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            free(buf);
            return NULL;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    if (buf)
        buf[n] = '\0';
    return buf;
}

struct yajl_val_s *ctl_json_backend_stats(const char *rundir)
{
    char err[256];
    yajl_val tree;
    char *reply;
    int fd = admin_connect(rundir);

    if (fd < 0) {
        fprintf(stderr, "pvaccel-ctl: stats: cannot reach pvacceld at "
                "%s/pvacceld.sock: %s\n", rundir, strerror(errno));
        return NULL;
    }
    if (write(fd, "stats\n", 6) != 6 || !(reply = read_reply(fd))) {
        fprintf(stderr, "pvaccel-ctl: stats: %s/pvacceld.sock: %s\n",
                rundir, strerror(errno));
        close(fd);
        return NULL;
    }
    close(fd);
    tree = yajl_tree_parse(reply, err, sizeof(err));
    free(reply);
    if (!tree || !YAJL_IS_OBJECT(tree)) {
        fprintf(stderr, "pvaccel-ctl: stats: pvacceld's reply is not a "
                "JSON object: %s\n", tree ? "" : err);
        yajl_tree_free(tree);
        return NULL;
    }
    return tree;
}

void ctl_json_free(struct yajl_val_s *v)
{
    yajl_tree_free(v);
}

/* ----------------------------------------------------------- output */

struct ctl_json {
    yajl_gen g;
    bool bad;       /* a call the generator refused: a bug of ours */
};

static void note(struct ctl_json *j, yajl_gen_status st)
{
    if (st != yajl_gen_status_ok)
        j->bad = true;
}

struct ctl_json *ctl_json_new(void)
{
    struct ctl_json *j = calloc(1, sizeof(*j));

    if (j && !(j->g = yajl_gen_alloc(NULL))) {
        free(j);
        return NULL;
    }
    return j;
}

/*
 * The generator refuses only calls out of order (a value where a key is
 * due) and strings that are not UTF-8 (it is not asked to validate, so
 * only the former): ctl_json_print then fails rather than print half.
 */
void ctl_json_map_open(struct ctl_json *j)
{
    note(j, yajl_gen_map_open(j->g));
}

void ctl_json_map_close(struct ctl_json *j)
{
    note(j, yajl_gen_map_close(j->g));
}

void ctl_json_array_open(struct ctl_json *j)
{
    note(j, yajl_gen_array_open(j->g));
}

void ctl_json_array_close(struct ctl_json *j)
{
    note(j, yajl_gen_array_close(j->g));
}

void ctl_json_key(struct ctl_json *j, const char *key)
{
    note(j, yajl_gen_string(j->g, (const unsigned char *)key, strlen(key)));
}

void ctl_json_string(struct ctl_json *j, const char *s)
{
    if (s)
        note(j, yajl_gen_string(j->g, (const unsigned char *)s, strlen(s)));
    else
        note(j, yajl_gen_null(j->g));
}

void ctl_json_int(struct ctl_json *j, long long v)
{
    note(j, yajl_gen_integer(j->g, v));
}

void ctl_json_null(struct ctl_json *j)
{
    note(j, yajl_gen_null(j->g));
}

void ctl_json_value(struct ctl_json *j, struct yajl_val_s *v)
{
    size_t i;

    if (!v) {
        note(j, yajl_gen_null(j->g));
    } else if (YAJL_IS_STRING(v)) {
        ctl_json_string(j, YAJL_GET_STRING(v));
    } else if (YAJL_IS_NUMBER(v)) {
        note(j, yajl_gen_number(j->g, v->u.number.r, strlen(v->u.number.r)));
    } else if (YAJL_IS_OBJECT(v)) {
        note(j, yajl_gen_map_open(j->g));
        for (i = 0; i < v->u.object.len; i++) {
            ctl_json_key(j, v->u.object.keys[i]);
            ctl_json_value(j, v->u.object.values[i]);
        }
        note(j, yajl_gen_map_close(j->g));
    } else if (YAJL_IS_ARRAY(v)) {
        note(j, yajl_gen_array_open(j->g));
        for (i = 0; i < v->u.array.len; i++)
            ctl_json_value(j, v->u.array.values[i]);
        note(j, yajl_gen_array_close(j->g));
    } else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
        note(j, yajl_gen_bool(j->g, YAJL_IS_TRUE(v)));
    } else {
        note(j, yajl_gen_null(j->g));
    }
}

int ctl_json_print(struct ctl_json *j)
{
    const unsigned char *buf;
    size_t len;
    int rc = 0;

    if (j->bad || yajl_gen_get_buf(j->g, &buf, &len) != yajl_gen_status_ok ||
        fwrite(buf, 1, len, stdout) != len || putchar('\n') == EOF)
        rc = -EIO;
    yajl_gen_free(j->g);
    free(j);
    return rc;
}
