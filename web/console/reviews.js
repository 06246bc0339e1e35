// The review queue (#/reviews, #/reviews/<video id>): the videos the judge sent to review
// (GET /v1/reviews), and for the one selected its video (a <video> on the media_url of GET
// /v1/videos/<id>, whose ticket stands in for the Authorization header a media element cannot
// send), the judge's safety report (findings: category, rule, matched text; checks; thresholds)
// and the decision: approve or reject with If-Match: <the review's state_version>. A reviewer who
// lost the race gets the 409's two versions in plain words and the review reloaded. Review events
// (/v1/events) move items along live: decided elsewhere, published, a new video entering review.

import { api, seg, query, ApiError } from "./api.js";
import { h, fill, badge, statusText, timeEl, meter, toast, debounce, roleButton, errorBox,
  clock, shortId, stamp } from "./ui.js";

const FILTERS = [["pending", "Pending"], ["approved", "Approved"], ["rejected", "Rejected"], ["all", "All"]];

export function mount(root, param, ctx) {
  const st = {
    filter: sessionStorage.getItem("ain.console.reviewFilter") || "pending",
    items: [], // GET /v1/reviews rows
    selected: param,
    detail: null, // GET /v1/reviews/<id>
    video: null, // GET /v1/videos/<id>
    videoError: null,
    activity: [],
    busy: false,
    gone: false,
  };
  const list = h("ul", { "aria-label": "Videos" });
  const listMsg = h("div");
  const filterBar = h("div", { class: "segmented", role: "group", "aria-label": "Show reviews" });
  const queue = h("section", { class: "card queue", "aria-labelledby": "queue-title" },
    h("div", { class: "page-head pad" }, h("h1", { id: "queue-title" }, "Review queue"),
      filterBar),
    listMsg, list);
  const detailPane = h("section", { class: "detail-pane", "aria-live": "off" });
  const layout = h("div", { class: "split" }, queue, detailPane);
  root.append(layout);

  function renderFilters() {
    fill(filterBar, ...FILTERS.map(([k, label]) => h("button", {
      type: "button", class: "small", "aria-pressed": String(st.filter === k),
      onclick: () => {
        st.filter = k;
        sessionStorage.setItem("ain.console.reviewFilter", k);
        renderFilters();
        loadList();
      },
    }, label)));
  }

  function itemFor(r) {
    const rs = r.review ? r.review.status : null;
    const decided = rs && rs !== "pending";
    const status = r.status || rs;
    const conf = Number(r.confidence) || 0;
    return h("li", null, h("a", {
      class: `queue-item${decided ? " decided" : ""}`, href: `#/reviews/${seg(r.video_id)}`,
      "aria-current": String(r.video_id === st.selected), dataset: { videoId: r.video_id },
    },
    h("span", { class: "vid" }, r.video_id),
    badge(status),
    h("span", { class: "meta" },
      h("span", null, r.persona_id || "—"),
      meter(conf, conf >= 0.8 ? "st-ok" : conf < 0.5 ? "st-bad" : "st-run"),
      h("span", { title: "judge's confidence" }, conf.toFixed(2)),
      timeEl(r.created_at))));
  }

  function renderList() {
    fill(list, ...st.items.map(itemFor));
    listMsg.replaceChildren();
    if (st.items.length === 0) {
      listMsg.append(h("p", { class: "empty" }, st.filter === "pending"
        ? "Nothing waits for review. Videos the judge is unsure about appear here."
        : `No ${st.filter === "all" ? "" : `${st.filter} `}reviews.`));
    }
  }

  async function loadList() {
    try {
      const r = await api(`/v1/reviews${query({ status: st.filter, limit: 200 })}`);
      if (st.gone) return;
      st.items = r.reviews || [];
      renderList();
      if (!st.selected && st.items.length && window.matchMedia("(min-width: 761px)").matches) {
        // Desktop: open the oldest waiting video at once (the phone shows the list first).
        history.replaceState(null, "", `#/reviews/${seg(st.items[0].video_id)}`);
        select(st.items[0].video_id);
      }
    } catch (err) {
      if (st.gone) return;
      fill(listMsg, errorBox(err));
    }
  }

  // ---- the selected video ---------------------------------------------------------------------

  const els = {};

  function renderDetailShell() {
    layout.classList.toggle("has-detail", Boolean(st.selected));
    for (const a of list.querySelectorAll("a.queue-item")) {
      a.setAttribute("aria-current", String(a.dataset.videoId === st.selected));
    }
    if (!st.selected) {
      fill(detailPane, h("div", { class: "card pad empty" },
        "Select a video to watch it and read its safety report."));
      return;
    }
    els.head = h("div", { class: "detail-head" });
    els.player = h("div", { class: "player" }, h("p", { class: "nomedia" }, "Loading…"));
    els.facts = h("div");
    els.report = h("section", { class: "card pad", "aria-labelledby": "report-title" });
    els.decide = h("section", { class: "card pad decide", "aria-labelledby": "decide-title" });
    els.activity = h("section", { class: "card pad", "aria-labelledby": "activity-title" });
    fill(detailPane, h("div", { class: "detail" },
      h("div", { class: "card pad" }, els.head),
      h("div", { class: "media-row" }, els.player, h("div", { class: "stack" }, els.decide, els.facts)),
      els.report, els.activity));
  }

  function renderHead() {
    const d = st.detail || {};
    const v = st.video || {};
    const rs = d.review ? d.review.status : null;
    fill(els.head,
      h("a", { class: "back button", href: "#/reviews" }, "← Queue"),
      h("h2", { id: "detail-title" }, st.selected),
      h("span", { class: "sub" }, "video"), statusBadge(d.status || v.status, "video-status"),
      h("span", { class: "sub" }, "review"), statusBadge(rs, "review-status"));
  }

  function statusBadge(s, role) {
    const b = badge(s || "unknown");
    b.dataset.role = role;
    return b;
  }

  function setBadge(role, s) {
    const b = detailPane.querySelector(`[data-role="${role}"]`);
    if (!b) return;
    const nb = statusBadge(s, role);
    b.replaceWith(nb);
  }

  function renderFacts() {
    const d = st.detail || {};
    const rv = d.review || {};
    const conf = Number(d.confidence) || 0;
    const th = (d.report && d.report.thresholds) || {};
    fill(els.facts, h("section", { class: "card pad" }, h("h3", null, "Video"),
      h("dl", { class: "facts" },
        h("dt", null, "Persona"), h("dd", null, d.persona_id || "—"),
        h("dt", null, "DAG"), h("dd", null, d.dag_id
          ? h("a", { href: `#/dags/${seg(d.dag_id)}`, class: "mono", title: d.dag_id }, shortId(d.dag_id)) : "—"),
        h("dt", null, "Judge"), h("dd", null, badge(d.decision || "unknown"), " ",
          h("span", { class: "mono" }, conf.toFixed(2)),
          th.pass !== undefined ? h("span", { class: "sub" }, `  (pass ≥ ${th.pass}, reject < ${th.reject})`) : null),
        h("dt", null, "Created"), h("dd", null, timeEl(d.created_at)),
        h("dt", null, "Review version"), h("dd", { class: "mono", dataset: { role: "review-version" } },
          rv.state_version ?? "—"),
        rv.reviewer ? [h("dt", null, "Reviewer"), h("dd", null, rv.reviewer)] : null,
        rv.reason ? [h("dt", null, "Reason"), h("dd", null, rv.reason)] : null,
        st.video && st.video.receipts && st.video.receipts.length
          ? [h("dt", null, "Published"), h("dd", null, st.video.receipts.map((r) =>
            h("div", null, r.channel || "channel", " ", timeEl(r.created_at || r.published_at))))] : null)));
  }

  function findingRow(f) {
    const match = f.match ?? f.matched ?? f.text ?? "";
    return [
      h("span", { class: "mono" }, f.category || "—"),
      h("span", { class: "mono" }, f.rule || "—"),
      f.severity ?? "—",
      f.action ? badge(f.action) : "—",
      match ? h("mark", { class: "match" }, match) : h("span", { class: "sub" }, f.detail || "—"),
    ];
  }

  function renderReport() {
    const d = st.detail || {};
    const rep = d.report || {};
    const findings = Array.isArray(rep.findings) ? rep.findings : [];
    const checks = Array.isArray(d.checks) ? d.checks : [];
    const failed = Array.isArray(rep.failed) ? rep.failed : [];
    const cols = [{ label: "Category" }, { label: "Rule" }, { label: "Severity", cls: "num" },
      { label: "Action" }, { label: "Matched text" }];
    fill(els.report,
      h("h3", { id: "report-title" }, "Safety report"),
      failed.length ? h("p", { class: "warnbox" }, "Failed checks: ", failed.join(", ")) : null,
      findings.length
        ? h("div", { class: "findings" }, h("table", { class: "cards" },
          h("thead", null, h("tr", null, cols.map((c) => h("th", { class: c.cls, scope: "col" }, c.label)))),
          h("tbody", null, findings.map((f) => h("tr", null, findingRow(f).map((c, i) =>
            h("td", { class: cols[i].cls, "data-label": cols[i].label }, c)))))))
        : h("p", { class: "sub" }, "No safety rule matched the script, captions or speech."),
      h("h3", null, "Checks"),
      checks.length ? h("ul", { class: "checks" }, checks.map((c) => h("li", { class: c.passed ? "pass" : "fail" },
        h("span", { class: "mark", "aria-label": c.passed ? "passed" : "failed" }, c.passed ? "✓" : "✗"),
        h("div", null, h("b", null, c.name), c.severity ? h("span", { class: "sub" }, ` · ${c.severity}`) : null,
          h("div", { class: "detail-text" }, c.detail || "")),
        h("span", { class: "mono", title: "score" }, Number(c.score ?? 0).toFixed(2)))))
        : h("p", { class: "sub" }, "The judge recorded no checks."));
  }

  function renderDecide(message) {
    if (message !== undefined) st.decideMsg = message;
    const typed = els.decide.querySelector("textarea");
    const keep = typed ? typed.value : "";
    const d = st.detail || {};
    const rv = d.review || {};
    const pending = rv.status === "pending";
    const allowed = ctx.can("reviewer");
    const reason = h("textarea", { id: "reason", rows: "2", placeholder: "Why (required to reject)",
      disabled: !pending || !allowed });
    reason.value = keep;
    const msg = h("div", { class: "decide-msg", role: "alert" }, st.decideMsg || null);
    const approve = roleButton(allowed && pending, "reviewer", { class: "approve", id: "approve",
      onclick: () => decide("approve", reason, msg) }, "Approve");
    const reject = roleButton(allowed && pending, "reviewer", { class: "reject", id: "reject",
      onclick: () => decide("reject", reason, msg) }, "Reject");
    if (allowed && !pending) {
      approve.title = reject.title = `already ${statusText(rv.status)}`;
    }
    fill(els.decide, h("h3", { id: "decide-title" }, "Decision"),
      pending
        ? h("p", { class: "sub" }, allowed ? "Approving publishes the video; rejecting ends its DAG."
          : "You can watch and read; deciding needs the reviewer role.")
        : h("p", null, badge(rv.status), " ", rv.reviewer ? `by ${rv.reviewer}` : "",
          rv.decided_at ? [" ", timeEl(rv.decided_at)] : null),
      pending ? [h("label", { for: "reason" }, "Reason"), reason] : null,
      h("div", { class: "buttons" }, approve, reject), msg);
  }

  async function decide(action, reasonEl, msg) {
    const d = st.detail;
    const text = reasonEl.value.trim();
    if (action === "reject" && !text) {
      fill(msg, h("p", { class: "error" }, "A rejection needs a reason."));
      reasonEl.focus();
      return;
    }
    const version = d.review.state_version;
    for (const b of els.decide.querySelectorAll("button")) b.disabled = true;
    fill(msg, h("p", { class: "sub" }, action === "approve" ? "Approving…" : "Rejecting…"));
    try {
      await api(`/v1/reviews/${seg(d.video_id)}/${action}`, {
        method: "POST", headers: { "If-Match": String(version) }, body: text ? { reason: text } : {},
      });
      toast(`${d.video_id} ${action === "approve" ? "approved: it will be published" : "rejected"}`);
      await loadList();
      // The next video waiting, so a reviewer can go on without hunting for it.
      const next = st.items.find((r) => r.video_id !== d.video_id && (!r.review || r.review.status === "pending"));
      await loadDetail(false, h("p", { class: "notice" }, action === "approve"
        ? "Approved. Publishing follows; this page updates as it happens."
        : "Rejected. Nothing will be published.",
      next ? [" ", h("a", { href: `#/reviews/${seg(next.video_id)}`, id: "next-review" }, `Next: ${next.video_id} →`)] : null));
    } catch (err) {
      let text2 = err instanceof ApiError ? err.describe() : err.message;
      if (err instanceof ApiError && err.status === 409) {
        const m = /expected version (\d+), found version (\d+)/.exec(err.message);
        text2 = m
          ? `Someone decided first: you were looking at version ${m[1]} of this review, it is now at version ${m[2]}. Your decision was not recorded; the review is reloaded below.`
          : `This review changed meanwhile (${err.message}). Your decision was not recorded; the review is reloaded below.`;
      }
      const box = h("p", { class: "error", dataset: { code: err.code || "" } }, text2);
      if (err instanceof ApiError && (err.status === 409 || err.status === 428)) {
        await loadDetail(false, box);
      } else {
        renderDecide(box);
      }
    }
  }

  function renderActivity() {
    fill(els.activity, h("h3", { id: "activity-title" }, "Activity"),
      st.activity.length
        ? h("ol", { class: "timeline", dataset: { role: "activity" } }, st.activity.map((a) => h("li", { dataset: { source: a.live ? "live" : "audit", to: statusText(a.to) } },
          h("time", { title: stamp(a.ts) }, clock(new Date(a.ts))),
          h("span", null, a.kind ? `${a.kind} ` : "", statusText(a.from || "—"), " → "),
          badge(a.to), h("span", { class: "sub" }, a.actor || ""))))
        : h("p", { class: "sub" }, "No video or review changes yet."));
  }

  function kindOf(s) {
    const m = /^([a-z_]+):/.exec(String(s || ""));
    return m ? m[1] : null;
  }

  async function loadActivity(dagId) {
    try {
      const r = await api(`/v1/tasks/${seg(dagId)}/audit`);
      if (st.gone) return;
      const rows = (r.audit || [])
        .filter((a) => kindOf(a.to) === "video" || kindOf(a.to) === "review")
        .map((a) => ({ ts: toMs(a.ts), kind: kindOf(a.to), from: a.from, to: a.to, actor: a.actor, id: a.id }));
      // live events that arrived while the audit was read stay (once: by audit id)
      const seen = new Set(rows.map((a) => String(a.id)));
      st.activity = rows.concat(st.activity.filter((a) => a.live && !seen.has(String(a.id))));
      renderActivity();
    } catch {
      // The activity is a nicety: the review itself is shown without it.
    }
  }

  function toMs(ts) {
    const n = Number(ts);
    return n < 1e12 ? n * 1000 : n;
  }

  function renderPlayer() {
    const v = st.video;
    if (!v || !v.media_url) {
      const why = st.videoError
        ? (st.videoError.code === "ENOROUTE" ? "This server has no video route (GET /v1/videos)."
          : st.videoError.describe ? st.videoError.describe() : st.videoError.message)
        : "This video has no media file.";
      fill(els.player, h("p", { class: "nomedia" }, why));
      return;
    }
    let video = els.player.querySelector("video");
    if (!video) {
      video = h("video", { controls: true, preload: "metadata", playsinline: true,
        "aria-label": `Video ${v.id || st.selected}` });
      let retried = false;
      video.addEventListener("error", async () => {
        // The ticket may have expired (api.media_ticket_ttl): fetch a fresh one once, and resume.
        if (retried || st.gone) return;
        retried = true;
        const at = video.currentTime;
        try {
          const fresh = await api(`/v1/videos/${seg(st.selected)}`);
          video.src = fresh.media_url;
          video.currentTime = at;
        } catch { /* the player shows its own error */ }
      });
      fill(els.player, video);
    }
    if (v.thumbnail_url) video.poster = v.thumbnail_url;
    if (!video.getAttribute("src")) video.src = v.media_url;
  }

  async function loadDetail(withPlayer, message) {
    const id = st.selected;
    const [rv, vd] = await Promise.allSettled([
      api(`/v1/reviews/${seg(id)}`),
      withPlayer || !st.video ? api(`/v1/videos/${seg(id)}`) : Promise.resolve(st.video),
    ]);
    if (st.gone || id !== st.selected) return;
    if (rv.status === "rejected") {
      fill(els.report, errorBox(rv.reason));
      els.decide.replaceChildren();
      return;
    }
    st.detail = rv.value;
    st.video = vd.status === "fulfilled" ? vd.value : null;
    st.videoError = vd.status === "rejected" ? vd.reason : null;
    renderHead();
    if (withPlayer) renderPlayer();
    renderFacts();
    renderReport();
    renderDecide(message);
    if (withPlayer && st.detail.dag_id) loadActivity(st.detail.dag_id);
  }

  function select(id) {
    const old = detailPane.querySelector("video");
    if (old) {
      old.pause();
      old.removeAttribute("src");
      old.load();
    }
    st.selected = id;
    st.decideMsg = null;
    st.detail = st.video = st.videoError = null;
    st.activity = [];
    renderDetailShell();
    if (id) {
      renderActivity();
      loadDetail(true).catch((err) => {
        if (!st.gone) fill(els.report, errorBox(err));
      });
    }
  }

  // ---- live -------------------------------------------------------------------------------

  const reloadList = debounce(loadList, 400);
  const reloadDetail = debounce(() => st.selected && loadDetail(false), 400);

  const offReview = ctx.events.on("review", (e) => {
    const to = String(e.to || "");
    const item = st.items.find((r) => r.video_id === e.video_id);
    if (item) {
      if (kindOf(to) === "review" || ["approved", "rejected", "pending"].includes(to)) {
        item.review = { ...(item.review || {}), status: to.replace(/^review:/, ""), state_version: e.state_version };
      } else {
        item.status = to.replace(/^video:/, "");
      }
      const a = list.querySelector(`a[data-video-id="${CSS.escape(e.video_id)}"]`);
      if (a) a.parentElement.replaceWith(itemFor(item));
    } else {
      reloadList();
    }
    if (e.video_id === st.selected && st.detail) {
      st.activity.push({ ts: toMs(e.ts) || Date.now(), kind: kindOf(to) || (to === "published" ? "video" : "review"),
        from: e.from, to, actor: e.actor, id: e.audit_id, live: true });
      renderActivity();
      const kind = kindOf(to) || (["approved", "rejected", "pending"].includes(to) ? "review" : "video");
      if (kind === "video") setBadge("video-status", to.replace(/^video:/, ""));
      else setBadge("review-status", to.replace(/^review:/, ""));
      reloadDetail();
    }
  });
  const offOpen = ctx.events.on("open", () => {
    // (Re)connected: whatever happened while the stream was down is in the data, not the stream.
    reloadList();
    reloadDetail();
  });

  renderFilters();
  renderDetailShell();
  loadList();
  if (st.selected) select(st.selected);

  mount.update = (id) => {
    if (id === st.selected) return true;
    select(id);
    if (id) els.head && els.head.querySelector("h2") && detailPane.scrollIntoView({ block: "start" });
    return true;
  };

  return () => {
    st.gone = true;
    offReview();
    offOpen();
    reloadList.cancel();
    reloadDetail.cancel();
    const video = detailPane.querySelector("video");
    if (video) {
      video.pause();
      video.removeAttribute("src");
      video.load();
    }
    mount.update = null;
  };
}

// Called by the router when only the id in the hash changed; true when the page handled it.
export function update(id) {
  return mount.update ? mount.update(id) : false;
}
