// The contract checks of docs/openapi.yaml (run by api_openapi.sh; Node 18+, tools/node):
//   node api_openapi.js doc SRC        the document is valid OpenAPI 3.1 (@seriousme/openapi-schema-
//                                      validator), every schema in it compiles in ajv (JSON Schema
//                                      2020-12, strict), its (method, path, x-ain-role) set equals
//                                      the route table of engine/api/routes.c, and its error codes
//                                      and their statuses equal engine/core/err.h, engine/api/
//                                      respond.c and engine/ops/ops.c.
//   node api_openapi.js live SRC DIR   every response recorded in DIR (NAME.meta.json, NAME.hdr,
//                                      NAME.body, NAME.req) is one the document allows: its route,
//                                      status, content type, headers and body (ajv), the query and
//                                      body that produced it; every GET of the document was seen
//                                      answering 2xx.
//   node api_openapi.js selftest SRC DIR
//                                      the checks above can fail: mutated copies of the recorded
//                                      responses (a field dropped, a field added, a wrong type, an
//                                      undocumented status, a code of another status, an unknown
//                                      event) and of the route table and the document must each be
//                                      refused.
// Exit 0 when every check passed; otherwise each problem is printed and the exit code is 1.
'use strict';
const fs = require('fs');
const path = require('path');

const SRC = path.resolve(process.argv[3] || path.join(__dirname, '../..'));
const NM = path.join(SRC, 'tools/node/node_modules');
const YAML = require(path.join(NM, 'yaml'));
const Ajv2020 = require(path.join(NM, 'ajv/dist/2020')).default;
const addFormats = require(path.join(NM, 'ajv-formats')).default;

const DOC_FILE = path.join(SRC, 'docs/openapi.yaml');
const TASK_SCHEMA = path.join(SRC, 'docs/schemas/task.json');
const BASE = 'https://ain.invalid/docs/openapi.yaml';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

// ---- the document ------------------------------------------------------------------------------

function loadDoc() {
  return YAML.parse(fs.readFileSync(DOC_FILE, 'utf8'), { maxAliasCount: -1 });
}

function pointer(doc, ref) {
  if (!ref.startsWith('#/')) throw new Error(`not a local reference: ${ref}`);
  let o = doc;
  for (const raw of ref.slice(2).split('/')) {
    const k = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (o == null || !(k in o)) throw new Error(`unresolved reference ${ref}`);
    o = o[k];
  }
  return o;
}

// An OpenAPI object (response, parameter, header, request body) with its $ref followed.
function deref(doc, o) {
  while (o && typeof o === 'object' && typeof o.$ref === 'string') o = pointer(doc, o.$ref);
  return o;
}

// The operations: [{method, path, op, params, responses}], path-level parameters merged.
function operations(doc) {
  const out = [];
  for (const [p, item] of Object.entries(doc.paths || {})) {
    for (const m of METHODS) {
      if (!item[m]) continue;
      const op = item[m];
      const params = [...(item.parameters || []), ...(op.parameters || [])].map((x) => deref(doc, x));
      out.push({ method: m.toUpperCase(), path: p, op, params });
    }
  }
  return out;
}

// Every schema the checks use, gathered into one 2020-12 schema ($defs) so that refs between them
// resolve: components.schemas as they are, plus one $def per response/request/parameter/header
// schema. "#/components/schemas/X" becomes "#/$defs/X"; "schemas/task.json" resolves against
// BASE to the copy of docs/schemas/task.json registered under that URI.
class Schemas {
  constructor(doc) {
    this.doc = doc;
    this.defs = {};
    this.n = 0;
    for (const [k, v] of Object.entries(doc.components.schemas)) this.defs[k] = rewrite(v);
  }
  add(schema) {
    const key = `s${this.n++}`;
    this.defs[key] = rewrite(schema);
    return key;
  }
  compile() {
    this.ajv = new Ajv2020({ strict: true, strictTypes: false, strictRequired: false, allErrors: true });
    addFormats(this.ajv);
    const task = JSON.parse(fs.readFileSync(TASK_SCHEMA, 'utf8'));
    task.$id = new URL('schemas/task.json', BASE).href;
    this.ajv.addSchema(task);
    this.ajv.addSchema({ $id: BASE, $defs: this.defs });
    this.fns = {};
    for (const k of Object.keys(this.defs)) this.fns[k] = this.ajv.getSchema(`${BASE}#/$defs/${k}`);
  }
  validate(key, value) {
    const fn = this.fns[key];
    if (fn(value)) return null;
    return this.ajv.errorsText(fn.errors, { separator: '; ' });
  }
}

function rewrite(v) {
  if (Array.isArray(v)) return v.map(rewrite);
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) {
      o[k] = k === '$ref' && typeof x === 'string' ? x.replace('#/components/schemas/', '#/$defs/') : rewrite(x);
    }
    return o;
  }
  return v;
}

// The operations with their schemas registered: op.resp[status] = {content: {type: key}, headers,
// events: {name: key}}, op.req = {type: key}, op.q[name] = {key, required}.
function model(doc) {
  const S = new Schemas(doc);
  const ops = operations(doc);
  for (const o of ops) {
    o.resp = {};
    for (const [status, r0] of Object.entries(o.op.responses || {})) {
      const r = deref(doc, r0);
      const e = { content: {}, headers: {}, events: null };
      for (const [type, mt] of Object.entries(r.content || {})) {
        e.content[type] = mt.schema ? S.add(mt.schema) : null;
        if (mt['x-ain-sse-events']) {
          e.events = {};
          for (const [name, s] of Object.entries(mt['x-ain-sse-events'])) e.events[name] = S.add(s);
        }
      }
      for (const [name, h0] of Object.entries(r.headers || {})) {
        const h = deref(doc, h0);
        e.headers[name.toLowerCase()] = { key: S.add(h.schema || {}), required: !!h.required };
      }
      o.resp[status] = e;
    }
    o.req = null;
    if (o.op.requestBody) {
      const rb = deref(doc, o.op.requestBody);
      o.req = { required: !!rb.required, content: {} };
      for (const [type, mt] of Object.entries(rb.content || {})) o.req.content[type] = S.add(mt.schema || {});
    }
    o.q = {};
    for (const p of o.params) {
      if (p.in === 'query') o.q[p.name] = { key: S.add(p.schema || {}), required: !!p.required };
    }
  }
  S.compile();
  return { S, ops };
}

// ---- (a) and (b): the document, the route table, the error codes --------------------------------

function routeTable(text) {
  const start = text.indexOf('ain__api_routes[] = {');
  if (start < 0) return null;
  const body = text.slice(start, text.indexOf('};', start));
  const re = /\{\s*"([A-Z]+)"\s*,\s*"([^"]+)"\s*,\s*AIN_ROLE_([A-Z]+)\s*,/g;
  const out = [];
  for (let m; (m = re.exec(body)); ) out.push({ method: m[1], path: m[2], role: m[3].toLowerCase() });
  return out;
}

// Problems between the document's operations and the route table (both directions, and roles).
function compareRoutes(doc, routesText) {
  const probs = [];
  const table = routeTable(routesText);
  if (!table || table.length === 0) return ['engine/api/routes.c: no route table found'];
  const docOps = new Map(operations(doc).map((o) => [`${o.method} ${o.path}`, o]));
  const seen = new Set();
  for (const r of table) {
    const k = `${r.method} ${r.path}`;
    if (seen.has(k)) probs.push(`routes.c lists ${k} twice`);
    seen.add(k);
    const o = docOps.get(k);
    if (!o) {
      probs.push(`routes.c has ${k}, docs/openapi.yaml does not`);
      continue;
    }
    // x-ain-route-role: the table's role when the handler authenticates itself (the media
    // routes: a ticket or a viewer); x-ain-role is then what a caller without a ticket needs.
    const role = o.op['x-ain-role'];
    const tableRole = o.op['x-ain-route-role'] || role;
    if (tableRole !== r.role) {
      probs.push(`${k}: x-ain-${o.op['x-ain-route-role'] ? 'route-' : ''}role is ${tableRole}, routes.c says ${r.role}`);
    } else if (!String(o.op.description || '').includes(`Role: ${role}`)) {
      probs.push(`${k}: the description does not say "Role: ${role}"`);
    }
    if ((role === 'none') !== (Array.isArray(o.op.security) && o.op.security.length === 0)) {
      probs.push(`${k}: security must be [] exactly when x-ain-role is none`);
    }
  }
  for (const k of docOps.keys()) if (!seen.has(k)) probs.push(`docs/openapi.yaml has ${k}, routes.c does not`);
  return probs;
}

// code -> HTTP status, from the three C tables (respond.c for the API's codes, ops.c for the ops
// layer's, err.h for the rest, which are 500).
function errorTables() {
  const errH = fs.readFileSync(path.join(SRC, 'engine/core/err.h'), 'utf8');
  const respond = fs.readFileSync(path.join(SRC, 'engine/api/respond.c'), 'utf8');
  const opsC = fs.readFileSync(path.join(SRC, 'engine/ops/ops.c'), 'utf8');
  const status = new Map();
  for (const m of errH.matchAll(/X\((E[A-Z_0-9]+),\s*-\d+/g)) status.set(m[1], 500);
  status.set('EUNKNOWN', 500); // ain_err_name of a code outside the table
  const api = new Map();
  for (const m of respond.matchAll(/\{"(E[A-Z_0-9]+)",\s*(\d{3})\s*[,}]/g)) api.set(m[1], +m[2]);
  const ops = new Map();
  for (const m of opsC.matchAll(/\{AIN_(E[A-Z_0-9]+),\s*AIN_EXIT_[A-Z]+,\s*(\d{3})\s*\}/g)) ops.set(m[1], +m[2]);
  return { status, api, ops };
}

function checkErrors(doc, M) {
  const probs = [];
  const { status, api, ops } = errorTables();
  if (api.size < 5 || ops.size < 8) return [`could not read the error tables (respond.c ${api.size}, ops.c ${ops.size})`];
  for (const [c, s] of ops) {
    if (api.has(c) && api.get(c) !== s) probs.push(`${c}: respond.c says ${api.get(c)}, ops.c ${s}`);
    status.set(c, s);
  }
  for (const [c, s] of api) status.set(c, s);
  const enumCodes = new Set(doc.components.schemas.ErrorCode.enum);
  for (const c of status.keys()) if (!enumCodes.has(c)) probs.push(`ErrorCode lacks ${c}`);
  for (const c of enumCodes) if (!status.has(c)) probs.push(`ErrorCode has ${c}, which no C table has`);
  // Each ErrorNNN accepts exactly the codes of its status.
  for (const name of Object.keys(doc.components.schemas).filter((n) => /^Error\d{3}$/.test(n))) {
    const s = +name.slice(5);
    for (const [c, cs] of status) {
      const bad = M.S.validate(name, { error: { code: c, field: '', message: 'x' } });
      if ((cs === s) !== (bad === null)) probs.push(`${name} ${bad ? 'refuses' : 'accepts'} ${c} (${cs})`);
    }
  }
  // The statuses in use have their schema.
  for (const s of new Set(status.values())) {
    if (!doc.components.schemas[`Error${s}`]) probs.push(`no Error${s} schema for status ${s}`);
  }
  return probs;
}

async function validateDoc(docText) {
  const { Validator } = await import(path.join(NM, '@seriousme/openapi-schema-validator/index.js'));
  const v = new Validator();
  await v.addSpecRef(JSON.parse(fs.readFileSync(TASK_SCHEMA, 'utf8')), 'schemas/task.json');
  const r = await v.validate(YAML.parse(docText, { maxAliasCount: -1 }));
  if (r.valid) return [];
  return [`not valid OpenAPI ${YAML.parse(docText, { maxAliasCount: -1 }).openapi}: ${JSON.stringify(r.errors).slice(0, 2000)}`];
}

async function cmdDoc() {
  const text = fs.readFileSync(DOC_FILE, 'utf8');
  let probs = await validateDoc(text);
  const doc = loadDoc();
  if (!String(doc.openapi).startsWith('3.1.')) probs.push(`openapi is ${doc.openapi}, not 3.1.x`);
  let M;
  try {
    M = model(doc);
  } catch (e) {
    return [...probs, `a schema does not compile: ${e.message}`];
  }
  probs = probs.concat(compareRoutes(doc, fs.readFileSync(path.join(SRC, 'engine/api/routes.c'), 'utf8')));
  probs = probs.concat(checkErrors(doc, M));
  const n = operations(doc).length;
  if (!probs.length) console.log(`ok - docs/openapi.yaml: valid OpenAPI ${doc.openapi}, ${Object.keys(M.S.defs).length} schemas compile, ${n} operations = routes.c (roles too), error codes = the C tables`);
  return probs;
}

// ---- (c): live responses -----------------------------------------------------------------------

function matchOp(ops, method, p) {
  const segs = p.split('/');
  let best = null;
  let bestLit = -1;
  for (const o of ops) {
    if (o.method !== method) continue;
    const t = o.path.split('/');
    if (t.length !== segs.length) continue;
    let lit = 0;
    let ok = true;
    for (let i = 0; i < t.length && ok; i++) {
      if (/^\{[^}]+\}$/.test(t[i])) ok = segs[i].length > 0;
      else if (t[i] === segs[i]) lit++;
      else ok = false;
    }
    if (ok && lit > bestLit) {
      best = o;
      bestLit = lit;
    }
  }
  return best;
}

// The last response block of curl -D (a 100 Continue comes first sometimes).
function parseHeaders(text) {
  const blocks = text.split(/\r?\n\r?\n/).filter((b) => /^HTTP\//.test(b));
  const lines = (blocks[blocks.length - 1] || '').split(/\r?\n/);
  const status = +(lines[0] || '').split(' ')[1];
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  return { status, headers };
}

function coerce(v) {
  return /^-?\d+$/.test(v) ? Number(v) : v;
}

// Server-Sent Events as a browser dispatches them: [{event, id, data}] (comments, and blocks
// without data such as `retry:`, dispatch nothing).
function parseSse(text) {
  const out = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const ev = { event: 'message', id: null, data: null };
    let any = false;
    for (const l of block.split(/\r?\n/)) {
      if (l === '' || l.startsWith(':')) continue;
      const i = l.indexOf(':');
      const k = i < 0 ? l : l.slice(0, i);
      const v = i < 0 ? '' : l.slice(i + 1).replace(/^ /, '');
      if (k === 'data') ev.data = ev.data === null ? v : `${ev.data}\n${v}`;
      else if (k === 'event') ev.event = v;
      else if (k === 'id') ev.id = v;
      any = true;
    }
    if (any && ev.data !== null) out.push(ev); // no data: nothing is dispatched (a retry: line)
  }
  return out;
}

// Statuses any route can answer (info.description says so): past the body or header limits.
const GLOBAL_STATUSES = [413, 431];

function checkErrorBody(M, rec, where, schemaName) {
  const ctype = (rec.headers['content-type'] || '').split(';')[0].trim();
  if (ctype !== 'application/json') return [`${where}: an error as ${ctype || '(no type)'}, not application/json`];
  let v;
  try {
    v = JSON.parse(rec.body.toString('utf8'));
  } catch (e) {
    return [`${where}: the error body is not JSON`];
  }
  const bad = M.S.validate(schemaName, v);
  return bad ? [`${where}: ${rec.body.toString('utf8').slice(0, 200)}: ${bad}`] : [];
}

// A request no operation takes: a path the document has with other methods is 405 EMETHOD with
// Allow listing exactly those; a path it does not have is 404 ENOROUTE.
function checkUnrouted(M, rec, where, p) {
  const others = [...new Set(['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'PATCH'].map((m) => matchOp(M.ops, m, p)).filter(Boolean).map((o) => o.method))];
  if (others.length) {
    if (rec.status !== 405) return [`${where}: ${p} has only ${others.join(', ')} in the document, so 405 was due`];
    const allow = (rec.headers.allow || '').split(/,\s*/).filter(Boolean).sort().join(', ');
    const probs = allow === others.sort().join(', ') ? [] : [`${where}: Allow is "${rec.headers.allow}", the document has ${others.join(', ')}`];
    return probs.concat(checkErrorBody(M, rec, where, 'Error405'));
  }
  if (rec.status !== 404) return [`${where}: no path of the document matches ${p}, so 404 was due`];
  const probs = checkErrorBody(M, rec, where, 'Error404');
  if (!probs.length && JSON.parse(rec.body.toString('utf8')).error.code !== 'ENOROUTE') probs.push(`${where}: an unknown path must be ENOROUTE`);
  return probs;
}

// Problems with one recorded exchange rec = {name, method, path, status, headers, body (Buffer),
// req (Buffer|null), reqType, badRequestBody}.
function checkRecord(M, rec) {
  const probs = [];
  const where = `${rec.name} (${rec.method} ${rec.path} -> ${rec.status})`;
  const [p, query] = rec.path.split('?');
  const o = matchOp(M.ops, rec.method, p);
  if (!o) return checkUnrouted(M, rec, where, p);
  const r = o.resp[String(rec.status)];
  if (!r && GLOBAL_STATUSES.includes(rec.status)) return checkErrorBody(M, rec, where, `Error${rec.status}`);
  if (!r) return [`${where}: status ${rec.status} is not documented for ${o.method} ${o.path}`];
  const ctype = (rec.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
  const types = Object.keys(r.content);
  const empty = rec.method === 'HEAD' || rec.body.length === 0;
  if (types.length === 0 && rec.body.length > 0) probs.push(`${where}: a body where the document has none`);
  if (types.length > 0 && !types.includes(ctype) && !types.includes('*/*') && !(empty && rec.status === 304)) {
    probs.push(`${where}: Content-Type ${ctype || '(none)'} is not one of ${types.join(', ')}`);
  }
  for (const [name, h] of Object.entries(r.headers)) {
    if (!(name in rec.headers)) {
      if (h.required) probs.push(`${where}: required header ${name} missing`);
      continue;
    }
    const bad = M.S.validate(h.key, coerce(rec.headers[name]));
    if (bad) probs.push(`${where}: header ${name}: ${rec.headers[name]}: ${bad}`);
  }
  const key = r.content[ctype];
  if (!empty && key && ctype === 'application/json') {
    let v;
    try {
      v = JSON.parse(rec.body.toString('utf8'));
    } catch (e) {
      return [...probs, `${where}: the body is not JSON: ${e.message}`];
    }
    const bad = M.S.validate(key, v);
    if (bad) probs.push(`${where}: body ${rec.body.toString('utf8').slice(0, 300)}: ${bad}`);
  } else if (!empty && ctype === 'text/event-stream') {
    const events = parseSse(rec.body.toString('utf8'));
    rec.nevents = events.length;
    for (const ev of events) {
      const k = r.events && r.events[ev.event];
      if (!k) {
        probs.push(`${where}: event "${ev.event}" is not documented`);
        continue;
      }
      let v;
      try {
        v = JSON.parse(ev.data);
      } catch (e) {
        probs.push(`${where}: event ${ev.event} data is not JSON: ${ev.data}`);
        continue;
      }
      const bad = M.S.validate(k, v);
      if (bad) probs.push(`${where}: event ${ev.event} ${ev.data.slice(0, 200)}: ${bad}`);
      if (ev.event !== 'node' && String(v.audit_id) !== ev.id) probs.push(`${where}: event ${ev.event} id ${ev.id} is not its audit_id ${v.audit_id}`);
    }
  }
  // A success came from a request the document allows: its query and its body.
  if (rec.status >= 200 && rec.status < 300) {
    for (const part of (query || '').split('&').filter(Boolean)) {
      const [k, raw = ''] = part.split('=');
      const q = o.q[decodeURIComponent(k)];
      if (!q) {
        probs.push(`${where}: query parameter ${k} is not documented`);
        continue;
      }
      const bad = M.S.validate(q.key, coerce(decodeURIComponent(raw.replace(/\+/g, ' '))));
      if (bad) probs.push(`${where}: query ${k}=${raw}: ${bad}`);
    }
    if (rec.req && rec.req.length > 0) {
      const rk = o.req && o.req.content[rec.reqType || 'application/json'];
      if (!rk) probs.push(`${where}: a ${rec.reqType} body the document does not take`);
      else if ((rec.reqType || 'application/json') === 'application/json') {
        const bad = M.S.validate(rk, JSON.parse(rec.req.toString('utf8')));
        if (bad) probs.push(`${where}: the request body the server took is refused by the document: ${bad}`);
      }
    }
  }
  // A body the server refused is one the document refuses too.
  if (rec.badRequestBody) {
    const rk = o.req && o.req.content['application/json'];
    let v;
    try {
      v = JSON.parse(rec.req.toString('utf8'));
    } catch (e) {
      v = undefined; // not JSON: nothing a schema could accept
    }
    if (rk && v !== undefined && M.S.validate(rk, v) === null) {
      probs.push(`${where}: the server refused body ${rec.req.toString('utf8')}, the document accepts it`);
    }
  }
  return probs;
}

function loadRecords(dir) {
  const recs = [];
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.meta.json')).sort()) {
    const name = f.slice(0, -'.meta.json'.length);
    const meta = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8'));
    const { status, headers } = parseHeaders(fs.readFileSync(path.join(dir, `${name}.hdr`), 'utf8'));
    const reqFile = path.join(dir, `${name}.req`);
    recs.push({
      name,
      method: meta.method,
      path: meta.path,
      status,
      headers,
      body: fs.readFileSync(path.join(dir, `${name}.body`)),
      req: fs.existsSync(reqFile) ? fs.readFileSync(reqFile) : null,
      reqType: meta.req_type || null,
      badRequestBody: !!meta.bad_request_body,
    });
  }
  return recs;
}

function cmdLive(dir) {
  const doc = loadDoc();
  const M = model(doc);
  const recs = loadRecords(dir);
  let probs = [];
  for (const rec of recs) probs = probs.concat(checkRecord(M, rec));
  // Every GET of the document answered 2xx at least once; every status seen counted.
  const ok2xx = new Set();
  for (const rec of recs) {
    const o = matchOp(M.ops, rec.method, rec.path.split('?')[0]);
    if (o && rec.status >= 200 && rec.status < 300) ok2xx.add(`${o.method} ${o.path}`);
  }
  for (const o of M.ops) {
    if (o.method === 'GET' && !ok2xx.has(`GET ${o.path}`)) probs.push(`GET ${o.path}: no live 2xx response was checked`);
  }
  const sse = recs.find((r) => (r.headers['content-type'] || '').startsWith('text/event-stream'));
  if (!probs.length) {
    const statuses = [...new Set(recs.map((r) => r.status))].sort().join(' ');
    console.log(`ok - ${recs.length} live responses match the document (statuses ${statuses}; ${ok2xx.size} operations answered 2xx; ${sse ? sse.nevents : 0} events)`);
  }
  return probs;
}

// ---- the checks can fail -------------------------------------------------------------------------

function mutations(rec) {
  const out = [];
  const ctype = (rec.headers['content-type'] || '').split(';')[0];
  out.push(['an undocumented status', { ...rec, status: 418 }]);
  if (ctype === 'application/json' && rec.body.length > 0) {
    const v = JSON.parse(rec.body.toString('utf8'));
    const put = (what, x) => out.push([what, { ...rec, body: Buffer.from(JSON.stringify(x)) }]);
    const keys = Object.keys(v);
    if (keys.length) {
      const dropped = { ...v };
      delete dropped[keys[0]];
      put(`"${keys[0]}" dropped`, dropped);
      put(`"${keys[0]}" as an array`, { ...v, [keys[0]]: [[]] });
    }
    put('an undocumented member', { ...v, zz_undocumented: 1 });
    if (v.error && rec.status !== 500) put('a code of another status', { error: { ...v.error, code: rec.status === 404 ? 'EINVAL' : 'ENOTFOUND' } });
  }
  if (ctype === 'text/event-stream' && rec.nevents > 0) {
    out.push(['an undocumented event', { ...rec, body: Buffer.from(`${rec.body.toString('utf8')}\nid: 1\nevent: bogus\ndata: {}\n\n`) }]);
    const t = rec.body.toString('utf8').replace(/^data: \{/m, 'data: {"zz_undocumented":1,');
    out.push(['an event with an undocumented member', { ...rec, body: Buffer.from(t) }]);
  }
  return out;
}

async function cmdSelftest(dir) {
  const probs = [];
  const doc = loadDoc();
  const M = model(doc);
  const recs = loadRecords(dir);
  let n = 0;
  for (const rec of recs) {
    if (checkRecord(M, rec).length) continue; // live reports these
    for (const [what, bad] of mutations(rec)) {
      n++;
      if (checkRecord(M, bad).length === 0) probs.push(`${rec.name} with ${what} was accepted`);
    }
  }
  const routes = fs.readFileSync(path.join(SRC, 'engine/api/routes.c'), 'utf8');
  const extra = routes.replace('ain__api_routes[] = {', 'ain__api_routes[] = {\n    {"GET", "/v1/undocumented", AIN_ROLE_VIEWER, x},');
  if (!compareRoutes(doc, extra).some((p) => p.includes('/v1/undocumented'))) probs.push('a route without documentation was not noticed');
  const weaker = routes.replace(/("POST", "\/v1\/tasks", AIN_ROLE_)OPERATOR/, '$1VIEWER');
  if (weaker === routes || !compareRoutes(doc, weaker).some((p) => p.includes('POST /v1/tasks'))) probs.push('a role changed in routes.c was not noticed');
  const fewer = loadDoc();
  delete fewer.paths['/v1/stats'];
  if (!compareRoutes(fewer, routes).some((p) => p.includes('/v1/stats'))) probs.push('a route missing from the document was not noticed');
  const broken = fs.readFileSync(DOC_FILE, 'utf8').replace(/^openapi: 3\.1\.0$/m, 'openapi: 3.1.0\nnot_a_field: 1');
  if ((await validateDoc(broken)).length === 0) probs.push('an invalid document passed the OpenAPI validator');
  n += 4;
  if (n < 20) probs.push(`only ${n} mutations were tried`);
  if (!probs.length) console.log(`ok - all ${n} deliberately wrong responses, route tables and documents were refused`);
  return probs;
}

// ---- main ------------------------------------------------------------------------------------------

(async () => {
  const cmd = process.argv[2];
  const dir = process.argv[4];
  let probs;
  if (cmd === 'doc') probs = await cmdDoc();
  else if (cmd === 'live' && dir) probs = cmdLive(dir);
  else if (cmd === 'selftest' && dir) probs = await cmdSelftest(dir);
  else {
    console.error('usage: api_openapi.js doc|live|selftest SRC [DIR]');
    process.exit(2);
  }
  for (const p of probs) console.error(`FAIL: ${p}`);
  process.exit(probs.length ? 1 : 0);
})().catch((e) => {
  console.error(`FAIL: ${e.stack || e}`);
  process.exit(1);
});
