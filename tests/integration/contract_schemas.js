// The JSON Schema side of it.contract_schemas, in one Node process (it was one `ajv-cli` process
// per fixture: ~200 Node start-ups, two minutes of a 2-core CI box). The same validator (ajv 8,
// JSON Schema draft 2020-12, strict, all errors, ajv-formats) the command line used.
//   node contract_schemas.js fixtures SCHEMA_DIR FIX_DIR   parts 1 and 2 of the test (below)
//   node contract_schemas.js validate SCHEMA FILE...        exit 0 iff every FILE is valid
// Part 1: both schemas compile; every property has a description; the examples validate.
// Part 2: every good fixture validates; every bad one is rejected naming the field its name says
// ("errors.0.code--why.json" -> /errors/0/code; "_" = anything; unparsable JSON counts), except
// those in c-only.txt (faults JSON Schema cannot express), which the schema must accept (else the
// list is stale). Prints "FAIL: ..." lines and a summary; exit 1 on any failure.
'use strict';
const fs = require('fs');
const path = require('path');
const NM = path.join(__dirname, '../../tools/node/node_modules');
const Ajv2020 = require(path.join(NM, 'ajv/dist/2020')).default;
const addFormats = require(path.join(NM, 'ajv-formats')).default;

let checks = 0;
let fails = 0;
const fail = (msg) => {
  console.error(`FAIL: ${msg}`);
  fails++;
};

// strictRequired is off because response.json's if/then "required" names properties declared a
// level up, which that strict rule does not look at.
function compile(schemaFile) {
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
  addFormats(ajv);
  return ajv.compile(JSON.parse(fs.readFileSync(schemaFile, 'utf8')));
}

// { ok, parsed, errors } of one data file.
function check(validate, file) {
  let data;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    return { ok: false, parsed: false, errors: [] };
  }
  const ok = validate(data);
  return { ok, parsed: true, errors: ok ? [] : validate.errors };
}

function named(errors) {
  return errors.map((e) => e.instancePath +
    (e.params.missingProperty !== undefined ? '/' + e.params.missingProperty
      : e.params.additionalProperty !== undefined ? '/' + e.params.additionalProperty : ''));
}

function jsonFiles(dir) {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(dir, f));
}

function fixtures(schemaDir, fixDir) {
  const cOnly = new Set(fs.readFileSync(path.join(fixDir, 'c-only.txt'), 'utf8').split('\n')
    .map((l) => l.replace(/#.*/, '').trim().split(/\s+/)[0]).filter(Boolean));
  for (const kind of ['task', 'response']) {
    const schemaFile = path.join(schemaDir, `${kind}.json`);
    let validate;
    try {
      validate = compile(schemaFile);
      checks++;
    } catch (e) {
      fail(`${kind}.json does not compile: ${e.message}`);
      continue;
    }
    const s = JSON.parse(fs.readFileSync(schemaFile, 'utf8'));
    if (!(s.examples || []).length) fail(`${kind}.json: no top-level examples`);
    for (const [name, p] of Object.entries(s.properties)) {
      if (!p.description) fail(`${kind}.json: property ${name} has no description`);
    }
    (s.examples || []).forEach((ex, i) => {
      if (validate(ex)) checks++;
      else fail(`${kind}.json: example ${i} does not validate: ${JSON.stringify(validate.errors)}`);
    });

    const good = jsonFiles(path.join(fixDir, kind, 'good'));
    if (good.length < 4) fail(`${kind}: fewer than 4 good fixtures`);
    for (const f of good) {
      const r = check(validate, f);
      if (r.ok) checks++;
      else fail(`${kind}/good/${path.basename(f)} does not validate: ${JSON.stringify(r.errors)}`);
    }
    let nbad = 0;
    for (const f of jsonFiles(path.join(fixDir, kind, 'bad'))) {
      const rel = `${kind}/bad/${path.basename(f)}`;
      const r = check(validate, f);
      if (cOnly.has(rel)) {
        // Not for the schema; the test is that the schema really cannot see it.
        if (!r.ok) fail(`${rel} is listed in c-only.txt but the schema rejects it: move it out of the list`);
        continue;
      }
      nbad++;
      const field = path.basename(f, '.json').split('--')[0];
      if (r.ok) {
        fail(`${rel}: accepted by the schema, expected a rejection`);
      } else if (!r.parsed || field === '_' || named(r.errors).includes('/' + field.replace(/\./g, '/'))) {
        checks++;
      } else {
        fail(`${rel}: rejected, but not for ${field}: ${named(r.errors).join(' ')}`);
      }
    }
    if (nbad < 15) fail(`${kind}: only ${nbad} bad fixtures checked with the schema (want >= 15)`);
  }
  console.log(`schemas + fixtures: ${checks} checks, ${fails} failures`);
  return fails === 0 ? 0 : 1;
}

function validateFiles(schemaFile, files) {
  if (files.length === 0) {
    fail('validate: no files');
    return 1;
  }
  const validate = compile(schemaFile);
  for (const f of files) {
    const r = check(validate, f);
    if (!r.ok) fail(`${f} invalid against ${path.basename(schemaFile)}: ${r.parsed ? JSON.stringify(r.errors) : 'not JSON'}`);
  }
  return fails === 0 ? 0 : 1;
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'fixtures' && args.length === 2) process.exit(fixtures(args[0], args[1]));
if (mode === 'validate' && args.length >= 1) process.exit(validateFiles(args[0], args.slice(1)));
console.error('usage: contract_schemas.js fixtures SCHEMA_DIR FIX_DIR | validate SCHEMA FILE...');
process.exit(2);
