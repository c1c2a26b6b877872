# Platform exchange: the demo (tools/sim-demo.c) with its backend role in
# dom0 and its guest role in a PV guest, over real Xen: a page granted
# through gntalloc and mapped through gntdev, an unbound event channel bound
# interdomain, the handshake through xenstore, 1000 event round trips, then
# dom0 unmaps and the guest ends its grant.  The platform layer's xen
# implementation, end to end.
. /lib/pvaccel-xen/dom0-lib.sh

guest_create demo platform-exchange || exit 1
domid=$(guest_domid demo) || exit 1
# The backend first: it watches for the guest's nodes before they exist.
pvaccel-sim-demo backend "$domid" >backend.log 2>&1 &
backend=$!
guest_unpause demo || exit 1
wait "$backend"    # bounded by the scenario's time limit
backend_status=$?
guest_console_wait demo 'pvaccel-guest: exit status=' 60
guest_wait_gone demo 30
guest_console demo >guest.log
sed 's/^/dom0| /' backend.log
cat guest.log

check "the backend exits 0" [ "$backend_status" = 0 ]
expect backend.log "backend: mapped ref [0-9]* of domain $domid: \"hello from domain $domid\""
expect backend.log "backend: bound event channel [0-9]* of domain $domid as port [0-9]*"
expect guest.log "guest:   dom0 answered: \"hello domain $domid, this is dom0\""
expect guest.log 'guest:   1000 event round trips in'
expect backend.log 'backend: served 1000 round trips, unmapped, unbound'
expect guest.log 'guest:   dom0 unmapped; grant ended'
expect guest.log 'guest:   xenstore: state = "unmapped"'
expect guest.log 'pvaccel-guest: exit status=0'
note "$(sed -n 's/.*guest: *\(1000 event round trips.*\)/\1/p' guest.log)"
verdict
