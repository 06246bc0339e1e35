/* Runs each test in a forked child with a timeout (AIN_TEST_TIMEOUT seconds, default 120) and prints
 * TAP. `test_x NAME` runs one test in-process, which is what you want under gdb. */
#include "harness.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmpdir_[512];

/* Under ASan the forked test ends with _exit(), which skips LeakSanitizer's exit-time check: run it
 * explicitly so every unit test is leak-checked. Weak: absent (NULL) in a normal build. */
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static void leak_check_or_die(void) {
  if (__lsan_do_recoverable_leak_check != NULL && __lsan_do_recoverable_leak_check() != 0) {
    fprintf(stderr, "LeakSanitizer: the test leaked memory (see above)\n");
    fflush(NULL);
    _exit(1);
  }
}

const char *ain_test_tmpdir(void) {
  if (tmpdir_[0] == '\0') {
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir_, sizeof tmpdir_, "%s/ain-test-XXXXXX", base && *base ? base : "/tmp");
    if (mkdtemp(tmpdir_) == NULL) {
      perror("mkdtemp");
      abort();
    }
  }
  return tmpdir_;
}

const char *ain_test_src(const char *rel) {
  static char buf[4][1024];
  static int slot;
  const char *root = getenv("AIN_SOURCE_DIR");
  char *out = buf[slot++ % 4];
  snprintf(out, sizeof buf[0], "%s/%s", root && *root ? root : AIN_SOURCE_DIR, rel);
  return out;
}

static void rm_tmpdir(void) {
  if (tmpdir_[0] != '\0' && getenv("AIN_TEST_KEEP") == NULL) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir_);
    if (system(cmd) != 0) {
      fprintf(stderr, "warning: could not remove %s\n", tmpdir_);
    }
  }
}

static int run_one(const ain_test_t *t, int timeout_s) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    return 1;
  }
  if (pid == 0) {
    setpgid(0, 0); /* so a timeout can kill the test's own children too */
    alarm((unsigned)timeout_s);
    t->fn();
    rm_tmpdir();
    leak_check_or_die();
    fflush(NULL);
    _exit(0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  kill(-pid, SIGKILL);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return 0;
  }
  if (WIFSIGNALED(status)) {
    fprintf(stderr, "# %s: killed by signal %d%s\n", t->name, WTERMSIG(status),
            WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
  } else {
    fprintf(stderr, "# %s: exit status %d\n", t->name, WEXITSTATUS(status));
  }
  return 1;
}

int ain_test_run(const ain_test_t *tests, int argc, char **argv) {
  int n = 0;
  while (tests[n].name != NULL) {
    n++;
  }
  if (argc > 1) { /* run one test in-process, no fork */
    for (int i = 0; i < n; i++) {
      if (strcmp(tests[i].name, argv[1]) == 0) {
        tests[i].fn();
        rm_tmpdir();
        printf("ok 1 - %s\n", tests[i].name);
        return 0;
      }
    }
    fprintf(stderr, "no test named %s\n", argv[1]);
    return 2;
  }
  const char *t = getenv("AIN_TEST_TIMEOUT");
  int timeout_s = t && atoi(t) > 0 ? atoi(t) : 120;
  int failed = 0;
  printf("1..%d\n", n);
  for (int i = 0; i < n; i++) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = run_one(&tests[i], timeout_s);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    printf("%s %d - %s (%.0f ms)\n", rc ? "not ok" : "ok", i + 1, tests[i].name, ms);
    failed += rc;
  }
  fflush(stdout);
  return failed ? 1 : 0;
}
