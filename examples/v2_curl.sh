#!/bin/sh
# lossd's /v2 (Open Inference Protocol) with plain curl: a JSON request, then a binary one
# read from a file. Usage: examples/v2_curl.sh [URL]   (default http://localhost:8080)
set -eu
URL=${1:-http://localhost:8080}
DIR=$(dirname "$0")

echo "# JSON: tensors inline, JSON back"
curl -sS "$URL/v2/models/mse/infer" -H 'Content-Type: application/json' -d '{
  "inputs": [
    {"name": "predictions", "shape": [2], "datatype": "FP32", "data": [0.5, 1.0]},
    {"name": "targets", "shape": [2], "datatype": "FP32", "data": [1.0, 1.0]}],
  "parameters": {"gradient": true}}'
echo

# mse_fp32_request.bin is a 310-byte JSON header (its inputs carry binary_data_size, its
# outputs ask binary_data) followed by 16 bytes: predictions [0.5, 1.0] and targets [1.0, 1.0]
# as little-endian float32. The header length goes in Inference-Header-Content-Length.
echo "# binary: the response is a JSON header, then little-endian float32 loss and gradient"
RESPONSE=$(mktemp)
trap 'rm -f "$RESPONSE"' EXIT
HEADERS=$(curl -sS "$URL/v2/models/mse/infer" -H 'Content-Type: application/octet-stream' \
  -H 'Inference-Header-Content-Length: 310' --data-binary @"$DIR/mse_fp32_request.bin" \
  -D - -o "$RESPONSE")
LEN=$(printf '%s\n' "$HEADERS" | tr -d '\r' | awk -F': ' 'tolower($1) == "inference-header-content-length" {print $2}')
head -c "$LEN" "$RESPONSE"
echo
tail -c +"$((LEN + 1))" "$RESPONSE" | od -An -tx1
