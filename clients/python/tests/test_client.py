"""The Python client against a live lossd (started by tests/clients/run_clients.sh).

Environment: LOSSD_URL (the server), LOSSD_API_KEY (the key it was started with),
LOSSD_FIXTURES (tests/fixtures, PyTorch golden cases). Run:
    python -m unittest discover -s clients/python/tests -v
"""
import glob
import http.client
import json
import os
import threading
import time
import unittest
from urllib.parse import urlsplit

import numpy as np

import lossd

URL = os.environ.get("LOSSD_URL", "http://127.0.0.1:8080")
KEY = os.environ.get("LOSSD_API_KEY") or None
FIXTURES = os.environ.get("LOSSD_FIXTURES", "tests/fixtures")
OPTIONS = ("reduction", "gradient", "dtype")


def direct(path, body):
    """POST body (JSON text) to the server with http.client: the API without the client."""
    u = urlsplit(URL)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    headers = {"Content-Type": "application/json"}
    if KEY:
        headers["Authorization"] = f"Bearer {KEY}"
    conn.request("POST", path, body, headers)
    r = conn.getresponse()
    status, data = r.status, r.read()
    conn.close()
    return status, json.loads(data)


def same(got, want, what, dtype="float64"):
    """Bit-equal numbers in the compute dtype (JSON null matches any non-finite number)."""
    dt = np.float32 if dtype == "float32" else np.float64
    g = np.asarray(got, dtype=dt)
    w = np.asarray(np.nan if want is None else want, dtype=np.float64).astype(dt)
    g = np.where(np.isfinite(g), g, np.nan)  # JSON writes every non-finite number as null
    if g.shape != w.shape or not np.array_equal(g, w, equal_nan=True):
        raise AssertionError(f"{what}: got {g.tolist()}, want {w.tolist()}")


class Catalogue(unittest.TestCase):
    """Every golden case of every loss through the client, binary and JSON, against what the
    same request to POST /v1/loss gives directly."""

    @classmethod
    def setUpClass(cls):
        cls.client = lossd.Client(URL, api_key=KEY)
        cls.entries = {e["name"]: e for e in cls.client.losses()}

    @classmethod
    def tearDownClass(cls):
        cls.client.close()

    def call(self, loss, request, transport):
        entry = self.entries[loss]
        inputs = {i["name"]: i["kind"] for i in entry["inputs"]}
        kwargs = {}
        for k, v in request.items():
            if k in inputs:
                a = np.array(v)
                if request.get("dtype") == "float32" and a.dtype.kind == "f":
                    a = a.astype(np.float32)
                kwargs[k] = a
            elif k not in OPTIONS:
                kwargs[k] = v
        return self.client.loss(loss, reduction=request.get("reduction", "mean"),
                                gradient=request.get("gradient", False),
                                dtype=request.get("dtype"), transport=transport, **kwargs)

    def check_case(self, loss, case, transport):
        body = json.dumps(case["request"])
        status, want = direct(f"/v1/loss/{loss}", body)
        what = f"{loss} {case['name']} ({transport})"
        if status != 200:
            with self.assertRaises(lossd.LossdError, msg=what) as cm:
                self.call(loss, case["request"], transport)
            e = cm.exception
            self.assertEqual((e.status, e.code), (status, want["error"]["code"]), what)
            if transport == "json":
                self.assertEqual(e.field, want["error"].get("field"), what)
            return 0
        got = self.call(loss, case["request"], transport)
        self.assertEqual(got.loss, want["loss"], what)
        self.assertEqual(got.reduction, want["reduction"], what)
        self.assertEqual(got.dtype, want["dtype"], what)
        if isinstance(want["value"], dict):
            for term, v in want["value"].items():
                same(got.value[term], v, f"{what} value[{term}]", want["dtype"])
        else:
            same(got.value, want["value"], f"{what} value", want["dtype"])
        if "denominator" in want:
            same(got.denominator, want["denominator"], f"{what} denominator")
        self.assertEqual(set(got.gradient), set(want.get("gradient", {})), what)
        for k, g in want.get("gradient", {}).items():
            same(got.gradient[k], g, f"{what} gradient[{k}]", want["dtype"])
            self.assertEqual(got.gradient[k].shape, np.array(case["request"][k]).shape, what)
            if want["dtype"] == "float32":
                self.assertEqual(got.gradient[k].dtype, np.float32, what)
        return 1

    def test_every_loss_of_the_catalogue_matches_the_direct_api(self):
        files = sorted(glob.glob(os.path.join(FIXTURES, "*.json")))
        seen, computed = set(), 0
        for path in files:
            with open(path) as f:
                fixture = json.load(f)
            loss = fixture["loss"]
            if loss not in self.entries:
                continue
            seen.add(loss)
            for case in fixture["cases"]:
                for transport in ("binary", "json"):
                    computed += self.check_case(loss, case, transport)
        self.assertEqual(seen, set(self.entries), "a fixture file for every loss")
        self.assertGreater(computed, 200)


class Behaviour(unittest.TestCase):
    def setUp(self):
        self.client = lossd.Client(URL, api_key=KEY, timeout=120)

    def tearDown(self):
        self.client.close()

    def test_readme_example_value(self):
        r = self.client.loss("mse", predictions=np.array([0.5, 1.5, 3.0]),
                             targets=np.array([1.0, 1.0, 2.0]), gradient=True)
        self.assertEqual(r.value, 0.5)
        self.assertEqual(r.denominator, 3)
        np.testing.assert_array_equal(r.gradient["predictions"], np.array([-1, 1, 2]) / 3)

    def test_float32_stays_float32_both_ways(self):
        p = np.array([[0.1, 0.7], [0.3, 0.9]], dtype=np.float32)
        t = np.array([[0.0, 1.0], [1.0, 1.0]], dtype=np.float32)
        for transport in ("binary", "json"):
            r = self.client.loss("bce", predictions=p, targets=t, gradient=True,
                                 reduction="none", transport=transport)
            self.assertEqual(r.dtype, "float32")
            self.assertEqual(r.value.dtype, np.float32)
            self.assertEqual(r.value.shape, (2, 2))
            self.assertEqual(r.gradient["predictions"].dtype, np.float32)
            self.assertEqual(r.gradient["predictions"].shape, (2, 2))
        mixed = self.client.loss("mse", predictions=p, targets=t.astype(np.float64))
        self.assertEqual(mixed.dtype, "float64", "a float64 array makes the compute float64")
        forced = self.client.loss("mse", predictions=p, targets=t, dtype="float64")
        self.assertEqual(forced.dtype, "float64")

    def test_million_element_arrays_round_trip(self):
        rng = np.random.default_rng(1)
        p = rng.standard_normal(1_000_000).astype(np.float32)
        t = rng.standard_normal(1_000_000).astype(np.float32)
        r = self.client.loss("mse", predictions=p, targets=t, gradient=True)
        d = p.astype(np.float64) - t
        self.assertAlmostEqual(r.value, float(np.mean(d * d)), delta=1e-5 * r.value)
        np.testing.assert_allclose(r.gradient["predictions"], 2 * d / d.size, rtol=1e-5,
                                   atol=1e-12)
        none = self.client.loss("mse", predictions=p, targets=t, reduction="none")
        self.assertEqual(none.value.shape, (1_000_000,))
        np.testing.assert_allclose(none.value, (p - t) ** 2, rtol=1e-6)
        j = self.client.loss("mse", predictions=p, targets=t, transport="json")
        self.assertEqual(j.value, r.value, "JSON and binary give the same float32 value")

    def test_errors_raise_with_status_code_message_and_field(self):
        for transport in ("binary", "json"):
            with self.assertRaises(lossd.LossdError) as cm:
                self.client.loss("mse", predictions=[1.0, 2.0], targets=[1.0, 2.0, 3.0],
                                 transport=transport)
            e = cm.exception
            self.assertEqual((e.status, e.code, e.field), (400, "shape_mismatch", "targets"))
            self.assertIn("predictions has shape (2)", e.message)
            with self.assertRaises(lossd.LossdError) as cm:
                self.client.loss("bce", predictions=[1.5], targets=[1.0], transport=transport)
            self.assertEqual((cm.exception.code, cm.exception.field),
                             ("out_of_domain", "predictions"))
            with self.assertRaises(lossd.LossdError) as cm:
                self.client.loss("huber", predictions=[1.0], targets=[1.0], delta=-1,
                                 transport=transport)
            self.assertEqual((cm.exception.code, cm.exception.field),
                             ("invalid_parameter", "delta"))
        with self.assertRaises(lossd.LossdError) as cm:
            self.client.loss("MSELos", predictions=[1.0], targets=[1.0])
        e = cm.exception
        self.assertEqual((e.status, e.code, e.field), (404, "unknown_loss", "loss"))
        self.assertIn("did you mean 'MSELoss'?", e.message)
        with self.assertRaises(lossd.LossdError) as cm:
            self.client.loss("mse", preds=[1.0], targets=[1.0])
        self.assertIn("its inputs are predictions, targets, weight", cm.exception.message)

    def test_aliases_answer_with_the_canonical_name(self):
        for name in ("MSELoss", "mean_squared_error", "l2", "MSE"):
            self.assertEqual(self.client.loss(name, predictions=[1.0], targets=[0.0]).loss,
                             "mse")
        r = self.client.loss("BCEWithLogitsLoss", predictions=[0.0], targets=[1.0])
        self.assertEqual(r.loss, "bce_with_logits")

    def test_integer_class_targets_and_array_parameters(self):
        logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
        for labels in (np.array([0, 2], dtype=np.int32), np.array([0, 2]), [0, 2]):
            r = self.client.loss("cross_entropy", predictions=logits, targets=labels,
                                 weight=np.array([1.0, 2.0, 3.0]), label_smoothing=0.1)
            self.assertEqual(r.denominator, 4.0)
        strided = np.arange(12.0).reshape(3, 4)[:, ::2]
        big_endian = np.array([[0.0, 2.0], [4.0, 6.0], [8.0, 10.0]], dtype=">f8")
        r = self.client.loss("mse", predictions=strided, targets=big_endian)
        self.assertEqual(r.value, 0.0, "non-contiguous and big-endian arrays are converted")

    def test_evaluate_and_batch_keep_order_and_isolate_failures(self):
        res = self.client.evaluate(["mse", {"name": "huber", "delta": 0.5}, "nope"],
                                   predictions=[0.5, 1.5, 3.0], targets=[1.0, 1.0, 2.0],
                                   gradient=True)
        self.assertEqual([getattr(r, "loss", None) for r in res], ["mse", "huber", None])
        self.assertEqual(res[0].value, 0.5)
        self.assertEqual(res[1].gradient["predictions"].shape, (3,))
        self.assertIsInstance(res[2], lossd.LossdError)
        self.assertEqual((res[2].status, res[2].code), (404, "unknown_loss"))
        out = self.client.batch([
            {"loss": "mse", "predictions": np.ones(3), "targets": np.zeros(3)},
            {"loss": "bce", "predictions": [2.0], "targets": [1.0]},
        ])
        self.assertEqual(out[0].value, 1.0)
        self.assertEqual((out[1].status, out[1].code, out[1].field),
                         (400, "out_of_domain", "predictions"))

    def test_losses_lists_the_catalogue_with_aliases(self):
        entries = {e["name"]: e for e in self.client.losses()}
        self.assertEqual(len(entries), 45)
        self.assertIn("MSELoss", entries["mse"]["aliases"])
        self.assertIn("CrossEntropyLoss", entries["cross_entropy"]["aliases"])

    def test_one_connection_is_kept_alive_and_reopened_when_the_server_closed_it(self):
        self.client.loss("mse", predictions=[1.0], targets=[0.0])
        sock = self.client._conn.sock
        for _ in range(5):
            self.client.loss("mse", predictions=[1.0], targets=[0.0])
        self.assertIs(self.client._conn.sock, sock, "the same socket served every call")
        time.sleep(float(os.environ.get("LOSSD_CONN_TIMEOUT", "2")) + 1.5)
        r = self.client.loss("mse", predictions=[1.0], targets=[0.0])  # server closed it
        self.assertEqual(r.value, 1.0)

    def test_one_client_shared_by_threads_serializes_requests(self):
        errors = []

        def work(k):
            try:
                for i in range(20):
                    r = self.client.loss("mse", predictions=[float(k + i)], targets=[0.0])
                    if r.value != float(k + i) ** 2:
                        errors.append((k, i, r.value))
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])

    def test_wrong_api_key_is_unauthorized(self):
        if not KEY:
            self.skipTest("the server runs without an API key")
        with lossd.Client(URL, api_key="wrong") as other, \
                self.assertRaises(lossd.LossdError) as cm:
            other.loss("mse", predictions=[1.0], targets=[0.0])
        self.assertEqual((cm.exception.status, cm.exception.code), (401, "unauthorized"))


if __name__ == "__main__":
    unittest.main()
