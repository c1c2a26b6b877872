/* SPDX-License-Identifier: MIT */
/*
 * fe-guests: two guests on one backend at once.  Guest A registers memory,
 * a session and grants; guest B learns A's IOVA, session id and a grant
 * reference (as an attacker would guess them) and tries to name each:
 *  - A's IOVA in B's requests: nothing is mapped there for B (-EFAULT);
 *  - A's session id: no such session for B (-ENOENT);
 *  - A's grant reference in B's MAP_REGION directory: the backend maps
 *    grants of B only (-EACCES);
 * and A's data and session are untouched afterwards.  This test is white
 * box: it builds the hostile requests with libpvaccel's internals.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/internal.h"
#include "tests/fe-harness.h"

#define A_REGION_PAGES 2048u

struct shared {
    struct pvt_chan a_to_parent, parent_to_a;
    uint32_t a_page, a_session, a_gref;
};

static uint32_t crc_of(struct pva_queue *q, struct pva_seg seg, int *rc)
{
    struct pva_sqe *sqe = pva_get_sqe(q);
    struct pva_cqe cqe;

    pva_prep_crc32c(sqe, seg, 0);
    *rc = pva_run(q, sqe, &cqe);
    return (uint32_t)cqe.value;
}

static int encrypt(struct pva_queue *q, struct pva_session *s, struct pva_buf *b)
{
    static const uint8_t nonce[12];
    struct pva_sqe *sqe = pva_get_sqe(q);
    struct pva_cqe cqe;

    pva_prep_aead(sqe, true, s, nonce, 0, pva_seg(b, 0, 64), pva_seg(b, 64, 128));
    return pva_run(q, sqe, &cqe);
}

static int guest_a(void *arg)
{
    struct shared *sh = arg;
    uint8_t key[32] = { 42 };
    struct pva_dev *dev;
    struct pva_queue *q;
    struct pva_region *r;
    struct pva_session *s;
    struct pva_buf secret;
    uint32_t crc0, v;
    int rc;

    if (fe_open(&dev, 1, 0))
        return 1;
    q = pva_dev_queue(dev, 0);
    fe_buf(q, 4096, &secret);
    memset(secret.addr, 0x5e, 4096);
    PVT_EQ_INT(pva_region_alloc(q, A_REGION_PAGES * 4096, 0, &r), 0);
    PVT_EQ_INT(pva_session_create(q, PVA_ALG_AES_256_GCM, key, 32, &s), 0);
    crc0 = crc_of(q, pva_seg(&secret, 0, 4096), &rc);
    PVT_EQ_INT(rc, 0);
    pvt_chan_send(&sh->a_to_parent, (uint32_t)(secret.iova >> 12));
    pvt_chan_send(&sh->a_to_parent, s->id);
    pvt_chan_send(&sh->a_to_parent, r->refs[r->npages - 1]);
    pvt_chan_recv(&sh->parent_to_a, &v);  /* B has done its worst */
    PVT_CHECK_MSG(crc_of(q, pva_seg(&secret, 0, 4096), &rc) == crc0 && rc == 0,
                  "A: its memory reads as before");
    PVT_EQ_INT(encrypt(q, s, &secret), 0);
    PVT_EQ_INT(pva_region_free(q, r), 0);
    PVT_EQ_INT(pva_session_destroy(q, s), 0);
    pva_dev_close(dev);
    return pvt_failures ? 1 : 0;
}

/* MAP_REGION of one page whose directory names @gref. */
static int map_foreign(struct pva_queue *q, uint32_t gref)
{
    struct pva_dev *dev = pva_queue_dev(q);
    vaccel_request_t req = { .op = VACCEL_OP_MAP_REGION };
    pva_gref_t dref;
    struct vaccel_page_directory *dir = fe_share(dev, 1, &dref, false);
    int rc;

    if (!dir)
        return -errno;
    dir->gref[0] = gref;
    req.u.map_region.iova = 1ull << 30;
    req.u.map_region.len = 4096;
    req.u.map_region.gref_dir = dref;
    rc = fe_queue_control(q, &req, NULL);
    fe_unshare(dev, dir, 1);
    return rc;
}

static int guest_b(void *arg)
{
    struct shared *sh = arg;
    struct pva_session fake = { .alg = PVA_ALG_AES_256_GCM };
    struct pva_dev *dev;
    struct pva_queue *q;
    struct pva_buf mine;
    int rc;

    if (fe_open(&dev, 1, 0))
        return 1;
    q = pva_dev_queue(dev, 0);
    /* Before B places anything of its own there. */
    crc_of(q, (struct pva_seg){ (uint64_t)sh->a_page << 12, 4096 }, &rc);
    PVT_CHECK_MSG(rc == -EFAULT, "B: A's IOVA %#llx is unmapped for B (%s)",
                  (unsigned long long)sh->a_page << 12, pva_strerror(rc));
    fe_buf(q, 4096, &mine);
    fake.id = sh->a_session;
    rc = encrypt(q, &fake, &mine);
    PVT_CHECK_MSG(rc == -ENOENT, "B: A's session id %u is unknown to B (%s)",
                  sh->a_session, pva_strerror(rc));
    rc = map_foreign(q, sh->a_gref);
    PVT_CHECK_MSG(rc == -EACCES, "B: mapping A's grant %u fails (%s)", sh->a_gref,
                  pva_strerror(rc));
    pva_buf_free(dev, &mine);
    pva_dev_close(dev);
    return pvt_failures ? 1 : 0;
}

int main(void)
{
    struct fe_env env;
    struct shared sh;
    pid_t a;
    int rc = fe_env_start(&env, 2);

    if (rc)
        return rc;
    pvt_chan_open(&sh.a_to_parent);
    pvt_chan_open(&sh.parent_to_a);
    a = pvt_sim_spawn(&env.sim, env.guest[0], guest_a, &sh);
    PVT_EQ_INT(pvt_chan_recv(&sh.a_to_parent, &sh.a_page), 0);
    PVT_EQ_INT(pvt_chan_recv(&sh.a_to_parent, &sh.a_session), 0);
    PVT_EQ_INT(pvt_chan_recv(&sh.a_to_parent, &sh.a_gref), 0);
    /* B is forked after the values arrived: it inherits them. */
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&env.sim, env.guest[1], guest_b, &sh)), 0);
    pvt_chan_send(&sh.parent_to_a, 1);
    PVT_EQ_INT(pvt_wait(a), 0);
    fe_env_stop(&env);
    return pvt_done();
}
