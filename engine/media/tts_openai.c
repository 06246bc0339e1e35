/* The OpenAI-compatible speech provider: POST {url}/v1/audio/speech with {"model", "input",
 * "voice", "response_format": "wav", "speed"} (OpenAI's documented request; llama.cpp-style and
 * other compatible servers accept the same), the body being the audio itself. 429 and 5xx answers
 * and transport errors (refused, reset, timed out) are retried up to max_attempts with backoff,
 * honouring Retry-After in seconds (capped, so a hostile header cannot park a pool thread); a 4xx
 * is final and its message names the server's error. The key goes in the Authorization header
 * and never into a message. The speech API returns no word times: tts.c aligns the audio.
 * Blocking libcurl easy: thread pool only.
 * Relies on: libcurl, cJSON, core/util (ain_capbuf). */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/util.h"
#include "media/internal.h"

#define OAI_MAX_AUDIO (64u << 20)
#define OAI_MAX_WAIT_MS 10000

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

typedef struct {
  long retry_after_ms;
} hdr_t;

static size_t on_header(char *b, size_t size, size_t n, void *data) {
  hdr_t *h = data;
  size_t len = size * n;
  if (len > 12 && strncasecmp(b, "Retry-After:", 12) == 0) {
    long s = strtol(b + 12, NULL, 10);
    h->retry_after_ms = s > 0 ? s * 1000 : 0;
  }
  return len;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* The server's {"error": {"message"}} if there is one, else the body's start. */
static void error_text(const char *body, size_t n, char *out, size_t cap) {
  cJSON *o = cJSON_ParseWithLength(body ? body : "", n);
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "error"),
                                                    "message");
  if (cJSON_IsString(m)) {
    snprintf(out, cap, "%s", m->valuestring);
  } else {
    snprintf(out, cap, "%.*s", (int)(n > 200 ? 200 : n), body ? body : "");
  }
  cJSON_Delete(o);
}

/* One request; *retry = 1 when another attempt may succeed; *wait_ms the server's Retry-After. */
static int one_request(const ain_media_tts_opts_t *o, const char *url, const char *req,
                       const char *out_path, int *retry, long *wait_ms, ain_err_t *err) {
  char auth[1200], errbuf[CURL_ERROR_SIZE] = "", msg[256];
  ain_capbuf_t b = {.max = OAI_MAX_AUDIO};
  hdr_t h = {0};
  struct curl_slist *hdrs = NULL;
  int rc = 0;
  *retry = 0;
  *wait_ms = 0;
  CURL *c = curl_easy_init();
  if (c == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "tts openai: no memory");
  }
  hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
  hdrs = curl_slist_append(hdrs, "Accept: audio/wav");
  if (o->api_key != NULL && o->api_key[0] != '\0') {
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->api_key);
    hdrs = curl_slist_append(hdrs, auth);
  }
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, req);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(o->timeout_ms > 0 ? o->timeout_ms : 60000));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ain_capbuf_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode cr = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (cr != CURLE_OK) {
    *retry = 1;
    rc = ain_err_field(err, cr == CURLE_OPERATION_TIMEDOUT ? AIN_ETIMEOUT : AIN_EHTTP, "tts.openai.url",
                       "tts openai: POST %s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(cr));
    goto done;
  }
  if (status == 429 || status >= 500) {
    *retry = 1;
    *wait_ms = h.retry_after_ms;
    error_text(b.p, b.n, msg, sizeof msg);
    rc = ain_err_field(err, AIN_EHTTP, "tts.openai.url", "tts openai: POST %s: HTTP %ld: %s", url,
                       status, msg);
    goto done;
  }
  if (status < 200 || status > 299) {
    error_text(b.p, b.n, msg, sizeof msg);
    rc = ain_err_field(err, status == 401 || status == 403 ? AIN_ECREDS : AIN_EHTTP,
                       "tts.openai", "tts openai: POST %s: HTTP %ld: %s", url, status, msg);
    goto done;
  }
  if (b.n < 44) {
    *retry = 1; /* a truncated body: the next answer may be whole */
    rc = ain_err_field(err, AIN_EMEDIA, "tts.openai.url",
                       "tts openai: POST %s: %zu bytes of audio is not speech", url, b.n);
    goto done;
  }
  int wr = ain_write_file_atomic(out_path, b.p, b.n);
  if (wr != 0) {
    rc = ain_err_set(err, AIN_EIO, "tts openai: writing %s: %s", out_path, strerror(-wr));
  }
done:
  curl_easy_cleanup(c);
  curl_slist_free_all(hdrs);
  free(b.p);
  return rc;
}

int ain__tts_openai(const ain_media_tts_opts_t *o, const char *spoken, const char *out_path,
                    ain_err_t *err) {
  if (o->url == NULL || o->url[0] == '\0' || o->model == NULL || o->model[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "tts.openai",
                         "tts openai: the provider needs tts.openai.url and tts.openai.model");
  }
  pthread_once(&curl_once, curl_init_once);
  char url[1100];
  size_t ul = strlen(o->url);
  snprintf(url, sizeof url, "%.*s/v1/audio/speech",
           (int)(ul > 0 && o->url[ul - 1] == '/' ? ul - 1 : ul), o->url);
  double speed = (o->rate ? o->rate : 175) / 175.0;
  cJSON *r = cJSON_CreateObject();
  cJSON_AddStringToObject(r, "model", o->model);
  cJSON_AddStringToObject(r, "input", spoken);
  cJSON_AddStringToObject(r, "voice", o->voice && o->voice[0] ? o->voice : "alloy");
  cJSON_AddStringToObject(r, "response_format", "wav");
  cJSON_AddNumberToObject(r, "speed", speed < 0.25 ? 0.25 : speed > 4.0 ? 4.0 : speed);
  char *req = cJSON_PrintUnformatted(r);
  cJSON_Delete(r);
  if (req == NULL) {
    return ain_err_set(err, AIN_ENOMEM, "tts openai: no memory");
  }
  int attempts = o->max_attempts > 0 ? o->max_attempts : 3, rc = 0, tries = 0;
  for (int i = 1; i <= attempts; i++) {
    tries = i;
    int retry = 0;
    long wait = 0;
    ain_err_clear(err);
    rc = one_request(o, url, req, out_path, &retry, &wait, err);
    if (rc == 0 || !retry || i == attempts) {
      break;
    }
    long backoff = 250L << (i - 1); /* 250, 500, 1000 ... ms */
    sleep_ms(wait > 0 ? (wait > OAI_MAX_WAIT_MS ? OAI_MAX_WAIT_MS : wait) : backoff);
  }
  if (rc != 0 && tries > 1) {
    ain_err_prefix(err, "after %d attempts", tries);
  }
  cJSON_free(req);
  return rc;
}
