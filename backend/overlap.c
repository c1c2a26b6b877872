/* SPDX-License-Identifier: MIT */
/*
 * overlap.c: whether a data request's resolved operands overlap.
 *
 * The libraries behind COMPRESS, DECOMPRESS and the AEADs are written for
 * operands that do not alias: libdeflate memcpy()s stored blocks from its
 * input to its output, OpenSSL allows in == out but no partial overlap.
 * So for those operations (pvad_op_forbids_overlap()) the backend refuses
 * a request whose dst shares an octet with its src, or with another part
 * of dst, before any engine sees it (-XEN_EINVAL, no effect).  AEAD may
 * run in place: an octet that is both text octet i of src and octet i of
 * dst is allowed, any other sharing is not.
 *
 * What is compared is resolved memory, the pieces job.c produced, not
 * IOVAs: each region is one mapping of its own and each blob memory of
 * its own, so two pieces share backend addresses exactly when they are
 * the same octets of one region or blob, through the same IOVAs.
 *
 * What no comparison can see is one guest frame behind two mappings: two
 * regions that list the same grant, or a frame the guest granted under
 * two refs.  Those alias at different backend addresses.  To a library
 * such aliasing is input that changes while it works, which a guest can
 * cause anyway by writing its memory from another vCPU; the engine's
 * defence against that is per operation (the CPU engine parses a private
 * copy of DECOMPRESS input: docs/security.md).
 *
 * Operands of one piece each, the usual case, are checked inline
 * (pvad_overlap_check() in pvacceld.h); scattered ones here, by sorting
 * dst's pieces in the queue's scratch: O(n log n), nothing allocated.
 *
 * Called by job.c on the queue thread; calls nothing of pvacceld's.
 */
#include "config.h"

#include "backend/pvacceld.h"

/* @pc's non-empty pieces as spans, in operand order; returns how many. */
static unsigned int spans_of(const struct pvad_pieces *pc,
                             struct pvad_span *out)
{
    unsigned int n = 0;
    uint64_t off = 0;

    for (unsigned int i = 0; i < pc->n; i++) {
        uintptr_t lo = (uintptr_t)pc->iov[i].base;

        if (pc->iov[i].len)
            out[n++] = (struct pvad_span){ lo, lo + pc->iov[i].len, off };
        off += pc->iov[i].len;
    }
    return n;
}

static void sift_down(struct pvad_span *s, unsigned int i, unsigned int n)
{
    for (;;) {
        unsigned int big = i, l = 2 * i + 1, r = l + 1;
        struct pvad_span t;

        if (l < n && s[l].lo > s[big].lo)
            big = l;
        if (r < n && s[r].lo > s[big].lo)
            big = r;
        if (big == i)
            return;
        t = s[i];
        s[i] = s[big];
        s[big] = t;
        i = big;
    }
}

/* Heapsort by start address: in place, no recursion, no allocation. */
static void sort_spans(struct pvad_span *s, unsigned int n)
{
    for (unsigned int i = n / 2; i-- > 0;)
        sift_down(s, i, n);
    for (unsigned int end = n; end-- > 1;) {
        struct pvad_span t = s[0];

        s[0] = s[end];
        s[end] = t;
        sift_down(s, 0, end);
    }
}

/* Index of the first of the sorted, disjoint @s ending above @addr. */
static unsigned int first_ending_above(const struct pvad_span *s,
                                       unsigned int n, uintptr_t addr)
{
    unsigned int lo = 0, hi = n;

    while (lo < hi) {
        unsigned int mid = lo + (hi - lo) / 2;

        if (s[mid].hi <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * pvad_overlap_check() for scattered operands: dst's pieces sorted, then
 * checked against one another and each src piece against those it meets.
 * For AEAD in place a src piece may meet several dst pieces, each of which
 * must lie exactly over the text octets it receives; the pieces of src
 * that share one such placement cover different addresses, so the walk
 * stays O(src + dst) after the sort.
 */
int pvad_overlap_check_pieces(const struct pvad_pieces *src,
                              const struct pvad_pieces *dst, bool in_place,
                              uint64_t shift, struct pvad_span *scratch)
{
    unsigned int nd = spans_of(dst, scratch);
    uint64_t off = 0;

    sort_spans(scratch, nd);
    /* Sorted, dst's pieces are disjoint iff each starts after the last. */
    for (unsigned int i = 1; i < nd; i++)
        if (scratch[i].lo < scratch[i - 1].hi)
            return -XEN_EINVAL;
    for (unsigned int i = 0; i < src->n; i++) {
        uintptr_t lo = (uintptr_t)src->iov[i].base;
        struct pvad_span s = { lo, lo + src->iov[i].len, off };

        off += src->iov[i].len;
        if (s.lo == s.hi)
            continue;
        for (unsigned int j = first_ending_above(scratch, nd, s.lo);
             j < nd && scratch[j].lo < s.hi; j++)
            if (!in_place || !pvad_span_in_place(&s, &scratch[j], shift))
                return -XEN_EINVAL;
    }
    return 0;
}
