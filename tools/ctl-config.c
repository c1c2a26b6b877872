/* SPDX-License-Identifier: MIT */
/*
 * ctl-config.c: what pvaccel-ctl reads of a domain's xl config, with
 * Xen's own parser (libxlutil): the domain's name, and its
 *
 *   vaccel = [ 'backend=0,queues=2,engine=cpu,max-in-flight=256', ... ]
 *
 * list, one device per entry (ctl-spec.c checks each).  The config is
 * read as xl create reads it: the file, then each KEY=VALUE of the
 * command line as one more line (xl's "extra config"), parsed with
 * xlu_cfg_readdata.  Every entry is checked and its backend domain
 * resolved before anything is created: a bad entry names the file, the
 * entry and the key, and nothing happens.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxlutil.h>

#include "tools/ctl.h"

/* xl reads the whole file into memory too (libxl_read_file_contents). */
#define CONFIG_MAX (1 << 20)

static char *read_text(const char *file, char *const *extra, int nextra,
                       int *len)
{
    FILE *f = fopen(file, "r");
    size_t n = 0, cap = 4096;
    char *buf = f ? malloc(cap) : NULL;

    while (buf && !ferror(f) && !feof(f) && n < CONFIG_MAX) {
        if (cap - n < 2048) {
            char *more = realloc(buf, cap *= 2);

            if (!more)
                break;
            buf = more;
        }
        n += fread(buf + n, 1, cap - n - 1, f);
    }
    if (!buf || !f || ferror(f) || !feof(f)) {
        int err = !f ? errno : !buf ? ENOMEM : n >= CONFIG_MAX ? EFBIG : EIO;

        fprintf(stderr, "pvaccel-ctl: %s: cannot read: %s\n", file,
                strerror(err));
        free(buf);
        if (f)
            fclose(f);
        return NULL;
    }
    fclose(f);
    for (int i = 0; i < nextra; i++) {
        size_t add = strlen(extra[i]) + 2;
        char *more = realloc(buf, n + add + 1);

        if (!more) {
            free(buf);
            return NULL;
        }
        buf = more;
        n += (size_t)sprintf(buf + n, "\n%s\n", extra[i]);
    }
    buf[n] = '\0';
    *len = (int)n;
    return buf;
}

/* The lowest device id no entry has (yet). */
static int free_devid(const struct ctl_config *cfg)
{
    for (int id = 0; id <= CTL_DEVID_MAX; id++) {
        bool used = false;

        for (unsigned int i = 0; !used && i < cfg->n; i++)
            used = cfg->dev[i].devid == id;
        if (!used)
            return id;
    }
    return -1;
}

/* Turn one checked entry into a device: backend domain, device id. */
static int spec_to_dev(struct ctl *c, const struct ctl_spec *spec,
                       struct ctl_dev *dev, char *why, size_t whylen)
{
    char sub[128];

    *dev = (struct ctl_dev){ .fe = -1, .be = 0, .devid = spec->devid };
    snprintf(dev->params, sizeof(dev->params), "%s", spec->params);
    if (spec->backend[0] &&
        ctl_domain_resolve(c, spec->backend, &dev->be, sub, sizeof(sub))) {
        snprintf(why, whylen, "key 'backend': %s", sub);
        return -ENOENT;
    }
    return 0;
}

static int entry_error(const char *file, int i, const char *text,
                       const char *why)
{
    fprintf(stderr, "pvaccel-ctl: %s: vaccel entry %d ('%s'): %s\n", file,
            i + 1, text, why);
    return -EINVAL;
}

/* Explicit devids first, so that an entry without one never takes it. */
static int take_devids(const char *file, XLU_ConfigList *list,
                       struct ctl_config *cfg)
{
    for (unsigned int i = 0; i < cfg->n; i++)
        for (unsigned int j = 0; cfg->dev[i].devid >= 0 && j < i; j++)
            if (cfg->dev[j].devid == cfg->dev[i].devid) {
                char why[96];

                snprintf(why, sizeof(why), "key 'devid': device %d is "
                         "entry %u's", cfg->dev[i].devid, j + 1);
                return entry_error(file, (int)i,
                                   xlu_cfg_get_listitem(list, (int)i), why);
            }
    for (unsigned int i = 0; i < cfg->n; i++)
        if (cfg->dev[i].devid < 0)
            cfg->dev[i].devid = free_devid(cfg);
    return 0;
}

static int read_devices(struct ctl *c, const char *file, XLU_Config *x,
                        struct ctl_config *cfg)
{
    XLU_ConfigList *list;
    int n = 0, rc;

    rc = xlu_cfg_get_list(x, "vaccel", &list, &n, 1);
    if (rc == ESRCH)
        return 0;                       /* no vaccel devices */
    if (rc) {
        fprintf(stderr, "pvaccel-ctl: %s: vaccel must be a list: "
                "vaccel = [ '...', ... ]\n", file);
        return -EINVAL;
    }
    if (n > CTL_MAX_DEVICES) {
        fprintf(stderr, "pvaccel-ctl: %s: %d vaccel entries, at most %d\n",
                file, n, CTL_MAX_DEVICES);
        return -EINVAL;
    }
    for (int i = 0; i < n; i++) {
        const char *text = xlu_cfg_get_listitem(list, i);
        struct ctl_spec spec;
        char why[256];

        if (!text) {
            fprintf(stderr, "pvaccel-ctl: %s: vaccel entry %d is not a "
                    "string\n", file, i + 1);
            return -EINVAL;
        }
        if (ctl_spec_parse(text, &spec, why, sizeof(why)) ||
            spec_to_dev(c, &spec, &cfg->dev[i], why, sizeof(why)))
            return entry_error(file, i, text, why);
        cfg->n = (unsigned int)i + 1;
    }
    return take_devids(file, list, cfg);
}

int ctl_config_read(struct ctl *c, const char *file, char *const *extra,
                    int nextra, struct ctl_config *cfg)
{
    XLU_Config *x;
    const char *name;
    char *text;
    int len = 0, rc;

    memset(cfg, 0, sizeof(*cfg));
    text = read_text(file, extra, nextra, &len);
    if (!text)
        return -EIO;
    /* Syntax errors: libxlutil prints FILE:LINE and what it expected. */
    x = xlu_cfg_init(stderr, file);
    rc = !x ? ENOMEM : xlu_cfg_readdata(x, text, len);
    free(text);
    if (rc) {
        fprintf(stderr, "pvaccel-ctl: %s: not a valid xl config (%s)\n",
                file, strerror(rc));
        if (x)
            xlu_cfg_destroy(x);
        return -EINVAL;
    }
    if (xlu_cfg_get_string(x, "name", &name, 1) || !*name) {
        fprintf(stderr, "pvaccel-ctl: %s: no domain name (name = \"...\")\n",
                file);
        rc = -EINVAL;
    } else if (!(cfg->name = strdup(name))) {
        rc = -ENOMEM;
    } else {
        rc = read_devices(c, file, x, cfg);
    }
    xlu_cfg_destroy(x);
    if (rc)
        ctl_config_free(cfg);
    return rc;
}

void ctl_config_free(struct ctl_config *cfg)
{
    free(cfg->name);
    cfg->name = NULL;
    cfg->n = 0;
}

int ctl_config_entry(struct ctl *c, const char *what, const char *text,
                     struct ctl_dev *dev)
{
    struct ctl_spec spec;
    char why[256];

    if (ctl_spec_parse(text, &spec, why, sizeof(why)) ||
        spec_to_dev(c, &spec, dev, why, sizeof(why))) {
        fprintf(stderr, "pvaccel-ctl: %s ('%s'): %s\n", what, text, why);
        return -EINVAL;
    }
    return 0;
}
