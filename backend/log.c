/* SPDX-License-Identifier: MIT */
/*
 * log.c: levelled logging to stderr or syslog.
 *
 * Anything a guest can trigger at will is logged at most once per queue
 * (a queue stop) or only at debug level, so a guest cannot flood the log.
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
