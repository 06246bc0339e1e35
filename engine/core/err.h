/* Error codes and the error detail out-parameter used across the engine.
 * Functions return 0 or a negative AIN_E* code; the human detail (message + field/path) goes to an
 * ain_err_t the caller owns. ain_strerror() names every code. */
#ifndef AIN_CORE_ERR_H
#define AIN_CORE_ERR_H

#include <stdarg.h>

/* X-macro: name, value, short description. The names are also the stable error codes that
 * appear in task.last_error, the CLI's --json output and the Lua API ("ECONFLICT: ..."). */
#define AIN_ERRNO_MAP(X)                                                                           \
  X(EINVAL, -1, "invalid argument")                                                                \
  X(ENOMEM, -2, "out of memory")                                                                   \
  X(EIO, -3, "I/O error")                                                                          \
  X(ENOTFOUND, -4, "not found")                                                                    \
  X(ECONFLICT, -5, "state_version conflict")                                                       \
  X(EEXIST, -6, "already exists")                                                                  \
  X(ESTORE, -7, "store error")                                                                     \
  X(ESCHEMA, -8, "message does not match its schema")                                             \
  X(ECONFIG, -9, "bad configuration")                                                              \
  X(ELUA, -10, "Lua error")                                                                        \
  X(ETIMEOUT, -11, "timed out")                                                                    \
  X(ESPAWN, -12, "child process failed")                                                           \
  X(ECANCELLED, -13, "cancelled")                                                                  \
  X(EBUSY, -14, "busy")                                                                            \
  X(ETOOBIG, -15, "too large")                                                                     \
  X(EUTF8, -16, "invalid UTF-8")                                                                   \
  X(EBUDGET_CPU, -17, "CPU budget exceeded")                                                       \
  X(EBUDGET_MEM, -18, "memory budget exceeded")                                                    \
  X(ESANDBOX, -19, "refused by the sandbox")                                                       \
  X(EMEDIA, -20, "media check failed")                                                             \
  X(ESHUTDOWN, -21, "shutting down")                                                               \
  X(ELEASE, -22, "lease lost")                                                                     \
  X(EHTTP, -23, "HTTP request failed")                                                             \
  X(EWEDGED, -24, "a step held its shard in one call past the watchdog's limit")                   \
  X(EPOISON, -25, "dead-lettered as a poison pill: it wedged shards repeatedly")                   \
  X(EMEDIATYPE, -26, "unsupported media type")                                                   \
  X(ECREDS, -27, "a platform refused our credentials")                                                          \
  X(ETOKEN, -28, "publish token refused")

enum {
#define AIN__ERR_ENUM(name, val, desc) AIN_##name = (val),
  AIN_ERRNO_MAP(AIN__ERR_ENUM)
#undef AIN__ERR_ENUM
};

typedef struct {
  int code;           /* 0 or AIN_E* */
  char field[128];    /* the offending field/path/key, "" when not about a field */
  char msg[1024];     /* human-readable detail */
} ain_err_t;

/* Name of a code ("ECONFLICT"), or "EUNKNOWN". */
const char *ain_err_name(int code);
/* The code of a name ("ECONFLICT" -> AIN_ECONFLICT), or 0 when no AIN_E* code has it. */
int ain_err_code(const char *name);
/* Description of a code ("state_version conflict"). */
const char *ain_strerror(int code);
/* Fills err (may be NULL) and returns code, so `return ain_err_set(err, AIN_EINVAL, ...)` works. */
int ain_err_set(ain_err_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, naming the field the error is about. */
int ain_err_field(ain_err_t *err, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ain_err_clear(ain_err_t *err);
/* Adds context in front of the message: "loading x.lua: <old message>". */
void ain_err_prefix(ain_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
