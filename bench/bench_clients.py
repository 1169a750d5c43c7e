#!/usr/bin/env python3
"""Client benchmark: 1e6 float32 mse + gradient, end to end, measured side by side.

    /usr/bin/python3 bench/bench_clients.py --lossd build/lossd [--rounds 7] [--reps 10]
    /usr/bin/python3 bench/bench_clients.py --url http://127.0.0.1:8080

Paths timed, interleaved in every round so that they share the machine's load:
  client  the `lossd` Python package (clients/python): binary /v2, kept-alive connection
  raw     a hand-written socket client: one sendmsg of head + array memory, recv_into one
          buffer, np.frombuffer (the floor any Python client can reach over HTTP)
  torch   PyTorch in-process: F.mse_loss forward + backward on the same arrays
  node    the `lossd` JS package (clients/js), raw fetch with typed-array views, and raw
          node:http (bench/bench_clients.mjs, same server)
Each round takes the median of --reps calls per path; the ratios are computed within a
round and the report gives their median over the rounds (absolute times on a shared
machine drift; same-run ratios do not). Prints a Markdown table; --tsv and --md write it.
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "clients", "python"))
import lossd  # noqa: E402  (the package from this checkout)


def start_lossd(binary):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1"],
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("lossd did not start")


class RawSocket:
    """The least a Python client can do over HTTP/1.1 for one /v2 binary request."""

    def __init__(self, url, p, t):
        host, port = url.split("//")[1].split(":")
        self.sock = socket.create_connection((host, int(port)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        header = json.dumps({
            "inputs": [{"name": n, "shape": list(a.shape), "datatype": "FP32",
                        "parameters": {"binary_data_size": a.nbytes}}
                       for n, a in (("predictions", p), ("targets", t))],
            "parameters": {"gradient": True, "binary_data_output": True}},
            separators=(",", ":")).encode()
        length = len(header) + p.nbytes + t.nbytes
        self.head = (f"POST /v2/models/mse/infer HTTP/1.1\r\nHost: {host}\r\n"
                     f"Content-Type: application/octet-stream\r\n"
                     f"Inference-Header-Content-Length: {len(header)}\r\n"
                     f"Content-Length: {length}\r\n\r\n").encode() + header
        self.p, self.t = memoryview(p).cast("B"), memoryview(t).cast("B")
        self.pending = b""

    def call(self):
        self.sock.sendmsg([self.head, self.p, self.t])
        data = self.pending
        while b"\r\n\r\n" not in data:
            data += self.sock.recv(65536)
        head, rest = data.split(b"\r\n\r\n", 1)
        fields = {}
        for line in head.split(b"\r\n")[1:]:
            k, v = line.split(b":", 1)
            fields[k.strip().lower()] = v.strip()
        n, hlen = int(fields[b"content-length"]), int(fields[b"inference-header-content-length"])
        body = bytearray(n)
        view = memoryview(body)
        got = min(len(rest), n)
        view[:got] = rest[:got]
        self.pending = bytes(rest[got:])
        while got < n:
            got += self.sock.recv_into(view[got:])
        meta = json.loads(bytes(view[:hlen]))
        out = meta["outputs"]
        value = float(np.frombuffer(body, np.float32, 1, hlen)[0])
        grad = np.frombuffer(body, np.float32, out[1]["shape"][0], hlen + 4)
        return value, grad


def median_call(fn, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lossd", help="lossd binary to start (default: --url)")
    ap.add_argument("--url", help="a running lossd")
    ap.add_argument("--n", type=float, default=1e6)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--no-node", action="store_true")
    ap.add_argument("--tsv", help="write the results as TSV here")
    ap.add_argument("--md", help="write the Markdown table here")
    args = ap.parse_args()
    proc = None
    if args.lossd:
        proc, url = start_lossd(args.lossd)
    elif args.url:
        url = args.url
    else:
        ap.error("--lossd or --url")
    load0 = open("/proc/loadavg").read().split()[0]
    try:
        rows = run(url, args)
        rows["load"] = (load0, open("/proc/loadavg").read().split()[0])
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=30)
    report(rows, args)


def run(url, args):
    n = int(args.n)
    rng = np.random.default_rng(0)
    p = rng.standard_normal(n).astype(np.float32)
    t = rng.standard_normal(n).astype(np.float32)
    client = lossd.Client(url)
    raw = RawSocket(url, p, t)
    paths = {
        "client": lambda: client.loss("mse", predictions=p, targets=t, gradient=True),
        "raw": raw.call,
    }
    try:
        import torch
        import torch.nn.functional as F

        tt = torch.from_numpy(t)

        def torch_call():
            pt = torch.from_numpy(p).requires_grad_(True)
            loss = F.mse_loss(pt, tt)
            loss.backward()
            return loss.item(), pt.grad

        paths["torch"] = torch_call
        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    # Same numbers through every path before timing anything.
    c = paths["client"]()
    rv, rg = raw.call()
    assert abs(c.value - rv) <= 1e-6 * rv and np.array_equal(c.gradient["predictions"], rg)
    if "torch" in paths:
        tv, tg = paths["torch"]()
        assert abs(c.value - tv) <= 1e-5 * tv, (c.value, tv)
        np.testing.assert_allclose(c.gradient["predictions"], tg.numpy(), rtol=1e-5, atol=1e-12)
    for fn in paths.values():  # warm up
        fn()
    per = {k: [] for k in paths}
    for _ in range(args.rounds):
        for k, fn in paths.items():
            per[k].append(median_call(fn, args.reps))
    rows = {"n": n, "rounds": args.rounds, "reps": args.reps, "torch": torch_version,
            "threads": None}
    if torch_version:
        rows["threads"] = torch.get_num_threads()
    med = {k: statistics.median(v) for k, v in per.items()}
    rows["ms"] = {k: v * 1e3 for k, v in med.items()}
    rows["client_over_raw"] = statistics.median(c / r for c, r in zip(per["client"], per["raw"]))
    if "torch" in per:
        rows["client_over_torch"] = statistics.median(
            c / t for c, t in zip(per["client"], per["torch"]))
    if not args.no_node:
        out = subprocess.run(["node", os.path.join(HERE, "bench_clients.mjs"), "--url", url,
                              "--n", str(n), "--rounds", str(args.rounds),
                              "--reps", str(args.reps)],
                             capture_output=True, text=True, check=True)
        rows["node"] = json.loads(out.stdout)
    return rows


def report(rows, args):
    ms = rows["ms"]
    lines = [
        f"1e6 float32 mse + gradient, end to end (median of {rows['rounds']} rounds x "
        f"{rows['reps']} calls; ratios are same-round medians)",
        "",
        "| path | median ms | ratio |",
        "|---|---|---|",
        f"| Python client (`lossd`, binary /v2) | {ms['client']:.2f} | "
        f"{rows['client_over_raw']:.2f}x raw socket"
        + (f", {rows['client_over_torch']:.2f}x PyTorch |" if "client_over_torch" in rows
           else " |"),
        f"| raw socket (sendmsg + recv_into, np.frombuffer) | {ms['raw']:.2f} | 1 |",
    ]
    if "torch" in ms:
        lines.append(f"| PyTorch {rows['torch']} in-process forward + backward "
                     f"({rows['threads']} threads) | {ms['torch']:.2f} | |")
    node = rows.get("node")
    if node:
        lines.append(f"| Node client (`lossd`, binary /v2) | {node['client_ms']:.2f} | "
                     f"{node['client_over_raw']:.2f}x raw fetch |")
        lines.append(f"| raw fetch with typed-array views | {node['raw_ms']:.2f} | 1 |")
        lines.append(f"| raw node:http, arrays written as they are | {node['http_ms']:.2f} | "
                     f"client {node['client_over_http']:.2f}x this |")
    lines += ["", f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
              f"{os.cpu_count()} CPUs shared with other work (load average "
              f"{rows['load'][0]} at the start, {rows['load'][1]} at the end); absolute times "
              "move with the load, the same-round ratios much less."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.md:
        with open(args.md, "w") as f:
            f.write(text)
    if args.tsv:
        with open(args.tsv, "w") as f:
            for k, v in ms.items():
                f.write(f"python_{k}_ms\t{v:.4f}\n")
            f.write(f"client_over_raw\t{rows['client_over_raw']:.4f}\n")
            if "client_over_torch" in rows:
                f.write(f"client_over_torch\t{rows['client_over_torch']:.4f}\n")
            if node:
                f.write(f"node_client_ms\t{node['client_ms']:.4f}\n")
                f.write(f"node_raw_fetch_ms\t{node['raw_ms']:.4f}\n")
                f.write(f"node_client_over_raw\t{node['client_over_raw']:.4f}\n")
                f.write(f"node_raw_http_ms\t{node['http_ms']:.4f}\n")
                f.write(f"node_client_over_http\t{node['client_over_http']:.4f}\n")


if __name__ == "__main__":
    main()
