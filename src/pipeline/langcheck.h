/*
 * langcheck: a cheap check that a text is written in the language asked
 * for, used on model replies and built-in copy before a localised variant
 * is accepted. It decodes UTF-8 and counts letters by script; a language
 * written in its own script (ja, ko, zh, ar, fa, ur, he, hi, mr, ne, ru,
 * uk, bg, sr, el, th) passes when at least a fifth of the letters are in
 * that script (Japanese also needs kana, Chinese must have almost none).
 * A Latin-script language needs most letters Latin and, for en, de, fr,
 * es, pt, it and nl, a stopword/diacritic score at least that of each of
 * the other six (so English text is not accepted as German); other Latin
 * languages are checked by script only. Product names and features in
 * another script are tolerated up to those shares.
 *
 * Not a language identifier: it answers "plausibly written in L", cheaply.
 * Pure functions of their arguments; thread-safe.
 */
#ifndef ADS_LANGCHECK_H
#define ADS_LANGCHECK_H

#include <stddef.h>

enum {
    LANGCHECK_OK = 0,           /* plausibly in the language */
    LANGCHECK_WRONG = -1,       /* in another script or language */
    LANGCHECK_EMPTY = -2,       /* no letters at all */
    LANGCHECK_INVALID = -3,     /* not valid UTF-8 */
    LANGCHECK_UNKNOWN = 1       /* a language the check does not know: accepted by script alone when Latin */
};

/* Checks text against a BCP 47 tag ("ja", "pt-BR", "zh-CN"); why (may be
 * NULL, whysz bytes) says what was found. */
int langcheck_text(const char *lang, const char *text, char *why, size_t whysz);

/* The code point at str (n bytes left, n >= 1) and its length in *len;
 * -1 for a malformed sequence (overlong, surrogate, beyond U+10FFFF, cut
 * short). */
long langcheck_utf8_next(const char *str, size_t n, size_t *len);

/* "passed", "failed", "empty", "invalid_utf8" or "unchecked" for a result. */
const char *langcheck_word(int rc);

#endif
