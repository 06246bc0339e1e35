/* The static ain.spawn scan of `ain check` (lua/spawn_lint.h). A tokenizer that knows just enough
 * Lua to never mistake a comment or a string for code (line and block comments, quoted strings
 * with escapes, long brackets of any level), then a matcher for
 *   ain . spawn [ ( ] { ... cmd = { "literal", ... } ... }
 * at any nesting of the spawn table. Only what is certain is reported: a literal program that is
 * not listed, or an all-literal argument list that the entry's patterns refuse.
 * Relies on: config/spawn.h. */
#include "lua/spawn_lint.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define LINT_MAX_ARGS 64
#define LINT_MAX_STR 512

typedef enum { T_EOF, T_NAME, T_STRING, T_PUNCT, T_OTHER } tok_kind_t;

typedef struct {
  const char *s, *end;
  int line;
  /* the current token */
  tok_kind_t kind;
  int tline;
  char text[LINT_MAX_STR]; /* name, punctuation or the decoded string (truncated) */
} lexer_t;

/* Length of a long bracket opener at p ("[[", "[==[") or 0; *level receives the '=' count. */
static size_t long_open(const char *p, const char *end, int *level) {
  if (p >= end || *p != '[') {
    return 0;
  }
  const char *q = p + 1;
  int n = 0;
  while (q < end && *q == '=') {
    n++;
    q++;
  }
  if (q < end && *q == '[') {
    *level = n;
    return (size_t)(q - p + 1);
  }
  return 0;
}

/* Skips a long bracket body after its opener; copies it into out when out is not NULL. */
static void long_body(lexer_t *lx, int level, char *out) {
  size_t o = 0;
  while (lx->s < lx->end) {
    if (*lx->s == ']') {
      const char *q = lx->s + 1;
      int n = 0;
      while (q < lx->end && *q == '=') {
        n++;
        q++;
      }
      if (n == level && q < lx->end && *q == ']') {
        lx->s = q + 1;
        break;
      }
    }
    if (*lx->s == '\n') {
      lx->line++;
    }
    if (out != NULL && o + 1 < LINT_MAX_STR) {
      out[o++] = *lx->s;
    }
    lx->s++;
  }
  if (out != NULL) {
    out[o] = '\0';
  }
}

static void next(lexer_t *lx) {
  for (;;) {
    while (lx->s < lx->end && isspace((unsigned char)*lx->s)) {
      lx->line += *lx->s == '\n';
      lx->s++;
    }
    if (lx->end - lx->s >= 2 && lx->s[0] == '-' && lx->s[1] == '-') {
      lx->s += 2;
      int level;
      size_t n = long_open(lx->s, lx->end, &level);
      if (n > 0) {
        lx->s += n;
        long_body(lx, level, NULL);
      } else {
        while (lx->s < lx->end && *lx->s != '\n') {
          lx->s++;
        }
      }
      continue;
    }
    break;
  }
  lx->tline = lx->line;
  lx->text[0] = '\0';
  if (lx->s >= lx->end) {
    lx->kind = T_EOF;
    return;
  }
  char c = *lx->s;
  int level;
  size_t n;
  if (isalpha((unsigned char)c) || c == '_') {
    size_t o = 0;
    while (lx->s < lx->end && (isalnum((unsigned char)*lx->s) || *lx->s == '_')) {
      if (o + 1 < LINT_MAX_STR) {
        lx->text[o++] = *lx->s;
      }
      lx->s++;
    }
    lx->text[o] = '\0';
    lx->kind = T_NAME;
  } else if (c == '"' || c == '\'') {
    size_t o = 0;
    lx->s++;
    while (lx->s < lx->end && *lx->s != c && *lx->s != '\n') {
      char ch = *lx->s++;
      if (ch == '\\' && lx->s < lx->end) {
        char e = *lx->s++;
        ch = e == 'n' ? '\n' : e == 't' ? '\t' : e;
        lx->line += e == '\n';
      }
      if (o + 1 < LINT_MAX_STR) {
        lx->text[o++] = ch;
      }
    }
    if (lx->s < lx->end && *lx->s == c) {
      lx->s++;
    }
    lx->text[o] = '\0';
    lx->kind = T_STRING;
  } else if ((n = long_open(lx->s, lx->end, &level)) > 0) {
    lx->s += n;
    if (lx->s < lx->end && *lx->s == '\n') { /* Lua drops a newline right after the opener */
      lx->line++;
      lx->s++;
    }
    long_body(lx, level, lx->text);
    lx->kind = T_STRING;
  } else if (isdigit((unsigned char)c)) {
    while (lx->s < lx->end && (isalnum((unsigned char)*lx->s) || *lx->s == '.')) {
      lx->s++;
    }
    lx->kind = T_OTHER;
  } else {
    lx->text[0] = c;
    lx->text[1] = '\0';
    lx->s++;
    lx->kind = T_PUNCT;
  }
}

static int is_punct(const lexer_t *lx, char c) {
  return lx->kind == T_PUNCT && lx->text[0] == c;
}

static int is_open(const lexer_t *lx) {
  return is_punct(lx, '{') || is_punct(lx, '(') || is_punct(lx, '[');
}

static int is_close(const lexer_t *lx) {
  return is_punct(lx, '}') || is_punct(lx, ')') || is_punct(lx, ']');
}

/* After `cmd = {`: reads the array's elements into args (an element that is not one string
 * literal leaves ""), returns their number. *all_literal = 1 when every element is a literal. */
static size_t read_cmd(lexer_t *lx, char args[][LINT_MAX_STR], int *all_literal) {
  size_t n = 0;
  int depth = 1, tokens = 0, literal = 0;
  *all_literal = 1;
  for (next(lx); lx->kind != T_EOF; next(lx)) {
    int sep = is_punct(lx, ',') || is_punct(lx, ';');
    if (depth == 1 && (sep || is_close(lx))) {
      if (tokens > 0) {
        int ok = tokens == 1 && literal;
        *all_literal &= ok;
        if (!ok && n < LINT_MAX_ARGS) {
          args[n][0] = '\0';
        }
        n++;
      }
      tokens = 0;
      if (!sep) {
        break;
      }
      continue;
    }
    if (tokens == 0) {
      literal = lx->kind == T_STRING;
      if (n < LINT_MAX_ARGS) {
        memcpy(args[n], lx->text, LINT_MAX_STR);
      }
    }
    tokens++;
    depth += is_open(lx) - is_close(lx);
  }
  return n;
}

/* Inside the spawn table (after its `{`): finds `cmd = {` at the table's own level. */
static int find_cmd(lexer_t *lx) {
  int depth = 1;
  while (lx->kind != T_EOF) {
    next(lx);
    if (is_open(lx)) {
      depth++;
    } else if (is_close(lx)) {
      if (--depth == 0) {
        return 0;
      }
    } else if (depth == 1 && lx->kind == T_NAME && strcmp(lx->text, "cmd") == 0) {
      next(lx);
      if (!is_punct(lx, '=')) {
        continue;
      }
      next(lx);
      return is_punct(lx, '{');
    }
  }
  return 0;
}

int ain_lua_spawn_lint(const char *path, const char *src, size_t len, const ain_spawn_config_t *sc,
                       FILE *out) {
  lexer_t lx = {.s = src, .end = src + len, .line = 1};
  static char args[LINT_MAX_ARGS][LINT_MAX_STR];
  int findings = 0;
  next(&lx);
  while (lx.kind != T_EOF) {
    if (!(lx.kind == T_NAME && strcmp(lx.text, "ain") == 0)) {
      next(&lx);
      continue;
    }
    int line = lx.tline;
    next(&lx);
    if (!is_punct(&lx, '.')) {
      continue;
    }
    next(&lx);
    if (!(lx.kind == T_NAME && strcmp(lx.text, "spawn") == 0)) {
      continue;
    }
    next(&lx);
    if (is_punct(&lx, '(')) {
      next(&lx);
    }
    if (!is_punct(&lx, '{') || !find_cmd(&lx)) {
      continue;
    }
    int all_literal = 0;
    size_t n = read_cmd(&lx, args, &all_literal);
    if (n == 0 || args[0][0] == '\0') {
      continue; /* built at run time: ain.spawn judges it then */
    }
    const ain_spawn_entry_t *e = ain_spawn_config_find(sc, args[0]);
    if (e == NULL) {
      fprintf(out,
              "%s: ESANDBOX: %s:%d: ain.spawn of '%s' is not on the config's spawn.allow "
              "(absolute paths only; shells and interpreters are never allowed)\n",
              path, path, line, args[0]);
      findings++;
      continue;
    }
    if (all_literal && n <= LINT_MAX_ARGS) {
      char *argv[LINT_MAX_ARGS];
      for (size_t i = 0; i < n; i++) {
        argv[i] = args[i];
      }
      ain_err_t err = {0};
      if (ain_spawn_entry_check_args(e, argv, n, &err) != 0) {
        fprintf(out, "%s: ESANDBOX: %s:%d: ain.spawn: %s\n", path, path, line, err.msg);
        findings++;
      }
    }
  }
  return findings;
}
