/* SPDX-License-Identifier: MIT */
/*
 * client.h: talking to the pvaccel-sim daemon from a sim process.
 *
 * Used by the pvaccel-sim command (admin requests) and by the sim platform
 * implementation (grant and event channel requests).  One sim_client is one
 * control connection; calls on it are synchronous and not thread-safe.
 */
#ifndef PVACCEL_SIM_CLIENT_H
#define PVACCEL_SIM_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "sim/proto.h"

struct sim_client {
    int fd;
    uint32_t seq;
    int domid; /* -1 for the host admin */
};

/* The sim's runtime directory: $PVACCEL_SIM_DIR or SIM_DEFAULT_DIR. */
const char *sim_client_dir(void);

/*
 * Connect to the daemon in @dir (NULL: sim_client_dir()).  With
 * @as_domain, present the member token from $PVACCEL_SIM_TOKEN_FD so the
 * connection acts as this process's domain.  Returns 0 or -errno
 * (-ENOENT/-ECONNREFUSED: no daemon; -ENXIO: not inside a sim domain).
 */
int sim_client_connect(struct sim_client *c, const char *dir, int as_domain);
void sim_client_close(struct sim_client *c);

/*
 * One request/reply exchange.  Sends @type with @body and @nfds fds;
 * receives the reply body into @rsp (at most @rsp_max bytes, actual size in
 * *rsp_len if not NULL) and up to @rfds_max fds into @rfds (count in
 * *nrfds).  Returns the reply status (0 or -errno) or a transport -errno.
 */
int sim_client_call(struct sim_client *c, uint32_t type, const void *body,
                    size_t len, const int *fds, unsigned int nfds, void *rsp,
                    size_t rsp_max, size_t *rsp_len, int *rfds,
                    unsigned int rfds_max, unsigned int *nrfds);

/*
 * Low-level message I/O shared with the daemon: send one message (header
 * + body + fds) / receive one into @buf (SIM_MSG_MAX bytes).  recv returns
 * the message length, 0 on EOF, or -errno; fds beyond @fds_max are closed.
 */
int sim_msg_send(int fd, const struct sim_msg *hdr, const void *body,
                 const int *fds, unsigned int nfds);
ssize_t sim_msg_recv(int fd, void *buf, size_t size, int *fds,
                     unsigned int fds_max, unsigned int *nfds);

#endif
