#!/usr/bin/env node
// A real S3-protocol server (s3rver, npm) behind a strict verifying proxy, for the S3 object
// store's tests (engine/objstore/s3*.c). s3rver checks neither SigV4 signatures nor payload
// hashes (research/toolchain.md §5), so the proxy does, with an independent implementation
// (@smithy/signature-v4, the AWS SDK's signer):
//   - every request must carry a header signature (Authorization: AWS4-HMAC-SHA256 ...) or a
//     presigned query (X-Amz-Signature); the proxy recomputes it from the request as received
//     (only the headers the request says it signed) and answers 403 SignatureDoesNotMatch on a
//     mismatch, as S3 would; a presigned URL past X-Amz-Date + X-Amz-Expires gets 403 too;
//   - a body whose x-amz-content-sha256 is a hash must hash to it (400
//     XAmzContentSHA256Mismatch), and one with x-amz-checksum-sha256 must match it (400
//     BadDigest); the checksum is echoed in the answer, as S3 does.
// Then it forwards to s3rver and relays the answer.
//
//   node tests/servers/s3_verify.js --dir DIR [--bucket NAME] [--access AK --secret SK]
//                                   [--region us-east-1] [--direct]
// prints one JSON line {"proxy": port, "s3rver": port} when both listen on 127.0.0.1.
// --direct: no proxy in front (the benchmark talks to s3rver itself; "proxy" is s3rver's port).
//
// Control (not signed): GET /__log -> [{method, url, verified}] since the last reset;
// POST /__reset; POST /__fault {method?, match? (regex on path?query), status? | truncate: true |
// close: true, count?}: the next `count` (default 1) matching requests get the fault (status: an
// S3 XML error without reaching s3rver; truncate: s3rver's answer cut half-way with its full
// Content-Length, then the connection closed; close: closed before any answer).
'use strict';

const http = require('http');
const crypto = require('crypto');
const path = require('path');
const S3rver = require(path.join(__dirname, '../../tools/node/node_modules/s3rver'));
const { SignatureV4 } = require(path.join(__dirname,
  '../../tools/node/node_modules/@smithy/signature-v4'));
const { Sha256 } = require(path.join(__dirname, '../../tools/node/node_modules/@aws-crypto/sha256-js'));

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--direct') args.direct = true;
  else args[a.replace(/^--/, '')] = process.argv[++i];
}
const BUCKET = args.bucket || 'ain-test';
const ACCESS = args.access || 'S3RVER';
const SECRET = args.secret || 'S3RVER';
const REGION = args.region || 'us-east-1';
if (!args.dir) {
  console.error('s3_verify: --dir is required');
  process.exit(2);
}

const signer = new SignatureV4({
  credentials: { accessKeyId: ACCESS, secretAccessKey: SECRET },
  region: REGION,
  service: 's3',
  sha256: Sha256,
  uriEscapePath: false, // S3 signs the path as sent, encoded once
  applyChecksum: false,
});

let log = [];
let faults = [];

function xmlError(res, status, code, message, extra) {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code>` +
    `<Message>${message}</Message>${extra || ''}</Error>`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function amzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  return m ? new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6])) : null;
}

function splitUrl(url) {
  const q = url.indexOf('?');
  const pathname = q < 0 ? url : url.slice(0, q);
  const query = {};
  if (q >= 0) {
    for (const part of url.slice(q + 1).split('&')) {
      if (part === '') continue;
      const eq = part.indexOf('=');
      const k = decodeURIComponent(eq < 0 ? part : part.slice(0, eq));
      query[k] = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1));
    }
  }
  return { pathname, query };
}

// null if the signature checks out, else why not.
async function verify(req) {
  const { pathname, query } = splitUrl(req.url);
  const host = req.headers.host;
  if (query['X-Amz-Signature'] !== undefined) {
    if (query['X-Amz-Algorithm'] !== 'AWS4-HMAC-SHA256') return 'bad X-Amz-Algorithm';
    const date = amzDate(query['X-Amz-Date']);
    const expires = Number(query['X-Amz-Expires']);
    if (!date || !(expires >= 1 && expires <= 604800)) return 'bad X-Amz-Date or X-Amz-Expires';
    if (Date.now() > date.getTime() + expires * 1000) return 'expired';
    if (query['X-Amz-SignedHeaders'] !== 'host') return 'unexpected X-Amz-SignedHeaders';
    const rest = {};
    for (const [k, v] of Object.entries(query)) if (!k.startsWith('X-Amz-')) rest[k] = v;
    // As the SDK's S3 presigner does: the payload is UNSIGNED-PAYLOAD, not hoisted nor signed.
    const only = new Set(['x-amz-content-sha256']);
    const signed = await signer.presign(
      { method: req.method, protocol: 'http:', hostname: host, path: pathname, query: rest,
        headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
      { signingDate: date, expiresIn: expires, unhoistableHeaders: only, unsignableHeaders: only });
    if (signed.query['X-Amz-Credential'] !== query['X-Amz-Credential']) return 'credential mismatch';
    return signed.query['X-Amz-Signature'] === query['X-Amz-Signature'] ? null : 'presigned signature mismatch';
  }
  const auth = req.headers.authorization || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return `no SigV4 Authorization header (${auth.slice(0, 60)})`;
  if (m[1] !== ACCESS) return 'unknown access key';
  if (m[3] !== REGION) return `region ${m[3]} is not ${REGION}`;
  const date = amzDate(req.headers['x-amz-date']);
  if (!date || req.headers['x-amz-date'].slice(0, 8) !== m[2]) return 'bad x-amz-date';
  const names = m[4].split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) return 'host or x-amz-date not signed';
  if (!names.includes('x-amz-content-sha256')) return 'x-amz-content-sha256 not signed';
  const headers = {};
  for (const n of names) {
    if (req.headers[n] === undefined) return `signed header ${n} missing`;
    headers[n] = req.headers[n];
  }
  const signed = await signer.sign(
    { method: req.method, protocol: 'http:', hostname: host, path: pathname, query, headers },
    { signingDate: date, signableHeaders: new Set(names) });
  const got = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization)[1];
  const list = /SignedHeaders=([^,]+)/.exec(signed.headers.authorization)[1];
  if (list !== m[4]) return `signed header list ${list} vs ${m[4]}`;
  return got === m[5] ? null : 'signature mismatch';
}

function takeFault(req) {
  for (const f of faults) {
    if (f.count <= 0) continue;
    if (f.method && f.method !== req.method) continue;
    if (f.match && !new RegExp(f.match).test(req.url)) continue;
    f.count--;
    return f;
  }
  return null;
}

function control(req, res, body) {
  if (req.method === 'GET' && req.url === '/__log') {
    const out = JSON.stringify(log);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return res.end(out);
  }
  if (req.method === 'POST' && req.url === '/__reset') {
    log = [];
    faults = [];
    res.writeHead(204);
    return res.end();
  }
  if (req.method === 'POST' && req.url === '/__fault') {
    const f = JSON.parse(body.toString() || '{}');
    f.count = f.count || 1;
    faults.push(f);
    res.writeHead(204);
    return res.end();
  }
  res.writeHead(404);
  res.end();
}

// s3rver knows one key pair (S3RVER/S3RVER): the request, verified here with the test's own
// keys, goes on without its signature (s3rver serves anonymous requests).
function forward(req, res, body, s3port, fault, echo) {
  const headers = { ...req.headers, 'content-length': String(body.length) };
  delete headers['transfer-encoding'];
  delete headers.expect;
  delete headers.authorization;
  const q = req.url.indexOf('?');
  let url = req.url;
  if (q >= 0) {
    const kept = url.slice(q + 1).split('&').filter((p) => p && !p.startsWith('X-Amz-'));
    url = url.slice(0, q) + (kept.length ? `?${kept.join('&')}` : '');
  }
  const up = http.request({ host: '127.0.0.1', port: s3port, method: req.method, path: url, headers }, (ur) => {
    const h = { ...ur.headers };
    if (echo) h['x-amz-checksum-sha256'] = echo;
    if (fault && fault.truncate) {
      const chunks = [];
      ur.on('data', (c) => chunks.push(c));
      ur.on('end', () => {
        const all = Buffer.concat(chunks);
        h['content-length'] = String(all.length);
        res.writeHead(ur.statusCode, h);
        res.write(all.subarray(0, Math.floor(all.length / 2)));
        setTimeout(() => res.socket.destroy(), 20);
      });
      return;
    }
    res.writeHead(ur.statusCode, h);
    ur.pipe(res);
  });
  up.on('error', (e) => xmlError(res, 502, 'ProxyError', String(e)));
  up.end(body);
}

async function main() {
  const s3 = new S3rver({
    address: '127.0.0.1', port: 0, silent: true, directory: args.dir,
    serviceEndpoint: 'localhost', configureBuckets: [{ name: BUCKET }],
  });
  const addr = await s3.run();
  if (args.direct) {
    console.log(JSON.stringify({ proxy: addr.port, s3rver: addr.port }));
    return;
  }
  const proxy = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      if (req.url.startsWith('/__')) return control(req, res, body);
      const entry = { method: req.method, url: req.url, host: req.headers.host, verified: false };
      log.push(entry);
      let why;
      try {
        why = await verify(req);
      } catch (e) {
        why = `verifier error: ${e.message}`;
      }
      if (why) {
        entry.why = why;
        return xmlError(res, 403, why === 'expired' ? 'AccessDenied' : 'SignatureDoesNotMatch', why);
      }
      entry.verified = true;
      const ph = req.headers['x-amz-content-sha256'];
      if (ph && ph !== 'UNSIGNED-PAYLOAD' && crypto.createHash('sha256').update(body).digest('hex') !== ph) {
        entry.why = 'payload hash';
        return xmlError(res, 400, 'XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.');
      }
      let echo = null;
      const cs = req.headers['x-amz-checksum-sha256'];
      if (cs) {
        if (crypto.createHash('sha256').update(body).digest('base64') !== cs) {
          return xmlError(res, 400, 'BadDigest', 'The SHA256 you specified did not match the calculated checksum.');
        }
        echo = cs;
      }
      const fault = takeFault(req);
      if (fault && fault.status) {
        entry.fault = fault.status;
        return xmlError(res, fault.status, fault.status >= 500 ? 'InternalError' : 'AccessDenied', 'injected fault');
      }
      if (fault && fault.close) {
        entry.fault = 'close';
        return req.socket.destroy();
      }
      if (fault) entry.fault = 'truncate';
      forward(req, res, body, addr.port, fault, echo);
    });
  });
  proxy.listen(0, '127.0.0.1', () => {
    console.log(JSON.stringify({ proxy: proxy.address().port, s3rver: addr.port }));
  });
}

process.on('SIGTERM', () => process.exit(0));
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
