# xl config with a bad vaccel entry: `pvaccel-ctl create` refuses it with
# the message naming the file, the entry and the key, before xl runs: no
# domain, no vaccel node.
. /lib/pvaccel-xen/dom0-lib.sh

cat >bad.cfg <<CFG
name = "xlbad"
type = "pv"
kernel = "/boot/vmlinux"
ramdisk = "/boot/domU.cpio"
memory = 128
vaccel = [ 'queues=2', 'queues=2,bogus=1' ]
CFG
xenstore-ls /local/domain/0/backend >before.txt 2>&1
pvaccel-ctl create bad.cfg >out.txt 2>err.txt
rc=$?
sed 's/^/dom0| /' out.txt err.txt
check "pvaccel-ctl create fails" [ "$rc" = 1 ]
check "the message names the file, the entry and the key" grep -qxF \
    "pvaccel-ctl: bad.cfg: vaccel entry 2 ('queues=2,bogus=1'): unknown key 'bogus'" \
    err.txt
check "no domain was made" fails xl domid xlbad
xenstore-ls /local/domain/0/backend >after.txt 2>&1
check "no backend node was written" cmp before.txt after.txt
verdict
