/* TLS for the API: our own SSL_CTX handed to h2o (TLS 1.2 minimum, ALPN h2 and http/1.1), with
 * client certificates required and verified against api.tls.client_ca when it is set: no
 * certificate, another CA's or an expired one fails the handshake, before any request exists.
 * The peer's names (CN, DNS and email SANs) are read for the role map.
 *
 * h2o 2.2.5 has no public accessor for a socket's SSL*: we declare the first two fields of its
 * private struct st_h2o_socket_ssl_t (lib/common/socket.c: SSL_CTX *ssl_ctx; SSL *ossl; the same
 * in every 2.2.x). tests/integration/api_mtls.sh fails if that layout ever changes (every mTLS
 * call would be 403). Relies on: OpenSSL 3, h2o. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

#include "api/internal.h"
#include <h2o/http2.h>
#include "core/log.h"

struct st_h2o_socket_ssl_t {
  SSL_CTX *ssl_ctx;
  SSL *ossl;
};

static int ssl_fail(ain_err_t *err, const char *field, const char *what, const char *file) {
  char detail[256] = "";
  unsigned long e = ERR_get_error();
  if (e != 0) {
    ERR_error_string_n(e, detail, sizeof detail);
  }
  ERR_clear_error();
  return ain_err_field(err, AIN_ECONFIG, field, "%s: %s %s (%s)", field, what, file,
                       detail[0] ? detail : "no detail");
}

static int verify_cb(int ok, X509_STORE_CTX *x) {
  if (!ok) {
    char subject[256] = "?";
    X509 *cert = X509_STORE_CTX_get_current_cert(x);
    if (cert != NULL) {
      X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
    }
    ain_log_warn("api: client certificate %s refused at handshake: %s", subject,
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(x)));
  }
  return ok;
}

int ain__api_tls_new(const ain_config_t *cfg, void **out, ain_err_t *err) {
  *out = NULL;
  const ain_api_config_t *ac = &cfg->api;
  if (ac->tls.cert == NULL) {
    return 0;
  }
  SSL_CTX *s = SSL_CTX_new(TLS_server_method());
  if (s == NULL) {
    return ssl_fail(err, "api.tls", "cannot create an SSL_CTX for", ac->tls.cert);
  }
  int rc = 0;
  SSL_CTX_set_min_proto_version(s, TLS1_2_VERSION);
  SSL_CTX_set_options(s, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(s, ac->tls.cert) != 1) {
    rc = ssl_fail(err, "api.tls.cert", "cannot load the certificate", ac->tls.cert);
    goto fail;
  }
  if (SSL_CTX_use_PrivateKey_file(s, ac->tls.key, SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(s) != 1) {
    rc = ssl_fail(err, "api.tls.key", "cannot load (or does not match the certificate)",
                  ac->tls.key);
    goto fail;
  }
  if (ac->tls.client_ca != NULL) {
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ac->tls.client_ca);
    if (SSL_CTX_load_verify_locations(s, ac->tls.client_ca, NULL) != 1 || names == NULL) {
      sk_X509_NAME_pop_free(names, X509_NAME_free);
      rc = ssl_fail(err, "api.tls.client_ca", "cannot load the CA certificates of",
                    ac->tls.client_ca);
      goto fail;
    }
    SSL_CTX_set_client_CA_list(s, names);
    SSL_CTX_set_verify(s, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
    SSL_CTX_set_verify_depth(s, 4);
    /* Session resumption would skip the client certificate check for a resumed session's
     * lifetime; with client certificates, every connection shows its certificate. */
    SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(s, 0);
    SSL_CTX_set_options(s, SSL_OP_NO_TICKET);
  }
  h2o_ssl_register_alpn_protocols(s, h2o_http2_alpn_protocols);
  *out = s;
  return 0;
fail:
  SSL_CTX_free(s);
  return rc;
}

void ain__api_tls_free(void *ssl_ctx) {
  SSL_CTX_free(ssl_ctx);
}

int ain__api_tls_peer_names(h2o_req_t *req, char names[][160], int max) {
  h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
  if (sock == NULL || sock->ssl == NULL || sock->ssl->ossl == NULL) {
    return 0;
  }
  SSL *ssl = sock->ssl->ossl;
  if (SSL_get_verify_result(ssl) != X509_V_OK) {
    return 0;
  }
  X509 *peer = SSL_get1_peer_certificate(ssl);
  if (peer == NULL) {
    return 0;
  }
  int n = 0;
  if (n < max && X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, names[n],
                                           160) > 0) {
    n++;
  }
  GENERAL_NAMES *sans = X509_get_ext_d2i(peer, NID_subject_alt_name, NULL, NULL);
  for (int i = 0; sans != NULL && i < sk_GENERAL_NAME_num(sans) && n < max; i++) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
    if (g->type != GEN_DNS && g->type != GEN_EMAIL) {
      continue;
    }
    const ASN1_IA5STRING *s = g->d.ia5;
    if (s->length > 0 && s->length < 160 && memchr(s->data, '\0', (size_t)s->length) == NULL) {
      memcpy(names[n], s->data, (size_t)s->length);
      names[n][s->length] = '\0';
      n++;
    }
  }
  GENERAL_NAMES_free(sans);
  X509_free(peer);
  return n;
}
