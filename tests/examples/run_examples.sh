#!/bin/sh
# Runs every /v2 example client against a live daemon and checks its numbers.
# Usage: tests/examples/run_examples.sh <lossd binary>
# Starts lossd on a free local port, runs examples/lossd_v2.py (/usr/bin/python3 + numpy),
# examples/lossd_v2.mjs (node) and examples/v2_curl.sh, checks what each printed against the
# expected values (hand-computed for mse, PyTorch float64 for cross_entropy), stops lossd.
# Exits 0 only if every example ran and every number matched.
set -eu
LOSSD=${1:?usage: run_examples.sh <lossd binary>}
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
URL="http://127.0.0.1:$PORT"
"$LOSSD" --port "$PORT" --bind 127.0.0.1 >"$WORK/lossd.log" 2>&1 &
PID=$!

i=0
until curl -sf "$URL/v2/health/ready" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt 100 ] || ! kill -0 "$PID" 2>/dev/null; then
        echo "lossd did not become ready on $URL:" >&2
        cat "$WORK/lossd.log" >&2
        exit 1
    fi
    sleep 0.1
done

$PY "$ROOT/examples/lossd_v2.py" "$URL" >"$WORK/python.out"
node "$ROOT/examples/lossd_v2.mjs" "$URL" >"$WORK/node.out"
sh "$ROOT/examples/v2_curl.sh" "$URL" >"$WORK/curl.out"

$PY - "$WORK" <<'EOF'
import json, struct, sys

work = sys.argv[1]
MSE = {"value": [0.125], "grad_predictions": [-0.5, 0.0]}
# torch.nn.functional.cross_entropy(float64 logits, [0, 2], label_smoothing=0.1) and its grad.
CE = {"value": [0.3454563805893112],
      "grad_predictions": [-0.07386814937202874, 0.07097852940335168, 0.0028896199686770582,
                           0.00798899691247158, 0.010582055686853858, -0.018571052599325455]}
failures = []

def close(got, want, what):
    ok = len(got) == len(want) and all(abs(g - w) <= 1e-12 * (abs(w) + 1) for g, w in zip(got, want))
    if not ok:
        failures.append(f"{what}: got {got}, expected {want}")

def lines(name):
    out = {}
    for line in open(f"{work}/{name}.out"):
        words = line.split()
        if len(words) >= 3 and words[0] in ("mse", "cross_entropy"):
            out[(words[0], words[1])] = [float(x) for x in words[2:]]
        elif words and words[0] == "error":
            out[("error",)] = words[1:]
    return out

for client in ("python", "node"):
    got = lines(client)
    for loss, want in (("mse", MSE), ("cross_entropy", CE)):
        for key, values in want.items():
            close(got.get((loss, key), []), values, f"{client} {loss} {key}")
    if got.get(("error",), [""])[0] != "400":
        failures.append(f"{client}: expected a 400 error line, got {got.get(('error',))}")

text = open(f"{work}/curl.out").read().splitlines()
reply = json.loads(text[1])
data = {o["name"]: o["data"] for o in reply["outputs"]}
close(data.get("loss", []), MSE["value"], "curl JSON loss")
close(data.get("grad_predictions", []), MSE["grad_predictions"], "curl JSON grad")
header = json.loads(text[3])
sizes = [o["parameters"]["binary_data_size"] for o in header["outputs"]]
tail = bytes(int(b, 16) for b in " ".join(text[4:]).split())
if sizes != [4, 8] or len(tail) != 12:
    failures.append(f"curl binary: sizes {sizes}, {len(tail)} bytes")
else:
    floats = list(struct.unpack("<3f", tail))
    close(floats[:1], MSE["value"], "curl binary loss")
    close(floats[1:], MSE["grad_predictions"], "curl binary grad")

for f in failures:
    print("FAIL", f)
print("examples:", "ok" if not failures else f"{len(failures)} failures")
sys.exit(1 if failures else 0)
EOF
