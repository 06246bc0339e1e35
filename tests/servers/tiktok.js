#!/usr/bin/env node
// A strict TikTok Content Posting API test server for the tiktok channel kind
// (engine/publish/tiktok.c), written from TikTok's public references: "Content Posting API -
// Direct Post" (POST /v2/post/publish/video/init/, POST /v2/post/publish/status/fetch/), the
// "Media Transfer Guide" (chunk rules, PUT with Content-Range) and "OAuth: refresh an access
// token" (POST /v2/oauth/token/). Node built-ins only.
//
//   node tests/servers/tiktok.js --port-file PATH [--port N] [--client-id KEY]
//        [--client-secret S] [--refresh-token R]
//
// Serves, on 127.0.0.1:
//   POST /v2/oauth/token/  form client_key, client_secret, grant_type=refresh_token,
//        refresh_token -> {access_token, expires_in, refresh_token, refresh_expires_in, ...}
//   POST /v2/post/publish/video/init/  Authorization: Bearer, Content-Type: application/json;
//        charset=UTF-8, {post_info: {title, privacy_level}, source_info: {source: FILE_UPLOAD,
//        video_size, chunk_size, total_chunk_count}} checked against the chunk rules (under
//        5 MB: one chunk of the whole size; else chunk_size 5..64 MB, total_chunk_count =
//        floor(video_size / chunk_size), at most 1000, the last chunk <= 128 MB)
//        -> {data: {publish_id, upload_url}, error: {code: "ok", message, log_id}}
//   PUT  /upload/?upload_id=ID  Content-Range: bytes A-B/TOTAL of exactly one chunk as planned,
//        Content-Type video/mp4 -> 206, or 201 once every chunk is in (a chunk may come again)
//   POST /v2/post/publish/status/fetch/  {publish_id} -> {data: {status, uploaded_bytes,
//        fail_reason?, publicaly_available_post_id: [id]}} (PROCESSING_UPLOAD until every chunk
//        is in, then PROCESSING_DOWNLOAD for one poll, then PUBLISH_COMPLETE: the post is made
//        once per publish_id)
//   POST /v2/video/query/?fields=id,view_count,like_count,comment_count,share_count (Display
//        API "Query Videos") Authorization: Bearer, Content-Type: application/json; charset=UTF-8,
//        {filters: {video_ids: [1..20 strings of digits]}}; fields: a comma list of the video
//        object's fields -> {data: {videos: [{id (a string), <the fields asked>}], cursor,
//        has_more}}. A video that is unknown, deleted or not public is left out.
//   GET  /__stats  {posts: [{id, publish_id, title, size, sha256, privacy, metrics: {views,
//        likes, comments, shares}}], by_title, inits, refreshes, requests, log}
//   POST /__metrics {id | title, views?, likes?, comments?, shares?, deleted?, grow?}: sets a
//        post's counters (grow: views added by every query of it). A new post starts at views
//        200 + 10 n, likes 9 + n, comments 2 + n, shares 1 + n (n: its index).
//   POST /__control {fault, kind?, count?, skip?}: kind init | chunk | status | token | query (default
//        chunk); faults 500 | drop (half a chunk read, connection closed) | 401 (the token
//        expires) | 429 (Retry-After 1, rate_limit_exceeded) | slow=MS | hold | hold_mid |
//        hold_done (as tests/servers/youtube.js) | fail (status: FAILED, for that publish) |
//        forged (query: view_count is not a number)
// The port is written to --port-file and printed as {"port": N} on stdout's first line.
// Refusals use TikTok's shape {error: {code, message, log_id}} with HTTP 400/401/403/429/5xx.
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
const CLIENT_KEY = arg('--client-id', 'test-client');
const CLIENT_SECRET = arg('--client-secret', 'test-secret');
let REFRESH = arg('--refresh-token', 'test-refresh');
const MB = 1024 * 1024;
const PRIVACY = ['SELF_ONLY', 'MUTUAL_FOLLOW_FRIENDS', 'FOLLOWER_OF_CREATOR', 'PUBLIC_TO_EVERYONE'];

const tokens = new Map();
const pubs = new Map(); // upload_id -> publish
const byPublish = new Map();
const posts = [];
const byTitle = {};
const requests = { init: 0, chunk: 0, status: 0, token: 0, query: 0 };
const log = [];
let refreshes = 0;
let faults = [];

function note(ev) { ev.t = Date.now(); log.push(ev); if (log.length > 5000) log.shift(); }
function takeFault(kind) {
  const f = faults.find((x) => x.kind === kind && x.left > 0);
  if (!f) return null;
  if (f.skip > 0) { f.skip--; return null; }
  f.left--;
  faults = faults.filter((x) => x.left > 0);
  return f.fault;
}
// Post ids are int64 numbers on the wire (past a double's 53 bits): a BigInt is written as its
// digits, as TikTok's JSON has them.
function send(res, code, body, headers) {
  const txt = JSON.stringify(body, (k, v) => (typeof v === 'bigint' ? `@@${v}@@` : v))
    .replace(/"@@(\d+)@@"/g, '$1');
  res.writeHead(code, Object.assign({ 'Content-Type': 'application/json; charset=UTF-8',
    'Content-Length': Buffer.byteLength(txt) }, headers || {}));
  res.end(txt);
}
function terr(res, code, ecode, message, headers) {
  note({ kind: 'refused', code, ecode });
  send(res, code, { error: { code: ecode, message, log_id: crypto.randomBytes(8).toString('hex') } }, headers);
}
function ok(res, data) {
  send(res, 200, { data, error: { code: 'ok', message: '', log_id: crypto.randomBytes(8).toString('hex') } });
}
function readBody(req, limit, cb) {
  const parts = [];
  let n = 0;
  req.on('data', (d) => { n += d.length; if (n <= limit) parts.push(d); });
  req.on('end', () => cb(Buffer.concat(parts), n));
  req.on('error', () => {});
}
function auth(req, res) {
  const m = /^Bearer (\S+)$/.exec(req.headers.authorization || '');
  const t = m && tokens.get(m[1]);
  if (!t || t.expired) {
    terr(res, 401, 'access_token_invalid', 'The access token is invalid or not found in the request.');
    return null;
  }
  return m[1];
}
function jsonApi(req, res, kind, cb) {
  requests[kind]++;
  const tok = auth(req, res);
  if (!tok) return;
  if (req.headers['content-type'] !== 'application/json; charset=UTF-8') {
    return terr(res, 400, 'invalid_params', 'Content-Type must be application/json; charset=UTF-8');
  }
  const fault = takeFault(kind);
  const go = () => readBody(req, 1 << 20, (buf) => {
    if (fault === '500') return terr(res, 500, 'internal_error', 'Something went wrong.');
    if (fault === '401') { tokens.get(tok).expired = true; return terr(res, 401, 'access_token_invalid', 'expired'); }
    if (fault === '429') return terr(res, 429, 'rate_limit_exceeded', 'API rate limit was exceeded.', { 'Retry-After': '1' });
    let body;
    try { body = JSON.parse(buf.toString()); } catch (e) { return terr(res, 400, 'invalid_params', 'body is not JSON'); }
    cb(body, fault);
  });
  if (fault && fault.startsWith('slow=')) return setTimeout(go, Number(fault.slice(5)));
  go();
}

function token(req, res) {
  requests.token++;
  if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') {
    return send(res, 400, { error: 'invalid_request', error_description: 'form body expected' });
  }
  readBody(req, 65536, (buf) => {
    const f = new URLSearchParams(buf.toString());
    if (f.get('grant_type') !== 'refresh_token') return send(res, 400, { error: 'invalid_grant' });
    if (f.get('client_key') !== CLIENT_KEY || f.get('client_secret') !== CLIENT_SECRET) {
      return send(res, 401, { error: 'invalid_client', error_description: 'Client key or secret is incorrect.' });
    }
    if (f.get('refresh_token') !== REFRESH) return send(res, 400, { error: 'invalid_grant', error_description: 'Refresh token is invalid or expired.' });
    refreshes++;
    const t = 'act.' + crypto.randomBytes(12).toString('hex');
    tokens.set(t, { expired: false });
    note({ kind: 'token' });
    // TikTok may rotate the refresh token; this server keeps it (the client must accept either).
    send(res, 200, { access_token: t, expires_in: 86400, open_id: 'open-1', refresh_expires_in: 31536000,
      refresh_token: REFRESH, scope: 'video.publish', token_type: 'Bearer' });
  });
}

function init(req, res) {
  jsonApi(req, res, 'init', (b) => {
    const pi = b.post_info || {}, si = b.source_info || {};
    if (typeof pi.title !== 'string' || [...pi.title].length > 2200) return terr(res, 400, 'invalid_params', 'post_info.title');
    if (!PRIVACY.includes(pi.privacy_level)) return terr(res, 400, 'invalid_params', 'post_info.privacy_level');
    if (si.source !== 'FILE_UPLOAD') return terr(res, 400, 'invalid_params', 'source_info.source must be FILE_UPLOAD');
    const size = si.video_size, chunk = si.chunk_size, count = si.total_chunk_count;
    if (![size, chunk, count].every((x) => Number.isInteger(x) && x > 0)) return terr(res, 400, 'invalid_params', 'source_info sizes');
    if (size < 5 * MB) {
      if (chunk !== size || count !== 1) return terr(res, 400, 'invalid_params', 'a video under 5 MB is one chunk of its whole size');
    } else {
      if (chunk < 5 * MB || chunk > 64 * MB) return terr(res, 400, 'invalid_params', 'chunk_size must be 5..64 MB');
      if (count !== Math.floor(size / chunk)) return terr(res, 400, 'invalid_params', 'total_chunk_count must be floor(video_size / chunk_size)');
      if (count > 1000) return terr(res, 400, 'invalid_params', 'at most 1000 chunks');
      if (size - (count - 1) * chunk > 128 * MB) return terr(res, 400, 'invalid_params', 'the last chunk exceeds 128 MB');
    }
    const uploadId = crypto.randomBytes(9).toString('base64url');
    const publishId = 'v_pub_file~v2-1.' + crypto.randomBytes(6).toString('hex');
    const p = { publishId, size, chunk, count, got: new Array(count).fill(null), title: pi.title,
      privacy: pi.privacy_level, polls: 0, post: null, failed: false };
    pubs.set(uploadId, p);
    byPublish.set(publishId, p);
    note({ kind: 'init', publish_id: publishId, size, chunk, count, title: pi.title });
    ok(res, { publish_id: publishId, upload_url: `http://127.0.0.1:${req.socket.localPort}/upload/?upload_id=${uploadId}` });
  });
}

function complete(p) { return p.got.every((x) => x !== null); }

function chunk(req, res, url) {
  requests.chunk++;
  const p = pubs.get(url.searchParams.get('upload_id') || '');
  if (!p) return terr(res, 404, 'not_found', 'upload not found');
  if (req.headers.authorization) return terr(res, 400, 'invalid_params', 'the upload URL takes no Authorization');
  if (!/^video\/(mp4|quicktime|webm)$/.test(req.headers['content-type'] || '')) return terr(res, 400, 'invalid_params', 'Content-Type must be video/mp4');
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(req.headers['content-range'] || '');
  if (!m) return terr(res, 400, 'invalid_params', 'Content-Range must be bytes A-B/TOTAL');
  const a = Number(m[1]), b = Number(m[2]), total = Number(m[3]);
  const i = Math.floor(a / p.chunk) < p.count ? Math.floor(a / p.chunk) : p.count - 1;
  const want = i + 1 === p.count ? p.size - i * p.chunk : p.chunk;
  if (total !== p.size || a !== i * p.chunk || b - a + 1 !== want) {
    return terr(res, 416, 'invalid_params', `Content-Range ${a}-${b}/${total} is not chunk ${i} as planned`);
  }
  if (Number(req.headers['content-length']) !== want) return terr(res, 400, 'invalid_params', 'Content-Length must match Content-Range');
  const fault = takeFault('chunk');
  const go = () => {
    if (fault === 'hold') { note({ kind: 'held', phase: 'before-chunk', chunk: i }); req.pause(); return; }
    if (fault === '500') return readBody(req, 0, () => terr(res, 500, 'internal_error', 'upload failed'));
    const parts = [];
    let n = 0, cut = false;
    req.on('data', (d) => {
      if (cut) return;
      parts.push(d); n += d.length;
      if ((fault === 'drop' || fault === 'hold_mid') && n >= want / 2) {
        cut = true;
        note({ kind: 'held', phase: 'mid-chunk', chunk: i, got: n, fault });
        if (fault === 'drop') req.socket.destroy(); else req.pause();
      }
    });
    req.on('error', () => {});
    req.on('end', () => {
      if (cut) return;
      const buf = Buffer.concat(parts);
      if (buf.length !== want) return terr(res, 400, 'invalid_params', 'body shorter than Content-Range');
      p.got[i] = crypto.createHash('sha256').update(buf).digest('hex');
      p.parts = p.parts || [];
      p.parts[i] = buf.length;
      if (!p.hash) p.hash = [];
      p.hash[i] = buf;
      note({ kind: 'chunk', publish_id: p.publishId, chunk: i, of: p.count, len: buf.length });
      if (fault === 'hold_done') { note({ kind: 'held', phase: 'after-chunk', chunk: i, complete: complete(p) }); return; }
      res.writeHead(complete(p) ? 201 : 206, { 'Content-Length': 0 });
      res.end();
    });
  };
  if (fault && fault.startsWith('slow=')) return setTimeout(go, Number(fault.slice(5)));
  go();
}

function status(req, res) {
  jsonApi(req, res, 'status', (b, fault) => {
    const p = byPublish.get(b.publish_id);
    if (!p) return terr(res, 400, 'invalid_publish_id', 'publish_id not found');
    if (fault === 'fail') p.failed = true;
    const bytes = p.got.reduce((s, x, i) => s + (x ? (p.parts[i] || 0) : 0), 0);
    if (p.failed) return ok(res, { status: 'FAILED', fail_reason: 'file_format_check_failed', uploaded_bytes: bytes });
    if (!complete(p)) return ok(res, { status: 'PROCESSING_UPLOAD', uploaded_bytes: bytes });
    if (p.polls++ === 0) return ok(res, { status: 'PROCESSING_DOWNLOAD', uploaded_bytes: bytes });
    if (!p.post) {
      const sha = crypto.createHash('sha256');
      p.hash.forEach((x) => sha.update(x));
      p.hash = null;
      const n = posts.length;
      p.post = Object.assign({ id: String(7000000000000000000n + BigInt(n + 1)), publish_id: p.publishId,
        title: p.title, size: p.size, sha256: sha.digest('hex'), privacy: p.privacy },
      counters.counters({ views: 200, likes: 9, comments: 2, shares: 1 }, { views: 10, likes: 1, comments: 1, shares: 1 }, n));
      posts.push(p.post);
      byTitle[p.title] = (byTitle[p.title] || 0) + 1;
      note({ kind: 'posted', id: p.post.id, title: p.title });
    }
    const pub = p.privacy === 'PUBLIC_TO_EVERYONE' ? [BigInt(p.post.id)] : [];
    ok(res, { status: 'PUBLISH_COMPLETE', uploaded_bytes: bytes, publicaly_available_post_id: pub });
  });
}

const VIDEO_FIELDS = ['id', 'create_time', 'cover_image_url', 'share_url', 'video_description',
  'duration', 'height', 'width', 'title', 'embed_html', 'embed_link', 'like_count', 'comment_count',
  'share_count', 'view_count'];
const COUNTS = { view_count: 'views', like_count: 'likes', comment_count: 'comments', share_count: 'shares' };

// Display API "Query Videos": the public posts among filters.video_ids, with the fields asked.
function query(req, res, url) {
  const fields = (url.searchParams.get('fields') || '').split(',').filter((x) => x);
  if (fields.length === 0 || fields.some((f) => !VIDEO_FIELDS.includes(f))) {
    requests.query++;
    return terr(res, 400, 'invalid_params', 'fields must list fields of the video object');
  }
  jsonApi(req, res, 'query', (b, fault) => {
    const ids = b && b.filters && b.filters.video_ids;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 20 || ids.some((x) => typeof x !== 'string' || !/^\d{1,32}$/.test(x))) {
      return terr(res, 400, 'invalid_params', 'filters.video_ids must hold 1..20 video ids (strings)');
    }
    const videos = [];
    for (const id of ids) {
      const p = posts.find((x) => x.id === id && !x.deleted && x.privacy === 'PUBLIC_TO_EVERYONE');
      if (!p) continue;
            const m = counters.read(p);
      const v = {};
      for (const f of fields) {
        if (f === 'id') v.id = p.id;
        else if (COUNTS[f]) v[f] = fault === 'forged' && f === 'view_count' ? 'lots' : m[COUNTS[f]];
        else if (f === 'title' || f === 'video_description') v[f] = p.title;
        else if (f === 'share_url') v[f] = `https://www.tiktok.com/@test/video/${p.id}`;
        else v[f] = 0;
      }
      if (!v.id) v.id = p.id;
      videos.push(v);
    }
    note({ kind: 'query', ids, found: videos.length });
    ok(res, { videos, cursor: 0, has_more: false });
  });
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  if (url.pathname === '/v2/video/query/') {
    if (req.method !== 'POST') return terr(res, 405, 'invalid_params', 'video/query is a POST');
    return query(req, res, url);
  }
  if (req.method === 'POST' && url.pathname === '/__metrics') return counters.setMetrics(req, res, posts, false, send);
  if (req.method === 'POST' && url.pathname === '/v2/oauth/token/') return token(req, res);
  if (req.method === 'POST' && url.pathname === '/v2/post/publish/video/init/') return init(req, res);
  if (req.method === 'PUT' && url.pathname === '/upload/') return chunk(req, res, url);
  if (req.method === 'POST' && url.pathname === '/v2/post/publish/status/fetch/') return status(req, res);
  if (req.method === 'GET' && url.pathname === '/__stats') {
    return send(res, 200, { posts, by_title: byTitle, inits: byPublish.size, refreshes, requests, log });
  }
  if (req.method === 'POST' && url.pathname === '/__control') {
    return readBody(req, 65536, (buf) => {
      const c = JSON.parse(buf.toString() || '{}');
      if (c.fault === null) faults = [];
      else faults.push({ fault: String(c.fault), kind: c.kind || 'chunk', left: c.count || 1, skip: c.skip || 0 });
      send(res, 200, { faults });
    });
  }
  terr(res, 404, 'not_found', `no route ${req.method} ${url.pathname}`);
});
server.keepAliveTimeout = 30000;
server.listen(PORT, '127.0.0.1', () => {
  if (PORT_FILE) fs.writeFileSync(PORT_FILE, String(server.address().port));
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
