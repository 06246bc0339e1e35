/* Tests for the text on screen (issue 12 §5): title fitting (wrap, shrink, an ellipsis at most)
 * for long English titles, CJK without spaces, Arabic, emoji and one very long word; the safe
 * areas as data per platform and the floor every caption obeys; the caption words as written,
 * timed by the spoken words ("in a row;", "12-3-30", "50/30/20", URLs, emoji, spelled-out
 * numbers); the persona layout and title size in the ASS script. Pure functions, no I/O. */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "harness.h"
#include "media/media.h"

static int count_str(const char *s, const char *needle) {
  int n = 0;
  for (const char *p = s; (p = strstr(p, needle)) != NULL; p += strlen(needle)) {
    n++;
  }
  return n;
}

/* Every line of a fit must be within the box by the width model. */
static void assert_lines_fit(const ain_media_text_fit_t *f, int box) {
  const char *p = f->text;
  int lines = 0;
  for (;;) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    double px = ain_media_text_em(p, len) * f->font_size;
    if (px > box) {
      fprintf(stderr, "line \"%.*s\" is %.0f px in a %d px box\n", (int)len, p, px, box);
    }
    ASSERT_LE((long long)px, box);
    lines++;
    if (nl == NULL) {
      break;
    }
    p = nl + 1;
  }
  ASSERT_EQ(lines, f->lines);
}

/* The words of s in order (space separated), ignoring "…" and line breaks. */
static void assert_same_words(const char *fitted, const char *orig) {
  char a[2048], b[2048];
  size_t n = 0;
  for (const char *p = fitted; *p && n + 1 < sizeof a; p++) {
    a[n++] = *p == '\n' ? ' ' : *p;
  }
  a[n] = '\0';
  snprintf(b, sizeof b, "%s", orig);
  ASSERT_STR_EQ(a, b);
}

TEST(fit_long_english_title_wraps_and_shrinks) {
  const char *t = "Ultramarathoner finishes 12-3-30 treadmill challenge after 100 straight "
                  "days in a row; doctors are stunned";
  ain_media_text_fit_t f;
  ain_err_t err = {0};
  ASSERT_OK(ain_media_text_fit(t, 860, 3, 72, 36, &f, &err));
  ASSERT_EQ(f.cut, 0);
  ASSERT_LE(f.lines, 3);
  ASSERT_TRUE(f.font_size < 72); /* it had to shrink to keep every word */
  ASSERT_GE(f.font_size, 36);
  assert_lines_fit(&f, 860);
  assert_same_words(f.text, t);
  ASSERT_TRUE(strstr(f.text, "\xE2\x80\xA6") == NULL);
  ain_media_text_fit_free(&f);
  /* a short title keeps its size and one line */
  ASSERT_OK(ain_media_text_fit("Short title", 780, 3, 72, 40, &f, &err));
  ASSERT_EQ(f.font_size, 72);
  ASSERT_EQ(f.lines, 1);
  ASSERT_STR_EQ(f.text, "Short title");
  ain_media_text_fit_free(&f);
}

TEST(fit_cjk_breaks_between_characters) {
  const char *t = "京都の秋 — 旅行者に人気の静かな寺、紅葉の名所を歩く一日の旅";
  ain_media_text_fit_t f;
  ain_err_t err = {0};
  ASSERT_OK(ain_media_text_fit(t, 500, 3, 60, 30, &f, &err));
  ASSERT_EQ(f.cut, 0);
  ASSERT_GE(f.lines, 2); /* no spaces inside, yet it wraps */
  assert_lines_fit(&f, 500);
  /* every character kept, none doubled: removing the breaks gives the title back */
  char joined[512];
  size_t n = 0;
  for (const char *p = f.text; *p; p++) {
    if (*p != '\n') {
      joined[n++] = *p;
    }
  }
  joined[n] = '\0';
  char want[512];
  n = 0;
  for (const char *p = t; *p; p++) {
    if (*p != ' ' || (p > t && strncmp(p - 3, "\xE2\x80\x94", 3) == 0) ||
        strncmp(p + 1, "\xE2\x80\x94", 3) == 0) {
      want[n++] = *p;
    }
  }
  want[n] = '\0';
  ASSERT_STR_EQ(joined, want);
  /* kinsoku: no line starts with "、" */
  ASSERT_TRUE(strstr(f.text, "\n\xE3\x80\x81") == NULL);
  ain_media_text_fit_free(&f);
}

TEST(fit_arabic_and_emoji) {
  ain_media_text_fit_t f;
  ain_err_t err = {0};
  const char *ar = "مهرجان الموسيقى في الرياض يجذب آلاف الزوار من كل أنحاء العالم";
  ASSERT_OK(ain_media_text_fit(ar, 600, 3, 72, 40, &f, &err));
  ASSERT_EQ(f.cut, 0);
  assert_lines_fit(&f, 600);
  assert_same_words(f.text, ar);
  ain_media_text_fit_free(&f);
  const char *em = "Tokyo's tiny ramen bars go cashless \xF0\x9F\x8D\x9C\xF0\x9F\x94\xA5";
  ASSERT_OK(ain_media_text_fit(em, 600, 3, 72, 40, &f, &err));
  ASSERT_TRUE(strstr(f.text, "\xF0\x9F\x8D\x9C") != NULL); /* the emoji stays on screen */
  assert_lines_fit(&f, 600);
  assert_same_words(f.text, em);
  ain_media_text_fit_free(&f);
  /* an emoji is wider than a letter in the model, a joiner is nothing */
  ASSERT_TRUE(ain_media_text_em("\xF0\x9F\x8D\x9C", 4) > ain_media_text_em("m", 1));
  ASSERT_TRUE(ain_media_text_em("\xE2\x80\x8D", 3) == 0.0);
}

TEST(fit_one_very_long_word_gets_an_ellipsis) {
  char word[400];
  memset(word, 'x', sizeof word - 1);
  word[sizeof word - 1] = '\0';
  ain_media_text_fit_t f;
  ain_err_t err = {0};
  ASSERT_OK(ain_media_text_fit(word, 400, 2, 60, 30, &f, &err));
  ASSERT_EQ(f.cut, 1);
  ASSERT_EQ(f.font_size, 30);
  ASSERT_EQ(f.lines, 2);
  size_t len = strlen(f.text);
  ASSERT_TRUE(len > 3 && strcmp(f.text + len - 3, "\xE2\x80\xA6") == 0);
  assert_lines_fit(&f, 400);
  ain_media_text_fit_free(&f);
  /* a word a bit longer than a line is broken inside, nothing lost, no ellipsis */
  ASSERT_OK(ain_media_text_fit("Supercalifragilisticexpialidocious day", 420, 3, 40, 40, &f,
                               &err));
  ASSERT_EQ(f.cut, 0);
  ASSERT_TRUE(strstr(f.text, "\xE2\x80\xA6") == NULL);
  assert_lines_fit(&f, 420);
  ain_media_text_fit_free(&f);
  /* too many words for the box at the smallest size: cut at the end, with "…" */
  ASSERT_OK(ain_media_text_fit("one two three four five six seven eight nine ten eleven twelve",
                               200, 1, 40, 30, &f, &err));
  ASSERT_EQ(f.cut, 1);
  ASSERT_EQ(f.lines, 1);
  ASSERT_TRUE(strncmp(f.text, "one two", 7) == 0);
  ASSERT_TRUE(strstr(f.text, "\xE2\x80\xA6") != NULL);
  assert_lines_fit(&f, 200);
  ain_media_text_fit_free(&f);
  /* bad boxes are refused with the field named */
  ASSERT_EQ(ain_media_text_fit("x", 2, 1, 40, 30, &f, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "size");
  ASSERT_EQ(ain_media_text_fit("x", 200, 1, 30, 40, &f, &err), AIN_EINVAL);
  ASSERT_EQ(ain_media_text_fit(NULL, 200, 1, 40, 30, &f, &err), AIN_EINVAL);
  /* invalid UTF-8 does not loop or crash */
  ASSERT_OK(ain_media_text_fit("\xff\xfe bad \xC3", 200, 2, 40, 30, &f, &err));
  ain_media_text_fit_free(&f);
}

TEST(safe_area_profiles_are_data_and_obey_the_floor) {
  ain_err_t err = {0};
  int n = 0;
  for (const ain_media_safe_profile_t *p = ain_media_safe_profiles; p->name; p++, n++) {
    ain_media_safe_area_t sa;
    ASSERT_OK(ain_media_safe_area_profile(p->name, 1080, 1920, &sa, &err));
    ASSERT_GE(sa.top_px, 269);    /* 14 % of 1920 = 268.8 */
    ASSERT_GE(sa.bottom_px, 384); /* 20 % */
    ASSERT_GE(sa.right_px, 130);  /* 12 % of 1080 = 129.6 */
    ASSERT_TRUE(p->top >= ain_media_safe_floor.top && p->bottom >= ain_media_safe_floor.bottom &&
                p->right >= ain_media_safe_floor.right);
    /* the config accepts exactly the profiles media knows */
    ASSERT_TRUE(ain_config_safe_profile_known(p->name));
    /* scales with the size */
    ain_media_safe_area_t small;
    ASSERT_OK(ain_media_safe_area_profile(p->name, 360, 640, &small, &err));
    ASSERT_TRUE(small.top_px * 3 >= sa.top_px - 3 && small.top_px * 3 <= sa.top_px + 3);
  }
  ASSERT_EQ(n, 3);
  ASSERT_NOT_NULL(ain_media_safe_profile_find("reels"));
  ASSERT_TRUE(ain_media_safe_profile_find("reels")->bottom > ain_media_safe_profile_find("tiktok")->bottom);
  ASSERT_TRUE(!ain_config_safe_profile_known("myspace"));
  ain_media_safe_area_t sa;
  ASSERT_EQ(ain_media_safe_area_profile("myspace", 1080, 1920, &sa, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "safe_area.profile");
  ASSERT_STR_CONTAINS(err.msg, "myspace");
  /* the floor raises small bands and keeps larger ones */
  ain_media_safe_area_t low = {.top_px = 10, .bottom_px = 900, .left_px = 0, .right_px = 5};
  ain_media_safe_area_floor(&low, 1080, 1920);
  ASSERT_EQ(low.top_px, 269);
  ASSERT_EQ(low.bottom_px, 900);
  ASSERT_EQ(low.right_px, 130);
  /* the default channel uses the tiktok profile */
  ain_media_channel_t ch;
  ain_media_channel_default(&ch);
  ASSERT_GE(ch.safe.top_px, 269);
}

static ain_media_word_t S(const char *t, int64_t s, int64_t e) {
  ain_media_word_t w = {(char *)t, s, e};
  return w;
}

/* caption words of text against spoken words, as "word@start" joined by spaces */
static char *cap(const char *text, const ain_media_word_t *sp, size_t n) {
  ain_media_word_t *w = NULL;
  size_t nw = 0;
  ain_err_t err = {0};
  if (ain_media_caption_words(text, sp, n, &w, &nw, &err) != 0) {
    fprintf(stderr, "%s\n", err.msg);
    return NULL;
  }
  char *out = calloc(1, 4096);
  size_t len = 0;
  for (size_t i = 0; i < nw; i++) {
    len += (size_t)snprintf(out + len, 4096 - len, "%s%s@%lld", i ? " " : "", w[i].text,
                            (long long)w[i].start_ms);
    if (i > 0) {
      ASSERT_TRUE(w[i].start_ms > w[i - 1].start_ms);
      ASSERT_EQ(w[i - 1].end_ms, w[i].start_ms);
    }
    ASSERT_TRUE(w[i].end_ms > w[i].start_ms);
  }
  ain_media_words_free(w, nw);
  return out;
}

TEST(caption_words_as_written) {
  /* espeak-ng's events: "in" started inside the word ("i", "n"), "12-3-30" in three events */
  ain_media_word_t sp1[] = {S("Three", 0, 300), S("days", 300, 600), S("i", 600, 700),
                            S("n", 700, 800),   S("a", 800, 900),    S("row;", 900, 1200),
                            S("12", 1200, 1500), S("-", 1500, 1600), S("3", 1600, 1800),
                            S("-30", 1800, 2200), S("wins.", 2200, 2600)};
  char *c = cap("Three days in a row; 12-3-30 wins.", sp1, sizeof sp1 / sizeof sp1[0]);
  ASSERT_NOT_NULL(c);
  ASSERT_STR_EQ(c, "Three@0 days@300 in@600 a@800 row;@900 12-3-30@1200 wins.@2200");
  free(c);
  /* what espeak-ng really reported for "days in a row; doctors": events at "i" and at "n", the
   * second being the onset of "a row" (no event of its own for "row;") */
  ain_media_word_t sp1b[] = {S("days", 5107, 5336), S("i", 5336, 5475), S("n", 5475, 5978),
                             S("doctors", 5978, 6377)};
  c = cap("days in a row; doctors", sp1b, 4);
  ASSERT_NOT_NULL(c);
  ASSERT_STR_CONTAINS(c, "days@5107 in@5336 a@");
  ASSERT_STR_CONTAINS(c, " row;@5475 doctors@5978");
  free(c);
  /* the voice says numbers and ratios spelled out: the written tokens get times in between */
  ain_media_word_t sp2[] = {S("Save", 0, 400),    S("fifty", 400, 700), S("thirty", 700, 1000),
                            S("twenty", 1000, 1300), S("with", 1300, 1500), S("this", 1500, 1800),
                            S("rule", 1800, 2200)};
  c = cap("Save 50/30/20 with this rule", sp2, sizeof sp2 / sizeof sp2[0]);
  ASSERT_NOT_NULL(c);
  ASSERT_STR_EQ(c, "Save@0 50/30/20@400 with@1300 this@1500 rule@1800");
  free(c);
  /* a URL read out in pieces, an emoji that is not spoken, an em dash */
  ain_media_word_t sp3[] = {S("Visit", 0, 300),     S("example", 300, 700), S("dot", 700, 900),
                            S("com", 900, 1200),   S("slash", 1200, 1500), S("deals", 1500, 1900),
                            S("now", 1900, 2300),  S("ramen", 2300, 2700), S("rocks", 2700, 3000)};
  c = cap("Visit example.com/deals now \xE2\x80\x94 ramen \xF0\x9F\x8D\x9C rocks", sp3,
          sizeof sp3 / sizeof sp3[0]);
  ASSERT_NOT_NULL(c);
  ASSERT_STR_CONTAINS(c, "Visit@0 example.com/deals@");
  ASSERT_STR_CONTAINS(c, " now \xE2\x80\x94@1900 ramen \xF0\x9F\x8D\x9C@2300 rocks@2700");
  free(c);
  /* the same text spoken as written: every token pinned to its own onset */
  ain_media_word_t sp4[] = {S("Hello,", 100, 400), S("world!", 400, 900)};
  c = cap("Hello, world!", sp4, 2);
  ASSERT_STR_EQ(c, "Hello,@100 world!@400");
  free(c);
  /* a word the voice skipped is still captioned, between its neighbours */
  ain_media_word_t sp5[] = {S("one", 0, 500), S("three", 1000, 1500)};
  c = cap("one two three", sp5, 2);
  ASSERT_NOT_NULL(c);
  ASSERT_STR_CONTAINS(c, "one@0 two@");
  ASSERT_STR_CONTAINS(c, " three@1000");
  free(c);
  /* Japanese without spaces is one caption token; nothing spoken = nothing to time */
  ain_media_word_t sp6[] = {S("Kyoto", 0, 500)};
  c = cap("\xE4\xBA\xAC\xE9\x83\xBD Kyoto", sp6, 1);
  ASSERT_NOT_NULL(c);
  ASSERT_STR_CONTAINS(c, "\xE4\xBA\xAC\xE9\x83\xBD@0 Kyoto@");
  free(c);
  c = cap("words", NULL, 0);
  ASSERT_STR_EQ(c, "");
  free(c);
  /* bad spoken words are refused, naming the field */
  ain_media_word_t bad[] = {S("a", 500, 400)};
  ain_media_word_t *w = NULL;
  size_t nw = 0;
  ain_err_t err = {0};
  ASSERT_EQ(ain_media_caption_words("a", bad, 1, &w, &nw, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "words");
}

static const ain_media_word_t WORDS[] = {{"Kyoto", 0, 400}, {"in", 400, 600},
                                         {"autumn.", 600, 1200}};

TEST(captions_layout_title_size_and_floor) {
  ain_err_t err = {0};
  ain_media_safe_area_t sa = {0}; /* nothing asked: the floor still applies */
  ain_media_caption_style_t st = {.title = "A title that is long enough to need two lines here",
                                  .title_size = 60, .layout = "top"};
  char *ass = ain_media_captions_ass(WORDS, 3, &st, &sa, 1080, 1920, &err);
  ASSERT_NOT_NULL(ass);
  /* title at its size (or shrunk) under the top 14 %: margin 269 + pad */
  ASSERT_TRUE(strstr(ass, "Style: Title,DejaVu Sans,60,") != NULL ||
              strstr(ass, "Style: Title,DejaVu Sans,5") != NULL);
  ASSERT_STR_CONTAINS(ass, ",8,7,137,276,1\n"); /* left 0 + pad 7, right 130 + 7, top 269 + 7 */
  /* "top": captions aligned 8 under the title block */
  const char *cs = strstr(ass, "Style: Caption,");
  ASSERT_NOT_NULL(cs);
  int align = 0, mv = 0;
  const char *p = cs;
  for (int i = 0; i < 18; i++) {
    p = strchr(p, ',') + 1;
  }
  ASSERT_EQ(sscanf(p, "%d,%*d,%*d,%d", &align, &mv), 2);
  ASSERT_EQ(align, 8);
  ASSERT_TRUE(mv > 269 + 60);
  free(ass);
  st.layout = "center";
  ass = ain_media_captions_ass(WORDS, 3, &st, &sa, 1080, 1920, &err);
  ASSERT_STR_CONTAINS(ass, ",5,7,137,");
  free(ass);
  st.layout = NULL; /* lower-third: above the bottom 20 % */
  ass = ain_media_captions_ass(WORDS, 3, &st, &sa, 1080, 1920, &err);
  ASSERT_STR_CONTAINS(ass, ",2,7,137,391,1\n"); /* 384 + pad 7 */
  free(ass);
  st.layout = "sideways";
  ASSERT_NULL(ain_media_captions_ass(WORDS, 3, &st, &sa, 1080, 1920, &err));
  ASSERT_STR_EQ(err.field, "layout");
  st.layout = NULL;
  st.title_size = 5000;
  ASSERT_NULL(ain_media_captions_ass(WORDS, 3, &st, &sa, 1080, 1920, &err));
  ASSERT_STR_EQ(err.field, "title_size");
  /* a title that cannot fit even small ends with "…", never silently */
  char longt[2000];
  longt[0] = '\0';
  for (int i = 0; i < 120; i++) {
    strcat(longt, "word ");
  }
  st.title_size = 90;
  st.title = longt;
  ass = ain_media_captions_ass(WORDS, 3, &st, &sa, 1080, 1920, &err);
  ASSERT_NOT_NULL(ass);
  ASSERT_STR_CONTAINS(ass, "\xE2\x80\xA6\n");
  ASSERT_LE(count_str(strstr(ass, ",Title,"), "\\N"), 2);
  free(ass);
}

TEST_MAIN(TEST_ENTRY(fit_long_english_title_wraps_and_shrinks),
          TEST_ENTRY(fit_cjk_breaks_between_characters), TEST_ENTRY(fit_arabic_and_emoji),
          TEST_ENTRY(fit_one_very_long_word_gets_an_ellipsis),
          TEST_ENTRY(safe_area_profiles_are_data_and_obey_the_floor),
          TEST_ENTRY(caption_words_as_written), TEST_ENTRY(captions_layout_title_size_and_floor))
