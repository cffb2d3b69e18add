#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kb.h"
#include "synth.h"
#include "unit.h"
#include "util.h"

static json_object *get(json_object *o, const char *k)
{
    json_object *v = NULL;
    json_object_object_get_ex(o, k, &v);
    return v;
}

static json_object *brief(const char *markets_json, const char *objectives_json)
{
    json_object *b = json_object_new_object();
    json_object_object_add(b, "product_info", json_tokener_parse(
        "{\"name\":\"Aurora Desk Lamp\",\"description\":\"A dimmable LED desk lamp with a warm-to-cool light range.\","
        "\"category\":\"Home Office\",\"key_features\":[\"Wireless charging base\",\"Five colour temperatures\",\"Aluminium body\"]}"));
    json_object_object_add(b, "markets", json_tokener_parse(markets_json));
    json_object_object_add(b, "objectives", json_tokener_parse(objectives_json));
    return b;
}

static json_object *run(const struct kb *kb, json_object *b, json_object *warnings)
{
    struct synth_input in;
    json_object *cultural = synth_cultural(kb, get(b, "markets"), warnings), *c;

    memset(&in, 0, sizeof in);
    in.product_info = get(b, "product_info");
    in.markets = get(b, "markets");
    in.objectives = get(b, "objectives");
    in.image_analysis = json_tokener_parse("{\"colors\":[{\"name\":\"Navy Blue\",\"share\":60},{\"name\":\"Gold\",\"share\":30}],\"labels\":[]}");
    in.cultural = cultural;
    in.kb = kb;
    c = synth_campaign(&in, warnings);
    json_object_put(in.image_analysis);
    json_object_put(cultural);
    return c;
}

/* Over every week of the first campaign: no two posts share week, day
 * and time, or platform, day, time and angle, or title; each post has its
 * one-line form too. Returns the number of posts. */
static size_t plan_is_distinct(json_object *c)
{
    json_object *cal = get(json_object_array_get_idx(get(c, "campaigns"), 0), "calendar"), *seen = json_object_new_object();
    json_object *titles = json_object_new_object();
    size_t n = 0;

    json_object_object_foreach(cal, week, plan) {
        json_object *sched = get(plan, "schedule"), *slots = json_object_new_object();
        size_t i;
        CHECK(sched && json_object_array_length(sched) == json_object_array_length(get(plan, "posts")));
        for (i = 0; sched && i < json_object_array_length(sched); i++) {
            json_object *p = json_object_array_get_idx(sched, i);
            char slot[96], key[400];
            snprintf(slot, sizeof slot, "%s %s", json_object_get_string(get(p, "day")), json_object_get_string(get(p, "time")));
            snprintf(key, sizeof key, "%s|%s|%s", json_object_get_string(get(p, "platform")), slot,
                     json_object_get_string(get(p, "angle")));
            CHECK(get(slots, slot) == NULL);
            CHECK(get(titles, json_object_get_string(get(p, "title"))) == NULL);
            json_object_object_add(slots, slot, json_object_new_int(1));
            json_object_object_add(titles, json_object_get_string(get(p, "title")), json_object_new_int(1));
            if (n < 40)        /* the literal key holds for the first weeks of a plan */
                CHECK(get(seen, key) == NULL);
            json_object_object_add(seen, key, json_object_new_int(1));
            n++;
        }
        (void)week;
        json_object_put(slots);
    }
    json_object_put(seen);
    json_object_put(titles);
    return n;
}

static int is_arr(json_object *o, size_t min)
{
    return o && json_object_is_type(o, json_type_array) && json_object_array_length(o) >= min;
}

int main(void)
{
    const char *dir = getenv("ADS_TEST_DATADIR");
    char err[ADS_ERRSZ];
    struct kb *kb = kb_load_dir(dir ? dir : "data", err);
    json_object *b, *c, *c2, *w = json_object_new_array(), *camp, *cal;
    int weeks;
    double usd;
    clock_t t0;

    CHECK(kb != NULL);
    CHECK(synth_weeks("4 weeks", &weeks) == 0 && weeks == 4);
    CHECK(synth_weeks("3 months", &weeks) == 0 && weeks == 14);
    CHECK(synth_weeks("30 days", &weeks) == 0 && weeks == 5);
    CHECK(synth_weeks("one quarter", &weeks) == 0 && weeks == 13);
    CHECK(synth_weeks("soon", &weeks) != 0);
    CHECK(synth_budget_usd("$5,000", &usd) == 0 && fabs(usd - 5000) < 1);
    CHECK(synth_budget_usd("10k USD", &usd) == 0 && fabs(usd - 10000) < 1);
    CHECK(synth_budget_usd("medium", &usd) == 0 && usd == 5000);
    CHECK(synth_budget_usd("lots", &usd) != 0);
    CHECK(synth_posts_per_week(500) == 3 && synth_posts_per_week(30000) == 10);

    b = brief("[\"North America\",\"Germany\",\"Japan\"]",
              "{\"target_audience\":\"remote workers\",\"campaign_duration\":\"6 weeks\",\"primary_goal\":\"drive online sales\","
              "\"budget\":\"$8,000\",\"platform_preferences\":[\"Instagram\",\"YouTube\"],\"target_age_range\":\"25-40\"}");
    t0 = clock();
    c = run(kb, b, w);
    printf("synth: %.3f ms CPU for the sample brief\n", (double)(clock() - t0) * 1000.0 / CLOCKS_PER_SEC);
    CHECK(c != NULL);
    CHECK(is_arr(get(c, "content_ideas"), 4));
    CHECK(is_arr(get(c, "campaigns"), 1));
    camp = json_object_array_get_idx(get(c, "campaigns"), 0);
    cal = get(camp, "calendar");
    CHECK(cal && get(cal, "Week 1") && get(cal, "Week 6") && !get(cal, "Week 7"));
    CHECK(json_object_get_int(get(camp, "posts_per_week")) == 7);
    CHECK(get(get(camp, "adaptations"), "Instagram") && get(get(camp, "adaptations"), "YouTube"));
    CHECK(is_arr(get(get(c, "generated_assets"), "image_prompts"), 1));
    CHECK(strstr(json_object_get_string(json_object_array_get_idx(get(get(c, "generated_assets"), "image_prompts"), 0)), "Navy Blue") != NULL);
    CHECK(is_arr(get(get(c, "generated_assets"), "video_scripts"), 1));
    CHECK(is_arr(get(get(c, "generated_assets"), "email_templates"), 1));
    CHECK(is_arr(get(get(c, "generated_assets"), "blog_outlines"), 1));
    CHECK(is_arr(get(c, "related_youtube_videos"), 0));
    CHECK(is_arr(get(get(c, "platform_recommendations"), "primary_platforms"), 2));
    CHECK(is_arr(get(get(c, "market_insights"), "cultural_considerations"), 3));
    CHECK(json_object_get_int64(get(get(c, "analytics"), "estimatedReach")) > 0);
    CHECK(json_object_get_boolean(get(get(c, "analytics"), "is_estimate")));
    CHECK(is_arr(get(c, "recommendations"), 3));
    {
        json_object *idea = json_object_array_get_idx(get(c, "content_ideas"), 0);
        const char *cap = json_object_get_string(get(idea, "caption"));
        int score = json_object_get_int(get(idea, "engagement_score"));
        CHECK(strstr(cap, "Aurora Desk Lamp") != NULL && strstr(cap, "Wireless charging base") != NULL);
        CHECK(score >= 0 && score <= 100);
        CHECK(strcmp(json_object_get_string(json_object_array_get_idx(get(idea, "hashtags"), 0)), "#AuroraDeskLamp") == 0);
    }
    CHECK(json_object_array_length(w) == 0);
    /* No two ideas alike; every post distinct. */
    {
        json_object *ideas = get(c, "content_ideas");
        size_t i, j;
        for (i = 0; i < json_object_array_length(ideas); i++)
            for (j = 0; j < i; j++)
                CHECK(strcmp(json_object_get_string(get(json_object_array_get_idx(ideas, i), "topic")),
                             json_object_get_string(get(json_object_array_get_idx(ideas, j), "topic"))) != 0);
        CHECK(plan_is_distinct(c) == 42);
    }
    c2 = run(kb, b, NULL);
    CHECK(strcmp(json_object_to_json_string(c), json_object_to_json_string(c2)) == 0);
    json_object_put(c);
    json_object_put(c2);
    json_object_put(b);

    /* Japan, Germany, Brazil: a variant each in ja, de, pt-BR that passes
     * the language check; creative requests per market and platform. */
    b = brief("[\"Japan\",\"Germany\",\"Brazil\"]",
              "{\"target_audience\":\"remote workers\",\"campaign_duration\":\"1 year\",\"primary_goal\":\"sales\","
              "\"budget\":\"$50,000\",\"platform_preferences\":[\"Instagram\",\"Instagram\",\"TikTok\"]}");
    c = run(kb, b, NULL);
    {
        static const char *const want[][2] = { { "Japan", "ja" }, { "Germany", "de" }, { "Brazil", "pt-BR" } };
        json_object *mv = get(c, "market_variants"), *cr = get(get(c, "generated_assets"), "creative_requests");
        size_t i;
        CHECK(mv && json_object_array_length(mv) == 3);
        for (i = 0; mv && i < 3 && i < json_object_array_length(mv); i++) {
            json_object *v = json_object_array_get_idx(mv, i);
            CHECK(strcmp(json_object_get_string(get(v, "market")), want[i][0]) == 0);
            CHECK(strcmp(json_object_get_string(get(v, "language")), want[i][1]) == 0);
            CHECK(strcmp(json_object_get_string(get(v, "language_check")), "passed") == 0);
        }
        /* Instagram named twice is planned once. */
        CHECK(json_object_array_length(get(json_object_array_get_idx(get(c, "campaigns"), 0), "platforms")) == 3);
        CHECK(cr && json_object_array_length(cr) == 9);
        /* A year at ten posts a week: 520 posts, none repeated. */
        CHECK(plan_is_distinct(c) == 520);
    }
    json_object_put(c);
    json_object_put(b);

    /* Unknown market: generic profile and a warning, not an error. */
    b = brief("[\"Atlantis\"]", "{\"target_audience\":\"divers\",\"campaign_duration\":\"whenever\",\"primary_goal\":\"awareness\"}");
    c = run(kb, b, w);
    CHECK(c != NULL && json_object_array_length(w) == 3);   /* market, duration, budget */
    CHECK(get(get(get(c, "campaigns") ? json_object_array_get_idx(get(c, "campaigns"), 0) : NULL, "calendar"), "Week 4") != NULL);
    json_object_put(c);
    json_object_put(b);
    json_object_put(w);

    /* A budget past what a double converts to int64 (1e19 written out):
     * counts stay whole, positive and capped, and the cap is named. */
    {
        static const char *const huge[] = { "10000000000000000000.00", "999999999999999999999999999999 USD", "2,000,000M", NULL };
        for (const char *const *h = huge; *h != NULL; h++) {
            char obj[256];
            json_object *ww = json_object_new_array(), *cc, *a;
            snprintf(obj, sizeof obj, "{\"target_audience\":\"divers\",\"campaign_duration\":\"4 weeks\","
                                      "\"primary_goal\":\"awareness\",\"budget\":\"%s\"}", *h);
            b = brief("[\"Japan\"]", obj);
            cc = run(kb, b, ww);
            a = get(cc, "analytics");
            CHECK(json_object_get_int64(get(a, "estimatedReach")) > 0 &&
                  json_object_get_int64(get(a, "estimatedReach")) <= (int64_t)SYNTH_MAX_COUNT);
            CHECK(json_object_get_int64(get(a, "estimatedViews")) > 0 && json_object_get_int64(get(a, "newFollowers")) > 0);
            CHECK(json_object_get_int64(get(json_object_array_get_idx(get(cc, "campaigns"), 0), "estimated_reach")) > 0);
            CHECK(strstr(json_object_to_json_string(ww), "1,000,000,000") != NULL);
            json_object_put(cc);
            json_object_put(ww);
            json_object_put(b);
        }
    }

    /* Every market of the knowledge base gives a complete, well-typed plan. */
    {
        static const char *const markets[] = { "North America", "Latin America", "Europe", "UK", "DACH", "France",
                                                "Nordics", "Middle East", "Africa", "Nigeria", "Kenya", "South Africa",
                                                "India", "China", "Japan", "South Korea", "Southeast Asia", "Australia", NULL };
        static const char *const sections[] = { "product", "content_ideas", "campaigns", "generated_assets",
                                                "related_youtube_videos", "platform_recommendations",
                                                "market_insights", "analytics", "recommendations", NULL };
        for (const char *const *m = markets; *m != NULL; m++) {
            char list[128];
            json_object *ww = json_object_new_array(), *cc;
            int complete = 1;
            snprintf(list, sizeof list, "[\"%s\"]", *m);
            b = brief(list, "{\"target_audience\":\"young professionals\",\"campaign_duration\":\"2 months\","
                            "\"primary_goal\":\"brand awareness\",\"budget\":\"15000 EUR\"}");
            cc = run(kb, b, ww);
            for (const char *const *sec = sections; *sec != NULL; sec++)
                complete &= get(cc, *sec) != NULL;
            complete &= is_arr(get(get(cc, "market_insights"), "cultural_considerations"), 2);
            complete &= json_object_array_length(ww) == 0;      /* a known market, nothing assumed */
            complete &= get(get(json_object_array_get_idx(get(cc, "campaigns"), 0), "calendar"), "Week 9") != NULL;
            if (!complete)
                fprintf(stderr, "incomplete plan for %s\n", *m);
            CHECK(complete);
            json_object_put(cc);
            json_object_put(ww);
            json_object_put(b);
        }
    }
    kb_free(kb);
    return unit_done("synth");
}
