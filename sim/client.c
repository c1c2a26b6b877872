/* SPDX-License-Identifier: MIT */
/*
 * client.c: control-socket messages of the sim (sim/proto.h), both the
 * raw message I/O shared with the daemon and the client's calls.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "sim/client.h"

int sim_msg_send(int fd, const struct sim_msg *hdr, const void *body,
                 const int *fds, unsigned int nfds)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * SIM_FDS_MAX)];
        struct cmsghdr align;
    } ctl;
    struct iovec iov[2] = {
        { .iov_base = (void *)hdr, .iov_len = sizeof(*hdr) },
        { .iov_base = (void *)body, .iov_len = hdr->len },
    };
    struct msghdr mh = { .msg_iov = iov, .msg_iovlen = hdr->len ? 2 : 1 };
    ssize_t n;

    if (nfds > SIM_FDS_MAX || sizeof(*hdr) + hdr->len > SIM_MSG_MAX)
        return -E2BIG;
    if (nfds) {
        struct cmsghdr *cm;

        memset(&ctl, 0, sizeof(ctl));
        mh.msg_control = ctl.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
    }
    do {
        n = sendmsg(fd, &mh, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    return (size_t)n == sizeof(*hdr) + hdr->len ? 0 : -EIO;
}

/* Move the fds of one SCM_RIGHTS cmsg out; close those beyond @fds_max. */
static void take_fds(struct cmsghdr *cm, int *fds, unsigned int fds_max,
                     unsigned int *nfds)
{
    size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const unsigned char *data = CMSG_DATA(cm);

    for (size_t i = 0; i < n; i++) {
        int fd;

        memcpy(&fd, data + i * sizeof(int), sizeof(int));
        if (*nfds < fds_max)
            fds[(*nfds)++] = fd;
        else
            close(fd);
    }
}

ssize_t sim_msg_recv(int fd, void *buf, size_t size, int *fds,
                     unsigned int fds_max, unsigned int *nfds)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * SIM_FDS_MAX)];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = { .iov_base = buf, .iov_len = size };
    struct msghdr mh = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = ctl.buf,
        .msg_controllen = sizeof(ctl.buf),
    };
    ssize_t n;

    *nfds = 0;
    do {
        n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm;
         cm = CMSG_NXTHDR(&mh, cm))
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
            take_fds(cm, fds, fds_max, nfds);
    if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
        for (unsigned int i = 0; i < *nfds; i++)
            close(fds[i]);
        *nfds = 0;
        return -EMSGSIZE;
    }
    return n;
}

const char *sim_client_dir(void)
{
    const char *dir = getenv(SIM_ENV_DIR);

    return dir && *dir ? dir : SIM_DEFAULT_DIR;
}

static int connect_control(const char *dir)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir,
                         SIM_CONTROL_SOCK) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int err = -errno;

        close(fd);
        return err;
    }
    return fd;
}

/* The member token this process inherited from `pvaccel-sim run`. */
static int token_fd(void)
{
    const char *s = getenv(SIM_ENV_TOKEN);
    char *end;
    long v;

    if (!s || !*s)
        return -ENXIO;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < 0 || v > INT_MAX)
        return -ENXIO;
    return (int)v;
}

int sim_client_connect(struct sim_client *c, const char *dir, int as_domain)
{
    struct sim_hello_rsp rsp;
    int token = -1;
    int err;

    c->fd = -1;
    c->seq = 0;
    c->domid = -1;
    if (as_domain) {
        token = token_fd();
        if (token < 0)
            return token;
    }
    c->fd = connect_control(dir ? dir : sim_client_dir());
    if (c->fd < 0)
        return c->fd;
    if (!as_domain)
        return 0;
    err = sim_client_call(c, SIM_HELLO, NULL, 0, &token, 1, &rsp,
                          sizeof(rsp), NULL, NULL, 0, NULL);
    if (err < 0) {
        sim_client_close(c);
        return err;
    }
    c->domid = rsp.domid;
    return 0;
}

void sim_client_close(struct sim_client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

static void close_fds(int *fds, unsigned int n)
{
    for (unsigned int i = 0; i < n; i++)
        close(fds[i]);
}

int sim_client_call(struct sim_client *c, uint32_t type, const void *body,
                    size_t len, const int *fds, unsigned int nfds, void *rsp,
                    size_t rsp_max, size_t *rsp_len, int *rfds,
                    unsigned int rfds_max, unsigned int *nrfds)
{
    struct sim_msg hdr = { .type = type, .seq = ++c->seq, .len = len };
    unsigned char *buf;
    int got[SIM_FDS_MAX];
    unsigned int ngot = 0;
    ssize_t n;
    int err;

    if (len > SIM_MSG_MAX - sizeof(hdr))
        return -E2BIG;
    err = sim_msg_send(c->fd, &hdr, body, fds, nfds);
    if (err < 0)
        return err;
    buf = malloc(SIM_MSG_MAX);
    if (!buf)
        return -ENOMEM;
    n = sim_msg_recv(c->fd, buf, SIM_MSG_MAX, got, SIM_FDS_MAX, &ngot);
    if (n <= 0) {
        err = n == 0 ? -ECONNRESET : (int)n;
        goto out;
    }
    if ((size_t)n < sizeof(hdr)) {
        err = -EPROTO;
        goto out;
    }
    memcpy(&hdr, buf, sizeof(hdr));
    if (hdr.type != type || hdr.seq != c->seq ||
        hdr.len != (size_t)n - sizeof(hdr)) {
        err = -EPROTO;
        goto out;
    }
    err = hdr.status;
    if (err == 0) {
        if (hdr.len > rsp_max) {
            err = -EPROTO;
            goto out;
        }
        if (hdr.len)
            memcpy(rsp, buf + sizeof(hdr), hdr.len);
    }
    if (rsp_len)
        *rsp_len = err == 0 ? hdr.len : 0;
    if (err == 0 && ngot <= rfds_max) {
        if (ngot)
            memcpy(rfds, got, ngot * sizeof(int));
        if (nrfds)
            *nrfds = ngot;
        ngot = 0;
    } else if (err == 0) {
        err = -EPROTO;
    }
out:
    close_fds(got, ngot);
    if (nrfds && err < 0)
        *nrfds = 0;
    free(buf);
    return err;
}
