// Publishers (#/publishers): whether publishing runs or is paused (GET /v1/publishers), how many
// publish steps wait meanwhile, and pause/resume (POST /v1/publishers, operator role). Publisher
// events from /v1/events refresh the state and are listed as recent changes.

import { api } from "./api.js";
import { h, fill, badge, debounce, errorBox, toast, roleButton, clock, statusText } from "./ui.js";

export function mount(root, param, ctx) {
  const st = { p: null, gone: false, changes: [] };
  const card = h("section", { class: "card state-card", "aria-live": "polite" }, h("p", { class: "sub" }, "Loading…"));
  const msg = h("div", { role: "alert" });
  const changes = h("section", { class: "card pad" });
  root.append(h("div", { class: "page-head" }, h("h1", null, "Publishers")),
    h("div", { class: "stack" }, card, msg, changes));

  function render() {
    const p = st.p;
    const paused = Boolean(p.paused);
    const waiting = p.waiting_tasks ?? p.waiting ?? 0;
    const ok = ctx.can("operator");
    const button = roleButton(ok, "operator", {
      id: "publishers-toggle", class: paused ? "primary" : "reject",
      onclick: () => act(paused ? "resume" : "pause", button),
    }, paused ? "Resume publishing" : "Pause publishing");
    fill(card,
      h("div", { class: "big", dataset: { role: "publishers-state", paused: String(paused) } },
        h("span", { class: `dot ${paused ? "wait" : "ok"}`, "aria-hidden": "true" }),
        paused ? "Publishing is paused" : "Publishing runs"),
      h("div", { class: "stat" }, h("b", null, String(waiting)), h("span", null, "tasks parked (reviews, held publish steps)")),
      h("p", { class: "sub" }, paused
        ? "Approved and passed videos wait; nothing goes out to any channel until you resume."
        : "Videos that pass the judge or a reviewer are published to their channels as they come."),
      button);
    fill(changes, h("h3", null, "Changes since this page opened"),
      st.changes.length
        ? h("ol", { class: "timeline" }, st.changes.map((c) => h("li", null, h("time", null, clock(c.at)),
          badge(c.to, statusText(c.to)), h("span", { class: "sub" }, `${c.actor || ""}${c.channel ? ` · ${c.channel}` : ""}`))))
        : h("p", { class: "sub" }, "None yet."));
  }

  async function load() {
    try {
      const p = await api("/v1/publishers");
      if (st.gone) return;
      st.p = p;
      render();
    } catch (err) {
      if (!st.gone) fill(card, errorBox(err));
    }
  }

  async function act(action, button) {
    button.disabled = true;
    msg.replaceChildren();
    try {
      const r = await api("/v1/publishers", { method: "POST", body: { action } });
      toast(action === "pause"
        ? (r.changed === false ? "Publishing was already paused." : "Publishing paused.")
        : (r.changed === false ? "Publishing was already running." : "Publishing resumed."));
      await load();
    } catch (err) {
      fill(msg, errorBox(err));
      button.disabled = false;
    }
  }

  const reload = debounce(load, 300);
  const offPub = ctx.events.on("publisher", (e) => {
    st.changes.unshift({ at: new Date(), to: e.to, actor: e.actor, channel: e.channel });
    st.changes.length = Math.min(st.changes.length, 20);
    reload();
  });
  const offOpen = ctx.events.on("open", () => reload());
  load();
  return () => {
    st.gone = true;
    offPub();
    offOpen();
    reload.cancel();
  };
}
