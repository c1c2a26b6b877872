/* SPDX-License-Identifier: MIT */
/*
 * pvaccel-hostbench: the references pvaccel is measured against, on the
 * host, with the data, clock and statistics of `pvaccel bench`
 * (tools/bench-common.h; docs/performance.md):
 *
 *   native    the library call the CPU engine makes, in this process;
 *   socket    API remoting: each request (header and data) goes over a
 *             Unix stream socket to a server process that runs the same
 *             call and sends the result back; buffers reused, requests
 *             and replies batched per syscall when several are queued;
 *   shm-ring  two processes spinning on a pair of single-producer rings in
 *             shared memory, 64-byte descriptors: the transport's limit;
 *   eventfd   a blocking ping-pong between two processes on two eventfds:
 *             the floor of any wake-up based round trip;
 *   data      not a measurement: --size bytes of the benchmarks' input on
 *             standard output, for what measures whole files
 *             (tools/tool-vs-native.sh).
 *
 *   pvaccel-hostbench MODE [--op NAME] [--size N] [--depth N] [--time S] [--json]
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libdeflate.h>
#include <lz4frame.h>
#include <openssl/evp.h>
#include <zstd.h>

#include "backend/engines/cpu_crc32c.h"
#include "platform/cpu_relax.h"
#include "tools/bench-common.h"

#define MAX_DEPTH 256
#define LAT_CAP (4u << 20)

struct cfg {
    const char *mode;
    const struct bench_op *op;
    size_t size;
    unsigned int depth;
    double secs, warm_secs;
    bool json;
};

/* ------------------------------------------------------------------------
 * The library calls, as backend/engines/cpu_*.c make them: one context per
 * library, made once, reused for every request.
 */
struct native {
    struct libdeflate_compressor *deflate;
    ZSTD_CCtx *zstd;
    LZ4F_cctx *lz4;
    EVP_MD *sha256;         /* fetched once, as the engine does */
    EVP_MD_CTX *md;
    EVP_CIPHER_CTX *aes;
    uint8_t key[32], iv[12];
};

static int native_init(struct native *nt)
{
    memset(nt, 0, sizeof(*nt));
    memset(nt->key, 7, sizeof(nt->key));
    nt->deflate = libdeflate_alloc_compressor(1);
    nt->zstd = ZSTD_createCCtx();
    nt->sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
    nt->md = EVP_MD_CTX_new();
    nt->aes = EVP_CIPHER_CTX_new();
    if (LZ4F_isError(LZ4F_createCompressionContext(&nt->lz4, LZ4F_VERSION)))
        nt->lz4 = NULL;
    if (!nt->deflate || !nt->zstd || !nt->sha256 || !nt->md || !nt->aes ||
        !nt->lz4 ||
        !EVP_EncryptInit_ex2(nt->aes, EVP_aes_256_gcm(), nt->key, nt->iv, NULL))
        return -1;
    ZSTD_CCtx_setParameter(nt->zstd, ZSTD_c_compressionLevel, 1);
    return 0;
}

static size_t lz4_frame(LZ4F_cctx *c, const uint8_t *src, size_t n,
                        uint8_t *dst, size_t cap)
{
    LZ4F_preferences_t p;
    size_t o, r;

    /* The engine's frame (cpu_compress.c): in any other mode liblz4 1.9.4
     * reallocates its block buffer for every frame. */
    memset(&p, 0, sizeof(p));
    p.frameInfo.blockSizeID = LZ4F_max256KB;
    p.frameInfo.blockMode = LZ4F_blockIndependent;
    p.frameInfo.contentSize = n;
    p.autoFlush = 1;
    o = LZ4F_compressBegin(c, dst, cap, &p);
    if (LZ4F_isError(o))
        return 0;
    r = LZ4F_compressUpdate(c, dst + o, cap - o, src, n, NULL);
    if (LZ4F_isError(r))
        return 0;
    o += r;
    r = LZ4F_compressEnd(c, dst + o, cap - o, NULL);
    return LZ4F_isError(r) ? 0 : o + r;
}

/* Run @op on src[0, n) into dst (room @cap); returns the output length. */
static size_t native_run(struct native *nt, const struct bench_op *op,
                         const uint8_t *src, size_t n, uint8_t *dst, size_t cap)
{
    switch (op->id) {
    case BENCH_NOP:
        return 0;
    case BENCH_CRC32C: {
        uint32_t crc = pva_crc32c(0, src, n);

        memcpy(dst, &crc, sizeof(crc));
        return sizeof(crc);
    }
    case BENCH_COPY:
        memcpy(dst, src, n);
        return n;
    case BENCH_SHA256: {
        unsigned int l = 0;

        EVP_DigestInit_ex2(nt->md, nt->sha256, NULL);
        EVP_DigestUpdate(nt->md, src, n);
        EVP_DigestFinal_ex(nt->md, dst, &l);
        return l;
    }
    case BENCH_AES_256_GCM: {
        int l = 0, f = 0;

        EVP_EncryptInit_ex2(nt->aes, NULL, NULL, nt->iv, NULL);
        EVP_EncryptUpdate(nt->aes, dst, &l, src, (int)n);
        EVP_EncryptFinal_ex(nt->aes, dst + l, &f);
        EVP_CIPHER_CTX_ctrl(nt->aes, EVP_CTRL_AEAD_GET_TAG, 16, dst + l + f);
        return (size_t)(l + f) + 16;
    }
    case BENCH_DEFLATE_1:
        return libdeflate_deflate_compress(nt->deflate, src, n, dst, cap);
    case BENCH_ZSTD_1: {
        size_t r = ZSTD_compress2(nt->zstd, dst, cap, src, n);

        return ZSTD_isError(r) ? 0 : r;
    }
    case BENCH_LZ4:
        return lz4_frame(nt->lz4, src, n, dst, cap);
    }
    return 0;
}

static void native_fini(struct native *nt)
{
    libdeflate_free_compressor(nt->deflate);
    ZSTD_freeCCtx(nt->zstd);
    LZ4F_freeCompressionContext(nt->lz4);
    EVP_MD_CTX_free(nt->md);
    EVP_MD_free(nt->sha256);
    EVP_CIPHER_CTX_free(nt->aes);
}

/* ------------------------------------------------------------------------
 * A timed window shared by every mode: warm up, then count.
 */
struct window {
    uint64_t warm_end, end, t0, t1, ops;
    bool measuring, stopping;
    struct bench_lat lat;
};

static void window_init(struct window *w, const struct cfg *c)
{
    uint64_t t = bench_now_ns();

    memset(w, 0, sizeof(*w));
    w->warm_end = t + (uint64_t)(c->warm_secs * 1e9);
    w->end = w->warm_end + (uint64_t)(c->secs * 1e9);
    if (bench_lat_init(&w->lat, LAT_CAP)) {
        perror("pvaccel-hostbench: latency array");
        exit(1);
    }
}

/* Called before each new request: false once the window is over. */
static bool window_tick(struct window *w, uint64_t t)
{
    if (!w->measuring && t >= w->warm_end) {
        w->measuring = true;
        w->t0 = t;
    }
    if (w->measuring && !w->stopping && t >= w->end) {
        w->stopping = true;
        w->t1 = t;
    }
    return !w->stopping;
}

static void window_done(struct window *w, uint64_t sent, uint64_t t)
{
    if (w->measuring && !w->stopping) {
        bench_lat_add(&w->lat, t - sent);
        w->ops++;
    }
}

static void report(const struct cfg *c, struct window *w, unsigned int depth)
{
    struct bench_result r = { .path = c->mode, .op = c->op->name,
                              .size = c->size, .depth = depth, .queues = 1,
                              .guests = 0, .mode = "-", .ops = w->ops,
                              .secs = (double)(w->t1 - w->t0) / 1e9,
                              .mallocs_per_op = -1 };

    bench_lat_percentiles(&w->lat, 1, &r.p50_us, &r.p99_us);
    bench_print(&r, c->json);
    bench_lat_free(&w->lat);
}

/* Room for the input and the largest output of one request. */
static uint8_t *xalloc(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);

    if (!p) {
        perror("pvaccel-hostbench");
        exit(1);
    }
    memset(p, 0, n);
    return p;
}

static int mode_native(const struct cfg *c)
{
    size_t cap = bench_out_len(c->op, c->size) + 64;
    uint8_t *src = xalloc(c->size), *dst = xalloc(cap);
    struct native nt;
    struct window w;

    if (native_init(&nt))
        return 1;
    bench_gen(src, c->size);
    window_init(&w, c);
    for (uint64_t t = bench_now_ns(); window_tick(&w, t);) {
        native_run(&nt, c->op, src, c->size, dst, cap);
        uint64_t done = bench_now_ns();

        window_done(&w, t, done);
        t = done;
    }
    report(c, &w, 1);
    native_fini(&nt);
    free(src);
    free(dst);
    return 0;
}

/* ------------------------------------------------------------------------
 * Socket remoting
 */
struct sock_req {
    uint32_t len, tag;
};

struct sock_rsp {
    uint32_t len, tag;
};

#define SOCK_STOP UINT32_MAX

static int write_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t w = writev(fd, iov, n > IOV_MAX ? IOV_MAX : n);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        while (n > 0 && (size_t)w >= iov->iov_len) {
            w -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
    return 0;
}

/*
 * The server: read what the socket has (several requests when the client
 * pipelines), run every complete request into its own output slot, send
 * all their replies with one writev.  Blocking I/O: one client.
 */
static void sock_server(int fd, const struct cfg *c)
{
    size_t msg = sizeof(struct sock_req) + c->size;
    size_t cap = bench_out_len(c->op, c->size) + 64;
    size_t rcap = msg > 65536 ? msg : 65536;
    unsigned int batch = (unsigned int)(rcap / msg < MAX_DEPTH ? rcap / msg : MAX_DEPTH);
    uint8_t *rbuf = xalloc(rcap), *out = xalloc(cap * (batch ? batch : 1));
    static struct sock_rsp rsp[MAX_DEPTH];
    static struct iovec iov[2 * MAX_DEPTH];
    size_t have = 0;
    struct native nt;

    if (native_init(&nt))
        _exit(1);
    for (;;) {
        ssize_t r = read(fd, rbuf + have, rcap - have);
        size_t off = 0;
        int n = 0, k = 0;

        if (r <= 0)
            _exit(r < 0);
        have += (size_t)r;
        while (have - off >= sizeof(struct sock_req)) {
            struct sock_req q;

            memcpy(&q, rbuf + off, sizeof(q));
            if (q.len == SOCK_STOP)
                _exit(0);
            if (have - off < sizeof(q) + q.len)
                break;
            rsp[k].tag = q.tag;
            rsp[k].len = (uint32_t)native_run(&nt, c->op, rbuf + off + sizeof(q),
                                              q.len, out + (size_t)k * cap, cap);
            iov[n++] = (struct iovec){ &rsp[k], sizeof(rsp[k]) };
            if (rsp[k].len)
                iov[n++] = (struct iovec){ out + (size_t)k * cap, rsp[k].len };
            off += sizeof(q) + q.len;
            if (++k == (int)batch)
                break;
        }
        if (n && write_all(fd, iov, n))
            _exit(1);
        /* The rest is at most one partial request: move it to the front. */
        memmove(rbuf, rbuf + off, have - off);
        have -= off;
    }
}

/*
 * The client: an event loop on a non-blocking socket, as an RPC stub with
 * several calls outstanding would have: queue up to @depth requests in one
 * writev, read replies in bulk, match them by tag.
 */
static int sock_client(int fd, const struct cfg *c)
{
    size_t cap = bench_out_len(c->op, c->size) + 64;
    size_t rcap = sizeof(struct sock_rsp) + cap > 65536 ? sizeof(struct sock_rsp) + cap : 65536;
    uint8_t *src = xalloc(c->size), *rbuf = xalloc(rcap);
    static struct sock_req req[MAX_DEPTH];
    static struct iovec iov[2 * MAX_DEPTH];
    static uint64_t sent_ns[MAX_DEPTH];
    static uint16_t free_tag[MAX_DEPTH];
    unsigned int nfree = c->depth, inflight = 0;
    int niov = 0, first = 0;
    size_t have = 0;
    struct window w;

    bench_gen(src, c->size);
    for (unsigned int i = 0; i < c->depth; i++)
        free_tag[i] = (uint16_t)i;
    window_init(&w, c);
    for (;;) {
        uint64_t t = bench_now_ns();
        bool more = window_tick(&w, t);
        struct pollfd p = { fd, POLLIN, 0 };
        ssize_t r;

        /* Queue new requests behind whatever is still being sent. */
        if (first == niov) {
            first = niov = 0;
            while (more && nfree) {
                uint16_t tag = free_tag[--nfree];

                req[tag] = (struct sock_req){ (uint32_t)c->size, tag };
                sent_ns[tag] = t;
                iov[niov++] = (struct iovec){ &req[tag], sizeof(req[tag]) };
                if (c->size)
                    iov[niov++] = (struct iovec){ src, c->size };
                inflight++;
            }
        }
        if (!inflight)
            break;
        if (first < niov) {
            r = writev(fd, iov + first, niov - first > IOV_MAX ? IOV_MAX : niov - first);
            if (r < 0 && errno != EAGAIN)
                return -1;
            while (r > 0 && first < niov) {
                size_t l = iov[first].iov_len < (size_t)r ? iov[first].iov_len : (size_t)r;

                iov[first].iov_base = (uint8_t *)iov[first].iov_base + l;
                iov[first].iov_len -= l;
                r -= (ssize_t)l;
                if (!iov[first].iov_len)
                    first++;
            }
        }
        r = read(fd, rbuf + have, rcap - have);
        if (r == 0 || (r < 0 && errno != EAGAIN))
            return -1;
        if (r < 0) {
            p.events |= first < niov ? POLLOUT : 0;
            poll(&p, 1, -1);
            continue;
        }
        have += (size_t)r;
        size_t off = 0;
        uint64_t done = bench_now_ns();

        while (have - off >= sizeof(struct sock_rsp)) {
            struct sock_rsp s;

            memcpy(&s, rbuf + off, sizeof(s));
            if (have - off < sizeof(s) + s.len)
                break;
            window_done(&w, sent_ns[s.tag], done);
            free_tag[nfree++] = (uint16_t)s.tag;
            inflight--;
            off += sizeof(s) + s.len;
        }
        memmove(rbuf, rbuf + off, have - off);
        have -= off;
    }
    report(c, &w, c->depth);
    free(src);
    free(rbuf);
    return 0;
}

static int mode_socket(const struct cfg *c)
{
    struct sock_req stop = { SOCK_STOP, 0 };
    struct iovec iov = { &stop, sizeof(stop) };
    int sv[2], rc, status;
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
        return 1;
    pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        close(sv[0]);
        sock_server(sv[1], c);
    }
    close(sv[1]);
    if (fcntl(sv[0], F_SETFL, O_NONBLOCK) < 0)
        return 1;
    rc = sock_client(sv[0], c);
    fcntl(sv[0], F_SETFL, 0);
    write_all(sv[0], &iov, 1);
    close(sv[0]);
    waitpid(pid, &status, 0);
    return rc ? 1 : 0;
}

/* ------------------------------------------------------------------------
 * Raw shared-memory rings: requests one way, responses back, two spinning
 * processes.  What a split driver's rings cost before any work is done.
 */
#define RING_SLOTS 256

struct ring_slot {
    uint64_t tag, arg[7];   /* a 64-byte descriptor, like a vaccel request */
};

struct ring {
    _Alignas(64) atomic_uint prod;
    _Alignas(64) atomic_uint cons;
    _Alignas(64) struct ring_slot slot[RING_SLOTS];
};

struct rings {
    struct ring req, rsp;
    atomic_bool stop;
};

static bool ring_pop(struct ring *r, struct ring_slot *s)
{
    unsigned int c = atomic_load_explicit(&r->cons, memory_order_relaxed);

    if (c == atomic_load_explicit(&r->prod, memory_order_acquire))
        return false;
    *s = r->slot[c % RING_SLOTS];
    atomic_store_explicit(&r->cons, c + 1, memory_order_release);
    return true;
}

static void ring_push(struct ring *r, const struct ring_slot *s)
{
    unsigned int p = atomic_load_explicit(&r->prod, memory_order_relaxed);

    /* Depth <= RING_SLOTS: never full. */
    r->slot[p % RING_SLOTS] = *s;
    atomic_store_explicit(&r->prod, p + 1, memory_order_release);
}

static void ring_server(struct rings *rs)
{
    struct ring_slot s;

    while (!atomic_load_explicit(&rs->stop, memory_order_relaxed)) {
        if (ring_pop(&rs->req, &s))
            ring_push(&rs->rsp, &s);
        else
            cpu_relax();
    }
    _exit(0);
}

static int mode_shm_ring(const struct cfg *c)
{
    struct rings *rs = mmap(NULL, sizeof(*rs), PROT_READ | PROT_WRITE,
                            MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    static uint64_t sent_ns[MAX_DEPTH];
    unsigned int inflight = 0, next = 0;
    struct window w;
    pid_t pid;

    if (rs == MAP_FAILED)
        return 1;
    memset(rs, 0, sizeof(*rs));
    pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0)
        ring_server(rs);
    window_init(&w, c);
    for (;;) {
        uint64_t t = bench_now_ns();
        bool more = window_tick(&w, t);
        struct ring_slot s = { 0 };

        while (more && inflight < c->depth) {
            s.tag = next++ % c->depth;
            sent_ns[s.tag] = t;
            ring_push(&rs->req, &s);
            inflight++;
        }
        if (!inflight)
            break;
        while (!ring_pop(&rs->rsp, &s))
            cpu_relax();
        do {
            window_done(&w, sent_ns[s.tag], bench_now_ns());
            inflight--;
        } while (ring_pop(&rs->rsp, &s));
    }
    atomic_store(&rs->stop, true);
    waitpid(pid, NULL, 0);
    report(c, &w, c->depth);
    munmap(rs, sizeof(*rs));
    return 0;
}

/* ------------------------------------------------------------------------
 * eventfd ping-pong: each side sleeps in read() until the other writes.
 */
#define EFD_STOP 1000

static int mode_eventfd(const struct cfg *c)
{
    int ping = eventfd(0, 0), pong = eventfd(0, 0);
    uint64_t v = 1;
    struct window w;
    pid_t pid;

    if (ping < 0 || pong < 0)
        return 1;
    pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        while (read(ping, &v, sizeof(v)) == sizeof(v) && v != EFD_STOP)
            if (write(pong, &v, sizeof(v)) != sizeof(v))
                break;
        _exit(0);
    }
    window_init(&w, c);
    for (uint64_t t = bench_now_ns(); window_tick(&w, t);) {
        v = 1;
        if (write(ping, &v, sizeof(v)) != sizeof(v) ||
            read(pong, &v, sizeof(v)) != sizeof(v))
            return 1;
        uint64_t done = bench_now_ns();

        window_done(&w, t, done);
        t = done;
    }
    v = EFD_STOP;
    if (write(ping, &v, sizeof(v)) != sizeof(v))
        kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    report(c, &w, 1);
    return 0;
}

/* ------------------------------------------------------------------------ */

/* The input every path measures (bench_gen), as a file. */
static int mode_data(const struct cfg *c)
{
    uint8_t *p = malloc(c->size ? c->size : 1);
    int rc = 0;

    if (!p) {
        fprintf(stderr, "pvaccel-hostbench: data: out of memory\n");
        return 1;
    }
    bench_gen(p, c->size);
    if (fwrite(p, 1, c->size, stdout) != c->size || fflush(stdout)) {
        fprintf(stderr, "pvaccel-hostbench: data: %s\n", strerror(errno));
        rc = 1;
    }
    free(p);
    return rc;
}

/* ------------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fputs("Usage: pvaccel-hostbench native|socket|shm-ring|eventfd|data [OPTIONS]\n"
          "  --op=NAME      as for 'pvaccel bench' (native, socket)\n"
          "  --size=N[K|M]  input bytes per request (default 4096); data:\n"
          "                 bytes to write\n"
          "  --depth=N      requests in flight (socket, shm-ring; default 1)\n"
          "  --time=S       measured seconds (default 1)\n"
          "  --warmup=S     warm-up seconds (default 0.1)\n"
          "  --json         one JSON object instead of a line\n", f);
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        { "op", required_argument, NULL, 'o' },
        { "size", required_argument, NULL, 's' },
        { "depth", required_argument, NULL, 'D' },
        { "time", required_argument, NULL, 't' },
        { "warmup", required_argument, NULL, 'w' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct cfg c = { .size = 4096, .depth = 1, .secs = 1, .warm_secs = 0.1 };
    long long sz;
    int opt;

    c.op = bench_op_find("nop");
    while ((opt = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (opt) {
        case 'o':
            c.op = bench_op_find(optarg);
            if (!c.op) {
                fprintf(stderr, "pvaccel-hostbench: unknown op '%s'\n", optarg);
                return 2;
            }
            break;
        case 's':
            sz = bench_parse_size(optarg);
            if (sz < 0 || sz > (1ll << 30)) {
                fprintf(stderr, "pvaccel-hostbench: bad size '%s'\n", optarg);
                return 2;
            }
            c.size = (size_t)sz;
            break;
        case 'D': c.depth = (unsigned int)atoi(optarg); break;
        case 't': c.secs = atof(optarg); break;
        case 'w': c.warm_secs = atof(optarg); break;
        case 'j': c.json = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind + 1 != argc || c.depth < 1 || c.depth > MAX_DEPTH || c.secs <= 0) {
        usage(stderr);
        return 2;
    }
    c.mode = argv[optind];
    if (!strcmp(c.mode, "data"))
        return mode_data(&c);
    if (c.op->id == BENCH_NOP)
        c.size = 0;
    if (!strcmp(c.mode, "native"))
        return mode_native(&c);
    if (!strcmp(c.mode, "socket"))
        return mode_socket(&c);
    /* The transports carry descriptors only: no op, no payload. */
    c.size = 0;
    c.op = bench_op_find("nop");
    if (!strcmp(c.mode, "shm-ring"))
        return mode_shm_ring(&c);
    if (!strcmp(c.mode, "eventfd")) {
        c.depth = 1;
        return mode_eventfd(&c);
    }
    usage(stderr);
    return 2;
}
