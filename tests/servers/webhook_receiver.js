#!/usr/bin/env node
// A strict receiver for the "webhook" channel kind (engine/publish/webhook.c): a team's own
// posting service as the channel's documentation (docs/publishing-instagram-webhook.md)
// describes it. Node built-ins only; the JWT is checked with its own HS256 code (crypto's HMAC,
// a constant-time compare), not a JWT library.
//
//   node tests/servers/webhook_receiver.js --secret KEY [--audience AUD] [--port N]
//        [--files DIR]
//
// Prints {"port": N} on its first stdout line. Serves on 127.0.0.1:
//   POST /hook        headers: Content-Type application/json, Authorization "Bearer <JWT>",
//                     Idempotency-Key [A-Za-z0-9_-]{8,128}. JWT: header {alg: HS256, typ: JWT},
//                     claims iss "ain", sub = body.video_id, aud = AUD, jti = Idempotency-Key,
//                     iat <= now + 5, now < exp, exp - iat <= 300. Body: {event: "publish",
//                     channel, video_id, idempotency_key (= the header), metadata: object,
//                     media: [{role, name, url, bytes}] with one role "video"}; the video's URL
//                     is fetched and must be an MP4 of `bytes` bytes (an "ftyp" box).
//                     -> 201 {post_id, url} the first time a key is seen; 200 {post_id, url,
//                     already: true} after. A different video_id, channel or metadata under a seen key -> 422.
//   DELETE /posts/ID  JWT with sub = ID, aud = AUD, a jti never seen -> 204; unknown ID -> 404
//   GET  /__files/<path>  a file under --files (the media host)
//   GET  /__stats     {requests, rejected, posts, deletes, by_video: {video_id: posts},
//                      by_key: {key: requests}, last_error}
//   POST /__control   {fault, count?, route?: "hook"|"delete"|"*", value?}; {fault: null}
//                     clears. POST /__reset zeroes everything.
// Faults: 500, 503, close (the connection dropped before any answer), close_after (the post is
// made, then the connection dropped), 429 (Retry-After: value seconds), 401, slow (answer after
// value ms), forged (200 with a body of the wrong shape).
'use strict';

const http = require('http');
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { URL } = require('url');

const args = process.argv.slice(2);
function arg(name, def) {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
}
const PORT = Number(arg('--port', '0'));
const SECRET = arg('--secret', '');
const AUD = arg('--audience', 'hook');
const FILES = arg('--files', '');
if (SECRET.length < 32) {
  process.stderr.write('webhook_receiver: --secret of at least 32 bytes is required\n');
  process.exit(2);
}

let st;
function reset() {
  st = {
    posts: new Map(), // key -> {post_id, url, body, video_id}
    byId: new Map(), deleteJtis: new Set(), faults: [], next: 1,
    stats: { requests: 0, rejected: 0, posts: 0, deletes: 0, by_video: {}, by_key: {}, last_error: '' },
  };
}
reset();

function send(res, code, obj, headers) {
  const body = obj === null ? '' : JSON.stringify(obj);
  res.writeHead(code, Object.assign(obj === null ? {} : { 'Content-Type': 'application/json' },
    { 'Content-Length': Buffer.byteLength(body) }, headers || {}));
  res.end(body);
}

function refuse(res, code, message) {
  st.stats.rejected += 1;
  st.stats.last_error = message;
  send(res, code, { error: { message } });
}

function b64urlJson(s) {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) throw new Error('not base64url');
  return JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
}

// The claims of a valid HS256 JWT for aud, or throws with the reason.
function verifyJwt(auth, aud) {
  if (!auth || !auth.startsWith('Bearer ')) throw new Error('Authorization must be "Bearer <JWT>"');
  const parts = auth.slice(7).split('.');
  if (parts.length !== 3) throw new Error('the JWT is not three base64url parts');
  const header = b64urlJson(parts[0]);
  if (header.alg !== 'HS256') throw new Error(`JWT alg ${header.alg} is not HS256`);
  if (header.typ !== undefined && header.typ !== 'JWT') throw new Error('JWT typ is not JWT');
  const mac = crypto.createHmac('sha256', SECRET).update(`${parts[0]}.${parts[1]}`).digest();
  const sig = Buffer.from(parts[2], 'base64url');
  if (sig.length !== mac.length || !crypto.timingSafeEqual(sig, mac)) throw new Error('JWT signature does not verify');
  const c = b64urlJson(parts[1]);
  const now = Math.floor(Date.now() / 1000);
  for (const k of ['iss', 'sub', 'aud', 'jti']) if (typeof c[k] !== 'string' || c[k] === '') throw new Error(`JWT claim ${k} missing`);
  for (const k of ['iat', 'exp']) if (!Number.isInteger(c[k])) throw new Error(`JWT claim ${k} is not an integer`);
  if (c.iss !== 'ain') throw new Error('JWT iss is not "ain"');
  if (c.aud !== aud) throw new Error(`JWT aud "${c.aud}" is not "${aud}"`);
  if (c.iat > now + 5) throw new Error('JWT iat is in the future');
  if (c.exp <= now) throw new Error('JWT expired');
  if (c.exp - c.iat > 300) throw new Error('JWT lives longer than 300 s');
  return c;
}

function takeFault(route) {
  for (let i = 0; i < st.faults.length; i++) {
    const f = st.faults[i];
    if (f.route === '*' || f.route === route) {
      f.count -= 1;
      if (f.count <= 0) st.faults.splice(i, 1);
      return f;
    }
  }
  return null;
}

function fetchUrl(u, cb) {
  let done = false;
  const finish = (err, buf) => { if (!done) { done = true; cb(err, buf); } };
  try {
    http.get(u, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => finish(r.statusCode === 200 ? null : new Error(`HTTP ${r.statusCode}`), Buffer.concat(chunks)));
      r.on('error', finish);
    }).on('error', finish);
  } catch (e) { finish(e); }
}

function checkBody(b, key) {
  const keys = ['event', 'channel', 'video_id', 'idempotency_key', 'metadata', 'media'];
  for (const k of Object.keys(b)) if (!keys.includes(k)) return `unknown field ${k}`;
  if (b.event !== 'publish') return 'event must be "publish"';
  for (const k of ['channel', 'video_id', 'idempotency_key']) if (typeof b[k] !== 'string' || !b[k]) return `${k} must be a non-empty string`;
  if (b.idempotency_key !== key) return 'idempotency_key differs from the Idempotency-Key header';
  if (b.metadata === null || typeof b.metadata !== 'object' || Array.isArray(b.metadata)) return 'metadata must be an object';
  if (!Array.isArray(b.media) || b.media.length === 0) return 'media must be a non-empty array';
  for (const m of b.media) {
    if (typeof m.role !== 'string' || typeof m.name !== 'string' || typeof m.url !== 'string' || !Number.isInteger(m.bytes)) return 'each media entry needs role, name, url, bytes';
    if (!/^https?:\/\//.test(m.url)) return `media url ${m.url} is not http(s)`;
  }
  if (b.media.filter((m) => m.role === 'video').length !== 1) return 'media needs exactly one role "video"';
  return null;
}

function hook(req, res, body, fault) {
  if (req.headers['content-type'] !== 'application/json') return refuse(res, 415, 'Content-Type must be application/json');
  const key = req.headers['idempotency-key'];
  if (typeof key !== 'string' || !/^[A-Za-z0-9_-]{8,128}$/.test(key)) return refuse(res, 400, 'Idempotency-Key header missing or malformed');
  let b;
  try { b = JSON.parse(body.toString('utf8')); } catch (e) { return refuse(res, 400, 'body is not JSON'); }
  if (b === null || typeof b !== 'object' || Array.isArray(b)) return refuse(res, 400, 'body is not a JSON object');
  let c;
  try { c = verifyJwt(req.headers.authorization, AUD); } catch (e) { return refuse(res, 401, e.message); }
  if (c.jti !== key) return refuse(res, 401, 'JWT jti is not the Idempotency-Key');
  const why = checkBody(b, key);
  if (why) return refuse(res, 400, why);
  if (c.sub !== b.video_id) return refuse(res, 401, 'JWT sub is not the video_id');
  // Media URLs may differ between retries (presigned URLs are signed anew): not compared.
  const canon = JSON.stringify({ channel: b.channel, video_id: b.video_id, metadata: b.metadata });
  const seen = st.posts.get(key);
  if (seen) {
    if (seen.body !== canon) return refuse(res, 422, 'a different body under a used Idempotency-Key');
    return send(res, 200, { post_id: seen.post_id, url: seen.url, already: true });
  }
  const video = b.media.find((m) => m.role === 'video');
  fetchUrl(video.url, (err, buf) => {
    if (err || buf.length !== video.bytes || buf.toString('latin1', 4, 8) !== 'ftyp') {
      return refuse(res, 422, `the video at its URL is not the ${video.bytes}-byte MP4 announced`);
    }
    if (st.posts.has(key)) { // a concurrent duplicate landed first
      const s = st.posts.get(key);
      return send(res, 200, { post_id: s.post_id, url: s.url, already: true });
    }
    const post_id = `post-${st.next++}`;
    const p = { post_id, url: `https://team.example/posts/${post_id}`, body: canon, video_id: b.video_id };
    st.posts.set(key, p);
    st.byId.set(post_id, p);
    st.stats.posts += 1;
    st.stats.by_video[b.video_id] = (st.stats.by_video[b.video_id] || 0) + 1;
    if (fault && fault.fault === 'close_after') return req.socket.destroy();
    send(res, 201, { post_id, url: p.url });
  });
}

function del(req, res, id) {
  let c;
  try { c = verifyJwt(req.headers.authorization, AUD); } catch (e) { return refuse(res, 401, e.message); }
  if (c.sub !== id) return refuse(res, 401, 'JWT sub is not the post id');
  if (st.deleteJtis.has(c.jti)) return refuse(res, 401, 'JWT jti replayed');
  st.deleteJtis.add(c.jti);
  const p = st.byId.get(id);
  if (!p || p.deleted) return refuse(res, 404, `no post ${id}`);
  p.deleted = true;
  st.stats.deletes += 1;
  send(res, 204, null);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/__stats') return send(res, 200, st.stats);
    if (url.pathname === '/__reset') { reset(); return send(res, 200, { ok: true }); }
    if (url.pathname === '/__control') {
      let c;
      try { c = JSON.parse(body.toString('utf8')); } catch (e) { return send(res, 400, { error: 'bad json' }); }
      if (c.fault === null) { st.faults = []; return send(res, 200, { ok: true }); }
      st.faults.push({ fault: String(c.fault), count: c.count || 1, route: c.route || '*', value: c.value });
      return send(res, 200, { ok: true });
    }
    if (url.pathname.startsWith('/__files/') && FILES) {
      const p = path.resolve(FILES, decodeURIComponent(url.pathname.slice(9)));
      if (!p.startsWith(path.resolve(FILES) + path.sep)) return send(res, 403, { error: 'outside' });
      return fs.readFile(p, (err, buf) => {
        if (err) return send(res, 404, { error: 'not found' });
        res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': buf.length });
        res.end(buf);
      });
    }
    st.stats.requests += 1;
    let route = null, go = null;
    if (url.pathname === '/hook' && req.method === 'POST') {
      route = 'hook';
    } else if (url.pathname.startsWith('/posts/') && req.method === 'DELETE') {
      route = 'delete';
    } else {
      return refuse(res, 404, `no ${req.method} ${url.pathname}`);
    }
    const ik = req.headers['idempotency-key'];
    if (route === 'hook' && typeof ik === 'string') st.stats.by_key[ik] = (st.stats.by_key[ik] || 0) + 1;
    const fault = takeFault(route);
    go = () => (route === 'hook' ? hook(req, res, body, fault)
      : del(req, res, decodeURIComponent(url.pathname.slice(7))));
    if (!fault) return go();
    switch (fault.fault) {
      case '500': return refuse(res, 500, 'internal error');
      case '503': return refuse(res, 503, 'unavailable');
      case 'close': return req.socket.destroy();
      case '429': res.setHeader('Retry-After', String(fault.value || 3)); return refuse(res, 429, 'slow down');
      case '401': return refuse(res, 401, 'token refused');
      case 'slow': return setTimeout(go, Number(fault.value || 1000));
      case 'forged': return send(res, 200, { id: 12, href: 5 });
      default: return go();
    }
  });
});
server.keepAliveTimeout = 1000;
server.listen(PORT, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
