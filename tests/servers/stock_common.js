// Shared plumbing of the stock-provider test servers (pexels.js, pixabay.js): argument parsing,
// the port file, fault injection and stats, and the "CDN" that serves the picture files. Node
// built-ins only.
//   POST /__fault  {fault, count?}: the next `count` (default 1, -1 = until cleared) searches get
//                  the fault: 429 (with Retry-After and the provider's rate-limit headers), 500,
//                  slow:MS, drop (the connection closed without an answer); {fault: null} clears
//   GET  /__stats  {searches, ok, empty, rate_limited, faults, rejected, bad_key, downloads,
//                  queries: [...], last_rejection}
//   GET  /files/<name>  a file of --files DIR (the pictures the answers link to), counted
'use strict';

const fs = require('fs');
const path = require('path');

function args() {
  const a = process.argv.slice(2);
  const get = (name, def) => {
    const i = a.indexOf(name);
    return i >= 0 && i + 1 < a.length ? a[i + 1] : def;
  };
  return { port: Number(get('--port', '0')), portFile: get('--port-file', ''),
           key: get('--key', 'test-key'), files: get('--files', '') };
}

function makeState() {
  return { fault: null, count: 0,
           stats: { searches: 0, ok: 0, empty: 0, rate_limited: 0, faults: 0, rejected: 0,
                    bad_key: 0, downloads: 0, queries: [], last_rejection: null } };
}

function send(res, status, body, headers) {
  const b = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, Object.assign({ 'Content-Type': typeof body === 'string'
    ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
  'Content-Length': Buffer.byteLength(b) }, headers || {}));
  res.end(b);
}

function reject(st, res, why, status) {
  st.stats.rejected++;
  st.stats.last_rejection = why;
  send(res, status || 400, { error: why });
}

// Handles /__fault, /__stats and /files/*; returns true when it answered.
function plumbing(st, opts, req, res, url, body) {
  if (url.pathname === '/__stats') { send(res, 200, st.stats); return true; }
  if (url.pathname === '/__fault' && req.method === 'POST') {
    const f = JSON.parse(body || '{}');
    st.fault = f.fault || null;
    st.count = f.count === undefined ? 1 : f.count;
    send(res, 200, { ok: true });
    return true;
  }
  if (url.pathname.startsWith('/files/')) {
    const name = path.basename(url.pathname);
    const file = path.join(opts.files, name);
    if (!opts.files || !fs.existsSync(file)) { send(res, 404, 'no such file'); return true; }
    st.stats.downloads++;
    const data = fs.readFileSync(file);
    res.writeHead(200, { 'Content-Type': name.endsWith('.mp4') ? 'video/mp4' : 'image/jpeg',
                         'Content-Length': data.length });
    res.end(data);
    return true;
  }
  return false;
}

// Applies the pending fault to a search; returns true when it answered (or dropped).
function fault(st, res, rateHeaders) {
  if (!st.fault || st.count === 0) return false;
  if (st.count > 0) st.count--;
  const f = st.fault;
  if (st.count === 0) st.fault = null;
  if (f === '429') {
    st.stats.rate_limited++;
    send(res, 429, 'Too Many Requests', Object.assign({ 'Retry-After': '60' }, rateHeaders));
    return true;
  }
  st.stats.faults++;
  if (f === '500') { send(res, 500, 'Internal Server Error'); return true; }
  if (f === 'drop') { res.socket.destroy(); return true; }
  if (f.startsWith('slow:')) {
    // answered late: the request handler continues after the delay
    return Number(f.slice(5)) || 1000;
  }
  return false;
}

function listen(server, opts) {
  server.listen(opts.port, '127.0.0.1', () => {
    const port = server.address().port;
    if (opts.portFile) fs.writeFileSync(opts.portFile + '.tmp', String(port));
    if (opts.portFile) fs.renameSync(opts.portFile + '.tmp', opts.portFile);
    process.stdout.write(`listening ${port}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

function readBody(req, cb) {
  let body = '';
  req.on('data', (c) => { body += c; if (body.length > 65536) req.destroy(); });
  req.on('end', () => cb(body));
}

module.exports = { args, makeState, send, reject, plumbing, fault, listen, readBody };
