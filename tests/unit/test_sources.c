/* Trend sources, the pure parts (sources/feed.h, config/sources.h): RSS/Atom with expat (CDATA,
 * entities, encodings, the XML bomb and external entities refused, truncation), JSON feeds
 * mapped by paths (nested fields, wrong types, non-UTF-8, truncation), RSS dates, the backoff
 * arithmetic, and the `sources` config key's errors naming their key. */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "core/util.h"
#include "harness.h"
#include "sources/feed.h"

static const char *str_of(const cJSON *rec, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, k);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int xml(const char *doc, ain_source_kind_t kind, ain_feed_result_t *out, ain_err_t *err) {
  ain_err_clear(err);
  return ain_feed_parse_xml(doc, strlen(doc), kind, "t", out, err);
}

TEST(rss_items_cdata_entities_dates) {
  const char *doc =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel><title>c</title>"
      "<item><title>Apple &amp; the M5 &#x2014; &lt;3 &lt;b&gt;fast&lt;/b&gt;</title>"
      "<description><![CDATA[<p>Leaked <b>benchmarks</b> &amp; more</p>]]></description>"
      "<link>https://e.x/1</link><guid isPermaLink=\"false\">g1</guid>"
      "<pubDate>Mon, 07 Dec 2026 10:00:00 GMT</pubDate>"
      "<category>apple</category><category>chips</category></item>"
      "<item><title>Second</title><dc:date>2026-12-07T09:00:00Z</dc:date></item>"
      "<item><description>no title here</description></item>"
      "</channel></rss>";
  ain_feed_result_t out;
  ain_err_t err;
  ASSERT_OK(xml(doc, AIN_SOURCE_RSS, &out, &err));
  ASSERT_EQ(cJSON_GetArraySize(out.items), 2);
  const cJSON *a = cJSON_GetArrayItem(out.items, 0), *b = cJSON_GetArrayItem(out.items, 1);
  ASSERT_STR_EQ(str_of(a, "title"), "Apple & the M5 \xe2\x80\x94 <3 fast");
  /* CDATA is kept as text; the HTML inside it is dropped, its entity is not decoded twice */
  ASSERT_STR_EQ(str_of(a, "summary"), "Leaked benchmarks &amp; more");
  ASSERT_STR_EQ(str_of(a, "url"), "https://e.x/1");
  ASSERT_STR_EQ(str_of(a, "id"), "g1");
  ASSERT_STR_EQ(str_of(a, "source"), "t");
  ASSERT_EQ((long long)cJSON_GetObjectItem(a, "ts")->valuedouble, 1796637600LL);
  ASSERT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(a, "tags")), 2);
  ASSERT_STR_EQ(str_of(b, "ts"), "2026-12-07T09:00:00Z");
  ASSERT_EQ(out.refused, 1); /* the item without a title */
  ASSERT_STR_CONTAINS(out.first_refusal, "item 3: title: missing");
  cJSON_Delete(out.items);
}

TEST(atom_entries) {
  const char *doc =
      "<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>f</title>"
      "<entry><title type=\"html\">&lt;b&gt;Robot&lt;/b&gt; arms</title>"
      "<link rel=\"self\" href=\"https://e.x/self\"/><link href=\"https://e.x/a\"/>"
      "<id>urn:1</id><updated>2026-12-07T08:00:00Z</updated>"
      "<published>2026-12-06T08:00:00Z</published><category term=\"robots\"/>"
      "<content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/xhtml\">Full "
      "<i>text</i></div></content></entry></feed>";
  ain_feed_result_t out;
  ain_err_t err;
  ASSERT_OK(xml(doc, AIN_SOURCE_ATOM, &out, &err));
  ASSERT_EQ(cJSON_GetArraySize(out.items), 1);
  const cJSON *a = cJSON_GetArrayItem(out.items, 0);
  ASSERT_STR_EQ(str_of(a, "title"), "Robot arms");
  ASSERT_STR_EQ(str_of(a, "url"), "https://e.x/a");
  ASSERT_STR_EQ(str_of(a, "id"), "urn:1");
  ASSERT_STR_EQ(str_of(a, "ts"), "2026-12-06T08:00:00Z"); /* published beats updated */
  ASSERT_STR_EQ(str_of(a, "summary"), "Full text");
  ASSERT_STR_EQ(cJSON_GetArrayItem(cJSON_GetObjectItem(a, "tags"), 0)->valuestring, "robots");
  cJSON_Delete(out.items);
  /* the other format is refused by name */
  ASSERT_EQ(xml(doc, AIN_SOURCE_RSS, &out, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "expected an RSS 2.0 document (<rss>), found <feed>");
  ASSERT_EQ(xml("<rss version=\"2.0\"><channel/></rss>", AIN_SOURCE_ATOM, &out, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "expected an Atom 1.0 document");
  /* an Atom root in no namespace is not Atom */
  ASSERT_EQ(xml("<feed><entry><title>x</title></entry></feed>", AIN_SOURCE_ATOM, &out, &err),
            AIN_EINVAL);
}

TEST(encodings) {
  /* ISO-8859-1: 0xE9 is e-acute, out comes UTF-8 */
  const char *latin1 = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><rss><channel><item>"
                       "<title>Caf\xe9 cr\xe8me</title></item></channel></rss>";
  ain_feed_result_t out;
  ain_err_t err;
  ASSERT_OK(xml(latin1, AIN_SOURCE_RSS, &out, &err));
  ASSERT_STR_EQ(str_of(cJSON_GetArrayItem(out.items, 0), "title"), "Caf\xc3\xa9 cr\xc3\xa8me");
  cJSON_Delete(out.items);
  /* windows-1252: 0x93/0x94 are curly quotes, 0x80 the euro sign */
  const char *cp = "<?xml version=\"1.0\" encoding=\"windows-1252\"?><rss><channel><item>"
                   "<title>\x93Hi\x94 \x80</title></item></channel></rss>";
  ASSERT_OK(xml(cp, AIN_SOURCE_RSS, &out, &err));
  ASSERT_STR_EQ(str_of(cJSON_GetArrayItem(out.items, 0), "title"),
                "\xe2\x80\x9cHi\xe2\x80\x9d \xe2\x82\xac");
  cJSON_Delete(out.items);
  /* UTF-16 with a BOM */
  const char u16[] = "\xff\xfe<\0r\0s\0s\0>\0<\0c\0h\0a\0n\0n\0e\0l\0>\0<\0i\0t\0e\0m\0>\0<\0t\0i\0t\0"
                     "l\0e\0>\0O\0k\0<\0/\0t\0i\0t\0l\0e\0>\0<\0/\0i\0t\0e\0m\0>\0<\0/\0c\0h\0a\0n\0"
                     "n\0e\0l\0>\0<\0/\0r\0s\0s\0>\0";
  ain_err_clear(&err);
  ASSERT_OK(ain_feed_parse_xml(u16, sizeof u16 - 1, AIN_SOURCE_RSS, "t", &out, &err));
  ASSERT_STR_EQ(str_of(cJSON_GetArrayItem(out.items, 0), "title"), "Ok");
  cJSON_Delete(out.items);
  /* bad UTF-8 in a UTF-8 document is refused with its line */
  ASSERT_EQ(xml("<?xml version=\"1.0\"?>\n<rss><channel><item><title>\xc3\x28</title></item>"
                "</channel></rss>",
                AIN_SOURCE_RSS, &out, &err),
            AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "line 2");
  ASSERT_STR_CONTAINS(err.msg, "invalid token");
  /* an encoding we do not know */
  ASSERT_EQ(xml("<?xml version=\"1.0\" encoding=\"EBCDIC-XYZ\"?><rss/>", AIN_SOURCE_RSS, &out,
                &err),
            AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "encoding");
}

TEST(bombs_and_external_entities_are_refused) {
  char bomb[4096];
  int n = snprintf(bomb, sizeof bomb, "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY a \"aaaa\">");
  const char *prev = "a";
  char names[10][4];
  for (int i = 0; i < 9; i++) {
    snprintf(names[i], sizeof names[i], "a%d", i);
    n += snprintf(bomb + n, sizeof bomb - (size_t)n, "<!ENTITY %s \"", names[i]);
    for (int k = 0; k < 10; k++) {
      n += snprintf(bomb + n, sizeof bomb - (size_t)n, "&%s;", prev);
    }
    n += snprintf(bomb + n, sizeof bomb - (size_t)n, "\">");
    prev = names[i];
  }
  snprintf(bomb + n, sizeof bomb - (size_t)n,
           "]><rss><channel><item><title>&a8;</title></item></channel></rss>");
  ain_feed_result_t out;
  ain_err_t err;
  uint64_t t0 = ain_mono_ns();
  ASSERT_EQ(xml(bomb, AIN_SOURCE_RSS, &out, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "entity declaration 'a' refused");
  ASSERT_LE((ain_mono_ns() - t0) / 1000000, 1000); /* refused at once, not expanded */
  ASSERT_EQ(xml("<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY x SYSTEM "
                "\"file:///etc/passwd\">]><rss><channel><item><title>&x;</title></item>"
                "</channel></rss>",
                AIN_SOURCE_RSS, &out, &err),
            AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "external entity 'x' refused");
  /* parameter entities (the XXE out-of-band trick) */
  ASSERT_EQ(xml("<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY % p SYSTEM \"http://e.x/d\"> "
                "%p;]><rss/>",
                AIN_SOURCE_RSS, &out, &err),
            AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "refused");
  /* an undefined entity behind an external DTD we never load */
  ASSERT_EQ(xml("<?xml version=\"1.0\"?><!DOCTYPE rss SYSTEM \"http://e.x/rss.dtd\"><rss><channel>"
                "<item><title>&nbsp;x</title></item></channel></rss>",
                AIN_SOURCE_RSS, &out, &err),
            AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "undefined entity '&nbsp;' refused");
}

TEST(truncated_and_malformed_xml) {
  ain_feed_result_t out;
  ain_err_t err;
  ASSERT_EQ(xml("<rss><channel><item><title>Half", AIN_SOURCE_RSS, &out, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "line 1");
  ASSERT_EQ(xml("", AIN_SOURCE_RSS, &out, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "empty document");
  ASSERT_EQ(xml("<rss><channel></item></channel></rss>", AIN_SOURCE_RSS, &out, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "mismatched tag");
  /* a title longer than the cap refuses the document */
  static char big[AIN_FEED_FIELD_MAX + 200];
  int n = snprintf(big, sizeof big, "<rss><channel><item><title>");
  memset(big + n, 'x', AIN_FEED_FIELD_MAX + 10);
  snprintf(big + n + AIN_FEED_FIELD_MAX + 10, 64, "</title></item></channel></rss>");
  ASSERT_EQ(xml(big, AIN_SOURCE_RSS, &out, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "longer than 65536 bytes");
}

static ain_source_cfg_t map_cfg(void) {
  ain_source_cfg_t c;
  memset(&c, 0, sizeof c);
  c.name = "j";
  c.kind = AIN_SOURCE_HTTP;
  c.map_items = "$.data.items[*]";
  c.map[AIN_SOURCE_F_TITLE] = "headline";
  c.map[AIN_SOURCE_F_SUMMARY] = "body.text";
  c.map[AIN_SOURCE_F_ID] = "id";
  c.map[AIN_SOURCE_F_TAGS] = "labels[*].name";
  c.map[AIN_SOURCE_F_SCORE] = "stats.score";
  c.map[AIN_SOURCE_F_TS] = "published[0]";
  return c;
}

static int jmap(const char *doc, ain_source_cfg_t *c, ain_feed_result_t *out, ain_err_t *err) {
  ain_err_clear(err);
  return ain_feed_map_json(doc, strlen(doc), c, out, err);
}

TEST(json_mapping) {
  ain_source_cfg_t c = map_cfg();
  const char *doc = "{\"data\":{\"items\":["
                    "{\"headline\":\"AI robots\",\"body\":{\"text\":\"s\"},\"id\":17,"
                    "\"labels\":[{\"name\":\"ai\"},{\"name\":\"robots\"}],\"stats\":{\"score\":88},"
                    "\"published\":[\"2026-12-07T10:00:00Z\"]},"
                    "{\"headline\":42},"
                    "{\"headline\":\"tags wrong\",\"labels\":[{\"name\":7}]},"
                    "{\"body\":{\"text\":\"no title\"}},"
                    "\"not an object\","
                    "{\"headline\":\"plain\",\"stats\":{\"score\":\"high\"}},"
                    "{\"headline\":\"ok too\",\"stats\":null}]}}";
  ain_feed_result_t out;
  ain_err_t err;
  ASSERT_OK(jmap(doc, &c, &out, &err));
  ASSERT_EQ(cJSON_GetArraySize(out.items), 2);
  ASSERT_EQ(out.refused, 5);
  ASSERT_STR_EQ(out.first_refusal, "item 2: title: expected a string, got number");
  const cJSON *a = cJSON_GetArrayItem(out.items, 0);
  ASSERT_STR_EQ(str_of(a, "title"), "AI robots");
  ASSERT_STR_EQ(str_of(a, "summary"), "s");
  ASSERT_STR_EQ(str_of(a, "id"), "17");
  ASSERT_STR_EQ(str_of(a, "ts"), "2026-12-07T10:00:00Z");
  ASSERT_STR_EQ(str_of(a, "source"), "j");
  ASSERT_EQ(cJSON_GetArraySize(cJSON_GetObjectItem(a, "tags")), 2);
  ASSERT_EQ((int)cJSON_GetObjectItem(a, "score")->valuedouble, 88);
  ASSERT_STR_EQ(str_of(cJSON_GetArrayItem(out.items, 1), "title"), "ok too");
  cJSON_Delete(out.items);
}

TEST(bad_json_documents) {
  ain_source_cfg_t c = map_cfg();
  ain_feed_result_t out;
  ain_err_t err;
  ASSERT_EQ(jmap("{\"data\":{\"items\":[{\"headline\":\"a\"}", &c, &out, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "not JSON");
  ASSERT_EQ(jmap("{\"data\":{\"items\":{\"headline\":\"a\"}}}", &c, &out, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "map.items '$.data.items[*]': $.data.items is object, not an array");
  ASSERT_STR_EQ(err.field, "map.items");
  ASSERT_EQ(jmap("{\"data\":{}}", &c, &out, &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "is absent, not an array");
  ASSERT_EQ(jmap("{\"data\":{\"items\":[{\"headline\":\"caf\xe9\"}]}}", &c, &out, &err),
            AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "not UTF-8 (byte 34)");
  ASSERT_EQ(jmap("", &c, &out, &err), AIN_EINVAL);
  /* a top-level array */
  c.map_items = "$[*]";
  ASSERT_OK(jmap("[{\"headline\":\"x\"}]", &c, &out, &err));
  ASSERT_EQ(cJSON_GetArraySize(out.items), 1);
  cJSON_Delete(out.items);
}

TEST(paths) {
  cJSON *doc = cJSON_Parse("{\"a\":{\"b\":[{\"c\":1},{\"c\":2},{\"d\":3}]}}");
  const cJSON *v[8];
  ASSERT_EQ(ain_feed_path_eval(doc, "$.a.b[*].c", v, 8), 2);
  ASSERT_EQ((int)v[1]->valuedouble, 2);
  ASSERT_EQ(ain_feed_path_eval(doc, "a.b[2].d", v, 8), 1);
  ASSERT_EQ(ain_feed_path_eval(doc, "a.b[9].d", v, 8), 0);
  ASSERT_EQ(ain_feed_path_eval(doc, "a.x", v, 8), 0);
  ASSERT_EQ(ain_feed_path_eval(doc, "$", v, 8), 1);
  cJSON_Delete(doc);
  ain_err_t err;
  ain_err_clear(&err);
  ASSERT_OK(ain_source_path_check("$.data.items[*]", &err));
  ASSERT_OK(ain_source_path_check("labels[*].name", &err));
  ASSERT_EQ(ain_source_path_check("a[*].b[*]", &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "at most one [*]");
  ASSERT_EQ(ain_source_path_check("a[x]", &err), AIN_EINVAL);
  ASSERT_EQ(ain_source_path_check("a..b", &err), AIN_EINVAL);
  ASSERT_EQ(ain_source_path_check("a[1", &err), AIN_EINVAL);
  ASSERT_EQ(ain_source_path_check("$x", &err), AIN_EINVAL);
}

TEST(rfc822_dates) {
  ASSERT_EQ(ain_feed_rfc822_time("Mon, 07 Dec 2026 10:00:00 GMT"), 1796637600LL);
  ASSERT_EQ(ain_feed_rfc822_time("7 Dec 2026 10:00 +0100"), 1796637600LL - 3600);
  ASSERT_EQ(ain_feed_rfc822_time("Mon, 07 Dec 2026 05:00:00 EST"), 1796637600LL);
  ASSERT_EQ(ain_feed_rfc822_time("Tue, 1 Jan 70 00:00:00 UT"), 0);
  ASSERT_EQ(ain_feed_rfc822_time("Mon, 07 Foo 2026 10:00:00 GMT"), -1);
  ASSERT_EQ(ain_feed_rfc822_time("Mon, 07 Dec 2026 10:00:00 XYZ"), -1);
  ASSERT_EQ(ain_feed_rfc822_time("2026-12-07T10:00:00Z"), -1);
  ASSERT_EQ(ain_feed_rfc822_time(NULL), -1);
}

TEST(backoff) {
  ASSERT_EQ(ain_feed_backoff_ms(1000, 600000, 0, 0.5), 0);
  ASSERT_EQ(ain_feed_backoff_ms(1000, 600000, 1, 0.0), 750);
  ASSERT_EQ(ain_feed_backoff_ms(1000, 600000, 1, 0.999), 999);
  ASSERT_EQ(ain_feed_backoff_ms(1000, 600000, 3, 0.0), 3000);  /* 4 s, jittered down to 75% */
  ASSERT_EQ(ain_feed_backoff_ms(1000, 600000, 11, 0.0), 450000); /* capped at 600 s */
  ASSERT_EQ(ain_feed_backoff_ms(1000, 600000, 1000000, 0.0), 450000); /* no overflow */
  ASSERT_EQ(ain_feed_backoff_ms(1000, 600000, 2, -3), 1500); /* bad jitter = none */
  for (int64_t f = 1; f < 40; f++) { /* never shrinks as failures grow */
    ASSERT_LE(ain_feed_backoff_ms(500, 60000, f, 0.0), ain_feed_backoff_ms(500, 60000, f + 1, 0.0));
  }
}

TEST(record_check) {
  ain_err_t err;
  ain_err_clear(&err);
  cJSON *r = cJSON_Parse("{\"title\":\"x\",\"tags\":\"a\"}");
  ASSERT_EQ(ain_feed_check_record(r, "s", &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.msg, "tags: expected an array of strings, got string");
  cJSON_Delete(r);
  r = cJSON_Parse("{\"title\":\"   \"}");
  ASSERT_EQ(ain_feed_check_record(r, "s", &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.msg, "title: empty");
  cJSON_Delete(r);
  r = cJSON_Parse("{\"title\":\"x\",\"ts\":{}}");
  ASSERT_EQ(ain_feed_check_record(r, "s", &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "ts: expected a string or a number, got object");
  cJSON_Delete(r);
  r = cJSON_Parse("{\"title\":\"x\",\"source\":\"spoofed\"}");
  ASSERT_OK(ain_feed_check_record(r, "real", &err));
  ASSERT_STR_EQ(str_of(r, "source"), "real");
  cJSON_Delete(r);
}

/* ---- the config key ----------------------------------------------------------------------------- */

static int load(const char *text, ain_config_t *cfg, ain_err_t *err) {
  static char path[1024];
  snprintf(path, sizeof path, "%s/sources.lua", ain_test_tmpdir());
  FILE *f = fopen(path, "w");
  ASSERT_NOT_NULL(f);
  fputs(text, f);
  fclose(f);
  ain_config_defaults(cfg);
  ain_err_clear(err);
  return ain_config_load(cfg, path, err);
}

TEST(config_sources) {
  ain_config_t cfg;
  ain_err_t err;
  ASSERT_OK(load("sources = {\n"
                 "  { name = \"hn\", kind = \"http\", url = \"http://127.0.0.1:1/f.json\",\n"
                 "    map = { items = \"$.items[*]\", title = \"t\" }, interval_ms = 5000 },\n"
                 "  { name = \"blog\", kind = \"atom\", url = \"https://e.x/atom\" },\n"
                 "  { name = \"push\", kind = \"redis\", url = \"redis://127.0.0.1:6379\","
                 " stream = \"trends\" },\n"
                 "  { name = \"more\", kind = \"jsonl\", path = \"more.jsonl\" },\n"
                 "}\n",
                 &cfg, &err));
  ASSERT_EQ(cfg.sources.n, 4);
  ASSERT_EQ(cfg.sources.list[0].interval_ms, 5000);
  ASSERT_EQ(cfg.sources.list[1].min_interval_ms, 1000); /* defaults */
  ASSERT_STR_EQ(cfg.sources.list[2].group, "ain");
  ASSERT_TRUE(cfg.sources.list[3].path[0] == '/'); /* resolved against the config's folder */
  ain_config_free(&cfg);
  static const struct {
    const char *text, *field, *msg;
  } bad[] = {
      {"sources = { { kind = \"rss\", url = \"http://e.x/\" } }", "sources[1].name", "is required"},
      {"sources = { { name = \"a\", url = \"http://e.x/\" } }", "sources[1].kind", "is required"},
      {"sources = { { name = \"a\", kind = \"gopher\" } }", "sources[1].kind",
       "must be one of jsonl, http, rss, atom, redis"},
      {"sources = { { name = \"a\", kind = \"rss\", url = \"ftp://e.x/\" } }", "sources[1].url",
       "must be an http:// or https:// URL"},
      {"sources = { { name = \"a\", kind = \"rss\", url = \"http://e.x/\", colour = 1 } }",
       "sources[1].colour", "is not a source key"},
      {"sources = { { name = \"a\", kind = \"rss\", url = \"http://e.x/\", interval_ms = 5 } }",
       "sources[1].interval_ms", "must be an integer from 100"},
      {"sources = { { name = \"a\", kind = \"http\", url = \"http://e.x/\" } }", "sources[1].map",
       "is required for kind http"},
      {"sources = { { name = \"a\", kind = \"http\", url = \"http://e.x/\", map = { summary = "
       "\"s\" } } }",
       "sources[1].map.title", "is required"},
      {"sources = { { name = \"a\", kind = \"http\", url = \"http://e.x/\", map = { title = "
       "\"a[*].b[*]\" } } }",
       "sources[1].map.title", "at most one [*]"},
      {"sources = { { name = \"a\", kind = \"http\", url = \"http://e.x/\", map = { title = "
       "\"t\", colour = \"c\" } } }",
       "sources[1].map.colour", "is not a trend field"},
      {"sources = { { name = \"a\", kind = \"rss\", url = \"http://e.x/\" }, { name = \"a\", kind "
       "= \"atom\", url = \"http://e.x/\" } }",
       "sources[2]", "is taken"},
      {"sources = { { name = \"trends\", kind = \"rss\", url = \"http://e.x/\" } }", "sources[1]",
       "is taken"},
      {"sources = { { name = \"a b\", kind = \"rss\", url = \"http://e.x/\" } }", "sources[1].name",
       "must be 1 to 64 of"},
      {"sources = { { name = \"r\", kind = \"redis\", url = \"redis://h:1\" } }",
       "sources[1].stream", "is required for kind redis"},
      {"sources = { { name = \"r\", kind = \"jsonl\" } }", "sources[1].path", "is required"},
      {"sources = { a = { name = \"r\" } }", "sources", "must be an array"},
      {"sources = \"x\"", "sources", "must be an array of tables"},
      {"sources = { 5 }", "sources[1]", "must be a table"},
      {"sources = { { name = \"a\", kind = \"rss\", url = \"http://e.x/\", backoff_base_ms = "
       "5000, backoff_max_ms = 1000 } }",
       "sources[1].backoff_max_ms", "must not be below backoff_base_ms"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    int rc = load(bad[i].text, &cfg, &err);
    if (rc != AIN_ECONFIG || strcmp(err.field, bad[i].field) != 0 ||
        strstr(err.msg, bad[i].msg) == NULL) {
      AIN__FAIL("case %zu (%s): rc %d field '%s' msg '%s'", i, bad[i].text, rc, err.field,
                err.msg);
    }
    ain_config_free(&cfg);
  }
}

TEST_MAIN(TEST_ENTRY(rss_items_cdata_entities_dates), TEST_ENTRY(atom_entries),
          TEST_ENTRY(encodings), TEST_ENTRY(bombs_and_external_entities_are_refused),
          TEST_ENTRY(truncated_and_malformed_xml), TEST_ENTRY(json_mapping),
          TEST_ENTRY(bad_json_documents), TEST_ENTRY(paths), TEST_ENTRY(rfc822_dates),
          TEST_ENTRY(backoff), TEST_ENTRY(record_check), TEST_ENTRY(config_sources))
