#!/bin/sh
# SPDX-License-Identifier: MIT
#
# wire-order: hold the sources to the byte-order rule of
# xen-protocol/accelif.h ("Byte order"): every field in shared memory is in
# the native byte order of the ABI frontend and backend share, as in Xen's
# own rings, and neither side converts it.
#
# On a little-endian host a conversion such as htole32() compiles to
# nothing, so no run-time test here can tell a stray one from none (and a
# big-endian build would need a cross toolchain, libraries and an emulator
# the machines do not have).  This test reads the C sources instead: it
# fails on any byte-order conversion call and on any include of the headers
# that provide them, in every directory that holds C code.
#
# A real non-wire use (a network socket, a file format) may stay if its
# line says why, with the marker "not wire data:" and the reason:
#     port = htons(p);  /* not wire data: TCP port of the bench socket */
# Encodings written octet by octet with shifts (the file format of
# pvaccel-tool.c, FILL's pattern in the CPU engine) are not conversions and
# are not flagged.  The test does not parse C: a comment that names one of
# these calls is flagged too; reword it.
#
# Exit: 0 clean, 1 a conversion was found, 99 the test itself is broken.
#
# Needs: top_srcdir (set by `make check`).

srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
dirs="frontend backend tools tests sim platform xen-protocol"
allow='not wire data: *[[:alnum:]]'

# Conversion calls: glibc/BSD <endian.h>, <byteswap.h>, GCC builtins,
# sockets, BSD encoders and the Linux kernel's names.
conv='\<(hto(le|be)(16|32|64)|(le|be)(16|32|64)toh|(le|be)(16|32|64)(enc|dec)'
conv=$conv'|(__)?bswap_(16|32|64)|__bswap_constant_(16|32|64)'
conv=$conv'|__builtin_bswap(16|32|64|128)|hton[ls]|ntoh[ls]'
conv=$conv'|cpu_to_(le|be)(16|32|64)|(le|be)(16|32|64)_to_cpu)\>'
incl='^[[:space:]]*#[[:space:]]*include[[:space:]]*<((sys/|machine/)?endian|byteswap)\.h>'

scan() {
    grep -rnE --include='*.c' --include='*.h' -e "$conv" -e "$incl" "$@"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/wire-order.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

# The patterns must find what they are meant to find, or a clean result
# means nothing (a grep without \< \>, a typo in the expression).
cat > "$tmp/bad.c" <<'EOF'
#include <endian.h>
# include <byteswap.h>
x = htole32(y); y = le64toh(z); z = __builtin_bswap16(w);
n = htonl(a); b = cpu_to_le16(c);
s = htons(p); /* not wire data: a socket port */
EOF
cat > "$tmp/good.c" <<'EOF'
put_le64(p, v); v = get_le32(p); x = my_htole32_count; pattern = v;
EOF
if [ "$(scan "$tmp/bad.c" | wc -l)" -ne 5 ] ||
   [ "$(scan "$tmp/bad.c" | grep -c -e "$allow")" -ne 1 ] ||
   scan "$tmp/good.c" >/dev/null; then
    echo "ERROR: the patterns do not behave on the self-test sample"
    exit 99
fi

cd "$srcdir" || exit 99
nfiles=0
for d in $dirs; do
    [ -d "$d" ] || { echo "ERROR: $srcdir/$d missing"; exit 99; }
    nfiles=$((nfiles + $(find "$d" -name '*.[ch]' | wc -l)))
done
[ "$nfiles" -gt 0 ] || { echo "ERROR: no C sources under $srcdir"; exit 99; }

scan $dirs > "$tmp/hits"
grep -e "$allow" "$tmp/hits" | sed 's/^/allowed: /'
if grep -v -e "$allow" "$tmp/hits" > "$tmp/bad"; then
    cat "$tmp/bad"
    echo "FAIL: $(wc -l < "$tmp/bad") byte-order conversion(s) in" \
         "$nfiles C files: wire fields are native order (accelif.h)"
    exit 1
fi
echo "PASS: no byte-order conversion in $nfiles C files"
exit 0
