#!/bin/sh
# The conformance suite in rootless mode (lib/rootless.ts): a user of its own, made here with
# useradd (which gives it a subordinate range) and a runtime directory, removed whatever
# happens. RUNTIME, CONFORMANCE_ONLY and the rest apply as for npm run conformance.
#   npm run conformance:rootless
#   RUNTIME=/usr/sbin/runc npm run conformance:rootless
set -eu
cd "$(dirname "$0")/.."
# The test helpers' sweep removes a user of this name whose creating process is gone.
name="tsrl$$x0"
home=$(mktemp -d)
chmod 755 "$home"
useradd -m -d "$home/$name" -s /bin/sh -U "$name"
uid=$(id -u "$name")
cleanup() {
  for pid in $(ps -o pid= -u "$uid"); do kill -9 "$pid" 2>/dev/null || true; done
  userdel -r -f "$name" 2>/dev/null || true
  rm -rf "/run/user/$uid" "$home"
}
trap cleanup EXIT INT TERM
mkdir -p "/run/user/$uid"
chown "$uid:$(id -g "$name")" "/run/user/$uid"
chmod 700 "/run/user/$uid"
CONFORMANCE_USER="$name" node .cache/conformance/run.js
