/* Tests for ain.text (engine/lua/text*.c): fold (NFKC, case folding, diacritics, confusables),
 * tokens (spans into the original, leet, joins, apostrophes, stems), stem, numbers, and the bad
 * cases (invalid UTF-8, empty input, the 1 MiB limit, inputs built to make a tokenizer
 * quadratic). Most cases run in a plain LuaJIT state with ain.text registered (nothing charged);
 * the last ones run a real policy call (tests/fixtures/lua/scripts/agents/text_use.lua) where the
 * work is charged to the call's CPU and memory budgets. */
#include <lauxlib.h>
#include <lualib.h>
#include <uv.h>

#include "core/util.h"
#include "harness.h"
#include "lua/host.h"
#include "lua/internal.h"
#include "lua/text.h"

/* A plain state with T = ain.text and W(s [, opts]) = the tokens' w joined by spaces. */
static lua_State *state(void) {
  lua_State *L = luaL_newstate();
  ASSERT_NOT_NULL(L);
  luaL_openlibs(L);
  lua_newtable(L);
  ain__lua_add_text(L, NULL);
  lua_getfield(L, -1, "text");
  lua_setglobal(L, "T");
  lua_pop(L, 1);
  ASSERT_OK(luaL_dostring(L, "function W(s, o)\n"
                             "  local out = {}\n"
                             "  for _, t in ipairs(T.tokens(s, o)) do out[#out + 1] = t.w end\n"
                             "  return table.concat(out, ' ')\n"
                             "end\n"
                             "function N(s)\n"
                             "  local out = {}\n"
                             "  for _, t in ipairs(T.numbers(s)) do\n"
                             "    out[#out + 1] = t.value .. '@' .. t.i .. '-' .. t.j\n"
                             "  end\n"
                             "  return table.concat(out, ' ')\n"
                             "end\n"));
  return L;
}

/* Runs `return <expr>` and returns its string value (or "ERR: message"), caller frees. */
static char *eval(lua_State *L, const char *expr) {
  char code[4096];
  snprintf(code, sizeof code, "return %s", expr);
  char *out;
  if (luaL_dostring(L, code) != 0) {
    const char *m = lua_tostring(L, -1);
    size_t n = strlen(m) + 8;
    out = malloc(n);
    snprintf(out, n, "ERR: %s", m);
  } else {
    const char *v = lua_tostring(L, -1);
    out = ain_strdup(v ? v : "(not a string)");
  }
  lua_settop(L, 0);
  return out;
}

#define EXPECT(L, expr, want)                                                                      \
  do {                                                                                             \
    char *got_ = eval((L), (expr));                                                                \
    if (strcmp(got_, (want)) != 0) {                                                               \
      fprintf(stderr, "%s\n  got:  %s\n  want: %s\n", (expr), got_, (want));                       \
    }                                                                                              \
    ASSERT_STR_EQ(got_, (want));                                                                   \
    free(got_);                                                                                    \
  } while (0)

#define EXPECT_ERR(L, expr, needle)                                                                \
  do {                                                                                             \
    char *got_ = eval((L), (expr));                                                                \
    ASSERT_STR_CONTAINS(got_, "ERR: ");                                                            \
    ASSERT_STR_CONTAINS(got_, (needle));                                                           \
    free(got_);                                                                                    \
  } while (0)

TEST(fold_nfkc) {
  lua_State *L = state();
  EXPECT(L,
         "T.fold('\xef\xbd\x86\xef\xbd\x95\xef\xbd\x8c\xef\xbd\x8c\xef\xbd\x97\xef\xbd\x89"
         "\xef\xbd\x84\xef\xbd\x94\xef\xbd\x88')",
         "fullwidth"); /* ｆｕｌｌｗｉｄｔｈ */
  EXPECT(L, "T.fold('\xf0\x9d\x90\x81\xf0\x9d\x90\xa8\xf0\x9d\x90\xa5\xf0\x9d\x90\x9d')", "bold");
  EXPECT(L, "T.fold('\xef\xac\x81ne')", "fine");                               /* ﬁ ligature */
  EXPECT(L, "T.fold('x\xc2\xb2')", "x2");                                      /* superscript two */
  EXPECT(L, "T.fold('\xed\x95\x9c\xea\xb5\xad')", "\xed\x95\x9c\xea\xb5\xad"); /* 한국 whole */
  lua_close(L);
}

TEST(fold_case) {
  lua_State *L = state();
  EXPECT(L,
         "T.fold('Stra\xc3\x9f"
         "e')",
         "strasse");                                  /* ß */
  EXPECT(L, "T.fold('\xc4\xb0stanbul')", "istanbul"); /* İ: i + dot above, the dot dropped */
  EXPECT(L, "T.fold('HELLO World')", "hello world");
  EXPECT(L, "T.fold('\xce\xa3\xcf\x8e\xce\xbc\xce\xb1')",
         "\xcf\x83w\xce\xbc"
         "a"); /* Σώμα: ω looks like w */
  lua_close(L);
}

TEST(fold_confusables) {
  ASSERT_OK(ain_text_confusables_check());
  lua_State *L = state();
  EXPECT(L, "T.fold('\xd0\x9d\xd0\xb5ll\xd0\xbe')", "hello"); /* Cyrillic Н, е, о */
  EXPECT(L,
         "T.fold('g\xce\xbf\xce\xbf"
         "d')",
         "good");                                                        /* Greek omicron */
  EXPECT(L, "T.fold('\xd0\xa0\xd0\x90\xd0\xa0\xd0\x90')", "papa");       /* Cyrillic Р А Р А */
  EXPECT(L, "T.fold('\xce\x9d\xce\x91\xce\x96\xce\x99')", "nazi");       /* Greek Ν Α Ζ Ι */
  EXPECT(L, "T.fold('don\xe2\x80\x99t \xe2\x80\x94 ok')", "don't - ok"); /* ’ and — */
  EXPECT(L, "T.fold('\xe1\x8e\xaa')", "a");                              /* Cherokee Ꭺ */
  lua_close(L);
}

TEST(fold_diacritics_no_leet) {
  lua_State *L = state();
  EXPECT(L, "T.fold('caf\xc3\xa9')", "cafe");  /* precomposed é */
  EXPECT(L, "T.fold('cafe\xcc\x81')", "cafe"); /* e + combining acute */
  EXPECT(L, "T.fold('na\xc3\xafve \xc3\x85ngstr\xc3\xb6m')", "naive angstrom");
  EXPECT(L,
         "T.fold('\xc5\x81\xc3\xb3"
         "d\xc5\xba')",
         "lodz");                                          /* Łódź */
  EXPECT(L, "T.fold('k1ll h@te 2024')", "k1ll h@te 2024"); /* no leet in fold */
  EXPECT(L, "T.fold('k\xe2\x80\x8bill')", "kill");         /* zero-width space dropped */
  lua_close(L);
}

TEST(tokens_leet) {
  lua_State *L = state();
  EXPECT(L, "W('k1ll h@te n4z1 $uicide')", "kill hate nazi suicide");
  EXPECT(L, "W('l33t k!ll 1diot sh|t')", "leet kill idiot shlt");
  EXPECT(L, "W('in 2024 we made 10000 dollars')", "in 2024 we made 10000 dollars");
  EXPECT(L, "W('mail a@b.com now')", "mail a b com now");
  EXPECT(L, "W('10k steps at 5am, 2nd covid19 mp3')", "10k steps at 5am 2nd covid19 mp3");
  EXPECT(L, "W('wow!! hello! Kill them all!')", "wow hello kill them all");
  EXPECT(L, "W('$100 and $$$ @coach')", "100 and coach");
  EXPECT(L, "W('k1ll h@te', {leet = false})", "k1ll h te");
  EXPECT(L, "W('K\xd0\x86LL')", "kill"); /* Cyrillic І inside */
  /* alt: every digit read as a letter, only where leet left digits beside letters */
  EXPECT(L,
         "(function() local o = {}\n"
         "  for _, t in ipairs(T.tokens('r1sk-fr33 a55 covid19 kill 2024')) do\n"
         "    o[#o + 1] = t.w .. '>' .. tostring(t.alt) end\n"
         "  return table.concat(o, ' ') end)()",
         "risk>nil fr33>free a55>ass covid19>covidig kill>nil 2024>nil");
  lua_close(L);
}

TEST(tokens_join) {
  lua_State *L = state();
  EXPECT(L, "W('H y p e Forge')", "hype forge");
  EXPECT(L, "W('k.i.l.l them')", "kill them");
  EXPECT(L, "W('s-e-x tape')", "sex tape");
  EXPECT(L, "W('a*b*c, d_e_f; g\xc2\xb7h\xc2\xb7i')", "abc def ghi");
  EXPECT(L, "W('n a z i')", "nazi");
  EXPECT(L, "W('k 1 l l')", "kill"); /* joined, then leet */
  EXPECT(L, "W('Hype-Forge kill_them')", "hype forge kill them");
  EXPECT(L, "W('H y p e', {join = false})", "h y p e");
  EXPECT(L, "W('plan a or b')", "plan a or b"); /* two single letters do not join */
  EXPECT(L, "W('k..i..l..l')", "k i l l");      /* two separators between: not one word */
  EXPECT(L, "W('a\\nb\\nc')", "a b c");         /* not across lines */
  EXPECT(L, "W('z e r o   r i s k investing')", "zero risk investing"); /* wider gap: a break */
  EXPECT(L, "W('r i s k - f r e e')", "risk free");
  EXPECT(L, "W('H  y  p  e')", "hype");
  lua_close(L);
}

TEST(tokens_spans) {
  lua_State *L = state();
  /* every token's span is its raw text, on a string mixing 1- to 4-byte characters */
  EXPECT(L,
         "(function()\n"
         "  local s = '\xef\xbc\xa8"
         "\xc3\xa9llo w\xc3\xb6rld \xf0\x9d\x90\x81\xf0\x9d\x90\xa8"
         "\xf0\x9d\x90\xa5\xf0\x9d\x90\x9d don\xe2\x80\x99t K1ll \xd0\x9d\xd0\xb5ll\xd0\xbe "
         "\xef\xac\x81ne \xed\x95\x9c\xea\xb5\xad cafe\xcc\x81 H y p e! k\xe2\x80\x8bill'\n"
         "  local out = {}\n"
         "  for _, t in ipairs(T.tokens(s)) do\n"
         "    assert(s:sub(t.i, t.j) == t.raw, t.w)\n"
         "    assert(t.i >= 1 and t.j <= #s and t.i <= t.j, t.w)\n"
         "    out[#out + 1] = t.w .. '=' .. t.raw\n"
         "  end\n"
         "  return table.concat(out, '|')\n"
         "end)()",
         "hello=\xef\xbc\xa8\xc3\xa9llo|world=w\xc3\xb6rld|bold=\xf0\x9d\x90\x81\xf0\x9d\x90\xa8"
         "\xf0\x9d\x90\xa5\xf0\x9d\x90\x9d|dont=don\xe2\x80\x99t|kill=K1ll|hello=\xd0\x9d\xd0\xb5ll"
         "\xd0\xbe|fine=\xef\xac\x81ne|\xed\x95\x9c\xea\xb5\xad=\xed\x95\x9c\xea\xb5\xad|cafe=cafe"
         "\xcc\x81|hype=H y p e|kill=k\xe2\x80\x8bill");
  EXPECT(L, "(function() local t = T.tokens('  ab  cd')[2] return t.i .. '-' .. t.j end)()", "7-8");
  lua_close(L);
}

TEST(tokens_apostrophes) {
  lua_State *L = state();
  EXPECT(L, "W(\"don't I'm\")", "dont im");
  EXPECT(L, "W('don\xe2\x80\x99t it\xca\xbcs')", "dont its");
  EXPECT(L, "W(\"'quoted' dogs' 'tis\")", "quoted dogs tis");
  lua_close(L);
}

TEST(stems) {
  lua_State *L = state();
  EXPECT(L,
         "(function() local o = {}\n"
         "  for _, t in ipairs(T.tokens('Workout CURES diabetes, reversing it; shrinks tumors',"
         "                             {stem = true})) do o[#o + 1] = t.stem end\n"
         "  return table.concat(o, ' ') end)()",
         "workout cure diabet revers it shrink tumor");
  EXPECT(L, "T.stem('cures') .. ' ' .. T.stem('running') .. ' ' .. T.stem('tumors')",
         "cure run tumor");
  EXPECT(L, "T.stem('chats', 'french')", "chat");
  EXPECT(L, "tostring(T.tokens('cures')[1].stem)", "nil"); /* stem is off by default */
  EXPECT_ERR(L, "T.stem('x', 'klingon')", "unknown language \"klingon\"");
  EXPECT_ERR(L, "T.tokens('x', {stem = 'yes'})", "opts.stem must be a boolean");
  EXPECT_ERR(L, "T.tokens('x', 5)", "table expected");
  lua_close(L);
}

TEST(numbers) {
  lua_State *L = state();
  EXPECT(L, "N('five five five, zero one three two')", "5550132@1-34");
  EXPECT(L, "N('call 555 oh one 32 now')", "5550132@6-18");
  EXPECT(L, "N('double five seven')", "557@1-17");
  EXPECT(L, "N('triple oh')", "000@1-9");
  EXPECT(L, "N('five oh five')", "505@1-12");
  EXPECT(L, "N('oh five, oh')", "5@4-7"); /* a leading or trailing oh is no digit */
  EXPECT(L, "N('oh well')", "");
  EXPECT(L, "N('555-0132 and (555) 013-2')", "5550132@1-8 5550132@15-24");
  EXPECT(L, "N('fifty five, eight hundred')", "55800@1-25");
  EXPECT(L, "N('FIVE five; five')", "55@1-9 5@12-15");         /* a ; ends the run */
  EXPECT(L, "N('\xef\xbc\x95\xef\xbc\x95 five')", "555@1-11"); /* fullwidth digits */
  EXPECT(L, "N('hundred dollars')", "");
  lua_close(L);
}

TEST(bad_input) {
  lua_State *L = state();
  EXPECT_ERR(L, "T.fold('abc\\255')", "ain.text.fold: invalid UTF-8 at byte 4");
  EXPECT_ERR(L, "T.tokens('ab\\192\\175')",
             "ain.text.tokens: invalid UTF-8 at byte 3"); /* overlong */
  EXPECT_ERR(L, "T.numbers('\\237\\160\\128')",
             "ain.text.numbers: invalid UTF-8 at byte 1");           /* surrogate */
  EXPECT_ERR(L, "T.fold('x\\226\\130')", "invalid UTF-8 at byte 2"); /* truncated */
  EXPECT_ERR(L, "T.fold(nil)", "string expected");
  EXPECT(L, "T.fold('')", "");
  EXPECT(L, "#T.tokens('') .. #T.numbers('') .. T.stem('')", "00");
  EXPECT(L, "#T.tokens(' .,;!? ')", "0");
  EXPECT_ERR(L, "T.fold(string.rep('a', 1048577))",
             "ain.text.fold: input of 1048577 bytes is over the limit of 1048576 bytes (1 MiB)");
  EXPECT_ERR(L, "T.tokens(string.rep('a', 1048577))", "over the limit of 1048576 bytes");
  EXPECT_ERR(L, "T.numbers(string.rep('a', 1048577))", "over the limit of 1048576 bytes");
  EXPECT(L, "#T.fold(string.rep('A', 1048576))", "1048576");
  lua_close(L);
}

/* Inputs that would make a careless tokenizer quadratic, 256 KiB each: a quadratic pass would
 * take ~7 * 10^10 steps (minutes); these take well under a second each, ~3 s under ASan. */
TEST(linear_time) {
  lua_State *L = state();
  static const char *const cases[] = {
      "string.rep('@', 262144)",
      "string.rep('a@', 131072)",
      "string.rep(\"a'\", 131072)",
      "string.rep('$', 262144)",
      "'a' .. string.rep('\\204\\129', 131071)", /* one letter, 128 Ki accents */
      "string.rep('k ', 131072)",                /* one joined word of 128 Ki letters */
      "string.rep('1', 262144)",
      "string.rep('five ', 52428)",
      "string.rep('a.', 131072)",
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    char expr[512];
    snprintf(expr, sizeof expr,
             "(function() local s = %s\n"
             "  local n = #T.tokens(s) + #T.tokens(s, {stem = true}) + #T.numbers(s) + #T.fold(s)\n"
             "  return 'ok' end)()",
             cases[k]);
    uint64_t t0 = ain_mono_ns();
    EXPECT(L, expr, "ok");
    double ms = (double)(ain_mono_ns() - t0) / 1e6;
    fprintf(stderr, "%s: %.0f ms\n", cases[k], ms);
    ASSERT_TRUE(ms < 10000);
  }
  lua_close(L);
}

/* Random strings from fragments that exercise every rule (letters in 1- to 4-byte encodings,
 * digits, leet symbols, separators, apostrophes, marks, zero-width characters, number words,
 * bad bytes): each call either raises the UTF-8 error or returns words whose spans are their raw
 * text, in order and without overlap, with a non-empty w; numbers' spans likewise. */
TEST(random_spans) {
  lua_State *L = state();
  EXPECT(
      L,
      "(function()\n"
      "  local frags = { 'a', 'K', '1', '0', '@', '$', '!', '|', '.', '-', '_', '*', ' ', '  ',\n"
      "    \"'\", '\\n', ',', ';', 'five', 'oh', 'double', '\\195\\169', 'e\\204\\129',\n"
      "    '\\208\\157', '\\226\\128\\139', '\\226\\128\\153', '\\239\\188\\161',\n"
      "    '\\240\\157\\144\\129', '\\237\\149\\156', '\\194\\183', '\\239\\172\\129',\n"
      "    '\\255', '\\192\\175', '\\226\\130' }\n"
      "  math.randomseed(13)\n"
      "  local ok_n, err_n = 0, 0\n"
      "  for _ = 1, 3000 do\n"
      "    local parts = {}\n"
      "    for k = 1, math.random(0, 24) do parts[k] = frags[math.random(#frags)] end\n"
      "    local s = table.concat(parts)\n"
      "    local ok, toks = pcall(T.tokens, s, { stem = math.random() < 0.5,\n"
      "                                          join = math.random() < 0.7 })\n"
      "    if ok then\n"
      "      ok_n = ok_n + 1\n"
      "      local last = 0\n"
      "      for _, t in ipairs(toks) do\n"
      "        assert(t.i > last and t.i <= t.j and t.j <= #s, s)\n"
      "        assert(s:sub(t.i, t.j) == t.raw and #t.w > 0, s)\n"
      "        last = t.j\n"
      "      end\n"
      "      last = 0\n"
      "      for _, n in ipairs(T.numbers(s)) do\n"
      "        assert(n.i > last and n.i <= n.j and n.j <= #s and n.value:match('^%d+$'), s)\n"
      "        last = n.j\n"
      "      end\n"
      "      assert(T.fold(s))\n"
      "    else\n"
      "      assert(tostring(toks):find('invalid UTF-8 at byte', 1, true), toks)\n"
      "      err_n = err_n + 1\n"
      "    end\n"
      "  end\n"
      "  assert(ok_n > 1000 and err_n > 500, ok_n .. ' ' .. err_n)\n"
      "  return 'ok'\n"
      "end)()",
      "ok");
  lua_close(L);
}

/* A real policy call: ain.text is in the sandbox's ain, read-only, and charged to the budgets. */
typedef struct {
  int calls, status;
  char *result, *error;
} outcome_t;

static void on_done(ain_lua_call_t *call, int status, const char *result, const char *error,
                    void *data) {
  (void)call;
  outcome_t *o = data;
  o->calls++;
  o->status = status;
  o->result = result ? ain_strdup(result) : NULL;
  o->error = error ? ain_strdup(error) : NULL;
}

static void policy_call(size_t mem, uint64_t cpu, const char *fn, const char *payload,
                        outcome_t *o) {
  uv_loop_t loop;
  ASSERT_OK(uv_loop_init(&loop));
  ain_lua_opts_t lo = {.scripts_dir = ain_test_src("tests/fixtures/lua/scripts"),
                       .name = "test",
                       .mem_limit = mem,
                       .cpu_budget = cpu,
                       .cpu_ms = 60000};
  ain_lua_host_t *h = NULL;
  ain_err_t err = {0};
  ASSERT_OK(ain_lua_host_new(&loop, &lo, &h, &err));
  ain_lua_call_opts_t co = {.module = "text_use", .function = fn, .payload_json = payload};
  ASSERT_OK(ain_lua_call(h, &co, on_done, o, NULL, &err));
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_EQ(o->calls, 1);
  ain_lua_host_free(h);
  ASSERT_OK(uv_run(&loop, UV_RUN_DEFAULT));
  ASSERT_OK(uv_loop_close(&loop));
}

TEST(in_policy_call) {
  outcome_t o = {0};
  policy_call(0, 0, "words", "{\"text\":\"Workout CURES diab\\u0435tes\"}", &o);
  if (o.status != 0) {
    fprintf(stderr, "words: %s\n", o.error);
  }
  ASSERT_EQ(o.status, 0);
  ASSERT_STR_CONTAINS(o.result, "\"words\":\"workout:workout cures:cure diabetes:diabet\"");
  ASSERT_STR_CONTAINS(o.result, "\"fold\":\"workout cures diabetes\"");
  free(o.result);
  free(o.error);
  memset(&o, 0, sizeof o);
  policy_call(0, 0, "overwrite", NULL, &o);
  ASSERT_NE(o.status, 0);
  ASSERT_STR_CONTAINS(o.error, "ain.text");
  free(o.result);
  free(o.error);
}

TEST(charged_to_budgets) {
  outcome_t o = {0};
  policy_call(0, 50000000, "spin", NULL, &o); /* 50 M instructions: a dozen 512 KiB calls */
  ASSERT_EQ(o.status, AIN_EBUDGET_CPU);
  ASSERT_STR_CONTAINS(o.error, "used more than 50000000 instructions");
  free(o.result);
  free(o.error);
  memset(&o, 0, sizeof o);
  policy_call((size_t)32 << 20, 0, "big", NULL, &o); /* 512 Ki tokens do not fit in 32 MiB */
  if (o.status != AIN_EBUDGET_MEM) {
    fprintf(stderr, "big: %d %s\n", o.status, o.error ? o.error : o.result);
  }
  ASSERT_EQ(o.status, AIN_EBUDGET_MEM);
  free(o.result);
  free(o.error);
}

TEST_MAIN(TEST_ENTRY(fold_nfkc), TEST_ENTRY(fold_case), TEST_ENTRY(fold_confusables),
          TEST_ENTRY(fold_diacritics_no_leet), TEST_ENTRY(tokens_leet), TEST_ENTRY(tokens_join),
          TEST_ENTRY(tokens_spans), TEST_ENTRY(tokens_apostrophes), TEST_ENTRY(stems),
          TEST_ENTRY(numbers), TEST_ENTRY(bad_input), TEST_ENTRY(linear_time),
          TEST_ENTRY(random_spans), TEST_ENTRY(in_policy_call), TEST_ENTRY(charged_to_budgets))
