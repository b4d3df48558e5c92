#!/usr/bin/env bash
# Builds the VM lane's guest image: a Debian bookworm node (systemd as PID 1, pure cgroup v2,
# AppArmor) with the packages listed in PACKAGE_FILE, as a raw ext4 disk plus its kernel and
# initrd. Called by scripts/test-vm.sh, which caches the result by a hash of the list and of this
# recipe; run by hand it needs root, debootstrap, e2fsprogs and Debian's mirror.
#
#   test/vm/build-image.sh PACKAGE_FILE OUTDIR
#
# OUTDIR gets disk.img (4 GiB, sparse), vmlinuz, initrd.img, installed-packages.txt (name and
# version of every package in the image) and build.log. The guest has no berth in it: the host
# shares berth's installed tree and the tests at each boot.
set -euo pipefail

die() { echo "build-image: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: build-image.sh PACKAGE_FILE OUTDIR"
package_file=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
mirror=${BERTH_VM_MIRROR:-http://deb.debian.org/debian}
suite=bookworm

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot)"
command -v debootstrap >/dev/null || die "debootstrap is missing (scripts/install-deps.sh)"
command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 is missing (e2fsprogs)"

mapfile -t packages < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$package_file" | grep -v '^$')
[ ${#packages[@]} -gt 0 ] || die "$package_file lists no package"

mkdir -p "$out"
rootfs="$out/rootfs"
log="$out/build.log"
: >"$log"

# debootstrap mounts /proc and /sys inside the target and leaves them behind when it fails;
# nothing may stay mounted or on disk after this script, whatever happens.
cleanup() {
  local mounts
  mounts=$(findmnt -rn -o TARGET | grep -F "$rootfs" | sort -r || true)
  local m
  for m in $mounts; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$rootfs"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

step() { echo "build-image: $*"; echo "== $*" >>"$log"; }
in_root() { chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@" >>"$log" 2>&1; }

include=$(IFS=,; echo "${packages[*]}")
step "debootstrap $suite (minbase + ${#packages[@]} packages) from $mirror"
if ! debootstrap --variant=minbase --include="$include" "$suite" "$rootfs" "$mirror" >>"$log" 2>&1
then
  tail -n 30 "$log" >&2
  die "debootstrap failed (whole log: $log)"
fi

step "configure the node"
echo berth-vm >"$rootfs/etc/hostname"
cat >"$rootfs/etc/hosts" <<'EOF'
127.0.0.1 localhost
127.0.1.1 berth-vm
::1 localhost ip6-localhost ip6-loopback
EOF
echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' >"$rootfs/etc/fstab"
# QEMU's user-mode network (started with restrict=on: nothing leaves the guest) answers DHCP;
# its DNS server reaches nothing, it is only there for pods that copy the node's resolv.conf.
echo 'nameserver 10.0.2.3' >"$rootfs/etc/resolv.conf"
mkdir -p "$rootfs/etc/systemd/network"
cat >"$rootfs/etc/systemd/network/10-eth0.network" <<'EOF'
[Match]
Name=eth0

[Network]
DHCP=ipv4
EOF
# network-online.target (which berthd.service waits for) must not wait long for a slow guest.
mkdir -p "$rootfs/etc/systemd/system/systemd-networkd-wait-online.service.d"
cat >"$rootfs/etc/systemd/system/systemd-networkd-wait-online.service.d/timeout.conf" <<'EOF'
[Service]
ExecStart=
ExecStart=/lib/systemd/systemd-networkd-wait-online --any --timeout=30
EOF
# A fixed machine id: no first-boot setup, same image every build.
echo 0b5e17a6c0de4b1e8f00000000000001 >"$rootfs/etc/machine-id"
# No root password and no login: the guest only runs the lane's unit.
install -D -m 0755 "$here/boot.sh" "$rootfs/usr/lib/berth-vm/boot.sh"
install -m 0644 "$here/berth-vm-suite.service" "$rootfs/etc/systemd/system/berth-vm-suite.service"
in_root systemctl enable berth-vm-suite.service systemd-networkd.service
# docker-registry's package starts a system registry on :5000 (the tests run their own); the
# timers would take the emulated CPU in the middle of the suite; no login on the console.
in_root systemctl mask docker-registry.service apt-daily.timer apt-daily-upgrade.timer \
  e2scrub_all.timer fstrim.timer serial-getty@ttyS0.service

step "collect kernel, initrd and the package list"
kernel=$(ls "$rootfs"/boot/vmlinuz-* | sort -V | tail -n 1)
initrd=$(ls "$rootfs"/boot/initrd.img-* | sort -V | tail -n 1)
[ -f "$kernel" ] && [ -f "$initrd" ] || die "no kernel or initrd in the image"
install -m 0644 "$kernel" "$out/vmlinuz"
install -m 0644 "$initrd" "$out/initrd.img"
chroot "$rootfs" dpkg-query -W -f '${Package} ${Version}\n' >"$out/installed-packages.txt"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*

step "mkfs.ext4 -d (4 GiB sparse)"
rm -f "$out/disk.img"
mkfs.ext4 -q -F -L berth-vm -d "$rootfs" "$out/disk.img" 4G >>"$log" 2>&1 ||
  die "mkfs.ext4 failed (log: $log)"
step "done: $out"
