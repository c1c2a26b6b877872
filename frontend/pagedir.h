/* SPDX-License-Identifier: MIT */
/* pagedir.h: building MAP_REGION page directories (pure, unit-tested). */
#ifndef PVACCEL_FE_PAGEDIR_H
#define PVACCEL_FE_PAGEDIR_H

#include <stdint.h>

#include "accelif.h"

/* Directory pages needed for @npages region pages. */
uint32_t fe_pagedir_pages(uint32_t npages);
/*
 * Fill @ndir pages at @dir: page i holds the grant of page i + 1 (0 in
 * the last) and the region grants i * 1023 ... in order.  -EINVAL if
 * @ndir does not match @npages.
 */
int fe_pagedir_fill(void *dir, uint32_t ndir, const grant_ref_t *dir_refs,
                    const grant_ref_t *refs, uint32_t npages);

#endif
