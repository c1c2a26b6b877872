# Backend restart, the guest: compress a 6.6 MiB file in 256 KiB chunks at
# zstd level 19 (slow enough to be running when dom0 kills pvacceld), the
# tool retrying the chunks lost with the connection; then decompress it on
# a fresh connection and compare: nothing lost, nothing doubled.
. /lib/pvaccel-xen/guest-lib.sh
seq 1 1000000 >big
tell ready
check "compress across the restart" pvaccel --queues 2 --chunk 262144 \
    --depth 8 -v compress --alg zstd --level 19 big big.zst
check "decompress" pvaccel decompress --alg zstd big.zst big.out
check "round trip" cmp big big.out
verdict
