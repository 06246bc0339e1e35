#!/usr/bin/env node
// A Pixabay API test server (https://pixabay.com/api/docs/), for the visuals policy's stock
// search (scripts/agents/visuals.lua). Node built-ins only.
//
//   node tests/servers/pixabay.js [--port N] [--port-file PATH] [--key KEY] [--files DIR]
//
//   GET /api/?key=&q=&image_type=&orientation=&safesearch=&per_page=
//     -> {total, totalHits, hits: [{id, pageURL, type, tags, previewURL, webformatURL,
//         largeImageURL, imageWidth, imageHeight, views, downloads, likes, user_id, user,
//         userImageURL}]}
//     with X-RateLimit-Limit / -Remaining / -Reset headers. A q containing "nothing" finds
//     nothing (hits []). The files are the JPEGs of --files under /files/.
// Strict, as the API is: a wrong key is "[ERROR 400] Invalid or missing API key" (text, 400,
// counted bad_key); q at most 100 characters; image_type all|photo|illustration|vector;
// orientation all|horizontal|vertical; safesearch true|false; per_page 3..200; anything else a
// 400 naming it (counted rejected).
// Faults and stats: see stock_common.js (POST /__fault {fault: "429"|"500"|"drop"|"slow:MS"}).
'use strict';

const http = require('http');
const fs = require('fs');
const C = require('./stock_common');

const opts = C.args();
const st = C.makeState();
const RATE = { 'X-RateLimit-Limit': '100', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': '60' };

function hits(base, q) {
  const files = opts.files ? fs.readdirSync(opts.files).filter((f) => f.endsWith('.jpg')).sort() : [];
  return files.map((f, i) => ({
    id: 2000 + i, pageURL: `https://pixabay.com/photos/${q}-${2000 + i}/`, type: 'photo',
    tags: q, previewURL: `${base}/files/${f}`, webformatURL: `${base}/files/${f}`,
    largeImageURL: `${base}/files/${f}`, imageWidth: i === 0 ? 1920 : 1280,
    imageHeight: i === 0 ? 1280 : 1920, views: 1, downloads: 1, likes: 1, user_id: 9 + i,
    user: `pixuser${i}`, userImageURL: '' }));
}

const server = http.createServer((req, res) => {
  C.readBody(req, (body) => {
    const url = new URL(req.url, 'http://x');
    if (C.plumbing(st, opts, req, res, url, body)) return;
    if (url.pathname !== '/api/' && url.pathname !== '/api') return C.reject(st, res, `no route ${url.pathname}`, 404);
    if (req.method !== 'GET') return C.reject(st, res, 'GET only', 405);
    st.stats.searches++;
    const p = url.searchParams;
    if (p.get('key') !== opts.key) {
      st.stats.bad_key++;
      return C.send(res, 400, '[ERROR 400] Invalid or missing API key');
    }
    const q = p.get('q') || '';
    if (q.length > 100) return C.reject(st, res, 'q longer than 100 characters');
    const it = p.get('image_type');
    if (it && !['all', 'photo', 'illustration', 'vector'].includes(it)) return C.reject(st, res, `image_type ${it}`);
    const o = p.get('orientation');
    if (o && !['all', 'horizontal', 'vertical'].includes(o)) return C.reject(st, res, `orientation ${o}`);
    const ss = p.get('safesearch');
    if (ss && !['true', 'false'].includes(ss)) return C.reject(st, res, `safesearch ${ss}`);
    const per = Number(p.get('per_page') || '20');
    if (!(per >= 3 && per <= 200)) return C.reject(st, res, `per_page ${p.get('per_page')}`);
    st.stats.queries.push(q);
    const f = C.fault(st, res, RATE);
    const answer = () => {
      const base = `http://127.0.0.1:${server.address().port}`;
      const list = /nothing/.test(q) ? [] : hits(base, encodeURIComponent(q)).slice(0, per);
      if (list.length === 0) st.stats.empty++; else st.stats.ok++;
      C.send(res, 200, { total: list.length, totalHits: list.length, hits: list },
             Object.assign({}, RATE, { 'X-RateLimit-Remaining': '99' }));
    };
    if (f === true) return;
    if (typeof f === 'number') return setTimeout(answer, f);
    answer();
  });
});
C.listen(server, opts);
