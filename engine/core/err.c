/* Error names and the ain_err_t helpers. */
#include "core/err.h"

#include <stdio.h>
#include <string.h>

int ain_err_code(const char *name) {
#define AIN__ERR_CODE(ename, val, desc)                                                            \
  if (name != NULL && strcmp(name, #ename) == 0) {                                                 \
    return val;                                                                                    \
  }
  AIN_ERRNO_MAP(AIN__ERR_CODE)
#undef AIN__ERR_CODE
  return 0;
}

const char *ain_err_name(int code) {
  switch (code) {
  case 0:
    return "OK";
#define AIN__ERR_NAME(name, val, desc)                                                             \
  case val:                                                                                        \
    return #name;
    AIN_ERRNO_MAP(AIN__ERR_NAME)
#undef AIN__ERR_NAME
  }
  return "EUNKNOWN";
}

const char *ain_strerror(int code) {
  switch (code) {
  case 0:
    return "success";
#define AIN__ERR_DESC(name, val, desc)                                                             \
  case val:                                                                                        \
    return desc;
    AIN_ERRNO_MAP(AIN__ERR_DESC)
#undef AIN__ERR_DESC
  }
  return "unknown error";
}

static int err_vset(ain_err_t *err, int code, const char *field, const char *fmt, va_list ap) {
  if (err != NULL) {
    err->code = code;
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  }
  return code;
}

int ain_err_set(ain_err_t *err, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  err_vset(err, code, NULL, fmt, ap);
  va_end(ap);
  return code;
}

int ain_err_field(ain_err_t *err, int code, const char *field, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  err_vset(err, code, field, fmt, ap);
  va_end(ap);
  return code;
}

void ain_err_clear(ain_err_t *err) {
  if (err != NULL) {
    err->code = 0;
    err->field[0] = '\0';
    err->msg[0] = '\0';
  }
}

void ain_err_prefix(ain_err_t *err, const char *fmt, ...) {
  if (err == NULL) {
    return;
  }
  char pre[512], old[sizeof err->msg];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(pre, sizeof pre, fmt, ap);
  va_end(ap);
  memcpy(old, err->msg, sizeof old);
  snprintf(err->msg, sizeof err->msg, "%s: %s", pre, old);
}
