#!/bin/sh
# ctl-fake-xl.sh: xl on the sim, for tests/ctl-create.sh.  Just what
# `pvaccel-ctl create` asks of xl, done with pvaccel-sim and the real
# xenstore tools, in dom0 (run under `pvaccel-sim run 0`):
#
#   create -F -p CFG [KEY=VALUE...]  builds the domain named in CFG (or
#       by name=...), prints xl's line "Waiting for domain NAME (domid N)
#       to die [pid P]", then watches it as xl -F does: when its
#       control/shutdown reads "reboot" (what `xl reboot` writes) it
#       destroys it and builds it again, as on_reboot="restart"; when the
#       domain is gone it exits 0.
#   unpause DOMID   appends "unpause DOMID: DEVIDS" to $FAKE_XL_LOG, with
#       the vaccel devices dom0's backend has for it at that moment.
#   destroy DOMID   pvaccel-sim destroy.
#
# Needs $PVACCEL_SIM (the pvaccel-sim binary) and $FAKE_XL_LOG; the sim's
# directory comes from $PVACCEL_SIM_DIR, which pvaccel-sim run sets.
set -u
sim=$PVACCEL_SIM
echo "$*" >>"$FAKE_XL_LOG.calls"

# A rebuilt domain gets the next domid, as on Xen (the sim would reuse).
build() {
    d=$("$sim" create ${d:+--domid $((d + 1))} "$name") || exit 1
    echo "Waiting for domain $name (domid $d) to die [pid $$]" >&2
}

create() {
    if [ "$1" != -F ] || [ "$2" != -p ]; then
        echo "fake xl: expected create -F -p, got: $*" >&2
        exit 2
    fi
    cfg=$3
    shift 3
    d=
    name=$(sed -n 's/^ *name *= *"\(.*\)".*/\1/p' "$cfg")
    for kv; do
        case $kv in name=*) name=$(echo "${kv#name=}" | tr -d '"') ;; esac
    done
    echo "Parsing config from $cfg" >&2
    build
    # Bounded: a test that forgets its domain ends here after 10 minutes.
    n=0
    while [ $n -lt 120 ]; do
        if ! xenstore-exists "/local/domain/$d" 2>/dev/null; then
            echo "Domain $d has been destroyed." >&2
            exit 0
        fi
        if [ "$(xenstore-read "/local/domain/$d/control/shutdown" \
                2>/dev/null)" = reboot ]; then
            echo "Domain $d has shut down, reason code 1 0x1" >&2
            "$sim" destroy "$d" >/dev/null
            build
            continue
        fi
        timeout 5 xenstore-watch -n 2 "/local/domain/$d" >/dev/null 2>&1
        n=$((n + 1))
    done
    echo "fake xl: domain $d still there after 10 minutes" >&2
    exit 1
}

case $1 in
create)
    shift
    create "$@" ;;
unpause)
    echo "unpause $2: $(xenstore-list "/local/domain/0/backend/vaccel/$2" \
        2>/dev/null | tr '\n' ' ')" >>"$FAKE_XL_LOG" ;;
destroy)
    "$sim" destroy "$2" ;;
*)
    echo "fake xl: $1 is not faked" >&2
    exit 2 ;;
esac
