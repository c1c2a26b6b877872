/* SPDX-License-Identifier: MIT */
/*
 * xenstored.h: the sim's xenstore server.
 *
 * Speaks the wire protocol of xen/io/xs_wire.h on stream sockets, so the
 * unmodified libxenstore client and the xenstore-* tools work against it.
 * Semantics follow docs/misc/xenstore.txt and C xenstored (Xen 4.17):
 * permissions, watches, transactions, quotas for unprivileged domains,
 * @introduceDomain / @releaseDomain.
 *
 * The daemon core accepts connections, establishes which domain a peer
 * belongs to, and hands the socket over with xs_server_add_conn().
 */
#ifndef PVACCEL_SIM_XENSTORED_H
#define PVACCEL_SIM_XENSTORED_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/loop.h"

struct xs_server;

/* @verbose logs connections and dropped events to stderr. */
struct xs_server *xs_server_new(struct sim_loop *loop, bool verbose);
/* Closes all connections; call before sim_loop_free(). */
void xs_server_free(struct xs_server *xs);

/*
 * Serve @fd (a connected stream socket) as @domid.  Takes ownership of
 * @fd even on failure (it is closed then): the caller must not close it.
 * Returns 0 or -errno.
 */
int xs_server_add_conn(struct xs_server *xs, int fd, uint16_t domid);

/*
 * Toolstack duties.  domain_created writes /local/domain/<id> with the
 * skeleton and permissions libxl creates (name, domid, device, control,
 * data, ...), then fires @introduceDomain; it returns 0, -EEXIST (the
 * domain is live already) or -ENOMEM.  domain_released closes the
 * domain's connections, drops its watches and transactions, removes
 * /local/domain/<id>, /vm/<uuid> and /libxl/<id>, hands nodes the domain
 * owned elsewhere to dom0, and fires @releaseDomain (dom0 never dies:
 * released(0) does nothing, nor does an unknown id).
 */
int xs_server_domain_created(struct xs_server *xs, uint16_t domid,
                             const char *name);
void xs_server_domain_released(struct xs_server *xs, uint16_t domid);

#endif
