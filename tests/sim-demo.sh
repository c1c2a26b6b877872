#!/bin/sh
# The main job end to end: a guest and dom0 exchange a grant, an event
# channel and xenstore nodes through the sim, with the real xenstore-ls.
set -eu
out=$("$top_srcdir/tools/pvaccel-platform-demo.sh" "$top_builddir" 2>&1) || {
    echo "$out"
    echo "FAIL: the demo exited non-zero"
    exit 1
}
echo "$out"
fail=0
expect() {
    if printf '%s\n' "$out" | grep -q -- "$1"; then
        echo "ok - $1"
    else
        echo "not ok - $1"
        fail=1
    fi
}
expect 'backend: mapped ref [0-9]* of domain [0-9]*: "hello from domain [0-9]*"'
expect 'guest:   dom0 answered: "hello domain [0-9]*, this is dom0"'
expect 'guest:   1000 event round trips'
expect 'ending the grant while dom0 maps it: EBUSY'
expect 'guest:   dom0 unmapped; grant ended'
expect 'backend: served 1000 round trips, unmapped, unbound'
expect 'guest: *ring-ref = "[0-9]*"'
expect 'guest: *state = "unmapped"'
if printf '%s\n' "$out" | grep -q '^guest1 '; then
    echo "not ok - the guest domain died with its processes"
    fail=1
fi
exit $fail
