/* Pictures that carry meaning: a colour emoji rasterised to an RGBA PNG, cached by
 * sha256(emoji, size). ffmpeg's drawtext (FreeType without colour bitmaps) draws Noto Color
 * Emoji's CBDT glyphs as nothing, so pango-view (Debian pango1.0-tools: Pango + cairo, which paint
 * colour bitmap glyphs) draws them instead, with the font of fonts-noto-color-emoji.
 * Blocking (a child process waited for with a deadline): call it on the thread pool.
 * Relies on: posix_spawnp, OpenSSL SHA-256, core/util.h. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/sha.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "media/internal.h"

extern char **environ;

/* An emoji is a short grapheme cluster (ZWJ sequences run to ~35 bytes); no control bytes, so it
 * cannot be read as an option or markup by pango-view. */
static int emoji_valid(const char *e) {
  size_t n = e ? strlen(e) : 0;
  if (n == 0 || n > 64 || e[0] == '-') {
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)e[i];
    if (c < 0x20 || c == 0x7f || c == '<' || c == '&') {
      return 0;
    }
  }
  return ain_utf8_valid(e, n, NULL);
}

int ain_media_emoji_path(const char *emoji, int size_px, const char *cache_dir, char *out,
                         size_t cap, ain_err_t *err) {
  if (!emoji_valid(emoji)) {
    return ain_err_field(err, AIN_EINVAL, "emoji", "emoji: want 1..64 bytes of UTF-8 text");
  }
  if (size_px < 16 || size_px > 2048) {
    return ain_err_field(err, AIN_EINVAL, "size_px", "emoji: size %d px out of 16..2048",
                         size_px);
  }
  if (cache_dir == NULL || cache_dir[0] == '\0') {
    return ain_err_field(err, AIN_EINVAL, "cache_dir", "emoji: cache_dir is required");
  }
  char key[128];
  int kn = snprintf(key, sizeof key, "v1|noto-color-emoji|%s|%d", emoji, size_px);
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256((const unsigned char *)key, (size_t)kn, md);
  char hex[17];
  for (int i = 0; i < 8; i++) {
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
  }
  int n = snprintf(out, cap, "%s/emoji-%s-%d.png", cache_dir, hex, size_px);
  if (n < 0 || (size_t)n >= cap) {
    return ain_err_field(err, AIN_ETOOBIG, "cache_dir", "emoji: cache_dir too long");
  }
  return 0;
}

/* Waits for pid up to timeout_ms (10 ms polls: the child takes ~0.1 s); kills it past that. */
static int wait_child(pid_t pid, int64_t timeout_ms, int *status) {
  int64_t waited = 0;
  for (;;) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) {
      return 0;
    }
    if (r < 0 && errno != EINTR) {
      return -1;
    }
    if (waited >= timeout_ms) {
      kill(pid, SIGKILL);
      while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
      }
      return 1;
    }
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
    waited += 10;
  }
}

int ain_media_emoji_png_sync(const char *emoji, int size_px, const char *cache_dir, char *out,
                             size_t cap, ain_err_t *err) {
  int rc = ain_media_emoji_path(emoji, size_px, cache_dir, out, cap, err);
  if (rc != 0) {
    return rc;
  }
  struct stat st;
  if (stat(out, &st) == 0 && st.st_size > 0) {
    return 0; /* cached: the file appears whole (rename) or not at all */
  }
  char tmp[4200], font[64], text[80];
  if (ain__media_temp_path(out, ".png", tmp, sizeof tmp) != 0) {
    return ain_err_field(err, AIN_ETOOBIG, "cache_dir", "emoji: path too long");
  }
  /* pango-view sizes in points at 96 dpi: the glyph's box is about 1.33 x the point size. */
  snprintf(font, sizeof font, "--font=Noto Color Emoji %d", size_px * 3 / 4);
  snprintf(text, sizeof text, "--text=%s", emoji);
  char outarg[4300];
  snprintf(outarg, sizeof outarg, "--output=%s", tmp);
  char *argv[] = {"pango-view", "--no-display", "--background=transparent", "--margin=0",
                  font,         text,           outarg,                      NULL};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  /* pango-view converts its arguments from the locale's charset: under LANG unset (the C
   * locale, as on a fresh machine or in CI) the emoji's UTF-8 bytes are "an invalid byte
   * sequence" and it draws nothing. Its environment gets a UTF-8 locale of its own. */
  size_t nenv = 0;
  while (environ[nenv] != NULL) {
    nenv++;
  }
  char **envp = calloc(nenv + 2, sizeof *envp);
  if (envp == NULL) {
    posix_spawn_file_actions_destroy(&fa);
    return ain_err_set(err, AIN_ENOMEM, "emoji: out of memory");
  }
  size_t k = 0;
  for (size_t i = 0; i < nenv; i++) {
    if (strncmp(environ[i], "LC_ALL=", 7) != 0 && strncmp(environ[i], "LC_CTYPE=", 9) != 0) {
      envp[k++] = environ[i];
    }
  }
  envp[k++] = "LC_ALL=C.UTF-8";
  envp[k] = NULL;
  pid_t pid;
  int e = posix_spawnp(&pid, "pango-view", &fa, NULL, argv, envp);
  free(envp);
  posix_spawn_file_actions_destroy(&fa);
  if (e != 0) {
    return ain_err_field(err, AIN_ESPAWN, "emoji",
                         "emoji: starting pango-view: %s (Debian pango1.0-tools)", strerror(e));
  }
  int status = 0;
  int w = wait_child(pid, 20000, &status);
  if (w != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || stat(tmp, &st) != 0 ||
      st.st_size == 0) {
    unlink(tmp);
    return ain_err_field(err, AIN_EMEDIA, "emoji",
                         w == 1 ? "emoji: pango-view timed out"
                                : "emoji: pango-view failed (exit %d; is fonts-noto-color-emoji "
                                  "installed?)",
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  }
  if (rename(tmp, out) != 0) {
    int en = errno;
    unlink(tmp);
    return ain_err_set(err, AIN_EIO, "emoji: rename %s: %s", out, strerror(en));
  }
  return 0;
}
