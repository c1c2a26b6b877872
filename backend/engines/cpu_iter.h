/* SPDX-License-Identifier: MIT */
/*
 * cpu_iter.h: walking a job's operands, for the CPU engine's operation
 * files (cpu_compress.c, cpu_crypto.c, cpu_mem.c).
 *
 * An operand reaches the engine as a list of pieces in backend memory
 * (struct pva_operand, backend/engine.h), already translated and bounds-
 * checked.  An iterator yields its bytes as contiguous chunks, skipping
 * empty pieces; peek/advance let a caller consume part of a chunk (a
 * library that wrote less than it was offered).
 *
 * This is the bottom of the engine: it calls nothing of the engine's own.
 * init, peek and advance run for every chunk of every job, so they are
 * inline here; the copying helpers are in cpu_iter.c.
 */
#ifndef PVACCEL_ENGINES_CPU_ITER_H
#define PVACCEL_ENGINES_CPU_ITER_H

#include <stddef.h>
#include <stdint.h>

#include "backend/engine.h"

struct cpu_iter {
    const struct pva_iov *iov;
    unsigned int niov, i;
    size_t off;                         /* into iov[i] */
};

static inline void cpu_iter_init(struct cpu_iter *it,
                                 const struct pva_operand *op)
{
    it->iov = op->iov;
    it->niov = op->iov ? op->niov : 0;
    it->i = 0;
    it->off = 0;
}

/* Bytes available contiguously at the cursor (0 at the end), and where. */
static inline size_t cpu_iter_peek(struct cpu_iter *it, uint8_t **p)
{
    while (it->i < it->niov && it->off >= it->iov[it->i].len) {
        it->i++;
        it->off = 0;
    }
    if (it->i == it->niov)
        return 0;
    *p = (uint8_t *)it->iov[it->i].base + it->off;
    return it->iov[it->i].len - it->off;
}

/* Consume @n bytes, at most what the last peek returned. */
static inline void cpu_iter_advance(struct cpu_iter *it, size_t n)
{
    it->off += n;
}

/* The operand's only non-empty piece, or NULL if it has several. */
uint8_t *cpu_operand_flat(const struct pva_operand *op);
/* Copy up to @len bytes from the iterator into @buf; returns bytes copied. */
size_t cpu_iter_read(struct cpu_iter *it, void *buf, size_t len);
/* Copy @len bytes into the iterator; returns bytes copied (less: no room). */
size_t cpu_iter_write(struct cpu_iter *it, const void *buf, size_t len);

#endif
