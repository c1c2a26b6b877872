# Handshake: pvacceld in dom0 and the pvaccel tool in a guest bring a
# two-queue device to Connected (4) on both sides over the real xenstored;
# the tree then matches docs/protocol.md ("XenStore", the example of a
# connected two-queue device): every node and its permissions.
. /lib/pvaccel-xen/dom0-lib.sh

guest_create hs handshake || exit 1
d=$(guest_domid hs) || exit 1
be=$(vaccel_be hs)
fe=$(vaccel_fe hs)
vaccel_attach hs || exit 1
backend_start || exit 1
check "backend InitWait (2)" xs_wait "$be/state" 2 30
guest_unpause hs || exit 1
check "frontend Connected (4)" xs_wait "$fe/state" 4 60
check "backend Connected (4)" xs_wait "$be/state" 4 10
xenstore-ls -fp "$be" >backend.txt
xenstore-ls -fp "$fe" >frontend.txt
cat backend.txt frontend.txt
guest_tell hs release
guest_console_wait hs 'pvaccel-guest: exit status=' 60
guest_wait_gone hs 30
check "the backend removes its directory when the guest is gone" xs_gone "$be" 30
check "pvacceld exits 0 on SIGTERM" backend_stop
guest_console hs >guest.log
backend_log
cat guest.log

# Backend directory: toolstack nodes, then what pvacceld publishes, all
# owned by dom0 and readable by the guest (n0,r<domid>).
perm="(n0,r$d)"
expect backend.txt "^$be/frontend = \"$fe\" *$perm"
expect backend.txt "^$be/frontend-id = \"$d\" *$perm"
expect backend.txt "^$be/online = \"1\" *$perm"
expect backend.txt "^$be/state = \"4\" *$perm"
expect backend.txt "^$be/versions = \"1\" *$perm"
expect backend.txt "^$be/multi-queue-max-queues = \"8\" *$perm"
expect backend.txt "^$be/max-ring-page-order = \"4\" *$perm"
expect backend.txt "^$be/engine = \"cpu\" *$perm"
expect backend.txt "^$be/feature-ops = \"compress,decompress,digest,aead,copy,fill,compare,crc32c\" *$perm"
expect backend.txt "^$be/compress-algs = \"deflate,zlib,gzip,zstd,lz4\" *$perm"
expect backend.txt "^$be/compress-levels = \"[^\"]*zstd:-[0-9]*:22[^\"]*\" *$perm"
# The default cost cap (max-op-ms 1000): zstd level 22 takes 1 MiB at most.
expect backend.txt "^$be/compress-max-bytes = \"[^\"]*zstd:22:1048576[^\"]*\" *$perm"
expect backend.txt "^$be/digest-algs = \"sha256,sha512\" *$perm"
expect backend.txt "^$be/aead-algs = \"aes-256-gcm,chacha20-poly1305\" *$perm"
for n in feature-blobs feature-iopf max-regions max-region-pages \
         max-mapped-pages max-mappings max-blobs max-blob-pages max-sessions \
         max-in-flight max-sg-entries max-op-bytes iova-bits \
         fault-timeout-ms; do
    expect backend.txt "^$be/$n = \"[0-9][0-9]*\" *$perm"
done
check "no error node" fails grep -q "^$be/error " backend.txt
# Frontend directory: owned by the guest, readable by dom0 (n<domid>,r0);
# two queues, so the rings and event channels live under queue-N.
perm="(n$d,r0)"
expect frontend.txt "^$fe/backend = \"$be\" *$perm"
expect frontend.txt "^$fe/backend-id = \"0\" *$perm"
expect frontend.txt "^$fe/state = \"4\" *$perm"
expect frontend.txt "^$fe/version = \"1\" *$perm"
expect frontend.txt "^$fe/multi-queue-num-queues = \"2\" *$perm"
expect frontend.txt "^$fe/ring-page-order = \"[0-4]\" *$perm"
for q in 0 1; do
    expect frontend.txt "^$fe/queue-$q = \"\" *$perm"
    expect frontend.txt "^$fe/queue-$q/ring-ref0* = \"[1-9][0-9]*\" *$perm"
    expect frontend.txt "^$fe/queue-$q/event-channel = \"[1-9][0-9]*\" *$perm"
done
check "no top-level ring-ref with two queues" \
    fails grep -q "^$fe/ring-ref" frontend.txt
check "no top-level event-channel with two queues" \
    fails grep -q "^$fe/event-channel" frontend.txt
expect frontend.txt "^$fe/evt-ring-page-order = \"[0-4]\" *$perm"
expect frontend.txt "^$fe/evt-ring-ref0* = \"[1-9][0-9]*\" *$perm"
expect frontend.txt "^$fe/evt-event-channel = \"[1-9][0-9]*\" *$perm"
expect pvacceld.log "vaccel $d/0: connected, 2 queue(s)"
expect guest.log "hs| e3069283  -"
expect guest.log 'pvaccel-guest: exit status=0'
verdict
