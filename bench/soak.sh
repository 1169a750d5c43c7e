#!/usr/bin/env bash
# Soak: mixed traffic (small and large, JSON and binary, some invalid) with wrk on loopback.
# Passes when there is no 5xx, no failed connection, and resident memory at the end is less
# than 5% above its high-water mark during the warm-up (the first half: allocator arenas and
# lossd's buffer cache fill there; a leak keeps growing after it).
# Usage: bench/soak.sh <lossd binary> [seconds=60]
set -euo pipefail
lossd=$1 secs=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$here/soak/make_bodies.py" "$work/bodies"
"$lossd" --port "$port" --bind 127.0.0.1 --queue 256 2>"$work/lossd.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  curl -s --noproxy '*' "127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.05
done
rss() { awk '/^VmRSS/{print $2}' "/proc/$pid/status"; }
warm=$((secs / 2))
SOAK_DIR="$work/bodies" timeout $((secs + 30)) wrk -t2 -c16 -d"${secs}s" --timeout 10s \
  -s "$here/soak/soak.lua" "http://127.0.0.1:$port" >"$work/wrk.out" &
wrk_pid=$!
rss_warm=0
for _ in $(seq "$warm"); do
  sleep 1
  now=$(rss)
  [ "$now" -gt "$rss_warm" ] && rss_warm=$now
done
wait $wrk_pid
rss_end=$(rss)
cat "$work/wrk.out"
line=$(grep '^SOAK ' "$work/wrk.out")
get() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$line"; }
growth=$(awk -v a="$rss_warm" -v b="$rss_end" 'BEGIN{printf "%.2f", (b-a)*100/a}')
echo "soak: ${secs}s requests=$(get requests) 5xx=$(get 5xx) rss_warm=${rss_warm}kB rss_end=${rss_end}kB growth=${growth}%"
fail=0
[ "$(get 5xx)" = 0 ] || { echo "FAIL: 5xx responses"; fail=1; }
for e in connect_errors read_errors write_errors timeouts; do
  [ "$(get $e)" = 0 ] || { echo "FAIL: $e=$(get $e)"; fail=1; }
done
[ "$(get 2xx)" -gt 0 ] && [ "$(get 4xx)" -gt 0 ] || { echo "FAIL: traffic mix not served"; fail=1; }
awk -v g="$growth" 'BEGIN{exit !(g < 5)}' || { echo "FAIL: RSS grew ${growth}%"; fail=1; }
kill -TERM $pid; wait $pid; rc=$?
[ $rc -eq 0 ] || { echo "FAIL: lossd exit $rc after SIGTERM"; fail=1; }
trap 'rm -rf "$work"' EXIT
exit $fail
