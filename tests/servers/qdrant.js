#!/usr/bin/env node
// A strict Qdrant test server: the part of Qdrant's REST API (https://api.qdrant.tech/) that the
// engine's Qdrant backend uses (engine/vec/qdrant.c), written from its documentation. Node
// built-ins only.
//
//   node tests/servers/qdrant.js [--port N] [--key SECRET] [--port-file PATH]
//
//   GET    /collections/{name}                      -> {result: {status, points_count, config}}
//   PUT    /collections/{name}                      {vectors: {size, distance}} -> {result: true}
//   PUT    /collections/{name}/points[?wait=true]   {points: [{id, vector, payload?}]}
//          -> {result: {operation_id, status: "completed"}}
//   POST   /collections/{name}/points/search        {vector, limit, with_payload?, score_threshold?,
//          filter?: {must: [{key, range: {gte?, gt?, lte?, lt?}}]}, offset?}
//          -> {result: [{id, version, score, payload?}]}
//   POST   /collections/{name}/points/count         {exact?, filter?} -> {result: {count}}
//   GET    /stats   {requests, rejected, searches, upserts}; POST /control {fault, count?}
// Every answer is {result, status: "ok", time}; an error {status: {error: "..."}, time} with
// 400 (bad shape), 401 (api-key), 404 (no collection), 409 (collection exists). Strict: JSON
// content type, known fields only, a point id that is an unsigned integer or a UUID, a vector of
// the collection's size of finite numbers. Cosine collections store vectors normalised, as Qdrant
// does, and score by dot product. Faults (control endpoint, or header X-Fault): 500, 503,
// slow=MS (answer after MS), malformed (200 with a body that is not JSON), wrongshape (200 with
// {"status":"ok","result":{"points":"nope"}}).
'use strict';

const http = require('http');
const fs = require('fs');

const args = process.argv.slice(2);
const arg = (n, d) => { const i = args.indexOf(n); return i >= 0 && i + 1 < args.length ? args[i + 1] : d; };
const PORT = Number(arg('--port', '0'));
const KEY = arg('--key', '');
const PORT_FILE = arg('--port-file', '');

const collections = new Map(); // name -> {size, distance, points: Map(id -> {vector, payload})}
const stats = { requests: 0, rejected: 0, searches: 0, upserts: 0 };
let control = { fault: null, count: 0 };
const t0 = process.hrtime.bigint();
const time = () => Number(process.hrtime.bigint() - t0) / 1e9 % 1;

function send(res, status, body) {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(s) });
  res.end(s);
}
const ok = (res, result) => send(res, 200, { result, status: 'ok', time: time() });
function err(res, status, msg) { if (status !== 404) stats.rejected++; // a missing collection is an answer
  send(res, status, { status: { error: msg }, time: time() }); }

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
function only(obj, keys, where) {
  if (!isObj(obj)) return `${where}: expected an object`;
  for (const k of Object.keys(obj)) if (!keys.includes(k)) return `${where}: unknown field \`${k}\``;
  return null;
}
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const goodId = (id) => (Number.isInteger(id) && id >= 0) || (typeof id === 'string' && UUID.test(id));

function normalise(v) {
  const n = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  return n > 0 ? v.map((x) => x / n) : v;
}

function matches(payload, filter) {
  for (const c of filter.must || []) {
    const v = payload ? payload[c.key] : undefined;
    const r = c.range;
    if (typeof v !== 'number') return false;
    if (r.gte !== undefined && !(v >= r.gte)) return false;
    if (r.gt !== undefined && !(v > r.gt)) return false;
    if (r.lte !== undefined && !(v <= r.lte)) return false;
    if (r.lt !== undefined && !(v < r.lt)) return false;
  }
  return true;
}

function checkFilter(f) {
  let e = only(f, ['must'], 'filter');
  if (e) return e;
  if (f.must !== undefined && !Array.isArray(f.must)) return 'filter.must: expected an array';
  for (const [i, c] of (f.must || []).entries()) {
    if ((e = only(c, ['key', 'range'], `filter.must[${i}]`))) return e;
    if (typeof c.key !== 'string') return `filter.must[${i}].key: expected a string`;
    if ((e = only(c.range, ['gte', 'gt', 'lte', 'lt'], `filter.must[${i}].range`))) return e;
    for (const v of Object.values(c.range)) if (typeof v !== 'number') return `filter.must[${i}].range: numbers only`;
  }
  return null;
}

function handle(req, res, raw) {
  const [path, query] = req.url.split('?');
  if (path === '/stats' && req.method === 'GET') return send(res, 200, stats);
  if (path === '/control' && req.method === 'POST') {
    const c = JSON.parse(raw || '{}');
    control = { fault: c.fault || null, count: c.fault ? Number(c.count || 1) : 0 };
    return send(res, 200, { ok: true });
  }
  stats.requests++;
  if (KEY && req.headers['api-key'] !== KEY) return err(res, 401, 'Unauthorized: invalid api-key');
  let fault = req.headers['x-fault'] || null;
  if (!fault && control.fault && control.count > 0) {
    fault = control.fault;
    if (--control.count === 0) control.fault = null;
  }
  const go = () => route(req, res, path, query || '', raw, fault);
  const slow = fault && /^slow=(\d+)$/.exec(fault);
  return slow ? setTimeout(go, Number(slow[1])) : go();
}

function route(req, res, path, query, raw, fault) {
  if (fault === '500' || fault === '503') return err(res, Number(fault), 'Service internal error: injected');
  if (fault === 'malformed') { res.writeHead(200, { 'Content-Type': 'application/json' }); return res.end('{"result": [ nope'); }
  if (fault === 'wrongshape') return send(res, 200, { status: 'ok', result: { points: 'nope' }, time: 0 });
  const m = /^\/collections\/([A-Za-z0-9_-]{1,255})(\/points(\/search|\/count)?)?$/.exec(path);
  if (!m) return err(res, 404, `Not found: ${req.method} ${path}`);
  const name = m[1], sub = m[2] ? (m[3] || '/points') : '';
  let body = null;
  if (req.method !== 'GET') {
    const ct = (req.headers['content-type'] || '').split(';')[0].trim();
    if (ct !== 'application/json') return err(res, 400, `Bad request: Content-Type must be application/json, got '${ct}'`);
    try { body = JSON.parse(raw); } catch (e) { return err(res, 400, `Format error in JSON body: ${e.message}`); }
  }
  const coll = collections.get(name);
  if (sub === '' && req.method === 'GET') {
    if (!coll) return err(res, 404, `Not found: Collection \`${name}\` doesn't exist!`);
    return ok(res, { status: 'green', points_count: coll.points.size, config: { params: { vectors: { size: coll.size, distance: coll.distance } } } });
  }
  if (sub === '' && req.method === 'PUT') {
    let e = only(body, ['vectors'], 'body') || only(body.vectors, ['size', 'distance'], 'vectors');
    if (e) return err(res, 400, `Bad request: ${e}`);
    if (!Number.isInteger(body.vectors.size) || body.vectors.size < 1 || body.vectors.size > 65536) return err(res, 400, 'Bad request: vectors.size: expected an integer 1..65536');
    if (!['Cosine', 'Dot', 'Euclid', 'Manhattan'].includes(body.vectors.distance)) return err(res, 400, 'Bad request: vectors.distance: unknown variant');
    if (coll) return err(res, 409, `Wrong input: Collection \`${name}\` already exists!`);
    collections.set(name, { size: body.vectors.size, distance: body.vectors.distance, points: new Map() });
    return ok(res, true);
  }
  if (!coll) return err(res, 404, `Not found: Collection \`${name}\` doesn't exist!`);
  if (sub === '/points' && req.method === 'PUT') {
    if (query && !/^wait=(true|false)$/.test(query)) return err(res, 400, `Bad request: unknown query '${query}'`);
    let e = only(body, ['points'], 'body');
    if (e || !Array.isArray(body.points) || body.points.length === 0) return err(res, 400, `Bad request: ${e || 'points: expected a non-empty array'}`);
    for (const [i, p] of body.points.entries()) {
      if ((e = only(p, ['id', 'vector', 'payload'], `points[${i}]`))) return err(res, 400, `Bad request: ${e}`);
      if (!goodId(p.id)) return err(res, 400, `Bad request: points[${i}].id: an unsigned integer or a UUID`);
      if (!Array.isArray(p.vector) || p.vector.length !== coll.size || p.vector.some((x) => typeof x !== 'number' || !isFinite(x))) {
        return err(res, 400, `Wrong input: Vector dimension error: expected dim: ${coll.size}, got ${Array.isArray(p.vector) ? p.vector.length : 'none'}`);
      }
      if (p.payload !== undefined && !isObj(p.payload)) return err(res, 400, `Bad request: points[${i}].payload: expected an object`);
    }
    for (const p of body.points) {
      coll.points.set(String(p.id), { id: p.id, vector: coll.distance === 'Cosine' ? normalise(p.vector) : p.vector, payload: p.payload || {} });
    }
    stats.upserts++;
    return ok(res, { operation_id: stats.upserts, status: 'completed' });
  }
  if (sub === '/search' && req.method === 'POST') {
    let e = only(body, ['vector', 'limit', 'with_payload', 'score_threshold', 'filter', 'offset'], 'body');
    if (e) return err(res, 400, `Bad request: ${e}`);
    if (!Array.isArray(body.vector) || body.vector.length !== coll.size) return err(res, 400, `Wrong input: Vector dimension error: expected dim: ${coll.size}, got ${Array.isArray(body.vector) ? body.vector.length : 'none'}`);
    if (!Number.isInteger(body.limit) || body.limit < 1) return err(res, 400, 'Bad request: limit: expected a positive integer');
    if (body.filter !== undefined && (e = checkFilter(body.filter))) return err(res, 400, `Bad request: ${e}`);
    const q = coll.distance === 'Cosine' ? normalise(body.vector) : body.vector;
    let hits = [...coll.points.values()].filter((p) => !body.filter || matches(p.payload, body.filter))
      .map((p) => ({ p, score: p.vector.reduce((a, x, i) => a + x * q[i], 0) }));
    if (typeof body.score_threshold === 'number') hits = hits.filter((h) => h.score >= body.score_threshold);
    hits.sort((a, b) => b.score - a.score);
    stats.searches++;
    return ok(res, hits.slice(body.offset || 0, (body.offset || 0) + body.limit).map((h) => ({
      id: h.p.id, version: 0, score: h.score, payload: body.with_payload ? h.p.payload : undefined })));
  }
  if (sub === '/count' && req.method === 'POST') {
    const e = only(body, ['exact', 'filter'], 'body');
    if (e) return err(res, 400, `Bad request: ${e}`);
    return ok(res, { count: coll.points.size });
  }
  return err(res, 405, `Method ${req.method} not allowed on ${path}`);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
});
server.listen(PORT, '127.0.0.1', () => {
  const port = server.address().port;
  if (PORT_FILE) { fs.writeFileSync(PORT_FILE + '.tmp', String(port)); fs.renameSync(PORT_FILE + '.tmp', PORT_FILE); }
  process.stdout.write(`listening ${port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
