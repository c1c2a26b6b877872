/* SPDX-License-Identifier: MIT */
/*
 * engine-sched.c: the engine scheduler's order (backend/engines/sched.h),
 * checked deterministically: jobs are queued first, then popped, and the
 * order popped is compared with what strict priority and deficit round
 * robin prescribe.  No threads, no clocks.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "backend/engines/sched.h"
#include "tests/testlib.h"

#define NJOBS 64

struct tjob {
    struct pva_sched_item item;         /* first: popped items are jobs */
    char flow;
    int seq;
};

static struct tjob jobs[NJOBS];
static int njobs;

static void queue_jobs(struct pva_sched *s, struct pva_sched_flow *f,
                       char name, int n, uint64_t cost)
{
    for (int i = 0; i < n && njobs < NJOBS; i++) {
        struct tjob *j = &jobs[njobs++];

        j->flow = name;
        j->seq = i;
        pva_sched_push(s, f, &j->item, cost);
    }
}

/* Pop everything; the flows' names in the order their jobs came out. */
static void drain(struct pva_sched *s, char *out, size_t len)
{
    struct pva_sched_item *it;
    struct pva_sched_flow *f;
    size_t n = 0;

    while ((it = pva_sched_pop(s, &f)) && n + 1 < len)
        out[n++] = ((struct tjob *)it)->flow;
    out[n] = '\0';
}

/* Realtime work queued after bulk and normal work still starts first. */
static void test_strict_priority(void)
{
    struct pva_sched s;
    struct pva_sched_flow bulk, normal, rt;
    char order[NJOBS + 1];

    njobs = 0;
    pva_sched_init(&s, 1);
    pva_sched_flow_init(&bulk, PVA_SCHED_BULK, 100);
    pva_sched_flow_init(&normal, PVA_SCHED_NORMAL, 100);
    pva_sched_flow_init(&rt, PVA_SCHED_REALTIME, 1);
    queue_jobs(&s, &bulk, 'b', 3, 1000);
    queue_jobs(&s, &normal, 'n', 2, 1);
    queue_jobs(&s, &rt, 'r', 2, 1000);
    PVT_EQ_INT(s.queued, 7);
    drain(&s, order, sizeof(order));
    PVT_EQ_STR(order, "rrnnbbb");
    PVT_EQ_INT(s.queued, 0);
}

/* Weights 2:1 at equal costs: two of A's jobs for each of B's. */
static void test_weights_interleave(void)
{
    struct pva_sched s;
    struct pva_sched_flow a, b;
    char order[NJOBS + 1];

    njobs = 0;
    pva_sched_init(&s, 10);
    pva_sched_flow_init(&a, PVA_SCHED_NORMAL, 2);
    pva_sched_flow_init(&b, PVA_SCHED_NORMAL, 1);
    queue_jobs(&s, &a, 'a', 6, 10);
    queue_jobs(&s, &b, 'b', 6, 10);
    drain(&s, order, sizeof(order));
    PVT_EQ_STR(order, "aabaabaabbbb");
}

/* Shares are in cost, not jobs: B's jobs cost twice A's at equal weight. */
static void test_shares_by_cost(void)
{
    struct pva_sched s;
    struct pva_sched_flow a, b;
    char order[NJOBS + 1];

    njobs = 0;
    pva_sched_init(&s, 20);
    pva_sched_flow_init(&a, PVA_SCHED_BULK, 1);
    pva_sched_flow_init(&b, PVA_SCHED_BULK, 1);
    queue_jobs(&s, &a, 'a', 6, 10);
    queue_jobs(&s, &b, 'b', 3, 20);
    drain(&s, order, sizeof(order));
    PVT_EQ_STR(order, "aabaabaab");
}

/* Within a flow, jobs start in the order they were queued. */
static void test_flow_fifo(void)
{
    struct pva_sched s;
    struct pva_sched_flow a, b;
    struct pva_sched_item *it;
    struct pva_sched_flow *f;
    int next[2] = { 0, 0 };
    bool in_order = true;

    njobs = 0;
    pva_sched_init(&s, 7);
    pva_sched_flow_init(&a, PVA_SCHED_NORMAL, 3);
    pva_sched_flow_init(&b, PVA_SCHED_NORMAL, 5);
    queue_jobs(&s, &a, 'a', 20, 4);
    queue_jobs(&s, &b, 'b', 20, 9);
    while ((it = pva_sched_pop(&s, &f))) {
        struct tjob *j = (struct tjob *)it;
        int k = j->flow == 'b';

        in_order &= j->seq == next[k]++;
        in_order &= f == (k ? &b : &a);
    }
    PVT_CHECK(in_order);
    PVT_EQ_INT(next[0], 20);
    PVT_EQ_INT(next[1], 20);
}

/* A job far above the quantum is started, after a bounded wait. */
static void test_huge_cost(void)
{
    struct pva_sched s;
    struct pva_sched_flow a, b;
    char order[NJOBS + 1];

    njobs = 0;
    pva_sched_init(&s, 1);
    pva_sched_flow_init(&a, PVA_SCHED_BULK, 1);
    pva_sched_flow_init(&b, PVA_SCHED_BULK, 1);
    queue_jobs(&s, &a, 'a', 1, UINT64_MAX);
    queue_jobs(&s, &b, 'b', 20, 1);
    drain(&s, order, sizeof(order));
    /*
     * a counts as PVA_SCHED_COST_QUANTA (16) quanta; it has one when it
     * first comes to the front and earns one per turn, so b's 15 turns
     * come first.
     */
    PVT_EQ_STR(order, "bbbbbbbbbbbbbbbabbbbb");
}

/* A policy change moves a busy flow, jobs and all, to its new class. */
static void test_reclassify(void)
{
    struct pva_sched s;
    struct pva_sched_flow a, b;
    char order[NJOBS + 1];

    njobs = 0;
    pva_sched_init(&s, 1);
    pva_sched_flow_init(&a, PVA_SCHED_NORMAL, 1);
    pva_sched_flow_init(&b, PVA_SCHED_BULK, 1);
    queue_jobs(&s, &a, 'a', 3, 1);
    queue_jobs(&s, &b, 'b', 3, 1);
    PVT_CHECK(pva_sched_flow_set(&s, &b, PVA_SCHED_REALTIME, 1));
    PVT_CHECK(!pva_sched_flow_set(&s, &a, PVA_SCHED_CLASSES, 1));
    PVT_EQ_INT(a.cls, PVA_SCHED_NORMAL);
    drain(&s, order, sizeof(order));
    PVT_EQ_STR(order, "bbbaaa");
}

/* Cancelling takes one flow's jobs only; the others keep their order. */
static void test_take(void)
{
    struct pva_sched s;
    struct pva_sched_flow a, b;
    struct pva_sched_item *out[4];
    char order[NJOBS + 1];

    njobs = 0;
    pva_sched_init(&s, 1);
    pva_sched_flow_init(&a, PVA_SCHED_NORMAL, 1);
    pva_sched_flow_init(&b, PVA_SCHED_NORMAL, 1);
    queue_jobs(&s, &a, 'a', 6, 1);
    queue_jobs(&s, &b, 'b', 3, 1);
    PVT_EQ_INT(pva_sched_take(&s, &a, out, 4), 4);
    PVT_EQ_INT(((struct tjob *)out[0])->seq, 0);
    PVT_EQ_INT(((struct tjob *)out[3])->seq, 3);
    PVT_EQ_INT(pva_sched_take(&s, &a, out, 4), 2);
    PVT_CHECK(!a.active);
    PVT_EQ_INT(s.queued, 3);
    drain(&s, order, sizeof(order));
    PVT_EQ_STR(order, "bbb");
}

static void test_names(void)
{
    PVT_EQ_INT(pva_sched_class_parse("realtime"), PVA_SCHED_REALTIME);
    PVT_EQ_INT(pva_sched_class_parse("normal"), PVA_SCHED_NORMAL);
    PVT_EQ_INT(pva_sched_class_parse("bulk"), PVA_SCHED_BULK);
    PVT_EQ_INT(pva_sched_class_parse("rt"), -1);
    PVT_EQ_STR(pva_sched_class_name(PVA_SCHED_BULK), "bulk");
}

int main(void)
{
    test_strict_priority();
    test_weights_interleave();
    test_shares_by_cost();
    test_flow_fifo();
    test_huge_cost();
    test_reclassify();
    test_take();
    test_names();
    return pvt_done();
}
