/* Locating invalid UTF-8 (core/utf8.h). The fast path is one ain_utf8_valid pass over the whole
 * input; only a failure pays for counting lines or parsing the document.
 * Relies on: core/util.h (ain_utf8_valid), cJSON. */
#include "core/utf8.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

int ain_utf8_locate(const char *text, size_t len, ain_utf8_pos_t *pos) {
  size_t bad = 0;
  if (ain_utf8_valid(text, len, &bad)) {
    return 1;
  }
  if (pos != NULL) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < bad; i++) {
      unsigned char c = (unsigned char)text[i];
      if (c == '\n') {
        line++;
        col = 1;
      } else if ((c & 0xc0) != 0x80) { /* a lead byte starts a character; the rest are valid */
        col++;
      }
    }
    pos->offset = bad;
    pos->line = line;
    pos->column = col;
    pos->byte = (unsigned char)text[bad];
  }
  return 0;
}

/* Appends a key to path: .name when it reads as a Lua identifier, else ["..."] with every byte
 * outside printable ASCII as \xNN (the key may be the bad string itself). */
static void path_key(char *path, size_t cap, const char *key) {
  size_t n = strlen(path);
  int ident =
      (key[0] == '_' || (key[0] >= 'a' && key[0] <= 'z') || (key[0] >= 'A' && key[0] <= 'Z'));
  for (const char *p = key; ident && *p; p++) {
    ident = *p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9');
  }
  if (ident) {
    snprintf(path + n, cap - n, ".%s", key);
    return;
  }
  char esc[256];
  size_t e = 0;
  for (const unsigned char *p = (const unsigned char *)key; *p && e + 5 < sizeof esc; p++) {
    if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\') {
      e += (size_t)snprintf(esc + e, sizeof esc - e, "\\x%02x", *p);
    } else {
      esc[e++] = (char)*p;
    }
  }
  esc[e] = '\0';
  snprintf(path + n, cap - n, "[\"%s\"]", esc);
}

/* Depth-first; path holds the path of item. Returns 1 and fills err at the first bad string. */
static int walk(const cJSON *item, char *path, size_t cap, ain_err_t *err) {
  size_t bad = 0;
  if (cJSON_IsString(item) && item->valuestring != NULL &&
      !ain_utf8_valid(item->valuestring, strlen(item->valuestring), &bad)) {
    ain_err_field(err, AIN_EUTF8, path, "%s: invalid UTF-8 at byte %zu of the string", path, bad);
    return 1;
  }
  if (!cJSON_IsObject(item) && !cJSON_IsArray(item)) {
    return 0;
  }
  size_t n = strlen(path);
  size_t index = 0;
  for (const cJSON *c = item->child; c != NULL; c = c->next) {
    index++;
    if (cJSON_IsObject(item)) {
      const char *key = c->string ? c->string : "";
      path_key(path, cap, key);
      if (!ain_utf8_valid(key, strlen(key), &bad)) {
        ain_err_field(err, AIN_EUTF8, path, "%s: invalid UTF-8 at byte %zu of the key", path, bad);
        return 1;
      }
    } else {
      snprintf(path + n, cap - n, "[%zu]", index);
    }
    if (walk(c, path, cap, err)) {
      return 1;
    }
    path[n] = '\0';
  }
  return 0;
}

int ain_utf8_json_check(const char *json, size_t len, const char *root, ain_err_t *err) {
  if (ain_utf8_valid(json, len, NULL)) {
    return 0;
  }
  cJSON *doc = cJSON_ParseWithLength(json, len);
  char path[512];
  snprintf(path, sizeof path, "%s", root);
  if (doc == NULL || !walk(doc, path, sizeof path, err)) {
    /* bad bytes outside any string (or a document that does not parse): name the whole */
    ain_err_field(err, AIN_EUTF8, root, "%s: invalid UTF-8", root);
  }
  cJSON_Delete(doc);
  return AIN_EUTF8;
}

char *ain_utf8_escape_invalid(const char *text, size_t len, size_t *out_len) {
  char *out = malloc(len * 4 + 1); /* worst case: every byte escaped */
  if (out == NULL) {
    abort(); /* as ain_strdup: OOM is fatal */
  }
  size_t n = 0, at = 0;
  while (at < len) {
    ain_utf8_pos_t pos;
    size_t bad = len;
    if (!ain_utf8_locate(text + at, len - at, &pos)) {
      bad = at + pos.offset;
    }
    const char *nul = memchr(text + at, '\0', bad - at);
    if (nul != NULL) {
      bad = (size_t)(nul - text);
    }
    memcpy(out + n, text + at, bad - at); /* valid up to the first bad byte */
    n += bad - at;
    if (bad >= len) {
      break;
    }
    n += (size_t)snprintf(out + n, 5, "\\x%02x", (unsigned char)text[bad]);
    at = bad + 1;
  }
  out[n] = '\0';
  if (out_len != NULL) {
    *out_len = n;
  }
  return out;
}
