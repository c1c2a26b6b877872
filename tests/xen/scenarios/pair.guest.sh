# Two guests, each of them: its own device's nodes readable, the other
# guest's not; then, once dom0 has seen both devices connected at once, a
# 6.6 MiB file through its device while the other guest does the same.
. /lib/pvaccel-xen/guest-lib.sh
peer=$(wait_node peer) || exit 1
seq 1 1000000 >big
be=$(xenstore-read device/vaccel/0/backend)
readable() {
    xenstore-read "$1" >/dev/null
}
check "reads its own frontend directory" readable device/vaccel/0/state
check "reads its own backend directory" readable "$be/state"
check "cannot read the other guest's frontend directory" \
    fails readable "/local/domain/$peer/device/vaccel/0/state"
check "cannot read the other guest's backend directory" \
    fails readable "/local/domain/0/backend/vaccel/$peer/0/state"
check "cannot list dom0's vaccel backends" \
    fails xenstore-ls /local/domain/0/backend/vaccel
check "cannot write the other guest's frontend state" \
    fails xenstore-write "/local/domain/$peer/device/vaccel/0/state" 5
# Connected, then held (the tool waits for its input) until dom0 says go.
{ wait_node go >/dev/null; cat big; } |
    pvaccel --queues 2 --chunk 65536 --depth 16 -v compress --alg lz4 - big.lz4
check "compress" [ $? = 0 ]
check "decompress" pvaccel --queues 2 decompress --alg lz4 big.lz4 big.out
check "round trip" cmp big big.out
verdict
