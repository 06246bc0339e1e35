/* store/postgres/array.c: Postgres array literals for batch parameters. What the server makes of
 * them (the same bytes back) is checked end to end by test_store.c's
 * finish_batch_mixed_successes on Postgres. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "store/postgres/internal.h"

static void expect(ain__pg_array_t *a, const char *want) {
  char *got = ain__pg_array_take(a);
  ASSERT_NOT_NULL(got);
  ASSERT_STR_EQ(got, want);
  free(got);
  ASSERT_EQ(a->n, 0); /* take() leaves the builder empty and reusable */
}

TEST(text_elements_quoted_and_escaped) {
  ain__pg_array_t a = {0};
  ain__pg_array_text(&a, "plain");
  ain__pg_array_text(&a, "a\"b\\c");
  ain__pg_array_text(&a, "{x,y} NULL");
  ain__pg_array_text(&a, "\xc3\xbc\xe2\x9c\x93");
  expect(&a, "{\"plain\",\"a\\\"b\\\\c\",\"{x,y} NULL\",\"\xc3\xbc\xe2\x9c\x93\"}");
}

TEST(null_and_empty_text_are_null) {
  ain__pg_array_t a = {0};
  ain__pg_array_text(&a, NULL);
  ain__pg_array_text(&a, "");
  ain__pg_array_text(&a, "NULL"); /* the word itself stays a string */
  expect(&a, "{NULL,NULL,\"NULL\"}");
}

TEST(integers_and_empty_array) {
  ain__pg_array_t a = {0};
  expect(&a, "{}");
  ain__pg_array_i64(&a, 0);
  ain__pg_array_i64(&a, -42);
  ain__pg_array_i64(&a, INT64_MAX);
  expect(&a, "{0,-42,9223372036854775807}");
}

TEST(grows_past_its_first_buffer) {
  ain__pg_array_t a = {0};
  char big[5000];
  memset(big, '"', sizeof big - 1); /* every byte escaped: the worst case */
  big[sizeof big - 1] = '\0';
  for (int i = 0; i < 100; i++) {
    ain__pg_array_text(&a, big);
  }
  char *got = ain__pg_array_take(&a);
  ASSERT_NOT_NULL(got);
  ASSERT_EQ(strlen(got), 2 + 100 * (2 * 4999 + 2) + 99);
  free(got);
  ain__pg_array_text(&a, "left over");
  ain__pg_array_free(&a); /* dropping a builder frees it */
  ASSERT_NULL(a.s);
}

TEST_MAIN(TEST_ENTRY(text_elements_quoted_and_escaped), TEST_ENTRY(null_and_empty_text_are_null),
          TEST_ENTRY(integers_and_empty_array), TEST_ENTRY(grows_past_its_first_buffer))
