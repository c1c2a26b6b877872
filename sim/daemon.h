/* SPDX-License-Identifier: MIT */
/*
 * daemon.h: start and run the pvaccel-sim daemon (used by sim/main.c).
 */
#ifndef PVACCEL_SIM_DAEMON_H
#define PVACCEL_SIM_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

struct simd;

/*
 * Bind <dir>/control and <dir>/xenstored, create dom0.  On failure returns
 * NULL with a message in @err.
 */
struct simd *simd_new(const char *dir, bool verbose, char *err, size_t errlen);
/* Serve until a SIM_SHUTDOWN request or SIGTERM/SIGINT.  0 or -errno. */
int simd_run(struct simd *s);
/* Destroy every domain, close every socket, remove the socket files. */
void simd_free(struct simd *s);

#endif
