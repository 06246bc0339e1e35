/* `ain nodes`: lists the engine processes that share the store, from the nodes table: id
 * (node_id/pid), host, pid, version, shards, running steps (leases the store holds for it), state
 * the age of its last heartbeat and its OpenClaw Gateway connection (cluster.openclaw: connected,
 * connecting or error, and for how long; "-" when not configured). A node still marked alive but silent past
 * cluster.node_timeout_ms is shown as dead: no live node has declared it yet, but it will be at
 * the next heartbeat of any node (ops/admin.h). Relies on: cli/internal.h, ops/admin.h. */
#include <stdio.h>
#include <string.h>

#include "cli/internal.h"
#include "ops/admin.h"

static void print_table(const ain_ops_nodes_t *ns) {
  if (ns->nnodes == 0) {
    printf("no nodes have sent a heartbeat to this store\n");
    return;
  }
  printf("%-32s %-16s %8s %-8s %6s %7s %-7s %-12s %s\n", "ID", "HOST", "PID", "VERSION",
         "SHARDS", "RUNNING", "STATE", "LAST BEAT", "GATEWAY");
  for (size_t i = 0; i < ns->nnodes; i++) {
    const ain_node_t *n = &ns->nodes[i];
    char beat[32], gw[64];
    snprintf(beat, sizeof beat, "%.1fs ago", (double)(ns->now - n->last_beat) / 1000.0);
    if (n->gateway != NULL) {
      snprintf(gw, sizeof gw, "%s for %.1fs", n->gateway,
               (double)(ns->now - n->gateway_since) / 1000.0);
    } else {
      snprintf(gw, sizeof gw, "-");
    }
    printf("%-32s %-16s %8lld %-8s %6d %7d %-7s %-12s %s\n", n->id ? n->id : "",
           n->host ? n->host : "", (long long)n->pid, n->version ? n->version : "", n->shards,
           n->running, ain_ops_node_state(ns, n), beat, gw);
  }
}

int ain_cli_nodes(ain_cli_t *cli) {
  ain_err_t err;
  ain_err_clear(&err);
  if (cli->nargs > 0) {
    return ain_cli_usage(cli, "unexpected argument '%s'", cli->args[0]);
  }
  if (ain_cli_open_store(cli, &err) != 0) {
    return ain_cli_fail(cli, &err);
  }
  ain_ops_nodes_t ns;
  int rc = ain_ops_nodes(&cli->ops, &ns, &err);
  ain_cli_close_store(cli);
  if (rc != 0) {
    return ain_cli_fail(cli, &err);
  }
  if (cli->json) {
    ain_cli_print_json(ain_ops_nodes_json(&ns));
  } else {
    print_table(&ns);
  }
  ain_ops_nodes_free(&ns);
  return 0;
}
