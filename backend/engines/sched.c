/* SPDX-License-Identifier: MIT */
/*
 * sched.c: strict priority between classes, deficit round robin within
 * one (sched.h).
 *
 * A class's active list holds the flows that have jobs, in turn order.
 * A flow earns its turn's credit (quantum * weight) when it joins the
 * back of the list, and the flow at the front starts jobs while its
 * credit covers them; when it does not, the flow goes to the back with
 * its next turn's credit added.  A flow that runs out of jobs leaves the
 * list and forgets its credit, as DRR has it: an idle flow saves nothing
 * up to burst with later.
 */
#include "config.h"

#include <string.h>

#include "backend/engines/sched.h"

static const char *const class_names[PVA_SCHED_CLASSES] = {
    [PVA_SCHED_REALTIME] = "realtime",
    [PVA_SCHED_NORMAL] = "normal",
    [PVA_SCHED_BULK] = "bulk",
};

static uint32_t clamp_weight(uint32_t weight)
{
    if (weight < 1)
        return 1;
    return weight > PVA_SCHED_WEIGHT_MAX ? PVA_SCHED_WEIGHT_MAX : weight;
}

void pva_sched_init(struct pva_sched *s, uint64_t quantum)
{
    memset(s, 0, sizeof(*s));
    s->quantum = quantum ? quantum : 1;
}

void pva_sched_flow_init(struct pva_sched_flow *f, enum pva_sched_class cls,
                         uint32_t weight)
{
    memset(f, 0, sizeof(*f));
    f->cls = (unsigned int)cls < PVA_SCHED_CLASSES ? cls : PVA_SCHED_NORMAL;
    f->weight = clamp_weight(weight);
}

/* To the back of its class's list, with the credit of its next turn. */
static void enlist(struct pva_sched *s, struct pva_sched_flow *f)
{
    struct pva_sched_list *l = &s->active[f->cls];

    f->deficit += s->quantum * f->weight;
    f->next = NULL;
    if (l->tail)
        l->tail->next = f;
    else
        l->head = f;
    l->tail = f;
    f->active = true;
}

/* Off its class's list, wherever it is (O(flows): control path only). */
static void delist(struct pva_sched *s, struct pva_sched_flow *f)
{
    struct pva_sched_list *l = &s->active[f->cls];
    struct pva_sched_flow *prev = NULL;

    for (struct pva_sched_flow *p = l->head; p; prev = p, p = p->next) {
        if (p != f)
            continue;
        if (prev)
            prev->next = f->next;
        else
            l->head = f->next;
        if (l->tail == f)
            l->tail = prev;
        break;
    }
    f->next = NULL;
    f->active = false;
    f->deficit = 0;
}

bool pva_sched_flow_set(struct pva_sched *s, struct pva_sched_flow *f,
                        enum pva_sched_class cls, uint32_t weight)
{
    bool was_active = f->active;

    if ((unsigned int)cls >= PVA_SCHED_CLASSES)
        return false;
    if (was_active)
        delist(s, f);
    f->cls = cls;
    f->weight = clamp_weight(weight);
    if (was_active)
        enlist(s, f);
    return true;
}

void pva_sched_push(struct pva_sched *s, struct pva_sched_flow *f,
                    struct pva_sched_item *it, uint64_t cost)
{
    it->next = NULL;
    it->cost = cost;
    if (f->tail)
        f->tail->next = it;
    else
        f->head = it;
    f->tail = it;
    f->queued++;
    s->queued++;
    if (!f->active)
        enlist(s, f);
}

static struct pva_sched_item *dequeue(struct pva_sched *s,
                                      struct pva_sched_flow *f)
{
    struct pva_sched_item *it = f->head;

    f->head = it->next;
    if (!f->head)
        f->tail = NULL;
    it->next = NULL;
    f->queued--;
    s->queued--;
    return it;
}

/* The front flow of a non-empty class starts a job, or yields its turn. */
static struct pva_sched_item *serve_front(struct pva_sched *s,
                                          enum pva_sched_class cls)
{
    struct pva_sched_list *l = &s->active[cls];
    struct pva_sched_flow *f = l->head;
    uint64_t cap = s->quantum * PVA_SCHED_COST_QUANTA;
    uint64_t cost = f->head->cost < cap ? f->head->cost : cap;
    struct pva_sched_item *it;

    l->head = f->next;
    if (!l->head)
        l->tail = NULL;
    if (f->deficit < cost) {
        enlist(s, f);           /* next turn, with more credit */
        return NULL;
    }
    f->deficit -= cost;
    it = dequeue(s, f);
    if (!f->head) {
        f->active = false;
        f->deficit = 0;
        return it;
    }
    /* Still at the front: the rest of its credit is for this turn. */
    f->next = l->head;
    l->head = f;
    if (!l->tail)
        l->tail = f;
    return it;
}

struct pva_sched_item *pva_sched_pop(struct pva_sched *s,
                                     struct pva_sched_flow **flow)
{
    for (unsigned int c = 0; c < PVA_SCHED_CLASSES; c++) {
        while (s->active[c].head) {
            struct pva_sched_flow *f = s->active[c].head;
            struct pva_sched_item *it = serve_front(s, c);

            if (it) {
                if (flow)
                    *flow = f;
                return it;
            }
        }
    }
    return NULL;
}

unsigned int pva_sched_take(struct pva_sched *s, struct pva_sched_flow *f,
                            struct pva_sched_item **out, unsigned int max)
{
    unsigned int n = 0;

    while (f->head && n < max)
        out[n++] = dequeue(s, f);
    if (!f->head && f->active)
        delist(s, f);
    return n;
}

int pva_sched_class_parse(const char *name)
{
    for (unsigned int c = 0; c < PVA_SCHED_CLASSES; c++)
        if (!strcmp(name, class_names[c]))
            return (int)c;
    return -1;
}

const char *pva_sched_class_name(enum pva_sched_class cls)
{
    return (unsigned int)cls < PVA_SCHED_CLASSES ? class_names[cls] : "?";
}
