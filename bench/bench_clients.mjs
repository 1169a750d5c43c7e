#!/usr/bin/env node
// Node client benchmark: 1e6 float32 mse + gradient through the `lossd` JS package, through
// raw fetch with typed-array views, and through raw node:http (what the package uses),
// interleaved in every round.
//   node bench/bench_clients.mjs --url http://127.0.0.1:8080 [--n 1e6] [--rounds 7] [--reps 10]
// Prints one JSON line: {client_ms, raw_ms (fetch), http_ms, client_over_raw,
// client_over_http} (medians; ratios are medians of same-round ratios). bench/bench_clients.py runs it against its own server.
import http from "node:http";

import { Client } from "../clients/js/index.js";

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) =>
  (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const url = args.url ?? "http://127.0.0.1:8080";
const n = Number(args.n ?? 1e6), rounds = Number(args.rounds ?? 7), reps = Number(args.reps ?? 10);

const p = new Float32Array(n), t = new Float32Array(n);
for (let i = 0; i < n; i++) { p[i] = Math.sin(i * 0.37); t[i] = Math.cos(i * 0.11); }

const client = new Client(url);

// Raw: the JSON header is built once; each call packs the body, posts it, and views the
// reply's float32 outputs in place (copying only when an output is not 4-byte aligned).
const header = new TextEncoder().encode(JSON.stringify({
  inputs: [
    { name: "predictions", shape: [n], datatype: "FP32", parameters: { binary_data_size: p.byteLength } },
    { name: "targets", shape: [n], datatype: "FP32", parameters: { binary_data_size: t.byteLength } },
  ],
  parameters: { gradient: true, binary_data_output: true },
}));
async function raw() {
  const body = new Uint8Array(header.length + p.byteLength + t.byteLength);
  body.set(header, 0);
  body.set(new Uint8Array(p.buffer), header.length);
  body.set(new Uint8Array(t.buffer), header.length + p.byteLength);
  const res = await fetch(`${url}/v2/models/mse/infer`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream", "inference-header-content-length": String(header.length) },
    body,
  });
  const buf = new Uint8Array(await res.arrayBuffer());
  const h = Number(res.headers.get("inference-header-content-length"));
  const view = (off, count) => (off % 4 === 0
    ? new Float32Array(buf.buffer, off, count)
    : new Float32Array(buf.slice(off, off + 4 * count).buffer));
  return { value: view(h, 1)[0], grad: view(h + 4, n) };
}
// Raw node:http: a kept-alive agent, the header and both arrays written as they are, the
// reply gathered into one buffer and viewed.
const agent = new http.Agent({ keepAlive: true });
const target = new URL(url);
function rawHttp() {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: target.hostname, port: target.port, path: "/v2/models/mse/infer", method: "POST", agent,
      headers: { "content-type": "application/octet-stream", "inference-header-content-length": header.length,
        "content-length": header.length + p.byteLength + t.byteLength },
    }, (res) => {
      const parts = [];
      res.on("data", (c) => parts.push(c));
      res.on("end", () => {
        const buf = Buffer.concat(parts);
        const h = Number(res.headers["inference-header-content-length"]);
        const off = buf.byteOffset + h + 4;
        resolve(off % 4 === 0 ? new Float32Array(buf.buffer, off, n) : new Float32Array(buf.buffer.slice(off, off + 4 * n)));
      });
    });
    req.on("error", reject);
    req.write(header);
    req.write(new Uint8Array(p.buffer));
    req.end(new Uint8Array(t.buffer));
  });
}
const viaClient = () => client.loss("mse", { predictions: p, targets: t }, { gradient: true });

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
async function medianCall(fn) {
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(times);
}

// Same numbers both ways before timing.
const a = await viaClient(), b = await raw();
if (Math.fround(a.value) !== b.value || a.gradient.predictions.length !== b.grad.length ||
    a.gradient.predictions[n - 1] !== b.grad[n - 1]) throw new Error("client and raw fetch disagree");
for (let i = 0; i < 2; i++) { await viaClient(); await raw(); await rawHttp(); }

const c = [], r = [], hh = [];
for (let k = 0; k < rounds; k++) {
  c.push(await medianCall(viaClient));
  r.push(await medianCall(raw));
  hh.push(await medianCall(rawHttp));
}
console.log(JSON.stringify({
  client_ms: median(c), raw_ms: median(r), http_ms: median(hh),
  client_over_raw: median(c.map((x, i) => x / r[i])), client_over_http: median(c.map((x, i) => x / hh[i])),
}));
agent.destroy();
client.close();
