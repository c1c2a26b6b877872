/* SPDX-License-Identifier: MIT */
/*
 * pvaccel-native: the libraries called directly, in one process.
 *
 *   pvaccel-native digest --alg sha256|sha512 FILE
 *   pvaccel-native decompress --alg deflate|zlib|gzip|zstd|lz4 IN OUT
 *
 * The main job uses it to check what went through pvaccel against the
 * same libraries without pvaccel (OpenSSL libcrypto, libdeflate, libzstd,
 * liblz4).  decompress accepts concatenated streams, as `pvaccel compress`
 * writes one stream per chunk.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>
#include <lz4frame.h>
#include <openssl/evp.h>
#include <zstd.h>

static int read_file(const char *path, unsigned char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 1 << 20, n = 0;
    unsigned char *p = NULL;

    if (!f)
        return -errno;
    for (;;) {
        unsigned char *q = realloc(p, cap);
        size_t got;

        if (!q) {
            free(p);
            fclose(f);
            return -ENOMEM;
        }
        p = q;
        got = fread(p + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        cap *= 2;
    }
    if (ferror(f)) {
        free(p);
        fclose(f);
        return -EIO;
    }
    fclose(f);
    *buf = p;
    *len = n;
    return 0;
}

static int digest(const char *alg, const char *path)
{
    const EVP_MD *md = !strcmp(alg, "sha256") ? EVP_sha256()
                       : !strcmp(alg, "sha512") ? EVP_sha512() : NULL;
    unsigned char *buf, out[EVP_MAX_MD_SIZE];
    unsigned int outlen = 0;
    size_t len;
    int err;

    if (!md) {
        fprintf(stderr, "pvaccel-native: unknown digest '%s'\n", alg);
        return 2;
    }
    if ((err = read_file(path, &buf, &len)) < 0) {
        fprintf(stderr, "pvaccel-native: %s: %s\n", path, strerror(-err));
        return 1;
    }
    if (!EVP_Digest(buf, len, out, &outlen, md, NULL)) {
        free(buf);
        return 1;
    }
    for (unsigned int i = 0; i < outlen; i++)
        printf("%02x", out[i]);
    printf("  %s\n", path);
    free(buf);
    return 0;
}

/* Output sink that grows. */
struct sink {
    unsigned char *p;
    size_t len, cap;
};

static int sink_reserve(struct sink *s, size_t more)
{
    while (s->cap - s->len < more) {
        size_t cap = s->cap ? s->cap * 2 : (1u << 20);
        unsigned char *q = realloc(s->p, cap);

        if (!q)
            return -ENOMEM;
        s->p = q;
        s->cap = cap;
    }
    return 0;
}

typedef enum libdeflate_result (*deflate_fn)(
    struct libdeflate_decompressor *, const void *, size_t, void *, size_t,
    size_t *, size_t *);

/* One libdeflate stream after another, growing the window as needed. */
static int inflate_all(deflate_fn fn, const unsigned char *in, size_t len,
                       struct sink *out)
{
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    size_t pos = 0, window = 1u << 20;
    int err = 0;

    if (!d)
        return -ENOMEM;
    while (pos < len && !err) {
        size_t in_used = 0, produced = 0;
        enum libdeflate_result r;

        if ((err = sink_reserve(out, window)) < 0)
            break;
        r = fn(d, in + pos, len - pos, out->p + out->len, window, &in_used,
               &produced);
        if (r == LIBDEFLATE_INSUFFICIENT_SPACE && window < (1u << 30)) {
            window *= 2;
        } else if (r != LIBDEFLATE_SUCCESS || in_used == 0) {
            err = -EILSEQ;
        } else {
            pos += in_used;
            out->len += produced;
        }
    }
    libdeflate_free_decompressor(d);
    return err;
}

static int unzstd_all(const unsigned char *in, size_t len, struct sink *out)
{
    ZSTD_DStream *z = ZSTD_createDStream();
    ZSTD_inBuffer ib = { in, len, 0 };
    size_t r = 1;
    int err = 0;

    if (!z)
        return -ENOMEM;
    while (ib.pos < ib.size && !err) {
        ZSTD_outBuffer ob;

        if ((err = sink_reserve(out, 1u << 20)) < 0)
            break;
        ob = (ZSTD_outBuffer){ out->p + out->len, out->cap - out->len, 0 };
        r = ZSTD_decompressStream(z, &ob, &ib);
        if (ZSTD_isError(r))
            err = -EILSEQ;
        out->len += ob.pos;
    }
    ZSTD_freeDStream(z);
    return err ? err : (r == 0 ? 0 : -ENODATA);
}

static int unlz4_all(const unsigned char *in, size_t len, struct sink *out)
{
    LZ4F_dctx *d;
    size_t pos = 0, r = 1;
    int err = 0;

    if (LZ4F_isError(LZ4F_createDecompressionContext(&d, LZ4F_VERSION)))
        return -ENOMEM;
    while (pos < len && !err) {
        size_t dst_len, src_len = len - pos;

        if ((err = sink_reserve(out, 1u << 20)) < 0)
            break;
        dst_len = out->cap - out->len;
        r = LZ4F_decompress(d, out->p + out->len, &dst_len, in + pos,
                            &src_len, NULL);
        if (LZ4F_isError(r))
            err = -EILSEQ;
        pos += src_len;
        out->len += dst_len;
    }
    LZ4F_freeDecompressionContext(d);
    return err ? err : (r == 0 ? 0 : -ENODATA);
}

static int decompress(const char *alg, const char *inpath,
                      const char *outpath)
{
    struct sink out = { 0 };
    unsigned char *in;
    size_t len;
    FILE *f;
    int err = read_file(inpath, &in, &len);

    if (err < 0) {
        fprintf(stderr, "pvaccel-native: %s: %s\n", inpath, strerror(-err));
        return 1;
    }
    if (!strcmp(alg, "deflate"))
        err = inflate_all(libdeflate_deflate_decompress_ex, in, len, &out);
    else if (!strcmp(alg, "zlib"))
        err = inflate_all(libdeflate_zlib_decompress_ex, in, len, &out);
    else if (!strcmp(alg, "gzip"))
        err = inflate_all(libdeflate_gzip_decompress_ex, in, len, &out);
    else if (!strcmp(alg, "zstd"))
        err = unzstd_all(in, len, &out);
    else if (!strcmp(alg, "lz4"))
        err = unlz4_all(in, len, &out);
    else {
        fprintf(stderr, "pvaccel-native: unknown algorithm '%s'\n", alg);
        free(in);
        return 2;
    }
    free(in);
    if (err < 0) {
        fprintf(stderr, "pvaccel-native: %s: %s\n", inpath, strerror(-err));
        free(out.p);
        return 1;
    }
    f = fopen(outpath, "wb");
    if (!f || fwrite(out.p, 1, out.len, f) != out.len || fclose(f) != 0) {
        fprintf(stderr, "pvaccel-native: %s: %s\n", outpath,
                strerror(errno));
        free(out.p);
        return 1;
    }
    free(out.p);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "digest") &&
        !strcmp(argv[2], "--alg"))
        return digest(argv[3], argv[4]);
    if (argc == 6 && !strcmp(argv[1], "decompress") &&
        !strcmp(argv[2], "--alg"))
        return decompress(argv[3], argv[4], argv[5]);
    fprintf(stderr,
            "usage: pvaccel-native digest --alg sha256|sha512 FILE\n"
            "       pvaccel-native decompress --alg ALG IN OUT\n");
    return 2;
}
