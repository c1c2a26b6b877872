/* SPDX-License-Identifier: MIT */
/*
 * cpu_buf.c: the CPU engine's grow-only buffers (cpu_buf.h).
 */
#include "config.h"

#include <stdlib.h>

#include "accelif.h"
#include "backend/engines/cpu_buf.h"

void cpu_buf_free(struct cpu_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->cap = 0;
}

void cpu_buf_trim(struct cpu_buf *b, size_t keep)
{
    if (b->cap > keep)
        cpu_buf_free(b);
}

int cpu_buf_reserve(struct cpu_buf *b, size_t len)
{
    uint8_t *p;
    size_t cap;

    if (len <= b->cap)
        return 0;
    /* Grow geometrically so a ramp of sizes costs few reallocations. */
    cap = b->cap ? b->cap : 64 * 1024;
    while (cap < len)
        cap = cap > SIZE_MAX / 2 ? len : cap * 2;
    /* The old contents are never needed: free first, keep the peak low. */
    cpu_buf_free(b);
    p = malloc(cap);
    if (!p)
        return -XEN_ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}
