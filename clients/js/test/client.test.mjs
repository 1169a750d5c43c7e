// The JS client against a live lossd (started by tests/clients/run_clients.sh).
// Environment: LOSSD_URL, LOSSD_API_KEY, LOSSD_FIXTURES (tests/fixtures). Run:
//   node --test clients/js/test/
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

import { Client, LossdError } from "../index.js";

const URL = process.env.LOSSD_URL ?? "http://127.0.0.1:8080";
const KEY = process.env.LOSSD_API_KEY || null;
const FIXTURES = process.env.LOSSD_FIXTURES ?? "tests/fixtures";
const OPTIONS = new Set(["reduction", "gradient", "dtype"]);
const client = new Client(URL, { apiKey: KEY });

async function direct(path, body) {
  const headers = { "content-type": "application/json" };
  if (KEY) headers.authorization = `Bearer ${KEY}`;
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(URL + path, { method: "POST", headers, body });
      return [res.status, await res.json()];
    } catch (e) { // the server closed an idle kept-alive connection (short --conn-timeout)
      if (attempt >= 2) throw e;
    }
  }
}

// Flat numbers of a JSON value (nested arrays), null as NaN.
const flatJson = (v) => (Array.isArray(v) ? v.flat(Infinity) : [v]).map((x) => (x === null ? NaN : x));

// Bit-equal in the compute dtype; JSON null matches any non-finite number.
function same(got, want, what, dtype) {
  const round = dtype === "float32" ? Math.fround : (x) => x;
  const g = (typeof got === "number" ? [got] : Array.from(got)).map((x) => (Number.isFinite(x) ? x : NaN));
  const w = flatJson(want).map((x) => round(x));
  assert.equal(g.length, w.length, `${what}: ${g.length} numbers, want ${w.length}`);
  for (let i = 0; i < g.length; i++) {
    assert.ok(Object.is(g[i], w[i]) || (Number.isNaN(g[i]) && Number.isNaN(w[i])) || g[i] === w[i],
      `${what}[${i}]: got ${g[i]}, want ${w[i]}`);
  }
}

// A fixture's JSON value as a client input: nested arrays of the request's dtype.
function input(v, kind, dtype) {
  const { values, shape } = (() => {
    const shape = [];
    for (let x = v; Array.isArray(x); x = x[0]) shape.push(x.length);
    return { values: Array.isArray(v) ? v.flat(Infinity) : [v], shape };
  })();
  const ints = values.every(Number.isInteger);
  if (kind === "index" && ints) return { data: BigInt64Array.from(values, BigInt), shape };
  const Type = dtype === "float32" ? Float32Array : Float64Array;
  return { data: Type.from(values), shape };
}

test("every loss of the catalogue matches the direct API, binary and JSON", async () => {
  const entries = Object.fromEntries((await client.losses()).map((e) => [e.name, e]));
  const seen = new Set();
  let computed = 0;
  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith(".json")).sort()) {
    const fixture = JSON.parse(readFileSync(join(FIXTURES, file), "utf8"));
    const entry = entries[fixture.loss];
    if (!entry) continue;
    seen.add(fixture.loss);
    const kinds = Object.fromEntries(entry.inputs.map((i) => [i.name, i.kind]));
    for (const c of fixture.cases) {
      const [status, want] = await direct(`/v1/loss/${fixture.loss}`, JSON.stringify(c.request));
      const args = {};
      for (const [k, v] of Object.entries(c.request)) {
        if (k in kinds) args[k] = input(v, kinds[k], c.request.dtype);
        else if (!OPTIONS.has(k)) args[k] = v;
      }
      for (const transport of ["binary", "json"]) {
        const what = `${fixture.loss} ${c.name} (${transport})`;
        const options = { reduction: c.request.reduction ?? "mean", gradient: c.request.gradient ?? false, dtype: c.request.dtype ?? null, transport };
        if (status !== 200) {
          await assert.rejects(client.loss(fixture.loss, args, options), (e) => {
            assert.ok(e instanceof LossdError, what);
            assert.equal(e.status, status, what);
            assert.equal(e.code, want.error.code, what);
            if (transport === "json") assert.equal(e.field, want.error.field ?? null, what);
            return true;
          });
          continue;
        }
        const got = await client.loss(fixture.loss, args, options);
        assert.equal(got.loss, want.loss, what);
        assert.equal(got.dtype, want.dtype, what);
        if (want.value !== null && typeof want.value === "object" && !Array.isArray(want.value)) {
          for (const [term, v] of Object.entries(want.value)) same(got.value[term], v, `${what} value.${term}`, want.dtype);
        } else {
          same(got.value, want.value, `${what} value`, want.dtype);
          assert.deepEqual(got.shape, want.shape, `${what} shape`);
        }
        assert.deepEqual(Object.keys(got.gradient).sort(), Object.keys(want.gradient ?? {}).sort(), what);
        for (const [k, g] of Object.entries(want.gradient ?? {})) {
          same(got.gradient[k], g, `${what} gradient.${k}`, want.dtype);
          assert.ok(got.gradient[k] instanceof (want.dtype === "float32" ? Float32Array : Float64Array), what);
        }
        computed++;
      }
    }
  }
  assert.deepEqual([...seen].sort(), Object.keys(entries).sort(), "a fixture file for every loss");
  assert.ok(computed > 400, `${computed} cases computed`);
});

test("the README example", async () => {
  const r = await client.loss("mse", { predictions: new Float64Array([0.5, 1.5, 3]), targets: new Float64Array([1, 1, 2]) }, { gradient: true });
  assert.equal(r.value, 0.5);
  assert.equal(r.denominator, 3);
  assert.deepEqual(Array.from(r.gradient.predictions), [-1 / 3, 1 / 3, 2 / 3]);
});

test("float32 stays float32, in and out, both transports", async () => {
  const p = { data: new Float32Array([0.1, 0.7, 0.3, 0.9]), shape: [2, 2] };
  const t = { data: new Float32Array([0, 1, 1, 1]), shape: [2, 2] };
  for (const transport of ["binary", "json"]) {
    const r = await client.loss("bce", { predictions: p, targets: t }, { reduction: "none", gradient: true, transport });
    assert.equal(r.dtype, "float32");
    assert.ok(r.value instanceof Float32Array);
    assert.deepEqual(r.shape, [2, 2]);
    assert.ok(r.gradient.predictions instanceof Float32Array);
  }
  const mixed = await client.loss("mse", { predictions: p, targets: { data: new Float64Array(4), shape: [2, 2] } });
  assert.equal(mixed.dtype, "float64");
});

test("a million elements round trip", async () => {
  const n = 1_000_000;
  const p = new Float32Array(n), t = new Float32Array(n);
  for (let i = 0; i < n; i++) { p[i] = Math.sin(i); t[i] = Math.cos(i); }
  const r = await client.loss("mse", { predictions: p, targets: t }, { gradient: true });
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (p[i] - t[i]) ** 2;
  assert.ok(Math.abs(r.value - sum / n) <= 1e-5 * r.value, `${r.value} vs ${sum / n}`);
  assert.equal(r.gradient.predictions.length, n);
  for (const i of [0, 1, 777_777, n - 1]) {
    assert.ok(Math.abs(r.gradient.predictions[i] - Math.fround(2 * (p[i] - t[i]) / n)) <= 1e-6 * Math.abs(2 * (p[i] - t[i]) / n) + 1e-13);
  }
  const none = await client.loss("mse", { predictions: p, targets: t }, { reduction: "none" });
  assert.equal(none.value.length, n);
  const want = (p[12345] - t[12345]) ** 2;
  assert.ok(Math.abs(none.value[12345] - want) <= 1e-6 * want, `${none.value[12345]} vs ${want}`);
  const j = await client.loss("mse", { predictions: p, targets: t }, { transport: "json" });
  assert.equal(j.value, r.value);
});

test("errors reject with status, code, message and field", async () => {
  for (const transport of ["binary", "json"]) {
    await assert.rejects(client.loss("mse", { predictions: [1.5, 2], targets: [1.5, 2, 3] }, { transport }),
      { name: "LossdError", status: 400, code: "shape_mismatch", field: "targets" });
    await assert.rejects(client.loss("bce", { predictions: [1.5], targets: [1] }, { transport }),
      { status: 400, code: "out_of_domain", field: "predictions" });
    await assert.rejects(client.loss("huber", { predictions: [1], targets: [1], delta: -1 }, { transport }),
      { code: "invalid_parameter", field: "delta" });
  }
  await assert.rejects(client.loss("MSELos", { predictions: [1], targets: [1] }),
    (e) => e.status === 404 && e.code === "unknown_loss" && e.field === "loss" && e.message.includes("did you mean 'MSELoss'?"));
  await assert.rejects(client.loss("mse", { preds: [1], targets: [1] }),
    (e) => e.code === "unknown_field" && e.message.includes("its inputs are predictions, targets, weight"));
  if (KEY) {
    await assert.rejects(new Client(URL, { apiKey: "wrong" }).loss("mse", { predictions: [1], targets: [0] }),
      { status: 401, code: "unauthorized" });
  }
});

test("aliases, integer class targets and array parameters", async () => {
  for (const name of ["MSELoss", "mean_squared_error", "l2", "MSE"]) {
    assert.equal((await client.loss(name, { predictions: [1], targets: [0] })).loss, "mse");
  }
  const logits = { data: new Float64Array([2, 0.5, -1, 0.1, 0.2, 3]), shape: [2, 3] };
  for (const targets of [new Int32Array([0, 2]), new BigInt64Array([0n, 2n]), [0, 2]]) {
    const r = await client.loss("CrossEntropyLoss", { predictions: logits, targets, weight: new Float64Array([1, 2, 3]), label_smoothing: 0.1 });
    assert.equal(r.loss, "cross_entropy");
    assert.equal(r.denominator, 4);
  }
});

test("evaluate and batch keep order and isolate failures", async () => {
  const res = await client.evaluate(["mse", { name: "huber", delta: 0.5 }, "nope"],
    { predictions: new Float64Array([0.5, 1.5, 3]), targets: [1, 1, 2] }, { gradient: true });
  assert.equal(res[0].value, 0.5);
  assert.equal(res[1].loss, "huber");
  assert.equal(res[1].gradient.predictions.length, 3);
  assert.ok(res[2] instanceof LossdError);
  assert.equal(res[2].code, "unknown_loss");
  const out = await client.batch([
    { loss: "mse", predictions: new Float64Array([1, 1, 1]), targets: [0, 0, 0] },
    { loss: "bce", predictions: [2], targets: [1] },
  ]);
  assert.equal(out[0].value, 1);
  assert.equal(out[1].code, "out_of_domain");
  assert.equal(out[1].field, "predictions");
});

test("losses lists the catalogue with aliases", async () => {
  const entries = Object.fromEntries((await client.losses()).map((e) => [e.name, e]));
  assert.equal(Object.keys(entries).length, 45);
  assert.ok(entries.mse.aliases.includes("MSELoss"));
});

test("concurrent calls on one client", async () => {
  const rs = await Promise.all(Array.from({ length: 16 }, (_, k) => client.loss("mse", { predictions: [k], targets: [0] })));
  rs.forEach((r, k) => assert.equal(r.value, k * k));
});

test("a kept-alive connection the server closed while idle is reopened", async () => {
  await client.loss("mse", { predictions: [1], targets: [0] });
  await new Promise((r) => setTimeout(r, (Number(process.env.LOSSD_CONN_TIMEOUT ?? 2) + 1.5) * 1000));
  const r = await client.loss("mse", { predictions: [1], targets: [0] });
  assert.equal(r.value, 1);
});
