/* SPDX-License-Identifier: MIT */
/*
 * backend-slow: guests that ask for the slowest work the backend accepts.
 *
 *  - the cost cap, with the default settings: the backend advertises
 *    the most input a slow COMPRESS level may take (compress-max-bytes);
 *    a byte more, directly or in a scatter list, is -XEN_E2BIG at once,
 *    while a fast level takes the same input and the device serves on.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/rawfront.h"

#define SRC_IOVA 0x1000000ull
#define DST_IOVA 0x2000000ull
#define SG_IOVA 0x3000000ull

static struct rf_env env;

/* Text zstd works hard on: a few words in a random order. */
static void fill_text(uint8_t *p, size_t n)
{
    static const char *const words[] = {
        "grant ", "ring ", "event ", "channel ", "backend ", "frontend ",
        "xenstore ", "domain ", "page ", "queue ", "the ", "of ", "\n",
    };
    uint32_t x = 1;
    size_t off = 0;

    while (off < n) {
        const char *w;
        size_t l;

        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        w = words[x % (sizeof(words) / sizeof(words[0]))];
        l = strlen(w) < n - off ? strlen(w) : n - off;
        memcpy(p + off, w, l);
        off += l;
    }
}

/* ------------------------------------------------------- the cost cap */

/* The cap of @alg at @level in a compress-max-bytes list, 0 if none. */
static uint64_t listed_cap(const char *list, const char *alg, int level)
{
    char key[32];
    const char *at = list;
    size_t n = (size_t)snprintf(key, sizeof(key), "%s:%d:", alg, level);

    while (at && *at) {
        if (!strncmp(at, key, n))
            return strtoull(at + n, NULL, 10);
        at = strchr(at, ',');
        at = at ? at + 1 : NULL;
    }
    return 0;
}

/* Every "alg:level:bytes" of @list has bytes below @max. */
static bool caps_below(const char *list, uint64_t max)
{
    for (const char *at = list; at && *at;) {
        const char *end = strchr(at, ','), *colon = NULL;

        for (const char *c = at; *c && (!end || c < end); c++)
            if (*c == ':')
                colon = c;
        if (!colon || strtoull(colon + 1, NULL, 10) >= max)
            return false;
        at = end ? end + 1 : NULL;
    }
    return true;
}

static int32_t compress_status(struct rawfront *f, int32_t level,
                               struct vaccel_seg src, uint16_t flags)
{
    vaccel_request_t req;
    vaccel_response_t rsp;

    rf_req_init(&req, VACCEL_OP_COMPRESS, 0xc0);
    req.alg = VACCEL_ALG_ZSTD;
    req.flags = flags;
    req.u.compress.level = level;
    req.u.compress.src = src;
    req.u.compress.dst = (struct vaccel_seg){ DST_IOVA, 1u << 20 };
    return rf_call(f, 0, &req, &rsp) ? -9999 : rsp.status;
}

static int guest_capped(void *arg)
{
    struct rawfront f;
    struct rf_mem src, dst, sg;
    struct vaccel_seg *list;
    uint64_t cap, op_max;
    uint32_t pages;
    char *caps;

    (void)arg;
    PVT_EQ_INT(rf_init(&f, 0), 0);
    PVT_EQ_INT(rf_connect(&f, 1, 0), 0);
    caps = rf_be_read(&f, VACCEL_FIELD_COMPRESS_MAX_BYTES);
    op_max = (uint64_t)rf_be_long(&f, VACCEL_FIELD_MAX_OP_BYTES);
    printf("# %s = \"%s\"\n", VACCEL_FIELD_COMPRESS_MAX_BYTES,
           caps ? caps : "(none)");
    if (!caps) {
        PVT_CHECK_MSG(false, "the cost cap is advertised");
        return 1;
    }
    /* By default zstd 19 is capped, near 1 MiB (about a second here). */
    cap = listed_cap(caps, "zstd", 19);
    PVT_CHECK_MSG(cap >= (512u << 10) && cap <= (2u << 20),
                  "zstd level 19 capped at %llu bytes",
                  (unsigned long long)cap);
    PVT_CHECK(listed_cap(caps, "zstd", 22) > 0);
    PVT_EQ_INT(listed_cap(caps, "zstd", 3), 0);  /* fast: max-op-bytes */
    PVT_EQ_INT(listed_cap(caps, "zstd", 0), 0);  /* the default, 3 */
    PVT_CHECK_MSG(caps_below(caps, op_max), "every listed cap is below "
                  "max-op-bytes (%llu)", (unsigned long long)op_max);
    free(caps);
    if (!cap)
        return 1;

    pages = (uint32_t)((cap + 1 + VACCEL_PAGE_SIZE - 1) / VACCEL_PAGE_SIZE);
    PVT_EQ_INT(rf_mem_alloc(&f, pages, false, &src), 0);
    PVT_EQ_INT(rf_mem_alloc(&f, 256, true, &dst), 0);
    PVT_EQ_INT(rf_mem_alloc(&f, 1, false, &sg), 0);
    fill_text(src.addr, (size_t)pages * VACCEL_PAGE_SIZE);
    PVT_EQ_INT(rf_map_region(&f, 0, SRC_IOVA, &src, false), 0);
    PVT_EQ_INT(rf_map_region(&f, 0, DST_IOVA, &dst, true), 0);
    /* A scatter list of the cap plus one byte, in two entries. */
    list = sg.addr;
    list[0] = (struct vaccel_seg){ SRC_IOVA, cap / 2 };
    list[1] = (struct vaccel_seg){ SRC_IOVA + cap / 2, cap - cap / 2 + 1 };
    PVT_EQ_INT(rf_map_region(&f, 0, SG_IOVA, &sg, false), 0);

    /* One byte over: refused at once, directly or through the list. */
    PVT_EQ_INT(compress_status(&f, 19, (struct vaccel_seg){ SRC_IOVA, cap + 1 },
                               0), -XEN_E2BIG);
    PVT_EQ_INT(compress_status(&f, 19, (struct vaccel_seg){ SG_IOVA,
                                   2 * sizeof(struct vaccel_seg) },
                               VACCEL_REQ_F_SRC_INDIRECT), -XEN_E2BIG);
    /* A fast level takes the same input; a small one is fine at level 19. */
    PVT_EQ_INT(compress_status(&f, 1, (struct vaccel_seg){ SRC_IOVA, cap + 1 },
                               0), 0);
    PVT_EQ_INT(compress_status(&f, 0, (struct vaccel_seg){ SG_IOVA,
                                   2 * sizeof(struct vaccel_seg) },
                               VACCEL_REQ_F_SRC_INDIRECT), 0);
    PVT_EQ_INT(compress_status(&f, 19, (struct vaccel_seg){ SRC_IOVA,
                                                            64u << 10 }, 0),
               0);
    PVT_EQ_INT(rf_disconnect(&f), 0);
    rf_mem_free(&f, &src);
    rf_mem_free(&f, &dst);
    rf_mem_free(&f, &sg);
    rf_fini(&f);
    return 0;
}

static void cost_cap(void)
{
    int dom = pvt_sim_create_fresh(&env.sim, "capped");

    PVT_EQ_INT(rf_env_attach(&env, dom, 0, NULL), 0);
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&env.sim, dom, guest_capped, NULL)), 0);
}

int main(void)
{
    if (rf_env_start(&env, NULL)) {
        fprintf(stderr, "cannot start the sim and pvacceld\n");
        return 99;
    }
    cost_cap();
    PVT_EQ_INT(rf_env_stop_backend(&env), 0);
    rf_env_stop(&env);
    return pvt_done();
}
