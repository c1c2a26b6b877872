#!/bin/sh
# fe-tool: the pvaccel tool end to end on the sim: a guest compresses,
# decompresses, digests, encrypts and decrypts a multi-MiB file through
# pvacceld, checked against gzip/zstd/lz4, sha256sum/sha512sum and cmp;
# exit codes of failures (wrong key, tampering, usage).
set -u
b=${top_builddir:-.}
sim=$b/pvaccel-sim
dir=$(mktemp -d "${TMPDIR:-/tmp}/pvaccel-fe-tool.XXXXXX")
be=
cleanup() {
    [ -n "$be" ] && kill "$be" 2>/dev/null && wait "$be" 2>/dev/null
    "$sim" --dir "$dir" stop >/dev/null 2>&1
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
"$sim" --dir "$dir" start >/dev/null || { echo "FAIL: sim start"; exit 99; }
"$sim" --dir "$dir" run 0 -- "$b/pvacceld" --foreground --platform=sim \
    --rundir "$dir" 2>"$dir/pvacceld.log" &
be=$!
dom=$("$sim" --dir "$dir" create guest) || exit 99
"$sim" --dir "$dir" run 0 -- "$b/pvaccel-ctl" --platform=sim attach "$dom" \
    >/dev/null || exit 99
# Device 1 has params the backend refuses.
"$sim" --dir "$dir" run 0 -- "$b/pvaccel-ctl" --platform=sim attach "$dom" \
    --devid 1 --params bogus=1 >/dev/null || exit 99

# About 6 MiB: binaries and text, so every algorithm has work to do.
w=$dir/work
mkdir "$w"
for i in 1 2 3 4 5 6 7 8; do
    cat "$b/pvacceld" "$b/pvaccel-sim" /usr/share/common-licenses/* 2>/dev/null
done | head -c 6291456 > "$w/in"
head -c 32 /dev/urandom > "$w/key"
head -c 32 /dev/urandom > "$w/badkey"
printf 123456789 > "$w/check"

# Everything runs in one guest process tree (a sim domain lives while it has
# processes).  The guest script prints ok/not ok lines.
"$sim" --dir "$dir" run "$dom" -- sh -c '
cd "$1"; p="$2/pvaccel"; fail=0
ok() { echo "ok - $*"; }
no() { echo "not ok - $*"; fail=1; }
t() { d=$1; shift; if "$@"; then ok "$d"; else no "$d"; fi; }
t "info names the engine" sh -c "\"$p\" info | grep -q \"^engine: *cpu\""
for a in zstd gzip lz4 deflate zlib; do
    t "$a: compress" "$p" compress --alg $a in c.$a
    t "$a: decompress and compare" sh -c "\"$p\" decompress --alg $a c.$a d.$a && cmp -s in d.$a"
done
t "gzip -d reads our gzip" sh -c "gzip -dc < c.gzip | cmp -s - in"
t "zstd -d reads our zstd" sh -c "zstd -qdc c.zstd | cmp -s - in"
t "lz4 -d reads our lz4" sh -c "lz4 -qdc c.lz4 | cmp -s - in"
t "we read gzip -9 output" sh -c "gzip -9c in > g.gz && \"$p\" decompress --alg gzip g.gz dg && cmp -s in dg"
t "we read zstd -19 output" sh -c "zstd -q19c in > z.zst && \"$p\" decompress --alg zstd z.zst dz && cmp -s in dz"
t "compress with 2 queues, busy-poll, level 9" sh -c "\"$p\" --queues 2 --poll compress --alg zstd --level 9 in c2 && \"$p\" decompress --alg zstd c2 d2 && cmp -s in d2"
t "sha256 matches sha256sum" sh -c "[ \"\$(\"$p\" digest --alg sha256 in)\" = \"\$(sha256sum in)\" ]"
t "sha512 matches sha512sum" sh -c "[ \"\$(\"$p\" digest --alg sha512 in)\" = \"\$(sha512sum in)\" ]"
t "crc32c check value" sh -c "[ \"\$(\"$p\" crc32c check)\" = \"e3069283  check\" ]"
for a in aes-256-gcm chacha20-poly1305; do
    t "$a: encrypt" "$p" encrypt --alg $a --key-file key in e.$a
    t "$a: decrypt and compare" sh -c "\"$p\" decrypt --key-file key e.$a de.$a && cmp -s in de.$a"
done
# One process at a time per device: no pipe between two instances.
t "stdin to stdout" sh -c "\"$p\" encrypt --key-file key - - < check > e.pipe && \"$p\" decrypt --key-file key - - < e.pipe | cmp -s - check"
"$p" decrypt --key-file badkey e.aes-256-gcm bad 2>err; rc=$?
t "wrong key: exit 1, no output, a message" sh -c "[ $rc = 1 ] && [ ! -e bad ] && grep -q authentication err"
cp e.chacha20-poly1305 tampered
# Invert the byte (writing a constant leaves it unchanged one time in 256).
byte=$(od -An -tu1 -j 4000000 -N1 tampered)
printf "\\$(printf '%03o' $((255 - byte)))" | dd of=tampered bs=1 seek=4000000 conv=notrunc 2>/dev/null
t "the tampered copy differs" sh -c "! cmp -s e.chacha20-poly1305 tampered"
"$p" decrypt --key-file key tampered bad 2>/dev/null; rc=$?
t "tampered file: exit 1" [ $rc = 1 ]
head -c 1048608 e.aes-256-gcm > truncated
"$p" decrypt --key-file key truncated bad 2>/dev/null; rc=$?
t "truncated file: exit 1" [ $rc = 1 ]
"$p" frobnicate 2>/dev/null; rc=$?
t "unknown command: exit 2" [ $rc = 2 ]
"$p" compress --alg rot13 in x 2>/dev/null; rc=$?
t "unknown algorithm: exit 2" [ $rc = 2 ]
"$p" digest no-such-file 2>/dev/null; rc=$?
t "missing input: exit 1" [ $rc = 1 ]
"$p" --device 7 info 2>/dev/null; rc=$?
t "no such device: exit 1" [ $rc = 1 ]
"$p" --device 1 info 2>err; rc=$?
t "refused device: exit 1 with the backend'"'"'s reason" sh -c "[ $rc = 1 ] && grep -q bogus err"
"$p" -v compress --alg zstd in c.v 2>&1 >/dev/null | sed "s/^/# /"
"$p" -v encrypt --key-file key in e.v 2>&1 >/dev/null | sed "s/^/# /"
exit $fail
' sh "$w" "$(cd "$b" && pwd)"
rc=$?
if [ $rc != 0 ]; then
    echo "---- pvacceld log ----"
    cat "$dir/pvacceld.log"
fi
exit $rc
