/* The secrets provider chain, in one place for every caller (ain.secret in Lua, the privacy key at
 * ingest): the environment first (AIN_SECRET_<NAME>, the name upper-cased with '-' and '.' as
 * '_'), then the file <secrets_dir>/<name>. A file that group or others may read or write is
 * refused (a secret copied with the wrong mode is a leak we report instead of use); a final
 * newline is not part of the secret. Error messages name the secret, never its value.
 * Threading: ain_secret_resolve reads a file, so it blocks: call it from the thread pool or at
 * start-up, never on a serving loop. ain_secret_env answers without I/O.
 * Relies on: POSIX file I/O, core/err.h. */
#ifndef AIN_CORE_SECRET_H
#define AIN_CORE_SECRET_H

#include <stddef.h>

#include "core/err.h"

#define AIN_SECRET_NAME_MAX 64
#define AIN_SECRET_FILE_MAX 65536

/* 1 if name is a valid secret name: 1..64 of A-Z a-z 0-9 _ (and - . after the first). */
int ain_secret_name_ok(const char *name, size_t len);
/* Writes the environment variable name for a secret ("AIN_SECRET_PII_KEY") into env (cap >=
 * AIN_SECRET_NAME_MAX + 12). name must be valid. */
void ain_secret_env_name(const char *name, size_t len, char *env, size_t cap);
/* The environment's value of the secret (valid until the environment changes), or NULL. */
const char *ain_secret_env(const char *name);
/* Resolves a secret through the chain: *value (caller frees with ain_secret_free) and *len.
 * AIN_ENOTFOUND when neither the environment nor secrets_dir (may be NULL: env only) has it,
 * AIN_ECONFIG for a file readable by others, AIN_EIO/AIN_ETOOBIG otherwise; err names the
 * secret. Blocking (see above). */
int ain_secret_resolve(const char *secrets_dir, const char *name, char **value, size_t *len,
                       ain_err_t *err);
/* Reads the file provider only (no environment look-up): the same codes. Blocking. */
int ain_secret_read_file(const char *secrets_dir, const char *name, char **value, size_t *len,
                         ain_err_t *err);
/* Overwrites and frees a resolved value. */
void ain_secret_free(char *value, size_t len);

#endif
