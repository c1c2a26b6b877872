/* SPDX-License-Identifier: MIT */
/*
 * log.c: levelled logging to stderr or syslog.
 *
 * Anything a guest can trigger at will is logged at most once per queue
 * (a queue stop) or only at debug level, so a guest cannot flood the log;
 * and anything a guest wrote is escaped (pvad_escape) before it is
 * formatted into a message, so it cannot forge one.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "backend/pvacceld.h"

static enum pvad_log_level log_level = PVAD_LOG_INFO;
static bool log_syslog;

void pvad_log_init(enum pvad_log_level level, bool use_syslog)
{
    log_level = level;
    log_syslog = use_syslog;
    if (use_syslog)
        openlog("pvacceld", LOG_PID, LOG_DAEMON);
}

uint64_t pvad_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

bool pvad_log_ratelimit(_Atomic uint64_t *last)
{
    uint64_t now = pvad_now_ns();
    uint64_t prev = atomic_load_explicit(last, memory_order_relaxed);

    if (prev && now - prev < 1000000000u)
        return false;
    return atomic_compare_exchange_strong(last, &prev, now);
}

void pvad_log(enum pvad_log_level level, const char *fmt, ...)
{
    static const char *const names[] = { "error", "warning", "info", "debug" };
    static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
    char msg[512];
    va_list ap;

    if (level > log_level)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (log_syslog) {
        syslog(prio[level], "%s", msg);
    } else {
        struct timespec ts;
        struct tm tm;
        char when[32];

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
        /* One write per line, so lines of different threads do not mix. */
        fprintf(stderr, "%s.%03ldZ pvacceld: %s: %s\n", when,
                ts.tv_nsec / 1000000, names[level], msg);
    }
}

/* @c as it appears in escaped text, in @out; returns its length (1-4). */
static size_t escape_octet(unsigned char c, char out[4])
{
    static const char hex[] = "0123456789abcdef";

    if (c == '\\' || c == '"') {
        out[0] = '\\';
        out[1] = (char)c;
        return 2;
    }
    if (c >= 0x20 && c < 0x7f) {
        out[0] = (char)c;
        return 1;
    }
    out[0] = '\\';
    out[1] = 'x';
    out[2] = hex[c >> 4];
    out[3] = hex[c & 0xf];
    return 4;
}

const char *pvad_escape(char *buf, size_t size, const char *s)
{
    static const char ellipsis[] = "...";
    const size_t dots = sizeof(ellipsis) - 1;
    size_t max, used = 0, cut = 0;

    if (!size)
        return "";
    max = size - 1;                 /* characters, without the NUL */
    for (; *s; s++) {
        char esc[4];
        size_t n = escape_octet((unsigned char)*s, esc);

        if (used + n > max) {
            /* Back to the last escape after which the ellipsis fits. */
            used = cut;
            n = max - cut < dots ? max - cut : dots;
            memcpy(buf + used, ellipsis, n);
            used += n;
            break;
        }
        memcpy(buf + used, esc, n);
        used += n;
        if (used + dots <= max)
            cut = used;
    }
    buf[used] = '\0';
    return buf;
}
