#!/usr/bin/env bash
# Packs the busybox fixture rootfs into an OCI image archive for `ctr images import`:
#   .cache/fixtures/busybox-image.tar   OCI layout (scripts/oci-pack.sh) named
#                                       tsrun.test/busybox:latest
# Everything comes from the rootfs scripts/fixtures.sh built; nothing is downloaded. Rebuilt
# only when the rootfs stamp or the packing scripts changed.
set -euo pipefail
cd "$(dirname "$0")/.."

rootfs=.cache/fixtures/busybox/rootfs
out=.cache/fixtures/busybox-image.tar
stampfile=.cache/fixtures/busybox-image.stamp
[ -d "$rootfs" ] || { echo "[image] $rootfs is missing: run scripts/fixtures.sh first" >&2; exit 1; }

want=$(cat .cache/fixtures/busybox/.stamp "$0" scripts/oci-pack.sh | sha256sum | cut -d' ' -f1)
if [ -f "$out" ] && [ -f "$stampfile" ] && [ "$(cat "$stampfile")" = "$want" ]; then
  exit 0
fi
echo "[image] building $out" >&2
bash scripts/oci-pack.sh "$rootfs" "$out" tsrun.test/busybox:latest '["/bin/sh"]'
echo "$want" > "$stampfile"
