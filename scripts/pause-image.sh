#!/usr/bin/env bash
# The CRI tests' sandbox image, built here from test/pause/pause.c (the role of Kubernetes'
# pause image; nothing is downloaded):
#   .cache/fixtures/pause/rootfs/pause   the program, static (gcc -static)
#   .cache/fixtures/pause-image.tar      OCI layout (scripts/oci-pack.sh) named
#                                        tsrun.test/pause:latest, Cmd ["/pause"]
# Rebuilt only when the source or these scripts changed.
set -euo pipefail
cd "$(dirname "$0")/.."

src=test/pause/pause.c
dir=.cache/fixtures/pause
out=.cache/fixtures/pause-image.tar
stampfile=.cache/fixtures/pause-image.stamp
want=$(cat "$src" "$0" scripts/oci-pack.sh | sha256sum | cut -d' ' -f1)
if [ -f "$out" ] && [ -f "$stampfile" ] && [ "$(cat "$stampfile")" = "$want" ]; then
  exit 0
fi
echo "[pause] building $out" >&2
rm -rf "$dir"
mkdir -p "$dir/rootfs"
gcc -static -O2 -s -Wall -Wextra -Werror -o "$dir/rootfs/pause" "$src"
bash scripts/oci-pack.sh "$dir/rootfs" "$out" tsrun.test/pause:latest '["/pause"]'
echo "$want" > "$stampfile"
