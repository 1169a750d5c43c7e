#!/usr/bin/env bash
# Runs every `$ curl` example of README.md against a live lossd and checks that it prints
# exactly the line the README shows under it; then its Python and JS client examples
# (tests/readme/run_code_blocks.py) against the same server. Usage: check_readme_examples.sh <lossd> <README.md>
set -euo pipefail
lossd=$1 readme=$2
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$lossd" --port "$port" --bind 127.0.0.1 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -s --noproxy '*' "localhost:$port/healthz" >/dev/null && break
  sleep 0.05
done
checked=0 failed=0
while IFS= read -r cmd && IFS= read -r want; do
  got=$(eval "${cmd/localhost:8080/localhost:$port} --noproxy '*'")
  if [ "$got" != "$want" ]; then
    printf 'MISMATCH: %s\n  want: %s\n  got:  %s\n' "$cmd" "$want" "$got"
    failed=$((failed + 1))
  fi
  checked=$((checked + 1))
done < <(awk '/^\$ curl /{sub(/^\$ /,""); print; getline; print}' "$readme")
echo "$checked README examples, $failed failed"
# The Python (```pycon) and JS (```js) examples, if the file has any, with the client
# packages of this checkout.
root=$(cd "$(dirname "$0")/../.." && pwd)
if grep -q '^```\(pycon\|js\)$' "$readme"; then
  PYTHONPATH="$root/clients/python" /usr/bin/python3 "$(dirname "$0")/run_code_blocks.py" \
    "$readme" "http://127.0.0.1:$port" || failed=$((failed + 1))
fi
[ "$checked" -gt 0 ] && [ "$failed" -eq 0 ]
