/* Small shared helpers: clocks, UUIDv7, UTF-8 validation, file reading, string duplication. */
#ifndef AIN_CORE_UTIL_H
#define AIN_CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define AIN_UUID_LEN 36 /* text form without NUL */

/* Wall clock in milliseconds since the epoch (what the store records). */
int64_t ain_now_ms(void);
/* Monotonic clock in nanoseconds (for measuring durations). */
uint64_t ain_mono_ns(void);
/* Writes a new UUIDv7 (time-ordered) as 36 chars + NUL into out[37]. Thread-safe. */
void ain_uuid7(char out[AIN_UUID_LEN + 1]);
/* 1 if s is a canonical lowercase-or-uppercase 8-4-4-4-12 UUID. */
int ain_uuid_valid(const char *s);
/* 1 if buf[0..len) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). On failure, *bad_at
 * (if not NULL) receives the byte offset of the first invalid sequence. */
int ain_utf8_valid(const char *buf, size_t len, size_t *bad_at);
/* Reads a whole file. Caller frees *out (NUL-terminated). Returns 0 or -errno. */
int ain_read_file(const char *path, char **out, size_t *len);
/* Writes data to path atomically (temp file + fsync + rename). Returns 0 or -errno. */
int ain_write_file_atomic(const char *path, const void *data, size_t len);
/* mkdir -p: creates path and its missing parents (mode 0755). Returns 0 or -errno. */
int ain_mkdir_p(const char *path);
/* Creates the folder that will hold the file at path (mkdir -p of its dirname). */
int ain_mkdir_parent(const char *file_path);
/* A growing, NUL-terminated byte buffer that refuses to pass max bytes: the body of an HTTP answer.
 * ain_capbuf_write has libcurl's write-callback signature (CURLOPT_WRITEFUNCTION with the buffer as
 * CURLOPT_WRITEDATA): past max it sets too_big and returns 0, which makes curl stop with
 * CURLE_WRITE_ERROR; out of memory also returns 0. Zero-initialise with max set; free p. */
typedef struct {
  char *p;
  size_t n, cap, max;
  int too_big;
} ain_capbuf_t;
size_t ain_capbuf_write(char *data, size_t size, size_t nmemb, void *buf);

/* strdup that aborts on OOM; NULL in, NULL out. */
char *ain_strdup(const char *s);
/* Random 64-bit value from the OS (getrandom), used for jitter and ids. */
uint64_t ain_random_u64(void);

/* Writes v in decimal into buf (>= 21 bytes) and returns its length. No printf: on the API's
 * read path a number printed through vfprintf cost more than the store read. */
int ain_fmt_int64(char *buf, long long v);

/* A growing NUL-terminated string: zero-initialise, append, free(b.s). */
typedef struct {
  char *s;
  size_t n, cap;
} ain_strbuf_t;

/* Appends s[0..n) (s need not be NUL-terminated). 0, or -1 out of memory (b unchanged). */
int ain_strbuf_put(ain_strbuf_t *b, const char *s, size_t n);
/* Adds v to obj under name as an exact integer (raw JSON text, not cJSON's "%1.15g" double). */
struct cJSON;
void ain_json_add_int(struct cJSON *obj, const char *name, long long v);

/* base64url without padding (RFC 4648 §5, as JWTs use it) into out (cap bytes): its length, or
 * -1 for a character outside the alphabet or an out too small. */
long ain_b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap);

#endif
