/* SPDX-License-Identifier: MIT */
/*
 * cpu_relax.h: the spin-wait hint, one for the whole project.
 *
 * Every polling loop calls cpu_relax() once per empty look at shared
 * memory: the frontend and backend queues spinning on their rings, the
 * CPU engine's workers spinning on the job ring, the benchmarks.  The
 * hint tells the core that it is waiting, not working: it gives pipeline
 * resources to the sibling hardware thread (on a VM, possibly the very
 * vCPU being waited for), saves power, and on x86 avoids the memory-order
 * mis-speculation flush when the awaited store finally lands.
 *
 * Header only and freestanding: it includes nothing and needs nothing of
 * the platform library beside it, so every layer (protocol tools, sim,
 * platform, frontend, backend, engines) may use it without a new link
 * dependency.
 *
 *   x86, x86-64       pause
 *   arm (v7+), arm64  yield
 *   riscv             pause (Zihintpause); its encoding, fence w,0, is a
 *                     hint that cores without the extension execute as a
 *                     no-op, so it is emitted whatever the target
 *   anything else     nothing but the compiler barrier
 *
 * Every variant is also a compiler barrier: a loop that polls memory
 * re-reads it after the hint.  (The project's loops poll atomics anyway.)
 */
#ifndef PVACCEL_PLATFORM_CPU_RELAX_H
#define PVACCEL_PLATFORM_CPU_RELAX_H

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("pause" ::: "memory");
#elif defined(__aarch64__) || (defined(__arm__) && defined(__ARM_ARCH) && \
                               __ARM_ARCH >= 7)
    __asm__ __volatile__("yield" ::: "memory");
#elif defined(__riscv)
    /*
     * pause, spelt as its encoding: the mnemonic needs an assembler that
     * knows Zihintpause, __builtin_riscv_pause a GCC 13 or later.
     */
    __asm__ __volatile__(".4byte 0x0100000f" ::: "memory");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

#endif
