#!/usr/bin/env bash
# Builds the test fixtures from what is on this machine, never from a download:
#   .cache/fixtures/busybox/rootfs   Debian's static busybox with its applet links, a minimal
#                                    /etc, and the static probe (build/Release/tsrun-probe)
#   .cache/fixtures/*-image.tar      OCI image archives: busybox (scripts/image.sh) and the CRI
#                                    tests' pause image (scripts/pause-image.sh)
# Each rebuilt only when what it is made from changed.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/pause-image.sh

out=.cache/fixtures/busybox
probe=build/Release/tsrun-probe
[ -x "$probe" ] || { echo "[fixtures] $probe is missing: build the native core first" >&2; exit 1; }

want=$(cat /bin/busybox "$probe" "$0" | sha256sum | cut -d' ' -f1)
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$want" ]; then
  exit 0
fi
echo "[fixtures] building busybox rootfs" >&2

rm -rf "$out"
root="$out/rootfs"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,proc,sys,dev,tmp,root,home/user,var/run}
chmod 1777 "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list-full); do
  [ "$applet" = bin/busybox ] && continue
  ln -sf /bin/busybox "$root/$applet"
done
cp "$probe" "$root/usr/local/bin/probe"

cat > "$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat > "$root/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
tty:x:5:
users:x:100:user
user:x:1000:
nogroup:x:65534:
EOF
echo tsrun-fixture > "$root/etc/hostname"
chown 1000:1000 "$root/home/user"

echo "$want" > "$out/.stamp"
bash scripts/image.sh
