/* SPDX-License-Identifier: MIT */
/*
 * fe-unit: libpvaccel pieces that need no backend: the range allocator
 * behind IOVAs and buffers, page directory chains, names and messages.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/extent.h"
#include "frontend/pagedir.h"
#include "frontend/pvaccel.h"
#include "tests/testlib.h"

static void test_extents_basic(void)
{
    struct fe_extents x;
    uint64_t a, b, c, d;

    PVT_EQ_INT(fe_extents_init(&x, 4096, 16 * 4096), 0);
    PVT_EQ_INT(fe_extents_alloc(&x, 4096, 4096, &a), 0);
    PVT_EQ_INT(a, 4096);                       /* page 0 is never handed out */
    PVT_EQ_INT(fe_extents_alloc(&x, 2 * 4096, 4096, &b), 0);
    PVT_EQ_INT(b, 2 * 4096);
    PVT_EQ_INT(fe_extents_alloc(&x, 4096, 4 * 4096, &c), 0);
    PVT_EQ_INT(c, 4 * 4096);                   /* aligned up */
    PVT_EQ_INT(fe_extents_avail(&x), 16 * 4096 - 4 * 4096);
    PVT_EQ_INT(fe_extents_alloc(&x, 0, 4096, &d), -EINVAL);
    PVT_EQ_INT(fe_extents_alloc(&x, 4096, 3, &d), -EINVAL);
    PVT_EQ_INT(fe_extents_alloc(&x, 64 * 4096, 4096, &d), -ENOSPC);
    /* Free in the middle, coalesce on both sides, refuse double frees. */
    PVT_EQ_INT(fe_extents_free(&x, b, 2 * 4096), 0);
    PVT_EQ_INT(fe_extents_free(&x, b, 4096), -EINVAL);
    PVT_EQ_INT(fe_extents_free(&x, a, 4096), 0);
    PVT_EQ_INT(fe_extents_free(&x, c, 4096), 0);
    PVT_EQ_INT(x.n, 1);
    PVT_EQ_INT(fe_extents_avail(&x), 16 * 4096);
    PVT_EQ_INT(fe_extents_alloc(&x, 16 * 4096, 4096, &d), 0);
    PVT_EQ_INT(d, 4096);
    PVT_EQ_INT(fe_extents_alloc(&x, 4096, 4096, &d), -ENOSPC);
    fe_extents_fini(&x);
}

/* Random allocations against a shadow bitmap: no overlap, no leak. */
static void test_extents_random(void)
{
    enum { UNITS = 512, ROUNDS = 20000 };
    struct fe_extents x;
    uint64_t start[UNITS], len[UNITS];
    unsigned char used[UNITS] = { 0 };
    int nlive = 0, bad = 0;

    srand(7);
    PVT_EQ_INT(fe_extents_init(&x, 0, UNITS * 64), 0);
    for (int r = 0; r < ROUNDS; r++) {
        if (nlive && (rand() % 2 || nlive == UNITS)) {
            int k = rand() % nlive;

            for (uint64_t u = start[k] / 64; u < (start[k] + len[k]) / 64; u++)
                used[u] = 0;
            bad += fe_extents_free(&x, start[k], len[k]) != 0;
            nlive--;
            start[k] = start[nlive];
            len[k] = len[nlive];
        } else {
            uint64_t l = (uint64_t)(1 + rand() % 8) * 64, s;

            if (fe_extents_alloc(&x, l, 64, &s) < 0)
                continue;
            for (uint64_t u = s / 64; u < (s + l) / 64; u++)
                bad += used[u]++ != 0;
            start[nlive] = s;
            len[nlive++] = l;
        }
    }
    PVT_CHECK_MSG(bad == 0, "random alloc/free: %d overlaps or refused frees", bad);
    while (nlive--)
        fe_extents_free(&x, start[nlive], len[nlive]);
    PVT_EQ_INT(fe_extents_avail(&x), UNITS * 64);
    PVT_EQ_INT(x.n, 1);
    fe_extents_fini(&x);
}

static void test_pagedir(void)
{
    uint32_t sizes[] = { 1, 1022, 1023, 1024, 2046, 3000, 65536 };

    PVT_EQ_INT(fe_pagedir_pages(1), 1);
    PVT_EQ_INT(fe_pagedir_pages(1023), 1);
    PVT_EQ_INT(fe_pagedir_pages(1024), 2);
    PVT_EQ_INT(fe_pagedir_pages(65536), 65);
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        uint32_t n = sizes[k], nd = fe_pagedir_pages(n), got = 0;
        grant_ref_t *refs = malloc(n * sizeof(*refs));
        grant_ref_t *drefs = malloc(nd * sizeof(*drefs));
        struct vaccel_page_directory *d = malloc((size_t)nd * VACCEL_PAGE_SIZE);
        bool ok = true;

        for (uint32_t i = 0; i < n; i++)
            refs[i] = 100000 + i;
        for (uint32_t i = 0; i < nd; i++)
            drefs[i] = 10 + i;
        PVT_EQ_INT(fe_pagedir_fill(d, nd, drefs, refs, n), 0);
        /* Walk it as the backend does: follow next pointers. */
        for (uint32_t p = 0; p < nd; p++) {
            uint32_t want_next = p + 1 < nd ? drefs[p + 1] : 0;

            ok &= d[p].gref_dir_next_page == want_next;
            for (uint32_t i = 0; i < VACCEL_DIR_GREFS_PER_PAGE; i++, got++)
                ok &= got < n ? d[p].gref[i] == refs[got] : d[p].gref[i] == 0;
        }
        PVT_CHECK_MSG(ok, "directory of %u pages: %u directory pages, chained, "
                      "in order, zero padded", n, nd);
        PVT_EQ_INT(fe_pagedir_fill(d, nd + 1, drefs, refs, n), -EINVAL);
        free(refs);
        free(drefs);
        free(d);
    }
    PVT_EQ_INT(fe_pagedir_fill(NULL, 0, NULL, NULL, 0), -EINVAL);
}

static void test_names(void)
{
    PVT_EQ_INT(pva_alg_from_name("zstd"), PVA_ALG_ZSTD);
    PVT_EQ_INT(pva_alg_from_name("chacha20-poly1305"), PVA_ALG_CHACHA20_POLY1305);
    PVT_EQ_INT(pva_alg_from_name("rot13"), -EINVAL);
    PVT_EQ_STR(pva_alg_name(PVA_ALG_SHA512), "sha512");
    PVT_CHECK(pva_alg_name(99) == NULL);
    PVT_EQ_INT(pva_digest_len(PVA_ALG_SHA256), 32);
    PVT_EQ_INT(pva_digest_len(PVA_ALG_LZ4), 0);
    PVT_CHECK(strstr(pva_strerror(-EBADMSG), "authentication") != NULL);
    PVT_CHECK(strstr(pva_strerror(-ENOTCONN), "may or may not") != NULL);
    PVT_CHECK(strlen(pva_strerror(-E2BIG)) > 0);
}

int main(void)
{
    test_extents_basic();
    test_extents_random();
    test_pagedir();
    test_names();
    return pvt_done();
}
