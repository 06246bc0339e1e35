// A DAG's steps drawn as SVG, laid out here (no library): a step's depth is 1 + the deepest of
// the steps it depends on, steps of one depth share a column (rows on a narrow screen), and
// within a column they are ordered by the mean position of their dependencies (one barycentre
// pass, which untangles the usual fan-out/fan-in shapes). Edges are curves from a dependency to
// its dependant, with an arrowhead. Nodes are focusable, coloured by status, and call onSelect.

import { svg, statusClass, statusText } from "./ui.js";

const W = 168;
const H = 54;

// depth of every step (a cycle or an unknown dependency counts as depth 0, never a hang)
export function depths(steps) {
  const byName = new Map(steps.map((s) => [s.step, s]));
  const depth = new Map();
  const visiting = new Set();
  const walk = (s) => {
    if (depth.has(s.step)) return depth.get(s.step);
    if (visiting.has(s.step)) return 0;
    visiting.add(s.step);
    let d = 0;
    for (const name of s.deps || []) {
      const dep = byName.get(name);
      if (dep) d = Math.max(d, walk(dep) + 1);
    }
    visiting.delete(s.step);
    depth.set(s.step, d);
    return d;
  };
  steps.forEach(walk);
  return depth;
}

// {cols: [[step...]...], pos: Map(step name -> {x, y})} for a layout direction.
export function layout(steps, vertical) {
  const depth = depths(steps);
  const cols = [];
  for (const s of steps) {
    const d = depth.get(s.step);
    (cols[d] ||= []).push(s);
  }
  const index = new Map();
  cols.forEach((col, c) => {
    if (c > 0) {
      const bary = (s) => {
        const ds = (s.deps || []).filter((n) => index.has(n));
        return ds.length ? ds.reduce((a, n) => a + index.get(n), 0) / ds.length : 0;
      };
      col.sort((a, b) => bary(a) - bary(b) || a.step.localeCompare(b.step));
    }
    col.forEach((s, i) => index.set(s.step, i));
  });
  const gapMain = vertical ? 44 : 64;
  const gapCross = vertical ? 18 : 22;
  const tallest = Math.max(1, ...cols.map((c) => c.length));
  const pos = new Map();
  cols.forEach((col, c) => {
    // centre each column against the tallest one
    const offset = ((tallest - col.length) * ((vertical ? W : H) + gapCross)) / 2;
    col.forEach((s, i) => {
      const main = c * ((vertical ? H : W) + gapMain);
      const cross = offset + i * ((vertical ? W : H) + gapCross);
      pos.set(s.step, vertical ? { x: cross, y: main } : { x: main, y: cross });
    });
  });
  const width = vertical ? tallest * (W + gapCross) - gapCross : cols.length * (W + gapMain) - gapMain;
  const height = vertical ? cols.length * (H + gapMain) - gapMain : tallest * (H + gapCross) - gapCross;
  return { cols, pos, width: Math.max(width, W), height: Math.max(height, H) };
}

function clip(s, n) {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

// The <svg>. opts: vertical, selected (task id), onSelect(step).
export function drawDag(steps, opts = {}) {
  const { pos, width, height } = layout(steps, opts.vertical);
  const depth = depths(steps);
  const pad = 8;
  // An edge that skips columns (render -> publish past judge) would run through the nodes
  // between: it bows out instead, above the row (to the right of the column when vertical),
  // further the more it skips, and the picture grows to hold the widest bow.
  const bow = (span) => 40 + 16 * span;
  let extra = 0;
  for (const s of steps) {
    for (const name of s.deps || []) {
      const span = depth.get(s.step) - depth.get(name);
      if (span > 1 && depth.has(name)) extra = Math.max(extra, 0.75 * bow(span) + 4);
    }
  }
  const vx = -pad, vy = -pad - (opts.vertical ? 0 : extra);
  const vw = width + 2 * pad + (opts.vertical ? extra : 0), vh = height + 2 * pad + (opts.vertical ? 0 : extra);
  const root = svg("svg", {
    class: "dag", viewBox: `${vx} ${vy} ${vw} ${vh}`,
    width: String(vw), height: String(vh), role: "group",
    "aria-label": `Steps of the DAG as a graph: ${steps.length} steps`,
  });
  root.append(svg("defs", null, svg("marker", {
    id: "arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7",
    orient: "auto-start-reverse",
  }, svg("path", { d: "M 0 0 L 10 5 L 0 10 z", class: "arrow" }))));
  const edges = svg("g", { "aria-hidden": "true" });
  for (const s of steps) {
    const to = pos.get(s.step);
    for (const name of s.deps || []) {
      const from = pos.get(name);
      if (!from) continue;
      let d;
      const span = depth.get(s.step) - depth.get(name);
      if (span > 1 && opts.vertical) {
        const x1 = from.x + W, y1 = from.y + H / 2, x2 = to.x + W, y2 = to.y + H / 2, b = bow(span);
        d = `M ${x1} ${y1} C ${x1 + b} ${y1}, ${x2 + b} ${y2}, ${x2 + 2} ${y2}`;
      } else if (span > 1) {
        const x1 = from.x + W / 2, y1 = from.y, x2 = to.x + W / 2, y2 = to.y, b = bow(span);
        d = `M ${x1} ${y1} C ${x1} ${y1 - b}, ${x2} ${y2 - b}, ${x2} ${y2 - 2}`;
      } else if (opts.vertical) {
        const x1 = from.x + W / 2, y1 = from.y + H, x2 = to.x + W / 2, y2 = to.y;
        const my = (y1 + y2) / 2;
        d = `M ${x1} ${y1} C ${x1} ${my}, ${x2} ${my}, ${x2} ${y2 - 2}`;
      } else {
        const x1 = from.x + W, y1 = from.y + H / 2, x2 = to.x, y2 = to.y + H / 2;
        const mx = (x1 + x2) / 2;
        d = `M ${x1} ${y1} C ${mx} ${y1}, ${mx} ${y2}, ${x2 - 2} ${y2}`;
      }
      edges.append(svg("path", { class: "edge", d, "marker-end": "url(#arrow)" }));
    }
  }
  root.append(edges);
  for (const s of steps) {
    const p = pos.get(s.step);
    const label = `${s.step}: ${statusText(s.status)}${s.attempts > 1 ? `, attempt ${s.attempts}` : ""}`;
    const g = svg("g", {
      class: `node ${statusClass(s.status)}${opts.selected === s.task_id ? " selected" : ""}`,
      transform: `translate(${p.x} ${p.y})`, tabindex: "0", role: "button",
      "aria-label": label, dataset: { taskId: s.task_id, step: s.step, status: s.status },
    },
    svg("title", null, `${s.step} (${s.handler || "?"})\n${statusText(s.status)}${s.last_error ? `\n${s.last_error}` : ""}`),
    svg("rect", { width: String(W), height: String(H), rx: "9", ry: "9" }),
    svg("text", { class: "name", x: "12", y: "22" }, clip(s.step || "?", 20)),
    svg("text", { class: "state", x: "12", y: "40" },
      `${statusText(s.status)}${s.attempts > 1 ? ` · try ${s.attempts}` : ""}`));
    const pick = () => opts.onSelect && opts.onSelect(s);
    g.addEventListener("click", pick);
    g.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        pick();
      }
    });
    root.append(g);
  }
  return root;
}
