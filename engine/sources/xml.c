/* RSS 2.0 and Atom 1.0 with expat (feed.h). Why expat and not libxml2: it is a streaming parser
 * with no network or file access of its own (libxml2 can load external DTDs and entities unless
 * every call site passes the right flags), it decodes UTF-8/UTF-16/ISO-8859-1/US-ASCII itself and
 * gives every other encoding to one handler (windows-1252 below), and it is small enough that the
 * whole attack surface for a feed is the handlers in this file. Entity declarations are refused
 * outright: feeds never need them, and refusing them removes billion laughs (nested internal
 * entities) and XXE (external entities) in one rule, on top of expat's own amplification limit.
 * Relies on: expat, cJSON, feed.h. */
/* expat.h declares its amplification limit only under XML_DTD, which Debian's libexpat is built
 * with (expat_config.h); the call is checked at run time by its return value anyway. */
#ifndef XML_DTD
#define XML_DTD 1
#endif
#include <ctype.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sources/feed.h"

#define NS_SEP '|'
#define ATOM_NS "http://www.w3.org/2005/Atom"
#define DC_NS "http://purl.org/dc/elements/1.1/"
#define CONTENT_NS "http://purl.org/rss/1.0/modules/content/"

enum { X_NONE = -1, X_CONTENT = AIN_SOURCE_F_COUNT, X_PUBLISHED, X_DCDATE };

typedef struct {
  XML_Parser p;
  ain_source_kind_t expect;
  const char *source;
  int depth;
  int item_depth; /* depth of the open <item>/<entry>, 0 = none */
  int field;      /* the field whose text is collected, X_NONE = none */
  char *buf;
  size_t len, cap;
  cJSON *items, *cur;
  int64_t nitems;
  int failed;
  char err[256];
  ain_feed_result_t *out;
} xp_t;

static void fail(xp_t *x, const char *fmt, const char *arg) {
  if (!x->failed) {
    x->failed = 1;
    snprintf(x->err, sizeof x->err, fmt, arg);
    XML_StopParser(x->p, XML_FALSE);
  }
}

/* "uri|local" or "local" -> local; *ns set to whether uri equals want. */
static const char *local_name(const char *name, const char *want_ns, int *in_ns) {
  const char *sep = strchr(name, NS_SEP);
  if (sep == NULL) {
    *in_ns = want_ns == NULL;
    return name;
  }
  *in_ns = want_ns != NULL && (size_t)(sep - name) == strlen(want_ns) &&
           strncmp(name, want_ns, strlen(want_ns)) == 0;
  return sep + 1;
}

static const char *attr(const XML_Char **atts, const char *name) {
  for (int i = 0; atts[i] != NULL; i += 2) {
    if (strcmp(atts[i], name) == 0) {
      return atts[i + 1];
    }
  }
  return NULL;
}

static void add_tag(cJSON *rec, const char *tag) {
  if (tag == NULL || tag[0] == '\0') {
    return;
  }
  cJSON *tags = cJSON_GetObjectItemCaseSensitive(rec, "tags");
  if (tags == NULL) {
    tags = cJSON_AddArrayToObject(rec, "tags");
  }
  cJSON_AddItemToArray(tags, cJSON_CreateString(tag));
}

/* Which field an element inside an item is, X_NONE for the others. */
static int item_field(xp_t *x, const char *name, const XML_Char **atts) {
  int atom, dc, content;
  if (x->expect == AIN_SOURCE_ATOM) {
    const char *l = local_name(name, ATOM_NS, &atom);
    if (!atom) {
      return X_NONE;
    }
    if (strcmp(l, "link") == 0) {
      const char *rel = attr(atts, "rel"), *href = attr(atts, "href");
      if (href != NULL && (rel == NULL || strcmp(rel, "alternate") == 0) &&
          cJSON_GetObjectItemCaseSensitive(x->cur, "url") == NULL) {
        cJSON_AddStringToObject(x->cur, "url", href);
      }
      return X_NONE;
    }
    if (strcmp(l, "category") == 0) {
      add_tag(x->cur, attr(atts, "term"));
      return X_NONE;
    }
    return strcmp(l, "title") == 0       ? AIN_SOURCE_F_TITLE
           : strcmp(l, "summary") == 0   ? AIN_SOURCE_F_SUMMARY
           : strcmp(l, "content") == 0   ? X_CONTENT
           : strcmp(l, "id") == 0        ? AIN_SOURCE_F_ID
           : strcmp(l, "updated") == 0   ? AIN_SOURCE_F_TS
           : strcmp(l, "published") == 0 ? X_PUBLISHED
                                         : X_NONE;
  }
  const char *l = local_name(name, NULL, &atom);
  if (!atom) {
    l = local_name(name, DC_NS, &dc);
    if (dc && strcmp(l, "date") == 0) {
      return X_DCDATE;
    }
    l = local_name(name, CONTENT_NS, &content);
    return content && strcmp(l, "encoded") == 0 ? X_CONTENT : X_NONE;
  }
  return strcmp(l, "title") == 0         ? AIN_SOURCE_F_TITLE
         : strcmp(l, "description") == 0 ? AIN_SOURCE_F_SUMMARY
         : strcmp(l, "link") == 0        ? AIN_SOURCE_F_URL
         : strcmp(l, "guid") == 0        ? AIN_SOURCE_F_ID
         : strcmp(l, "pubDate") == 0     ? AIN_SOURCE_F_TS
         : strcmp(l, "category") == 0    ? AIN_SOURCE_F_TAGS
                                         : X_NONE;
}

static void XMLCALL on_start(void *data, const XML_Char *name, const XML_Char **atts) {
  xp_t *x = data;
  x->depth++;
  int in_ns;
  if (x->depth == 1) {
    const char *want = x->expect == AIN_SOURCE_ATOM ? ATOM_NS : NULL;
    const char *l = local_name(name, want, &in_ns);
    const char *root = x->expect == AIN_SOURCE_ATOM ? "feed" : "rss";
    if (!in_ns || strcmp(l, root) != 0) {
      fail(x,
           x->expect == AIN_SOURCE_ATOM ? "expected an Atom 1.0 document (<feed xmlns=\"" ATOM_NS
                                          "\">), found <%s>"
                                        : "expected an RSS 2.0 document (<rss>), found <%s>",
           l);
    }
    return;
  }
  if (x->item_depth == 0) {
    const char *l = local_name(name, x->expect == AIN_SOURCE_ATOM ? ATOM_NS : NULL, &in_ns);
    if (in_ns && strcmp(l, x->expect == AIN_SOURCE_ATOM ? "entry" : "item") == 0) {
      if (++x->nitems > AIN_FEED_MAX_ITEMS) {
        fail(x, "more than %s items", "100000");
        return;
      }
      x->item_depth = x->depth;
      x->cur = cJSON_CreateObject();
    }
    return;
  }
  if (x->depth == x->item_depth + 1 && x->field == X_NONE) {
    x->field = item_field(x, name, atts);
    x->len = 0;
  }
}

/* Text of a field: tags of embedded HTML dropped, whitespace collapsed, trimmed. */
static void clean_text(char *s, size_t *len) {
  size_t o = 0;
  int in_tag = 0, space = 1;
  for (size_t i = 0; i < *len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '<' && i + 1 < *len && (isalpha((unsigned char)s[i + 1]) || s[i + 1] == '/' ||
                                     s[i + 1] == '!')) {
      in_tag = 1;
    } else if (in_tag) {
      if (c == '>') {
        in_tag = 0;
        if (!space) {
          s[o++] = ' ';
          space = 1;
        }
      }
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (!space) {
        s[o++] = ' ';
        space = 1;
      }
    } else {
      s[o++] = (char)c;
      space = 0;
    }
  }
  while (o > 0 && s[o - 1] == ' ') {
    o--;
  }
  s[o] = '\0';
  *len = o;
}

static void cut_utf8(char *s, size_t *len, size_t max) {
  if (*len <= max) {
    return;
  }
  size_t n = max;
  while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
    n--; /* never split a character */
  }
  s[n] = '\0';
  *len = n;
}

static void set_field(xp_t *x, int field) {
  cJSON *rec = x->cur;
  clean_text(x->buf, &x->len);
  if (x->len == 0) {
    return;
  }
  const char *key = NULL;
  switch (field) {
  case AIN_SOURCE_F_TAGS:
    add_tag(rec, x->buf);
    return;
  case AIN_SOURCE_F_SUMMARY:
  case X_CONTENT:
    cut_utf8(x->buf, &x->len, AIN_FEED_SUMMARY_MAX);
    if (field == X_CONTENT && cJSON_GetObjectItemCaseSensitive(rec, "summary") != NULL) {
      return; /* <summary>/<description> wins over the full content */
    }
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "summary");
    key = "summary";
    break;
  case AIN_SOURCE_F_TS:
  case X_PUBLISHED:
  case X_DCDATE:
    if ((field == AIN_SOURCE_F_TS && x->expect == AIN_SOURCE_ATOM) || field == X_DCDATE) {
      /* Atom <updated> and dc:date only when nothing better was given */
      if (cJSON_GetObjectItemCaseSensitive(rec, "ts") != NULL) {
        return;
      }
    } else {
      cJSON_DeleteItemFromObjectCaseSensitive(rec, "ts");
    }
    if (x->expect == AIN_SOURCE_RSS && field == AIN_SOURCE_F_TS) {
      int64_t t = ain_feed_rfc822_time(x->buf);
      if (t >= 0) {
        cJSON_AddNumberToObject(rec, "ts", (double)t);
      }
      return; /* an unreadable date is dropped, not the item */
    }
    cJSON_AddStringToObject(rec, "ts", x->buf);
    return;
  default:
    key = ain_source_field_name((ain_source_field_t)field);
    if (cJSON_GetObjectItemCaseSensitive(rec, key) != NULL) {
      return; /* the first one counts */
    }
  }
  cJSON_AddStringToObject(rec, key, x->buf);
}

static void XMLCALL on_end(void *data, const XML_Char *name) {
  (void)name;
  xp_t *x = data;
  if (x->field != X_NONE && x->depth == x->item_depth + 1) {
    set_field(x, x->field);
    x->field = X_NONE;
  } else if (x->item_depth != 0 && x->depth == x->item_depth) {
    ain_err_t err;
    ain_err_clear(&err);
    if (ain_feed_check_record(x->cur, x->source, &err) != 0) {
      if (x->out->refused++ == 0) {
        snprintf(x->out->first_refusal, sizeof x->out->first_refusal, "item %lld: %s",
                 (long long)x->nitems, err.msg);
      }
      cJSON_Delete(x->cur);
    } else {
      cJSON_AddItemToArray(x->items, x->cur);
    }
    x->cur = NULL;
    x->item_depth = 0;
  }
  x->depth--;
}

static void XMLCALL on_text(void *data, const XML_Char *s, int n) {
  xp_t *x = data;
  if (x->field == X_NONE || n <= 0) {
    return;
  }
  if (x->len + (size_t)n > AIN_FEED_FIELD_MAX) {
    fail(x, "an element's text is longer than %s bytes", "65536");
    return;
  }
  if (x->len + (size_t)n + 1 > x->cap) {
    size_t cap = (x->len + (size_t)n + 1) * 2;
    char *b = realloc(x->buf, cap);
    if (b == NULL) {
      abort();
    }
    x->buf = b;
    x->cap = cap;
  }
  memcpy(x->buf + x->len, s, (size_t)n);
  x->len += (size_t)n;
  x->buf[x->len] = '\0';
}

static void XMLCALL on_entity_decl(void *data, const XML_Char *name, int is_param,
                                   const XML_Char *value, int value_len, const XML_Char *base,
                                   const XML_Char *system_id, const XML_Char *public_id,
                                   const XML_Char *notation) {
  (void)is_param, (void)value, (void)value_len, (void)base, (void)public_id, (void)notation;
  fail(data,
       system_id != NULL ? "external entity '%s' refused (entity declarations are not allowed)"
                         : "entity declaration '%s' refused (an XML bomb guard: feeds need none)",
       name);
}

static void XMLCALL on_skipped(void *data, const XML_Char *name, int is_param) {
  (void)is_param;
  fail(data, "undefined entity '&%s;' refused", name);
}

/* windows-1252: Latin-1 with printable characters in 0x80..0x9F (feeds that say so are common). */
static int XMLCALL on_unknown_encoding(void *data, const XML_Char *name, XML_Encoding *info) {
  (void)data;
  static const int hi[32] = {0x20AC, -1,     0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                             0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, -1,     0x017D, -1,
                             -1,     0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                             0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, -1,     0x017E, 0x0178};
  if (strcasecmp(name, "windows-1252") != 0 && strcasecmp(name, "cp1252") != 0) {
    return XML_STATUS_ERROR;
  }
  for (int i = 0; i < 256; i++) {
    info->map[i] = i >= 0x80 && i < 0xA0 ? hi[i - 0x80] : i;
  }
  info->data = NULL;
  info->convert = NULL;
  info->release = NULL;
  return XML_STATUS_OK;
}

int ain_feed_parse_xml(const char *body, size_t len, ain_source_kind_t expect, const char *source,
                       ain_feed_result_t *out, ain_err_t *err) {
  memset(out, 0, sizeof *out);
  if (expect != AIN_SOURCE_RSS && expect != AIN_SOURCE_ATOM) {
    return ain_err_set(err, AIN_EINVAL, "not an XML source kind");
  }
  if (len == 0) {
    return ain_err_set(err, AIN_EINVAL, "empty document");
  }
  if (len > (size_t)0x7fffffff) {
    return ain_err_set(err, AIN_ETOOBIG, "document larger than 2 GiB");
  }
  xp_t x = {.expect = expect, .source = source, .field = X_NONE, .out = out};
  int rc = 0;
  x.p = XML_ParserCreateNS(NULL, NS_SEP);
  if (x.p == NULL) {
    abort();
  }
  x.items = cJSON_CreateArray();
  XML_SetUserData(x.p, &x);
  XML_SetElementHandler(x.p, on_start, on_end);
  XML_SetCharacterDataHandler(x.p, on_text);
  XML_SetEntityDeclHandler(x.p, on_entity_decl);
  XML_SetSkippedEntityHandler(x.p, on_skipped);
  XML_SetUnknownEncodingHandler(x.p, on_unknown_encoding, NULL);
  XML_SetParamEntityParsing(x.p, XML_PARAM_ENTITY_PARSING_NEVER);
  /* expat >= 2.4; our refusal of declarations comes first, this bounds anything it misses */
  XML_SetBillionLaughsAttackProtectionMaximumAmplification(x.p, 10.0f);
  if (XML_Parse(x.p, body, (int)len, XML_TRUE) != XML_STATUS_OK || x.failed) {
    if (x.failed) {
      rc = ain_err_set(err, AIN_EINVAL, "line %lu: %s", (unsigned long)XML_GetCurrentLineNumber(x.p),
                       x.err);
    } else {
      rc = ain_err_set(err, AIN_EINVAL, "line %lu, column %lu: %s",
                       (unsigned long)XML_GetCurrentLineNumber(x.p),
                       (unsigned long)XML_GetCurrentColumnNumber(x.p) + 1,
                       XML_ErrorString(XML_GetErrorCode(x.p)));
    }
    goto fail;
  }
  out->items = x.items;
  x.items = NULL;
fail:
  cJSON_Delete(x.cur);
  cJSON_Delete(x.items);
  free(x.buf);
  XML_ParserFree(x.p);
  return rc;
}
