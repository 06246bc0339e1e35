// Policies (#/policies): every Lua module's versions (GET /v1/scripts: sha, when seen, valid or
// the error that refused it) grouped by module, which one is pinned, and pin/unpin
// (POST /v1/scripts/<module>/pin {"sha"} and /unpin, operator role). A module follows its newest
// valid version unless pinned.

import { api, seg } from "./api.js";
import { h, fill, badge, timeEl, errorBox, toast, roleButton, table } from "./ui.js";

const SHOWN = 5;

export function mount(root, param, ctx) {
  const st = { versions: [], pins: [], filter: "", open: new Set(), gone: false };
  const filter = h("input", { id: "policy-filter", type: "search", placeholder: "Filter modules",
    "aria-label": "Filter modules", autocomplete: "off" });
  const msg = h("div", { role: "alert" });
  const body = h("div", { class: "grid" });
  root.append(h("div", { class: "page-head" }, h("h1", null, "Policies"), filter), msg, body);
  filter.addEventListener("input", () => { st.filter = filter.value.trim().toLowerCase(); render(); });

  // "personas/tina" -> "/v1/scripts/personas/tina": each segment escaped, the slash kept.
  const path = (module) => `/v1/scripts/${module.split("/").map(seg).join("/")}`;

  function render() {
    const by = new Map();
    for (const v of st.versions) {
      if (!by.has(v.module)) by.set(v.module, []);
      by.get(v.module).push(v);
    }
    for (const p of st.pins) if (!by.has(p.module)) by.set(p.module, []);
    const modules = [...by.keys()].filter((m) => !st.filter || m.toLowerCase().includes(st.filter)).sort();
    if (!modules.length) {
      fill(body, h("p", { class: "card empty" }, st.filter ? "No module matches." : "No policy versions recorded yet."));
      return;
    }
    const ok = ctx.can("operator");
    fill(body, ...modules.map((m) => {
      const versions = by.get(m).slice().sort((a, b) => Number(b.created_at) - Number(a.created_at));
      const pin = st.pins.find((p) => p.module === m);
      const shown = st.open.has(m) ? versions : versions.slice(0, SHOWN);
      const cols = [{ label: "Version" }, { label: "Seen" }, { label: "State" }, { label: "" }];
      return h("section", { class: "card module", dataset: { module: m } },
        h("header", null, h("h2", null, m),
          pin ? badge("waiting", `pinned ${pin.sha.slice(0, 8)}`) : h("span", { class: "sub" }, "follows the newest valid version"),
          pin ? roleButton(ok, "operator", { class: "small", onclick: (e) => unpin(m, e.currentTarget) }, "Unpin") : null),
        table(cols, shown.map((v) => ({
          props: { dataset: { sha: v.sha } },
          cells: [
            h("span", { class: "mono", title: v.sha }, v.sha.slice(0, 12)),
            timeEl(v.created_at),
            v.valid ? (v.pinned ? badge("waiting", "pinned") : badge("ok", "valid"))
              : h("span", { title: v.error || "" }, badge("failed", "refused"), " ", h("span", { class: "sub" }, v.error || "")),
            v.valid && !v.pinned
              ? roleButton(ok, "operator", { class: "small", onclick: (e) => pinTo(m, v.sha, e.currentTarget),
                "aria-label": `Pin ${m} to ${v.sha.slice(0, 8)}` }, "Pin")
              : "",
          ],
        }))),
        versions.length > SHOWN ? h("div", { class: "pad" }, h("button", { type: "button", class: "small ghost",
          onclick: () => { if (st.open.has(m)) st.open.delete(m); else st.open.add(m); render(); } },
        st.open.has(m) ? "Show fewer" : `Show all ${versions.length} versions`)) : null);
    }));
  }

  async function load() {
    try {
      const r = await api("/v1/scripts");
      if (st.gone) return;
      st.versions = r.versions || [];
      st.pins = r.pins || [];
      render();
    } catch (err) {
      if (!st.gone) fill(body, errorBox(err));
    }
  }

  async function pinTo(module, sha, button) {
    button.disabled = true;
    msg.replaceChildren();
    try {
      await api(`${path(module)}/pin`, { method: "POST", body: { sha } });
      toast(`${module} pinned to ${sha.slice(0, 8)}.`);
      await load();
    } catch (err) {
      fill(msg, errorBox(err));
      button.disabled = false;
    }
  }

  async function unpin(module, button) {
    button.disabled = true;
    msg.replaceChildren();
    try {
      await api(`${path(module)}/unpin`, { method: "POST", body: {} });
      toast(`${module} unpinned: it follows its newest valid version.`);
      await load();
    } catch (err) {
      fill(msg, errorBox(err));
      button.disabled = false;
    }
  }

  load();
  return () => { st.gone = true; };
}
