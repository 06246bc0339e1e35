#!/usr/bin/env bash
# deploy/logging/: neither Promtail nor Vector is packaged in Debian, so their configs cannot be run
# here. This checks what they depend on, against real log lines of `ain run` (a step that logs,
# so task_id and actor are there; dag_id, state_version, trace_id only when set): every line is one JSON object; each field the Promtail
# json stage and the Vector remap read is a field `ain` writes (engine/core/log.c) and appears in
# the real lines; ts parses as RFC 3339 with nanosecond precision allowed (Promtail's RFC3339Nano,
# Vector's "%+"); the Promtail labels are bounded (level, node) and every id goes to structured
# metadata, never to a label. A renamed field on either side fails here.
. "$(dirname "$0")/lib.bash"
S=$T/scripts
add_persona "$S"
mkdir -p "$S/agents"
cat > "$S/agents/logme.lua" <<'LUA'
return { run = function(payload, ctx)
  ain.log("warn", "a step that logs", { n = 1 })
  return { ok = true }
end }
LUA
C=$T/ain.lua
write_config "$C" "$S" 'log_level = "info"'
task_msg logme '{}' > "$T/t.jsonl"
"$AIN_BIN" enqueue -c "$C" "$T/t.jsonl" > /dev/null
"$AIN_BIN" run -c "$C" --until-idle --no-progress > /dev/null 2> "$T/log.jsonl" || fail "ain run"
node - "$AIN_SOURCE_DIR" "$T/log.jsonl" <<'JS' || fail "deploy/logging does not match ain's log lines"
const fs = require('fs');
const [root, logFile] = process.argv.slice(2);
const YAML = require(root + '/tools/node/node_modules/yaml');
let bad = 0;
const no = (m) => { console.log('not ok - ' + m); bad++; };
const lines = fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
const objs = [];
for (const l of lines) {
  try { objs.push(JSON.parse(l)); } catch (e) { no(`not a JSON line: ${l.slice(0, 120)}`); }
}
const seen = new Set(objs.flatMap((o) => Object.keys(o)));
const written = new Set([...fs.readFileSync(root + '/engine/core/log.c', 'utf8')
  .matchAll(/add_field\([^,]+,[^,]+,[^,]+,\s*"([a-z_]+)"/g)].map((m) => m[1]).concat(['ts', 'level', 'state_version']));
const rfc3339nano = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
for (const o of objs) if (!rfc3339nano.test(o.ts) || isNaN(Date.parse(o.ts))) no(`ts ${o.ts} is not RFC 3339`);
const step = objs.find((o) => o.msg && o.msg.includes('a step that logs'));
if (!step) no('the step\'s own log line is missing');
else for (const f of ['task_id', 'actor']) if (!(f in step)) no(`the step's line has no ${f}`);

const promtail = YAML.parse(fs.readFileSync(root + '/deploy/logging/promtail.yaml', 'utf8'));
const stages = promtail.scrape_configs[0].pipeline_stages;
const json = stages.find((s) => s.json).json.expressions;
for (const [name, expr] of Object.entries(json)) {
  if (!written.has(expr)) no(`promtail json stage reads ${expr}, which ain does not write`);
  else if (!seen.has(expr) && !['dag_id', 'state_version', 'trace_id', 'span_id'].includes(expr)) no(`promtail reads ${expr}, absent from every real line`);
}
const ts = stages.find((s) => s.timestamp).timestamp;
if (ts.source !== 'ts' || ts.format !== 'RFC3339Nano') no(`promtail timestamp stage: ${JSON.stringify(ts)}`);
const labels = Object.keys(stages.find((s) => s.labels).labels);
for (const l of labels) if (!['level', 'node'].includes(l)) no(`promtail label ${l} is unbounded`);
for (const l of labels) if (!(l in json)) no(`promtail label ${l} is not extracted`);
const levels = new Set(objs.map((o) => o.level));
for (const l of levels) if (!['debug', 'info', 'warn', 'error'].includes(l)) no(`level ${l} unexpected`);
const meta = Object.keys(stages.find((s) => s.structured_metadata).structured_metadata);
for (const f of ['task_id', 'dag_id']) if (!meta.includes(f)) no(`${f} is not structured metadata`);

const vector = YAML.parse(fs.readFileSync(root + '/deploy/logging/vector.yaml', 'utf8'));
const vrl = vector.transforms.ain_json.source;
for (const f of vrl.matchAll(/(?<![\w"])\.([a-z_]+)/g)) {
  if (!['message', 'level'].includes(f[1]) && !written.has(f[1])) no(`vector remap reads .${f[1]}, which ain does not write`);
}
if (!/parse_json\(\.message\)/.test(vrl)) no('vector does not parse the line as JSON');
if (!bad) console.log(`ok - ${objs.length} real log lines: JSON, RFC 3339 ts, fields ${[...seen].sort().join(',')}; promtail labels ${labels}, vector remap fields all written by ain`);
process.exit(bad ? 1 : 0);
JS
ok "deploy/logging matches the engine's log lines"
