/* SPDX-License-Identifier: MIT */
/*
 * config.c: the daemon's settings (defaults, command line, config file)
 * and the per-device "params" node.
 *
 * Every setting is "name=value"; the command line takes --name=value and
 * the config file one name=value per line ('#' starts a comment).  Device
 * limits use the names of their xenstore nodes; per-domain quotas add a
 * "domain-" prefix.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/pvacceld.h"

void pvad_config_defaults(struct pvad_config *cfg)
{
    *cfg = (struct pvad_config){
        .platform = "auto",
        .engine = "cpu",
        .engine_args = "",
        .rundir = "/run/pvaccel",
        .log_level = PVAD_LOG_INFO,
        .spin_us = 20,
        .batch = 64,
        .max_op_ms = 1000,      /* docs/admin.md: zstd-19 of 1 MiB */
        .limits = {
            .max_queues = 8,
            .max_ring_page_order = VACCEL_MAX_RING_PAGE_ORDER,
            .max_regions = VACCEL_DEFAULT_MAX_REGIONS,
            /* One batch map per region: the sim and gntdev cap a batch. */
            .max_region_pages = 8192,
            .max_mapped_pages = VACCEL_DEFAULT_MAX_MAPPED_PAGES,
            /*
             * One per region on Xen; on the sim up to one per page
             * (platform.h, mappings()).  A domain at its quota holds a
             * sixteenth of the kernel's default vm.max_map_count.
             */
            .max_mappings = 4096,
            .max_blobs = VACCEL_DEFAULT_MAX_BLOBS,
            .max_blob_pages = VACCEL_DEFAULT_MAX_BLOB_PAGES,
            .max_sessions = VACCEL_DEFAULT_MAX_SESSIONS,
            .max_in_flight = VACCEL_DEFAULT_MAX_IN_FLIGHT,
            .max_sg_entries = VACCEL_DEFAULT_MAX_SG_ENTRIES,
            .max_op_bytes = VACCEL_DEFAULT_MAX_OP_BYTES,
            .iova_bits = VACCEL_DEFAULT_IOVA_BITS,
            .fault_timeout_ms = VACCEL_DEFAULT_FAULT_TIMEOUT_MS,
        },
        .quota = {
            [PVAD_RES_REGIONS] = 1024,
            [PVAD_RES_MAPPED_PAGES] = 524288,   /* 2 GiB */
            [PVAD_RES_SESSIONS] = 4096,
            [PVAD_RES_IN_FLIGHT] = 4096,
            [PVAD_RES_BLOBS] = 256,
            [PVAD_RES_BLOB_PAGES] = 131072,     /* 512 MiB of dom0 memory */
            [PVAD_RES_MAPPINGS] = 4096,
        },
    };
}

/* Decimal, no sign, no leading zeros or blanks (accelif.h's node format). */
int pvad_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (!s || !*s || (s[0] == '0' && s[1]))
        return -EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return -ERANGE;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (v > max)
        return -ERANGE;
    *out = v;
    return 0;
}

struct limit_field {
    const char *name;
    size_t offset;
    bool wide;          /* uint64_t, else uint32_t */
    uint64_t min, max;
};

#define LIM32(n, f, lo, hi) { n, offsetof(struct pvad_limits, f), false, lo, hi }
#define LIM64(n, f, lo, hi) { n, offsetof(struct pvad_limits, f), true, lo, hi }

static const struct limit_field limit_fields[] = {
    LIM32(VACCEL_FIELD_MAX_QUEUES, max_queues, 1, VACCEL_MAX_QUEUES),
    LIM32(VACCEL_FIELD_MAX_RING_PAGE_ORDER, max_ring_page_order, 0,
          VACCEL_MAX_RING_PAGE_ORDER),
    LIM32(VACCEL_FIELD_MAX_REGIONS, max_regions, 1, 65536),
    LIM32(VACCEL_FIELD_MAX_REGION_PAGES, max_region_pages, 1, 8192),
    LIM64(VACCEL_FIELD_MAX_MAPPED_PAGES, max_mapped_pages, 1, UINT32_MAX),
    LIM64(VACCEL_FIELD_MAX_MAPPINGS, max_mappings, 1, UINT32_MAX),
    /* 0 turns blobs off (feature-blobs "0"). */
    LIM32(VACCEL_FIELD_MAX_BLOBS, max_blobs, 0, 65536),
    LIM64(VACCEL_FIELD_MAX_BLOB_PAGES, max_blob_pages, 0, UINT32_MAX),
    LIM32(VACCEL_FIELD_MAX_SESSIONS, max_sessions, 1, 65535),
    LIM32(VACCEL_FIELD_MAX_IN_FLIGHT, max_in_flight, 1, 1u << 20),
    LIM32(VACCEL_FIELD_MAX_SG_ENTRIES, max_sg_entries, 1, 65536),
    LIM64(VACCEL_FIELD_MAX_OP_BYTES, max_op_bytes, 1, 1ull << 32),
    LIM32(VACCEL_FIELD_IOVA_BITS, iova_bits, VACCEL_MIN_IOVA_BITS,
          VACCEL_MAX_IOVA_BITS),
    LIM32(VACCEL_FIELD_FAULT_TIMEOUT_MS, fault_timeout_ms, 1, 3600000),
};

static const struct limit_field *limit_field(const char *name)
{
    for (size_t i = 0; i < sizeof(limit_fields) / sizeof(limit_fields[0]); i++)
        if (!strcmp(limit_fields[i].name, name))
            return &limit_fields[i];
    return NULL;
}

static uint64_t limit_get(const struct pvad_limits *lim,
                          const struct limit_field *f)
{
    const char *p = (const char *)lim + f->offset;

    return f->wide ? *(const uint64_t *)(const void *)p
                   : *(const uint32_t *)(const void *)p;
}

static void limit_set(struct pvad_limits *lim, const struct limit_field *f,
                      uint64_t v)
{
    char *p = (char *)lim + f->offset;

    if (f->wide)
        *(uint64_t *)(void *)p = v;
    else
        *(uint32_t *)(void *)p = (uint32_t)v;
}

static const char *const quota_names[PVAD_RES_NR] = {
    [PVAD_RES_REGIONS] = "domain-max-regions",
    [PVAD_RES_MAPPED_PAGES] = "domain-max-mapped-pages",
    [PVAD_RES_SESSIONS] = "domain-max-sessions",
    [PVAD_RES_IN_FLIGHT] = "domain-max-in-flight",
    [PVAD_RES_BLOBS] = "domain-max-blobs",
    [PVAD_RES_BLOB_PAGES] = "domain-max-blob-pages",
    [PVAD_RES_MAPPINGS] = "domain-max-mappings",
};

/*
 * Blob memory is reserved in whole chunks, so fewer pages than one chunk
 * could never hold a blob: advertise the feature only if one fits.
 */
bool pvad_blobs_offered(const struct pvad_limits *lim)
{
    return lim->max_blobs &&
           lim->max_blob_pages >= VACCEL_BLOB_CHUNK_SIZE / VACCEL_PAGE_SIZE;
}

static int set_number(const char *name, const char *value, uint64_t min,
                      uint64_t max, uint64_t *out, char *err, size_t errlen)
{
    if (pvad_parse_u64(value, max, out) < 0 || *out < min) {
        snprintf(err, errlen, "%s: '%s' is not a number in %" PRIu64
                 "..%" PRIu64, name, value, min, max);
        return -EINVAL;
    }
    return 0;
}

static int set_log_level(struct pvad_config *cfg, const char *value,
                         char *err, size_t errlen)
{
    static const char *const names[] = { "error", "warning", "info", "debug" };

    for (unsigned int i = 0; i < 4; i++)
        if (!strcmp(value, names[i])) {
            cfg->log_level = (enum pvad_log_level)i;
            return 0;
        }
    snprintf(err, errlen, "log-level: '%s' (error, warning, info, debug)",
             value);
    return -EINVAL;
}

/*
 * Strings are kept by pointer: command-line values live as long as argv,
 * config-file values as long as cfg->file_text (the daemon's lifetime).
 */
int pvad_config_set(struct pvad_config *cfg, const char *name,
                    const char *value, char *err, size_t errlen)
{
    const struct limit_field *f = limit_field(name);
    uint64_t v;

    if (f) {
        if (set_number(name, value, f->min, f->max, &v, err, errlen))
            return -EINVAL;
        limit_set(&cfg->limits, f, v);
        return 0;
    }
    for (int r = 0; r < PVAD_RES_NR; r++)
        if (!strcmp(name, quota_names[r]))
            return set_number(name, value, 1, UINT32_MAX, &cfg->quota[r],
                              err, errlen);
    if (!strcmp(name, "spin-us")) {
        if (set_number(name, value, 0, 1000000, &v, err, errlen))
            return -EINVAL;
        cfg->spin_us = (unsigned int)v;
        return 0;
    }
    if (!strcmp(name, "max-op-ms")) {
        if (set_number(name, value, 0, 3600000, &v, err, errlen))
            return -EINVAL;
        cfg->max_op_ms = (uint32_t)v;
        return 0;
    }
    if (!strcmp(name, "batch")) {
        if (set_number(name, value, 1, 65536, &v, err, errlen))
            return -EINVAL;
        cfg->batch = (unsigned int)v;
        return 0;
    }
    if (!strcmp(name, "log-level"))
        return set_log_level(cfg, value, err, errlen);
    if (!strcmp(name, "platform"))
        cfg->platform = value;
    else if (!strcmp(name, "engine"))
        cfg->engine = value;
    else if (!strcmp(name, "engine-args"))
        cfg->engine_args = value;
    else if (!strcmp(name, "rundir"))
        cfg->rundir = value;
    else {
        snprintf(err, errlen, "unknown setting '%s'", name);
        return -EINVAL;
    }
    return 0;
}

static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/*
 * The file is read whole into cfg->file_text, which lives as long as the
 * config, so string settings can point into it.
 */
static char *read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0, n;

    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        char *more = realloc(buf, len + 4097);

        if (!more) {
            free(buf);
            buf = NULL;
            snprintf(err, errlen, "%s: out of memory", path);
            break;
        }
        buf = more;
        n = fread(buf + len, 1, 4096, f);
        len += n;
        buf[len] = '\0';
        if (n < 4096)
            break;
    }
    fclose(f);
    return buf;
}

int pvad_config_load(struct pvad_config *cfg, const char *path, char *err,
                     size_t errlen)
{
    char *line, sub[256];
    unsigned int lineno = 0;

    free(cfg->file_text);
    cfg->file_text = read_file(path, err, errlen);
    if (!cfg->file_text)
        return -EINVAL;
    /* Count lines by hand: strtok_r skips empty ones. */
    for (line = cfg->file_text; line && *line; ) {
        char *next = strchr(line, '\n'), *s, *eq, *hash;

        if (next)
            *next++ = '\0';
        lineno++;
        hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        s = trim(line);
        line = next;
        if (!*s)
            continue;
        eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%u: expected name=value", path, lineno);
            return -EINVAL;
        }
        *eq = '\0';
        if (pvad_config_set(cfg, trim(s), trim(eq + 1), sub, sizeof(sub))) {
            snprintf(err, errlen, "%s:%u: %s", path, lineno, sub);
            return -EINVAL;
        }
    }
    return 0;
}

/* One "key=value" of the params node. */
static int apply_param(struct pvad_limits *lim, char *kv, const char *engine,
                       char *err, size_t errlen)
{
    char *eq = strchr(kv, '=');
    const struct limit_field *f;
    uint64_t v;

    if (!eq) {
        snprintf(err, errlen, "params: '%s' is not key=value", kv);
        return -EINVAL;
    }
    *eq++ = '\0';
    if (!strcmp(kv, "engine")) {
        if (strcmp(eq, engine)) {
            snprintf(err, errlen, "params: engine '%s' not served here "
                     "(this backend runs '%s')", eq, engine);
            return -EINVAL;
        }
        return 0;
    }
    f = limit_field(kv);
    if (!f) {
        snprintf(err, errlen, "params: unknown key '%s'", kv);
        return -EINVAL;
    }
    if (pvad_parse_u64(eq, limit_get(lim, f), &v) < 0 || v < f->min) {
        snprintf(err, errlen, "params: %s=%s is not within %" PRIu64
                 "..%" PRIu64, kv, eq, f->min, limit_get(lim, f));
        return -EINVAL;
    }
    limit_set(lim, f, v);
    return 0;
}

int pvad_limits_apply_params(struct pvad_limits *lim, const char *params,
                             const char *engine, char *err, size_t errlen)
{
    char *copy, *save = NULL, *kv;
    int rc = 0;

    if (!params || !*params)
        return 0;
    copy = strdup(params);
    if (!copy)
        return -ENOMEM;
    for (kv = strtok_r(copy, VACCEL_LIST_SEPARATOR, &save); kv && !rc;
         kv = strtok_r(NULL, VACCEL_LIST_SEPARATOR, &save))
        rc = apply_param(lim, kv, engine, err, errlen);
    free(copy);
    return rc;
}
