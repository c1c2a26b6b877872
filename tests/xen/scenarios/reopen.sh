# Close and reopen from the guest: the pvaccel tool opens, uses and closes
# the device three times in a row (reopen.guest.sh), each time a new
# connection; then dom0 detaches the idle device (pvaccel-ctl detach) and
# attaches it again, and the guest connects and works once more.
. /lib/pvaccel-xen/dom0-lib.sh

guest_create ro reopen || exit 1
d=$(guest_domid ro) || exit 1
be=$(vaccel_be ro)
fe=$(vaccel_fe ro)
vaccel_attach ro || exit 1
backend_start || exit 1
guest_unpause ro || exit 1
check "the guest ran three times" xs_wait "/local/domain/$d/data/closed" 1 90
echo "after the third close: frontend state $(xenstore-read "$fe/state")," \
    "backend state $(xenstore-read "$be/state")"
check "detach" pvaccel-ctl detach "$d"
check "detach removed the backend directory" fails xenstore-exists "$be"
check "detach removed the frontend directory" fails xenstore-exists "$fe"
guest_tell ro detached
check "the guest tried" xs_wait "/local/domain/$d/data/tried" 1 30
check "attach again" vaccel_attach ro
guest_tell ro attached
guest_console_wait ro 'pvaccel-guest: exit status=' 60
guest_wait_gone ro 30
check "pvacceld exits 0 on SIGTERM" backend_stop
guest_console ro >guest.log
backend_log
cat guest.log
check "four connections" [ "$(grep -c "vaccel $d/0: connected" pvacceld.log)" = 4 ]
check "no check failed in the guest" fails grep -q '^ro| not ok' guest.log
expect guest.log 'ro| ok - run 3 (3 queue(s)): the check value'
expect guest.log 'ro| ok - no device while detached'
expect guest.log 'ro| ok - after attach: the check value'
expect guest.log 'pvaccel-guest: exit status=0'
verdict
