# xl destroy under load, the guest: compress a 6.6 MiB file at zstd level
# 19 over two queues until dom0 destroys the domain.
. /lib/pvaccel-xen/guest-lib.sh
seq 1 1000000 >big
tell ready
pvaccel --queues 2 --chunk 262144 --depth 8 compress --alg zstd --level 19 \
    big big.zst
echo "guest: still here: dom0 did not destroy the domain"
exit 1
