/* SPDX-License-Identifier: MIT */
/*
 * ctl.h: the private interface between the files of pvaccel-ctl, the
 * dom0 toolstack of vaccel devices (docs/admin.md, "Devices of a domain").
 *
 * Layers, each calling only those below it (tests/layering.sh):
 *
 *   pvaccel-ctl.c    options, verbs, usage
 *   ctl-create.c     create: xl create around the domain's vaccel devices
 *   ctl-list.c       list: the devices of a domain, from xenstore
 *   ctl-stats.c      stats: pvacceld's counters for a domain
 *   ctl-json.c       JSON output and the admin socket's reply (libyajl)
 *   ctl-config.c     vaccel = [ ... ] of an xl config (libxlutil)
 *   ctl-spec.c       one vaccel entry, "key=value,...", checked
 *   ctl-device.c     a device's two xenstore directories: attach, detach
 *   ctl-domain.c     domains by name or id, alive or gone
 *   ctl-xs.c         xenstore helpers over the platform layer
 */
#ifndef PVACCEL_CTL_H
#define PVACCEL_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include "platform/platform.h"

/* The largest domid of a real domain (DOMID_FIRST_RESERVED - 1). */
#define CTL_DOMID_MAX 0x7fef
/* Device ids: the backend takes any uint16 (backend/xenbus.c). */
#define CTL_DEVID_MAX 0xffff

/* One session with xenstore: what every verb works through. */
struct ctl {
    const char *platform;   /* xen, sim, auto (NULL: $PVACCEL_PLATFORM) */
    struct pva_platform *p;
    struct pva_xs *xs;
    const char *rundir;     /* pvacceld's admin socket directory */
    bool json;              /* list, stats: JSON instead of text */
};

/* ---------------------------------------------------------- ctl-xs.c */

/* Open c->platform and its xenstore; a message on stderr on failure. */
int ctl_open(struct ctl *c);
void ctl_close(struct ctl *c);

/* DIR/NODE, or -ENAMETOOLONG. */
int ctl_path(char *buf, size_t len, const char *dir, const char *node);
/* The value of DIR/NODE (malloc()ed), or NULL with errno set. */
char *ctl_read(struct ctl *c, struct pva_xs_txn *t, const char *dir,
               const char *node);
/* DIR/NODE as a number in 0..INT32_MAX; @def if absent or malformed. */
long ctl_read_long(struct ctl *c, struct pva_xs_txn *t, const char *dir,
                   const char *node, long def);
int ctl_printf(struct ctl *c, struct pva_xs_txn *t, const char *dir,
               const char *node, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Run @fn in a transaction, again while it conflicts (-EAGAIN). */
int ctl_in_transaction(struct ctl *c,
                       int (*fn)(struct ctl *c, struct pva_xs_txn *t,
                                 void *arg),
                       void *arg);
/* Wait up to @ms for a watch event (any); -ETIMEDOUT, or < 0 on error. */
int ctl_wait_watch(struct ctl *c, long ms);

/* ------------------------------------------------------ ctl-domain.c */

/*
 * A domain by id ("5", taken as given) or by name ("guest1", the
 * /local/domain/N/name node, as xl names domains).  0 and *domid, or
 * -ENOENT with @why saying what was looked for.
 */
int ctl_domain_resolve(struct ctl *c, const char *name, int *domid,
                       char *why, size_t whylen);
/* The domain's /vm/<uuid> path (malloc()ed): what tells incarnations
 * of a domid apart.  NULL if the domain is gone. */
char *ctl_domain_vm(struct ctl *c, int domid);
/* The domain's name (malloc()ed), or NULL. */
char *ctl_domain_name(struct ctl *c, int domid);
/* @domid still names the domain whose vm path is @vm. */
bool ctl_domain_is(struct ctl *c, int domid, const char *vm);
/* Wait until @domid no longer names @vm (watching @releaseDomain). */
int ctl_domain_wait_gone(struct ctl *c, int domid, const char *vm);

/* ------------------------------------------------------ ctl-device.c */

/* "key=value,..." for the backend's params node. */
#define CTL_PARAMS_MAX 512

/* A vaccel device, as the toolstack writes it. */
struct ctl_dev {
    int fe, be, devid;
    char params[CTL_PARAMS_MAX];
    char fe_path[96];
    char be_path[96];
};

/* Fill in the two paths from fe, be and devid. */
void ctl_dev_paths(struct ctl_dev *dev);
/* Both directories, as libxl writes a PV device; -EEXIST if there. */
int ctl_dev_attach(struct ctl *c, struct ctl_dev *dev);
/*
 * online = 0 and Closing, the backend's Closed awaited (at most 10 s),
 * then both directories removed.  -ENOENT: no such device.  *close_err
 * is < 0 when the backend never answered (the device is removed anyway).
 */
int ctl_dev_detach(struct ctl *c, struct ctl_dev *dev, int *close_err);
/*
 * Remove both directories at once (the frontend's domain is gone or
 * never ran), and the backend's backend/vaccel/<fe> once it is empty.
 */
void ctl_dev_remove(struct ctl *c, const struct ctl_dev *dev);

/* -------------------------------------------------------- ctl-spec.c */

/* One entry before its domains are resolved. */
struct ctl_spec {
    char backend[64];       /* domain name or id; "" is dom0 */
    int devid;              /* -1: the next free one */
    char params[CTL_PARAMS_MAX];
};

/*
 * Parse one entry: "key=value,..." with the keys of docs/admin.md
 * ("Device entries").  On error returns -EINVAL and writes into @why a
 * message that names the key ("key 'queues': 99 is not within 1..64").
 */
int ctl_spec_parse(const char *text, struct ctl_spec *spec, char *why,
                   size_t whylen);

/* ------------------------------------------------------ ctl-config.c */

#define CTL_MAX_DEVICES 64

/* What pvaccel-ctl needs of a domain's xl config. */
struct ctl_config {
    char *name;                         /* the domain's name */
    unsigned int n;                     /* vaccel entries */
    struct ctl_dev dev[CTL_MAX_DEVICES];    /* fe not known yet: -1 */
};

/*
 * Read @file as xl does, the KEY=VALUE @extra lines after it (xl
 * create's command line), with libxlutil; take name and vaccel.  Every
 * entry is checked and its backend domain resolved; on any error
 * nothing is returned and the message (naming the file, the entry and
 * the key) is printed on stderr.
 */
int ctl_config_read(struct ctl *c, const char *file, char *const *extra,
                    int nextra, struct ctl_config *cfg);
void ctl_config_free(struct ctl_config *cfg);
/* Resolve one entry given on the command line (attach DOMAIN SPEC). */
int ctl_config_entry(struct ctl *c, const char *what, const char *text,
                     struct ctl_dev *dev);

/* -------------------------------------------------------- ctl-json.c */

struct yajl_val_s;

/* pvacceld's statistics, parsed; NULL with a message on stderr. */
struct yajl_val_s *ctl_json_backend_stats(const char *rundir);
void ctl_json_free(struct yajl_val_s *v);

struct ctl_json;
struct ctl_json *ctl_json_new(void);
void ctl_json_map_open(struct ctl_json *j);
void ctl_json_map_close(struct ctl_json *j);
void ctl_json_array_open(struct ctl_json *j);
void ctl_json_array_close(struct ctl_json *j);
void ctl_json_key(struct ctl_json *j, const char *key);
void ctl_json_string(struct ctl_json *j, const char *s);  /* NULL: null */
void ctl_json_int(struct ctl_json *j, long long v);
void ctl_json_null(struct ctl_json *j);
/* Copy a parsed value through unchanged (numbers keep their text). */
void ctl_json_value(struct ctl_json *j, struct yajl_val_s *v);
/* Print the document and a newline on stdout, free @j; -EIO on error. */
int ctl_json_print(struct ctl_json *j);

/* ------------------------------------------------------------- verbs */

int ctl_cmd_list(struct ctl *c, int domid);
int ctl_cmd_stats(struct ctl *c, int domid);

struct ctl_create_opts {
    const char *file;
    char *const *extra;     /* KEY=VALUE lines for the config */
    int nextra;
    const char *xl;         /* the xl program */
    const char *log;        /* the monitor's log; NULL: the default */
    bool paused, foreground, dry_run;
};

int ctl_cmd_create(struct ctl *c, const struct ctl_create_opts *o);

#endif /* PVACCEL_CTL_H */
