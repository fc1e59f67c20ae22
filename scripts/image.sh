#!/usr/bin/env bash
# Packs the busybox fixture rootfs into an OCI image archive for `ctr images import`:
#   .cache/fixtures/busybox-image.tar   OCI layout (oci-layout, index.json, blobs/sha256/...)
#                                       with one uncompressed tar layer, a config and a manifest,
#                                       named tsrun.test/busybox:latest
# Everything comes from the rootfs scripts/fixtures.sh built; nothing is downloaded. Rebuilt
# only when the rootfs stamp or this script changed.
set -euo pipefail
cd "$(dirname "$0")/.."

rootfs=.cache/fixtures/busybox/rootfs
out=.cache/fixtures/busybox-image.tar
stampfile=.cache/fixtures/busybox-image.stamp
[ -d "$rootfs" ] || { echo "[image] $rootfs is missing: run scripts/fixtures.sh first" >&2; exit 1; }

want=$(cat .cache/fixtures/busybox/.stamp "$0" | sha256sum | cut -d' ' -f1)
if [ -f "$out" ] && [ -f "$stampfile" ] && [ "$(cat "$stampfile")" = "$want" ]; then
  exit 0
fi
echo "[image] building $out" >&2

case "$(uname -m)" in
  x86_64) arch=amd64 ;;
  aarch64) arch=arm64 ;;
  armv7l) arch=arm ;;
  *) arch=$(uname -m) ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
blobs="$work/blobs/sha256"
mkdir -p "$blobs"

# A reproducible layer: sorted names, fixed times, numeric owners.
tar --sort=name --mtime=@0 --numeric-owner --format=posix \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
  -C "$rootfs" -cf "$work/layer.tar" .
layer_digest=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
layer_size=$(stat -c %s "$work/layer.tar")
mv "$work/layer.tar" "$blobs/$layer_digest"

# Writes stdin as a blob; prints "<digest> <size>".
blob() {
  cat > "$work/blob.tmp"
  local d s
  d=$(sha256sum "$work/blob.tmp" | cut -d' ' -f1)
  s=$(stat -c %s "$work/blob.tmp")
  mv "$work/blob.tmp" "$blobs/$d"
  echo "$d $s"
}

read -r config_digest config_size < <(printf '%s' \
  "{\"architecture\":\"$arch\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\"Cmd\":[\"/bin/sh\"],\"WorkingDir\":\"/\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$layer_digest\"]},\"history\":[{\"created_by\":\"tsrun scripts/image.sh\"}]}" | blob)

read -r manifest_digest manifest_size < <(printf '%s' \
  "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$config_digest\",\"size\":$config_size},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$layer_digest\",\"size\":$layer_size}]}" | blob)

printf '%s' '{"imageLayoutVersion":"1.0.0"}' > "$work/oci-layout"
printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$manifest_digest\",\"size\":$manifest_size,\"platform\":{\"architecture\":\"$arch\",\"os\":\"linux\"},\"annotations\":{\"io.containerd.image.name\":\"tsrun.test/busybox:latest\",\"org.opencontainers.image.ref.name\":\"latest\"}}]}" > "$work/index.json"

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work" -cf "$out.tmp" oci-layout index.json blobs
mv "$out.tmp" "$out"
echo "$want" > "$stampfile"
