/* ain-spawn-helper: the last step between ain.spawn and the program a policy may run.
 *
 *   ain-spawn-helper CPU_S MEMORY_MB FILE_MB PROCS OPEN_FILES -- /abs/program [args...]
 *
 * Why a separate executable: resource limits must be set in the child, after fork and before
 * exec, and libuv's uv_spawn has no hook there. Setting them afterwards with prlimit() races the
 * program (it can allocate or fork before the limits land), and re-executing /proc/self/exe only
 * works when that binary is `ain` (unit tests and other embedders are different binaries). So the
 * engine spawns this tiny program instead, with the scrubbed environment, the checked working
 * directory and its own session (UV_PROCESS_DETACHED = setsid, done by libuv in the child), and
 * this program sets the limits, closes stray descriptors, forbids privilege gain and execs the
 * program by its absolute path (no PATH lookup). Limits survive exec; the session makes the
 * program and everything it starts one process group, which the engine kills as a whole.
 *
 * It is built beside `ain` (CMake target ain-spawn-helper) and found beside the running binary or
 * at the config's spawn.helper. Exit 126: a limit could not be set; 127: exec failed; both with a
 * line on stderr. It links nothing of the engine on purpose.
 * Relies on: POSIX (setrlimit, execv), Linux prctl. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

static int parse_limit(const char *s, rlim_t *out) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || s[0] == '-') {
    return -1;
  }
  *out = (rlim_t)v;
  return 0;
}

/* hard = v + slack: RLIMIT_CPU's soft limit sends SIGXCPU (a result the policy can name), the
 * hard one SIGKILL a second later for a program that ignores it. */
static int set_limit(int resource, const char *name, rlim_t v, rlim_t slack) {
  struct rlimit rl = {.rlim_cur = v, .rlim_max = v + slack};
  struct rlimit old;
  /* Never try to raise a hard limit the engine itself runs under: lower only. */
  if (getrlimit(resource, &old) == 0 && old.rlim_max != RLIM_INFINITY && rl.rlim_max > old.rlim_max) {
    rl.rlim_max = old.rlim_max;
    rl.rlim_cur = v < old.rlim_max ? v : old.rlim_max;
  }
  if (setrlimit(resource, &rl) != 0) {
    fprintf(stderr, "ain-spawn-helper: setrlimit(%s, %llu): %s\n", name, (unsigned long long)v,
            strerror(errno));
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 8 || strcmp(argv[6], "--") != 0 || argv[7][0] != '/') {
    fprintf(stderr, "usage: ain-spawn-helper CPU_S MEMORY_MB FILE_MB PROCS OPEN_FILES -- "
                    "/abs/program [args...]\n");
    return 126;
  }
  rlim_t v[5];
  for (int i = 0; i < 5; i++) {
    if (parse_limit(argv[1 + i], &v[i]) != 0) {
      fprintf(stderr, "ain-spawn-helper: bad limit '%s'\n", argv[1 + i]);
      return 126;
    }
  }
  /* Started by the engine this is already a session leader; started any other way it becomes
   * one, so the group it leads can still be killed as a whole. */
  if (getsid(0) != getpid()) {
    setsid();
  }
  if (set_limit(RLIMIT_CPU, "RLIMIT_CPU", v[0], 1) != 0 ||
      set_limit(RLIMIT_AS, "RLIMIT_AS", v[1] << 20, 0) != 0 ||
      set_limit(RLIMIT_FSIZE, "RLIMIT_FSIZE", v[2] << 20, 0) != 0 ||
      set_limit(RLIMIT_NPROC, "RLIMIT_NPROC", v[3], 0) != 0 ||
      set_limit(RLIMIT_NOFILE, "RLIMIT_NOFILE", v[4], 0) != 0) {
    return 126;
  }
  /* setuid binaries do not gain privileges through us. */
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    fprintf(stderr, "ain-spawn-helper: PR_SET_NO_NEW_PRIVS: %s\n", strerror(errno));
    return 126;
  }
  /* libuv opens its descriptors close-on-exec; anything else inherited stops here. */
  long maxfd = sysconf(_SC_OPEN_MAX);
  for (long fd = 3; fd < (maxfd > 0 && maxfd < 65536 ? maxfd : 65536); fd++) {
    close((int)fd);
  }
  execv(argv[7], &argv[7]);
  fprintf(stderr, "ain-spawn-helper: cannot run %s: %s\n", argv[7], strerror(errno));
  return 127;
}
