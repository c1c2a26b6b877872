# vaccel attach, another guest: it must not see the owner's device at all.
owner=$(xenstore-read data/owner) || exit 1
xenstore-read "/local/domain/0/backend/vaccel/$owner/0/frontend-id" 2>/dev/null ||
    echo "other: cannot read the backend directory"
xenstore-read "/local/domain/$owner/device/vaccel/0/state" 2>/dev/null ||
    echo "other: cannot read the frontend directory"
exit 0
