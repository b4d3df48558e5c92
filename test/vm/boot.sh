#!/bin/sh
# Baked into the guest image as /usr/lib/berth-vm/boot.sh, run by berth-vm-suite.service: mounts
# the host's 9p share at /mnt/host and hands over to the runner the host put there, so that
# changing the runner needs no new image.
set -eu
mkdir -p /mnt/host
# cache=mmap: the share holds the binaries the guest executes (which are mmap'ed) and the result
# files it writes back; msize: 512 KiB messages instead of 8 KiB for the reads of big binaries.
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288,cache=mmap host /mnt/host; then
  echo "berth-vm: cannot mount the host share (mount tag \"host\")"
  exit 1
fi
if [ ! -f /mnt/host/guest-run.sh ]; then
  echo "berth-vm: the host share has no guest-run.sh"
  exit 1
fi
exec /bin/bash /mnt/host/guest-run.sh
