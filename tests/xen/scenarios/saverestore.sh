# xl save, then xl restore on the same host, of a guest whose pvaccel tool
# holds a connected device.  xl knows nothing of vaccel devices, so dom0
# attaches the device again to the restored domain before unpausing it, as
# a toolstack with a vaccel device type would, and a second one for a new
# frontend process.  The backend releases the saved domain's device and
# serves the restored domain's; the new process works.  The connection
# made before the save does not survive: the guest kernel's evtchn driver
# hits BUG_ON(irq < 0) when the old process unbinds its event channels, an
# expected failure documented in docs/testing.md, "Save and restore".
. /lib/pvaccel-xen/dom0-lib.sh

guest_create sr saverestore || exit 1
d=$(guest_domid sr) || exit 1
be=$(vaccel_be sr)
vaccel_attach sr || exit 1
backend_start || exit 1
guest_unpause sr || exit 1
check "Connected before the save" xs_wait "$(vaccel_fe sr)/state" 4 60
# The save image (~130 MiB) goes to /run, a tmpfs: the root file system
# holds the images and has too little room left.
t0=$(date +%s)
check "xl save" xl save sr /run/sr.save
t1=$(date +%s)
check "the backend releases the saved domain's device" xs_gone "$be" 30
check "xl restore (paused)" xl restore -p /run/sr.save
t2=$(date +%s)
rm -f /run/sr.save
d2=$(guest_domid sr) || exit 1
echo "saved domain $d in $((t1 - t0)) s, restored as domain $d2 in $((t2 - t1)) s"
check "attach device 0 to the restored domain" vaccel_attach sr
check "attach device 1 to the restored domain" vaccel_attach sr --devid 1
guest_unpause sr || exit 1
guest_tell sr go
check "the new process ran" xs_wait "/local/domain/$d2/data/fresh" 1 60
bug='kernel BUG at drivers/xen/evtchn.c'
guest_console_wait sr "pvaccel-guest: exit status=\|$bug" 90
guest_console sr >guest.log
if grep -q "$bug" guest.log; then
    xl destroy sr       # the old process hangs in its exit: no power off
else
    guest_wait_gone sr 30
fi
check "pvacceld exits 0 on SIGTERM" backend_stop
backend_log
cat guest.log
note "xl save $((t1 - t0)) s, xl restore $((t2 - t1)) s"
expect pvacceld.log "vaccel $d/0: frontend domain gone, device released"
expect pvacceld.log "vaccel $d2/1: connected"
expect guest.log 'sr| ok - a new pvaccel process works after the restore'
if [ "$failures" = 0 ] && grep -q "$bug" guest.log; then
    xfail "the pvaccel process connected before the save crashes the" \
        "restored guest's evtchn driver (BUG_ON(irq < 0) on unbind); its" \
        "grants and event channels died with the old domain" \
        "(docs/testing.md, Save and restore)"
    exit 1
fi
expect guest.log 'sr| ok - the connection opened before the save works after the restore'
expect guest.log 'pvaccel-guest: exit status=0'
verdict
