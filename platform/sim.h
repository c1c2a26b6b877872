/* SPDX-License-Identifier: MIT */
/*
 * sim.h: the sim platform's grant and event channel ops tables
 * (platform/sim_gntshr.c, sim_gntmap.c, sim_evtchn.c), assembled into a
 * struct pva_platform by platform/sim.c.
 *
 * Each handle opens its own control connection to the pvaccel-sim daemon
 * acting as this process's sim domain, so what a handle holds (grants,
 * maps, ports) is released when the handle closes or the process dies.
 * Handles are not shared across fork().  Behaviour and limits:
 * docs/sim-grants-evtchn.md.
 */
#ifndef PVACCEL_PLATFORM_SIM_H
#define PVACCEL_PLATFORM_SIM_H

#include "platform/platform.h"

extern const struct pva_gntshr_ops pva_sim_gntshr_ops;
extern const struct pva_gntmap_ops pva_sim_gntmap_ops;
extern const struct pva_evtchn_ops pva_sim_evtchn_ops;

#endif /* PVACCEL_PLATFORM_SIM_H */
