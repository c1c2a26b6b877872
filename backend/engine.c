/* SPDX-License-Identifier: MIT */
/*
 * engine.c: the engines built into pvacceld, looked up by name (the
 * "engine=<name>" device parameter).  Adding an engine is its public
 * header's include and one line here, and its sources in Makefile.am's
 * libpvaengine.la.
 */
#include "config.h"

#include <string.h>

#include "backend/engine.h"
#include "backend/engines/cpu.h"

static const struct pva_engine_ops *const pva_engines[] = {
    &pva_engine_cpu,
    NULL,
};

const struct pva_engine_ops *pva_engine_find(const char *name)
{
    if (!name)
        return NULL;
    for (unsigned int i = 0; pva_engines[i]; i++)
        if (!strcmp(pva_engines[i]->name, name))
            return pva_engines[i];
    return NULL;
}
