#!/bin/bash
# The bench's cross-check from bash alone, hyperfine-style: a private containerd and a private
# podman started from this shell, then the same commands `npm run bench` times, run one after
# another from this shell (stdin, stdout from/to /dev/null, stderr to a file), interleaved
# round by round, two warm-up rounds, medians. No Node process of the bench is anywhere near.
#
#   bench/shell-check.sh [rounds]          a markdown table (rounds: BENCH_ROUNDS or 20)
#   bench/shell-check.sh --tsv [rounds]    name<TAB>median<TAB>min<TAB>max, for npm run bench
#
# Run as root, from a clean environment if you want a user's: env -i HOME=/root PATH=... works.
# Everything it starts or makes (containerd, shim servers, podman storage, a dockerd and its
# containerd, cgroups under tsrun-test/) is removed on exit, whatever happens.
set -uo pipefail

TSV=0
if [ "${1:-}" = --tsv ]; then TSV=1; shift; fi
ROUNDS=${1:-${BENCH_ROUNDS:-20}}
WARMUP=2
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TSRUN=$REPO/bin/tsrun
NS=tsrun-test
IMAGE=tsrun.test/busybox:latest
[ "$(id -u)" = 0 ] || { echo "shell-check: run as root" >&2; exit 1; }

W=$(mktemp -d /tmp/tsrun-shellcheck-XXXXXX)
CTD_PID=
DK_PID=
cleanup() {
  set +e
  if [ -n "$CTD_PID" ]; then
    for id in $(ctr --address "$W/ctd.sock" -n $NS task ls -q 2>/dev/null); do
      ctr --address "$W/ctd.sock" -n $NS task kill -s SIGKILL "$id" >/dev/null 2>&1
      ctr --address "$W/ctd.sock" -n $NS task delete -f "$id" >/dev/null 2>&1
    done
    for id in $(ctr --address "$W/ctd.sock" -n $NS container ls -q 2>/dev/null); do
      ctr --address "$W/ctd.sock" -n $NS container rm "$id" >/dev/null 2>&1
    done
    kill "$CTD_PID" 2>/dev/null; wait "$CTD_PID" 2>/dev/null
    # Shim servers and spares of this containerd (their command lines name its socket dir).
    for p in $(grep -l -s -F "$W/" /proc/[0-9]*/cmdline | cut -d/ -f3); do
      [ "$p" != $$ ] && kill -9 "$p" 2>/dev/null
    done
  fi
  if [ -n "$DK_PID" ]; then
    kill "$DK_PID" 2>/dev/null
    wait "$DK_PID" 2>/dev/null
    for p in $(grep -l -s -F "$W/" /proc/[0-9]*/cmdline | cut -d/ -f3); do
      [ "$p" != $$ ] && kill -9 "$p" 2>/dev/null
    done
  fi
  if [ -d "$W/podman" ]; then
    "${PODMAN[@]}" rm --all --force --time 0 >/dev/null 2>&1
    "${PODMAN[@]}" system reset --force >/dev/null 2>&1
  fi
  grep -F " $W/" /proc/self/mountinfo | cut -d' ' -f5 | sort -r | while read -r m; do umount -l "$m"; done
  for h in /sys/fs/cgroup/*/; do
    for d in "$h$NS/$PODMAN_CG/conmon" "$h$NS/$PODMAN_CG" "$h$NS/$PODMAN_CG-dk" "$h$NS/sc-run"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
  done
  rm -rf "$W"
}
PODMAN_CG=$(basename "$W")
trap cleanup EXIT
trap 'exit 130' INT TERM

# containerd, configured as the tests' helper configures it; our shim found on its PATH.
mkdir -p "$W/shim/ts" "$W/shim/s" && chmod 700 "$W/shim/s"
cat > "$W/config.toml" <<EOF
version = 2
root = "$W/root"
state = "$W/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$W/ctd.sock"
[ttrpc]
  address = "$W/ctd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF
PATH="$REPO/bin:$PATH:$REPO/build/Release" TSRUN_SHIM_ROOT="$W/shim/ts" TSRUN_SHIM_SOCKET_DIR="$W/shim/s" \
  containerd --config "$W/config.toml" --log-level warn >"$W/containerd.log" 2>&1 &
CTD_PID=$!
CTR=(ctr --address "$W/ctd.sock" -n $NS)
for _ in $(seq 100); do "${CTR[@]}" version >/dev/null 2>&1 && break; sleep 0.1; done
"${CTR[@]}" images import "$REPO/.cache/fixtures/busybox-image.tar" >/dev/null

# podman, as test/helpers/podman.ts makes it.
PODMAN=()
if command -v podman >/dev/null && command -v conmon >/dev/null; then
  mkdir -p "$W/podman/root" "$W/podman/runroot" "$W/podman/tmp"
  cat > "$W/podman/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "none"
tmp_dir = "$W/podman/tmp"
EOF
  export CONTAINERS_CONF=$W/podman/containers.conf
  PODMAN=(podman --root "$W/podman/root" --runroot "$W/podman/runroot" --tmpdir "$W/podman/tmp" --storage-driver overlay)
  "${PODMAN[@]}" load --quiet --input "$REPO/.cache/fixtures/busybox-image.tar" >/dev/null
fi

# docker, as test/helpers/docker.ts makes it: tsrun in daemon.json's runtimes.
DOCKER=()
if command -v dockerd >/dev/null && command -v docker >/dev/null; then
  mkdir -p "$W/dk"
  echo "{\"runtimes\": {\"tsrun\": {\"path\": \"$TSRUN\"}}}" > "$W/dk/daemon.json"
  dockerd --config-file "$W/dk/daemon.json" --data-root "$W/dk/data" --exec-root "$W/dk/x" --pidfile "$W/dk/docker.pid" \
    --host "unix://$W/dk/docker.sock" --bridge none --iptables=false --ip-masq=false --ip-forward=false \
    --cgroup-parent "/$NS/$PODMAN_CG-dk" --storage-driver overlay2 >"$W/dk/log" 2>&1 &
  DK_PID=$!
  DOCKER=(docker -H "unix://$W/dk/docker.sock")
  for _ in $(seq 240); do "${DOCKER[@]}" version >/dev/null 2>&1 && break; sleep 0.25; done
  tar -C "$REPO/.cache/fixtures/busybox/rootfs" -c . | "${DOCKER[@]}" import - $IMAGE >/dev/null
fi

# A bundle for `run`, the bench's (d).
mkdir -p "$W/bundle"
cp -a "$REPO/.cache/fixtures/busybox/rootfs" "$W/bundle/rootfs"
(cd "$W/bundle" && runc spec && jq --arg cg "/$NS/sc-run" '.process.terminal = false | .process.args = ["true"] | .linux.cgroupsPath = $cg' config.json >c.json && mv c.json config.json)

n=0
next() { n=$((n + 1)); ID=sc-$$-$n; }
CASES=()
FUNCS=()
case_() { CASES+=("$1"); FUNCS+=("$2"); }
a_ts() { next; "${CTR[@]}" run --rm --runtime io.containerd.ts.v2 $IMAGE "$ID" true; }
a_runc() { next; "${CTR[@]}" run --rm --runtime io.containerd.runc.v2 $IMAGE "$ID" true; }
a_floor() { next; "${CTR[@]}" run --rm --runtime io.containerd.floor.v2 $IMAGE "$ID" true; }
d_node() { node -e 0; }
d_tsrun() { next; "$TSRUN" --root "$W/tsrun-root" run --bundle "$W/bundle" "$ID"; }
d_runc() { next; runc --root "$W/runc-root" run --bundle "$W/bundle" "$ID"; }
h_tsrun() { next; "${CTR[@]}" run --rm --runtime io.containerd.runc.v2 --runc-binary "$TSRUN" --runc-root "$W/h-tsrun" $IMAGE "$ID" true; }
h_runc() { next; "${CTR[@]}" run --rm --runtime io.containerd.runc.v2 --runc-binary runc --runc-root "$W/h-runc" $IMAGE "$ID" true; }
g_tsrun() { "${PODMAN[@]}" run --rm --runtime "$TSRUN" --cgroup-parent "/$NS/$PODMAN_CG" $IMAGE true; }
g_runc() { "${PODMAN[@]}" run --rm --runtime /usr/sbin/runc --cgroup-parent "/$NS/$PODMAN_CG" $IMAGE true; }
i_tsrun() { "${DOCKER[@]}" run --rm --network none --runtime tsrun $IMAGE true; }
i_runc() { "${DOCKER[@]}" run --rm --network none --runtime runc $IMAGE true; }
case_ "(a) ctr run --rm, ts" a_ts
case_ "(a) ctr run --rm, runc" a_runc
case_ "(a) ctr run --rm, floor shim" a_floor
case_ "node -e 0" d_node
case_ "tsrun run" d_tsrun
case_ "runc run" d_runc
case_ "(h) ctr run --rm, runc shim, --runc-binary tsrun" h_tsrun
case_ "(h) ctr run --rm, runc shim, --runc-binary runc" h_runc
if [ ${#PODMAN[@]} -gt 0 ]; then
  case_ "(g) podman run --rm, tsrun" g_tsrun
  case_ "(g) podman run --rm, runc" g_runc
fi
if [ ${#DOCKER[@]} -gt 0 ]; then
  case_ "(i) docker run --rm, tsrun" i_tsrun
  case_ "(i) docker run --rm, runc" i_runc
fi

# The pause before each timed command, as the bench makes it (BENCH_GAP_MS; bench/lib.ts).
GAP=$(awk -v ms="${BENCH_GAP_MS:-300}" 'BEGIN { printf "%.3f", ms / 1000 }')
declare -A SAMPLES
for ((r = 0; r < WARMUP + ROUNDS; r++)); do
  for i in "${!CASES[@]}"; do
    sleep "$GAP"
    s=${EPOCHREALTIME/./}
    if ! "${FUNCS[$i]}" </dev/null >/dev/null 2>"$W/stderr"; then
      echo "shell-check: ${CASES[$i]} failed: $(cat "$W/stderr")" >&2
      exit 1
    fi
    e=${EPOCHREALTIME/./}
    [ $r -ge $WARMUP ] && SAMPLES[$i]+="$((e - s)) "
  done
done

[ $TSV = 1 ] || { echo "| case | median ms | min | max | runs |"; echo "|---|---:|---:|---:|---:|"; }
for i in "${!CASES[@]}"; do
  read -r med min max < <(tr ' ' '\n' <<<"${SAMPLES[$i]}" | grep . | sort -g | awk '{a[NR] = $1 / 1000} END {m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.1f %.1f %.1f\n", m, a[1], a[NR]}')
  if [ $TSV = 1 ]; then printf '%s\t%s\t%s\t%s\n' "${CASES[$i]}" "$med" "$min" "$max"
  else printf '| %s | %s | %s | %s | %s |\n' "${CASES[$i]}" "$med" "$min" "$max" "$ROUNDS"; fi
done
