/* The generic layer of the node and archive store ops: initialisers, validation before a backend
 * sees the request, node state names and output cleanup. The SQL lives in the backends'
 * nodes.c and archive.c. Relies on: store.h. */
#include "store/nodes.h"

#include <stdlib.h>
#include <string.h>

static const char *const node_state_names[AIN_NODE_STATE_COUNT] = {"alive", "dead", "stopped"};

const char *ain_node_state_name(ain_node_state_t s) {
  return (unsigned)s < AIN_NODE_STATE_COUNT ? node_state_names[s] : "unknown";
}

void ain_store_req_node_beat(ain_store_req_t *req, const ain_node_t *self, int64_t timeout_ms,
                             int stopping) {
  memset(req, 0, sizeof *req);
  req->op = AIN_STORE_NODE_BEAT;
  req->u.node_beat.self = self;
  req->u.node_beat.timeout_ms = timeout_ms;
  req->u.node_beat.stopping = stopping;
}

void ain_store_req_nodes(ain_store_req_t *req) {
  memset(req, 0, sizeof *req);
  req->op = AIN_STORE_NODES;
}

void ain_store_req_archive(ain_store_req_t *req, int64_t older_than, int limit) {
  memset(req, 0, sizeof *req);
  req->op = AIN_STORE_ARCHIVE;
  req->u.archive.older_than = older_than;
  req->u.archive.limit = limit;
}

static int empty(const char *s) {
  return s == NULL || s[0] == '\0';
}

int ain__store_nodes_check(const ain_store_req_t *req, ain_err_t *err) {
  switch (req->op) {
  case AIN_STORE_NODE_BEAT: {
    const ain_node_t *n = req->u.node_beat.self;
    if (n == NULL || empty(n->id)) {
      return ain_err_field(err, AIN_EINVAL, "node.id", "a heartbeat needs the node's id");
    }
    /* The id is the prefix of this node's lease owners: a '%' or '_' would widen the match. */
    if (strpbrk(n->id, "%_\\") != NULL) {
      return ain_err_field(err, AIN_EINVAL, "node.id", "node id '%s' contains %%, _ or \\", n->id);
    }
    if (req->u.node_beat.timeout_ms <= 0) {
      return ain_err_field(err, AIN_EINVAL, "timeout_ms", "node timeout must be > 0");
    }
    return 0;
  }
  case AIN_STORE_NODES:
    return 0;
  case AIN_STORE_ARCHIVE:
    if (req->u.archive.limit <= 0) {
      return ain_err_field(err, AIN_EINVAL, "limit", "archive limit must be > 0, got %d",
                           req->u.archive.limit);
    }
    return 0;
  default:
    return ain_err_field(err, AIN_EINVAL, "op", "not a node op: %d", (int)req->op);
  }
}

void ain_node_free(ain_node_t *n) {
  if (n == NULL) {
    return;
  }
  free(n->id);
  free(n->node);
  free(n->host);
  free(n->version);
  free(n->gateway);
  n->id = n->node = n->host = n->version = n->gateway = NULL;
}

void ain__store_nodes_cleanup(ain_store_req_t *req) {
  if (req->op != AIN_STORE_NODES) {
    return;
  }
  for (size_t i = 0; req->u.nodes.nodes != NULL && i < req->u.nodes.nnodes; i++) {
    ain_node_free(&req->u.nodes.nodes[i]);
  }
  free(req->u.nodes.nodes);
  req->u.nodes.nodes = NULL;
  req->u.nodes.nnodes = 0;
}
