/* The Festival provider's pure parts: the Scheme program festival runs, and its printout parsed
 * into token start times. The program selects the voice (Debian's festvox-us-slt-hts by default),
 * sets the HTS engine's speed (-r) and pitch shift in half-tones (-fm), synthesises the spoken
 * text as one utterance, saves the wave and prints every Token of the utterance with the start of
 * its first Word ("word_start" from the Word relation's segments): the real times of the words in
 * the audio Festival made, not an estimate. The child itself is run by tts.c.
 * Relies on: media/speech_text.c (tokens), core/util. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "media/media.h"

/* A Scheme string literal body: backslash and quote escaped, control characters as spaces. */
static void scheme_str(char *out, size_t cap, const char *s) {
  size_t n = 0;
  for (; *s && n + 3 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '\\' || c == '"') {
      out[n++] = '\\';
      out[n++] = (char)c;
    } else {
      out[n++] = c < 0x20 ? ' ' : (char)c;
    }
  }
  out[n] = '\0';
}

char *ain_media_festival_script(const char *spoken, const char *voice, int rate, int pitch,
                                const char *wav_path) {
  const char *v = voice && voice[0] ? voice : "cmu_us_slt_arctic_hts";
  if (strlen(v) > 64) {
    return NULL;
  }
  for (const char *p = v; *p; p++) {
    if (!isalnum((unsigned char)*p) && *p != '_') {
      return NULL; /* a voice name is a Scheme symbol: refuse anything else */
    }
  }
  double speed = (rate ? rate : 175) / 175.0;
  double semis = ((pitch > 0 ? pitch : 50) - 50) / 5.0;
  size_t cap = strlen(spoken) * 2 + strlen(wav_path) * 2 + 2048;
  char *text = malloc(strlen(spoken) * 2 + 16), *wav = malloc(strlen(wav_path) * 2 + 16);
  char *out = malloc(cap);
  if (text == NULL || wav == NULL || out == NULL) {
    abort();
  }
  scheme_str(text, strlen(spoken) * 2 + 16, spoken);
  scheme_str(wav, strlen(wav_path) * 2 + 16, wav_path);
  /* hts_engine_params is the voice's list; appending -r/-fm changes speed and pitch. The token
   * loop prints "T<TAB>name<TAB>start" for tokens that are said (they have Word daughters). */
  snprintf(out, cap,
           "(voice_%s)\n"
           "(if (boundp 'hts_engine_params)\n"
           "  (set! hts_engine_params (append hts_engine_params\n"
           "    (list (list \"-r\" %.3f) (list \"-fm\" %.2f)))))\n"
           "(set! utt (Utterance Text \"%s\"))\n"
           "(utt.synth utt)\n"
           "(utt.save.wave utt \"%s\" 'riff)\n"
           "(mapcar (lambda (tok)\n"
           "  (let ((ws (item.daughters tok)))\n"
           "    (if ws (format t \"T\\t%%s\\t%%f\\n\" (item.name tok)\n"
           "               (item.feat (car ws) \"word_start\")))))\n"
           "  (utt.relation.items utt 'Token))\n"
           "(format t \"END\\n\")\n",
           v, speed, semis, text, wav);
  free(text);
  free(wav);
  return out;
}

/* ASCII letters and digits of s, lower case, into out. */
static void fold(const char *s, size_t n, char *out, size_t cap) {
  size_t k = 0;
  for (size_t i = 0; i < n && k + 1 < cap; i++) {
    unsigned char c = (unsigned char)s[i];
    if (isalnum(c) || c >= 0x80) {
      out[k++] = (char)tolower(c);
    }
  }
  out[k] = '\0';
}

size_t ain_media_festival_parse(const char *out, const ain_media_speech_t *s, int64_t *tok_start) {
  for (size_t i = 0; i < s->n_tokens; i++) {
    tok_start[i] = -1;
  }
  size_t k = 0, matched = 0;
  for (const char *line = out; line != NULL && *line && k < s->n_tokens;) {
    const char *eol = strchr(line, '\n');
    size_t len = eol ? (size_t)(eol - line) : strlen(line);
    if (len > 2 && line[0] == 'T' && line[1] == '\t') {
      const char *name = line + 2, *tab = memchr(name, '\t', len - 2);
      if (tab != NULL) {
        char a[128], b[128];
        fold(name, (size_t)(tab - name), a, sizeof a);
        double t = strtod(tab + 1, NULL);
        /* Festival drops punctuation from token names; tokens it did not keep are skipped on our
         * side (a short look-ahead), so one odd token cannot shift all the others. */
        for (size_t look = k; look < s->n_tokens && look < k + 4; look++) {
          fold(s->spoken + s->tok_off[look], s->tok_len[look], b, sizeof b);
          if (strcmp(a, b) == 0) {
            tok_start[look] = (int64_t)(t * 1000.0 + 0.5);
            matched++;
            k = look + 1;
            break;
          }
        }
      }
    }
    line = eol ? eol + 1 : NULL;
  }
  return matched;
}

/* ---- forced alignment: pocketsphinx -time yes output against the known tokens ----------------- */

typedef struct {
  char w[64];
  int64_t start;
} heard_t;

size_t ain_media_align_parse(const char *out, const ain_media_speech_t *s, int64_t *tok_start) {
  for (size_t i = 0; i < s->n_tokens; i++) {
    tok_start[i] = -1;
  }
  heard_t *h = NULL;
  size_t nh = 0, caph = 0;
  for (const char *line = out; line != NULL && *line;) {
    const char *eol = strchr(line, '\n');
    char buf[256];
    size_t len = eol ? (size_t)(eol - line) : strlen(line);
    if (len < sizeof buf) {
      memcpy(buf, line, len);
      buf[len] = '\0';
      char word[128];
      double st, en, p;
      /* "word start end prob": four fields; the hypothesis lines have no numbers */
      if (sscanf(buf, "%127s %lf %lf %lf", word, &st, &en, &p) == 4 && word[0] != '<' &&
          word[0] != '[') {
        char *paren = strchr(word, '('); /* "hello(2)": a pronunciation variant */
        if (paren) {
          *paren = '\0';
        }
        if (nh == caph) {
          caph = caph ? caph * 2 : 64;
          h = realloc(h, caph * sizeof *h);
          if (h == NULL) {
            abort();
          }
        }
        fold(word, strlen(word), h[nh].w, sizeof h[nh].w);
        h[nh].start = (int64_t)(st * 1000.0 + 0.5);
        nh++;
      }
    }
    line = eol ? eol + 1 : NULL;
  }
  size_t nt = s->n_tokens, matched = 0;
  if (nh == 0) {
    free(h);
    return 0;
  }
  /* Longest common subsequence of the folded words: the order is known, so the recogniser's
   * insertions and misses only cost the words they touch. O(nt * nh) memory: a minute of speech
   * is ~200 words (80 KB); past 4 M cells (a text far beyond a short video) a greedy match with
   * a short look-ahead is used instead. */
  if ((nt + 1) * (nh + 1) > ((size_t)4 << 20)) {
    for (size_t j = 0, i = 0; j < nh && i < nt; j++) {
      for (size_t k = i; k < nt && k < i + 8; k++) {
        char t[64];
        fold(s->spoken + s->tok_off[k], s->tok_len[k], t, sizeof t);
        if (strcmp(t, h[j].w) == 0) {
          tok_start[k] = h[j].start;
          matched++;
          i = k + 1;
          break;
        }
      }
    }
    free(h);
    return matched;
  }
  char (*tw)[64] = malloc(nt * sizeof *tw);
  unsigned short *dp = calloc((nt + 1) * (nh + 1), sizeof *dp);
  if (tw == NULL || dp == NULL) {
    abort();
  }
  for (size_t i = 0; i < nt; i++) {
    fold(s->spoken + s->tok_off[i], s->tok_len[i], tw[i], sizeof tw[i]);
  }
#define DP(i, j) dp[(i) * (nh + 1) + (j)]
  for (size_t i = nt; i-- > 0;) {
    for (size_t j = nh; j-- > 0;) {
      if (strcmp(tw[i], h[j].w) == 0) {
        DP(i, j) = (unsigned short)(DP(i + 1, j + 1) + 1);
      } else {
        DP(i, j) = DP(i + 1, j) > DP(i, j + 1) ? DP(i + 1, j) : DP(i, j + 1);
      }
    }
  }
  for (size_t i = 0, j = 0; i < nt && j < nh;) {
    if (strcmp(tw[i], h[j].w) == 0) {
      tok_start[i] = h[j].start;
      matched++;
      i++;
      j++;
    } else if (DP(i + 1, j) >= DP(i, j + 1)) {
      i++;
    } else {
      j++;
    }
  }
#undef DP
  free(tw);
  free(dp);
  free(h);
  return matched;
}

int ain_media_wav_info(const char *path, int64_t *duration_ms, int *sample_rate, ain_err_t *err) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    return ain_err_set(err, AIN_EIO, "tts: cannot open %s", path);
  }
  unsigned char hdr[12], ck[8], fmt[16];
  int rc = 0, ch = 0, bits = 0;
  long rate = 0;
  if (fread(hdr, 1, 12, f) != 12 || memcmp(hdr, "RIFF", 4) != 0 || memcmp(hdr + 8, "WAVE", 4)) {
    rc = ain_err_set(err, AIN_EMEDIA, "tts: %s is not a WAV file", path);
    goto done;
  }
  for (;;) {
    if (fread(ck, 1, 8, f) != 8) {
      rc = ain_err_set(err, AIN_EMEDIA, "tts: %s has no data chunk", path);
      goto done;
    }
    unsigned long sz = ck[4] | ck[5] << 8 | ck[6] << 16 | (unsigned long)ck[7] << 24;
    if (memcmp(ck, "fmt ", 4) == 0 && sz >= 16) {
      if (fread(fmt, 1, 16, f) != 16) {
        rc = ain_err_set(err, AIN_EMEDIA, "tts: %s: short fmt chunk", path);
        goto done;
      }
      ch = fmt[2] | fmt[3] << 8;
      rate = (long)(fmt[4] | fmt[5] << 8 | fmt[6] << 16 | (unsigned long)fmt[7] << 24);
      bits = fmt[14] | fmt[15] << 8;
      fseek(f, (long)(sz - 16 + (sz & 1)), SEEK_CUR);
    } else if (memcmp(ck, "data", 4) == 0) {
      if (ch <= 0 || rate <= 0 || bits <= 0 || bits % 8) {
        rc = ain_err_set(err, AIN_EMEDIA, "tts: %s: no usable fmt chunk before data", path);
        goto done;
      }
      /* ffmpeg writing to a pipe leaves 0xFFFFFFFF; we always write files, but be safe */
      if (sz == 0xFFFFFFFFul) {
        long here = ftell(f);
        fseek(f, 0, SEEK_END);
        sz = (unsigned long)(ftell(f) - here);
      }
      *duration_ms = (int64_t)sz * 1000 / ((int64_t)rate * ch * (bits / 8));
      *sample_rate = (int)rate;
      goto done;
    } else {
      fseek(f, (long)(sz + (sz & 1)), SEEK_CUR);
    }
  }
done:
  fclose(f);
  return rc;
}
