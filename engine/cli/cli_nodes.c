/* `ain nodes`: lists the engine processes that share the store, from the nodes table: id
 * (node_id/pid), host, pid, version, shards, running steps (leases the store holds for it), state
 * and the age of its last heartbeat. A node still marked alive but silent past
 * cluster.node_timeout_ms is shown as dead: no live node has declared it yet, but it will be at
 * the next heartbeat of any node. Relies on: cli/internal.h, store/store.h. */
#include <stdio.h>
#include <string.h>

#include "cli/internal.h"
#include "core/util.h"

/* The state an operator should see: the stored one, or dead when an alive row went silent. */
static const char *shown_state(const ain_node_t *n, int64_t now, int64_t timeout_ms) {
  if (n->state == AIN_NODE_ALIVE && now - n->last_beat > timeout_ms) {
    return "dead";
  }
  return ain_node_state_name(n->state);
}

static void print_json(const ain_store_req_t *req, int64_t now, int64_t timeout_ms) {
  printf("[");
  for (size_t i = 0; i < req->u.nodes.nnodes; i++) {
    const ain_node_t *n = &req->u.nodes.nodes[i];
    printf("%s{\"id\":", i ? "," : "");
    ain_cli_json_string(stdout, n->id);
    printf(",\"node\":");
    ain_cli_json_string(stdout, n->node);
    printf(",\"host\":");
    ain_cli_json_string(stdout, n->host);
    printf(",\"version\":");
    ain_cli_json_string(stdout, n->version);
    printf(",\"pid\":%lld,\"shards\":%d,\"running\":%d,\"state\":\"%s\",\"stored_state\":\"%s\","
           "\"started_at\":%lld,\"last_beat\":%lld,\"beat_age_ms\":%lld,\"state_version\":%lld}",
           (long long)n->pid, n->shards, n->running, shown_state(n, now, timeout_ms),
           ain_node_state_name(n->state), (long long)n->started_at, (long long)n->last_beat,
           (long long)(now - n->last_beat), (long long)n->state_version);
  }
  printf("]\n");
}

static void print_table(const ain_store_req_t *req, int64_t now, int64_t timeout_ms) {
  if (req->u.nodes.nnodes == 0) {
    printf("no nodes have sent a heartbeat to this store\n");
    return;
  }
  printf("%-32s %-16s %8s %-8s %6s %7s %-7s %s\n", "ID", "HOST", "PID", "VERSION", "SHARDS",
         "RUNNING", "STATE", "LAST BEAT");
  for (size_t i = 0; i < req->u.nodes.nnodes; i++) {
    const ain_node_t *n = &req->u.nodes.nodes[i];
    printf("%-32s %-16s %8lld %-8s %6d %7d %-7s %.1fs ago\n", n->id ? n->id : "",
           n->host ? n->host : "", (long long)n->pid, n->version ? n->version : "", n->shards,
           n->running, shown_state(n, now, timeout_ms), (double)(now - n->last_beat) / 1000.0);
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
  ain_store_req_t req;
  ain_store_req_nodes(&req);
  req.actor = cli->actor;
  int rc = ain_store_wait(cli->store, &req);
  if (rc != 0) {
    rc = ain_cli_fail(cli, &req.err);
  } else if (cli->json) {
    print_json(&req, ain_now_ms(), cli->cfg.cluster.node_timeout_ms);
  } else {
    print_table(&req, ain_now_ms(), cli->cfg.cluster.node_timeout_ms);
  }
  ain_store_req_cleanup(&req);
  ain_cli_close_store(cli);
  return rc;
}
