#!/usr/bin/python3
"""Check lossd's /metrics with a real Prometheus parser.

    /usr/bin/python3 tests/http/check_metrics.py build/lossd docs/operations.md

Needs Debian's python3-prometheus-client. Starts lossd on a free loopback port, sends one
request of each kind (/v1/loss, /v1/evaluate with two losses, /v1/batch with an error
entry, /v2 infer, a 404, health and metrics), then parses the exposition text with
prometheus_client's parser (which refuses malformed text) and checks:
  - every family has a known type, and the counters, gauges and histograms lossd documents
    are all there, with the documented labels;
  - the route label and the per-loss counts of evaluate and batch entries;
  - every family name appears in docs/operations.md.
Ends with 'N passed, N failed'; exit status 0 only if none failed.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

EXPECTED = {
    # name: (type, label names of its samples, without "le")
    "lossd_requests": ("counter", {"route", "status"}),
    "lossd_request_duration_seconds": ("histogram", {"route"}),
    "lossd_loss_computations": ("counter", {"loss", "status"}),
    "lossd_rejected": ("counter", {"reason"}),
    "lossd_request_bytes": ("counter", set()),
    "lossd_response_bytes": ("counter", set()),
    "lossd_elements": ("counter", set()),
    "lossd_queue_depth": ("gauge", set()),
    "lossd_in_flight": ("gauge", set()),
    "lossd_memory_budget_bytes": ("gauge", set()),
    "lossd_memory_reserved_bytes": ("gauge", set()),
    "lossd_memory_cache_bytes": ("gauge", set()),
    "lossd_connections_open": ("gauge", set()),
    "lossd_connections_refused": ("counter", set()),
    "lossd_connections_cut": ("counter", set()),
    "lossd_build_info": ("gauge", {"version", "isa"}),
    "process_cpu_seconds": ("counter", set()),
    "process_resident_memory_bytes": ("gauge", set()),
    "process_virtual_memory_bytes": ("gauge", set()),
    "process_open_fds": ("gauge", set()),
    "process_max_fds": ("gauge", set()),
    "process_start_time_seconds": ("gauge", set()),
}

passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, path, body=None, headers=None):
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data,
                                 headers=headers or {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main():
    lossd, doc = sys.argv[1], sys.argv[2]
    port = free_port()
    proc = subprocess.Popen([lossd, "--port", str(port), "--bind", "127.0.0.1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                if request(port, "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.05)
        pt = {"predictions": [1.0, 2.0], "targets": [1.0, 3.0]}
        check(request(port, "/v1/loss/mse", dict(pt, gradient=True))[0] == 200, "/v1/loss")
        check(request(port, "/v1/evaluate", dict(pt, losses=["mse", "mae"]))[0] == 200,
              "/v1/evaluate")
        batch = {"requests": [dict(pt, loss="huber"), {"loss": "huber", "predictions": [1]}]}
        check(request(port, "/v1/batch", batch)[0] == 200, "/v1/batch")
        infer = {"inputs": [{"name": "predictions", "datatype": "FP64", "shape": [2],
                             "data": [1.0, 2.0]},
                            {"name": "targets", "datatype": "FP64", "shape": [2],
                             "data": [1.0, 3.0]}]}
        check(request(port, "/v2/models/mse/infer", infer)[0] == 200, "/v2 infer")
        check(request(port, "/nowhere")[0] == 404, "404")
        request(port, "/metrics")
        time.sleep(0.2)  # counters are recorded just after each response is sent
        status, text = request(port, "/metrics")
        check(status == 200, "/metrics 200")
        families = {f.name: f for f in text_string_to_metric_families(text.decode())}
    finally:
        proc.terminate()
        proc.wait(timeout=20)

    for name, (kind, labels) in EXPECTED.items():
        fam = families.get(name)
        check(fam is not None, f"{name} is exposed")
        if fam is None:
            continue
        check(fam.type == kind, f"{name} is a {kind}, not {fam.type}")
        for s in fam.samples:
            check(set(s.labels) - {"le"} == labels, f"{s.name} labels {sorted(s.labels)}")
    check(set(families) <= set(EXPECTED), f"undocumented families: {set(families) - set(EXPECTED)}")

    def value(name, **labels):
        for fam in families.values():
            for s in fam.samples:
                if s.name == name and s.labels == labels:
                    return s.value
        return None

    for route in ("/v1/loss", "/v1/evaluate", "/v1/batch", "/v2/infer", "/health", "/metrics"):
        check((value("lossd_requests_total", route=route, status="200") or 0) >= 1,
              f"route {route} counted")
    check(value("lossd_requests_total", route="other", status="404") == 1, "404 under other")
    check(value("lossd_loss_computations_total", loss="mse", status="200") == 3,
          "mse computed by /v1/loss, /v1/evaluate and /v2")
    check(value("lossd_loss_computations_total", loss="mae", status="200") == 1,
          "mae counted inside /v1/evaluate")
    check(value("lossd_loss_computations_total", loss="huber", status="200") == 1,
          "huber counted inside /v1/batch")
    check(value("lossd_loss_computations_total", loss="huber", status="400") == 1,
          "a failed batch entry counted with its status")
    check((value("lossd_memory_budget_bytes") or 0) > 0, "a memory budget")
    check((value("process_resident_memory_bytes") or 0) > 1 << 20, "resident memory")

    with open(doc, encoding="utf-8") as f:
        documented = f.read()
    for fam in families.values():
        shown = fam.name + ("_total" if fam.type == "counter" else "")
        check(shown in documented, f"{shown} documented in {os.path.basename(doc)}")

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
