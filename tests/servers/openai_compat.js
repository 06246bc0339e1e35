#!/usr/bin/env node
// A strict OpenAI-compatible test server for the judge's model providers
// (scripts/agents/moderation.lua) and the scriptwriter's model (ain.llm, engine/lua/llm.lua).
// Node built-ins only.
//
//   node tests/servers/openai_compat.js [--port N] [--key SECRET] [--port-file PATH]
//
// Serves, on 127.0.0.1:
//   POST /v1/moderations        {input: string | [string], model?: string}
//        -> {id, model, results: [{flagged, categories, category_scores}]} (OpenAI's shape)
//   POST /v1/chat/completions   {model, messages: [{role, content}], temperature?, max_tokens?,
//                                response_format?: {type: "json_schema", json_schema: {name,
//                                schema, strict?}} | {type: "json_object"} | {type: "text"}}
//        -> a chat.completion whose message content is {"verdict","categories"} (our ids);
//        or, for a script request (a user message of "Trend title: ..." lines, as
//        scripts/agents/scriptwriter.lua writes it; with response_format json_schema its name
//        must be "video_script" and its schema an object), {"hook","body","cta","hashtags"}
//        made only of the trend's own words, within the "Words: target T, min A, max B" window
//   POST /v1/embeddings         {model, input: string | [string], encoding_format?: "float",
//                                dimensions?: number, user?: string}
//        -> {object: "list", data: [{object: "embedding", index, embedding: [64 floats]}], model,
//           usage} (OpenAI's shape). The vectors are a toy semantic model: each word is mapped to
//           a concept (SYNONYMS: "unveils", "announced", "launches" are one) and hashed into 64
//           dimensions, so rewordings with synonyms are near, which the lexical default is not.
//   POST /v1/audio/speech       {model, input (<= 4096 chars), voice (alloy, ash, ballad, coral, echo,
//                                fable, nova, onyx, sage, shimmer, verse), response_format?: "wav" |
//                                "pcm" (24 kHz s16le mono; mp3/opus/aac/flac are refused by this
//                                server, a 400 naming them), speed?: 0.25..4, instructions?: string}
//        -> the audio itself (Content-Type audio/wav or audio/pcm): real speech made by espeak-ng
//           (one espeak voice per API voice, speed as words per minute), no word times, as the
//           real API. Faults as below (malformed: 200 with a body that is not audio).
//   GET  /stats                 {total, moderations, chat, scripts, embeddings, speech, rejected,
//                                by_input}
//   POST /control               {fault, count?}: the next `count` (default 1) API requests get
//                                the fault; {fault: null} clears. POST /control/reset zeroes stats.
// Strict about the request: method, path, Content-Type application/json, Authorization
// "Bearer <key>" (when --key is given the key must match), valid JSON, known fields with the
// right types; anything else is a 4xx with OpenAI's error shape {error: {message, type, param,
// code}}.
// Verdicts are deterministic, driven by keywords of the input (KEYWORDS below).
// Faults, per request by header `X-Fault`, by the control endpoint, or by a marker in the input
// text "[[fault:NAME]]" (every request with that input) or "[[fault:NAMExN]]" (the first N
// requests with that input): delay=MS (answer after MS), 500, 429, malformed (200 with a body that is
// not JSON), truncated (a JSON body cut half-way, with its full Content-Length, then the
// connection closed), close (the connection closed before any answer), garbage (200 with valid
// JSON of the wrong shape), and for chat completions: 429date (429 with Retry-After as an HTTP
// date 1 s ahead), schema (a script missing its hook), invented (a script with a number the
// trend does not have), refusal (message.refusal set, content null), fenced (the script inside
// a ```json fence). With the control endpoint and a count, a fault hits the next requests only,
// so a retry (or the answer after ain.llm feeds the error back) succeeds.
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
const KEY = arg('--key', process.env.OPENAI_COMPAT_KEY || '');
const PORT_FILE = arg('--port-file', '');

// keyword -> [openai moderation category, our category]
const KEYWORDS = [
  ['kill', 'violence', 'violence'],
  ['stab', 'violence', 'violence'],
  ['vermin', 'harassment', 'hate'],
  ['nude', 'sexual', 'sexual'],
  ['suicide', 'self-harm', 'self_harm'],
  ['bomb-making', 'illicit', 'dangerous'],
  ['cures', null, 'medical'],
  ['guaranteed', null, 'financial'],
];
const MOD_CATEGORIES = ['harassment', 'harassment/threatening', 'hate', 'hate/threatening',
  'illicit', 'illicit/violent', 'self-harm', 'self-harm/intent', 'self-harm/instructions',
  'sexual', 'sexual/minors', 'violence', 'violence/graphic'];

const SYNONYMS = {
  unveils: 'announce', unveiled: 'announce', announced: 'announce', announces: 'announce',
  launches: 'announce', launched: 'announce', reveals: 'announce', revealed: 'announce',
  chip: 'chip', chips: 'chip', processor: 'chip', silicon: 'chip',
};
const STOP = new Set(['a', 'an', 'the', 'by', 'of', 'to', 'in', 'on', 'for', 'and', 'is', 'new']);
const EMB_DIMS = 64;

const stats = { total: 0, moderations: 0, chat: 0, scripts: 0, embeddings: 0, speech: 0, rejected: 0, by_input: {} };
let control = { fault: null, count: 0 };
const markerSeen = {}; // sha256 of an input -> requests seen with a counted marker

function sendJson(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function oaError(res, status, message, param, code, type) {
  stats.rejected++;
  sendJson(res, status, { error: { message, type: type || 'invalid_request_error',
    param: param === undefined ? null : param, code: code === undefined ? null : code } });
}

function hits(text) {
  const t = text.toLowerCase();
  return KEYWORDS.filter(([w]) => t.includes(w));
}

function isObj(v) { return v !== null && typeof v === 'object' && !Array.isArray(v); }

// Checks obj against {field: [type, required]}; returns an error string or null.
function checkFields(obj, spec, prefix) {
  if (!isObj(obj)) return [`${prefix || 'body'} must be a JSON object`, prefix || null];
  for (const k of Object.keys(obj)) {
    if (!(k in spec)) return [`Unrecognized request argument supplied: ${k}`, k];
  }
  for (const [k, [type, required]] of Object.entries(spec)) {
    const v = obj[k];
    if (v === undefined) {
      if (required) return [`Missing required parameter: '${k}'.`, k];
      continue;
    }
    const ok = type === 'array' ? Array.isArray(v) : type === 'object' ? isObj(v)
      : type === 'string|array' ? typeof v === 'string' || Array.isArray(v) : typeof v === type;
    if (!ok) return [`Invalid type for '${k}': expected ${type}.`, k];
  }
  return null;
}

function moderation(body) {
  const bad = checkFields(body, { input: ['string|array', true], model: ['string', false] });
  if (bad) return { status: 400, error: bad };
  const inputs = typeof body.input === 'string' ? [body.input] : body.input;
  if (inputs.length === 0 || inputs.some((s) => typeof s !== 'string')) {
    return { status: 400, error: ["Invalid 'input': expected a string or an array of strings.",
      'input'] };
  }
  const results = inputs.map((text) => {
    const categories = {}, scores = {};
    for (const c of MOD_CATEGORIES) { categories[c] = false; scores[c] = 0.0001; }
    for (const [, oc] of hits(text)) {
      if (oc) { categories[oc] = true; scores[oc] = 0.93; }
    }
    if (/minor/i.test(text) && categories.sexual) {
      categories['sexual/minors'] = true; scores['sexual/minors'] = 0.88;
    }
    return { flagged: Object.values(categories).some(Boolean), categories,
      category_scores: scores };
  });
  return { status: 200, json: { id: 'modr-' + crypto.randomBytes(6).toString('hex'),
    model: body.model || 'omni-moderation-latest', results }, text: inputs.join('\n') };
}

function chat(body) {
  const bad = checkFields(body, { model: ['string', true], messages: ['array', true],
    temperature: ['number', false], max_tokens: ['number', false],
    response_format: ['object', false], seed: ['number', false] });
  if (bad) return { status: 400, error: bad };
  if (body.messages.length === 0) return { status: 400, error: ["'messages' must not be empty.",
    'messages'] };
  for (let i = 0; i < body.messages.length; i++) {
    const m = body.messages[i];
    const e = checkFields(m, { role: ['string', true], content: ['string', true],
      name: ['string', false] }, `messages[${i}]`);
    if (e) return { status: 400, error: [e[0], `messages[${i}].${e[1] || ''}`] };
    if (!['system', 'user', 'assistant', 'developer'].includes(m.role)) {
      return { status: 400, error: [`Invalid value for 'messages[${i}].role'.`, `messages[${i}].role`] };
    }
  }
  const rf = body.response_format;
  if (rf !== undefined) {
    if (!['text', 'json_object', 'json_schema'].includes(rf.type)) {
      return { status: 400, error: ["Invalid value for 'response_format.type'.",
        'response_format.type'] };
    }
    if (rf.type === 'json_schema') {
      const e = checkFields(rf.json_schema, { name: ['string', true], schema: ['object', true],
        strict: ['boolean', false], description: ['string', false] },
      'response_format.json_schema');
      if (e) return { status: 400, error: e };
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(rf.json_schema.name)) {
        return { status: 400, error: ["Invalid 'response_format.json_schema.name'.",
          'response_format.json_schema.name'] };
      }
    }
  }
  const user = body.messages.filter((m) => m.role === 'user').map((m) => m.content).join('\n');
  if (/^Trend title: /.test(body.messages.find((m) => m.role === 'user').content)) {
    return scriptAnswer(body, rf);
  }
  const cats = [...new Set(hits(user).map(([, , ours]) => ours))].sort();
  const content = JSON.stringify({ verdict: cats.length ? 'unsafe' : 'safe', categories: cats });
  return { status: 200, text: user, json: { id: 'chatcmpl-' + crypto.randomBytes(6).toString('hex'),
    object: 'chat.completion', created: 1700000000, model: body.model,
    choices: [{ index: 0, finish_reason: 'stop', logprobs: null,
      message: { role: 'assistant', content, refusal: null } }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } } };
}

const countWords = (t) => t.split(/\s+/).filter(Boolean).length;

// A script from the trend's own words (the first user message, scriptwriter.lua's lines).
function makeScript(userText) {
  const field = (name) => {
    const m = new RegExp(`^${name}: (.*)$`, 'm').exec(userText);
    return m ? m[1].trim() : '';
  };
  const title = field('Trend title');
  const text = field('Trend text');
  const tags = field('Tags').split(',').map((t) => t.trim().replace(/\s+/g, '')).filter(Boolean);
  const w = /target (\d+), min (\d+), max (\d+)/.exec(field('Words'));
  const [min, max] = w ? [Number(w[2]), Number(w[3])] : [20, 60];
  const hook = `${title.replace(/[.!?:]+$/, '')}!`;
  const sentences = (text.match(/[^.!?]+[.!?]+/g) || (text ? [text] : [])).map((x) => x.trim());
  const body = sentences.slice(0, 3);
  const cta = 'Follow for more stories like this one, and tell me what you think below.';
  const total = () => countWords([hook, ...body, cta].join(' '));
  if (body.length === 0) body.push('That is the story today.');
  while (total() < min && body.length < 4) body.push(`Again, the headline: ${title}.`);
  while (total() > max && body.length > 1) body.pop();
  return { hook, body, cta, hashtags: tags.length ? tags.slice(0, 3) : ['news'] };
}

function scriptAnswer(body, rf) {
  if (rf && rf.type === 'json_schema') {
    if (rf.json_schema.name !== 'video_script') {
      return { status: 400, error: ["Invalid 'response_format.json_schema.name': expected " +
        'video_script for a script.', 'response_format.json_schema.name'] };
    }
    const sc = rf.json_schema.schema;
    if (sc.type !== 'object' || !isObj(sc.properties) || !Array.isArray(sc.required)) {
      return { status: 400, error: ["Invalid schema for response_format 'video_script'.",
        'response_format.json_schema.schema'] };
    }
  }
  const first = body.messages.find((m) => m.role === 'user').content;
  const script = makeScript(first);
  const content = JSON.stringify(script);
  const promptTokens = body.messages.reduce((n, m) => n + countWords(m.content), 0);
  stats.scripts++;
  return { status: 200, text: first, script, json: {
    id: 'chatcmpl-' + crypto.randomBytes(6).toString('hex'), object: 'chat.completion',
    created: 1700000000, model: body.model,
    choices: [{ index: 0, finish_reason: 'stop', logprobs: null,
      message: { role: 'assistant', content, refusal: null } }],
    usage: { prompt_tokens: promptTokens, completion_tokens: countWords(content),
      total_tokens: promptTokens + countWords(content) } } };
}

// A script answer with its content replaced (the script faults).
function withContent(out, content, refusal) {
  const j = JSON.parse(JSON.stringify(out.json));
  j.choices[0].message.content = content;
  if (refusal) j.choices[0].message.refusal = refusal;
  return j;
}

function embedOne(text) {
  const v = new Array(EMB_DIMS).fill(0);
  const words = text.toLowerCase().replace(/[’']/g, '').split(/[^a-z0-9]+/).filter((w) => w && !STOP.has(w));
  for (const w of words) {
    const h = crypto.createHash('sha256').update(SYNONYMS[w] || w).digest();
    v[h[0] % EMB_DIMS] += h[1] & 1 ? 1 : -1;
  }
  if (words.length === 0) v[0] = 1;
  const n = Math.sqrt(v.reduce((a, x) => a + x * x, 0)) || 1;
  return v.map((x) => x / n);
}

function embeddings(body) {
  const bad = checkFields(body, { model: ['string', true], input: ['string|array', true],
    encoding_format: ['string', false], dimensions: ['number', false], user: ['string', false] });
  if (bad) return { status: 400, error: bad };
  const inputs = typeof body.input === 'string' ? [body.input] : body.input;
  if (inputs.length === 0 || inputs.length > 2048 || inputs.some((x) => typeof x !== 'string' || x === '')) {
    return { status: 400, error: ["Invalid 'input': expected 1..2048 non-empty strings.", 'input'] };
  }
  if (body.encoding_format !== undefined && body.encoding_format !== 'float') {
    return { status: 400, error: ["Invalid 'encoding_format': only 'float' is served.", 'encoding_format'] };
  }
  const data = inputs.map((t, index) => ({ object: 'embedding', index, embedding: embedOne(t) }));
  data.reverse(); // the order is the index's, not the position's: clients must use index
  return { status: 200, text: inputs.join('\n'), json: { object: 'list', data, model: body.model,
    usage: { prompt_tokens: inputs.length, total_tokens: inputs.length } } };
}

// Speech: each API voice is an espeak-ng voice of its own (distinct pitch), so tests can tell them apart.
const SPEECH_VOICES = { alloy: ['en-us', 50], ash: ['en-us+m3', 35], ballad: ['en-gb+m1', 45],
  coral: ['en-us+f2', 60], echo: ['en-us+m1', 40], fable: ['en-gb', 55], nova: ['en-us+f3', 65],
  onyx: ['en-us+m2', 30], sage: ['en-us+f1', 58], shimmer: ['en-us+f4', 70], verse: ['en-gb+m3', 42] };
const { execFile } = require('child_process');

function speech(body) {
  const bad = checkFields(body, { model: ['string', true], input: ['string', true], voice: ['string', true],
    response_format: ['string', false], speed: ['number', false], instructions: ['string', false] });
  if (bad) return { status: 400, error: bad };
  if (body.input.length === 0 || body.input.length > 4096) {
    return { status: 400, error: ["Invalid 'input': expected 1..4096 characters.", 'input'] };
  }
  if (!(body.voice in SPEECH_VOICES)) {
    return { status: 400, error: [`Invalid value for 'voice': '${body.voice}'.`, 'voice'] };
  }
  const fmt = body.response_format || 'mp3';
  if (!['mp3', 'opus', 'aac', 'flac', 'wav', 'pcm'].includes(fmt)) {
    return { status: 400, error: ["Invalid value for 'response_format'.", 'response_format'] };
  }
  if (fmt !== 'wav' && fmt !== 'pcm') {
    return { status: 400, error: [`response_format '${fmt}' is not served by this test server (wav, pcm).`, 'response_format'] };
  }
  if (body.speed !== undefined && (body.speed < 0.25 || body.speed > 4)) {
    return { status: 400, error: ["Invalid 'speed': expected 0.25..4.", 'speed'] };
  }
  const [voice, pitch] = SPEECH_VOICES[body.voice];
  const wpm = String(Math.round(175 * (body.speed || 1)));
  return new Promise((resolve) => {
    execFile('espeak-ng', ['-v', voice, '-p', String(pitch), '-s', wpm, '--stdout', body.input],
      { encoding: 'buffer', maxBuffer: 64 << 20 }, (err, out) => {
        if (err) return resolve({ status: 500, error: ['espeak-ng failed: ' + err.message, null] });
        let audio = out;
        // espeak-ng writes a streaming header (sizes unknown): fix them, as a real server's file has
        if (audio.length > 44 && audio.toString('latin1', 0, 4) === 'RIFF') {
          audio.writeUInt32LE(audio.length - 8, 4);
          audio.writeUInt32LE(audio.length - 44, 40);
          if (fmt === 'pcm') audio = audio.subarray(44);
        }
        resolve({ status: 200, audio, contentType: fmt === 'wav' ? 'audio/wav' : 'audio/pcm',
          text: body.input });
      });
  });
}

// The fault of this request: header, then a marker in the input, then the control endpoint.
function faultOf(req, text) {
  if (req.headers['x-fault']) return String(req.headers['x-fault']);
  const m = /\[\[fault:([a-z0-9=]+?)(?:x(\d+))?\]\]/.exec(text || '');
  if (m && m[2] === undefined) return m[1];
  if (m) { // [[fault:NAMExN]]: only the first N requests with this input get the fault
    const h = crypto.createHash('sha256').update(text).digest('hex');
    markerSeen[h] = (markerSeen[h] || 0) + 1;
    if (markerSeen[h] <= Number(m[2])) return m[1];
    return null;
  }
  if (control.fault && control.count > 0) {
    control.count--;
    const f = control.fault;
    if (control.count === 0) control.fault = null;
    return f;
  }
  return null;
}

function answer(req, res, out) {
  const fault = faultOf(req, out.text);
  const send = () => {
    if (fault === '500') return oaError(res, 500, 'The server had an error.', null, null, 'server_error');
    if (fault === '429' || fault === '429date') {
      res.setHeader('Retry-After', fault === '429' ? '1'
        : new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000).toUTCString());
      return oaError(res, 429, 'Rate limit reached.', null, 'rate_limit_exceeded', 'requests');
    }
    if (['schema', 'invented', 'refusal', 'fenced'].includes(fault) && out.script) {
      const sc = JSON.parse(JSON.stringify(out.script));
      if (fault === 'schema') delete sc.hook;
      if (fault === 'invented') sc.body[0] = 'Insiders say it is 42 percent better than before.';
      if (fault === 'refusal') return sendJson(res, 200, withContent(out, null, 'I cannot help with that.'));
      const text = fault === 'fenced' ? '```json\n' + JSON.stringify(sc) + '\n```' : JSON.stringify(sc);
      return sendJson(res, 200, withContent(out, text));
    }
    if (fault === 'close') return req.socket.destroy();
    if (fault === 'malformed' && out.audio) {
      res.writeHead(200, { 'Content-Type': out.contentType });
      return res.end('RIFF this is not audio at all, but it is long enough to pass a size check');
    }
    if (fault === 'truncated' && out.audio) {
      res.writeHead(200, { 'Content-Type': out.contentType, 'Content-Length': out.audio.length });
      res.write(out.audio.subarray(0, Math.floor(out.audio.length / 2)));
      return setTimeout(() => req.socket.destroy(), 20);
    }
    if (fault === 'malformed') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end('{"results": [ this is not json');
    }
    if (fault === 'garbage') return sendJson(res, 200, { ok: true, results: 'none' });
    if (fault === 'truncated') {
      const body = JSON.stringify(out.json);
      res.writeHead(200, { 'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body) });
      res.write(body.slice(0, Math.floor(body.length / 2)));
      return setTimeout(() => req.socket.destroy(), 20);
    }
    if (out.error) return oaError(res, out.status, out.error[0], out.error[1]);
    if (out.audio) {
      res.writeHead(200, { 'Content-Type': out.contentType, 'Content-Length': out.audio.length });
      return res.end(out.audio);
    }
    return sendJson(res, out.status, out.json);
  };
  const delay = fault && /^delay=(\d+)$/.exec(fault);
  if (delay) return setTimeout(send, Number(delay[1]));
  if (fault && !['500', '429', '429date', 'close', 'malformed', 'garbage', 'truncated', 'schema',
    'invented', 'refusal', 'fenced'].includes(fault)) {
    return oaError(res, 400, `Unknown fault '${fault}'.`, 'x-fault');
  }
  return send();
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = req.url.split('?')[0];
    if (url === '/stats' && req.method === 'GET') return sendJson(res, 200, stats);
    if (url === '/control/reset' && req.method === 'POST') {
      for (const k of ['total', 'moderations', 'chat', 'scripts', 'embeddings', 'speech', 'rejected']) stats[k] = 0;
      stats.by_input = {};
      control = { fault: null, count: 0 };
      return sendJson(res, 200, { ok: true });
    }
    if (url === '/control' && req.method === 'POST') {
      let c;
      try { c = JSON.parse(raw); } catch (e) { return oaError(res, 400, 'control: not JSON'); }
      control = { fault: c.fault || null, count: c.fault ? Number(c.count || 1) : 0 };
      return sendJson(res, 200, { ok: true, control });
    }
    const route = { '/v1/moderations': moderation, '/v1/chat/completions': chat,
      '/v1/embeddings': embeddings, '/v1/audio/speech': speech }[url];
    if (!route) return oaError(res, 404, `Unknown request URL: ${req.method} ${url}.`, null, 'unknown_url');
    stats.total++;
    if (req.method !== 'POST') {
      return oaError(res, 405, `Method ${req.method} not allowed on ${url}.`, null, 'method_not_allowed');
    }
    const auth = req.headers.authorization || '';
    const m = /^Bearer (\S+)$/.exec(auth);
    if (!m || (KEY && m[1] !== KEY)) {
      return oaError(res, 401, m ? 'Incorrect API key provided.' : 'You didn\'t provide an API key.',
        null, 'invalid_api_key');
    }
    const ct = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
    if (ct !== 'application/json') {
      return oaError(res, 400, `Invalid Content-Type '${ct}': expected application/json.`);
    }
    let body;
    try { body = JSON.parse(raw); } catch (e) {
      return oaError(res, 400, 'We could not parse the JSON body of your request.');
    }
    return Promise.resolve(route(body)).then((out) => {
      if (out.status === 200) {
        stats[{ '/v1/moderations': 'moderations', '/v1/chat/completions': 'chat',
          '/v1/embeddings': 'embeddings', '/v1/audio/speech': 'speech' }[url]]++;
        const h = crypto.createHash('sha256').update(out.text).digest('hex');
        stats.by_input[h] = (stats.by_input[h] || 0) + 1;
      }
      return answer(req, res, out);
    });
  });
});

server.listen(PORT, '127.0.0.1', () => {
  const port = server.address().port;
  if (PORT_FILE) fs.writeFileSync(PORT_FILE + '.tmp', String(port)), fs.renameSync(PORT_FILE + '.tmp', PORT_FILE);
  process.stdout.write(`listening ${port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
