/* SPDX-License-Identifier: MIT */
/*
 * cpu_iter.c: the out-of-line half of operand walking (cpu_iter.h):
 * finding a flat operand, and copying between an operand and a flat
 * buffer.  The CPU engine's operation files call these; they call nothing
 * of the engine's.
 */
#include "config.h"

#include <string.h>

#include "backend/engines/cpu_iter.h"

uint8_t *cpu_operand_flat(const struct pva_operand *op)
{
    uint8_t *flat = NULL;

    for (unsigned int i = 0; i < op->niov; i++) {
        if (!op->iov[i].len)
            continue;
        if (flat)
            return NULL;
        flat = op->iov[i].base;
    }
    return flat;
}

size_t cpu_iter_read(struct cpu_iter *it, void *buf, size_t len)
{
    size_t done = 0;
    uint8_t *p;
    size_t n;

    while (done < len && (n = cpu_iter_peek(it, &p))) {
        if (n > len - done)
            n = len - done;
        memcpy((uint8_t *)buf + done, p, n);
        cpu_iter_advance(it, n);
        done += n;
    }
    return done;
}

size_t cpu_iter_write(struct cpu_iter *it, const void *buf, size_t len)
{
    size_t done = 0;
    uint8_t *p;
    size_t n;

    while (done < len && (n = cpu_iter_peek(it, &p))) {
        if (n > len - done)
            n = len - done;
        memcpy(p, (const uint8_t *)buf + done, n);
        cpu_iter_advance(it, n);
        done += n;
    }
    return done;
}
