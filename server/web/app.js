// app: lossd's page. Loads the catalogue from GET /v1/losses and shows it by family, sends
// "Try it" requests to POST /v1/loss/{name}, and sweeps losses for the playground through
// POST /v1/batch. Every number shown comes from the server; the page computes nothing.
// Elements tests wait on carry data-state ("loading", "done", "error").
"use strict";

(() => {
  const LOSSES = window.LOSSD_LOSSES || {};
  const PRESETS = window.LOSSD_PRESETS || [];
  const KEY_STORE = "lossd.apiKey"; // sessionStorage: this tab only; /docs reads it too
  const FAMILIES = {
    regression: "Regression", classification: "Classification",
    embedding: "Pairs, ranking and embeddings", detection: "Detection (boxes)",
    segmentation: "Segmentation (masks)", gan: "GAN", sequence: "Sequence",
  };
  const GREEK = {alpha: "α", beta: "β", gamma: "γ", delta: "δ", quantile: "q", margin: "margin"};
  const $ = (id) => document.getElementById(id);
  let catalogue = [];
  let compareParams = {}; // loss -> parameters a preset gave its comparison curve

  // ---- HTTP ----

  function apiKey() {
    return $("api-key").value.trim();
  }

  // One request; body is the JSON text to send (or undefined). Never throws for HTTP errors.
  async function call(method, path, body) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (apiKey()) headers.Authorization = `Bearer ${apiKey()}`;
    const res = await fetch(path, {method, headers, body});
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch (e) { /* not JSON: shown as text */ }
    return {status: res.status, text, json};
  }

  // The message of an error in either style ({"error": {...}} on /v1, {"error": "..."} on /v2).
  function errorText(r) {
    const e = r.json && r.json.error;
    if (typeof e === "string") return e;
    if (e && e.message) return `${e.code}: ${e.message}`;
    return r.text || `HTTP ${r.status}`;
  }

  function status(message, kind) {
    const s = $("status");
    s.hidden = !message;
    s.textContent = message || "";
    s.className = kind || "";
  }

  function node(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k.startsWith("data-")) e.setAttribute(k, v);
      else e[k] = v;
    }
    e.append(...children.filter((c) => c !== null && c !== undefined));
    return e;
  }

  // ---- catalogue ----

  function range(p) {
    const parts = [];
    if (p.enum) return `one of ${p.enum.join(", ")}`;
    if (p.minimum !== undefined) parts.push(`${p.exclusive_minimum ? ">" : "≥"} ${p.minimum}`);
    if (p.maximum !== undefined) parts.push(`${p.exclusive_maximum ? "<" : "≤"} ${p.maximum}`);
    return parts.join(", ");
  }

  function table(head, rows) {
    return node("table", {},
      node("thead", {}, node("tr", {}, ...head.map((h) => node("th", {}, h)))),
      node("tbody", {}, ...rows.map((r) => node("tr", {}, ...r.map((c) => node("td", {}, c))))));
  }

  function lossCard(e) {
    const info = LOSSES[e.name];
    const aliases = e.aliases && e.aliases.length ? node("span", {class: "aliases"},
      `also: ${e.aliases.join(", ")}`) : null;
    const formula = info ? node("p", {class: "formula"}, info.formula)
      : node("p", {class: "formula missing"}, "(formula not listed on this page; see the reference)");
    const inputs = table(["input", "kind", "shape", "gradient"], e.inputs.map((i) =>
      [i.name, i.kind, i.shape, e.gradients.includes(i.name) ? "✓" : ""]));
    const params = e.parameters.length ? table(["parameter", "type", "default", "range"],
      e.parameters.map((p) => [p.name, p.type, p.default === undefined ? "none" : String(p.default),
                               p.shape ? `shape ${p.shape}` : range(p)])) : null;
    const tryBtn = node("button", {type: "button", onclick: () => tryLoss(e.name, true)}, "Try it");
    const plotBtn = info && info.plot ? node("button", {type: "button",
      onclick: () => plotLoss(e.name)}, "Plot") : null;
    return node("article", {class: "loss", id: `loss-${e.name}`, "data-loss": e.name},
      node("h4", {}, e.name, aliases),
      formula, inputs, params,
      node("p", {class: "meta"}, `reductions: ${e.reductions.join(", ")}`),
      node("p", {class: "ref"}, `reference: ${e.reference}`),
      node("p", {class: "actions"}, tryBtn, plotBtn));
  }

  function renderCatalogue() {
    const groups = new Map();
    for (const e of catalogue) {
      if (!groups.has(e.family)) groups.set(e.family, []);
      groups.get(e.family).push(e);
    }
    const order = [...Object.keys(FAMILIES).filter((f) => groups.has(f)),
                   ...[...groups.keys()].filter((f) => !(f in FAMILIES)).sort()];
    $("families").replaceChildren(...order.map((f) =>
      node("section", {class: "family", id: `family-${f}`, "data-family": f},
        node("h3", {}, `${FAMILIES[f] || f} (${groups.get(f).length})`),
        node("div", {class: "cards"}, ...groups.get(f).map(lossCard)))));
  }

  async function loadCatalogue() {
    $("families").dataset.state = "loading";
    let r;
    try {
      r = await call("GET", "v1/losses");
    } catch (err) {
      status(`Cannot reach lossd: ${err.message}`, "error");
      $("families").dataset.state = "error";
      return false;
    }
    if (r.status !== 200) {
      status(r.status === 401 ? "This lossd needs an API key: enter it above (it is kept in this " +
        "browser tab only)." : `GET /v1/losses: ${errorText(r)}`, "error");
      $("families").dataset.state = r.status === 401 ? "unauthorized" : "error";
      if (r.status === 401) $("api-key").focus();
      return false;
    }
    status("");
    catalogue = r.json.losses;
    renderCatalogue();
    fillSelects();
    $("families").dataset.state = "done";
    return true;
  }

  // ---- try it ----

  function shellQuote(s) {
    return `'${s.replace(/'/g, "'\\''")}'`;
  }

  function curlOf(name, body) {
    const url = new URL(`v1/loss/${encodeURIComponent(name)}`, document.baseURI).href;
    const key = apiKey() ? ` -H "Authorization: Bearer $LOSSD_API_KEY"` : "";
    return `curl -s ${url} -H 'Content-Type: application/json'${key} -d ${shellQuote(body)}`;
  }

  function tryLoss(name, scroll) {
    const e = catalogue.find((x) => x.name === name);
    const info = LOSSES[name];
    const body = info ? info.example :
      Object.fromEntries(e.inputs.filter((i) => !i.name.includes("weight")).map((i) => [i.name, []]));
    $("try-loss").value = name;
    $("try-body").value = JSON.stringify(body);
    if (scroll) $("try").scrollIntoView();
  }

  async function sendTry(ev) {
    ev.preventDefault();
    const out = $("try-out"), name = $("try-loss").value, body = $("try-body").value;
    out.hidden = false;
    $("try-curl").textContent = curlOf(name, body);
    try {
      JSON.parse(body);
    } catch (err) {
      $("try-status").textContent = "not sent: the body is not valid JSON";
      $("try-response").textContent = String(err.message);
      out.dataset.state = "error";
      return;
    }
    out.dataset.state = "loading";
    const r = await call("POST", `v1/loss/${encodeURIComponent(name)}`, body);
    const value = r.status === 200 ? JSON.stringify(r.json.value) : "";
    $("try-status").textContent = `HTTP ${r.status}`;
    $("try-status").className = r.status === 200 ? "ok" : "error";
    $("try-value").textContent = r.status === 200 ? value : errorText(r);
    $("try-value").dataset.value = value;
    $("try-response").textContent = r.json ? JSON.stringify(r.json, null, 2) : r.text;
    out.dataset.state = r.status === 200 ? "done" : "error";
  }

  // ---- playground ----

  function plottable() {
    return catalogue.filter((e) => LOSSES[e.name] && LOSSES[e.name].plot);
  }

  function options(select, names, keep) {
    const old = select.value;
    select.replaceChildren(...names.map(([value, text]) => node("option", {value}, text)));
    if (keep && names.some(([v]) => v === old)) select.value = old;
  }

  function fillSelects() {
    options($("try-loss"), catalogue.map((e) => [e.name, e.name]), true);
    if (!$("try-body").value) tryLoss(catalogue[0].name, false);
    const names = plottable().map((e) => [e.name, e.name]);
    options($("plot-loss"), names, true);
    options($("plot-compare"), names, false);
    lossChanged();
  }

  function entry(name) {
    return catalogue.find((e) => e.name === name);
  }

  // Parameter fields of the plotted loss: numbers and booleans (array ones are left out).
  function lossChanged() {
    const e = entry($("plot-loss").value);
    const cfg = LOSSES[e.name].plot;
    $("plot-from").value = cfg.from;
    $("plot-to").value = cfg.to;
    $("plot-target").value = cfg.target === undefined ? "" : cfg.target;
    $("plot-target-label").hidden = cfg.input !== undefined;
    const scalar = e.parameters.filter((p) => p.type !== "array");
    options($("plot-vary"), [["", "(nothing)"],
      ...scalar.filter((p) => p.type !== "boolean").map((p) => [p.name, p.name])], false);
    $("plot-params").replaceChildren(...scalar.map((p) => node("label", {}, `${p.name} `,
      node("input", {type: "text", id: `plot-param-${p.name}`, placeholder: String(p.default),
                     title: `default ${p.default}; empty means the default`}))));
  }

  function numberList(text) {
    return text.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  }

  // The parameters typed in the fields (empty ones are left to the server's defaults).
  function fixedParams(e) {
    const out = {};
    for (const p of e.parameters.filter((q) => q.type !== "array")) {
      const v = $(`plot-param-${p.name}`).value.trim();
      if (v !== "") out[p.name] = p.type === "boolean" ? v === "true" : Number(v);
    }
    return out;
  }

  function paramText(params) {
    return Object.entries(params).map(([k, v]) => `${GREEK[k] || k} = ${v}`).join(", ");
  }

  // The curves to draw: the loss once per value of the varied parameter, then comparisons.
  function curves() {
    const e = entry($("plot-loss").value);
    const base = fixedParams(e), vary = $("plot-vary").value;
    const list = vary ? numberList($("plot-values").value).map((v) => ({loss: e.name,
      params: {...base, [vary]: v}, label: `${e.name}: ${GREEK[vary] || vary} = ${v}`}))
      : [{loss: e.name, params: base, label: Object.keys(base).length ?
          `${e.name} (${paramText(base)})` : e.name}];
    for (const opt of $("plot-compare").selectedOptions) {
      const params = compareParams[opt.value] || {};
      list.push({loss: opt.value, params, label: Object.keys(params).length ?
        `${opt.value} (${paramText(params)})` : opt.value});
    }
    return list;
  }

  function sweep(from, to, n) {
    return Array.from({length: n}, (_, i) => (i === n - 1 ? to : from + (to - from) * i / (n - 1)));
  }

  // One /v1/batch item: the sweep as the loss's swept input, the target repeated.
  function batchItem(c, xs, target) {
    const cfg = LOSSES[c.loss].plot;
    const item = {loss: c.loss, reduction: "none", gradient: true};
    item[cfg.input || "predictions"] = xs;
    if (!cfg.input) item.targets = xs.map(() => target);
    for (const [k, v] of Object.entries(cfg.extra || {})) item[k] = xs.map(() => v);
    return Object.assign(item, c.params);
  }

  async function drawPlot(ev) {
    if (ev) ev.preventDefault();
    const box = $("plot"), note = $("plot-note");
    const from = Number($("plot-from").value), to = Number($("plot-to").value);
    const n = Math.round(Number($("plot-points").value)), target = Number($("plot-target").value);
    const list = curves();
    if (!(from < to) || !(n >= 2 && n <= 2001) || list.length === 0) {
      note.textContent = "Need From < To, 2 to 2001 points, and at least one curve.";
      box.dataset.state = "error";
      return;
    }
    box.dataset.state = "loading";
    const xs = sweep(from, to, n);
    const body = JSON.stringify({requests: list.map((c) => batchItem(c, xs, target))});
    const r = await call("POST", "v1/batch", body);
    if (r.status !== 200) {
      note.textContent = `POST /v1/batch: ${errorText(r)}`;
      box.dataset.state = "error";
      return;
    }
    const loss = [], grad = [], failed = [];
    r.json.responses.forEach((res, i) => {
      const c = list[i], input = LOSSES[c.loss].plot.input || "predictions";
      if (res.status !== 200) {
        failed.push(`${c.label}: ${res.status} ${res.error.code}: ${res.error.message}`);
        return;
      }
      const data = {loss: c.loss, params: c.params};
      loss.push({label: c.label, x: xs, y: res.value, data});
      grad.push({label: c.label, x: xs, y: res.gradient[input], data});
    });
    const first = LOSSES[list[0].loss].plot;
    const x = first.input || "prediction p";
    const at = first.input ? "" : ` (target y = ${target})`;
    lossdPlot.draw($("chart-loss"), {title: `loss${at}`, xLabel: x, yLabel: "loss", series: loss});
    lossdPlot.draw($("chart-grad"), {title: `gradient ∂loss/∂${first.input || "p"}${at}`,
                                      xLabel: x, yLabel: "gradient", series: grad});
    note.textContent = (failed.length ? `Not plotted: ${failed.join("; ")}. ` : "") +
      `${list.length} curve(s) of ${n} points, one POST /v1/batch of ${body.length} bytes.`;
    box.dataset.state = failed.length && !loss.length ? "error" : "done";
  }

  function applyPreset(p) {
    $("plot-loss").value = p.loss;
    lossChanged();
    $("plot-target").value = p.target;
    for (const [k, v] of Object.entries(p.params)) $(`plot-param-${k}`).value = v;
    $("plot-vary").value = p.vary;
    $("plot-values").value = p.values.join(", ");
    compareParams = {};
    for (const opt of $("plot-compare").options) opt.selected = false;
    for (const c of p.compare || []) {
      compareParams[c.loss] = c.params;
      const opt = [...$("plot-compare").options].find((o) => o.value === c.loss);
      if (opt) opt.selected = true;
    }
    return drawPlot();
  }

  function plotLoss(name) {
    $("plot-loss").value = name;
    lossChanged();
    compareParams = {};
    for (const opt of $("plot-compare").options) opt.selected = false;
    $("playground").scrollIntoView();
    return drawPlot();
  }

  // ---- start ----

  function wire() {
    $("api-key").value = sessionStorage.getItem(KEY_STORE) || "";
    $("api-key").addEventListener("change", async () => {
      sessionStorage.setItem(KEY_STORE, apiKey());
      if (await loadCatalogue()) await applyPreset(PRESETS[0]);
    });
    $("try-form").addEventListener("submit", sendTry);
    $("try-loss").addEventListener("change", () => tryLoss($("try-loss").value, false));
    $("plot-form").addEventListener("submit", drawPlot);
    $("plot-loss").addEventListener("change", lossChanged);
    $("plot-compare").addEventListener("change", () => { compareParams = {}; });
    $("presets").replaceChildren(...PRESETS.map((p) => node("button",
      {type: "button", id: `preset-${p.id}`, onclick: () => applyPreset(p)}, p.label)));
  }

  document.addEventListener("DOMContentLoaded", async () => {
    wire();
    if (await loadCatalogue()) await applyPreset(PRESETS[0]);
  });
})();
