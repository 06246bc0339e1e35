#!/usr/bin/env node
// A strict Instagram Graph API test server for the "instagram" channel kind
// (engine/publish/instagram.c), written from Meta's public reference ("Instagram Platform:
// Content Publishing", "Resumable Upload", "Media Insights", "Refresh Access Token"). Node
// built-ins only.
//
//   node tests/servers/instagram.js [--port N] [--token T] [--user-id ID] [--files DIR]
//
// Prints {"port": N} on its first stdout line. Serves on 127.0.0.1:
//   POST /vNN.N/{ig-user-id}/media         form: media_type=REELS, exactly one of video_url |
//        upload_type=resumable, caption? (<= 2200 chars, <= 30 hashtags), share_to_feed?
//        (true|false). -> {id} (+ uri for resumable). With video_url the server GETs the URL
//        (as Meta does) and the container ends ERROR unless it is an MP4 (an "ftyp" box).
//   POST /ig-api-upload/vNN.N/{container-id}  headers Authorization: OAuth <token>, offset,
//        file_size; body = bytes [offset, file_size). -> {success: true, message}
//   GET  /vNN.N/{container-id}?fields=status_code[,status,id]  -> {status_code, status?, id}:
//        IN_PROGRESS until the bytes arrived and `polls` more status reads passed, then FINISHED;
//        PUBLISHED once published; ERROR for a non-MP4 or the status_error fault.
//   POST /vNN.N/{ig-user-id}/media_publish  form: creation_id (a FINISHED container) -> {id}
//   GET  /vNN.N/{media-id}?fields=permalink[,id,...]  -> {permalink, id}
//   GET  /vNN.N/{ig-user-id}/media?fields=id,caption,timestamp[,..]&limit=N  -> {data: [..]}
//        newest first
//   GET  /vNN.N/{media-id}/insights?metric=views,likes,comments,shares (also plays, reach,
//        saved, total_interactions) -> {data: [{name, period, values: [{value}], title, id}]}
//   GET  /refresh_access_token?grant_type=ig_refresh_token&access_token=T -> {access_token,
//        token_type, expires_in}: T must be the current token (expired is fine, revoked is not)
//   GET  /__files/<path>      a file under --files (plays the public media host)
//   GET  /__stats             {requests, rejected, containers, uploads, posts, publish_calls,
//                              refreshes, posts_by_caption: {caption: n}, last_error}
//   POST /__control           {fault, count?, route?, value?}; {fault: null} clears. POST
//                             /__reset zeroes everything (the token too).
// Graph calls carry the token as "Authorization: Bearer T" or ?access_token=T (exactly one);
// a wrong or expired one is OAuthException code 190 (subcode 463 expired, 460 otherwise).
// Errors have Meta's shape {error: {message, type, code, error_subcode?, fbtrace_id}}.
// Faults (count requests of `route`: media, rupload, status, publish, permalink, list,
// insights, refresh, or "*"): 500, close (the connection dropped before any answer),
// close_after (the work is done, then the connection dropped), 429 (with Retry-After: value
// seconds), code4 (400, code 4 "Application request limit reached"), slow (answer after value
// ms), forged (200 with a body of the wrong shape), expire (the token expires now: refreshing
// it works), revoke (the token expires and cannot be refreshed), status_error (the next
// container ends ERROR), polls (containers, the unfinished ones too, stay IN_PROGRESS for value
// more status reads). close_after is for media_publish: the post is made, the answer lost.
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
const FIRST_TOKEN = arg('--token', 'IGQVJ-test-token');
const USER = arg('--user-id', '17841400000000001');
const FILES = arg('--files', '');

const METRICS = new Set(['views', 'plays', 'likes', 'comments', 'shares', 'reach', 'saved',
  'total_interactions']);

let st;
function reset() {
  st = {
    token: FIRST_TOKEN, expired: false, revoked: false, tokenSerial: 0, nextId: 1790000000000,
    containers: new Map(), media: [], faults: [], polls: 1, statusError: 0,
    stats: { requests: 0, rejected: 0, containers: 0, uploads: 0, posts: 0, publish_calls: 0,
      refreshes: 0, posts_by_caption: {}, last_error: '' },
  };
}
reset();

function newId() { st.nextId += 1; return String(st.nextId); }

function send(res, code, obj, headers) {
  const body = JSON.stringify(obj);
  res.writeHead(code, Object.assign({ 'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body) }, headers || {}));
  res.end(body);
}

function graphError(res, code, message, ecode, subcode, type) {
  st.stats.rejected += 1;
  st.stats.last_error = message;
  const e = { message, type: type || 'OAuthException', code: ecode,
    fbtrace_id: crypto.randomBytes(6).toString('hex') };
  if (subcode) e.error_subcode = subcode;
  send(res, code, { error: e });
}

function bad(res, message) { graphError(res, 400, message, 100, 0, 'IGApiException'); }

// The fault for this request's route, consumed.
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

function checkToken(req, url, res, rupload) {
  const auth = req.headers.authorization;
  const q = url.searchParams.get('access_token');
  let tok = null;
  if (rupload) {
    if (q !== null || !auth || !auth.startsWith('OAuth ')) {
      bad(res, 'rupload needs "Authorization: OAuth <token>" and no access_token parameter');
      return false;
    }
    tok = auth.slice(6);
  } else {
    if ((auth && q !== null) || (!auth && q === null)) {
      bad(res, 'pass the access token exactly once: Authorization: Bearer or access_token');
      return false;
    }
    if (auth) {
      if (!auth.startsWith('Bearer ')) { bad(res, 'Authorization must be "Bearer <token>"'); return false; }
      tok = auth.slice(7);
    } else {
      tok = q;
    }
  }
  if (tok !== st.token) {
    graphError(res, 400, 'Invalid OAuth access token - Cannot parse access token', 190, 460);
    return false;
  }
  if (st.expired || st.revoked) {
    graphError(res, 400, 'Error validating access token: Session has expired', 190, 463);
    return false;
  }
  return true;
}

function parseForm(body, res, allowed) {
  const p = new URLSearchParams(body.toString('utf8'));
  const out = {};
  for (const [k, v] of p) {
    if (!allowed.includes(k)) { bad(res, `(#100) Unknown parameter: ${k}`); return null; }
    if (k in out) { bad(res, `(#100) Parameter given twice: ${k}`); return null; }
    out[k] = v;
  }
  return out;
}

function isMp4(buf) { return buf.length >= 12 && buf.toString('latin1', 4, 8) === 'ftyp'; }

function fetchUrl(u, cb) {
  let done = false;
  const finish = (err, buf) => { if (!done) { done = true; cb(err, buf); } };
  try {
    http.get(u, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => finish(r.statusCode === 200 ? null : new Error(`HTTP ${r.statusCode}`),
        Buffer.concat(chunks)));
      r.on('error', finish);
    }).on('error', finish);
  } catch (e) { finish(e); }
}

function countHashtags(s) { return (s.match(/#[^\s#]+/g) || []).length; }

function createContainer(req, url, res, body) {
  const f = parseForm(body, res, ['media_type', 'video_url', 'upload_type', 'caption',
    'share_to_feed', 'cover_url', 'thumb_offset', 'audio_name', 'collaborators', 'location_id',
    'access_token']);
  if (!f) return;
  if (f.media_type !== 'REELS') return bad(res, '(#100) media_type must be REELS for a Reel');
  if ((f.video_url === undefined) === (f.upload_type === undefined)) {
    return bad(res, '(#100) give exactly one of video_url and upload_type=resumable');
  }
  if (f.upload_type !== undefined && f.upload_type !== 'resumable') {
    return bad(res, '(#100) upload_type must be resumable');
  }
  if (f.video_url !== undefined && !/^https?:\/\//.test(f.video_url)) {
    return bad(res, '(#100) video_url must be an http(s) URL');
  }
  const caption = f.caption || '';
  if ([...caption].length > 2200) return bad(res, '(#100) caption longer than 2200 characters');
  if (countHashtags(caption) > 30) return bad(res, '(#100) more than 30 hashtags');
  if (f.share_to_feed !== undefined && !['true', 'false'].includes(f.share_to_feed)) {
    return bad(res, '(#100) share_to_feed must be true or false');
  }
  const id = newId();
  const c = { id, caption, status: 'IN_PROGRESS', bytes: null, pollsLeft: st.polls,
    error: st.statusError > 0, published: null };
  if (st.statusError > 0) st.statusError -= 1;
  st.containers.set(id, c);
  st.stats.containers += 1;
  if (f.video_url !== undefined) {
    fetchUrl(f.video_url, (err, buf) => {
      if (err || !isMp4(buf)) c.error = true;
      c.bytes = buf || Buffer.alloc(0);
    });
    return send(res, 200, { id });
  }
  const host = req.headers.host;
  send(res, 200, { id, uri: `http://${host}/ig-api-upload/v21.0/${id}` });
}

function rupload(req, url, res, body, cid) {
  if (!checkToken(req, url, res, true)) return;
  const c = st.containers.get(cid);
  if (!c) return graphError(res, 400, 'Unknown container', 100, 0, 'ProcessingFailedError');
  const off = req.headers.offset, size = req.headers.file_size;
  if (off === undefined || size === undefined || !/^\d+$/.test(off) || !/^\d+$/.test(size)) {
    return bad(res, 'rupload needs integer offset and file_size headers');
  }
  if (Number(off) + body.length !== Number(size)) {
    return bad(res, `rupload: offset ${off} + ${body.length} body bytes != file_size ${size}`);
  }
  if (Number(off) > 0 && (!c.bytes || c.bytes.length !== Number(off))) {
    return bad(res, `rupload: offset ${off} does not continue the ${c.bytes ? c.bytes.length : 0} bytes received`);
  }
  if (c.status !== 'IN_PROGRESS') return bad(res, `rupload: container is ${c.status}`);
  c.bytes = Number(off) > 0 ? Buffer.concat([c.bytes, body]) : body;
  if (!isMp4(c.bytes)) c.error = true;
  st.stats.uploads += 1;
  send(res, 200, { success: true, message: 'Upload successful.' });
}

function fields(url, res, allowed, required) {
  const f = url.searchParams.get('fields');
  if (required && !f) { bad(res, '(#100) the fields parameter is required here'); return null; }
  const list = f ? f.split(',') : [];
  for (const x of list) if (!allowed.includes(x)) { bad(res, `(#100) Tried accessing nonexisting field (${x})`); return null; }
  return list;
}

function containerStatus(url, res, c) {
  const list = fields(url, res, ['status_code', 'status', 'id'], true);
  if (!list) return;
  if (c.status === 'IN_PROGRESS' && c.bytes !== null) {
    if (c.error) c.status = 'ERROR';
    else if (c.pollsLeft > 0) c.pollsLeft -= 1;
    else c.status = 'FINISHED';
  }
  const out = {};
  if (list.includes('status_code')) out.status_code = c.status;
  if (list.includes('status')) out.status = c.status === 'ERROR' ? 'Error: The video could not be processed (2207026)' : c.status;
  out.id = c.id;
  send(res, 200, out);
}

function publish(req, url, res, body) {
  const f = parseForm(body, res, ['creation_id', 'access_token']);
  if (!f) return null;
  st.stats.publish_calls += 1;
  const c = st.containers.get(f.creation_id || '');
  if (!c) { bad(res, '(#100) creation_id is not a container of this user'); return null; }
  if (c.status === 'PUBLISHED') { graphError(res, 400, 'The media has already been published', 9007, 2207027, 'IGApiException'); return null; }
  if (c.status !== 'FINISHED') { graphError(res, 400, 'Media ID is not available (the container is not FINISHED)', 9007, 2207027, 'IGApiException'); return null; }
  const id = newId();
  const m = { id, caption: c.caption, timestamp: new Date().toISOString().replace(/\.\d+Z$/, '+0000'),
    permalink: `https://www.instagram.com/reel/${crypto.createHash('sha256').update(id).digest('base64url').slice(0, 11)}/`,
    container: c.id, likes: 3, comments: 1, shares: 2, views: 120 };
  st.media.unshift(m);
  c.status = 'PUBLISHED';
  c.published = id;
  st.stats.posts += 1;
  st.stats.posts_by_caption[c.caption] = (st.stats.posts_by_caption[c.caption] || 0) + 1;
  return { id };
}

function handleApi(req, res, url, body, fault) {
  const parts = url.pathname.split('/').filter(Boolean);
  if (url.pathname === '/refresh_access_token') {
    if (req.method !== 'GET') return bad(res, 'refresh_access_token is a GET');
    if (url.searchParams.get('grant_type') !== 'ig_refresh_token') return bad(res, 'grant_type must be ig_refresh_token');
    if (url.searchParams.get('access_token') !== st.token || st.revoked) {
      return graphError(res, 400, 'Error validating access token: the session was invalidated', 190, 460);
    }
    st.tokenSerial += 1;
    st.token = `${FIRST_TOKEN}-r${st.tokenSerial}`;
    st.expired = false;
    st.stats.refreshes += 1;
    return send(res, 200, { access_token: st.token, token_type: 'bearer', expires_in: 5183944 });
  }
  if (parts[0] === 'ig-api-upload' && parts.length === 3 && /^v\d+\.\d+$/.test(parts[1])) {
    if (req.method !== 'POST') return bad(res, 'rupload is a POST');
    return rupload(req, url, res, body, parts[2]);
  }
  if (parts.length < 2 || !/^v\d+\.\d+$/.test(parts[0])) return bad(res, `unknown path ${url.pathname}`);
  if (!checkToken(req, url, res, false)) return;
  const [, a, b] = parts;
  if (a === USER && b === 'media' && parts.length === 3) {
    if (req.method === 'POST') {
      if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') return bad(res, 'POST bodies are application/x-www-form-urlencoded');
      return createContainer(req, url, res, body);
    }
    if (req.method === 'GET') {
      const list = fields(url, res, ['id', 'caption', 'timestamp', 'permalink', 'media_type', 'media_product_type'], false);
      if (!list) return;
      const limit = Math.min(Number(url.searchParams.get('limit') || '25'), 100);
      const data = st.media.slice(0, limit).map((m) => {
        const o = { id: m.id };
        for (const k of list) if (k !== 'id') o[k] = k === 'media_type' ? 'VIDEO' : k === 'media_product_type' ? 'REELS' : m[k];
        return o;
      });
      return send(res, 200, { data, paging: { cursors: { before: 'b', after: 'a' } } });
    }
  }
  if (a === USER && b === 'media_publish' && parts.length === 3 && req.method === 'POST') {
    if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') return bad(res, 'POST bodies are application/x-www-form-urlencoded');
    const out = publish(req, url, res, body);
    if (out === null) return;
    if (fault && fault.fault === 'close_after') { req.socket.destroy(); return; }
    return send(res, 200, out);
  }
  if (parts.length === 2 && req.method === 'GET') {
    const c = st.containers.get(a);
    if (c) return containerStatus(url, res, c);
    const m = st.media.find((x) => x.id === a);
    if (m) {
      const list = fields(url, res, ['permalink', 'id', 'caption', 'timestamp'], true);
      if (!list) return;
      const o = { id: m.id };
      for (const k of list) o[k] = m[k];
      return send(res, 200, o);
    }
    return graphError(res, 400, `Unsupported get request. Object with ID '${a}' does not exist`, 100, 33, 'GraphMethodException');
  }
  if (parts.length === 3 && b === 'insights' && req.method === 'GET') {
    const m = st.media.find((x) => x.id === a);
    if (!m) return graphError(res, 400, `Object with ID '${a}' does not exist`, 100, 33, 'GraphMethodException');
    const metric = url.searchParams.get('metric');
    if (!metric) return bad(res, '(#100) The parameter metric is required');
    const data = [];
    for (const name of metric.split(',')) {
      if (!METRICS.has(name)) return bad(res, `(#100) metric[0] must be one of the following values: ${[...METRICS].join(', ')}`);
      data.push({ name, period: 'lifetime', values: [{ value: m[name] === undefined ? 0 : m[name] }],
        title: name, description: '', id: `${m.id}/insights/${name}/lifetime` });
    }
    return send(res, 200, { data });
  }
  return bad(res, `unknown ${req.method} ${url.pathname}`);
}

function routeOf(method, pathname) {
  const parts = pathname.split('/').filter(Boolean);
  if (pathname === '/refresh_access_token') return 'refresh';
  if (parts[0] === 'ig-api-upload') return 'rupload';
  if (parts[2] === 'media_publish') return 'publish';
  if (parts[2] === 'media') return method === 'POST' ? 'media' : 'list';
  if (parts[2] === 'insights') return 'insights';
  if (parts.length === 2 && st.containers.has(parts[1])) return 'status';
  return 'permalink';
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
      if (c.fault === 'expire') { st.expired = true; return send(res, 200, { ok: true }); }
      if (c.fault === 'revoke') { st.revoked = true; return send(res, 200, { ok: true }); }
      if (c.fault === 'status_error') { st.statusError += c.count || 1; return send(res, 200, { ok: true }); }
      if (c.fault === 'polls') {
        st.polls = Number(c.value);
        for (const k of st.containers.values()) if (k.status === 'IN_PROGRESS') k.pollsLeft = st.polls;
        return send(res, 200, { ok: true });
      }
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
    const fault = takeFault(routeOf(req.method, url.pathname));
    const go = () => handleApi(req, res, url, body, fault);
    if (!fault) return go();
    switch (fault.fault) {
      case '500': return graphError(res, 500, 'An unexpected error has occurred. Please retry your request later.', 2, 0, 'OAuthException');
      case 'close': return req.socket.destroy();
      case '429': res.setHeader('Retry-After', String(fault.value || 7)); return graphError(res, 429, 'Too many calls', 4);
      case 'code4': return graphError(res, 400, 'Application request limit reached', 4, 0, 'OAuthException');
      case 'slow': return setTimeout(go, Number(fault.value || 1000));
      case 'forged': return send(res, 200, { data: 'unexpected', id: 12 });
      case 'close_after': return go();
      default: return go();
    }
  });
});
server.keepAliveTimeout = 1000;
server.listen(PORT, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
