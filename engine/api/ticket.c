/* Media tickets: a browser's <video src> cannot send an Authorization header, so GET
 * /v1/videos/{id} hands out media_url and thumbnail_url carrying a short-lived ticket that binds
 * (video id, kind, expiry, the caller's subject) under HMAC-SHA256. The key is the secret
 * api_media_key when the secrets provider has one (needed behind a load balancer: every node must
 * accept every node's tickets), else 32 random bytes per process (tickets then die with it).
 * Format: "<exp>.<base64url(subject)>.<base64url(mac)>", mac over
 * "ain-media-v1|<video_id>|<kind>|<exp>|<subject>" (the subject last: it may hold '|').
 * Relies on: OpenSSL (HMAC, RAND_bytes, CRYPTO_memcmp), core/secret.h, internal.h. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "core/log.h"
#include "core/secret.h"

#define MEDIA_KEY_SECRET "api_media_key"
#define MEDIA_KEY_MIN 32

int ain__api_ticket_init(ain_api_t *api, ain_err_t *err) {
  char *v = NULL;
  size_t len = 0;
  ain_err_t e;
  ain_err_clear(&e);
  int rc = ain_secret_resolve(api->cfg->secrets_dir, MEDIA_KEY_SECRET, &v, &len, &e);
  if (rc == AIN_ENOTFOUND) {
    if (RAND_bytes(api->media_key, 32) != 1) {
      return ain_err_set(err, AIN_EIO, "api: no random bytes for the media ticket key");
    }
    api->media_key_len = 32;
    ain_log_info("api: media tickets signed with a per-process key (set the secret %s to share "
                 "one between nodes)",
                 MEDIA_KEY_SECRET);
    return 0;
  }
  if (rc != 0) {
    *err = e;
    snprintf(err->field, sizeof err->field, "%s", MEDIA_KEY_SECRET);
    return rc;
  }
  if (len < MEDIA_KEY_MIN) {
    ain_secret_free(v, len);
    return ain_err_field(err, AIN_ECONFIG, MEDIA_KEY_SECRET,
                         "the secret %s has %zu bytes; media tickets need at least %d",
                         MEDIA_KEY_SECRET, len, MEDIA_KEY_MIN);
  }
  /* HMAC hashes a key longer than the block into 32 bytes anyway; keep at most 64. */
  api->media_key_len = len < sizeof api->media_key ? len : sizeof api->media_key;
  memcpy(api->media_key, v, api->media_key_len);
  ain_secret_free(v, len);
  return 0;
}

static size_t b64url(const unsigned char *in, size_t n, char *out, size_t cap) {
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                 (i + 2 < n ? in[i + 2] : 0);
    size_t k = n - i >= 3 ? 4 : n - i + 1;
    for (size_t j = 0; j < k && o + 1 < cap; j++) {
      out[o++] = tab[(v >> (18 - 6 * j)) & 63];
    }
  }
  out[o] = '\0';
  return o;
}

static int mac(const ain_api_t *api, const char *video_id, const char *kind, long long exp,
               const char *subject, size_t slen, unsigned char md[32]) {
  char msg[600];
  int hn = snprintf(msg, sizeof msg, "ain-media-v1|%s|%s|%lld|", video_id, kind, exp);
  if (hn < 0 || (size_t)hn + slen >= sizeof msg) {
    return -1;
  }
  memcpy(msg + hn, subject, slen);
  unsigned int mdlen = 0;
  if (HMAC(EVP_sha256(), api->media_key, (int)api->media_key_len, (const unsigned char *)msg,
           (size_t)hn + slen, md, &mdlen) == NULL ||
      mdlen != 32) {
    return -1;
  }
  return 0;
}

int ain__api_ticket_mint(const ain_api_t *api, const char *video_id, const char *kind,
                         const char *subject, int64_t now_s, int64_t ttl_s, char *out, size_t cap) {
  unsigned char md[32];
  long long exp = (long long)(now_s + ttl_s);
  size_t slen = strlen(subject);
  char sub64[224], mac64[48];
  if (slen > 160 || cap < AIN__API_TICKET_MAX ||
      mac(api, video_id, kind, exp, subject, slen, md) != 0) {
    return -1;
  }
  b64url((const unsigned char *)subject, slen, sub64, sizeof sub64);
  b64url(md, 32, mac64, sizeof mac64);
  int n = snprintf(out, cap, "%lld.%s.%s", exp, sub64, mac64);
  return n > 0 && (size_t)n < cap ? 0 : -1;
}

int ain__api_ticket_verify(const ain_api_t *api, const char *t, size_t len, const char *video_id,
                           const char *kind, int64_t now_s, char *subject, size_t cap, char *why,
                           size_t why_cap) {
  const char *dot1 = memchr(t, '.', len);
  const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - t)) : NULL;
  if (len >= AIN__API_TICKET_MAX || dot1 == NULL || dot2 == NULL || dot1 == t ||
      (size_t)(dot1 - t) > 18) {
    snprintf(why, why_cap, "ticket is malformed");
    return -1;
  }
  long long exp = 0;
  for (const char *p = t; p < dot1; p++) {
    if (*p < '0' || *p > '9') {
      snprintf(why, why_cap, "ticket expiry is not a number");
      return -1;
    }
    exp = exp * 10 + (*p - '0');
  }
  unsigned char sub[168], got[40], want[32];
  long sn = ain_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), sub, sizeof sub);
  long mn = ain_b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - t), got, sizeof got);
  if (sn <= 0 || (size_t)sn >= cap || mn != 32) {
    snprintf(why, why_cap, "ticket subject or signature is malformed");
    return -1;
  }
  if (mac(api, video_id, kind, exp, (const char *)sub, (size_t)sn, want) != 0 ||
      CRYPTO_memcmp(got, want, 32) != 0) {
    snprintf(why, why_cap,
             "ticket signature does not match (forged, another video or kind, or "
             "another key)");
    return -1;
  }
  if (exp <= now_s) {
    snprintf(why, why_cap, "ticket expired %lld s ago", (long long)(now_s - exp));
    return -1;
  }
  memcpy(subject, sub, (size_t)sn);
  subject[sn] = '\0';
  return 0;
}
