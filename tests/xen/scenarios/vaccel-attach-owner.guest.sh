# vaccel attach, the owning guest: what its device directories let it do.
be=$(xenstore-read device/vaccel/0/backend) || exit 1
echo "owner: device/vaccel/0 has its backend at $be"
xenstore-read "$be/frontend-id" >/dev/null &&
    echo "owner: reads the backend directory"
xenstore-write device/vaccel/0/state 3 &&
    echo "owner: writes its frontend directory"
xenstore-write "$be/state" 4 2>/dev/null ||
    echo "owner: cannot write the backend state"
xenstore-write "$be/online" 0 2>/dev/null ||
    echo "owner: cannot write online"
exit 0
