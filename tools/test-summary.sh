#!/bin/sh
# Add up automake test-suite logs into one closing line:
#   check-all: N passed, N failed, N skipped
pass=0 fail=0 skip=0
for log in "$@"; do
    [ -f "$log" ] || continue
    eval "$(awk -F': *' '
        /^# PASS:/  { p += $2 } /^# XFAIL:/ { p += $2 }
        /^# FAIL:/  { f += $2 } /^# XPASS:/ { f += $2 } /^# ERROR:/ { f += $2 }
        /^# SKIP:/  { s += $2 }
        END { printf "pass=$((pass+%d)) fail=$((fail+%d)) skip=$((skip+%d))\n", p, f, s }' "$log")"
done
echo "check-all: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
