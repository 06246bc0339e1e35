// Validates the rendered deploy/k8s manifests (kustomize output) offline: every object against the
// Kubernetes API's OpenAPI schemas (npm kubernetes-models, generated from them) or KEDA's CRD
// schemas (@kubernetes-models/keda), then what the schemas cannot know: the manifests agree with
// the engine (probe paths and port = api.listen, terminationGracePeriodSeconds > shutdown.grace_ms
// + 1 s, secrets_dir and scripts_dir mounts, every policy file of scripts/ in its ConfigMap with
// the same content, AIN_DATABASE_URL from the Secret, PDB/Service selectors match the pods, the HPA
// names the adapter's metrics and the adapter's rules name real engine metrics).
// Then it breaks copies on purpose and requires each to be refused: a validator that accepts
// everything fails here.
// Usage: node deploy_k8s.js REPO_ROOT production.yaml keda.yaml adapter.yaml
'use strict';
const fs = require('fs');
const path = require('path');
const YAML = require(path.join(process.argv[2], 'tools/node/node_modules/yaml'));

const [root, prodFile, kedaFile, adapterFile] = process.argv.slice(2);
const nm = path.join(root, 'tools/node/node_modules');
const req = (m) => require(path.join(nm, m));

// apiVersion/kind -> model class (the schema's validate()).
const MODELS = {
  'v1/ConfigMap': () => req('kubernetes-models/v1').ConfigMap,
  'v1/Service': () => req('kubernetes-models/v1').Service,
  'v1/Secret': () => req('kubernetes-models/v1').Secret,
  'apps/v1/Deployment': () => req('kubernetes-models/apps/v1').Deployment,
  'policy/v1/PodDisruptionBudget': () => req('kubernetes-models/policy/v1').PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': () =>
    req('kubernetes-models/autoscaling/v2').HorizontalPodAutoscaler,
  'keda.sh/v1alpha1/ScaledObject': () => req('@kubernetes-models/keda/keda.sh/v1alpha1').ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': () =>
    req('@kubernetes-models/keda/keda.sh/v1alpha1').TriggerAuthentication,
};

function load(file) {
  return YAML.parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    return d.toJSON();
  }).filter(Boolean);
}

// Schema validation of one object; returns error strings.
function schemaErrors(o) {
  const key = `${o.apiVersion}/${o.kind}`;
  const M = MODELS[key];
  if (!M) return [`${key} ${o.metadata && o.metadata.name}: no schema known for this kind`];
  try {
    new (M())(o).validate();
    return [];
  } catch (e) {
    return [`${key} ${o.metadata.name}: ${e.message}`];
  }
}

// A Lua config's top-level key (the simple forms used in deploy/k8s/base/ain.lua).
function luaStr(src, re, what) {
  const m = src.match(re);
  if (!m) throw new Error(`ain.lua: ${what} not found`);
  return m[1];
}

function engineMetrics() {
  const names = new Set();
  for (const f of ['engine/obs/catalog.c', 'docs/metrics.md']) {
    for (const m of fs.readFileSync(path.join(root, f), 'utf8').matchAll(/\bain_[a-z_]+\b/g)) names.add(m[0]);
  }
  return names;
}

// The cross-checks; docs is one rendered overlay (with or without the HPA).
function semanticErrors(docs, adapter) {
  const errs = [];
  const by = (kind, name) => docs.find((d) => d.kind === kind && (!name || d.metadata.name === name ||
    d.metadata.name.startsWith(name + '-')));
  const dep = by('Deployment', 'ain');
  if (!dep) return ['no Deployment ain'];
  const pod = dep.spec.template.spec;
  const c = (pod.containers || []).find((x) => x.name === 'ain');
  if (!c) return ['Deployment ain has no container ain'];
  const cfgMap = by('ConfigMap', 'ain-config');
  if (!cfgMap || !cfgMap.data || !cfgMap.data['ain.lua']) return ['no ConfigMap ain-config with ain.lua'];
  const lua = cfgMap.data['ain.lua'];
  try {
    const listen = luaStr(lua, /^\s*listen\s*=\s*"([^"]+)"/m, 'api.listen');
    const port = Number(listen.split(':').pop());
    const graceMs = Number(luaStr(lua, /^shutdown\s*=\s*\{\s*grace_ms\s*=\s*(\d+)/m, 'shutdown.grace_ms'));
    const scriptsDir = luaStr(lua, /^scripts_dir\s*=\s*"([^"]+)"/m, 'scripts_dir');
    const secretsDir = luaStr(lua, /^secrets_dir\s*=\s*"([^"]+)"/m, 'secrets_dir');
    const named = (p) => (c.ports || []).find((x) => x.name === p);
    const portOf = (probe) => (typeof probe.httpGet.port === 'string' ? (named(probe.httpGet.port) || {}).containerPort : probe.httpGet.port);
    for (const [probe, want] of [['readinessProbe', '/readyz'], ['livenessProbe', '/healthz']]) {
      const p = c[probe];
      if (!p || !p.httpGet) { errs.push(`${probe}: missing or not httpGet`); continue; }
      if (p.httpGet.path !== want) errs.push(`${probe}: path ${p.httpGet.path}, want ${want}`);
      if (portOf(p) !== port) errs.push(`${probe}: port ${portOf(p)} is not api.listen's ${port}`);
    }
    const tgps = pod.terminationGracePeriodSeconds;
    if (!(tgps * 1000 > graceMs + 1000)) {
      errs.push(`terminationGracePeriodSeconds ${tgps} s is not above shutdown.grace_ms ${graceMs} ms + 1 s`);
    }
    // mounts: scripts_dir/<folder> whole (no subPath), secrets_dir from the init container's copy
    const mounts = c.volumeMounts || [];
    const vol = (n) => (pod.volumes || []).find((v) => v.name === n);
    for (const folder of ['agents', 'personas', 'safety']) {
      const m = mounts.find((x) => x.mountPath === `${scriptsDir}/${folder}`);
      if (!m) { errs.push(`no mount of ${scriptsDir}/${folder}`); continue; }
      if (m.subPath) errs.push(`${m.mountPath}: subPath mounts never see ConfigMap updates`);
      const v = vol(m.name);
      const cmName = v && v.configMap && v.configMap.name;
      const cm = cmName && docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === cmName);
      if (!cm) { errs.push(`${m.mountPath}: volume ${m.name} is not a ConfigMap of this build`); continue; }
      if (cmName !== `ain-policies-${folder}`) errs.push(`${m.mountPath}: ConfigMap ${cmName} carries a hash suffix (updates would roll pods, not reload)`);
      const dir = path.join(root, 'scripts', folder);
      const files = fs.readdirSync(dir).filter((f) => f.endsWith('.lua')).sort();
      const keys = Object.keys(cm.data || {}).sort();
      for (const f of files) {
        if (!(f in (cm.data || {}))) errs.push(`ConfigMap ${cmName}: scripts/${folder}/${f} is missing`);
        else if (cm.data[f] !== fs.readFileSync(path.join(dir, f), 'utf8')) errs.push(`ConfigMap ${cmName}: ${f} differs from scripts/${folder}/${f}`);
      }
      for (const k of keys) if (!files.includes(k)) errs.push(`ConfigMap ${cmName}: ${k} is not in scripts/${folder}`);
    }
    const sm = mounts.find((x) => x.mountPath === secretsDir);
    const sv = sm && vol(sm.name);
    if (!sv || !sv.emptyDir || sv.emptyDir.medium !== 'Memory') errs.push(`secrets_dir ${secretsDir}: not a memory emptyDir`);
    const init = (pod.initContainers || []).find((x) => x.name === 'secrets');
    const src = init && (init.volumeMounts || []).map((m) => vol(m.name)).find((v) => v && v.secret);
    if (!init || !src) errs.push('no init container copying the Secret into secrets_dir');
    else {
      if (!init.command || init.command[0] !== '/usr/local/bin/ain-copy-secrets' || init.command[2] !== secretsDir) errs.push(`init container secrets: command ${JSON.stringify(init.command)} does not copy into ${secretsDir}`);
      if (![0o400, 0o600].includes(src.secret.defaultMode)) errs.push(`Secret volume defaultMode ${src.secret.defaultMode} is not 0400 or 0600`);
    }
    const env = (c.env || []).find((e) => e.name === 'AIN_DATABASE_URL');
    if (!env || !env.valueFrom || !env.valueFrom.secretKeyRef) errs.push('AIN_DATABASE_URL does not come from a Secret');
  } catch (e) {
    errs.push(e.message);
  }
  const labels = dep.spec.template.metadata.labels || {};
  const matches = (sel) => sel && Object.entries(sel).every(([k, v]) => labels[k] === v);
  const pdb = by('PodDisruptionBudget');
  if (!pdb) errs.push('no PodDisruptionBudget');
  else if (!matches(pdb.spec.selector.matchLabels)) errs.push('PodDisruptionBudget selector does not match the pods');
  const svc = by('Service');
  if (!svc || !matches(svc.spec.selector)) errs.push('Service selector does not match the pods');
  if (!pod.securityContext || pod.securityContext.runAsNonRoot !== true) errs.push('pods may run as root');
  // autoscaling: the HPA's metrics are the adapter's; the adapter's series are the engine's
  const hpa = by('HorizontalPodAutoscaler');
  const so = by('ScaledObject');
  if (!hpa && !so) errs.push('neither an HPA nor a KEDA ScaledObject');
  if (hpa) {
    if (hpa.spec.scaleTargetRef.name !== dep.metadata.name) errs.push('HPA targets another Deployment');
    const served = new Set();
    for (const r of [...(adapter.rules || []), ...(adapter.externalRules || [])]) served.add(r.name.as);
    for (const m of hpa.spec.metrics) {
      const name = (m.pods || m.external || m.object || {}).metric.name;
      if (!served.has(name)) errs.push(`HPA metric ${name} is not served by the prometheus-adapter rules`);
    }
  }
  if (so && (so.spec.scaleTargetRef || {}).name !== dep.metadata.name) errs.push('ScaledObject targets another Deployment');
  return errs;
}

function adapterErrors(adapter) {
  const errs = [];
  const known = engineMetrics();
  for (const r of [...(adapter.rules || []), ...(adapter.externalRules || [])]) {
    const text = `${r.seriesQuery} ${r.metricsQuery}`;
    for (const m of text.matchAll(/\bain_[a-z_]+\b/g)) {
      if (!known.has(m[0])) errs.push(`adapter rule ${r.name.as}: ${m[0]} is not an engine metric`);
    }
  }
  return errs;
}

function check(name, docs, adapter) {
  const errs = [];
  for (const o of docs) errs.push(...schemaErrors(o));
  try {
    errs.push(...semanticErrors(docs, adapter), ...adapterErrors(adapter));
  } catch (e) { // a shape the cross-checks cannot walk: the schema errors above say why
    errs.push(`cross-checks stopped: ${e.message}`);
  }
  return errs;
}

const prod = load(prodFile);
const keda = load(kedaFile);
const adapterCm = load(adapterFile);
let failed = 0;
for (const o of adapterCm) for (const e of schemaErrors(o)) { console.log(`not ok - adapter: ${e}`); failed++; }
const adapter = YAML.parse(adapterCm[0].data['config.yaml']);
for (const [name, docs] of [['production', prod], ['keda', keda]]) {
  const errs = check(name, docs, adapter);
  for (const e of errs) console.log(`not ok - ${name}: ${e}`);
  failed += errs.length;
  if (!errs.length) console.log(`ok - ${name}: ${docs.length} objects valid (${docs.map((d) => d.kind).join(', ')})`);
}

// Broken copies: each must be refused, with a message that names the fault.
const clone = (x) => JSON.parse(JSON.stringify(x));
const dep = (docs) => docs.find((d) => d.kind === 'Deployment');
const breakages = [
  ['containerPort as text', prod, (d) => { dep(d).spec.template.spec.containers[0].ports[0].containerPort = 'eighty'; }, /containerPort must be integer/],
  ['Deployment without selector', prod, (d) => { delete dep(d).spec.selector; }, /must have required property selector/],
  ['HPA target type unknown', prod, (d) => { d.find((o) => o.kind === 'HorizontalPodAutoscaler').spec.metrics[0].external.target.type = 7; }, /type must be string/],
  ['PDB minAvailable as a list', prod, (d) => { d.find((o) => o.kind === 'PodDisruptionBudget').spec.minAvailable = [1]; }, /minAvailable/],
  ['ScaledObject without scaleTargetRef', keda, (d) => { delete d.find((o) => o.kind === 'ScaledObject').spec.scaleTargetRef; }, /required property scaleTargetRef/],
  ['ScaledObject trigger without type', keda, (d) => { delete d.find((o) => o.kind === 'ScaledObject').spec.triggers[0].type; }, /required property type/],
  ['unknown kind', prod, (d) => { d.push({ apiVersion: 'v1', kind: 'Pdo', metadata: { name: 'x' } }); }, /no schema known/],
  ['grace period too short', prod, (d) => { dep(d).spec.template.spec.terminationGracePeriodSeconds = 20; }, /terminationGracePeriodSeconds 20 s is not above/],
  ['readiness on /healthz', prod, (d) => { dep(d).spec.template.spec.containers[0].readinessProbe.httpGet.path = '/healthz'; }, /readinessProbe: path/],
  ['a policy missing from its ConfigMap', prod, (d) => { delete d.find((o) => o.metadata.name === 'ain-policies-agents').data['judge.lua']; }, /judge.lua is missing/],
  ['policies by subPath', prod, (d) => { dep(d).spec.template.spec.containers[0].volumeMounts.find((m) => m.mountPath.endsWith('/agents')).subPath = 'x'; }, /subPath/],
  ['Secret mode 0644', prod, (d) => { dep(d).spec.template.spec.volumes.find((v) => v.secret).secret.defaultMode = 0o644; }, /defaultMode 420/],
  ['HPA metric the adapter does not serve', prod, (d) => { d.find((o) => o.kind === 'HorizontalPodAutoscaler').spec.metrics[1].pods.metric.name = 'ain_cpu'; }, /ain_cpu is not served/],
];
for (const [what, base, mutate, want] of breakages) {
  const docs = clone(base);
  mutate(docs);
  const errs = check(what, docs, adapter);
  if (errs.some((e) => want.test(e))) console.log(`ok - broken copy refused: ${what}`);
  else { console.log(`not ok - broken copy accepted: ${what} (errors: ${JSON.stringify(errs)})`); failed++; }
}
const badAdapter = clone(adapter);
badAdapter.rules[0].seriesQuery = 'ain_steps_runing{namespace!="",pod!=""}';
if (adapterErrors(badAdapter).some((e) => /ain_steps_runing is not an engine metric/.test(e))) console.log('ok - broken copy refused: adapter rule naming a metric the engine lacks');
else { console.log('not ok - adapter rule with a wrong metric name accepted'); failed++; }
process.exit(failed ? 1 : 0);
