#!/usr/bin/env node
// A trend-feed test server for the trend sources (engine/sources/, docs/sources.md). Node
// built-ins only.
//
//   node tests/servers/feeds.js [--port N] [--port-file PATH]
//
// Serves, on 127.0.0.1, feeds whose items the test sets:
//   GET  /feed.json   {data: {items: [{headline, body: {text}, link, id, published_at,
//                      labels: [{name}], stats: {score}}]}}   (a nested shape for map = {...})
//   GET  /rss.xml     RSS 2.0 (UTF-8)         GET /latin1.xml  RSS 2.0 in ISO-8859-1
//   GET  /atom.xml    Atom 1.0
//   GET  /bomb.xml    a billion-laughs document  GET /xxe.xml  an external entity
// Every feed answers with a strong ETag (sha256 of the body) and a Last-Modified (the time its
// items were last set); If-None-Match / If-Modified-Since that match give 304 (counted).
//   POST /items       {path, items: [{title, summary?, url?, id?, ts?, tags?, score?}]} sets a
//                      feed's items (a new version: new ETag and Last-Modified)
//   POST /control     {path, fault, count?}: the next `count` (default 1, -1 = until cleared)
//                      requests of path get the fault: 500, 503, slow:MS (answer after MS),
//                      truncated (half the body with the full Content-Length, then close),
//                      huge:BYTES (a 200 of that many bytes), badutf8 (an invalid byte in a
//                      title), wrongtypes (a JSON title that is a number), notjson;
//                      {path, fault: null} clears
//   GET  /stats       {"/feed.json": {requests, ok, not_modified, faults}, ...}
// Strict about the request: GET only on feeds, a User-Agent starting "ain/", an Accept header,
// If-None-Match (when sent) a quoted ETag; anything else is a 400 with the reason (counted as
// `rejected`).
'use strict';

const http = require('http');
const crypto = require('crypto');
const fs = require('fs');

const args = process.argv.slice(2);
function arg(name, def) {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
}
const PORT = Number(arg('--port', '0'));
const PORT_FILE = arg('--port-file', '');

const FEEDS = ['/feed.json', '/rss.xml', '/latin1.xml', '/atom.xml', '/bomb.xml', '/xxe.xml'];
const state = {};
for (const p of FEEDS) {
  state[p] = { items: [], modified: new Date(Date.UTC(2026, 0, 1)), fault: null, count: 0 };
}
const stats = {};
function stat(p) {
  stats[p] = stats[p] || { requests: 0, ok: 0, not_modified: 0, faults: 0, rejected: 0 };
  return stats[p];
}

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function body(p, st, fault) {
  const items = st.items;
  if (p === '/feed.json') {
    const out = items.map((it) => ({
      headline: fault === 'wrongtypes' ? 42 : it.title,
      body: { text: it.summary || '' },
      link: it.url,
      id: it.id,
      published_at: it.ts,
      labels: (it.tags || []).map((name) => ({ name })),
      stats: { score: it.score },
    }));
    let text = JSON.stringify({ data: { items: out } });
    if (fault === 'notjson') text = text.slice(0, -3) + '<html>';
    let buf = Buffer.from(text, 'utf8');
    if (fault === 'badutf8') buf = Buffer.concat([Buffer.from('{"data":{"items":[{"headline":"bad \xff', 'latin1'), Buffer.from('"}]}}')]);
    return { type: 'application/json', buf };
  }
  if (p === '/bomb.xml') {
    const decl = ['<!ENTITY lol "lol">'];
    for (let i = 1; i <= 9; i++) decl.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
    const x = `<?xml version="1.0"?>\n<!DOCTYPE rss [\n${decl.join('\n')}\n]>\n<rss version="2.0"><channel><title>t</title><item><title>&lol9;</title></item></channel></rss>\n`;
    return { type: 'application/rss+xml', buf: Buffer.from(x) };
  }
  if (p === '/xxe.xml') {
    const x = '<?xml version="1.0"?>\n<!DOCTYPE rss [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>\n<rss version="2.0"><channel><item><title>&xxe;</title></item></channel></rss>\n';
    return { type: 'application/rss+xml', buf: Buffer.from(x) };
  }
  if (p === '/atom.xml') {
    const entries = items.map((it) => [
      '<entry>',
      `<title type="text">${esc(it.title)}</title>`,
      it.summary ? `<summary type="html">${esc(it.summary)}</summary>` : '',
      it.url ? `<link rel="alternate" href="${esc(it.url)}"/>` : '',
      `<id>${esc(it.id || 'urn:x:' + it.title)}</id>`,
      `<updated>${esc(it.ts || '2026-01-01T00:00:00Z')}</updated>`,
      ...(it.tags || []).map((t) => `<category term="${esc(t)}"/>`),
      '</entry>'].join(''));
    const x = `<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"><title>test</title><id>urn:test</id><updated>2026-01-01T00:00:00Z</updated>${entries.join('\n')}</feed>\n`;
    let buf = Buffer.from(x, 'utf8');
    if (fault === 'badutf8') {
      const at = buf.indexOf('<title type="text">', buf.indexOf('<entry>')) + 19;
      buf = Buffer.concat([buf.subarray(0, at), Buffer.from([0xff]), buf.subarray(at)]);
    }
    return { type: 'application/atom+xml', buf };
  }
  const latin1 = p === '/latin1.xml';
  const xitems = items.map((it) => [
    '<item>',
    `<title>${esc(it.title)}</title>`,
    it.summary ? `<description><![CDATA[<p>${it.summary}</p>]]></description>` : '',
    it.url ? `<link>${esc(it.url)}</link>` : '',
    it.id ? `<guid isPermaLink="false">${esc(it.id)}</guid>` : '',
    `<pubDate>${new Date(it.ts || Date.UTC(2026, 0, 1)).toUTCString()}</pubDate>`,
    ...(it.tags || []).map((t) => `<category>${esc(t)}</category>`),
    '</item>'].join(''));
  const x = `<?xml version="1.0" encoding="${latin1 ? 'ISO-8859-1' : 'UTF-8'}"?>\n<rss version="2.0"><channel><title>test</title>${xitems.join('\n')}</channel></rss>\n`;
  let buf = Buffer.from(x, latin1 ? 'latin1' : 'utf8');
  if (fault === 'badutf8' && !latin1) {
    const at = buf.indexOf('<title>', buf.indexOf('<item>')) + 7;
    buf = Buffer.concat([buf.subarray(0, at), Buffer.from([0xc3, 0x28]), buf.subarray(at)]);
  }
  return { type: 'application/rss+xml', buf };
}

function send(res, code, obj) {
  const b = Buffer.from(JSON.stringify(obj));
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': b.length });
  res.end(b);
}

function readJson(req, cb) {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    try {
      cb(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}'));
    } catch (e) {
      cb(null, e);
    }
  });
}

function takeFault(st) {
  if (!st.fault) return null;
  const f = st.fault;
  if (st.count > 0 && --st.count === 0) st.fault = null;
  return f;
}

function serveFeed(req, res, p) {
  const s = stat(p), st = state[p];
  s.requests++;
  const ua = req.headers['user-agent'] || '';
  const inm = req.headers['if-none-match'];
  let why = null;
  if (req.method !== 'GET') why = 'method must be GET';
  else if (!ua.startsWith('ain/')) why = 'User-Agent must start with ain/';
  else if (!req.headers.accept) why = 'Accept header missing';
  else if (inm !== undefined && !/^(W\/)?"[^"]*"$/.test(inm)) why = 'If-None-Match is not a quoted ETag';
  if (why) {
    s.rejected++;
    return send(res, 400, { error: why });
  }
  const taken = takeFault(st);
  // slow: the normal answer (conditional or not), late
  const delay = taken && taken.startsWith('slow:') ? Number(taken.slice(5)) : 0;
  const fault = delay ? null : taken;
  const go = () => {
    if (fault === '500' || fault === '503') {
      s.faults++;
      return send(res, Number(fault), { error: 'injected ' + fault });
    }
    const { type, buf } = body(p, st, fault);
    const etag = '"' + crypto.createHash('sha256').update(buf).digest('hex').slice(0, 32) + '"';
    const lm = st.modified.toUTCString();
    if (!fault) {
      const ims = req.headers['if-modified-since'];
      if ((inm !== undefined && inm === etag) ||
          (inm === undefined && ims !== undefined && Date.parse(ims) >= st.modified.getTime() - 999)) {
        s.not_modified++;
        res.writeHead(304, { ETag: etag, 'Last-Modified': lm });
        return res.end();
      }
    }
    if (fault && fault.startsWith('huge:')) {
      s.faults++;
      const n = Number(fault.slice(5));
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': n });
      const chunk = Buffer.alloc(65536, 0x20);
      let left = n;
      const pump = () => {
        while (left > 0) {
          const c = chunk.subarray(0, Math.min(left, chunk.length));
          left -= c.length;
          if (!res.write(c)) return res.once('drain', pump);
        }
        res.end();
      };
      res.on('error', () => {});
      return pump();
    }
    if (fault === 'truncated') {
      s.faults++;
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': buf.length, ETag: etag, 'Last-Modified': lm });
      res.write(buf.subarray(0, Math.floor(buf.length / 2)));
      return setTimeout(() => res.socket.destroy(), 20);
    }
    if (fault) s.faults++;
    else s.ok++;
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': buf.length, ETag: etag, 'Last-Modified': lm });
    res.end(buf);
  };
  if (delay) {
    s.faults++;
    return setTimeout(go, delay);
  }
  go();
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (FEEDS.includes(p)) return serveFeed(req, res, p);
  if (p === '/stats' && req.method === 'GET') return send(res, 200, stats);
  if ((p === '/items' || p === '/control') && req.method === 'POST') {
    return readJson(req, (j, e) => {
      if (!j || !FEEDS.includes(j.path)) return send(res, 400, { error: e ? 'bad JSON' : 'path must be one of ' + FEEDS.join(', ') });
      const st = state[j.path];
      if (p === '/items') {
        if (!Array.isArray(j.items)) return send(res, 400, { error: 'items must be an array' });
        st.items = j.items;
        // a new version: HTTP dates have 1 s resolution, so move at least one second on
        st.modified = new Date(Math.max(Date.now(), st.modified.getTime() + 1000));
      } else {
        if (j.fault !== null && typeof j.fault !== 'string') return send(res, 400, { error: 'fault must be a string or null' });
        st.fault = j.fault;
        st.count = j.count === undefined ? 1 : j.count;
      }
      return send(res, 200, { ok: true });
    });
  }
  send(res, 404, { error: 'no such path ' + p });
});

server.listen(PORT, '127.0.0.1', () => {
  const port = server.address().port;
  if (PORT_FILE) fs.writeFileSync(PORT_FILE + '.tmp', String(port)), fs.renameSync(PORT_FILE + '.tmp', PORT_FILE);
  process.stdout.write(`feeds server on 127.0.0.1:${port}\n`);
});
