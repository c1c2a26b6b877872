# Helpers for the guest side of a real-Xen scenario (busybox sh), sourced by
# /scenarios/ROLE.guest.sh.  Relative xenstore paths are the guest's own
# /local/domain/<self>/; dom0 writes data/NAME with guest_tell and waits for
# the guest's with xs_wait (tests/xen/dom0-lib.sh).

# wait_node NAME [SECONDS]: until dom0 writes data/NAME; prints its value.
# Woken by a watch, re-checked every 5 s in case the write came between the
# read and the watch.
wait_node() {
    local limit=$(($(date +%s) + ${2:-120}))
    until xenstore-read "data/$1" 2>/dev/null; do
        [ "$(date +%s)" -lt "$limit" ] || return 1
        timeout 5 xenstore-watch -n 2 "data/$1" >/dev/null 2>&1
    done
    return 0    # not the status of the last, timed-out watch
}

# tell NAME [VALUE]: write data/NAME for dom0.
tell() {
    xenstore-write "data/$1" "${2:-1}"
}

# check WHAT COMMAND...: COMMAND succeeds; prints "ok - WHAT" or "not ok -
# WHAT" (dom0 shows the guest's console), counted for verdict.
failures=0
check() {
    local what=$1
    shift
    if "$@"; then
        echo "ok - $what"
    else
        echo "not ok - $what"
        failures=$((failures + 1))
    fi
}

# fails COMMAND...: COMMAND fails (for check).
fails() {
    ! "$@"
}

# is FILE TEXT: FILE holds exactly the line TEXT (for check).
is() {
    [ "$(cat "$1")" = "$2" ]
}

# The guest script's exit status: 0 when every check passed.
verdict() {
    [ "$failures" = 0 ]
}
