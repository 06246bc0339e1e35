// The console in headless Chromium (playwright-core driving Debian's chromium), run by
// console_browser.sh against a real engine with two videos in review (vid-approve, vid-race) and
// one published (vid-passed). Environment: BASE_URL, CHROMIUM, ART (screenshot dir), PW (the
// playwright-core folder), VIEWER, REVIEWER (rita), REVIEWER2 (rob), OPERATOR tokens, DAG_APPROVE.
//
// Every page of every context is watched: a console error, an uncaught page error, a failed
// request or an HTTP error answer fails the run, except the ones a step announces it provokes
// (the bad token's 401, the lost race's 409) and aborted long-lived loads (the event stream and
// video ranges are cut when a page goes away, by design). Exit 0 = every check passed.

import path from "node:path";

const { chromium } = await import(path.join(process.env.PW, "index.mjs"));
const BASE = process.env.BASE_URL;
const ART = process.env.ART;
const T0 = Date.now();

const problems = [];
const consoleErrors = []; // {label, text, url}: judged at each check, once responses are known
const expected = new Map(); // "POST /v1/reviews/vid-race/reject" -> 409, while a step provokes it
const provoked = new Set(); // URLs whose error answers were expected

function log(msg) {
  console.log(`# ${((Date.now() - T0) / 1000).toFixed(1)} s: ${msg}`);
}

function fail(msg) {
  throw new Error(msg);
}

function watch(page, label) {
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push({ label, text: m.text(), url: m.location().url || "" });
  });
  page.on("pageerror", (e) => problems.push(`${label}: uncaught error in the page: ${e.message}`));
  page.on("requestfailed", (r) => {
    const u = new URL(r.url());
    const why = r.failure() ? r.failure().errorText : "?";
    // The event stream and media ranges are aborted when the page leaves or seeks: by design.
    if (why === "net::ERR_ABORTED" && (u.pathname === "/v1/events" || /\/media$/.test(u.pathname))) return;
    problems.push(`${label}: request failed: ${r.method()} ${u.pathname} (${why})`);
  });
  page.on("response", (r) => {
    if (r.status() < 400) return;
    const u = new URL(r.url());
    const key = `${r.request().method()} ${u.pathname}`;
    if (expected.get(key) === r.status()) {
      provoked.add(r.url());
      return;
    }
    problems.push(`${label}: ${r.status()} answer to ${key}`);
  });
}

// Throws if anything unexpected happened since the last check.
function check(where) {
  for (const e of consoleErrors.splice(0)) {
    if (provoked.has(e.url) && /status of (401|409)/.test(e.text)) continue; // the provoked answer, logged by Chromium
    problems.push(`${e.label}: console error: ${e.text}${e.url ? ` (${e.url})` : ""}`);
  }
  if (problems.length) fail(`${where}:\n  ${problems.join("\n  ")}`);
}

async function shot(page, name) {
  await page.evaluate(() => { window.scrollTo(0, 0); return document.fonts.ready; });
  await page.screenshot({ path: path.join(ART, `${name}.png`), fullPage: true });
}

// No sideways scrolling: the page fits the viewport's width.
async function fits(page, where) {
  const [sw, vw] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  if (sw > vw + 1) fail(`${where}: the page is ${sw} px wide in a ${vw} px viewport`);
}

async function signIn(page, token) {
  await page.waitForSelector("#signin-form");
  await page.fill("#token", token);
  await page.click("#signin-button");
  await page.waitForSelector("#topbar:not([hidden])");
}

async function text(page, sel) {
  return (await page.textContent(sel)) || "";
}

async function go(page, name) {
  await page.click(`nav a[data-page="${name}"]`);
  await page.waitForSelector(`nav a[data-page="${name}"][aria-current="page"]`);
}

async function videoPlays(page, where) {
  await page.waitForFunction(() => {
    const v = document.querySelector(".player video");
    return v && v.readyState >= 1 && v.duration > 0;
  }, null, { timeout: 20000 }).catch(async () => {
    const why = await page.evaluate(() => {
      const v = document.querySelector(".player video");
      const p = document.querySelector(".player");
      return v ? `readyState ${v.readyState}, error ${v.error && v.error.code}, src ${v.currentSrc}` : p && p.textContent;
    });
    fail(`${where}: the video did not load (${why})`);
  });
  const d = await page.evaluate(() => document.querySelector(".player video").duration);
  if (!(d > 2.5 && d < 3.5)) fail(`${where}: video duration ${d}, want the test video's 3 s`);
  return d;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM,
  headless: true,
  args: ["--disable-dev-shm-usage", "--mute-audio", "--disable-gpu", "--no-first-run"],
});
try {
  // ---- desktop, 1440 px: a reviewer signs in, watches, approves, sees it published -------------
  const desk = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await desk.newPage();
  page.setDefaultTimeout(15000);
  watch(page, "desktop");
  await page.goto(`${BASE}/console`);
  await page.waitForSelector("#signin-form");
  if ((await page.evaluate(() => document.activeElement.id)) !== "token") fail("sign-in: the token field has no focus");
  await shot(page, "desktop-signin");

  expected.set("GET /v1/whoami", 401);
  await page.fill("#token", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJtYWxsb3J5In0.bm90LWEtc2lnbmF0dXJl");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Enter"); // the sign-in button, by keyboard
  await page.waitForSelector("#signin-error:not([hidden])");
  const refused = await text(page, "#signin-error");
  if (!/refused/.test(refused)) fail(`a bad token: the error says '${refused}'`);
  if (await page.evaluate(() => sessionStorage.getItem("ain.console.token"))) fail("a bad token was kept");
  await shot(page, "desktop-signin-bad-token");
  expected.delete("GET /v1/whoami");
  check("sign-in with a bad token");
  log("a bad token is refused with a message");

  await signIn(page, process.env.REVIEWER);
  const who = await text(page, "#who");
  if (!/rita/.test(who) || !/reviewer/.test(who)) fail(`top bar shows '${who}'`);
  if ((await page.evaluate(() => sessionStorage.getItem("ain.console.token"))) !== process.env.REVIEWER) fail("the token is not in sessionStorage");
  await page.waitForSelector('#live[data-state="live"]', { timeout: 10000 }).catch(async () =>
    fail(`live updates did not start: ${await page.getAttribute("#live", "title")}`));
  await page.waitForSelector('a.queue-item[data-video-id="vid-approve"]');
  await page.waitForSelector('a.queue-item[data-video-id="vid-race"]');
  if (await page.$('a.queue-item[data-video-id="vid-passed"]')) fail("a passed video is in the pending queue");
  await page.waitForFunction(() => document.getElementById("nav-review-count").textContent === "2");
  await page.click('a.queue-item[data-video-id="vid-approve"]');
  await page.waitForFunction(() => (document.getElementById("detail-title") || {}).textContent === "vid-approve");
  const dur = await videoPlays(page, "desktop review");
  await page.waitForSelector(".findings td >> text=555-0100");
  const report = await text(page, ".findings");
  for (const w of ["pii", "pii.phone", "555-0100"]) if (!report.includes(w)) fail(`the safety report lacks '${w}': ${report}`);
  if (await page.isDisabled("#approve")) fail("a reviewer's Approve button is disabled");
  await shot(page, "desktop-review");
  check("review queue");
  log(`review queue: video plays (${dur.toFixed(2)} s), findings shown`);

  // Keyboard: Tab from the top of the page reaches the Approve button.
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  let reached = false;
  for (let i = 0; i < 80 && !reached; i++) {
    await page.keyboard.press("Tab");
    reached = await page.evaluate(() => document.activeElement && document.activeElement.id === "approve");
  }
  if (!reached) fail("Tab never reaches the Approve button");

  await page.evaluate(() => { window.__sameDocument = "yes"; });
  await page.fill("#reason", "the number is a fictional 555 one");
  await page.click("#approve");
  await page.waitForSelector('[data-role="video-status"][data-status="published"]', { timeout: 30000 })
    .catch(async () => fail(`not shown as published: video ${await page.getAttribute('[data-role="video-status"]', "data-status")}, activity: ${await text(page, "#activity-title + *")}`));
  await page.waitForSelector('.timeline li[data-source="live"][data-to="published"]');
  if ((await page.evaluate(() => window.__sameDocument)) !== "yes") fail("the page reloaded");
  await page.waitForSelector('[data-role="review-status"][data-status="approved"]');
  await page.waitForSelector('#next-review[href="#/reviews/vid-race"]'); // the way on to the next video
  await page.waitForFunction(() => document.getElementById("nav-review-count").textContent === "1");
  await shot(page, "desktop-review-published");
  check("approve");
  log("approved: published shown from the live events, no reload");

  // The DAG of the approved video, from the link in its facts.
  await page.click(`a[href="#/dags/${process.env.DAG_APPROVE}"]`);
  await page.waitForSelector("svg.dag g.node");
  const nodes = await page.$$eval("svg.dag g.node", (gs) => gs.map((g) => g.dataset.step));
  if (nodes.sort().join() !== "judge,publish,render,review_gate") fail(`graph nodes: ${nodes}`);
  await page.waitForFunction(() => [...document.querySelectorAll("svg.dag g.node")].every((g) => g.dataset.status === "succeeded"));
  const edges = await page.$$eval("svg.dag path.edge", (p) => p.length);
  if (edges !== 6) fail(`graph edges: ${edges}, want 6`);
  // depth layout: render left of judge left of review_gate left of publish
  const xs = await page.$$eval("svg.dag g.node", (gs) => Object.fromEntries(gs.map((g) => [g.dataset.step, g.transform.baseVal[0].matrix.e])));
  if (!(xs.render < xs.judge && xs.judge < xs.review_gate && xs.review_gate < xs.publish)) fail(`graph columns: ${JSON.stringify(xs)}`);
  await page.click('svg.dag g.node[data-step="publish"]');
  await page.waitForSelector("h3 >> text=Step publish");
  await shot(page, "desktop-dag");
  check("DAG");

  await go(page, "dags");
  await page.waitForSelector("tr[data-dag-id]");
  const dagRows = await page.$$eval("tr[data-dag-id]", (r) => r.length);
  if (dagRows !== 3) fail(`DAG list: ${dagRows} rows, want 3`);
  await page.selectOption("#dag-status", "succeeded");
  await page.waitForFunction(() => document.querySelectorAll("tr[data-dag-id]").length === 2);
  await page.selectOption("#dag-status", "");
  await page.waitForFunction(() => document.querySelectorAll("tr[data-dag-id]").length === 3);
  await shot(page, "desktop-dags");
  check("DAG list");

  await go(page, "nodes");
  await page.waitForSelector("tr[data-node-id] .badge");
  const state = await page.getAttribute("tr[data-node-id] .badge", "data-status");
  if (state !== "alive") fail(`node state ${state}`);
  await shot(page, "desktop-nodes");

  await go(page, "publishers");
  await page.waitForSelector('[data-role="publishers-state"]');
  if (!(await page.isDisabled("#publishers-toggle"))) fail("a reviewer may press Pause");
  await shot(page, "desktop-publishers");

  await go(page, "policies");
  await page.waitForSelector('section.module[data-module="persona"]');
  if (!(await page.isDisabled('section.module[data-module="persona"] tbody button'))) fail("a reviewer may press Pin");
  await shot(page, "desktop-policies");
  check("nodes, publishers, policies as a reviewer");
  log("DAG graph, DAG list, nodes, publishers, policies");

  // ---- an operator: pause and resume publishing, pin and unpin a policy ------------------------
  await page.click("#signout");
  await page.waitForSelector("#signin-form");
  if (await page.evaluate(() => sessionStorage.getItem("ain.console.token"))) fail("sign-out kept the token");
  await signIn(page, process.env.OPERATOR);
  await go(page, "publishers");
  await page.waitForSelector('[data-role="publishers-state"][data-paused="false"]');
  await page.click("#publishers-toggle");
  await page.waitForSelector('[data-role="publishers-state"][data-paused="true"]');
  await page.waitForSelector(".timeline li", { timeout: 10000 }); // the publisher event, live
  await shot(page, "desktop-publishers-paused");
  await page.click("#publishers-toggle");
  await page.waitForSelector('[data-role="publishers-state"][data-paused="false"]');
  await go(page, "policies");
  const pin = 'section.module[data-module="persona"] tbody button';
  await page.waitForSelector(pin);
  await page.click(pin);
  await page.waitForSelector('section.module[data-module="persona"] header .badge');
  await shot(page, "desktop-policies-pinned");
  await page.click('section.module[data-module="persona"] header button');
  await page.waitForFunction(() => !document.querySelector('section.module[data-module="persona"] header .badge'));
  check("operator");
  log("operator: publishing paused and resumed, persona pinned and unpinned");
  await desk.close();

  // ---- phone, 390 px: every page, then a reviewer who loses a race -----------------------------
  // the phone in dark mode: both colour schemes get screenshots
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true,
    colorScheme: "dark" });
  const p = await phone.newPage();
  p.setDefaultTimeout(15000);
  watch(p, "phone");
  await p.goto(`${BASE}/console`);
  await p.waitForSelector("#signin-form");
  await fits(p, "phone sign-in");
  await shot(p, "phone-signin");
  await signIn(p, process.env.REVIEWER2);
  await p.waitForSelector('a.queue-item[data-video-id="vid-race"]');
  await fits(p, "phone review queue");
  await shot(p, "phone-reviews");
  await p.tap('a.queue-item[data-video-id="vid-race"]');
  await p.waitForFunction(() => (document.getElementById("detail-title") || {}).textContent === "vid-race");
  await videoPlays(p, "phone review");
  await p.waitForSelector(".findings td");
  await fits(p, "phone review");
  await shot(p, "phone-review");
  await p.goto(`${BASE}/console#/dags/${process.env.DAG_APPROVE}`);
  await p.waitForSelector("svg.dag g.node");
  // narrow: the graph runs top to bottom
  const ys = await p.$$eval("svg.dag g.node", (gs) => Object.fromEntries(gs.map((g) => [g.dataset.step, g.transform.baseVal[0].matrix.f])));
  if (!(ys.render < ys.judge && ys.judge < ys.publish)) fail(`phone graph rows: ${JSON.stringify(ys)}`);
  await fits(p, "phone DAG");
  await shot(p, "phone-dag");
  for (const name of ["dags", "nodes", "publishers", "policies"]) {
    await go(p, name);
    await p.waitForSelector({ dags: "tr[data-dag-id]", nodes: "tr[data-node-id]", publishers: '[data-role="publishers-state"]',
      policies: "section.module" }[name]);
    await fits(p, `phone ${name}`);
    await shot(p, `phone-${name}`);
  }
  check("phone pages");
  log("phone: every page fits 390 px");

  // A second tab of rob's whose live updates lag (its event stream is held, never answered):
  // rita rejects vid-race meanwhile; rob's approve must be refused with both versions named.
  const lag = await phone.newPage();
  lag.setDefaultTimeout(15000);
  watch(lag, "phone (lagging)");
  await lag.route("**/v1/events**", () => {});
  await lag.goto(`${BASE}/console#/reviews/vid-race`);
  await signIn(lag, process.env.REVIEWER2);
  await lag.waitForFunction(() => (document.getElementById("detail-title") || {}).textContent === "vid-race");
  await lag.waitForSelector("#approve:not([disabled])");
  const seen = (await text(lag, '[data-role="review-version"]')).trim();
  const other = await fetch(`${BASE}/v1/reviews/vid-race/reject`, {
    method: "POST",
    headers: { Authorization: `Bearer ${process.env.REVIEWER}`, "If-Match": seen, "Content-Type": "application/json" },
    body: JSON.stringify({ reason: "rita was faster" }),
  });
  if (other.status !== 200) fail(`rita's reject: ${other.status} ${await other.text()}`);
  expected.set("POST /v1/reviews/vid-race/approve", 409);
  await lag.tap("#approve");
  await lag.waitForSelector('.decide-msg .error[data-code="ECONFLICT"]');
  const lost = await text(lag, ".decide-msg .error");
  const want = `you were looking at version ${seen} of this review, it is now at version ${Number(seen) + 1}`;
  if (!lost.includes(want)) fail(`lost race message: '${lost}' (want '${want}')`);
  await lag.waitForSelector('[data-role="review-status"][data-status="rejected"]');
  if (!(await lag.isDisabled("#approve"))) fail("Approve stays enabled on a decided review");
  await shot(lag, "phone-review-lost-race");
  expected.delete("POST /v1/reviews/vid-race/approve");
  check("lost race");
  log("a lost race names both versions and reloads the review");
  await phone.close();
} finally {
  await browser.close();
}
log("done");
