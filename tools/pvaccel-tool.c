/* SPDX-License-Identifier: MIT */
/*
 * pvaccel: the guest's command-line tool for a vaccel device.
 *
 *   pvaccel [OPTIONS] info
 *   pvaccel [OPTIONS] compress|decompress [--alg A] [--level N] IN OUT
 *   pvaccel [OPTIONS] digest [--alg A] FILE
 *   pvaccel [OPTIONS] encrypt|decrypt --key-file K [--alg A] [--nonce HEX] IN OUT
 *   pvaccel [OPTIONS] crc32c FILE
 *   pvaccel bench [BENCH-OPTIONS]       (tools/pvaccel-bench.c)
 *
 * Files of any size stream through the device in chunks ("-" is stdin or
 * stdout), several chunks in flight.  The formats are in docs/pvaccel.md:
 * compression writes one stream per chunk, concatenated (what gzip, zstd
 * and lz4 accept), decompression steps through concatenated streams with
 * DECOMPRESS's "input consumed"; encryption writes the chunked AEAD format
 * "PVAENC01".
 *
 * Exit status: 0 success, 1 failure (device, I/O, bad data, wrong key),
 * 2 usage error.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pvaccel.h>

#include "tools/pvaccel-bench.h"

#define EXIT_USAGE 2
#define MAX_DEPTH 64

/* The chunked AEAD file format (docs/pvaccel.md). */
#define ENC_MAGIC "PVAENC01"
#define ENC_HDR_LEN 32u
#define ENC_AAD_LEN 48u

struct tool {
    const char *cmd;
    struct pva_dev_opts opts;
    struct pva_dev *dev;
    int alg;
    int level;
    const char *key_file;
    const char *nonce_hex;
    size_t chunk;
    unsigned int depth;
    bool verbose;
    const char *in_name, *out_name;
    int in_fd, out_fd;
    uint64_t bytes_in, bytes_out;
};

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static int fail(struct tool *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void die_usage(const char *fmt, ...)
{
    va_list ap;

    fputs("pvaccel: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'pvaccel --help'.\n", stderr);
    exit(EXIT_USAGE);
}

static int fail(struct tool *t, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "pvaccel: %s: ", t->cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_FAILURE;
}

static void usage(FILE *f)
{
    fputs(
"Usage: pvaccel [OPTIONS] COMMAND [ARGS]\n"
"Run work on this guest's vaccel device (Xen paravirtual accelerator).\n"
"\n"
"Commands:\n"
"  info                         device, engine, capabilities, limits, queues\n"
"  compress IN OUT              compress (--alg deflate|zlib|gzip|zstd|lz4,\n"
"                               --level N; default zstd, default level)\n"
"  decompress IN OUT            decompress concatenated streams (--alg)\n"
"  digest FILE                  print the digest (--alg sha256|sha512)\n"
"  encrypt IN OUT               chunked AEAD (--key-file K, --alg\n"
"                               aes-256-gcm|chacha20-poly1305, --nonce HEX)\n"
"  decrypt IN OUT               verify and decrypt (--key-file K)\n"
"  crc32c FILE                  print the CRC-32C\n"
"  bench [BENCH-OPTIONS]        measure the device ('pvaccel bench --help')\n"
"IN or OUT '-' is standard input or output.\n"
"\n"
"Options:\n"
"  -d, --device=N        device index, device/vaccel/N (default 0)\n"
"  -q, --queues=N        queues to open (default one per CPU, backend cap)\n"
"      --poll            busy-poll the rings instead of sleeping\n"
"  -p, --platform=NAME   xen, sim or auto (default $PVACCEL_PLATFORM, auto)\n"
"  -a, --alg=NAME        algorithm\n"
"  -l, --level=N         compression level (0 = the algorithm's default)\n"
"  -k, --key-file=FILE   32-byte key: raw, or 64 hex digits\n"
"      --nonce=HEX       encrypt: the 24-hex-digit file nonce (default random)\n"
"      --chunk=BYTES     chunk size (default 1048576)\n"
"      --depth=N         chunks in flight (default 2 per queue)\n"
"  -v, --verbose         print throughput to stderr\n"
"  -h, --help            this text\n"
"  -V, --version         print the version\n"
"\n"
"Exit status: 0 success, 1 failure, 2 usage error.\n", f);
}

static unsigned long parse_num(const char *what, const char *s, unsigned long max)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 0);
    if (errno || end == s || *end || v > max)
        die_usage("invalid %s '%s'", what, s);
    return v;
}

static const struct option long_opts[] = {
    { "device", required_argument, NULL, 'd' },
    { "queues", required_argument, NULL, 'q' },
    { "poll", no_argument, NULL, 'P' },
    { "platform", required_argument, NULL, 'p' },
    { "alg", required_argument, NULL, 'a' },
    { "level", required_argument, NULL, 'l' },
    { "key-file", required_argument, NULL, 'k' },
    { "nonce", required_argument, NULL, 'N' },
    { "chunk", required_argument, NULL, 'C' },
    { "depth", required_argument, NULL, 'D' },
    { "verbose", no_argument, NULL, 'v' },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

static int parse_args(struct tool *t, int argc, char **argv)
{
    int c;

    pva_dev_opts_init(&t->opts);
    t->alg = -1;
    t->chunk = 1u << 20;
    t->depth = 0;  /* 2 per queue, once the device is open */
    while ((c = getopt_long(argc, argv, "d:q:p:a:l:k:vhV", long_opts, NULL)) != -1) {
        switch (c) {
        case 'd': t->opts.devid = (unsigned int)parse_num("device", optarg, 65535); break;
        case 'q': t->opts.queues = (unsigned int)parse_num("queue count", optarg, 64); break;
        case 'P': t->opts.flags |= PVA_DEV_POLL; break;
        case 'p': t->opts.platform = optarg; break;
        case 'a':
            t->alg = pva_alg_from_name(optarg);
            if (t->alg < 0)
                die_usage("unknown algorithm '%s'", optarg);
            break;
        case 'l': {
            char *end;
            long v = strtol(optarg, &end, 10);

            if (end == optarg || *end || v < -131072 || v > 100)
                die_usage("invalid level '%s'", optarg);
            t->level = (int)v;
            break;
        }
        case 'k': t->key_file = optarg; break;
        case 'N': t->nonce_hex = optarg; break;
        case 'C': t->chunk = parse_num("chunk size", optarg, 1ul << 30); break;
        case 'D':
            t->depth = (unsigned int)parse_num("depth", optarg, MAX_DEPTH);
            if (!t->depth)
                die_usage("the depth must be positive");
            break;
        case 'v': t->verbose = true; break;
        case 'h': usage(stdout); exit(EXIT_SUCCESS);
        case 'V': printf("pvaccel %s\n", PACKAGE_VERSION); exit(EXIT_SUCCESS);
        default: fputs("Try 'pvaccel --help'.\n", stderr); exit(EXIT_USAGE);
        }
    }
    if (optind >= argc)
        die_usage("no command given");
    if (!t->chunk)
        die_usage("the chunk size must be positive");
    t->cmd = argv[optind++];
    return optind;
}

/* ---- files ---- */

static int open_in(struct tool *t, const char *name)
{
    t->in_name = name;
    t->in_fd = strcmp(name, "-") ? open(name, O_RDONLY | O_CLOEXEC) : 0;
    if (t->in_fd < 0)
        return fail(t, "%s: %s", name, strerror(errno));
    return 0;
}

static int open_out(struct tool *t, const char *name)
{
    t->out_name = name;
    t->out_fd = strcmp(name, "-") ? open(name, O_WRONLY | O_CREAT | O_TRUNC |
                                         O_CLOEXEC, 0666) : 1;
    if (t->out_fd < 0)
        return fail(t, "%s: %s", name, strerror(errno));
    return 0;
}

/* Remove a half-written output: no partial plaintext or stream is left. */
static void discard_out(struct tool *t)
{
    if (t->out_name && strcmp(t->out_name, "-"))
        unlink(t->out_name);
}

/* Read up to @len bytes (short only at end of file).  -1 on error. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

static int write_full(int fd, const void *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf = (const char *)buf + n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * Chunked reading that knows which chunk is the last: read one byte more
 * than asked and carry it over.  An empty input is one empty last chunk.
 */
struct reader {
    int fd;
    bool have_extra, eof;
    uint8_t extra;
};

static ssize_t read_chunk(struct reader *r, uint8_t *buf, size_t len, bool *last)
{
    size_t off = 0;
    ssize_t n;

    if (r->have_extra) {
        buf[off++] = r->extra;
        r->have_extra = false;
    }
    n = r->eof ? 0 : read_full(r->fd, buf + off, len - off);
    if (n < 0)
        return -1;
    off += (size_t)n;
    *last = true;
    if (off == len && !r->eof) {
        n = read_full(r->fd, &r->extra, 1);
        if (n < 0)
            return -1;
        r->have_extra = n == 1;
        *last = n == 0;
    }
    r->eof = *last;
    return (ssize_t)off;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the chunk pipeline: chunk i in, chunk i out, in order ---- */

struct job {
    struct pva_buf in, out;
    size_t in_len;       /* payload bytes in @in (after the AAD for AEAD) */
    uint64_t index;
    bool last, busy, done;
    struct pva_cqe cqe;
};

struct pipeline;
typedef void prep_fn(struct pipeline *p, struct job *j, struct pva_sqe *sqe);
typedef int finish_fn(struct pipeline *p, struct job *j);

struct pipeline {
    struct tool *t;
    struct job jobs[MAX_DEPTH];
    unsigned int depth, nq;
    size_t in_off;       /* payload offset in the input buffer (AAD room) */
    size_t in_cap, out_cap;
    struct pva_session *session;
    uint8_t header[ENC_HDR_LEN];
    uint8_t file_nonce[PVA_AEAD_NONCE_LEN];
    prep_fn *prep;
    finish_fn *finish;
};

static struct pva_queue *job_queue(struct pipeline *p, const struct job *j)
{
    return pva_dev_queue(p->t->dev, (unsigned int)(j->index % p->nq));
}

static int pipeline_init(struct pipeline *p, struct tool *t, size_t in_cap,
                         size_t out_cap)
{
    p->t = t;
    p->nq = pva_dev_num_queues(t->dev);
    /*
     * Two chunks per queue keep the engine busy while the previous result
     * is written; deeper only oversubscribes small machines (measured).
     */
    p->depth = t->depth ? t->depth : 2 * p->nq;
    if (p->depth > MAX_DEPTH)
        p->depth = MAX_DEPTH;
    p->in_cap = in_cap;
    p->out_cap = out_cap;
    for (unsigned int i = 0; i < p->depth; i++) {
        struct pva_queue *q = pva_dev_queue(t->dev, i % p->nq);
        int rc = pva_buf_alloc(q, in_cap, &p->jobs[i].in);

        if (rc == 0)
            rc = pva_buf_alloc(q, out_cap, &p->jobs[i].out);
        if (rc < 0)
            return fail(t, "allocating device buffers: %s", pva_strerror(rc));
    }
    return 0;
}

static void pipeline_fini(struct pipeline *p)
{
    for (unsigned int i = 0; i < p->depth; i++) {
        pva_buf_free(p->t->dev, &p->jobs[i].in);
        pva_buf_free(p->t->dev, &p->jobs[i].out);
    }
}

static int submit_job(struct pipeline *p, struct job *j)
{
    struct pva_queue *q = job_queue(p, j);
    struct pva_sqe *sqe = pva_get_sqe(q);

    if (!sqe)
        return -EBUSY;
    p->prep(p, j, sqe);
    pva_sqe_set_data(sqe, (uint64_t)(j - p->jobs));
    j->busy = true;
    j->done = false;
    return pva_submit(q) < 0 ? -EIO : 0;
}

/* Reap on the oldest job's queue until that job is done. */
static int wait_job(struct pipeline *p, struct job *j)
{
    struct pva_queue *q = job_queue(p, j);

    while (!j->done) {
        struct pva_cqe cqe;
        int rc = pva_wait_cqe(q, &cqe);

        if (rc < 0)
            return rc;
        if (cqe.user_data < p->depth) {
            p->jobs[cqe.user_data].cqe = cqe;
            p->jobs[cqe.user_data].done = true;
        }
    }
    return 0;
}

static int run_pipeline(struct pipeline *p)
{
    struct tool *t = p->t;
    struct reader rd = { .fd = t->in_fd };
    uint64_t next_in = 0, next_out = 0;
    bool eof = false;
    int rc = 0;

    while (rc == 0 && (!eof || next_out < next_in)) {
        /* Fill the pipeline. */
        while (!eof && next_in - next_out < p->depth) {
            struct job *j = &p->jobs[next_in % p->depth];
            ssize_t n = read_chunk(&rd, (uint8_t *)j->in.addr + p->in_off,
                                   t->chunk, &j->last);

            if (n < 0)
                return fail(t, "%s: %s", t->in_name, strerror(errno));
            j->in_len = (size_t)n;
            j->index = next_in++;
            t->bytes_in += (uint64_t)n;
            eof = j->last;
            if (n == 0 && next_in > 1 && p->in_off == 0) {
                /* Compression: no empty trailing chunk needed. */
                next_in--;
                break;
            }
            if ((rc = submit_job(p, j)) < 0)
                return fail(t, "submit: %s", pva_strerror(rc));
        }
        if (next_out == next_in)
            break;
        /* Complete the oldest, in order. */
        {
            struct job *j = &p->jobs[next_out % p->depth];

            rc = wait_job(p, j);
            /*
             * Lost with the connection: every operation here is idempotent
             * (the chunk nonce is fixed), so run it again once the library
             * has reconnected and re-registered our buffers and session.
             */
            for (int tries = 0; rc == 0 && j->cqe.res == -ENOTCONN && tries < 3; tries++) {
                rc = pva_dev_wait_connected(t->dev, 30000);
                if (rc == 0)
                    rc = submit_job(p, j);
                if (rc == 0)
                    rc = wait_job(p, j);
            }
            if (rc < 0)
                return fail(t, "%s", pva_strerror(rc));
            j->busy = false;
            rc = p->finish(p, j);
            next_out++;
        }
    }
    return rc;
}

/*
 * Run one prepared request; after -ENOTCONN (the backend went away) wait
 * for the reconnection and run it again: these requests are idempotent.
 */
static int run_retry(struct tool *t, struct pva_queue *q, const struct pva_sqe *tmpl,
                     struct pva_cqe *cqe)
{
    int rc = -ENOTCONN;

    for (int tries = 0; rc == -ENOTCONN && tries < 4; tries++) {
        struct pva_sqe *sqe;

        if (tries && pva_dev_wait_connected(t->dev, 30000) < 0)
            break;
        sqe = pva_get_sqe(q);
        if (!sqe)
            return -EBUSY;
        *sqe = *tmpl;
        rc = pva_run(q, sqe, cqe);
    }
    return rc;
}

/* ---- compress ---- */

static void prep_compress(struct pipeline *p, struct job *j, struct pva_sqe *sqe)
{
    pva_prep_compress(sqe, p->t->alg, p->t->level, pva_seg(&j->in, 0, j->in_len),
                      pva_seg(&j->out, 0, p->out_cap));
}

/* Output did not fit the usual bound: redo this chunk in a bigger buffer. */
static int compress_retry(struct pipeline *p, struct job *j)
{
    struct tool *t = p->t;
    struct pva_queue *q = job_queue(p, j);
    size_t need = j->cqe.aux ? j->cqe.aux : 2 * p->out_cap;
    struct pva_buf big;
    struct pva_sqe *sqe;
    int rc = pva_buf_alloc(q, need, &big);

    if (rc < 0)
        return fail(t, "%s", pva_strerror(rc));
    sqe = pva_get_sqe(q);
    pva_prep_compress(sqe, t->alg, t->level, pva_seg(&j->in, 0, j->in_len),
                      pva_seg(&big, 0, need));
    rc = pva_run(q, sqe, &j->cqe);
    if (rc == 0 && write_full(t->out_fd, big.addr, j->cqe.len) < 0)
        rc = fail(t, "%s: %s", t->out_name, strerror(errno));
    else if (rc == 0)
        t->bytes_out += j->cqe.len;
    else
        rc = fail(t, "%s", pva_strerror(rc));
    pva_buf_free(t->dev, &big);
    return rc;
}

static int finish_compress(struct pipeline *p, struct job *j)
{
    struct tool *t = p->t;

    if (j->cqe.res == -ENOSPC)
        return compress_retry(p, j);
    if (j->cqe.res < 0)
        return fail(t, "chunk %" PRIu64 ": %s", j->index, pva_strerror(j->cqe.res));
    if (write_full(t->out_fd, j->out.addr, j->cqe.len) < 0)
        return fail(t, "%s: %s", t->out_name, strerror(errno));
    t->bytes_out += j->cqe.len;
    return 0;
}

static int check_alg(struct tool *t, bool (*family)(int), int def)
{
    if (t->alg < 0)
        t->alg = def;
    if (!family(t->alg))
        die_usage("%s: algorithm %s does not fit", t->cmd, pva_alg_name(t->alg));
    if (!pva_dev_has_alg(t->dev, t->alg)) {
        fail(t, "the device does not offer %s", pva_alg_name(t->alg));
        return EXIT_FAILURE;
    }
    return 0;
}

static bool is_compress(int a) { return a >= PVA_ALG_DEFLATE && a <= PVA_ALG_LZ4; }
static bool is_digest(int a) { return pva_digest_len(a) != 0; }
static bool is_aead(int a) { return a == PVA_ALG_AES_256_GCM || a == PVA_ALG_CHACHA20_POLY1305; }

static size_t compress_bound(size_t n)
{
    return n + n / 8 + 4096;
}

static int cmd_compress(struct tool *t)
{
    struct pipeline p = { .prep = prep_compress, .finish = finish_compress };
    int rc = check_alg(t, is_compress, PVA_ALG_ZSTD);

    if (rc == 0)
        rc = pipeline_init(&p, t, t->chunk, compress_bound(t->chunk));
    if (rc == 0)
        rc = run_pipeline(&p);
    pipeline_fini(&p);
    return rc;
}

/* ---- decompress: one stream at a time, stepping by input consumed ---- */

struct window {
    struct pva_buf buf;
    size_t len;
};

static int grow(struct tool *t, struct pva_buf *b, size_t keep, size_t cap)
{
    struct pva_buf nb;
    int rc = pva_buf_alloc(pva_dev_queue(t->dev, 0), cap, &nb);

    if (rc < 0)
        return rc;
    memcpy(nb.addr, b->addr, keep);
    pva_buf_free(t->dev, b);
    *b = nb;
    return 0;
}

static int refill(struct tool *t, struct window *w, bool *eof)
{
    ssize_t n = read_full(t->in_fd, (char *)w->buf.addr + w->len, w->buf.len - w->len);

    if (n < 0)
        return fail(t, "%s: %s", t->in_name, strerror(errno));
    w->len += (size_t)n;
    t->bytes_in += (uint64_t)n;
    *eof = w->len < w->buf.len;
    return 0;
}

static int decompress_stream(struct tool *t, struct window *in,
                             struct pva_buf *out, bool *eof, uint64_t max)
{
    struct pva_queue *q = pva_dev_queue(t->dev, 0);

    for (;;) {
        struct pva_sqe sqe;
        struct pva_cqe cqe;
        int rc;

        pva_prep_decompress(&sqe, t->alg, pva_seg(&in->buf, 0, in->len),
                            pva_seg(out, 0, out->len));
        rc = run_retry(t, q, &sqe, &cqe);
        if (rc == 0) {
            if (write_full(t->out_fd, out->addr, cqe.len) < 0)
                return fail(t, "%s: %s", t->out_name, strerror(errno));
            t->bytes_out += cqe.len;
            if (!cqe.value || cqe.value > in->len)
                return fail(t, "the device consumed no input");
            memmove(in->buf.addr, (char *)in->buf.addr + cqe.value,
                    in->len - cqe.value);
            in->len -= cqe.value;
            return *eof ? 0 : refill(t, in, eof);
        }
        if (rc == -ENOSPC && out->len < max) {
            size_t want = cqe.aux > out->len ? cqe.aux : 2 * out->len;

            rc = grow(t, out, 0, want < max ? want : max);
        } else if (rc == -ENODATA && !*eof) {
            if (in->len == in->buf.len) {
                if (in->buf.len >= max)
                    return fail(t, "a stream is larger than the device's limit");
                rc = grow(t, &in->buf, in->len, 2 * in->buf.len < max ? 2 * in->buf.len : max);
            }
            if (rc == 0)
                rc = refill(t, in, eof);
            if (rc > 0)
                return rc;
        } else if (rc == -ENODATA) {
            return fail(t, "%s: truncated input (%s)", t->in_name, pva_strerror(rc));
        } else if (rc == -EILSEQ) {
            return fail(t, "%s: not valid %s data", t->in_name, pva_alg_name(t->alg));
        } else if (rc == -ENOSPC) {
            return fail(t, "a stream decompresses to more than the device's limit");
        }
        if (rc < 0)
            return fail(t, "%s", pva_strerror(rc));
    }
}

static int cmd_decompress(struct tool *t)
{
    struct pva_dev_info info;
    struct window in = { 0 };
    struct pva_buf out = { 0 };
    bool eof = false;
    uint64_t max;
    int rc = check_alg(t, is_compress, PVA_ALG_ZSTD);

    if (rc)
        return rc;
    pva_dev_get_info(t->dev, &info);
    max = info.max_op_bytes;
    rc = pva_buf_alloc(pva_dev_queue(t->dev, 0), t->chunk + t->chunk / 2, &in.buf);
    if (rc == 0)
        rc = pva_buf_alloc(pva_dev_queue(t->dev, 0), t->chunk + t->chunk / 4, &out);
    if (rc < 0)
        return fail(t, "allocating device buffers: %s", pva_strerror(rc));
    rc = refill(t, &in, &eof);
    while (rc == 0 && in.len)
        rc = decompress_stream(t, &in, &out, &eof, max);
    pva_buf_free(t->dev, &in.buf);
    pva_buf_free(t->dev, &out);
    return rc;
}

/* ---- sequential streams: digest and crc32c (double-buffered reads) ---- */

typedef void stream_prep_fn(struct tool *t, struct pva_sqe *sqe, struct pva_seg src,
                            bool last, void *state);

static int run_stream(struct tool *t, stream_prep_fn *prep, void *state,
                      struct pva_cqe *final)
{
    struct pva_queue *q = pva_dev_queue(t->dev, 0);
    struct reader rd = { .fd = t->in_fd };
    struct pva_buf buf[2];
    bool last = false;
    int rc, cur = 0;

    for (int i = 0; i < 2; i++)
        if ((rc = pva_buf_alloc(q, t->chunk, &buf[i])) < 0)
            return fail(t, "allocating device buffers: %s", pva_strerror(rc));
    while (!last) {
        ssize_t n = read_chunk(&rd, buf[cur].addr, t->chunk, &last);
        struct pva_sqe *sqe;

        if (n < 0) {
            rc = fail(t, "%s: %s", t->in_name, strerror(errno));
            break;
        }
        t->bytes_in += (uint64_t)n;
        /* The previous chunk ran while we read this one. */
        if (pva_queue_inflight(q) && (rc = pva_wait_cqe(q, final)) == 0)
            rc = final->res;
        if (rc < 0)
            break;
        sqe = pva_get_sqe(q);
        prep(t, sqe, pva_seg(&buf[cur], 0, (size_t)n), last, state);
        pva_submit(q);
        cur ^= 1;
    }
    if (rc == 0 && (rc = pva_wait_cqe(q, final)) == 0)
        rc = final->res;
    while (pva_queue_inflight(q))
        pva_wait_cqe(q, final);
    pva_buf_free(t->dev, &buf[0]);
    pva_buf_free(t->dev, &buf[1]);
    if (rc < 0)
        return fail(t, "%s: %s", t->in_name, pva_strerror(rc));
    return 0;
}

struct digest_state {
    struct pva_session *s;
    struct pva_buf out;
};

static void prep_digest(struct tool *t, struct pva_sqe *sqe, struct pva_seg src,
                        bool last, void *arg)
{
    struct digest_state *d = arg;
    struct pva_seg none = { 0, 0 };

    pva_prep_digest(sqe, t->alg, d->s, last ? 0 : PVA_DIGEST_F_MORE, src,
                    last ? pva_seg(&d->out, 0, PVA_SHA512_LEN) : none);
}

static int cmd_digest(struct tool *t)
{
    struct pva_queue *q = pva_dev_queue(t->dev, 0);
    struct digest_state d = { 0 };
    struct pva_cqe cqe;
    int rc = check_alg(t, is_digest, PVA_ALG_SHA256);

    if (rc)
        return rc;
    rc = pva_session_create(q, t->alg, NULL, 0, &d.s);
    if (rc == 0)
        rc = pva_buf_alloc(q, PVA_SHA512_LEN, &d.out);
    if (rc < 0)
        return fail(t, "%s", pva_strerror(rc));
    rc = run_stream(t, prep_digest, &d, &cqe);
    if (rc == 0) {
        for (unsigned int i = 0; i < cqe.len; i++)
            printf("%02x", ((uint8_t *)d.out.addr)[i]);
        printf("  %s\n", t->in_name);
    }
    pva_buf_free(t->dev, &d.out);
    pva_session_destroy(q, d.s);
    return rc;
}

static int cmd_crc32c(struct tool *t)
{
    struct pva_queue *q = pva_dev_queue(t->dev, 0);
    struct reader rd = { .fd = t->in_fd };
    struct pva_buf buf;
    uint32_t crc = 0;
    bool last = false;
    int rc;

    if (!pva_dev_has_op(t->dev, PVA_OP_CRC32C))
        return fail(t, "the device does not offer crc32c");
    /* Each chunk's CRC seeds the next: strictly one after the other. */
    rc = pva_buf_alloc(q, t->chunk, &buf);
    if (rc < 0)
        return fail(t, "allocating device buffers: %s", pva_strerror(rc));
    while (!last && rc == 0) {
        ssize_t n = read_chunk(&rd, buf.addr, t->chunk, &last);
        struct pva_sqe sqe;
        struct pva_cqe cqe;

        if (n < 0) {
            rc = fail(t, "%s: %s", t->in_name, strerror(errno));
            break;
        }
        t->bytes_in += (uint64_t)n;
        if (n == 0)
            break;
        pva_prep_crc32c(&sqe, pva_seg(&buf, 0, (size_t)n), crc);
        rc = run_retry(t, q, &sqe, &cqe);
        if (rc < 0)
            rc = fail(t, "%s: %s", t->in_name, pva_strerror(rc));
        crc = (uint32_t)cqe.value;
    }
    if (rc == 0)
        printf("%08x  %s\n", crc, t->in_name);
    pva_buf_free(t->dev, &buf);
    return rc;
}

/* ---- encrypt / decrypt: the PVAENC01 format ---- */

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static int parse_hex(const char *s, uint8_t *out, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        int hi = hexval(s[2 * i]), lo = hi < 0 ? -1 : hexval(s[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

static int read_key(struct tool *t, uint8_t *key)
{
    char buf[130];
    int fd;
    ssize_t n;

    if (!t->key_file)
        die_usage("%s needs --key-file", t->cmd);
    fd = open(t->key_file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail(t, "%s: %s", t->key_file, strerror(errno));
    n = read_full(fd, buf, sizeof(buf));
    close(fd);
    if (n == PVA_AEAD_KEY_LEN) {
        memcpy(key, buf, PVA_AEAD_KEY_LEN);
    } else if ((n == 64 || (n == 65 && buf[64] == '\n')) &&
               parse_hex(buf, key, PVA_AEAD_KEY_LEN) == 0) {
        /* hex */
    } else {
        explicit_bzero(buf, sizeof(buf));
        return fail(t, "%s: a key is 32 raw bytes or 64 hex digits", t->key_file);
    }
    explicit_bzero(buf, sizeof(buf));
    return 0;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* Chunk nonce: the file nonce with its last 8 octets XOR the index (LE). */
static void chunk_nonce(const struct pipeline *p, uint64_t index, uint8_t *nonce)
{
    memcpy(nonce, p->file_nonce, PVA_AEAD_NONCE_LEN);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] ^= (uint8_t)(index >> (8 * i));
}

/* AAD: header || index (LE 64) || last (1 octet) || 7 zero octets. */
static void chunk_aad(const struct pipeline *p, const struct job *j, uint8_t *aad)
{
    memcpy(aad, p->header, ENC_HDR_LEN);
    put_le64(aad + ENC_HDR_LEN, j->index);
    aad[ENC_HDR_LEN + 8] = j->last;
    memset(aad + ENC_HDR_LEN + 9, 0, 7);
}

static void prep_aead(struct pipeline *p, struct job *j, struct pva_sqe *sqe,
                      bool encrypt)
{
    uint8_t nonce[PVA_AEAD_NONCE_LEN];

    chunk_aad(p, j, j->in.addr);
    chunk_nonce(p, j->index, nonce);
    pva_prep_aead(sqe, encrypt, p->session, nonce, ENC_AAD_LEN,
                  pva_seg(&j->in, 0, ENC_AAD_LEN + j->in_len),
                  pva_seg(&j->out, 0, p->out_cap));
}

static void prep_encrypt(struct pipeline *p, struct job *j, struct pva_sqe *sqe)
{
    prep_aead(p, j, sqe, true);
}

static void prep_decrypt(struct pipeline *p, struct job *j, struct pva_sqe *sqe)
{
    prep_aead(p, j, sqe, false);
}

static int finish_aead(struct pipeline *p, struct job *j)
{
    struct tool *t = p->t;

    if (j->cqe.res == -EBADMSG)
        return fail(t, "%s: chunk %" PRIu64 ": authentication failed (wrong key, "
                    "or the file was modified)", t->in_name, j->index);
    if (j->cqe.res < 0)
        return fail(t, "chunk %" PRIu64 ": %s", j->index, pva_strerror(j->cqe.res));
    if (write_full(t->out_fd, j->out.addr, j->cqe.len) < 0)
        return fail(t, "%s: %s", t->out_name, strerror(errno));
    t->bytes_out += j->cqe.len;
    return 0;
}

static int aead_setup(struct tool *t, struct pipeline *p, const uint8_t *key)
{
    int rc = pva_session_create(pva_dev_queue(t->dev, 0), t->alg, key,
                                PVA_AEAD_KEY_LEN, &p->session);

    if (rc < 0)
        return fail(t, "creating the key session: %s", pva_strerror(rc));
    return 0;
}

static int cmd_encrypt(struct tool *t)
{
    struct pipeline p = { .prep = prep_encrypt, .finish = finish_aead,
                          .in_off = ENC_AAD_LEN };
    uint8_t key[PVA_AEAD_KEY_LEN];
    int rc = check_alg(t, is_aead, PVA_ALG_AES_256_GCM);

    if (rc == 0)
        rc = read_key(t, key);
    if (rc)
        return rc;
    if (t->nonce_hex) {
        if (strlen(t->nonce_hex) != 2 * PVA_AEAD_NONCE_LEN ||
            parse_hex(t->nonce_hex, p.file_nonce, PVA_AEAD_NONCE_LEN) < 0)
            die_usage("--nonce takes 24 hex digits");
    } else if (getrandom(p.file_nonce, sizeof(p.file_nonce), 0) !=
               (ssize_t)sizeof(p.file_nonce)) {
        return fail(t, "getrandom: %s", strerror(errno));
    }
    if (t->chunk > UINT32_MAX)
        die_usage("chunk too large");
    memcpy(p.header, ENC_MAGIC, 8);
    p.header[8] = (uint8_t)t->alg;
    put_le32(p.header + 12, (uint32_t)t->chunk);
    memcpy(p.header + 16, p.file_nonce, PVA_AEAD_NONCE_LEN);
    rc = aead_setup(t, &p, key);
    explicit_bzero(key, sizeof(key));
    if (rc == 0 && write_full(t->out_fd, p.header, ENC_HDR_LEN) < 0)
        rc = fail(t, "%s: %s", t->out_name, strerror(errno));
    if (rc == 0)
        rc = pipeline_init(&p, t, ENC_AAD_LEN + t->chunk, t->chunk + PVA_AEAD_TAG_LEN);
    if (rc == 0)
        rc = run_pipeline(&p);
    pipeline_fini(&p);
    pva_session_destroy(pva_dev_queue(t->dev, 0), p.session);
    return rc;
}

static int cmd_decrypt(struct tool *t)
{
    struct pipeline p = { .prep = prep_decrypt, .finish = finish_aead,
                          .in_off = ENC_AAD_LEN };
    uint8_t key[PVA_AEAD_KEY_LEN];
    ssize_t n;
    int rc;

    n = read_full(t->in_fd, p.header, ENC_HDR_LEN);
    if (n != ENC_HDR_LEN || memcmp(p.header, ENC_MAGIC, 8) ||
        !is_aead(p.header[8]) || get_le32(p.header + 12) == 0)
        return fail(t, "%s: not a pvaccel encrypted file", t->in_name);
    t->alg = p.header[8];
    t->chunk = get_le32(p.header + 12) + PVA_AEAD_TAG_LEN;
    memcpy(p.file_nonce, p.header + 16, PVA_AEAD_NONCE_LEN);
    if (!pva_dev_has_alg(t->dev, t->alg))
        return fail(t, "the device does not offer %s", pva_alg_name(t->alg));
    rc = read_key(t, key);
    if (rc)
        return rc;
    rc = aead_setup(t, &p, key);
    explicit_bzero(key, sizeof(key));
    if (rc == 0)
        rc = pipeline_init(&p, t, ENC_AAD_LEN + t->chunk, t->chunk);
    if (rc == 0)
        rc = run_pipeline(&p);
    pipeline_fini(&p);
    pva_session_destroy(pva_dev_queue(t->dev, 0), p.session);
    return rc;
}

/* ---- info ---- */

static int cmd_info(struct tool *t)
{
    struct pva_dev_info in;

    pva_dev_get_info(t->dev, &in);
    printf("device:          %s (domain %u, vaccel %u, %s platform)\n",
           in.frontend_path, in.domid, in.devid, in.platform);
    printf("backend:         %s (domain %u)\n", in.backend_path, in.backend_id);
    printf("engine:          %s\n", in.engine);
    printf("protocol:        version %u\n", in.version);
    printf("queues:          %u of at most %u, %u slots each (ring order %u, max %u)\n",
           in.queues, in.max_queues, in.ring_slots, in.ring_order, in.max_ring_order);
    printf("operations:      %s\n", in.feature_ops);
    printf("compression:     %s\n", in.compress_algs);
    printf("levels:          %s\n", in.compress_levels);
    printf("digests:         %s\n", in.digest_algs);
    printf("aead:            %s\n", in.aead_algs);
    printf("blobs:           %s\n", in.feature_blobs ? "yes" : "no");
    printf("i/o page faults: %s\n", in.feature_iopf ? "recoverable" : "reported");
    printf("limits:          regions %" PRIu32 ", region pages %" PRIu32
           ", mapped pages %" PRIu64 ", sessions %" PRIu32 "\n",
           in.max_regions, in.max_region_pages, in.max_mapped_pages, in.max_sessions);
    printf("                 in flight %" PRIu32 ", sg entries %" PRIu32
           ", op bytes %" PRIu64 ", iova bits %" PRIu32 "\n",
           in.max_in_flight, in.max_sg_entries, in.max_op_bytes, in.iova_bits);
    printf("                 blobs %" PRIu32 ", blob pages %" PRIu64
           ", fault timeout %" PRIu32 " ms\n",
           in.max_blobs, in.max_blob_pages, in.fault_timeout_ms);
    return 0;
}

/* ---- main ---- */

struct command {
    const char *name;
    int nfiles;     /* 0: none, 1: IN, 2: IN OUT */
    int (*run)(struct tool *t);
};

static const struct command commands[] = {
    { "info", 0, cmd_info },
    { "compress", 2, cmd_compress },
    { "decompress", 2, cmd_decompress },
    { "digest", 1, cmd_digest },
    { "encrypt", 2, cmd_encrypt },
    { "decrypt", 2, cmd_decrypt },
    { "crc32c", 1, cmd_crc32c },
};

int main(int argc, char **argv)
{
    struct tool t = { .in_fd = -1, .out_fd = -1 };
    const struct command *c = NULL;
    char err[256];
    double t0;
    int first, rc;

    /* bench has options of its own (tools/pvaccel-bench.c). */
    if (argc >= 2 && !strcmp(argv[1], "bench"))
        return pvaccel_bench_main(argc - 1, argv + 1);
    first = parse_args(&t, argc, argv);

    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(commands[i].name, t.cmd))
            c = &commands[i];
    if (!c)
        die_usage("unknown command '%s'", t.cmd);
    if (argc - first != c->nfiles)
        die_usage("%s takes %s", t.cmd, c->nfiles == 2 ? "IN and OUT"
                                        : c->nfiles == 1 ? "one FILE" : "no arguments");
    if (c->nfiles >= 1 && open_in(&t, argv[first]))
        return EXIT_FAILURE;
    rc = pva_dev_open(&t.opts, &t.dev, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "pvaccel: cannot open vaccel device %u: %s\n", t.opts.devid,
                err[0] ? err : pva_strerror(rc));
        return EXIT_FAILURE;
    }
    if (c->nfiles == 2 && open_out(&t, argv[first + 1])) {
        pva_dev_close(t.dev);
        return EXIT_FAILURE;
    }
    t0 = now_s();
    rc = c->run(&t);
    if (rc == 0 && t.out_fd > 1 && close(t.out_fd) < 0)
        rc = fail(&t, "%s: %s", t.out_name, strerror(errno));
    if (rc)
        discard_out(&t);
    if (rc == 0 && t.verbose) {
        double dt = now_s() - t0;

        fprintf(stderr, "pvaccel: %s: %" PRIu64 " bytes in, %" PRIu64
                " bytes out, %.3f s, %.1f MiB/s\n", t.cmd, t.bytes_in,
                t.bytes_out, dt, dt > 0 ? (double)t.bytes_in / dt / 1048576 : 0);
    }
    pva_dev_close(t.dev);
    return rc ? EXIT_FAILURE : EXIT_SUCCESS;
}
