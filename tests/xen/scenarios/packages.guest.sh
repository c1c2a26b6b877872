# Packages, the guest: the pvaccel tool and libpvaccel from their
# packages, xen-gntalloc loaded with the pvaccel package's limit, and one
# request through them.
. /lib/pvaccel-xen/guest-lib.sh
check "pvaccel is the package's" [ "$(command -v pvaccel)" = /usr/bin/pvaccel ]
check "libpvaccel.so.1 is the package's" \
    [ -f /usr/lib/x86_64-linux-gnu/libpvaccel.so.1 ]
check "pvaccel(1) installed" [ -f /usr/share/man/man1/pvaccel.1.gz ]
grep "^options xen-gntalloc" /etc/modprobe.d/pvaccel.conf
check "xen-gntalloc has the package's limit" \
    is /sys/module/xen_gntalloc/parameters/limit 32768
printf 123456789 >nine
pvaccel crc32c nine >crc
check "the check value through the packages" is crc "e3069283  nine"
verdict
