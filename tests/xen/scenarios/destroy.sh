# xl destroy of a guest under load: the backend releases every grant
# mapping and event channel of the device, shown by its own statistics and
# by the kernel's view of the daemon (gntdev mappings in /proc/PID/maps,
# its event channels in /proc/interrupts), and removes the device's backend
# directory; xl removes the frontend's with the domain.  The daemon stays
# up and exits cleanly afterwards.
. /lib/pvaccel-xen/dom0-lib.sh

# resources FILE: what the kernel says pvacceld holds.
resources() {
    {
        echo "gntdev mappings: $(grep -c /dev/xen/gntdev "/proc/$backend_pid/maps")"
        echo "event channels: $(grep -c 'evtchn:pvacceld' /proc/interrupts)"
    } >"$1"
    cat "$1"
}

guest_create victim destroy || exit 1
d=$(guest_domid victim) || exit 1
be=$(vaccel_be victim)
fe=$(vaccel_fe victim)
vaccel_attach victim || exit 1
backend_start || exit 1
resources idle.txt
guest_unpause victim || exit 1
check "the guest is ready" xs_wait "/local/domain/$d/data/ready" 1 60
check "compressing" wait_for 60 backend_answered compress 2
backend_stats >before.json
resources before.txt
echo "before: $(cat before.json)"
check "xl destroy" xl destroy victim
check "the backend removes the backend directory" xs_gone "$be" 30
check "the frontend directory is gone" fails xenstore-exists "$fe"
check "pvacceld releases the device" \
    wait_for 30 sh -c "! pvacceld-stats $PWD | grep -q '\"frontend-id\":$d,'"
backend_stats >after.json
resources after.txt
echo "after: $(cat after.json)"
expect before.json "\"frontend-id\":$d,\"devid\":0,\"state\":4,\"teardown\":false,\"connections\":1,\"queues\":2,"
expect before.json "\"domains\":\[{\"domid\":$d,\"regions\":[1-9]"
expect before.json '"in_flight":[1-9]'
expect before.txt 'gntdev mappings: [1-9]'
expect before.txt 'event channels: [1-9]'
expect after.json '"devices":\[\]'
expect after.json '"domains":\[\]'
check "no gntdev mapping left" cmp idle.txt after.txt
expect pvacceld.log "vaccel $d/0: frontend domain gone, device released"
check "pvacceld still runs" kill -0 "$backend_pid"
check "pvacceld exits 0 on SIGTERM" backend_stop
guest_console victim | tail -n 5
verdict
