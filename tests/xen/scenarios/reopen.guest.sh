# Close and reopen, the guest: three pvaccel runs in a row on one device
# (each opens, connects, closes), no device while dom0 has it detached,
# and a working one again after dom0 attaches it anew.
. /lib/pvaccel-xen/guest-lib.sh
printf 123456789 >nine
for run in 1 2 3; do
    pvaccel --queues $run crc32c nine >crc.$run
    check "run $run ($run queue(s)): the check value" is crc.$run "e3069283  nine"
done
tell closed
wait_node detached >/dev/null || exit 1
check "no device while detached" fails pvaccel info
tell tried
wait_node attached >/dev/null || exit 1
pvaccel crc32c nine >crc.4
check "after attach: the check value" is crc.4 "e3069283  nine"
verdict
