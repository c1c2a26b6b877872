/* SPDX-License-Identifier: MIT */
/*
 * pagedir.c: page directories for MAP_REGION (accelif.h): a chain of
 * granted pages, each naming the next directory page and up to
 * VACCEL_DIR_GREFS_PER_PAGE grants of the region's pages.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "frontend/pagedir.h"

uint32_t fe_pagedir_pages(uint32_t npages)
{
    return (uint32_t)((npages + VACCEL_DIR_GREFS_PER_PAGE - 1) /
                      VACCEL_DIR_GREFS_PER_PAGE);
}

/*
 * Fill @ndir directory pages at @dir: each names the next directory page
 * (0 ends the chain) and up to VACCEL_DIR_GREFS_PER_PAGE region grants,
 * in native byte order (accelif.h).  Unused entries of the last page stay 0.
 */
int fe_pagedir_fill(void *dir, uint32_t ndir, const grant_ref_t *dir_refs,
                    const grant_ref_t *refs, uint32_t npages)
{
    struct vaccel_page_directory *d = dir;

    if (!npages || ndir != fe_pagedir_pages(npages))
        return -EINVAL;
    memset(dir, 0, (size_t)ndir * VACCEL_PAGE_SIZE);
    for (uint32_t i = 0; i < npages; i++) {
        uint32_t page = (uint32_t)(i / VACCEL_DIR_GREFS_PER_PAGE);

        d[page].gref[i % VACCEL_DIR_GREFS_PER_PAGE] = refs[i];
    }
    for (uint32_t p = 0; p + 1 < ndir; p++)
        d[p].gref_dir_next_page = dir_refs[p + 1];
    return 0;
}

