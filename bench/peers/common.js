// Shared helpers for the peer queue benchmarks (graphile-worker, pg-boss, bullmq).
'use strict';
const fs = require('fs');
const { performance } = require('perf_hooks');

const PGHOST = process.env.PGHOST_BENCH || '127.0.0.1';
const PGPORT = +(process.env.PGPORT_BENCH || 5433);
// bench/peers/run.sh passes the server's URL (tools/pg-test-server.sh: user and database "ain").
const connectionString = process.env.PEER_PG_URL || `postgres://postgres@${PGHOST}:${PGPORT}/postgres`;
const REDIS = { host: '127.0.0.1', port: +(process.env.REDIS_PORT_BENCH || 6380) };
const PGDATA = process.env.PGDATA_BENCH || '/tmp/peerbench/pg/data';
const CLK_TCK = 100; // Linux USER_HZ

const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function readStat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const comm = s.slice(s.indexOf('(') + 1, close);
    const f = s.slice(close + 2).split(' '); // f[0] = field 3 (state)
    return { comm, ppid: +f[1], utime: +f[11], stime: +f[12], cutime: +f[13], cstime: +f[14] };
  } catch { return null; }
}

// CPU seconds consumed so far by our Postgres cluster: postmaster + live children
// + already-reaped children (postmaster's cutime/cstime).
function pgCpuSeconds() {
  let pm;
  try { pm = +fs.readFileSync(`${PGDATA}/postmaster.pid`, 'utf8').split('\n')[0]; } catch { return NaN; }
  let ticks = 0;
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const st = readStat(d);
    if (!st) continue;
    if (+d === pm) ticks += st.utime + st.stime + st.cutime + st.cstime;
    else if (st.ppid === pm) ticks += st.utime + st.stime;
  }
  return ticks / CLK_TCK;
}

function redisCpuSeconds() {
  let pid;
  try { pid = +fs.readFileSync('/tmp/peerbench/redis.pid', 'utf8').trim(); } catch { return NaN; }
  const st = readStat(pid);
  return st ? (st.utime + st.stime) / CLK_TCK : NaN;
}

function nodeCpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

// Snapshot of CPU of node (this process), postgres and redis.
function cpuSnap() {
  return { t: now(), node: nodeCpuSeconds(), pg: pgCpuSeconds(), redis: redisCpuSeconds() };
}
function cpuDiff(a, b, jobs) {
  const wall = (b.t - a.t) / 1000;
  const r = (x) => Math.round(x * 1000) / 1000;
  const out = { wall_s: r(wall), node_cpu_s: r(b.node - a.node), pg_cpu_s: r(b.pg - a.pg) };
  if (!Number.isNaN(b.redis)) out.redis_cpu_s = r(b.redis - a.redis);
  out.node_cores = r(out.node_cpu_s / wall);
  out.pg_cores = r(out.pg_cpu_s / wall);
  if (out.redis_cpu_s !== undefined) out.redis_cores = r(out.redis_cpu_s / wall);
  if (jobs) {
    out.node_cpu_us_per_job = Math.round((out.node_cpu_s * 1e6) / jobs);
    out.pg_cpu_us_per_job = Math.round((out.pg_cpu_s * 1e6) / jobs);
    if (out.redis_cpu_s !== undefined) out.redis_cpu_us_per_job = Math.round((out.redis_cpu_s * 1e6) / jobs);
  }
  return out;
}

function pct(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
function latStats(arr) {
  const s = [...arr].sort((a, b) => a - b);
  const r = (x) => Math.round(x * 100) / 100;
  return {
    n: s.length, p50_ms: r(pct(s, 50)), p95_ms: r(pct(s, 95)), p99_ms: r(pct(s, 99)),
    max_ms: r(s[s.length - 1]), mean_ms: r(s.reduce((a, b) => a + b, 0) / s.length),
  };
}

function parseArgs(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const k = a.slice(2);
      const v = argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[++i] : 'true';
      out[k] = /^-?\d+(\.\d+)?$/.test(v) ? +v : v;
    } else out._.push(a);
  }
  return out;
}

function emit(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }

function deferred() {
  let resolve; const p = new Promise((r) => { resolve = r; });
  return { p, resolve };
}

// Latency driver: enqueue `count` jobs one at a time, each awaited, then sleep `gapMs`.
// enqueue(payload) must resolve when the library's enqueue call resolves.
async function latencyDriver({ count = 500, gapMs = 5, enqueue, starts, timeoutMs = 30000 }) {
  const t0s = new Array(count);
  const enqMs = new Array(count);
  for (let i = 0; i < count; i++) {
    const t0 = now();
    t0s[i] = t0;
    await enqueue({ i, t0 });
    enqMs[i] = now() - t0;
    await sleep(gapMs);
  }
  const deadline = now() + timeoutMs;
  while (starts.size < count && now() < deadline) await sleep(20);
  const lat = [];
  for (let i = 0; i < count; i++) if (starts.has(i)) lat.push(starts.get(i) - t0s[i]);
  return { latency: latStats(lat), enqueue_call: latStats(enqMs), missing: count - lat.length };
}

module.exports = {
  connectionString, REDIS, now, sleep, cpuSnap, cpuDiff, latStats, parseArgs, emit, deferred,
  latencyDriver, pgCpuSeconds,
};
