/* SPDX-License-Identifier: MIT */
/*
 * bench-malloc.so: a counting allocator to preload under a benchmark
 * (LD_PRELOAD).  It counts every malloc, calloc, realloc and aligned
 * allocation and forwards it to glibc; `pvaccel bench` finds the counter by
 * name (dlsym) and reports allocations per request in its measured window.
 * Without the preload nothing is counted and nothing costs.
 */
#include "config.h"

#include <stdatomic.h>
#include <errno.h>
#include <stddef.h>

atomic_ulong pva_bench_mallocs;

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t m);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);

void *malloc(size_t n);
void *calloc(size_t n, size_t m);
void *realloc(void *p, size_t n);
void *memalign(size_t align, size_t n);
void *aligned_alloc(size_t align, size_t n);
int posix_memalign(void **p, size_t align, size_t n);

static void count(void)
{
    atomic_fetch_add_explicit(&pva_bench_mallocs, 1, memory_order_relaxed);
}

void *malloc(size_t n)
{
    count();
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
    count();
    return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
    count();
    return __libc_realloc(p, n);
}

void *memalign(size_t align, size_t n)
{
    count();
    return __libc_memalign(align, n);
}

void *aligned_alloc(size_t align, size_t n)
{
    count();
    return __libc_memalign(align, n);
}

int posix_memalign(void **p, size_t align, size_t n)
{
    void *m;

    count();
    m = __libc_memalign(align, n);
    if (!m)
        return ENOMEM;
    *p = m;
    return 0;
}
