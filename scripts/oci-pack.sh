#!/usr/bin/env bash
# Packs a rootfs directory into an OCI image archive for `ctr images import`: an OCI layout
# (oci-layout, index.json, blobs/sha256/...) with one uncompressed, reproducible tar layer, a
# config and a manifest, named <name> in index.json. Nothing is downloaded.
#   scripts/oci-pack.sh <rootfs> <out.tar> <name:tag> <Cmd as a JSON array>
set -euo pipefail
[ $# -eq 4 ] || { echo "usage: scripts/oci-pack.sh <rootfs> <out.tar> <name:tag> <cmd-json>" >&2; exit 2; }
rootfs=$1 out=$2 name=$3 cmd=$4
[ -d "$rootfs" ] || { echo "[oci-pack] $rootfs is not a directory" >&2; exit 1; }

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
  "{\"architecture\":\"$arch\",\"os\":\"linux\",\"config\":{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\"Cmd\":$cmd,\"WorkingDir\":\"/\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:$layer_digest\"]},\"history\":[{\"created_by\":\"tsrun scripts/oci-pack.sh\"}]}" | blob)

read -r manifest_digest manifest_size < <(printf '%s' \
  "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:$config_digest\",\"size\":$config_size},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$layer_digest\",\"size\":$layer_size}]}" | blob)

printf '%s' '{"imageLayoutVersion":"1.0.0"}' > "$work/oci-layout"
printf '%s' "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:$manifest_digest\",\"size\":$manifest_size,\"platform\":{\"architecture\":\"$arch\",\"os\":\"linux\"},\"annotations\":{\"io.containerd.image.name\":\"$name\",\"org.opencontainers.image.ref.name\":\"${name##*:}\"}}]}" > "$work/index.json"

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work" -cf "$out.tmp" oci-layout index.json blobs
mv "$out.tmp" "$out"
