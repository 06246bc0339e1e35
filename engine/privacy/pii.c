/* The PII detector (privacy.h): finds e-mail addresses (plain and spelled out), phone numbers,
 * payment cards, IBANs, IPv4 addresses and US SSNs in UTF-8 text. A scanner, not a regex engine:
 * at each word start it tries the shapes in a fixed order (e-mail, IBAN, then one digit-group
 * parse classified as IPv4, SSN, card or phone), each bounded in length, so a text of n bytes
 * costs O(n) however hostile it is. False positives are kept low on purpose: a number is PII
 * only in a shape people write that kind of number in (see classify_digits), and checksums
 * (Luhn, mod 97) guard cards and IBANs.
 * Relies on: privacy.h only (ASCII classes by hand: no locale). */
#include <stdio.h>
#include <string.h>

#include "privacy/privacy.h"

#define LOCAL_MAX 64   /* RFC 5321 local part */
#define DOMAIN_MAX 253 /* RFC 1035 */
#define GROUPS_MAX 8
#define DIGITS_MAX 24

static const char *const kind_names[AIN_PII_KIND_COUNT] = {"email", "phone", "card", "iban",
                                                           "ip",    "ssn",   "uid"};

const char *ain_pii_kind_name(ain_pii_kind_t k) {
  return (unsigned)k < AIN_PII_KIND_COUNT ? kind_names[k] : "pii";
}

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}
static int is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static int is_alnum(char c) {
  return is_digit(c) || is_alpha(c);
}
static char lower(char c) {
  return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}
static char upper(char c) {
  return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}
static int is_local(char c) {
  return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
static int is_label(char c) {
  return is_alnum(c) || c == '-';
}

/* Case-insensitive: does s[i..n) start with the ASCII word w? */
static int has_ci(const char *s, size_t n, size_t i, const char *w) {
  size_t k = strlen(w);
  if (i + k > n) {
    return 0;
  }
  for (size_t j = 0; j < k; j++) {
    if (lower(s[i + j]) != w[j]) {
      return 0;
    }
  }
  return 1;
}

static size_t skip_spaces(const char *s, size_t n, size_t i) {
  while (i < n && s[i] == ' ') {
    i++;
  }
  return i;
}

/* A spelled-out separator WORD ("at", "dot") at i: " word " (spaces around, bare = 1), or
 * "[word]" "(word)" "{word}" "<word>" with optional spaces around (bare = 0). Returns the
 * position after it, or 0. */
static size_t spelled(const char *s, size_t n, size_t i, const char *word, int *bare) {
  static const char *const open = "[({<", *const close = "])}>";
  size_t j = skip_spaces(s, n, i);
  const char *o = j < n ? strchr(open, s[j]) : NULL;
  if (o != NULL && s[j] != '\0') {
    size_t k = j + 1;
    k = skip_spaces(s, n, k);
    if (!has_ci(s, n, k, word)) {
      return 0;
    }
    k = skip_spaces(s, n, k + strlen(word));
    if (k >= n || s[k] != close[o - open]) {
      return 0;
    }
    *bare = 0;
    return skip_spaces(s, n, k + 1);
  }
  if (j == i || !has_ci(s, n, j, word)) {
    return 0; /* a bare word needs a space before it */
  }
  size_t k = j + strlen(word);
  if (k >= n || s[k] != ' ') {
    return 0;
  }
  *bare = 1;
  return skip_spaces(s, n, k);
}

/* A dot between labels: '.' followed by a label character, or a spelled "dot". */
static size_t dot_sep(const char *s, size_t n, size_t i, int *spelt) {
  if (i + 1 < n && s[i] == '.' && is_alnum(s[i + 1])) {
    *spelt = 0;
    return i + 1;
  }
  int bare = 0;
  size_t k = spelled(s, n, i, "dot", &bare);
  if (k != 0 && k < n && is_alnum(s[k])) {
    *spelt = 1;
    return k;
  }
  return 0;
}

/* Small words that make "look at the dot com era" not an address. */
static int stop_word(const char *s, size_t len) {
  static const char *const w[] = {"the", "a",    "an",  "this", "that", "these", "those",
                                  "our", "your", "my",  "his",  "her",  "their", "its",
                                  "it",  "all",  "any", "some", "one",  "no",    NULL};
  for (int i = 0; w[i] != NULL; i++) {
    if (strlen(w[i]) == len && has_ci(s, len, 0, w[i])) {
      return 1;
    }
  }
  return 0;
}

/* An e-mail address starting at i (s[i] alphanumeric, a word start). */
static int match_email(const char *s, size_t n, size_t i, ain_pii_match_t *m) {
  char norm[AIN_PII_NORM_MAX];
  size_t o = 0, j = i;
  int spelt_any = 0;
  /* local part: runs of local characters joined by spelled dots */
  for (;;) {
    size_t start = j;
    while (j < n && is_local(s[j]) && j - i < LOCAL_MAX * 2) {
      norm[o++] = lower(s[j]);
      j++;
      if (o >= LOCAL_MAX) {
        return 0;
      }
    }
    if (j == start) {
      return 0;
    }
    int spelt = 0;
    size_t k = s[j - 1] == '.' ? 0 : dot_sep(s, n, j, &spelt);
    if (k == 0 || !spelt) {
      break;
    }
    norm[o++] = '.';
    spelt_any = 1;
    j = k;
  }
  while (o > 0 && norm[o - 1] == '.') { /* "ava.@" is not an address; "ava." ended a sentence */
    o--;
    j--;
  }
  if (o == 0 || norm[0] == '.') {
    return 0;
  }
  /* the at */
  int bare = 0;
  size_t k;
  if (j < n && s[j] == '@') {
    k = j + 1;
  } else if (j + 2 < n && s[j] == ' ' && skip_spaces(s, n, j) < n &&
             s[skip_spaces(s, n, j)] == '@') {
    k = skip_spaces(s, n, skip_spaces(s, n, j) + 1);
  } else if ((k = spelled(s, n, j, "at", &bare)) == 0) {
    return 0;
  }
  norm[o++] = '@';
  /* the domain: labels joined by dots; the last valid end has >= 2 labels and an alphabetic TLD */
  size_t best_o = 0, best_j = 0, labels = 0;
  j = k;
  size_t dstart = o, first_len = 0;
  while (labels < 127) {
    size_t start = j, lstart = o;
    while (j < n && is_label(s[j]) && o + 1 < sizeof norm && j - start < 63) {
      norm[o++] = lower(s[j]);
      j++;
    }
    if (j == start || o - dstart > DOMAIN_MAX || (j < n && is_label(s[j]))) {
      break;
    }
    labels++;
    if (labels == 1) {
      first_len = o - lstart;
    }
    int tld = labels >= 2 && o - lstart >= 2 && o - lstart <= 24;
    for (size_t x = lstart; tld && x < o; x++) {
      tld = is_alpha(norm[x]);
    }
    if (tld) {
      best_o = o;
      best_j = j;
    }
    int spelt = 0;
    size_t d = dot_sep(s, n, j, &spelt);
    if (d == 0 || o + 1 >= sizeof norm) {
      break;
    }
    spelt_any |= spelt;
    norm[o++] = '.';
    j = d;
  }
  if (best_o == 0) {
    return 0;
  }
  /* "look at example.com" is prose: a bare spelled "at" needs a spelled dot somewhere, and
   * neither side may be a small word ("look at the dot com era") */
  if (bare &&
      (!spelt_any || stop_word(norm + dstart, first_len) || stop_word(norm, strcspn(norm, ".@")))) {
    return 0;
  }
  if (best_j < n && (is_alnum(s[best_j]) || s[best_j] == '@')) {
    return 0;
  }
  m->start = i;
  m->len = best_j - i;
  m->kind = AIN_PII_EMAIL;
  memcpy(m->norm, norm, best_o);
  m->norm[best_o] = '\0';
  return 1;
}

/* mod 97 of an IBAN given as upper-case alphanumerics (country and check moved to the end). */
static int iban_ok(const char *a, size_t len) {
  unsigned r = 0;
  for (size_t x = 0; x < len; x++) {
    char c = a[(x + 4) % len];
    if (is_digit(c)) {
      r = (r * 10 + (unsigned)(c - '0')) % 97;
    } else {
      r = (r * 100 + (unsigned)(c - 'A' + 10)) % 97;
    }
  }
  return r == 1;
}

/* An IBAN at i: two letters, two digits, then alphanumerics (single spaces allowed between
 * groups), 15..34 characters, valid mod 97, ending at a word end. The longest valid one wins. */
static int match_iban(const char *s, size_t n, size_t i, ain_pii_match_t *m) {
  if (i + 4 > n || !is_alpha(s[i]) || !is_alpha(s[i + 1]) || !is_digit(s[i + 2]) ||
      !is_digit(s[i + 3])) {
    return 0;
  }
  char a[35];
  size_t ends[35]; /* ends[k]: byte position after the k-th character, when a word may end there */
  size_t k = 0, j = i;
  while (j < n && k < 34) {
    if (is_alnum(s[j])) {
      a[k] = upper(s[j]);
      k++;
      j++;
      ends[k] = (j >= n || !is_alnum(s[j])) ? j : 0;
    } else if (s[j] == ' ' && k >= 4 && j + 1 < n && is_alnum(s[j + 1])) {
      j++;
    } else {
      break;
    }
  }
  for (size_t len = k; len >= 15; len--) {
    if (ends[len] != 0 && iban_ok(a, len)) {
      m->start = i;
      m->len = ends[len] - i;
      m->kind = AIN_PII_IBAN;
      memcpy(m->norm, a, len);
      m->norm[len] = '\0';
      return 1;
    }
  }
  return 0;
}

/* A run of digit groups: "+44 (0)20 7946-0958", "415.555.0132", "4111 1111 1111 1111". */
typedef struct {
  int plus;  /* a leading '+' */
  int paren; /* index of a group written in parentheses, or -1 */
  int ngroups;
  int len[GROUPS_MAX];    /* digits per group */
  size_t end[GROUPS_MAX]; /* byte position after group g */
  char sep[GROUPS_MAX];   /* separator before group g (0 for the first) */
  char digits[DIGITS_MAX + 1];
  int ndigits;
} groups_t;

static void parse_groups(const char *s, size_t n, size_t i, groups_t *g) {
  memset(g, 0, sizeof *g);
  g->paren = -1;
  size_t j = i;
  if (j < n && s[j] == '+') {
    g->plus = 1;
    j++;
  }
  char sep = 0;
  while (g->ngroups < GROUPS_MAX) {
    int paren = 0;
    if (j < n && s[j] == '(' && g->paren < 0) {
      paren = 1;
      j++;
    }
    int len = 0;
    while (j < n && is_digit(s[j]) && g->ndigits < DIGITS_MAX) {
      g->digits[g->ndigits++] = s[j];
      len++;
      j++;
    }
    if (len == 0 || (j < n && is_digit(s[j]))) {
      break;
    }
    if (paren) {
      if (j >= n || s[j] != ')') {
        break;
      }
      j++;
      g->paren = g->ngroups;
    }
    g->len[g->ngroups] = len;
    g->sep[g->ngroups] = sep;
    g->end[g->ngroups] = j;
    g->ngroups++;
    /* the next separator: one of " -./", or ") " handled above; "( " after a space */
    if (j + 1 < n && (s[j] == ' ' || s[j] == '-' || s[j] == '.' || s[j] == '/') &&
        (is_digit(s[j + 1]) || (s[j + 1] == '(' && g->paren < 0))) {
      sep = s[j];
      j++;
    } else if (paren && j < n && is_digit(s[j])) {
      sep = ')'; /* "(0)20" */
    } else {
      break;
    }
  }
  g->digits[g->ndigits] = '\0';
}

static int luhn_ok(const char *d, int n) {
  int sum = 0, dbl = 0, same = 1;
  for (int x = n - 1; x >= 0; x--) {
    int v = d[x] - '0';
    if (dbl) {
      v = v * 2 > 9 ? v * 2 - 9 : v * 2;
    }
    sum += v;
    dbl = !dbl;
    same &= d[x] == d[0];
  }
  return sum % 10 == 0 && !same;
}

/* Digits of the first k groups, their separators all equal to c (or any when c is 0)? */
static int seps_are(const groups_t *g, int k, const char *allowed) {
  char first = k > 1 ? g->sep[1] : 0;
  for (int x = 1; x < k; x++) {
    if (g->sep[x] != first || strchr(allowed, g->sep[x]) == NULL) {
      return 0;
    }
  }
  return 1;
}

static int shape(const groups_t *g, int k, const int *want, int nwant) {
  if (k != nwant) {
    return 0;
  }
  for (int x = 0; x < k; x++) {
    if (g->len[x] != want[x]) {
      return 0;
    }
  }
  return 1;
}

/* The word before position i (skipping spaces), lower-cased into w. */
static void word_before(const char *s, size_t i, char *w, size_t cap) {
  size_t e = i;
  while (e > 0 && s[e - 1] == ' ') {
    e--;
  }
  size_t b = e;
  while (b > 0 && is_alpha(s[b - 1]) && e - b < cap - 1) {
    b--;
  }
  size_t o = 0;
  for (size_t x = b; x < e; x++) {
    w[o++] = lower(s[x]);
  }
  w[o] = '\0';
}

/* Which PII the first k groups are, or -1. digits counts digits of those groups. */
static int classify(const char *s, size_t i, const groups_t *g, int k, int digits) {
  int value[GROUPS_MAX] = {0};
  const char *d = g->digits;
  for (int x = 0, off = 0; x < k; off += g->len[x], x++) {
    for (int y = 0; y < g->len[x] && y < 6; y++) {
      value[x] = value[x] * 10 + (d[off + y] - '0');
    }
  }
  int plain = !g->plus && (g->paren < 0 || g->paren >= k);
  /* IPv4: four dotted groups 0..255 without leading zeros, not a version number */
  if (plain && k == 4 && seps_are(g, k, ".")) {
    int ok = 1;
    for (int x = 0, off = 0; x < k; off += g->len[x], x++) {
      ok &= g->len[x] <= 3 && value[x] <= 255 && !(g->len[x] > 1 && d[off] == '0');
    }
    char w[16];
    word_before(s, i, w, sizeof w);
    if (ok && strcmp(w, "version") != 0 && strcmp(w, "ver") != 0 && strcmp(w, "release") != 0 &&
        strcmp(w, "build") != 0 && strcmp(w, "firmware") != 0 && strcmp(w, "v") != 0) {
      return AIN_PII_IP;
    }
    return -1;
  }
  /* US SSN: ddd-dd-dddd; area not 000, 666 or 9xx; group not 00; serial not 0000 */
  static const int ssn[] = {3, 2, 4};
  if (plain && shape(g, k, ssn, 3) && seps_are(g, k, "-")) {
    if (value[0] != 0 && value[0] != 666 && value[0] < 900 && value[1] != 0 && value[2] != 0) {
      return AIN_PII_SSN;
    }
    return -1;
  }
  /* payment card: 13..19 digits starting 2..6 (the networks in use), written as one run or in
   * the groups cards print (4-4-4-4 with a shorter last group, or Amex/Diners 4-6-5/4-6-4),
   * passing Luhn */
  if (plain && digits >= 13 && digits <= 19 && d[0] >= '2' && d[0] <= '6' &&
      (k == 1 || seps_are(g, k, " -")) && luhn_ok(d, digits)) {
    int printed = k == 1 || (k == 3 && g->len[0] == 4 && g->len[1] == 6 && g->len[2] >= 4);
    for (int x = 0; !printed && x < k; x++) {
      if (x < k - 1 ? g->len[x] != 4 : g->len[x] < 1 || g->len[x] > 4) {
        break;
      }
      printed = x == k - 1;
    }
    if (printed) {
      return AIN_PII_CARD;
    }
  }
  /* phone numbers */
  if (g->plus) {
    return digits >= 8 && digits <= 15 && (k == 1 || seps_are(g, k, " -.")) ? AIN_PII_PHONE
           : digits >= 8 && digits <= 15 && g->paren >= 0 && g->paren < k   ? AIN_PII_PHONE
                                                                            : -1;
  }
  if (g->paren == 0 && k >= 2 && digits >= 7 && digits <= 15 && g->len[0] >= 2 && g->len[0] <= 5) {
    return AIN_PII_PHONE; /* "(415) 555-0132", "(030) 1234567" */
  }
  if (g->paren >= 0 && g->paren < k) {
    return -1;
  }
  if (d[0] == '0' && d[1] == '0' && digits >= 10 && digits <= 15 &&
      (k == 1 || seps_are(g, k, " -."))) {
    return AIN_PII_PHONE; /* "0044 20 7946 0958" */
  }
  static const int nanp[] = {3, 3, 4}, nanp1[] = {1, 3, 3, 4}, local[] = {3, 4};
  /* North American numbers: area code and exchange start with 2..9 ("100 200 3000" is a count) */
  if (shape(g, k, nanp, 3) && seps_are(g, k, " -.") && d[0] >= '2' && d[3] >= '2') {
    return AIN_PII_PHONE; /* "415 555 0132", "415-555-0132", "415.555.0132" */
  }
  if (shape(g, k, nanp1, 4) && d[0] == '1' && seps_are(g, k, " -.") && d[1] >= '2' && d[4] >= '2') {
    return AIN_PII_PHONE; /* "1-800-555-0199" */
  }
  if (shape(g, k, local, 2) && seps_are(g, k, "-") && d[0] >= '2') {
    return AIN_PII_PHONE; /* "555-0132" */
  }
  if (d[0] == '0' && d[1] != '0' && digits >= 9 && digits <= 12 &&
      (k == 1 ? digits >= 10 : g->len[0] >= 2 && g->len[0] <= 5 && seps_are(g, k, " -/"))) {
    return AIN_PII_PHONE; /* "020 7946 0958", "030-1234567", "07911123456", "06 12 34 56 78" */
  }
  return -1;
}

/* A number-shaped PII value at i (s[i] a digit, '+' or '('): the longest prefix of groups that
 * classifies, and that ends at a word end. */
static int match_number(const char *s, size_t n, size_t i, ain_pii_match_t *m) {
  groups_t g;
  parse_groups(s, n, i, &g);
  if (g.ngroups == 0) {
    return 0;
  }
  for (int k = g.ngroups; k >= 1; k--) {
    size_t end = g.end[k - 1];
    if (end < n && (is_alnum(s[end]) || s[end] == '@' || s[end] == '%' ||
                    ((s[end] == '.' || s[end] == ',') && end + 1 < n && is_digit(s[end + 1])))) {
      continue; /* part of a longer word or number: "1.5.2024", "12,345" */
    }
    int digits = 0;
    for (int x = 0; x < k; x++) {
      digits += g.len[x];
    }
    int kind = classify(s, i, &g, k, digits);
    if (kind < 0) {
      continue;
    }
    int o = 0;
    if (kind == AIN_PII_IP) {
      memcpy(m->norm, s + i, end - i);
      o = (int)(end - i);
    } else {
      if (kind == AIN_PII_PHONE && (g.plus || (g.digits[0] == '0' && g.digits[1] == '0'))) {
        m->norm[o++] = '+';
      }
      int skip = !g.plus && kind == AIN_PII_PHONE && g.digits[0] == '0' && g.digits[1] == '0';
      memcpy(m->norm + o, g.digits + (skip ? 2 : 0), (size_t)(digits - (skip ? 2 : 0)));
      o += digits - (skip ? 2 : 0);
    }
    m->norm[o] = '\0';
    m->start = i;
    m->len = end - i;
    m->kind = (ain_pii_kind_t)kind;
    return 1;
  }
  return 0;
}

/* May a number start at i? Not inside a longer number ("1.234.567", "12-3-30" from its "3"), not
 * a price ("$415 555 0132" is odd, "$1299" is a price). */
static int number_start(const char *s, size_t i) {
  if (i == 0) {
    return 1;
  }
  char p = s[i - 1];
  if (is_alnum(p) || p == '$' || p == '#' || p == '_' || p == '+' ||
      (unsigned char)p == 0xA3 /* £ */ || (unsigned char)p == 0xAC /* last byte of € */) {
    return 0;
  }
  if ((p == '.' || p == ',' || p == '-' || p == '/' || p == ':') && i >= 2 && is_digit(s[i - 2])) {
    return 0;
  }
  return 1;
}

int ain_pii_next(const char *s, size_t n, size_t from, ain_pii_match_t *m) {
  for (size_t i = from; i < n; i++) {
    char c = s[i];
    int word_start = i == 0 || !is_alnum(s[i - 1]);
    if (!word_start) {
      continue;
    }
    if (is_alnum(c) && match_email(s, n, i, m)) {
      return 1;
    }
    if (is_alpha(c) && match_iban(s, n, i, m)) {
      return 1;
    }
    if ((is_digit(c) || c == '+' || c == '(') && number_start(s, i) && match_number(s, n, i, m)) {
      return 1;
    }
  }
  return 0;
}
