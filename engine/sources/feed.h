/* Turning one fetched document into trend records, and the retry arithmetic of a source. Pure
 * functions (no I/O, no loop), so the unit tests drive them directly and the fetch worker calls
 * them on the thread pool.
 *
 * A trend record is the JSON object planner.lua plans (the shape of a trends.source line):
 * title (string), summary, url, id, ts (ISO 8601 string or epoch seconds), tags (array of
 * strings), score (number), source (the source's name).
 * Relies on: cJSON, expat (RSS/Atom), config/sources.h. */
#ifndef AIN_SOURCES_FEED_H
#define AIN_SOURCES_FEED_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "config/sources.h"
#include "core/err.h"

#define AIN_FEED_MAX_ITEMS 100000  /* a document with more items is refused */
#define AIN_FEED_SUMMARY_MAX 2000  /* bytes; a longer summary is cut at a character boundary */
#define AIN_FEED_FIELD_MAX 65536   /* bytes of one element's text; more refuses the document */

/* What one document gave: records (a cJSON array, caller owns) and the items refused one by one
 * (a wrong type in one item does not refuse the others). */
typedef struct {
  cJSON *items;
  int64_t refused;
  char first_refusal[256]; /* "item 3: title: expected a string, got number" */
} ain_feed_result_t;

/* RSS 2.0 (expect AIN_SOURCE_RSS) or Atom 1.0 (AIN_SOURCE_ATOM) from body[0..len) with expat.
 * Encodings: the declared one (UTF-8, UTF-16, ISO-8859-1, US-ASCII natively, windows-1252 by our
 * table); text comes out as UTF-8. Any entity declaration (the billion-laughs bomb, external
 * entities) refuses the document, as does malformed XML or the other format's root element.
 * 0 and out filled (caller frees out->items with cJSON_Delete), or AIN_EINVAL with the problem
 * ("line 3: not well-formed", "entity declarations are refused"). */
int ain_feed_parse_xml(const char *body, size_t len, ain_source_kind_t expect, const char *source,
                       ain_feed_result_t *out, ain_err_t *err);

/* A JSON document mapped by cfg->map_items / cfg->map. The body must be UTF-8 JSON; map_items
 * must select an array. An item whose mapped field has the wrong type is refused (counted, the
 * first reason kept); an item without a title too. 0 or AIN_EINVAL naming the problem. */
int ain_feed_map_json(const char *body, size_t len, const ain_source_cfg_t *cfg,
                      ain_feed_result_t *out, ain_err_t *err);

/* One path (config/sources.h syntax) evaluated on node: the values it reaches, in document order
 * (several only through "[*]"). Returns how many were stored in out[0..max). */
size_t ain_feed_path_eval(const cJSON *node, const char *path, const cJSON **out, size_t max);

/* Checks one trend record built from an outside document (types of every field) and sets its
 * source. 0 or AIN_EINVAL naming the field ("title: expected a string, got number"). */
int ain_feed_check_record(cJSON *rec, const char *source, ain_err_t *err);

/* "Mon, 07 Dec 2026 10:00:00 GMT" (RFC 822/1123 as RSS writes it) -> epoch seconds, or -1. */
int64_t ain_feed_rfc822_time(const char *s);

/* Delay before the next attempt after `failures` consecutive errors (>= 1): base * 2^(failures-1)
 * capped at max, then spread by jitter01 in [0, 1) over [75%, 100%] of that, so that many
 * engines that failed together do not retry together. 0 when failures <= 0. */
int64_t ain_feed_backoff_ms(int64_t base_ms, int64_t max_ms, int64_t failures, double jitter01);

#endif
