#!/bin/sh
# SPDX-License-Identifier: MIT
#
# bench-ab: two builds of pvaccel against each other, in one run.
#
#   tools/bench-ab.sh [--repeat N] [--time S] [--case OP:SIZE:MODE:DEPTH]...
#                     BUILDDIR_A BUILDDIR_B
#
# A change on the data path is judged by the ratio of its build (B) to the
# build before it (A) measured on the same machine at the same time
# (docs/performance.md: this VM's speed changes by about 1.5x from one
# second to the next).  Each build gets its own sim, its own pvacceld and
# one guest; every case is then measured in N pairs of short windows, the
# two builds back to back in alternating order (ABBA), and the line per
# case gives the median of the pairs' ratios B/A and their range.  Figures
# only: nothing passes or fails.
#
# Default cases: the per-request cost (nop, crc32c-64 at depth 64,
# polling), the round trip (crc32c-64 at depth 1, blocking), and the
# 1 MiB data movers (zstd-1, aes-256-gcm, sha256 at depth 1, polling).
set -eu

repeat=15
secs=0.2
cases=
while [ $# -gt 0 ]; do
    case $1 in
    --repeat) repeat=$2; shift 2 ;;
    --time) secs=$2; shift 2 ;;
    --case) cases="$cases $2"; shift 2 ;;
    -h|--help) sed -n '4,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) echo "bench-ab: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
done
if [ $# -ne 2 ]; then
    echo "usage: bench-ab.sh [--repeat N] [--time S] [--case C]... A B" >&2
    exit 2
fi
[ -n "$cases" ] || cases="nop:0:poll:64 crc32c:64:poll:64 crc32c:64:block:1
zstd-1:1048576:poll:1 aes-256-gcm:1048576:poll:1 sha256:1048576:poll:1"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-ab.XXXXXX")
pids=
cleanup() {
    # pvacceld first, so it closes its devices while xenstore is there.
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    for side in a b; do
        if [ -f "$tmp/$side.sim" ]; then
            "$(cat "$tmp/$side.sim")" --dir "$tmp/$side" stop >/dev/null 2>&1 ||
                true
        fi
    done
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# start SIDE BUILDDIR: a sim, pvacceld and one guest domain with vaccel 0.
start() {
    side=$1 b=$(cd "$2" && pwd)
    for p in pvaccel-sim pvacceld pvaccel-ctl pvaccel; do
        if [ ! -x "$b/$p" ]; then
            echo "bench-ab: $b/$p missing: build $b first" >&2
            exit 1
        fi
    done
    echo "$b/pvaccel-sim" > "$tmp/$side.sim"
    echo "$b" > "$tmp/$side.build"
    mkdir "$tmp/$side"
    "$b/pvaccel-sim" --dir "$tmp/$side" start >/dev/null
    "$b/pvaccel-sim" --dir "$tmp/$side" run 0 -- "$b/pvacceld" --platform sim \
        --foreground --rundir "$tmp/$side" --log-level warning &
    pids="$pids $!"
    dom=$("$b/pvaccel-sim" --dir "$tmp/$side" create guest)
    # A domain dies with its last process: one that lives as long as we do
    # (it reads the hold fifo, which stays open here until the end).
    "$b/pvaccel-sim" --dir "$tmp/$side" run guest -- \
        sh -c 'exec cat "$1" > /dev/null' sh "$tmp/hold" 9>&- &
    pids="$pids $!"
    "$b/pvaccel-sim" --dir "$tmp/$side" run 0 -- "$b/pvaccel-ctl" \
        --platform sim attach "$dom" >/dev/null
}

# ops SIDE OP SIZE MODE DEPTH: ops/s of one window.
ops() {
    side=$1 op=$2 size=$3 mode=$4 depth=$5
    b=$(cat "$tmp/$side.build")
    flag=
    [ "$mode" = poll ] && flag=--poll
    "$b/pvaccel-sim" --dir "$tmp/$side" run guest -- "$b/pvaccel" bench \
        --platform sim --op "$op" --size "$size" --depth "$depth" $flag \
        --time "$secs" --warmup 0.05 --json |
        sed -n 's/.*"ops_s":\([0-9.]*\).*/\1/p'
}

mkfifo "$tmp/hold"
exec 9<>"$tmp/hold"
start a "$1"
start b "$2"
echo "bench-ab: A = $1, B = $2; $repeat ABBA pairs of ${secs} s windows"
echo "bench-ab: load before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-28s %12s %12s %8s %s\n' case "A ops/s" "B ops/s" "B/A" "range"
for c in $cases; do
    op=${c%%:*} r=${c#*:}; size=${r%%:*} r=${r#*:}; mode=${r%%:*} depth=${r#*:}
    : > "$tmp/pairs"
    i=0
    while [ $i -lt "$repeat" ]; do
        if [ $((i % 2)) -eq 0 ]; then
            a=$(ops a "$op" "$size" "$mode" "$depth")
            b=$(ops b "$op" "$size" "$mode" "$depth")
        else
            b=$(ops b "$op" "$size" "$mode" "$depth")
            a=$(ops a "$op" "$size" "$mode" "$depth")
        fi
        echo "$a $b" >> "$tmp/pairs"
        i=$((i + 1))
    done
    # Medians with sort: mawk, Debian's awk, has no asort.
    med() { sort -g | awk '{ v[NR] = $1 } END {
        print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
    ma=$(cut -d' ' -f1 "$tmp/pairs" | med)
    mb=$(cut -d' ' -f2 "$tmp/pairs" | med)
    awk '{ print ($1 > 0) ? $2 / $1 : 0 }' "$tmp/pairs" | sort -g > "$tmp/ratios"
    printf '%-28s %12.0f %12.0f %8.3f %.3f-%.3f\n' "$op-$size $mode d$depth" \
        "$ma" "$mb" "$(med < "$tmp/ratios")" "$(head -n1 "$tmp/ratios")" \
        "$(tail -n1 "$tmp/ratios")"
done
echo "bench-ab: load after: $(cut -d' ' -f1-3 /proc/loadavg)"
