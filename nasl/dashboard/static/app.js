// The nasl dashboard page: polls /api/summary every second and, when its stamp
// changes, reloads the trials and redraws the table and the plots. All text from
// the study goes in through textContent, never as HTML.
"use strict";

const POLL_MS = 1000;
const MAX_ROWS = 2000;   // a longer table is filtered or sorted to what matters, not scrolled
const S = { summary: null, trials: [], stamp: null, updated: null, sort: { key: "number", dir: -1 },
            selected: null, selectedState: null, compare: [], kind: "arch", objectives: [] };
const $ = id => document.getElementById(id);

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c));
  return e;
}

async function api(path) {
  const r = await fetch(path, { cache: "no-store" });
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

function fmt(v) {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") return Number.isInteger(v) ? v.toLocaleString("en") : (+v.toPrecision(6)).toString();
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

// ------------------------------------------------------------ polling
async function poll() {
  try {
    const s = await api("/api/summary");
    $("live").className = "ok"; $("live").textContent = "live";
    if (!S.summary) setup(s);
    S.summary = s;
    showProgress(s);
    if (s.stamp !== S.stamp) { S.stamp = s.stamp; await refresh(); }
  } catch (e) {
    $("live").className = "down";
    // fetch itself throws a TypeError when the server is gone; other errors carry the server's reason
    $("live").textContent = e instanceof TypeError ? "the dashboard server is not answering" : e.message;
  }
  setTimeout(poll, POLL_MS);
}

function setup(s) {
  S.objectives = s.objectives.map(o => o[0]);
  $("study-path").textContent = s.path;
  const dl = $("settings-list");
  const rows = [["space", s.space_file], ["searcher", `${s.searcher} ${JSON.stringify(s.searcher_options)}`],
                ["seed", s.seed], ["evaluator", s.evaluator],
                ["objectives", s.objectives.map(([n, d]) => `${n} (${d})`).join(", ")]];
  for (const [k, v] of rows) dl.append(el("dt", { text: k }), el("dd", { text: fmt(v) }));
  for (const id of ["best-objective", "pareto-x", "pareto-y", "filter-metric"]) {
    const sel = $(id);
    if (id === "filter-metric") sel.append(el("option", { value: "", text: "any" }));
    for (const n of S.objectives) sel.append(el("option", { value: n, text: n }));
    if (id === "filter-metric") sel.append(el("option", { value: "duration", text: "duration (s)" }));
    sel.addEventListener("change", id.startsWith("filter") ? renderTable : drawPlots);
  }
  if (S.objectives.length > 1) { $("pareto-card").hidden = false; $("pareto-y").value = S.objectives[1]; }
  for (const id of ["filter-state", "filter-op"]) $(id).addEventListener("change", renderTable);
  $("filter-value").addEventListener("input", renderTable);
  for (const b of document.querySelectorAll(".tabs button")) {
    b.addEventListener("click", () => { S.kind = b.dataset.kind; showPicture(); });
  }
  $("space-details").addEventListener("toggle", () => {
    if ($("space-details").open && !$("space-picture").dataset.loaded) {
      $("space-picture").dataset.loaded = "1"; picture($("space-picture"), "/api/space.svg");
    }
  });
}

function showProgress(s) {
  for (const k of ["complete", "failed", "pruned", "running"]) $("count-" + k).textContent = s.counts[k];
  $("count-budget").textContent = s.budget;
  const frac = s.budget ? Math.min(1, s.done / s.budget) : 0;
  $("progress-bar").style.width = (100 * frac).toFixed(1) + "%";
  const when = s.updated ? new Date(s.updated * 1000).toLocaleTimeString() : "never";
  $("progress-text").textContent = `${s.done} of ${s.budget} trials done (${(100 * frac).toFixed(0)}%); ` +
                                   `last change ${when}`;
}

// Only the trials that changed since the last load are fetched (?since=), and merged in by number.
async function refresh() {
  const s = S.summary, total = Object.values(s.counts).reduce((a, b) => a + b, 0);
  if (S.updated === null || !S.trials.length) {
    S.trials = await api("/api/trials");
  } else {
    const byNumber = new Map(S.trials.map(t => [t.number, t]));
    for (const t of await api(`/api/trials?since=${S.updated}`)) byNumber.set(t.number, t);
    S.trials = [...byNumber.values()].sort((a, b) => a.number - b.number);
  }
  if (S.trials.length < total) S.trials = await api("/api/trials");    // a change was missed: load them all
  S.updated = s.updated;
  renderTable();
  await drawPlots();
  const sel = S.trials.find(t => t.number === S.selected);
  if (sel && sel.state !== S.selectedState) select(sel.number);
  if (S.summary && S.summary.oneshot) showOneshot(await api("/api/oneshot"));
  if (S.summary && S.summary.lineage) showLineage(await api("/api/lineage"));
}

// ------------------------------------------------------------ plots
async function drawPlots() {
  const best = await api("/api/best"), name = $("best-objective").value || S.objectives[0];
  const b = best[name];
  NaslCharts.scatter($("best-plot"), {
    points: b.points.map(([n, v]) => ({ x: n, y: v, id: n, title: `trial ${n}: ${name} = ${fmt(v)}` })),
    line: b.points.map(([n, , bst]) => [n, bst]), step: true, xLabel: "trial", xInteger: true,
    yLabel: `${name} (${b.direction})`, selected: S.selected, onClick: select });
  if (S.objectives.length < 2) return;
  const p = await api(`/api/pareto?x=${encodeURIComponent($("pareto-x").value)}&y=${encodeURIComponent($("pareto-y").value)}`);
  const front = new Set(p.front);
  const line = p.points.filter(q => front.has(q[0])).map(q => [q[1], q[2]]).sort((a, c) => a[0] - c[0]);
  NaslCharts.scatter($("pareto-plot"), {
    points: p.points.map(([n, x, y]) => ({ x, y, id: n, cls: front.has(n) ? "front" : "",
                                           title: `trial ${n}: ${p.x} = ${fmt(x)}, ${p.y} = ${fmt(y)}` })),
    line, lineClass: "frontline", xLabel: `${p.x} (${p.directions[0]})`, yLabel: `${p.y} (${p.directions[1]})`,
    selected: S.selected, onClick: select });
}

// ------------------------------------------------------------ the trial table
function value(t, key) {
  if (key === "number" || key === "state" || key === "duration" || key === "arch_id") return t[key];
  return t.metrics ? t.metrics[key] : undefined;
}

function renderTable() {
  const cols = ["number", "state", ...S.objectives, "duration", "arch_id"];
  const head = $("trial-table").tHead;
  head.replaceChildren(el("tr", {}, el("th", { text: "cmp", title: "tick two trials to compare them" }),
    ...cols.map(c => el("th", { text: c === "number" ? "#" : c === "duration" ? "seconds" : c,
                                class: S.sort.key === c ? (S.sort.dir > 0 ? "asc" : "desc") : "",
                                onclick: () => { S.sort = { key: c, dir: S.sort.key === c ? -S.sort.dir : 1 };
                                                 renderTable(); } }))));
  const state = $("filter-state").value, metric = $("filter-metric").value;
  const limit = parseFloat($("filter-value").value), op = $("filter-op").value;
  let rows = S.trials.filter(t => (!state || t.state === state) && (!metric || isNaN(limit) ||
    (typeof value(t, metric) === "number" && (op === "ge" ? value(t, metric) >= limit : value(t, metric) <= limit))));
  const { key, dir } = S.sort;
  rows.sort((a, b) => {
    const x = value(a, key), y = value(b, key);
    if (x === y) return a.number - b.number;
    if (x === undefined || x === null) return 1;          // missing values last, either way
    if (y === undefined || y === null) return -1;
    return (x < y ? -1 : 1) * dir;
  });
  $("trial-shown").textContent = `${Math.min(rows.length, MAX_ROWS)} shown of ${S.trials.length}`;
  const body = $("trial-table").tBodies[0];
  body.replaceChildren(...rows.slice(0, MAX_ROWS).map(t => {
    const box = el("input", { type: "checkbox", title: "compare" });
    box.checked = S.compare.includes(t.number);
    box.addEventListener("click", e => { e.stopPropagation(); toggleCompare(t.number, box.checked); });
    const tr = el("tr", { "data-trial": t.number, class: t.number === S.selected ? "sel" : "",
                          onclick: () => select(t.number) },
      el("td", {}, box), el("td", { class: "num", text: t.number }),
      el("td", {}, el("span", { class: "state " + t.state, text: t.state, title: t.error || "" })),
      ...S.objectives.map(o => el("td", { class: "num", text: fmt(value(t, o)) })),
      el("td", { class: "num", text: t.duration == null ? "–" : t.duration.toFixed(2) }),
      el("td", { text: t.arch_id }));
    return tr;
  }));
}

// ------------------------------------------------------------ one trial
async function select(number) {
  try { await showTrial(number); } catch (e) {
    $("detail").hidden = false; $("detail-title").textContent = `Trial #${number}: ${e.message}`;
  }
}

async function showTrial(number) {
  S.selected = number;
  for (const tr of document.querySelectorAll("#trial-table tbody tr")) {
    tr.classList.toggle("sel", +tr.dataset.trial === number);
  }
  const t = await api(`/api/trials/${number}`);
  S.selectedState = t.state;
  $("detail").hidden = false;
  $("detail-title").textContent = `Trial #${t.number}: ${t.state}` + (t.attempts > 1 ? ` (${t.attempts} attempts)` : "");
  const m = $("detail-metrics");
  m.replaceChildren();
  for (const [k, v] of Object.entries(t.metrics || {})) m.append(el("tr", {}, el("td", { text: k }), el("td", { text: fmt(v) })));
  for (const k of ["params", "flops", "macs", "layers"]) {
    if (t.cost && k in t.cost) m.append(el("tr", {}, el("td", { text: k + " (nasl.cost)" }), el("td", { text: fmt(t.cost[k]) })));
  }
  if (t.cost && t.cost.error) m.append(el("tr", {}, el("td", { text: "cost" }), el("td", { class: "error", text: t.cost.error })));
  for (const k of ["duration", "seed", "budget", "worker"]) m.append(el("tr", {}, el("td", { text: k }), el("td", { text: fmt(t[k]) })));
  if (t.error) m.append(el("tr", {}, el("td", { text: "error" }), el("td", { class: "error", text: t.error })));
  $("detail-choices").replaceChildren(...Object.entries(t.arch).map(([p, v]) =>
    el("tr", {}, el("td", { text: p }), el("td", { text: fmt(v) }))));
  showPicture();
  drawPlots().catch(() => {});           // only to ring the selected point; the next poll redraws anyway
}

function showPicture() {
  for (const b of document.querySelectorAll(".tabs button")) b.classList.toggle("active", b.dataset.kind === S.kind);
  if (S.selected !== null) picture($("trial-picture"), `/api/trials/${S.selected}/${S.kind}.svg`);
}

// An SVG from the server as an <img>, or the server's reason why there is none (e.g. no Graphviz).
async function picture(box, url) {
  box.dataset.url = url;
  box.replaceChildren(el("span", { class: "msg", text: "drawing…" }));
  try {
    const r = await fetch(url, { cache: "no-store" });
    if (box.dataset.url !== url) return;                 // another picture was asked for meanwhile
    if (!r.ok) {
      const body = await r.json().catch(() => ({}));
      box.replaceChildren(el("span", { class: "msg warn", text: body.error || r.statusText }));
      return;
    }
    const img = el("img", { alt: "picture", src: URL.createObjectURL(await r.blob()) });
    box.replaceChildren(img, el("div", {}, el("a", { href: url, target: "_blank", text: "open full size" })));
  } catch (e) {
    box.replaceChildren(el("span", { class: "msg warn", text: "no picture: " + e.message }));
  }
}

// ------------------------------------------------------------ two trials
async function toggleCompare(number, on) {
  try { await showCompare(number, on); } catch (e) {
    $("compare").hidden = false; $("compare-title").textContent = "Compare: " + e.message;
  }
}

async function showCompare(number, on) {
  S.compare = S.compare.filter(n => n !== number);
  if (on) S.compare.push(number);
  if (S.compare.length > 2) S.compare = S.compare.slice(-2);
  renderTable();
  if (S.compare.length < 2) { $("compare").hidden = true; return; }
  const c = await api(`/api/compare?a=${S.compare[0]}&b=${S.compare[1]}`);
  $("compare").hidden = false;
  $("compare-title").textContent = `Compare trial #${c.a.number} and #${c.b.number}`;
  const differ = new Set(c.differ), rows = [];
  const row = (k, a, b, diff) => rows.push(el("tr", {}, el("td", { text: k }),
    el("td", { class: diff ? "differ" : "", text: fmt(a) }), el("td", { class: diff ? "differ" : "", text: fmt(b) })));
  row("state", c.a.state, c.b.state, c.a.state !== c.b.state);
  for (const [o] of c.objectives) row(o, c.a.metrics && c.a.metrics[o], c.b.metrics && c.b.metrics[o], false);
  for (const k of ["params", "flops"]) row(k, c.a.cost[k] ?? c.a.cost.error, c.b.cost[k] ?? c.b.cost.error, false);
  row("seconds", c.a.duration, c.b.duration, false);
  for (const p of c.paths) row(p, p in c.a.arch ? c.a.arch[p] : "(inactive)", p in c.b.arch ? c.b.arch[p] : "(inactive)", differ.has(p));
  $("compare-table").replaceChildren(el("tr", {}, el("th", { text: "" }), el("th", { text: `#${c.a.number}` }),
                                        el("th", { text: `#${c.b.number}` })), ...rows);
}

// ------------------------------------------------------------ lineage (searchers that pass parents)
function showLineage(t) {
  $("lineage").hidden = !t.available;
  if (!t.available) return;
  const item = n => {
    const d = t.nodes[String(n)], kids = t.children[String(n)] || [];
    const text = `#${n} ${d.state}` + (d.transformation ? ` [${d.transformation}]` : "") +
                 (d.inherited === null ? "" : ` inherited ${Math.round(100 * d.inherited)}%`);
    const li = el("li", {}, el("a", { href: "#", text, onclick: e => { e.preventDefault(); select(n); } }));
    if (kids.length) li.append(el("ul", {}, ...kids.map(item)));
    return li;
  };
  $("lineage-tree").replaceChildren(el("ul", {}, ...t.roots.map(item)));
}

// ------------------------------------------------------------ one-shot runs
function showOneshot(o) {
  $("oneshot").hidden = !o.available || !o.epochs.length;
  if ($("oneshot").hidden) return;
  const last = o.epochs[o.epochs.length - 1];
  $("oneshot-derived").replaceChildren(el("h3", { text: `derived architecture (epoch ${last.epoch})` }),
    el("code", { text: JSON.stringify(last.derived) }));
  const keys = [];
  for (const [path, probs] of Object.entries(last.alphas)) for (const opt of Object.keys(probs)) keys.push([path, opt]);
  const head = el("tr", {}, el("th", { text: "choice" }), el("th", { text: "option" }),
                  ...o.epochs.map(e => el("th", { text: `epoch ${e.epoch}` })));
  $("oneshot-table").replaceChildren(head, ...keys.map(([path, opt]) => el("tr", {},
    el("td", { text: path }), el("td", { text: opt }), ...o.epochs.map(e => {
      const p = (e.alphas[path] || {})[opt];
      const td = el("td", { class: "p", text: p === undefined ? "–" : p.toFixed(3) });
      if (p !== undefined) td.style.background = `rgba(52, 101, 164, ${(0.6 * p).toFixed(3)})`;
      return td;
    }))));
}

poll();
