/* Privacy at ingest (privacy.h): the keyed token, the text and JSON scrubbers and the list of
 * user-identifier fields. Relies on: pii.c (ain_pii_next), core/secret.h, core/log.h, OpenSSL
 * HMAC, cJSON. */
#include "privacy/privacy.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/secret.h"

struct ain_privacy {
  unsigned char *key; /* NULL: redact without a hash */
  size_t keylen;
};

/* Fields whose whole value identifies an outside person or account (a trend's author, a channel
 * user): hashed as a uid whatever it looks like. Matched case-insensitively on the key; a key
 * ending in "_user_id" counts too. */
static const char *const uid_fields[] = {
    "author",          "author_id",  "author_name", "authorid",  "user",
    "user_id",         "userid",     "username",    "user_name", "screen_name",
    "handle",          "account_id", "owner_id",    "uploader",  "uploader_id",
    "channel_user_id", "creator_id", "posted_by",   "reporter",  "submitter",
    "from_user",       NULL};

static int is_uid_field(const char *k) {
  if (k == NULL) {
    return 0;
  }
  for (int i = 0; uid_fields[i] != NULL; i++) {
    if (strcasecmp(k, uid_fields[i]) == 0) {
      return 1;
    }
  }
  size_t n = strlen(k);
  return n > 8 && strcasecmp(k + n - 8, "_user_id") == 0;
}

int ain_privacy_open_key(const void *key, size_t len, ain_privacy_t **out, ain_err_t *err) {
  ain_privacy_t *p = calloc(1, sizeof *p);
  if (p == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "privacy: out of memory");
  }
  if (len > 0) {
    p->key = malloc(len);
    if (p->key == NULL) {
      free(p);
      return ain_err_set(err, AIN_ENOMEM, "privacy: out of memory");
    }
    memcpy(p->key, key, len);
    p->keylen = len;
  }
  *out = p;
  return 0;
}

int ain_privacy_open(const char *secrets_dir, ain_privacy_t **out, ain_err_t *err) {
  char *v = NULL;
  size_t len = 0;
  ain_err_t e;
  ain_err_clear(&e);
  int rc = ain_secret_resolve(secrets_dir, AIN_PRIVACY_KEY_SECRET, &v, &len, &e);
  if (rc == AIN_ENOTFOUND) {
    return ain_privacy_open_key(NULL, 0, out, err);
  }
  if (rc != 0) {
    *err = e;
    ain_err_prefix(err, "privacy key");
    return rc;
  }
  if (len == 0) {
    ain_secret_free(v, len);
    return ain_err_field(err, AIN_ECONFIG, AIN_PRIVACY_KEY_SECRET,
                         "privacy key: secret '%s' is empty", AIN_PRIVACY_KEY_SECRET);
  }
  rc = ain_privacy_open_key(v, len, out, err);
  ain_secret_free(v, len);
  return rc;
}

int ain_privacy_start(const char *secrets_dir, ain_privacy_t **out, ain_err_t *err) {
  int rc = ain_privacy_open(secrets_dir, out, err);
  if (rc == 0 && !ain_privacy_keyed(*out)) {
    ain_log_warn("privacy: no key (AIN_SECRET_PII_KEY or %s/%s): personal data found at ingest "
                 "is redacted without a hash, so equal values cannot be matched "
                 "(docs/operations.md)",
                 secrets_dir != NULL ? secrets_dir : "secrets_dir", AIN_PRIVACY_KEY_SECRET);
  }
  return rc;
}

void ain_privacy_free(ain_privacy_t *p) {
  if (p == NULL) {
    return;
  }
  if (p->key != NULL) {
    memset(p->key, 0, p->keylen);
    free(p->key);
  }
  free(p);
}

int ain_privacy_keyed(const ain_privacy_t *p) {
  return p != NULL && p->key != NULL;
}

/* "<pii:KIND:hhhhhhhh>" (keyed) or "<pii:KIND>" into out (>= 32 bytes). */
static int token(const ain_privacy_t *p, ain_pii_kind_t kind, const char *norm, size_t len,
                 char *out, size_t cap) {
  if (!ain_privacy_keyed(p)) {
    return snprintf(out, cap, "<pii:%s>", ain_pii_kind_name(kind));
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (HMAC(EVP_sha256(), p->key, (int)p->keylen, (const unsigned char *)norm, len, mac, &n) ==
      NULL) {
    return snprintf(out, cap, "<pii:%s>", ain_pii_kind_name(kind)); /* never the value */
  }
  return snprintf(out, cap, "<pii:%s:%02x%02x%02x%02x>", ain_pii_kind_name(kind), mac[0], mac[1],
                  mac[2], mac[3]);
}

static int is_token(const char *s) {
  size_t n = strlen(s);
  return n > 6 && strncmp(s, "<pii:", 5) == 0 && s[n - 1] == '>' && strchr(s + 1, '<') == NULL;
}

char *ain_privacy_scrub_text(const ain_privacy_t *p, const char *s, size_t n,
                             ain_privacy_stats_t *st, int *oom) {
  ain_pii_match_t m;
  size_t pos = 0;
  char *out = NULL;
  size_t olen = 0, ocap = 0;
  if (oom != NULL) {
    *oom = 0;
  }
  while (ain_pii_next(s, n, pos, &m)) {
    char tok[64];
    int tl = token(p, m.kind, m.norm, strlen(m.norm), tok, sizeof tok);
    size_t need = olen + (m.start - pos) + (size_t)tl + (n - m.start - m.len) + 1;
    if (need > ocap) {
      size_t cap = ocap ? ocap : n + 64;
      while (cap < need) {
        cap *= 2;
      }
      char *g = realloc(out, cap);
      if (g == NULL) {
        free(out);
        if (oom != NULL) {
          *oom = 1;
        }
        return NULL;
      }
      out = g;
      ocap = cap;
    }
    memcpy(out + olen, s + pos, m.start - pos);
    olen += m.start - pos;
    memcpy(out + olen, tok, (size_t)tl);
    olen += (size_t)tl;
    pos = m.start + m.len;
    if (st != NULL) {
      st->found[m.kind]++;
      st->total++;
    }
  }
  if (out == NULL) {
    return NULL;
  }
  memcpy(out + olen, s + pos, n - pos);
  olen += n - pos;
  out[olen] = '\0';
  return out;
}

/* Turns item into a string holding the uid token of its value (in place: its key and place in
 * the parent stay). 1, 0 (left as is) or AIN_ENOMEM. */
static int hash_uid(const ain_privacy_t *p, cJSON *item, ain_privacy_stats_t *st) {
  char num[64];
  const char *v;
  if (cJSON_IsString(item)) {
    v = item->valuestring;
    if (is_token(v) || v[0] == '\0') {
      return 0;
    }
  } else if (cJSON_IsNumber(item)) {
    double d = item->valuedouble;
    if (d == (double)(long long)d) {
      snprintf(num, sizeof num, "%lld", (long long)d);
    } else {
      snprintf(num, sizeof num, "%.17g", d);
    }
    v = num;
  } else {
    return 0;
  }
  char tok[64];
  token(p, AIN_PII_UID, v, strlen(v), tok, sizeof tok);
  char *c = cJSON_malloc(strlen(tok) + 1);
  if (c == NULL) {
    return AIN_ENOMEM;
  }
  strcpy(c, tok);
  if (cJSON_IsString(item) && !(item->type & cJSON_IsReference)) {
    cJSON_free(item->valuestring);
  }
  item->type = cJSON_String | (item->type & cJSON_StringIsConst);
  item->valuestring = c;
  if (st != NULL) {
    st->found[AIN_PII_UID]++;
    st->total++;
  }
  return 1;
}

/* Replaces *slot (a string owned by cJSON) with its scrubbed text. 1, 0 or AIN_ENOMEM. */
static int scrub_slot(const ain_privacy_t *p, char **slot, ain_privacy_stats_t *st) {
  int oom = 0;
  char *s = ain_privacy_scrub_text(p, *slot, strlen(*slot), st, &oom);
  if (s == NULL) {
    return oom ? AIN_ENOMEM : 0;
  }
  char *c = cJSON_malloc(strlen(s) + 1);
  if (c == NULL) {
    free(s);
    return AIN_ENOMEM;
  }
  strcpy(c, s);
  free(s);
  cJSON_free(*slot);
  *slot = c;
  return 1;
}

static int walk(const ain_privacy_t *p, cJSON *node, int uid, ain_privacy_stats_t *st) {
  int count = 0;
  cJSON *it = node->child;
  while (it != NULL) {
    cJSON *next = it->next; /* it may be replaced below */
    int rc = 0;
    if (it->string != NULL && !(it->type & cJSON_StringIsConst)) {
      rc = scrub_slot(p, &it->string, st);
      if (rc < 0) {
        return rc;
      }
      count += rc;
    }
    int child_uid = uid || (cJSON_IsObject(node) && is_uid_field(it->string));
    if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
      rc = walk(p, it, child_uid, st);
    } else if (child_uid) {
      rc = hash_uid(p, it, st);
    } else if (cJSON_IsString(it) && it->valuestring != NULL) {
      rc = scrub_slot(p, &it->valuestring, st);
    }
    if (rc < 0) {
      return rc;
    }
    count += rc;
    it = next;
  }
  return count;
}

int ain_privacy_scrub_cjson(const ain_privacy_t *p, cJSON *doc, ain_privacy_stats_t *st) {
  if (doc == NULL) {
    return 0;
  }
  if (cJSON_IsString(doc) && doc->valuestring != NULL) {
    return scrub_slot(p, &doc->valuestring, st);
  }
  return walk(p, doc, 0, st);
}

int ain_privacy_scrub_json(const ain_privacy_t *p, char **json, ain_privacy_stats_t *st,
                           ain_err_t *err) {
  if (json == NULL || *json == NULL) {
    return 0;
  }
  cJSON *doc = cJSON_Parse(*json);
  if (doc == NULL) {
    int oom = 0;
    char *s = ain_privacy_scrub_text(p, *json, strlen(*json), st, &oom);
    if (oom) {
      return ain_err_set(err, AIN_ENOMEM, "privacy: out of memory scrubbing a document");
    }
    if (s != NULL) {
      free(*json);
      *json = s;
    }
    return 0;
  }
  int rc = ain_privacy_scrub_cjson(p, doc, st);
  char *s = rc > 0 ? cJSON_PrintUnformatted(doc) : NULL;
  cJSON_Delete(doc);
  if (rc < 0 || (rc > 0 && s == NULL)) {
    return ain_err_set(err, AIN_ENOMEM, "privacy: out of memory scrubbing a document");
  }
  if (s != NULL) {
    free(*json);
    *json = s;
  }
  return 0;
}

int ain_privacy_scrub_lines(const ain_privacy_t *p, char **text, size_t *len,
                            ain_privacy_stats_t *st, ain_err_t *err) {
  const char *s = *text;
  size_t n = *len, pos = 0, olen = 0, ocap = 0;
  char *out = NULL;
  int changed = 0, rc = 0;
  while (pos < n) {
    const char *nl = memchr(s + pos, '\n', n - pos);
    size_t end = nl != NULL ? (size_t)(nl - s) : n;
    size_t next = nl != NULL ? end + 1 : n;
    char *line = malloc(end - pos + 1);
    if (line == NULL) {
      rc = ain_err_set(err, AIN_ENOMEM, "privacy: out of memory");
      goto fail;
    }
    memcpy(line, s + pos, end - pos);
    line[end - pos] = '\0';
    int had_nul = strlen(line) != end - pos; /* an embedded NUL: leave such a line to the parser */
    char *orig = line;
    if (!had_nul && (rc = ain_privacy_scrub_json(p, &line, st, err)) != 0) {
      free(line);
      goto fail;
    }
    const char *piece = line != orig ? line : s + pos;
    size_t plen = line != orig ? strlen(line) : end - pos;
    changed |= line != orig;
    size_t need = olen + plen + 2;
    if (need > ocap) {
      size_t cap = ocap ? ocap : n + 256;
      while (cap < need) {
        cap *= 2;
      }
      char *g = realloc(out, cap);
      if (g == NULL) {
        free(line);
        rc = ain_err_set(err, AIN_ENOMEM, "privacy: out of memory");
        goto fail;
      }
      out = g;
      ocap = cap;
    }
    memcpy(out + olen, piece, plen);
    olen += plen;
    if (nl != NULL) {
      out[olen++] = '\n';
    }
    free(line);
    pos = next;
  }
  if (changed) {
    out[olen] = '\0';
    free(*text);
    *text = out;
    *len = olen;
    return 0;
  }
  free(out);
  return 0;
fail:
  free(out);
  return rc;
}
