#!/usr/bin/env python3
"""`lossd score`: files of every supported kind in, /v1's JSON out; bad files and bad usage
refused with a clear message and the right exit status. Starts one lossd (--port 0 style: a
free port) to check that the CLI prints byte for byte what POST /v1/loss returns.

Usage: /usr/bin/python3 tests/cli/test_score.py <lossd binary>
"""
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np

LOSSD = os.path.abspath(sys.argv[1])
WORK = tempfile.mkdtemp(prefix="lossd-score-")
failures = []


def path(name):
    return os.path.join(WORK, name)


def score(*args):
    r = subprocess.run([LOSSD, "score", *args], capture_output=True, text=True, timeout=60,
                       cwd=WORK)
    return r.returncode, r.stdout, r.stderr


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL", what)


def expect_ok(args, what):
    rc, out, err = score(*args)
    check(rc == 0, f"{what}: exit {rc}, stderr {err!r}")
    return json.loads(out) if rc == 0 else None


def expect_refused(args, rc_want, code, words, what):
    rc, out, err = score(*args)
    check(rc == rc_want, f"{what}: exit {rc} (want {rc_want}), stderr {err!r}")
    check(out == "", f"{what}: nothing on stdout, got {out!r}")
    if code:
        try:
            e = json.loads(err)["error"]
            check(e["code"] == code, f"{what}: code {e['code']} (want {code})")
            check(words in e["message"], f"{what}: {words!r} in {e['message']!r}")
        except (ValueError, KeyError) as exc:
            check(False, f"{what}: stderr is no /v1 error ({exc}): {err!r}")
    else:
        check(words in err, f"{what}: {words!r} in {err!r}")


# ---- every .npy dtype, CSV and TSV ----
p = np.array([0.5, 1.5, 3.0])
t = np.array([1.0, 1.0, 2.0])
np.save(path("p64.npy"), p)
np.save(path("t64.npy"), t)
np.save(path("p32.npy"), p.astype(np.float32))
np.save(path("pi64.npy"), np.array([1, 2, 3], dtype=np.int64))
np.save(path("pi32.npy"), np.array([1, 2, 3], dtype=np.int32))
open(path("t.csv"), "w").write("1\n1\n2\n")
open(path("t.tsv"), "w").write("target\n1\n1\n2\n")
for name in ("p64.npy", "p32.npy"):
    for targets in ("t64.npy", "t.csv", "t.tsv"):
        r = expect_ok(["mse", "--predictions", name, "--targets", targets], f"{name} {targets}")
        check(r and r["value"] == 0.5, f"mse({name}, {targets}) = {r}")
r = expect_ok(["mse", "--predictions", "pi64.npy", "--targets", "t64.npy"], "int64 npy")
check(r and abs(r["value"] - (0 + 1 + 1) / 3) < 1e-15, f"int64 predictions: {r}")
r = expect_ok(["mse", "--predictions", "pi32.npy", "--targets", "t64.npy"], "int32 npy")
check(r and abs(r["value"] - 2 / 3) < 1e-15, f"int32 predictions: {r}")

logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
np.save(path("logits.npy"), logits)
for dt in (np.int64, np.int32):
    np.save(path("labels.npy"), np.array([0, 2], dtype=dt))
    r = expect_ok(["CrossEntropyLoss", "--predictions", "logits.npy", "--targets", "labels.npy",
                   "--param", "label_smoothing=0.1"], f"cross_entropy {dt.__name__}")
    check(r and r["loss"] == "cross_entropy" and abs(r["value"] - 0.3454563805893112) < 1e-12,
          f"cross_entropy with {dt.__name__} labels: {r}")

r = expect_ok(["mse", "--predictions", "p32.npy", "--targets", "t64.npy", "--dtype", "float32",
               "--gradient-out", "g.npy"], "float32 gradient")
g = np.load(path("g.npy"))
check(g.dtype == np.float32 and g.shape == (3,), f"float32 gradient file: {g.dtype} {g.shape}")
check(np.allclose(g, 2 * (p - t) / 3, rtol=1e-6), f"float32 gradient values {g}")
r = expect_ok(["huber", "--predictions", "p64.npy", "--targets", "t64.npy", "--reduction", "none",
               "--param", "delta=0.75", "--input", "weight=t64.npy"], "huber none weight")
check(r and r["shape"] == [3], f"huber none: {r}")
expect_ok(["triplet_margin", "--input", "anchor=logits.npy", "--input", "positive=logits.npy",
           "--input", "negative=logits.npy", "--gradient-out", "anchor=ga.npy",
           "--gradient-out", "negative=gn.npy"], "named gradients")
check(np.load(path("gn.npy")).shape == (2, 3), "negative's gradient file")

# ---- bad files: exit 1 with the API's error code ----
raw = open(path("p64.npy"), "rb").read()
open(path("trunc.npy"), "wb").write(raw[:-5])
open(path("hdr.npy"), "wb").write(raw[:10] + raw[10:].replace(b"'descr'", b"'dtype'", 1))
open(path("junk.npy"), "wb").write(b"hello, world\n")
np.save(path("fort.npy"), np.asfortranarray(np.ones((2, 3))))
np.save(path("be.npy"), np.array([1.0, 2.0, 3.0], dtype=">f8"))
np.save(path("obj.npy"), np.array([1, "a", None], dtype=object), allow_pickle=True)
np.save(path("f16.npy"), np.ones(3, dtype=np.float16))
open(path("ragged.csv"), "w").write("1,2\n3,4\n5\n")
open(path("nan.csv"), "w").write("1\nNaN\n2\n")
open(path("words.csv"), "w").write("1\ntwo\n3\n")
bad = [("trunc.npy", "invalid_binary", "truncated .npy file"),
       ("hdr.npy", "invalid_binary", "malformed .npy header"),
       ("junk.npy", "invalid_binary", "not a .npy file"),
       ("fort.npy", "invalid_type", "Fortran-order"),
       ("be.npy", "invalid_type", "big-endian"),
       ("obj.npy", "invalid_type", "object arrays"),
       ("f16.npy", "invalid_type", "'<f2' is not supported"),
       ("ragged.csv", "ragged_array", "line 3 has 1 fields"),
       ("nan.csv", "non_finite", "line 2, column 1"),
       ("words.csv", "invalid_type", "\"two\" is not a number"),
       ("missing.npy", "not_found", "No such file")]
for name, code, words in bad:
    expect_refused(["mse", "--predictions", name, "--targets", "t64.npy"], 1, code, words, name)
expect_refused(["mse", "--predictions", "p64.npy", "--targets", "logits.npy"], 1,
               "shape_mismatch", "targets", "shape mismatch")
expect_refused(["mse", "--predictions", "p64.npy"], 1, "missing_field",
               "mse takes predictions, targets, weight", "missing targets")
expect_refused(["mes", "--predictions", "p64.npy", "--targets", "t64.npy"], 1, "unknown_loss",
               "did you mean 'mse'?", "misspelled loss")
expect_refused(["mse", "--predictions", "p64.npy", "--targets", "t64.npy", "--param", "delta=1"],
               1, "unknown_field", "inputs: predictions, targets, weight", "unknown parameter")
expect_refused(["mse", "--predictions", "p64.npy", "--targets", "t64.npy", "--reduction", "avg"],
               1, "invalid_parameter", "reduction", "bad reduction")

# ---- usage: exit 2 ----
expect_refused(["mse", "--predictions"], 2, None, "--predictions needs a value", "no value")
expect_refused(["--predictions", "p64.npy"], 2, None, "which loss?", "no loss")
expect_refused(["mse", "--frobnicate"], 2, None, "unknown option", "unknown option")
expect_refused(["mse", "--predictions", "p.xlsx", "--targets", "t64.npy"], 2, None,
               "use .npy, .csv or .tsv", "unknown format")
expect_refused(["mse", "--dtype", "float16"], 2, None, "float32 or float64", "bad dtype")
expect_refused(["triplet_margin", "--input", "anchor=logits.npy", "--input", "positive=logits.npy",
                "--input", "negative=logits.npy", "--gradient-out", "g.npy"], 2, None,
               "name each", "ambiguous gradient file")
rc, out, _ = score("--help")
check(rc == 0 and "Usage: lossd score" in out, "--help")

# ---- the same bytes as POST /v1/loss for the same arrays ----
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
daemon = subprocess.Popen([LOSSD, "--port", str(port), "--bind", "127.0.0.1"],
                          stderr=subprocess.DEVNULL)
try:
    for _ in range(200):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.05)
    rng = np.random.default_rng(7)
    pr, ta = rng.standard_normal((50, 4)), rng.standard_normal((50, 4))
    np.save(path("pr.npy"), pr)
    np.save(path("ta.npy"), ta)
    for extra, flags in (({}, []), ({"gradient": True}, ["--gradient"]),
                         ({"reduction": "none"}, ["--reduction", "none"]),
                         ({"dtype": "float32", "gradient": True},
                          ["--dtype", "float32", "--gradient"])):
        body = json.dumps(dict(predictions=pr.tolist(), targets=ta.tolist(), **extra))
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("POST", "/v1/loss/mse", body, {"Content-Type": "application/json"})
        want = c.getresponse().read().decode()
        rc, out, err = score("mse", "--predictions", "pr.npy", "--targets", "ta.npy", *flags)
        check(rc == 0 and out == want + "\n",
              f"score {flags} prints /v1's bytes:\n  /v1:   {want[:200]}\n  score: {out[:200]}")
    rc, out, _ = score("mse", "--predictions", "pr.npy", "--targets", "ta.npy",
                       "--gradient-out", "gr.npy")
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/v1/loss/mse",
              json.dumps(dict(predictions=pr.tolist(), targets=ta.tolist(), gradient=True)))
    want = json.loads(c.getresponse().read())["gradient"]["predictions"]
    check(np.array_equal(np.load(path("gr.npy")), np.array(want)), "gradient file == /v1's")
    check("gradient" not in json.loads(out), "--gradient-out alone keeps stdout small")
finally:
    daemon.terminate()
    daemon.wait(timeout=30)

shutil.rmtree(WORK, ignore_errors=True)
print("lossd score:", "ok" if not failures else f"{len(failures)} failures")
sys.exit(1 if failures else 0)
