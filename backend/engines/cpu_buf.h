/* SPDX-License-Identifier: MIT */
/*
 * cpu_buf.h: buffers that only grow: the bounce and staging space an
 * execution context (struct cpu_wctx) of the CPU engine keeps for
 * libraries that need flat memory.
 *
 * A buffer reaches the size of the largest job that needed it and stays
 * there, so the steady state allocates nothing per job; cpu_buf_trim()
 * gives back one that a rare huge job grew.  Bottom of the engine: the
 * operation files and the dispatcher call it, it calls nothing of theirs.
 */
#ifndef PVACCEL_ENGINES_CPU_BUF_H
#define PVACCEL_ENGINES_CPU_BUF_H

#include <stddef.h>
#include <stdint.h>

struct cpu_buf {
    uint8_t *p;
    size_t cap;
};

/* Make @b at least @len bytes; contents are not kept.  0 or -XEN_ENOMEM. */
int cpu_buf_reserve(struct cpu_buf *b, size_t len);
/* Free @b if it grew beyond @keep bytes. */
void cpu_buf_trim(struct cpu_buf *b, size_t keep);
/* Free @b; it is empty (and reusable) afterwards. */
void cpu_buf_free(struct cpu_buf *b);

#endif
