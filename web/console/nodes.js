// Nodes (#/nodes): the engines sharing the store (GET /v1/nodes) with their state, shards, running
// steps and heartbeat age. Node events from /v1/events patch a row in place; the heartbeat ages
// tick every second, measured on the server's clock (the offset is taken from the last answer).

import { api } from "./api.js";
import { h, fill, badge, timeEl, debounce, errorBox, table } from "./ui.js";

export function mount(root, param, ctx) {
  const st = { rows: [], offset: 0, gone: false };
  const body = h("div");
  root.append(h("div", { class: "page-head" }, h("h1", null, "Nodes"),
    h("span", { class: "sub", id: "nodes-count" })), h("section", { class: "card" }, body));

  function beatAge(n) {
    const now = Date.now() + st.offset;
    return Math.max(0, now - Number(n.last_beat || 0));
  }

  function ageText(ms) {
    return ms < 1500 ? "just now" : ms < 120000 ? `${Math.round(ms / 1000)} s ago` : `${Math.round(ms / 60000)} min ago`;
  }

  function render() {
    document.getElementById("nodes-count").textContent =
      `${st.rows.length} node${st.rows.length === 1 ? "" : "s"}`;
    if (!st.rows.length) {
      fill(body, h("p", { class: "empty" }, "No node has registered with this store."));
      return;
    }
    const cols = [{ label: "Node" }, { label: "State" }, { label: "Host", cls: "hide-narrow" },
      { label: "Shards", cls: "num" }, { label: "Running", cls: "num" }, { label: "Heartbeat" },
      { label: "Started", cls: "hide-narrow" }, { label: "Version", cls: "hide-narrow" }];
    fill(body, table(cols, st.rows.map((n) => ({
      props: { dataset: { nodeId: n.id } },
      cells: [
        h("span", { class: "mono", title: n.id }, n.node || n.id),
        badge(n.state),
        `${n.host || "—"}${n.pid ? ` (pid ${n.pid})` : ""}`,
        String(n.shards ?? "—"),
        String(n.running ?? "—"),
        h("span", { class: "beat", dataset: { nodeId: n.id } }, ageText(beatAge(n))),
        timeEl(n.started_at),
        h("span", { class: "mono" }, n.version || "—"),
      ],
    }))));
  }

  async function load() {
    try {
      const r = await api("/v1/nodes");
      if (st.gone) return;
      st.rows = r.nodes || [];
      // server now ≈ last_beat + beat_age_ms; keep the difference to our clock
      const n = st.rows.find((x) => Number.isFinite(Number(x.beat_age_ms)));
      if (n) st.offset = Number(n.last_beat) + Number(n.beat_age_ms) - Date.now();
      render();
    } catch (err) {
      if (!st.gone) fill(body, errorBox(err));
    }
  }

  const tick = setInterval(() => {
    for (const el of body.querySelectorAll("span.beat")) {
      const n = st.rows.find((x) => x.id === el.dataset.nodeId);
      if (n) el.textContent = ageText(beatAge(n));
    }
  }, 1000);
  const reload = debounce(load, 400);
  const offNode = ctx.events.on("node", (e) => {
    const n = st.rows.find((x) => x.id === e.node_id || x.node === e.node_id);
    if (!n) {
      reload();
      return;
    }
    if (e.status) n.state = e.status;
    if (e.heartbeat_at) n.last_beat = e.heartbeat_at;
    if (e.shards !== undefined) n.shards = e.shards;
    if (e.running !== undefined) n.running = e.running;
    render();
  });
  const offOpen = ctx.events.on("open", () => reload());
  load();
  return () => {
    st.gone = true;
    clearInterval(tick);
    offNode();
    offOpen();
    reload.cancel();
  };
}
