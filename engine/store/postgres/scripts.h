/* Private to the Postgres backend: the script registry ops' prepared statements (entries of
 * ain__pg_stmts in ops.c) and their plan/parse halves (scripts.c).
 * Relies on: internal.h. */
#ifndef AIN_STORE_POSTGRES_SCRIPTS_H
#define AIN_STORE_POSTGRES_SCRIPTS_H

#include "store/postgres/internal.h"

#define AIN__PG_SCRIPT_PUT_DEF                                                                     \
  {"ain_script_put",                                                                               \
   "INSERT INTO script_versions (module, sha, source, first_error, created_at) "                  \
   "VALUES ($1::text, $2::text, $3::text, $4::text, $5::bigint) ON CONFLICT DO NOTHING "           \
   "RETURNING 1",                                                                                  \
   5}
#define AIN__PG_SCRIPT_GET_DEF                                                                     \
  {"ain_script_get",                                                                               \
   "SELECT module, sha, first_error, created_at, source FROM script_versions "                    \
   "WHERE left(sha, length($1::text)) = $1::text AND ($2::text IS NULL OR module = $2::text) "     \
   "ORDER BY created_at DESC LIMIT 2",                                                             \
   2}
#define AIN__PG_SCRIPT_LIST_DEF                                                                    \
  {"ain_script_list",                                                                              \
   "SELECT module, sha, first_error, created_at FROM script_versions "                            \
   "WHERE $1::text IS NULL OR module = $1::text ORDER BY module, created_at DESC, sha",            \
   1}
#define AIN__PG_SCRIPT_PINS_DEF                                                                    \
  {"ain_script_pins",                                                                              \
   "SELECT module, sha, updated_at FROM script_pins WHERE $1::text IS NULL OR module = $1::text "  \
   "ORDER BY module",                                                                              \
   1}
/* One statement: find the version, refuse unknown/ambiguous/rejected ones, upsert the pin and,
 * when it changed, write the operator's audit row (as store/sqlite/scripts.c does). */
#define AIN__PG_SCRIPT_PIN_DEF                                                                     \
  {"ain_script_pin",                                                                               \
   "WITH v AS (SELECT sha, first_error FROM script_versions WHERE module = $1::text "             \
   "  AND left(sha, length($2::text)) = $2::text ORDER BY created_at DESC LIMIT 2), "              \
   "n AS (SELECT count(DISTINCT sha) AS n FROM v), "                                               \
   "ok AS (SELECT v.sha FROM v, n WHERE n.n = 1 AND v.first_error IS NULL LIMIT 1), "              \
   "old AS (SELECT sha FROM script_pins WHERE module = $1::text), "                                \
   "up AS (INSERT INTO script_pins (module, sha, state_version, updated_at) "                      \
   "  SELECT $1::text, sha, 0, $3::bigint FROM ok ON CONFLICT (module) DO UPDATE "                 \
   "  SET sha = excluded.sha, state_version = script_pins.state_version + 1, "                     \
   "  updated_at = excluded.updated_at WHERE script_pins.sha <> excluded.sha RETURNING sha), "     \
   "a AS (INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version, "  \
   "  detail, ts) SELECT NULL, NULL, $4::text, "                                                   \
   "  'pin:' || $1::text || '=' || coalesce((SELECT sha FROM old), ''), "                          \
   "  'pin:' || $1::text || '=' || up.sha, 0, json_build_object('module', $1::text, "              \
   "  'sha', up.sha, 'previous', (SELECT sha FROM old))::text, $3::bigint FROM up) "               \
   "SELECT (SELECT n FROM n), (SELECT sha FROM v LIMIT 1), (SELECT first_error FROM v LIMIT 1), "  \
   "(SELECT count(*) FROM up)",                                                                    \
   4}
#define AIN__PG_SCRIPT_UNPIN_DEF                                                                   \
  {"ain_script_unpin",                                                                             \
   "WITH d AS (DELETE FROM script_pins WHERE module = $1::text RETURNING sha), "                   \
   "a AS (INSERT INTO audit_log (task_id, dag_id, actor, from_status, to_status, state_version, "  \
   "  detail, ts) SELECT NULL, NULL, $2::text, 'pin:' || $1::text || '=' || d.sha, "              \
   "  'pin:' || $1::text || '=', 0, json_build_object('module', $1::text, 'sha', NULL, "           \
   "  'previous', d.sha)::text, $3::bigint FROM d) "                                               \
   "SELECT count(*) FROM d",                                                                       \
   3}

int ain__pg_plan_scripts(ain_store_req_t *req, ain__pg_plan_t *plan, int64_t now);
int ain__pg_parse_scripts(ain_store_req_t *req, ain__pg_plan_t *plan);

#endif
