#!/bin/sh
# ctl-create: vaccel devices that come up with the domain, on the sim.
# pvaccel-ctl create runs a fake xl (tests/ctl-fake-xl.sh) that builds sim
# domains as xl create -F -p builds Xen ones.  Checked:
#   - the xl config parser: good entries, and each kind of bad entry with
#     its exact message (file, entry, key), after which nothing is created;
#   - every key of an entry is one pvacceld takes (a device with them all);
#   - create: both devices are there before the domain is unpaused, and a
#     guest uses both through pvacceld;
#   - list and stats, as text and as JSON (parsed by tests/json-get);
#   - a reboot (xl restart) gets the devices again, on the new domid;
#   - destroy leaves no vaccel node of the domain; the monitor exits;
#   - --foreground, and an xl create that fails.
set -u
b=$top_builddir
sim=$b/pvaccel-sim
ctl=$b/pvaccel-ctl
jget=$b/tests/json-get
command -v xenstore-watch >/dev/null 2>&1 ||
    { echo "SKIP: xenstore-watch missing (xenstore-utils)"; exit 77; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/pvaccel-ctl-create.XXXXXX")
be_pid=
cleanup() {
    [ -n "$be_pid" ] && kill "$be_pid" 2>/dev/null && wait "$be_pid" 2>/dev/null
    exec 7>&- 8>&- 2>/dev/null
    "$sim" --dir "$dir" stop >/dev/null 2>&1
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail=0
ok() { echo "ok - $*"; }
no() { echo "not ok - $*"; fail=1; }
check() { # check DESCRIPTION COMMAND...
    what=$1; shift
    if "$@"; then ok "$what"; else no "$what"; fi
}
# is FILE TEXT: FILE holds exactly TEXT (printf-expanded), else show both.
is() {
    printf "$2" >"$1.want"
    cmp -s "$1" "$1.want" && return 0
    echo "# got:"; sed 's/^/#   /' "$1"; echo "# wanted:"; sed 's/^/#   /' "$1.want"
    return 1
}
dom0() { "$sim" --dir "$dir" run 0 -- "$@"; }
quiet() { "$@" >/dev/null; }
pctl() { dom0 "$ctl" --platform sim --rundir "$dir" "$@"; }
# Wait on xenstore, never with a sleep: a watch wakes us, 5 s re-checks.
xs_wait() { # PATH VALUE
    n=0
    until [ "$(dom0 xenstore-read "$1" 2>/dev/null)" = "$2" ]; do
        [ $n -lt 12 ] || return 1
        dom0 timeout 5 xenstore-watch -n 2 "$1" >/dev/null 2>&1
        n=$((n + 1))
    done
}
xs_gone() { # PATH
    n=0
    while dom0 xenstore-exists "$1" 2>/dev/null; do
        [ $n -lt 12 ] || return 1
        dom0 timeout 5 xenstore-watch -n 2 "$1" >/dev/null 2>&1
        n=$((n + 1))
    done
}
no_vaccel_of() { # DOMID: no backend node of the domain's devices
    ! dom0 xenstore-exists "/local/domain/0/backend/vaccel/$1"
}
# For what no watch announces (a log line, the daemon's stats): bounded.
wait_until() { # SECONDS COMMAND...
    t=$(($1 * 5)); shift
    until "$@" >/dev/null 2>&1; do
        [ $t -gt 0 ] || return 1
        sleep 0.2
        t=$((t - 1))
    done
}
# jis FILE WANT STEP...: the JSON value at STEP... of FILE is WANT.
jis() {
    f=$1 want=$2
    shift 2
    if [ "${1-}" = -n ]; then
        shift
        got=$("$jget" -n "$f" "$@")
    else
        got=$("$jget" "$f" "$@")
    fi
    [ "$got" = "$want" ] && return 0
    echo "# $f $*: got '$got', wanted '$want'"
    return 1
}

"$sim" --dir "$dir" start >/dev/null || exit 99
# Not through dom0(): $! must be the process that becomes pvacceld.
"$sim" --dir "$dir" run 0 -- "$b/pvacceld" --foreground --platform=sim \
    --rundir "$dir" 2>"$dir/pvacceld.log" &
be_pid=$!
# The fake xl: a file to exec, as xl is.
printf '#!/bin/sh\nexec sh "%s/tests/ctl-fake-xl.sh" "$@"\n' "$top_srcdir" \
    >"$dir/xl"
chmod +x "$dir/xl"
PVACCEL_SIM=$sim FAKE_XL_LOG=$dir/xl.log
export PVACCEL_SIM FAKE_XL_LOG
create() { pctl create --xl "$dir/xl" "$@"; }

# --- the parser -------------------------------------------------------------

cfg() { # NAME LINES...: a config file with name = "NAME"
    f=$dir/$1.cfg
    n=$1; shift
    { echo "name = \"$n\""; echo 'memory = 128'; printf '%s\n' "$@"; } >"$f"
}

cfg guest "vaccel = [ 'backend=0,queues=2,engine=cpu,max-in-flight=256'," \
          "           'devid=3, backend=Domain-0 ,max-regions=8' ]"
create -n "$dir/guest.cfg" >"$dir/plan" 2>&1
check "a good config: its devices, devids and params" is "$dir/plan" \
"$dir/guest.cfg: domain 'guest', 2 vaccel device(s)
  vaccel 0: backend 0, params 'multi-queue-max-queues=2,engine=cpu,max-in-flight=256'
  vaccel 3: backend 0, params 'max-regions=8'\n"
cfg plain 'vaccel = [ "", "" ]' 'vaccel += [ "devid=0" ]'
create -n "$dir/plain.cfg" >"$dir/plan" 2>&1
check "empty entries take every default and the free devids; += adds" \
    is "$dir/plan" "$dir/plain.cfg: domain 'plain', 3 vaccel device(s)
  vaccel 1: backend 0, params ''
  vaccel 2: backend 0, params ''
  vaccel 0: backend 0, params ''\n"
create -n "$dir/plain.cfg" 'name="other"' 'vaccel=["queues=1"]' >"$dir/plan" 2>&1
check "KEY=VALUE after the file is config, as for xl create" \
    is "$dir/plan" "$dir/plain.cfg: domain 'other', 1 vaccel device(s)
  vaccel 0: backend 0, params 'multi-queue-max-queues=1'\n"
cfg none 'memory = 256'
create -n "$dir/none.cfg" >"$dir/plan" 2>&1
check "no vaccel line: no device" is "$dir/plan" \
    "$dir/none.cfg: domain 'none', 0 vaccel device(s)\n"

# bad DESCRIPTION MESSAGE LINES...: create fails with exactly MESSAGE
# (after "pvaccel-ctl: FILE: "), runs no xl and writes no device.
bad() {
    what=$1 msg=$2
    shift 2
    cfg bad "$@"
    rm -f "$FAKE_XL_LOG.calls"
    create --log "$dir/bad.log" "$dir/bad.cfg" >"$dir/out" 2>"$dir/err"
    rc=$?
    if [ $rc = 1 ] && grep -qxF "pvaccel-ctl: $dir/bad.cfg: $msg" "$dir/err" &&
       [ ! -e "$FAKE_XL_LOG.calls" ] &&
       ! dom0 xenstore-exists /local/domain/0/backend/vaccel; then
        ok "bad entry, $what: the message, and nothing created"
    else
        no "bad entry, $what (exit $rc)"
        sed 's/^/# /' "$dir/err"
    fi
}
bad "unknown key" "vaccel entry 1 ('queues=2,bogus=1'): unknown key 'bogus'" \
    "vaccel = [ 'queues=2,bogus=1' ]"
bad "no value" "vaccel entry 1 ('queues'): key 'queues': no value (expected key=value)" \
    "vaccel = [ 'queues' ]"
bad "not a number, second entry" \
    "vaccel entry 2 ('max-regions=ten'): key 'max-regions': 'ten' is not a decimal number" \
    "vaccel = [ '', 'max-regions=ten' ]"
bad "a leading zero" \
    "vaccel entry 1 ('max-in-flight=0256'): key 'max-in-flight': '0256' is not a decimal number" \
    "vaccel = [ 'max-in-flight=0256' ]"
bad "above the protocol's maximum" \
    "vaccel entry 1 ('queues=65'): key 'queues': 65 is not within 1..64" \
    "vaccel = [ 'queues=65' ]"
bad "below the minimum" \
    "vaccel entry 1 ('iova-bits=12'): key 'iova-bits': 12 is not within 13..63" \
    "vaccel = [ 'iova-bits=12' ]"
bad "a key twice (queues is multi-queue-max-queues)" \
    "vaccel entry 1 ('queues=2,multi-queue-max-queues=4'): key 'multi-queue-max-queues' given twice" \
    "vaccel = [ 'queues=2,multi-queue-max-queues=4' ]"
bad "an empty pair" \
    "vaccel entry 1 ('queues=2,,engine=cpu'): an empty key=value between commas" \
    "vaccel = [ 'queues=2,,engine=cpu' ]"
bad "no engine name" \
    "vaccel entry 1 ('engine='): key 'engine': '' is not an engine name" \
    "vaccel = [ 'engine=' ]"
bad "an unknown backend domain" \
    "vaccel entry 1 ('backend=nosuch'): key 'backend': no domain named 'nosuch'" \
    "vaccel = [ 'backend=nosuch' ]"
bad "a devid out of range" \
    "vaccel entry 1 ('devid=65536'): key 'devid': 65536 is not within 0..65535" \
    "vaccel = [ 'devid=65536' ]"
bad "a devid twice" \
    "vaccel entry 2 ('devid=1'): key 'devid': device 1 is entry 1's" \
    "vaccel = [ 'devid=1', 'devid=1' ]"
bad "not a list" "vaccel must be a list: vaccel = [ '...', ... ]" \
    "vaccel = 'queues=2'"
bad "a list in the list" "vaccel entry 1 is not a string" \
    "vaccel = [ [ 'queues=2' ] ]"
bad "a syntax error (libxlutil's message first)" \
    "not a valid xl config (Invalid argument)" "vaccel = [ 'queues=2' "
check "the syntax error names the line" grep -q "bad.cfg:3: config parsing error" "$dir/err"
printf 'memory = 128\n' >"$dir/bad.cfg"
create "$dir/bad.cfg" 2>"$dir/err"
check "no name: refused" grep -qxF "pvaccel-ctl: $dir/bad.cfg: no domain name (name = \"...\")" "$dir/err"
create "$dir/nosuch.cfg" 2>"$dir/err"
check "no file: refused" grep -qxF "pvaccel-ctl: $dir/nosuch.cfg: cannot read: No such file or directory" "$dir/err"
cfg bad "vaccel = [ 'queues=2' ]"
create "$dir/bad.cfg" 'vaccel=["queues=0"]' 2>"$dir/err"
check "a bad entry on the command line" grep -qxF \
    "pvaccel-ctl: $dir/bad.cfg: vaccel entry 1 ('queues=0'): key 'queues': 0 is not within 1..64" "$dir/err"

# Every key pvaccel-ctl takes is one pvacceld takes: all at their least.
scratch=$("$sim" --dir "$dir" create scratch) || exit 99
spec="multi-queue-max-queues=1,max-ring-page-order=0,max-regions=1"
spec="$spec,max-region-pages=1,max-mapped-pages=1,max-blobs=0"
spec="$spec,max-blob-pages=0,max-sessions=1,max-in-flight=1,max-sg-entries=1"
spec="$spec,max-op-bytes=1,iova-bits=13,fault-timeout-ms=1,engine=cpu"
check "attach DOMAIN SPEC with every key" quiet pctl attach scratch "$spec"
check "pvacceld takes every key: InitWait" \
    xs_wait "/local/domain/0/backend/vaccel/$scratch/0/state" 2
check "no error node" sh -c "! '$sim' --dir '$dir' run 0 -- xenstore-exists /local/domain/0/backend/vaccel/$scratch/0/error"
check "attach SPEC and --params together: usage" sh -c \
    "'$sim' --dir '$dir' run 0 -- '$ctl' --platform sim attach scratch queues=1 --devid 1 2>/dev/null; [ \$? = 2 ]"
pctl attach scratch 'devid=1,bogus=2' 2>"$dir/err"
check "attach with a bad SPEC names the key" grep -qxF \
    "pvaccel-ctl: attach ('devid=1,bogus=2'): unknown key 'bogus'" "$dir/err"
check "detach by name" quiet pctl detach scratch
check "detach leaves no empty directory" no_vaccel_of "$scratch"
"$sim" --dir "$dir" destroy scratch

# --- create: the devices come up with the domain -----------------------------

printf 123456789 >"$dir/nine"
mkfifo "$dir/go0" "$dir/go3"
create --log "$dir/monitor.log" "$dir/guest.cfg" >"$dir/create.out" 2>&1
rc=$?
cat "$dir/create.out"
check "create exits 0" [ $rc = 0 ]
d=$(sed -n 's/.*domain guest (domid \([0-9]*\)): vaccel devices 0, 3 attached$/\1/p' "$dir/create.out")
monitor=$(sed -n 's/.*monitor pid \([0-9]*\), log .*/\1/p' "$dir/create.out")
check "create says which devices it attached" [ -n "$d" ]
check "create says where the monitor is" [ -n "$monitor" ]
check "both devices were there when xl unpaused the domain" \
    grep -qxF "unpause $d: 0 3 " "$FAKE_XL_LOG"
check "xl ran as create -F -p CFG" grep -qxF "create -F -p $dir/guest.cfg" "$FAKE_XL_LOG.calls"
check "params of device 0" [ "$(dom0 xenstore-read /local/domain/0/backend/vaccel/$d/0/params)" = \
    "multi-queue-max-queues=2,engine=cpu,max-in-flight=256" ]

# A sim domain lives while it has processes: this one holds it until
# its end (destroy, or the restart below).
"$sim" --dir "$dir" run guest -- sleep 300 &
hold=$!
# The guest: one process per device, each held connected until we write.
exec 7<>"$dir/go0" 8<>"$dir/go3"
"$sim" --dir "$dir" run guest -- sh -c '
    "$1/pvaccel" -d 0 --queues 2 crc32c - <"$2/go0" >"$2/crc0" &
    "$1/pvaccel" -d 3 --queues 1 crc32c - <"$2/go3" >"$2/crc3" &
    wait' sh "$b" "$dir" 7>&- 8>&- &
guest_pid=$!
check "device 0 Connected" xs_wait "/local/domain/0/backend/vaccel/$d/0/state" 4
check "device 3 Connected" xs_wait "/local/domain/0/backend/vaccel/$d/3/state" 4

pctl list guest >"$dir/list"
check "list: devid, backend, state, queues, engine like xl block-list" \
    is "$dir/list" "Devid  BE   State  Queues  Engine   BE-path
0      0    4      2       cpu      /local/domain/0/backend/vaccel/$d/0
3      0    4      1       cpu      /local/domain/0/backend/vaccel/$d/3\n"
pctl list "$d" --json >"$dir/list.json"
check "list --json is JSON" jis "$dir/list.json" object
check "list --json: two devices" jis "$dir/list.json" 2 -n devices
check "list --json: the domain's name" jis "$dir/list.json" guest name
check "list --json: the domain's id" jis "$dir/list.json" "$d" domid
check "list --json: device 3" jis "$dir/list.json" 3 devices 1 devid
check "list --json: device 3 Connected" jis "$dir/list.json" 4 devices 1 state
check "list --json: its frontend Connected" \
    jis "$dir/list.json" 4 devices 1 frontend-state
check "list --json: 1 queue" jis "$dir/list.json" 1 devices 1 queues
check "list --json: the engine" jis "$dir/list.json" cpu devices 1 engine
check "list --json: device 0's params" jis "$dir/list.json" \
    "multi-queue-max-queues=2,engine=cpu,max-in-flight=256" devices 0 params
check "list --json: no error node is null" \
    jis "$dir/list.json" null devices 0 error

pctl stats guest >"$dir/stats"
cat "$dir/stats"
check "stats: a block per device and the domain's" \
    sh -c "grep -qx 'vaccel $d/0' '$dir/stats' && grep -qx 'vaccel $d/3' '$dir/stats' && grep -qx 'domain $d' '$dir/stats'"
check "stats: the counters, a group on one line" \
    sh -c "grep -qx '  state: 4' '$dir/stats' && grep -qx '  queues: 2' '$dir/stats' && grep -q '^  latency_ns: count=' '$dir/stats'"
pctl stats "$d" --json >"$dir/stats.json"
check "stats --json is JSON" jis "$dir/stats.json" object
check "stats --json: the domain's two devices only" \
    jis "$dir/stats.json" 2 -n devices
check "stats --json: device 0 is the domain's" \
    jis "$dir/stats.json" "$d" devices devid=0 frontend-id
check "stats --json: device 3 is the domain's" \
    jis "$dir/stats.json" "$d" devices devid=3 frontend-id
check "stats --json: device 0 has 2 queues" \
    jis "$dir/stats.json" 2 devices devid=0 queues
check "stats --json: device 3 has 1 queue" \
    jis "$dir/stats.json" 1 devices devid=3 queues
check "stats --json: the engine" jis "$dir/stats.json" cpu engine
check "stats --json: the domain's usage" \
    jis "$dir/stats.json" "$d" domain domid

cat "$dir/nine" >&7
cat "$dir/nine" >&8
exec 7>&- 8>&-
wait "$guest_pid"
check "the guest's crc32c on device 0" is "$dir/crc0" "e3069283  -\n"
check "the guest's crc32c on device 3" is "$dir/crc3" "e3069283  -\n"

# --- a restart: the new domain gets the devices, the old ones go ------------

dom0 xenstore-write "/local/domain/$d/control/shutdown" reboot
d2=$((d + 1))
check "after xl restarts the guest, xl unpauses it with both devices" \
    xs_wait "/local/domain/0/backend/vaccel/$d2/3/state" 2
check "both devices were there at the restart's unpause" \
    grep -qxF "unpause $d2: 0 3 " "$FAKE_XL_LOG"
check "the old domain's vaccel nodes are gone" no_vaccel_of "$d"
wait "$hold" 2>/dev/null

# --- destroy: nothing left ---------------------------------------------------

"$sim" --dir "$dir" destroy guest
check "after destroy, no vaccel node of the domain" \
    xs_gone "/local/domain/0/backend/vaccel/$d2"
check "the monitor exits" timeout 30 tail --pid="$monitor" -f /dev/null
check "the monitor logged it" grep -q \
    "domain guest (domid $d2) is gone, its vaccel devices removed" \
    "$dir/monitor.log"
stats_empty() {
    dom0 "$b/tests/xen/pvacceld-stats" "$dir" | grep -q '"devices":\[\]'
}
check "pvacceld released the devices" wait_until 30 stats_empty

# --- --foreground, and a failed xl create --------------------------------------

cfg fg "vaccel = [ 'queues=1' ]"
create --foreground "$dir/fg.cfg" >"$dir/fg.out" 2>&1 &
fg=$!
check "foreground: the device comes up" wait_until 30 \
    grep -q "domain fg (domid [0-9]*): vaccel devices 0 attached" "$dir/fg.out"
fgd=$(sed -n 's/.*domain fg (domid \([0-9]*\)): vaccel.*/\1/p' "$dir/fg.out")
sed 's/^/# /' "$dir/fg.out"
check "foreground: its node" dom0 xenstore-exists \
    "/local/domain/0/backend/vaccel/$fgd/0"
"$sim" --dir "$dir" destroy fg
wait "$fg"
check "foreground: exits 0 once the domain is gone" [ $? = 0 ]
check "foreground: no vaccel node left" no_vaccel_of "$fgd"

taken=$("$sim" --dir "$dir" create taken) || exit 99
cfg taken "vaccel = [ '' ]"
create "$dir/taken.cfg" >"$dir/out" 2>&1
check "xl create fails (the name is taken): exit 1" [ $? = 1 ]
sed 's/^/# /' "$dir/out"
check "and says so" grep -q "create failed (exit status 1)" "$dir/out"
check "and nothing is attached" no_vaccel_of "$taken"
exit $fail
