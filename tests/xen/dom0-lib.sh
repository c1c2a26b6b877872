# Helpers for the dom0 side of a real-Xen scenario (busybox sh; its
# "local" keeps the helpers off the scenario's variables).  A scenario
# is /scenarios/NAME.sh, run in its own directory /tmp/NAME; it sources this
# file, prints what it checks, and exits 0 (pass), 77 (skip) or else (fail).
# Its guests run /scenarios/ROLE.guest.sh from tests/xen/scenarios/.

# A line of the console protocol (tests/xen/suite.tap).
say() {
    echo "pvaccel-xen: $*"
}

# note TEXT: a line the host repeats in its TAP output (timings).
note() {
    say "note ${scenario:-dom0}: $*"
}

# xfail REASON: this scenario is known to fail, for REASON (documented).
xfail() {
    say "xfail $scenario: $*"
}

# skip REASON: end the scenario as skipped.
skip() {
    say "skip $scenario: $*"
    exit 77
}

scenario=$(basename "$PWD")
failures=0

# wait_for SECONDS COMMAND...: retry COMMAND until it succeeds, at most
# SECONDS: for state that nothing announces (a daemon's socket coming up).
wait_for() {
    local limit=$(($(date +%s) + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$limit" ] || return 1
        sleep 0.2
    done
}

# --- guests ----------------------------------------------------------------

# guest_create NAME ROLE [MEMORY_MB]: a PV guest, created paused so that its
# devices can be attached first, that runs /scenarios/ROLE.guest.sh.
guest_create() {
    cat >"$1.cfg" <<EOF
name = "$1"
type = "pv"
kernel = "/boot/vmlinux"
ramdisk = "/boot/domU.cpio"
extra = "console=hvc0 quiet pvaccel_role=$2"
memory = ${3:-128}
vcpus = 1
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
EOF
    xl create -p -q "$1.cfg"
}

guest_domid() {
    xl domid "$1"
}

guest_unpause() {
    xl unpause "$1"
}

# vaccel_attach NAME [ARGS]: the vaccel device's xenstore directories, as
# libxl would write them (pvaccel-ctl attach).
vaccel_attach() {
    local d
    d=$(guest_domid "$1") || return 1
    shift
    pvaccel-ctl attach "$d" "$@"
}

# guest_console_wait NAME PATTERN SECONDS: until the guest's console log has
# a line matching PATTERN.  xenconsoled writes the log as the guest prints.
guest_console_wait() {
    wait_for "$3" grep -q -- "$2" "/var/log/xen/console/guest-$1.log"
}

# guest_wait_gone NAME SECONDS: until the domain is destroyed.  Woken by a
# watch on its xenstore directory, re-checked every 5 s in case the removal
# happened before the watch was set.
guest_wait_gone() {
    local d limit
    d=$(guest_domid "$1" 2>/dev/null) || return 0
    limit=$(($(date +%s) + $2))
    while xenstore-exists "/local/domain/$d" 2>/dev/null; do
        [ "$(date +%s)" -lt "$limit" ] || return 1
        timeout 5 xenstore-watch -n 2 "/local/domain/$d" >/dev/null 2>&1
    done
    return 0    # not the status of the last, timed-out watch
}

# guest_console NAME: the guest's console so far, each line prefixed.
guest_console() {
    sed "s/^/$1| /" "/var/log/xen/console/guest-$1.log" 2>/dev/null
}

# xs_wait PATH VALUE SECONDS: until the xenstore node PATH reads VALUE.
# Woken by a watch on PATH, re-checked every 5 s in case the change came
# between the read and the watch.
xs_wait() {
    local limit=$(($(date +%s) + $3)) v
    until v=$(xenstore-read "$1" 2>/dev/null) && [ "$v" = "$2" ]; do
        if [ "$(date +%s)" -ge "$limit" ]; then
            echo "$1 is \"$v\", not \"$2\", after $3 s"
            return 1
        fi
        timeout 5 xenstore-watch -n 2 "$1" >/dev/null 2>&1
    done
    return 0    # not the status of the last, timed-out watch
}

# xs_gone PATH SECONDS: until the xenstore node PATH is removed.
xs_gone() {
    local limit=$(($(date +%s) + $2))
    while xenstore-exists "$1" 2>/dev/null; do
        [ "$(date +%s)" -lt "$limit" ] || return 1
        timeout 5 xenstore-watch -n 2 "$1" >/dev/null 2>&1
    done
    return 0    # not the status of the last, timed-out watch
}

# vaccel_be GUEST / vaccel_fe GUEST: the device directories of GUEST's
# vaccel device 0.
vaccel_be() {
    echo "/local/domain/0/backend/vaccel/$(guest_domid "$1")/0"
}
vaccel_fe() {
    echo "/local/domain/$(guest_domid "$1")/device/vaccel/0"
}

# guest_tell GUEST NAME [VALUE]: write data/NAME of GUEST, which its
# scenario script waits for (wait_node in the guest scripts).
guest_tell() {
    xenstore-write "/local/domain/$(guest_domid "$1")/data/$2" "${3:-1}"
}

# --- the backend -----------------------------------------------------------

# backend_start [ARGS]: pvacceld serving every device of dom0, in the
# background ($backend_pid), its log appended to pvacceld.log and its admin
# socket in the scenario's directory.  Returns once the socket answers.
backend_start() {
    rm -f pvacceld.sock
    pvacceld --platform xen --foreground --rundir "$PWD" "$@" \
        >>pvacceld.log 2>&1 &
    backend_pid=$!
    wait_for 10 pvacceld-stats "$PWD"
}

# backend_stop: SIGTERM, an orderly exit; its exit status.
backend_stop() {
    kill -TERM "$backend_pid" 2>/dev/null
    wait "$backend_pid"
}

# backend_stats: the backend's statistics, one JSON line.
backend_stats() {
    pvacceld-stats "$PWD"
}

# backend_answered OP N: the backend has answered at least N requests of
# OP (its stats' "ops"); with wait_for, "under load" without a sleep.
backend_answered() {
    local n
    n=$(backend_stats | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p")
    [ "${n:-0}" -ge "$2" ]
}

# backend_log: the backend's log so far, each line prefixed.
backend_log() {
    sed 's/^/dom0| /' pvacceld.log
}

# --- checks ----------------------------------------------------------------

# expect FILE PATTERN: a line of FILE matches the grep PATTERN.
expect() {
    if grep -q -- "$2" "$1"; then
        echo "ok - $1: $2"
    else
        echo "not ok - $1: $2"
        failures=$((failures + 1))
    fi
}

# check WHAT COMMAND...: COMMAND succeeds.
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

# The scenario's exit status.
verdict() {
    [ "$failures" = 0 ]
}
