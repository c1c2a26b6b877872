/* SPDX-License-Identifier: MIT */
/*
 * sched.h: the order in which an engine starts the jobs of many device
 * queues (issue 14, QoS between guests).
 *
 * Each device queue is a flow with a policy set by dom0: a class
 * (realtime, normal, bulk) and a weight within it.  Between classes the
 * order is strict priority: a job of a higher class is always started
 * before any job of a lower one, whenever they were queued.  Within a
 * class, flows share by deficit round robin (Shreedhar and Varghese,
 * 1995): at its turn a flow earns quantum * weight units of credit and
 * starts jobs while their cost is covered, so over time the flows of a
 * class get work in proportion to their weights, in cost units (the
 * engine's estimate of a job's work, e.g. cpu_job_cost()).
 *
 * Bounded work per turn: pva_sched_pop() gives one job.  An engine pops
 * when an execution unit is free, so a realtime job waits for at most one
 * job in flight per execution unit, never for a backlog of bulk work.
 *
 * No allocation and no lock of its own: jobs and flows carry their links
 * (struct pva_sched_item, struct pva_sched_flow, embedded by the caller),
 * and the caller serialises every call on one struct pva_sched with the
 * lock it already takes for its job queue.  push is O(1); pop is O(1)
 * except that a flow whose credit does not cover its next job is rotated,
 * at most PVA_SCHED_COST_QUANTA times per flow of the class, because a
 * job's cost counts as at most that many quanta.
 *
 * All of the arbitration state is in struct pva_sched: an engine shared
 * by several processes (one worker process per guest, as privilege
 * separation may have it) would keep this structure, its flows and the
 * job links in memory those processes share, behind a process-shared
 * lock (docs/engines.md "Scheduling").
 */
#ifndef PVACCEL_ENGINES_SCHED_H
#define PVACCEL_ENGINES_SCHED_H

#include <stdbool.h>
#include <stdint.h>

enum pva_sched_class {
    PVA_SCHED_REALTIME,
    PVA_SCHED_NORMAL,
    PVA_SCHED_BULK,
    PVA_SCHED_CLASSES
};

#define PVA_SCHED_WEIGHT_DEFAULT 100u
#define PVA_SCHED_WEIGHT_MAX     10000u
/* A job's cost counts as at most this many quanta (bounds a pop). */
#define PVA_SCHED_COST_QUANTA    16u

/* A queued job's link; embedded in the engine's job. */
struct pva_sched_item {
    struct pva_sched_item *next;
    uint64_t cost;
};

/* One device queue's share of the engine. */
struct pva_sched_flow {
    struct pva_sched_item *head, *tail; /* its queued jobs, oldest first */
    struct pva_sched_flow *next;        /* in its class's active list */
    uint64_t deficit;                   /* credit left this turn */
    unsigned int queued;
    uint32_t weight;
    enum pva_sched_class cls;
    bool active;                        /* on an active list */
};

/* A class's flows that have jobs, in turn order. */
struct pva_sched_list {
    struct pva_sched_flow *head, *tail;
};

struct pva_sched {
    struct pva_sched_list active[PVA_SCHED_CLASSES];
    uint64_t quantum;                   /* credit per turn per weight unit */
    unsigned int queued;                /* jobs of every flow */
};

/* @quantum: cost units a flow of weight 1 earns per turn (>= 1). */
void pva_sched_init(struct pva_sched *s, uint64_t quantum);
/* A flow with no jobs, in class @cls at @weight (clamped to 1..MAX). */
void pva_sched_flow_init(struct pva_sched_flow *f, enum pva_sched_class cls,
                         uint32_t weight);
/*
 * Change a flow's policy; its queued jobs keep their order and move with
 * it to the new class.  Returns false (nothing changed) for an invalid
 * class.
 */
bool pva_sched_flow_set(struct pva_sched *s, struct pva_sched_flow *f,
                        enum pva_sched_class cls, uint32_t weight);
/* Queue @it, costing @cost, at the back of @f. */
void pva_sched_push(struct pva_sched *s, struct pva_sched_flow *f,
                    struct pva_sched_item *it, uint64_t cost);
/* The next job to start, and its flow in *@flow; NULL if none is queued. */
struct pva_sched_item *pva_sched_pop(struct pva_sched *s,
                                     struct pva_sched_flow **flow);
/*
 * Take up to @max of @f's queued jobs off, oldest first, into @out (for
 * cancellation).  Returns how many.
 */
unsigned int pva_sched_take(struct pva_sched *s, struct pva_sched_flow *f,
                            struct pva_sched_item **out, unsigned int max);

/* "realtime", "normal", "bulk" <-> class; -1 for an unknown name. */
int pva_sched_class_parse(const char *name);
const char *pva_sched_class_name(enum pva_sched_class cls);

#endif
