#!/usr/bin/env node
// A minimal lossd client for the Open Inference Protocol (/v2) with binary tensors.
// Node 18+ (global fetch), no dependencies. Tensors are typed arrays (Float32Array,
// Float64Array, Int32Array, BigInt64Array) with an explicit shape; they travel as raw
// little-endian bytes and come back the same way.
//
//   import { LossdClient } from "./lossd_v2.mjs";
//   const client = new LossdClient("http://localhost:8080");
//   const { value, grads } = await client.loss("mse", {
//     predictions: { data: new Float32Array([0.5, 1]), shape: [2] },
//     targets: { data: new Float32Array([1, 1]), shape: [2] },
//   }, { gradient: true });
//
// As a script it runs a few examples against a server:  node lossd_v2.mjs [URL]

import { fileURLToPath } from "node:url";

const HEADER = "inference-header-content-length";

const DATATYPES = [
  ["FP32", Float32Array, 4, (v, o, x) => v.setFloat32(o, x, true), (v, o) => v.getFloat32(o, true)],
  ["FP64", Float64Array, 8, (v, o, x) => v.setFloat64(o, x, true), (v, o) => v.getFloat64(o, true)],
  ["INT32", Int32Array, 4, (v, o, x) => v.setInt32(o, x, true), (v, o) => v.getInt32(o, true)],
  ["INT64", BigInt64Array, 8, (v, o, x) => v.setBigInt64(o, x, true), (v, o) => v.getBigInt64(o, true)],
].map(([name, Type, size, set, get]) => ({ name, Type, size, set, get }));

export class LossdError extends Error {
  constructor(status, code, message) {
    super(`${status} ${code}: ${message}`);
    Object.assign(this, { status, code });
  }
}

// Little-endian bytes of a typed array, whatever the host's byte order.
function toBytes(data, dt) {
  const out = new Uint8Array(data.length * dt.size);
  const view = new DataView(out.buffer);
  data.forEach((x, i) => dt.set(view, i * dt.size, x));
  return out;
}

function readOutputs(body, headerLength) {
  const n = headerLength === null ? body.length : Number(headerLength);
  const header = JSON.parse(new TextDecoder().decode(body.subarray(0, n)));
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const outputs = {};
  let offset = n;
  for (const out of header.outputs) {
    const dt = DATATYPES.find((d) => d.name === out.datatype);
    const size = out.parameters?.binary_data_size;
    let data;
    if (size === undefined) {
      data = dt.Type.from(out.data.map((x) => (x === null ? NaN : x)));
    } else {
      data = new dt.Type(size / dt.size);
      for (let i = 0; i < data.length; i++) data[i] = dt.get(view, offset + i * dt.size);
      offset += size;
    }
    outputs[out.name] = { data, shape: out.shape };
  }
  return outputs;
}

export class LossdClient {
  constructor(url = "http://localhost:8080") {
    this.url = url.replace(/\/$/, "");
  }

  // inputs: { name: { data: TypedArray, shape: [...] } }. Returns { outputName: {data, shape} }.
  async infer(model, inputs, parameters = {}) {
    const header = { inputs: [], parameters: { ...parameters, binary_data_output: true } };
    const blobs = [];
    for (const [name, { data, shape }] of Object.entries(inputs)) {
      const dt = DATATYPES.find((d) => data instanceof d.Type);
      if (!dt) throw new TypeError(`${name}: use Float32Array, Float64Array, Int32Array or BigInt64Array`);
      const bytes = toBytes(data, dt);
      header.inputs.push({ name, shape, datatype: dt.name, parameters: { binary_data_size: bytes.length } });
      blobs.push(bytes);
    }
    const head = new TextEncoder().encode(JSON.stringify(header));
    const response = await fetch(`${this.url}/v2/models/${model}/infer`, {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream", [HEADER]: String(head.length) },
      body: Buffer.concat([head, ...blobs]),
    });
    const body = new Uint8Array(await response.arrayBuffer());
    if (!response.ok) {
      const err = JSON.parse(new TextDecoder().decode(body));
      throw new LossdError(response.status, err.code, err.error);
    }
    return readOutputs(body, response.headers.get(HEADER));
  }

  // One loss: tensors by input name, options { gradient, reduction, ...scalar parameters }.
  // Returns { value, grads }: value is a number when reduced, else {data, shape}.
  async loss(name, tensors, { gradient = false, reduction = "mean", ...params } = {}) {
    const outputs = await this.infer(name, tensors, { ...params, gradient, reduction });
    const grads = {};
    for (const [key, out] of Object.entries(outputs))
      if (key.startsWith("grad_")) grads[key.slice(5)] = out;
    const loss = outputs.loss;
    const value = loss === undefined ? outputs : reduction === "none" ? loss : loss.data[0];
    return { value, grads };
  }
}

async function main(url) {
  const client = new LossdClient(url);
  let { value, grads } = await client.loss("mse", {
    predictions: { data: new Float32Array([0.5, 1.0]), shape: [2] },
    targets: { data: new Float32Array([1.0, 1.0]), shape: [2] },
  }, { gradient: true });
  console.log("mse value", value);
  console.log("mse grad_predictions", Array.from(grads.predictions.data).join(" "));

  ({ value, grads } = await client.loss("cross_entropy", {
    predictions: { data: new Float64Array([2.0, 0.5, -1.0, 0.1, 0.2, 3.0]), shape: [2, 3] },
    targets: { data: new BigInt64Array([0n, 2n]), shape: [2] },
  }, { gradient: true, label_smoothing: 0.1 }));
  console.log("cross_entropy value", value);
  console.log("cross_entropy grad_predictions", Array.from(grads.predictions.data).join(" "));

  try {
    await client.loss("mse", {
      predictions: { data: new Float32Array([0.5, 1.0]), shape: [2] },
      targets: { data: new Float64Array([1.0, 1.0]), shape: [2] },
    });
  } catch (err) {
    if (!(err instanceof LossdError)) throw err;
    console.log("error", err.status, err.code);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv[2] ?? "http://localhost:8080").catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
