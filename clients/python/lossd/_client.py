"""The lossd client: one kept-alive HTTP/1.1 connection, numpy arrays in and out.

Binary transport (the default) is the Open Inference Protocol's /v2 infer with Triton's binary
tensor extension: a small JSON header, then each array's bytes, sent from the array's own
memory (no copy for arrays already contiguous, little-endian and of a wire dtype). The reply
is read into one buffer and every output is an ``np.frombuffer`` view of it. The JSON
transport is lossd's native /v1 API (numbers as JSON text: simpler to debug, slower).
"""
from __future__ import annotations

import http.client
import json
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import quote, urlsplit

import numpy as np

__all__ = ["Client", "LossdError", "LossResult"]

_HEADER = "Inference-Header-Content-Length"
_WIRE = {
    np.dtype("<f4"): "FP32",
    np.dtype("<f8"): "FP64",
    np.dtype("<i4"): "INT32",
    np.dtype("<i8"): "INT64",
}
_NUMPY = {name: dtype for dtype, name in _WIRE.items()}
# Arrays below this size are joined to the request head (one write beats a copy of a few
# KiB); larger ones are sent from their own memory.
_JOIN_BELOW = 64 * 1024

ArrayLike = Union[np.ndarray, Sequence[Any], float, int]
Value = Union[float, np.ndarray, Dict[str, np.ndarray]]


class LossdError(Exception):
    """A request lossd refused (or could not answer).

    Attributes:
        status: the HTTP status (400, 404, 413, 503, ...).
        code: lossd's machine-readable code (``shape_mismatch``, ``unknown_loss``, ...).
        message: the server's explanation.
        field: the offending input, parameter or key, or ``None``.
    """

    def __init__(self, status: int, code: str, message: str, field: Optional[str] = None):
        self.status, self.code, self.message, self.field = status, code, message, field
        where = f" [{field}]" if field else ""
        super().__init__(f"{status} {code}{where}: {message}")


@dataclass(frozen=True)
class LossResult:
    """One computed loss.

    Attributes:
        loss: the canonical loss name (an alias such as ``MSELoss`` answers ``mse``).
        value: a float for ``mean``/``sum``; an ndarray for ``none`` (per element); for GAN
            losses with ``none``, a dict ``{"real": ndarray, "fake": ndarray}``.
        gradient: input name -> ndarray of that input's shape (empty unless asked).
        denominator: what a ``mean`` divided by (elements or weight sum), else ``None``.
        reduction: ``mean``, ``sum``, ``none`` or ``batchmean``.
        dtype: the compute precision, ``float32`` or ``float64`` (outputs have it).
    """

    loss: str
    value: Value
    gradient: Dict[str, np.ndarray] = field(default_factory=dict)
    denominator: Optional[float] = None
    reduction: str = "mean"
    dtype: str = "float64"


class Client:
    """A connection to one lossd server.

    Args:
        url: the server, e.g. ``"http://localhost:8080"`` (``https://`` works too; a path
            prefix such as ``http://gateway/lossd`` is kept).
        api_key: sent as ``Authorization: Bearer <key>`` when the server requires one.
        timeout: seconds to wait on the socket for each request.
        transport: ``"binary"`` (/v2 binary tensors, the default) or ``"json"`` (/v1).

    One kept-alive connection serves every call; it is reopened once, transparently, if the
    server closed it between calls. Thread safety: calls on one client are serialized by a
    lock (safe to share, but one request at a time); for parallel requests use one client
    per thread. Use as a context manager, or call :meth:`close`, to close the connection.
    """

    def __init__(self, url: str = "http://localhost:8080", api_key: Optional[str] = None,
                 timeout: float = 60.0, transport: str = "binary"):
        parts = urlsplit(url if "://" in url else "http://" + url)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"url must be http:// or https://, got {url!r}")
        if transport not in ("binary", "json"):
            raise ValueError(f"transport is 'binary' or 'json', got {transport!r}")
        self._scheme = parts.scheme
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._prefix = parts.path.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.timeout = timeout
        self.transport = transport
        self._conn: Optional[http.client.HTTPConnection] = None
        self._lock = threading.Lock()
        self._entries: Dict[str, Dict[str, Any]] = {}

    # ---- public API ----

    def loss(self, name: str, *, predictions: Optional[ArrayLike] = None,
             targets: Optional[ArrayLike] = None, reduction: str = "mean",
             gradient: bool = False, dtype: Optional[str] = None,
             transport: Optional[str] = None, **inputs_and_params: Any) -> LossResult:
        """Computes one loss.

        Args:
            name: a loss name or alias (``"mse"``, ``"MSELoss"``, ``"cross_entropy"``, ...;
                case, ``_`` and ``-`` do not matter).
            predictions, targets: the usual inputs; other inputs (``weight``, ``var``,
                ``x1``, ``anchor``, ...) are keyword arguments by their catalogue name.
            reduction: ``"mean"``, ``"sum"``, ``"none"`` (and ``"batchmean"`` for kl_div).
            gradient: also return the gradient w.r.t. every floating-point input.
            dtype: ``"float32"`` or ``"float64"`` compute precision; by default float32 when
                every floating-point array given is float32, else float64.
            transport: ``"binary"`` or ``"json"`` for this call (default: the client's).
            **inputs_and_params: further inputs (arrays, by input name; any array-like value
                is sent as an input) and scalar parameters (``delta=0.5``,
                ``label_smoothing=0.1``, ``ignore_index=-1``, ...).

        Arrays may have any shape and any numeric dtype; they are converted only where the
        wire needs it (integer predictions to the compute dtype, big-endian or strided arrays
        to contiguous little-endian). Returns a :class:`LossResult`; raises
        :class:`LossdError` when the server refuses the request.
        """
        entry = self._entry(name)
        tensors, params = self._split(entry, predictions, targets, inputs_and_params)
        arrays, compute = _prepare(entry, tensors, dtype)
        if (transport or self.transport) == "json":
            body = dict(params, reduction=reduction, gradient=bool(gradient), dtype=compute)
            body.update((k, a.tolist()) for k, a in arrays.items())
            reply = self._json("POST", "/v1/loss/" + quote(entry["name"], safe=""), body)
            return _v1_result(reply, arrays)
        params.update(reduction=reduction, gradient=bool(gradient))
        return self._infer(entry["name"], arrays, params)

    def evaluate(self, losses: Sequence[Union[str, Mapping[str, Any]]], *,
                 predictions: Optional[ArrayLike] = None, targets: Optional[ArrayLike] = None,
                 reduction: str = "mean", gradient: bool = False, dtype: Optional[str] = None,
                 **inputs_and_params: Any) -> List[Union[LossResult, LossdError]]:
        """Several losses over the same tensors in one request (``POST /v1/evaluate``).

        ``losses`` holds names, or dicts with a ``"name"`` and that loss's own parameters or
        ``reduction`` (``{"name": "huber", "delta": 0.5}``). Returns one item per loss, in
        order: a :class:`LossResult`, or a :class:`LossdError` (returned, not raised) for a
        loss that failed alone. A request refused as a whole raises :class:`LossdError`.
        Tensors travel as JSON (this endpoint is /v1 only).
        """
        body: Dict[str, Any] = dict(reduction=reduction, gradient=bool(gradient))
        if dtype is not None:
            body["dtype"] = dtype
        arrays = {k: np.asarray(v) for k, v in
                  _named(predictions, targets, inputs_and_params).items() if _is_array(v)}
        body.update((k, v) for k, v in inputs_and_params.items() if k not in arrays)
        body.update((k, a.tolist()) for k, a in arrays.items())
        body["losses"] = [dict(x) if isinstance(x, Mapping) else x for x in losses]
        reply = self._json("POST", "/v1/evaluate", body)
        return [_item(r, arrays) for r in reply["results"]]

    def batch(self, requests: Iterable[Mapping[str, Any]]
              ) -> List[Union[LossResult, LossdError]]:
        """Independent requests in one round trip (``POST /v1/batch``).

        Each request is a dict with ``"loss"`` and that loss's /v1 members (arrays are
        converted): ``{"loss": "mse", "predictions": p, "targets": t, "gradient": True}``.
        Returns one item per request: a :class:`LossResult` or a :class:`LossdError`.
        """
        items, shapes = [], []
        for r in requests:
            arrays = {k: np.asarray(v) for k, v in r.items() if _is_array(v)}
            items.append({k: (arrays[k].tolist() if k in arrays else v) for k, v in r.items()})
            shapes.append(arrays)
        reply = self._json("POST", "/v1/batch", {"requests": items})
        return [_item(r, a) for r, a in zip(reply["responses"], shapes)]

    def losses(self) -> List[Dict[str, Any]]:
        """The catalogue (``GET /v1/losses``): every loss with its aliases, inputs,
        parameters (defaults, ranges), reductions and gradients."""
        entries = self._json("GET", "/v1/losses")["losses"]
        for e in entries:
            self._entries.setdefault(e["name"], e)
        return entries

    def close(self) -> None:
        """Closes the connection (the next call opens a new one)."""
        with self._lock:
            self._drop()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ---- requests ----

    def _entry(self, name: str) -> Dict[str, Any]:
        """The catalogue entry of a loss (cached per spelling; raises unknown_loss)."""
        entry = self._entries.get(name)
        if entry is None:
            entry = self._json("GET", "/v1/losses/" + quote(name, safe=""))
            self._entries[name] = entry
        return entry

    @staticmethod
    def _split(entry: Mapping[str, Any], predictions: Any, targets: Any,
               rest: Mapping[str, Any]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
        inputs = {i["name"] for i in entry["inputs"]}
        tensors, params = {}, {}
        for k, v in _named(predictions, targets, rest).items():
            if k in inputs or _is_array(v):
                tensors[k] = v
            else:
                params[k] = v.item() if isinstance(v, np.generic) else v
        return tensors, params

    def _infer(self, model: str, arrays: Mapping[str, np.ndarray],
               params: Dict[str, Any]) -> LossResult:
        params["binary_data_output"] = True
        inputs, blobs = [], []
        for k, a in arrays.items():
            inputs.append({"name": k, "shape": list(a.shape), "datatype": _WIRE[a.dtype],
                           "parameters": {"binary_data_size": a.nbytes}})
            blobs.append(memoryview(a.reshape(-1)).cast("B"))
        head = json.dumps({"inputs": inputs, "parameters": params},
                          separators=(",", ":")).encode()
        first = [head]
        while blobs and len(blobs[0]) < _JOIN_BELOW:  # small leading tensors ride along
            first.append(blobs.pop(0).tobytes())
        headers = {"Content-Type": "application/octet-stream", _HEADER: str(len(head))}
        status, reply_headers, body = self._request(
            "POST", f"/v2/models/{quote(model, safe='')}/infer", b"".join(first), headers,
            blobs, sum(len(b) for b in first) + sum(len(b) for b in blobs))
        if status != 200:
            raise _error(status, body)
        return _v2_result(model, body, reply_headers.get(_HEADER), arrays)

    def _json(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        status, _, reply = self._request(method, path, data, headers, (),
                                         len(data) if data is not None else None)
        if status != 200:
            raise _error(status, reply)
        return json.loads(reply)

    def _connect(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = (http.client.HTTPSConnection if self._scheme == "https"
                   else http.client.HTTPConnection)
            self._conn = cls(self._host, self._port, timeout=self.timeout)
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _request(self, method: str, path: str, first: Optional[bytes],
                 headers: Mapping[str, str], rest: Sequence[memoryview],
                 length: Optional[int]) -> Tuple[int, Mapping[str, str], bytearray]:
        """One exchange on the kept-alive connection; a connection the server closed while
        idle is reopened and the request sent once more (lossd's requests are pure)."""
        with self._lock:
            for attempt in (0, 1):
                reused = self._conn is not None and self._conn.sock is not None
                conn = self._connect()
                try:
                    return self._exchange(conn, method, path, first, headers, rest, length)
                except (http.client.RemoteDisconnected, ConnectionResetError,
                        BrokenPipeError, http.client.BadStatusLine):
                    self._drop()
                    if attempt or not reused:
                        raise
                except BaseException:
                    self._drop()
                    raise
        raise AssertionError("unreachable")

    def _exchange(self, conn: http.client.HTTPConnection, method: str, path: str,
                  first: Optional[bytes], headers: Mapping[str, str],
                  rest: Sequence[memoryview], length: Optional[int]
                  ) -> Tuple[int, Mapping[str, str], bytearray]:
        conn.putrequest(method, self._prefix + path, skip_accept_encoding=True)
        for k, v in self._headers.items():
            conn.putheader(k, v)
        for k, v in headers.items():
            conn.putheader(k, v)
        if length is not None:
            conn.putheader("Content-Length", str(length))
        conn.endheaders(first)  # the head and `first` leave in one write
        for blob in rest:
            conn.send(blob)
        resp = conn.getresponse()
        body = _read_body(resp)
        if resp.will_close:
            self._drop()
        return resp.status, resp.headers, body


# ---- arrays ----

def _named(predictions: Any, targets: Any, rest: Mapping[str, Any]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    if predictions is not None:
        out["predictions"] = predictions
    if targets is not None:
        out["targets"] = targets
    out.update(rest)
    return out


def _is_array(v: Any) -> bool:
    return isinstance(v, (np.ndarray, list, tuple))


def _prepare(entry: Mapping[str, Any], tensors: Mapping[str, Any], dtype: Optional[str]
             ) -> Tuple[Dict[str, np.ndarray], str]:
    """Wire-ready arrays (contiguous, little-endian, FP32/FP64/INT32/INT64) in catalogue
    order, and the compute dtype. Only arrays that are not already so are converted."""
    kinds = {i["name"]: i["kind"] for i in entry["inputs"]}
    given = {k: (v if isinstance(v, np.ndarray) else np.asarray(v)) for k, v in tensors.items()}
    for k, a in given.items():
        if a.dtype.kind not in "fiub":
            raise TypeError(f"{k}: dtype {a.dtype} is not numeric")
    if dtype is None:
        floats = [a for a in given.values() if a.dtype.kind == "f"]
        dtype = "float32" if floats and all(a.dtype.itemsize <= 4 for a in floats) else "float64"
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype is 'float32' or 'float64', got {dtype!r}")
    compute = np.dtype("<f4" if dtype == "float32" else "<f8")
    order = [i["name"] for i in entry["inputs"]] + [k for k in given if k not in kinds]
    out = {}
    for k in order:
        if k not in given:
            continue
        a = given[k]
        if kinds.get(k) == "index" and a.dtype.kind in "iub":
            want = np.dtype("<i4") if a.dtype == np.dtype("<i4") else np.dtype("<i8")
        else:
            want = compute
        out[k] = np.asarray(a, dtype=want, order="C")  # no copy when already so; keeps 0-d
    return out, dtype


# ---- replies ----

def _read_body(resp: http.client.HTTPResponse) -> bytearray:
    """The whole body, read once into a buffer the outputs then view (writable arrays)."""
    n = resp.length
    if n is None:
        return bytearray(resp.read())
    body = bytearray(n)
    view, got = memoryview(body), 0
    while got < n:
        k = resp.readinto(view[got:])
        if not k:
            raise http.client.IncompleteRead(bytes(view[:got]), n - got)
        got += k
    return body


def _error(status: int, body: bytes) -> LossdError:
    try:
        doc = json.loads(body)
        err = doc["error"]
    except (ValueError, KeyError, TypeError):
        text = bytes(body[:200]).decode("utf-8", "replace")
        return LossdError(status, "http_error", text or f"HTTP {status}")
    if isinstance(err, dict):  # /v1: {"error": {"code", "message", "field"?}}
        return LossdError(status, err.get("code", ""), err.get("message", ""), err.get("field"))
    return LossdError(status, doc.get("code", ""), str(err), doc.get("field"))


def _v2_result(model: str, body: bytearray, header_length: Optional[str],
               arrays: Mapping[str, np.ndarray]) -> LossResult:
    n = int(header_length) if header_length is not None else len(body)
    header = json.loads(bytes(memoryview(body)[:n]))
    outputs: Dict[str, np.ndarray] = {}
    offset = n
    for out in header["outputs"]:
        dt = _NUMPY[out["datatype"]]
        size = out.get("parameters", {}).get("binary_data_size")
        if size is None:  # a JSON output (not asked for, but legal)
            data = np.array([np.nan if x is None else x for x in out["data"]], dtype=dt)
        else:
            data = np.frombuffer(body, dtype=dt, count=size // dt.itemsize, offset=offset)
            offset += size
        outputs[out["name"]] = data.reshape(out["shape"])
    params = header.get("parameters", {})
    reduction = params.get("reduction", "mean")
    grads = {k[5:]: v for k, v in outputs.items() if k.startswith("grad_")}
    if "loss" in outputs:
        value: Value = (outputs["loss"] if reduction == "none"
                        else float(outputs["loss"].reshape(-1)[0]))
    else:  # per-term losses with reduction none: loss_real, loss_fake
        value = {k[5:]: v for k, v in outputs.items() if k.startswith("loss_")}
    any_out = next(iter(outputs.values()), None)
    dtype = "float32" if any_out is not None and any_out.dtype.itemsize == 4 else "float64"
    return LossResult(loss=header.get("model_name", model), value=value, gradient=grads,
                      denominator=params.get("denominator"), reduction=reduction, dtype=dtype)


def _v1_result(reply: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> LossResult:
    dt = np.float32 if reply.get("dtype") == "float32" else np.float64
    value = reply.get("value")
    if reply.get("reduction") == "none":
        if isinstance(value, dict):
            value = {k: np.array(v, dtype=dt) for k, v in value.items()}
        else:
            value = np.array(value, dtype=dt).reshape(reply.get("shape", ()))
    else:  # a float32 value is printed shortest; as binary gives it, it is that float32
        value = float("nan") if value is None else float(dt(value))
    grads = {}
    for k, g in reply.get("gradient", {}).items():
        shape = arrays[k].shape if k in arrays else None
        g = np.array(g, dtype=dt)
        grads[k] = g.reshape(shape) if shape is not None else g
    return LossResult(loss=reply["loss"], value=value, gradient=grads,
                      denominator=reply.get("denominator"),
                      reduction=reply.get("reduction", "mean"),
                      dtype=reply.get("dtype", "float64"))


def _item(r: Mapping[str, Any], arrays: Mapping[str, np.ndarray]
          ) -> Union[LossResult, LossdError]:
    if "error" in r:
        e = r["error"]
        return LossdError(r.get("status", 400), e.get("code", ""), e.get("message", ""),
                          e.get("field"))
    return _v1_result(r, arrays)
