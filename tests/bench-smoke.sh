#!/bin/sh
# The benchmark driver in --quick mode: it sets up the sim, pvacceld and
# guests, runs every path and prints its table; then the tool against the
# commands (tools/tool-vs-native.sh --quick).  Figures are not checked:
# a benchmark is never pass/fail on speed (docs/performance.md).
set -eu
b=${top_builddir:-.}
s=${top_srcdir:-$(dirname "$0")/..}
log=$(mktemp "${TMPDIR:-/tmp}/bench-smoke.XXXXXX")
trap 'rm -f "$log"' EXIT

sh "$s/tools/pvaccel-bench.sh" --builddir "$b" --quick > "$log" 2>&1 || {
    cat "$log"; echo "bench-smoke: the driver failed"; exit 1; }
cat "$log"
for want in "op size" "native" "shm ring depth 1" "eventfd ping-pong" \
            "targets" "mallocs per request" "backend VmRSS"; do
    grep -q "$want" "$log" || { echo "bench-smoke: no '$want' in the output"; exit 1; }
done
# Every pvaccel cell of the quick matrix has a figure.
if grep -E '^(nop|crc32c|zstd-1) ' "$log" | awk '$6 == "-" { bad = 1 } END { exit !bad }'; then
    echo "bench-smoke: a pvaccel case printed no figure"; exit 1
fi
# The tool against the commands, on 4 MiB: it runs, its outputs check.
sh "$s/tools/tool-vs-native.sh" --builddir "$b" --quick > "$log" 2>&1 || {
    cat "$log"; echo "bench-smoke: tool-vs-native failed"; exit 1; }
cat "$log"
for want in "zstd -1" "gzip -1" "lz4 -1" "sha256" "aes-256"; do
    grep -q "^$want " "$log" || { echo "bench-smoke: no '$want' row"; exit 1; }
done
echo "bench-smoke: ok"
