/* SPDX-License-Identifier: MIT */
/*
 * ctl-spec.c: one vaccel device entry, "key=value,key=value", as an xl
 * config's vaccel = [ ... ] list or `pvaccel-ctl attach DOMAIN SPEC`
 * gives it (docs/admin.md, "Device entries").
 *
 * Two keys are the toolstack's (backend, devid); the others go to the
 * backend's params node: engine, every limit of accelif.h "Limits", and
 * queues, the short name of multi-queue-max-queues.  The ranges below
 * are the protocol's and pvacceld's (backend/config.c, limit_fields):
 * pvacceld stays the authority, and refuses a value above its own
 * setting when the device is published; checking here only makes a typo
 * fail before the domain exists.  tests/ctl-create.sh attaches a device
 * with every key, so the two lists cannot drift apart unnoticed.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accelif.h"
#include "tools/ctl.h"

enum spec_kind { SPEC_BACKEND, SPEC_DEVID, SPEC_ENGINE, SPEC_LIMIT };

struct spec_key {
    const char *name;
    enum spec_kind kind;
    const char *param;      /* its name in params (SPEC_LIMIT) */
    uint64_t min, max;
};

static const struct spec_key keys[] = {
    { "backend", SPEC_BACKEND, NULL, 0, 0 },
    { "devid", SPEC_DEVID, NULL, 0, CTL_DEVID_MAX },
    { "engine", SPEC_ENGINE, "engine", 0, 0 },
    { "queues", SPEC_LIMIT, VACCEL_FIELD_MAX_QUEUES, 1, VACCEL_MAX_QUEUES },
    { VACCEL_FIELD_MAX_QUEUES, SPEC_LIMIT, VACCEL_FIELD_MAX_QUEUES, 1,
      VACCEL_MAX_QUEUES },
    { VACCEL_FIELD_MAX_RING_PAGE_ORDER, SPEC_LIMIT,
      VACCEL_FIELD_MAX_RING_PAGE_ORDER, 0, VACCEL_MAX_RING_PAGE_ORDER },
    { VACCEL_FIELD_MAX_REGIONS, SPEC_LIMIT, VACCEL_FIELD_MAX_REGIONS, 1,
      65536 },
    { VACCEL_FIELD_MAX_REGION_PAGES, SPEC_LIMIT,
      VACCEL_FIELD_MAX_REGION_PAGES, 1, 8192 },
    { VACCEL_FIELD_MAX_MAPPED_PAGES, SPEC_LIMIT,
      VACCEL_FIELD_MAX_MAPPED_PAGES, 1, UINT32_MAX },
    { VACCEL_FIELD_MAX_BLOBS, SPEC_LIMIT, VACCEL_FIELD_MAX_BLOBS, 0, 65536 },
    { VACCEL_FIELD_MAX_BLOB_PAGES, SPEC_LIMIT, VACCEL_FIELD_MAX_BLOB_PAGES,
      0, UINT32_MAX },
    { VACCEL_FIELD_MAX_SESSIONS, SPEC_LIMIT, VACCEL_FIELD_MAX_SESSIONS, 1,
      65535 },
    { VACCEL_FIELD_MAX_IN_FLIGHT, SPEC_LIMIT, VACCEL_FIELD_MAX_IN_FLIGHT, 1,
      1u << 20 },
    { VACCEL_FIELD_MAX_SG_ENTRIES, SPEC_LIMIT, VACCEL_FIELD_MAX_SG_ENTRIES,
      1, 65536 },
    { VACCEL_FIELD_MAX_OP_BYTES, SPEC_LIMIT, VACCEL_FIELD_MAX_OP_BYTES, 1,
      1ull << 32 },
    { VACCEL_FIELD_IOVA_BITS, SPEC_LIMIT, VACCEL_FIELD_IOVA_BITS, 13, 63 },
    { VACCEL_FIELD_FAULT_TIMEOUT_MS, SPEC_LIMIT,
      VACCEL_FIELD_FAULT_TIMEOUT_MS, 1, 3600000 },
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const struct spec_key *find_key(const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcmp(keys[i].name, name))
            return &keys[i];
    return NULL;
}

/* Decimal, no sign, no leading zeros: the node format of accelif.h. */
static int parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;

    if (!*s || (s[0] == '0' && s[1]))
        return -EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return -ERANGE;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

/* Engine names are xenstore-safe words: letters, digits, '-', '_'. */
static bool engine_name_ok(const char *s)
{
    size_t n = strlen(s);

    return n > 0 && n < 32 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz"
                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

/* Domain names as xl allows them are too wide to check here: the lookup
 * decides.  Only what could never name a domain is refused. */
static bool domain_name_ok(const char *s)
{
    size_t n = strlen(s);

    return n > 0 && n < sizeof(((struct ctl_spec *)0)->backend) &&
           !strchr(s, '/');
}

static int add_param(struct ctl_spec *spec, const char *name,
                     const char *value)
{
    size_t used = strlen(spec->params);
    int n = snprintf(spec->params + used, sizeof(spec->params) - used,
                     "%s%s=%s", used ? VACCEL_LIST_SEPARATOR : "", name,
                     value);

    return n < 0 || (size_t)n >= sizeof(spec->params) - used ? -E2BIG : 0;
}

static int check_number(const struct spec_key *k, const char *value,
                        uint64_t *v, char *why, size_t whylen)
{
    int rc = parse_u64(value, v);

    if (rc == -EINVAL) {
        snprintf(why, whylen, "key '%s': '%s' is not a decimal number",
                 k->name, value);
        return -EINVAL;
    }
    if (rc || *v < k->min || *v > k->max) {
        snprintf(why, whylen, "key '%s': %s is not within %" PRIu64
                 "..%" PRIu64, k->name, value, k->min, k->max);
        return -EINVAL;
    }
    return 0;
}

/* The value of one key, checked; params keys are added to spec->params. */
static int apply(struct ctl_spec *spec, const struct spec_key *k,
                 const char *value, char *why, size_t whylen)
{
    uint64_t v;

    switch (k->kind) {
    case SPEC_BACKEND:
        if (!domain_name_ok(value)) {
            snprintf(why, whylen, "key 'backend': '%s' is not a domain "
                     "name or id", value);
            return -EINVAL;
        }
        snprintf(spec->backend, sizeof(spec->backend), "%s", value);
        return 0;
    case SPEC_DEVID:
        if (check_number(k, value, &v, why, whylen))
            return -EINVAL;
        spec->devid = (int)v;
        return 0;
    case SPEC_ENGINE:
        if (!engine_name_ok(value)) {
            snprintf(why, whylen, "key 'engine': '%s' is not an engine name",
                     value);
            return -EINVAL;
        }
        break;
    case SPEC_LIMIT:
        if (check_number(k, value, &v, why, whylen))
            return -EINVAL;
        break;
    }
    if (add_param(spec, k->param, value)) {
        snprintf(why, whylen, "key '%s': the entry is longer than %d bytes",
                 k->name, CTL_PARAMS_MAX - 1);
        return -EINVAL;
    }
    return 0;
}

/* A key given twice, or queues and multi-queue-max-queues both. */
static bool given_before(const struct spec_key **given, size_t n,
                         const struct spec_key *k)
{
    for (size_t i = 0; i < n; i++)
        if (given[i] == k || (k->param && given[i]->param &&
                              !strcmp(given[i]->param, k->param)))
            return true;
    return false;
}

/* Blanks around a pair are the admin's layout, as in xl's vif lists. */
static char *trim(char *s)
{
    char *end;

    s += strspn(s, " \t");
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
        *--end = '\0';
    return s;
}

static int parse_pair(struct ctl_spec *spec, char *kv,
                      const struct spec_key **given, size_t *ngiven,
                      char *why, size_t whylen)
{
    char *eq = strchr(kv, '=');
    const struct spec_key *k;

    if (!eq) {
        snprintf(why, whylen, "key '%s': no value (expected key=value)", kv);
        return -EINVAL;
    }
    *eq = '\0';
    k = find_key(kv);
    if (!k) {
        snprintf(why, whylen, "unknown key '%s'", kv);
        return -EINVAL;
    }
    if (given_before(given, *ngiven, k)) {
        snprintf(why, whylen, "key '%s' given twice", kv);
        return -EINVAL;
    }
    given[(*ngiven)++] = k;
    return apply(spec, k, eq + 1, why, whylen);
}

int ctl_spec_parse(const char *text, struct ctl_spec *spec, char *why,
                   size_t whylen)
{
    const struct spec_key *given[NKEYS];
    size_t ngiven = 0;
    char *copy, *kv, *next;
    int rc = 0;

    *spec = (struct ctl_spec){ .devid = -1 };
    copy = strdup(text);
    if (!copy) {
        snprintf(why, whylen, "%s", strerror(ENOMEM));
        return -ENOMEM;
    }
    /* An empty entry is a device with every default, as xl's vif = [ '' ]. */
    for (kv = copy; *copy && kv && !rc; kv = next) {
        next = strchr(kv, ',');
        if (next)
            *next++ = '\0';
        kv = trim(kv);
        if (!*kv) {
            snprintf(why, whylen, "an empty key=value between commas");
            rc = -EINVAL;
            break;
        }
        rc = parse_pair(spec, kv, given, &ngiven, why, whylen);
    }
    free(copy);
    return rc;
}
