/* SPDX-License-Identifier: MIT */
/*
 * xs_conn.c: xenstore connections on stream sockets.
 *
 * Framing is struct xsd_sockmsg followed by @len payload bytes.  The
 * socket is non-blocking; a connection keeps the message being received
 * and a queue of messages (replies and watch events) being sent, so short
 * reads and writes are harmless.
 *
 * Rules that keep one client from hurting the daemon or other clients:
 *   - a header announcing more than XENSTORE_PAYLOAD_MAX bytes ends the
 *     connection (the stream cannot be resynchronised), as in C xenstored;
 *   - an unprivileged connection with XS_QUOTA_OUTSTANDING replies it has
 *     not read yet, or any connection with XS_OUT_LIMIT bytes queued, is
 *     not read from until it drains its socket;
 *   - watch events that would take a connection past XS_OUT_LIMIT are
 *     dropped, as are duplicates of an event still waiting in the queue
 *     (C xenstored drops both too);
 *   - one callback handles at most XS_BATCH requests so a busy client
 *     cannot starve the others.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sim/xs_internal.h"

#define XS_BATCH 64

struct xs_out {
    struct xs_out *next;
    size_t len;   /* header + payload */
    size_t used;  /* bytes already sent */
    bool event;
    char buf[];   /* struct xsd_sockmsg, then the payload */
};

const char *xs_home_path(const struct xs_id *id, char *buf, size_t size)
{
    snprintf(buf, size, "/local/domain/%u", id->domid);
    return buf;
}

static bool conn_stalled(const struct xs_conn *conn)
{
    if (conn->out_bytes >= XS_OUT_LIMIT)
        return true;
    return !conn->id.priv && conn->out_replies >= XS_QUOTA_OUTSTANDING;
}

/* Ask the loop for exactly what the connection can do now. */
static void conn_update_events(struct xs_conn *conn)
{
    uint32_t ev = 0;

    if (!conn_stalled(conn))
        ev |= EPOLLIN;
    if (conn->out_head)
        ev |= EPOLLOUT;
    if (ev != conn->epoll_events && !sim_loop_mod(conn->xs->loop, conn->fd, ev))
        conn->epoll_events = ev;
}

static void queue_out(struct xs_conn *conn, struct xs_out *o)
{
    o->next = NULL;
    if (conn->out_tail)
        conn->out_tail->next = o;
    else
        conn->out_head = o;
    conn->out_tail = o;
    conn->out_bytes += o->len;
    if (!o->event)
        conn->out_replies++;
    conn_update_events(conn);
}

static struct xs_out *new_out(uint32_t type, uint32_t req_id, uint32_t tx_id,
                              const void *data, unsigned int len)
{
    struct xs_out *o = malloc(sizeof(*o) + sizeof(struct xsd_sockmsg) + len);
    struct xsd_sockmsg hdr = {
        .type = type, .req_id = req_id, .tx_id = tx_id, .len = len,
    };

    if (!o)
        return NULL;
    o->len = sizeof(hdr) + len;
    o->used = 0;
    o->event = type == XS_WATCH_EVENT;
    memcpy(o->buf, &hdr, sizeof(hdr));
    if (len)
        memcpy(o->buf + sizeof(hdr), data, len);
    return o;
}

/*
 * Queue a reply to @req.  A reply that does not fit in a message becomes
 * E2BIG, as in C xenstored (libxenstore then retries a directory listing
 * with DIRECTORY_PART).  Returns 0 or -ENOMEM.
 */
int xs_conn_reply(struct xs_conn *conn, const struct xsd_sockmsg *req,
                  uint32_t type, const void *data, unsigned int len)
{
    struct xs_out *o;

    if (len > XENSTORE_PAYLOAD_MAX) {
        xs_conn_error(conn, req, E2BIG);
        return 0;
    }
    o = new_out(type, req->req_id, req->tx_id, data, len);
    if (!o)
        return -ENOMEM;
    queue_out(conn, o);
    return 0;
}

static const char *errno_string(int err)
{
    size_t i;

    for (i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
        if (xsd_errors[i].errnum == err)
            return xsd_errors[i].errstring;
    return "EINVAL"; /* C xenstored's fallback for untranslatable errors */
}

void xs_conn_error(struct xs_conn *conn, const struct xsd_sockmsg *req,
                   int err)
{
    const char *s = errno_string(err);

    if (xs_conn_reply(conn, req, XS_ERROR, s, (unsigned int)strlen(s) + 1))
        xs_log(conn->xs, "xenstore: dom%u: no memory for an error reply",
               conn->id.domid);
}

static bool event_pending(const struct xs_conn *conn, const struct xs_out *o)
{
    const struct xs_out *q;

    for (q = conn->out_head; q; q = q->next)
        if (q->event && !q->used && q->len == o->len &&
            !memcmp(q->buf + sizeof(struct xsd_sockmsg),
                    o->buf + sizeof(struct xsd_sockmsg),
                    o->len - sizeof(struct xsd_sockmsg)))
            return true;
    return false;
}

/* Queue a watch event "path\0token\0", subject to the rules above. */
void xs_conn_event(struct xs_conn *conn, const char *path, const char *token)
{
    size_t plen = strlen(path) + 1, tlen = strlen(token) + 1;
    struct xs_out *o;
    char *body;

    if (plen + tlen > XENSTORE_PAYLOAD_MAX)
        return;
    body = malloc(plen + tlen);
    if (!body)
        return;
    memcpy(body, path, plen);
    memcpy(body + plen, token, tlen);
    o = new_out(XS_WATCH_EVENT, 0, 0, body, (unsigned int)(plen + tlen));
    free(body);
    if (!o)
        return;
    if (path[0] != '@' && event_pending(conn, o)) {
        free(o); /* the client will see the same event anyway */
        return;
    }
    if (conn->out_bytes + o->len > XS_OUT_LIMIT) {
        if (!conn->dropping)
            xs_log(conn->xs, "xenstore: dom%u: not reading, dropping its "
                   "watch events", conn->id.domid);
        conn->dropping = true;
        free(o);
        return;
    }
    queue_out(conn, o);
}

void xs_conn_close(struct xs_conn *conn)
{
    struct xs_conn **pp;

    for (pp = &conn->xs->conns; *pp; pp = &(*pp)->next) {
        if (*pp == conn) {
            *pp = conn->next;
            break;
        }
    }
    sim_loop_del(conn->xs->loop, conn->fd);
    close(conn->fd);
    while (conn->out_head) {
        struct xs_out *o = conn->out_head;

        conn->out_head = o->next;
        free(o);
    }
    xs_watch_free_all(conn);
    xs_txn_free_all(conn);
    xs_log(conn->xs, "xenstore: dom%u: connection closed", conn->id.domid);
    free(conn);
}

/* Send what the socket takes.  Returns false if the peer is gone. */
static bool conn_flush(struct xs_conn *conn)
{
    while (conn->out_head) {
        struct xs_out *o = conn->out_head;
        ssize_t n = send(conn->fd, o->buf + o->used, o->len - o->used,
                         MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        o->used += (size_t)n;
        if (o->used < o->len)
            return true;
        conn->out_head = o->next;
        if (!conn->out_head)
            conn->out_tail = NULL;
        conn->out_bytes -= o->len;
        if (!o->event)
            conn->out_replies--;
        free(o);
    }
    conn->dropping = false;
    return true;
}

/*
 * Read towards the current message.  Returns 1 when a whole message is
 * in, 0 when the socket has no more for now, -1 when the connection must
 * end (EOF, error, or an oversize header).
 */
static int conn_read_msg(struct xs_conn *conn)
{
    size_t want = conn->in_body ? conn->in_hdr.len : sizeof(conn->in_hdr);
    char *dst = conn->in_body ? conn->in_buf : (char *)&conn->in_hdr;
    ssize_t n = 0;

    if (conn->in_used < want) {
        n = read(conn->fd, dst + conn->in_used, want - conn->in_used);
        if (n < 0)
            return (errno == EAGAIN || errno == EWOULDBLOCK ||
                    errno == EINTR) ? 0 : -1;
        if (n == 0)
            return -1;
        conn->in_used += (size_t)n;
        if (conn->in_used < want)
            return 0;
    }
    if (conn->in_body)
        return 1;
    if (conn->in_hdr.len > XENSTORE_PAYLOAD_MAX) {
        xs_log(conn->xs, "xenstore: dom%u: message of %u bytes, closing",
               conn->id.domid, conn->in_hdr.len);
        return -1;
    }
    conn->in_body = true;
    conn->in_used = 0;
    return conn->in_hdr.len ? conn_read_msg(conn) : 1;
}

/* Returns false if the connection must end. */
static bool conn_input(struct xs_conn *conn)
{
    int i, rc;

    for (i = 0; i < XS_BATCH && !conn_stalled(conn); i++) {
        rc = conn_read_msg(conn);
        if (rc <= 0)
            return rc == 0;
        conn->in_buf[conn->in_hdr.len] = '\0';
        xs_ops_dispatch(conn, &conn->in_hdr, conn->in_buf, conn->in_hdr.len);
        conn->in_body = false;
        conn->in_used = 0;
    }
    return true;
}

static void conn_cb(struct sim_loop *loop, int fd, uint32_t events,
                    void *opaque)
{
    struct xs_conn *conn = opaque;
    bool ok = true;

    (void)loop;
    (void)fd;
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        /*
         * A stalled connection is not read; if its peer hung up there is
         * nobody to read the replies either, so stop now rather than
         * spin on a level-triggered HUP.
         */
        if (conn_stalled(conn))
            ok = !(events & (EPOLLHUP | EPOLLERR));
        else
            ok = conn_input(conn);
    }
    if (ok)
        ok = conn_flush(conn);
    if (!ok) {
        xs_conn_close(conn);
        return;
    }
    conn_update_events(conn);
}

int xs_server_add_conn(struct xs_server *xs, int fd, uint16_t domid)
{
    struct xs_conn *conn;
    int flags, rc;

    flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    conn = calloc(1, sizeof(*conn));
    if (!conn) {
        close(fd);
        return -ENOMEM;
    }
    conn->xs = xs;
    conn->fd = fd;
    conn->id.domid = domid;
    conn->id.priv = domid == 0;
    conn->epoll_events = EPOLLIN;
    rc = sim_loop_add(xs->loop, fd, EPOLLIN, conn_cb, conn);
    if (rc) {
        close(fd);
        free(conn);
        return rc;
    }
    conn->next = xs->conns;
    xs->conns = conn;
    xs_log(xs, "xenstore: dom%u: connected", domid);
    return 0;
}
