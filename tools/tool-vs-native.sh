#!/bin/sh
# The pvaccel tool against the command-line tools it stands in for, on the
# same file in one run (docs/performance.md, "The tool against the
# commands"): `pvaccel compress --alg zstd|gzip|lz4 --level 1`, `pvaccel
# digest --alg sha256` and `pvaccel encrypt --alg aes-256-gcm` in a sim
# guest against pvacceld (CPU engine), and on the host `zstd -1`, `gzip
# -1`, `lz4 -1`, `sha256sum` and `openssl enc -aes-256-ctr` (the enc
# command refuses AEAD ciphers; CTR is GCM without its GHASH).  Each
# command runs whole, from its start to its exit, as a user would run it:
# the tool's device open and handshake included.
#
# The input is the benchmarks' text-like data (pvaccel-hostbench data,
# about 4:1 compressible), SIZE MiB of it (default 64).  This VM's speed
# changes from one second to the next (docs/performance.md), so each
# comparison is REPEAT pairs (default 5) run back to back, the tool first
# in odd pairs and the command first in even ones, and the ratio is the
# median of the pairs' ratios: command time / tool time, above 1 when the
# tool is faster.  The outputs are checked once against the commands
# (the tool's streams decompressed by zstd, gzip and lz4, the digest
# against sha256sum).  Figures only: nothing fails on speed.  The files
# live in DIR (default /dev/shm, a tmpfs, where writable; else $TMPDIR or
# /tmp): on this VM writing 64 MiB to the disk takes longer than
# encrypting it, and the figures should be the commands', not the disk's.
#
#   tools/tool-vs-native.sh [--builddir DIR] [--size MIB] [--repeat N]
#                           [--tmpdir DIR] [--quick] [-- TOOL_OPTION...]
#
# TOOL_OPTIONs go before the pvaccel command, e.g. -- --queues 1.
set -eu

builddir=.
size=64
repeat=5
tmpdir=${TMPDIR:-/tmp}
[ -d /dev/shm ] && [ -w /dev/shm ] && tmpdir=/dev/shm
while [ $# -gt 0 ]; do
    case $1 in
    --builddir) builddir=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --tmpdir) tmpdir=$2; shift 2 ;;
    --quick) size=4; repeat=1; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "tool-vs-native: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
tool_opts="$*"

b=$(cd "$builddir" && pwd)
sim="$b/pvaccel-sim"
for f in "$sim" "$b/pvacceld" "$b/pvaccel-ctl" "$b/pvaccel" \
         "$b/tools/pvaccel-hostbench"; do
    [ -x "$f" ] || { echo "tool-vs-native: $f is not built (make)" >&2; exit 1; }
done
for c in zstd gzip lz4 sha256sum openssl; do
    command -v "$c" >/dev/null 2>&1 ||
        { echo "tool-vs-native: $c is not installed" >&2; exit 1; }
done

dir=$(mktemp -d "$tmpdir/tool-vs-native.XXXXXX")
backend_pid=
holder=
cleanup() {
    exec 9>&-
    [ -z "$holder" ] || wait "$holder" 2>/dev/null || true
    if [ -n "$backend_pid" ]; then
        kill "$backend_pid" 2>/dev/null || true
        wait "$backend_pid" 2>/dev/null || true
    fi
    "$sim" --dir "$dir" stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the sim, pvacceld, a guest with vaccel 0 ------------------------------
"$sim" --dir "$dir" start >/dev/null
"$sim" --dir "$dir" run 0 -- "$b/pvacceld" --platform sim --foreground \
    --rundir "$dir" --log-level warning &
backend_pid=$!
guest=$("$sim" --dir "$dir" create guest)
"$sim" --dir "$dir" run 0 -- "$b/pvaccel-ctl" --platform sim attach "$guest" \
    >/dev/null
# A domain dies with its last process: a cat of the hold fifo keeps the
# guest alive until this script ends; it says so on the ready fifo.
mkfifo "$dir/ready" "$dir/hold"
exec 9<>"$dir/hold"
"$sim" --dir "$dir" run guest -- \
    sh -c 'echo > "$1"; exec cat "$2" > /dev/null' sh \
    "$dir/ready" "$dir/hold" 9>&- &
holder=$!
read -r _ <"$dir/ready"

in=$dir/in
"$b/tools/pvaccel-hostbench" data --size "${size}M" >"$in"
bytes=$(wc -c <"$in")
head -c 32 /dev/urandom >"$dir/key"
keyhex=$(od -An -tx1 -v "$dir/key" | tr -d ' \n')
ivhex=000102030405060708090a0b0c0d0e0f
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# in_guest CMD [ARG...]: run CMD as a process of the guest.
in_guest() {
    "$sim" --dir "$dir" run guest -- "$@" 9>&- </dev/null
}

# The elapsed time of a shell command in nanoseconds, measured where it
# runs, so that joining the guest is not counted.
timed='t0=$(date +%s%N); eval "$1" >/dev/null; t1=$(date +%s%N); echo $((t1 - t0))'
tool_ns() { in_guest sh -c "$timed" sh "$b/pvaccel --platform sim $tool_opts $1"; }
native_ns() { sh -c "$timed" sh "$1" </dev/null; }

# name|pvaccel command|native command: IN and OUT are the same files for
# both, outputs go to the same directory.
cases="zstd -1|compress --alg zstd --level 1 $in $dir/t.zst|zstd -1 -q -c $in >$dir/n.zst
gzip -1|compress --alg gzip --level 1 $in $dir/t.gz|gzip -1 -c $in >$dir/n.gz
lz4 -1|compress --alg lz4 --level 1 $in $dir/t.lz4|lz4 -1 -q -c $in >$dir/n.lz4
sha256|digest --alg sha256 $in|sha256sum $in
aes-256|encrypt --alg aes-256-gcm --key-file $dir/key $in $dir/t.enc|openssl enc -aes-256-ctr -K $keyhex -iv $ivhex -in $in -out $dir/n.enc"

# ---- the pairs ------------------------------------------------------------
: >"$dir/pairs"
n_cases=$(echo "$cases" | wc -l)
echo "$cases" | {
    i=0
    while IFS='|' read -r name tool native; do
        i=$((i + 1))
        printf 'tool-vs-native: [%d/%d] %s, %d pairs\n' "$i" "$n_cases" \
            "$name" "$repeat" >&2
        for r in $(seq 1 "$repeat"); do
            if [ $((r % 2)) = 1 ]; then
                t=$(tool_ns "$tool"); n=$(native_ns "$native")
            else
                n=$(native_ns "$native"); t=$(tool_ns "$tool")
            fi
            echo "$name|$t|$n" >>"$dir/pairs"
        done
    done
}

# ---- the tool's fixed cost: open, handshake, one tiny request, close --------
printf 123456789 >"$dir/nine"
for r in $(seq 1 "$repeat"); do
    tool_ns "crc32c $dir/nine"
done >"$dir/fixed"

# ---- the outputs are right ---------------------------------------------------
: >"$dir/checks"
check() {
    what=$1; shift
    if "$@" >/dev/null 2>&1; then
        echo "check: $what: ok" >>"$dir/checks"
    else
        echo "check: $what: FAILED" >>"$dir/checks"
    fi
}
decompresses() { "$1" -dc "$2" | cmp -s - "$in"; }
same_digest() {
    [ "$(in_guest "$b/pvaccel" --platform sim digest --alg sha256 "$in" |
         cut -d' ' -f1)" = "$(sha256sum "$in" | cut -d' ' -f1)" ]
}
decrypts() {
    in_guest "$b/pvaccel" --platform sim decrypt --key-file "$dir/key" \
        "$dir/t.enc" "$dir/t.dec" && cmp -s "$dir/t.dec" "$in"
}
check "zstd -d reads the tool's zstd" decompresses zstd "$dir/t.zst"
check "gzip -d reads the tool's gzip" decompresses gzip "$dir/t.gz"
check "lz4 -d reads the tool's lz4" decompresses lz4 "$dir/t.lz4"
check "the tool's sha256 is sha256sum's" same_digest
check "the tool decrypts what it encrypted" decrypts

# ---- the table ----------------------------------------------------------------
printf '\nThe pvaccel tool against the commands, %s MiB of text-like data (%s bytes),\n' \
    "$size" "$bytes"
printf 'pvaccel %s in a sim guest, CPU engine, %s pairs, files in %s;\nload average %s -> %s\n\n' \
    "${tool_opts:-(default options)}" "$repeat" "$tmpdir" "$load0" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
awk -F'|' -v bytes="$bytes" '
    function median(a, n,    i, j, t) {
        for (i = 2; i <= n; i++)
            for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
                t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
            }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    !($1 in seen) { seen[$1] = 1; order[++k] = $1 }
    { n[$1]++; tt[$1, n[$1]] = $2; nt[$1, n[$1]] = $3; r[$1, n[$1]] = $3 / $2 }
    END {
        printf "%-8s %10s %10s %12s %12s %6s  %s\n", "op", "pvaccel s",
               "command s", "pvaccel MB/s", "command MB/s", "ratio",
               "(pairs: min-max)"
        for (c = 1; c <= k; c++) {
            name = order[c]; m = n[name]
            for (i = 1; i <= m; i++) {
                a[i] = tt[name, i]; b[i] = nt[name, i]; q[i] = r[name, i]
            }
            ts = median(a, m) / 1e9; ns = median(b, m) / 1e9
            lo = hi = q[1]
            for (i = 2; i <= m; i++) {
                if (q[i] < lo) lo = q[i]
                if (q[i] > hi) hi = q[i]
            }
            printf "%-8s %10.3f %10.3f %12.1f %12.1f %6.2f  (%.2f-%.2f)\n",
                   name, ts, ns, bytes / ts / 1e6, bytes / ns / 1e6,
                   median(q, m), lo, hi
        }
        print "\nratio: median over the pairs of command time / pvaccel time (above 1: the tool is faster)"
    }' "$dir/pairs"
sort -n "$dir/fixed" | awk '{ t[NR] = $1 } END {
    printf "fixed cost of one pvaccel run (crc32c of 9 bytes: device open, handshake, close): %.1f ms, median of %d\n",
           t[int((NR + 1) / 2)] / 1e6, NR }'
echo
cat "$dir/checks"
! grep -q FAILED "$dir/checks"
