#!/bin/sh
# pvaccel-ctl attach/detach on the sim: the two device directories with
# libxl's permissions, seen from dom0, the owning guest and another guest.
set -u
sim="$top_builddir/pvaccel-sim"
ctl="$top_builddir/pvaccel-ctl"
xs_ls=${XENSTORE_LS:-xenstore-ls}
command -v "$xs_ls" >/dev/null 2>&1 || { echo "SKIP: xenstore-ls missing"; exit 77; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/pvaccel-ctl.XXXXXX")
trap '"$sim" --dir "$dir" stop >/dev/null 2>&1; rm -rf "$dir"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...
    what=$1; shift
    if "$@" >/dev/null 2>&1; then echo "ok - $what"; else echo "not ok - $what"; fail=1; fi
}
run() { "$sim" --dir "$dir" run "$@"; }

"$sim" --dir "$dir" start >/dev/null || exit 99
g1=$("$sim" --dir "$dir" create g1)
g2=$("$sim" --dir "$dir" create g2)
be=/local/domain/0/backend/vaccel/$g1/0
fe=/local/domain/$g1/device/vaccel/0

check "attach" run 0 -- "$ctl" --platform sim attach "$g1" --params engine=cpu
check "attach twice is refused" sh -c "! '$sim' --dir '$dir' run 0 -- '$ctl' --platform sim attach $g1"
tree=$(run 0 -- "$xs_ls" -p "$be")
echo "$tree"
check "backend dir owned by dom0, readable by the guest" \
    sh -c "printf '%s\n' \"\$1\" | grep -q '^frontend-id = \"$g1\".*(n0,r$g1)'" sh "$tree"
check "backend online and Initialising" \
    sh -c "printf '%s\n' \"\$1\" | grep -q '^online = \"1\"' && printf '%s\n' \"\$1\" | grep -q '^state = \"1\"'" sh "$tree"
tree=$(run 0 -- "$xs_ls" -p "$fe")
echo "$tree"
check "frontend dir owned by the guest, readable by dom0" \
    sh -c "printf '%s\n' \"\$1\" | grep -q '^backend-id = \"0\".*(n$g1,r0)'" sh "$tree"

# Another guest cannot see the device at all.
check "another guest cannot read the device" \
    run g2 -- sh -c "! xenstore-read $be/frontend-id && ! xenstore-read $fe/state"
# The guest, in one process (the domain lives as long as its processes).
check "the guest reads its backend dir and writes its frontend dir, nothing else" \
    run g1 -- sh -c "xenstore-read $be/frontend-id &&
                     xenstore-write device/vaccel/0/state 3 &&
                     ! xenstore-write $be/state 4 &&
                     ! xenstore-write $be/online 0"
check "detach" run 0 -- "$ctl" --platform sim detach "$g1"
check "both directories are gone" \
    run 0 -- sh -c "! xenstore-read $be/state && ! xenstore-read $fe/state"
exit $fail
