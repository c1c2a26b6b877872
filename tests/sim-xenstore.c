/* SPDX-License-Identifier: MIT */
/*
 * sim-xenstore: the sim's xenstored against the real libxenstore.
 *
 * A private sim with dom0 and two domUs (A and B).  Each check runs in a
 * child process that belongs to the domain it speaks for, so the daemon
 * sees real peer identities.  Where a check needs "no event arrived", the
 * watcher also watches a sentinel node and the next event must be the
 * sentinel's: no sleeps anywhere.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xenstore.h>
#include <xen/io/xs_wire.h>

#include "tests/testlib.h"

static struct pvt_sim sim;
static int dom_a, dom_b;

/* A hung daemon must fail the test, not hang it. */
#define CHILD_TIMEOUT 60

/* --- helpers ------------------------------------------------------------ */

static struct xs_handle *xopen(void)
{
    struct xs_handle *h;

    alarm(CHILD_TIMEOUT);
    h = xs_open(0);
    PVT_CHECK_MSG(h != NULL, "xs_open: %s", strerror(errno));
    if (!h)
        _exit(1);
    return h;
}

/* Read @path; returns the value (caller frees) or NULL with errno. */
static char *xread(struct xs_handle *h, xs_transaction_t t, const char *path)
{
    unsigned int len;

    return xs_read(h, t, path, &len);
}

static bool xwrite(struct xs_handle *h, xs_transaction_t t, const char *path,
                   const char *val)
{
    return xs_write(h, t, path, val, (unsigned int)strlen(val));
}

/* Expect @path to read as @want (or to fail with @want_errno if NULL). */
static void check_read(struct xs_handle *h, xs_transaction_t t,
                       const char *path, const char *want, int want_errno)
{
    char *v;

    errno = 0;
    v = xread(h, t, path);
    if (want)
        PVT_CHECK_MSG(v && !strcmp(v, want), "read %s = \"%s\" (want %s)",
                      path, v ? v : strerror(errno), want);
    else
        PVT_CHECK_MSG(!v && errno == want_errno, "read %s fails: %s (want %s)",
                      path, v ? v : strerror(errno), strerror(want_errno));
    free(v);
}

static void check_write_fails(struct xs_handle *h, const char *path,
                              const char *val, int want_errno)
{
    bool ok;

    errno = 0;
    ok = xwrite(h, XBT_NULL, path, val);
    PVT_CHECK_MSG(!ok && errno == want_errno, "write %s fails: %s (want %s)",
                  path, ok ? "succeeded" : strerror(errno),
                  strerror(want_errno));
}

/* Wait for the next event and check it. */
static void expect_event(struct xs_handle *h, const char *path,
                         const char *token)
{
    unsigned int n;
    char **ev = xs_read_watch(h, &n);

    PVT_CHECK_MSG(ev && !strcmp(ev[XS_WATCH_PATH], path) &&
                      !strcmp(ev[XS_WATCH_TOKEN], token),
                  "event %s %s (want %s %s)", ev ? ev[XS_WATCH_PATH] : "-",
                  ev ? ev[XS_WATCH_TOKEN] : "-", path, token);
    free(ev);
}

/* The next event must be the sentinel's: nothing else was queued before. */
static void expect_quiet(struct xs_handle *h, const char *sentinel)
{
    PVT_CHECK(xwrite(h, XBT_NULL, sentinel, "x"));
    expect_event(h, sentinel, "sentinel");
}

static void path_of(char *buf, size_t len, int domid, const char *rel)
{
    snprintf(buf, len, "/local/domain/%d%s%s", domid, *rel ? "/" : "", rel);
}

static int run_in(int domid, int (*fn)(void *), void *arg)
{
    pid_t pid = pvt_sim_spawn(&sim, domid, fn, arg);

    PVT_CHECK_MSG(pid > 0, "spawn in dom%d", domid);
    return pid > 0 ? pvt_wait(pid) : -1;
}

/* --- basic operations ---------------------------------------------------- */

static void check_dir(struct xs_handle *h, const char *path,
                      const char *const *want, unsigned int nwant)
{
    unsigned int n, i;
    char **d = xs_directory(h, XBT_NULL, path, &n);

    PVT_CHECK_MSG(d && n == nwant, "ls %s: %u entries (want %u)", path,
                  d ? n : 0, nwant);
    for (i = 0; d && i < n && i < nwant; i++)
        PVT_EQ_STR(d[i], want[i]);
    free(d);
}

static int basic_ops(void *arg)
{
    static const char *const kids[] = { "b", "c" };
    static const char bin[] = { 'a', 0, 'b', 0, 0 };
    struct xs_handle *h = xopen();
    unsigned int len, i, n;
    char *v, **d, name[64];

    (void)arg;
    /* Writes create missing parents; directory lists in creation order. */
    PVT_CHECK(xwrite(h, XBT_NULL, "/basic/a/b", "1"));
    PVT_CHECK(xwrite(h, XBT_NULL, "/basic/a/c", "2"));
    check_read(h, XBT_NULL, "/basic/a/b", "1", 0);
    check_read(h, XBT_NULL, "/basic/a", "", 0);
    check_dir(h, "/basic/a", kids, 2);
    /* Binary data round-trips, NULs included. */
    PVT_CHECK(xs_write(h, XBT_NULL, "/basic/bin", bin, sizeof(bin)));
    v = xs_read(h, XBT_NULL, "/basic/bin", &len);
    PVT_CHECK(v && len == sizeof(bin) && !memcmp(v, bin, len));
    free(v);
    /* mkdir: creates, and is fine on an existing node. */
    PVT_CHECK(xs_mkdir(h, XBT_NULL, "/basic/dir/sub"));
    PVT_CHECK(xs_mkdir(h, XBT_NULL, "/basic/dir"));
    check_read(h, XBT_NULL, "/basic/dir/sub", "", 0);
    /* rm takes the subtree; rm of a missing node with a parent is fine. */
    PVT_CHECK(xs_rm(h, XBT_NULL, "/basic/a"));
    check_read(h, XBT_NULL, "/basic/a/b", NULL, ENOENT);
    check_read(h, XBT_NULL, "/basic/a", NULL, ENOENT);
    PVT_CHECK(xs_rm(h, XBT_NULL, "/basic/a"));
    errno = 0;
    PVT_CHECK(!xs_rm(h, XBT_NULL, "/basic/nope/deeper") && errno == ENOENT);
    errno = 0;
    PVT_CHECK(!xs_rm(h, XBT_NULL, "/") && errno == EINVAL);
    /* Relative paths resolve under the caller's home. */
    PVT_CHECK(xwrite(h, XBT_NULL, "rel", "home"));
    check_read(h, XBT_NULL, "/local/domain/0/rel", "home", 0);
    v = xs_get_domain_path(h, 7);
    PVT_EQ_STR(v, "/local/domain/7");
    free(v);
    /* Invalid names. */
    check_write_fails(h, "/basic//x", "1", EINVAL);
    check_write_fails(h, "/basic/x/", "1", EINVAL);
    check_write_fails(h, "/basic/x y", "1", EINVAL);
    check_write_fails(h, "@special", "1", EINVAL);
    check_read(h, XBT_NULL, "/no/such/node", NULL, ENOENT);
    /* A listing bigger than one message goes through DIRECTORY_PART. */
    for (i = 0; i < 120; i++) {
        snprintf(name, sizeof(name), "/big/%.50u", i);
        PVT_CHECK(xwrite(h, XBT_NULL, name, ""));
    }
    d = xs_directory(h, XBT_NULL, "/big", &n);
    PVT_CHECK_MSG(d && n == 120, "big directory: %u entries", d ? n : 0);
    free(d);
    /* The dom0 skeleton exists and is dom0's. */
    check_read(h, XBT_NULL, "/local/domain/0/name", "Domain-0", 0);
    xs_close(h);
    return 0;
}

/* --- permissions ----------------------------------------------------------- */

static void check_perms(struct xs_handle *h, const char *path,
                        const char *want)
{
    unsigned int n, i;
    struct xs_permissions *p = xs_get_permissions(h, XBT_NULL, path, &n);
    char got[128] = "", one[24];

    for (i = 0; p && i < n && i < 4; i++) {
        snprintf(one, sizeof(one), "%s%c%u", i ? "," : "",
                 "nrwb"[p[i].perms & 3], p[i].id);
        strcat(got, one);
    }
    PVT_CHECK_MSG(p && !strcmp(got, want), "perms %s = %s (want %s)", path,
                  p ? got : strerror(errno), want);
    free(p);
}

static int perms_domu_a(void *arg)
{
    struct xs_handle *h = xopen();
    struct xs_permissions p[6];
    char path[128], want[64];
    unsigned int i;

    (void)arg;
    /* Its own device dir is read-only to it; another domain's is hidden. */
    path_of(path, sizeof(path), dom_a, "device");
    check_read(h, XBT_NULL, path, "", 0);
    check_write_fails(h, "device/x", "1", EACCES);
    path_of(path, sizeof(path), dom_b, "device");
    check_read(h, XBT_NULL, path, NULL, EACCES);
    path_of(path, sizeof(path), dom_b, "device/nope");
    check_read(h, XBT_NULL, path, NULL, EACCES); /* not ENOENT: no leak */
    check_read(h, XBT_NULL, "/local/domain/0/name", NULL, EACCES);
    check_write_fails(h, "/foo", "1", EACCES);
    /* What it creates it owns, with the parent's other entries. */
    PVT_CHECK(xwrite(h, XBT_NULL, "data/mine/x", "1"));
    path_of(path, sizeof(path), dom_a, "data/mine/x");
    snprintf(want, sizeof(want), "n%d", dom_a);
    check_perms(h, path, want);
    /* The owner may share with B... */
    p[0].id = (unsigned int)dom_a;
    p[0].perms = XS_PERM_NONE;
    p[1].id = (unsigned int)dom_b;
    p[1].perms = XS_PERM_READ;
    PVT_CHECK(xs_set_permissions(h, XBT_NULL, "data/mine/x", p, 2));
    snprintf(want, sizeof(want), "n%d,r%d", dom_a, dom_b);
    check_perms(h, path, want);
    /* ...but not give the node away, nor touch nodes it does not own. */
    p[0].id = (unsigned int)dom_b;
    errno = 0;
    PVT_CHECK(!xs_set_permissions(h, XBT_NULL, "data/mine/x", p, 2) &&
              errno == EPERM);
    p[0].id = (unsigned int)dom_a;
    errno = 0;
    PVT_CHECK(!xs_set_permissions(h, XBT_NULL, "device", p, 1) &&
              errno == EACCES);
    /* More than 5 entries is over quota. */
    for (i = 0; i < 6; i++) {
        p[i].id = (unsigned int)dom_a;
        p[i].perms = XS_PERM_READ;
    }
    errno = 0;
    PVT_CHECK(!xs_set_permissions(h, XBT_NULL, "data/mine/x", p, 6) &&
              errno == ENOSPC);
    /* Privileged operations are refused. */
    errno = 0;
    PVT_CHECK(!xs_introduce_domain(h, 99, 0, 0) && errno == EACCES);
    errno = 0;
    PVT_CHECK(!xs_release_domain(h, (unsigned int)dom_b) && errno == EACCES);
    xs_close(h);
    return 0;
}

static int perms_domu_b(void *arg)
{
    struct xs_handle *h = xopen();
    char path[128];

    (void)arg;
    path_of(path, sizeof(path), dom_a, "data/mine/x");
    check_read(h, XBT_NULL, path, "1", 0);   /* shared read */
    check_write_fails(h, path, "2", EACCES); /* but not write */
    path_of(path, sizeof(path), dom_a, "data/mine");
    check_read(h, XBT_NULL, path, NULL, EACCES);
    xs_close(h);
    return 0;
}

static int perms_dom0(void *arg)
{
    struct xs_handle *h = xopen();
    char path[128];
    struct xs_permissions p[1] = { { .id = 0, .perms = XS_PERM_NONE } };

    (void)arg;
    /* dom0 reads and rewrites anything, including domU-owned nodes. */
    path_of(path, sizeof(path), dom_a, "data/mine/x");
    check_read(h, XBT_NULL, path, "1", 0);
    PVT_CHECK(xwrite(h, XBT_NULL, path, "from dom0"));
    PVT_CHECK(xs_set_permissions(h, XBT_NULL, path, p, 1));
    check_perms(h, path, "n0");
    xs_close(h);
    return 0;
}

/* --- watches --------------------------------------------------------------- */

static int watches_dom0(void *arg)
{
    struct xs_handle *h = xopen();

    (void)arg;
    PVT_CHECK(xs_watch(h, "/sentinel0", "sentinel"));
    expect_event(h, "/sentinel0", "sentinel");
    /* Fires once when set, even for a node that does not exist. */
    PVT_CHECK(xs_watch(h, "/w", "tok"));
    expect_event(h, "/w", "tok");
    /* On the node and anything below. */
    PVT_CHECK(xwrite(h, XBT_NULL, "/w/a/b", "1"));
    expect_event(h, "/w/a/b", "tok");
    PVT_CHECK(xwrite(h, XBT_NULL, "/w", "2"));
    expect_event(h, "/w", "tok");
    /* Not for siblings that merely share a prefix. */
    PVT_CHECK(xwrite(h, XBT_NULL, "/wx", "1"));
    expect_quiet(h, "/sentinel0");
    /* rm fires for watches inside the removed subtree too. */
    PVT_CHECK(xs_watch(h, "/w/a/b", "deep"));
    expect_event(h, "/w/a/b", "deep");
    PVT_CHECK(xs_rm(h, XBT_NULL, "/w/a"));
    {
        unsigned int n, got = 0, i;

        for (i = 0; i < 2; i++) {
            char **ev = xs_read_watch(h, &n);

            if (ev && !strcmp(ev[XS_WATCH_TOKEN], "deep") &&
                !strcmp(ev[XS_WATCH_PATH], "/w/a/b"))
                got |= 1;
            if (ev && !strcmp(ev[XS_WATCH_TOKEN], "tok") &&
                !strcmp(ev[XS_WATCH_PATH], "/w/a"))
                got |= 2;
            free(ev);
        }
        PVT_EQ_INT(got, 3);
    }
    /* Unwatched: silence. */
    PVT_CHECK(xs_unwatch(h, "/w", "tok"));
    PVT_CHECK(xs_unwatch(h, "/w/a/b", "deep"));
    errno = 0;
    PVT_CHECK(!xs_unwatch(h, "/w", "tok") && errno == ENOENT);
    PVT_CHECK(xwrite(h, XBT_NULL, "/w/c", "1"));
    expect_quiet(h, "/sentinel0");
    /* Duplicate (path, token) is EEXIST; permissions changes fire. */
    PVT_CHECK(xs_watch(h, "/w", "tok"));
    expect_event(h, "/w", "tok");
    errno = 0;
    PVT_CHECK(!xs_watch(h, "/w", "tok") && errno == EEXIST);
    {
        struct xs_permissions p = { .id = 0, .perms = XS_PERM_READ };

        PVT_CHECK(xs_set_permissions(h, XBT_NULL, "/w/c", &p, 1));
        expect_event(h, "/w/c", "tok");
    }
    xs_close(h);
    return 0;
}

struct watch_peer {
    struct pvt_chan go;   /* parent -> B: A has written */
    struct pvt_chan ready; /* B -> parent: watching */
};

/* B watches A's data dir, which it may not read: it must hear nothing. */
static int watches_domu_b(void *arg)
{
    struct watch_peer *wp = arg;
    struct xs_handle *h = xopen();
    char path[128];
    uint32_t v;

    path_of(path, sizeof(path), dom_a, "data");
    PVT_CHECK(xs_watch(h, "data/sentinel", "sentinel"));
    expect_event(h, "data/sentinel", "sentinel");
    PVT_CHECK(xs_watch(h, path, "other"));
    expect_event(h, path, "other"); /* the initial event is always sent */
    /* @releaseDomain is for privileged watchers unless dom0 shares it. */
    PVT_CHECK(xs_watch(h, "@releaseDomain", "rel"));
    expect_event(h, "@releaseDomain", "rel");
    pvt_chan_send(&wp->ready, 1);
    PVT_EQ_INT(pvt_chan_recv(&wp->go, &v), 0);
    expect_quiet(h, "data/sentinel");
    xs_close(h);
    return 0;
}

/* A: relative watch paths give relative event paths. */
static int watches_domu_a(void *arg)
{
    struct xs_handle *h = xopen();

    (void)arg;
    PVT_CHECK(xs_watch(h, "data", "rel"));
    expect_event(h, "data", "rel");
    PVT_CHECK(xwrite(h, XBT_NULL, "data/y", "1"));
    expect_event(h, "data/y", "rel");
    PVT_CHECK(xwrite(h, XBT_NULL, "data/secret", "s"));
    expect_event(h, "data/secret", "rel");
    xs_close(h);
    return 0;
}

/* --- transactions ----------------------------------------------------------- */

static int transactions(void *arg)
{
    struct xs_handle *h = xopen(), *h2 = xopen();
    xs_transaction_t t, t2;
    unsigned int i;

    (void)arg;
    PVT_CHECK(xs_watch(h2, "/tx", "tx"));
    expect_event(h2, "/tx", "tx");
    /*
     * The sentinel exists before the transactions start: creating it
     * changes "/", which a transaction creating /tx depends on.
     */
    PVT_CHECK(xwrite(h2, XBT_NULL, "/sentinel-tx", ""));
    PVT_CHECK(xs_watch(h2, "/sentinel-tx", "sentinel"));
    expect_event(h2, "/sentinel-tx", "sentinel");

    /* Writes are private until commit; watches fire at commit. */
    t = xs_transaction_start(h);
    PVT_CHECK(t != XBT_NULL);
    PVT_CHECK(xwrite(h, t, "/tx/a", "1"));
    check_read(h, t, "/tx/a", "1", 0);
    check_read(h, XBT_NULL, "/tx/a", NULL, ENOENT);
    expect_quiet(h2, "/sentinel-tx");
    PVT_CHECK(xs_transaction_end(h, t, false));
    check_read(h, XBT_NULL, "/tx/a", "1", 0);
    expect_event(h2, "/tx/a", "tx");

    /* Abort: no trace, no event. */
    t = xs_transaction_start(h);
    PVT_CHECK(xwrite(h, t, "/tx/b", "1"));
    PVT_CHECK(xs_rm(h, t, "/tx/a"));
    PVT_CHECK(xs_transaction_end(h, t, true));
    check_read(h, XBT_NULL, "/tx/b", NULL, ENOENT);
    check_read(h, XBT_NULL, "/tx/a", "1", 0);
    expect_quiet(h2, "/sentinel-tx");

    /* Conflict: a node read inside changed outside -> EAGAIN, no writes. */
    t = xs_transaction_start(h);
    check_read(h, t, "/tx/a", "1", 0);
    PVT_CHECK(xwrite(h, t, "/tx/c", "1"));
    PVT_CHECK(xwrite(h2, XBT_NULL, "/tx/a", "outside"));
    expect_event(h2, "/tx/a", "tx");
    errno = 0;
    PVT_CHECK(!xs_transaction_end(h, t, false) && errno == EAGAIN);
    check_read(h, XBT_NULL, "/tx/c", NULL, ENOENT);
    expect_quiet(h2, "/sentinel-tx");

    /* Two transactions creating siblings conflict on the parent. */
    t = xs_transaction_start(h);
    t2 = xs_transaction_start(h2);
    PVT_CHECK(xwrite(h, t, "/tx/d1", "1"));
    PVT_CHECK(xwrite(h2, t2, "/tx/d2", "1"));
    PVT_CHECK(xs_transaction_end(h, t, false));
    errno = 0;
    PVT_CHECK(!xs_transaction_end(h2, t2, false) && errno == EAGAIN);
    expect_event(h2, "/tx/d1", "tx");
    check_read(h, XBT_NULL, "/tx/d2", NULL, ENOENT);

    /* rm and directory inside a transaction. */
    t = xs_transaction_start(h);
    PVT_CHECK(xs_rm(h, t, "/tx"));
    check_read(h, t, "/tx/a", NULL, ENOENT);
    check_read(h, XBT_NULL, "/tx/a", "outside", 0);
    PVT_CHECK(xs_transaction_end(h, t, false));
    check_read(h, XBT_NULL, "/tx", NULL, ENOENT);
    expect_event(h2, "/tx", "tx");
    xs_close(h2);

    /* dom0 may hold more than 10 transactions. */
    for (i = 0; i < 12; i++) {
        t = xs_transaction_start(h);
        PVT_CHECK(t != XBT_NULL);
    }
    xs_close(h);
    return 0;
}

/* --- quotas ------------------------------------------------------------------ */

static int quotas_domu(void *arg)
{
    struct xs_handle *h = xopen();
    xs_transaction_t t[11];
    char path[4096], big[2100];
    unsigned int i, n;
    bool ok;

    (void)arg;
    /*
     * Nodes per domain: 1000, counting the skeleton nodes it owns.  (At
     * most 100 per directory: a node's child list counts against the
     * entry size quota.)
     */
    for (i = 0, ok = true; ok && i < 1100; i++) {
        snprintf(path, sizeof(path), "data/q/%u/%u", i / 100, i % 100);
        errno = 0;
        ok = xwrite(h, XBT_NULL, path, "");
    }
    PVT_CHECK_MSG(!ok && errno == ENOSPC && i > 900 && i < 990,
                  "node quota after %u writes: %s", i, strerror(errno));
    PVT_CHECK(xs_rm(h, XBT_NULL, "data/q"));
    PVT_CHECK(xwrite(h, XBT_NULL, "data/q/again", ""));

    /* Entry size: 2048 bytes of record, data included. */
    memset(big, 'x', sizeof(big));
    big[2000] = '\0';
    PVT_CHECK(xwrite(h, XBT_NULL, "data/big", big));
    big[2000] = 'x';
    big[sizeof(big) - 1] = '\0';
    check_write_fails(h, "data/big", big, ENOSPC);

    /* Watches: 128 per domain (C xenstored lets a 129th in), then E2BIG. */
    for (i = 0, ok = true; ok && i < 200; i++) {
        snprintf(path, sizeof(path), "%u", i);
        errno = 0;
        ok = xs_watch(h, "data/w", path);
    }
    PVT_CHECK_MSG(!ok && errno == E2BIG && i == 130,
                  "watch quota after %u: %s", i, strerror(errno));

    /* Transactions: 10 per connection (C lets an 11th in), then ENOSPC. */
    for (i = 0; i < 11; i++) {
        t[i] = xs_transaction_start(h);
        PVT_CHECK(t[i] != XBT_NULL);
    }
    errno = 0;
    PVT_CHECK(xs_transaction_start(h) == XBT_NULL && errno == ENOSPC);

    /* Nodes touched by one transaction: 1024. */
    for (i = 0, ok = true; ok && i < 1100; i++) {
        char *v;

        snprintf(path, sizeof(path), "data/t%u", i);
        errno = 0;
        v = xread(h, t[0], path);
        ok = v || errno == ENOENT;
        free(v);
    }
    PVT_CHECK_MSG(!ok && errno == ENOSPC, "txn node quota after %u: %s", i,
                  strerror(errno));
    for (i = 0; i < 11; i++)
        xs_transaction_end(h, t[i], true);

    /* Path length below the home: 2048. */
    strcpy(path, "data/");
    for (n = (unsigned int)strlen(path); n < 2100; n++)
        path[n] = (n % 64) ? 'p' : '/';
    path[n] = '\0';
    check_write_fails(h, path, "1", EINVAL);
    xs_close(h);
    return 0;
}

/* dom0 is exempt from every quota above. */
static int quotas_dom0(void *arg)
{
    struct xs_handle *h = xopen();
    char path[64], big[3000];
    unsigned int i;
    bool ok = true;

    (void)arg;
    for (i = 0; ok && i < 1100; i++) {
        snprintf(path, sizeof(path), "/q0/%u", i);
        ok = xwrite(h, XBT_NULL, path, "");
    }
    PVT_CHECK_MSG(ok, "dom0 wrote %u nodes", i);
    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    PVT_CHECK(xwrite(h, XBT_NULL, "/q0/big", big));
    for (i = 0; ok && i < 150; i++) {
        snprintf(path, sizeof(path), "%u", i);
        ok = xs_watch(h, "/q0/w", path);
    }
    PVT_CHECK_MSG(ok, "dom0 set %u watches", i);
    PVT_CHECK(xs_rm(h, XBT_NULL, "/q0"));
    xs_close(h);
    return 0;
}

/* --- domain lifecycle --------------------------------------------------------- */

struct lifecycle {
    struct pvt_chan ready, go;
    int domid;
};

static int release_watcher(void *arg)
{
    struct lifecycle *lc = arg;
    struct xs_handle *h = xopen();
    char path[64];
    uint32_t v;

    PVT_CHECK(xs_watch(h, "@introduceDomain", "intro"));
    expect_event(h, "@introduceDomain", "intro");
    PVT_CHECK(xs_watch(h, "@releaseDomain", "rel"));
    expect_event(h, "@releaseDomain", "rel");
    pvt_chan_send(&lc->ready, 1);
    /* The parent creates a domain: @introduceDomain. */
    expect_event(h, "@introduceDomain", "intro");
    pvt_chan_send(&lc->ready, 2);
    PVT_EQ_INT(pvt_chan_recv(&lc->go, &v), 0);
    /* Its only process exits: @releaseDomain, home removed. */
    PVT_CHECK(xs_unwatch(h, "@introduceDomain", "intro"));
    expect_event(h, "@releaseDomain", "rel");
    path_of(path, sizeof(path), (int)v, "");
    check_read(h, XBT_NULL, path, NULL, ENOENT);
    path_of(path, sizeof(path), (int)v, "data/alive");
    check_read(h, XBT_NULL, path, NULL, ENOENT);
    xs_close(h);
    return 0;
}

static int short_lived(void *arg)
{
    struct xs_handle *h = xopen();

    (void)arg;
    PVT_CHECK(xwrite(h, XBT_NULL, "data/alive", "1"));
    xs_close(h);
    return 0;
}

static void lifecycle(void)
{
    struct lifecycle lc;
    pid_t watcher;
    uint32_t v;
    int c;

    PVT_EQ_INT(pvt_chan_open(&lc.ready), 0);
    PVT_EQ_INT(pvt_chan_open(&lc.go), 0);
    watcher = pvt_sim_spawn(&sim, 0, release_watcher, &lc);
    PVT_EQ_INT(pvt_chan_recv(&lc.ready, &v), 0);
    c = pvt_sim_create(&sim, "short-lived");
    PVT_CHECK(c > 0);
    PVT_EQ_INT(pvt_chan_recv(&lc.ready, &v), 0);
    PVT_EQ_INT(run_in(c, short_lived, NULL), 0);
    pvt_chan_send(&lc.go, (uint32_t)c);
    PVT_EQ_INT(pvt_wait(watcher), 0);
    pvt_chan_close(&lc.ready);
    pvt_chan_close(&lc.go);
}

/* --- hostile clients ---------------------------------------------------------- */

static int raw_connect(void)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    if (strlen(sim.dir) + sizeof("/xenstored") > sizeof(sa.sun_path))
        return -1;
    memcpy(sa.sun_path, sim.dir, strlen(sim.dir));
    strcat(sa.sun_path, "/xenstored");
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
        close(fd);
        fd = -1;
    }
    PVT_CHECK_MSG(fd >= 0, "raw connect: %s", strerror(errno));
    return fd;
}

static void raw_send(int fd, uint32_t type, uint32_t req_id, const void *body,
                     uint32_t len)
{
    struct xsd_sockmsg m = { .type = type, .req_id = req_id, .len = len };

    PVT_CHECK(write(fd, &m, sizeof(m)) == (ssize_t)sizeof(m));
    if (len)
        PVT_CHECK(write(fd, body, len) == (ssize_t)len);
}

static bool read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);

        if (n <= 0)
            return false;
        got += (size_t)n;
    }
    return true;
}

/* Read one reply: returns its type, the payload in @buf. */
static uint32_t raw_recv(int fd, uint32_t *req_id, char *buf, size_t size)
{
    struct xsd_sockmsg m;

    if (!read_full(fd, &m, sizeof(m)) || m.len >= size ||
        !read_full(fd, buf, m.len))
        return XS_INVALID;
    buf[m.len] = '\0';
    if (req_id)
        *req_id = m.req_id;
    return m.type;
}

static void expect_error(int fd, const char *err)
{
    char buf[XENSTORE_PAYLOAD_MAX + 1];
    uint32_t type = raw_recv(fd, NULL, buf, sizeof(buf));

    PVT_CHECK_MSG(type == XS_ERROR && !strcmp(buf, err),
                  "reply type %u \"%s\" (want ERROR %s)", type,
                  type == XS_INVALID ? "" : buf, err);
}

static bool closed_by_peer(int fd)
{
    char c;

    return read(fd, &c, 1) == 0;
}

static int hostile(void *arg)
{
    char buf[XENSTORE_PAYLOAD_MAX + 1];
    struct xs_handle *h;
    uint32_t id, i;
    int fd, fds[64];
    bool in_order = true;

    (void)arg;
    alarm(CHILD_TIMEOUT);
    /* Oversize length: the connection is dropped. */
    fd = raw_connect();
    raw_send(fd, XS_READ, 1, NULL, 0);
    expect_error(fd, "EINVAL");
    {
        struct xsd_sockmsg m = { .type = XS_WRITE, .len = 100000 };

        PVT_CHECK(write(fd, &m, sizeof(m)) == (ssize_t)sizeof(m));
    }
    PVT_CHECK(closed_by_peer(fd));
    close(fd);
    /* Unknown and server-only types, missing NULs: errors, stays up. */
    fd = raw_connect();
    raw_send(fd, 999, 1, "x", 2);
    expect_error(fd, "ENOSYS");
    raw_send(fd, XS_WATCH_EVENT, 2, "a\0b", 4);
    expect_error(fd, "ENOSYS");
    raw_send(fd, XS_READ, 3, "data", 4);             /* no NUL */
    expect_error(fd, "EINVAL");
    raw_send(fd, XS_WRITE, 4, "data/x", 6);          /* no NUL at all */
    expect_error(fd, "EINVAL");
    raw_send(fd, XS_WATCH, 5, "data\0tok", 8);       /* token lacks NUL */
    expect_error(fd, "EINVAL");
    raw_send(fd, XS_SET_PERMS, 6, "data\0zz\0", 8);  /* bad perm string */
    expect_error(fd, "EINVAL");
    raw_send(fd, XS_TRANSACTION_END, 7, "T", 2);     /* no transaction */
    expect_error(fd, "ENOENT");
    raw_send(fd, XS_DIRECTORY_PART, 8, "data\0", 5); /* one arg of two */
    expect_error(fd, "EINVAL");
    raw_send(fd, XS_CONTROL, 9, "print\0x\0", 8);    /* privileged */
    expect_error(fd, "EACCES");
    /* Pipelined requests, written all at once, answered in order. */
    for (i = 0; i < 100; i++)
        raw_send(fd, XS_GET_DOMAIN_PATH, 1000 + i, "1", 2);
    for (i = 0; i < 100; i++) {
        uint32_t t = raw_recv(fd, &id, buf, sizeof(buf));

        in_order &= t == XS_GET_DOMAIN_PATH && id == 1000 + i &&
                    !strcmp(buf, "/local/domain/1");
    }
    PVT_CHECK(in_order);
    close(fd);
    /* Garbage header, half a header, many idle connections. */
    fd = raw_connect();
    PVT_CHECK(write(fd, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
                        "\xff\xff\xff\xff", 16) == 16);
    PVT_CHECK(closed_by_peer(fd));
    close(fd);
    fd = raw_connect();
    PVT_CHECK(write(fd, "\x02\0\0", 3) == 3);
    close(fd);
    for (i = 0; i < 64; i++)
        fds[i] = raw_connect();
    for (i = 0; i < 64; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    /* A client that never reads its events cannot hurt the daemon. */
    fd = raw_connect();
    memcpy(buf, "data", 5);
    memset(buf + 5, 't', 4000);
    buf[4005] = '\0';
    raw_send(fd, XS_WATCH, 1, buf, 4006);
    h = xopen();
    for (i = 0; i < 1800; i++) {
        snprintf(buf, sizeof(buf), "data/flood/%u/%u", i % 900 / 100,
                 i % 100);
        PVT_CHECK_MSG(xwrite(h, XBT_NULL, buf, "1"), "flood write %u", i);
    }
    check_read(h, XBT_NULL, "data/flood/1/1", "1", 0);
    PVT_CHECK(xs_rm(h, XBT_NULL, "data/flood"));
    close(fd);
    xs_close(h);
    return 0;
}

/* --- the xenstore-* tools ------------------------------------------------------ */

static const char *tool(const char *env, const char *dflt)
{
    const char *p = getenv(env);

    return p && *p ? p : dflt;
}

static void real_tools(void)
{
    char out[] = "/tmp/pvaccel-xs-ls.XXXXXX", cmd[1024], line[256];
    char *argv[] = { "sh", "-c", cmd, NULL };
    bool saw_a = false, saw_b = false;
    FILE *f;
    int fd = mkstemp(out);

    PVT_CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    snprintf(cmd, sizeof(cmd),
             "%s /tools/a 'hello' /tools/b/c 'world' && %s /tools/a && "
             "%s /tools > %s",
             tool("XENSTORE_WRITE", "xenstore-write"),
             tool("XENSTORE_READ", "xenstore-read"),
             tool("XENSTORE_LS", "xenstore-ls"), out);
    PVT_EQ_INT(pvt_wait(pvt_sim_spawn_exec(&sim, 0, argv)), 0);
    f = fopen(out, "r");
    while (f && fgets(line, sizeof(line), f)) {
        saw_a |= !strcmp(line, "a = \"hello\"\n");
        saw_b |= !strcmp(line, " c = \"world\"\n");
    }
    if (f)
        fclose(f);
    PVT_CHECK_MSG(saw_a && saw_b, "xenstore-ls output has a and b/c");
    unlink(out);
}

/* A domain lives while it has processes: keep A and B alive. */
static int keeper(void *arg)
{
    uint32_t v;

    return pvt_chan_recv(arg, &v) ? 1 : 0;
}

int main(void)
{
    struct watch_peer wp;
    struct pvt_chan keep;
    pid_t b, keep_a, keep_b;
    uint32_t v;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (pvt_sim_start(&sim) < 0)
        return 99;
    dom_a = pvt_sim_create(&sim, "xs-a");
    dom_b = pvt_sim_create(&sim, "xs-b");
    PVT_CHECK(dom_a > 0 && dom_b > 0);
    PVT_EQ_INT(pvt_chan_open(&keep), 0);
    keep_a = pvt_sim_spawn(&sim, dom_a, keeper, &keep);
    keep_b = pvt_sim_spawn(&sim, dom_b, keeper, &keep);

    PVT_EQ_INT(run_in(0, basic_ops, NULL), 0);
    PVT_EQ_INT(run_in(dom_a, perms_domu_a, NULL), 0);
    PVT_EQ_INT(run_in(dom_b, perms_domu_b, NULL), 0);
    PVT_EQ_INT(run_in(0, perms_dom0, NULL), 0);

    PVT_EQ_INT(run_in(0, watches_dom0, NULL), 0);
    PVT_EQ_INT(pvt_chan_open(&wp.go), 0);
    PVT_EQ_INT(pvt_chan_open(&wp.ready), 0);
    b = pvt_sim_spawn(&sim, dom_b, watches_domu_b, &wp);
    PVT_EQ_INT(pvt_chan_recv(&wp.ready, &v), 0);
    PVT_EQ_INT(run_in(dom_a, watches_domu_a, NULL), 0);
    pvt_chan_send(&wp.go, 1);
    PVT_EQ_INT(pvt_wait(b), 0);
    pvt_chan_close(&wp.go);
    pvt_chan_close(&wp.ready);

    PVT_EQ_INT(run_in(0, transactions, NULL), 0);
    PVT_EQ_INT(run_in(dom_a, quotas_domu, NULL), 0);
    PVT_EQ_INT(run_in(0, quotas_dom0, NULL), 0);
    lifecycle();
    PVT_EQ_INT(run_in(dom_b, hostile, NULL), 0);
    /* After all that, the daemon still serves. */
    PVT_EQ_INT(run_in(0, basic_ops, NULL), 0);
    real_tools();

    pvt_chan_send(&keep, 0);
    pvt_chan_send(&keep, 0);
    PVT_EQ_INT(pvt_wait(keep_a), 0);
    PVT_EQ_INT(pvt_wait(keep_b), 0);
    pvt_sim_stop(&sim);
    return pvt_done();
}
