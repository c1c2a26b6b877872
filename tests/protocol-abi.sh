#!/bin/sh
# SPDX-License-Identifier: MIT
#
# protocol-abi: prove that the vaccel wire layout (xen-protocol/accelif.h) is
# the same on every Xen ABI, not just the one `make check` builds for.
#
#  - x86_32: build tests/protocol-layout.c with `gcc -m32` (and `clang -m32`)
#    and run it: on i386 uint64_t is 4-byte aligned in structures, the one
#    classic trap for shared-ring layouts;
#  - arm64, arm32, x86_32, x86_64: compile the header with clang cross
#    targets (freestanding, syntax only): its _Static_asserts pin every size
#    and offset, so compiling is the check.  arm64 and arm32 (EABI) align
#    uint64_t to 8 like x86_64, so the explicit layout needs no padding
#    there either.
#
# Each check runs when its compiler is there and is reported as skipped
# otherwise; the test is skipped (77) when none could run, fails (1) when
# any ran and failed.
#
# Needs: top_srcdir (set by `make check`), optionally CC, XEN_INCLUDEDIR.

srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
xeninc=${XEN_INCLUDEDIR:-/usr/include}
hdrdir=$srcdir/xen-protocol
warn="-std=gnu11 -Wall -Wextra -Wpedantic -Werror"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/protocol-abi.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

ran=0
failed=0

pass() { echo "ok   $*"; ran=$((ran + 1)); }
fail() { echo "FAIL $*"; ran=$((ran + 1)); failed=$((failed + 1)); }
skip() { echo "skip $*"; }

# 1. x86_32 run-time check, with every 32-bit capable compiler we have.
for cc in ${CC:-gcc} gcc clang; do
    command -v "$cc" >/dev/null 2>&1 || continue
    case " $seen " in *" $cc "*) continue ;; esac
    seen="$seen $cc"
    if ! echo 'int main(void){return 0;}' > "$tmp/probe.c" ||
       ! $cc -m32 "$tmp/probe.c" -o "$tmp/probe" >/dev/null 2>&1; then
        skip "x86_32 run with $cc -m32 (no 32-bit libc: apt-get install gcc-multilib)"
        continue
    fi
    if $cc -m32 $warn -I"$hdrdir" "$srcdir/tests/protocol-layout.c" \
            -o "$tmp/layout32" > "$tmp/cc.log" 2>&1 &&
       "$tmp/layout32" > "$tmp/run.log" 2>&1; then
        pass "x86_32: $cc -m32 build and run ($(tail -n 1 "$tmp/run.log"))"
    else
        cat "$tmp/cc.log" "$tmp/run.log" 2>/dev/null
        fail "x86_32: $cc -m32 build and run"
    fi
done

# 2. Static assertions for the other ABIs, with clang cross targets.
if command -v clang >/dev/null 2>&1 && [ -d "$xeninc/xen" ]; then
    res=$(clang -print-resource-dir 2>/dev/null)
    mkdir -p "$tmp/inc"
    ln -s "$xeninc/xen" "$tmp/inc/xen"
    # freestanding: no libc headers; accelif.h needs memset declared only
    printf '#include <stddef.h>\nvoid *memset(void *, int, size_t);\n' \
        > "$tmp/inc/string.h"
    printf '#include "accelif.h"\nint vaccel_abi_probe;\n' > "$tmp/abi.c"
    for t in aarch64-linux-gnu arm-linux-gnueabihf i686-linux-gnu x86_64-linux-gnu; do
        if clang --target=$t -ffreestanding -nostdinc -isystem "$res/include" \
                -isystem "$tmp/inc" $warn -fsyntax-only -I"$hdrdir" \
                "$tmp/abi.c" > "$tmp/cc.log" 2>&1; then
            pass "$t: header static assertions hold (clang)"
        else
            cat "$tmp/cc.log"
            fail "$t: header static assertions (clang)"
        fi
    done
else
    skip "cross-ABI static assertions (need clang and $xeninc/xen)"
fi

if [ "$ran" -eq 0 ]; then
    echo "SKIP: no cross-ABI check could run"
    exit 77
fi
if [ "$failed" -ne 0 ]; then
    echo "FAILED: $failed of $ran checks"
    exit 1
fi
echo "PASS: $ran cross-ABI checks"
exit 0
