# Save and restore, the guest: one pvaccel process connects device 0 and
# holds it (it waits for its input) while dom0 saves and restores the
# domain, then streams a file through the connection it had: the expected
# failure (docs/testing.md, "Save and restore").  After the restore a new
# pvaccel process opens device 1, attached to the restored domain.
. /lib/pvaccel-xen/guest-lib.sh
seq 1 100000 >big
printf 123456789 >nine
echo "guest: domain $(xenstore-read domid) before the save"
( { wait_node go >/dev/null; cat big; } |
      timeout 60 pvaccel --queues 2 compress --alg lz4 - big.lz4
  echo $? >old.status ) &
wait_node go >/dev/null || exit 1
echo "guest: domain $(xenstore-read domid) after the restore"
pvaccel --device 1 crc32c nine >crc.txt
check "a new pvaccel process works after the restore" is crc.txt "e3069283  nine"
tell fresh
wait
check "the connection opened before the save works after the restore" \
    is old.status 0
verdict
