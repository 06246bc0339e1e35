/* The OpenClaw device identity of this node: an Ed25519 key kept in a PEM file (created 0600 on
 * first use, so the gateway sees the same device across restarts and pairs it once), its device
 * id (hex sha256 of the raw public key, as the gateway derives it), the raw public key and
 * signatures in unpadded base64url. Runs on the client thread only (file I/O blocks).
 * Relies on: OpenSSL libcrypto, cluster/openclaw_internal.h. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/openclaw_internal.h"

void ain__openclaw_b64url(const unsigned char *in, size_t n, char *out, size_t cap) {
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  size_t o = 0;
  for (size_t i = 0; i < n && o + 5 < cap; i += 3) {
    unsigned v = (unsigned)in[i] << 16;
    if (i + 1 < n) {
      v |= (unsigned)in[i + 1] << 8;
    }
    if (i + 2 < n) {
      v |= in[i + 2];
    }
    out[o++] = tab[(v >> 18) & 63];
    out[o++] = tab[(v >> 12) & 63];
    if (i + 1 < n) {
      out[o++] = tab[(v >> 6) & 63];
    }
    if (i + 2 < n) {
      out[o++] = tab[v & 63];
    }
  }
  out[o] = '\0';
}

/* Creates a key and writes it with O_EXCL: two engines of one node_id starting together must not
 * both write; the loser reads the winner's key. */
static EVP_PKEY *create_key(const char *path, ain_err_t *err) {
  EVP_PKEY *key = NULL;
  EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
  if (kc == NULL || EVP_PKEY_keygen_init(kc) <= 0 || EVP_PKEY_keygen(kc, &key) <= 0) {
    EVP_PKEY_CTX_free(kc);
    ain_err_set(err, AIN_EIO, "cannot generate an Ed25519 device key");
    return NULL;
  }
  EVP_PKEY_CTX_free(kc);
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    EVP_PKEY_free(key);
    if (errno == EEXIST) {
      return NULL; /* the caller reads the other writer's key */
    }
    ain_err_set(err, AIN_EIO, "cannot create the device key file %s: %s", path, strerror(errno));
    return NULL;
  }
  FILE *f = fdopen(fd, "w");
  if (f == NULL || PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) != 1 ||
      fflush(f) != 0 || fsync(fd) != 0) {
    if (f != NULL) {
      fclose(f);
    } else {
      close(fd);
    }
    unlink(path);
    EVP_PKEY_free(key);
    ain_err_set(err, AIN_EIO, "cannot write the device key file %s", path);
    return NULL;
  }
  fclose(f);
  return key;
}

static EVP_PKEY *read_key(const char *path, ain_err_t *err) {
  struct stat st;
  if (stat(path, &st) != 0) {
    return NULL;
  }
  if ((st.st_mode & 077) != 0) {
    ain_err_set(err, AIN_ECONFIG,
                "the device key file %s may be read by group or others (mode %03o): chmod 600 it",
                path, (unsigned)(st.st_mode & 0777));
    return NULL;
  }
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    ain_err_set(err, AIN_EIO, "cannot open the device key file %s: %s", path, strerror(errno));
    return NULL;
  }
  EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
  fclose(f);
  if (key == NULL || EVP_PKEY_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    ain_err_set(err, AIN_ECONFIG, "the device key file %s holds no Ed25519 private key", path);
    return NULL;
  }
  return key;
}

int ain__openclaw_identity_load(ain__openclaw_identity_t *id, const char *path, ain_err_t *err) {
  memset(id, 0, sizeof *id);
  ain_err_clear(err);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash != NULL && slash != dir) {
    *slash = '\0';
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
      return ain_err_set(err, AIN_EIO, "cannot create %s for the device key: %s", dir,
                         strerror(errno));
    }
  }
  EVP_PKEY *key = read_key(path, err);
  if (key == NULL && err->code == 0) {
    key = create_key(path, err);
    if (key == NULL && err->code == 0) {
      key = read_key(path, err); /* lost the O_EXCL race */
    }
  }
  if (key == NULL) {
    if (err->code == 0) {
      ain_err_set(err, AIN_EIO, "cannot load or create the device key file %s", path);
    }
    return err->code;
  }
  unsigned char raw[32], hash[SHA256_DIGEST_LENGTH];
  size_t rawlen = sizeof raw;
  if (EVP_PKEY_get_raw_public_key(key, raw, &rawlen) != 1 || rawlen != sizeof raw) {
    EVP_PKEY_free(key);
    return ain_err_set(err, AIN_EIO, "cannot read the public half of %s", path);
  }
  SHA256(raw, rawlen, hash);
  for (size_t i = 0; i < sizeof hash; i++) {
    snprintf(id->device_id + 2 * i, 3, "%02x", hash[i]);
  }
  ain__openclaw_b64url(raw, rawlen, id->public_key, sizeof id->public_key);
  id->key = key;
  return 0;
}

int ain__openclaw_identity_sign(const ain__openclaw_identity_t *id, const char *msg, char *out,
                                size_t cap) {
  unsigned char sig[64];
  size_t siglen = sizeof sig;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  int ok = md != NULL && EVP_DigestSignInit(md, NULL, NULL, NULL, id->key) == 1 &&
           EVP_DigestSign(md, sig, &siglen, (const unsigned char *)msg, strlen(msg)) == 1;
  EVP_MD_CTX_free(md);
  if (!ok) {
    return AIN_EIO;
  }
  ain__openclaw_b64url(sig, siglen, out, cap);
  return 0;
}

void ain__openclaw_identity_free(ain__openclaw_identity_t *id) {
  EVP_PKEY_free(id->key);
  id->key = NULL;
}
