// plot: line charts drawn as SVG by hand (no charting library; docs/decisions.md says why).
// lossdPlot.draw(figure, spec) replaces the figure's content with one chart. Each series is
// a <path class="series"> that carries what it plots in data attributes (data-x, data-y:
// JSON arrays of the numbers the server returned, null where it returned null), so tests and
// users can read the exact values back. Non-finite points break the line; points beyond a
// robust y range run off the chart (see extent).
"use strict";

window.lossdPlot = (() => {
  const SVG = "http://www.w3.org/2000/svg";
  const W = 560, H = 330, M = {left: 58, right: 14, top: 14, bottom: 44};
  const COLORS = ["#1f6feb", "#d1242f", "#1a7f37", "#bf8700", "#8250df", "#0a7b83", "#cf222e",
                  "#57606a"];

  function el(name, attrs, parent) {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }

  // About `count` round tick values covering [lo, hi].
  function ticks(lo, hi, count) {
    const span = hi - lo;
    const raw = span / count;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= count) || 10 * mag;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
      out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    return out;
  }

  function label(v) {
    const a = Math.abs(v);
    if (a !== 0 && (a >= 1e4 || a < 1e-3)) return v.toExponential(1);
    return String(Number(v.toPrecision(4)));
  }

  function finite(series, key) {
    const out = [];
    for (const s of series) for (const v of s[key]) if (v !== null && Number.isFinite(v)) out.push(v);
    return out.sort((a, b) => a - b);
  }

  // The range to show: all the values, unless a few extreme ones (a gradient going to -1/p
  // near p = 0) would flatten everything else: then the 5-95% range, and those run off the
  // chart. Padded by 5%.
  function extent(series, key, robust) {
    const v = finite(series, key);
    if (v.length === 0) return [0, 1];
    let lo = v[0], hi = v[v.length - 1];
    if (robust) {
      const qlo = v[Math.floor(v.length * 0.05)], qhi = v[Math.ceil(v.length * 0.95) - 1];
      if (hi - lo > 4 * (qhi - qlo) && qhi > qlo) {
        const pad = (qhi - qlo) * 0.15;
        lo = Math.max(lo, qlo - pad);
        hi = Math.min(hi, qhi + pad);
      }
    }
    if (lo === hi) return [lo - 1, hi + 1];
    const pad = (hi - lo) * 0.05;
    return [lo - pad, hi + pad];
  }

  function axes(svg, xs, ys, sx, sy, spec) {
    const g = el("g", {class: "axes"}, svg);
    for (const t of ticks(ys[0], ys[1], 6)) {
      el("line", {x1: M.left, x2: W - M.right, y1: sy(t), y2: sy(t), class: "grid"}, g);
      el("text", {x: M.left - 6, y: sy(t) + 4, "text-anchor": "end"}, g).textContent = label(t);
    }
    for (const t of ticks(xs[0], xs[1], 8)) {
      el("line", {x1: sx(t), x2: sx(t), y1: M.top, y2: H - M.bottom, class: "grid"}, g);
      el("text", {x: sx(t), y: H - M.bottom + 16, "text-anchor": "middle"}, g).textContent = label(t);
    }
    el("rect", {x: M.left, y: M.top, width: W - M.left - M.right, height: H - M.top - M.bottom,
                class: "frame"}, g);
    el("text", {x: (M.left + W - M.right) / 2, y: H - 8, "text-anchor": "middle",
                class: "axis-label"}, g).textContent = spec.xLabel;
    el("text", {x: 14, y: (M.top + H - M.bottom) / 2, "text-anchor": "middle", class: "axis-label",
                transform: `rotate(-90 14 ${(M.top + H - M.bottom) / 2})`}, g).textContent = spec.yLabel;
  }

  // The SVG path of one series, broken where y is null or not finite.
  function pathOf(s, sx, sy) {
    let d = "", pen = false;
    s.x.forEach((x, i) => {
      const y = s.y[i];
      if (y === null || !Number.isFinite(y)) {
        pen = false;
        return;
      }
      d += `${pen ? "L" : "M"}${sx(x).toFixed(2)},${sy(y).toFixed(2)}`;
      pen = true;
    });
    return d;
  }

  function legend(figure, series) {
    const ul = document.createElement("ul");
    ul.className = "legend";
    series.forEach((s, i) => {
      const li = document.createElement("li");
      const sw = document.createElement("span");
      sw.className = "swatch";
      sw.style.background = COLORS[i % COLORS.length];
      li.append(sw, document.createTextNode(s.label));
      ul.appendChild(li);
    });
    figure.appendChild(ul);
  }

  // A crosshair that reads out every series at the nearest sweep point.
  function hover(svg, figure, series, sx, xs) {
    const line = el("line", {y1: M.top, y2: H - M.bottom, class: "cursor", visibility: "hidden"}, svg);
    const tip = document.createElement("div");
    tip.className = "tip";
    tip.hidden = true;
    figure.appendChild(tip);
    svg.addEventListener("mousemove", (ev) => {
      const box = svg.getBoundingClientRect();
      const x = xs[0] + ((ev.clientX - box.left) * W / box.width - M.left) /
                (W - M.left - M.right) * (xs[1] - xs[0]);
      const xv = series[0].x;
      let i = 0;
      for (let k = 1; k < xv.length; k++) if (Math.abs(xv[k] - x) < Math.abs(xv[i] - x)) i = k;
      line.setAttribute("x1", sx(xv[i]));
      line.setAttribute("x2", sx(xv[i]));
      line.setAttribute("visibility", "visible");
      tip.textContent = `x = ${label(xv[i])}   ` +
        series.map((s) => `${s.label}: ${s.y[i] === null ? "null" : label(s.y[i])}`).join("   ");
      tip.hidden = false;
    });
    svg.addEventListener("mouseleave", () => {
      line.setAttribute("visibility", "hidden");
      tip.hidden = true;
    });
  }

  // spec: {title, xLabel, yLabel, series: [{label, x: [...], y: [...], data: {...}}]}; each
  // series' `data` becomes data-* attributes of its path.
  function draw(figure, spec) {
    figure.replaceChildren();
    const cap = document.createElement("figcaption");
    cap.textContent = spec.title;
    figure.appendChild(cap);
    const svg = el("svg", {viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": spec.title}, figure);
    const xs = extent(spec.series, "x", false), ys = extent(spec.series, "y", true);
    const sx = (v) => M.left + (v - xs[0]) / (xs[1] - xs[0]) * (W - M.left - M.right);
    const sy = (v) => H - M.bottom - (v - ys[0]) / (ys[1] - ys[0]) * (H - M.top - M.bottom);
    axes(svg, xs, ys, sx, sy, spec);
    const clip = `clip-${figure.id || "plot"}`;
    el("rect", {x: M.left, y: M.top, width: W - M.left - M.right, height: H - M.top - M.bottom},
       el("clipPath", {id: clip}, svg));
    const g = el("g", {"clip-path": `url(#${clip})`}, svg);
    spec.series.forEach((s, i) => {
      const p = el("path", {d: pathOf(s, sx, sy), class: "series", stroke: COLORS[i % COLORS.length],
                            "data-label": s.label, "data-x": JSON.stringify(s.x),
                            "data-y": JSON.stringify(s.y)}, g);
      for (const [k, v] of Object.entries(s.data || {}))
        p.setAttribute(`data-${k}`, typeof v === "string" ? v : JSON.stringify(v));
    });
    legend(figure, spec.series);
    hover(svg, figure, spec.series, sx, xs);
  }

  return {draw};
})();
