// Per-post metric counters of the platform test servers (youtube.js, tiktok.js): each post
// carries {metrics: {...}, deleted, grow}; a test sets them through POST /__metrics and the
// server's metrics read hands them out. Node built-ins only.
//   POST /__metrics {id | title, <counter>?, deleted?, grow?}: sets the post's counters (an
//        integer >= 0, or null where the platform may leave the member out: nullable); deleted:
//        the platform no longer lists the post; grow: views added by every read of the post.
'use strict';

// Fresh counters for a new post: each name of `start` plus n (the post's index) times `step`.
function counters(start, step, n) {
  const m = {};
  for (const k of Object.keys(start)) m[k] = start[k] + n * (step[k] || 0);
  return { metrics: m, deleted: false, grow: 0 };
}

// A read of post p: its views grow, then its counters.
function read(p) {
  p.metrics.views += p.grow;
  return p.metrics;
}

// The POST /__metrics handler over posts (an array of {id, title, metrics, deleted, grow}).
function setMetrics(req, res, posts, nullable, send) {
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('end', () => {
    let c;
    try { c = JSON.parse(Buffer.concat(parts).toString()); } catch (e) { return send(res, 400, { error: 'bad json' }); }
    const p = posts.find((x) => (c.id !== undefined && x.id === c.id) || (c.title !== undefined && x.title === c.title));
    if (!p) return send(res, 404, { error: 'no such post' });
    for (const k of Object.keys(p.metrics)) {
      if (c[k] === undefined) continue;
      if (!((Number.isInteger(c[k]) && c[k] >= 0) || (nullable && c[k] === null))) {
        return send(res, 400, { error: `${k} must be an integer >= 0${nullable ? ' or null' : ''}` });
      }
      p.metrics[k] = c[k];
    }
    if (c.deleted !== undefined) p.deleted = !!c.deleted;
    if (c.grow !== undefined) p.grow = Number(c.grow) || 0;
    send(res, 200, p);
  });
  req.on('error', () => {});
}

module.exports = { counters, read, setMetrics };
