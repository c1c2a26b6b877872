# Packages: dom0 and the guests run pvaccel from its Debian packages (make
# deb), unpacked into their images as dpkg installs them.  dom0 has
# pvacceld and pvaccel-ctl at their packaged paths, their manual pages and
# the systemd unit (which busybox init does not run); the guest has the
# tool and the library from theirs and xen-gntalloc loaded with the limit
# of the pvaccel package's modprobe.d file (packages.guest.sh).
. /lib/pvaccel-xen/dom0-lib.sh

check "pvacceld is the package's" [ "$(command -v pvacceld)" = /usr/sbin/pvacceld ]
check "pvaccel-ctl is the package's" \
    [ "$(command -v pvaccel-ctl)" = /usr/sbin/pvaccel-ctl ]
check "no other pvacceld in the image" fails [ -e /opt/pvaccel/bin/pvacceld ]
pvacceld --version >version
cat version
expect version '^pvacceld [0-9]'
check "pvacceld(8) installed" [ -f /usr/share/man/man8/pvacceld.8.gz ]
check "pvaccel-ctl(8) installed" [ -f /usr/share/man/man8/pvaccel-ctl.8.gz ]
unit=/lib/systemd/system/pvacceld.service
expect "$unit" '^Type=notify$'
expect "$unit" '^ExecStart=/usr/sbin/pvacceld --foreground'
guest_create pk packages || exit 1
vaccel_attach pk || exit 1
backend_start || exit 1
guest_unpause pk || exit 1
guest_console_wait pk 'pvaccel-guest: exit status=' 60
guest_wait_gone pk 30
check "pvacceld exits 0 on SIGTERM" backend_stop
guest_console pk >guest.log
backend_log
cat guest.log
check "no check failed in the guest" fails grep -q '^pk| not ok' guest.log
expect guest.log "pk| ok - the check value through the packages"
expect guest.log 'pvaccel-guest: exit status=0'
verdict
