/*
 * l10n: localised campaign copy. The built-in copy deck (data/copy.json,
 * written per language for this product, no machine translation) holds,
 * per language, captions and topics for each content angle, calls to
 * action, an overlay headline, local hashtags, video scripts, emails and a
 * blog outline, as templates with slots: {product}, {feature1}..{feature3}
 * and {cta} ({audience} too, for the English plan only: the brief's
 * audience is in the brief's language). Templates never glue articles or case endings to a slot, so
 * any product name fits.
 *
 * Filling is one pass: a value is cleaned first (control characters and
 * braces dropped, whitespace collapsed, cut at a character boundary), a
 * value with right-to-left letters is wrapped in Unicode isolates (FSI ..
 * PDI) so it cannot reorder the sentence around it, and a slot inside a
 * value is never expanded. Unknown {names} ({first_name}, {link}) are left
 * for the mailing tool.
 *
 * l10n_variant makes a market's built-in variant; l10n_check_variant runs
 * the language check (langcheck) over a variant's texts, the built-in's or
 * a model's, and marks it.
 *
 * struct l10n owns the parsed deck; objects it returns from l10n_lang are
 * borrowed. Everything else returned is the caller's. Read-only after
 * load: safe to share between threads as long as nobody takes references
 * to its objects (json-c counts are not atomic), which these functions do
 * not.
 */
#ifndef ADS_L10N_H
#define ADS_L10N_H

#include <stddef.h>

#include <json-c/json.h>

struct l10n;

struct l10n *l10n_load(const char *path, char *err);
void l10n_free(struct l10n *d);

/* The deck's copy for a BCP 47 tag: the tag itself, else a language with
 * the same primary subtag ("fr-CA" gets "fr", "pt-PT" gets "pt-BR"), else
 * NULL. *used (may be NULL) gets the deck's tag. */
json_object *l10n_lang(const struct l10n *d, const char *tag, const char **used);

#define L10N_SLOT_MAX 160    /* bytes of a cleaned value */

struct l10n_slots {
    const char *product;
    const char *feature[3];
    const char *cta;
    const char *audience;      /* {audience}: English copy only; NULL leaves the slot */
};

/* Cleans one value into out (outsz bytes, at least 8; the value is cut at
 * a character boundary to leave room for the isolates). Returns out. */
char *l10n_clean(const char *in, char *out, size_t outsz);

/* The template with its slots filled (malloc'd; NULL when out of memory).
 * Slot values are taken as given: clean them first. */
char *l10n_fill(const char *tmpl, const struct l10n_slots *s);

/* What a built-in variant needs. */
struct l10n_input {
    const char *market, *profile;      /* the brief's market and the profile's name */
    const char *language;              /* the market's BCP 47 tag */
    json_object *product_info;         /* name, key_features */
    int sales;                         /* a sales goal: the sales call to action */
    const char **platforms;            /* the plan's platforms */
    size_t np;
};

/* The market's variant: {"market", "profile", "language",
 * "requested_language", "source": "builtin", "headline", "cta",
 * "hashtags", "content_ideas" [{"platform", "angle", "topic", "caption",
 * "hashtags", "engagement_score", "language"}], "video_scripts",
 * "email_templates", "blog_outlines", "language_check"}. A language the
 * deck lacks gets English copy, said in "note". NULL only when the deck
 * lacks English too. */
json_object *l10n_variant(const struct l10n *d, const struct l10n_input *in);

/* The overlay headline and call to action for a language (malloc'd, the
 * caller frees both; English when the deck lacks the language). */
int l10n_overlay(const struct l10n *d, const char *language, const char *product, int sales, char **headline,
                 char **cta);

/* Checks every text of a variant (ideas' topic and caption, scripts,
 * emails, blog outlines) against lang, sets "language_check" ("passed",
 * "failed" or "unchecked") and, when failed, "language_check_detail".
 * The product's name and key features (from product_info, may be NULL)
 * are left out of the count: they are in the brief's language. Returns
 * LANGCHECK_OK, LANGCHECK_UNKNOWN or the first failure. */
int l10n_check_variant(json_object *variant, const char *lang, json_object *product_info);

/* A variant's shape is usable: an object whose content_ideas is a
 * non-empty array of objects with a caption string. */
int l10n_variant_ok(json_object *variant);

#endif
