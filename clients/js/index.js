// lossd: a client for the lossd loss-computation service. Node >= 18, no dependencies
// (node:http; see docs/decisions.md for why not fetch).
//
// Typed arrays go out as raw little-endian bytes over the Open Inference Protocol (/v2, with
// Triton's binary tensor extension) and come back as typed arrays over the reply's bytes: no
// number is printed, parsed or converted one by one. `transport: "json"` uses the native /v1
// JSON API instead.
//
//   import { Client } from "lossd";
//   const client = new Client("http://localhost:8080");
//   const r = await client.loss("mse", { predictions: new Float64Array([0.5, 1.5, 3]),
//                                        targets: new Float64Array([1, 1, 2]) });
//   r.value; // 0.5

import http from "node:http";
import https from "node:https";
import { endianness } from "node:os";

const HEADER = "inference-header-content-length";
const RETRYABLE = new Set(["EPIPE", "ECONNRESET"]);
const LITTLE = endianness() === "LE";

// Wire datatypes and the typed arrays that hold them.
const WIRE = [
  { name: "FP32", Type: Float32Array, float: true },
  { name: "FP64", Type: Float64Array, float: true },
  { name: "INT32", Type: Int32Array, float: false },
  { name: "INT64", Type: BigInt64Array, float: false },
];
const byName = Object.fromEntries(WIRE.map((w) => [w.name, w]));
const wireOf = (data) => WIRE.find((w) => data instanceof w.Type);

/** A request lossd refused: HTTP status, lossd's code, message and the offending field. */
export class LossdError extends Error {
  constructor(status, code, message, field = null) {
    super(message);
    this.name = "LossdError";
    Object.assign(this, { status, code, field });
  }

  toString() {
    return `LossdError: ${this.status} ${this.code}${this.field ? ` [${this.field}]` : ""}: ${this.message}`;
  }
}

// ---- tensors in ----

// Shape and flat values of a nested plain array (must be rectangular).
function flatten(value, name) {
  const shape = [];
  for (let v = value; Array.isArray(v); v = v[0]) shape.push(v.length);
  const out = [];
  const walk = (v, d) => {
    if (d === shape.length) {
      if (typeof v !== "number" && typeof v !== "bigint") throw new TypeError(`${name}: ${v} is not a number`);
      out.push(Number(v));
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[d]) throw new TypeError(`${name} is not rectangular`);
    for (const x of v) walk(x, d + 1);
  };
  walk(value, 0);
  return { values: out, shape };
}

// { data: TypedArray | null, values: number[] | null, shape } for any accepted input form:
// a typed array (1-D), { data, shape }, a nested array of numbers, or a number.
function asTensor(value, name) {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    if (!wireOf(value)) throw new TypeError(`${name}: use Float32Array, Float64Array, Int32Array or BigInt64Array`);
    return { data: value, values: null, shape: [value.length] };
  }
  if (value && typeof value === "object" && !Array.isArray(value) && "data" in value) {
    const t = asTensor(value.data, name);
    const shape = value.shape ?? t.shape;
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== (t.data ?? t.values).length) throw new TypeError(`${name}: shape [${shape}] does not hold ${(t.data ?? t.values).length} elements`);
    return { ...t, shape: [...shape] };
  }
  if (typeof value === "number") return { data: null, values: [value], shape: [] };
  if (Array.isArray(value)) {
    const { values, shape } = flatten(value, name);
    return { data: null, values, shape };
  }
  throw new TypeError(`${name}: expected a typed array, { data, shape } or an array of numbers`);
}

const isTensorLike = (v) =>
  Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView)) ||
  (v && typeof v === "object" && "data" in v);

// Compute dtype: float32 when every floating-point array given is a Float32Array.
function computeDtype(tensors, dtype) {
  if (dtype) {
    if (dtype !== "float32" && dtype !== "float64") throw new TypeError(`dtype is "float32" or "float64", not ${dtype}`);
    return dtype;
  }
  let f32 = 0, f64 = 0;
  for (const t of Object.values(tensors)) {
    if (t.data instanceof Float32Array) f32++;
    else if (t.data instanceof Float64Array) f64++;
    else if (t.values && !t.values.every(Number.isInteger)) f64++;
  }
  return f32 > 0 && f64 === 0 ? "float32" : "float64";
}

// The typed array a tensor travels as: typed arrays of the right kind go as they are.
function wireArray(t, kind, dtype) {
  const Float = dtype === "float32" ? Float32Array : Float64Array;
  if (kind === "index") {
    if (t.data instanceof Int32Array || t.data instanceof BigInt64Array) return t.data;
    const vals = t.data ?? t.values;
    const ints = t.data ? t.data instanceof Int32Array : t.values.every((x) => Number.isInteger(x) && x >= -2147483648 && x < 2147483648);
    if (ints) return Int32Array.from(vals);
  }
  if (t.data instanceof Float) return t.data;
  if (t.data instanceof BigInt64Array) return Float.from(t.data, Number);
  return t.data ? new Float(t.data) : Float.from(t.values);
}

// Little-endian bytes of a typed array: the array's own memory on little-endian hosts.
function leBytes(a) {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  if (LITTLE) return bytes;
  const copy = Uint8Array.from(bytes);
  const k = a.BYTES_PER_ELEMENT;
  for (let i = 0; i < copy.length; i += k) copy.subarray(i, i + k).reverse();
  return copy;
}

// ---- replies ----

function viewOf(Type, body, offset, count) {
  const bytes = count * Type.BYTES_PER_ELEMENT;
  const abs = body.byteOffset + offset;
  if (LITTLE && abs % Type.BYTES_PER_ELEMENT === 0) return new Type(body.buffer, abs, count);
  const copy = body.slice(offset, offset + bytes); // unaligned (or big-endian host): one copy
  if (!LITTLE) for (let i = 0; i < copy.length; i += Type.BYTES_PER_ELEMENT) copy.subarray(i, i + Type.BYTES_PER_ELEMENT).reverse();
  return new Type(copy.buffer, copy.byteOffset, count);
}

function v2Result(model, body, headerLength) {
  const n = headerLength === null ? body.length : Number(headerLength);
  const header = JSON.parse(new TextDecoder().decode(body.subarray(0, n)));
  const outputs = {};
  let offset = n;
  for (const out of header.outputs) {
    const w = byName[out.datatype];
    const size = out.parameters?.binary_data_size;
    let data;
    if (size === undefined) {
      data = w.Type.from(out.data, (x) => (x === null ? NaN : x));
    } else {
      data = viewOf(w.Type, body, offset, size / w.Type.BYTES_PER_ELEMENT);
      offset += size;
    }
    outputs[out.name] = { data, shape: out.shape };
  }
  const params = header.parameters ?? {};
  const reduction = params.reduction ?? "mean";
  const gradient = {};
  for (const [k, v] of Object.entries(outputs)) if (k.startsWith("grad_")) gradient[k.slice(5)] = v.data;
  let value, shape;
  if ("loss" in outputs) {
    value = reduction === "none" ? outputs.loss.data : Number(outputs.loss.data[0]);
    shape = reduction === "none" ? outputs.loss.shape : [];
  } else { // per-term losses with reduction none: loss_real, loss_fake
    value = {};
    shape = {};
    for (const [k, v] of Object.entries(outputs)) {
      if (k.startsWith("loss_")) {
        value[k.slice(5)] = v.data;
        shape[k.slice(5)] = v.shape;
      }
    }
  }
  const first = Object.values(outputs)[0]?.data;
  return {
    loss: header.model_name ?? model,
    value,
    shape,
    gradient,
    denominator: params.denominator ?? null,
    reduction,
    dtype: first instanceof Float32Array ? "float32" : "float64",
  };
}

const flat = (v, Type) => Type.from(Array.isArray(v) ? v.flat(Infinity) : [v], (x) => (x === null ? NaN : x));

function v1Result(r) {
  const Type = r.dtype === "float32" ? Float32Array : Float64Array;
  let value;
  if (r.reduction === "none") {
    value = r.value && !Array.isArray(r.value) && typeof r.value === "object"
      ? Object.fromEntries(Object.entries(r.value).map(([k, v]) => [k, flat(v, Type)]))
      : flat(r.value, Type);
  } else {
    value = r.value === null ? NaN : Type === Float32Array ? Math.fround(r.value) : r.value;
  }
  const gradient = {};
  for (const [k, g] of Object.entries(r.gradient ?? {})) gradient[k] = flat(g, Type);
  return {
    loss: r.loss, value, shape: r.shape, gradient, denominator: r.denominator ?? null,
    reduction: r.reduction, dtype: r.dtype,
  };
}

function v1Item(r) {
  if (r.error) return new LossdError(r.status ?? 400, r.error.code, r.error.message, r.error.field ?? null);
  return v1Result(r);
}

function errorOf(status, body) {
  const text = new TextDecoder().decode(body);
  try {
    const doc = JSON.parse(text);
    const e = doc.error;
    if (e && typeof e === "object") return new LossdError(status, e.code, e.message, e.field ?? null);
    if (typeof e === "string") return new LossdError(status, doc.code ?? "", e, doc.field ?? null);
  } catch { /* not JSON: a proxy's page */ }
  return new LossdError(status, "http_error", text.slice(0, 200) || `HTTP ${status}`);
}

// Nested plain arrays of a flat typed array in shape (for /v1 JSON).
function nest(data, shape) {
  const vals = data instanceof BigInt64Array ? Array.from(data, Number) : data;
  if (shape.length === 0) return Number(vals[0]);
  const build = (d, off) => {
    const n = shape[d];
    if (d === shape.length - 1) return Array.from(vals.subarray ? vals.subarray(off, off + n) : vals.slice(off, off + n));
    const step = shape.slice(d + 1).reduce((a, b) => a * b, 1);
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = build(d + 1, off + i * step);
    return out;
  };
  return build(0, 0);
}

/**
 * A connection to one lossd server. Requests go over kept-alive HTTP/1.1 connections of the
 * client's own agent (node:http or node:https), reused across calls. A client holds no
 * per-request state: concurrent calls on one client are safe (each takes a free connection).
 * close() closes the idle connections.
 */
export class Client {
  #http;
  #host;
  #port;
  #prefix;
  #agent;

  /**
   * @param {string} url e.g. "http://localhost:8080" (a path prefix is kept)
   * @param {{apiKey?: string, timeout?: number, transport?: "binary"|"json"}} [options]
   *   timeout in seconds (default 60); transport default "binary".
   */
  constructor(url = "http://localhost:8080", { apiKey = null, timeout = 60, transport = "binary" } = {}) {
    this.url = url.replace(/\/+$/, "");
    const u = new URL(this.url.includes("://") ? this.url : `http://${this.url}`);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new TypeError(`url must be http:// or https://, not ${url}`);
    this.#http = u.protocol === "https:" ? https : http;
    this.#host = u.hostname.replace(/^\[|\]$/g, "");
    this.#port = Number(u.port) || (u.protocol === "https:" ? 443 : 80);
    this.#prefix = u.pathname.replace(/\/+$/, "");
    // Kept-alive connections, reused across calls; idle ones do not keep the process alive.
    this.#agent = new this.#http.Agent({ keepAlive: true });
    this.headers = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
    this.timeout = timeout;
    if (transport !== "binary" && transport !== "json") throw new TypeError(`transport is "binary" or "json", not ${transport}`);
    this.transport = transport;
    this.entries = new Map();
  }

  /**
   * Computes one loss.
   * @param {string} name loss name or alias ("mse", "MSELoss", ...; case, _ and - ignored)
   * @param {object} inputsAndParams inputs by catalogue name (typed arrays, {data, shape},
   *   nested arrays or numbers) and scalar parameters ({ delta: 0.5 }).
   * @param {{reduction?: string, gradient?: boolean, dtype?: "float32"|"float64",
   *          transport?: "binary"|"json"}} [options]
   * @returns {Promise<LossResult>}
   */
  async loss(name, inputsAndParams = {}, { reduction = "mean", gradient = false, dtype = null, transport = null } = {}) {
    const entry = await this.#entry(name);
    const kinds = Object.fromEntries(entry.inputs.map((i) => [i.name, i.kind]));
    const tensors = {}, params = {};
    for (const [k, v] of Object.entries(inputsAndParams)) {
      if (v === undefined || v === null) continue;
      if (k in kinds || isTensorLike(v)) tensors[k] = asTensor(v, k);
      else params[k] = v;
    }
    const compute = computeDtype(tensors, dtype);
    const order = [...entry.inputs.map((i) => i.name), ...Object.keys(tensors).filter((k) => !(k in kinds))];
    const arrays = {};
    for (const k of order) if (k in tensors) arrays[k] = { data: wireArray(tensors[k], kinds[k], compute), shape: tensors[k].shape };
    if ((transport ?? this.transport) === "json") {
      const body = { ...params, reduction, gradient: Boolean(gradient), dtype: compute };
      for (const [k, a] of Object.entries(arrays)) body[k] = nest(a.data, a.shape);
      return v1Result(await this.#json("POST", `/v1/loss/${encodeURIComponent(entry.name)}`, body));
    }
    return this.#infer(entry.name, arrays, { ...params, reduction, gradient: Boolean(gradient) });
  }

  /**
   * Several losses over the same tensors (POST /v1/evaluate). `losses` holds names or
   * { name, ...parameters }. Resolves to one item per loss: a result, or a LossdError
   * (returned, not thrown) for a loss that failed alone.
   */
  async evaluate(losses, inputsAndParams = {}, { reduction = "mean", gradient = false, dtype = null } = {}) {
    const body = { reduction, gradient: Boolean(gradient), losses };
    if (dtype) body.dtype = dtype;
    for (const [k, v] of Object.entries(inputsAndParams)) {
      if (v === undefined || v === null) continue;
      body[k] = isTensorLike(v) ? (() => { const t = asTensor(v, k); return t.data ? nest(t.data, t.shape) : nest(t.values, t.shape); })() : v;
    }
    const reply = await this.#json("POST", "/v1/evaluate", body);
    return reply.results.map(v1Item);
  }

  /**
   * Independent requests in one round trip (POST /v1/batch): each { loss, ...members }.
   * Resolves to one result or LossdError per request.
   */
  async batch(requests) {
    const items = requests.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => {
      if (k === "loss" || !isTensorLike(v)) return [k, v];
      const t = asTensor(v, k);
      return [k, t.data ? nest(t.data, t.shape) : nest(t.values, t.shape)];
    })));
    const reply = await this.#json("POST", "/v1/batch", { requests: items });
    return reply.responses.map(v1Item);
  }

  /** The catalogue (GET /v1/losses): every loss with aliases, inputs, parameters, ... */
  async losses() {
    const { losses } = await this.#json("GET", "/v1/losses");
    for (const e of losses) if (!this.entries.has(e.name)) this.entries.set(e.name, e);
    return losses;
  }

  async #entry(name) {
    let e = this.entries.get(name);
    if (!e) {
      e = await this.#json("GET", `/v1/losses/${encodeURIComponent(name)}`);
      this.entries.set(name, e);
    }
    return e;
  }

  // One exchange over a kept-alive connection of the client's agent. chunks (Uint8Arrays)
  // are written as they are: the arrays' own memory, no concatenated copy. The reply is read
  // into one buffer placed so that the binary outputs after the JSON header are aligned
  // (their typed arrays are then views, not copies). A request that meets a connection the
  // server closed while idle is sent again once: lossd's requests have no side effects.
  async #send(method, path, headers, chunks) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#exchange(method, path, headers, chunks);
      } catch (e) {
        if (attempt > 0 || !e.reusedSocket || !RETRYABLE.has(e.code)) throw e;
      }
    }
  }

  #exchange(method, path, headers, chunks) {
    const length = chunks.reduce((n, c) => n + c.length, 0);
    return new Promise((resolve, reject) => {
      const req = this.#http.request({
        host: this.#host, port: this.#port, path: this.#prefix + path, method, agent: this.#agent,
        headers: { ...this.headers, ...headers, "content-length": length },
      });
      req.setTimeout(this.timeout * 1000, () => req.destroy(Object.assign(new Error(`lossd: no reply within ${this.timeout} s`), { code: "ETIMEDOUT" })));
      req.on("error", (e) => reject(Object.assign(e, { reusedSocket: req.reusedSocket })));
      req.on("response", (res) => {
        const n = Number(res.headers["content-length"]);
        const h = Number(res.headers[HEADER] ?? 0);
        const pad = Number.isFinite(n) ? (8 - (h % 8)) % 8 : 0;
        let body = Number.isFinite(n) ? new Uint8Array(new ArrayBuffer(n + pad), pad, n) : null;
        const parts = [];
        let got = 0;
        res.on("data", (c) => {
          if (body && got + c.length <= n) body.set(c, got);
          else parts.push(c);
          got += c.length;
        });
        res.on("error", reject);
        res.on("end", () => {
          if (!body || got !== n) body = new Uint8Array(Buffer.concat(parts));
          resolve({ status: res.statusCode, headers: res.headers, body });
        });
      });
      chunks.forEach((c, i) => (i + 1 < chunks.length ? req.write(c) : req.end(c)));
      if (chunks.length === 0) req.end();
    });
  }

  async #json(method, path, body) {
    const headers = {}, chunks = [];
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      chunks.push(Buffer.from(JSON.stringify(body)));
    }
    const res = await this.#send(method, path, headers, chunks);
    if (res.status !== 200) throw errorOf(res.status, res.body);
    return JSON.parse(new TextDecoder().decode(res.body));
  }

  async #infer(model, arrays, parameters) {
    const inputs = [], chunks = [];
    for (const [name, { data, shape }] of Object.entries(arrays)) {
      const bytes = leBytes(data);
      inputs.push({ name, shape, datatype: wireOf(data).name, parameters: { binary_data_size: bytes.length } });
      chunks.push(bytes);
    }
    const head = Buffer.from(JSON.stringify({ inputs, parameters: { ...parameters, binary_data_output: true } }));
    const res = await this.#send("POST", `/v2/models/${encodeURIComponent(model)}/infer`,
      { "content-type": "application/octet-stream", [HEADER]: String(head.length) }, [head, ...chunks]);
    if (res.status !== 200) throw errorOf(res.status, res.body);
    return v2Result(model, res.body, res.headers[HEADER] ?? null);
  }

  /** Closes the client's idle connections (pending requests finish). */
  close() {
    this.#agent.destroy();
  }
}

/**
 * @typedef {Object} LossResult
 * @property {string} loss canonical loss name
 * @property {number|Float32Array|Float64Array|Object<string, Float32Array|Float64Array>} value
 *   number for mean/sum; typed array for none; {real, fake} for GAN losses with none
 * @property {number[]|Object<string, number[]>} shape shape of value ([] when reduced)
 * @property {Object<string, Float32Array|Float64Array>} gradient input name -> gradient
 *   (flat, in that input's shape)
 * @property {number|null} denominator what a mean divided by
 * @property {string} reduction
 * @property {"float32"|"float64"} dtype
 */
