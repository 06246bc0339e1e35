/* JSON feeds mapped to trend records by paths (feed.h), the record check every source shares,
 * RSS dates and the backoff arithmetic. Relies on: cJSON, core/util.h (UTF-8), feed.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "sources/feed.h"

/* ---- paths ----------------------------------------------------------------------------------- */

static size_t eval(const cJSON *node, const char *p, const cJSON **out, size_t max, size_t n) {
  if (node == NULL || n >= max) {
    return n;
  }
  if (*p == '$') {
    p++;
  }
  if (*p == '\0') {
    out[n++] = node;
    return n;
  }
  if (*p == '[') {
    const char *close = strchr(p, ']');
    if (close == NULL || !cJSON_IsArray(node)) {
      return n;
    }
    if (p[1] == '*') {
      const cJSON *c;
      cJSON_ArrayForEach(c, node) {
        n = eval(c, close + 1, out, max, n);
      }
      return n;
    }
    return eval(cJSON_GetArrayItem(node, atoi(p + 1)), close + 1, out, max, n);
  }
  if (*p == '.') {
    p++;
  }
  size_t k = strcspn(p, ".[");
  char key[257];
  if (k == 0 || k >= sizeof key || !cJSON_IsObject(node)) {
    return n;
  }
  memcpy(key, p, k);
  key[k] = '\0';
  return eval(cJSON_GetObjectItemCaseSensitive(node, key), p + k, out, max, n);
}

size_t ain_feed_path_eval(const cJSON *node, const char *path, const cJSON **out, size_t max) {
  return eval(node, path, out, max, 0);
}

/* ---- records --------------------------------------------------------------------------------- */

static const char *type_name(const cJSON *v) {
  return cJSON_IsString(v)   ? "string"
         : cJSON_IsNumber(v) ? "number"
         : cJSON_IsBool(v)   ? "boolean"
         : cJSON_IsNull(v)   ? "null"
         : cJSON_IsArray(v)  ? "array"
                             : "object";
}

static int utf8_ok(const char *s) {
  size_t bad;
  return ain_utf8_valid(s, strlen(s), &bad);
}

int ain_feed_check_record(cJSON *rec, const char *source, ain_err_t *err) {
  if (!cJSON_IsObject(rec)) {
    return ain_err_set(err, AIN_EINVAL, "expected an object, got %s", type_name(rec));
  }
  static const char *const strs[] = {"title", "summary", "url", "id"};
  for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, strs[i]);
    if (v == NULL || cJSON_IsNull(v)) {
      if (i == 0) {
        return ain_err_field(err, AIN_EINVAL, "title", "title: missing");
      }
      continue;
    }
    if (!cJSON_IsString(v)) {
      return ain_err_field(err, AIN_EINVAL, strs[i], "%s: expected a string, got %s", strs[i],
                           type_name(v));
    }
    if (!utf8_ok(v->valuestring)) {
      return ain_err_field(err, AIN_EINVAL, strs[i], "%s: not UTF-8", strs[i]);
    }
    if (i == 0 && strspn(v->valuestring, " \t\r\n") == strlen(v->valuestring)) {
      return ain_err_field(err, AIN_EINVAL, "title", "title: empty");
    }
  }
  cJSON *ts = cJSON_GetObjectItemCaseSensitive(rec, "ts");
  if (ts != NULL && !cJSON_IsNull(ts) && !cJSON_IsString(ts) && !cJSON_IsNumber(ts)) {
    return ain_err_field(err, AIN_EINVAL, "ts", "ts: expected a string or a number, got %s",
                         type_name(ts));
  }
  if (cJSON_IsString(ts) && !utf8_ok(ts->valuestring)) {
    return ain_err_field(err, AIN_EINVAL, "ts", "ts: not UTF-8");
  }
  cJSON *score = cJSON_GetObjectItemCaseSensitive(rec, "score");
  if (score != NULL && !cJSON_IsNull(score) &&
      (!cJSON_IsNumber(score) || !isfinite(score->valuedouble))) {
    return ain_err_field(err, AIN_EINVAL, "score", "score: expected a number, got %s",
                         type_name(score));
  }
  cJSON *tags = cJSON_GetObjectItemCaseSensitive(rec, "tags"), *t;
  if (tags != NULL && !cJSON_IsNull(tags)) {
    if (!cJSON_IsArray(tags)) {
      return ain_err_field(err, AIN_EINVAL, "tags", "tags: expected an array of strings, got %s",
                           type_name(tags));
    }
    cJSON_ArrayForEach(t, tags) {
      if (!cJSON_IsString(t) || !utf8_ok(t->valuestring)) {
        return ain_err_field(err, AIN_EINVAL, "tags",
                             "tags: expected an array of UTF-8 strings, found %s", type_name(t));
      }
    }
  }
  if (source != NULL) {
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "source");
    cJSON_AddStringToObject(rec, "source", source);
  }
  return 0;
}

/* One item mapped field by field. 0 or AIN_EINVAL naming the field. */
static int map_item(const cJSON *item, const ain_source_cfg_t *cfg, cJSON **out, ain_err_t *err) {
  cJSON *rec = cJSON_CreateObject();
  const cJSON *vals[64];
  int rc = 0;
  for (int f = 0; f < AIN_SOURCE_F_COUNT; f++) {
    const char *name = ain_source_field_name((ain_source_field_t)f);
    if (cfg->map[f] == NULL) {
      continue;
    }
    size_t n = ain_feed_path_eval(item, cfg->map[f], vals, 64);
    if (n == 0 || cJSON_IsNull(vals[0])) {
      continue;
    }
    if (f == AIN_SOURCE_F_TAGS) {
      cJSON *tags = cJSON_AddArrayToObject(rec, "tags");
      for (size_t i = 0; i < n; i++) {
        if (cJSON_IsArray(vals[i]) && n == 1) {
          const cJSON *t;
          cJSON_ArrayForEach(t, vals[i]) {
            cJSON_AddItemToArray(tags, cJSON_Duplicate(t, 1));
          }
        } else {
          cJSON_AddItemToArray(tags, cJSON_Duplicate(vals[i], 1));
        }
      }
      continue;
    }
    if (f == AIN_SOURCE_F_ID && cJSON_IsNumber(vals[0])) {
      char buf[64];
      snprintf(buf, sizeof buf, "%.17g", vals[0]->valuedouble);
      cJSON_AddStringToObject(rec, name, buf);
      continue;
    }
    cJSON_AddItemToObject(rec, name, cJSON_Duplicate(vals[0], 1));
  }
  rc = ain_feed_check_record(rec, cfg->name, err);
  if (rc != 0) {
    cJSON_Delete(rec);
    return rc;
  }
  cJSON *summary = cJSON_GetObjectItemCaseSensitive(rec, "summary");
  if (cJSON_IsString(summary) && strlen(summary->valuestring) > AIN_FEED_SUMMARY_MAX) {
    size_t n = AIN_FEED_SUMMARY_MAX;
    while (n > 0 && ((unsigned char)summary->valuestring[n] & 0xC0) == 0x80) {
      n--;
    }
    summary->valuestring[n] = '\0'; /* shortening in place keeps cJSON's ownership */
  }
  *out = rec;
  return 0;
}

int ain_feed_map_json(const char *body, size_t len, const ain_source_cfg_t *cfg,
                      ain_feed_result_t *out, ain_err_t *err) {
  memset(out, 0, sizeof *out);
  size_t bad_at = 0;
  if (len == 0) {
    return ain_err_set(err, AIN_EINVAL, "empty document");
  }
  if (!ain_utf8_valid(body, len, &bad_at)) {
    return ain_err_set(err, AIN_EINVAL, "not UTF-8 (byte %zu)", bad_at);
  }
  const char *end = NULL;
  cJSON *doc = cJSON_ParseWithLengthOpts(body, len, &end, 0);
  if (doc == NULL) {
    return ain_err_set(err, AIN_EINVAL, "not JSON (near byte %zu of %zu%s)",
                       end != NULL ? (size_t)(end - body) : 0, len,
                       end != NULL && (size_t)(end - body) >= len ? ": truncated?" : "");
  }
  int rc = 0;
  /* the array is what the path before "[*]" reaches */
  const char *star = strstr(cfg->map_items, "[*]");
  char prefix[260];
  size_t plen = (size_t)(star - cfg->map_items);
  snprintf(prefix, sizeof prefix, "%.*s", (int)plen, cfg->map_items);
  const cJSON *arr = NULL;
  if (ain_feed_path_eval(doc, plen ? prefix : "$", &arr, 1) == 0 || !cJSON_IsArray(arr)) {
    rc = ain_err_field(err, AIN_EINVAL, "map.items", "map.items '%s': %s is %s, not an array",
                       cfg->map_items, plen ? prefix : "$", arr ? type_name(arr) : "absent");
    goto fail;
  }
  if (cJSON_GetArraySize(arr) > AIN_FEED_MAX_ITEMS) {
    rc = ain_err_set(err, AIN_ETOOBIG, "more than %d items", AIN_FEED_MAX_ITEMS);
    goto fail;
  }
  out->items = cJSON_CreateArray();
  const cJSON *el;
  int i = 0;
  cJSON_ArrayForEach(el, arr) {
    i++;
    const cJSON *item = NULL;
    ain_err_t ierr;
    ain_err_clear(&ierr);
    cJSON *rec = NULL;
    if (ain_feed_path_eval(el, star + 3, &item, 1) == 0) {
      ain_err_set(&ierr, AIN_EINVAL, "map.items: '%s' reaches nothing", star + 3);
    } else if (!cJSON_IsObject(item)) {
      ain_err_set(&ierr, AIN_EINVAL, "expected an object, got %s", type_name(item));
    } else {
      map_item(item, cfg, &rec, &ierr);
    }
    if (rec == NULL) {
      if (out->refused++ == 0) {
        snprintf(out->first_refusal, sizeof out->first_refusal, "item %d: %s", i, ierr.msg);
      }
      continue;
    }
    cJSON_AddItemToArray(out->items, rec);
  }
fail:
  cJSON_Delete(doc);
  return rc;
}

/* ---- dates and retries ----------------------------------------------------------------------- */

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int64_t ain_feed_rfc822_time(const char *s) {
  static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  static const struct {
    const char *name;
    int off_min;
  } zones[] = {{"GMT", 0},    {"UT", 0},     {"UTC", 0},    {"Z", 0},     {"EST", -300},
               {"EDT", -240}, {"CST", -360}, {"CDT", -300}, {"MST", -420}, {"MDT", -360},
               {"PST", -480}, {"PDT", -420}};
  if (s == NULL) {
    return -1;
  }
  const char *comma = strchr(s, ',');
  if (comma != NULL) {
    s = comma + 1;
  }
  int d, y, h, mi, sec = 0, used = 0;
  char mon[4], zone[8] = "";
  if (sscanf(s, " %d %3s %d %d:%d%n", &d, mon, &y, &h, &mi, &used) != 5) {
    return -1;
  }
  s += used;
  if (*s == ':') {
    if (sscanf(s, ":%d%n", &sec, &used) != 1) {
      return -1;
    }
    s += used;
  }
  if (sscanf(s, " %7s", zone) != 1) {
    zone[0] = '\0';
  }
  int m = -1;
  for (int i = 0; i < 12; i++) {
    if (strcasecmp(mon, months[i]) == 0) {
      m = i + 1;
    }
  }
  if (y < 100) {
    y += y < 50 ? 2000 : 1900; /* RFC 822's two-digit years */
  }
  if (m < 0 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || y < 1970 || y > 9999) {
    return -1;
  }
  int off = 0, known = zone[0] == '\0';
  if ((zone[0] == '+' || zone[0] == '-') && strlen(zone) == 5 &&
      strspn(zone + 1, "0123456789") == 4) {
    int v = atoi(zone + 1);
    off = (v / 100 * 60 + v % 100) * (zone[0] == '-' ? -1 : 1);
    known = 1;
  }
  for (size_t i = 0; !known && i < sizeof zones / sizeof *zones; i++) {
    if (strcasecmp(zone, zones[i].name) == 0) {
      off = zones[i].off_min;
      known = 1;
    }
  }
  if (!known) {
    return -1;
  }
  return days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + sec - (int64_t)off * 60;
}

int64_t ain_feed_backoff_ms(int64_t base_ms, int64_t max_ms, int64_t failures, double jitter01) {
  if (failures <= 0 || base_ms <= 0) {
    return 0;
  }
  int64_t d = base_ms;
  for (int64_t i = 1; i < failures && d < max_ms; i++) {
    d *= 2; /* stops at max_ms: never overflows */
  }
  if (d > max_ms) {
    d = max_ms;
  }
  if (!(jitter01 >= 0 && jitter01 < 1)) {
    jitter01 = 0;
  }
  return (int64_t)((double)d * (0.75 + 0.25 * jitter01));
}
