#!/bin/sh
# bench-report.sh RESULTS.jsonl OUTDIR NCPU [REPEATS.jsonl]: the table, the
# ratios and the targets of the benchmark (docs/performance.md) from the
# JSON lines of tools/pvaccel-bench.sh; writes OUTDIR/throughput.dat for
# bench-plot.gp.  REPEATS holds the ratio targets' pairs measured again
# in short windows, each line tagged "rep": those targets are judged on
# the median ratio of the pairs.
set -eu
res=$1 out=$2 ncpu=$3 reps=${4:-/dev/null}

awk -v dat="$out/throughput.dat" -v ncpu="$ncpu" -v repfile="$reps" '
function field(name,   re) {
    re = "\"" name "\":(\"[^\"]*\"|[-0-9.]+)"
    if (!match($0, re))
        return ""
    v = substr($0, RSTART + length(name) + 3, RLENGTH - length(name) - 3)
    gsub(/"/, "", v)
    return v
}
function human(n) {
    if (n == "") return "-"
    if (n >= 1e6) return sprintf("%.2fM", n / 1e6)
    if (n >= 1e3) return sprintf("%.1fk", n / 1e3)
    return sprintf("%.0f", n)
}
function hsize(s) {
    if (s >= 1048576) return (s / 1048576) "M"
    if (s >= 1024) return (s / 1024) "K"
    return s
}
function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "-" : sprintf("%.2f", a / b) }
# The median of v[1..n] (sorts v).
function median(v, n,   i, j, t) {
    for (i = 2; i <= n; i++)
        for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
# Per repetition, ops of path A over ops of path B into v; returns how many.
function rep_ratios(v, pa, ka, ca, pb, kb, cb,   r, c) {
    c = 0
    for (r = 1; r <= nrep; r++)
        if (rops[pa, ka, ca, r] > 0 && rops[pb, kb, cb, r] > 0)
            v[++c] = rops[pa, ka, ca, r] / rops[pb, kb, cb, r]
    return c
}
# "from MIN to MAX" of v[1..c].
function rep_range(v, c,   i, lo, hi) {
    lo = hi = v[1]
    for (i = 2; i <= c; i++) { if (v[i] < lo) lo = v[i]; if (v[i] > hi) hi = v[i] }
    return sprintf("from %.2f to %.2f", lo, hi)
}
{
    path = field("path"); op = field("op"); size = field("size")
    key = op ":" size
    if (path == "pvaccel") {
        q = field("queues") + 0
        cfg = field("mode") field("depth") (q > 1 ? "q" : "")
    } else if (path == "socket" || path == "shm-ring")
        cfg = field("depth")
    else if (path == "pvaccel-guests")
        cfg = field("guests")
    else
        cfg = ""
    if (FILENAME == repfile) {
        r = field("rep") + 0
        rops[path, key, cfg, r] = field("ops_s") + 0
        if (r > nrep) nrep = r
        next
    }
    # + 0: numbers, so that comparisons below are numeric.
    ops[path, key, cfg] = field("ops_s") + 0
    if (path != "pvaccel-guests") {
        p50[path, key, cfg] = field("p50_us") + 0
        p99[path, key, cfg] = field("p99_us") + 0
    }
    if (path == "native" && !(key in seen)) { seen[key] = 1; order[++n] = key }
}
END {
    printf "\nops/s (k = 10^3, M = 10^6); b/a = pvaccel poll depth 1 / native; " \
           "b/c = pvaccel / socket at the same depth\n"
    printf "%-16s %8s %8s %8s %8s %8s %8s %8s %8s %6s %6s %6s %6s %9s %9s\n",
           "op size", "native", "sock d1", "sock d64", "poll d1", "poll d64",
           "blk d1", "blk d64", "poll d64", "b/a", "best", "b/c d1", "b/c d64",
           "p50 us", "p99 us"
    printf "%-16s %8s %8s %8s %8s %8s %8s %8s %8s %6s %6s %6s %6s %9s %9s\n",
           "", "", "", "", "1 queue", "", "", "", ncpu " q", "", "b/a", "",
           "", "poll d1", "poll d1"
    for (i = 1; i <= n; i++) {
        k = order[i]; split(k, kk, ":")
        nat = ops["native", k, ""]
        best = 0
        split("poll1 poll64 block1 block64 poll64q", cs, " ")
        for (j = 1; j <= 5; j++)
            if (ops["pvaccel", k, cs[j]] + 0 > best) best = ops["pvaccel", k, cs[j]] + 0
        printf "%-16s %8s %8s %8s %8s %8s %8s %8s %8s %6s %6s %6s %6s %9s %9s\n",
            kk[1] " " hsize(kk[2]), human(nat), human(ops["socket", k, 1]),
            human(ops["socket", k, 64]), human(ops["pvaccel", k, "poll1"]),
            human(ops["pvaccel", k, "poll64"]), human(ops["pvaccel", k, "block1"]),
            human(ops["pvaccel", k, "block64"]), human(ops["pvaccel", k, "poll64q"]),
            ratio(ops["pvaccel", k, "poll1"], nat), ratio(best, nat),
            ratio(ops["pvaccel", k, "poll1"], ops["socket", k, 1]),
            ratio(ops["pvaccel", k, "poll64"], ops["socket", k, 64]),
            p50["pvaccel", k, "poll1"] == "" ? "-" : p50["pvaccel", k, "poll1"],
            p99["pvaccel", k, "poll1"] == "" ? "-" : p99["pvaccel", k, "poll1"]
        # The plot: MB/s against size, one block per op (gnuplot index).
        if (kk[2] > 0) {
            if (kk[1] != lastop) {
                if (lastop != "") printf "\n\n" > dat
                printf "# %s: size native pvaccel-poll-d1 pvaccel-best socket-d1 socket-d64\n", kk[1] > dat
                lastop = kk[1]
                plotted = plotted (plotted == "" ? "" : " ") kk[1]
            }
            printf "%s %.2f %.2f %.2f %.2f %.2f\n", kk[2], nat * kk[2] / 1e6,
                ops["pvaccel", k, "poll1"] * kk[2] / 1e6, best * kk[2] / 1e6,
                ops["socket", k, 1] * kk[2] / 1e6, ops["socket", k, 64] * kk[2] / 1e6 > dat
        }
    }

    # The panel titles of bench-plot.gp, in the order of the blocks.
    print plotted > (dat ".ops")
    print "\ntransports (no work): round trip p50 / p99 us, ops/s"
    printf "  shm ring depth 1: %s / %s us, %s/s; depth 64: %s/s\n",
        p50["shm-ring", "nop:0", 1], p99["shm-ring", "nop:0", 1],
        human(ops["shm-ring", "nop:0", 1]), human(ops["shm-ring", "nop:0", 64])
    printf "  eventfd ping-pong: %s / %s us, %s/s\n", p50["eventfd", "nop:0", ""],
        p99["eventfd", "nop:0", ""], human(ops["eventfd", "nop:0", ""])

    print "\ntargets (measured in this run)"
    split("deflate-1 zstd-1 lz4 sha256 aes-256-gcm", big, " ")
    for (j = 1; j <= 5; j++) {
        k = big[j] ":1048576"
        if (ops["native", k, ""] == "") continue
        r = ops["pvaccel", k, "poll1"] / ops["native", k, ""]
        printf "  1 MiB %-12s pvaccel/native %.3f (poll d1), %.3f (block d1)",
            big[j], r, ops["pvaccel", k, "block1"] / ops["native", k, ""]
        delete rv
        c = rep_ratios(rv, "pvaccel", k, "poll1", "native", k, "")
        if (c) {
            printf "; poll d1 again, %d short pairs %s, median", c, rep_range(rv, c)
            r = median(rv, c)
            printf " %.3f", r
        }
        printf ": %s\n", (r >= 0.97 ? "met" : "MISSED")
    }
    split("nop:0 crc32c:64", tiny, " ")
    for (j = 1; j <= 2; j++) {
        k = tiny[j]
        if (ops["pvaccel", k, "poll64"] == "") continue
        x = ops["pvaccel", k, "poll64"]; lim = ops["shm-ring", "nop:0", 64]
        share = x / lim
        printf "  %-10s poll depth 64: %s ops/s (>= 3M: %s), %.0f%% of the raw ring",
            k, human(x), (x >= 3e6 ? "met" : "MISSED"), 100 * share
        delete rv
        c = rep_ratios(rv, "pvaccel", k, "poll64", "shm-ring", "nop:0", 64)
        if (c) {
            printf "; again, %d short pairs %s, median", c, rep_range(rv, c)
            share = median(rv, c)
            printf " %.0f%%", 100 * share
        }
        printf " (>= 50%%: %s)\n", (share >= 0.5 ? "met" : "MISSED")
    }
    if (p50["pvaccel", "nop:0", "poll1"] != "") {
        a = p50["pvaccel", "nop:0", "poll1"]; r = p50["shm-ring", "nop:0", 1]
        printf "  depth-1 poll round trip %.2f us = %.1fx the raw ring %.2f us (<= 2x: %s)\n",
            a, a / r, r, (a <= 2 * r ? "met" : "MISSED")
        a = p50["pvaccel", "nop:0", "block1"]; r = p50["eventfd", "nop:0", ""]
        printf "  depth-1 blocking round trip %.2f us = %.2fx eventfd %.2f us (<= 1.5x: %s)\n",
            a, a / r, r, (a <= 1.5 * r ? "met" : "MISSED")
        a = p50["pvaccel", "nop:0", "sleep1"]
        if (a != "")
            printf "  depth-1 blocking, no spin (sleeps every time) %.2f us = %.2fx eventfd (<= 1.5x: %s)\n",
                a, a / r, (a <= 1.5 * r ? "met" : "MISSED")
    }
    for (i = 1; i <= n; i++) {
        k = order[i]; split(k, kk, ":")
        if (kk[2] > 4096 && kk[2] != 1048576) continue
        need = kk[2] <= 4096 ? 10 : 1.5
        for (d = 1; d <= 64; d *= 64) {
            if (ops["socket", k, d] == "") continue
            r = ops["pvaccel", k, "poll" d] / ops["socket", k, d]
            printf "  %-18s vs socket, depth %2d: %6.2fx (>= %sx: %s)\n",
                kk[1] " " hsize(kk[2]), d, r, need, (r >= need ? "met" : "MISSED")
        }
    }
    for (key in ops) {
        split(key, kp, SUBSEP)
        if (kp[1] != "pvaccel-guests" || kp[3] != 4 || ops[key] == "") continue
        one = ops["pvaccel-guests", kp[2], 1]
        split(kp[2], kk, ":")
        r = ops[key] / one
        printf "  4 guests %-12s %s: aggregate %.2fx one guest", kk[1], hsize(kk[2]), r
        delete rv
        c = rep_ratios(rv, "pvaccel-guests", kp[2], 4, "pvaccel-guests", kp[2], 1)
        if (c) {
            r = median(rv, c)
            printf "; again, %d short pairs %s, median %.2fx", c, rep_range(rv, c), r
        }
        printf " (>= 1.8x: %s)\n", (r >= 1.8 ? "met" : "MISSED")
    }
}' "$res" "$reps"
