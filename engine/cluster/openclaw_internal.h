/* Private to engine/cluster/openclaw*.c: the device identity (openclaw_identity.c) the client
 * (openclaw.c) signs the gateway's challenge with. Relies on: OpenSSL, core/err.h. */
#ifndef AIN_CLUSTER_OPENCLAW_INTERNAL_H
#define AIN_CLUSTER_OPENCLAW_INTERNAL_H

#include <stddef.h>

#include "core/err.h"

typedef struct evp_pkey_st EVP_PKEY;

typedef struct {
  EVP_PKEY *key;
  char device_id[65];  /* hex sha256 of the raw public key */
  char public_key[64]; /* raw 32 bytes, unpadded base64url */
} ain__openclaw_identity_t;

/* Unpadded base64url of in[0..n) into out (cap >= 4 * n / 3 + 4). */
void ain__openclaw_b64url(const unsigned char *in, size_t n, char *out, size_t cap);
/* Reads the key at path, or creates it (mode 0600); refuses a file others may read. Blocking. */
int ain__openclaw_identity_load(ain__openclaw_identity_t *id, const char *path, ain_err_t *err);
/* The base64url Ed25519 signature of msg into out (cap >= 88). 0 or AIN_EIO. */
int ain__openclaw_identity_sign(const ain__openclaw_identity_t *id, const char *msg, char *out,
                                size_t cap);
void ain__openclaw_identity_free(ain__openclaw_identity_t *id);

#endif
