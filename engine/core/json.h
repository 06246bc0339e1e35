/* Canonical JSON: one text per value, whatever order its object keys were written in, so two
 * documents can be compared (or hashed) as strings. Objects have their keys sorted bytewise
 * (strcmp), at every depth; arrays keep their order; numbers and strings print as cJSON prints
 * them. Used where a recorded value is compared with a recomputed one (`ain replay`).
 * Relies on: cJSON. */
#ifndef AIN_CORE_JSON_H
#define AIN_CORE_JSON_H

#include <cjson/cJSON.h>

/* A deep copy of v with every object's keys sorted. NULL in, NULL out. Caller deletes. */
cJSON *ain_json_sorted(const cJSON *v);
/* The canonical (sorted, unformatted) text of v; pretty = 1 indents it for people. NULL in, NULL
 * out. Caller frees. */
char *ain_json_canonical(const cJSON *v, int pretty);
/* The canonical text of a JSON document, or NULL when text is NULL or not valid JSON. Caller
 * frees. */
char *ain_json_canonical_text(const char *text, int pretty);

#endif
