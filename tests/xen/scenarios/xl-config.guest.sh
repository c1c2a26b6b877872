# xl config, the guest: both vaccel devices are there when it starts (no
# waiting: pvaccel-ctl create attached them before xl unpaused it); a
# connection on each held until dom0 has seen them Connected; known
# answers on both; then both held again for xl destroy.
. /lib/pvaccel-xen/guest-lib.sh
seq 1 100000 >known                 # sha256 below, as in ops.guest.sh
printf 123456789 >nine
check "device 0 is there at the start" xenstore-exists device/vaccel/0/backend
check "device 1 is there at the start" xenstore-exists device/vaccel/1/backend
{ wait_node go >/dev/null; cat known; } |
    pvaccel -d 0 --queues 2 digest --alg sha256 - >sha0 &
p0=$!
{ wait_node go >/dev/null; cat nine; } | pvaccel -d 1 crc32c - >crc1 &
p1=$!
wait $p0
check "device 0: sha256 of known" is sha0 \
    "b2bc7d3f8b652d2ec96865b68ad8f80e22cca174abe1aed7889e242a747d590f  -"
wait $p1
check "device 1: crc32c of 123456789" is crc1 "e3069283  -"
check "device 1: zstd compress" pvaccel -d 1 compress --alg zstd known known.zst
check "device 0: zstd decompress" pvaccel -d 0 decompress --alg zstd known.zst known.out
check "device 1: zstd round trip" cmp known known.out
# Held connected on both devices until xl destroy.
{ wait_node bye 300 >/dev/null; } | pvaccel -d 0 --queues 2 crc32c - >/dev/null &
{ wait_node bye 300 >/dev/null; } | pvaccel -d 1 crc32c - >/dev/null &
tell held
wait
verdict
