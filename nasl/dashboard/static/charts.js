// Small inline-SVG charts for the nasl dashboard: a scatter plot with an optional
// line (best so far, or the Pareto front joined), axes with round ticks, and
// points that select a trial when clicked. No library: the page works offline.
"use strict";

const NaslCharts = (() => {
  const NS = "http://www.w3.org/2000/svg";
  const W = 600, H = 300, M = { l: 64, r: 14, t: 10, b: 38 };

  function node(tag, attrs, parent) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }

  // About n round tick values covering [lo, hi] (steps of 1, 2 or 5 times a power of ten).
  // integer: no ticks between whole numbers (trial numbers).
  function ticks(lo, hi, n, integer) {
    if (!(hi > lo)) return [lo];
    const raw = (hi - lo) / n, p = Math.pow(10, Math.floor(Math.log10(raw)));
    let step = [1, 2, 5, 10].map(m => m * p).find(s => s >= raw);
    if (integer) step = Math.max(1, Math.round(step));
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
    return out;
  }

  function fmt(v) {
    const a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toPrecision(3) + "G";
    if (a >= 1e6) return (v / 1e6).toPrecision(3) + "M";
    if (a >= 1e4) return (v / 1e3).toPrecision(3) + "k";
    return +v.toPrecision(4) + "";
  }

  function extent(values) {
    let lo = Math.min(...values), hi = Math.max(...values);
    if (lo === hi) { const d = Math.abs(lo) * 0.05 || 1; lo -= d; hi += d; }
    const pad = (hi - lo) * 0.04;
    return [lo - pad, hi + pad];
  }

  // opts: points [{x, y, id, cls, title}], line [[x, y]], lineClass, xLabel, yLabel,
  // selected (id), onClick(id), empty (text when there are no points), step (draw the line as steps),
  // xInteger (whole-number ticks on x)
  function scatter(svg, opts) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    const pts = opts.points || [];
    if (!pts.length) {
      node("text", { x: W / 2, y: H / 2, "text-anchor": "middle", class: "empty" }, svg).textContent =
        opts.empty || "no complete trial yet";
      return;
    }
    const [x0, x1] = extent(pts.map(p => p.x)), [y0, y1] = extent(pts.map(p => p.y));
    const sx = v => M.l + (v - x0) / (x1 - x0) * (W - M.l - M.r);
    const sy = v => H - M.b - (v - y0) / (y1 - y0) * (H - M.t - M.b);
    const grid = node("g", { class: "grid" }, svg), axis = node("g", { class: "axis" }, svg);
    for (const t of ticks(x0, x1, 8, opts.xInteger)) {
      node("line", { x1: sx(t), x2: sx(t), y1: M.t, y2: H - M.b }, grid);
      node("text", { x: sx(t), y: H - M.b + 14, "text-anchor": "middle" }, axis).textContent = fmt(t);
    }
    for (const t of ticks(y0, y1, 5)) {
      node("line", { x1: M.l, x2: W - M.r, y1: sy(t), y2: sy(t) }, grid);
      node("text", { x: M.l - 6, y: sy(t) + 4, "text-anchor": "end" }, axis).textContent = fmt(t);
    }
    node("path", { d: `M${M.l},${M.t}V${H - M.b}H${W - M.r}`, fill: "none" }, axis);
    node("text", { x: (M.l + W - M.r) / 2, y: H - 6, "text-anchor": "middle" }, axis).textContent = opts.xLabel || "";
    node("text", { x: 12, y: (M.t + H - M.b) / 2, "text-anchor": "middle",
                   transform: `rotate(-90 12 ${(M.t + H - M.b) / 2})` }, axis).textContent = opts.yLabel || "";
    const line = opts.line || [];
    if (line.length) {
      let d = `M${sx(line[0][0])},${sy(line[0][1])}`;
      for (let i = 1; i < line.length; i++) {
        d += opts.step ? `H${sx(line[i][0])}V${sy(line[i][1])}` : `L${sx(line[i][0])},${sy(line[i][1])}`;
      }
      node("path", { d, class: opts.lineClass || "best" }, svg);
    }
    const g = node("g", {}, svg);
    for (const p of pts) {
      const cls = "pt" + (p.cls ? " " + p.cls : "") + (p.id === opts.selected ? " sel" : "");
      const c = node("circle", { cx: sx(p.x), cy: sy(p.y), r: p.cls === "front" ? 4.5 : 3.5, class: cls,
                                 "data-trial": p.id }, g);
      node("title", {}, c).textContent = p.title || `trial ${p.id}`;
      if (opts.onClick) c.addEventListener("click", () => opts.onClick(p.id));
    }
  }

  return { scatter, ticks, fmt };
})();
