#!/usr/bin/python3
"""Measures lossd's behaviour under the hostile-traffic findings (issue: bounded work per byte,
connection slots, smuggling, deadlines, lifecycle, TLS), one finding per function.

Usage: bench/hostile/measure.py LOSSD_BINARY [finding ...]
Prints one line per finding: name, then the figures (seconds, peak RSS, statuses). Runs each
finding against a fresh lossd on 127.0.0.1 with an ephemeral port; every wait is bounded.
Loopback only; needs nothing beyond the Python standard library (gnutls-cli for tls10)."""
import json
import os
import re
import resource
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

BIN = None


def has_flag(flag):
    return flag in subprocess.run([BIN, "--help"], capture_output=True, text=True).stdout


def unlimited_work():
    """Flags that lift the work cap, so that a deadline (not the cost model) is measured."""
    return ["--max-work", "1T"] if has_flag("--max-work") else []


class Server:
    def __init__(self, args=(), env=None):
        self.log = tempfile.NamedTemporaryFile(prefix="lossd-measure-", suffix=".log", delete=False)
        e = dict(os.environ)
        e.update(env or {})
        self.proc = subprocess.Popen([BIN, "--port", "0", "--bind", "127.0.0.1", *args],
                                     stdout=subprocess.DEVNULL, stderr=self.log, env=e)
        self.port = None
        for _ in range(200):
            m = re.search(r"listening on 127\.0\.0\.1:(\d+)", self.text())
            if m:
                self.port = int(m.group(1))
                break
            time.sleep(0.05)
        if self.port is None:
            raise RuntimeError("lossd did not start:\n" + self.text())
        am = re.search(r"admin on 127\.0\.0\.1:(\d+)", self.text())
        self.admin_port = int(am.group(1)) if am else None

    def text(self):
        with open(self.log.name, "r", errors="replace") as f:
            return f.read()

    def peak_rss_mb(self):
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024.0
        except OSError:
            pass
        return float("nan")

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.returncode

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.unlink(self.log.name)


def raw(port, data, timeout=60.0, read_all=True):
    """Sends bytes, returns (status or None, reply bytes, seconds)."""
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        parts = []
        while True:
            try:
                chunk = s.recv(1 << 20)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            parts.append(chunk)
            if not read_all and complete(b"".join(parts)):
                break
        buf = b"".join(parts)
    finally:
        s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})", buf)
    return (int(m.group(1)) if m else None), buf, time.monotonic() - t0


def complete(buf):
    head, sep, body = buf.partition(b"\r\n\r\n")
    if not sep:
        return False
    m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    return m is not None and len(body) >= int(m.group(1))


def post(port, path, body, ctype="application/json", extra=b"", timeout=120.0):
    if isinstance(body, str):
        body = body.encode()
    req = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {ctype}\r\n"
           f"Content-Length: {len(body)}\r\nConnection: close\r\n").encode() + extra + b"\r\n" + body
    return raw(port, req, timeout)


def get(port, path, timeout=5.0):
    return raw(port, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode(), timeout)


def v2_zero(loss, shape, reduction):
    inputs = [{"name": n, "shape": shape, "datatype": "FP32", "data": []}
              for n in ("predictions", "targets")]
    return json.dumps({"inputs": inputs, "parameters": {"reduction": reduction}})


def body_of(buf):
    return buf.partition(b"\r\n\r\n")[2]


# ---- findings ----

def zero_dim_dice():
    s = Server(["--job-timeout", "120"])
    try:
        st, buf, sec = post(s.port, "/v2/models/dice/infer", v2_zero("dice", [300000000, 0], "none"))
        return f"status={st} seconds={sec:.2f} reply_bytes={len(buf)} peak_rss_mb={s.peak_rss_mb():.0f}"
    finally:
        s.close()


def zero_dim_tversky_probes():
    s = Server()
    try:
        res = {}
        t = threading.Thread(target=lambda: res.update(
            r=post(s.port, "/v2/models/tversky/infer", v2_zero("tversky", [2000000000, 0], "sum"))))
        t.start()
        time.sleep(0.3)
        ok = 0
        for _ in range(8):
            try:
                st, _, sec = get(s.port, "/healthz", timeout=1.0)
                ok += st == 200 and sec < 1.0
            except OSError:
                pass
            time.sleep(0.2)
        t.join(120)
        st, buf, sec = res.get("r", (None, b"", float("nan")))
        return f"status={st} seconds={sec:.2f} healthz_ok_within_1s={ok}/8"
    finally:
        s.close()


def ce_huge_classes():
    s = Server()
    try:
        body = json.dumps({"inputs": [
            {"name": "predictions", "shape": [0, 2 ** 53], "datatype": "FP32", "data": []},
            {"name": "targets", "shape": [0], "datatype": "INT64", "data": []}]})
        st, buf, sec = post(s.port, "/v2/models/cross_entropy/infer", body)
        return f"status={st} seconds={sec:.2f} body={body_of(buf)[:120]!r}"
    finally:
        s.close()


def ctc_body(T, N, C, S):
    import random
    rnd = random.Random(1)
    lp = [[[-1.0986] * C for _ in range(N)] for _ in range(T)]
    tg = [[1 + (k % (C - 1)) for k in range(S)] for _ in range(N)]
    return json.dumps({"predictions": lp, "targets": tg, "input_lengths": [T] * N,
                       "target_lengths": [S] * N, "reduction": "sum"})


def evaluate_repeat():
    s = Server(["--job-timeout", "300"])
    try:
        one = json.loads(ctc_body(512, 2, 3, 200))
        t1 = post(s.port, "/v1/loss/ctc", json.dumps(one))
        one["losses"] = ["ctc"] * 20
        del one["reduction"]
        st, buf, sec = post(s.port, "/v1/evaluate", json.dumps(one))
        return (f"one_ctc_seconds={t1[2]:.2f} evaluate_20x_status={st} seconds={sec:.2f} "
                f"ratio={sec / max(t1[2], 1e-3):.1f}")
    finally:
        s.close()


def ctc_deadline():
    out = []
    if has_flag("--max-work"):
        s = Server(["--job-timeout", "5", "--workers", "2"])
        try:
            st, buf, sec = post(s.port, "/v1/loss/ctc", ctc_body(4096, 40, 3, 4000), timeout=300)
            out.append(f"default_limits: status={st} seconds={sec:.2f} {body_of(buf)[:90]!r}")
        finally:
            s.close()
    return " | ".join(out + [ctc_deadline_run()])


def ctc_deadline_run():
    s = Server(["--job-timeout", "5", "--workers", "2", *unlimited_work()])
    try:
        body = ctc_body(4096, 40, 3, 4000)
        res = {}
        t = threading.Thread(target=lambda: res.update(r=post(s.port, "/v1/loss/ctc", body, timeout=300)))
        t.start()
        time.sleep(1.0)
        # While it runs: does another (cheap) job get a worker?
        st2, _, sec2 = post(s.port, "/v1/loss/mse",
                             json.dumps({"predictions": [0.5] * 2000, "targets": [1] * 2000}), timeout=300)
        t.join(300)
        st, buf, sec = res["r"]
        return (f"body_mb={len(body) / 1e6:.1f} status={st} seconds={sec:.1f} "
                f"concurrent_small_status={st2} seconds={sec2:.1f}")
    finally:
        s.close()


def ntxent_max():
    s = Server(["--job-timeout", "300"])
    try:
        n, d = 5792, 8
        import array
        x = array.array("f", [((i * 37) % 101) / 101.0 for i in range(n * d)]).tobytes()
        hdr = json.dumps({"inputs": [
            {"name": "x1", "shape": [n, d], "datatype": "FP32", "parameters": {"binary_data_size": len(x)}},
            {"name": "x2", "shape": [n, d], "datatype": "FP32", "parameters": {"binary_data_size": len(x)}}],
            "parameters": {"gradient": True, "binary_data_output": True}}).encode()
        st, buf, sec = post(s.port, "/v2/models/ntxent/infer", hdr + x + x, ctype="application/octet-stream",
                            extra=f"Inference-Header-Content-Length: {len(hdr)}\r\n".encode())
        return f"N={n} status={st} seconds={sec:.1f} peak_rss_mb={s.peak_rss_mb():.0f}"
    finally:
        s.close()


def slow_connections():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    s = Server(["--admin-port", "0"] if has_flag("--admin-port") else [])
    socks = []
    try:
        for i in range(1100):
            try:
                c = socket.create_connection(("127.0.0.1", s.port), timeout=2)
                c.sendall(b"GET /healthz HTTP/1.1\r\n")
                socks.append(c)
            except OSError:
                break
        time.sleep(0.5)
        answered, sec = None, None
        try:
            st, _, sec = get(s.port, "/healthz", timeout=3.0)
            answered = st
        except OSError as e:
            answered = type(e).__name__
        admin = "n/a"
        if s.admin_port:
            try:
                st, _, asec = get(s.admin_port, "/healthz", timeout=3.0)
                admin = f"{st} in {asec:.2f}s"
            except OSError as e:
                admin = type(e).__name__
        t = f"{sec:.2f}s" if sec is not None else "-"
        return f"opened={len(socks)} fresh_client={answered} in {t} admin_healthz={admin}"
    finally:
        for c in socks:
            c.close()
        s.close()


SMUGGLE = {
    "two_content_length": b"POST /v1/loss/mse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Content-Length: 46\r\nContent-Length: 80\r\n\r\n",
    "cl_and_chunked": b"POST /v1/loss/mse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n",
    "te_space_colon": b"POST /v1/loss/mse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Transfer-Encoding : chunked\r\nContent-Length: 46\r\n\r\n",
}
MSE = b'{"predictions": [0.5, 1.5], "targets": [1, 1]}'
HIDDEN = b"GET /v1/losses/hidden HTTP/1.1\r\nHost: x\r\n\r\n"


def smuggling():
    s = Server()
    out = []
    try:
        for name, head in SMUGGLE.items():
            if name == "cl_and_chunked":
                body = b"%x\r\n" % len(MSE) + MSE + b"\r\n0\r\n\r\n" + HIDDEN
            else:
                body = MSE + HIDDEN
            st, buf, _ = raw(s.port, head + body, timeout=3.0)
            statuses = re.findall(rb"HTTP/1\.1 (\d{3})", buf)
            out.append(f"{name}={'/'.join(x.decode() for x in statuses)}")
        return " ".join(out) + "  (a second status = the hidden request ran)"
    finally:
        s.close()


def nul_path():
    s = Server()
    try:
        st, buf, _ = get(s.port, "/metrics%00.png")
        st2, buf2, _ = get(s.port, "/v1/losses/ms%00e")
        return f"/metrics%00.png={st} /v1/losses/ms%00e={st2} body={body_of(buf2)[:100]!r}"
    finally:
        s.close()


def chunk_line():
    s = Server()
    try:
        req = (b"POST /v1/loss/mse HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n" + b"1" * 100000 + b"\r\n")
        st, buf, _ = raw(s.port, req, timeout=5.0)
        ctype = re.search(rb"(?i)\r\ncontent-type: *([^\r]*)", buf)
        return f"status={st} content_type={ctype.group(1).decode() if ctype else None} body={body_of(buf)[:60]!r}"
    finally:
        s.close()


def drain_long_job():
    s = Server(["--drain-timeout", "3", "--job-timeout", "300", *unlimited_work()])
    try:
        body = ctc_body(4096, 40, 3, 4000)
        res = {}
        t = threading.Thread(target=lambda: res.update(r=post(s.port, "/v1/loss/ctc", body, timeout=300)))
        t.start()
        time.sleep(2.0)
        t0 = time.monotonic()
        rc = s.stop(timeout=120)
        exit_s = time.monotonic() - t0
        t.join(10)
        cut = re.findall(r"[^\n]*cut off[^\n]*", s.text())
        st = res.get("r", (None,))[0]
        return f"exit_after={exit_s:.1f}s rc={rc} job_status={st} log={cut}"
    finally:
        s.close()


def sighup():
    s = Server(["--job-timeout", "60"])
    try:
        body = json.dumps({"predictions": [0.5] * 20000, "targets": [1] * 20000})
        results = []
        lock = threading.Lock()

        def one():
            try:
                st, _, _ = post(s.port, "/v1/loss/mse", body, timeout=30)
            except OSError:
                st = None
            with lock:
                results.append(st)
        ts = [threading.Thread(target=one) for _ in range(50)]
        for t in ts:
            t.start()
        time.sleep(0.05)
        s.proc.send_signal(signal.SIGHUP)
        for t in ts:
            t.join(60)
        try:
            rc = s.proc.wait(60)  # no second signal: that one would mean "exit now"
        except subprocess.TimeoutExpired:
            rc = s.stop(signal.SIGKILL)
        ok = sum(1 for r in results if r == 200)
        return f"ok={ok}/50 rc={rc}"
    finally:
        s.close()


def connect_then_get(port):
    """'ok', 'refused'/'connect_timeout' (never connected: correct after the close), or
    'dropped' (connected, then reset or closed without a response: the failure)."""
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=3.0)
    except ConnectionRefusedError:
        return "refused"
    except OSError:
        return "connect_timeout"
    try:
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        buf = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            buf += chunk
        return "ok" if buf.startswith(b"HTTP/1.1 ") else "dropped"
    except OSError:
        return "dropped"
    finally:
        c.close()


def shutdown_delay():
    s = Server(["--shutdown-delay", "2"])
    errors = {"ok": 0, "refused": 0, "connect_timeout": 0, "dropped": 0}
    stop = time.monotonic() + 4.0
    lock = threading.Lock()
    try:
        def hammer():
            while time.monotonic() < stop:
                key = connect_then_get(s.port)
                with lock:
                    errors[key] += 1
                if key != "ok":
                    time.sleep(0.01)
        ts = [threading.Thread(target=hammer) for _ in range(8)]
        for t in ts:
            t.start()
        time.sleep(1.0)
        s.proc.send_signal(signal.SIGTERM)
        for t in ts:
            t.join(10)
        s.stop()
        return " ".join(f"{k}={v}" for k, v in errors.items()) + "  (dropped = connected, then no response)"
    finally:
        s.close()


def tls10():
    d = tempfile.mkdtemp()
    key, crt = os.path.join(d, "k.pem"), os.path.join(d, "c.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
    proc = subprocess.Popen([BIN, "--port", "0", "--bind", "127.0.0.1", "--tls-cert", crt, "--tls-key", key],
                            stderr=subprocess.PIPE, text=True)
    port = None
    for line in proc.stderr:
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    out = []
    try:
        for prio in ("NORMAL:-VERS-ALL:+VERS-TLS1.0", "NORMAL:-VERS-ALL:+VERS-TLS1.1",
                     "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+RSA", "NORMAL:-VERS-ALL:+VERS-TLS1.2"):
            r = subprocess.run(["gnutls-cli", "--insecure", f"--priority={prio}", "-p", str(port), "127.0.0.1"],
                               input="", capture_output=True, text=True, timeout=10)
            ok = "Handshake was completed" in r.stdout + r.stderr
            out.append(f"{prio.split(':', 2)[2]}={'accepted' if ok else 'refused'}")
    finally:
        proc.kill()
        proc.wait()
    return " ".join(out)


def crlf_option():
    p = subprocess.Popen([BIN, "--port", "0", "--bind", "127.0.0.1", "--cors-origin", "a\r\nX-Evil: 1"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        rc = p.wait(2)
        return f"refused at start-up: exit={rc} stderr={p.stderr.read().strip()[:100]!r}"
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return "accepted (still serving after 2 s)"


def nul_message():
    s = Server()
    try:
        st, buf, _ = post(s.port, "/v1/evaluate", '{"losses": ["ms\\u0000e_and_more"], "predictions": [1], "targets": [1]}')
        return f"status={st} body={body_of(buf)[:200]!r}"
    finally:
        s.close()


FINDINGS = [zero_dim_dice, zero_dim_tversky_probes, ce_huge_classes, evaluate_repeat, ctc_deadline,
            ntxent_max, slow_connections, smuggling, nul_path, chunk_line, drain_long_job, sighup,
            shutdown_delay, tls10, crlf_option, nul_message]


def main():
    global BIN
    BIN = os.path.abspath(sys.argv[1])
    want = set(sys.argv[2:])
    for f in FINDINGS:
        if want and f.__name__ not in want:
            continue
        try:
            print(f"{f.__name__}: {f()}", flush=True)
        except Exception as e:  # a finding that breaks the harness is itself a figure
            print(f"{f.__name__}: harness error {type(e).__name__}: {e}", flush=True)


if __name__ == "__main__":
    main()
