#!/usr/bin/python3
"""Writes the request bodies the HTTP benchmarks send (deterministic, seed 42).

  gen_body.py json N OUT        {"predictions": [N], "targets": [N], "gradient": true}
                                numbers printed as Python prints doubles (17 significant
                                digits at most: what json.dumps of float32 data gives)
  gen_body.py v2 N DTYPE OUT    Open Inference Protocol binary request (FP32 or FP64):
                                JSON header + raw little-endian tensors, gradient and binary
                                output asked; prints the header length on stdout
"""
import json
import sys

import numpy as np


def tensors(n, dtype):
    rng = np.random.default_rng(42)
    return rng.random(n).astype(dtype), rng.random(n).astype(dtype)


def write_json(n, out):
    p, y = tensors(n, np.float32)
    body = {"predictions": p.astype(np.float64).tolist(),
            "targets": y.astype(np.float64).tolist(), "gradient": True}
    with open(out, "w") as f:
        json.dump(body, f, separators=(",", ":"))


def write_v2(n, dtype, out):
    np_dtype = {"FP32": "<f4", "FP64": "<f8"}[dtype]
    p, y = tensors(n, np_dtype)
    inputs = [{"name": name, "shape": [n], "datatype": dtype,
               "parameters": {"binary_data_size": t.nbytes}}
              for name, t in (("predictions", p), ("targets", y))]
    header = json.dumps({"inputs": inputs,
                         "parameters": {"gradient": True, "binary_data_output": True}},
                        separators=(",", ":")).encode()
    with open(out, "wb") as f:
        f.write(header)
        f.write(p.tobytes())
        f.write(y.tobytes())
    print(len(header))


def main():
    kind = sys.argv[1]
    n = int(float(sys.argv[2]))
    if kind == "json":
        write_json(n, sys.argv[3])
    elif kind == "v2":
        write_v2(n, sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
