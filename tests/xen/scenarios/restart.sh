# Backend restart: SIGKILL pvacceld while a guest streams a file through
# its device, start it again; the new instance republishes the device
# (InitWait), the library reconnects, the tool runs the lost chunks again
# and finishes, and the output is intact (restart.guest.sh).
. /lib/pvaccel-xen/dom0-lib.sh

guest_create rs restart || exit 1
d=$(guest_domid rs) || exit 1
be=$(vaccel_be rs)
vaccel_attach rs || exit 1
backend_start || exit 1
guest_unpause rs || exit 1
check "the guest is ready" xs_wait "/local/domain/$d/data/ready" 1 60
# Under load: a few chunks done, more in flight.
check "compressing" wait_for 60 backend_answered compress 2
backend_stats >before.json
kill -KILL "$backend_pid"
wait "$backend_pid"
echo "pvacceld killed (status $?) with $(tr -d '\n' <before.json)"
echo "backend state left behind: $(xenstore-read "$be/state")"
check "a new pvacceld starts" backend_start
guest_console_wait rs 'pvaccel-guest: exit status=' 180
guest_wait_gone rs 30
check "pvacceld exits 0 on SIGTERM" backend_stop
guest_console rs >guest.log
backend_log
cat guest.log
expect before.json "\"frontend-id\":$d,\"devid\":0,\"state\":4,"
expect before.json '"in_flight":[1-9]'
check "the new instance connected" \
    [ "$(grep -c "vaccel $d/0: connected" pvacceld.log)" -ge 3 ]
check "no check failed in the guest" fails grep -q '^rs| not ok' guest.log
expect guest.log 'rs| ok - compress across the restart'
expect guest.log 'rs| ok - round trip'
expect guest.log 'pvaccel-guest: exit status=0'
verdict
