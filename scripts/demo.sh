#!/usr/bin/env bash
# Runs a real busybox container with tsrun and shows its output. Expects scripts/setup.sh to
# have run (npm run demo does both).
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d /tmp/tsrun-demo.XXXXXX)
root="$work/state"
id="tsrun-demo-$$"
cleanup() {
  bin/tsrun --root "$root" delete --force "$id" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

bundle="$work/bundle"
mkdir -p "$bundle"
cp -a .cache/fixtures/busybox/rootfs "$bundle/rootfs"
bin/tsrun spec --bundle "$bundle"
# runc spec's default asks for a terminal and an interactive shell; the demo runs a command.
jq '.process.terminal = false
  | .process.args = ["sh", "-c", "echo \"hello from $(hostname), pid $$, uid $(id -u)\"; echo; echo mounts:; cat /proc/self/mounts | cut -d\" \" -f2,3 | sed \"s/^/  /\""]
  | .hostname = "tsrun-demo"' "$bundle/config.json" > "$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

echo "\$ tsrun run --bundle $bundle $id"
bin/tsrun --root "$root" run --bundle "$bundle" "$id"
echo "(exit code $?)"
