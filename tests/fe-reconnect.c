/* SPDX-License-Identifier: MIT */
/*
 * fe-reconnect: the backend is SIGKILLed under load and restarted.  The
 * guest keeps every queue full of requests on two threads; the parent kills
 * pvacceld once the load runs and starts a new one.  Then:
 *  - every request submitted completed exactly once: with its answer or
 *    with -ENOTCONN (counted: submitted = ok + lost, nothing twice, no
 *    other error);
 *  - the library reconnected on its own, re-registered the buffers (the
 *    same IOVAs work) and re-created the AEAD session (same ciphertext);
 *  - a digest stream cut by the loss fails with -ENOTCONN until the next
 *    final request, then the session works again.
 * Then a detach and attach while a guest has the device open: detached,
 * pva_dev_wait_connected times out after its timeout, not before; attached
 * again, the library reconnects by itself.
 * Then a frontend restart: a guest process with the device open is
 * SIGKILLed (another process keeps the domain alive) and a new process
 * opens the device over the stale connection and uses it.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/fe-harness.h"

#define PIECE 4096
#define NPIECES 64
#define MAX_IDS (1u << 22)
#define AFTER_RECONNECT 2000u

struct chans {
    struct pvt_chan to_parent, to_guest;
};

struct worker {
    struct pva_dev *dev;
    struct pva_queue *q;
    struct pva_buf data;
    uint32_t want[NPIECES];
    uint8_t *seen;
    uint64_t submitted, ok, lost, other, twice, ok_after;
    unsigned int conns_at_start;
    _Atomic bool *loaded;
    struct pvt_chan *to_parent;
};

static uint32_t sw_crc32c(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
    }
    return ~crc;
}

static unsigned int connections(struct pva_dev *dev)
{
    struct pva_dev_info in;

    pva_dev_get_info(dev, &in);
    return in.connections;
}

static void account(struct worker *w, const struct pva_cqe *cqe)
{
    uint64_t id = cqe->user_data;

    w->twice += w->seen[id]++ != 0;
    if (cqe->res == 0 && cqe->value == w->want[id % NPIECES]) {
        w->ok++;
        if (connections(w->dev) > w->conns_at_start)
            w->ok_after++;
    } else if (cqe->res == -ENOTCONN) {
        w->lost++;
    } else {
        w->other++;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct pva_cqe cqe;

    while (w->ok_after < AFTER_RECONNECT && w->submitted < MAX_IDS - 1024) {
        struct pva_sqe *sqe;

        while ((sqe = pva_get_sqe(w->q))) {
            uint64_t id = w->submitted++;

            pva_prep_crc32c(sqe, pva_seg(&w->data, (id % NPIECES) * PIECE, PIECE), 0);
            pva_sqe_set_data(sqe, id);
        }
        pva_submit(w->q);
        while (pva_peek_cqe(w->q, &cqe) == 0 || pva_wait_cqe(w->q, &cqe) == 0) {
            account(w, &cqe);
            if (cqe.res == -ENOTCONN)
                break;
            /* Under load: the first worker to get here tells the parent. */
            if (w->ok > 2000 && !atomic_exchange(w->loaded, true))
                pvt_chan_send(w->to_parent, 1);
            if (pva_queue_inflight(w->q) < 16)
                break;
        }
        /* Lost: wait for the library to reconnect, then go on. */
        if (!pva_dev_connected(w->dev))
            pva_dev_wait_connected(w->dev, 30000);
    }
    /* Reap the rest. */
    while (pva_wait_cqe(w->q, &cqe) == 0)
        account(w, &cqe);
    return NULL;
}

static int encrypt_once(struct pva_queue *q, struct pva_session *s,
                        struct pva_buf *in, struct pva_buf *out, uint8_t *ct)
{
    static const uint8_t nonce[12] = { 1, 2, 3 };
    struct pva_sqe *sqe = pva_get_sqe(q);
    struct pva_cqe cqe;
    int rc;

    pva_prep_aead(sqe, true, s, nonce, 0, pva_seg(in, 0, 256), pva_seg(out, 0, 272));
    rc = pva_run(q, sqe, &cqe);
    if (rc == 0)
        memcpy(ct, out->addr, 272);
    return rc;
}

static int digest(struct pva_queue *q, struct pva_session *s, struct pva_buf *in,
                  bool more, struct pva_buf *out)
{
    struct pva_sqe *sqe = pva_get_sqe(q);
    struct pva_cqe cqe;

    pva_prep_digest(sqe, PVA_ALG_SHA256, s, more ? PVA_DIGEST_F_MORE : 0,
                    pva_seg(in, 0, 64), more ? (struct pva_seg){ 0, 0 }
                                             : pva_seg(out, 0, 32));
    return pva_run(q, sqe, &cqe);
}

static int guest(void *arg)
{
    struct chans *c = arg;
    _Atomic bool loaded = false;
    uint8_t key[32] = { 7 }, ct0[272], ct1[272];
    struct worker w[2] = { 0 };
    struct pva_buf in, out;
    struct pva_session *aead, *dig;
    struct pva_dev *dev;
    struct pva_queue *q;
    pthread_t th[2];

    if (fe_open(&dev, 3, 0))
        return 1;
    q = pva_dev_queue(dev, 2);   /* the main thread's own queue */
    fe_buf(q, 4096, &in);
    fe_buf(q, 4096, &out);
    memset(in.addr, 'x', 4096);
    PVT_EQ_INT(pva_session_create(q, PVA_ALG_AES_256_GCM, key, 32, &aead), 0);
    PVT_EQ_INT(pva_session_create(q, PVA_ALG_SHA256, NULL, 0, &dig), 0);
    PVT_EQ_INT(encrypt_once(q, aead, &in, &out, ct0), 0);
    /* A digest stream left open across the loss. */
    PVT_EQ_INT(digest(q, dig, &in, true, &out), 0);
    for (int i = 0; i < 2; i++) {
        w[i].dev = dev;
        w[i].q = pva_dev_queue(dev, (unsigned int)i);
        w[i].loaded = &loaded;
        w[i].to_parent = &c->to_parent;
        w[i].seen = calloc(MAX_IDS, 1);
        w[i].conns_at_start = connections(dev);
        fe_buf(w[i].q, NPIECES * PIECE, &w[i].data);
        for (size_t k = 0; k < NPIECES * PIECE; k++)
            ((uint8_t *)w[i].data.addr)[k] = (uint8_t)(k * 31 + (size_t)i + k / 4096);
        for (int k = 0; k < NPIECES; k++)
            w[i].want[k] = sw_crc32c(0, (uint8_t *)w[i].data.addr + k * PIECE, PIECE);
        pthread_create(&th[i], NULL, worker_main, &w[i]);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        PVT_CHECK_MSG(w[i].submitted == w[i].ok + w[i].lost + w[i].other &&
                      !w[i].twice && !w[i].other,
                      "queue %d: %llu submitted = %llu completed + %llu -ENOTCONN; "
                      "%llu twice, %llu other errors", i,
                      (unsigned long long)w[i].submitted, (unsigned long long)w[i].ok,
                      (unsigned long long)w[i].lost, (unsigned long long)w[i].twice,
                      (unsigned long long)w[i].other);
        PVT_CHECK_MSG(w[i].ok_after >= AFTER_RECONNECT,
                      "queue %d: %llu requests completed on the new connection with "
                      "the old buffers", i, (unsigned long long)w[i].ok_after);
        free(w[i].seen);
    }
    PVT_CHECK_MSG(connections(dev) == 2, "reconnected once (%u connections)",
                  connections(dev));
    /* The AEAD session was re-created with the kept key. */
    PVT_EQ_INT(encrypt_once(q, aead, &in, &out, ct1), 0);
    PVT_CHECK_MSG(!memcmp(ct0, ct1, sizeof(ct0)), "same ciphertext after reconnecting");
    /* The cut digest stream: fails until a final request, then works. */
    PVT_EQ_INT(digest(q, dig, &in, true, &out), -ENOTCONN);
    PVT_EQ_INT(digest(q, dig, &in, false, &out), -ENOTCONN);
    PVT_EQ_INT(digest(q, dig, &in, false, &out), 0);
    PVT_EQ_INT(pva_session_destroy(q, aead), 0);
    PVT_EQ_INT(pva_session_destroy(q, dig), 0);
    pva_dev_close(dev);
    return pvt_failures ? 1 : 0;
}

/* Holds the domain alive until the parent says so. */
static int keeper(void *arg)
{
    uint32_t v;

    return pvt_chan_recv(arg, &v) == 0 ? 0 : 1;
}

static int open_and_wait(void *arg)
{
    struct chans *c = arg;
    struct pva_dev *dev;
    uint32_t v;

    if (fe_open(&dev, 1, 0))
        return 1;
    pvt_chan_send(&c->to_parent, 1);
    pvt_chan_recv(&c->to_guest, &v);  /* killed while waiting here */
    pva_dev_close(dev);
    return 0;
}

static int open_after_crash(void *arg)
{
    struct pva_dev *dev;
    struct pva_buf b;
    struct pva_sqe *sqe;
    struct pva_cqe cqe;
    struct pva_queue *q;

    (void)arg;
    if (fe_open(&dev, 1, 0))
        return 1;
    q = pva_dev_queue(dev, 0);
    fe_buf(q, 16, &b);
    memcpy(b.addr, "123456789", 9);
    sqe = pva_get_sqe(q);
    pva_prep_crc32c(sqe, pva_seg(&b, 0, 9), 0);
    PVT_EQ_INT(pva_run(q, sqe, &cqe), 0);
    PVT_CHECK_MSG(cqe.value == 0xe3069283u, "the device works after a frontend crash");
    pva_dev_close(dev);
    return pvt_failures ? 1 : 0;
}

static void test_frontend_restart(struct fe_env *env, struct chans *c)
{
    struct pvt_chan keep;
    pid_t k, a;
    uint32_t v;

    pvt_chan_open(&keep);
    k = pvt_sim_spawn(&env->sim, env->guest[2], keeper, &keep);
    a = pvt_sim_spawn(&env->sim, env->guest[2], open_and_wait, c);
    if (k <= 0 || a <= 0) {
        PVT_CHECK_MSG(false, "spawn guest processes");
        return;
    }
    PVT_EQ_INT(pvt_chan_recv(&c->to_parent, &v), 0);
    printf("# SIGKILL a guest process with the device open, open it again\n");
    kill(a, SIGKILL);
    PVT_EQ_INT(pvt_wait(a), 128 + SIGKILL);
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn(&env->sim, env->guest[2], open_after_crash, NULL)), 0);
    pvt_chan_send(&keep, 1);
    PVT_EQ_INT(pvt_wait(k), 0);
    pvt_chan_close(&keep);
}

/* One CRC request; after -ENOTCONN wait for the connection and retry. */
static int crc_retrying(struct pva_dev *dev, struct pva_queue *q, struct pva_buf *b,
                        unsigned int *lost)
{
    for (int tries = 0; tries < 10; tries++) {
        struct pva_sqe *sqe = pva_get_sqe(q);
        struct pva_cqe cqe;
        int rc;

        pva_prep_crc32c(sqe, pva_seg(b, 0, 9), 0);
        rc = pva_run(q, sqe, &cqe);
        if (rc != -ENOTCONN)
            return rc == 0 && cqe.value == 0xe3069283u ? 0 : -EIO;
        (*lost)++;
        pva_dev_wait_connected(dev, 20000);
    }
    return -ETIMEDOUT;
}

static uint64_t monotonic_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* The monitor notices the detach on its own time: poll, boundedly. */
static bool became_disconnected(struct pva_dev *dev)
{
    const struct timespec tick = { .tv_nsec = 10 * 1000000 };
    uint64_t until = monotonic_ms() + 20000;

    while (pva_dev_connected(dev))
        if (monotonic_ms() > until || nanosleep(&tick, NULL) < 0)
            return false;
    return true;
}

/*
 * Detached, nothing to connect to: the wait times out, neither early nor
 * (much) late.  The deadline and the condition variable must agree on
 * their clock (CLOCK_MONOTONIC): a deadline on another clock than the
 * condvar's returns at once or sleeps for years.
 */
static void check_wait_times_out(struct pva_dev *dev)
{
    uint64_t t0, waited;

    PVT_CHECK_MSG(became_disconnected(dev), "detach: connection dropped");
    PVT_EQ_INT(pva_dev_wait_connected(dev, 0), -ETIMEDOUT);
    t0 = monotonic_ms();
    PVT_EQ_INT(pva_dev_wait_connected(dev, 300), -ETIMEDOUT);
    waited = monotonic_ms() - t0;
    PVT_CHECK_MSG(waited >= 300 && waited < 10000,
                  "pva_dev_wait_connected(300 ms) returned after %llu ms",
                  (unsigned long long)waited);
}

static int detached_guest(void *arg)
{
    struct chans *c = arg;
    struct pva_dev *dev;
    struct pva_queue *q;
    struct pva_buf b;
    unsigned int lost = 0;
    uint32_t v;

    if (fe_open(&dev, 1, 0))
        return 1;
    q = pva_dev_queue(dev, 0);
    fe_buf(q, 16, &b);
    memcpy(b.addr, "123456789", 9);
    PVT_EQ_INT(crc_retrying(dev, q, &b, &lost), 0);
    pvt_chan_send(&c->to_parent, 1);
    pvt_chan_recv(&c->to_guest, &v);   /* detached */
    check_wait_times_out(dev);
    pvt_chan_send(&c->to_parent, 1);
    pvt_chan_recv(&c->to_guest, &v);   /* attached again */
    PVT_EQ_INT(crc_retrying(dev, q, &b, &lost), 0);
    PVT_CHECK_MSG(connections(dev) == 2,
                  "detach + attach: reconnected (%u connections, %u lost requests)",
                  connections(dev), lost);
    pva_dev_close(dev);
    return pvt_failures ? 1 : 0;
}

static int ctl(struct fe_env *env, const char *cmd, int domid)
{
    char prog[4096], dom[16];
    char *argv[] = { prog, "--platform=sim", (char *)cmd, dom, NULL };

    pvt_builddir_prog("pvaccel-ctl", prog, sizeof(prog));
    snprintf(dom, sizeof(dom), "%d", domid);
    return pvt_wait(pvt_sim_spawn_exec(&env->sim, 0, argv));
}

static void test_detach_attach(struct fe_env *env, struct chans *c)
{
    uint32_t v;
    pid_t g = pvt_sim_spawn(&env->sim, env->guest[1], detached_guest, c);

    if (g <= 0) {
        PVT_CHECK_MSG(false, "spawn the guest");
        return;
    }
    PVT_EQ_INT(pvt_chan_recv(&c->to_parent, &v), 0);
    printf("# pvaccel-ctl detach, then attach again, while the guest has it open\n");
    PVT_EQ_INT(ctl(env, "detach", env->guest[1]), 0);
    pvt_chan_send(&c->to_guest, 1);
    PVT_EQ_INT(pvt_chan_recv(&c->to_parent, &v), 0);
    PVT_EQ_INT(ctl(env, "attach", env->guest[1]), 0);
    pvt_chan_send(&c->to_guest, 1);
    PVT_EQ_INT(pvt_wait(g), 0);
}

int main(void)
{
    struct fe_env env;
    struct chans c;
    uint32_t v;
    pid_t g;
    int rc = fe_env_start(&env, 3);

    if (rc)
        return rc;
    pvt_chan_open(&c.to_parent);
    pvt_chan_open(&c.to_guest);
    g = pvt_sim_spawn(&env.sim, env.guest[0], guest, &c);
    PVT_EQ_INT(pvt_chan_recv(&c.to_parent, &v), 0);
    printf("# guest under load: SIGKILL pvacceld, start a new one\n");
    fe_env_backend_kill(&env);
    PVT_EQ_INT(fe_env_backend_start(&env), 0);
    PVT_EQ_INT(pvt_wait(g), 0);
    test_detach_attach(&env, &c);
    test_frontend_restart(&env, &c);
    fe_env_stop(&env);
    return pvt_done();
}
