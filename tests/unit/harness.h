/* A small C test harness in the libuv manner: typed assertions that print both sides, every test
 * forked into its own process with a timeout, results in TAP. Used by tests/unit/test_*.c. */
#ifndef AIN_TEST_HARNESS_H
#define AIN_TEST_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *name;
  void (*fn)(void);
} ain_test_t;

int ain_test_run(const ain_test_t *tests, int argc, char **argv);
/* A fresh directory under $TMPDIR for this test process; removed when the test passes. */
const char *ain_test_tmpdir(void);
/* Path of a file in the source tree (tests/fixtures/x.json -> absolute). Static buffer per call. */
const char *ain_test_src(const char *rel);

#define TEST(name) static void test_##name(void)
#define TEST_ENTRY(name) {#name, test_##name}
#define TEST_MAIN(...)                                                                             \
  int main(int argc, char **argv) {                                                                \
    static const ain_test_t tests_[] = {__VA_ARGS__, {NULL, NULL}};                                \
    return ain_test_run(tests_, argc, argv);                                                       \
  }

#define AIN__FAIL(...)                                                                             \
  do {                                                                                             \
    fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                                \
    fprintf(stderr, __VA_ARGS__);                                                                  \
    fputc('\n', stderr);                                                                           \
    abort();                                                                                       \
  } while (0)

#define ASSERT_EQ(a, b)                                                                            \
  do {                                                                                             \
    long long a_ = (long long)(a), b_ = (long long)(b);                                            \
    if (a_ != b_)                                                                                  \
      AIN__FAIL("ASSERT_EQ(%s, %s) failed: %lld != %lld", #a, #b, a_, b_);                         \
  } while (0)
#define ASSERT_NE(a, b)                                                                            \
  do {                                                                                             \
    long long a_ = (long long)(a), b_ = (long long)(b);                                            \
    if (a_ == b_)                                                                                  \
      AIN__FAIL("ASSERT_NE(%s, %s) failed: both %lld", #a, #b, a_);                                \
  } while (0)
#define ASSERT_GE(a, b)                                                                            \
  do {                                                                                             \
    long long a_ = (long long)(a), b_ = (long long)(b);                                            \
    if (!(a_ >= b_))                                                                               \
      AIN__FAIL("ASSERT_GE(%s, %s) failed: %lld < %lld", #a, #b, a_, b_);                          \
  } while (0)
#define ASSERT_LE(a, b)                                                                            \
  do {                                                                                             \
    long long a_ = (long long)(a), b_ = (long long)(b);                                            \
    if (!(a_ <= b_))                                                                               \
      AIN__FAIL("ASSERT_LE(%s, %s) failed: %lld > %lld", #a, #b, a_, b_);                          \
  } while (0)
#define ASSERT_OK(expr)                                                                            \
  do {                                                                                             \
    long long r_ = (long long)(expr);                                                              \
    if (r_ != 0)                                                                                   \
      AIN__FAIL("ASSERT_OK(%s) failed: %lld", #expr, r_);                                          \
  } while (0)
#define ASSERT_TRUE(expr)                                                                          \
  do {                                                                                             \
    if (!(expr))                                                                                   \
      AIN__FAIL("ASSERT_TRUE(%s) failed", #expr);                                                  \
  } while (0)
#define ASSERT_NULL(p)                                                                             \
  do {                                                                                             \
    if ((p) != NULL)                                                                               \
      AIN__FAIL("ASSERT_NULL(%s) failed", #p);                                                     \
  } while (0)
#define ASSERT_NOT_NULL(p)                                                                         \
  do {                                                                                             \
    if ((p) == NULL)                                                                               \
      AIN__FAIL("ASSERT_NOT_NULL(%s) failed", #p);                                                 \
  } while (0)
#define ASSERT_STR_EQ(a, b)                                                                        \
  do {                                                                                             \
    const char *a_ = (a), *b_ = (b);                                                               \
    if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                                           \
      AIN__FAIL("ASSERT_STR_EQ(%s, %s) failed: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)",      \
                b_ ? b_ : "(null)");                                                               \
  } while (0)
#define ASSERT_STR_CONTAINS(hay, needle)                                                           \
  do {                                                                                             \
    const char *h_ = (hay), *n_ = (needle);                                                        \
    if (h_ == NULL || strstr(h_, n_) == NULL)                                                      \
      AIN__FAIL("ASSERT_STR_CONTAINS(%s, %s) failed: \"%s\" lacks \"%s\"", #hay, #needle,         \
                h_ ? h_ : "(null)", n_);                                                           \
  } while (0)

#endif
