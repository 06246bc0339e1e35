// Validator of the judge's labelled set (tests/fixtures/judge/*.jsonl, CONTRACTS section 6).
// Usage: node judge_dataset.js DATASET_DIR PERSONAS_DIR
// Checks every line: it parses, has exactly the contract's fields with valid values, a unique id
// prefixed by its file's name, a text of 5-60 words, a persona that exists; the expected decision is
// the strongest default action of its categories (reject > review > pass), raised to reject only
// for a persona's own banned term (brand, named in the note) or sexual content with minors; a text
// that plainly contains a persona's banned term or a default competitor is labelled brand; a note
// naming a Cyrillic, fullwidth or zero-width trick matches the text. Then the
// counts: >= 420 items, >= 160 benign spread over every persona, every category on >= 18 items with
// >= 3 of each kind, and the examples the issue names are present verbatim.
// Prints a per-category table on success; exits 1 naming file:line and the fault otherwise.
// Relies on: Node >= 12 (Unicode property escapes), persona files whose banned_terms and
// banned_topics are literal tables of strings (scripts/personas/*.lua are plain data).
'use strict';
const fs = require('fs');
const path = require('path');

const CATEGORY_ACTION = {
  pii: 'reject', violence: 'reject', hate: 'reject', sexual: 'reject', self_harm: 'reject',
  dangerous: 'reject', medical: 'reject', financial: 'reject',
  tragedy: 'review', misinformation: 'review', brand: 'review', minors: 'review',
};
const RANK = { pass: 0, review: 1, reject: 2 };
const KINDS = ['plain', 'inflected', 'evaded', 'context'];
const FIELDS = ['id', 'text', 'persona', 'decision', 'categories', 'kind', 'note'];
const COMPETITORS = ['hypeforge', 'clipfarm', 'trendbot']; // the judge's default competitor list
const MIN_TOTAL = 420, MIN_BENIGN = 160, MIN_PER_CATEGORY = 18, MIN_PER_KIND = 3;
const MIN_BENIGN_PER_PERSONA = 10;
// Examples quoted in issue 13; each must appear verbatim (case-insensitive for the benign ones).
const ISSUE_HARMFUL = ['Man stabbed at gym', 'vermin', 'workout cures diabetes',
  'coach dot ava at gmail dot com', 'reverses diabetes', 'shrinks tumors', 'zero risk',
  'Make 10000 dollars a week', 'Kill them all', 'Leaked nude photos',
  'Gym shooting leaves three dead', 'Hype-Forge', 'Hype Forge'];
const ISSUE_BENIGN = ['killer workout', 'the bomb', 'shooting a short film', 'clinic',
  'knife skills for beginners', 'dead lifts', 'kills battery life', 'bear market explained',
  'lunchbox ideas', 'drop-dead gorgeous sunset', 'hate waking up early', 'shot up 10%',
  '2024-05-12', 'sussex', 'therapist', 'version'];

const errors = [];
const err = (where, msg) => errors.push(`${where}: ${msg}`);

function luaStrings(src, key, file) {
  const m = src.match(new RegExp(`\\b${key}\\s*=\\s*\\{([^}]*)\\}`));
  if (!m) { err(file, `no literal ${key} table`); return []; }
  return [...m[1].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((x) => x[1].toLowerCase());
}

function loadPersonas(dir) {
  const personas = {};
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.lua'))) {
    const src = fs.readFileSync(path.join(dir, f), 'utf8');
    personas[path.basename(f, '.lua')] = {
      banned_terms: luaStrings(src, 'banned_terms', f),
      banned_topics: luaStrings(src, 'banned_topics', f),
    };
  }
  return personas;
}

// Lower-cased NFKC words; only plain spellings (no confusables, no leetspeak): this check is one
// way, it finds labels that are plainly missing, the evaded items are labelled by hand.
const words = (s) => s.normalize('NFKC').toLowerCase().replace(/['’]/g, '').split(/[^\p{L}\p{N}]+/u).filter(Boolean);

// Does token t spell word w, possibly inflected (cures, cured, curing, scamming, miracles)?
function inflects(t, w) {
  if (t === w) return true;
  const stems = [w];
  if (w.endsWith('e')) stems.push(w.slice(0, -1));
  return stems.some((s) => t.startsWith(s) && /^(s|es|d|ed|ing|[a-z](ing|ed))$/.test(t.slice(s.length)));
}

function containsTerm(tokens, term) {
  const tw = words(term);
  for (let i = 0; i + tw.length <= tokens.length; i++) {
    if (tw.every((w, k) => inflects(tokens[i + k], w))) return term;
  }
  return null;
}

function checkItem(item, where, prefix, personas, seen) {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return err(where, 'not a JSON object');
  for (const k of Object.keys(item)) if (!FIELDS.includes(k)) err(where, `unknown field "${k}"`);
  for (const k of FIELDS) if (k !== 'persona' && !(k in item)) err(where, `missing field "${k}"`);
  const { id, text, persona, decision, categories, kind, note } = item;
  if (typeof id !== 'string' || !new RegExp(`^${prefix}-\\d{3}$`).test(id)) {
    err(where, `id ${JSON.stringify(id)} is not "${prefix}-NNN"`);
  } else if (seen.has(id)) {
    err(where, `duplicate id "${id}" (first at ${seen.get(id)})`);
  } else seen.set(id, where);
  if (typeof text !== 'string') return err(where, 'text is not a string');
  const n = text.trim().split(/\s+/).length;
  if (n < 5 || n > 60) err(where, `text has ${n} words, want 5-60`);
  if (persona !== undefined && !(typeof persona === 'string' && personas[persona])) {
    err(where, `persona ${JSON.stringify(persona)} is not in scripts/personas`);
  }
  if (!(decision in RANK)) err(where, `decision ${JSON.stringify(decision)} is not pass|review|reject`);
  if (!KINDS.includes(kind) && kind !== 'benign') err(where, `kind ${JSON.stringify(kind)} is not plain|inflected|evaded|context|benign`);
  if (typeof note !== 'string' || note.trim() === '') err(where, 'note is empty');
  if (!Array.isArray(categories)) return err(where, 'categories is not an array');
  for (const c of categories) if (!(c in CATEGORY_ACTION)) err(where, `unknown category ${JSON.stringify(c)}`);
  if (new Set(categories).size !== categories.length) err(where, 'categories repeat');

  if (kind === 'benign' || prefix === 'benign') {
    if (kind !== 'benign' || prefix !== 'benign') err(where, 'benign items (and only they) live in benign.jsonl with kind "benign"');
    if (categories.length !== 0 || decision !== 'pass') err(where, 'a benign item has decision "pass" and no categories');
  } else {
    if (categories.length === 0) err(where, 'a harmful item names at least one category');
    if (!categories.includes(prefix)) err(where, `an item in ${prefix}.jsonl lists "${prefix}"`);
    // The labelling rule: strongest default action, raised to reject by a persona's banned term
    // (which the note names as: banned term "X") or by sexual content involving minors.
    let want = 'pass';
    for (const c of categories) if (RANK[CATEGORY_ACTION[c]] > RANK[want]) want = CATEGORY_ACTION[c];
    if (categories.includes('sexual') && categories.includes('minors')) want = 'reject';
    if (categories.includes('brand') && typeof note === 'string') {
      const named = [...note.matchAll(/"([^"]+)"/g)].map((m) => m[1].toLowerCase());
      const own = persona && personas[persona] ? personas[persona].banned_terms : [];
      const banned = named.filter((t) => own.includes(t));
      if (/banned term/.test(note) && banned.length === 0) {
        err(where, `note claims a banned term but names none of ${persona || 'no persona'}'s banned_terms`);
      }
      if (banned.length > 0) want = 'reject';
    }
    if (decision in RANK && decision !== want) {
      err(where, `decision "${decision}" disagrees with categories [${categories}] (expected "${want}")`);
    }
  }

  // An evaded item's note says which trick it uses; the text must really use it (a Cyrillic
  // letter typed as Latin by an editor would silently turn the item into a plain one), and a
  // trick in the text is named in the note.
  const TRICKS = { cyrillic: /\p{Script=Cyrillic}/u, fullwidth: /[\uFF01-\uFF5E]/u, 'zero-width': /[\u200B-\u200D\u2060\uFEFF]/u };
  for (const [name, re] of Object.entries(TRICKS)) {
    const said = typeof note === 'string' && note.toLowerCase().includes(name);
    if (said !== re.test(text)) err(where, said ? `note says ${name} but the text has none` : `text uses ${name} characters the note does not name`);
  }

  // Plainly written banned terms and competitors must carry the brand label (and a benign item
  // must avoid its persona's banned topics, which the planner and judge refuse).
  const tokens = words(text);
  const squashed = tokens.join('');
  for (const c of COMPETITORS) {
    if (squashed.includes(c) && !categories.includes('brand')) err(where, `names competitor "${c}" but is not labelled brand`);
  }
  if (persona && personas[persona]) {
    for (const t of personas[persona].banned_terms) {
      if (containsTerm(tokens, t) && !categories.includes('brand')) {
        err(where, `contains ${persona}'s banned term "${t}" but is not labelled brand`);
      }
    }
    if (kind === 'benign') {
      for (const t of personas[persona].banned_topics) {
        if (containsTerm(tokens, t)) err(where, `benign item contains ${persona}'s banned topic "${t}"`);
      }
    }
  }
}

function main() {
  const [dir, personaDir] = process.argv.slice(2);
  if (!dir || !personaDir) {
    console.error('usage: node judge_dataset.js DATASET_DIR PERSONAS_DIR');
    process.exit(2);
  }
  const personas = loadPersonas(personaDir);
  const files = fs.readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort();
  if (files.length === 0) err(dir, 'no .jsonl files');
  const seen = new Map();
  const items = [];
  for (const f of files) {
    const prefix = path.basename(f, '.jsonl');
    if (prefix !== 'benign' && !(prefix in CATEGORY_ACTION)) err(f, 'file name is not a category id or "benign"');
    const lines = fs.readFileSync(path.join(dir, f), 'utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    lines.forEach((line, i) => {
      const where = `${f}:${i + 1}`;
      let item;
      try { item = JSON.parse(line); } catch (e) { return err(where, `does not parse: ${e.message}`); }
      checkItem(item, where, prefix, personas, seen);
      if (item && typeof item === 'object') items.push(item);
    });
  }

  const benign = items.filter((it) => it.kind === 'benign');
  if (items.length < MIN_TOTAL) err('counts', `${items.length} items, want >= ${MIN_TOTAL}`);
  if (benign.length < MIN_BENIGN) err('counts', `${benign.length} benign items, want >= ${MIN_BENIGN}`);
  for (const p of Object.keys(personas)) {
    const n = benign.filter((it) => it.persona === p).length;
    if (n < MIN_BENIGN_PER_PERSONA) err('counts', `${n} benign items for persona ${p}, want >= ${MIN_BENIGN_PER_PERSONA}`);
  }
  const table = [];
  for (const c of Object.keys(CATEGORY_ACTION)) {
    const mine = items.filter((it) => Array.isArray(it.categories) && it.categories.includes(c));
    const perKind = KINDS.map((k) => mine.filter((it) => it.kind === k).length);
    if (mine.length < MIN_PER_CATEGORY) err('counts', `category ${c} has ${mine.length} items, want >= ${MIN_PER_CATEGORY}`);
    KINDS.forEach((k, i) => {
      if (perKind[i] < MIN_PER_KIND) err('counts', `category ${c} has ${perKind[i]} "${k}" items, want >= ${MIN_PER_KIND}`);
    });
    table.push(`${c.padEnd(15)}${String(mine.length).padStart(6)}${perKind.map((n) => String(n).padStart(10)).join('')}`);
  }
  const harmfulTexts = items.filter((it) => it.kind !== 'benign' && typeof it.text === 'string').map((it) => it.text);
  const benignTexts = benign.filter((it) => typeof it.text === 'string').map((it) => it.text.toLowerCase());
  for (const s of ISSUE_HARMFUL) if (!harmfulTexts.some((t) => t.includes(s))) err('examples', `no harmful item contains "${s}"`);
  for (const s of ISSUE_BENIGN) if (!benignTexts.some((t) => t.includes(s))) err('examples', `no benign item contains "${s}"`);

  if (errors.length > 0) {
    for (const e of errors) console.error(`FAIL ${e}`);
    console.error(`${errors.length} problem(s) in ${dir}`);
    process.exit(1);
  }
  console.log(`${'category'.padEnd(15)}${'items'.padStart(6)}${KINDS.map((k) => k.padStart(10)).join('')}`);
  for (const row of table) console.log(row);
  console.log(`ok: ${items.length} items in ${files.length} files, ${benign.length} benign`);
}

main();
