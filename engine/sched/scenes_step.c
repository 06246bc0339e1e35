/* The render's scenes (see scenes_step.h): the visuals policy decides, this file fetches. Each
 * scene of deps.visuals.scenes names its visual: {kind = "motion", colours, seed, emoji},
 * {kind = "image"|"clip", source = "library", path} or {kind = "image"|"clip", source =
 * "pexels"|"pixabay", url, page_url, author, licence}. Emoji become PNGs in the cache
 * (media/picture.c); library files must resolve inside media.library (the policy cannot make the
 * render read anything else); stock files are downloaded once per URL into the cache
 * (stock-<sha256(url)>), bounded by stock.max_bytes, then put into the object store (content-
 * addressed: its key is the sha256 recorded in the credits with the licence and attribution).
 * Blocking: runs on the thread pool inside the render step's prepare stage.
 * Relies on: media/media.h, objstore/objstore.h, libcurl easy, cJSON. */
#include "sched/scenes_step.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

static const char *jstr(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *k, double def) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : def;
}

void ain__scenes_free(ain__scenes_t *s) {
  if (s == NULL) {
    return;
  }
  free(s->scenes);
  free(s->paths);
  free(s->pictures);
  cJSON_Delete(s->credits);
  memset(s, 0, sizeof *s);
}

/* The library file must resolve (symlinks followed) to a path inside media.library. */
static int library_file(const ain_config_t *cfg, const char *path, const char *field, char *out,
                        size_t cap, ain_err_t *err) {
  const char *lib = cfg->media.library;
  if (lib == NULL || lib[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, field,
                         "%s: a library file, but media.library is not configured", field);
  }
  char root[PATH_MAX], real[PATH_MAX];
  if (realpath(lib, root) == NULL) {
    return ain_err_field(err, AIN_ENOTFOUND, "media.library", "media.library %s: %s", lib,
                         strerror(errno));
  }
  if (realpath(path, real) == NULL) {
    return ain_err_field(err, AIN_ENOTFOUND, field, "%s: %s: %s", field, path, strerror(errno));
  }
  size_t rn = strlen(root);
  if (strncmp(real, root, rn) != 0 || real[rn] != '/') {
    return ain_err_field(err, AIN_EINVAL, field, "%s: %s is outside media.library (%s)", field,
                         path, root);
  }
  snprintf(out, cap, "%s", real);
  return 0;
}

typedef struct {
  FILE *f;
  int64_t n, max;
} dl_t;

static size_t dl_write(char *data, size_t size, size_t nmemb, void *p) {
  dl_t *d = p;
  size_t len = size * nmemb;
  if (d->n + (int64_t)len > d->max) {
    return 0; /* curl fails the transfer: CURLE_WRITE_ERROR */
  }
  d->n += (int64_t)len;
  return fwrite(data, 1, len, d->f);
}

/* GET url into path (temp + rename), unless the cache has it. */
static int download(const char *url, const char *path, int64_t max_bytes, int64_t timeout_ms,
                    const char *field, ain_err_t *err) {
  struct stat st;
  if (stat(path, &st) == 0 && st.st_size > 0) {
    return 0;
  }
  if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
    return ain_err_field(err, AIN_EINVAL, field, "%s: only http(s) URLs are fetched", field);
  }
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.part-%d", path, (int)getpid());
  dl_t d = {.f = fopen(tmp, "wb"), .max = max_bytes};
  if (d.f == NULL) {
    return ain_err_set(err, AIN_EIO, "%s: %s: %s", field, tmp, strerror(errno));
  }
  CURL *c = curl_easy_init();
  if (c == NULL) {
    fclose(d.f);
    unlink(tmp);
    return ain_err_set(err, AIN_ENOMEM, "%s: curl_easy_init failed", field);
  }
  char ebuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, dl_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &d);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  /* CDNs redirect to a regional host; a handful of hops, http(s) only. */
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "ain/" AIN_VERSION);
  CURLcode cc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  int closed = fclose(d.f);
  int rc = 0;
  /* The URL's query may carry a token: errors name the field, not the URL. */
  if (cc != CURLE_OK) {
    rc = ain_err_field(err, cc == CURLE_OPERATION_TIMEDOUT ? AIN_ETIMEOUT : AIN_EHTTP, field,
                       "%s: download failed: %s", field,
                       d.n >= max_bytes ? "larger than stock.max_bytes"
                                        : (ebuf[0] ? ebuf : curl_easy_strerror(cc)));
  } else if (status != 200) {
    rc = ain_err_field(err, AIN_EHTTP, field, "%s: download answered HTTP %ld", field, status);
  } else if (d.n == 0 || closed != 0) {
    rc = ain_err_field(err, AIN_EHTTP, field, "%s: download was empty", field);
  } else if (rename(tmp, path) != 0) {
    rc = ain_err_set(err, AIN_EIO, "%s: rename %s: %s", field, path, strerror(errno));
  }
  if (rc != 0) {
    unlink(tmp);
  }
  return rc;
}

static int stock_file(const ain_config_t *cfg, const cJSON *v, const char *cache_dir,
                      ain_objstore_t *os, const char *field, char *out, size_t cap,
                      cJSON *credit, ain_err_t *err) {
  const char *url = jstr(v, "url");
  if (url == NULL || strlen(url) > 4000) {
    return ain_err_field(err, AIN_EINVAL, field, "%s.url: a stock visual needs its file's URL",
                         field);
  }
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)url, strlen(url), md);
  char uh[65], cached[4200];
  for (int k = 0; k < SHA256_DIGEST_LENGTH; k++) {
    snprintf(uh + 2 * k, 3, "%02x", md[k]);
  }
  int clip = strcmp(jstr(v, "kind"), "clip") == 0;
  snprintf(cached, sizeof cached, "%s/stock-%.32s.%s", cache_dir, uh, clip ? "mp4" : "jpg");
  int rc = download(url, cached, cfg->stock.max_bytes, cfg->stock.timeout_ms, field, err);
  if (rc != 0) {
    return rc;
  }
  char key[AIN_OBJSTORE_KEY_MAX + 1];
  if ((rc = ain_objstore_put_file(os, cached, clip ? "mp4" : "jpg", key, sizeof key, err)) != 0 ||
      (rc = ain_objstore_get_path(os, key, out, cap, err)) != 0) {
    return rc;
  }
  /* Content-addressed: the key is the file's sha256 (the object store names objects by it). */
  cJSON_AddStringToObject(credit, "key", key);
  return 0;
}

static int parse_colours(const cJSON *v, uint32_t rgb[3], const char *field, ain_err_t *err) {
  static const uint32_t dflt[3] = {0x1d2b64, 0xf8cdda, 0x5b86e5};
  const cJSON *cs = cJSON_GetObjectItemCaseSensitive(v, "colours");
  for (int k = 0; k < 3; k++) {
    const cJSON *c = cJSON_GetArrayItem(cs, k);
    rgb[k] = dflt[k];
    if (c == NULL) {
      continue;
    }
    if (!cJSON_IsString(c) || ain_media_colour_parse(c->valuestring, &rgb[k], err) != 0) {
      return ain_err_field(err, AIN_EINVAL, field, "%s.colours[%d] must be \"#rrggbb\"", field,
                           k + 1);
    }
  }
  return 0;
}

int ain__scenes_materialise(const ain_config_t *cfg, const cJSON *visuals, const char *cache_dir,
                            ain_objstore_t *os, int size_px, ain__scenes_t *out, ain_err_t *err) {
  memset(out, 0, sizeof *out);
  const cJSON *arr = cJSON_GetObjectItemCaseSensitive(visuals, "scenes");
  int n = cJSON_GetArraySize(arr);
  if (!cJSON_IsArray(arr) || n == 0) {
    return ain_err_field(err, AIN_EINVAL, "deps.visuals.scenes",
                         "deps.visuals.scenes must be a non-empty array (the visuals step)");
  }
  out->scenes = calloc((size_t)n, sizeof *out->scenes);
  out->paths = calloc((size_t)n, sizeof *out->paths);
  out->pictures = calloc((size_t)n, sizeof *out->pictures);
  out->credits = cJSON_CreateArray();
  if (out->scenes == NULL || out->paths == NULL || out->pictures == NULL) {
    abort();
  }
  out->n = (size_t)n;
  int rc = 0;
  for (int i = 0; i < n && rc == 0; i++) {
    const cJSON *sc = cJSON_GetArrayItem(arr, i);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(sc, "visual");
    char field[64];
    snprintf(field, sizeof field, "deps.visuals.scenes[%d].visual", i);
    ain_media_scene_t *s = &out->scenes[i];
    s->start_ms = (int64_t)jnum(sc, "start_ms", -1);
    s->end_ms = (int64_t)jnum(sc, "end_ms", -1);
    s->seed = (unsigned)jnum(v, "seed", (double)i);
    const char *kind = jstr(v, "kind");
    const char *source = jstr(v, "source");
    if (!cJSON_IsObject(v) || kind == NULL) {
      rc = ain_err_field(err, AIN_EINVAL, field, "%s.kind must be \"motion\", \"image\" or \"clip\"",
                         field);
      break;
    }
    if (strcmp(kind, "motion") == 0) {
      s->kind = AIN_MEDIA_SCENE_MOTION;
      rc = parse_colours(v, s->colours, field, err);
    } else if (strcmp(kind, "image") == 0 || strcmp(kind, "clip") == 0) {
      s->kind = kind[0] == 'i' ? AIN_MEDIA_SCENE_IMAGE : AIN_MEDIA_SCENE_CLIP;
      cJSON *credit = cJSON_CreateObject();
      cJSON_AddNumberToObject(credit, "scene", i);
      cJSON_AddStringToObject(credit, "source", source ? source : "?");
      if (source != NULL && strcmp(source, "library") == 0) {
        const char *p = jstr(v, "path");
        rc = p == NULL ? ain_err_field(err, AIN_EINVAL, field, "%s.path is required", field)
                       : library_file(cfg, p, field, out->paths[i], sizeof out->paths[i], err);
        if (p != NULL) {
          cJSON_AddStringToObject(credit, "path", p);
        }
      } else if (source != NULL && (strcmp(source, "pexels") == 0 || strcmp(source, "pixabay") == 0)) {
        rc = stock_file(cfg, v, cache_dir, os, field, out->paths[i], sizeof out->paths[i], credit,
                        err);
        const char *keep[] = {"url", "page_url", "author", "licence"};
        for (size_t k = 0; k < sizeof keep / sizeof keep[0]; k++) {
          if (jstr(v, keep[k]) != NULL) {
            cJSON_AddStringToObject(credit, keep[k], jstr(v, keep[k]));
          }
        }
      } else {
        rc = ain_err_field(err, AIN_EINVAL, field,
                           "%s.source must be \"library\", \"pexels\" or \"pixabay\"", field);
      }
      const char *lic = jstr(v, "licence");
      if (lic == NULL && source != NULL && strcmp(source, "library") == 0) {
        cJSON_AddStringToObject(credit, "licence", "own (media library)");
      } else if (lic != NULL && cJSON_GetObjectItemCaseSensitive(credit, "licence") == NULL) {
        cJSON_AddStringToObject(credit, "licence", lic);
      }
      cJSON_AddItemToArray(out->credits, credit);
      s->path = out->paths[i];
    } else {
      rc = ain_err_field(err, AIN_EINVAL, field, "%s.kind \"%.20s\": want motion, image or clip",
                         field, kind);
    }
    const char *emoji = jstr(v, "emoji");
    if (rc == 0 && emoji != NULL && emoji[0] != '\0') {
      rc = ain_media_emoji_png_sync(emoji, size_px, cache_dir, out->pictures[i],
                                    sizeof out->pictures[i], err);
      s->picture = rc == 0 ? out->pictures[i] : NULL;
      if (rc != 0) {
        ain_err_prefix(err, "%s", field);
      }
    }
  }
  if (rc != 0) {
    ain__scenes_free(out);
  }
  return rc;
}

/* ---- the media library's index ------------------------------------------------------------------ */

static const char *media_kind(const char *name) {
  const char *dot = strrchr(name, '.');
  if (dot == NULL) {
    return NULL;
  }
  static const char *const img[] = {".jpg", ".jpeg", ".png", ".webp"};
  static const char *const clip[] = {".mp4", ".mov", ".webm", ".mkv"};
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(dot, img[i]) == 0) {
      return "image";
    }
    if (strcasecmp(dot, clip[i]) == 0) {
      return "clip";
    }
  }
  return NULL;
}

/* The sidecar <file>.json: {"tags": ["beach", ...], "licence": "...", "attribution": "..."}. A
 * file without one is tagged with the words of its name ("sunny-beach.jpg" -> sunny, beach). */
static cJSON *library_entry(const char *dir, const char *name, const char *kind) {
  char path[PATH_MAX], side[PATH_MAX + 8];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  snprintf(side, sizeof side, "%s.json", path);
  cJSON *e = cJSON_CreateObject();
  cJSON_AddStringToObject(e, "path", path);
  cJSON_AddStringToObject(e, "kind", kind);
  cJSON *tags = cJSON_AddArrayToObject(e, "tags");
  char *text = NULL;
  size_t len = 0;
  if (ain_read_file(side, &text, &len) == 0 && len <= 65536) {
    cJSON *j = cJSON_Parse(text);
    cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "tags");
    cJSON *it;
    cJSON_ArrayForEach(it, t) {
      if (cJSON_IsString(it) && strlen(it->valuestring) <= 64 && cJSON_GetArraySize(tags) < 64) {
        cJSON_AddItemToArray(tags, cJSON_CreateString(it->valuestring));
      }
    }
    const char *keep[] = {"licence", "attribution", "title"};
    for (size_t k = 0; k < 3; k++) {
      const char *v = jstr(j, keep[k]);
      if (v != NULL && strlen(v) <= 512) {
        cJSON_AddStringToObject(e, keep[k], v);
      }
    }
    if (j == NULL) {
      cJSON_AddStringToObject(e, "sidecar_error", "not JSON");
    }
    cJSON_Delete(j);
  }
  free(text);
  if (cJSON_GetArraySize(tags) == 0) {
    char word[PATH_MAX];
    snprintf(word, sizeof word, "%s", name);
    char *dot = strrchr(word, '.');
    if (dot != NULL) {
      *dot = '\0';
    }
    char *save = NULL;
    for (char *w = strtok_r(word, "-_. ", &save); w != NULL; w = strtok_r(NULL, "-_. ", &save)) {
      cJSON_AddItemToArray(tags, cJSON_CreateString(w));
    }
  }
  return e;
}

int ain__library_scan(const char *dir, cJSON **out, ain_err_t *err) {
  *out = cJSON_CreateArray();
  if (dir == NULL || dir[0] == '\0') {
    return 0;
  }
  DIR *d = opendir(dir);
  if (d == NULL) {
    cJSON_Delete(*out);
    *out = NULL;
    return ain_err_field(err, AIN_ENOTFOUND, "media.library", "media.library %s: %s", dir,
                         strerror(errno));
  }
  struct dirent *de;
  int n = 0;
  /* Bounded: the index travels in the step's result (and the visuals policy's ctx). */
  while ((de = readdir(d)) != NULL && n < 2000) {
    const char *kind = de->d_name[0] == '.' ? NULL : media_kind(de->d_name);
    if (kind != NULL) {
      cJSON_AddItemToArray(*out, library_entry(dir, de->d_name, kind));
      n++;
    }
  }
  closedir(d);
  return 0;
}
