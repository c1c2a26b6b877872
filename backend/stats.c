/* SPDX-License-Identifier: MIT */
/*
 * stats.c: per-device statistics and the admin socket.
 *
 * Each queue thread counts into its own struct pvad_qstats (relaxed
 * atomics with one writer, pvad_stat_add(), so no locked instruction per
 * request); a reader sums the queues of a device and the totals of its
 * earlier connections.
 *
 * The admin socket is <rundir>/pvacceld.sock (mode 0600).  A client writes
 * one line, "stats", and reads one JSON document back (docs/admin.md); the
 * main thread serves it between watch events.  A device being torn down
 * is reported with its queues' live counters: only the main thread frees
 * the queue array, after folding them into closed_stats (teardown.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "backend/pvacceld.h"

unsigned int pvad_stat_op_index(uint8_t op)
{
    if (op < 16)
        return op;
    if (op >= 0x40 && op < 0x50)
        return 16 + (op - 0x40);
    return PVAD_STAT_OPS - 1;     /* unknown codes share the last slot */
}

void pvad_qstats_account(struct pvad_qstats *s, uint8_t op, int32_t status,
                         uint64_t in, uint64_t out, uint64_t lat_ns)
{
    pvad_stat_add(&s->ops[pvad_stat_op_index(op)], 1);
    if (status < 0)
        pvad_stat_add(&s->errors[-status < PVAD_STAT_ERRNO ? -status : 0], 1);
    pvad_stat_add(&s->bytes_in, in);
    pvad_stat_add(&s->bytes_out, out);
    pvad_stat_add(&s->lat_count, 1);
    pvad_stat_add(&s->lat_sum_ns, lat_ns);
    if (lat_ns > atomic_load_explicit(&s->lat_max_ns, memory_order_relaxed))
        atomic_store_explicit(&s->lat_max_ns, lat_ns, memory_order_relaxed);
}

/* ------------------------------------------------------------- output */

static const char *const op_names[PVAD_STAT_OPS] = {
    [0] = "nop", [1] = "map_region", [2] = "unmap_region",
    [3] = "session_create", [4] = "session_destroy", [5] = "blob_create",
    [6] = "blob_destroy", [7] = "blob_migrate", [8] = "blob_readback",
    [9] = "fault_response",
    [16] = "compress", [17] = "decompress", [18] = "digest",
    [19] = "aead_encrypt", [20] = "aead_decrypt", [21] = "copy",
    [22] = "fill", [23] = "compare", [24] = "crc32c",
    [PVAD_STAT_OPS - 1] = "unknown",
};

static const char *errno_name(unsigned int e)
{
    switch (e) {
    case XEN_EINVAL: return "EINVAL";
    case XEN_ENOSYS: return "ENOSYS";
    case XEN_EOPNOTSUPP: return "EOPNOTSUPP";
    case XEN_EFAULT: return "EFAULT";
    case XEN_EACCES: return "EACCES";
    case XEN_ENOENT: return "ENOENT";
    case XEN_EEXIST: return "EEXIST";
    case XEN_EBUSY: return "EBUSY";
    case XEN_EMFILE: return "EMFILE";
    case XEN_ENOMEM: return "ENOMEM";
    case XEN_E2BIG: return "E2BIG";
    case XEN_ENOSPC: return "ENOSPC";
    case XEN_ENODATA: return "ENODATA";
    case XEN_EILSEQ: return "EILSEQ";
    case XEN_EBADMSG: return "EBADMSG";
    case XEN_ETIMEDOUT: return "ETIMEDOUT";
    case XEN_ENOTCONN: return "ENOTCONN";   /* cancelled at teardown */
    case XEN_EIO: return "EIO";
    default: return NULL;
    }
}

static uint64_t get(const _Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* @sum += @s (plain sums; @sum is private to the reader). */
static void qstats_sum(struct pvad_qstats *sum, const struct pvad_qstats *s)
{
    for (int i = 0; i < PVAD_STAT_OPS; i++)
        pvad_stat_add(&sum->ops[i], get(&s->ops[i]));
    for (int i = 0; i < PVAD_STAT_ERRNO; i++)
        pvad_stat_add(&sum->errors[i], get(&s->errors[i]));
    pvad_stat_add(&sum->bytes_in, get(&s->bytes_in));
    pvad_stat_add(&sum->bytes_out, get(&s->bytes_out));
    pvad_stat_add(&sum->lat_count, get(&s->lat_count));
    pvad_stat_add(&sum->lat_sum_ns, get(&s->lat_sum_ns));
    pvad_stat_add(&sum->notifies, get(&s->notifies));
    pvad_stat_add(&sum->wakeups, get(&s->wakeups));
    pvad_stat_add(&sum->batches, get(&s->batches));
    if (get(&s->lat_max_ns) > get(&sum->lat_max_ns))
        atomic_store(&sum->lat_max_ns, get(&s->lat_max_ns));
}

static void print_qstats(FILE *f, const struct pvad_qstats *s)
{
    const char *sep = "";
    uint64_t n = get(&s->lat_count);

    fprintf(f, "\"ops\":{");
    for (int i = 0; i < PVAD_STAT_OPS; i++)
        if (op_names[i] && get(&s->ops[i])) {
            fprintf(f, "%s\"%s\":%llu", sep, op_names[i],
                    (unsigned long long)get(&s->ops[i]));
            sep = ",";
        }
    fprintf(f, "},\"errors\":{");
    sep = "";
    for (unsigned int i = 0; i < PVAD_STAT_ERRNO; i++)
        if (get(&s->errors[i])) {
            const char *name = errno_name(i);

            if (name)
                fprintf(f, "%s\"%s\":%llu", sep, name,
                        (unsigned long long)get(&s->errors[i]));
            else
                fprintf(f, "%s\"E%u\":%llu", sep, i,
                        (unsigned long long)get(&s->errors[i]));
            sep = ",";
        }
    fprintf(f, "},\"bytes_in\":%llu,\"bytes_out\":%llu,"
            "\"latency_ns\":{\"count\":%llu,\"mean\":%llu,\"max\":%llu},"
            "\"batches\":%llu,\"notifies\":%llu,\"wakeups\":%llu",
            (unsigned long long)get(&s->bytes_in),
            (unsigned long long)get(&s->bytes_out), (unsigned long long)n,
            (unsigned long long)(n ? get(&s->lat_sum_ns) / n : 0),
            (unsigned long long)get(&s->lat_max_ns),
            (unsigned long long)get(&s->batches),
            (unsigned long long)get(&s->notifies),
            (unsigned long long)get(&s->wakeups));
}

static void print_usage(FILE *f, const struct pvad_usage *u)
{
    fprintf(f, "\"regions\":%llu,\"mapped_pages\":%llu,\"sessions\":%llu,"
            "\"in_flight\":%llu,\"blobs\":%llu,\"blob_pages\":%llu,"
            "\"mappings\":%llu",
            (unsigned long long)get(&u->used[PVAD_RES_REGIONS]),
            (unsigned long long)get(&u->used[PVAD_RES_MAPPED_PAGES]),
            (unsigned long long)get(&u->used[PVAD_RES_SESSIONS]),
            (unsigned long long)get(&u->used[PVAD_RES_IN_FLIGHT]),
            (unsigned long long)get(&u->used[PVAD_RES_BLOBS]),
            (unsigned long long)get(&u->used[PVAD_RES_BLOB_PAGES]),
            (unsigned long long)get(&u->used[PVAD_RES_MAPPINGS]));
}

static void print_device(FILE *f, const struct pvad_device *dev)
{
    struct pvad_qstats *sum = calloc(1, sizeof(*sum));
    unsigned int stopped = 0;

    if (!sum)
        return;
    qstats_sum(sum, &dev->closed_stats);
    for (unsigned int i = 0; dev->connected && i < dev->nr_queues; i++) {
        qstats_sum(sum, &dev->queues[i].stats);
        stopped += dev->queues[i].stopped;
    }
    fprintf(f, "{\"frontend-id\":%u,\"devid\":%u,\"state\":%d,"
            "\"teardown\":%s,\"connections\":%u,\"queues\":%u,"
            "\"stopped_queues\":%u,", dev->fe_domid, dev->devid,
            (int)dev->state, dev->tearing_down ? "true" : "false",
            dev->connections, dev->connected ? dev->nr_queues : 0, stopped);
    if (dev->connected) {
        print_usage(f, &dev->usage);
        fputc(',', f);
    }
    print_qstats(f, sum);
    fputc('}', f);
    free(sum);
}

static void print_stats(FILE *f, struct pvad *d)
{
    const char *sep = "";

    fprintf(f, "{\"engine\":\"%s\",\"devices\":[", d->caps.name);
    for (struct pvad_device *dev = d->devices; dev; dev = dev->next) {
        fputs(sep, f);
        print_device(f, dev);
        sep = ",";
    }
    fprintf(f, "],\"domains\":[");
    sep = "";
    pthread_mutex_lock(&d->quota.lock);
    for (struct pvad_domain *dom = d->quota.domains; dom; dom = dom->next) {
        fprintf(f, "%s{\"domid\":%u,", sep, dom->domid);
        print_usage(f, &dom->usage);
        fputc('}', f);
        sep = ",";
    }
    pthread_mutex_unlock(&d->quota.lock);
    fprintf(f, "]}\n");
}

/* -------------------------------------------------------------- socket */

int pvad_admin_open(struct pvad *d)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    mkdir(d->cfg.rundir, 0755);
    if ((size_t)snprintf(d->admin_path, sizeof(d->admin_path),
                         "%s/pvacceld.sock", d->cfg.rundir) >=
        sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, d->admin_path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    unlink(d->admin_path);      /* a stale socket of a killed instance */
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        chmod(d->admin_path, 0600) < 0 || listen(fd, 8) < 0) {
        int err = -errno;

        close(fd);
        return err;
    }
    d->admin_fd = fd;
    return 0;
}

void pvad_admin_close(struct pvad *d)
{
    if (d->admin_fd >= 0) {
        close(d->admin_fd);
        unlink(d->admin_path);
        d->admin_fd = -1;
    }
}

/* Read one command line; a client gets one second to send it. */
static ssize_t read_line(int fd, char *buf, size_t len)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    size_t got = 0;

    while (got < len - 1) {
        ssize_t n;

        if (poll(&pfd, 1, 1000) <= 0)
            return -1;
        n = read(fd, buf + got, len - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        if (memchr(buf, '\n', got))
            break;
    }
    buf[got] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    return (ssize_t)got;
}

void pvad_admin_serve(struct pvad *d)
{
    char cmd[64];
    FILE *f;
    int fd = accept4(d->admin_fd, NULL, NULL, SOCK_CLOEXEC);

    if (fd < 0)
        return;
    /* A client that does not read cannot stall the main thread for long. */
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO,
               &(struct timeval){ .tv_sec = 1 }, sizeof(struct timeval));
    if (read_line(fd, cmd, sizeof(cmd)) < 0) {
        close(fd);
        return;
    }
    f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return;
    }
    if (!strcmp(cmd, "stats"))
        print_stats(f, d);
    else
        fprintf(f, "{\"error\":\"unknown command (try: stats)\"}\n");
    fclose(f);
}
