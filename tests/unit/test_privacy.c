/* privacy/: the PII detector on a table of positives and negatives, the keyed token (stable,
 * key-dependent, never the value), redaction without a key, the JSON walk (values, keys, user-id
 * fields, idempotence), JSON Lines, and the key's resolution through core/secret.h. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/secret.h"
#include "core/util.h"
#include "harness.h"
#include "privacy/privacy.h"

typedef struct {
  const char *text;
  int kind;          /* ain_pii_kind_t, or -1: nothing may be found */
  const char *found; /* the bytes that must be matched (kind >= 0) */
  const char *norm;  /* the normalised value, NULL = do not check */
} pii_case_t;

static const pii_case_t cases[] = {
    /* e-mail: plain and obfuscated */
    {"write to ava.smith@example.com today", AIN_PII_EMAIL, "ava.smith@example.com",
     "ava.smith@example.com"},
    {"Mail: Tina+News@Mail.Example.CO.UK.", AIN_PII_EMAIL, "Tina+News@Mail.Example.CO.UK",
     "tina+news@mail.example.co.uk"},
    {"reach coach dot ava at gmail dot com now", AIN_PII_EMAIL, "coach dot ava at gmail dot com",
     "coach.ava@gmail.com"},
    {"name [at] domain [dot] com", AIN_PII_EMAIL, "name [at] domain [dot] com", "name@domain.com"},
    {"bob(at)example(dot)org", AIN_PII_EMAIL, "bob(at)example(dot)org", "bob@example.org"},
    {"ava AT gmail DOT com", AIN_PII_EMAIL, "ava AT gmail DOT com", "ava@gmail.com"},
    {"x {at} y.io", AIN_PII_EMAIL, "x {at} y.io", "x@y.io"},
    {"ava @ gmail.com", AIN_PII_EMAIL, "ava @ gmail.com", "ava@gmail.com"},
    /* phone numbers */
    {"call +1 415 555 0132 today", AIN_PII_PHONE, "+1 415 555 0132", "+14155550132"},
    {"call +44 (0)20 7946 0958", AIN_PII_PHONE, "+44 (0)20 7946 0958", "+4402079460958"},
    {"(415) 555-0132", AIN_PII_PHONE, "(415) 555-0132", "4155550132"},
    {"ring 415-555-0132.", AIN_PII_PHONE, "415-555-0132", "4155550132"},
    {"ring 415.555.0132", AIN_PII_PHONE, "415.555.0132", NULL},
    {"tel 020 7946 0958", AIN_PII_PHONE, "020 7946 0958", "02079460958"},
    {"tel 030-1234567", AIN_PII_PHONE, "030-1234567", NULL},
    {"mobile 07911123456", AIN_PII_PHONE, "07911123456", NULL},
    {"0044 20 7946 0958", AIN_PII_PHONE, "0044 20 7946 0958", "+442079460958"},
    {"+4915112345678", AIN_PII_PHONE, "+4915112345678", NULL},
    {"1-800-555-0199", AIN_PII_PHONE, "1-800-555-0199", NULL},
    {"dial 555-0132 now", AIN_PII_PHONE, "555-0132", NULL},
    {"06 12 34 56 78", AIN_PII_PHONE, "06 12 34 56 78", NULL},
    /* cards, IBAN, IPv4, SSN */
    {"card 4111 1111 1111 1111 exp", AIN_PII_CARD, "4111 1111 1111 1111", "4111111111111111"},
    {"card 5500-0000-0000-0004", AIN_PII_CARD, "5500-0000-0000-0004", NULL},
    {"card 378282246310005", AIN_PII_CARD, "378282246310005", NULL},
    {"IBAN DE89 3704 0044 0532 0130 00 please", AIN_PII_IBAN, "DE89 3704 0044 0532 0130 00",
     "DE89370400440532013000"},
    {"GB82WEST12345698765432", AIN_PII_IBAN, "GB82WEST12345698765432", NULL},
    {"server 192.168.1.20 down", AIN_PII_IP, "192.168.1.20", "192.168.1.20"},
    {"from 8.8.8.8:53", AIN_PII_IP, "8.8.8.8", NULL},
    {"ssn 123-45-6789", AIN_PII_SSN, "123-45-6789", "123456789"},
    /* not PII */
    {"in 2025 and 1999", -1, NULL, NULL},
    {"from 1990-2020 it grew", -1, NULL, NULL},
    {"on 2025-06-02 at 08:15", -1, NULL, NULL},
    {"on 02.06.2025 or 6/2/2025", -1, NULL, NULL},
    {"costs $1,299.99 or 1299.00 EUR or \xe2\x82\xac 1.299.000", -1, NULL, NULL},
    {"final score 12-3-30 after 3-1", -1, NULL, NULL},
    {"version 1.2.3 and v2.0.1 and version 1.2.3.4 and 10.0.19041.1", -1, NULL, NULL},
    {"about 30 percent faster, 3.14159265 and 100 200 3000", -1, NULL, NULL},
    {"the years 2019 2020 2021 2022", -1, NULL, NULL},
    {"look at example.com and at the dot com era", -1, NULL, NULL},
    {"follow @ava_codes and ava@localhost", -1, NULL, NULL},
    {"card-like 4111 1111 1111 1112 fails Luhn", -1, NULL, NULL},
    {"all ones 1111111111111111", -1, NULL, NULL},
    {"not an ip 256.1.1.1 nor 1.2.3", -1, NULL, NULL},
    {"ssn-like 000-12-3456 and 666-12-3456 and 123-00-4567", -1, NULL, NULL},
    {"GB83WEST12345698765432 bad check digits", -1, NULL, NULL},
    {"timestamp 1717315200 and id 12345678", -1, NULL, NULL},
    {"ISBN 978-0132350884", -1, NULL, NULL},
};

TEST(detector_table) {
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const pii_case_t *c = &cases[i];
    ain_pii_match_t m;
    int got = ain_pii_next(c->text, strlen(c->text), 0, &m);
    if (c->kind < 0) {
      if (got) {
        fprintf(stderr, "case %zu '%s': found %s '%.*s', want nothing\n", i, c->text,
                ain_pii_kind_name(m.kind), (int)m.len, c->text + m.start);
      }
      ASSERT_EQ(got, 0);
      continue;
    }
    if (!got || (int)m.kind != c->kind || m.len != strlen(c->found) ||
        memcmp(c->text + m.start, c->found, m.len) != 0) {
      fprintf(stderr, "case %zu '%s': want %s '%s', got %s\n", i, c->text,
              ain_pii_kind_name((ain_pii_kind_t)c->kind), c->found,
              got ? ain_pii_kind_name(m.kind) : "nothing");
      if (got) {
        fprintf(stderr, "  matched '%.*s'\n", (int)m.len, c->text + m.start);
      }
    }
    ASSERT_EQ(got, 1);
    ASSERT_EQ((int)m.kind, c->kind);
    ASSERT_EQ(m.len, strlen(c->found));
    ASSERT_TRUE(memcmp(c->text + m.start, c->found, m.len) == 0);
    if (c->norm != NULL) {
      ASSERT_STR_EQ(m.norm, c->norm);
    }
  }
}

TEST(tokens_keyed_and_stable) {
  ain_privacy_t *a = NULL, *b = NULL;
  ain_err_t err;
  ASSERT_OK(ain_privacy_open_key("k1", 2, &a, &err));
  ASSERT_OK(ain_privacy_open_key("k2", 2, &b, &err));
  ASSERT_TRUE(ain_privacy_keyed(a));
  const char *t = "Mail Ava@Example.com or ava@example.com, call +1 415 555 0132";
  ain_privacy_stats_t st = {0};
  char *x = ain_privacy_scrub_text(a, t, strlen(t), &st, NULL);
  char *y = ain_privacy_scrub_text(b, t, strlen(t), NULL, NULL);
  ASSERT_NOT_NULL(x);
  ASSERT_NOT_NULL(y);
  ASSERT_EQ(st.total, 3);
  ASSERT_EQ(st.found[AIN_PII_EMAIL], 2);
  ASSERT_EQ(st.found[AIN_PII_PHONE], 1);
  ASSERT_TRUE(strstr(x, "xample") == NULL && strstr(x, "555") == NULL);
  /* the same address (case folded) gives the same token; another key another token */
  char *first = strstr(x, "<pii:email:");
  ASSERT_NOT_NULL(first);
  ASSERT_TRUE(strncmp(first, strstr(first + 1, "<pii:email:"), 20) == 0);
  ASSERT_TRUE(strcmp(x, y) != 0);
  ASSERT_EQ(strlen("<pii:email:12345678>"), strcspn(first, " ") - 0);
  /* scrubbing a scrubbed text finds nothing */
  ASSERT_NULL(ain_privacy_scrub_text(a, x, strlen(x), NULL, NULL));
  free(x);
  free(y);
  ain_privacy_free(a);
  ain_privacy_free(b);
}

TEST(no_key_redacts) {
  const char *t = "ssn 123-45-6789 and 4111111111111111";
  char *x = ain_privacy_scrub_text(NULL, t, strlen(t), NULL, NULL);
  ASSERT_STR_EQ(x, "ssn <pii:ssn> and <pii:card>");
  free(x);
  ASSERT_NULL(ain_privacy_scrub_text(NULL, "nothing here", 12, NULL, NULL));
}

TEST(json_walk) {
  ain_privacy_t *p = NULL;
  ain_err_t err;
  ASSERT_OK(ain_privacy_open_key("key", 3, &p, &err));
  char *doc =
      strdup("{\"title\":\"Email ava@example.com\",\"author\":\"Ava Smith\","
             "\"user_id\":1234567,\"channel_user_id\":\"UC42\",\"score\":88,"
             "\"tags\":[\"x\",\"call 415-555-0132\"],\"nested\":{\"user\":{\"id\":7,"
             "\"name\":\"bob\"}},\"bob@example.com\":true,\"ts\":\"2025-06-02T08:15:00Z\"}");
  ain_privacy_stats_t st = {0};
  ASSERT_OK(ain_privacy_scrub_json(p, &doc, &st, &err));
  ASSERT_TRUE(strstr(doc, "ava@") == NULL && strstr(doc, "Ava Smith") == NULL &&
              strstr(doc, "1234567") == NULL && strstr(doc, "UC42") == NULL &&
              strstr(doc, "555-0132") == NULL && strstr(doc, "bob") == NULL);
  ASSERT_STR_CONTAINS(doc, "\"score\":88");
  ASSERT_STR_CONTAINS(doc, "\"ts\":\"2025-06-02T08:15:00Z\"");
  ASSERT_STR_CONTAINS(doc, "\"author\":\"<pii:uid:");
  ASSERT_STR_CONTAINS(doc, "\"user_id\":\"<pii:uid:");
  ASSERT_EQ(st.found[AIN_PII_UID], 5); /* author, user_id, channel_user_id, user.id, user.name */
  ASSERT_EQ(st.found[AIN_PII_EMAIL], 2);
  ASSERT_EQ(st.found[AIN_PII_PHONE], 1);
  /* idempotent: a second pass changes nothing */
  char *again = strdup(doc);
  ASSERT_OK(ain_privacy_scrub_json(p, &again, NULL, &err));
  ASSERT_STR_EQ(again, doc);
  free(again);
  free(doc);
  /* not JSON: scrubbed as text */
  char *txt = strdup("{broken ava@example.com");
  ASSERT_OK(ain_privacy_scrub_json(NULL, &txt, NULL, &err));
  ASSERT_STR_EQ(txt, "{broken <pii:email>");
  free(txt);
  ain_privacy_free(p);
}

TEST(json_lines_keep_lines) {
  const char *src = "{\"id\":\"a\",\"title\":\"no pii\",  \"score\": 1}\n"
                    "{\"id\":\"b\",\"title\":\"mail ava@example.com\"}\n"
                    "{\"id\":\"c\", broken 415-555-0132\n"
                    "\n"
                    "last line without newline 8.8.8.8";
  char *text = strdup(src);
  size_t len = strlen(text);
  ain_err_t err;
  ASSERT_OK(ain_privacy_scrub_lines(NULL, &text, &len, NULL, &err));
  ASSERT_EQ(len, strlen(text));
  /* unchanged lines kept byte for byte, line count kept */
  const char *first = "{\"id\":\"a\",\"title\":\"no pii\",  \"score\": 1}\n";
  ASSERT_TRUE(strncmp(text, first, strlen(first)) == 0);
  ASSERT_STR_CONTAINS(text, "{\"id\":\"b\",\"title\":\"mail <pii:email>\"}\n");
  ASSERT_STR_CONTAINS(text, "{\"id\":\"c\", broken <pii:phone>\n\n");
  ASSERT_STR_CONTAINS(text, "last line without newline <pii:ip>");
  int lines = 0;
  for (char *c = text; *c; c++) {
    lines += *c == '\n';
  }
  ASSERT_EQ(lines, 4);
  free(text);
  /* nothing to do: the same buffer */
  char *clean = strdup("{\"a\":1}\n{\"b\":2}\n");
  char *before = clean;
  len = strlen(clean);
  ASSERT_OK(ain_privacy_scrub_lines(NULL, &clean, &len, NULL, &err));
  ASSERT_TRUE(clean == before);
  free(clean);
}

TEST(key_from_secrets) {
  ain_privacy_t *p = NULL;
  ain_err_t err;
  ain_err_clear(&err);
  unsetenv("AIN_SECRET_PII_KEY");
  char dir[1024], path[1100];
  snprintf(dir, sizeof dir, "%s", ain_test_tmpdir());
  /* none configured: a handle that redacts */
  ASSERT_OK(ain_privacy_open(dir, &p, &err));
  ASSERT_EQ(ain_privacy_keyed(p), 0);
  ain_privacy_free(p);
  /* a file readable by others is refused, naming the secret */
  snprintf(path, sizeof path, "%s/pii_key", dir);
  FILE *f = fopen(path, "w");
  ASSERT_NOT_NULL(f);
  fputs("file-key\n", f);
  fclose(f);
  chmod(path, 0644);
  ASSERT_EQ(ain_privacy_open(dir, &p, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "pii_key");
  ASSERT_STR_CONTAINS(err.msg, "chmod 600");
  chmod(path, 0600);
  ASSERT_OK(ain_privacy_open(dir, &p, &err));
  ASSERT_EQ(ain_privacy_keyed(p), 1);
  char *a = ain_privacy_scrub_text(p, "1.2.3.4 x", 9, NULL, NULL);
  ain_privacy_free(p);
  /* the environment wins over the file, and gives another token */
  setenv("AIN_SECRET_PII_KEY", "env-key", 1);
  ASSERT_OK(ain_privacy_open(dir, &p, &err));
  char *b = ain_privacy_scrub_text(p, "1.2.3.4 x", 9, NULL, NULL);
  ASSERT_TRUE(strcmp(a, b) != 0);
  ain_privacy_free(p);
  /* an empty key is an error */
  setenv("AIN_SECRET_PII_KEY", "", 1);
  ASSERT_EQ(ain_privacy_open(dir, &p, &err), AIN_ECONFIG);
  ASSERT_STR_CONTAINS(err.msg, "empty");
  unsetenv("AIN_SECRET_PII_KEY");
  free(a);
  free(b);
}

TEST(hostile_input_is_linear) {
  /* long runs that almost look like addresses or numbers must not go quadratic */
  size_t n = 512u << 10;
  char *s = malloc(n + 1);
  for (size_t i = 0; i < n; i++) {
    s[i] = "a.1-"[i % 4];
  }
  s[n] = '\0';
  int64_t t0 = ain_now_ms();
  char *x = ain_privacy_scrub_text(NULL, s, n, NULL, NULL);
  free(x);
  /* ~0.05 s here, ~2.5 s under ASan: a quadratic scan would take hours */
  ASSERT_LE(ain_now_ms() - t0, 20000);
  free(s);
}

TEST_MAIN(TEST_ENTRY(detector_table), TEST_ENTRY(tokens_keyed_and_stable),
          TEST_ENTRY(no_key_redacts), TEST_ENTRY(json_walk), TEST_ENTRY(json_lines_keep_lines),
          TEST_ENTRY(key_from_secrets), TEST_ENTRY(hostile_input_is_linear))
