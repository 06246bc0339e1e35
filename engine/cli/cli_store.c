/* Store verbs: migrate, enqueue, stats, and the helpers every verb uses to open the ops layer's
 * store on a private loop (never on a shard loop). Relies on: cli/internal.h, ops/tasks.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/internal.h"
#include "core/util.h"
#include "ops/tasks.h"

#define MAX_INPUT_BYTES (64u << 20) /* one enqueue input; each message is limited to ~1 MiB */

int ain_cli_open_loaded_store(ain_cli_t *cli, ain_err_t *err) {
  int rc = ain_ops_open(&cli->ops, &cli->cfg, &cli->loop, err);
  if (rc == 0 && (rc = ain_ops_migrate(&cli->ops, cli->actor, NULL, NULL, err)) != 0) {
    ain_ops_close(&cli->ops);
  }
  return rc;
}

int ain_cli_open_store(ain_cli_t *cli, ain_err_t *err) {
  int rc = ain_cli_load_config(cli, err);
  return rc != 0 ? rc : ain_cli_open_loaded_store(cli, err);
}

void ain_cli_close_store(ain_cli_t *cli) {
  ain_ops_close(&cli->ops);
}

int ain_cli_migrate(ain_cli_t *cli) {
  ain_err_t err;
  ain_err_clear(&err);
  int rc = ain_cli_load_config(cli, &err);
  if (rc != 0 || (rc = ain_ops_open(&cli->ops, &cli->cfg, &cli->loop, &err)) != 0) {
    return ain_cli_fail(cli, &err);
  }
  int applied = 0, version = 0;
  rc = ain_ops_migrate(&cli->ops, cli->actor, &applied, &version, &err);
  if (rc != 0) {
    rc = ain_cli_fail(cli, &err);
  } else if (cli->json) {
    printf("{\"ok\":true,\"applied\":%d,\"version\":%d}\n", applied, version);
  } else {
    printf("schema version %d (%d migration(s) applied)\n", version, applied);
  }
  ain_cli_close_store(cli);
  return rc;
}

static int read_input(const char *path, char **buf, size_t *len, ain_err_t *err) {
  if (strcmp(path, "-") != 0) {
    int rc = ain_read_file(path, buf, len);
    if (rc != 0) {
      return ain_err_set(err, AIN_EIO, "cannot read %s: %s", path, strerror(-rc));
    }
    if (*len > MAX_INPUT_BYTES) {
      free(*buf);
      return ain_err_set(err, AIN_ETOOBIG, "%s: input is larger than %u bytes", path,
                         MAX_INPUT_BYTES);
    }
    return 0;
  }
  size_t cap = 65536, n = 0;
  char *b = malloc(cap);
  if (b == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  for (;;) {
    if (n + 1 >= cap) {
      if (cap >= MAX_INPUT_BYTES + 2) {
        free(b);
        return ain_err_set(err, AIN_ETOOBIG, "stdin: input is larger than %u bytes",
                           MAX_INPUT_BYTES);
      }
      char *nb = realloc(b, cap * 2);
      if (nb == NULL) {
        free(b);
        return ain_err_set(err, AIN_ENOMEM, "out of memory");
      }
      b = nb;
      cap *= 2;
    }
    ssize_t r = read(STDIN_FILENO, b + n, cap - n - 1);
    if (r < 0) {
      free(b);
      return ain_err_set(err, AIN_EIO, "reading stdin failed");
    }
    if (r == 0) {
      break;
    }
    n += (size_t)r;
  }
  b[n] = '\0';
  *buf = b;
  *len = n;
  return 0;
}

int ain_cli_enqueue(ain_cli_t *cli) {
  if (cli->nargs != 1) {
    return ain_cli_usage(cli, "expects exactly one FILE (or - for stdin)%s", NULL);
  }
  ain_err_t err;
  ain_err_clear(&err);
  char *buf = NULL;
  size_t len = 0;
  int rc = read_input(cli->args[0], &buf, &len, &err);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  rc = ain_cli_load_config(cli, &err); /* the persona check needs scripts_dir and the budgets */
  ain_ops_batch_t b = {0};
  size_t existing = 0;
  if (rc == 0) {
    /* validated before the store is even opened: one bad message rejects the input */
    rc = ain_ops_enqueue_prepare(&cli->cfg, buf, len, cli->args[0], &b, &err);
  }
  free(buf);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (b.pii_replaced > 0 && !cli->json) {
    fprintf(stderr, "ain enqueue: %lld personal data value(s) replaced by %s tokens\n",
            b.pii_replaced, b.pii_keyed ? "hashed" : "redacted");
  }
  if ((rc = ain_cli_open_loaded_store(cli, &err)) == 0) {
    rc = ain_ops_enqueue_commit(&cli->ops, &b, cli->actor, &existing, &err);
    ain_cli_close_store(cli);
  }
  if (rc != 0) {
    rc = ain_cli_fail(cli, &err);
  } else if (cli->json) {
    printf("{\"ok\":true,\"enqueued\":[");
    for (size_t i = 0; i < b.ntasks; i++) {
      printf("%s\"%s\"", i ? "," : "", b.tasks[i].id);
    }
    printf("],\"existing\":%zu}\n", existing);
  } else {
    for (size_t i = 0; i < b.ntasks; i++) {
      printf("%s\n", b.tasks[i].id);
    }
    fprintf(stderr, "enqueued %zu task(s)%s", b.ntasks - existing, existing ? "" : "\n");
    if (existing > 0) {
      fprintf(stderr, ", %zu already stored with the same content\n", existing);
    }
  }
  ain_ops_batch_free(&b);
  return rc;
}

int ain_cli_stats(ain_cli_t *cli) {
  for (int i = 0; i < cli->nargs; i++) {
    if (strcmp(cli->args[i], "--posts") == 0) {
      return ain_cli_post_stats(cli);
    }
  }
  if (cli->nargs > 0) {
    return ain_cli_usage(cli, "unexpected argument '%s'", cli->args[0]);
  }
  ain_err_t err;
  ain_err_clear(&err);
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  ain_store_stats_t s;
  int rc = ain_ops_stats(&cli->ops, &s, &err);
  ain_cli_close_store(cli);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (cli->json) {
    ain_cli_print_json(ain_ops_stats_json(&s));
    return 0;
  }
  printf("tasks:");
  for (int i = 0; i < AIN_TASK_STATUS_COUNT; i++) {
    printf(" %s=%lld", ain_task_status_name(i), (long long)s.tasks[i]);
  }
  printf("\ndags: ");
  for (int i = 0; i < AIN_DAG_STATUS_COUNT; i++) {
    printf(" %s=%lld", ain_dag_status_name(i), (long long)s.dags[i]);
  }
  printf("\n");
  return 0;
}
