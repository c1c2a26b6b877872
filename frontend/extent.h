/* SPDX-License-Identifier: MIT */
/*
 * extent.h: a first-fit allocator of address ranges.
 *
 * libpvaccel uses it twice: for IOVA ranges in the device's I/O address
 * space (page granular) and for buffers inside arena regions (64-byte
 * granular).  It manages numbers only, never memory, so it is unit-tested
 * on its own.  Free ranges are kept sorted and coalesced in an array.
 * Not thread-safe: the device lock covers it.
 */
#ifndef PVACCEL_FE_EXTENT_H
#define PVACCEL_FE_EXTENT_H

#include <stdint.h>

struct fe_extent {
    uint64_t start, len;
};

struct fe_extents {
    struct fe_extent *free;  /* sorted by start, never adjacent */
    unsigned int n, cap;
};

/* Manage [start, start + len) (all free).  0 or -ENOMEM. */
int fe_extents_init(struct fe_extents *x, uint64_t start, uint64_t len);
void fe_extents_fini(struct fe_extents *x);
/*
 * Allocate @len bytes aligned to @align (a power of two), first fit.
 * Returns 0 and *start, -ENOSPC if no free range fits, -EINVAL for a zero
 * length, -ENOMEM if splitting needs memory it cannot get.
 */
int fe_extents_alloc(struct fe_extents *x, uint64_t len, uint64_t align,
                     uint64_t *start);
/* Give a range back.  -EINVAL if it overlaps free space (a double free). */
int fe_extents_free(struct fe_extents *x, uint64_t start, uint64_t len);
/* Total free bytes. */
uint64_t fe_extents_avail(const struct fe_extents *x);

#endif
