#!/bin/sh
# The README's main job end to end: sim, pvacceld, a guest, the pvaccel
# tool compressing, digesting and encrypting 8 MiB of real data, checked
# against the libraries called directly.
set -u
out=$(sh "$top_srcdir/tools/pvaccel-demo.sh" "$top_builddir" 2>&1)
rc=$?
echo "$out"
fail=0
for alg in zstd gzip lz4; do
    for what in "$alg round trip is identical: ok" \
                "decompresses pvaccel's output: ok"; do
        printf '%s\n' "$out" | grep -q "check: .*$what" ||
            { echo "not ok - $what"; fail=1; }
    done
done
for what in "sha256 equals OpenSSL's (called directly): ok" \
            "sha512 equals OpenSSL's (called directly): ok" \
            "aes-256-gcm rejects a tampered file: ok" \
            "chacha20-poly1305 rejects a tampered file: ok" \
            "all checks passed"; do
    if printf '%s\n' "$out" | grep -q -- "$what"; then
        echo "ok - $what"
    else
        echo "not ok - $what"; fail=1
    fi
done
[ "$rc" -eq 0 ] || { echo "not ok - the main job exited $rc"; fail=1; }
exit $fail
