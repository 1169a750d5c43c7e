#!/usr/bin/env bash
# The memory budget against a real memory limit: 16 concurrent 60 MB /v1 JSON requests (each
# under the default 64M --max-body) to one lossd limited to 1 GiB, as the shipped compose and
# Kubernetes files limit a replica. Passes when lossd is never killed (no OOM kill, same
# process at the end) and every answer is 200 or 503 with Retry-After.
#
#   tests/deploy/memory_limit.sh path/to/lossd [IMAGE]
#
# Where lossd runs: in a cgroup (v2, else v1 memory controller) made under this process's
# own, with a 1 GiB limit and no swap, when this machine lets root make one; else in the
# container image IMAGE (default localhost/lossd:dev, built by docker/build-image.sh) with
# `podman run --memory 1g --memory-swap 1g`; else it says why it cannot run and exits 77.
# Loopback only; everything it starts is stopped on exit.
set -euo pipefail

LOSSD=${1:?usage: memory_limit.sh path/to/lossd [IMAGE]}
IMAGE=${2:-localhost/lossd:dev}
LIMIT=$((1024 * 1024 * 1024))
N=16
TMP=$(mktemp -d /tmp/lossd-memlimit.XXXXXX)
CG=
PID=
CONTAINER=
PODMAN=(podman)
[ -d /var/lib/lossd-podman/overlay ] && PODMAN=(podman --root /var/lib/lossd-podman/overlay
  --runroot /var/lib/lossd-podman/overlay-run --storage-driver overlay --cgroup-manager cgroupfs)

log() { printf '[memory-limit] %s\n' "$*" >&2; }
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  [ -n "$CONTAINER" ] && "${PODMAN[@]}" rm -f "$CONTAINER" >/dev/null 2>&1 || true
  [ -n "$CG" ] && rmdir "$CG" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A 60 MB mse request: {"predictions": [...], "targets": [...], "gradient": true}.
python3 - "$TMP/body.json" <<'EOF'
import random, sys
random.seed(7)
n = 60_000_000 // 24  # "0.123456789," is 12 bytes, two lists
with open(sys.argv[1], "w") as f:
    f.write('{"predictions": [')
    f.write(",".join("%.9g" % random.random() for _ in range(n)))
    f.write('], "targets": [')
    f.write(",".join("%.9g" % random.random() for _ in range(n)))
    f.write('], "gradient": true}')
EOF
log "body: $(stat -c %s "$TMP/body.json") bytes, $N at once, limit $LIMIT bytes"

# ---- where to run: a cgroup of our own, else the image under podman ----
own_cgroup() { # prints the directory of this process's memory cgroup, v2 first
  local line
  if [ -r /sys/fs/cgroup/cgroup.controllers ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers; then
    line=$(grep '^0::' /proc/self/cgroup) && echo "v2 /sys/fs/cgroup${line#0::}" && return
  fi
  line=$(grep -E '^[0-9]+:([^:]*,)?memory(,[^:]*)?:' /proc/self/cgroup) || return 1
  [ -d /sys/fs/cgroup/memory ] && echo "v1 /sys/fs/cgroup/memory${line##*:}"
}

start_in_cgroup() {
  local info ver parent port
  info=$(own_cgroup) || return 1
  ver=${info%% *} parent=${info#* }
  parent=${parent%/}
  CG=$parent/lossd-memlimit-$$
  mkdir "$CG" 2>/dev/null || { CG=; return 1; }
  if [ "$ver" = v2 ]; then
    echo "$LIMIT" >"$CG/memory.max" && echo 0 >"$CG/memory.swap.max" 2>/dev/null || true
  else
    echo "$LIMIT" >"$CG/memory.limit_in_bytes" || return 1
    [ -f "$CG/memory.memsw.limit_in_bytes" ] && echo "$LIMIT" >"$CG/memory.memsw.limit_in_bytes"
  fi
  port=$(free_port)
  sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$CG" \
    "$LOSSD" --port "$port" --bind 127.0.0.1 >"$TMP/lossd.log" 2>&1 &
  PID=$!
  PORT=$port MODE="cgroup $ver ($CG)"
}

oom_kills() {
  if [ -n "$CG" ]; then
    if [ -f "$CG/memory.events" ]; then awk '/^oom_kill /{print $2}' "$CG/memory.events"
    else awk '/^oom_kill /{print $2; f=1} END{if(!f) print 0}' "$CG/memory.oom_control"; fi
  else
    "${PODMAN[@]}" inspect -f '{{.State.OOMKilled}}' "$CONTAINER" | sed 's/true/1/;s/false/0/'
  fi
}

start_in_podman() {
  command -v podman >/dev/null && "${PODMAN[@]}" image exists "$IMAGE" 2>/dev/null || return 1
  PORT=$(free_port)
  CONTAINER=lossd-memlimit-$$
  "${PODMAN[@]}" run -d --name "$CONTAINER" --memory 1g --memory-swap 1g --network host \
    "$IMAGE" --port "$PORT" --bind 127.0.0.1 >/dev/null || return 1
  MODE="podman --memory 1g ($IMAGE)"
}

if ! start_in_cgroup && ! start_in_podman; then
  log "SKIP: cannot make a memory cgroup here and no image $IMAGE under podman"
  exit 77
fi
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || { log "lossd did not start"; exit 1; }
budget=$(curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^lossd_memory_budget_bytes/{print $2}')
log "lossd in $MODE on port $PORT, budget $budget bytes"

# ---- 16 at once: curl sends Expect: 100-continue, so a 503 costs no upload ----
for i in $(seq "$N"); do
  curl -s -o "$TMP/reply.$i" -D "$TMP/head.$i" -w '%{http_code}\n' --max-time 300 \
    -H 'Content-Type: application/json' --data-binary "@$TMP/body.json" \
    "http://127.0.0.1:$PORT/v1/loss/mse" >"$TMP/code.$i" 2>/dev/null &
done
wait $(jobs -p | grep -v "^${PID:-x}$") 2>/dev/null || true

fail=0 ok=0 busy=0
for i in $(seq "$N"); do
  code=$(cat "$TMP/code.$i" 2>/dev/null || echo none)
  case "$code" in
    200) ok=$((ok + 1)) ;;
    503) if grep -qi '^Retry-After:' "$TMP/head.$i"; then busy=$((busy + 1)); else
           log "request $i: 503 without Retry-After"; fail=1; fi ;;
    *) log "request $i: $code $(head -c 200 "$TMP/reply.$i" 2>/dev/null)"; fail=1 ;;
  esac
done
kills=$(oom_kills)
alive=1
if [ -n "$PID" ]; then kill -0 "$PID" 2>/dev/null || alive=0; else
  [ "$("${PODMAN[@]}" inspect -f '{{.State.Running}}' "$CONTAINER")" = true ] || alive=0; fi
peak=
[ -n "$CG" ] && peak=$(cat "$CG/memory.peak" 2>/dev/null || cat "$CG/memory.max_usage_in_bytes" 2>/dev/null || true)
log "answers: $ok x 200, $busy x 503 with Retry-After; OOM kills: $kills; alive: $alive${peak:+; peak usage $peak bytes}"
[ "$kills" = 0 ] || fail=1
[ "$alive" = 1 ] || fail=1
[ "$ok" -ge 1 ] || { log "no request was admitted"; fail=1; }
[ "$fail" = 0 ] && log "PASS" || log "FAIL"
exit "$fail"
