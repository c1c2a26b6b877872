/* SPDX-License-Identifier: MIT */
/*
 * backend-basic: pvacceld end to end on the sim with a raw frontend.
 *
 * Handshake and published capabilities, NOP, regions, CRC32C / COPY /
 * FILL / COMPARE through the CPU engine, a batch of requests with one
 * notification, several queues, sessions, the admin socket's statistics,
 * and orderly close and reconnect in a loop.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/rawfront.h"

#define IOVA_A 0x10000u
#define RECONNECTS 10

static struct rf_env env;
static struct pvt_chan guest_done, guest_release;

static void check_published(struct rawfront *f)
{
    char *v;

    v = rf_be_read(f, VACCEL_FIELD_BE_VERSIONS);
    PVT_EQ_STR(v, "1");
    free(v);
    v = rf_be_read(f, VACCEL_FIELD_ENGINE);
    PVT_EQ_STR(v, "cpu");
    free(v);
    v = rf_be_read(f, VACCEL_FIELD_FEATURE_OPS);
    PVT_CHECK_MSG(v && strstr(v, "crc32c") && strstr(v, "copy"),
                  "feature-ops = %s", v ? v : "(none)");
    free(v);
    v = rf_be_read(f, VACCEL_FIELD_FEATURE_BLOBS);
    PVT_EQ_STR(v, "1");
    free(v);
    /* From the config file, and the command line overriding it. */
    PVT_EQ_INT(rf_be_long(f, VACCEL_FIELD_MAX_SG_ENTRIES), 128);
    PVT_EQ_INT(rf_be_long(f, VACCEL_FIELD_MAX_QUEUES), 3);
    PVT_EQ_INT(rf_be_long(f, VACCEL_FIELD_IOVA_BITS), 48);
}

static void data_ops(struct rawfront *f, struct rf_mem *m)
{
    vaccel_request_t req;
    vaccel_response_t rsp;
    char *mem = m->addr;

    memcpy(mem, "123456789", 9);
    rf_req_init(&req, VACCEL_OP_CRC32C, 7);
    req.u.crc32c.src = (struct vaccel_seg){ IOVA_A, 9 };
    PVT_EQ_INT(rf_call(f, 0, &req, &rsp), 0);
    PVT_EQ_INT(rsp.status, 0);
    PVT_EQ_INT(rsp.id, 7);
    PVT_EQ_INT(rsp.op, VACCEL_OP_CRC32C);
    PVT_EQ_INT(rsp.value, VACCEL_CRC32C_CHECK);

    /* COPY across a page boundary, within one region. */
    rf_req_init(&req, VACCEL_OP_COPY, 8);
    req.u.copy.src = (struct vaccel_seg){ IOVA_A, 9 };
    req.u.copy.dst = (struct vaccel_seg){ IOVA_A + 4096 - 4, 16 };
    PVT_EQ_INT(rf_call(f, 0, &req, &rsp), 0);
    PVT_EQ_INT(rsp.status, 0);
    PVT_EQ_INT(rsp.len, 9);
    PVT_CHECK(!memcmp(mem + 4096 - 4, "123456789", 9));

    rf_req_init(&req, VACCEL_OP_FILL, 9);
    req.u.fill.dst = (struct vaccel_seg){ IOVA_A + 8192, 100 };
    req.u.fill.pattern = 0xab;
    PVT_EQ_INT(rf_call(f, 0, &req, &rsp), 0);
    PVT_EQ_INT(rsp.status, 0);
    PVT_EQ_INT(rsp.len, 100);
    PVT_CHECK((uint8_t)mem[8192] == 0xab && (uint8_t)mem[8291] == 0xab &&
              mem[8292] == 0);

    rf_req_init(&req, VACCEL_OP_COMPARE, 10);
    req.u.compare.a = (struct vaccel_seg){ IOVA_A, 9 };
    req.u.compare.b = (struct vaccel_seg){ IOVA_A + 4096 - 4, 9 };
    PVT_EQ_INT(rf_call(f, 0, &req, &rsp), 0);
    PVT_EQ_INT(rsp.status, 0);
    PVT_EQ_INT(rsp.value, 0);
}

/* Many requests, one push: all answered, each exactly once. */
static void batch(struct rawfront *f)
{
    unsigned int n = RING_SIZE(&f->q[1].ring);
    uint64_t seen[8] = { 0 };
    vaccel_response_t rsp;
    int bad = 0;

    for (unsigned int i = 0; i < n; i++) {
        vaccel_request_t *r = rf_req(f, 1);

        rf_req_init(r, i % 2 ? VACCEL_OP_NOP : VACCEL_OP_CRC32C, i);
        if (!(i % 2))
            r->u.crc32c.src = (struct vaccel_seg){ IOVA_A, 9 };
    }
    rf_push(f, 1);
    for (unsigned int i = 0; i < n; i++) {
        if (rf_rsp(f, 1, &rsp) || rsp.status || rsp.id >= n ||
            (seen[rsp.id / 64] & (1ull << (rsp.id % 64))))
            bad++;
        else
            seen[rsp.id / 64] |= 1ull << (rsp.id % 64);
    }
    PVT_EQ_INT(bad, 0);
}

static void sessions(struct rawfront *f)
{
    vaccel_request_t req;
    vaccel_response_t rsp;
    uint32_t id;

    rf_req_init(&req, VACCEL_OP_SESSION_CREATE, 20);
    req.alg = VACCEL_ALG_SHA256;
    PVT_EQ_INT(rf_call(f, 0, &req, &rsp), 0);
    PVT_EQ_INT(rsp.status, 0);
    PVT_CHECK(rsp.value != 0);
    id = (uint32_t)rsp.value;
    rf_req_init(&req, VACCEL_OP_SESSION_DESTROY, 21);
    req.handle = id;
    PVT_EQ_INT(rf_call(f, 1, &req, &rsp), 0);   /* any queue of the device */
    PVT_EQ_INT(rsp.status, 0);
    PVT_EQ_INT(rf_call(f, 0, &req, &rsp), 0);
    PVT_EQ_INT(rsp.status, -XEN_ENOENT);
}

static int guest(void *arg)
{
    struct rawfront f;
    struct rf_mem m;
    vaccel_request_t req;
    vaccel_response_t rsp;

    (void)arg;
    PVT_EQ_INT(rf_init(&f, 0), 0);
    PVT_EQ_INT(rf_connect(&f, 2, 1), 0);
    check_published(&f);

    rf_req_init(&req, VACCEL_OP_NOP, 0x1234567890ull);
    PVT_EQ_INT(rf_call(&f, 0, &req, &rsp), 0);
    PVT_EQ_INT(rsp.status, 0);
    PVT_EQ_INT(rsp.id, 0x1234567890ull);

    PVT_EQ_INT(rf_mem_alloc(&f, 4, true, &m), 0);
    PVT_EQ_INT(rf_map_region(&f, 0, IOVA_A, &m, true), 0);
    data_ops(&f, &m);
    batch(&f);
    sessions(&f);
    PVT_EQ_INT(rf_unmap_region(&f, 0, IOVA_A, 4 * 4096), 0);
    PVT_EQ_INT(rf_unmap_region(&f, 0, IOVA_A, 4 * 4096), -XEN_ENOENT);
    /* Unmapped before the response: the grant can be ended now. */
    PVT_EQ_INT(f.p->gntshr->unshare(f.gs, m.addr, m.npages), 0);
    m.addr = NULL;
    rf_mem_free(&f, &m);

    PVT_EQ_INT(rf_disconnect(&f), 0);
    for (int i = 0; i < RECONNECTS; i++) {
        int ok = rf_connect(&f, 1 + i % 3, (unsigned int)i % 3) == 0;

        rf_req_init(&req, VACCEL_OP_NOP, (uint64_t)i);
        ok = ok && rf_call(&f, 0, &req, &rsp) == 0 && rsp.status == 0;
        ok = ok && rf_disconnect(&f) == 0;
        PVT_CHECK_MSG(ok, "reconnect %d", i);
    }
    /* The domain lives while we do: let the parent read the stats. */
    pvt_chan_send(&guest_done, 1);
    pvt_chan_recv(&guest_release, &(uint32_t){ 0 });
    rf_fini(&f);
    return 0;
}

/* Settings from a config file, one of them overridden on the command line. */
static int write_config(char *path, size_t len, char *opt, size_t optlen)
{
    const char *tmp = getenv("TMPDIR");
    FILE *f;
    int fd;

    snprintf(path, len, "%s/pvacceld-basic.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    fd = mkstemp(path);
    f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f)
        return -1;
    fprintf(f, "# pvacceld settings\nmax-sg-entries = 128   # half\n"
            "\nmulti-queue-max-queues=4\n");
    fclose(f);
    snprintf(opt, optlen, "--config=%s", path);
    return 0;
}

int main(void)
{
    char stats[16384], conf[256], opt[300];
    const char *opts[] = { opt, "multi-queue-max-queues=3", NULL };
    pid_t pid;
    int dom;

    if (write_config(conf, sizeof(conf), opt, sizeof(opt)))
        return 99;
    if (rf_env_start(&env, opts)) {
        fprintf(stderr, "cannot start the sim and pvacceld\n");
        return 99;
    }
    dom = pvt_sim_create(&env.sim, "guest");
    PVT_CHECK(dom > 0);
    PVT_EQ_INT(rf_env_attach(&env, dom, 0, NULL), 0);
    pvt_chan_open(&guest_done);
    pvt_chan_open(&guest_release);
    pid = pvt_sim_spawn(&env.sim, dom, guest, NULL);
    PVT_EQ_INT(pvt_chan_recv(&guest_done, &(uint32_t){ 0 }), 0);

    PVT_EQ_INT(rf_env_stats(&env, stats, sizeof(stats)), 0);
    printf("# stats: %s", stats);
    PVT_CHECK(rf_json_num(stats, "crc32c") >= 1);
    PVT_EQ_INT(rf_json_num(stats, "connections"), 1 + RECONNECTS);
    PVT_EQ_INT(rf_json_num(stats, "ENOENT"), 2);
    pvt_chan_send(&guest_release, 1);
    PVT_EQ_INT(pvt_wait(pid), 0);
    PVT_EQ_INT(rf_env_stop_backend(&env), 0);
    rf_env_stop(&env);
    unlink(conf);
    return pvt_done();
}
