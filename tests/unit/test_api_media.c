/* The media routes' pure parts: the Range header parser and its resolution against a size (RFC
 * 9110 §14) with the nasty cases (overflow, "-0", spaces, "5-2", several ranges, other units,
 * garbage), and media tickets: a minted ticket verifies for its video, kind and subject only,
 * and is refused expired, forged, truncated or under another key; the key comes from the secret
 * api_media_key (too short: refused naming it) or is random per process.
 * (The routes themselves: tests/integration/api_videos.sh.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "config/config.h"
#include "harness.h"

static ain__api_range_kind_t parse(const char *h, ain__api_range_t *r) {
  return ain__api_range_parse(h, strlen(h), r);
}

/* Resolves h against size: the status, and start/len in *s, *l. */
static int resolve(const char *h, uint64_t size, uint64_t *s, uint64_t *l) {
  ain__api_range_t r;
  parse(h, &r);
  return ain__api_range_resolve(&r, size, s, l);
}

TEST(range_single) {
  uint64_t s, l;
  ASSERT_EQ(resolve("bytes=0-99", 1000, &s, &l), 206);
  ASSERT_EQ(s, 0);
  ASSERT_EQ(l, 100);
  ASSERT_EQ(resolve("bytes=990-", 1000, &s, &l), 206); /* open-ended */
  ASSERT_EQ(s, 990);
  ASSERT_EQ(l, 10);
  ASSERT_EQ(resolve("bytes=-100", 1000, &s, &l), 206); /* suffix */
  ASSERT_EQ(s, 900);
  ASSERT_EQ(l, 100);
  ASSERT_EQ(resolve("bytes=-5000", 1000, &s, &l), 206); /* suffix longer than the body: all */
  ASSERT_EQ(s, 0);
  ASSERT_EQ(l, 1000);
  ASSERT_EQ(resolve("bytes=500-5000", 1000, &s, &l), 206); /* last-pos past the end: clamped */
  ASSERT_EQ(s, 500);
  ASSERT_EQ(l, 500);
  ASSERT_EQ(resolve("bytes=999-999", 1000, &s, &l), 206);
  ASSERT_EQ(s, 999);
  ASSERT_EQ(l, 1);
  ASSERT_EQ(resolve("BYTES=1-2", 1000, &s, &l), 206);   /* the unit is case-insensitive */
  ASSERT_EQ(resolve("bytes= 1-2 ", 1000, &s, &l), 206); /* OWS around a list element */
  ASSERT_EQ(resolve("bytes=,1-2,", 1000, &s, &l), 206); /* empty list elements */
  ASSERT_EQ(l, 2);
}

TEST(range_unsatisfiable) {
  uint64_t s, l;
  ASSERT_EQ(resolve("bytes=1000-", 1000, &s, &l), 416); /* first-pos at the size */
  ASSERT_EQ(resolve("bytes=5000-6000", 1000, &s, &l), 416);
  ASSERT_EQ(resolve("bytes=-0", 1000, &s, &l), 416);  /* a zero suffix selects nothing */
  ASSERT_EQ(resolve("bytes=5-2", 1000, &s, &l), 416); /* last before first */
  ASSERT_EQ(resolve("bytes=0-0", 0, &s, &l), 416);    /* an empty body has no byte 0 */
  ASSERT_EQ(resolve("bytes=-10", 0, &s, &l), 416);
  /* Overflow saturates: a first-pos past 2^64 is past any size; a last-pos means "to the end";
   * a suffix means "all of it". */
  ASSERT_EQ(resolve("bytes=99999999999999999999999-", 1000, &s, &l), 416);
  ASSERT_EQ(resolve("bytes=18446744073709551615-", 1000, &s, &l), 416);
  ASSERT_EQ(resolve("bytes=10-99999999999999999999999", 1000, &s, &l), 206);
  ASSERT_EQ(s, 10);
  ASSERT_EQ(l, 990);
  ASSERT_EQ(resolve("bytes=-99999999999999999999999", 1000, &s, &l), 206);
  ASSERT_EQ(s, 0);
  ASSERT_EQ(l, 1000);
}

TEST(range_ignored_or_many) {
  ain__api_range_t r;
  uint64_t s, l;
  const char *ignored[] = {"",
                           "bytes",
                           "bytes=",
                           "bytes=-",
                           "bytes=a-b",
                           "bytes=1-2x",
                           "bytes=1 - 2",
                           "bytes=0-1;",
                           "items=0-1",
                           "bytes 0-1",
                           "bytes=--1",
                           "bytes=1--2",
                           "bytes=1-2 3",
                           "bytes= , ",
                           "bytes=+1-2",
                           "bytes=0x10-20"};
  for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) {
    if (parse(ignored[i], &r) != AIN__API_RANGE_IGNORE) {
      fprintf(stderr, "'%s' parsed as kind %d\n", ignored[i], (int)r.kind);
      abort();
    }
    ASSERT_EQ(resolve(ignored[i], 1000, &s, &l), 200);
    ASSERT_EQ(l, 1000);
  }
  ASSERT_EQ(ain__api_range_parse(NULL, 0, &r), AIN__API_RANGE_IGNORE);
  /* A header with a NUL inside stops being a range there ("0-1\0junk" is not "0-1"). */
  ASSERT_EQ(ain__api_range_parse("bytes=0-1\0x", 11, &r), AIN__API_RANGE_IGNORE);
  ASSERT_EQ(parse("bytes=0-1,5-6", &r), AIN__API_RANGE_MANY);
  ASSERT_EQ(parse("bytes=0-1, 5-6, -3", &r), AIN__API_RANGE_MANY);
  ASSERT_EQ(resolve("bytes=0-1,5-6", 1000, &s, &l), 200); /* several: the whole body */
  ASSERT_EQ(s, 0);
  ASSERT_EQ(l, 1000);
  ASSERT_EQ(parse("bytes=0-1,junk", &r), AIN__API_RANGE_IGNORE); /* one bad element spoils all */
}

static ain_api_t *api_with_key(const char *secret) {
  static ain_config_t cfg;
  memset(&cfg, 0, sizeof cfg);
  ain_api_t *api = calloc(1, sizeof *api);
  api->cfg = &cfg;
  if (secret != NULL) {
    setenv("AIN_SECRET_API_MEDIA_KEY", secret, 1);
  } else {
    unsetenv("AIN_SECRET_API_MEDIA_KEY");
  }
  ain_err_t err;
  ain_err_clear(&err);
  if (ain__api_ticket_init(api, &err) != 0) {
    free(api);
    return NULL;
  }
  return api;
}

TEST(tickets) {
  ain_api_t *api = api_with_key("0123456789abcdef0123456789abcdef-media");
  ASSERT_TRUE(api != NULL);
  char t[AIN__API_TICKET_MAX], sub[168], why[160];
  ASSERT_EQ(ain__api_ticket_mint(api, "vid-1", "media", "alice", 1000, 600, t, sizeof t), 0);
#define VERIFY(tk, vid, kind, now)                                                                 \
  ain__api_ticket_verify(api, tk, strlen(tk), vid, kind, now, sub, sizeof sub, why, sizeof why)
  ASSERT_EQ(VERIFY(t, "vid-1", "media", 1599), 0);
  ASSERT_STR_EQ(sub, "alice");
  ASSERT_EQ(VERIFY(t, "vid-1", "media", 1600), -1); /* expired at exp */
  ASSERT_TRUE(strstr(why, "expired") != NULL);
  ASSERT_EQ(VERIFY(t, "vid-2", "media", 1000), -1); /* another video */
  ASSERT_TRUE(strstr(why, "signature") != NULL);
  ASSERT_EQ(VERIFY(t, "vid-1", "thumbnail", 1000), -1); /* another kind */
  /* A later expiry or another subject under the same signature: forged. */
  char forged[AIN__API_TICKET_MAX];
  snprintf(forged, sizeof forged, "9%s", t);
  ASSERT_EQ(VERIFY(forged, "vid-1", "media", 1000), -1);
  ASSERT_TRUE(strstr(why, "signature") != NULL);
  snprintf(forged, sizeof forged, "%s", t);
  char *dot = strchr(forged, '.');
  dot[1] = dot[1] == 'Y' ? 'Z' : 'Y'; /* "alice" -> another name */
  ASSERT_EQ(VERIFY(forged, "vid-1", "media", 1000), -1);
  forged[strlen(forged) - 2] = '\0'; /* a truncated MAC */
  ASSERT_EQ(VERIFY(forged, "vid-1", "media", 1000), -1);
  const char *junk[] = {"", ".", "..", "1..", "x.YWxpY2U.AAAA", "1.*.AAAA", "123"};
  for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
    ASSERT_EQ(VERIFY(junk[i], "vid-1", "media", 1000), -1);
  }
  /* Another key (another node without the shared secret) refuses it. */
  ain_api_t *other = api_with_key(NULL);
  ASSERT_TRUE(other != NULL);
  ASSERT_EQ(other->media_key_len, 32);
  ASSERT_EQ(ain__api_ticket_verify(other, t, strlen(t), "vid-1", "media", 1000, sub, sizeof sub,
                                   why, sizeof why),
            -1);
  free(other);
  free(api);
#undef VERIFY
}

TEST(ticket_key_too_short) {
  static ain_config_t cfg;
  ain_api_t *api = calloc(1, sizeof *api);
  api->cfg = &cfg;
  setenv("AIN_SECRET_API_MEDIA_KEY", "short", 1);
  ain_err_t err;
  ain_err_clear(&err);
  ASSERT_EQ(ain__api_ticket_init(api, &err), AIN_ECONFIG);
  ASSERT_STR_EQ(err.field, "api_media_key");
  free(api);
}

TEST_MAIN(TEST_ENTRY(range_single), TEST_ENTRY(range_unsatisfiable),
          TEST_ENTRY(range_ignored_or_many), TEST_ENTRY(tickets), TEST_ENTRY(ticket_key_too_short))
