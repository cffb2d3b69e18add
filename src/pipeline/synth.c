#include "synth.h"
#include "buf.h"
#include "l10n.h"
#include "util.h"

#include <ctype.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PLATFORMS 6

static const char *str_of(json_object *o, const char *k)
{
    json_object *v;

    if (o != NULL && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return "";
}

static json_object *arr_of(json_object *o, const char *k)
{
    json_object *v;

    if (o != NULL && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_array))
        return v;
    return NULL;
}

static const char *arr_str(json_object *a, size_t i)
{
    json_object *v = a ? json_object_array_get_idx(a, i) : NULL;
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

static size_t arr_len(json_object *a)
{
    return a ? json_object_array_length(a) : 0;
}

static json_object *jstr(const char *s)
{
    return json_object_new_string(s);
}

static json_object *jprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_object *jprintf(const char *fmt, ...)
{
    char tmp[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    return json_object_new_string(tmp);
}

static void warn(json_object *warnings, const char *msg)
{
    if (warnings != NULL)
        json_object_array_add(warnings, jstr(msg));
}

int synth_weeks(const char *d, int *weeks)
{
    double n = 0;
    char unit[32] = "";
    char lower[64];
    size_t i;

    for (i = 0; d[i] != '\0' && i + 1 < sizeof lower; i++)
        lower[i] = (char)tolower((unsigned char)d[i]);
    lower[i] = '\0';
    if (sscanf(lower, "%lf %31s", &n, unit) < 1 || n <= 0) {
        if (strstr(lower, "quarter"))
            n = 13, strcpy(unit, "weeks");
        else if (strstr(lower, "year"))
            n = 52, strcpy(unit, "weeks");
        else if (strstr(lower, "month"))
            n = 1, strcpy(unit, "month");
        else if (strstr(lower, "week"))
            n = 1, strcpy(unit, "week");
        else
            return -1;
    }
    if (strncmp(unit, "day", 3) == 0)
        n = ceil(n / 7.0);
    else if (strncmp(unit, "month", 5) == 0)
        n = ceil(n * 4.345);
    else if (strncmp(unit, "year", 4) == 0)
        n = n * 52;
    else if (unit[0] != '\0' && strncmp(unit, "week", 4) != 0 && strncmp(unit, "wk", 2) != 0)
        return -1;
    if (n < 1)
        n = 1;
    if (n > 52)
        n = 52;
    *weeks = (int)n;
    return 0;
}

int synth_budget_usd(const char *b, double *usd)
{
    char digits[64];
    size_t n = 0;
    double v, rate = 1.0, mult = 1.0;
    const char *p;

    if (strcasecmp(b, "low") == 0) { *usd = 1000; return 0; }
    if (strcasecmp(b, "medium") == 0) { *usd = 5000; return 0; }
    if (strcasecmp(b, "high") == 0) { *usd = 25000; return 0; }
    if (strstr(b, "\xe2\x82\xac") || strcasestr(b, "eur"))
        rate = 1.08;
    else if (strstr(b, "\xc2\xa3") || strcasestr(b, "gbp"))
        rate = 1.27;
    for (p = b; *p != '\0' && n + 1 < sizeof digits; p++) {
        if (isdigit((unsigned char)*p) || *p == '.')
            digits[n++] = *p;
        else if (*p == ',')
            continue;
        else if (n > 0 && (*p == 'k' || *p == 'K'))
            mult = 1000;
        else if (n > 0 && (*p == 'm' || *p == 'M') && (p[1] == '\0' || !isalpha((unsigned char)p[1])))
            mult = 1e6;
        else if (n > 0 && *p == '-')
            break;    /* a range: take its lower end */
    }
    digits[n] = '\0';
    if (n == 0 || (v = atof(digits)) <= 0)
        return -1;
    *usd = v * mult * rate;
    return 0;
}

int synth_posts_per_week(double usd)
{
    if (usd < 1000)
        return 3;
    if (usd < 5000)
        return 5;
    if (usd < 20000)
        return 7;
    return 10;
}

json_object *synth_cultural(const struct kb *kb, json_object *markets, json_object *warnings)
{
    json_object *out = json_object_new_array();
    size_t i;

    for (i = 0; i < arr_len(markets); i++) {
        const char *m = arr_str(markets, i);
        json_object *p = kb_match(kb, m), *e = json_object_new_object();
        static const char *const copy[] = { "platforms", "content_types", "cultural_notes", "colors",
                                            "key_dates", "language_notes", "posting_times", "best_days",
                                            "best_times", "time_zone", NULL };
        const char *const *f;
        if (p == NULL) {
            char msg[300];
            snprintf(msg, sizeof msg, "market '%.200s' is not in the knowledge base: a generic profile was used", m);
            warn(warnings, msg);
            p = kb_generic(kb);
        }
        json_object_object_add(e, "market", jstr(m));
        json_object_object_add(e, "profile", jstr(kb_str(p, "name")));
        json_object_object_add(e, "matched", json_object_new_boolean(p != kb_generic(kb)));
        {
            json_object *langs = kb_languages(p, m), *dup = NULL;
            json_object_object_add(e, "language", jstr(kb_language(p, m)));
            if (langs != NULL && json_object_deep_copy(langs, &dup, NULL) == 0)
                json_object_object_add(e, "languages", dup);
        }
        for (f = copy; *f != NULL; f++) {
            json_object *v, *dup = NULL;
            /* A copy, not a reference: campaigns on several threads share
             * the knowledge base, and json-c's reference counts are not
             * atomic. */
            if (json_object_object_get_ex(p, *f, &v) && json_object_deep_copy(v, &dup, NULL) == 0)
                json_object_object_add(e, *f, dup);
        }
        json_object_array_add(out, e);
    }
    return out;
}

/* Platforms: the client's preferences first, then those the markets favour
 * most (ranked by their position in each market profile). */
static size_t choose_platforms(const struct synth_input *in, const char **out)
{
    json_object *prefs = arr_of(in->objectives, "platform_preferences");
    struct { const char *name; double score; } cand[64];
    size_t n = 0, i, j, chosen = 0;

    for (i = 0; i < arr_len(prefs) && chosen < MAX_PLATFORMS; i++) {
        if (arr_str(prefs, i)[0] == '\0')
            continue;
        for (j = 0; j < chosen && strcasecmp(out[j], arr_str(prefs, i)) != 0; j++)
            ;
        if (j == chosen)             /* a platform named twice is planned once */
            out[chosen++] = arr_str(prefs, i);
    }
    for (i = 0; i < arr_len(in->cultural); i++) {
        json_object *pl = arr_of(json_object_array_get_idx(in->cultural, i), "platforms");
        for (j = 0; j < arr_len(pl); j++) {
            const char *name = arr_str(pl, j);
            size_t k;
            for (k = 0; k < n && strcmp(cand[k].name, name) != 0; k++)
                ;
            if (k == n && n < 64)
                cand[n++].name = name, cand[k].score = 0;
            if (k < 64)
                cand[k].score += 10.0 - (double)j;
        }
    }
    while (chosen < 3 && n > 0) {
        size_t best = 0;
        for (i = 1; i < n; i++)
            if (cand[i].score > cand[best].score)
                best = i;
        for (j = 0; j < chosen && strcasecmp(out[j], cand[best].name) != 0; j++)
            ;
        if (j == chosen)
            out[chosen++] = cand[best].name;
        cand[best].score = -1e9;
        for (i = 0; i < n && cand[i].score < -1e8; i++)
            ;
        if (i == n)
            break;
    }
    return chosen;
}

/* "Aurora Desk Lamp" -> "#AuroraDeskLamp" */
static void hashtag(const char *text, char *out, size_t outsz)
{
    size_t n = 1;
    int up = 1;

    out[0] = '#';
    for (; *text != '\0' && n + 1 < outsz && n < 30; text++) {
        unsigned char c = (unsigned char)*text;
        if (c < 128 && isalnum(c)) {
            out[n++] = up ? (char)toupper(c) : (char)c;
            up = 0;
        } else {
            up = 1;
        }
    }
    out[n] = '\0';
    if (n == 1)
        out[0] = '\0';
}

static json_object *hashtags(const struct synth_input *in, const char *platform)
{
    json_object *tags = json_object_new_array();
    json_object *features = arr_of(in->product_info, "key_features");
    const char *goal = str_of(in->objectives, "primary_goal");
    char t[40];
    size_t i;

    hashtag(str_of(in->product_info, "name"), t, sizeof t);
    if (t[0])
        json_object_array_add(tags, jstr(t));
    hashtag(str_of(in->product_info, "category"), t, sizeof t);
    if (t[0])
        json_object_array_add(tags, jstr(t));
    for (i = 0; i < arr_len(features) && i < 2; i++) {
        hashtag(arr_str(features, i), t, sizeof t);
        if (t[0])
            json_object_array_add(tags, jstr(t));
    }
    if (strcasestr(goal, "sale") || strcasestr(goal, "conver"))
        json_object_array_add(tags, jstr("#ShopNow"));
    else if (strcasestr(goal, "aware"))
        json_object_array_add(tags, jstr("#NewLaunch"));
    if (strcasecmp(platform, "TikTok") == 0)
        json_object_array_add(tags, jstr("#TikTokMadeMeBuyIt"));
    return tags;
}

static const char *feature(const struct synth_input *in, size_t i, const char *fallback)
{
    json_object *f = arr_of(in->product_info, "key_features");
    return i < arr_len(f) && arr_str(f, i)[0] ? arr_str(f, i) : fallback;
}

static const char *top_color(const struct synth_input *in, size_t i)
{
    json_object *c = arr_of(in->image_analysis, "colors");
    json_object *e = c && i < arr_len(c) ? json_object_array_get_idx(c, i) : NULL;
    return e ? str_of(e, "name") : NULL;
}

/* How well a platform fits the markets: its rank in each profile. */
static int platform_fit(const struct synth_input *in, const char *platform)
{
    double score = 0;
    size_t i, j, n = arr_len(in->cultural);

    for (i = 0; i < n; i++) {
        json_object *pl = arr_of(json_object_array_get_idx(in->cultural, i), "platforms");
        for (j = 0; j < arr_len(pl); j++)
            if (strcasecmp(arr_str(pl, j), platform) == 0)
                score += 1.0 - 0.12 * (double)j;
    }
    return n ? (int)(55 + 40 * score / (double)n) : 60;
}

/* A caption reads: lead + name + middle + feature1 + " and " + feature2 + tail. */
struct idea_style { const char *platform, *format, *lead, *middle, *tail; };

static const struct idea_style idea_styles[] = {
    { "TikTok", "15-second hook-first demo", "POV: you finally found ", ". ", ", shown in 15 seconds." },
    { "Instagram", "carousel and Reel", "Meet ", ": ", ". Swipe to see it in everyday use." },
    { "YouTube", "review and how-to video", "", ", reviewed: ", " tested in real life." },
    { "Facebook", "community post with video", "", " is here: ", ". Tell us how you would use it." },
    { "Pinterest", "idea pin", "Ideas with ", ": ", ", styled for your space." },
    { "LinkedIn", "professional case study", "How ", " helps teams: ", ", in numbers." },
    { NULL, "short vertical video", "Discover ", ": ", "." },
};

static const struct idea_style *style_for(const char *platform)
{
    size_t i;

    for (i = 0; idea_styles[i].platform != NULL; i++)
        if (strcasecmp(idea_styles[i].platform, platform) == 0)
            return &idea_styles[i];
    return &idea_styles[i];
}

/* The second idea of each platform takes an angle of its own, so no two
 * ideas share a topic. Templates as in the copy deck (l10n_fill). */
struct second_angle { const char *angle, *topic, *caption; };

static const struct second_angle second_angles[MAX_PLATFORMS] = {
    { "audience_fit", "Why {audience} choose {product}", "Made for {audience}. {product} brings {feature1} to your day. What would you pair it with?" },
    { "feature_spotlight", "Spotlight on {feature1}: the detail behind {product}", "One detail, up close: {feature1}. See how {product} puts it to work for {audience}." },
    { "social_proof", "What {audience} say about {product}", "Real routines, real reviews: {audience} on {product} and {feature1}." },
    { "how_to", "Three ways {audience} get more from {product}", "Three quick ways to get more from {product}, starting with {feature1}. Save this for later." },
    { "behind_the_scenes", "Behind the scenes: how {product} is made", "From the first sketch to your hands: the care behind {product} and {feature1}." },
    { "community", "Ask {audience}: how would you use {product}?", "We asked {audience} how they use {product}. Tell us yours in the comments: is it {feature1}?" },
};

static json_object *filled(const char *tmpl, const struct l10n_slots *sl)
{
    char *t = l10n_fill(tmpl, sl);
    json_object *o = jstr(t ? t : "");

    free(t);
    return o;
}

static json_object *idea(const char *platform, const char *angle, json_object *topic, int score, json_object *caption,
                         json_object *tags)
{
    json_object *a = json_object_new_object();

    json_object_object_add(a, "platform", jstr(platform));
    json_object_object_add(a, "topic", topic);
    json_object_object_add(a, "engagement_score", json_object_new_int(score));
    json_object_object_add(a, "caption", caption);
    json_object_object_add(a, "hashtags", tags);
    json_object_object_add(a, "angle", jstr(angle));
    json_object_object_add(a, "language", jstr("en"));
    return a;
}

static json_object *content_ideas(const struct synth_input *in, const char **platforms, size_t np)
{
    json_object *ideas = json_object_new_array();
    const char *name = str_of(in->product_info, "name");
    const char *audience = str_of(in->objectives, "target_audience");
    size_t i;

    for (i = 0; i < np; i++) {
        const struct idea_style *st = style_for(platforms[i]);
        const struct second_angle *sa = &second_angles[i % MAX_PLATFORMS];
        struct l10n_slots sl = { name, { feature(in, (i + 2) % 3, feature(in, 0, "quality")), "", "" }, "",
                                 audience[0] ? audience : "customers" };
        json_object *caption;
        char cap[1024];
        int fit = platform_fit(in, platforms[i]);

        snprintf(cap, sizeof cap, "%s%s%s%s and %s%s", st->lead, name, st->middle,
                 feature(in, 0, "thoughtful design"), feature(in, 1, "everyday value"), st->tail);
        json_object_array_add(ideas, idea(platforms[i], "platform_native", jprintf("%s %s: %s in action", platforms[i],
                                          st->format, name), fit, jstr(cap), hashtags(in, platforms[i])));
        caption = filled(sa->caption, &sl);
        json_object_array_add(ideas, idea(platforms[i], sa->angle, filled(sa->topic, &sl), fit > 8 ? fit - 8 : fit,
                                          caption, hashtags(in, platforms[i])));
    }
    return ideas;
}

/* Posting slots of the first market's profile: its best days at its best
 * times first, then the other days; at most 7 x 4. */
#define MAX_SLOTS 28

struct slot { const char *day, *time; int day_index; };

static const char *const week_days[7] = { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday" };

static int day_index(const char *d)
{
    int i;

    for (i = 0; i < 7; i++)
        if (strcasecmp(week_days[i], d) == 0)
            return i;
    return -1;
}

static size_t posting_slots(json_object *profile, struct slot *out)
{
    static const char *const fallback_times[] = { "12:30", "19:00" };
    json_object *best = arr_of(profile, "best_days"), *times = arr_of(profile, "best_times");
    int order[7], used[7] = { 0 }, nd = 0, nbest, i, pass;
    size_t nt = arr_len(times) ? (arr_len(times) > 4 ? 4 : arr_len(times)) : 2, n = 0, t;

    for (i = 0; (size_t)i < arr_len(best); i++) {
        int d = day_index(arr_str(best, (size_t)i));
        if (d >= 0 && !used[d])
            order[nd++] = d, used[d] = 1;
    }
    nbest = nd;
    for (i = 0; i < 7; i++)
        if (!used[i])
            order[nd++] = i;
    /* The best days at every best time first, spread (each day at the
     * first time, then the next time); then the other days likewise. */
    for (pass = 0; pass < 2; pass++)
        for (t = 0; t < nt; t++)
            for (i = pass ? nbest : 0; i < (pass ? nd : nbest) && n < MAX_SLOTS; i++) {
                out[n].day_index = order[i];
                out[n].day = week_days[order[i]];
                out[n].time = arr_len(times) ? arr_str(times, t) : fallback_times[t];
                n++;
            }
    return n;
}

static int slot_cmp(const void *a, const void *b)
{
    const struct slot *x = a, *y = b;

    if (x->day_index != y->day_index)
        return x->day_index - y->day_index;
    return strcmp(x->time, y->time);
}

struct phase { const char *name, *focus, *angles[6]; };

/* Each phase has angles of its own, so a post's angle also names its phase. */
static const struct phase phases[4] = {
    { "Awareness", "introduce the product and its main benefit",
      { "first look at", "teaser for", "unboxing of", "meet", "problem-and-solution intro to", "creator first impressions of" } },
    { "Consideration", "show features in use, answer objections, creator reviews",
      { "in-use demo of", "feature close-up of", "questions answered about", "creator review of", "how-to with", "comparison guide for" } },
    { "Conversion", "offers, social proof and clear calls to action",
      { "offer and customer proof for", "limited-time offer on", "customer reviews of", "gift idea:", "bundle spotlight on", "last call for" } },
    { "Retention", "thank customers, share user content, invite reviews",
      { "customer story with", "care tips for", "user photos with", "thank-you post for", "review invitation for", "what's next for" } },
};

static const struct phase *phase_of(int w, int weeks)
{
    double pos = weeks == 1 ? 0.5 : (double)(w - 1) / (weeks - 1);

    return pos < 0.25 ? &phases[0] : pos < 0.6 ? &phases[1] : pos < 0.9 ? &phases[2] : &phases[3];
}

static int title_taken(json_object *titles, const char *t)
{
    size_t i;

    for (i = 0; i < arr_len(titles); i++)
        if (strcmp(arr_str(titles, i), t) == 0)
            return 1;
    return 0;
}

/* Week-by-week plan: a phase per part of the campaign; each week's posts
 * on distinct slots (day and local time from the first market's profile),
 * platforms in turn, and an angle and feature that rotate within the
 * phase, so no post repeats in the campaign ("posts" keeps the original
 * one-line form, "schedule" the same posts as fields). */
static json_object *calendar(const struct synth_input *in, int weeks, int ppw, const char **platforms, size_t np)
{
    json_object *cal = json_object_new_object(), *titles = json_object_new_array();
    json_object *first = arr_len(in->cultural) ? json_object_array_get_idx(in->cultural, 0) : NULL;
    const char *name = str_of(in->product_info, "name");
    const char *tz = str_of(first, "time_zone")[0] ? str_of(first, "time_zone") : "local time";
    const struct phase *prev = NULL;
    struct slot all[MAX_SLOTS], week_slots[MAX_SLOTS];
    size_t nslots = posting_slots(first, all);
    int w, k = 0;

    for (w = 1; w <= weeks; w++) {
        json_object *week = json_object_new_object(), *posts = json_object_new_array(), *sched = json_object_new_array();
        const struct phase *ph = phase_of(w, weeks);
        char key[16];
        size_t p, n = (size_t)ppw < nslots ? (size_t)ppw : nslots;

        k = ph == prev ? k + 1 : 0;           /* week within the phase */
        prev = ph;
        memcpy(week_slots, all, n * sizeof all[0]);
        qsort(week_slots, n, sizeof week_slots[0], slot_cmp);
        for (p = 0; p < n; p++) {
            const char *pl = platforms[(p + (size_t)w) % np];
            const char *angle = ph->angles[(p + (size_t)k) % 6];
            size_t fi = (p + p / 6 + (size_t)k / 6) % 3;
            const char *feat = feature(in, fi, fi == 0 ? "its design" : fi == 1 ? "its quality" : "its value");
            json_object *e = json_object_new_object();
            char title[512];

            snprintf(title, sizeof title, "%s %s, featuring %s", angle, name, feat);
            if (title_taken(titles, title))     /* a long campaign comes round again: say which week */
                snprintf(title + strlen(title), sizeof title - strlen(title), " (week %d)", w);
            json_object_array_add(titles, jstr(title));
            json_object_array_add(posts, jprintf("%s %s (%s), %s (%s): %s", week_slots[p].day, week_slots[p].time, tz, pl,
                                                 style_for(pl)->format, title));
            json_object_object_add(e, "day", jstr(week_slots[p].day));
            json_object_object_add(e, "time", jstr(week_slots[p].time));
            json_object_object_add(e, "time_zone", jstr(tz));
            json_object_object_add(e, "platform", jstr(pl));
            json_object_object_add(e, "format", jstr(style_for(pl)->format));
            json_object_object_add(e, "angle", jstr(angle));
            json_object_object_add(e, "feature", jstr(feat));
            json_object_object_add(e, "title", jstr(title));
            json_object_object_add(e, "language", jstr("en"));
            json_object_array_add(sched, e);
        }
        json_object_object_add(week, "phase", jstr(ph->name));
        json_object_object_add(week, "focus", jstr(ph->focus));
        json_object_object_add(week, "posts", posts);
        json_object_object_add(week, "schedule", sched);
        snprintf(key, sizeof key, "Week %d", w);
        json_object_object_add(cal, key, week);
    }
    json_object_put(titles);
    return cal;
}

static json_object *adaptations(const struct synth_input *in, const char **platforms, size_t np)
{
    json_object *ad = json_object_new_object();
    size_t i;

    for (i = 0; i < np; i++) {
        const char *pl = platforms[i];
        const char *how;
        if (strcasecmp(pl, "TikTok") == 0)
            how = "Vertical 9:16, hook in the first 2 seconds, trending sound, on-screen text, 15-30 s.";
        else if (strcasecmp(pl, "Instagram") == 0)
            how = "Reels in 9:16 and carousels in 4:5; polished visuals; product tags for shopping.";
        else if (strcasecmp(pl, "YouTube") == 0)
            how = "16:9 reviews and tutorials of 5-8 minutes plus Shorts cut-downs; keyword-rich titles.";
        else if (strcasecmp(pl, "Facebook") == 0)
            how = "Square video with captions for sound-off viewing; community questions; retargeting audiences.";
        else if (strcasecmp(pl, "Pinterest") == 0)
            how = "2:3 vertical pins with descriptive, searchable text; seasonal boards.";
        else if (strcasecmp(pl, "LinkedIn") == 0)
            how = "Professional tone; data-led posts and short case studies; document carousels.";
        else
            how = "Native format of the platform; vertical video and local-language copy.";
        json_object_object_add(ad, pl, jstr(how));
    }
    (void)in;
    return ad;
}

struct estimates {
    double impressions, reach, views, engagement, shares, followers, conversion, spread;
};

static void estimate(const struct synth_input *in, double usd, size_t np, struct estimates *e)
{
    size_t nm = arr_len(in->markets);
    const char *goal = str_of(in->objectives, "primary_goal");
    const char *income = str_of(in->objectives, "income_level");
    double spread = 1.0 + 0.1 * (double)(nm > 0 ? nm - 1 : 0);

    e->spread = spread > 2.0 ? 2.0 : spread;
    e->impressions = usd / 8.0 * 1000.0;
    e->reach = e->impressions / 2.5 * e->spread;
    e->views = e->impressions * 0.35;
    e->engagement = fmin(0.05, 0.02 + 0.004 * (double)np);
    e->shares = e->views * e->engagement * 0.15;
    e->followers = e->reach * 0.004;
    e->conversion = 0.012;
    if (strcasestr(goal, "sale") || strcasestr(goal, "conver") || strcasestr(goal, "revenue"))
        e->conversion += 0.006;
    if (strcasestr(income, "high"))
        e->conversion += 0.002;
}

/* A count as JSON: clamped first, since converting a double outside
 * int64's range (a budget of 1e19) is undefined behaviour. NaN counts 0. */
static json_object *jcount(double v)
{
    if (!(v > 0))
        return json_object_new_int64(0);
    if (v > SYNTH_MAX_COUNT)
        v = SYNTH_MAX_COUNT;
    return json_object_new_int64((int64_t)v);
}

static json_object *analytics(const struct estimates *e)
{
    json_object *a = json_object_new_object();

    json_object_object_add(a, "estimatedReach", jcount(e->reach));
    json_object_object_add(a, "reachChange", jprintf("+%.1f%%", (e->spread - 1.0) * 100.0));
    json_object_object_add(a, "engagementChange", jprintf("+%.1f%%", (e->engagement - 0.02) / 0.02 * 100.0));
    json_object_object_add(a, "conversionRate", jprintf("%.1f%%", e->conversion * 100.0));
    json_object_object_add(a, "estimatedViews", jcount(e->views));
    json_object_object_add(a, "projectedShares", jcount(e->shares));
    json_object_object_add(a, "newFollowers", jcount(e->followers));
    json_object_object_add(a, "is_estimate", json_object_new_boolean(1));
    json_object_object_add(a, "method", jstr("Estimates from budget, markets and platforms (CPM 8 USD, frequency 2.5), not measured results. "
                                             "reachChange: reach gained by spreading over several markets against one; "
                                             "engagementChange: expected engagement rate against a 2% single-platform baseline."));
    return a;
}

/* Adds "language" to each object of an array that has none. */
static void tag_language(json_object *arr, const char *lang)
{
    size_t i;

    for (i = 0; i < arr_len(arr); i++) {
        json_object *o = json_object_array_get_idx(arr, i);
        if (json_object_is_type(o, json_type_object) && !json_object_object_get_ex(o, "language", NULL))
            json_object_object_add(o, "language", jstr(lang));
    }
}

/* The photo's palette in words, for image prompts. */
static void palette_of(const struct synth_input *in, char *out, size_t outsz)
{
    const char *c1 = top_color(in, 0), *c2 = top_color(in, 1);

    if (c1 && c2)
        snprintf(out, outsz, "%s and %s palette taken from the product photo", c1, c2);
    else if (c1)
        snprintf(out, outsz, "%s palette taken from the product photo", c1);
    else
        snprintf(out, outsz, "clean neutral palette");
}

/* The named /api/assets size and scene for a platform. */
struct creative_fit { const char *platform, *size, *position, *scene; };

static const struct creative_fit creative_fits[] = {
    { "Instagram", "instagram_square", "bottom", "a bright, styled lifestyle setting with soft natural light" },
    { "TikTok", "story", "bottom", "an energetic everyday scene, vertical, with calm space at the bottom for text" },
    { "YouTube", "youtube_thumbnail", "bottom", "a bold, high-contrast studio backdrop with open space on the left" },
    { "Facebook", "facebook_link", "bottom", "a warm, welcoming home setting" },
    { "Pinterest", "pinterest", "top", "an aspirational styled interior, tall composition, soft light" },
    { "LinkedIn", "linkedin", "bottom", "a clean, professional workspace with neutral tones" },
    { "Snapchat", "story", "bottom", "a playful vertical scene with bright colours" },
    { "Douyin", "story", "bottom", "an energetic vertical scene with calm space at the bottom for text" },
    { "Kwai", "story", "bottom", "an energetic vertical scene with calm space at the bottom for text" },
    { "Moj", "story", "bottom", "an energetic vertical scene with calm space at the bottom for text" },
    { "X", "facebook_link", "bottom", "a clean scene with the product sharp in the centre" },
    { "XING", "linkedin", "bottom", "a clean, professional workspace with neutral tones" },
    { "Xiaohongshu (RED)", "instagram_portrait", "bottom", "a refined lifestyle flat lay, portrait, soft light" },
    { NULL, "instagram_square", "bottom", "a clean lifestyle setting with soft natural light" },
};

static const struct creative_fit *creative_fit(const char *platform)
{
    size_t i;

    for (i = 0; creative_fits[i].platform != NULL; i++)
        if (strcasecmp(creative_fits[i].platform, platform) == 0)
            return &creative_fits[i];
    return &creative_fits[i];
}

/* One ready-to-run POST /api/assets body per market and platform: the
 * uploaded photo with its background replaced for the platform's size,
 * and the market's headline and call to action as the overlay. */
static json_object *creative_requests(const struct synth_input *in, const char **platforms, size_t np)
{
    json_object *out = json_object_new_array();
    const char *goal = str_of(in->objectives, "primary_goal");
    int sales = strcasestr(goal, "sale") != NULL || strcasestr(goal, "conver") != NULL;
    char name[L10N_SLOT_MAX + 8], palette[160];
    size_t m, i;

    palette_of(in, palette, sizeof palette);
    l10n_clean(str_of(in->product_info, "name"), name, sizeof name);
    for (m = 0; m < arr_len(in->cultural); m++) {
        json_object *e = json_object_array_get_idx(in->cultural, m);
        const char *lang = str_of(e, "language");
        for (i = 0; i < np; i++) {
            const struct creative_fit *fit = creative_fit(platforms[i]);
            json_object *r = json_object_new_object(), *body = json_object_new_object();
            json_object *src = json_object_new_object(), *sizes = json_object_new_array(), *ov = json_object_new_object();
            char *headline = NULL, *cta = NULL;

            if (l10n_overlay(kb_copy(in->kb), lang, name, sales, &headline, &cta) != 0) {
                json_object_put(r);
                json_object_put(body);
                json_object_put(src);
                json_object_put(sizes);
                json_object_put(ov);
                continue;
            }
            json_object_object_add(body, "prompt", jprintf("Product photo of %.200s with the background replaced by %s, "
                                                           "%s; the product unchanged and in sharp focus", name,
                                                           fit->scene, palette));
            json_object_object_add(body, "style", jstr("photographic"));
            json_object_object_add(body, "task", jstr("background_replace"));
            json_object_object_add(src, "s3_key", jstr(in->s3_key ? in->s3_key : ""));
            json_object_object_add(body, "source", src);
            json_object_array_add(sizes, jstr(fit->size));
            json_object_object_add(body, "sizes", sizes);
            json_object_object_add(ov, "headline", jstr(headline));
            json_object_object_add(ov, "cta", jstr(cta));
            json_object_object_add(ov, "position", jstr(fit->position));
            if (lang[0] != '\0')
                json_object_object_add(ov, "language", jstr(lang));
            json_object_object_add(body, "overlay", ov);
            json_object_object_add(r, "market", jstr(str_of(e, "market")));
            json_object_object_add(r, "platform", jstr(platforms[i]));
            json_object_object_add(r, "language", jstr(lang));
            json_object_object_add(r, "method", jstr("POST"));
            json_object_object_add(r, "path", jstr("/api/assets"));
            json_object_object_add(r, "body", body);
            json_object_array_add(out, r);
            free(headline);
            free(cta);
        }
    }
    return out;
}

/* Per market, the content ideas and templates in the market's language
 * from the copy deck (l10n). */
static json_object *market_variants(const struct synth_input *in, const char **platforms, size_t np)
{
    json_object *out = json_object_new_array();
    const char *goal = str_of(in->objectives, "primary_goal");
    size_t m, i;

    for (m = 0; m < arr_len(in->cultural); m++) {
        json_object *e = json_object_array_get_idx(in->cultural, m), *v, *ideas;
        struct l10n_input li;
        li.market = str_of(e, "market");
        li.profile = str_of(e, "profile");
        li.language = str_of(e, "language")[0] ? str_of(e, "language") : "en";
        li.product_info = in->product_info;
        li.sales = strcasestr(goal, "sale") != NULL || strcasestr(goal, "conver") != NULL;
        li.platforms = platforms;
        li.np = np;
        if ((v = l10n_variant(kb_copy(in->kb), &li)) == NULL)
            continue;
        ideas = arr_of(v, "content_ideas");
        for (i = 0; i < arr_len(ideas); i++)
            json_object_object_add(json_object_array_get_idx(ideas, i), "engagement_score",
                                   json_object_new_int(platform_fit(in, platforms[i])));
        json_object_array_add(out, v);
    }
    return out;
}

static json_object *assets(const struct synth_input *in, int weeks, const char **platforms, size_t np)
{
    json_object *g = json_object_new_object(), *prompts = json_object_new_array();
    json_object *scripts = json_object_new_array(), *emails = json_object_new_array(), *blogs = json_object_new_array();
    json_object *s, *e, *b, *pts;
    const char *name = str_of(in->product_info, "name");
    const char *cat = str_of(in->product_info, "category");
    const char *aud = str_of(in->objectives, "target_audience");
    char palette[160];

    palette_of(in, palette, sizeof palette);
    json_object_array_add(prompts, jprintf("Studio product shot of %s (%s), on a seamless background, %s, soft diffused light, high detail", name, cat, palette));
    json_object_array_add(prompts, jprintf("Lifestyle photo of %s using %s at home, natural window light, %s, candid and warm", aud[0] ? aud : "a customer", name, palette));
    json_object_array_add(prompts, jprintf("Flat lay of %s with complementary %s accessories, top-down view, %s, minimal styling", name, cat, palette));
    json_object_array_add(prompts, jprintf("Close-up detail of %s highlighting %s, shallow depth of field, %s", name, feature(in, 0, "its finish"), palette));

    s = json_object_new_object();
    json_object_object_add(s, "type", jstr("short_form_15s"));
    json_object_object_add(s, "content", jprintf("[0-2s] Hook: a common frustration %s know well. [2-8s] Reveal %s and show %s. [8-13s] Quick proof: %s. [13-15s] Call to action: %s.",
                                                 aud[0] ? aud : "people", name, feature(in, 0, "the main benefit"), feature(in, 1, "a real result"),
                                                 strcasestr(str_of(in->objectives, "primary_goal"), "sale") ? "Shop now, link in bio" : "Follow for more"));
    json_object_array_add(scripts, s);
    s = json_object_new_object();
    json_object_object_add(s, "type", jstr("explainer_60s"));
    json_object_object_add(s, "content", jprintf("Open on %s in use. Voice-over: what it is and who it is for (%s). Three beats, one per feature: %s; %s; %s. Close with the product on screen and the offer.",
                                                 name, aud[0] ? aud : "everyone", feature(in, 0, "design"), feature(in, 1, "quality"), feature(in, 2, "value")));
    json_object_array_add(scripts, s);

    e = json_object_new_object();
    json_object_object_add(e, "subject", jprintf("Introducing %s", name));
    json_object_object_add(e, "body", jprintf("Hi {first_name},\n\nMeet %s. %s\n\nWhy you will like it:\n- %s\n- %s\n- %s\n\nSee it in action: {link}\n\nThe team",
                                              name, str_of(in->product_info, "description"), feature(in, 0, "Thoughtful design"),
                                              feature(in, 1, "Built to last"), feature(in, 2, "Great value")));
    json_object_array_add(emails, e);
    e = json_object_new_object();
    json_object_object_add(e, "subject", jprintf("Still thinking about %s?", name));
    json_object_object_add(e, "body", jprintf("Hi {first_name},\n\nYou looked at %s recently. Customers tell us %s makes the difference.\n\nYour offer is waiting: {link}\n\nThe team",
                                              name, feature(in, 0, "the quality")));
    json_object_array_add(emails, e);

    b = json_object_new_object();
    pts = json_object_new_array();
    json_object_array_add(pts, jprintf("The problem %s solves for %s", name, aud[0] ? aud : "customers"));
    json_object_array_add(pts, jprintf("Feature deep-dive: %s", feature(in, 0, "design")));
    json_object_array_add(pts, jprintf("Feature deep-dive: %s", feature(in, 1, "quality")));
    json_object_array_add(pts, jprintf("Choosing in %s: a buyer's checklist", cat));
    json_object_array_add(pts, jprintf("Getting started and care tips"));
    json_object_object_add(b, "title", jprintf("%s: a complete guide to getting the most from it", name));
    json_object_object_add(b, "introduction", jprintf("%s A %d-week campaign accompanies this guide.", str_of(in->product_info, "description"), weeks));
    json_object_object_add(b, "points", pts);
    json_object_array_add(blogs, b);

    tag_language(scripts, "en");
    tag_language(emails, "en");
    tag_language(blogs, "en");
    json_object_object_add(g, "image_prompts", prompts);
    json_object_object_add(g, "video_scripts", scripts);
    json_object_object_add(g, "email_templates", emails);
    json_object_object_add(g, "blog_outlines", blogs);
    json_object_object_add(g, "creative_requests", creative_requests(in, platforms, np));
    return g;
}

/* First n distinct strings of field across market insights. */
static json_object *gather(json_object *cultural, const char *field, size_t n)
{
    json_object *out = json_object_new_array();
    size_t i, j, k;

    for (j = 0; j < 8 && json_object_array_length(out) < n; j++) {
        for (i = 0; i < arr_len(cultural) && json_object_array_length(out) < n; i++) {
            json_object *e = json_object_array_get_idx(cultural, i);
            json_object *l = arr_of(e, field);
            const char *v;
            if (j >= arr_len(l))
                continue;
            v = arr_str(l, j);
            for (k = 0; k < json_object_array_length(out); k++)
                if (strstr(json_object_get_string(json_object_array_get_idx(out, k)), v))
                    break;
            if (k < json_object_array_length(out))
                continue;
            if (arr_len(cultural) > 1)
                json_object_array_add(out, jprintf("%s: %s", str_of(e, "market"), v));
            else
                json_object_array_add(out, jstr(v));
        }
    }
    return out;
}

static json_object *market_insights(const struct synth_input *in)
{
    json_object *mi = json_object_new_object(), *prefs = json_object_new_array();
    const char *age = str_of(in->objectives, "target_age_range");
    const char *income = str_of(in->objectives, "income_level");
    size_t i;

    json_object_object_add(mi, "trending_content_types", gather(in->cultural, "content_types", 6));
    json_object_object_add(mi, "cultural_considerations", gather(in->cultural, "cultural_notes", 8));
    for (i = 0; i < arr_len(in->cultural); i++) {
        json_object *e = json_object_array_get_idx(in->cultural, i);
        json_object_array_add(prefs, jprintf("%s: most active %s; leading platforms %s, %s", str_of(e, "market"),
                                             str_of(e, "posting_times"), arr_str(arr_of(e, "platforms"), 0),
                                             arr_str(arr_of(e, "platforms"), 1)));
    }
    if (age[0])
        json_object_array_add(prefs, jprintf("Ages %s: favour short vertical video and creator-led proof", age));
    if (income[0])
        json_object_array_add(prefs, jprintf("%s income: %s", income,
                                             strcasestr(income, "high") ? "lead with quality, craft and exclusivity" : "lead with value, durability and offers"));
    json_object_object_add(mi, "audience_preferences", prefs);
    return mi;
}

static json_object *recommendations(const struct synth_input *in, const char **platforms, size_t np)
{
    json_object *r = json_object_new_array(), *t;
    json_object *first = arr_len(in->cultural) ? json_object_array_get_idx(in->cultural, 0) : NULL;
    json_object *dates = arr_of(first, "key_dates");

    t = json_object_new_object();
    json_object_object_add(t, "type", jstr("timing"));
    json_object_object_add(t, "title", jstr("Post when the audience is online"));
    json_object_object_add(t, "description", jprintf("Schedule for %s in %s; plan peaks around %s.", str_of(first, "posting_times"),
                                                     str_of(first, "market"), arr_len(dates) ? arr_str(dates, 0) : "local holidays"));
    json_object_array_add(r, t);
    t = json_object_new_object();
    json_object_object_add(t, "type", jstr("content"));
    json_object_object_add(t, "title", jprintf("Lead with %s", feature(in, 0, "the main benefit")));
    json_object_object_add(t, "description", jprintf("Open every video with %s in use within 2 seconds, then show %s; reuse the best-performing cut across platforms.",
                                                     feature(in, 0, "the product"), feature(in, 1, "a second benefit")));
    json_object_array_add(r, t);
    t = json_object_new_object();
    json_object_object_add(t, "type", jstr("platform"));
    json_object_object_add(t, "title", jprintf("Concentrate budget on %s", np ? platforms[0] : "the leading platform"));
    json_object_object_add(t, "description", jprintf("Put about 60%% of paid spend behind %s, where these markets are most active, and test %s with the rest.",
                                                     np ? platforms[0] : "the leading platform", np > 1 ? platforms[1] : "a second platform"));
    json_object_array_add(r, t);
    return r;
}

json_object *synth_campaign(const struct synth_input *in, json_object *warnings)
{
    const char *platforms[MAX_PLATFORMS];
    size_t np = choose_platforms(in, platforms), i;
    json_object *c = json_object_new_object(), *product = json_object_new_object(), *image = json_object_new_object();
    json_object *camps = json_object_new_array(), *camp = json_object_new_object(), *pl = json_object_new_array();
    json_object *rec = json_object_new_object(), *prim = json_object_new_array(), *labels;
    struct estimates est;
    const char *dur = str_of(in->objectives, "campaign_duration");
    const char *budget = str_of(in->objectives, "budget");
    const char *name = str_of(in->product_info, "name");
    int weeks, ppw, avg = 0;
    double usd;

    if (np == 0)
        platforms[np++] = "Instagram";
    if (synth_weeks(dur, &weeks) != 0) {
        warn(warnings, "campaign_duration was not understood: planned for 4 weeks");
        weeks = 4;
    }
    if (budget[0] == '\0' || synth_budget_usd(budget, &usd) != 0) {
        warn(warnings, "budget missing or not understood: estimates assume 2,000 USD");
        usd = 2000;
    }
    if (usd > SYNTH_MAX_BUDGET_USD) {
        warn(warnings, "budget above 1,000,000,000 USD: estimates assume 1,000,000,000 USD");
        usd = SYNTH_MAX_BUDGET_USD;
    }
    ppw = synth_posts_per_week(usd);
    estimate(in, usd, np, &est);

    json_object_object_add(product, "description", jstr(str_of(in->product_info, "description")));
    labels = arr_of(in->image_analysis, "labels");
    json_object_object_add(image, "labels", labels ? json_object_get(labels) : json_object_new_array());
    json_object_object_add(product, "image", image);
    json_object_object_add(c, "product", product);
    json_object_object_add(c, "content_ideas", content_ideas(in, platforms, np));

    for (i = 0; i < np; i++) {
        json_object_array_add(pl, jstr(platforms[i]));
        json_object_array_add(prim, jstr(platforms[i]));
        avg += platform_fit(in, platforms[i]);
    }
    json_object_object_add(camp, "name", jprintf("%s: %s launch", name, str_of(in->objectives, "primary_goal")));
    json_object_object_add(camp, "duration", jprintf("%d week%s", weeks, weeks == 1 ? "" : "s"));
    json_object_object_add(camp, "posts_per_week", json_object_new_int(ppw));
    json_object_object_add(camp, "platforms", pl);
    json_object_object_add(camp, "calendar", calendar(in, weeks, ppw, platforms, np));
    json_object_object_add(camp, "adaptations", adaptations(in, platforms, np));
    json_object_object_add(camp, "estimated_reach", jcount(est.reach));
    json_object_object_add(camp, "engagement_score", json_object_new_int(avg / (int)np));
    json_object_array_add(camps, camp);
    json_object_object_add(c, "campaigns", camps);
    json_object_object_add(c, "generated_assets", assets(in, weeks, platforms, np));
    json_object_object_add(c, "related_youtube_videos", in->videos ? json_object_get(in->videos) : json_object_new_array());
    json_object_object_add(rec, "primary_platforms", prim);
    json_object_object_add(rec, "rationale", jprintf("%s leads the chosen markets' platform mix%s; formats are adapted per platform.",
                                                     platforms[0], arr_len(arr_of(in->objectives, "platform_preferences")) ? " and match the stated preferences" : ""));
    json_object_object_add(c, "platform_recommendations", rec);
    json_object_object_add(c, "market_insights", market_insights(in));
    json_object_object_add(c, "analytics", analytics(&est));
    json_object_object_add(c, "recommendations", recommendations(in, platforms, np));
    json_object_object_add(c, "market_variants", market_variants(in, platforms, np));
    return c;
}

json_object *synth_creative_requests(const struct synth_input *in, json_object *platforms)
{
    const char *names[MAX_PLATFORMS];
    size_t n = 0, i, j;

    for (i = 0; i < arr_len(platforms) && n < MAX_PLATFORMS; i++) {
        const char *p = arr_str(platforms, i);
        for (j = 0; j < n && strcasecmp(names[j], p) != 0; j++)
            ;
        if (p[0] != '\0' && j == n)
            names[n++] = p;
    }
    return n > 0 ? creative_requests(in, names, n) : NULL;
}
