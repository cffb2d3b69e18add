#include "langcheck.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum script { S_NONE, S_LATIN, S_GREEK, S_CYRILLIC, S_HEBREW, S_ARABIC, S_DEVANAGARI, S_BENGALI, S_TAMIL,
              S_TELUGU, S_THAI, S_HANGUL, S_KANA, S_HAN, S_OTHER, S_COUNT };

long langcheck_utf8_next(const char *str, size_t n, size_t *len)
{
    const unsigned char *s = (const unsigned char *)str;
    long cp, min;
    size_t need, i;

    if (s[0] < 0x80) {
        *len = 1;
        return s[0];
    }
    if ((s[0] & 0xE0) == 0xC0)
        need = 2, cp = s[0] & 0x1F, min = 0x80;
    else if ((s[0] & 0xF0) == 0xE0)
        need = 3, cp = s[0] & 0x0F, min = 0x800;
    else if ((s[0] & 0xF8) == 0xF0)
        need = 4, cp = s[0] & 0x07, min = 0x10000;
    else
        return -1;
    if (n < need)
        return -1;
    for (i = 1; i < need; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *len = need;
    return cp;
}

/* The script of a letter; S_NONE for digits, punctuation, symbols, emoji. */
static enum script script_of(int32_t c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7) ||
        (c >= 0x1E00 && c <= 0x1EFF))
        return S_LATIN;
    if ((c >= 0x370 && c <= 0x3FF) || (c >= 0x1F00 && c <= 0x1FFF))
        return S_GREEK;
    if (c >= 0x400 && c <= 0x52F)
        return S_CYRILLIC;
    if (c >= 0x5D0 && c <= 0x5F2)
        return S_HEBREW;
    if ((c >= 0x620 && c <= 0x64A) || (c >= 0x66E && c <= 0x6D3) || (c >= 0x750 && c <= 0x77F) ||
        (c >= 0x8A0 && c <= 0x8FF) || (c >= 0xFB50 && c <= 0xFDFF) || (c >= 0xFE70 && c <= 0xFEFF))
        return S_ARABIC;
    if (c >= 0x900 && c <= 0x97F && !(c >= 0x964 && c <= 0x96F))
        return S_DEVANAGARI;
    if (c >= 0x980 && c <= 0x9FF)
        return S_BENGALI;
    if (c >= 0xB80 && c <= 0xBFF)
        return S_TAMIL;
    if (c >= 0xC00 && c <= 0xC7F)
        return S_TELUGU;
    if (c >= 0xE01 && c <= 0xE5B)
        return S_THAI;
    if ((c >= 0x1100 && c <= 0x11FF) || (c >= 0x3130 && c <= 0x318F) || (c >= 0xAC00 && c <= 0xD7AF))
        return S_HANGUL;
    if ((c >= 0x3041 && c <= 0x309F) || (c >= 0x30A0 && c <= 0x30FF) || (c >= 0x31F0 && c <= 0x31FF) ||
        (c >= 0xFF66 && c <= 0xFF9F))
        return S_KANA;
    if ((c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0xF900 && c <= 0xFAFF) ||
        (c >= 0x20000 && c <= 0x2FFFF))
        return S_HAN;
    if (c >= 0x370 && c < 0x2000)
        return S_OTHER;             /* letters of scripts not told apart here */
    return S_NONE;
}

/* The Latin-script languages told apart by words. Each list holds words
 * common in that language and rare in the other six; words two of them
 * share ("de", "que", "en", "para", "con") are left out on purpose. */
enum { L_EN, L_DE, L_FR, L_ES, L_PT, L_IT, L_NL, L_LATIN };

static const char *const latin_tags[L_LATIN] = { "en", "de", "fr", "es", "pt", "it", "nl" };

static const char *const stopwords[L_LATIN][48] = {
    { "the", "and", "is", "are", "with", "for", "you", "your", "our", "this", "that", "now", "from", "of", "to", "it",
      "be", "we", "new", "more", "see", "how", "why", "what", "meet", "discover", "get", "makes", "make", "who",
      "will", "can", "its", "their", "they", "at", "by", "just", "every", "day", NULL },
    { "und", "der", "den", "dem", "des", "ist", "nicht", "mit", "für", "sie", "ihr", "ihre", "ihren", "ihrem", "ihres",
      "ein", "eine", "einen", "einem", "im", "zum", "zur", "auf", "von", "bei", "oder", "auch", "noch", "mehr", "jetzt",
      "wie", "warum", "uns", "unser", "unsere", "wir", "dann", "nur", "entdecken", "sehen", "zeit", "wird", "sich",
      "alltag", NULL },
    { "le", "les", "et", "est", "une", "des", "du", "pour", "avec", "dans", "sur", "vous", "votre", "vos", "nous",
      "notre", "plus", "au", "aux", "qui", "ce", "cette", "ces", "découvrez", "pourquoi", "comment", "très", "à", "où",
      "sont", "quotidien", "par", "puis", "ils", "elle", "leur", "ici", "voici", "conseils", NULL },
    { "el", "los", "las", "y", "es", "tus", "sus", "más", "muy", "cómo", "qué", "descubre", "nuestro", "nuestros",
      "nuestra", "mira", "pero", "también", "cuéntanos", "ti", "día", "usan", "tiempo", "esto", "así", "hasta",
      "todos", "todo", "ahora", "cada", "hace", "porque", "aquí", NULL },
    { "um", "uma", "com", "na", "nas", "em", "você", "seu", "sua", "seus", "suas", "isso", "isto", "nossos", "nossa",
      "nosso", "nossas", "conheça", "veja", "também", "não", "ao", "pelo", "pela", "é", "dia", "gente", "ação", NULL },
    { "il", "gli", "della", "dello", "delle", "dei", "degli", "per", "che", "di", "tuo", "tua", "tuoi", "più", "nel",
      "nella", "scopri", "questo", "questa", "sono", "è", "ecco", "ogni", "anche", "ci", "giorno", "perché", "ti", "poi",
      "tre", "ciao", "nostri", "nei", "dal", "alla", "sul", "tutto", "della", "cosa", NULL },
    { "het", "een", "van", "voor", "met", "niet", "je", "jouw", "uw", "ons", "onze", "zijn", "ook", "nu", "meer",
      "wat", "hoe", "dit", "deze", "bij", NULL },
};

/* Letters (lower case) only one of the seven uses much. */
static const int32_t diacritics[L_LATIN][12] = {
    { 0 },
    { 0xE4, 0xF6, 0xFC, 0xDF, 0 },
    { 0xE8, 0xEA, 0x153, 0xF9, 0xEE, 0xEF, 0xEB, 0 },
    { 0xF1, 0xBF, 0xA1, 0 },
    { 0xE3, 0xF5, 0 },
    { 0xEC, 0xF2, 0 },
    { 0 },
};

/* Latin-script languages checked by script alone. */
static const char *const latin_only[] = {
    "sv", "nb", "nn", "no", "da", "fi", "is", "pl", "cs", "sk", "hu", "ro", "tr", "id", "ms", "vi", "fil", "tl", "sw",
    "af", "zu", "xh", "yo", "ha", "ig", "pcm", "et", "lv", "lt", "hr", "sl", "ca", "eu", "gl", "ga", "cy", "mi", NULL
};

struct tally {
    long letters, by_script[S_COUNT];
    int score[L_LATIN];
    int marks[L_LATIN];
};

static int32_t lower(int32_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c + 32;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return c + 32;
    if (c == 0x152)
        return 0x153;
    return c;
}

static size_t put_utf8(char *out, int32_t c)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    out[0] = (char)(0xE0 | (c >> 12));
    out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[2] = (char)(0x80 | (c & 0x3F));
    return 3;
}

static void score_word(struct tally *t, const char *word)
{
    int l, i;

    for (l = 0; l < L_LATIN; l++)
        for (i = 0; stopwords[l][i] != NULL; i++)
            if (strcmp(stopwords[l][i], word) == 0) {
                t->score[l]++;
                break;
            }
}

static void mark(struct tally *t, int32_t c)
{
    int l, i;

    for (l = 0; l < L_LATIN; l++)
        for (i = 0; diacritics[l][i] != 0; i++)
            if (diacritics[l][i] == c && t->marks[l] < 3)
                t->marks[l]++;
}

/* Counts letters by script and scores Latin words; -1 on bad UTF-8. */
static int tally_text(const char *text, struct tally *t)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t n = strlen(text), len, wl = 0;
    char word[64];

    memset(t, 0, sizeof *t);
    while (n > 0) {
        int32_t c = (int32_t)langcheck_utf8_next((const char *)s, n, &len);
        enum script sc;
        if (c < 0)
            return -1;
        s += len;
        n -= len;
        sc = script_of(c);
        if (sc != S_NONE) {
            t->letters++;
            t->by_script[sc]++;
        }
        if (sc == S_LATIN) {
            c = lower(c);
            mark(t, c);
            if (wl + 4 < sizeof word && c < 0x10000)
                wl += put_utf8(word + wl, c);
            else
                wl = sizeof word;    /* too long to be a stopword */
            continue;
        }
        if (wl > 0 && wl < sizeof word) {
            word[wl] = '\0';
            score_word(t, word);
        }
        wl = 0;
    }
    if (wl > 0 && wl < sizeof word) {
        word[wl] = '\0';
        score_word(t, word);
    }
    return 0;
}

static void say(char *why, size_t whysz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t whysz, const char *fmt, ...)
{
    va_list ap;

    if (why == NULL || whysz == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(why, whysz, fmt, ap);
    va_end(ap);
}

/* The primary subtag of a BCP 47 tag, lower case ("pt-BR" -> "pt"). */
static void primary(const char *tag, char *out, size_t outsz)
{
    size_t i;

    for (i = 0; tag[i] != '\0' && tag[i] != '-' && tag[i] != '_' && i + 1 < outsz; i++)
        out[i] = (char)tolower((unsigned char)tag[i]);
    out[i] = '\0';
}

static enum script own_script(const char *p)
{
    static const struct { const char *lang; enum script s; } map[] = {
        { "ja", S_KANA }, { "ko", S_HANGUL }, { "zh", S_HAN }, { "ar", S_ARABIC }, { "fa", S_ARABIC },
        { "ur", S_ARABIC }, { "he", S_HEBREW }, { "hi", S_DEVANAGARI }, { "mr", S_DEVANAGARI },
        { "ne", S_DEVANAGARI }, { "bn", S_BENGALI }, { "ta", S_TAMIL }, { "te", S_TELUGU }, { "ru", S_CYRILLIC },
        { "uk", S_CYRILLIC }, { "bg", S_CYRILLIC }, { "sr", S_CYRILLIC }, { "mk", S_CYRILLIC }, { "kk", S_CYRILLIC },
        { "el", S_GREEK }, { "th", S_THAI }, { NULL, S_NONE }
    };
    int i;

    for (i = 0; map[i].lang != NULL; i++)
        if (strcmp(map[i].lang, p) == 0)
            return map[i].s;
    return S_NONE;
}

static int latin_index(const char *p)
{
    int l;

    for (l = 0; l < L_LATIN; l++)
        if (strcmp(latin_tags[l], p) == 0)
            return l;
    return -1;
}

static int listed(const char *const *list, const char *p)
{
    for (; *list != NULL; list++)
        if (strcmp(*list, p) == 0)
            return 1;
    return 0;
}

/* Japanese: kana or Han make the share, and some kana must be there (a
 * Chinese text has none). Chinese: Han, and next to no kana. */
static int check_own_script(const char *p, enum script s, const struct tally *t, char *why, size_t whysz)
{
    long mine = t->by_script[s];

    if (s == S_KANA) {
        mine = t->by_script[S_KANA] + t->by_script[S_HAN];
        if (t->by_script[S_KANA] == 0) {
            say(why, whysz, "%s needs Hiragana or Katakana; found none (%ld of %ld letters Han)", p,
                t->by_script[S_HAN], t->letters);
            return LANGCHECK_WRONG;
        }
    }
    if (s == S_HAN && t->by_script[S_KANA] * 20 > t->by_script[S_HAN]) {
        say(why, whysz, "%s: %ld kana letters, as in Japanese (%ld Han)", p, t->by_script[S_KANA], t->by_script[S_HAN]);
        return LANGCHECK_WRONG;
    }
    if (mine * 5 < t->letters) {
        say(why, whysz, "%s: only %ld of %ld letters in its script", p, mine, t->letters);
        return LANGCHECK_WRONG;
    }
    say(why, whysz, "%s: %ld of %ld letters in its script", p, mine, t->letters);
    return LANGCHECK_OK;
}

static int check_latin(const char *p, int target, const struct tally *t, char *why, size_t whysz)
{
    int l, mine;

    if (t->by_script[S_LATIN] * 5 < t->letters * 3) {
        say(why, whysz, "%s: only %ld of %ld letters Latin", p, t->by_script[S_LATIN], t->letters);
        return LANGCHECK_WRONG;
    }
    if (target < 0) {
        say(why, whysz, "%s: %ld of %ld letters Latin (script checked only)", p, t->by_script[S_LATIN], t->letters);
        return listed(latin_only, p) ? LANGCHECK_OK : LANGCHECK_UNKNOWN;
    }
    mine = t->score[target] + t->marks[target];
    if (target != L_EN && mine == 0) {
        say(why, whysz, "%s: no word or letter of the language found", p);
        return LANGCHECK_WRONG;
    }
    for (l = 0; l < L_LATIN; l++) {
        int other = t->score[l] + t->marks[l];
        if (l != target && other > mine) {
            say(why, whysz, "%s: reads as %s (%d hints against %d)", p, latin_tags[l], other, mine);
            return LANGCHECK_WRONG;
        }
    }
    say(why, whysz, "%s: %d language hints", p, mine);
    return LANGCHECK_OK;
}

int langcheck_text(const char *lang, const char *text, char *why, size_t whysz)
{
    struct tally t;
    char p[16];
    enum script s;

    if (why != NULL && whysz > 0)
        why[0] = '\0';
    primary(lang ? lang : "", p, sizeof p);
    if (text == NULL || tally_text(text, &t) != 0) {
        say(why, whysz, "%s: the text is not valid UTF-8", p);
        return LANGCHECK_INVALID;
    }
    if (t.letters == 0) {
        say(why, whysz, "%s: the text has no letters", p);
        return LANGCHECK_EMPTY;
    }
    s = own_script(p);
    if (s != S_NONE)
        return check_own_script(p, s, &t, why, whysz);
    if (latin_index(p) >= 0 || listed(latin_only, p))
        return check_latin(p, latin_index(p), &t, why, whysz);
    say(why, whysz, "%s: no check for this language", p);
    return LANGCHECK_UNKNOWN;
}

const char *langcheck_word(int rc)
{
    if (rc == LANGCHECK_OK)
        return "passed";
    if (rc == LANGCHECK_UNKNOWN)
        return "unchecked";
    return "failed";
}
