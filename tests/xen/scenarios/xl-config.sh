# xl config: a guest whose config carries two vaccel entries, made by
# `pvaccel-ctl create` (xl create -F -p under it): both devices are
# Connected without any pvaccel-ctl attach, the guest does real work on
# both, list and stats show them; xl destroy leaves no vaccel node, grant
# mapping or event channel of the backend behind, and the monitor exits.
# Shown too: what xl itself keeps of the config (no "xl" userdata, no
# vaccel in libxl-json), why a watcher could not find the entries
# (docs/admin.md, "Devices that come up with the domain").
. /lib/pvaccel-xen/dom0-lib.sh

# resources FILE: what the kernel says pvacceld holds.
resources() {
    {
        echo "gntdev mappings: $(grep -c /dev/xen/gntdev "/proc/$backend_pid/maps")"
        echo "event channels: $(grep -c 'evtchn:pvacceld' /proc/interrupts)"
    } >"$1"
    cat "$1"
}

cat >guest.cfg <<CFG
name = "xlcfg"
type = "pv"
kernel = "/boot/vmlinux"
ramdisk = "/boot/domU.cpio"
extra = "console=hvc0 quiet pvaccel_role=xl-config"
memory = 128
vcpus = 1
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
vaccel = [ 'backend=0,queues=2,engine=cpu,max-in-flight=256',
           'devid=1,max-regions=8' ]
CFG
backend_start || exit 1
resources idle.txt
check "pvaccel-ctl create" sh -c \
    "pvaccel-ctl create --log '$PWD/monitor.log' guest.cfg >create.txt 2>&1"
sed 's/^/dom0| /' create.txt
d=$(guest_domid xlcfg) || exit 1
monitor=$(sed -n 's/.*monitor pid \([0-9]*\),.*/\1/p' create.txt)
be=/local/domain/0/backend/vaccel/$d
expect create.txt "domain xlcfg (domid $d): vaccel devices 0, 1 attached"

# What xl keeps of the config: a watcher would have only this to read.
ls /var/lib/xen >userdata.txt
sed 's/^/dom0| \/var\/lib\/xen\//' userdata.txt
check "xl create keeps no \"xl\" userdata (the config's text)" \
    fails grep -q "^userdata-d\.$d\..*\.xl\$" userdata.txt
check "libxl-json, xl's parsed config, has none of the vaccel entries" \
    fails grep -q -e max-in-flight -e max-regions /var/lib/xen/userdata-d.$d.*.libxl-json
note "xl kept: $(grep "userdata-d\.$d\." userdata.txt | sed 's/.*\.//' | tr '\n' ' ')"

check "device 0 Connected" xs_wait "$be/0/state" 4 60
check "device 1 Connected" xs_wait "$be/1/state" 4 60
pvaccel-ctl list xlcfg >list.txt
pvaccel-ctl list --json "$d" >list.json
pvaccel-ctl --rundir "$PWD" stats xlcfg >stats.txt
pvaccel-ctl --rundir "$PWD" stats --json xlcfg >stats.json
sed 's/^/dom0| /' list.txt
sed 's/^/dom0| /' list.json
expect list.txt "^0      0    4      2       cpu      $be/0\$"
expect list.txt "^1      0    4      1       cpu      $be/1\$"
check "list --json: two devices" [ "$(json-get -n list.json devices)" = 2 ]
check "list --json: device 0's params" [ "$(json-get list.json devices 0 params)" = \
    "multi-queue-max-queues=2,engine=cpu,max-in-flight=256" ]
check "stats --json: device 0, 2 queues" \
    [ "$(json-get stats.json devices devid=0 queues)" = 2 ]
check "stats --json: device 1, connected" \
    [ "$(json-get stats.json devices devid=1 state)" = 4 ]
check "stats --json: the domain's usage" \
    [ "$(json-get stats.json domain domid)" = "$d" ]
expect stats.txt "^vaccel $d/1\$"
guest_tell xlcfg go
check "the guest did its work" xs_wait "/local/domain/$d/data/held" 1 240
check "device 0 Connected again" xs_wait "$be/0/state" 4 60
check "device 1 Connected again" xs_wait "$be/1/state" 4 60
resources before.txt
check "xl destroy" xl destroy xlcfg
check "no vaccel node of the domain is left" xs_gone "$be" 30
check "the frontend directories went with the domain" \
    fails xenstore-exists "/local/domain/$d/device/vaccel"
check "pvacceld releases both devices" \
    wait_for 30 sh -c "! pvacceld-stats $PWD | grep -q '\"frontend-id\":$d,'"
check "the monitor exits" wait_for 30 sh -c "! kill -0 $monitor"
backend_stats >after.json
resources after.txt
expect before.txt 'gntdev mappings: [1-9]'
expect before.txt 'event channels: [1-9]'
expect after.json '"devices":\[\]'
check "no gntdev mapping or event channel left" cmp idle.txt after.txt
expect monitor.log "domain xlcfg (domid $d) is gone, its vaccel devices removed"
check "pvacceld exits 0 on SIGTERM" backend_stop
guest_console xlcfg >guest.log
sed 's/^/dom0| monitor: /' monitor.log
cat guest.log
check "no check failed in the guest" fails grep -q '^xlcfg| not ok' guest.log
expect guest.log 'xlcfg| ok - device 0: sha256 of known'
expect guest.log 'xlcfg| ok - device 1: crc32c of 123456789'
expect guest.log 'xlcfg| ok - device 1: zstd round trip'
verdict
