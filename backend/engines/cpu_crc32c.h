/* SPDX-License-Identifier: MIT */
/*
 * cpu_crc32c.h: CRC-32C (Castagnoli), as accelif.h's CRC32C defines it:
 * seed 0 starts, the inversions happen inside, so results chain.
 *
 * None of the libraries the CPU engine uses exports CRC-32C, so the engine
 * has its own (cpu_crc32c.c), a leaf that knows nothing of engines or
 * jobs.  cpu_mem.c's CRC32C job calls it; so may any program that wants the
 * same checksum without the engine, as the benchmarks' native baselines do
 * (tools/hostbench.c, tests/engine-bench.c).
 *
 * pva_crc32c() takes the SSE4.2 instruction when the CPU has it, the
 * table otherwise.  The two are exported for the tests, which check them
 * against each other.
 */
#ifndef PVACCEL_ENGINES_CPU_CRC32C_H
#define PVACCEL_ENGINES_CPU_CRC32C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

uint32_t pva_crc32c(uint32_t seed, const void *buf, size_t len);
/* Portable slicing-by-8, any CPU. */
uint32_t pva_crc32c_table(uint32_t seed, const void *buf, size_t len);
/* The SSE4.2 crc32 instruction if pva_crc32c_have_sse42(), else the table. */
uint32_t pva_crc32c_sse42(uint32_t seed, const void *buf, size_t len);
bool pva_crc32c_have_sse42(void);

#endif
