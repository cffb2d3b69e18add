#include "l10n.h"
#include "buf.h"
#include "langcheck.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct l10n {
    json_object *root;
    json_object *langs;     /* borrowed from root: tag -> copy */
    json_object *angles;    /* borrowed from root */
};

static const char *str_at(json_object *o, const char *k)
{
    json_object *v;

    if (o != NULL && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return "";
}

static json_object *get(json_object *o, const char *k)
{
    json_object *v = NULL;

    if (o != NULL)
        json_object_object_get_ex(o, k, &v);
    return v;
}

static size_t len_of(json_object *a)
{
    return a != NULL && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* Every language has copy for every angle and each part a template. */
static int check_lang(const char *tag, json_object *c, json_object *angles, char *err)
{
    static const char *const parts[] = { "ideas", "cta", "overlay_cta", "headline", "hashtags", "video_scripts",
                                         "email_templates",
                                         "blog_outline", "fallback_features", NULL };
    size_t i;

    for (i = 0; parts[i] != NULL; i++)
        if (get(c, parts[i]) == NULL) {
            ads_errf(err, "copy deck: %s lacks %s", tag, parts[i]);
            return -1;
        }
    for (i = 0; i < len_of(angles); i++) {
        const char *a = json_object_get_string(json_object_array_get_idx(angles, i));
        json_object *idea = get(get(c, "ideas"), a);
        if (str_at(idea, "topic")[0] == '\0' || str_at(idea, "caption")[0] == '\0') {
            ads_errf(err, "copy deck: %s lacks the %s idea", tag, a);
            return -1;
        }
    }
    if (len_of(get(c, "fallback_features")) < 3) {
        ads_errf(err, "copy deck: %s needs three fallback_features", tag);
        return -1;
    }
    return 0;
}

struct l10n *l10n_load(const char *path, char *err)
{
    struct l10n *d = calloc(1, sizeof *d);

    if (d == NULL) {
        ads_errf(err, "out of memory");
        return NULL;
    }
    d->root = json_object_from_file(path);
    d->langs = get(d->root, "languages");
    d->angles = get(d->root, "angles");
    if (d->root == NULL || d->langs == NULL || !json_object_is_type(d->langs, json_type_object) ||
        len_of(d->angles) == 0 || get(d->langs, "en") == NULL) {
        ads_errf(err, "cannot load the copy deck %s (needs languages with en, and angles)", path);
        l10n_free(d);
        return NULL;
    }
    json_object_object_foreach(d->langs, tag, copy) {
        if (check_lang(tag, copy, d->angles, err) != 0) {
            l10n_free(d);
            return NULL;
        }
    }
    return d;
}

void l10n_free(struct l10n *d)
{
    if (d == NULL)
        return;
    json_object_put(d->root);
    free(d);
}

static size_t primary_len(const char *tag)
{
    size_t n = strcspn(tag, "-_");
    return n;
}

json_object *l10n_lang(const struct l10n *d, const char *tag, const char **used)
{
    size_t n;

    if (d == NULL || tag == NULL || tag[0] == '\0')
        return NULL;
    {
        json_object_object_foreach(d->langs, k, v) {
            if (strcasecmp(k, tag) == 0) {
                if (used != NULL)
                    *used = k;
                return v;
            }
        }
    }
    n = primary_len(tag);
    {
        json_object_object_foreach(d->langs, k, v) {
            if (primary_len(k) == n && strncasecmp(k, tag, n) == 0) {
                if (used != NULL)
                    *used = k;
                return v;
            }
        }
    }
    return NULL;
}

static int is_rtl(long c)
{
    return (c >= 0x590 && c <= 0x8FF) || (c >= 0xFB1D && c <= 0xFDFF) || (c >= 0xFE70 && c <= 0xFEFF);
}

/* Characters a value must not carry into copy: controls, braces (slot
 * syntax) and explicit direction controls (an unbalanced one would flip
 * the rest of the caption). */
static int dropped(long c)
{
    return c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) || c == '{' || c == '}' ||
           (c >= 0x200E && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

char *l10n_clean(const char *in, char *out, size_t outsz)
{
    static const char fsi[] = "\xe2\x81\xa8", pdi[] = "\xe2\x81\xa9";
    size_t n = in ? strlen(in) : 0, o = 0, len, room;
    int rtl = 0, space = 0;

    if (outsz == 0)
        return out;
    out[0] = '\0';
    room = outsz > 7 ? outsz - 7 : 1;      /* keeps room for the isolates */
    while (n > 0) {
        long c = langcheck_utf8_next(in, n, &len);
        if (c < 0) {
            in++, n--;                     /* a stray byte: dropped */
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xA0) {
            space = o > 0;
        } else if (!dropped(c)) {
            if (o + (space ? 1 : 0) + len >= room)
                break;
            if (space)
                out[o++] = ' ';
            space = 0;
            memcpy(out + o, in, len);
            o += len;
            rtl |= is_rtl(c);
        }
        in += len;
        n -= len;
    }
    out[o] = '\0';
    if (rtl && o + 7 <= outsz) {
        memmove(out + 3, out, o + 1);
        memcpy(out, fsi, 3);
        memcpy(out + 3 + o, pdi, 4);       /* with the NUL */
    }
    return out;
}

char *l10n_fill(const char *tmpl, const struct l10n_slots *s)
{
    struct buf b;
    const char *p = tmpl;

    buf_init(&b);
    while (*p != '\0') {
        const char *close, *value = NULL;
        size_t n;
        if (*p != '{' || (close = strchr(p, '}')) == NULL || close - p > 12) {
            buf_addc(&b, *p++);
            continue;
        }
        n = (size_t)(close - p - 1);
        if (n == 7 && strncmp(p + 1, "product", n) == 0)
            value = s->product;
        else if (n == 8 && strncmp(p + 1, "feature", 7) == 0 && p[8] >= '1' && p[8] <= '3')
            value = s->feature[p[8] - '1'];
        else if (n == 3 && strncmp(p + 1, "cta", n) == 0)
            value = s->cta;
        else if (n == 8 && strncmp(p + 1, "audience", n) == 0)
            value = s->audience;
        if (value == NULL) {               /* not ours: {first_name}, {link} */
            buf_addc(&b, *p++);
            continue;
        }
        buf_adds(&b, value);
        p = close + 1;
    }
    return buf_steal(&b);
}

static json_object *filled(const char *tmpl, const struct l10n_slots *s)
{
    char *t = l10n_fill(tmpl, s);
    json_object *o = json_object_new_string(t ? t : "");

    free(t);
    return o;
}

/* "#" and the letters and digits of text, words joined with capitals:
 * "Aurora Desk Lamp" -> "#AuroraDeskLamp"; other scripts are kept as they
 * are. Empty when nothing is left. */
static void hashtag(const char *text, char *out, size_t outsz)
{
    size_t n = strlen(text), o = 1, len;
    int up = 1;

    out[0] = '#';
    while (n > 0 && o + 5 < outsz) {
        long c = langcheck_utf8_next(text, n, &len);
        if (c < 0) {
            text++, n--;
            continue;
        }
        if (c < 0x80 && isalnum((int)c)) {
            out[o++] = up ? (char)toupper((int)c) : (char)c;
            up = 0;
        } else if (c >= 0xC0 && !(c >= 0x2000 && c <= 0x2BFF) && !(c >= 0x3000 && c <= 0x303F) &&
                   !(c >= 0xFE00 && c <= 0xFE0F) && !(c >= 0xFF00 && c <= 0xFF0F) && c < 0x1F000) {
            memcpy(out + o, text, len);
            o += len;
            up = 0;
        } else {
            up = 1;
        }
        text += len;
        n -= len;
    }
    out[o] = '\0';
    if (o == 1)
        out[0] = '\0';
}

static const char *feature_of(json_object *info, size_t i)
{
    json_object *f = get(info, "key_features");

    if (i < len_of(f)) {
        json_object *v = json_object_array_get_idx(f, i);
        if (json_object_is_type(v, json_type_string))
            return json_object_get_string(v);
    }
    return NULL;
}

/* Clean slot values; a missing feature gets the language's own wording. */
struct slotbuf {
    char product[L10N_SLOT_MAX + 8], feature[3][L10N_SLOT_MAX + 8], cta[L10N_SLOT_MAX + 8];
    struct l10n_slots s;
};

static void slots_for(struct slotbuf *sb, json_object *copy, json_object *info, int sales)
{
    json_object *fb = get(copy, "fallback_features");
    size_t i;

    l10n_clean(str_at(info, "name"), sb->product, sizeof sb->product);
    for (i = 0; i < 3; i++) {
        const char *f = feature_of(info, i);
        l10n_clean(f, sb->feature[i], sizeof sb->feature[i]);
        if (sb->feature[i][0] == '\0')
            l10n_clean(json_object_get_string(json_object_array_get_idx(fb, i)), sb->feature[i], sizeof sb->feature[i]);
        sb->s.feature[i] = sb->feature[i];
    }
    l10n_clean(str_at(get(copy, "cta"), sales ? "sales" : "default"), sb->cta, sizeof sb->cta);
    sb->s.product = sb->product;
    sb->s.cta = sb->cta;
    sb->s.audience = NULL;
}

/* The copy for a language, or English; *used the deck's tag. */
static json_object *copy_or_english(const struct l10n *d, const char *language, const char **used)
{
    json_object *c = l10n_lang(d, language, used);

    if (c == NULL)
        c = l10n_lang(d, "en", used);
    return c;
}

int l10n_overlay(const struct l10n *d, const char *language, const char *product, int sales, char **headline,
                 char **cta)
{
    json_object *copy, *info;
    struct slotbuf sb;
    char name[48];

    *headline = *cta = NULL;
    if ((copy = copy_or_english(d, language, NULL)) == NULL)
        return -1;
    /* An overlay has little room: the name is cut to 40 bytes. */
    info = json_object_new_object();
    json_object_object_add(info, "name", json_object_new_string(l10n_clean(product, name, sizeof name)));
    slots_for(&sb, copy, info, sales);
    json_object_put(info);
    *headline = l10n_fill(str_at(copy, "headline"), &sb.s);
    /* An image has room for a button's words, not a post's "link in bio". */
    *cta = get(copy, "overlay_cta") != NULL ? strdup(str_at(get(copy, "overlay_cta"), sales ? "sales" : "default"))
                                            : strdup(sb.cta);
    if (*headline == NULL || *cta == NULL) {
        free(*headline);
        free(*cta);
        *headline = *cta = NULL;
        return -1;
    }
    return 0;
}

static json_object *templates(json_object *list, const char *k1, const char *k2, const struct l10n_slots *s,
                              const char *lang)
{
    json_object *out = json_object_new_array();
    size_t i;

    for (i = 0; i < len_of(list); i++) {
        json_object *t = json_object_array_get_idx(list, i), *o = json_object_new_object();
        if (strcmp(k1, "type") == 0)
            json_object_object_add(o, k1, json_object_new_string(str_at(t, k1)));
        else
            json_object_object_add(o, k1, filled(str_at(t, k1), s));
        json_object_object_add(o, k2, filled(str_at(t, k2), s));
        json_object_object_add(o, "language", json_object_new_string(lang));
        json_object_array_add(out, o);
    }
    return out;
}

static json_object *blog(json_object *b, const struct l10n_slots *s, const char *lang)
{
    json_object *o = json_object_new_object(), *pts = json_object_new_array(), *arr = json_object_new_array();
    json_object *src = get(b, "points");
    size_t i;

    json_object_object_add(o, "title", filled(str_at(b, "title"), s));
    json_object_object_add(o, "introduction", filled(str_at(b, "introduction"), s));
    for (i = 0; i < len_of(src); i++)
        json_object_array_add(pts, filled(json_object_get_string(json_object_array_get_idx(src, i)), s));
    json_object_object_add(o, "points", pts);
    json_object_object_add(o, "language", json_object_new_string(lang));
    json_object_array_add(arr, o);
    return arr;
}

static json_object *tags_for(json_object *copy, const char *product)
{
    json_object *tags = json_object_new_array(), *local = get(copy, "hashtags");
    char t[64];
    size_t i;

    hashtag(product, t, sizeof t);
    if (t[0] != '\0')
        json_object_array_add(tags, json_object_new_string(t));
    for (i = 0; i < len_of(local); i++)
        json_object_array_add(tags, json_object_new_string(json_object_get_string(json_object_array_get_idx(local, i))));
    return tags;
}

json_object *l10n_variant(const struct l10n *d, const struct l10n_input *in)
{
    const char *used = "en";
    json_object *copy = copy_or_english(d, in->language, &used), *v, *ideas;
    struct slotbuf sb;
    size_t i, na = len_of(d ? d->angles : NULL);

    if (copy == NULL || na == 0)
        return NULL;
    slots_for(&sb, copy, in->product_info, in->sales);
    v = json_object_new_object();
    json_object_object_add(v, "market", json_object_new_string(in->market));
    json_object_object_add(v, "profile", json_object_new_string(in->profile));
    json_object_object_add(v, "language", json_object_new_string(used));
    json_object_object_add(v, "requested_language", json_object_new_string(in->language));
    json_object_object_add(v, "source", json_object_new_string("builtin"));
    if (l10n_lang(d, in->language, NULL) == NULL) {
        char note[200];
        snprintf(note, sizeof note, "no built-in copy for %.40s: English copy given; text_provider = bedrock or "
                 "openai writes it in %.40s", in->language, in->language);
        json_object_object_add(v, "note", json_object_new_string(note));
    }
    json_object_object_add(v, "headline", filled(str_at(copy, "headline"), &sb.s));
    json_object_object_add(v, "cta", json_object_new_string(sb.cta));
    json_object_object_add(v, "hashtags", tags_for(copy, sb.product));
    ideas = json_object_new_array();
    for (i = 0; i < in->np; i++) {
        const char *angle = json_object_get_string(json_object_array_get_idx(d->angles, i % na));
        json_object *t = get(get(copy, "ideas"), angle), *idea = json_object_new_object();
        json_object_object_add(idea, "platform", json_object_new_string(in->platforms[i]));
        json_object_object_add(idea, "angle", json_object_new_string(angle));
        json_object_object_add(idea, "topic", filled(str_at(t, "topic"), &sb.s));
        json_object_object_add(idea, "caption", filled(str_at(t, "caption"), &sb.s));
        json_object_object_add(idea, "hashtags", tags_for(copy, sb.product));
        json_object_object_add(idea, "language", json_object_new_string(used));
        json_object_array_add(ideas, idea);
    }
    json_object_object_add(v, "content_ideas", ideas);
    json_object_object_add(v, "video_scripts", templates(get(copy, "video_scripts"), "type", "content", &sb.s, used));
    json_object_object_add(v, "email_templates", templates(get(copy, "email_templates"), "subject", "body", &sb.s, used));
    json_object_object_add(v, "blog_outlines", blog(get(copy, "blog_outline"), &sb.s, used));
    l10n_check_variant(v, used, in->product_info);
    return v;
}

/* Checks one text; keeps the first failure. */
static void check_one(const char *lang, const char *text, int *worst, char *why, size_t whysz)
{
    char w[200];
    int rc = langcheck_text(lang, text, w, sizeof w);

    if (rc < 0 && *worst >= 0) {
        *worst = rc;
        snprintf(why, whysz, "%s", w);
    } else if (rc == LANGCHECK_UNKNOWN && *worst == LANGCHECK_OK) {
        *worst = rc;
    }
}

/* Blanks each occurrence of the product's name and features in text. */
static void blank_product(char *text, json_object *info)
{
    json_object *f = get(info, "key_features");
    size_t i;

    for (i = 0; i <= len_of(f); i++) {
        const char *w = i == 0 ? str_at(info, "name") : json_object_get_string(json_object_array_get_idx(f, i - 1));
        size_t n = w ? strlen(w) : 0;
        char *p = text;
        if (n < 2)
            continue;
        while ((p = strstr(p, w)) != NULL) {
            memset(p, ' ', n);
            p += n;
        }
    }
}

/* The strings of an item's fields (and of an array field's elements)
 * joined by newlines, to check as one text. */
static void item_text(json_object *item, const char *const *fields, struct buf *b)
{
    size_t i, j;

    buf_reset(b);
    for (i = 0; fields[i] != NULL; i++) {
        json_object *v = get(item, fields[i]);
        if (v != NULL && json_object_is_type(v, json_type_string)) {
            buf_adds(b, json_object_get_string(v));
            buf_addc(b, '\n');
        }
        for (j = 0; j < len_of(v); j++) {
            json_object *e = json_object_array_get_idx(v, j);
            if (json_object_is_type(e, json_type_string)) {
                buf_adds(b, json_object_get_string(e));
                buf_addc(b, '\n');
            }
        }
    }
}

int l10n_check_variant(json_object *variant, const char *lang, json_object *product_info)
{
    static const char *const idea_f[] = { "topic", "caption", NULL }, *const script_f[] = { "content", NULL };
    static const char *const email_f[] = { "subject", "body", NULL };
    static const char *const blog_f[] = { "title", "introduction", "points", NULL };
    static const struct { const char *section; const char *const *fields; } parts[] = {
        { "content_ideas", idea_f }, { "video_scripts", script_f }, { "email_templates", email_f },
        { "blog_outlines", blog_f }, { NULL, NULL }
    };
    struct buf b;
    char why[240] = "";
    int worst = LANGCHECK_OK, p, checked = 0;
    size_t i;

    buf_init(&b);
    for (p = 0; parts[p].section != NULL; p++) {
        json_object *list = get(variant, parts[p].section);
        for (i = 0; i < len_of(list); i++) {
            item_text(json_object_array_get_idx(list, i), parts[p].fields, &b);
            if (b.data != NULL)
                blank_product(b.data, product_info);
            check_one(lang, b.data ? b.data : "", &worst, why, sizeof why);
            checked++;
        }
    }
    buf_free(&b);
    if (checked == 0) {
        worst = LANGCHECK_EMPTY;
        snprintf(why, sizeof why, "%s: the variant has no text", lang);
    }
    json_object_object_add(variant, "language_check", json_object_new_string(langcheck_word(worst)));
    if (worst < 0)
        json_object_object_add(variant, "language_check_detail", json_object_new_string(why));
    else
        json_object_object_del(variant, "language_check_detail");
    return worst;
}

int l10n_variant_ok(json_object *variant)
{
    json_object *ideas = get(variant, "content_ideas");
    size_t i;

    if (variant == NULL || !json_object_is_type(variant, json_type_object) || len_of(ideas) == 0)
        return 0;
    for (i = 0; i < len_of(ideas); i++) {
        json_object *idea = json_object_array_get_idx(ideas, i);
        if (!json_object_is_type(idea, json_type_object) || str_at(idea, "caption")[0] == '\0')
            return 0;
    }
    return 1;
}
