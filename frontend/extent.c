/* SPDX-License-Identifier: MIT */
/* extent.c: first-fit range allocator (see extent.h). */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/extent.h"

int fe_extents_init(struct fe_extents *x, uint64_t start, uint64_t len)
{
    x->cap = 16;
    x->free = calloc(x->cap, sizeof(*x->free));
    if (!x->free)
        return -ENOMEM;
    x->n = 0;
    if (len)
        x->free[x->n++] = (struct fe_extent){ start, len };
    return 0;
}

void fe_extents_fini(struct fe_extents *x)
{
    free(x->free);
    x->free = NULL;
    x->n = x->cap = 0;
}

static int reserve(struct fe_extents *x)
{
    struct fe_extent *f;

    if (x->n < x->cap)
        return 0;
    f = realloc(x->free, (size_t)x->cap * 2 * sizeof(*f));
    if (!f)
        return -ENOMEM;
    x->free = f;
    x->cap *= 2;
    return 0;
}

static void insert_at(struct fe_extents *x, unsigned int i, struct fe_extent e)
{
    memmove(&x->free[i + 1], &x->free[i], (x->n - i) * sizeof(*x->free));
    x->free[i] = e;
    x->n++;
}

static void remove_at(struct fe_extents *x, unsigned int i)
{
    memmove(&x->free[i], &x->free[i + 1], (x->n - i - 1) * sizeof(*x->free));
    x->n--;
}

int fe_extents_alloc(struct fe_extents *x, uint64_t len, uint64_t align,
                     uint64_t *start)
{
    if (!len || !align || (align & (align - 1)))
        return -EINVAL;
    for (unsigned int i = 0; i < x->n; i++) {
        struct fe_extent *f = &x->free[i];
        uint64_t s = (f->start + align - 1) & ~(align - 1);
        uint64_t head = s - f->start;

        if (s < f->start || head > f->len || f->len - head < len)
            continue;
        if (head && f->len - head > len) {
            /* Both a head and a tail remain: one more entry. */
            if (reserve(x) < 0)
                return -ENOMEM;
            f = &x->free[i];
            insert_at(x, i + 1, (struct fe_extent){ s + len,
                                                    f->len - head - len });
            f->len = head;
        } else if (head) {
            f->len = head;
        } else if (f->len > len) {
            f->start += len;
            f->len -= len;
        } else {
            remove_at(x, i);
        }
        *start = s;
        return 0;
    }
    return -ENOSPC;
}

int fe_extents_free(struct fe_extents *x, uint64_t start, uint64_t len)
{
    unsigned int i = 0;
    struct fe_extent *prev, *next;

    if (!len || start + len < start)
        return -EINVAL;
    while (i < x->n && x->free[i].start < start)
        i++;
    prev = i ? &x->free[i - 1] : NULL;
    next = i < x->n ? &x->free[i] : NULL;
    if ((prev && prev->start + prev->len > start) ||
        (next && start + len > next->start))
        return -EINVAL;
    if (prev && prev->start + prev->len == start) {
        prev->len += len;
        if (next && prev->start + prev->len == next->start) {
            prev->len += next->len;
            remove_at(x, i);
        }
        return 0;
    }
    if (next && start + len == next->start) {
        next->start = start;
        next->len += len;
        return 0;
    }
    if (reserve(x) < 0)
        return -ENOMEM;
    insert_at(x, i, (struct fe_extent){ start, len });
    return 0;
}

uint64_t fe_extents_avail(const struct fe_extents *x)
{
    uint64_t sum = 0;

    for (unsigned int i = 0; i < x->n; i++)
        sum += x->free[i].len;
    return sum;
}
