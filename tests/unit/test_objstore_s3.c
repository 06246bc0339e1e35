/* Tests for the S3 object store (engine/objstore/s3*.c, sigv4.c) against a real S3-protocol server
 * on loopback: s3rver behind tests/servers/s3_verify.js, which re-checks every request's SigV4
 * signature and payload hash with the AWS SDK's signer (@smithy/signature-v4) and refuses
 * mismatches. Also: AWS's published SigV4 test vectors for our presigning code, multipart upload
 * resumed after a failure, faults (403, 404, 5xx retried, truncated body), storage-class change,
 * presigned URLs, and the objstore config's errors. */
#include <curl/curl.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "core/util.h"
#include "harness.h"
#include "objstore/objstore.h"
#include "objstore/open.h"
#include "objstore/sigv4.h"

static int port(void) {
  const char *p = getenv("AIN_TEST_S3_PORT");
  if (p == NULL) {
    AIN__FAIL("AIN_TEST_S3_PORT unset (the s3 server did not start)");
  }
  return atoi(p);
}

static const char *tmp_path(const char *name) {
  static char buf[4][1024];
  static int slot;
  char *out = buf[slot++ % 4];
  snprintf(out, sizeof buf[0], "%s/%s", ain_test_tmpdir(), name);
  return out;
}

static ain_objstore_t *open_s3(const char *secret, int path_style, int retries) {
  char ep[64];
  snprintf(ep, sizeof ep, path_style ? "http://127.0.0.1:%d" : "http://s3.localhost:%d", port());
  ain_objstore_s3_opts_t o = {.endpoint = ep,
                              .bucket = "ain-test",
                              .region = "us-east-1",
                              .path_style = path_style,
                              .access_key = "S3RVER",
                              .secret_key = secret,
                              .multipart_threshold = 6 << 20,
                              .part_size = 5 << 20,
                              .timeout_ms = 20000,
                              .retries = retries,
                              .cache_dir = tmp_path("cache")};
  ain_objstore_t *s = NULL;
  ain_err_t err = {0};
  if (ain_objstore_s3_open(&o, &s, &err) != 0) {
    AIN__FAIL("s3 open: %s", err.msg);
  }
  return s;
}

/* GET/POST to the proxy's control endpoints; body of a GET into out. */
static size_t sink(char *d, size_t a, size_t n, void *ud) {
  char *out = ud;
  size_t have = strlen(out), len = a * n;
  size_t k = have + len < 262143 ? len : 262143 - have;
  memcpy(out + have, d, k);
  out[have + k] = '\0';
  return len;
}

static long http(const char *method, const char *url, const char *body, char *out) {
  CURL *h = curl_easy_init();
  static char dummy[262144];
  char *o = out ? out : dummy;
  o[0] = '\0';
  curl_easy_setopt(h, CURLOPT_URL, url);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  if (body != NULL) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
  }
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, o);
  long code = 0;
  if (curl_easy_perform(h) == CURLE_OK) {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  }
  curl_easy_cleanup(h);
  return code;
}

static void control(const char *what, const char *body) {
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/__%s", port(), what);
  ASSERT_EQ(http("POST", url, body, NULL), 204);
}

static char *proxy_log(void) {
  static char out[262144];
  char url[128];
  snprintf(url, sizeof url, "http://127.0.0.1:%d/__log", port());
  ASSERT_EQ(http("GET", url, NULL, out), 200);
  return out;
}

static size_t count(const char *hay, const char *needle) {
  size_t n = 0;
  for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle)) {
    n++;
  }
  return n;
}

static void write_pattern(const char *path, size_t size, unsigned seed) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_TRUE(fd >= 0);
  char buf[65536];
  for (size_t off = 0; off < size; off += sizeof buf) {
    for (size_t i = 0; i < sizeof buf; i++) {
      buf[i] = (char)((off + i) * 2654435761u >> 13 ^ seed);
    }
    size_t n = size - off < sizeof buf ? size - off : sizeof buf;
    ASSERT_EQ(write(fd, buf, n), (ssize_t)n);
  }
  close(fd);
}

/* --- AWS's published SigV4 test vectors ------------------------------------------------- */

#define VEC_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

TEST(sigv4_aws_suite_vectors) {
  /* The "aws-sig-v4-test-suite": get-vanilla, get-vanilla-query-order-key-case, post-vanilla
   * (service "service", us-east-1, 20150830T123600Z, host example.amazonaws.com). */
  char creq[2048], sts[512], sh[128], sig[65];
  ain__sigv4_header_t h[] = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  ain__sigv4_req_t r = {.method = "GET",
                        .path = "/",
                        .query = "",
                        .headers = h,
                        .nheaders = 2,
                        .payload_hash = EMPTY_SHA,
                        .amz_date = "20150830T123600Z",
                        .region = "us-east-1",
                        .service = "service"};
  ASSERT_OK(ain__sigv4_sign(&r, VEC_SECRET, creq, sizeof creq, sts, sizeof sts, sh, sizeof sh, sig));
  ASSERT_STR_EQ(creq, "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                      "host;x-amz-date\n" EMPTY_SHA);
  ASSERT_STR_EQ(sts, "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                     "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  ASSERT_STR_EQ(sh, "host;x-amz-date");
  ASSERT_STR_EQ(sig, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");

  r.query = "Param2=value2&Param1=value1";
  ASSERT_OK(ain__sigv4_sign(&r, VEC_SECRET, creq, sizeof creq, sts, sizeof sts, sh, sizeof sh, sig));
  ASSERT_STR_CONTAINS(creq, "\nParam1=value1&Param2=value2\n");
  ASSERT_STR_EQ(sig, "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");

  r.query = "";
  r.method = "POST";
  ASSERT_OK(ain__sigv4_sign(&r, VEC_SECRET, creq, sizeof creq, sts, sizeof sts, sh, sizeof sh, sig));
  ASSERT_STR_EQ(sig, "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST(sigv4_s3_documented_examples) {
  /* S3's "Signature Calculations for the Authorization Header": GET Object with a Range. */
  const char *secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  char creq[2048], sts[512], sh[128], sig[65];
  ain__sigv4_header_t h[] = {{"Host", "examplebucket.s3.amazonaws.com"},
                             {"Range", "bytes=0-9"},
                             {"x-amz-content-sha256", EMPTY_SHA},
                             {"x-amz-date", "20130524T000000Z"}};
  ain__sigv4_req_t r = {.method = "GET",
                        .path = "/test.txt",
                        .headers = h,
                        .nheaders = 4,
                        .payload_hash = EMPTY_SHA,
                        .amz_date = "20130524T000000Z",
                        .region = "us-east-1",
                        .service = "s3",
                        .s3_path = 1};
  ASSERT_OK(ain__sigv4_sign(&r, secret, creq, sizeof creq, sts, sizeof sts, sh, sizeof sh, sig));
  ASSERT_STR_EQ(sh, "host;range;x-amz-content-sha256;x-amz-date");
  ASSERT_STR_CONTAINS(sts, "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  ASSERT_STR_EQ(sig, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");

  /* S3's "Authenticating Requests: Using Query Parameters": a presigned GET for 86400 s. */
  char url[1024];
  ASSERT_OK(ain__sigv4_presign_get("https://examplebucket.s3.amazonaws.com", "/test.txt",
                                   "AKIAIOSFODNN7EXAMPLE", secret, "us-east-1", 1369353600, 86400,
                                   url, sizeof url));
  ASSERT_STR_EQ(url, "https://examplebucket.s3.amazonaws.com/test.txt"
                     "?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                     "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                     "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                     "&X-Amz-Signature="
                     "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  /* Out of S3's range, or a buffer too small: refused, not truncated. */
  ASSERT_EQ(ain__sigv4_presign_get("https://h", "/k", "A", "S", "us-east-1", 1369353600, 604801,
                                   url, sizeof url), -1);
  ASSERT_EQ(ain__sigv4_presign_get("https://h", "/k", "A", "S", "us-east-1", 1369353600, 60, url,
                                   40), -1);
  char enc[64];
  ASSERT_OK(ain__sigv4_uri_encode("a b/c~d%", 8, 1, enc, sizeof enc));
  ASSERT_STR_EQ(enc, "a%20b/c~d%25");
  ASSERT_OK(ain__sigv4_uri_encode("a/b", 3, 0, enc, sizeof enc));
  ASSERT_STR_EQ(enc, "a%2Fb");
}

/* --- against the server --------------------------------------------------------------------- */

static void roundtrip(int path_style) {
  control("reset", NULL);
  ain_objstore_t *s = open_s3("S3RVER", path_style, 2);
  ain_err_t err = {0};
  const char *src = tmp_path("src.txt");
  ASSERT_OK(ain_write_file_atomic(src, "hello world\n", 12));
  char key[128];
  ASSERT_OK(ain_objstore_put_file(s, src, "txt", key, sizeof key, &err));
  ASSERT_STR_EQ(key, "sha256/a9/48904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447.txt");
  ASSERT_EQ(ain_objstore_exists(s, key, &err), 1);
  ain_objstore_stat_t st;
  ASSERT_OK(ain_objstore_stat(s, key, &st, &err));
  ASSERT_EQ(st.size, 12);
  ASSERT_TRUE(st.mtime_s > 1600000000);
  char buf[16] = {0};
  size_t got = 0;
  ASSERT_OK(ain_objstore_read_range(s, key, 6, buf, 5, &got, &err));
  ASSERT_EQ(got, 5);
  ASSERT_STR_EQ(buf, "world");
  ASSERT_OK(ain_objstore_read_range(s, key, 12, buf, 5, &got, &err));
  ASSERT_EQ(got, 0);
  ASSERT_OK(ain_objstore_verify(s, key, &err));
  char path[4096];
  ASSERT_OK(ain_objstore_get_path(s, key, path, sizeof path, &err));
  ASSERT_STR_CONTAINS(path, "/cache/objects/sha256/a9/");
  char *data = NULL;
  size_t len = 0;
  ASSERT_OK(ain_read_file(path, &data, &len));
  ASSERT_EQ(len, 12);
  ASSERT_TRUE(memcmp(data, "hello world\n", 12) == 0);
  free(data);
  /* A second put of the same content sends nothing (content-addressed). */
  size_t puts_before = count(proxy_log(), "\"method\":\"PUT\"");
  ASSERT_OK(ain_objstore_put_file(s, src, "txt", key, sizeof key, &err));
  ASSERT_EQ(count(proxy_log(), "\"method\":\"PUT\""), puts_before);
  ASSERT_OK(ain_objstore_delete(s, key, &err));
  ASSERT_EQ(ain_objstore_exists(s, key, &err), 0);
  ASSERT_EQ(ain_objstore_delete(s, key, &err), AIN_ENOTFOUND);
  ASSERT_EQ(ain_objstore_get_path(s, "sha256/00/nothing.txt", path, sizeof path, &err),
            AIN_ENOTFOUND);
  ASSERT_STR_CONTAINS(err.msg, "not found");
  ASSERT_EQ(ain_objstore_read_range(s, "sha256/00/nothing", 0, buf, 4, &got, &err), AIN_ENOTFOUND);
  ASSERT_EQ(ain_objstore_put_file(s, "/nonexistent/file", NULL, key, sizeof key, &err),
            AIN_ENOTFOUND);
  /* Every request reached the server signed as the independent signer computes it. */
  char *log = proxy_log();
  ASSERT_TRUE(count(log, "\"verified\":true") >= 10);
  ASSERT_EQ(count(log, "\"verified\":false"), 0);
  ASSERT_STR_CONTAINS(log, path_style ? "\"url\":\"/ain-test/sha256/" : "\"host\":\"ain-test.s3.localhost:");
  ain_objstore_close(s);
}

TEST(roundtrip_path_style) { roundtrip(1); }
TEST(roundtrip_virtual_host) { roundtrip(0); }

TEST(wrong_secret_is_refused) {
  control("reset", NULL);
  ain_objstore_t *s = open_s3("not-the-secret", 1, 0);
  ain_err_t err = {0};
  const char *src = tmp_path("x.txt");
  ASSERT_OK(ain_write_file_atomic(src, "x", 1));
  char key[128];
  ASSERT_EQ(ain_objstore_put_file(s, src, NULL, key, sizeof key, &err), AIN_EHTTP);
  ASSERT_STR_CONTAINS(err.msg, "403");
  ASSERT_TRUE(strstr(err.msg, "not-the-secret") == NULL);
  ain_objstore_close(s);
}

TEST(retries_5xx_and_truncated_bodies) {
  control("reset", NULL);
  ain_objstore_t *s = open_s3("S3RVER", 1, 2);
  ain_err_t err = {0};
  const char *src = tmp_path("r.bin");
  write_pattern(src, 300000, 7);
  char key[128], path[4096];
  control("fault", "{\"method\":\"PUT\",\"status\":503,\"count\":2}");
  ASSERT_OK(ain_objstore_put_file(s, src, "bin", key, sizeof key, &err));
  ASSERT_EQ(count(proxy_log(), "\"fault\":503"), 2);
  control("fault", "{\"method\":\"GET\",\"truncate\":true,\"count\":1}");
  ASSERT_OK(ain_objstore_get_path(s, key, path, sizeof path, &err));
  ASSERT_STR_CONTAINS(proxy_log(), "\"fault\":\"truncate\"");
  ASSERT_OK(ain_objstore_verify(s, key, &err));
  ain_objstore_close(s);
  /* Without retries the same faults surface, naming what failed. */
  s = open_s3("S3RVER", 1, 0);
  unlink(path);
  control("fault", "{\"method\":\"GET\",\"truncate\":true,\"count\":1}");
  ASSERT_EQ(ain_objstore_get_path(s, key, path, sizeof path, &err), AIN_EHTTP);
  ASSERT_STR_CONTAINS(err.msg, "GET");
  struct stat sb;
  ASSERT_TRUE(stat(path, &sb) != 0); /* no half object in the cache */
  control("fault", "{\"method\":\"HEAD\",\"status\":500,\"count\":1}");
  ASSERT_EQ(ain_objstore_exists(s, key, &err), AIN_EHTTP);
  ASSERT_STR_CONTAINS(err.msg, "HTTP 500");
  ain_objstore_close(s);
}

TEST(multipart_resumes_after_a_failure) {
  control("reset", NULL);
  ain_objstore_t *s = open_s3("S3RVER", 1, 1);
  ain_err_t err = {0};
  const char *src = tmp_path("big.bin");
  write_pattern(src, (12 << 20) + 12345, 3); /* 3 parts of 5 MiB */
  char key[128];
  control("fault", "{\"method\":\"PUT\",\"match\":\"partNumber=3\",\"status\":500,\"count\":5}");
  ASSERT_EQ(ain_objstore_put_file(s, src, "bin", key, sizeof key, &err), AIN_EHTTP);
  ASSERT_STR_CONTAINS(err.msg, "UploadPart 3");
  char *log = proxy_log();
  ASSERT_EQ(count(log, "?uploads="), 1);
  ASSERT_EQ(count(log, "partNumber=1&"), 1);
  ASSERT_EQ(count(log, "partNumber=2&"), 1);
  /* As after a crash: a new store, the same file. Only part 3 goes again, then Complete. */
  ain_objstore_close(s);
  control("reset", NULL);
  s = open_s3("S3RVER", 1, 1);
  if (ain_objstore_put_file(s, src, "bin", key, sizeof key, &err) != 0) {
    AIN__FAIL("resumed put: %s", err.msg);
  }
  log = proxy_log();
  ASSERT_EQ(count(log, "?uploads="), 0);
  ASSERT_EQ(count(log, "partNumber=1&"), 0);
  ASSERT_EQ(count(log, "partNumber=2&"), 0);
  ASSERT_EQ(count(log, "partNumber=3&"), 1);
  ASSERT_EQ(count(log, "\"method\":\"POST\""), 1);
  ASSERT_EQ(count(log, "\"verified\":false"), 0);
  char hex[65], path[4096];
  ASSERT_OK(ain_objstore_sha256_file(src, hex, &err));
  ASSERT_TRUE(strncmp(key + 10, hex + 2, 62) == 0);
  ASSERT_OK(ain_objstore_verify(s, key, &err)); /* multipart: read back and hashed */
  ASSERT_OK(ain_objstore_get_path(s, key, path, sizeof path, &err));
  ain_objstore_stat_t st;
  ASSERT_OK(ain_objstore_stat(s, key, &st, &err));
  ASSERT_EQ(st.size, (12 << 20) + 12345);
  char ckpt[4096];
  snprintf(ckpt, sizeof ckpt, "%s/uploads/%s", tmp_path("cache"), hex);
  struct stat sb;
  ASSERT_TRUE(stat(ckpt, &sb) != 0); /* the checkpoint is gone once complete */
  ain_objstore_close(s);
}

TEST(presigned_get_and_storage_class) {
  control("reset", NULL);
  ain_objstore_t *s = open_s3("S3RVER", 1, 0);
  ain_err_t err = {0};
  const char *src = tmp_path("p.mp4");
  write_pattern(src, 100000, 9);
  char key[128], url[2048];
  ASSERT_OK(ain_objstore_put_file(s, src, "mp4", key, sizeof key, &err));
  ASSERT_OK(ain_objstore_presign_get(s, key, 300, url, sizeof url, &err));
  ASSERT_STR_CONTAINS(url, "X-Amz-Expires=300");
  static char body[262144];
  if (http("GET", url, NULL, body) != 200) {
    AIN__FAIL("presigned GET %s refused: %s / %s", url, body, proxy_log());
  }
  ASSERT_EQ(strlen(body) > 0, 1);
  /* One changed character of the signature: refused by the verifier. */
  size_t n = strlen(url);
  url[n - 1] = url[n - 1] == '0' ? '1' : '0';
  ASSERT_EQ(http("GET", url, NULL, body), 403);
  ASSERT_EQ(ain_objstore_presign_get(s, key, 0, url, sizeof url, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "ttl_s");
  ASSERT_EQ(ain_objstore_presign_get(s, "sha256/00/none", 60, url, sizeof url, &err),
            AIN_ENOTFOUND);
  /* Tiering: copy in place to a cheaper class; a second call finds it there and copies nothing. */
  ASSERT_OK(ain_objstore_set_class(s, key, "STANDARD_IA", &err));
  size_t copies = count(proxy_log(), "\"method\":\"PUT\"");
  ASSERT_OK(ain_objstore_set_class(s, key, "STANDARD_IA", &err));
  ASSERT_EQ(count(proxy_log(), "\"method\":\"PUT\""), copies);
  ASSERT_OK(ain_objstore_verify(s, key, &err));
  ASSERT_EQ(ain_objstore_set_class(s, key, "standard", &err), AIN_EINVAL);
  ASSERT_EQ(count(proxy_log(), "\"verified\":false"), 1); /* only the tampered URL */
  ain_objstore_close(s);
  /* The dir backend has neither. */
  ain_objstore_t *d = NULL;
  ASSERT_OK(ain_objstore_dir_open(tmp_path("dir"), &d, &err));
  ASSERT_EQ(ain_objstore_presign_get(d, key, 60, url, sizeof url, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "dir backend");
  ASSERT_EQ(ain_objstore_set_class(d, key, "STANDARD_IA", &err), AIN_EINVAL);
  ain_objstore_close(d);
}

TEST(unreachable_endpoint) {
  ain_objstore_s3_opts_t o = {.endpoint = "http://127.0.0.1:1", .bucket = "b", .region = "us-east-1",
                              .path_style = 1, .access_key = "a", .secret_key = "s",
                              .multipart_threshold = 8 << 20, .part_size = 5 << 20,
                              .timeout_ms = 2000, .retries = 1, .cache_dir = tmp_path("c")};
  ain_objstore_t *s = NULL;
  ain_err_t err = {0};
  ASSERT_OK(ain_objstore_s3_open(&o, &s, &err));
  ASSERT_EQ(ain_objstore_exists(s, "sha256/00/x", &err), AIN_EHTTP);
  ASSERT_STR_CONTAINS(err.msg, "after 2 tries");
  ain_objstore_close(s);
  o.endpoint = "ftp://x";
  ASSERT_EQ(ain_objstore_s3_open(&o, &s, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "endpoint");
  o.endpoint = "http://x";
  o.part_size = 1 << 20;
  ASSERT_EQ(ain_objstore_s3_open(&o, &s, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "part_size");
}

static int load_cfg(const char *text, ain_config_t *cfg, ain_err_t *err) {
  const char *p = tmp_path("ain.lua");
  ASSERT_OK(ain_write_file_atomic(p, text, strlen(text)));
  ain_config_defaults(cfg);
  return ain_config_load(cfg, p, err);
}

TEST(config_is_validated) {
  struct {
    const char *text, *field;
  } bad[] = {
      {"objstore = { kind = 's4' }", "objstore.kind"},
      {"objstore = { kind = 's3', s3 = { endpoint = 'http://h', access_key_secret = 'a', "
       "secret_key_secret = 'b' } }", "objstore.s3.bucket"},
      {"objstore = { kind = 's3', s3 = { endpoint = 'h', bucket = 'bkt', access_key_secret = 'a', "
       "secret_key_secret = 'b' } }", "objstore.s3.endpoint"},
      {"objstore = { kind = 's3', s3 = { endpoint = 'http://h', bucket = 'B_', "
       "access_key_secret = 'a', secret_key_secret = 'b' } }", "objstore.s3.bucket"},
      {"objstore = { s3 = { part_size_mb = 4 } }", "objstore.s3.part_size_mb"},
      {"objstore = { s3 = { path_style = 'yes' } }", "objstore.s3.path_style"},
      {"objstore = { s3 = { colour = 1 } }", "objstore.s3"},
      {"objstore = { s3 = { tier = { storage_class = 'COLD' } } }", "objstore.s3.tier.storage_class"},
      {"objstore = { s3 = { tier = { interval_ms = 10 } } }", "objstore.s3.tier.interval_ms"},
      {"objstore = { s3 = { tier = { after_days = -1 } } }", "objstore.s3.tier.after_days"},
      {"objstore = { kind = 's3', s3 = { endpoint = 'http://h', bucket = 'bkt', "
       "access_key_secret = 'a b', secret_key_secret = 'b' } }", "objstore.s3.access_key_secret"},
      {"objstore = 3", "objstore"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ain_config_t cfg;
    ain_err_t err = {0};
    ASSERT_EQ(load_cfg(bad[i].text, &cfg, &err), AIN_ECONFIG);
    ASSERT_STR_EQ(err.field, bad[i].field);
    ASSERT_STR_CONTAINS(err.msg, "ain.lua:1");
    ain_config_free(&cfg);
  }
}

TEST(open_from_config_with_secrets) {
  char text[1024];
  snprintf(text, sizeof text,
           "data_dir = '%s'\nsecrets_dir = '%s'\nobjstore = { kind = 's3', s3 = { endpoint = "
           "'http://127.0.0.1:%d', bucket = 'ain-test', path_style = true, access_key_secret = "
           "'s3_ak', secret_key_secret = 's3_sk', tier = { after_days = 30 } } }\n",
           tmp_path("data"), tmp_path("secrets"), port());
  ain_config_t cfg;
  ain_err_t err = {0};
  ASSERT_OK(load_cfg(text, &cfg, &err));
  ASSERT_EQ(cfg.objstore.s3.tier_after_days, 30);
  ASSERT_STR_EQ(cfg.objstore.s3.tier_storage_class, "STANDARD_IA");
  ain_objstore_t *s = NULL;
  unsetenv("AIN_SECRET_S3_AK");
  ASSERT_EQ(ain_objstore_open(&cfg, &s, &err), AIN_ENOTFOUND);
  ASSERT_STR_CONTAINS(err.msg, "s3_ak");
  setenv("AIN_SECRET_S3_AK", "S3RVER", 1);
  setenv("AIN_SECRET_S3_SK", "S3RVER", 1);
  ASSERT_OK(ain_objstore_open(&cfg, &s, &err));
  ASSERT_STR_EQ(s->vt->name, "s3");
  ASSERT_EQ(ain_objstore_exists(s, "sha256/00/none", &err), 0);
  ain_objstore_close(s);
  struct stat sb;
  char cache[1024];
  snprintf(cache, sizeof cache, "%s/s3cache/objects", tmp_path("data"));
  ASSERT_OK(stat(cache, &sb)); /* default cache under data_dir */
  ain_config_free(&cfg);
}

/* Starts tests/servers/s3_verify.js once for all tests; its pid to stop it. */
static pid_t start_server(const char *dir) {
  int fds[2];
  if (pipe(fds) != 0) {
    return -1;
  }
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* a test run that aborts leaves no server behind */
    dup2(fds[1], 1);
    close(fds[0]);
    execlp("node", "node", ain_test_src("tests/servers/s3_verify.js"), "--dir", dir, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  char line[256] = "";
  size_t n = 0;
  while (n < sizeof line - 1 && read(fds[0], line + n, 1) == 1 && line[n] != '\n') {
    n++;
  }
  line[n] = '\0';
  close(fds[0]);
  const char *p = strstr(line, "\"proxy\":");
  if (p == NULL) {
    fprintf(stderr, "s3 server did not start: '%s'\n", line);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return -1;
  }
  char port_s[16];
  snprintf(port_s, sizeof port_s, "%d", atoi(p + 8));
  setenv("AIN_TEST_S3_PORT", port_s, 1);
  return pid;
}

int main(int argc, char **argv) {
  static const ain_test_t tests[] = {TEST_ENTRY(sigv4_aws_suite_vectors),
                                     TEST_ENTRY(sigv4_s3_documented_examples),
                                     TEST_ENTRY(roundtrip_path_style),
                                     TEST_ENTRY(roundtrip_virtual_host),
                                     TEST_ENTRY(wrong_secret_is_refused),
                                     TEST_ENTRY(retries_5xx_and_truncated_bodies),
                                     TEST_ENTRY(multipart_resumes_after_a_failure),
                                     TEST_ENTRY(presigned_get_and_storage_class),
                                     TEST_ENTRY(unreachable_endpoint),
                                     TEST_ENTRY(config_is_validated),
                                     TEST_ENTRY(open_from_config_with_secrets),
                                     {NULL, NULL}};
  char dir[] = "/tmp/ain-s3rver-XXXXXX";
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (mkdtemp(dir) == NULL) {
    return 1;
  }
  pid_t pid = start_server(dir);
  if (pid < 0) {
    return 1;
  }
  int rc = ain_test_run(tests, argc, argv);
  kill(pid, SIGTERM);
  waitpid(pid, NULL, 0);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) {
    fprintf(stderr, "could not remove %s\n", dir);
  }
  return rc;
}
