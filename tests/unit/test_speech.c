/* Speech text normalisation (engine/media/speech_text.c) and the mapping of spoken-token times
 * back to the written words; the festival printout and pocketsphinx alignment parsers; the music
 * pad's key parsing. Pure functions: no child processes here (test_tts.c runs the providers). */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "harness.h"
#include "media/media.h"

static char *spoken(const char *text) {
  ain_media_speech_t s;
  ain_err_t err = {0};
  int rc = ain_media_speech_normalise(text, &s, &err);
  if (rc != 0) {
    fprintf(stderr, "normalise(%s): %s\n", text, err.msg);
  }
  ASSERT_OK(rc);
  char *out = ain_strdup(s.spoken);
  ain_media_speech_free(&s);
  return out;
}

#define SAYS(text, want)                                                                           \
  do {                                                                                             \
    char *got_ = spoken(text);                                                                     \
    ASSERT_STR_EQ(got_, want);                                                                     \
    free(got_);                                                                                    \
  } while (0)

TEST(issue_examples) {
  /* issue 12: "12-3-30 splits into 12, -, 3 and the voice says dash" */
  SAYS("Try the 12-3-30 workout", "Try the twelve three thirty workout");
  SAYS("Split it 50/30/20.", "Split it fifty thirty twenty.");
  SAYS("Up 30% in a row;", "Up thirty percent in a row;");
  SAYS("It costs $5.", "It costs five dollars.");
  SAYS("Visit https://www.example.com/deals now", "Visit example dot com now");
  SAYS("Big news \xf0\x9f\x94\xa5 today \xf0\x9f\x9a\x80\xe2\x9c\xa8", "Big news today");
  SAYS("e.g. bread, etc.", "for example bread, et cetera");
}

TEST(numbers) {
  SAYS("In 2026 we", "In twenty twenty six we");
  SAYS("In 2007 and 1999 and 1900", "In two thousand seven and nineteen ninety nine and nineteen hundred");
  SAYS("1,250,000 people", "one million two hundred fifty thousand people");
  SAYS("3.14 is pi", "three point one four is pi");
  SAYS("costs 1,000", "costs one thousand");
  SAYS("a 1,50 note", "a one fifty note");
  SAYS("the 1st and 22nd and 3rd and 100th", "the first and twenty second and third and one hundredth");
  SAYS("the 20th time", "the twentieth time");
  SAYS("5-10 minutes", "five to ten minutes");
  SAYS("a 2-1 win", "a two one win");
  SAYS("open 24/7", "open twenty four seven");
  SAYS("1/2 cup", "one half cup");
  SAYS("at 5:30 or 10:05pm or 9:00", "at five thirty or ten oh five P M or nine o'clock");
  SAYS("the 1990s", "the nineteen nineties");
  SAYS("-5 degrees", "minus five degrees");
  SAYS("run 5km at 10mph", "run five kilometers at ten miles per hour");
  SAYS("10x faster", "ten times faster");
}

TEST(money_and_percent) {
  SAYS("$1 or $2.50 or $3.00", "one dollar or two dollars fifty or three dollars");
  SAYS("a $5M deal and $1.2B", "a five million dollars deal and one point two billion dollars");
  SAYS("\xe2\x82\xac" "20 fee", "twenty euros fee");
  SAYS("3.5% rate", "three point five percent rate");
  SAYS("from 10%-20%", "from ten percent to twenty percent");
}

TEST(words_symbols_and_tags) {
  SAYS("The AI and GPU race", "The A I and G P U race");
  SAYS("NASA says OK", "NASA says O K");
  SAYS("GPT-4 and M5 chips", "G P T four and M five chips");
  SAYS("state-of-the-art", "state of the art");
  SAYS("salt & pepper", "salt and pepper");
  SAYS("#MondayMotivation by @chef_marco", "Monday Motivation by at chef marco");
  SAYS("wait \xe2\x80\x94 what?", "wait what?");
  SAYS("\xe2\x80\x9cQuoted\xe2\x80\x9d (words)", "Quoted words");
  SAYS("Dr. Smith vs. Mr. Jones", "doctor Smith versus mister Jones");
  SAYS("see example.com today", "see example dot com today");
  SAYS("\xe6\x9d\xb1\xe4\xba\xac is Tokyo", "\xe6\x9d\xb1\xe4\xba\xac is Tokyo");
}

TEST(bad_input) {
  ain_media_speech_t s;
  ain_err_t err = {0};
  ASSERT_EQ(ain_media_speech_normalise("\xf0\x9f\x94\xa5 \xe2\x80\x94", &s, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "text");
  ASSERT_EQ(ain_media_speech_normalise("bad \xff", &s, &err), AIN_EUTF8);
  ASSERT_EQ(ain_media_speech_normalise(NULL, &s, &err), AIN_EINVAL);
  /* a very long word is not interpreted, but kept */
  char big[600];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  ASSERT_OK(ain_media_speech_normalise(big, &s, &err));
  ASSERT_EQ(s.n_tokens, 1);
  ain_media_speech_free(&s);
}

/* Every written word gets a time, in order; tokens map to their written word. */
TEST(times_map_to_written_words) {
  const char *text = "Try \xf0\x9f\x94\xa5 the 12-3-30 workout \xe2\x80\x94 50/30/20!";
  ain_media_speech_t s;
  ain_err_t err = {0};
  ASSERT_OK(ain_media_speech_normalise(text, &s, &err));
  ASSERT_EQ(s.n_written, 7);
  ASSERT_STR_EQ(s.spoken, "Try the twelve three thirty workout fifty thirty twenty!");
  ASSERT_EQ(s.n_tokens, 9);
  ASSERT_EQ(s.tok_word[2], 3); /* "twelve" speaks "12-3-30" */
  ASSERT_EQ(s.tok_word[8], 6);
  /* token starts as a provider would give them, one unknown (-1) */
  int64_t t[9] = {0, 300, 500, 800, -1, 1400, 2000, 2300, 2600};
  ain_media_word_t *w = NULL;
  size_t n = 0;
  ASSERT_OK(ain_media_speech_times(&s, t, 3200, &w, &n, &err));
  ASSERT_EQ(n, 7);
  const char *want[] = {"Try", "\xf0\x9f\x94\xa5", "the", "12-3-30", "workout", "\xe2\x80\x94",
                        "50/30/20!"};
  for (size_t i = 0; i < n; i++) {
    ASSERT_STR_EQ(w[i].text, want[i]);
    ASSERT_TRUE(w[i].end_ms > w[i].start_ms);
    if (i > 0) {
      ASSERT_EQ(w[i].start_ms, w[i - 1].end_ms);
    }
  }
  ASSERT_EQ(w[0].start_ms, 0);
  ASSERT_EQ(w[1].start_ms, 150); /* the emoji shares "Try"'s slot: its second half */
  ASSERT_EQ(w[2].start_ms, 300);
  ASSERT_EQ(w[3].start_ms, 500);
  ASSERT_EQ(w[4].start_ms, 1400);
  ASSERT_EQ(w[5].start_ms, 1700); /* the dash shares "workout"'s slot */
  ASSERT_EQ(w[6].start_ms, 2000);
  ASSERT_EQ(w[6].end_ms, 3200);
  for (size_t i = 0; i < n; i++) {
    free(w[i].text);
  }
  free(w);
  /* no times at all: spread by length over the audio, still ordered */
  ASSERT_OK(ain_media_speech_times(&s, NULL, 5000, &w, &n, &err));
  for (size_t i = 1; i < n; i++) {
    ASSERT_TRUE(w[i].start_ms > w[i - 1].start_ms);
  }
  for (size_t i = 0; i < n; i++) {
    free(w[i].text);
  }
  free(w);
  /* times that go backwards are not trusted */
  int64_t back[9] = {0, 900, 500, 800, 900, 1400, 2000, 2300, 2600};
  ASSERT_OK(ain_media_speech_times(&s, back, 3200, &w, &n, &err));
  for (size_t i = 1; i < n; i++) {
    ASSERT_TRUE(w[i].start_ms > w[i - 1].start_ms);
  }
  for (size_t i = 0; i < n; i++) {
    free(w[i].text);
  }
  free(w);
  ASSERT_EQ(ain_media_speech_times(&s, t, 0, &w, &n, &err), AIN_EINVAL);
  ain_media_speech_free(&s);
}

TEST(festival_printout) {
  ain_media_speech_t s;
  ain_err_t err = {0};
  ASSERT_OK(ain_media_speech_normalise("Hello, world! It's 5-10 minutes.", &s, &err));
  ASSERT_STR_EQ(s.spoken, "Hello, world! It's five to ten minutes.");
  const char *out = "T\tHello\t0.105000\nT\tworld\t0.315000\nT\tIt's\t0.695000\n"
                    "T\tfive\t0.910000\nT\tto\t1.050000\nT\tten\t1.310000\n"
                    "T\tminutes\t1.515000\nEND\n";
  int64_t t[16];
  ASSERT_EQ(ain_media_festival_parse(out, &s, t), 7);
  ASSERT_EQ(t[0], 105);
  ASSERT_EQ(t[2], 695);
  ASSERT_EQ(t[6], 1515);
  /* a token festival made up (or dropped) does not shift the others */
  const char *odd = "T\tHello\t0.1\nT\tzzz\t0.2\nT\tworld\t0.3\nT\tfive\t0.9\nEND\n";
  ASSERT_EQ(ain_media_festival_parse(odd, &s, t), 3);
  ASSERT_EQ(t[1], 300);
  ASSERT_EQ(t[2], -1);
  ASSERT_EQ(t[3], 900);
  ASSERT_EQ(ain_media_festival_parse("", &s, t), 0);
  ain_media_speech_free(&s);
  /* the program: voice names are symbols, text is escaped */
  char *prog = ain_media_festival_script("say \"hi\" \\ now", NULL, 175, 50, "/tmp/a b.wav");
  ASSERT_NOT_NULL(prog);
  ASSERT_STR_CONTAINS(prog, "(voice_cmu_us_slt_arctic_hts)");
  ASSERT_STR_CONTAINS(prog, "say \\\"hi\\\" \\\\ now");
  ASSERT_STR_CONTAINS(prog, "\"-r\" 1.000");
  free(prog);
  ASSERT_NULL(ain_media_festival_script("x", "bad) (system \"rm\"", 175, 50, "/tmp/x.wav"));
}

TEST(alignment_printout) {
  ain_media_speech_t s;
  ain_err_t err = {0};
  ASSERT_OK(ain_media_speech_normalise("Hello world, this is 12-3-30.", &s, &err));
  /* pocketsphinx -time yes: hypothesis line, then words; "is" was heard as "as", a word inserted */
  const char *out = "hello world this as twelve three thirty\n"
                    "<s> 0.090 0.160 0.999800\n"
                    "hello(2) 0.170 0.430 0.703885\n"
                    "world 0.440 0.880 0.999800\n"
                    "<sil> 0.890 0.980 0.462648\n"
                    "the 0.985 0.989 0.1\n"
                    "this 0.990 1.230 0.363558\n"
                    "as 1.240 1.400 0.224749\n"
                    "twelve 1.410 1.690 0.559805\n"
                    "three 1.700 1.960 0.769950\n"
                    "thirty 1.970 2.540 0.832501\n"
                    "</s> 2.550 2.670 1.000000\n";
  int64_t t[16];
  ASSERT_EQ(ain_media_align_parse(out, &s, t), 6);
  ASSERT_EQ(t[0], 170);
  ASSERT_EQ(t[1], 440);
  ASSERT_EQ(t[2], 990);
  ASSERT_EQ(t[3], -1); /* "is" was not heard: its neighbours time it */
  ASSERT_EQ(t[4], 1410);
  ASSERT_EQ(t[6], 1970);
  ASSERT_EQ(ain_media_align_parse("nothing here\n", &s, t), 0);
  ain_media_speech_free(&s);
}

TEST(music_keys) {
  char e[2048];
  ain_err_t err = {0};
  ASSERT_OK(ain_media_pad_expr("C", e, sizeof e, &err));
  ASSERT_STR_CONTAINS(e, "sin(2*PI*130.810*t)"); /* the tonic */
  ASSERT_OK(ain_media_pad_expr("Am", e, sizeof e, &err));
  ASSERT_STR_CONTAINS(e, "sin(2*PI*109.998*t)"); /* A2 */
  ASSERT_OK(ain_media_pad_expr("F#", e, sizeof e, &err));
  ASSERT_OK(ain_media_pad_expr("Bbm", e, sizeof e, &err));
  ASSERT_OK(ain_media_pad_expr(NULL, e, sizeof e, &err));
  ASSERT_EQ(ain_media_pad_expr("H", e, sizeof e, &err), AIN_EINVAL);
  ASSERT_STR_EQ(err.field, "music.key");
  ASSERT_EQ(ain_media_pad_expr("Cmaj7", e, sizeof e, &err), AIN_EINVAL);
  ASSERT_EQ(ain_media_pad_expr("C", e, 64, &err), AIN_ETOOBIG);
}

TEST(provider_names) {
  ain_err_t err = {0};
  ASSERT_OK(ain_media_tts_provider_check(NULL, &err));
  ASSERT_OK(ain_media_tts_provider_check("espeak", &err));
  ASSERT_OK(ain_media_tts_provider_check("festival", &err));
  ASSERT_OK(ain_media_tts_provider_check("openai", &err));
  ASSERT_EQ(ain_media_tts_provider_check("polly", &err), AIN_EINVAL);
  ASSERT_STR_CONTAINS(err.msg, "polly");
  ASSERT_STR_EQ(err.field, "provider");
}

TEST_MAIN(TEST_ENTRY(issue_examples), TEST_ENTRY(numbers), TEST_ENTRY(money_and_percent),
          TEST_ENTRY(words_symbols_and_tags), TEST_ENTRY(bad_input),
          TEST_ENTRY(times_map_to_written_words), TEST_ENTRY(festival_printout),
          TEST_ENTRY(alignment_printout), TEST_ENTRY(music_keys), TEST_ENTRY(provider_names))
