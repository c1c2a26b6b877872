/* SPDX-License-Identifier: MIT */
/*
 * cpu_crc32c.c: CRC-32C (Castagnoli, reflected polynomial 0x82f63b78).
 *
 * None of the libraries the engine uses exports CRC-32C, so it is here.
 * Convention (accelif.h, CRC32C): the seed is a previous result, the pre-
 * and post-inversions happen inside, so seed 0 starts a new CRC and
 * crc32c(crc32c(0, A), B) == crc32c(0, A || B), as RFC 3720 and Google's
 * crc32c::Extend.  crc32c(0, "123456789") == 0xe3069283.
 *
 * Two implementations give identical results:
 *  - the SSE4.2 crc32 instruction, 8 bytes at a time, used when the CPU
 *    has it (checked at run time, the build does not assume it);
 *  - a portable slicing-by-8 table walk (8 bytes per step, tables built
 *    once on first use), for every other CPU.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include "backend/engines/cpu_crc32c.h"

#define CRC32C_POLY 0x82f63b78u

static uint32_t crc32c_tab[8][256];
static pthread_once_t crc32c_tab_once = PTHREAD_ONCE_INIT;

static void crc32c_tab_build(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;

        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (CRC32C_POLY & (0u - (c & 1)));
        crc32c_tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc32c_tab[t][i] = (crc32c_tab[t - 1][i] >> 8) ^
                               crc32c_tab[0][crc32c_tab[t - 1][i] & 0xff];
}

static inline uint32_t crc32c_load32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

uint32_t pva_crc32c_table(uint32_t seed, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint32_t c = ~seed;

    pthread_once(&crc32c_tab_once, crc32c_tab_build);
    while (len >= 8) {
        uint32_t lo = crc32c_load32le(p) ^ c;
        uint32_t hi = crc32c_load32le(p + 4);

        c = crc32c_tab[7][lo & 0xff] ^ crc32c_tab[6][(lo >> 8) & 0xff] ^
            crc32c_tab[5][(lo >> 16) & 0xff] ^ crc32c_tab[4][lo >> 24] ^
            crc32c_tab[3][hi & 0xff] ^ crc32c_tab[2][(hi >> 8) & 0xff] ^
            crc32c_tab[1][(hi >> 16) & 0xff] ^ crc32c_tab[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        c = (c >> 8) ^ crc32c_tab[0][(c ^ *p++) & 0xff];
    return ~c;
}

#if defined(__x86_64__) || defined(__i386__)
#include <nmmintrin.h>

bool pva_crc32c_have_sse42(void)
{
    return __builtin_cpu_supports("sse4.2");
}

__attribute__((target("sse4.2")))
uint32_t pva_crc32c_sse42(uint32_t seed, const void *buf, size_t len)
{
    const uint8_t *p = buf;
#ifdef __x86_64__
    uint64_t c = ~seed;

    while (len >= 8) {
        uint64_t v;

        memcpy(&v, p, 8);       /* unaligned-safe; one mov */
        c = _mm_crc32_u64(c, v);
        p += 8;
        len -= 8;
    }
#else
    uint32_t c = ~seed;

    while (len >= 4) {
        uint32_t v;

        memcpy(&v, p, 4);
        c = _mm_crc32_u32(c, v);
        p += 4;
        len -= 4;
    }
#endif
    while (len--)
        c = _mm_crc32_u8((uint32_t)c, *p++);
    return ~(uint32_t)c;
}
#else
bool pva_crc32c_have_sse42(void)
{
    return false;
}

uint32_t pva_crc32c_sse42(uint32_t seed, const void *buf, size_t len)
{
    return pva_crc32c_table(seed, buf, len);
}
#endif

uint32_t pva_crc32c(uint32_t seed, const void *buf, size_t len)
{
    if (pva_crc32c_have_sse42())
        return pva_crc32c_sse42(seed, buf, len);
    return pva_crc32c_table(seed, buf, len);
}
