// Small DOM helpers shared by the pages: element builders (h, svg), status badges with the
// console's status colours, times ("3 min ago"), toasts, and a debouncer for live refreshes.
// Text always goes in as text nodes, never as HTML, so nothing the API returns can inject markup.

const SVG_NS = "http://www.w3.org/2000/svg";

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

function apply(el, props) {
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.setAttribute("class", v);
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k in el && !(el instanceof SVGElement) && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
}

// h("button", {class: "primary", onclick: fn}, "Approve")
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  apply(el, props);
  append(el, children);
  return el;
}

// Replaces el's children (arrays flattened, null skipped, like h).
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function svg(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, props);
  append(el, children);
  return el;
}

// Status -> colour class: one table for tasks, DAGs, videos, reviews, nodes.
const STATUS = {
  succeeded: "st-ok", published: "st-ok", approved: "st-ok", passed: "st-ok", pass: "st-ok",
  alive: "st-ok", up: "st-ok", ok: "st-ok", done: "st-ok",
  running: "st-run", in_review: "st-run", review: "st-run", publishing: "st-run",
  waiting: "st-wait", paused: "st-wait", draining: "st-wait", stale: "st-wait",
  ready: "st-info", pending: "st-info", starting: "st-info", queued: "st-info",
  dead: "st-bad", failed: "st-bad", rejected: "st-bad", reject: "st-bad", down: "st-bad",
  lost: "st-bad", error: "st-bad",
  cancelled: "st-muted", stopped: "st-muted",
};

export function statusClass(s) {
  return STATUS[String(s || "").toLowerCase()] || "st-muted";
}

// "in_review" -> "in review"; "video:published" (an audit status) -> "published".
export function statusText(s) {
  return String(s ?? "unknown").replace(/^[a-z_]+:/, "").replace(/_/g, " ");
}

export function badge(status, label) {
  const s = String(status ?? "unknown").replace(/^[a-z_]+:/, "");
  return h("span", { class: `badge ${statusClass(s)}`, dataset: { status: s } }, label ?? statusText(s));
}

// Epoch milliseconds (or seconds, from an older row) -> Date.
export function toDate(ts) {
  if (ts === null || ts === undefined || ts === "") return null;
  const n = Number(ts);
  if (!Number.isFinite(n) || n <= 0) return null;
  return new Date(n < 1e12 ? n * 1000 : n);
}

export function ago(ts, now = Date.now()) {
  const d = toDate(ts);
  if (!d) return "—";
  const s = Math.round((now - d.getTime()) / 1000);
  if (s < 0) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function stamp(ts) {
  const d = toDate(ts);
  return d ? d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" }) : "—";
}

// <time> showing "3 min ago" with the full date on hover.
export function timeEl(ts) {
  const d = toDate(ts);
  return h("time", { datetime: d ? d.toISOString() : null, title: stamp(ts) }, ago(ts));
}

export function clock(d = new Date()) {
  return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function shortId(id) {
  const s = String(id || "");
  return s.length > 13 ? `${s.slice(0, 8)}…${s.slice(-4)}` : s;
}

export function meter(fraction, cls = "") {
  const f = Math.max(0, Math.min(1, Number(fraction) || 0));
  const bar = h("span");
  bar.style.width = `${(f * 100).toFixed(1)}%`;
  return h("div", { class: `meter ${cls}`, role: "meter", "aria-valuemin": "0", "aria-valuemax": "100",
    "aria-valuenow": String(Math.round(f * 100)) }, bar);
}

export function toast(message, kind = "ok") {
  const box = document.getElementById("toasts");
  const t = h("div", { class: `toast ${kind === "bad" ? "bad" : ""}` }, message);
  box.append(t);
  setTimeout(() => t.remove(), kind === "bad" ? 9000 : 5000);
}

// A table whose cells carry their column's name (data-label), so on a phone each row reads as
// a small card. cols: [{label, cls}]; rows: arrays of cell contents (or {cells, props}).
export function table(cols, rows, props = {}) {
  const head = h("thead", null, h("tr", null, cols.map((c) => h("th", { class: c.cls, scope: "col" }, c.label))));
  const body = h("tbody", null, rows.map((r) => {
    const cells = Array.isArray(r) ? r : r.cells;
    return h("tr", Array.isArray(r) ? null : r.props,
      cells.map((c, i) => h("td", { class: cols[i].cls, "data-label": cols[i].label }, c)));
  }));
  return h("div", { class: "table-wrap" }, h("table", { class: "cards", ...props }, head, body));
}

// Calls fn at most once per `ms`, after the last call (live events arrive in bursts).
export function debounce(fn, ms) {
  let t = null;
  const d = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
  d.cancel = () => clearTimeout(t);
  return d;
}

// A button that is disabled, with the reason as its title, when the role may not use it.
export function roleButton(ok, role, props, ...children) {
  const b = h("button", { type: "button", ...props }, ...children);
  if (!ok) {
    b.disabled = true;
    b.title = `needs the ${role} role`;
  }
  return b;
}

export function errorBox(err) {
  return h("p", { class: "error", role: "alert" }, err && err.describe ? err.describe() : String(err && err.message || err));
}
