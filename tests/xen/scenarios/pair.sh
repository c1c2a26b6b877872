# Two guests at once, each with its own vaccel device served by one
# pvacceld: neither can read the other's device nodes (pair.guest.sh), both
# devices are Connected at the same time, and both stream a file through
# their device concurrently and get it back intact.
. /lib/pvaccel-xen/dom0-lib.sh

guest_create a pair || exit 1
guest_create b pair || exit 1
da=$(guest_domid a) && db=$(guest_domid b) || exit 1
vaccel_attach a && vaccel_attach b || exit 1
guest_tell a peer "$db"
guest_tell b peer "$da"
backend_start || exit 1
guest_unpause a && guest_unpause b || exit 1
check "a: Connected" xs_wait "$(vaccel_fe a)/state" 4 90
check "b: Connected" xs_wait "$(vaccel_fe b)/state" 4 90
backend_stats >both.json
cat both.json
for d in $da $db; do
    expect both.json "\"frontend-id\":$d,\"devid\":0,\"state\":4,"
done
guest_tell a go
guest_tell b go
for g in a b; do
    guest_console_wait $g 'pvaccel-guest: exit status=' 120
    guest_wait_gone $g 30
done
check "pvacceld exits 0 on SIGTERM" backend_stop
guest_console a >a.log
guest_console b >b.log
backend_log
cat a.log b.log
for g in a b; do
    check "$g: no check failed in the guest" fails grep -q "^$g| not ok" $g.log
    expect $g.log "$g| ok - cannot read the other guest's frontend directory"
    expect $g.log "$g| ok - round trip"
    expect $g.log 'pvaccel-guest: exit status=0'
done
verdict
