/* Tests for ain.spawn's sandbox (config/spawn.c, lua/ain_spawn.c, engine/spawn_helper.c):
 * the allowlist as a config key (its refusals name the key), and the hostile calls a policy can
 * make, each run for real through the Lua host, ain-spawn-helper and real programs: shells,
 * unlisted programs and arguments, the engine's secrets in the environment, working directories
 * outside the data folder, resource limits, and a timeout that must take the whole group. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "config/config.h"
#include "core/util.h"
#include "harness.h"
#include "lua/host.h"
#include "lua/spawn_lint.h"

/* ---- config ---------------------------------------------------------------------------------- */

static const char *tmp_path(const char *name) {
  static char buf[4][PATH_MAX];
  static int slot;
  char *out = buf[slot++ % 4];
  snprintf(out, PATH_MAX, "%s/%s", ain_test_tmpdir(), name);
  return out;
}

static void write_text(const char *path, const char *text, int mode) {
  FILE *f = fopen(path, "w");
  ASSERT_NOT_NULL(f);
  fputs(text, f);
  fclose(f);
  ASSERT_OK(chmod(path, (mode_t)mode));
}

/* Loads `text` as a config file; returns the status, cfg holds the result (caller frees). */
static int load(ain_config_t *cfg, const char *text, ain_err_t *err) {
  const char *path = tmp_path("ain.lua");
  write_text(path, text, 0644);
  ain_config_defaults(cfg);
  return ain_config_load(cfg, path, err);
}

static void expect_config_error(const char *text, const char *field, const char *needle) {
  ain_config_t cfg;
  ain_err_t err = {0};
  int rc = load(&cfg, text, &err);
  if (rc != AIN_ECONFIG) {
    fprintf(stderr, "config was accepted (rc %d): %s\n", rc, text);
  }
  ASSERT_EQ(rc, AIN_ECONFIG);
  ASSERT_STR_EQ(err.field, field);
  ASSERT_STR_CONTAINS(err.msg, needle);
  ain_config_free(&cfg);
}

TEST(config_refusals) {
  expect_config_error("spawn = { allow = { { path = '/bin/sh' } } }", "spawn.allow[1].path",
                      "a shell or interpreter");
  expect_config_error("spawn = { allow = { { path = '/usr/bin/echo' }, { path = '/bin/bash' } } }",
                      "spawn.allow[2].path", "a shell or interpreter");
  if (access("/usr/bin/python3", X_OK) == 0) {
    expect_config_error("spawn = { allow = { { path = '/usr/bin/python3' } } }",
                        "spawn.allow[1].path", "a shell or interpreter");
  }
  /* A symlink cannot smuggle a shell in under another name: the real path is judged. */
  ASSERT_OK(symlink("/bin/sh", tmp_path("ffprobe")));
  char text[2 * PATH_MAX];
  snprintf(text, sizeof text, "spawn = { allow = { { path = '%s' } } }", tmp_path("ffprobe"));
  expect_config_error(text, "spawn.allow[1].path", "(or links to) /usr/bin/dash");
  expect_config_error("spawn = { allow = { { path = 'echo' } } }", "spawn.allow[1].path",
                      "must be an absolute path (no PATH lookup)");
  expect_config_error("spawn = { allow = { { path = '/nonexistent/prog' } } }",
                      "spawn.allow[1].path", "does not exist");
  write_text(tmp_path("plain"), "not a program\n", 0644);
  snprintf(text, sizeof text, "spawn = { allow = { { path = '%s' } } }", tmp_path("plain"));
  expect_config_error(text, "spawn.allow[1].path", "is not an executable file");
  expect_config_error("spawn = { allow = { { path = '/usr/bin/echo', args = { '(' } } } }",
                      "spawn.allow[1].args[1]", "is not a valid pattern");
  expect_config_error("spawn = { allow = { { path = '/usr/bin/echo', argz = {} } } }",
                      "spawn.allow[1].argz", "unknown key");
  expect_config_error("spawn = { allow = { { args = {} } } }", "spawn.allow[1].path",
                      "is required");
  expect_config_error("spawn = { limits = { cpu_s = 0 } }", "spawn.limits.cpu_s",
                      "must be an integer from 1");
  expect_config_error("spawn = { allow = { { path = '/usr/bin/echo', limits = { stack = 1 } } } }",
                      "spawn.allow[1].limits.stack", "unknown key");
  expect_config_error("spawn = { env = { AIN_SECRET_TOKEN = 'x' } }", "spawn.env",
                      "reserved");
  expect_config_error("spawn = { allow = { { path = '/usr/bin/echo' }, { path = '/bin/echo' } } }",
                      "spawn.allow[2]", "one entry per program");
  expect_config_error("spawn = { timeout_ms = -5 }", "spawn.timeout_ms", "from 1 to");
  expect_config_error("spawn = { helper = '/nonexistent/helper' }", "spawn.helper",
                      "not an executable file");
  expect_config_error("spawn = { allowed = {} }", "spawn.allowed", "unknown key");
  expect_config_error("spawn = 'everything'", "spawn", "must be a table");
}

TEST(config_accepts_and_inherits_limits) {
  ain_config_t cfg;
  ain_err_t err = {0};
  ASSERT_OK(load(&cfg,
                 "spawn = { timeout_ms = 1234, env = { LANG = 'C' }, limits = { cpu_s = 7 },\n"
                 "  allow = { { path = '/bin/echo', args = { '-n' }, rest = '[a-z]+',\n"
                 "              limits = { memory_mb = 32 }, env = { X = 'y' } } } }",
                 &err));
  ASSERT_EQ(cfg.spawn.timeout_ms, 1234);
  ASSERT_EQ(cfg.spawn.nallow, 1);
  const ain_spawn_entry_t *e = ain_spawn_config_find(&cfg.spawn, "/bin/echo");
  ASSERT_NOT_NULL(e);
  ASSERT_TRUE(e == ain_spawn_config_find(&cfg.spawn, "/usr/bin/echo")); /* its real path */
  ASSERT_NULL(ain_spawn_config_find(&cfg.spawn, "echo"));
  ASSERT_EQ(e->limits.cpu_s, 7);      /* from spawn.limits */
  ASSERT_EQ(e->limits.memory_mb, 32); /* its own */
  ASSERT_EQ(e->limits.open_files, 256);
  char *ok[] = {"/bin/echo", "-n", "abc", "def"};
  ASSERT_OK(ain_spawn_entry_check_args(e, ok, 4, &err));
  char *bad[] = {"/bin/echo", "-n", "abc", "x; rm -rf /"};
  ASSERT_EQ(ain_spawn_entry_check_args(e, bad, 4, &err), AIN_ESANDBOX);
  ASSERT_STR_CONTAINS(err.msg, "argument 3 ('x; rm -rf /') does not match");
  /* anchored: "-n" must be the whole argument */
  char *partial[] = {"/bin/echo", "-nx"};
  ASSERT_EQ(ain_spawn_entry_check_args(e, partial, 2, &err), AIN_ESANDBOX);
  ain_config_free(&cfg);
  ASSERT_TRUE(ain_spawn_is_interpreter("/usr/bin/python3.11"));
  ASSERT_TRUE(ain_spawn_is_interpreter("/usr/bin/lua5.1"));
  ASSERT_TRUE(!ain_spawn_is_interpreter("/usr/bin/shred"));
  ASSERT_TRUE(!ain_spawn_is_interpreter("/usr/bin/ffprobe"));
}

/* ---- the host -------------------------------------------------------------------------------- */

typedef struct {
  int calls;
  int status;
  char *result;
  char *error;
} outcome_t;

static void on_done(ain_lua_call_t *call, int status, const char *result, const char *error,
                    void *data) {
  outcome_t *o = data;
  o->calls++;
  o->status = status;
  o->result = result ? ain_strdup(result) : NULL;
  o->error = error ? ain_strdup(error) : NULL;
  /* cjson writes '/' as "\/": undo it so the assertions can spell paths plainly */
  for (char *r = o->result, *w = o->result; r != NULL; r++, w++) {
    if (r[0] == '\\' && r[1] == '/') {
      r++;
    }
    *w = *r;
    if (*r == '\0') {
      break;
    }
  }
}

/* Number of "\n" escapes in the JSON string field `name` of result. */
static int field_lines(const char *result, const char *name) {
  char key[64];
  snprintf(key, sizeof key, "\"%s\":\"", name);
  const char *p = strstr(result, key);
  ASSERT_NOT_NULL(p);
  int n = 0;
  for (p += strlen(key); *p && *p != '"'; p++) {
    if (p[0] == '\\') {
      n += p[1] == 'n';
      p++;
    }
  }
  return n;
}

typedef struct {
  uv_loop_t loop;
  ain_lua_host_t *h;
  ain_config_t cfg;
  char data[PATH_MAX]; /* the data folder, real path */
} env_t;

/* The allowlist every host test runs under. The data folder holds work/ and a symlink that
 * points out of it. */
static void env_init_with(env_t *e, const char *extra) {
  const char *data = tmp_path("data");
  ASSERT_OK(ain_mkdir_p(data));
  ASSERT_NOT_NULL(realpath(data, e->data));
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/work", e->data);
  ASSERT_OK(ain_mkdir_p(p));
  snprintf(p, sizeof p, "%s/escape", e->data);
  ASSERT_OK(symlink("/etc", p));
  /* A script that leaves a grandchild behind: only a group kill takes it too. */
  write_text(tmp_path("bg.sh"), "#!/bin/sh\nsleep \"$1\" &\necho $!\nwait\n", 0755);
  char text[8192];
  snprintf(text, sizeof text,
           "data_dir = '%s'\n"
           "spawn = {\n"
           "  env = { PATH = '/usr/bin:/bin', LANG = 'C' },\n"
           "  timeout_ms = 90000,\n"
           "  allow = {\n"
           "    { path = '/usr/bin/printenv', env = { ENTRY_VAR = 'e' } },\n"
           "    { path = '/usr/bin/pwd' },\n"
           "    { path = '/usr/bin/cat', args = { '/etc/hostname' } },\n"
           "    { path = '/usr/bin/dd', args = { 'if=/dev/zero', 'of=[a-z]+', 'bs=[0-9]+[KM]',\n"
           "                                     'count=[0-9]+' },\n"
           "      limits = { memory_mb = 64, file_mb = 1 } },\n"
           "    { path = '/usr/bin/sha256sum', args = { '/dev/zero' }, limits = { cpu_s = 1 } },\n"
           "    { path = '%s', args = { '[0-9.]+' } },\n"
           "    { path = '/usr/bin/sleep', args = { '[0-9]+' } },\n"
           "  },\n"
           "}\n%s",
           data, tmp_path("bg.sh"), extra ? extra : "");
  ain_err_t err = {0};
  int rc = load(&e->cfg, text, &err);
  if (rc != 0) {
    fprintf(stderr, "config: %s\n", err.msg);
  }
  ASSERT_OK(rc);
  ASSERT_OK(uv_loop_init(&e->loop));
  ain_lua_opts_t o = {.scripts_dir = ain_test_src("tests/fixtures/spawn/scripts"),
                      .name = "test",
                      .spawn = &e->cfg.spawn,
                      .data_dir = e->cfg.data_dir};
  ASSERT_OK(ain_lua_host_new(&e->loop, &o, &e->h, &err));
}

static void env_init(env_t *e) { env_init_with(e, NULL); }

static void env_done(env_t *e) {
  ASSERT_EQ(ain_lua_host_active(e->h), 0);
  ain_lua_host_free(e->h);
  ASSERT_OK(uv_run(&e->loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&e->loop));
  ain_config_free(&e->cfg);
}

/* Runs spawner.run(payload) to the end; the policy itself must succeed. */
static void run(env_t *e, const char *payload, outcome_t *o) {
  memset(o, 0, sizeof *o);
  ain_lua_call_opts_t co = {.module = "spawner", .function = "run", .payload_json = payload};
  ain_err_t err = {0};
  ASSERT_OK(ain_lua_call(e->h, &co, on_done, o, NULL, &err));
  ASSERT_OK(uv_run(&e->loop, UV_RUN_DEFAULT));
  ASSERT_EQ(o->calls, 1);
  if (o->status != 0) {
    fprintf(stderr, "policy failed: %s\n", o->error);
  }
  ASSERT_EQ(o->status, 0);
}

static void outcome_free(outcome_t *o) {
  free(o->result);
  free(o->error);
}

/* The call must come back as nil, "ESANDBOX: ain.spawn: ...<needle>...", "ESANDBOX". */
static void expect_refused(env_t *e, const char *payload, const char *needle) {
  outcome_t o;
  run(e, payload, &o);
  ASSERT_STR_CONTAINS(o.result, "\"refused\":true");
  ASSERT_STR_CONTAINS(o.result, "\"code\":\"ESANDBOX\"");
  ASSERT_STR_CONTAINS(o.result, "\"err\":\"ESANDBOX: ain.spawn: ");
  ASSERT_STR_CONTAINS(o.result, needle);
  outcome_free(&o);
}

TEST(shells_and_unlisted_programs_refused) {
  env_t e;
  env_init(&e);
  expect_refused(&e, "{\"cmd\":[\"sh\",\"-c\",\"cat /etc/passwd\"]}",
                 "'sh' is not on the allowlist");
  expect_refused(&e, "{\"cmd\":[\"/bin/sh\",\"-c\",\"cat /etc/passwd\"]}",
                 "'/bin/sh' is not on the allowlist");
  expect_refused(&e, "{\"cmd\":[\"/usr/bin/bash\",\"-c\",\"id\"]}",
                 "'/usr/bin/bash' is not on the allowlist");
  /* PATH lookup is gone: the bare name of a listed program is not it */
  expect_refused(&e, "{\"cmd\":[\"printenv\"]}", "'printenv' is not on the allowlist");
  /* /etc/passwd through a listed program: only the listed argument goes */
  expect_refused(&e, "{\"cmd\":[\"/usr/bin/cat\",\"/etc/passwd\"]}",
                 "/usr/bin/cat: argument 1 ('/etc/passwd') does not match the allowed pattern "
                 "'/etc/hostname'");
  expect_refused(&e, "{\"cmd\":[\"/usr/bin/cat\",\"/etc/hostname\",\"/etc/passwd\"]}",
                 "argument 2 ('/etc/passwd') is not allowed");
  expect_refused(&e, "{\"cmd\":[\"/usr/bin/cat\",\"/etc/hostname/../passwd\"]}",
                 "does not match");
  outcome_t o;
  run(&e, "{\"cmd\":[\"/usr/bin/cat\",\"/etc/hostname\"]}", &o);
  char *host = NULL;
  size_t len = 0;
  ASSERT_OK(ain_read_file("/etc/hostname", &host, &len));
  ASSERT_STR_CONTAINS(o.result, "\"status\":0");
  host[strcspn(host, "\n")] = '\0';
  ASSERT_STR_CONTAINS(o.result, host);
  free(host);
  outcome_free(&o);
  env_done(&e);
}

TEST(no_allowlist_refuses_everything) {
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  ain_lua_opts_t o = {.scripts_dir = ain_test_src("tests/fixtures/spawn/scripts"), .name = "t"};
  ain_lua_host_t *h = NULL;
  ain_err_t err = {0};
  ASSERT_OK(ain_lua_host_new(&loop, &o, &h, &err));
  outcome_t out = {0};
  ain_lua_call_opts_t co = {.module = "spawner",
                            .function = "run",
                            .payload_json = "{\"cmd\":[\"/usr/bin/printenv\"]}"};
  ASSERT_OK(ain_lua_call(h, &co, on_done, &out, NULL, &err));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_STR_CONTAINS(out.result, "\"code\":\"ESANDBOX\"");
  ASSERT_STR_CONTAINS(out.result, "'/usr/bin/printenv' is not on the allowlist");
  outcome_free(&out);
  ain_lua_host_free(h);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
}

TEST(env_is_scrubbed) {
  /* What the engine holds must never reach a child: secrets and everything else. */
  ASSERT_OK(setenv("AIN_SECRET_TOKEN", "hunter2", 1));
  ASSERT_OK(setenv("ENGINE_ONLY", "1", 1));
  env_t e;
  env_init(&e);
  outcome_t o;
  run(&e, "{\"cmd\":[\"/usr/bin/printenv\"],\"env\":{\"GREETING\":\"hi\"}}", &o);
  ASSERT_STR_CONTAINS(o.result, "\"status\":0");
  /* exactly spawn.env + the entry's env + the policy's */
  ASSERT_STR_CONTAINS(o.result, "PATH=/usr/bin:/bin\\n");
  ASSERT_STR_CONTAINS(o.result, "LANG=C\\n");
  ASSERT_STR_CONTAINS(o.result, "ENTRY_VAR=e\\n");
  ASSERT_STR_CONTAINS(o.result, "GREETING=hi\\n");
  ASSERT_EQ(field_lines(o.result, "stdout"), 4);
  ASSERT_TRUE(strstr(o.result, "hunter2") == NULL);
  ASSERT_TRUE(strstr(o.result, "AIN_") == NULL);
  ASSERT_TRUE(strstr(o.result, "ENGINE_ONLY") == NULL);
  outcome_free(&o);
  expect_refused(&e, "{\"cmd\":[\"/usr/bin/printenv\"],\"env\":{\"AIN_SECRET_TOKEN\":\"x\"}}",
                 "env name 'AIN_SECRET_TOKEN' is reserved");
  expect_refused(&e, "{\"cmd\":[\"/usr/bin/printenv\"],\"env\":{\"LD_PRELOAD\":\"/tmp/x.so\"}}",
                 "env name 'LD_PRELOAD' is reserved");
  expect_refused(&e, "{\"cmd\":[\"/usr/bin/printenv\"],\"env\":{\"PATH\":\"/tmp\"}}",
                 "env name 'PATH' is set by the operator");
  expect_refused(&e, "{\"cmd\":[\"/usr/bin/printenv\"],\"env\":{\"A B\":\"1\"}}",
                 "is not a plain identifier");
  env_done(&e);
}

TEST(cwd_stays_in_the_data_folder) {
  env_t e;
  env_init(&e);
  outcome_t o;
  char want[PATH_MAX + 64];
  run(&e, "{\"cmd\":[\"/usr/bin/pwd\"]}", &o);
  snprintf(want, sizeof want, "\"stdout\":\"%s\\n\"", e.data);
  ASSERT_STR_CONTAINS(o.result, want);
  outcome_free(&o);
  run(&e, "{\"cmd\":[\"/usr/bin/pwd\"],\"cwd\":\"work\"}", &o);
  snprintf(want, sizeof want, "\"stdout\":\"%s/work\\n\"", e.data);
  ASSERT_STR_CONTAINS(o.result, want);
  outcome_free(&o);
  expect_refused(&e, "{\"cmd\":[\"/usr/bin/pwd\"],\"cwd\":\"..\"}", "may not contain '..'");
  expect_refused(&e, "{\"cmd\":[\"/usr/bin/pwd\"],\"cwd\":\"work/../..\"}", "may not contain '..'");
  expect_refused(&e, "{\"cmd\":[\"/usr/bin/pwd\"],\"cwd\":\"/etc\"}",
                 "must be relative to the data folder");
  expect_refused(&e, "{\"cmd\":[\"/usr/bin/pwd\"],\"cwd\":\"escape\"}",
                 "resolves to /etc, outside the data folder");
  expect_refused(&e, "{\"cmd\":[\"/usr/bin/pwd\"],\"cwd\":\"nope\"}",
                 "cwd 'nope': No such file or directory");
  env_done(&e);
}

TEST(memory_limit) {
  env_t e;
  env_init(&e);
  outcome_t o;
  /* dd allocates its block: 1 MiB fits in 64 MiB of address space, 200 MiB does not */
  run(&e, "{\"cmd\":[\"/usr/bin/dd\",\"if=/dev/zero\",\"of=small\",\"bs=1M\",\"count=1\"]}", &o);
  ASSERT_STR_CONTAINS(o.result, "\"status\":0");
  outcome_free(&o);
  run(&e, "{\"cmd\":[\"/usr/bin/dd\",\"if=/dev/zero\",\"of=big\",\"bs=200M\",\"count=1\"]}", &o);
  ASSERT_STR_CONTAINS(o.result, "\"status\":1");
  ASSERT_STR_CONTAINS(o.result, "memory exhausted");
  outcome_free(&o);
  env_done(&e);
}

TEST(file_size_limit) {
  env_t e;
  env_init(&e);
  outcome_t o;
  run(&e, "{\"cmd\":[\"/usr/bin/dd\",\"if=/dev/zero\",\"of=big\",\"bs=1M\",\"count=4\"]}", &o);
  ASSERT_STR_CONTAINS(o.result, "\"signal\":25"); /* SIGXFSZ */
  ASSERT_STR_CONTAINS(o.result, "\"limit\":\"file_size\"");
  outcome_free(&o);
  struct stat st;
  char p[PATH_MAX + 8];
  snprintf(p, sizeof p, "%s/big", e.data);
  ASSERT_OK(stat(p, &st));
  ASSERT_LE(st.st_size, 1 << 20);
  env_done(&e);
}

TEST(cpu_limit) {
  env_t e;
  env_init(&e);
  outcome_t o;
  /* hashes /dev/zero forever: only RLIMIT_CPU (1 s of CPU) stops it; the 90 s wall clock leaves a
   * loaded machine room, where one CPU second can take many seconds */
  run(&e, "{\"cmd\":[\"/usr/bin/sha256sum\",\"/dev/zero\"]}", &o);
  ASSERT_STR_CONTAINS(o.result, "\"signal\":24"); /* SIGXCPU */
  ASSERT_STR_CONTAINS(o.result, "\"limit\":\"cpu\"");
  ASSERT_STR_CONTAINS(o.result, "\"timed_out\":false");
  outcome_free(&o);
  env_done(&e);
}

/* 1 while pid exists and is not a zombie. */
static int alive(long pid) {
  char p[64];
  snprintf(p, sizeof p, "/proc/%ld/stat", pid);
  char *s = NULL;
  size_t len = 0;
  if (ain_read_file(p, &s, &len) != 0) {
    return 0;
  }
  const char *rp = strrchr(s, ')');
  int zombie = rp != NULL && rp[1] == ' ' && rp[2] == 'Z';
  free(s);
  return !zombie;
}

TEST(timeout_kills_the_group) {
  env_t e;
  env_init(&e);
  outcome_t o;
  /* The script backgrounds `sleep` (which keeps stdout open) and waits: a kill of the script alone
   * would leave the sleep running and the call hanging until it ends. */
  char payload[PATH_MAX + 128];
  snprintf(payload, sizeof payload, "{\"cmd\":[\"%s\",\"600.%d\"],\"timeout_ms\":300}",
           tmp_path("bg.sh"), (int)getpid());
  uint64_t t0 = ain_mono_ns();
  run(&e, payload, &o);
  double ms = (double)(ain_mono_ns() - t0) / 1e6;
  ASSERT_STR_CONTAINS(o.result, "\"timed_out\":true");
  ASSERT_LE(ms, 10000); /* 300 ms + SIGTERM; never the sleep's 600 s */
  const char *out = strstr(o.result, "\"stdout\":\"");
  ASSERT_NOT_NULL(out);
  long pid = strtol(out + strlen("\"stdout\":\""), NULL, 10);
  ASSERT_TRUE(pid > 1);
  outcome_free(&o);
  for (int i = 0; i < 100 && alive(pid); i++) {
    usleep(20000);
  }
  ASSERT_TRUE(!alive(pid));
  env_done(&e);
}

TEST(timeout_is_capped_by_the_config) {
  env_t e;
  /* the config file changes its own spawn table before the loader reads it */
  env_init_with(&e, "spawn.timeout_ms = 200\n");
  outcome_t o;
  uint64_t t0 = ain_mono_ns();
  run(&e, "{\"cmd\":[\"/usr/bin/sleep\",\"30\"],\"timeout_ms\":600000}", &o);
  ASSERT_STR_CONTAINS(o.result, "\"timed_out\":true");
  ASSERT_LE((double)(ain_mono_ns() - t0) / 1e6, 10000);
  outcome_free(&o);
  env_done(&e);
}

/* ---- ain check's static scan ---------------------------------------------------------------- */

TEST(lint_reports_literal_commands) {
  ain_config_t cfg;
  ain_err_t err = {0};
  ASSERT_OK(load(&cfg, "spawn = { allow = { { path = '/usr/bin/cat', args = { '/etc/hostname' } } } }",
                 &err));
  static const char src[] =
      "local M = {}\n"
      "-- ain.spawn{cmd={\"sh\"}} in a comment\n"
      "local s = \"ain.spawn{cmd={'sh'}}\" -- in a string\n"
      "--[==[ ain.spawn{cmd={\"sh\"}}\n ]==]\n"
      "function M.a() return ain.spawn{cmd={\"sh\",\"-c\",\"cat /etc/passwd\"}} end\n"
      "function M.b() return ain.spawn({ timeout_ms = 5, cmd = { '/usr/bin/cat', '/etc/passwd' } }) end\n"
      "function M.c(p) return ain.spawn{cmd={'/usr/bin/cat', p.file}} end\n"
      "function M.d(p) return ain.spawn{cmd=p.cmd} end\n"
      "function M.e() return ain.spawn {\n"
      "  env = { X = '1' },\n"
      "  cmd = { [[/bin/bash]] },\n"
      "} end\n"
      "function M.f() return ain.spawn{cmd={'/usr/bin/cat', '/etc/hostname'}} end\n"
      "function M.g() return ain.spawn{o = {cmd = {'sh'}}, cmd = {'/usr/bin/cat', '/etc/' .. 'x'}} end\n"
      "return M\n";
  char *buf = NULL;
  size_t blen = 0;
  FILE *out = open_memstream(&buf, &blen);
  ASSERT_NOT_NULL(out);
  int n = ain_lua_spawn_lint("p.lua", src, sizeof src - 1, &cfg.spawn, out);
  fclose(out);
  ASSERT_EQ(n, 3);
  ASSERT_STR_CONTAINS(buf, "p.lua: ESANDBOX: p.lua:6: ain.spawn of 'sh' is not on the config's "
                           "spawn.allow");
  ASSERT_STR_CONTAINS(buf, "p.lua: ESANDBOX: p.lua:7: ain.spawn: /usr/bin/cat: argument 1 "
                           "('/etc/passwd') does not match");
  ASSERT_STR_CONTAINS(buf, "p.lua: ESANDBOX: p.lua:10: ain.spawn of '/bin/bash' is not on");
  free(buf);
  ain_config_free(&cfg);
}

TEST_MAIN(TEST_ENTRY(lint_reports_literal_commands), TEST_ENTRY(config_refusals), TEST_ENTRY(config_accepts_and_inherits_limits),
          TEST_ENTRY(shells_and_unlisted_programs_refused),
          TEST_ENTRY(no_allowlist_refuses_everything), TEST_ENTRY(env_is_scrubbed),
          TEST_ENTRY(cwd_stays_in_the_data_folder), TEST_ENTRY(memory_limit),
          TEST_ENTRY(file_size_limit), TEST_ENTRY(cpu_limit), TEST_ENTRY(timeout_kills_the_group),
          TEST_ENTRY(timeout_is_capped_by_the_config))
