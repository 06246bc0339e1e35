/* Verb dispatch: one declarative table of verbs with their usage, common options (-c, --json,
 * --actor, --help), and the shared helpers verbs use to load the config and open the store. */
#include "cli/cli.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/internal.h"
#include "core/log.h"
#include "ops/similar.h"

static const ain_cli_verb_t verbs[] = {
    {"run", "run the engine",
     "ain run [-c CONFIG] [--until-idle] [--shards N] [--no-progress]\n"
     "  Starts the shards and runs tasks until SIGINT/SIGTERM (graceful; a second signal exits at\n"
     "  once) or, with --until-idle, until no task is ready, running or waiting for another\n"
     "  (tasks parked for a review or for paused publishers do not count). Prints a summary.",
     ain_cli_run},
    {"migrate", "apply the store's schema migrations",
     "ain migrate [-c CONFIG] [--json]\n  Applies sql/<backend>/NNN_*.sql not yet recorded in the "
     "store.",
     ain_cli_migrate},
    {"enqueue", "validate and enqueue task messages",
     "ain enqueue [-c CONFIG] [--json] FILE|-\n"
     "  FILE holds one task message (docs/schemas/task.json), a JSON array of them, or JSON Lines.\n"
     "  All are validated first (the schema, and that each persona_id names a persona of\n"
     "  scripts_dir); one bad message rejects the whole input, naming its index, line and field,\n"
     "  and nothing is stored. Prints the ids enqueued.",
     ain_cli_enqueue},
    {"task", "show, list or retry tasks",
     "ain task show TASK_ID [-c CONFIG] [--json | --response]\n"
     "ain task list [--status S] [--type T] [--dag DAG_ID] [--limit N] [--after CURSOR] [--json]\n"
     "ain task retry TASK_ID [-c CONFIG] [--json]\n"
     "  show: --json prints the task message (docs/schemas/task.json); --response prints the\n"
     "  worker response for a finished task (docs/schemas/response.json).\n"
     "  list: tasks newest first, N per page (default 50, at most 1000); the last line (or\n"
     "  \"next\" with --json) is the cursor of the next page, to pass with the same filters.\n"
     "  retry: a dead-lettered task runs again with a fresh set of attempts; a DAG it failed\n"
     "  runs again too (its cancelled steps return to the queue). Audited with your name.",
     ain_cli_task},
    {"dag", "list DAGs or show one",
     "ain dag list [--status S] [--persona P] [--limit N] [--after CURSOR] [-c CONFIG] [--json]\n"
     "ain dag show DAG_ID|ROOT_TASK_ID [-c CONFIG] [--json | --dot]\n"
     "  list: DAGs newest first, N per page (default 50, at most 500), of one status (running,\n"
     "  succeeded, failed, cancelled) and/or persona; the last line (or \"next\" with --json) is\n"
     "  the cursor of the next page, to pass with the same filters.\n"
     "  show: status of the DAG and each step; --dot prints Graphviz.",
     ain_cli_dag},
    {"audit", "show the audit log of a task or DAG, or the operator's actions",
     "ain audit TASK_ID|DAG_ID [-c CONFIG] [--json]\n"
     "ain audit --operator [--limit N] [-c CONFIG] [--json]\n"
     "  A task's transitions, or every task's of a DAG (exit 5 when ID is neither). --operator:\n"
     "  the newest N (default 100) pins, unpins and settings changes, each naming its operator\n"
     "  (--actor NAME, $AIN_ACTOR or the OS user).",
     ain_cli_audit},
    {"cancel", "cancel a task or a DAG",
     "ain cancel TASK_ID|DAG_ID [-c CONFIG] [--reason TEXT] [--json]", ain_cli_cancel},
    {"stats", "count tasks and DAGs by status, or posts' metrics",
     "ain stats [-c CONFIG] [--json]\n"
     "ain stats --posts [--persona P] [--topic T] [--channel C] [--since 7d] [--limit N]\n"
     "  --posts: the latest pulled public metrics of each post (views, likes, comments, shares;\n"
     "  '-' where the platform reports none) and their totals (config analytics).",
     ain_cli_stats},
    {"nodes", "list the engine nodes sharing the store",
     "ain nodes [-c CONFIG] [--json]\n"
     "  One row per engine process (id node_id/pid): host, pid, version, shards, running steps,\n"
     "  state (alive | dead | stopped; alive but silent past cluster.node_timeout_ms shows as\n"
     "  dead) and the age of its last heartbeat.",
     ain_cli_nodes},
    {"sources", "list the trend sources and their health",
     "ain sources [-c CONFIG] [--json]\n"
     "  One row per trend source (config keys sources and trends.source): kind, health (ok |\n"
     "  failing | backoff | never | unconfigured | file), records handed to the planner, fetches,\n"
     "  304 answers, errors, the last success and the last error with its retry time.",
     ain_cli_sources},
    {"events", "print state-change events (task, dag, review, node, publisher) as JSON lines",
     "ain events [-c CONFIG] [--after ID] [--types task,dag,review,node,publisher] [--follow]\n"
     "  The events of GET /v1/events, one {\"id\",\"event\",\"data\"} per line, oldest first.\n"
     "  Without --follow: those after audit id ID (default 0, the whole log), then exit.\n"
     "  --follow: from ID (default: now) on, polling every api.events_poll_ms until interrupted;\n"
     "  node events (no id) only then.",
     ain_cli_events},
    {"check", "check the config and contract-check every policy",
     "ain check [-c CONFIG] [--json] [PATH]\n"
     "  Exit 0 when the config loads and every policy under PATH (default: the config's\n"
     "  scripts_dir; a folder holding agents/, personas/ and safety/, one of them, or one .lua file)\n"
     "  compiles, runs its top level inside the sandbox and budgets, and exports the entry\n"
     "  points of its kind (docs/lua-api.md). Each problem is printed as file:line: what.",
     ain_cli_check},
    {"test", "run busted specs inside the engine's Lua environment",
     "ain test [-c CONFIG] [PATH] [-- BUSTED_ARGS...]\n"
     "  Runs /usr/bin/busted on PATH (default tests/lua) in the engine's LuaJIT with the real\n"
     "  `ain` module as a global; exit 0 when every spec passes.",
     ain_cli_test},
    {"scripts", "list policy versions; pin or unpin a policy",
     "ain scripts list [MODULE] | show SHA | pin MODULE SHA | unpin MODULE [-c CONFIG] [--json]\n"
     "  list: every recorded version (newest first per module; rejected ones with their error)\n"
     "  and the pins. pin: serve this valid version (full sha or a unique prefix of 8+ digits)\n"
     "  on every node from the next pin poll (1 s); unpin: back to the newest valid version.",
     ain_cli_scripts},
    {"replay", "re-run a recorded policy decision without side effects",
     "ain replay TASK_ID [--policy-sha SHA] [-c CONFIG] [--json]\n"
     "  Runs the task's Lua handler again on its recorded payload and the exact ctx it ran on\n"
     "  (recorded in its audit row; rebuilt for older decisions, and then said so) with the\n"
     "  recorded policy versions (or SHA for the task's module), with side effects refused, and\n"
     "  prints the recorded and the new decision side by side, compared as canonical JSON.\n"
     "  Exit 0 when they are equal, 1 when they differ.",
     ain_cli_replay},
    {"judge", "measure the judge: eval on labelled items, shadow on recorded decisions",
     "ain judge eval FILE.jsonl... [--policy-sha SHA]... [--scripts DIR] [-c CONFIG] [--json]\n"
     "ain judge shadow --policy-sha SHA [--policy-sha SHA]... [--since 7d] [--limit N] [--json]\n"
     "  eval: judge.screen(text, ctx) on every labelled item (one JSON object a line: id, text,\n"
     "  persona?, decision, categories; every line is validated first, a bad one exits 2 naming\n"
     "  its line and field), with the policy files of scripts_dir (or DIR) checked as the\n"
     "  registry checks them, SHA (a recorded version of any module) replacing its module.\n"
     "  Prints the decision confusion matrix, precision and recall per category, benign items\n"
     "  wrongly stopped and the missed items; exit 1 below the bars (recall >= 0.95 for reject\n"
     "  categories, >= 0.90 for review ones, benign stopped <= 5 %).\n"
     "  shadow: re-runs judge.decide with the candidates on every judge decision recorded in the\n"
     "  window (default 7d, newest N = 1000), on its recorded payload, ctx and versions, side\n"
     "  effects refused; prints the transitions (pass -> review ...) and the changed items.\n"
     "  Promote a candidate with `ain scripts pin MODULE SHA`.",
     ain_cli_judge},
    {"review", "the human review queue: list, show, approve, reject",
     "ain review list [--status pending|approved|rejected|all] [--limit N] [-c CONFIG] [--json]\n"
     "ain review show VIDEO_ID [-c CONFIG] [--json]\n"
     "ain review approve|reject VIDEO_ID [--reason TEXT] [--reviewer NAME] [--version N]\n"
     "  list: videos the judge sent to review (default pending). show: the safety report (checks,\n"
     "  confidence, files). approve/reject (reject needs --reason): an OCC update of the review at\n"
     "  the version read (or --version); a reviewer who lost a race gets exit 6 naming the\n"
     "  expected and found versions. Approval resumes the video's pipeline at the next run.",
     ain_cli_review},
    {"video", "one video: status, review, receipts, object sizes",
     "ain video show VIDEO_ID [-c CONFIG] [--json]\n"
     "  The video's row, safety report, review, publish receipts and the sizes of its media and\n"
     "  thumbnail objects (the same view as GET /v1/videos/{id}).",
     ain_cli_video},
    {"publishers", "pause, resume or show publishing",
     "ain publishers pause|resume|status [-c CONFIG] [--json]\n"
     "  pause: publish steps that start park (waiting) instead of publishing. resume: parked\n"
     "  publish steps return to the queue. status: paused or not, and how many tasks wait.",
     ain_cli_publishers},
    {"unpublish", "take a video's posts down (or list pending manual takedowns)",
     "ain unpublish VIDEO_ID [--channel C] --reason TEXT [-c CONFIG] [--json]\n"
     "ain unpublish --pending [-c CONFIG] [--json]\n"
     "  Each post (or the one on channel C) goes down through its platform's delete call; where\n"
     "  a platform has none, a manual takedown is recorded and listed until confirmed (`ain\n"
     "  takedowns done`). Audited with the reason and --actor. Twice is not an error.",
     ain_cli_unpublish},
    {"takedowns", "manual takedowns raised to the operator",
     "ain takedowns [--all] [--limit N] [-c CONFIG] [--json]\n"
     "ain takedowns done RECEIPT_ID --reason TEXT [-c CONFIG] [--json]\n"
     "  Lists the posts a person must take down (--all: every takedown); done: record that one\n"
     "  was taken down by hand (audited).",
     ain_cli_takedowns},
    {"token", "mint a bearer token for the operator API",
     "ain token issue --sub NAME --role viewer|reviewer|operator|admin [--ttl 15m] [-c CONFIG]\n"
     "  [--json]\n"
     "  Signs a JWT with the configured key (api.jwt: the HS256 secret, or private_key for\n"
     "  RS256/ES256): aud \"ain-api\", sub NAME, role ROLE, exp now + TTL (at most\n"
     "  api.max_token_ttl). Send it as \"Authorization: Bearer <token>\" (docs/api.md).",
     ain_cli_token},
    {"purge", "delete old finished DAGs, their payloads and artifacts",
     "ain purge --older-than DURATION [--dry-run] [--batch N] [-c CONFIG] [--json]\n"
     "  Deletes DAGs that finished (succeeded, failed, cancelled; every task terminal) more than\n"
     "  DURATION ago (30d, 12h, 90m, 45s, 2w), and finished tasks outside any DAG, with their\n"
     "  payloads, results, checkpoints, videos and the objects only they referenced. Audit rows\n"
     "  stay; the purge is audited. N DAGs per transaction (default 100); --dry-run lists what\n"
     "  would go.",
     ain_cli_purge},
    {"similar", "items nearest to a text by embedding (trends, scripts, personas)",
     "ain similar TEXT [--kind K] [--k N] [-c CONFIG] [--json]\n"
     "  The N (default 10, at most 1000) stored items of kind K (default trend: each planned\n"
     "  trend is one video) nearest to TEXT by cosine of their embeddings (docs/vectors.md), best\n"
     "  first. The same search as GET /v1/similar.",
     ain_cli_similar},
};

static void print_help(FILE *f) {
  fprintf(f, "usage: ain VERB [options]\n\nAIN: trends in, persona videos out (docs/cli.md).\n\n"
             "verbs:\n");
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
    fprintf(f, "  %-9s %s\n", verbs[i].name, verbs[i].summary);
  }
  fprintf(f, "\ncommon options:\n"
             "  -c, --config FILE  config file (default: ./ain.lua if present, else built-in "
             "defaults)\n"
             "  --json             machine-readable output\n"
             "  --actor NAME       who you are in audit rows: operator:NAME (default: $AIN_ACTOR,\n"
             "                     else your OS user name)\n"
             "  -h, --help         help for a verb: ain VERB --help\n"
             "\nexit codes: 0 ok, 1 failed, 2 usage, 3 config, 4 invalid input, 5 not found, "
             "6 conflict\n");
}

int ain_cli_usage(const ain_cli_t *cli, const char *fmt, const char *arg) {
  fprintf(stderr, "ain %s: ", cli->verb->name);
  fprintf(stderr, fmt, arg ? arg : "");
  fprintf(stderr, "\nusage: %s\n", cli->verb->usage);
  return AIN_EXIT_USAGE;
}

int ain_cli_fail(const ain_cli_t *cli, const ain_err_t *err) {
  if (cli->json) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "ok", 0);
    cJSON_AddItemToObject(o, "error", ain_ops_error_json(err));
    ain_cli_print_json(o);
  }
  fprintf(stderr, "ain %s: %s\n", cli->verb->name, err->msg[0] ? err->msg : ain_strerror(err->code));
  return ain_ops_exit_code(err->code);
}

void ain_cli_print_json(cJSON *o) {
  char *s = o != NULL ? cJSON_PrintUnformatted(o) : NULL;
  printf("%s\n", s != NULL ? s : "null");
  free(s);
  cJSON_Delete(o);
}

int ain_cli_int_arg(ain_cli_t *cli, const char *opt, const char *s, long min, long max, int *out) {
  char *end = NULL;
  long v = s != NULL ? strtol(s, &end, 10) : 0;
  if (s == NULL || end == s || *end != '\0' || v < min || v > max) {
    char what[160];
    snprintf(what, sizeof what, "%s wants a number from %ld to %ld, got '%%s'", opt, min, max);
    return ain_cli_usage(cli, what, s != NULL ? s : "");
  }
  *out = (int)v;
  return 0;
}

const char *ain_cli_opt_value(ain_cli_t *cli, int *i) {
  return *i + 1 < cli->nargs ? cli->args[++*i] : NULL;
}

void ain_cli_json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') {
      fputc('\\', f);
      fputc(c, f);
    } else if (c < 0x20) {
      fprintf(f, "\\u%04x", c);
    } else {
      fputc(c, f);
    }
  }
  fputc('"', f);
}

int ain_cli_load_config(ain_cli_t *cli, ain_err_t *err) {
  ain_config_defaults(&cli->cfg);
  const char *path = cli->config_path;
  if (path == NULL && access("ain.lua", R_OK) == 0) {
    path = "ain.lua";
  }
  int rc = 0;
  if (path != NULL) {
    /* -c names a file: an empty one is an error there, only a warning when found by looking */
    rc = cli->config_path != NULL ? ain_config_load(&cli->cfg, path, err)
                                  : ain_config_load_found(&cli->cfg, path, err);
  }
  if (rc == 0) {
    ain_log_set_level((ain_log_level_t)ain_log_level_parse(cli->cfg.log_level));
    int pretty = strcmp(cli->cfg.log_format, "pretty") == 0 ||
                 (strcmp(cli->cfg.log_format, "auto") == 0 && isatty(STDERR_FILENO));
    ain_log_set_pretty(pretty);
    ain_log_set_node(cli->cfg.node_id);
    /* the embedder and vector backend every part of this process uses (ops/similar.h) */
    rc = ain_ops_vectors_init(&cli->cfg, err);
  }
  return rc;
}

/* 1 if name can stand in an audit row's actor: 1..64 bytes of letters, digits and ._@- */
static int actor_name_ok(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > 64) {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '.' || c == '_' || c == '@' || c == '-')) {
      return 0;
    }
  }
  return 1;
}

/* The operator every write of this command is audited as: --actor, else $AIN_ACTOR, else the OS
 * user of the effective uid (getpwuid, so sudo and su name who the command runs as). */
static int resolve_actor(ain_cli_t *cli, const char *opt) {
  const char *name = opt, *from = "--actor";
  if (name == NULL && (name = getenv("AIN_ACTOR")) != NULL && name[0] != '\0') {
    from = "AIN_ACTOR";
  } else if (opt == NULL) {
    const struct passwd *pw = getpwuid(geteuid());
    name = pw != NULL && pw->pw_name != NULL ? pw->pw_name : "uid";
    from = NULL;
  }
  if (strncmp(name, "operator:", 9) == 0) {
    name += 9;
  }
  if (!actor_name_ok(name)) {
    if (from == NULL) { /* an odd OS user name is not the operator's mistake */
      snprintf(cli->actor, sizeof cli->actor, "operator:uid%u", (unsigned)geteuid());
      return 0;
    }
    return ain_cli_usage(cli, "%s must be 1-64 letters, digits or . _ @ -", from);
  }
  snprintf(cli->actor, sizeof cli->actor, "operator:%s", name);
  return 0;
}

/* Pulls the common options out of argv; leaves the verb's own arguments in cli->args. */
static int parse_common(ain_cli_t *cli, int argc, char **argv) {
  const char *actor = NULL;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--actor") == 0) {
      if (i + 1 >= argc) {
        return ain_cli_usage(cli, "%s needs a name", a);
      }
      actor = argv[++i];
    } else if (strncmp(a, "--actor=", 8) == 0) {
      actor = a + 8;
    } else if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
      if (i + 1 >= argc) {
        return ain_cli_usage(cli, "%s needs a file", a);
      }
      cli->config_path = argv[++i];
    } else if (strncmp(a, "--config=", 9) == 0) {
      cli->config_path = a + 9;
    } else if (strcmp(a, "--json") == 0) {
      cli->json = 1;
    } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      cli->help = 1;
    } else {
      cli->args[cli->nargs++] = argv[i];
    }
  }
  return resolve_actor(cli, actor);
}

int ain_cli_main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    if (argc >= 3 && strcmp(argv[1], "help") == 0) {
      for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        if (strcmp(verbs[i].name, argv[2]) == 0) {
          printf("%s\n", verbs[i].usage);
          return AIN_EXIT_OK;
        }
      }
    }
    print_help(argc < 2 ? stderr : stdout);
    return argc < 2 ? AIN_EXIT_USAGE : AIN_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("ain %s\n", AIN_VERSION);
    return AIN_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
    if (strcmp(verbs[i].name, argv[1]) != 0) {
      continue;
    }
    ain_cli_t cli;
    memset(&cli, 0, sizeof cli);
    cli.verb = &verbs[i];
    cli.args = calloc((size_t)argc + 1, sizeof *cli.args);
    if (cli.args == NULL) {
      return AIN_EXIT_FAILURE;
    }
    int rc = parse_common(&cli, argc - 2, argv + 2);
    if (rc == 0 && cli.help) {
      printf("%s\n", verbs[i].usage);
    } else if (rc == 0) {
      rc = verbs[i].fn(&cli);
    }
    ain_config_free(&cli.cfg);
    free(cli.args);
    return rc;
  }
  fprintf(stderr, "ain: unknown verb '%s'\n\n", argv[1]);
  print_help(stderr);
  return AIN_EXIT_USAGE;
}
