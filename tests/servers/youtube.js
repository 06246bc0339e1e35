#!/usr/bin/env node
// A strict YouTube Data API v3 test server for the youtube channel kind
// (engine/publish/youtube.c), written from Google's public references: "Resumable uploads"
// (developers.google.com/youtube/v3/guides/using_resumable_upload_protocol), videos.insert and
// the OAuth 2.0 token endpoint (refresh-token grant). Node built-ins only.
//
//   node tests/servers/youtube.js --port-file PATH [--port N] [--client-id ID]
//        [--client-secret S] [--refresh-token R]
//
// Serves, on 127.0.0.1:
//   POST /token  application/x-www-form-urlencoded grant_type=refresh_token, refresh_token,
//                client_id, client_secret -> {access_token, expires_in, token_type}
//                (400 {error: "invalid_grant"} for a wrong refresh token, 401 invalid_client)
//   POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status
//                Authorization: Bearer <a token this server issued and has not expired>,
//                Content-Type: application/json; charset=UTF-8, X-Upload-Content-Length,
//                X-Upload-Content-Type: video/*, body {snippet: {title (1..100 chars, no < >),
//                description?, tags?, categoryId (digits)}, status: {privacyStatus
//                private|unlisted|public, selfDeclaredMadeForKids?}}
//                -> 200, Location: the session URI (…&upload_id=ID)
//   PUT  <session URI>  Content-Range: bytes A-B/TOTAL with exactly B-A+1 bytes, A = what the
//                session holds, B-A+1 a multiple of 256 KiB unless B+1 = TOTAL
//                -> 308 Resume Incomplete with Range: bytes=0-N, or (last byte) 201 with the
//                video resource {kind, id, snippet, status}
//                Content-Range: bytes */TOTAL, no body (a status query) -> 308 with Range (none
//                when nothing is held) or 200 with the resource once finished
//   GET  /youtube/v3/videos?part=statistics&id=ID[,ID...]  (videos.list) Authorization: Bearer;
//                part lists only parts of a video resource and includes statistics, 1..50 ids
//                -> 200 {kind: youtube#videoListResponse, pageInfo, items: [{kind, id,
//                statistics: {viewCount, likeCount, favoriteCount, commentCount} as strings}]};
//                an id that is unknown or deleted is left out of items (as YouTube does)
//   DELETE /youtube/v3/videos?id=ID  (videos.delete) Authorization: Bearer; no body -> 204; an
//                unknown or already deleted id -> 404 videoNotFound
//   GET  /__stats  {posts: [{id, title, size, sha256, privacy, category, metrics: {views, likes,
//                  comments}}], by_title: {title: n}, sessions, refreshes, requests: {init,
//                  chunk, query, token, stats}, log: [...]}
//   POST /__metrics {id | title, views?, likes?, comments?, deleted?, grow?}: sets a post's
//                counters (null: the member is left out, as for hidden likes or disabled
//                comments; deleted: left out of videos.list); grow: views added by every read
//                of that post (default 0). A new post starts at views 100 + 10 n, likes 5 + n,
//                comments 1 + n (n: its index).
//   POST /__control {fault, count?, kind?, skip?}: after `skip` (default 0) untouched requests
//                of `kind`, the next `count` (default 1) requests of `kind`
//                (init | chunk | query | token | stats | delete; default chunk) get the fault:
//                500 | 503 | drop (half the chunk's bytes read, then the connection closed) |
//                401 (the presented token expires: a refresh is needed) | quota (403
//                quotaExceeded) | 429 (Retry-After: 1) | slow=MS | short (only the chunk's first
//                256 KiB kept: 308 tells the client to resend the rest) | hold (the request is
//                never answered; nothing of it kept) | hold_mid (half the body read, then held) |
//                hold_done (the chunk is kept, the post made if it was the last, the answer
//                never sent). Held requests are logged ("held") so a test can kill the client
//                at that moment. forged (stats only: viewCount is not a number). {fault: null}
//                clears.
// The port is written to --port-file and printed as {"port": N} on stdout's first line.
// Every refusal uses Google's error shape {error: {code, message, errors: [{reason, domain}]}}.
'use strict';

const http = require('http');
const crypto = require('crypto');
const fs = require('fs');
const counters = require('./post_counters');

const args = process.argv.slice(2);
function arg(name, def) {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
}
const PORT = Number(arg('--port', '0'));
const PORT_FILE = arg('--port-file', '');
const CLIENT_ID = arg('--client-id', 'test-client');
const CLIENT_SECRET = arg('--client-secret', 'test-secret');
const REFRESH = arg('--refresh-token', 'test-refresh');
const UNIT = 256 * 1024;

const tokens = new Map(); // access token -> {expired}
const sessions = new Map(); // upload_id -> {total, held, hash, meta, video}
const posts = [];
const byTitle = {};
const requests = { init: 0, chunk: 0, query: 0, token: 0, stats: 0, delete: 0 };
const log = [];
let refreshes = 0;
let faults = []; // [{fault, kind, left}]

function note(ev) {
  ev.t = Date.now();
  log.push(ev);
  if (log.length > 5000) log.shift();
}

function takeFault(kind) {
  const f = faults.find((x) => x.kind === kind && x.left > 0);
  if (!f) return null;
  if (f.skip > 0) { // this many matching requests pass untouched first
    f.skip--;
    return null;
  }
  f.left--;
  faults = faults.filter((x) => x.left > 0);
  return f.fault;
}

function send(res, code, body, headers) {
  const txt = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(code, Object.assign({ 'Content-Type': 'application/json; charset=UTF-8',
    'Content-Length': Buffer.byteLength(txt) }, headers || {}));
  res.end(txt);
}

function gerr(res, code, reason, message, headers) {
  note({ kind: 'refused', code, reason });
  send(res, code, { error: { code, message, errors: [{ reason, domain: 'youtube', message }] } },
    headers);
}

function readBody(req, limit, cb) {
  const parts = [];
  let n = 0;
  req.on('data', (d) => {
    n += d.length;
    if (n <= limit) parts.push(d);
  });
  req.on('end', () => cb(Buffer.concat(parts), n));
  req.on('error', () => {});
}

function auth(req, res) {
  const h = req.headers.authorization || '';
  const m = /^Bearer (\S+)$/.exec(h);
  const t = m && tokens.get(m[1]);
  if (!t || t.expired) {
    gerr(res, 401, 'authError', 'Request had invalid authentication credentials.',
      { 'WWW-Authenticate': 'Bearer realm="https://accounts.google.com/"' });
    return null;
  }
  return m[1];
}

// Faults every kind shares; returns true when it answered.
function commonFault(fault, req, res, token) {
  if (fault === '500' || fault === '503') {
    readBody(req, 0, () => gerr(res, Number(fault), 'backendError', 'Backend Error'));
    return true;
  }
  if (fault === '401') {
    tokens.get(token).expired = true;
    readBody(req, 0, () => gerr(res, 401, 'authError', 'Invalid Credentials'));
    return true;
  }
  if (fault === 'quota') {
    readBody(req, 0, () => gerr(res, 403, 'quotaExceeded',
      'The request cannot be completed because you have exceeded your quota.'));
    return true;
  }
  if (fault === '429') {
    readBody(req, 0, () => gerr(res, 429, 'rateLimitExceeded', 'Rate limit exceeded',
      { 'Retry-After': '1' }));
    return true;
  }
  return false;
}

function token(req, res) {
  requests.token++;
  if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') {
    return send(res, 400, { error: 'invalid_request', error_description: 'form body expected' });
  }
  readBody(req, 65536, (buf) => {
    const f = new URLSearchParams(buf.toString());
    const fault = takeFault('token');
    if (fault === '500') return send(res, 500, { error: 'server_error' });
    if (f.get('grant_type') !== 'refresh_token') {
      return send(res, 400, { error: 'unsupported_grant_type' });
    }
    if (f.get('client_id') !== CLIENT_ID || f.get('client_secret') !== CLIENT_SECRET) {
      return send(res, 401, { error: 'invalid_client' });
    }
    if (f.get('refresh_token') !== REFRESH || fault === 'invalid_grant') {
      return send(res, 400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    }
    refreshes++;
    const t = 'ya29.' + crypto.randomBytes(12).toString('hex');
    tokens.set(t, { expired: false });
    note({ kind: 'token' });
    send(res, 200, { access_token: t, expires_in: 3599, token_type: 'Bearer', scope: 'https://www.googleapis.com/auth/youtube.upload' });
  });
}

function init(req, res, url) {
  requests.init++;
  const tok = auth(req, res);
  if (!tok) return;
  if (url.searchParams.get('uploadType') !== 'resumable') {
    return gerr(res, 400, 'badRequest', 'uploadType must be resumable');
  }
  const part = (url.searchParams.get('part') || '').split(',');
  if (!part.includes('snippet') || !part.includes('status')) {
    return gerr(res, 400, 'badRequest', 'part must list snippet and status');
  }
  if (req.headers['content-type'] !== 'application/json; charset=UTF-8') {
    return gerr(res, 400, 'badContent', 'Content-Type must be application/json; charset=UTF-8');
  }
  const total = Number(req.headers['x-upload-content-length']);
  if (!Number.isInteger(total) || total <= 0) {
    return gerr(res, 400, 'badRequest', 'X-Upload-Content-Length must be the file size');
  }
  if (!/^video\//.test(req.headers['x-upload-content-type'] || '')) {
    return gerr(res, 400, 'badContent', 'X-Upload-Content-Type must be video/*');
  }
  const fault = takeFault('init');
  if (fault && fault.startsWith('slow=')) {
    return setTimeout(() => init2(req, res, total, null), Number(fault.slice(5)));
  }
  if (commonFault(fault, req, res, tok)) return;
  init2(req, res, total, fault);
}

function init2(req, res, total) {
  readBody(req, 1 << 20, (buf) => {
    let meta;
    try { meta = JSON.parse(buf.toString()); } catch (e) {
      return gerr(res, 400, 'parseError', 'Parse Error');
    }
    const sn = meta.snippet || {}, st = meta.status || {};
    if (typeof sn.title !== 'string' || sn.title.length === 0 || [...sn.title].length > 100 ||
        /[<>]/.test(sn.title)) {
      return gerr(res, 400, 'invalidTitle', 'The request metadata specifies an invalid video title.');
    }
    if (sn.description !== undefined && typeof sn.description !== 'string') {
      return gerr(res, 400, 'invalidDescription', 'invalid description');
    }
    if (sn.tags !== undefined && !(Array.isArray(sn.tags) && sn.tags.every((x) => typeof x === 'string'))) {
      return gerr(res, 400, 'invalidTags', 'invalid tags');
    }
    if (typeof sn.categoryId !== 'string' || !/^\d+$/.test(sn.categoryId)) {
      return gerr(res, 400, 'invalidCategoryId', 'The request metadata specifies an invalid video category.');
    }
    if (!['private', 'unlisted', 'public'].includes(st.privacyStatus)) {
      return gerr(res, 400, 'invalidVideoMetadata', 'privacyStatus must be private, unlisted or public');
    }
    const id = crypto.randomBytes(9).toString('base64url');
    sessions.set(id, { total, held: 0, hash: crypto.createHash('sha256'), meta, video: null });
    note({ kind: 'init', upload_id: id, total, title: sn.title });
    const port = req.socket.localPort;
    res.writeHead(200, { Location: `http://127.0.0.1:${port}/upload/youtube/v3/videos?uploadType=resumable&upload_id=${id}`,
      'Content-Length': 0 });
    res.end();
  });
}

function resource(s) {
  return { kind: 'youtube#video', id: s.video.id, snippet: s.meta.snippet, status: { uploadStatus: 'uploaded', privacyStatus: s.meta.status.privacyStatus } };
}

function statusOf(res, s, code) {
  if (s.video) return send(res, code, resource(s));
  const h = s.held > 0 ? { Range: `bytes=0-${s.held - 1}` } : {};
  res.writeHead(308, Object.assign({ 'Content-Length': 0 }, h));
  res.end();
}

function finishPost(s) {
  const sha = s.hash.digest('hex');
  s.video = { id: crypto.randomBytes(8).toString('base64url').slice(0, 11) };
  const title = s.meta.snippet.title;
  const n = posts.length;
  posts.push(Object.assign({ id: s.video.id, title, size: s.total, sha256: sha,
    privacy: s.meta.status.privacyStatus, category: s.meta.snippet.categoryId },
  counters.counters({ views: 100, likes: 5, comments: 1 }, { views: 10, likes: 1, comments: 1 }, n)));
  byTitle[title] = (byTitle[title] || 0) + 1;
  note({ kind: 'posted', id: s.video.id, title });
}

function chunk(req, res, url) {
  const s = sessions.get(url.searchParams.get('upload_id') || '');
  if (!s) return gerr(res, 404, 'notFound', 'upload session not found');
  const tok = auth(req, res);
  if (!tok) return;
  const cr = req.headers['content-range'] || '';
  let m = /^bytes \*\/(\d+)$/.exec(cr);
  if (m) {
    requests.query++;
    if (Number(m[1]) !== s.total) return gerr(res, 400, 'badRequest', 'Content-Range total differs');
    const fault = takeFault('query');
    if (commonFault(fault, req, res, tok)) return;
    return readBody(req, 0, (b, n) => {
      if (n !== 0) return gerr(res, 400, 'badRequest', 'a status query has no body');
      note({ kind: 'query', held: s.held, done: !!s.video });
      statusOf(res, s, 200);
    });
  }
  m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(cr);
  requests.chunk++;
  if (!m) return gerr(res, 400, 'badRequest', 'Content-Range must be bytes A-B/TOTAL or bytes */TOTAL');
  const a = Number(m[1]), b = Number(m[2]), total = Number(m[3]);
  const len = b - a + 1;
  if (total !== s.total || b >= total || len <= 0) return gerr(res, 400, 'badRequest', 'Content-Range out of the file');
  if (a !== s.held) return gerr(res, 400, 'badRequest', `Content-Range starts at ${a}, the session holds ${s.held}`);
  if (len % UNIT !== 0 && b + 1 !== total) {
    return gerr(res, 400, 'badRequest', 'a chunk that is not the last must be a multiple of 256 KiB');
  }
  if (Number(req.headers['content-length']) !== len) {
    return gerr(res, 400, 'badRequest', 'Content-Length must match Content-Range');
  }
  if (s.video) return send(res, 200, resource(s));
  const fault = takeFault('chunk');
  if (fault && fault.startsWith('slow=')) {
    return setTimeout(() => chunk2(req, res, s, a, len, null), Number(fault.slice(5)));
  }
  if (commonFault(fault, req, res, tok)) return;
  chunk2(req, res, s, a, len, fault);
}

function chunk2(req, res, s, a, len, fault) {
  if (fault === 'hold') {
    note({ kind: 'held', phase: 'before-chunk', offset: a });
    req.pause();
    return;
  }
  // The bytes are hashed as they arrive, into a copy of the session's hash that replaces it only
  // once the whole chunk arrived: memory per request is Node's socket buffers, never the chunk
  // (20 concurrent 8 MiB chunks would otherwise hold 160 MiB and hash it in one go per chunk).
  const h = s.hash.copy();
  const keep = fault === 'short' && len > UNIT ? UNIT : len;
  let n = 0, cut = false;
  req.on('data', (d) => {
    if (cut) return;
    if (n < keep) h.update(n + d.length <= keep ? d : d.subarray(0, keep - n));
    n += d.length;
    if ((fault === 'drop' || fault === 'hold_mid') && n >= len / 2) {
      cut = true;
      note({ kind: 'held', phase: 'mid-chunk', offset: a, got: n, fault });
      if (fault === 'drop') req.socket.destroy();
      else req.pause();
    }
  });
  req.on('error', () => {});
  req.on('end', () => {
    if (cut) return;
    if (n !== len) return gerr(res, 400, 'badRequest', 'body shorter than Content-Range');
    s.hash = h;
    s.held += keep;
    note({ kind: 'chunk', offset: a, len: keep, held: s.held, total: s.total });
    if (s.held === s.total) finishPost(s);
    if (fault === 'hold_done') {
      note({ kind: 'held', phase: 'after-chunk', held: s.held, done: !!s.video });
      return;
    }
    statusOf(res, s, 201);
  });
}

const VIDEO_PARTS = ['contentDetails', 'fileDetails', 'id', 'liveStreamingDetails', 'localizations',
  'paidProductPlacementDetails', 'player', 'processingDetails', 'recordingDetails', 'snippet',
  'statistics', 'status', 'suggestions', 'topicDetails'];

// videos.list with part=statistics: the counters as strings, absent ones left out.
function videosList(req, res, url) {
  requests.stats++;
  const tok = auth(req, res);
  if (!tok) return;
  const part = (url.searchParams.get('part') || '').split(',');
  if (part.some((p) => !VIDEO_PARTS.includes(p))) return gerr(res, 400, 'invalidPart', `unknown part in '${url.searchParams.get('part')}'`);
  if (!part.includes('statistics')) return gerr(res, 400, 'badRequest', 'this server serves part=statistics');
  const ids = (url.searchParams.get('id') || '').split(',').filter((x) => x);
  if (ids.length === 0 || ids.length > 50 || ids.some((x) => !/^[A-Za-z0-9_-]{1,64}$/.test(x))) {
    return gerr(res, 400, 'invalidFilters', 'id must list 1..50 video ids');
  }
  const fault = takeFault('stats');
  const go = () => readBody(req, 0, (b, n) => {
    if (n !== 0) return gerr(res, 400, 'badRequest', 'videos.list takes no body');
    const items = [];
    for (const id of ids) {
      const p = posts.find((x) => x.id === id && !x.deleted);
      if (!p) continue;
            const m = counters.read(p);
      const st = { favoriteCount: '0' };
      for (const [k, name] of [['views', 'viewCount'], ['likes', 'likeCount'], ['comments', 'commentCount']]) {
        if (m[k] !== null) st[name] = fault === 'forged' && k === 'views' ? 'many' : String(m[k]);
      }
      items.push({ kind: 'youtube#video', etag: crypto.randomBytes(6).toString('hex'), id, statistics: st });
    }
    note({ kind: 'stats', ids, found: items.length });
    send(res, 200, { kind: 'youtube#videoListResponse', etag: crypto.randomBytes(6).toString('hex'),
      pageInfo: { totalResults: items.length, resultsPerPage: items.length }, items });
  });
  if (fault && fault.startsWith('slow=')) return setTimeout(go, Number(fault.slice(5)));
  if (commonFault(fault, req, res, tok)) return;
  go();
}

// videos.delete: exactly one id, no body; 204, or 404 videoNotFound for an unknown or deleted one.
function videosDelete(req, res, url) {
  requests.delete++;
  const tok = auth(req, res);
  if (!tok) return;
  const keys = [...url.searchParams.keys()].filter((k) => k !== 'onBehalfOfContentOwner');
  const id = url.searchParams.get('id') || '';
  if (keys.length !== 1 || keys[0] !== 'id' || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
    return gerr(res, 400, 'badRequest', 'videos.delete takes one parameter, id: one video id');
  }
  const fault = takeFault('delete');
  if (commonFault(fault, req, res, tok)) return;
  readBody(req, 0, (b, n) => {
    if (n !== 0) return gerr(res, 400, 'badRequest', 'videos.delete takes no body');
    const p = posts.find((x) => x.id === id && !x.deleted);
    if (!p) return gerr(res, 404, 'videoNotFound', 'The video that you are trying to delete cannot be found.');
    p.deleted = true;
    note({ kind: 'delete', id });
    res.writeHead(204);
    res.end();
  });
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (url.pathname === '/youtube/v3/videos') {
    if (req.method === 'GET') return videosList(req, res, url);
    if (req.method === 'DELETE') return videosDelete(req, res, url);
    return gerr(res, 405, 'methodNotAllowed', 'this server serves videos.list (GET) and videos.delete (DELETE)');
  }
  if (req.method === 'POST' && url.pathname === '/__metrics') return counters.setMetrics(req, res, posts, true, send);
  if (req.method === 'POST' && url.pathname === '/token') return token(req, res);
  if (url.pathname === '/upload/youtube/v3/videos') {
    if (req.method === 'POST' && !url.searchParams.has('upload_id')) return init(req, res, url);
    if (req.method === 'PUT') return chunk(req, res, url);
  }
  if (req.method === 'GET' && url.pathname === '/__stats') {
    return send(res, 200, { posts, by_title: byTitle, sessions: sessions.size, refreshes, requests, log });
  }
  if (req.method === 'POST' && url.pathname === '/__control') {
    return readBody(req, 65536, (buf) => {
      const c = JSON.parse(buf.toString() || '{}');
      if (c.fault === null) faults = [];
      else faults.push({ fault: String(c.fault), kind: c.kind || 'chunk', left: c.count || 1, skip: c.skip || 0 });
      send(res, 200, { faults });
    });
  }
  gerr(res, 404, 'notFound', `no route ${req.method} ${url.pathname}`);
});
server.keepAliveTimeout = 30000;
server.listen(PORT, '127.0.0.1', () => {
  if (PORT_FILE) fs.writeFileSync(PORT_FILE, String(server.address().port));
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
