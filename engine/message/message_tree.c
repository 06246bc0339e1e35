/* What a free-form member of a message (a task's payload, a response's result) may hold, beyond
 * being an object: no repeated key in any object, no number a double cannot hold. JSON Schema
 * cannot say either (JSON.parse keeps the last copy of a key and turns 1e999 into Infinity), so
 * these rules live only in the C validator (docs/messages.md, "What JSON Schema cannot express").
 * Relies on: cJSON (the parsed tree), core/err.h. Depth is bounded before parsing
 * (AIN_MESSAGE_DEPTH_MAX), so the recursion here is too. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message/message.h"
#include "message/internal.h"

#define PATH_MAX_LEN 256

static int cmp_key(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first key of obj that repeats, or NULL. Sorting copies of the key pointers keeps an object
 * of many keys linear-logarithmic rather than quadratic. *nomem on allocation failure. */
static const char *repeated_key(const cJSON *obj, int *nomem) {
  size_t n = 0;
  for (const cJSON *c = obj->child; c != NULL; c = c->next) {
    n++;
  }
  if (n < 2) {
    return NULL;
  }
  const char **keys = malloc(n * sizeof *keys);
  if (keys == NULL) {
    *nomem = 1;
    return NULL;
  }
  size_t i = 0;
  for (const cJSON *c = obj->child; c != NULL; c = c->next) {
    keys[i++] = c->string;
  }
  qsort(keys, n, sizeof *keys, cmp_key);
  const char *dup = NULL;
  for (i = 1; i < n && dup == NULL; i++) {
    if (strcmp(keys[i - 1], keys[i]) == 0) {
      dup = keys[i];
    }
  }
  free(keys);
  return dup;
}

static int walk(const cJSON *v, char *path, size_t used, ain_err_t *err) {
  if (cJSON_IsNumber(v) && !isfinite(v->valuedouble)) {
    return ain_err_field(err, AIN_ESCHEMA, path,
                         "%s: number out of range (beyond what a double holds)",
                         path[0] != '\0' ? path : "value");
  }
  if (!cJSON_IsObject(v) && !cJSON_IsArray(v)) {
    return 0;
  }
  if (cJSON_IsObject(v)) {
    int nomem = 0;
    const char *dup = repeated_key(v, &nomem);
    if (nomem) {
      return ain_err_field(err, AIN_ENOMEM, path, "%s: out of memory", path);
    }
    if (dup != NULL) {
      snprintf(path + used, PATH_MAX_LEN - used, "%s%s", used ? "." : "", dup);
      return ain_err_field(err, AIN_ESCHEMA, path, "%s: duplicate key", path);
    }
  }
  size_t i = 0;
  for (const cJSON *c = v->child; c != NULL; c = c->next, i++) {
    int w = cJSON_IsObject(v) ? snprintf(path + used, PATH_MAX_LEN - used, "%s%s",
                                         used ? "." : "", c->string)
                              : snprintf(path + used, PATH_MAX_LEN - used, "[%zu]", i);
    size_t next = w < 0 ? used : used + (size_t)w;
    if (next >= PATH_MAX_LEN) {
      next = PATH_MAX_LEN - 1; /* a long path is cut; the error still names where it starts */
    }
    int rc = walk(c, path, next, err);
    if (rc != 0) {
      return rc;
    }
    path[used] = '\0';
  }
  return 0;
}

int ain__message_check_tree(const cJSON *v, const char *path, ain_err_t *err) {
  char buf[PATH_MAX_LEN];
  snprintf(buf, sizeof buf, "%s", path);
  return walk(v, buf, strlen(buf), err);
}
