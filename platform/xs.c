/* SPDX-License-Identifier: MIT */
/*
 * xs.c: the xenstore facility, libxenstore in both modes.
 *
 * On Xen, libxenstore reaches xenstored through its socket (dom0) or
 * /dev/xen/xenbus (a domU).  On the sim, `pvaccel-sim run` points
 * XENSTORED_PATH at the sim's xenstored socket and the same calls go there.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>

#include "platform/platform.h"

struct pva_xs {
    struct xs_handle *h;
};

struct pva_xs_txn {
    xs_transaction_t t;
};

static xs_transaction_t txn_id(const struct pva_xs_txn *t)
{
    return t ? t->t : XBT_NULL;
}

static struct pva_xs *lxs_open(struct pva_platform *p)
{
    /* On the sim, never fall back to a real /dev/xen/xenbus. */
    unsigned long flags = p->kind == PVA_PLATFORM_SIM ? XS_OPEN_SOCKETONLY : 0;
    struct pva_xs *x = calloc(1, sizeof(*x));

    if (!x)
        return NULL;
    x->h = xs_open(flags);
    if (!x->h) {
        int err = errno;

        free(x);
        errno = err;
        return NULL;
    }
    return x;
}

static void lxs_close(struct pva_xs *x)
{
    if (!x)
        return;
    xs_close(x->h);
    free(x);
}

static char *lxs_read(struct pva_xs *x, struct pva_xs_txn *t,
                      const char *path, unsigned int *len)
{
    unsigned int n = 0;
    char *v = xs_read(x->h, txn_id(t), path, &n);

    if (len)
        *len = n;
    return v;
}

static int lxs_write(struct pva_xs *x, struct pva_xs_txn *t, const char *path,
                     const void *data, unsigned int len)
{
    return xs_write(x->h, txn_id(t), path, data, len) ? 0 : -errno;
}

static int lxs_mkdir(struct pva_xs *x, struct pva_xs_txn *t, const char *path)
{
    return xs_mkdir(x->h, txn_id(t), path) ? 0 : -errno;
}

static int lxs_rm(struct pva_xs *x, struct pva_xs_txn *t, const char *path)
{
    return xs_rm(x->h, txn_id(t), path) ? 0 : -errno;
}

static char **lxs_directory(struct pva_xs *x, struct pva_xs_txn *t,
                            const char *path, unsigned int *n)
{
    return xs_directory(x->h, txn_id(t), path, n);
}

static struct pva_xs_acl *lxs_get_perms(struct pva_xs *x,
                                        struct pva_xs_txn *t,
                                        const char *path, unsigned int *n)
{
    struct xs_permissions *perms = xs_get_permissions(x->h, txn_id(t), path,
                                                      n);
    struct pva_xs_acl *acl;

    if (!perms)
        return NULL;
    acl = calloc(*n ? *n : 1, sizeof(*acl));
    if (acl)
        for (unsigned int i = 0; i < *n; i++) {
            acl[i].domid = (pva_domid_t)perms[i].id;
            acl[i].perm = (enum pva_xs_perm)(perms[i].perms &
                                             (XS_PERM_READ | XS_PERM_WRITE));
        }
    free(perms);
    return acl;
}

static int lxs_set_perms(struct pva_xs *x, struct pva_xs_txn *t,
                         const char *path, const struct pva_xs_acl *acl,
                         unsigned int n)
{
    struct xs_permissions *perms = calloc(n ? n : 1, sizeof(*perms));
    bool ok;

    if (!perms)
        return -ENOMEM;
    for (unsigned int i = 0; i < n; i++) {
        perms[i].id = acl[i].domid;
        perms[i].perms = (unsigned int)acl[i].perm;
    }
    ok = xs_set_permissions(x->h, txn_id(t), path, perms, n);
    if (!ok) {
        int err = -errno;

        free(perms);
        return err;
    }
    free(perms);
    return 0;
}

static int lxs_watch(struct pva_xs *x, const char *path, const char *token)
{
    return xs_watch(x->h, path, token) ? 0 : -errno;
}

static int lxs_unwatch(struct pva_xs *x, const char *path, const char *token)
{
    return xs_unwatch(x->h, path, token) ? 0 : -errno;
}

static int lxs_watch_fd(struct pva_xs *x)
{
    return xs_fileno(x->h);
}

static int lxs_read_watch(struct pva_xs *x, char **path, char **token)
{
    char **vec;

    errno = 0;
    vec = xs_check_watch(x->h);

    if (!vec)
        return errno ? -errno : -EAGAIN;
    *path = strdup(vec[XS_WATCH_PATH]);
    *token = strdup(vec[XS_WATCH_TOKEN]);
    free(vec);
    if (!*path || !*token) {
        free(*path);
        free(*token);
        return -ENOMEM;
    }
    return 0;
}

static struct pva_xs_txn *lxs_txn_start(struct pva_xs *x)
{
    struct pva_xs_txn *t = malloc(sizeof(*t));

    if (!t)
        return NULL;
    t->t = xs_transaction_start(x->h);
    if (t->t == XBT_NULL) {
        int err = errno;

        free(t);
        errno = err;
        return NULL;
    }
    return t;
}

static int lxs_txn_end(struct pva_xs *x, struct pva_xs_txn *t, bool abort)
{
    bool ok = xs_transaction_end(x->h, t->t, abort);
    int err = ok ? 0 : -errno;

    free(t);
    return err;
}

static int lxs_self_domid(struct pva_xs *x)
{
    char *end, *v = xs_read(x->h, XBT_NULL, "domid", NULL);
    long id;

    if (!v)
        return -errno;
    id = strtol(v, &end, 10);
    if (*end || id < 0 || id >= PVA_DOMID_SELF) {
        free(v);
        return -EPROTO;
    }
    free(v);
    return (int)id;
}

const struct pva_xs_ops pva_xs_libxenstore_ops = {
    .open = lxs_open,
    .close = lxs_close,
    .read = lxs_read,
    .write = lxs_write,
    .mkdir = lxs_mkdir,
    .rm = lxs_rm,
    .directory = lxs_directory,
    .get_perms = lxs_get_perms,
    .set_perms = lxs_set_perms,
    .watch = lxs_watch,
    .unwatch = lxs_unwatch,
    .watch_fd = lxs_watch_fd,
    .read_watch = lxs_read_watch,
    .txn_start = lxs_txn_start,
    .txn_end = lxs_txn_end,
    .self_domid = lxs_self_domid,
};
