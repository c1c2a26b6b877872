# Build the boot images of the real-Xen suite from Debian packages.
# Sourced by tests/xen/suite.tap (bash).  Everything downloaded or unpacked
# lives in $cache (outside the source tree, reused between runs); everything
# built per run lives in $work.
#
#   $cache/debs/     the .deb files, exactly the versions apt names today
#   $cache/root/     all of them unpacked with dpkg -x (+ root.stamp)
#   $cache/boot/     xen.elf and the plain ELF vmlinux (+ stamps)
#   $work/dom0/      dom0's initramfs tree -> $work/dom0.cpio
#   $work/domU/      a guest's initramfs tree -> dom0's /boot/domU.cpio
#
# pvaccel itself comes from this build: the Debian packages of make deb in
# $debdir, unpacked as dpkg would install them, and the test programs
# that no package holds.

xen_version=4.17
xen_bin=/usr/lib/xen-$xen_version/bin

# The kernel modules both dom0 and the guests load, in this order: busybox
# insmod resolves no dependencies and xenfs needs privcmd.
xen_modules="xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs"

# Debian's current kernel ABI package, e.g. linux-image-6.1.0-56-amd64.
kernel_package() {
    if [ -n "${PVACCEL_XEN_KERNEL_PKG:-}" ]; then
        echo "$PVACCEL_XEN_KERNEL_PKG"
        return
    fi
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'
}

# Everything the two initramfs images and the boot need.  Libraries that
# come with the pvaccel binaries (glibc and the like) are taken from the
# host, which built those binaries, with ldd.
debian_packages() {
    echo "xen-hypervisor-$xen_version-amd64 xen-utils-$xen_version
          xen-utils-common xenstore-utils libxenmisc$xen_version libxenstore4
          libxengnttab1 libxenevtchn1 libxencall1 libxenforeignmemory1
          libxendevicemodel1 libxentoolcore1 libxentoollog1 libxenhypfs1
          libyajl2 libncurses6 libtinfo6 libgcc-s1 busybox-static"
    kernel_package
}

# The file names apt would download, without downloading.
deb_names() {
    # shellcheck disable=SC2046
    apt-get download --print-uris $(debian_packages) 2>/dev/null |
        awk '{ print $2 }'
}

# Download what the cache lacks.  Returns 1 (for a SKIP, reason in
# $skip_reason) when apt cannot name or fetch the packages, e.g. on a
# machine without the network.
fetch_debs() {
    mkdir -p "$cache/debs"
    if ! download_missing; then
        # The package lists were never fetched (a fresh machine) or are
        # stale (a superseded version has left the archive): refresh once.
        [ "$(id -u)" = 0 ] || return 1
        apt-get update -q >/dev/null 2>&1 || true
        download_missing || return 1
    fi
    prune_debs
}

download_missing() {
    local names deb missing=""
    names=$(deb_names) || names=""
    if [ -z "$names" ] || [ -z "$(kernel_package)" ]; then
        skip_reason="apt cannot name the Xen and kernel packages (no network?)"
        return 1
    fi
    for deb in $names; do
        [ -s "$cache/debs/$deb" ] || missing="$missing ${deb%%_*}"
    done
    [ -n "$missing" ] || return 0
    note "downloading$missing into $cache/debs"
    # shellcheck disable=SC2086
    if ! (cd "$cache/debs" &&
          apt-get download -q -o APT::Sandbox::User=root $missing >&2); then
        skip_reason="apt-get download of$missing failed"
        return 1
    fi
}

# Drop superseded versions so that the cache does not grow forever.
prune_debs() {
    local names deb
    names=" $(deb_names | tr '\n' ' ') "
    for deb in "$cache"/debs/*.deb; do
        case $names in *" ${deb##*/} "*) ;; *) rm -f "$deb" ;; esac
    done
}

# Unpack the debs into $cache/root, once per set of versions.
unpack_debs() {
    local stamp=$cache/root.stamp want
    want=$(deb_names | sort)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    note "unpacking the packages into $cache/root"
    rm -rf "$cache/root" "$stamp"
    mkdir -p "$cache/root"
    for deb in $want; do
        dpkg-deb -x "$cache/debs/$deb" "$cache/root"
    done
    echo "$want" >"$stamp"
}

# Xen: Debian ships a gzipped ELF32 multiboot image that qemu -kernel loads.
# dom0 and guests: the plain ELF vmlinux inside the bzImage, because
# decompressing the xz payload under TCG costs ~8 s per boot (twice).
make_boot_files() {
    local boot=$cache/boot kver vmlinuz
    mkdir -p "$boot"
    vmlinuz=$(ls "$cache"/root/boot/vmlinuz-* | head -n 1)
    kver=${vmlinuz##*/vmlinuz-}
    if [ "$(cat "$boot/vmlinux.stamp" 2>/dev/null)" != "$kver" ]; then
        extract_vmlinux "$vmlinuz" "$boot/vmlinux"
        echo "$kver" >"$boot/vmlinux.stamp"
    fi
    if ! [ "$boot/xen.elf" -nt "$cache/root.stamp" ]; then
        gzip -dc "$cache/root/boot/xen-$xen_version-amd64.gz" >"$boot/xen.elf"
    fi
    kernel_version=$kver
}

# The bzImage carries vmlinux as one xz stream: find its magic, decompress
# from there, and keep the first candidate that is an ELF file.
extract_vmlinux() {
    local vmlinuz=$1 out=$2 off
    for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | cut -d: -f1); do
        tail -c "+$((off + 1))" "$vmlinuz" |
            xz -dc --single-stream >"$out.tmp" 2>/dev/null || true
        if [ "$(head -c 4 "$out.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
            mv "$out.tmp" "$out"
            return 0
        fi
    done
    rm -f "$out.tmp"
    bail "no xz-compressed ELF vmlinux found in $vmlinuz"
}

# --- initramfs trees -------------------------------------------------------

# Library directories of the unpacked Debian packages.
debian_library_path() {
    local d path=""
    for d in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu \
             "usr/lib/xen-$xen_version/lib"; do
        [ -d "$cache/root/$d" ] && path="$path:$cache/root/$d"
    done
    echo "${path#:}"
}

# ... and of the libtool build, so that ldd resolves a build program's
# libraries the way the image will.
image_library_path() {
    local path
    path=$(debian_library_path)
    # Only this build's own libraries: a search below $builddir would also
    # find the sanitizer build of check-sanitize (build/sanitize) and
    # distcheck's, and put an ASan libpvaccel into the guest.
    [ -d "$builddir/.libs" ] && path="$path:$builddir/.libs"
    echo "$path"
}

# add_file TREE SRC DEST: copy one file into TREE at DEST (absolute).
add_file() {
    mkdir -p "$1$(dirname "$3")"
    cp -L "$2" "$1$3"
}

# add_libs TREE ELF LIBPATH: every library ELF needs, found as ldd finds
# them with LIBPATH first.  Those already in TREE stay, libraries of the
# unpacked Debian packages keep their place, the build's own (libtool's
# .libs/) go to /opt/pvaccel/lib, others come from the host at the path
# ldd names.
add_libs() {
    local tree=$1 elf=$2 lib
    for lib in $(LD_LIBRARY_PATH=$3 ldd "$elf" |
                 awk '/not found/ { print "MISSING:" $1; next }
                      $2 == "=>" && $3 ~ /^\// { print $3; next }
                      $1 ~ /^\// { print $1 }'); do
        case $lib in
        MISSING:*) bail "$elf needs ${lib#MISSING:}, found nowhere" ;;
        "$tree/"*) ;;
        "$cache/root/"*) add_file "$tree" "$lib" "/${lib#"$cache"/root/}" ;;
        "$builddir/"*) add_file "$tree" "$lib" "/opt/pvaccel/lib/${lib##*/}" ;;
        *) add_file "$tree" "$lib" "$lib" ;;
        esac
    done
}

# add_elf TREE SRC DEST: a dynamic executable and every library it needs.
add_elf() {
    add_file "$1" "$2" "$3"
    add_libs "$1" "$2" "$(image_library_path)"
}

# add_package TREE NAME: the package NAME of make deb unpacked into TREE
# (the images have no dpkg: its files, as dpkg would place them), and the
# libraries its programs need, the package's own first.
add_package() {
    local tree=$1 name=$2 deb f
    deb=$(ls "$debdir/${name}_"*.deb 2>/dev/null | head -n 1)
    [ -n "$deb" ] || bail "no package $name in $debdir (make check-xen runs make deb)"
    dpkg-deb -x "$deb" "$tree"
    for f in $(dpkg-deb -c "$deb" | awk '$1 ~ /^-..x/ { print substr($6, 2) }'); do
        add_libs "$tree" "$tree$f" \
            "$tree/usr/lib/x86_64-linux-gnu:$(debian_library_path)"
    done
}

# A program of the build under test: the real ELF behind a libtool wrapper.
add_program() {
    local tree=$1 prog=$2 src=$builddir/$2
    if [ ! -f "$src" ]; then
        bail "$src is not built (make check-xen builds it)"
    fi
    if ! head -c 4 "$src" | grep -q ELF; then
        src=$(dirname "$src")/.libs/$(basename "$src")
    fi
    add_elf "$tree" "$src" "/opt/pvaccel/bin/$(basename "$prog")"
}

# busybox (static) with a link per applet, the kernel modules, an ld.so
# cache, and the directory skeleton: what both kinds of domain share.
add_base() {
    local tree=$1 applet m ko
    mkdir -p "$tree"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,var}
    add_file "$tree" "$cache/root/bin/busybox" /bin/busybox
    for applet in $("$tree/bin/busybox" --list-full); do
        [ -e "$tree/$applet" ] || ln -s /bin/busybox "$tree/$applet"
    done
    for m in $xen_modules; do
        ko=$(find "$cache/root/lib/modules/$kernel_version" -name "$m.ko*" |
             head -n 1)
        [ -n "$ko" ] || bail "module $m not in $kernel_version"
        case $ko in
        *.xz) mkdir -p "$tree/lib/modules"
              xz -dc "$ko" >"$tree/lib/modules/$m.ko" ;;
        *) add_file "$tree" "$ko" "/lib/modules/$m.ko" ;;
        esac
    done
    # The xenstore tools: one multi-call binary and its links.
    add_elf "$tree" "$cache/root/usr/bin/xenstore" /usr/bin/xenstore
    for applet in read write ls list rm chmod exists watch; do
        ln -sf xenstore "$tree/usr/bin/xenstore-$applet"
    done
    # glibc dlopens libgcc_s for pthread_cancel and ldd does not say so:
    # without it xl create aborts, and so does xs_close() of libxenstore
    # (it cancels its reader thread).
    add_file "$tree" "$(gcc_s_path)" /lib/x86_64-linux-gnu/libgcc_s.so.1
    ln -s /run "$tree/var/run"
}

# ld.so finds the libraries through a cache, as on an installed system.
finish_libraries() {
    local tree=$1
    printf '%s\n' /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu \
        "/usr/lib/xen-$xen_version/lib" /opt/pvaccel/lib >"$tree/etc/ld.so.conf"
    ldconfig -r "$tree"
}

# make_cpio TREE FILE: the initramfs, then the tree is no longer needed.
make_cpio() {
    (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$2"
    rm -rf "$1"
}

# A guest: busybox, the guest packages and programs, the guest halves of
# the scenarios.
build_domU() {
    local tree=$work/domU prog pkg
    rm -rf "$tree"
    add_base "$tree"
    for pkg in $guest_packages; do
        add_package "$tree" "$pkg"
    done
    for prog in $guest_programs; do
        add_program "$tree" "$prog"
    done
    add_file "$tree" "$here/domU-init" /init
    chmod 755 "$tree/init"
    add_file "$tree" "$here/guest-lib.sh" /lib/pvaccel-xen/guest-lib.sh
    mkdir -p "$tree/scenarios"
    cp "$here"/scenarios/*.guest.sh "$tree/scenarios/" 2>/dev/null || true
    finish_libraries "$tree"
    make_cpio "$tree" "$work/domU.cpio"
}

# dom0: the toolstack, the pvaccel packages and programs, the scenarios,
# and the guest's kernel and initramfs for xl create.  Uncompressed:
# decompressing under TCG costs more than copying.
build_dom0() {
    local tree=$work/dom0 prog name pkg
    rm -rf "$tree"
    add_base "$tree"
    # libxl-save-helper: xl save and xl restore run it.
    for prog in xl libxl-save-helper xenstored xenconsoled xen-init-dom0; do
        add_elf "$tree" "$cache/root$xen_bin/$prog" "$xen_bin/$prog"
    done
    for pkg in $dom0_packages; do
        add_package "$tree" "$pkg"
    done
    for prog in $dom0_programs; do
        add_program "$tree" "$prog"
    done
    add_file "$tree" "$here/dom0-init" /init
    chmod 755 "$tree/init"
    add_file "$tree" "$here/dom0-lib.sh" /lib/pvaccel-xen/dom0-lib.sh
    mkdir -p "$tree/scenarios" "$tree/etc/pvaccel-xen" "$tree/etc/xen"
    for name in $scenario_names; do
        cp "$here/scenarios/$name.sh" "$tree/scenarios/"
    done
    printf '%s\n' "$scenario_lines" >"$tree/etc/pvaccel-xen/scenarios"
    echo 'autoballoon="off"' >"$tree/etc/xen/xl.conf"
    add_file "$tree" "$cache/boot/vmlinux" /boot/vmlinux
    add_file "$tree" "$work/domU.cpio" /boot/domU.cpio
    finish_libraries "$tree"
    make_cpio "$tree" "$work/dom0.cpio"
}

gcc_s_path() {
    local p
    for p in "$cache/root/lib/x86_64-linux-gnu/libgcc_s.so.1" \
             "$cache/root/usr/lib/x86_64-linux-gnu/libgcc_s.so.1" \
             /lib/x86_64-linux-gnu/libgcc_s.so.1; do
        [ -f "$p" ] && { echo "$p"; return; }
    done
    bail "libgcc_s.so.1 not found"
}
