/* OAuth 2.0 refresh-token grant and the 401-refresh-retry rule (oauth.h). Secrets are wiped on
 * close; an error carries the token endpoint's `error` code (such as invalid_grant) and status,
 * never the request or response body. Relies on: oauth.h, kinds.h (checks), core/secret.h. */
#include "publish/oauth.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/secret.h"
#include "core/util.h"
#include "publish/kinds.h"

struct ain_oauth {
  char *name, *token_url, *id_param;
  char *client_id, *client_secret, *refresh, *access;
  size_t client_id_len, client_secret_len, refresh_len, access_len;
  int refreshes;
};

static void wipe(char **v, size_t *len) {
  if (*v != NULL) {
    ain_secret_free(*v, *len);
    *v = NULL;
    *len = 0;
  }
}

void ain_oauth_close(ain_oauth_t *o) {
  if (o == NULL) {
    return;
  }
  wipe(&o->client_id, &o->client_id_len);
  wipe(&o->client_secret, &o->client_secret_len);
  wipe(&o->refresh, &o->refresh_len);
  wipe(&o->access, &o->access_len);
  free(o->name);
  free(o->token_url);
  free(o->id_param);
  free(o);
}

int ain_oauth_check(const char *name, const cJSON *opts, ain_err_t *err) {
  int rc;
  if ((rc = ain_channel_check_endpoint(name, opts, "token_url", 0, err)) != 0 ||
      (rc = ain_channel_check_secret(name, opts, "client_id_secret", 1, err)) != 0 ||
      (rc = ain_channel_check_secret(name, opts, "client_secret_secret", 1, err)) != 0 ||
      (rc = ain_channel_check_secret(name, opts, "refresh_token_secret", 1, err)) != 0 ||
      (rc = ain_channel_check_secret(name, opts, "access_token_secret", 0, err)) != 0) {
    return rc;
  }
  return 0;
}

static int load(const char *name, const cJSON *opts, const char *key, const char *secrets_dir,
                int required, char **v, size_t *len, ain_err_t *err) {
  const char *sname = ain_channel_opt_str(opts, key, NULL);
  if (sname == NULL) {
    return 0;
  }
  ain_err_t e;
  ain_err_clear(&e);
  int rc = ain_secret_resolve(secrets_dir, sname, v, len, &e);
  if (rc == AIN_ENOTFOUND && !required) {
    return 0;
  }
  if (rc != 0) {
    char field[160];
    snprintf(field, sizeof field, "channels.%s.%s", name, key);
    return ain_err_field(err, rc == AIN_ENOTFOUND ? AIN_ECONFIG : rc, field, "'%s': %s", field,
                         e.msg);
  }
  return 0;
}

int ain_oauth_open(const char *name, const cJSON *opts, const char *secrets_dir,
                   const char *client_id_param, const char *default_token_url, ain_oauth_t **out,
                   ain_err_t *err) {
  ain_oauth_t *o = calloc(1, sizeof *o);
  if (o == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "out of memory");
  }
  o->name = ain_strdup(name);
  o->token_url = ain_strdup(ain_channel_opt_str(opts, "token_url", default_token_url));
  o->id_param = ain_strdup(client_id_param);
  int rc;
  if ((rc = load(name, opts, "client_id_secret", secrets_dir, 1, &o->client_id, &o->client_id_len,
                 err)) != 0 ||
      (rc = load(name, opts, "client_secret_secret", secrets_dir, 1, &o->client_secret,
                 &o->client_secret_len, err)) != 0 ||
      (rc = load(name, opts, "refresh_token_secret", secrets_dir, 1, &o->refresh, &o->refresh_len,
                 err)) != 0 ||
      (rc = load(name, opts, "access_token_secret", secrets_dir, 0, &o->access, &o->access_len,
                 err)) != 0) {
    ain_oauth_close(o);
    return rc;
  }
  *out = o;
  return 0;
}

int ain_oauth_refreshes(const ain_oauth_t *o) {
  return o->refreshes;
}

/* Appends key=urlencoded(value)& to buf. */
static int form_add(char *buf, size_t cap, size_t *off, const char *key, const char *value,
                    size_t len) {
  char *enc = curl_easy_escape(NULL, value, (int)len);
  if (enc == NULL) {
    return AIN_ENOMEM;
  }
  int n = snprintf(buf + *off, cap - *off, "%s%s=%s", *off ? "&" : "", key, enc);
  size_t elen = strlen(enc);
  memset(enc, 0, elen);
  curl_free(enc);
  if (n < 0 || (size_t)n >= cap - *off) {
    return AIN_ETOOBIG;
  }
  *off += (size_t)n;
  return 0;
}

static int refresh(ain_oauth_t *o, ain_http_t *h, ain_err_t *err) {
  char form[16384];
  size_t off = 0;
  static const char grant[] = "refresh_token";
  int rc;
  if ((rc = form_add(form, sizeof form, &off, "grant_type", grant, sizeof grant - 1)) != 0 ||
      (rc = form_add(form, sizeof form, &off, "refresh_token", o->refresh, o->refresh_len)) != 0 ||
      (rc = form_add(form, sizeof form, &off, o->id_param, o->client_id, o->client_id_len)) != 0 ||
      (rc = form_add(form, sizeof form, &off, "client_secret", o->client_secret,
                     o->client_secret_len)) != 0) {
    memset(form, 0, sizeof form);
    return ain_err_set(err, rc, "channel %s: building the token refresh request", o->name);
  }
  static const char *const hdrs[] = {"Content-Type: application/x-www-form-urlencoded",
                                     "Accept: application/json", NULL};
  ain_http_req_t req = {.method = "POST",
                        .url = o->token_url,
                        .headers = hdrs,
                        .body = form,
                        .body_len = off,
                        .body_fd = -1,
                        .timeout_ms = 30000};
  ain_http_resp_t resp;
  rc = ain_http_do(h, &req, &resp, err);
  memset(form, 0, sizeof form);
  if (rc != 0) {
    ain_err_prefix(err, "channel %s: token refresh", o->name);
    return rc;
  }
  o->refreshes++;
  cJSON *j = cJSON_Parse(resp.body);
  const cJSON *tok = cJSON_GetObjectItemCaseSensitive(j, "access_token");
  if (resp.status != 200 || !cJSON_IsString(tok) || tok->valuestring[0] == '\0') {
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    rc = ain_err_field(err, resp.status >= 500 ? AIN_EHTTP : AIN_ECREDS, "token_url",
                       "channel %s: the token endpoint refused the refresh (HTTP %ld%s%s)",
                       o->name, resp.status, cJSON_IsString(e) ? ": " : "",
                       cJSON_IsString(e) ? e->valuestring : "");
  } else {
    wipe(&o->access, &o->access_len);
    o->access_len = strlen(tok->valuestring);
    o->access = ain_strdup(tok->valuestring);
    const cJSON *nr = cJSON_GetObjectItemCaseSensitive(j, "refresh_token");
    if (cJSON_IsString(nr) && nr->valuestring[0] != '\0') { /* rotated (TikTok rotates) */
      wipe(&o->refresh, &o->refresh_len);
      o->refresh_len = strlen(nr->valuestring);
      o->refresh = ain_strdup(nr->valuestring);
    }
  }
  if (resp.body != NULL) {
    memset(resp.body, 0, resp.body_len);
  }
  if (j != NULL) {
    /* cJSON keeps copies of the strings: wipe them before freeing */
    cJSON *it;
    cJSON_ArrayForEach(it, j) {
      if (cJSON_IsString(it)) {
        memset(it->valuestring, 0, strlen(it->valuestring));
      }
    }
    cJSON_Delete(j);
  }
  ain_http_resp_free(&resp);
  return rc;
}

int ain_oauth_do(ain_oauth_t *o, ain_http_t *h, ain_http_req_t *req, ain_http_resp_t *resp,
                 ain_err_t *err) {
  int rc;
  if (o->access == NULL && (rc = refresh(o, h, err)) != 0) { /* no token yet: get one */
    return rc;
  }
  req->bearer = o->access;
  if ((rc = ain_http_do(h, req, resp, err)) != 0 || resp->status != 401) {
    return rc;
  }
  ain_http_resp_free(resp); /* expired or revoked: one refresh, one retry */
  if ((rc = refresh(o, h, err)) != 0) {
    return rc;
  }
  req->bearer = o->access;
  if ((rc = ain_http_do(h, req, resp, err)) == 0 && resp->status == 401) {
    ain_http_resp_free(resp);
    return ain_err_set(err, AIN_ECREDS, "channel %s: the refreshed access token was refused too",
                       o->name);
  }
  return rc;
}

int ain_oauth_do_retry(ain_oauth_t *o, ain_http_t *h, ain_http_req_t *req, ain_http_resp_t *resp,
                       int64_t retries, int64_t retry_base_ms, ain_err_t *err) {
  for (int64_t n = 0;; n++) {
    int rc = ain_oauth_do(o, h, req, resp, err);
    int transient = rc == AIN_EHTTP || (rc == 0 && resp->status >= 500);
    if (!transient || n >= retries) {
      return rc;
    }
    if (rc == 0) {
      ain_http_resp_free(resp);
    }
    ain_err_clear(err);
    ain_channel_backoff(retry_base_ms, (int)n);
  }
}
