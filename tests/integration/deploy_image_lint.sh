#!/usr/bin/env bash
# The short form of deploy/test-image.sh (which builds and runs the image: minutes, not in ctest).
# Without building, it checks what can be checked of deploy/Containerfile:
#   - every instruction is a known one, continuation lines joined; stages named before COPY --from;
#     every COPY source exists and is not left out by .containerignore;
#   - the apt packages of the build stage are tools/setup.sh's RUNTIME build tools and -dev
#     packages, and those of the runtime stage its other (run-time) packages: a package added to
#     RUNTIME but not here (or the reverse) fails;
#   - the last USER is numeric and not root; EXPOSE, HEALTHCHECK and the default config's
#     api.listen name one port;
#   - the default config (deploy/container/ain.lua), with its image paths mapped to this tree,
#     passes `ain check` and `ain migrate`, and the HEALTHCHECK's own command, run against an
#     engine started with it, succeeds, then fails once the engine is stopped.
. "$(dirname "$0")/lib.bash"
CF=$AIN_SOURCE_DIR/deploy/Containerfile
cat > "$T/lint.py" <<'PY'
import fnmatch, json, os, re, shlex, sys
root = sys.argv[1]
text = open(sys.argv[3]).read()
errors = []
lines, cur = [], ""
for raw in text.splitlines():
    if not cur and (raw.strip() == "" or raw.lstrip().startswith("#")):
        continue
    if raw.lstrip().startswith("#"):
        continue  # a comment inside a continued instruction
    cur += raw.rstrip()[:-1] + " " if raw.rstrip().endswith("\\") else raw
    if not raw.rstrip().endswith("\\"):
        lines.append(cur.strip()); cur = ""
KNOWN = {"FROM", "ARG", "ENV", "RUN", "COPY", "WORKDIR", "USER", "VOLUME", "EXPOSE", "HEALTHCHECK",
         "ENTRYPOINT", "CMD", "LABEL", "STOPSIGNAL", "SHELL", "ADD", "ONBUILD"}
ignore = [l.strip() for l in open(os.path.join(root, ".containerignore")) if l.strip() and not l.startswith("#")]
def ignored(p):
    p = p.rstrip("/")
    return any(fnmatch.fnmatch(p, g) or p == g or p.startswith(g + "/") for g in ignore)
stages, stage_pkgs, user, expose, health = [], [], None, None, None
for l in lines:
    op, _, rest = l.partition(" ")
    if op.upper() not in KNOWN:
        errors.append(f"unknown instruction {op!r}")
        continue
    op = op.upper()
    if op == "FROM":
        m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", rest, re.I)
        stages.append(m.group(2) if m and m.group(2) else f"#{len(stages)}")
        stage_pkgs.append([])
    elif op == "COPY":
        args = shlex.split(rest)
        frm = [a for a in args if a.startswith("--from=")]
        srcs = [a for a in args if not a.startswith("--")][:-1]
        if frm:
            if frm[0][7:] not in stages[:-1]:
                errors.append(f"COPY --from={frm[0][7:]}: no earlier stage of that name")
            continue
        for s in srcs:
            if not os.path.exists(os.path.join(root, s)):
                errors.append(f"COPY {s}: not in the source tree")
            elif ignored(s):
                errors.append(f"COPY {s}: left out by .containerignore")
    elif op == "RUN" and "apt-get install" in rest:
        seg = rest.split("apt-get install", 1)[1].split("&&")[0]
        seg = re.sub(r"\$\([^)]*\)", "", seg)
        stage_pkgs[-1] += [w for w in seg.split() if not w.startswith("-")]
    elif op == "USER":
        user = rest.strip()
    elif op == "EXPOSE":
        expose = rest.strip()
    elif op == "HEALTHCHECK":
        health = rest
if len(stages) != 2 or stages[0] != "build":
    errors.append(f"stages {stages}: want a build stage, then the runtime stage")
setup = open(os.path.join(root, "tools/setup.sh")).read()
runtime = re.search(r"^RUNTIME=\((.*?)\)", setup, re.S | re.M).group(1).split()
build_tools = {"build-essential", "cmake", "pkg-config", "ca-certificates"}
want_build = sorted(p for p in runtime if p.endswith("-dev") or p in build_tools)
want_run = sorted(p for p in runtime if not p.endswith("-dev") and p not in build_tools - {"ca-certificates"})
if len(stage_pkgs) == 2:
    if sorted(stage_pkgs[0]) != want_build:
        errors.append(f"build stage packages {sorted(stage_pkgs[0])} != setup.sh RUNTIME's build set {want_build}")
    if sorted(stage_pkgs[1]) != want_run:
        errors.append(f"runtime stage packages {sorted(stage_pkgs[1])} != setup.sh RUNTIME's run set {want_run}")
if not user or not re.fullmatch(r"[1-9][0-9]*(:[0-9]+)?", user):
    errors.append(f"USER {user!r}: want a numeric, non-root user")
if not health or "/healthz" not in health:
    errors.append("no HEALTHCHECK on /healthz")
cfg = open(os.path.join(root, "deploy/container/ain.lua")).read()
port = re.search(r'listen\s*=\s*"[^"]*:(\d+)"', cfg).group(1)
if expose != port:
    errors.append(f"EXPOSE {expose} but api.listen's port is {port}")
if health and f"/{port}" not in health:
    errors.append(f"HEALTHCHECK does not ask port {port}")
for e in errors:
    print("not ok -", e)
if errors:
    sys.exit(1)
print(f"ok - Containerfile: {len(lines)} instructions, stages {stages}, "
      f"{len(stage_pkgs[0])} build + {len(stage_pkgs[1])} run packages = setup.sh RUNTIME")
# the HEALTHCHECK's command, for the shell below
cmd = json.loads(health.split("CMD", 1)[1].strip())
open(sys.argv[2], "w").write(json.dumps(cmd))
PY
python3 "$T/lint.py" "$AIN_SOURCE_DIR" "$T/health.json" "$CF" > "$T/lint.out" ||
  { cat "$T/lint.out"; fail "Containerfile lint"; }
cat "$T/lint.out"
# The lint must refuse broken copies: a runtime program dropped, root as the user, no HEALTHCHECK.
sed 's/ ffmpeg espeak-ng / espeak-ng /' "$CF" > "$T/bad1"
sed 's/^USER .*/USER root/' "$CF" > "$T/bad2"
sed '/^HEALTHCHECK/,/^  CMD/d' "$CF" > "$T/bad3"
for b in 1 2 3; do
  if python3 "$T/lint.py" "$AIN_SOURCE_DIR" "$T/h.json" "$T/bad$b" > "$T/bad.out"; then
    fail "the lint accepted broken copy $b: $(cat "$T/bad.out")"
  fi
  echo "ok - broken Containerfile $b refused: $(grep -m1 'not ok' "$T/bad.out")"
done

# --- the default config, mapped to this tree --------------------------------------------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
C=$T/ain.lua
sed -e "s|/usr/share/ain/scripts|$AIN_SOURCE_DIR/scripts|; s|/usr/share/ain/sql|$AIN_SOURCE_DIR/sql|" \
    -e "s|/var/lib/ain|$T/var|g; s|/run/secrets/ain|$T/secrets|; s|0\.0\.0\.0:8080|127.0.0.1:$port|" \
    "$AIN_SOURCE_DIR/deploy/container/ain.lua" > "$C"
mkdir -p "$T/var"
"$AIN_BIN" check -c "$C" > "$T/check.out" 2>&1 || { cat "$T/check.out"; fail "ain check with the container's config"; }
"$AIN_BIN" migrate -c "$C" > /dev/null || fail "ain migrate with the container's config"
ok "the container's default config passes ain check and ain migrate"

# --- the HEALTHCHECK command itself -------------------------------------------------------------------
mapfile -t hc < <(python3 -c 'import json, sys; [print(a) for a in json.load(open(sys.argv[1]))]' "$T/health.json")
hc[${#hc[@]}-1]=${hc[${#hc[@]}-1]//\/8080/\/$port}
"${hc[@]}" 2>/dev/null && fail "the HEALTHCHECK passed with no engine running"
"$AIN_BIN" run -c "$C" --no-progress > "$T/run.out" 2> "$T/run.err" &
pid=$!
CLEANUP_PIDS+=("$pid")
for _ in $(seq 300); do "${hc[@]}" 2>/dev/null && break; sleep 0.1; done
"${hc[@]}" || { tail -5 "$T/run.err"; fail "the HEALTHCHECK command failed against a running engine"; }
for _ in $(seq 300); do # ready (started, signal handlers in place) before the SIGTERM
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ] && break
  sleep 0.1
done
kill -TERM "$pid"; wait "$pid" || fail "ain run exited non-zero on SIGTERM"
"${hc[@]}" 2>/dev/null && fail "the HEALTHCHECK passed after the engine stopped"
ok "the HEALTHCHECK command: fails without an engine, passes with one, fails after SIGTERM"
