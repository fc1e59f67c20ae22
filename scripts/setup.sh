#!/usr/bin/env bash
# The one set-up step that `npm run demo` and `npm test` start with. Idempotent: each part
# checks whether it is needed, so a second run on a ready machine takes a few seconds.
#   1. Debian packages the build, the demo and the tests need (root only; otherwise says what
#      is missing and why)
#   2. npm ci when node_modules is missing or older than package-lock.json
#   3. the native core (cmake-js) and the TypeScript (tsc)
#   4. test fixtures (a busybox rootfs built from Debian's static busybox) in .cache/
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*" >&2; }

# build-essential/cmake/pkg-config/libseccomp-dev: the native core; libsystemd-dev: sd-bus's header
# for the systemd cgroup driver (the library itself is dlopen()ed); protobuf-compiler: npm run gen
# and the test that src/gen is fresh; busybox-static: the
# container fixture; runc/crun: differential tests and benchmarks; containerd: shim tests;
# jq, iproute2, util-linux, procps, strace: test helpers; containernetworking-plugins: the CRI
# tests' pod network (bridge, host-local, loopback); tini: reaps the containers tests leave to
# pid 1 (the init of these machines does not reap orphans); systemd/dbus: PID 1 and the system
# bus of the test node the systemd cgroup driver is tested in (test/helpers/systemd-node.ts);
# uidmap: newuidmap/newgidmap, which map an unprivileged caller's subordinate ids (rootless
# tsrun and its tests); podman, conmon: podman driving tsrun with --runtime (rootless podman's
# tests; rootful podman's test and the CLI path's bench rows);
# catatonit: the pause process rootless podman keeps its user namespace in; rootlesskit: the user
# and mount namespaces rootless containerd runs in (the shim's rootless tests); docker.io: dockerd
# with tsrun in daemon.json's runtimes (its test and bench row run a private engine of their own;
# the package's system docker.service is not started by this install, see policy-rc.d below).
PACKAGES=(build-essential cmake pkg-config libseccomp-dev libsystemd-dev protobuf-compiler busybox-static jq runc crun containerd
  iproute2 util-linux procps tini strace containernetworking-plugins systemd dbus uidmap podman conmon catatonit rootlesskit
  docker.io)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "$(id -u)" != 0 ]; then
  if [ ${#missing[@]} -gt 0 ]; then
    say "missing Debian packages: ${missing[*]}"
    say "installing them needs root (apt-get); run this as root or install them yourself"
  fi
  say "tsrun creates namespaces, mounts and cgroups: the demo and the integration tests must run as root"
  exit 1
fi

if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Debian starts a daemon's service as it installs the package (containerd, dockerd...). The
  # tests run private instances of their own, so a host-wide daemon would only hold memory,
  # sockets and firewall rules: while we install, a policy-rc.d of ours says no (one the
  # machine has already is left as it is).
  own_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# tsrun set-up: no service starts while it installs packages\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  # Another apt run (a second set-up, the machine's own) holds dpkg's lock for a while: wait.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ -n "$own_policy" ]; then
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
fi

node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  say "Node.js >= 20 is required (found $(node --version))"
  exit 1
fi

# npm ci only when the lock file changed since the last install.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.tsrun-lock.sha256
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
  say "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > "$stamp"
fi

say "building the native core"
npx --no-install cmake-js compile --out build --log-level error >/dev/null
say "building the TypeScript"
npx --no-install tsc -p tsconfig.json
node scripts/build-info.mjs
npx --no-install rolldown -c rolldown.config.mjs --log-level silent >/dev/null
node scripts/code-cache.cjs

bash scripts/fixtures.sh
say "ready"
