#!/usr/bin/env python3
"""A minimal lossd client for the Open Inference Protocol (/v2) with binary tensors.

Standard library + numpy only. Tensors go out as raw little-endian bytes (Triton's binary
tensor data extension) and come back the same way, so no number is ever printed or parsed as
text. Usage as a library:

    from lossd_v2 import LossdClient
    client = LossdClient("http://localhost:8080")
    value, grads = client.loss("mse", predictions=p, targets=t, gradient=True)
    # value: a Python float (or an ndarray for reduction="none")
    # grads: {"predictions": ndarray of p's shape and dtype}

As a script it runs a few examples against a server:  python3 lossd_v2.py [URL]
"""
import json
import sys
import urllib.error
import urllib.request

import numpy as np

_DATATYPES = {
    np.dtype(np.float32): "FP32",
    np.dtype(np.float64): "FP64",
    np.dtype(np.int32): "INT32",
    np.dtype(np.int64): "INT64",
}
_NUMPY = {name: dtype for dtype, name in _DATATYPES.items()}
_HEADER = "Inference-Header-Content-Length"


class LossdError(Exception):
    """A refused request: HTTP status, lossd's error code and message."""

    def __init__(self, status, code, message):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class LossdClient:
    def __init__(self, url="http://localhost:8080", timeout=60.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def infer(self, model, inputs, parameters=None, request_id=None):
        """Sends {name: ndarray} (all floating inputs must share float32 or float64: that is
        the compute precision) and returns {output name: ndarray} with every output binary."""
        header = {"inputs": [], "parameters": dict(parameters or {}, binary_data_output=True)}
        if request_id is not None:
            header["id"] = request_id
        blobs = []
        for name, array in inputs.items():
            array = np.asarray(array)
            if array.dtype not in _DATATYPES:
                raise TypeError(f"{name}: dtype {array.dtype} (use float32/64, int32/64)")
            raw = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
            header["inputs"].append({
                "name": name,
                "shape": list(array.shape),
                "datatype": _DATATYPES[array.dtype],
                "parameters": {"binary_data_size": len(raw)},
            })
            blobs.append(raw)
        head = json.dumps(header, separators=(",", ":")).encode()
        request = urllib.request.Request(
            f"{self.url}/v2/models/{model}/infer",
            data=head + b"".join(blobs),
            headers={"Content-Type": "application/octet-stream", _HEADER: str(len(head))},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return _read_outputs(response.read(), response.headers.get(_HEADER))
        except urllib.error.HTTPError as err:
            body = json.loads(err.read() or b"{}")
            raise LossdError(err.code, body.get("code", ""), body.get("error", "")) from None

    def loss(self, name, gradient=False, reduction="mean", **tensors_and_params):
        """One loss: numpy arrays are input tensors (weight/pos_weight included), everything
        else a scalar parameter. Returns (value, {input name: gradient})."""
        inputs = {k: v for k, v in tensors_and_params.items() if isinstance(v, np.ndarray)}
        params = {k: v for k, v in tensors_and_params.items() if k not in inputs}
        params.update(reduction=reduction, gradient=bool(gradient))
        outputs = self.infer(name, inputs, params)
        grads = {k[len("grad_"):]: v for k, v in outputs.items() if k.startswith("grad_")}
        if "loss" not in outputs:  # per-term losses with reduction none: loss_real, loss_fake
            value = {k[len("loss_"):]: v for k, v in outputs.items() if k.startswith("loss_")}
        elif reduction == "none":
            value = outputs["loss"]
        else:
            value = float(outputs["loss"][0])
        return value, grads


def _read_outputs(body, header_length):
    """Splits a binary reply into {name: ndarray}; JSON-only replies are read the same way."""
    n = int(header_length) if header_length is not None else len(body)
    header = json.loads(body[:n])
    outputs, offset = {}, n
    for out in header["outputs"]:
        dtype = np.dtype(_NUMPY[out["datatype"]]).newbyteorder("<")
        size = out.get("parameters", {}).get("binary_data_size")
        if size is None:
            data = np.array([np.nan if x is None else x for x in out["data"]], dtype=dtype)
        else:
            data = np.frombuffer(body, dtype=dtype, count=size // dtype.itemsize, offset=offset)
            offset += size
        outputs[out["name"]] = data.reshape(out["shape"])
    return outputs


def _fmt(array):
    return " ".join(repr(float(x)) for x in np.ravel(array))


def main(url):
    client = LossdClient(url)
    # The byte-level example of examples/README.md: float32 in, float32 out.
    p = np.array([0.5, 1.0], dtype=np.float32)
    t = np.array([1.0, 1.0], dtype=np.float32)
    value, grads = client.loss("mse", predictions=p, targets=t, gradient=True)
    print("mse value", repr(value))
    print("mse grad_predictions", _fmt(grads["predictions"]))

    # Class-index targets travel as INT64 next to float64 logits; a scalar parameter too.
    logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
    labels = np.array([0, 2], dtype=np.int64)
    value, grads = client.loss("cross_entropy", predictions=logits, targets=labels,
                               gradient=True, label_smoothing=0.1)
    print("cross_entropy value", repr(value))
    print("cross_entropy grad_predictions", _fmt(grads["predictions"]))

    # Per-element losses keep the input's shape.
    value, _ = client.loss("huber", predictions=np.array([[0.5, 1.5], [3.0, 0.0]]),
                           targets=np.array([[1.0, 1.0], [2.0, 0.0]]), reduction="none",
                           delta=0.75)
    print("huber none shape", list(value.shape), "values", _fmt(value))

    # Errors come back as exceptions carrying lossd's code.
    try:
        client.loss("mse", predictions=p, targets=np.array([1.0, 2.0, 3.0], dtype=np.float32))
    except LossdError as err:
        print("error", err.status, err.code)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://localhost:8080")
