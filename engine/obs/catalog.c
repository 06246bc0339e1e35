/* The catalog: every metric the process keeps, declared once (docs/metrics.md lists the same,
 * with the store-derived gauges the API's scrape adds). Names follow Prometheus conventions:
 * the ain_ prefix, base units (seconds), _total on counters, _info on info metrics.
 * Relies on: obs.h. */
#include "obs/obs.h"

/* Steps run from milliseconds (noop, a policy call) to minutes (a render). */
#define STEP_BUCKETS                                                                               \
  14, { 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 30, 120, 600 }
/* Enqueue to start: the queue-latency SLO is read at 1 s and 10 s. */
#define QUEUE_BUCKETS                                                                              \
  14, { 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120 }
/* A store request, submit to callback: SQLite microseconds, Postgres a round trip or a lock. */
#define STORE_BUCKETS                                                                              \
  12, { 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2 }

static const ain_obs_def_t defs[AIN_M_COUNT] = {
    [AIN_M_TASKS_CLAIMED] = {"ain_tasks_claimed_total",
                             "Tasks claimed by this process's shards (an attempt starts).",
                             AIN_OBS_COUNTER, 1, {"type"}, 0, {0}},
    [AIN_M_TASKS_FINISHED] =
        {"ain_tasks_finished_total",
         "Attempts committed by this process, by the task's status afterwards: succeeded, "
         "ready (a retry is scheduled), dead, waiting (parked), released (shutdown), "
         "fenced (refused: the lease was lost).",
         AIN_OBS_COUNTER, 2, {"type", "status"}, 0, {0}},
    [AIN_M_TASK_RETRIES] = {"ain_task_retries_total",
                            "Failed attempts that were scheduled to run again (backoff).",
                            AIN_OBS_COUNTER, 1, {"type"}, 0, {0}},
    [AIN_M_TASK_DEAD_LETTERS] = {"ain_task_dead_letters_total",
                                 "Tasks that became dead (the dead letter) in this process: "
                                 "attempts exhausted, a permanent failure or a lease reaped "
                                 "with no attempt left.",
                                 AIN_OBS_COUNTER, 1, {"type"}, 0, {0}},
    [AIN_M_STEP_DURATION] = {"ain_step_duration_seconds",
                             "Run time of a step, from its start on a shard to its outcome.",
                             AIN_OBS_HISTOGRAM, 1, {"type"}, STEP_BUCKETS},
    [AIN_M_QUEUE_LATENCY] = {"ain_task_queue_latency_seconds",
                             "Time from when a task was due (enqueued, or its retry's run_at) "
                             "to when a shard claimed it.",
                             AIN_OBS_HISTOGRAM, 1, {"type"}, QUEUE_BUCKETS},
    [AIN_M_LEASE_REAPS] = {"ain_lease_reaps_total",
                           "Expired leases the reaper returned: reclaimed (back to ready) or "
                           "dead (no attempt left).",
                           AIN_OBS_COUNTER, 1, {"result"}, 0, {0}},
    [AIN_M_FENCED] = {"ain_fenced_results_total",
                      "Results refused because the lease's fencing token no longer held "
                      "(finish or extend by a step whose task moved on).",
                      AIN_OBS_COUNTER, 1, {"op"}, 0, {0}},
    [AIN_M_PUBLISHES] = {"ain_publishes_total",
                         "Publish step outcomes by channel: published, duplicate (the "
                         "idempotency key had a receipt), failed, paused (parked).",
                         AIN_OBS_COUNTER, 2, {"channel", "result"}, 0, {0}},
    [AIN_M_POLICY_RELOADS] = {"ain_policy_reloads_total",
                              "Policy versions checked by the script registry: accepted or "
                              "rejected.",
                              AIN_OBS_COUNTER, 2, {"module", "result"}, 0, {0}},
    [AIN_M_POLICY_VERSION] = {"ain_policy_version_info",
                              "The policy version (sha256 of its source) each module serves.",
                              AIN_OBS_INFO, 2, {"module", "sha"}, 0, {0}},
    [AIN_M_LUA_BUDGET_STOPS] = {"ain_lua_budget_stops_total",
                                "Policy calls stopped by a budget: cpu (instructions, lua.cpu_budget), wall (time on the loop, lua.cpu_ms), memory (lua.mem_limit_mb).",
                                AIN_OBS_COUNTER, 1, {"kind"}, 0, {0}},
    [AIN_M_RENDER_SLOTS_BUSY] = {"ain_render_slots_busy",
                                 "Render slots (media.max_renders) in use in this process.",
                                 AIN_OBS_GAUGE, 0, {0}, 0, {0}},
    [AIN_M_RENDER_SLOTS_QUEUED] = {"ain_render_slots_queued",
                                   "Render steps waiting for a render slot in this process.",
                                   AIN_OBS_GAUGE, 0, {0}, 0, {0}},
    [AIN_M_STORE_TXN] = {"ain_store_request_duration_seconds",
                         "Store requests (each one transaction) from submit to callback, "
                         "by backend and operation.",
                         AIN_OBS_HISTOGRAM, 2, {"backend", "op"}, STORE_BUCKETS},
    [AIN_M_HEARTBEATS] = {"ain_node_heartbeats_total",
                          "Heartbeats this node sent: ok or failed.", AIN_OBS_COUNTER, 1,
                          {"result"}, 0, {0}},
    [AIN_M_NODES_DECLARED_DEAD] = {"ain_nodes_declared_dead_total",
                                   "Other nodes this node's heartbeat declared dead.",
                                   AIN_OBS_COUNTER, 0, {0}, 0, {0}},
    [AIN_M_PUBLISH_GUARD] = {"ain_publishers_backlog_actions_total",
                             "Automatic publisher pauses and resumes made by this node because "
                             "of the review backlog (review.backlog_pause_at / _resume_at).",
                             AIN_OBS_COUNTER, 1, {"action"}, 0, {0}},
    /* Worker utilisation for an autoscaler: running / capacity per pod (deploy/k8s). */
    [AIN_M_STEPS_RUNNING] = {"ain_steps_running",
                             "Steps in flight on this process's shards (claimed, not yet "
                             "committed).",
                             AIN_OBS_GAUGE, 0, {0}, 0, {0}},
    [AIN_M_STEPS_CAPACITY] = {"ain_steps_capacity",
                              "Steps this process may run at once: shards x queue.max_running.",
                              AIN_OBS_GAUGE, 0, {0}, 0, {0}},
    [AIN_M_SOURCE_FETCHES] = {"ain_source_fetches_total",
                              "Attempts of each trend source (docs/sources.md): ok, not_modified "
                              "(HTTP 304 or an unchanged file) or error.",
                              AIN_OBS_COUNTER, 2, {"source", "result"}, 0, {0}},
    [AIN_M_SOURCE_RECORDS] = {"ain_source_records_total",
                              "Trend records each source handed to the planner.",
                              AIN_OBS_COUNTER, 1, {"source"}, 0, {0}},
    [AIN_M_SOURCE_UP] = {"ain_source_up",
                         "1 when the source's last attempt succeeded, 0 when it failed or none "
                         "has finished yet.",
                         AIN_OBS_GAUGE, 1, {"source"}, 0, {0}},
    [AIN_M_OPENCLAW_CONNECTED] = {"ain_openclaw_connected",
                                  "1 while this node is connected to its OpenClaw Gateway "
                                  "(cluster.openclaw), else 0.",
                                  AIN_OBS_GAUGE, 0, {0}, 0, {0}},
    [AIN_M_OPENCLAW_CONNECTS] = {"ain_openclaw_connect_attempts_total",
                                 "Connection attempts to the OpenClaw Gateway by result: ok, "
                                 "failed (unreachable, dropped) or refused (token, pairing).",
                                 AIN_OBS_COUNTER, 1, {"result"}, 0, {0}},
    [AIN_M_TRACE_SPANS_EXPORTED] = {"ain_trace_spans_exported_total",
                                    "Spans the OTLP collector (tracing.endpoint) accepted.",
                                    AIN_OBS_COUNTER, 0, {0}, 0, {0}},
    [AIN_M_TRACE_SPANS_DROPPED] = {"ain_trace_spans_dropped_total",
                                   "Spans never exported: queue_full (tracing.queue_size reached "
                                   "while the collector was slow or down), export_failed (the "
                                   "request failed), shutdown (not sent by the shutdown deadline).",
                                   AIN_OBS_COUNTER, 1, {"reason"}, 0, {0}},
    [AIN_M_TRACE_EXPORT_FAILURES] = {"ain_trace_export_failures_total",
                                     "Export requests to the OTLP collector that failed "
                                     "(transport error, timeout or a non-2xx status).",
                                     AIN_OBS_COUNTER, 0, {0}, 0, {0}},
    [AIN_M_TRACE_QUEUE] = {"ain_trace_queue_spans",
                           "Finished spans waiting for the exporter thread.", AIN_OBS_GAUGE, 0,
                           {0}, 0, {0}},
    [AIN_M_SERIES_OVERFLOW] = {"ain_metrics_series_overflow_total",
                               "Updates folded into the \"other\" series because a metric had "
                               "its maximum number of label sets.",
                               AIN_OBS_COUNTER, 1, {"metric"}, 0, {0}},
    [AIN_M_LLM_REQUESTS] = {"ain_llm_requests_total",
                            "Chat completion requests ain.llm sent, by outcome: ok, rate_limited "
                            "(429), server_error (5xx), client_error (other 4xx), timeout, "
                            "transport, invalid (an answer that failed its schema or check), "
                            "refused (the model refused).",
                            AIN_OBS_COUNTER, 1, {"result"}, 0, {0}},
    [AIN_M_LLM_TOKENS] = {"ain_llm_tokens_total",
                          "Tokens the model servers reported (usage), by kind: prompt or "
                          "completion. Cached and replayed answers are not counted.",
                          AIN_OBS_COUNTER, 1, {"kind"}, 0, {0}},
    [AIN_M_LLM_COST] = {"ain_llm_cost_total",
                        "Cost of those tokens at the configured llm.prices (per 1,000 tokens; "
                        "the currency is the prices').",
                        AIN_OBS_COUNTER, 0, {0}, 0, {0}},
    [AIN_M_OBJSTORE_TIERED] = {"ain_objstore_tier_objects_total",
                               "Objects the tiering sweep (objstore.s3.tier) put in a storage "
                               "class (result ok) or failed to (result error).",
                               AIN_OBS_COUNTER, 2, {"storage_class", "result"}, 0, {0}},
    [AIN_M_PUBLISH_TOKENS] = {"ain_publish_tokens_total",
                              "Publish tokens by channel and what became of them: minted (a "
                              "pass or an approval), verified, renewed (re-minted from a live "
                              "grant after it expired), or refused: no_grant, forged, "
                              "malformed, wrong_audience, wrong_subject, lifetime, replayed, "
                              "expired.",
                              AIN_OBS_COUNTER, 2, {"channel", "result"}, 0, {0}},
    [AIN_M_PUBLISH_QUOTA_LEFT] = {"ain_publish_quota_remaining_units",
                                  "Quota units left in a channel account's bucket as this node "
                                  "last took from it (channels.<name>.quota.units_per_day).",
                                  AIN_OBS_GAUGE, 1, {"channel"}, 0, {0}},
    [AIN_M_PUBLISH_QUOTA_PARKS] = {"ain_publish_quota_parks_total",
                                   "Publish steps parked by channel: quota (the bucket was "
                                   "empty) or rate_limited (the platform answered 429).",
                                   AIN_OBS_COUNTER, 2, {"channel", "reason"}, 0, {0}},
    [AIN_M_POST_TAKEDOWNS] = {"ain_post_takedowns_total",
                              "Posts taken down, by channel and method: api (the platform's "
                              "delete call) or manual (no delete call: a takedown raised to the "
                              "operator, listed by `ain takedowns`).",
                              AIN_OBS_COUNTER, 2, {"channel", "method"}, 0, {0}},
    [AIN_M_POST_METRICS_PULLS] = {"ain_post_metrics_pulls_total",
                                  "Analytics pulls of one post's public metrics, by channel and "
                                  "result: pulled, unsupported (the kind reports none), failed, quota (the "
                                  "account's quota bucket had no room: read next pass).",
                                  AIN_OBS_COUNTER, 2, {"channel", "result"}, 0, {0}},
    [AIN_M_PUBLISH_COMPENSATIONS] = {"ain_publish_compensations_total",
                                     "Compensations run for a publish that failed past its "
                                     "retries, by action: flag, unpublish_others, none, failed.",
                                     AIN_OBS_COUNTER, 1, {"action"}, 0, {0}},
};

const ain_obs_def_t *ain_obs_def(ain_obs_metric_t m) {
  return (unsigned)m < AIN_M_COUNT ? &defs[m] : NULL;
}
