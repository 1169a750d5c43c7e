#!/bin/sh
# Runs both client packages' tests against a live lossd.
# Usage: tests/clients/run_clients.sh <lossd binary>
# Starts lossd on a free local port (with an API key and a short idle timeout, so the
# clients' key handling and reconnection are exercised), installs clients/python into a
# fresh `python3 -m venv --system-site-packages` the way its README says (offline:
# --no-build-isolation), runs its unittest suite with that venv's python, then the JS
# client's node:test suite; and the README's Python example with the installed package (on a
# second lossd without a key). Exits 0 only if all pass.
set -eu
LOSSD=${1:?usage: run_clients.sh <lossd binary>}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
WORK=$(mktemp -d)
PID=
PID2=

cleanup() {
    for p in $PID $PID2; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

free_port() {
    $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_ready URL PID LOG
wait_ready() {
    i=0
    until curl -sf "$1/healthz" >/dev/null 2>&1; do
        i=$((i + 1))
        if [ "$i" -gt 100 ] || ! kill -0 "$2" 2>/dev/null; then
            echo "lossd did not become ready on $1:" >&2
            cat "$3" >&2
            exit 1
        fi
        sleep 0.1
    done
}

PORT=$(free_port)
export LOSSD_URL="http://127.0.0.1:$PORT" LOSSD_API_KEY=client-test-key LOSSD_CONN_TIMEOUT=3
export LOSSD_FIXTURES="$ROOT/tests/fixtures"
"$LOSSD" --port "$PORT" --bind 127.0.0.1 --api-key "$LOSSD_API_KEY" \
    --conn-timeout "$LOSSD_CONN_TIMEOUT" >"$WORK/lossd.log" 2>&1 &
PID=$!
wait_ready "$LOSSD_URL" "$PID" "$WORK/lossd.log"
# A second one as the README's examples expect it: no API key.
PORT2=$(free_port)
env -u LOSSD_API_KEY -u LOSSD_CONN_TIMEOUT "$LOSSD" --port "$PORT2" --bind 127.0.0.1 \
    >"$WORK/lossd2.log" 2>&1 &
PID2=$!
wait_ready "http://127.0.0.1:$PORT2" "$PID2" "$WORK/lossd2.log"

# A copy, so that building the package leaves nothing in the source tree.
cp -r "$ROOT/clients/python" "$WORK/src"
rm -rf "$WORK/src/build" "$WORK/src/"*.egg-info
$PY -m venv --system-site-packages "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --no-build-isolation --no-index "$WORK/src"
cd "$WORK"
"$WORK/venv/bin/python" -c 'import lossd, sys; assert "/venv/" in lossd.__file__, lossd.__file__'
echo "== README's Python example with the installed package"
"$WORK/venv/bin/python" "$ROOT/tests/readme/run_code_blocks.py" "$ROOT/README.md" \
    "http://127.0.0.1:$PORT2" --no-js
echo "== Python client"
"$WORK/venv/bin/python" -m unittest discover -s "$ROOT/clients/python/tests" -v 2>&1
echo "== JS client"
node --test --test-reporter=spec "$ROOT/clients/js/test/"
