#!/usr/bin/env node
// A strict OTLP/HTTP JSON trace receiver for the engine's span exporter (engine/trace/).
// It decodes every request with the official OpenTelemetry protobuf definitions (the
// opentelemetry-proto messages generated into @opentelemetry/otlp-transformer, protobufjs) and
// refuses anything that does not survive the round trip JSON -> ExportTraceServiceRequest ->
// protobuf bytes -> JSON unchanged: an unknown field, a wrong type (a number where int64's JSON
// mapping wants a string, a string enum), a bad id, a missing required piece.
//
//   node tests/servers/otlp_receiver.js [--port N] [--port-file PATH]
//
// Serves, on 127.0.0.1:
//   POST /v1/traces   Content-Type application/json, body ExportTraceServiceRequest (OTLP JSON:
//                     trace and span ids lower-case hex) -> 200 {} ; 400 {code, message} when bad
//   GET  /spans       {requests, rejected, errors: [..], spans: [{traceId, spanId, parentSpanId,
//                     name, kind, start, end, status: {code, message}, attributes: {k: v},
//                     resource: {k: v}}]}
//   POST /control     {delay_ms?, status?, close?}: delay every export answer by delay_ms,
//                     answer status instead of 200, or destroy the connection unanswered
//                     ({} clears). POST /control/reset drops the spans and counters.
'use strict';

const http = require('http');
const fs = require('fs');
const path = require('path');

const args = process.argv.slice(2);
function arg(name, def) {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
}
const PORT = Number(arg('--port', '0'));
const PORT_FILE = arg('--port-file', '');

// The generated root lives in the test tools' node_modules (tools/node, see CONTRACTS.md).
const root = require(path.join(__dirname, '../../tools/node/node_modules/@opentelemetry/' +
  'otlp-transformer/build/src/generated/root.js'));
const Req = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

const state = { requests: 0, rejected: 0, errors: [], spans: [] };
let control = {};

function sendJson(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

class Bad extends Error {}

const ID_FIELDS = { traceId: 32, spanId: 16, parentSpanId: 16 };

// OTLP JSON writes ids as hex; the protobuf JSON mapping of bytes is base64. Convert (strictly)
// before fromObject, and back after the round trip.
function idsToBase64(obj, where) {
  if (Array.isArray(obj)) return obj.map((v, i) => idsToBase64(v, `${where}[${i}]`));
  if (obj === null || typeof obj !== 'object') return obj;
  const out = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k in ID_FIELDS) {
      if (typeof v !== 'string' || !new RegExp(`^[0-9a-f]{${ID_FIELDS[k]}}$`).test(v)) {
        throw new Bad(`${where}.${k}: want ${ID_FIELDS[k]} lower-case hex digits, got ${JSON.stringify(v)}`);
      }
      if (/^0+$/.test(v)) throw new Bad(`${where}.${k}: all zeros is not a valid id`);
      out[k] = Buffer.from(v, 'hex').toString('base64');
    } else {
      out[k] = idsToBase64(v, `${where}.${k}`);
    }
  }
  return out;
}

function idsToHex(obj) {
  if (Array.isArray(obj)) return obj.map(idsToHex);
  if (obj === null || typeof obj !== 'object') return obj;
  const out = {};
  for (const [k, v] of Object.entries(obj)) {
    out[k] = k in ID_FIELDS ? Buffer.from(v, 'base64').toString('hex') : idsToHex(v);
  }
  return out;
}

// a deep comparison that names the first difference
function diff(a, b, where) {
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || (a === null) !== (b === null)) {
    return `${where}: sent ${JSON.stringify(a)}, the definitions read ${JSON.stringify(b)}`;
  }
  if (a !== null && typeof a === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      if (!(k in b) && Array.isArray(a[k]) && a[k].length === 0) continue; // empty repeated field
      if (!(k in b)) return `${where}.${k}: not a field of the OTLP definitions (or a wrong type)`;
      if (!(k in a)) continue; // a default the decoder filled in
      const d = diff(a[k], b[k], `${where}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return a === b ? null : `${where}: sent ${JSON.stringify(a)}, the definitions read ${JSON.stringify(b)}`;
}

function attrs(list) {
  const out = {};
  for (const a of list || []) {
    const v = a.value || {};
    out[a.key] = 'intValue' in v ? Number(v.intValue) : 'stringValue' in v ? v.stringValue
      : 'boolValue' in v ? v.boolValue : 'doubleValue' in v ? v.doubleValue : v;
  }
  return out;
}

function decode(text) {
  let json;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Bad(`body is not JSON: ${e.message}`);
  }
  if (json === null || typeof json !== 'object' || !Array.isArray(json.resourceSpans)) {
    throw new Bad('body: want an ExportTraceServiceRequest object with resourceSpans');
  }
  const input = idsToBase64(json, 'body');
  const msg = Req.fromObject(input);
  const verr = Req.verify(msg);
  if (verr) throw new Bad(`ExportTraceServiceRequest: ${verr}`);
  const bytes = Req.encode(msg).finish();
  const back = Req.toObject(Req.decode(bytes), { longs: String, enums: Number, bytes: String });
  const d = diff(json, idsToHex(back), 'body');
  if (d) throw new Bad(d);
  const spans = [];
  for (const rs of back.resourceSpans || []) {
    const resource = attrs(rs.resource && rs.resource.attributes);
    if (typeof resource['service.name'] !== 'string') throw new Bad('resource: service.name is missing');
    for (const ss of rs.scopeSpans || []) {
      for (const s of ss.spans || []) {
        const sp = idsToHex(s);
        if (!sp.traceId || !sp.spanId) throw new Bad(`span ${sp.name}: traceId and spanId are required`);
        if (!sp.name) throw new Bad('span: a name is required');
        if (!(Number(sp.endTimeUnixNano) >= Number(sp.startTimeUnixNano)) || !(Number(sp.startTimeUnixNano) > 0)) {
          throw new Bad(`span ${sp.name}: start/end times are wrong (${sp.startTimeUnixNano}, ${sp.endTimeUnixNano})`);
        }
        spans.push({
          traceId: sp.traceId, spanId: sp.spanId, parentSpanId: sp.parentSpanId || '',
          name: sp.name, kind: sp.kind || 0,
          start: sp.startTimeUnixNano, end: sp.endTimeUnixNano,
          status: { code: (sp.status && sp.status.code) || 0, message: (sp.status && sp.status.message) || '' },
          attributes: attrs(sp.attributes), resource,
        });
      }
    }
  }
  return spans;
}

function readBody(req, cb) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => cb(Buffer.concat(chunks).toString('utf8')));
}

const server = http.createServer((req, res) => {
  const url = req.url;
  if (req.method === 'GET' && url === '/spans') {
    return sendJson(res, 200, state);
  }
  if (req.method === 'POST' && url === '/control/reset') {
    state.requests = 0; state.rejected = 0; state.errors = []; state.spans = [];
    return readBody(req, () => sendJson(res, 200, {}));
  }
  if (req.method === 'POST' && url === '/control') {
    return readBody(req, (t) => {
      try { control = JSON.parse(t || '{}'); } catch (e) { return sendJson(res, 400, { message: 'bad JSON' }); }
      sendJson(res, 200, control);
    });
  }
  if (url !== '/v1/traces') return sendJson(res, 404, { code: 5, message: `no route ${url}` });
  if (req.method !== 'POST') return sendJson(res, 405, { code: 12, message: 'POST only' });
  readBody(req, (text) => {
    state.requests++;
    const answer = () => {
      if (control.close) return req.socket.destroy();
      if (control.status) return sendJson(res, control.status, { code: 14, message: 'injected fault' });
      const ct = (req.headers['content-type'] || '').split(';')[0].trim();
      try {
        if (ct !== 'application/json') throw new Bad(`Content-Type must be application/json, got '${ct}'`);
        const spans = decode(text);
        state.spans.push(...spans);
        sendJson(res, 200, {});
      } catch (e) {
        if (!(e instanceof Bad)) throw e;
        state.rejected++;
        state.errors.push(e.message);
        sendJson(res, 400, { code: 3, message: e.message });
      }
    };
    if (control.delay_ms) setTimeout(answer, control.delay_ms); else answer();
  });
});

// This server is also a library for tests/unit-style checks: `decode` on a body.
module.exports = { decode };

if (require.main === module) {
  server.listen(PORT, '127.0.0.1', () => {
    const port = server.address().port;
    if (PORT_FILE) fs.writeFileSync(PORT_FILE + '.tmp', String(port)), fs.renameSync(PORT_FILE + '.tmp', PORT_FILE);
    process.stdout.write(`listening ${port}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}
