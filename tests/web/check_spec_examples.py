#!/usr/bin/python3
"""Every response example in api/openapi.yaml is what a live lossd answers.

Usage: check_spec_examples.py <lossd binary> <openapi.yaml>

Starts lossd with an API key on a free local port. For each operation and each named example
of each of its responses, it builds the request the example documents and checks that the
status is the response's and the body equals the example's value (JSON compared as values,
numbers exactly, booleans apart from numbers). The request is:
  * method: the operation's, or `x-request.method` in the example (for 405 examples);
  * path parameters: `x-request.params`, else the parameter's `example`;
  * body: `x-request.body` (raw text), else the request example of the same name, else the
    operation's first request example (errors that do not depend on the body);
  * Content-Type: `x-request.content_type`, else application/json when there is a body;
  * the API key, except for 401 examples.
Shared response components may carry examples only if they hold for every operation that
uses them: they are checked for each. It also fails when an operation has no operationId,
when a request example has no response example of its name (it would go unchecked), or when
a response uses `example` instead of named `examples`.
"""
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../server/web"))
import openapi_json  # noqa: E402  (the build's YAML 1.2 loader)

KEY = "spec-examples-key"
METHODS = ("get", "post", "put", "delete", "patch", "head", "options")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(lossd, log):
    port = free_port()
    proc = subprocess.Popen([lossd, "--port", str(port), "--bind", "127.0.0.1", "--api-key", KEY],
                            stdout=log, stderr=log)
    for _ in range(100):
        try:
            if request(port, "GET", "/healthz", None, None, False)[0] == 200:
                return proc, port
        except OSError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("lossd did not start")


def request(port, method, path, body, content_type, with_key):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Connection": "close"}
    if content_type:
        headers["Content-Type"] = content_type
    if with_key:
        headers["Authorization"] = f"Bearer {KEY}"
    conn.request(method, path, body=body.encode() if body is not None else None, headers=headers)
    res = conn.getresponse()
    out = res.status, res.getheader("Content-Type") or "", res.read().decode()
    conn.close()
    return out


def same(a, b):
    """JSON equality where true is not 1 and 1.0 is 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


class Spec:
    def __init__(self, path):
        self.doc = openapi_json.load(path)

    def resolve(self, obj):
        while isinstance(obj, dict) and "$ref" in obj:
            node = self.doc
            for part in obj["$ref"].lstrip("#/").split("/"):
                node = node[part]
            obj = node
        return obj

    def operations(self):
        for path, item in self.doc["paths"].items():
            for method in METHODS:
                if method in item:
                    params = [self.resolve(p) for p in item.get("parameters", []) +
                              item[method].get("parameters", [])]
                    yield path, method, item[method], params


def request_examples(spec, op):
    body = spec.resolve(op.get("requestBody", {}))
    media = body.get("content", {}).get("application/json", {})
    return media.get("examples", {})


def build(path, method, params, examples, name, ex, status):
    """The (method, path, body, content type, with key) that the example documents."""
    xr = ex.get("x-request", {})
    for p in params:
        if p.get("in") == "path":
            value = xr.get("params", {}).get(p["name"], p.get("example"))
            if value is None:
                raise ValueError(f"no value for path parameter {p['name']}")
            path = path.replace("{" + p["name"] + "}", str(value))
    if "body" in xr:
        body = xr["body"]
    elif name in examples:
        body = json.dumps(examples[name]["value"])
    elif examples:
        body = json.dumps(next(iter(examples.values()))["value"])
    else:
        body = None
    ctype = xr.get("content_type", "application/json" if body is not None else None)
    return xr.get("method", method).upper(), path, body, ctype, status != "401"


def check_operation(spec, port, path, method, op, params, failures):
    """Checks op's response examples; returns how many it checked."""
    where = f"{method.upper()} {path}"
    if not op.get("operationId"):
        failures.append(f"{where}: no operationId")
    examples = request_examples(spec, op)
    used, checked = set(), 0
    for status, response in op.get("responses", {}).items():
        for ctype, media in spec.resolve(response).get("content", {}).items():
            if "example" in media:
                failures.append(f"{where} {status} {ctype}: use named `examples`, not `example`")
            for name, ex in media.get("examples", {}).items():
                used.add(name)
                checked += 1
                req = build(path, method, params, examples, name, ex, status)
                got_status, got_type, text = request(port, *req)
                label = f"{where} {status} example {name!r} ({req[0]} {req[1]})"
                if str(got_status) != status:
                    failures.append(f"{label}: status {got_status}, body {text}")
                    continue
                got = json.loads(text) if "json" in got_type else text
                if not same(got, ex["value"]):
                    failures.append(f"{label}:\n  server:  {text}\n  example: "
                                    f"{json.dumps(ex['value'])}")
    for name in examples:
        if name not in used:
            failures.append(f"{where}: request example {name!r} has no response example "
                            "of that name, so nothing checks it")
    return checked


def main():
    lossd, spec_path = sys.argv[1], sys.argv[2]
    spec = Spec(spec_path)
    failures, checked, ops = [], 0, 0
    with tempfile.TemporaryFile() as log:
        proc, port = start(lossd, log)
        try:
            for path, method, op, params in spec.operations():
                ops += 1
                checked += check_operation(spec, port, path, method, op, params, failures)
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    for f in failures:
        print("FAIL", f)
    print(f"{checked} response examples checked over {ops} operations; {len(failures)} failures")
    if checked == 0:
        print("FAIL no examples found")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
