# Ops: every op family through pvacceld in dom0 and the pvaccel tool in a
# guest, with known answers (ops.guest.sh): compress/decompress round trips
# of each algorithm, sha256/sha512 and crc32c check values, AEAD round trips
# and a tampered tag refused; then many requests in flight over two queues,
# blocking and polling.
. /lib/pvaccel-xen/dom0-lib.sh

guest_create ops ops 256 || exit 1
vaccel_attach ops || exit 1
backend_start || exit 1
guest_unpause ops || exit 1
guest_console_wait ops 'pvaccel-guest: exit status=' 400
guest_wait_gone ops 30
check "pvacceld exits 0 on SIGTERM" backend_stop
guest_console ops >guest.log
backend_log
cat guest.log

check "no check failed in the guest" fails grep -q '^ops| not ok' guest.log
expect guest.log 'ops| ok - lz4 round trip'
expect guest.log 'ops| ok - chacha20-poly1305 tampered tag fails'
expect guest.log 'ops| ok - poll: crc32c'
expect guest.log 'pvaccel-guest: exit status=0'
note "$(tr -d '\r' <guest.log | sed -n 's/^ops| guest: //p' | tr '\n' ' ')"
verdict
