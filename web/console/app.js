// The console's shell: sign-in (a pasted token, checked with GET /v1/whoami), the top bar (pages,
// the live-updates indicator, who is signed in), the hash router (#/reviews/<id>, #/dags/<id>,
// #/nodes, #/publishers, #/policies) and the one live event stream the pages subscribe to.
// A page module exports mount(root, params, ctx) and returns an unmount function.

import { api, session, signIn, signOut, can, hasSession, ApiError } from "./api.js";
import { events } from "./events.js";
import { h, fill, debounce } from "./ui.js";
import * as reviews from "./reviews.js";
import * as dags from "./dags.js";
import * as nodes from "./nodes.js";
import * as publishers from "./publishers.js";
import * as policies from "./policies.js";

const PAGES = { reviews, dags, nodes, publishers, policies };
const TITLES = { reviews: "Review queue", dags: "DAGs", nodes: "Nodes", publishers: "Publishers", policies: "Policies" };
const main = document.getElementById("main");
const topbar = document.getElementById("topbar");
let unmount = null;
let current = null;

function route() {
  const m = /^#\/([a-z]+)(?:\/(.+))?$/.exec(location.hash);
  const name = m && PAGES[m[1]] ? m[1] : "reviews";
  let param = null;
  if (m && m[2]) {
    try {
      param = decodeURIComponent(m[2]);
    } catch {
      param = null;
    }
  }
  return { name, param };
}

function show() {
  if (!session.who) return;
  const r = route();
  const same = current && current.name === r.name;
  // Within one page a changed id is the page's business (the review queue keeps its list).
  if (same && PAGES[r.name].update && PAGES[r.name].update(r.param)) {
    current = r;
    return;
  }
  if (unmount) unmount();
  unmount = null;
  main.replaceChildren();
  current = r;
  for (const a of document.querySelectorAll(".tabs a")) {
    if (a.dataset.page === r.name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = `${TITLES[r.name]} · AIN console`;
  const ctx = { can, events, navigate: (hash) => { location.hash = hash; } };
  unmount = PAGES[r.name].mount(main, r.param, ctx) || null;
  if (!same) main.focus({ preventScroll: true });
}

function renderWho() {
  const w = session.who;
  fill(document.getElementById("who"), h("b", null, w.subject), ` · ${w.role}`);
  document.getElementById("who").title = `${w.actor} (via ${w.via})`;
}

function showSignIn(message) {
  if (unmount) unmount();
  unmount = null;
  current = null;
  events.stop();
  topbar.hidden = true;
  const frag = document.getElementById("signin-template").content.cloneNode(true);
  fill(main, frag);
  document.title = "Sign in · AIN console";
  const form = document.getElementById("signin-form");
  const input = document.getElementById("token");
  const error = document.getElementById("signin-error");
  const button = document.getElementById("signin-button");
  if (message) {
    error.textContent = message;
    error.hidden = false;
  }
  input.focus();
  document.getElementById("signin-certificate").addEventListener("click", async () => {
    error.hidden = true;
    try {
      const who = await api("/v1/whoami", { token: null });
      signIn(null, who);
      enter();
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 401
        ? "No client certificate was accepted: this server is not behind mTLS, or your browser sent none. Use a token."
        : `Sign-in failed: ${err.describe ? err.describe() : err.message}`;
      error.hidden = false;
    }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const token = input.value.trim().replace(/^Bearer\s+/i, "");
    error.hidden = true;
    if (!token) {
      error.textContent = "Paste a token first.";
      error.hidden = false;
      input.focus();
      return;
    }
    button.disabled = true;
    button.textContent = "Checking…";
    try {
      const who = await api("/v1/whoami", { token });
      signIn(token, who);
      enter();
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 401
        ? "This token was refused: it may be expired, signed with another key, or not meant for this server (aud ain-api). Ask for a new one."
        : `Sign-in failed: ${err.describe ? err.describe() : err.message}`;
      error.hidden = false;
      button.disabled = false;
      button.textContent = "Sign in";
      input.focus();
      input.select();
    }
  });
}

// The number of videos waiting for review, beside "Reviews" in the top bar.
async function refreshCount() {
  try {
    const r = await api("/v1/reviews?status=pending&limit=500");
    const el = document.getElementById("nav-review-count");
    const n = (r.reviews || []).length;
    el.textContent = n >= 500 ? "500+" : String(n);
    el.hidden = n === 0;
    el.title = `${el.textContent} waiting for review`;
  } catch {
    // the count is a hint; the review page shows errors
  }
}
const recount = debounce(refreshCount, 600);

function enter() {
  topbar.hidden = false;
  renderWho();
  events.start();
  refreshCount();
  if (!location.hash || location.hash === "#" || location.hash === "#/") {
    history.replaceState(null, "", "#/reviews");
  }
  current = null;
  show();
}

function liveIndicator({ state, detail }) {
  const el = document.getElementById("live");
  const text = { live: "Live", connecting: "Connecting", reconnecting: "Reconnecting",
    unavailable: "No live updates", idle: "Offline" }[state] || state;
  el.dataset.state = state;
  el.querySelector(".live-text").textContent = text;
  el.title = detail || (state === "live" ? "Live updates from /v1/events" : text);
}

async function boot() {
  events.on("state", liveIndicator);
  events.on("review", () => recount());
  events.on("open", () => recount());
  window.addEventListener("hashchange", show);
  window.addEventListener("ain:unauthorized", () => {
    if (!hasSession()) return;
    signOut();
    showSignIn("The server no longer accepts this token (it may have expired). Sign in again.");
  });
  document.getElementById("signout").addEventListener("click", () => {
    signOut();
    showSignIn();
  });
  if (!hasSession()) {
    showSignIn();
    return;
  }
  try {
    session.who = await api("/v1/whoami");
    enter();
  } catch (err) {
    signOut();
    showSignIn(err.status === 401 ? "Your session's token is no longer accepted. Sign in again."
      : `The server could not be reached: ${err.message}`);
  }
}

boot();
