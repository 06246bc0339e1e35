#!/usr/bin/env node
// A Pexels API test server (https://www.pexels.com/api/documentation/), for the visuals policy's
// stock search (scripts/agents/visuals.lua). Node built-ins only.
//
//   node tests/servers/pexels.js [--port N] [--port-file PATH] [--key KEY] [--files DIR]
//
//   GET /v1/search?query=&orientation=&size=&per_page=  (header Authorization: KEY)
//     -> {page, per_page, total_results, photos: [{id, width, height, url, photographer,
//         photographer_url, photographer_id, avg_color, alt, src: {original, large2x, large,
//         medium, small, portrait, landscape, tiny}}], next_page?}
//     with X-Ratelimit-Limit / -Remaining / -Reset headers. A query containing "nothing" finds
//     nothing (total_results 0, photos []). The photos' files are the JPEGs of --files, served
//     under /files/ (the CDN).
// Strict about the request, as the API is: a missing or wrong Authorization is a 401
// ({"error": ...}, counted bad_key); query required; orientation landscape|portrait|square;
// size large|medium|small; per_page 1..80; anything else a 400 naming it (counted rejected).
// Faults and stats: see stock_common.js (POST /__fault {fault: "429"|"500"|"drop"|"slow:MS"}).
'use strict';

const http = require('http');
const fs = require('fs');
const C = require('./stock_common');

const opts = C.args();
const st = C.makeState();
const RATE = { 'X-Ratelimit-Limit': '20000', 'X-Ratelimit-Remaining': '0',
               'X-Ratelimit-Reset': String(Math.floor(Date.now() / 1000) + 3600) };

function photos(base, query) {
  const files = opts.files ? fs.readdirSync(opts.files).filter((f) => f.endsWith('.jpg')).sort() : [];
  return files.map((f, i) => {
    const src = `${base}/files/${f}`;
    // the first is landscape (the policy must skip it), the others portrait
    const w = i === 0 ? 4000 : 2400, h = i === 0 ? 3000 : 3600;
    return { id: 1000 + i, width: w, height: h, url: `https://www.pexels.com/photo/${query}-${1000 + i}/`,
             photographer: `Photographer ${i}`, photographer_url: 'https://www.pexels.com/@p',
             photographer_id: 7 + i, avg_color: '#7E7E7E', alt: query, liked: false,
             src: { original: src, large2x: src, large: src, medium: src, small: src,
                    portrait: src, landscape: src, tiny: src } };
  });
}

const server = http.createServer((req, res) => {
  C.readBody(req, (body) => {
    const url = new URL(req.url, 'http://x');
    if (C.plumbing(st, opts, req, res, url, body)) return;
    if (url.pathname !== '/v1/search') return C.reject(st, res, `no route ${url.pathname}`, 404);
    if (req.method !== 'GET') return C.reject(st, res, 'GET only', 405);
    st.stats.searches++;
    if (req.headers.authorization !== opts.key) {
      st.stats.bad_key++;
      return C.send(res, 401, { error: 'Authorization field missing or invalid' });
    }
    const q = url.searchParams;
    const query = q.get('query');
    if (!query) return C.reject(st, res, 'query is required');
    const o = q.get('orientation');
    if (o && !['landscape', 'portrait', 'square'].includes(o)) return C.reject(st, res, `orientation ${o}`);
    const size = q.get('size');
    if (size && !['large', 'medium', 'small'].includes(size)) return C.reject(st, res, `size ${size}`);
    const per = Number(q.get('per_page') || '15');
    if (!(per >= 1 && per <= 80)) return C.reject(st, res, `per_page ${q.get('per_page')}`);
    st.stats.queries.push(query);
    const f = C.fault(st, res, RATE);
    const answer = () => {
      const base = `http://127.0.0.1:${server.address().port}`;
      const list = /nothing/.test(query) ? [] : photos(base, encodeURIComponent(query)).slice(0, per);
      if (list.length === 0) st.stats.empty++; else st.stats.ok++;
      C.send(res, 200, { page: 1, per_page: per, total_results: list.length, photos: list },
             Object.assign({}, RATE, { 'X-Ratelimit-Remaining': '19999' }));
    };
    if (f === true) return;
    if (typeof f === 'number') return setTimeout(answer, f);
    answer();
  });
});
C.listen(server, opts);
