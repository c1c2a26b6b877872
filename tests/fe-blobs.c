/* SPDX-License-Identifier: MIT */
/*
 * fe-blobs: libpvaccel's blob calls through the whole stack (library,
 * sim, pvacceld with the CPU engine).
 *
 *  - a blob is zero filled and works as the operand of real operations
 *    (compress from a blob, decompress into one);
 *  - pva_blob_migrate with a partial dirty bitmap: dirty pages copied,
 *    clean pages zero, the region's grants ended (the sim's grant count of
 *    the guest drops by the region's pages); with NULL every page moves;
 *  - pva_blob_readback into a region, and pva_blob_to_region (REMAP) at
 *    the same IOVA;
 *  - max-blobs and max-blob-pages (in 2 MiB chunks) refuse with -EMFILE
 *    and -ENOMEM;
 *  - the backend is killed and restarted: the library reconnects, blobs
 *    are lost (-ESTALE, their IOVAs fault), regions are back, and
 *    pva_blob_destroy of a lost blob works.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fe-harness.h"

#define PG 4096u
#define CHUNK_PAGES 512u

static struct fe_env env;
static struct pvt_chan to_parent, to_guest;

static int run(struct pva_queue *q, const struct pva_sqe *tmpl,
               struct pva_cqe *cqe)
{
    struct pva_sqe *sqe = pva_get_sqe(q);

    if (!sqe)
        return -EBUSY;
    *sqe = *tmpl;
    return pva_run(q, sqe, cqe);
}

static int copy(struct pva_queue *q, uint64_t src, uint64_t dst, size_t len)
{
    struct pva_sqe sqe;
    struct pva_cqe cqe;

    pva_prep_copy(&sqe, (struct pva_seg){ src, len },
                  (struct pva_seg){ dst, len });
    return run(q, &sqe, &cqe);
}

static bool all_bytes(const void *p, size_t len, uint8_t byte)
{
    const uint8_t *b = p;

    for (size_t i = 0; i < len; i++)
        if (b[i] != byte)
            return false;
    return true;
}

static unsigned int guest_grants(void)
{
    struct pvt_sim_domstat st;

    PVT_EQ_INT(pvt_sim_domstat(&env.sim, env.guest[0], &st), 0);
    return st.grants;
}

/* Compress from a blob, decompress into another, compare. */
static void operands(struct pva_queue *q)
{
    const size_t n = 1u << 20;
    struct pva_region *src, *out;
    struct pva_blob *a, *b;
    struct pva_sqe sqe;
    struct pva_cqe cqe;
    uint64_t clen;

    PVT_EQ_INT(pva_region_alloc(q, n, 0, &src), 0);
    PVT_EQ_INT(pva_region_alloc(q, n, 0, &out), 0);
    for (size_t i = 0; i < n; i++)
        ((char *)pva_region_addr(src))[i] = "blobs, chunks, grants"[i % 21];
    PVT_EQ_INT(pva_blob_create(q, n, &a), 0);
    PVT_EQ_INT(pva_blob_create(q, n - 100, &b), 0);
    PVT_EQ_INT(pva_blob_len(b), n);
    PVT_CHECK(pva_blob_iova(a) != pva_blob_iova(b));
    PVT_CHECK(!pva_blob_lost(a));
    /* Zero filled. */
    memset(pva_region_addr(out), 0x5a, n);
    PVT_EQ_INT(copy(q, pva_blob_iova(a), pva_region_iova(out), n), 0);
    PVT_CHECK(all_bytes(pva_region_addr(out), n, 0));

    PVT_EQ_INT(copy(q, pva_region_iova(src), pva_blob_iova(a), n), 0);
    pva_prep_compress(&sqe, PVA_ALG_ZSTD, 3, pva_blob_seg(a, 0, n),
                      pva_blob_seg(b, 0, n));
    PVT_EQ_INT(run(q, &sqe, &cqe), 0);
    clen = cqe.len;
    PVT_CHECK(clen > 0 && clen < n / 10);
    pva_prep_decompress(&sqe, PVA_ALG_ZSTD, pva_blob_seg(b, 0, clen),
                        pva_blob_seg(a, 0, n));
    PVT_EQ_INT(run(q, &sqe, &cqe), 0);
    PVT_EQ_INT(cqe.len, n);
    PVT_EQ_INT(cqe.value, clen);
    memset(pva_region_addr(out), 0, n);
    PVT_EQ_INT(pva_blob_readback(q, a, out), 0);
    PVT_CHECK(!memcmp(pva_region_addr(out), pva_region_addr(src), n));
    /* Readback needs a writable region of at least the blob's length. */
    PVT_EQ_INT(pva_blob_readback(q, a, NULL), -EINVAL);
    PVT_EQ_INT(pva_blob_destroy(q, a), 0);
    PVT_EQ_INT(pva_blob_destroy(q, b), 0);
    PVT_EQ_INT(pva_region_free(q, src), 0);
    PVT_EQ_INT(pva_region_free(q, out), 0);
}

static uint8_t page_byte(uint32_t p)
{
    return (uint8_t)(p * 7 + 1);
}

/* Three chunks, the middle one clean: dirty pages 0, 3 and the last. */
static void migrate_partial(struct pva_queue *q)
{
    const uint32_t n = 2 * CHUNK_PAGES + 76;
    const uint32_t dirty[] = { 0, 3, n - 1 };
    uint8_t bitmap[(2 * CHUNK_PAGES + 76 + 7) / 8] = { 0 };
    struct pva_region *r, *out;
    struct pva_blob *b;
    unsigned int before, after;
    uint64_t iova;

    PVT_EQ_INT(pva_region_alloc(q, (size_t)n * PG, PVA_REGION_RDONLY, &r), 0);
    for (uint32_t p = 0; p < n; p++)
        memset((char *)pva_region_addr(r) + (size_t)p * PG, page_byte(p), PG);
    for (size_t i = 0; i < 3; i++)
        bitmap[dirty[i] / 8] |= (uint8_t)(1u << (dirty[i] % 8));
    iova = pva_region_iova(r);
    before = guest_grants();
    PVT_EQ_INT(pva_blob_migrate(q, r, bitmap, &b), 0);
    after = guest_grants();
    PVT_CHECK_MSG(before - after >= n, "grants %u -> %u", before, after);
    PVT_EQ_INT(pva_blob_iova(b), iova);
    PVT_EQ_INT(pva_blob_len(b), (size_t)n * PG);

    PVT_EQ_INT(pva_region_alloc(q, (size_t)n * PG, 0, &out), 0);
    PVT_EQ_INT(copy(q, iova, pva_region_iova(out), (size_t)n * PG), 0);
    for (uint32_t p = 0, k = 0; p < n; p++) {
        bool d = k < 3 && dirty[k] == p;

        PVT_CHECK_MSG(all_bytes((char *)pva_region_addr(out) + (size_t)p * PG,
                                PG, d ? page_byte(p) : 0), "page %u", p);
        k += d;
    }
    PVT_EQ_INT(pva_region_free(q, out), 0);
    PVT_EQ_INT(pva_blob_destroy(q, b), 0);
}

/* NULL bitmap: every page; then back into a region at the same IOVA. */
static void migrate_all_and_back(struct pva_queue *q)
{
    struct pva_region *r, *back;
    struct pva_blob *b;
    struct pva_sqe sqe;
    struct pva_cqe cqe;
    uint64_t iova;

    PVT_EQ_INT(pva_region_alloc(q, 10 * PG, 0, &r), 0);
    for (uint32_t p = 0; p < 10; p++)
        memset((char *)pva_region_addr(r) + (size_t)p * PG, page_byte(p), PG);
    iova = pva_region_iova(r);
    PVT_EQ_INT(pva_blob_migrate(q, r, NULL, &b), 0);
    /* The blob is writable: change page 2 there. */
    pva_prep_fill(&sqe, 0xee, pva_blob_seg(b, 2 * PG, PG));
    PVT_EQ_INT(run(q, &sqe, &cqe), 0);
    PVT_EQ_INT(pva_blob_to_region(q, b, &back), 0);
    PVT_EQ_INT(pva_region_iova(back), iova);
    PVT_EQ_INT(pva_region_len(back), 10 * PG);
    for (uint32_t p = 0; p < 10; p++)
        PVT_CHECK_MSG(all_bytes((char *)pva_region_addr(back) + (size_t)p * PG,
                                PG, p == 2 ? 0xee : page_byte(p)), "page %u", p);
    /* A writable region the backend maps: FILL lands in our pages. */
    pva_prep_fill(&sqe, 0x12, (struct pva_seg){ iova, PG });
    PVT_EQ_INT(run(q, &sqe, &cqe), 0);
    PVT_CHECK(all_bytes(pva_region_addr(back), PG, 0x12));
    PVT_EQ_INT(pva_region_free(q, back), 0);
}

/* Device defaults: 64 blobs, 65536 pages (128 chunks) of blob memory. */
static void limits(struct pva_queue *q)
{
    struct pva_dev_info in;
    struct pva_blob *b[65];
    unsigned int n;
    int rc = 0;

    pva_dev_get_info(pva_queue_dev(q), &in);
    PVT_CHECK(in.feature_blobs);
    PVT_EQ_INT(in.max_blobs, 64);
    PVT_EQ_INT(in.max_blob_pages, 65536);
    for (n = 0; n < 65 && (rc = pva_blob_create(q, PG, &b[n])) == 0; n++)
        ;
    PVT_EQ_INT(n, 64);
    PVT_EQ_INT(rc, -EMFILE);
    while (n)
        PVT_EQ_INT(pva_blob_destroy(q, b[--n]), 0);
    /* 32 MiB (16 chunks) each: the ninth does not fit. */
    for (n = 0; n < 9 && (rc = pva_blob_create(q, 32u << 20, &b[n])) == 0; n++)
        ;
    PVT_EQ_INT(n, 8);
    PVT_EQ_INT(rc, -ENOMEM);
    while (n)
        PVT_EQ_INT(pva_blob_destroy(q, b[--n]), 0);
}

/* Blobs die with the connection; regions come back. */
static void reconnect(struct pva_dev *dev, struct pva_queue *q)
{
    struct pva_region *r, *dst;
    struct pva_blob *b, *b2;
    struct pva_dev_info in;
    struct pva_sqe sqe;
    struct pva_cqe cqe;
    uint32_t byte;
    int rc;

    PVT_EQ_INT(pva_region_alloc(q, PG, 0, &r), 0);
    PVT_EQ_INT(pva_region_alloc(q, PG, 0, &dst), 0);
    PVT_EQ_INT(pva_blob_create(q, PG, &b), 0);
    memset(pva_region_addr(r), 0x77, PG);
    PVT_EQ_INT(copy(q, pva_region_iova(r), pva_blob_iova(b), PG), 0);

    pvt_chan_send(&to_parent, 1);             /* kill and restart pvacceld */
    PVT_EQ_INT(pvt_chan_recv(&to_guest, &byte), 0);
    /* Until the library has noticed, requests fail with -ENOTCONN. */
    for (;;) {
        pva_prep_nop(&sqe);
        rc = run(q, &sqe, &cqe);
        pva_dev_get_info(dev, &in);
        if (rc == 0 && in.connections == 2)
            break;
        PVT_CHECK_MSG(rc == -ENOTCONN || rc == 0, "nop: %s", pva_strerror(rc));
        if (rc != -ENOTCONN && rc != 0)
            return;
        PVT_EQ_INT(pva_dev_wait_connected(dev, 30000), 0);
    }
    PVT_CHECK(pva_blob_lost(b));
    PVT_EQ_INT(copy(q, pva_blob_iova(b), pva_region_iova(dst), PG), -EFAULT);
    PVT_EQ_INT(pva_blob_readback(q, b, dst), -ESTALE);
    {
        struct pva_region *none = NULL;

        PVT_EQ_INT(pva_blob_to_region(q, b, &none), -ESTALE);
        PVT_CHECK(none == NULL);
    }
    /* The region was registered again: same IOVA, same pages. */
    PVT_EQ_INT(copy(q, pva_region_iova(r), pva_region_iova(dst), PG), 0);
    PVT_CHECK(all_bytes(pva_region_addr(dst), PG, 0x77));
    /* A new blob does not reuse the lost one's IOVA while it exists. */
    PVT_EQ_INT(pva_blob_create(q, PG, &b2), 0);
    PVT_CHECK(pva_blob_iova(b2) != pva_blob_iova(b));
    PVT_CHECK(!pva_blob_lost(b2));
    PVT_EQ_INT(pva_blob_destroy(q, b), 0);
    PVT_EQ_INT(pva_blob_destroy(q, b2), 0);
    PVT_EQ_INT(pva_region_free(q, r), 0);
    PVT_EQ_INT(pva_region_free(q, dst), 0);
}

static int guest(void *arg)
{
    struct pva_dev *dev;
    struct pva_queue *q;

    (void)arg;
    if (fe_open(&dev, 1, 0))
        return 1;
    q = pva_dev_queue(dev, 0);
    operands(q);
    migrate_partial(q);
    migrate_all_and_back(q);
    limits(q);
    reconnect(dev, q);
    /* Close with a live blob: the backend frees it, the library too. */
    {
        struct pva_blob *b;

        PVT_EQ_INT(pva_blob_create(q, PG, &b), 0);
    }
    pva_dev_close(dev);
    return pvt_failures ? 1 : 0;
}

int main(void)
{
    uint32_t byte;
    pid_t pid;
    int rc = fe_env_start(&env, 1);

    if (rc)
        return rc;
    PVT_EQ_INT(pvt_chan_open(&to_parent), 0);
    PVT_EQ_INT(pvt_chan_open(&to_guest), 0);
    pid = pvt_sim_spawn(&env.sim, env.guest[0], guest, NULL);
    if (pvt_chan_recv(&to_parent, &byte) == 0) {
        fe_env_backend_kill(&env);
        PVT_EQ_INT(fe_env_backend_start(&env), 0);
        pvt_chan_send(&to_guest, 1);
    }
    PVT_EQ_INT(pvt_wait(pid), 0);
    fe_env_stop(&env);
    return pvt_done();
}
