# vaccel attach: pvaccel-ctl attach, run in dom0 against the real xenstored,
# writes the device's backend and frontend directories with the permissions
# libxl gives a PV device: the owning guest reads both and writes only its
# frontend directory, another guest sees neither.  tests/ctl-attach.sh is
# the sim's counterpart; the other scenarios attach devices this way.
. /lib/pvaccel-xen/dom0-lib.sh

guest_create owner vaccel-attach-owner || exit 1
guest_create other vaccel-attach-other || exit 1
fe_id=$(guest_domid owner) || exit 1
other_id=$(guest_domid other) || exit 1
be=/local/domain/0/backend/vaccel/$fe_id/0
fe=/local/domain/$fe_id/device/vaccel/0

check "attach" vaccel_attach owner --params engine=cpu
check "attach twice is refused" fails vaccel_attach owner
xenstore-ls -p "$be" >backend.txt
xenstore-ls -p "$fe" >frontend.txt
sed "s|^|$be/|" backend.txt
sed "s|^|$fe/|" frontend.txt
expect backend.txt "^frontend-id = \"$fe_id\" .*(n0,r$fe_id)"
expect backend.txt '^online = "1"'
expect backend.txt '^state = "1"'
expect frontend.txt "^backend-id = \"0\" .*(n$fe_id,r0)"
expect frontend.txt "^backend = \"$be\""

# The other guest learns whose device to look for from its own data/.
xenstore-write "/local/domain/$other_id/data/owner" "$fe_id"
guest_unpause owner && guest_unpause other || exit 1
for g in owner other; do
    guest_console_wait $g 'pvaccel-guest: exit status=' 60
    guest_wait_gone $g 30
    guest_console $g >$g.log
    cat $g.log
done
expect owner.log 'owner: reads the backend directory'
expect owner.log 'owner: writes its frontend directory'
expect owner.log 'owner: cannot write the backend state'
expect owner.log 'owner: cannot write online'
expect other.log 'other: cannot read the backend directory'
expect other.log 'other: cannot read the frontend directory'
expect owner.log 'pvaccel-guest: exit status=0'
expect other.log 'pvaccel-guest: exit status=0'
check "the backend state is still Initialising" \
    [ "$(xenstore-read "$be/state")" = 1 ]
# No backend serves the device here: remove what attach wrote (the
# frontend directory went with the guest).
xenstore-rm "$be"
verdict
