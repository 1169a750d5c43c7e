#!/bin/sh
# Runs both client packages' tests against a live lossd.
# Usage: tests/clients/run_clients.sh <lossd binary>
# Starts lossd on a free local port (with an API key and a short idle timeout, so the
# clients' key handling and reconnection are exercised), installs clients/python into a
# fresh `python3 -m venv --system-site-packages` the way its README says (offline:
# --no-build-isolation), runs its unittest suite with that venv's python, then the JS
# client's node:test suite. Exits 0 only if both pass.
set -eu
LOSSD=${1:?usage: run_clients.sh <lossd binary>}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
WORK=$(mktemp -d)
PID=

cleanup() {
    if [ -n "$PID" ]; then
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export LOSSD_URL="http://127.0.0.1:$PORT" LOSSD_API_KEY=client-test-key LOSSD_CONN_TIMEOUT=3
export LOSSD_FIXTURES="$ROOT/tests/fixtures"
"$LOSSD" --port "$PORT" --bind 127.0.0.1 --api-key "$LOSSD_API_KEY" \
    --conn-timeout "$LOSSD_CONN_TIMEOUT" >"$WORK/lossd.log" 2>&1 &
PID=$!
i=0
until curl -sf "$LOSSD_URL/healthz" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 100 ] || ! kill -0 "$PID" 2>/dev/null; then
        echo "lossd did not become ready on $LOSSD_URL:" >&2
        cat "$WORK/lossd.log" >&2
        exit 1
    fi
    sleep 0.1
done

# A copy, so that building the package leaves nothing in the source tree.
cp -r "$ROOT/clients/python" "$WORK/src"
rm -rf "$WORK/src/build" "$WORK/src/"*.egg-info
$PY -m venv --system-site-packages "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --no-build-isolation --no-index "$WORK/src"
cd "$WORK"
"$WORK/venv/bin/python" -c 'import lossd, sys; assert "/venv/" in lossd.__file__, lossd.__file__'
echo "== Python client"
"$WORK/venv/bin/python" -m unittest discover -s "$ROOT/clients/python/tests" -v 2>&1
echo "== JS client"
node --test --test-reporter=spec "$ROOT/clients/js/test/"
