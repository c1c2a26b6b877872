#!/bin/sh
# The main job on the sim: pvaccel-sim, pvacceld with the CPU engine in
# dom0, a guest domain with a vaccel device, and a real workload pushed
# through the rings by the `pvaccel` tool: compress, digest and encrypt a
# file of several MiB, decompress and decrypt it back, and check every
# result against the libraries called directly (pvaccel-native).
#   tools/pvaccel-demo.sh [BUILDDIR [INPUT]]
set -eu

now() { date +%s.%N; }

# rate BYTES T0 T1: "0.052 s, 161.3 MB/s"
rate() {
    awk -v b="$1" -v t0="$2" -v t1="$3" 'BEGIN {
        t = t1 - t0; if (t <= 0) t = 1e-9
        printf "%.3f s, %.1f MB/s", t, b / t / 1e6 }'
}

say() { echo "guest:   $*"; }

# check WHAT COMMAND...: run a check, say ok or stop the job.
check() {
    what=$1; shift
    if "$@" >/dev/null 2>&1; then
        say "  check: $what: ok"
    else
        say "  check: $what: FAILED"
        exit 1
    fi
}

# Inside the guest domain: the workload.
guest_main() {
    b=$1 input=$2 work=$3
    pv="$b/pvaccel"
    native="$b/tools/pvaccel-native"
    size=$(wc -c < "$input")
    "$pv" info | sed 's/^/guest:   /'
    say "input: $input, $size bytes"

    for alg in zstd gzip lz4; do
        t0=$(now); "$pv" compress --alg "$alg" --level 1 "$input" "$work/c.$alg"; t1=$(now)
        "$pv" decompress --alg "$alg" "$work/c.$alg" "$work/d.$alg"; t2=$(now)
        csize=$(wc -c < "$work/c.$alg")
        say "compress $alg -1: $size -> $csize bytes in $(rate "$size" "$t0" "$t1");" \
            "decompress: $(rate "$size" "$t1" "$t2")"
        check "$alg round trip is identical" cmp "$input" "$work/d.$alg"
        case $alg in zstd) lib=libzstd ;; gzip) lib=libdeflate ;; lz4) lib=liblz4 ;; esac
        check "$lib (called directly) decompresses pvaccel's output" \
            sh -c "'$native' decompress --alg $alg '$work/c.$alg' '$work/n.$alg' &&
                   cmp '$input' '$work/n.$alg'"
    done

    for alg in sha256 sha512; do
        t0=$(now); ours=$("$pv" digest --alg "$alg" "$input"); t1=$(now)
        theirs=$("$native" digest --alg "$alg" "$input")
        say "digest $alg: ${ours%% *} in $(rate "$size" "$t0" "$t1")"
        check "$alg equals OpenSSL's (called directly)" \
            test "${ours%% *}" = "${theirs%% *}"
    done

    head -c 32 /dev/urandom > "$work/key"
    for alg in aes-256-gcm chacha20-poly1305; do
        t0=$(now); "$pv" encrypt --alg "$alg" --key-file "$work/key" "$input" "$work/e.$alg"; t1=$(now)
        "$pv" decrypt --key-file "$work/key" "$work/e.$alg" "$work/p.$alg"; t2=$(now)
        say "encrypt $alg: $(rate "$size" "$t0" "$t1"); decrypt: $(rate "$size" "$t1" "$t2")"
        check "$alg round trip is identical" cmp "$input" "$work/p.$alg"
        # Invert one byte in the middle of the ciphertext: the tag must fail.
        cp "$work/e.$alg" "$work/t.$alg"
        off=$(( $(wc -c < "$work/t.$alg") / 2 ))
        byte=$(od -An -tu1 -j "$off" -N1 "$work/t.$alg")
        printf "\\$(printf '%03o' $((255 - byte)))" |
            dd of="$work/t.$alg" bs=1 seek="$off" conv=notrunc 2>/dev/null
        check "the tampered copy differs" sh -c "! cmp -s '$work/e.$alg' '$work/t.$alg'"
        check "$alg rejects a tampered file" \
            sh -c "! '$pv' decrypt --key-file '$work/key' '$work/t.$alg' '$work/x'"
    done

    t0=$(now); crc=$("$pv" crc32c "$input"); t1=$(now)
    say "crc32c: ${crc%% *} in $(rate "$size" "$t0" "$t1")"
    say "all checks passed"
}

if [ "${1:-}" = "--guest" ]; then
    shift
    guest_main "$@"
    exit 0
fi

builddir=$(cd "${1:-.}" && pwd)
sim="$builddir/pvaccel-sim"
dir=$(mktemp -d "${TMPDIR:-/tmp}/pvaccel-demo.XXXXXX")
backend_pid=
cleanup() {
    [ -z "$backend_pid" ] || kill "$backend_pid" 2>/dev/null || true
    "$sim" --dir "$dir" stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

# Real data: the given file, or 8 MiB of C headers from /usr/include.
input="$dir/input"
if [ $# -ge 2 ]; then
    cp "$2" "$input"
else
    tar -cf - -C /usr/include . 2>/dev/null | head -c 8388608 > "$input"
fi

"$sim" --dir "$dir" start >/dev/null
echo "sim:     pvaccel-sim started in $dir"
"$sim" --dir "$dir" run 0 -- "$builddir/pvacceld" --platform sim \
    --foreground --rundir "$dir" --log-level warning &
backend_pid=$!
guest=$("$sim" --dir "$dir" create guest1)
"$sim" --dir "$dir" run 0 -- "$builddir/pvaccel-ctl" --platform sim \
    attach "$guest" >/dev/null
echo "sim:     pvacceld (cpu engine) serves dom0's backend;" \
     "domain 'guest1' ($guest) has vaccel device 0"

# The guest's whole workload is one process tree: the domain lives as long
# as it does.
mkdir "$dir/work"
"$sim" --dir "$dir" run guest1 -- sh "$0" --guest "$builddir" "$input" "$dir/work"
