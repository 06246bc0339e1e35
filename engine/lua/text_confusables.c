/* The confusables table of ain.text.fold: letters of other scripts that look like an ASCII letter,
 * mapped to it, so "Неllо" (Cyrillic Н, е, о) folds to "hello".
 * Source: the Latin-lookalike subset of Unicode's confusables.txt (UTS #39, "Unicode Security
 * Mechanisms", https://www.unicode.org/Public/security/latest/confusables.txt), entries whose
 * prototype is one ASCII letter, written down from that file for Cyrillic, Greek, Armenian,
 * Cherokee, IPA and small-capital Latin; plus the Latin letters NFKD does not decompose (ø, ł, đ,
 * ħ, ı, æ, œ) and typographic apostrophes and dashes mapped to ' and - so words split the same way.
 * Fullwidth forms and mathematical alphanumerics are not here: NFKC already maps them.
 * Uppercase entries matter for letters whose lowercase looks like nothing Latin (Cyrillic Н, Т, М;
 * Greek Η, Ν): fold looks a codepoint up before case folding, and its decomposition after.
 * Relies on: nothing (a sorted table and a binary search). */
#include "lua/text.h"

typedef struct {
  int32_t cp;
  const char *ascii;
} confusable_t;

/* Sorted by codepoint (ain_text_confusables_check). */
static const confusable_t TABLE[] = {
    {0x00C6, "ae"}, {0x00D8, "o"},  {0x00E6, "ae"}, {0x00F8, "o"}, {0x0110, "d"}, {0x0111, "d"},
    {0x0126, "h"},  {0x0127, "h"},  {0x0131, "i"},  {0x0138, "k"}, {0x0141, "l"}, {0x0142, "l"},
    {0x0152, "oe"}, {0x0153, "oe"}, {0x0180, "b"},  {0x0189, "d"}, {0x0192, "f"}, {0x01C0, "l"},
    {0x0237, "j"},  {0x0251, "a"},  {0x0261, "g"},  {0x0262, "g"}, {0x0269, "i"}, {0x026A, "i"},
    {0x0274, "n"},  {0x0280, "r"},  {0x028F, "y"},  {0x0299, "b"}, {0x029C, "h"}, {0x02B9, "'"},
    {0x02BC, "'"},  {0x0391, "a"},  {0x0392, "b"},  {0x0395, "e"}, {0x0396, "z"}, {0x0397, "h"},
    {0x0399, "i"},  {0x039A, "k"},  {0x039C, "m"},  {0x039D, "n"}, {0x039F, "o"}, {0x03A1, "p"},
    {0x03A4, "t"},  {0x03A5, "y"},  {0x03A7, "x"},  {0x03B1, "a"}, {0x03B3, "y"}, {0x03B7, "n"},
    {0x03B9, "i"},  {0x03BA, "k"},  {0x03BD, "v"},  {0x03BF, "o"}, {0x03C1, "p"}, {0x03C4, "t"},
    {0x03C5, "u"},  {0x03C7, "x"},  {0x03C9, "w"},  {0x03F2, "c"}, {0x03F3, "j"}, {0x03F9, "c"},
    {0x0405, "s"},  {0x0406, "i"},  {0x0408, "j"},  {0x0410, "a"}, {0x0412, "b"}, {0x0415, "e"},
    {0x041A, "k"},  {0x041C, "m"},  {0x041D, "h"},  {0x041E, "o"}, {0x0420, "p"}, {0x0421, "c"},
    {0x0422, "t"},  {0x0423, "y"},  {0x0425, "x"},  {0x042C, "b"}, {0x0430, "a"}, {0x0432, "b"},
    {0x0435, "e"},  {0x043A, "k"},  {0x043C, "m"},  {0x043D, "h"}, {0x043E, "o"}, {0x0440, "p"},
    {0x0441, "c"},  {0x0442, "t"},  {0x0443, "y"},  {0x0445, "x"}, {0x044C, "b"}, {0x0455, "s"},
    {0x0456, "i"},  {0x0458, "j"},  {0x04AE, "y"},  {0x04AF, "y"}, {0x04BB, "h"}, {0x04C0, "l"},
    {0x04CF, "l"},  {0x0500, "d"},  {0x0501, "d"},  {0x051A, "q"}, {0x051B, "q"}, {0x051C, "w"},
    {0x051D, "w"},  {0x0555, "o"},  {0x0570, "h"},  {0x0578, "n"}, {0x057D, "u"}, {0x0581, "g"},
    {0x0585, "o"},  {0x13A0, "d"},  {0x13A1, "r"},  {0x13A2, "t"}, {0x13A5, "i"}, {0x13A9, "y"},
    {0x13AA, "a"},  {0x13AB, "j"},  {0x13AC, "e"},  {0x13B3, "w"}, {0x13B7, "m"}, {0x13BB, "h"},
    {0x13C0, "g"},  {0x13C3, "z"},  {0x13CF, "b"},  {0x13D2, "r"}, {0x13D9, "v"}, {0x13DA, "s"},
    {0x13DE, "l"},  {0x13DF, "c"},  {0x13E2, "p"},  {0x13E6, "k"}, {0x13F4, "b"}, {0x1D00, "a"},
    {0x1D04, "c"},  {0x1D05, "d"},  {0x1D07, "e"},  {0x1D0A, "j"}, {0x1D0B, "k"}, {0x1D0D, "m"},
    {0x1D0F, "o"},  {0x1D18, "p"},  {0x1D1B, "t"},  {0x1D1C, "u"}, {0x1D20, "v"}, {0x1D21, "w"},
    {0x1D22, "z"},  {0x2010, "-"},  {0x2012, "-"},  {0x2013, "-"}, {0x2014, "-"}, {0x2015, "-"},
    {0x2018, "'"},  {0x2019, "'"},  {0x201B, "'"},  {0x2032, "'"}, {0x2043, "-"}, {0x2212, "-"},
};

const char *ain_text_confusable(int32_t cp) {
  if (cp < TABLE[0].cp || cp > TABLE[sizeof TABLE / sizeof TABLE[0] - 1].cp) {
    return NULL;
  }
  size_t lo = 0, hi = sizeof TABLE / sizeof TABLE[0];
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (TABLE[mid].cp == cp) {
      return TABLE[mid].ascii;
    }
    if (TABLE[mid].cp < cp) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return NULL;
}

int ain_text_confusables_check(void) {
  for (size_t k = 0; k < sizeof TABLE / sizeof TABLE[0]; k++) {
    if (k > 0 && TABLE[k - 1].cp >= TABLE[k].cp) {
      return -1;
    }
    const char *a = TABLE[k].ascii;
    if (a[0] == '\0' || (a[1] != '\0' && a[2] != '\0')) {
      return -1; /* one or two characters, so a fold stays within AIN_TEXT_FOLD_MAX */
    }
    for (; *a; a++) {
      if (!((*a >= 'a' && *a <= 'z') || *a == '\'' || *a == '-')) {
        return -1;
      }
    }
  }
  return 0;
}
