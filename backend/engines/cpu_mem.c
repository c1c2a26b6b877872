/* SPDX-License-Identifier: MIT */
/*
 * cpu_mem.c: COPY, FILL and COMPARE for the CPU engine.
 *
 * All three walk the operands' pieces in lock step, so scatter lists cost
 * nothing but the loop.  Overlapping src and dst are allowed by the
 * protocol (dst is then unspecified), so copies use memmove: never
 * undefined behaviour, whatever a guest asks for.
 */
#include "config.h"

#include <string.h>

#include "accelif.h"
#include "backend/engines/cpu_crc32c.h"
#include "backend/engines/cpu_internal.h"
#include "backend/engines/cpu_iter.h"

int cpu_copy(struct pva_job *job)
{
    struct cpu_iter s, d;
    uint8_t *sp, *dp;
    size_t sn, dn;

    if (job->dst.len < job->src.len) {
        job->aux = job->src.len;
        return -XEN_ENOSPC;
    }
    cpu_iter_init(&s, &job->src);
    cpu_iter_init(&d, &job->dst);
    while ((sn = cpu_iter_peek(&s, &sp)) && (dn = cpu_iter_peek(&d, &dp))) {
        size_t n = sn < dn ? sn : dn;

        memmove(dp, sp, n);
        cpu_iter_advance(&s, n);
        cpu_iter_advance(&d, n);
        job->len += n;
    }
    return 0;
}

/*
 * Fill @n bytes at @p with the 8-byte pattern @pat, starting at phase
 * @phase (byte @phase of the pattern first): write one 64-byte block,
 * then double the filled part by copying it onto what follows.  Every
 * block copied is a multiple of 8 long, so the phase carries through.
 */
static void cpu_fill64(uint8_t *p, size_t n, const uint8_t pat[8],
                       unsigned int phase)
{
    uint8_t block[64];
    size_t done;

    for (unsigned int i = 0; i < sizeof(block); i++)
        block[i] = pat[(phase + i) % 8];
    done = n < sizeof(block) ? n : sizeof(block);
    memcpy(p, block, done);
    while (done < n) {
        size_t m = n - done;

        if (m > done)
            m = done;
        if (m > 64 * 1024)      /* stay in cache for big fills */
            m = 64 * 1024;
        memcpy(p + done, p, m);
        done += m;
    }
}

int cpu_fill(struct pva_job *job)
{
    bool wide = job->flags & VACCEL_FILL_F_PATTERN64;
    uint64_t v = job->param.pattern;
    uint8_t pat[8];
    struct cpu_iter d;
    uint8_t *p;
    size_t n;

    if (!wide && v > 0xff)
        return -XEN_EINVAL;
    for (unsigned int i = 0; i < 8; i++)
        pat[i] = (uint8_t)(v >> (8 * i));   /* least significant first */

    cpu_iter_init(&d, &job->dst);
    while ((n = cpu_iter_peek(&d, &p))) {
        if (wide)
            cpu_fill64(p, n, pat, (unsigned int)(job->len % 8));
        else
            memset(p, pat[0], n);
        cpu_iter_advance(&d, n);
        job->len += n;
    }
    return 0;
}

int cpu_compare(struct pva_job *job)
{
    struct cpu_iter a, b;
    uint8_t *ap, *bp;
    size_t an, bn, off = 0;

    cpu_iter_init(&a, &job->src);
    cpu_iter_init(&b, &job->dst);
    while ((an = cpu_iter_peek(&a, &ap)) && (bn = cpu_iter_peek(&b, &bp))) {
        size_t n = an < bn ? an : bn;

        if (memcmp(ap, bp, n)) {
            size_t i = 0;

            /* Bounded: the guest may change its memory under us. */
            while (i + 1 < n && ap[i] == bp[i])
                i++;
            job->value = 1;
            job->aux = off + i;
            return 0;
        }
        cpu_iter_advance(&a, n);
        cpu_iter_advance(&b, n);
        off += n;
    }
    if (job->src.len != job->dst.len) {
        /* One is a prefix of the other. */
        job->value = 1;
        job->aux = off;
    }
    return 0;
}

int cpu_crc32c_job(struct pva_job *job)
{
    struct cpu_iter s;
    uint32_t crc = job->param.seed;
    uint8_t *p;
    size_t n;

    cpu_iter_init(&s, &job->src);
    while ((n = cpu_iter_peek(&s, &p))) {
        crc = pva_crc32c(crc, p, n);
        cpu_iter_advance(&s, n);
    }
    job->value = crc;
    return 0;
}
