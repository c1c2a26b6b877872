/* SPDX-License-Identifier: MIT */
/* pvaccel-bench.h: `pvaccel bench`, the guest side of the benchmark. */
#ifndef PVACCEL_TOOL_BENCH_H
#define PVACCEL_TOOL_BENCH_H

/* argv[0] is "bench"; returns the exit status. */
int pvaccel_bench_main(int argc, char **argv);

#endif
