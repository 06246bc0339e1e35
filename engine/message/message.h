/* Message contracts: the task message (what `ain enqueue` and the API accept, what `ain task show
 * --json` prints) and the worker response (ack/nack for one attempt). The C validator here is the
 * engine's own reading of docs/schemas/task.json and docs/schemas/response.json; the contract tests
 * (tests/unit/test_message.c, tests/integration/contract_schemas.sh) hold both to the same
 * fixtures. docs/messages.md describes fields, limits and the error format.
 *
 * Errors: AIN_ESCHEMA (wrong shape, nesting deeper than AIN_MESSAGE_DEPTH_MAX, duplicate keys or
 * numbers beyond a double anywhere in a payload or result), AIN_ETOOBIG (size limits: a message
 * that is too big because of one member names it), AIN_EUTF8 (bytes not UTF-8), with
 * err->field naming the offending field ("task_id", "payload", "errors[1].code"; "" when the fault
 * is the message as a whole) and err->msg starting with that field ("task_id: must be a UUIDv7
 * string, got number").
 *
 * Relies on: cJSON (parsing, printing), core/util.h (UTF-8 validation), message/task.h (ain_task_t,
 * the row a task message becomes; ain_task_free releases what the parsers allocate). */
#ifndef AIN_MESSAGE_MESSAGE_H
#define AIN_MESSAGE_MESSAGE_H

#include <stddef.h>

#include "core/err.h"
#include "message/task.h"

#define AIN_MESSAGE_PAYLOAD_MAX (1024u * 1024u)                 /* compact payload / result */
#define AIN_MESSAGE_MAX (AIN_MESSAGE_PAYLOAD_MAX + 64u * 1024u) /* a whole message, raw bytes */
#define AIN_MESSAGE_PRIORITY_MIN (-1000)
#define AIN_MESSAGE_PRIORITY_MAX 1000
#define AIN_MESSAGE_ATTEMPTS_MAX 100
#define AIN_MESSAGE_PERSONA_MAX 100 /* ^[A-Za-z0-9_-]{1,100}$: the name of personas/<id>.lua */
#define AIN_MESSAGE_ERRMSG_MAX 4096 /* characters of one response error message */
#define AIN_MESSAGE_ERRORS_MAX 64   /* entries in a response's errors array */
/* Objects and arrays nested in one another, the message's own braces included: deeper is
 * refused before cJSON parses (its limit is 1000 and its error would say only "invalid JSON"). */
#define AIN_MESSAGE_DEPTH_MAX 128
/* Largest integer both C (int64) and JavaScript validators (double) hold exactly: 2^53 - 1. */
#define AIN_MESSAGE_INT_MAX 9007199254740991LL
/* run_at upper bound: 9999-12-31T23:59:59.999Z in ms. */
#define AIN_MESSAGE_RUN_AT_MAX 253402300799999LL

/* Where a bad message sits in a batch: 0-based index and the 1-based line it starts on. */
typedef struct {
  size_t index;
  size_t line;
} ain_message_pos_t;

/* Parses and validates one task message from json[0..len) (no NUL needed). On success fills *out:
 * id, type, persona_id, payload (compact JSON text), dag_id ("" if absent), traceparent (NULL if
 * absent), run_at (0 = now), priority (0), max_attempts (0 when absent: the engine's configured
 * default applies), state_version; everything else zeroed. Strings are malloc'd: the caller
 * releases them with ain_task_free(). Payload text is the input's bytes minus whitespace (numbers
 * and escapes as written). On error *out is left zeroed and nothing needs freeing. */
int ain_message_parse_task(const char *json, size_t len, ain_task_t *out, ain_err_t *err);

/* A check the caller adds to each message of a batch once it has parsed (whether its persona
 * exists, say: deployment data no schema holds). 0, or an AIN_E* code with err set naming the
 * field; the batch then fails as for a schema error, at that message's index and line. */
typedef int (*ain_message_task_check_fn)(void *data, const ain_task_t *t, ain_err_t *err);

/* Parses many task messages: a JSON array of messages, or a stream of messages one after another
 * (JSON Lines, or pretty-printed objects separated by whitespace). Each message parsed is then
 * given to check (may be NULL) with data. All or nothing: on success *out is a malloc'd array of
 * *n tasks (caller: ain_task_free each, then free(*out); *out may be NULL when *n == 0); on the
 * first bad message returns its error, with "message I (line L): " in front of err->msg and
 * *where (may be NULL) set, and nothing to free. */
int ain_message_parse_tasks(const char *buf, size_t len, ain_message_task_check_fn check,
                            void *data, ain_task_t **out, size_t *n, ain_message_pos_t *where,
                            ain_err_t *err);

/* The task message for a row, compact JSON. Caller frees. Returns NULL (and err set) if the row
 * cannot be a schema-valid message (no persona, priority out of range, payload not an object...).
 * The output is checked with ain_message_parse_task before it is returned. */
int ain_message_task_to_json_ex(const ain_task_t *t, char **out, ain_err_t *err);
char *ain_message_task_to_json(const ain_task_t *t); /* same, NULL on any error */

/* The worker response for a task whose last attempt has ended: status succeeded -> "succeeded";
 * dead or cancelled -> "failed"; ready with attempts > 0 and a last_error -> "retry". errors from
 * last_error "ECODE: detail"; result from t->result; confidence from result.confidence when it is
 * a number in [0, 1]. Any other state has no response: AIN_EINVAL. Caller frees *out. */
int ain_message_response_to_json_ex(const ain_task_t *t, char **out, ain_err_t *err);
char *ain_message_response_to_json(const ain_task_t *t); /* same, NULL on any error */

/* Validates a worker response (docs/schemas/response.json). */
int ain_message_validate_response(const char *json, size_t len, ain_err_t *err);

/* 1 if s can name a persona: ^[A-Za-z0-9_-]{1,100}$, the file name personas/<id>.lua and the
 * module name require('personas/<id>') both accept. Whether that persona exists is
 * lua/personas.h's question. */
int ain_message_persona_id_valid(const char *s);

/* Checks JSON text of any shape that is not a message (a trend line, a body a policy decodes with
 * ain.json.decode) by the rules above that need no schema: valid UTF-8, no U+0000 or raw control
 * character in a string, nesting at most AIN_MESSAGE_DEPTH_MAX, one JSON value, no repeated key
 * in any object, every number finite. No size limit (the caller has its own). 0, or AIN_EUTF8 /
 * AIN_ESCHEMA with err->field the top-level key (or the inner path: "a.b[2]") and err->msg
 * starting with it, or with `what` when no field applies ("JSON text: invalid JSON at byte 3"). */
int ain_message_check_json(const char *json, size_t len, const char *what, ain_err_t *err);

/* 1 if s is a lowercase canonical UUID with version 7 and variant 10xx. */
int ain_message_uuid7_valid(const char *s);

#endif
