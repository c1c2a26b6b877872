/* SPDX-License-Identifier: MIT */
/*
 * cpu.h: the CPU engine's public part.  Its ops table, for the list of
 * built-in engines (backend/engine.c), and the few figures it gives beyond
 * backend/engine.h, for tests and benchmarks.  Everything else about the
 * engine is private to backend/engines/ (cpu_internal.h).
 */
#ifndef PVACCEL_ENGINES_CPU_H
#define PVACCEL_ENGINES_CPU_H

#include <stddef.h>
#include <stdint.h>

#include "backend/engine.h"

extern const struct pva_engine_ops pva_engine_cpu;

/* Statistics of a context (for the tests and the backend's stats). */
uint64_t pva_cpu_ctx_mapped_bytes(const struct pva_engine_ctx *ctx);
unsigned int pva_cpu_ctx_mappings(const struct pva_engine_ctx *ctx);
/* The inline threshold in effect (bytes of src + dst), for benchmarks. */
size_t pva_cpu_inline_max(const struct pva_engine *e);

#endif
