// DAGs (#/dags, #/dags/<id>): the list (GET /v1/dags: status and persona filters, newest first,
// "Load more" on the cursor) and one DAG (GET /v1/dags/<id>) with its steps as a graph and a
// table. Task and DAG events from /v1/events recolour steps at once and refresh what is shown.

import { api, seg, query, ApiError } from "./api.js";
import { h, fill, badge, timeEl, meter, debounce, errorBox, shortId, table, statusText } from "./ui.js";
import { drawDag } from "./graph.js";

const STATUSES = ["", "running", "succeeded", "failed", "cancelled"];

export function mount(root, param, ctx) {
  return param ? mountOne(root, param, ctx) : mountList(root, ctx);
}

function progress(done, total) {
  const t = Number(total) || 0;
  const d = Number(done) || 0;
  return h("div", { class: "progress" }, meter(t ? d / t : 0, t && d >= t ? "st-ok" : ""),
    h("span", { class: "n" }, `${d}/${t}`));
}

function openById(ctx) {
  const input = h("input", { id: "dag-open", placeholder: "DAG or root task id", "aria-label": "DAG or root task id",
    autocomplete: "off", spellcheck: "false", size: "28" });
  return h("form", { class: "toolbar", onsubmit: (e) => {
    e.preventDefault();
    const id = input.value.trim();
    if (id) ctx.navigate(`#/dags/${seg(id)}`);
  } }, input, h("button", { type: "submit" }, "Open"));
}

function mountList(root, ctx) {
  const st = { status: "", persona: "", rows: [], next: null, gone: false, loading: false };
  const statusSel = h("select", { id: "dag-status", "aria-label": "Status" },
    STATUSES.map((s) => h("option", { value: s }, s ? statusText(s) : "any status")));
  const persona = h("input", { id: "dag-persona", placeholder: "persona", "aria-label": "Persona", size: "12",
    autocomplete: "off" });
  const body = h("div");
  const more = h("button", { type: "button", hidden: true, onclick: () => load(true) }, "Load more");
  root.append(
    h("div", { class: "page-head" }, h("h1", null, "DAGs"),
      h("div", { class: "toolbar" }, statusSel, persona), openById(ctx)),
    h("section", { class: "card" }, body), h("div", { class: "toolbar pad" }, more));
  statusSel.addEventListener("change", () => { st.status = statusSel.value; load(false); });
  persona.addEventListener("change", () => { st.persona = persona.value.trim(); load(false); });

  function render() {
    if (!st.rows.length) {
      fill(body, h("p", { class: "empty" }, st.status || st.persona
        ? "No DAG matches these filters." : "No DAG yet. Enqueue a task and it appears here."));
      return;
    }
    const cols = [{ label: "DAG" }, { label: "Persona" }, { label: "Status" }, { label: "Steps" },
      { label: "Updated" }, { label: "Last error", cls: "hide-narrow" }];
    fill(body, table(cols, st.rows.map((d) => ({
      props: { dataset: { dagId: d.id } },
      cells: [
        h("a", { href: `#/dags/${seg(d.id)}`, class: "mono", title: d.id }, shortId(d.id)),
        d.persona_id || "—",
        badge(d.status),
        progress(d.steps_done, d.steps_total),
        timeEl(d.updated_at || d.created_at),
        d.last_error ? h("span", { class: "clip", title: d.last_error }, d.last_error) : "—",
      ],
    }))));
  }

  async function load(append) {
    if (st.loading) return;
    st.loading = true;
    try {
      const r = await api(`/v1/dags${query({ status: st.status, persona: st.persona, limit: 50,
        after: append ? st.next : null })}`);
      if (st.gone) return;
      st.rows = append ? st.rows.concat(r.dags || []) : r.dags || [];
      st.next = r.next || null;
      more.hidden = !st.next;
      render();
    } catch (err) {
      if (st.gone) return;
      fill(body, err instanceof ApiError && err.code === "ENOROUTE"
        ? h("p", { class: "notice pad" }, "This server cannot list DAGs (no GET /v1/dags); open one by its id above.")
        : errorBox(err));
    } finally {
      st.loading = false;
    }
  }

  // Live: a DAG we show changes status -> patch its row; one we do not show -> reload the first
  // page (only when the user has not paged on: their place in the list is kept).
  const reload = debounce(() => { if (!st.next || st.rows.length <= 50) load(false); }, 500);
  const offDag = ctx.events.on("dag", (e) => {
    const row = st.rows.find((d) => d.id === e.dag_id);
    if (row && e.to) {
      row.status = String(e.to).replace(/^dag:/, "");
      render();
      const tr = body.querySelector(`tr[data-dag-id="${CSS.escape(e.dag_id)}"]`);
      if (tr) tr.classList.add("flash");
    }
    reload();
  });
  const offTask = ctx.events.on("task", (e) => {
    if (e.dag_id && st.rows.some((d) => d.id === e.dag_id)) reload();
  });
  const offOpen = ctx.events.on("open", () => reload());
  load(false);
  return () => {
    st.gone = true;
    offDag();
    offTask();
    offOpen();
    reload.cancel();
  };
}

function mountOne(root, id, ctx) {
  const st = { dag: null, selected: null, gone: false, vertical: false };
  const head = h("div", { class: "page-head" }, h("a", { class: "button", href: "#/dags" }, "← DAGs"),
    h("h1", { class: "mono", title: id }, `DAG ${shortId(id)}`));
  const summary = h("div");
  const graph = h("div", { class: "card graph-card", dataset: { role: "graph" } });
  const stepInfo = h("div");
  const steps = h("section", { class: "card" });
  root.append(head, summary, h("div", { class: "stack" }, graph, stepInfo, steps));

  const narrow = window.matchMedia("(max-width: 760px)");
  st.vertical = narrow.matches;
  const onNarrow = () => { st.vertical = narrow.matches; renderGraph(); };
  narrow.addEventListener("change", onNarrow);

  function renderSummary() {
    const d = st.dag;
    fill(summary, h("section", { class: "card pad" }, h("dl", { class: "facts" },
      h("dt", null, "Status"), h("dd", null, badge(d.status)),
      h("dt", null, "Persona"), h("dd", null, d.persona_id || "—"),
      h("dt", null, "Steps"), h("dd", null, progress(d.steps_done, d.steps_total)),
      h("dt", null, "DAG id"), h("dd", { class: "mono" }, d.dag_id),
      h("dt", null, "Root task"), h("dd", { class: "mono" }, d.root_task_id || "—"),
      h("dt", null, "Version"), h("dd", { class: "mono" }, d.state_version ?? "—"),
      d.last_error ? [h("dt", null, "Last error"), h("dd", { class: "error" }, d.last_error)] : null)));
  }

  function renderGraph() {
    if (!st.dag) return;
    const list = st.dag.steps || [];
    if (!list.length) {
      fill(graph, h("p", { class: "empty" }, "This DAG has no steps."));
      return;
    }
    const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest("g.node");
    const refocus = focused ? focused.dataset.taskId : null;
    fill(graph, drawDag(list, { vertical: st.vertical, selected: st.selected, onSelect: (s) => {
      st.selected = s.task_id;
      renderGraph();
      renderStepInfo();
    } }));
    if (refocus) {
      const g = graph.querySelector(`g.node[data-task-id="${CSS.escape(refocus)}"]`);
      if (g) g.focus({ preventScroll: true });
    }
  }

  function renderStepInfo() {
    const s = (st.dag.steps || []).find((x) => x.task_id === st.selected);
    if (!s) {
      stepInfo.replaceChildren();
      return;
    }
    fill(stepInfo, h("section", { class: "card pad" }, h("h3", null, `Step ${s.step}`),
      h("dl", { class: "facts" },
        h("dt", null, "Status"), h("dd", null, badge(s.status)),
        h("dt", null, "Handler"), h("dd", { class: "mono" }, s.handler || "—"),
        h("dt", null, "Attempts"), h("dd", null, String(s.attempts ?? 0)),
        h("dt", null, "Depends on"), h("dd", null, (s.deps || []).join(", ") || "nothing"),
        h("dt", null, "Task"), h("dd", { class: "mono" }, s.task_id),
        s.last_error ? [h("dt", null, "Last error"), h("dd", { class: "error" }, s.last_error)] : null)));
  }

  function renderSteps() {
    const cols = [{ label: "Step" }, { label: "Status" }, { label: "Handler", cls: "hide-narrow" },
      { label: "Attempts", cls: "num" }, { label: "Depends on", cls: "hide-narrow" }, { label: "Last error" }];
    fill(steps, h("h2", { class: "pad" }, "Steps"), table(cols, (st.dag.steps || []).map((s) => ({
      props: { dataset: { taskId: s.task_id } },
      cells: [
        h("b", null, s.step), badge(s.status), h("span", { class: "mono" }, s.handler || "—"),
        String(s.attempts ?? 0), (s.deps || []).join(", ") || "—",
        s.last_error ? h("span", { class: "clip", title: s.last_error }, s.last_error) : "—",
      ],
    }))));
  }

  async function load() {
    try {
      const d = await api(`/v1/dags/${seg(id)}`);
      if (st.gone) return;
      st.dag = d;
      renderSummary();
      renderGraph();
      renderStepInfo();
      renderSteps();
    } catch (err) {
      if (st.gone) return;
      fill(summary, err instanceof ApiError && err.status === 404
        ? h("p", { class: "error" }, `No DAG or task has the id ${id}.`) : errorBox(err));
      graph.hidden = true;
    }
  }

  const reload = debounce(load, 400);
  const mine = (e) => st.dag && (e.dag_id === st.dag.dag_id || e.dag_id === id);
  const offTask = ctx.events.on("task", (e) => {
    if (!mine(e)) return;
    // Recolour the step at once; the reload brings attempts, errors and the DAG's counters.
    const s = (st.dag.steps || []).find((x) => x.task_id === e.task_id);
    if (s && e.to) {
      s.status = e.to;
      renderGraph();
    }
    reload();
  });
  const offDag = ctx.events.on("dag", (e) => { if (mine(e)) reload(); });
  const offOpen = ctx.events.on("open", () => reload());
  load();
  return () => {
    st.gone = true;
    offTask();
    offDag();
    offOpen();
    reload.cancel();
    narrow.removeEventListener("change", onNarrow);
  };
}
