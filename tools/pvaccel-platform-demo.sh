#!/bin/sh
# The platform exchange on the sim: start pvaccel-sim, create a guest domain, and run
# a grant + event channel + xenstore exchange between it and dom0.
#   tools/pvaccel-platform-demo.sh [BUILDDIR]
set -eu
builddir=${1:-.}
sim="$builddir/pvaccel-sim"
demo="$builddir/tools/pvaccel-sim-demo"
dir=$(mktemp -d "${TMPDIR:-/tmp}/pvaccel-demo.XXXXXX")
cleanup() {
    "$sim" --dir "$dir" stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

"$sim" --dir "$dir" start
guest=$("$sim" --dir "$dir" create guest1)
echo "sim:     created domain 'guest1' with domid $guest"
"$sim" --dir "$dir" run 0 -- "$demo" backend "$guest" &
backend_pid=$!
xsls=$(command -v xenstore-ls || true)
"$sim" --dir "$dir" run guest1 -- sh -c '
    "$1" guest --rounds 1000 || exit 1
    [ -n "$2" ] || exit 0
    echo "guest:   its xenstore data/, read by the guest with the real xenstore-ls:"
    "$2" -p data | sed "s/^/guest:     /"' sh "$demo" "$xsls"
wait "$backend_pid"
echo "sim:     the guest's processes have exited, so its domain is gone:"
"$sim" --dir "$dir" list
