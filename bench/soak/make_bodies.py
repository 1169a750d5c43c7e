#!/usr/bin/env python3
"""Writes the request bodies the soak mixes: small and large, JSON and binary, some invalid.

Usage: make_bodies.py <dir>. Standard library only. Each body is <name>.body with its request
line in <name>.req ("METHOD PATH" then "Header: value" lines)."""
import json
import math
import os
import random
import struct
import sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = random.Random(7)


def write(name, path, body, headers):
    with open(os.path.join(out, name + ".body"), "wb") as f:
        f.write(body)
    with open(os.path.join(out, name + ".req"), "w") as f:
        f.write("POST " + path + "\n")
        for k, v in headers.items():
            f.write(f"{k}: {v}\n")


def floats(n):
    return [round(rng.uniform(-2, 2), 6) for _ in range(n)]


JSON = {"Content-Type": "application/json"}
write("small_mse", "/v1/loss/mse",
      json.dumps({"predictions": floats(100), "targets": floats(100), "gradient": True}).encode(), JSON)
rows = 1000
write("large_ce", "/v1/loss/cross_entropy",
      json.dumps({"predictions": [floats(10) for _ in range(rows)],
                  "targets": [rng.randrange(10) for _ in range(rows)], "gradient": True}).encode(), JSON)
write("evaluate", "/v1/evaluate",
      json.dumps({"predictions": floats(1000), "targets": floats(1000),
                  "losses": ["mse", "mae", {"name": "huber", "delta": 0.5}], "gradient": True}).encode(), JSON)

n = 50000
p = floats(n)
y = floats(n)
header = json.dumps({
    "inputs": [
        {"name": "predictions", "shape": [n], "datatype": "FP32", "parameters": {"binary_data_size": 4 * n}},
        {"name": "targets", "shape": [n], "datatype": "FP32", "parameters": {"binary_data_size": 4 * n}},
    ],
    "parameters": {"gradient": True, "binary_data_output": True},
}).encode()
write("binary_mse", "/v2/models/mse/infer", header + struct.pack(f"<{n}f", *p) + struct.pack(f"<{n}f", *y),
      {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(len(header))})

write("bad_json", "/v1/loss/mse", b'{"predictions": [1, 2, 01], "targets": [1, 2, 3]}', JSON)
write("bad_shape", "/v1/loss/bce", json.dumps({"predictions": [0.5, 1.5], "targets": [1, 0]}).encode(), JSON)
write("bad_binary", "/v2/models/mse/infer", header[:40],
      {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(len(header))})
