#!/bin/sh
# pvaccel against the library called natively and against socket remoting,
# in one run on this machine (docs/performance.md):
#   a. native: the CPU engine's library call in one process;
#   b. pvaccel: `pvaccel bench` in sim guests against pvacceld (CPU engine),
#      polling and blocking, depth 1 and 64, one queue and one per CPU, one
#      guest and four;
#   c. socket: the op and its data over a Unix socket to a server process;
# and the transports' floors: a shared-memory ring ping-pong between two
# processes, an eventfd ping-pong.  Then a table with the ratios b/a and
# b/c, the targets of the benchmark issue, allocations and syscalls per
# request in polling mode, and the backend's memory per device and queue.
# The pairs the ratio targets compare (1 MiB against native, depth 64
# against the raw ring, four guests against one) are measured again
# REPEAT times (default 15) in short windows (--pair-time, default
# 0.2 s), the two sides back to back in alternating order, and judged on
# the median ratio: this VM's speed changes from one second to the next.
# Figures only: nothing here passes or fails on speed.
#
#   tools/pvaccel-bench.sh [--builddir DIR] [--out DIR] [--quick]
#                          [--time SECONDS] [--repeat N] [--pair-time S]
#                          [--json FILE]
set -eu

builddir=.
out=
quick=0
secs=0.3
repeat=15
pairsecs=0.2
json=
while [ $# -gt 0 ]; do
    case $1 in
    --builddir) builddir=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --quick) quick=1; secs=0.05; repeat=1; pairsecs=0.05; shift ;;
    --time) secs=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --pair-time) pairsecs=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "pvaccel-bench: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

b=$(cd "$builddir" && pwd)
sim="$b/pvaccel-sim"
host="$b/tools/pvaccel-hostbench"
shim="$b/tools/.libs/bench-malloc.so"
for f in "$sim" "$b/pvacceld" "$b/pvaccel-ctl" "$b/pvaccel" "$host"; do
    [ -x "$f" ] || { echo "pvaccel-bench: $f is not built (make)" >&2; exit 1; }
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/pvaccel-bench.XXXXXX")
[ -n "$out" ] || out="$dir/out"
mkdir -p "$out"
res="$out/results.jsonl"
reps="$out/repeats.jsonl"
: > "$res"
: > "$reps"
backend_pid=
holders=
cleanup() {
    # The holders' cat sees the end of the hold fifo: the guests end.
    exec 9>&-
    for p in $holders; do wait "$p" 2>/dev/null || true; done
    if [ -n "$backend_pid" ]; then
        kill "$backend_pid" 2>/dev/null || true
        wait "$backend_pid" 2>/dev/null || true
    fi
    "$sim" --dir "$dir" stop >/dev/null 2>&1 || true
    rm -rf "$dir/fifo" "$dir"/strace.*
    [ "$out" != "$dir/out" ] || rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the sim, pvacceld and four guests, each with vaccel 0 -------------
"$sim" --dir "$dir" start >/dev/null
"$sim" --dir "$dir" run 0 -- "$b/pvacceld" --platform sim --foreground \
    --rundir "$dir" --log-level warning &
backend_pid=$!
# Barriers are two fifos (ready, go), held open here so that no open blocks.
mkdir "$dir/fifo"
mkfifo "$dir/fifo/ready" "$dir/fifo/go" "$dir/fifo/hold"
exec 7<>"$dir/fifo/ready" 8<>"$dir/fifo/go" 9<>"$dir/fifo/hold"
# A domain dies with its last process: each guest keeps one (a cat of the
# hold fifo, which ends with this script) and says so on the ready fifo.
for g in 0 1 2 3; do
    dom=$("$sim" --dir "$dir" create "guest$g")
    "$sim" --dir "$dir" run 0 -- "$b/pvaccel-ctl" --platform sim attach "$dom" \
        >/dev/null
    "$sim" --dir "$dir" run "guest$g" -- \
        sh -c 'echo > "$1"; exec cat "$2" > /dev/null' sh \
        "$dir/fifo/ready" "$dir/fifo/hold" 7>&- 8>&- 9>&- &
    holders="$holders $!"
    dd bs=1 count=1 <&7 >/dev/null 2>&1
done
ncpu=$(nproc)
# Anything else running skews every figure: say how busy the machine was.
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- the cases ------------------------------------------------------------
if [ $quick = 1 ]; then
    matrix="nop:0 crc32c:64 zstd-1:65536"
    pvconfigs="poll:1:1 block:1:1 poll:64:1"
    sockdepths="1"
    multi="zstd-1:65536"
else
    matrix="nop:0
crc32c:64 crc32c:4096 crc32c:65536 crc32c:1048576
copy:64 copy:4096 copy:65536 copy:1048576 copy:4194304
sha256:64 sha256:4096 sha256:1048576 sha256:4194304
aes-256-gcm:64 aes-256-gcm:4096 aes-256-gcm:1048576 aes-256-gcm:4194304
deflate-1:4096 deflate-1:65536 deflate-1:1048576 deflate-1:4194304
zstd-1:4096 zstd-1:65536 zstd-1:1048576 zstd-1:4194304
lz4:4096 lz4:65536 lz4:1048576 lz4:4194304"
    # mode:depth:queues (queues 0: one per CPU)
    pvconfigs="poll:1:1 poll:64:1 block:1:1 block:64:1 poll:64:0"
    sockdepths="1 64"
    multi="deflate-1:1048576 zstd-1:1048576 lz4:1048576 sha256:1048576
aes-256-gcm:1048576"
fi
n_pairs=$(echo $matrix | wc -w)
n_multi=$(echo $multi | wc -w)
big="deflate-1 zstd-1 lz4 sha256 aes-256-gcm"
[ $quick = 0 ] || big=    # the quick matrix has no 1 MiB case
total=$((4 + n_pairs * (1 + $(echo $sockdepths | wc -w) + $(echo $pvconfigs | wc -w)) + 2 * n_multi + repeat + 3))
done_cases=0

# progress WHAT: one line per case on stderr, numbered.
progress() {
    done_cases=$((done_cases + 1))
    printf 'pvaccel-bench: [%3d/%d] %s\n' "$done_cases" "$total" "$*" >&2
}

hostbench() {
    "$host" "$@" --time "$secs" --json >> "$res"
}

# guest_bench GUEST ARGS...: `pvaccel bench` in guest GUEST (a --time in
# ARGS overrides the default window).
guest_bench() {
    g=$1; shift
    "$sim" --dir "$dir" run "guest$g" -- "$b/pvaccel" bench --platform sim \
        --time "$secs" --json "$@" 9>&-
}

progress "shm-ring ping-pong, depth 1"
hostbench shm-ring --depth 1
progress "shm-ring, depth 64"
hostbench shm-ring --depth 64
progress "eventfd ping-pong"
hostbench eventfd
# Blocking mode spins 20 us before it sleeps, so a depth-1 ping-pong never
# sleeps; without the spin every round trip takes the wake-up path.
progress "pvaccel nop, blocking without spinning (the wake-up path)"
guest_bench 0 --op nop --depth 1 --spin-us 0 >> "$res"

for case in $matrix; do
    op=${case%%:*} size=${case#*:}
    progress "native $op $size"
    hostbench native --op "$op" --size "$size"
    for d in $sockdepths; do
        progress "socket $op $size depth $d"
        hostbench socket --op "$op" --size "$size" --depth "$d"
    done
    for c in $pvconfigs; do
        mode=${c%%:*} rest=${c#*:}; depth=${rest%%:*} q=${rest#*:}
        flag=; [ "$mode" = poll ] && flag=--poll
        progress "pvaccel $op $size $mode depth $depth queues $q"
        guest_bench 0 --op "$op" --size "$size" --depth "$depth" --queues "$q" \
            $flag >> "$res"
    done
done

# Four guests at once, one queue each, blocking, depth 1: the clocks start
# together at the barrier, no sleeping.
# together N OP SIZE [SECONDS]: N guests, each writing its JSON line into
# $dir/multi.G; prints one line with their sum.
together() {
    n=$1 op=$2 size=$3 t=${4:-$secs} pids=
    for g in $(seq 0 $((n - 1))); do
        guest_bench "$g" --op "$op" --size "$size" --depth 1 --queues 1 \
            --time "$t" --guests "$n" \
            --barrier "$dir/fifo/ready:$dir/fifo/go" \
            > "$dir/multi.$g" &
        pids="$pids $!"
    done
    dd bs=1 count="$n" <&7 >/dev/null 2>&1
    head -c "$n" /dev/zero >&8
    for p in $pids; do wait "$p"; done
    for g in $(seq 0 $((n - 1))); do cat "$dir/multi.$g"; done |
        awk -v n="$n" '
            { if (match($0, /"ops_s":[0-9.]+/)) s += substr($0, RSTART + 8, RLENGTH - 8)
              if (match($0, /"op":"[^"]*"/)) op = substr($0, RSTART + 6, RLENGTH - 7)
              if (match($0, /"size":[0-9]+/)) size = substr($0, RSTART + 7, RLENGTH - 7) }
            END { printf "{\"path\":\"pvaccel-guests\",\"op\":\"%s\",\"size\":%s," \
                         "\"guests\":%d,\"ops_s\":%.1f}\n", op, size, n, s }'
}
for case in $multi; do
    op=${case%%:*} size=${case#*:}
    progress "pvaccel $op $size, 1 guest (block, depth 1)"
    together 1 "$op" "$size" >> "$res"
    progress "pvaccel $op $size, 4 guests at once (block, depth 1 each)"
    together 4 "$op" "$size" >> "$res"
done

# ---- the ratio targets' pairs again, interleaved --------------------------
# One JSON line per measurement into $reps, tagged with its repetition.
# This VM's speed changes from one second to the next (docs/performance.md),
# so each pair is two short windows back to back, in alternating order
# (A B, then B A), and the targets are judged on the median of the pairs.
tag() { sed "s/^{/{\"rep\":$1,/" >> "$reps"; }
ring64() { "$host" shm-ring --depth 64 --time "$pairsecs" --json | tag "$1"; }
tiny64() {
    for op in nop crc32c; do
        size=0; [ $op = nop ] || size=64
        guest_bench 0 --op $op --size $size --depth 64 --poll \
            --time "$pairsecs" | tag "$1"
    done
}
native1m() {
    "$host" native --op "$2" --size 1048576 --time "$pairsecs" --json |
        tag "$1"
}
pvaccel1m() {
    guest_bench 0 --op "$2" --size 1048576 --depth 1 --poll \
        --time "$pairsecs" | tag "$1"
}
for r in $(seq 1 "$repeat"); do
    progress "target pairs, repetition $r of $repeat"
    if [ $((r % 2)) = 1 ]; then
        ring64 "$r"; tiny64 "$r"
    else
        tiny64 "$r"; ring64 "$r"
    fi
    for op in $big; do
        if [ $((r % 2)) = 1 ]; then
            native1m "$r" "$op"; pvaccel1m "$r" "$op"
        else
            pvaccel1m "$r" "$op"; native1m "$r" "$op"
        fi
    done
    for case in $multi; do
        op=${case%%:*} size=${case#*:}
        for n in $( [ $((r % 2)) = 1 ] && echo 1 4 || echo 4 1); do
            together "$n" "$op" "$size" "$pairsecs" | tag "$r"
        done
    done
done

# ---- allocations and syscalls per request, polling ------------------------
diag="$out/diagnostics.txt"
: > "$diag"
progress "allocations per request (counting allocator preloaded)"
for c in "nop 0 64" "crc32c 64 64" "zstd-1 65536 4"; do
    set -- $c
    # Not under sanitizers, which insist on being the first preload.
    m=$("$sim" --dir "$dir" run guest0 -- env LD_PRELOAD="$shim" \
            "$b/pvaccel" bench --platform sim --poll --op "$1" --size "$2" \
            --depth "$3" --time "$secs" 2>/dev/null |
        sed -n 's/.*, \([0-9.]*\) mallocs\/op/\1/p') || true
    echo "mallocs per request, poll, $1 $2 depth $3: ${m:-not measured (no counting allocator)}" >> "$diag"
done
# syscalls COUNT: total syscalls of a polling run of COUNT NOPs (strace -c);
# two counts, so that set-up, tear-down and timers cancel out.
# LeakSanitizer cannot run under ptrace: a sanitizer build of make check
# would die at exit, so leak detection is off for this one run.
syscalls() {
    "$sim" --dir "$dir" run guest0 -- \
        env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        strace -f -c -o "$dir/strace.$1" \
        "$b/pvaccel" bench --platform sim --poll --op nop --depth 64 \
        --time 100 --warmup 0 --count "$1" >/dev/null
    awk '$NF == "total" { print $4 }' "$dir/strace.$1"
}
progress "syscalls per request, poll (strace -c, two counts)"
if command -v strace >/dev/null 2>&1; then
    n1=20000 n2=2020000
    s1=$(syscalls $n1) s2=$(syscalls $n2)
    awk -v s1="$s1" -v s2="$s2" -v n1="$n1" -v n2="$n2" 'BEGIN {
        printf "syscalls, poll, nop depth 64: %d for %d requests, %d for %d: %.5f per request\n",
               s1, n1, s2, n2, (s2 - s1) / (n2 - n1) }' >> "$diag"
else
    echo "syscalls: strace not installed, not measured" >> "$diag"
fi
# Backend memory: pvacceld's VmRSS idle, then with a device open with one
# and with two queues (buffers registered), read at the guest's barrier.
progress "backend memory per device and per queue"
# `pvaccel-sim run` execs its command: $backend_pid is pvacceld itself (a
# search by name could find another instance on the machine).
bpid=$backend_pid
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$bpid/status"; }
rss_with() {
    guest_bench 0 --op nop --depth 1 --queues "$1" --time 0.01 \
        --barrier "$dir/fifo/ready:$dir/fifo/go" >/dev/null &
    p=$!
    dd bs=1 count=1 <&7 >/dev/null 2>&1
    r=$(rss || true)    # the guest waits at the barrier: always release it
    printf x >&8
    wait "$p"
    echo "$r"
}
r0=$(rss) r1=$(rss_with 1) r2=$(rss_with 2)
echo "backend VmRSS: idle $r0 kB, one device with 1 queue $r1 kB, with 2 queues $r2 kB: per device (1 queue) $((r1 - r0)) kB, per extra queue $((r2 - r1)) kB" >> "$diag"

echo "load average at the start: $load0; at the end: $(cut -d' ' -f1-3 /proc/loadavg) (this run itself keeps about 2 CPUs busy)" >> "$diag"

# ---- the table ---------------------------------------------------------------
[ -z "$json" ] || cp "$res" "$json"
sh "$(dirname "$0")/bench-report.sh" "$res" "$out" "$ncpu" "$reps"
cat "$diag"
[ "$out" = "$dir/out" ] || echo "results: $res"
