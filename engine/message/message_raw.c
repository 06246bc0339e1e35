/* The message layer's reading of raw JSON text (see message.h): size, UTF-8, U+0000 and control
 * characters, nesting depth, then the parse; where a top-level member's value lies in the text.
 * Raw bytes are checked before cJSON sees them, because cJSON neither validates UTF-8 nor rejects
 * control characters in strings, silently truncates strings at an escaped U+0000, and past its
 * own nesting limit says only "invalid JSON". The same small lexer finds the top-level field an
 * offending byte sits in, so even those errors name one.
 * Relies on: cJSON, core/util.h (ain_utf8_valid), core/err.h. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "message/message.h"
#include "message/internal.h"
#include "core/util.h"

const char *ain__message_json_type_name(const cJSON *v) {
  if (cJSON_IsNull(v)) {
    return "null";
  }
  if (cJSON_IsBool(v)) {
    return "boolean";
  }
  if (cJSON_IsNumber(v)) {
    return "number";
  }
  if (cJSON_IsString(v)) {
    return "string";
  }
  if (cJSON_IsArray(v)) {
    return "array";
  }
  if (cJSON_IsObject(v)) {
    return "object";
  }
  return "invalid";
}

/* ---- raw byte checks ----------------------------------------------------------------------- */

#define STR_(x) #x
#define STR(x) STR_(x)

typedef struct {
  char key[64];        /* the top-level key the scan stopped in (or last passed) */
  int in_key;          /* the stop offset lies inside a key */
  size_t problem_at;   /* offset of a lexical problem, when problem != NULL */
  const char *problem; /* what it is */
  char big_key[64];    /* the top-level member whose value spans the most bytes */
  size_t big_size;     /* and that span, raw (whitespace counts) */
} raw_scan_t;

/* A top-level value ended at `end` (a ',' or the closing brace): keep it if it is the biggest so
 * far, whitespace around it not counted. */
static void member_span(const char *s, size_t start, size_t end, raw_scan_t *st) {
  if (start == 0) {
    return;
  }
  while (start < end && (s[start] == ' ' || s[start] == '\t' || s[start] == '\r' ||
                         s[start] == '\n')) {
    start++;
  }
  while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '\r' ||
                         s[end - 1] == '\n')) {
    end--;
  }
  if (end - start > st->big_size) {
    st->big_size = end - start;
    memcpy(st->big_key, st->key, sizeof st->key);
  }
}

/* Walks JSON text up to limit, tracking strings and nesting just enough to know which top-level
 * key each byte belongs to and how many bytes each top-level value spans. With `stop`, it stops
 * at the first escaped U+0000, raw control character in a string, or bracket nested deeper than
 * AIN_MESSAGE_DEPTH_MAX (cJSON would only say "invalid JSON" past its own limit of 1000, and
 * the walkers recurse). It does not validate JSON; cJSON does that afterwards. */
static void raw_scan(const char *s, size_t len, size_t limit, int stop, raw_scan_t *st) {
  int depth = 0, in_str = 0, expect_key = 0, is_key = 0;
  size_t key_start = 0, value_start = 0;
  memset(st, 0, sizeof *st);
  for (size_t i = 0; i < len && i < limit; i++) {
    unsigned char c = (unsigned char)s[i];
    if (in_str) {
      if (c == '\\') {
        if (stop && i + 5 < len && s[i + 1] == 'u' && memcmp(s + i + 2, "0000", 4) == 0) {
          st->problem = "strings must not contain U+0000";
          st->problem_at = i;
          return;
        }
        i++;
      } else if (c == '"') {
        in_str = 0;
        if (is_key) {
          size_t n = i - key_start < sizeof st->key - 1 ? i - key_start : sizeof st->key - 1;
          memcpy(st->key, s + key_start, n);
          st->key[n] = '\0';
        }
      } else if (stop && c < 0x20) {
        st->problem = "control character in a string (escape it)";
        st->problem_at = i;
        return;
      }
      continue;
    }
    switch (c) {
    case '"':
      in_str = 1;
      is_key = depth == 1 && expect_key;
      expect_key = 0;
      key_start = i + 1;
      break;
    case '{':
    case '[':
      depth++;
      if (stop && depth > AIN_MESSAGE_DEPTH_MAX) {
        st->problem = "nested deeper than " STR(AIN_MESSAGE_DEPTH_MAX) " levels";
        st->problem_at = i;
        return;
      }
      expect_key = depth == 1 && c == '{';
      break;
    case '}':
    case ']':
      if (depth == 1) {
        member_span(s, value_start, i, st);
        value_start = 0;
      }
      if (--depth == 0) {
        st->key[0] = '\0'; /* past the message: no member to name */
      }
      break;
    case ',':
      if (depth == 1) {
        member_span(s, value_start, i, st);
        value_start = 0;
      }
      expect_key = depth == 1;
      break;
    case ':':
      if (depth == 1) {
        value_start = i + 1;
      }
      expect_key = 0;
      break;
    case '\0':
      if (stop) { /* cJSON would stop reading here and call it "invalid JSON" */
        st->problem = "NUL byte (JSON text may not contain U+0000)";
        st->problem_at = i;
        return;
      }
      break;
    default:
      break;
    }
  }
  st->in_key = in_str && is_key;
}

static void line_col(const char *s, size_t off, size_t *line, size_t *col) {
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < off; i++) {
    if (s[i] == '\n') {
      (*line)++;
      *col = 1;
    } else {
      (*col)++;
    }
  }
}

/* Size (when message is set), UTF-8 and lexical checks, then the parse; a message must be an
 * object. Returns the root or NULL with err set. */
cJSON *ain__message_parse_raw(const char *json, size_t len, const char *what, int message,
                             ain_err_t *err) {
  size_t bad = 0, line, col;
  raw_scan_t st;
  if (json == NULL) {
    ain_err_field(err, AIN_EINVAL, "", "%s: no input", what);
    return NULL;
  }
  if (message && len > AIN_MESSAGE_MAX) {
    /* Name the member that makes it too big when one does (most of the bytes are its value),
     * so "payload" is blamed, not the message. */
    raw_scan(json, len, len, 0, &st);
    if (st.big_key[0] != '\0' && st.big_size > len / 2) {
      ain_err_field(err, AIN_ETOOBIG, st.big_key,
                    "%s: too big: %zu of the message's %zu bytes (a message may have %u bytes; "
                    "payload and result at most %u, serialized compactly)",
                    st.big_key, st.big_size, len, (unsigned)AIN_MESSAGE_MAX,
                    (unsigned)AIN_MESSAGE_PAYLOAD_MAX);
    } else {
      ain_err_field(err, AIN_ETOOBIG, "", "%s: %zu bytes, the limit is %u", what, len,
                    (unsigned)AIN_MESSAGE_MAX);
    }
    return NULL;
  }
  if (!ain_utf8_valid(json, len, &bad)) {
    raw_scan(json, len, bad, 0, &st);
    if (st.in_key || st.key[0] == '\0') {
      ain_err_field(err, AIN_EUTF8, "", "%s: invalid UTF-8 at byte offset %zu", what, bad);
    } else {
      ain_err_field(err, AIN_EUTF8, st.key, "%s: invalid UTF-8 at byte offset %zu", st.key, bad);
    }
    return NULL;
  }
  raw_scan(json, len, len, 1, &st);
  if (st.problem != NULL) {
    line_col(json, st.problem_at, &line, &col);
    if (st.key[0] != '\0' && !st.in_key) {
      ain_err_field(err, AIN_ESCHEMA, st.key, "%s: %s (byte %zu, line %zu, column %zu)", st.key,
                    st.problem, st.problem_at, line, col);
    } else {
      ain_err_field(err, AIN_ESCHEMA, "", "%s: %s (byte %zu, line %zu, column %zu)", what,
                    st.problem, st.problem_at, line, col);
    }
    return NULL;
  }
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
  size_t off = end != NULL && end >= json ? (size_t)(end - json) : 0;
  if (root == NULL) {
    line_col(json, off, &line, &col);
    ain_err_field(err, AIN_ESCHEMA, "", "%s: invalid JSON at byte %zu (line %zu, column %zu)", what,
                  off, line, col);
    return NULL;
  }
  for (; off < len; off++) {
    char c = json[off];
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      line_col(json, off, &line, &col);
      cJSON_Delete(root);
      ain_err_field(err, AIN_ESCHEMA, "",
                    "%s: unexpected data after the JSON value at byte %zu "
                    "(line %zu, column %zu)",
                    what, off, line, col);
      return NULL;
    }
  }
  if (message && !cJSON_IsObject(root)) {
    ain_err_field(err, AIN_ESCHEMA, "", "%s: must be a JSON object, got %s", what,
                  ain__message_json_type_name(root));
    cJSON_Delete(root);
    return NULL;
  }
  return root;
}

int ain_message_check_json(const char *json, size_t len, const char *what, ain_err_t *err) {
  cJSON *root = ain__message_parse_raw(json, len, what, 0, err);
  if (root == NULL) {
    return err != NULL ? err->code : AIN_ESCHEMA;
  }
  int rc = ain__message_check_tree(root, "", err);
  cJSON_Delete(root);
  return rc;
}

/* End of the JSON value starting at s[start]: after the bracket closing it for an object or array,
 * else at the next delimiter. Malformed text ends at len; the parser then says what is wrong. */
size_t ain__message_value_end(const char *s, size_t len, size_t start) {
  int depth = 0, in_str = 0;
  for (size_t i = start; i < len; i++) {
    char c = s[i];
    if (in_str) {
      if (c == '\\') {
        i++;
      } else if (c == '"') {
        in_str = 0;
        if (depth == 0) {
          return i + 1;
        }
      }
      continue;
    }
    if (c == '"') {
      in_str = 1;
    } else if (c == '{' || c == '[') {
      depth++;
    } else if (c == '}' || c == ']') {
      if (depth == 0) {
        return i;
      }
      if (--depth == 0) {
        return i + 1;
      }
    } else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
      return i;
    }
  }
  return len;
}

/* Where the value of the top-level member `key` lies in the raw text of a parsed object. 0 if the
 * key is not spelled plainly (e.g. with escapes); the caller then falls back to cJSON. */
int ain__message_raw_member(const char *s, size_t len, const char *key, size_t *start,
                            size_t *end) {
  size_t kl = strlen(key);
  int depth = 0, expect_key = 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (c == '"') {
      size_t j = i + 1;
      while (j < len && s[j] != '"') {
        j += s[j] == '\\' ? 2 : 1;
      }
      if (depth == 1 && expect_key && j - i - 1 == kl && memcmp(s + i + 1, key, kl) == 0) {
        size_t v = j + 1;
        while (v < len && s[v] != ':') {
          v++;
        }
        for (v++; v < len && (s[v] == ' ' || s[v] == '\t' || s[v] == '\r' || s[v] == '\n'); v++) {
        }
        *start = v;
        *end = ain__message_value_end(s, len, v);
        return 1;
      }
      expect_key = 0;
      i = j;
    } else if (c == '{' || c == '[') {
      depth++;
      expect_key = depth == 1 && c == '{';
    } else if (c == '}' || c == ']') {
      depth--;
    } else if (c == ',') {
      expect_key = depth == 1;
    }
  }
  return 0;
}

