/* novapro: the request body, finding the JSON in a model's reply, and the
 * section-by-section merge over the built-in plan. */
#include <config.h>

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "novapro.h"
#include "unit.h"
#include "util.h"

static int extract(const char *text, const char *stop)
{
    json_object *o = NULL;
    char err[ADS_ERRSZ];
    int rc = novapro_extract(text, stop, &o, err);

    CHECK((rc == NOVAPRO_OK) == (o != NULL));
    json_object_put(o);
    return rc;
}

static void test_extract(void)
{
    CHECK(extract("{\"a\": 1}", "end_turn") == NOVAPRO_OK);
    CHECK(extract("```json\n{\"a\": {\"b\": \"}\"}}\n```", NULL) == NOVAPRO_OK);
    CHECK(extract("Sure {not json} here: {\"a\": \"x\\\"}\"} thanks", "end_turn") == NOVAPRO_OK);
    CHECK(extract("{\"a\": [1, 2", "end_turn") == NOVAPRO_TRUNCATED);
    CHECK(extract("{\"a\": 1}", "max_tokens") == NOVAPRO_TRUNCATED);
    CHECK(extract("no object at all", "end_turn") == NOVAPRO_NO_JSON);
    CHECK(extract("[1, 2, 3]", "end_turn") == NOVAPRO_NO_JSON);
    CHECK(extract("", NULL) == NOVAPRO_NO_JSON);
}

static void test_body(void)
{
    char *b = novapro_body("Write a \"campaign\"", 4096);
    json_object *o = json_tokener_parse(b), *m, *v;

    CHECK(o != NULL);
    m = json_object_array_get_idx(json_object_object_get(o, "messages"), 0);
    CHECK(strcmp(json_object_get_string(json_object_object_get(m, "role")), "user") == 0);
    v = json_object_array_get_idx(json_object_object_get(m, "content"), 0);
    CHECK(strcmp(json_object_get_string(json_object_object_get(v, "text")), "Write a \"campaign\"") == 0);
    CHECK(json_object_get_int(json_object_object_get(json_object_object_get(o, "inferenceConfig"), "maxTokens")) == 4096);
    json_object_put(o);
    free(b);
}

static void test_merge(void)
{
    json_object *camp = json_tokener_parse("{\"content_ideas\": [\"builtin\"], \"campaigns\": [\"builtin\"],"
        " \"generated_assets\": {}, \"platform_recommendations\": {}, \"market_insights\": {},"
        " \"recommendations\": [\"builtin\"], \"analytics\": {\"reach\": 1}}");
    json_object *model = json_tokener_parse("{\"content_ideas\": [{\"platform\": \"TikTok\", \"caption\": \"c\","
        " \"engagement_score\": 70}], \"campaigns\": [{\"name\": \"n\"}],"
        " \"recommendations\": [{\"title\": \"t\"}], \"market_insights\": {\"cultural_considerations\": []},"
        " \"analytics\": {\"reach\": 999999}}");
    json_object *warnings = json_object_new_array(), *v;

    CHECK(novapro_merge(camp, model, warnings) == 3);
    v = json_object_array_get_idx(json_object_object_get(camp, "content_ideas"), 0);
    CHECK(json_object_is_type(v, json_type_object));                       /* the model's */
    CHECK(json_object_is_type(json_object_array_get_idx(json_object_object_get(camp, "recommendations"), 0),
                              json_type_string));                          /* no description: built-in kept */
    CHECK(json_object_get_int(json_object_object_get(json_object_object_get(camp, "analytics"), "reach")) == 1);
    CHECK(json_object_array_length(warnings) == 3);   /* assets, platform recommendations, recommendations */
    json_object_put(model);

    model = json_tokener_parse("{\"content_ideas\": [{\"platform\": \"X\", \"caption\": \"c\", \"engagement_score\": 140}]}");
    json_object_put(warnings);
    warnings = json_object_new_array();
    CHECK(novapro_merge(camp, model, warnings) == 0);                      /* a score over 100 */
    CHECK(json_object_array_length(warnings) == 6);
    json_object_put(model);
    json_object_put(warnings);
    json_object_put(camp);
}

/* The prompts name each market's language; the localisation prompt says
 * what the last answer got wrong, and its brief is JSON after "BRIEF:". */
static void test_localise_prompts(void)
{
    json_object *info = json_tokener_parse("{\"name\": \"Aurora \\\"Glow\\\" Lamp\"}");
    json_object *langs = json_tokener_parse("[{\"market\": \"Japan\", \"language\": \"ja\"}]");
    json_object *platforms = json_tokener_parse("[\"Instagram\"]"), *brief;
    char *p = novapro_prompt(info, NULL, NULL, NULL, NULL, NULL, langs);
    char *firm = novapro_localise_prompt(info, NULL, "Japan", "ja", platforms, "ja needs Hiragana or Katakana");
    char *plain = novapro_localise_prompt(info, NULL, "Germany", "de", platforms, NULL);

    CHECK(p && strstr(p, "market_variants") && strstr(p, "\"market_languages\":[{\"market\":\"Japan\",\"language\":\"ja\"}]"));
    CHECK(firm && strncmp(firm, "LOCALISATION REQUEST", 20) == 0 && strstr(firm, "rejected") && strstr(firm, "Hiragana"));
    CHECK(plain && strstr(plain, "tag de") && strstr(plain, "rejected") == NULL);
    brief = firm ? json_tokener_parse(strstr(firm, "BRIEF:\n") + 7) : NULL;
    CHECK(brief != NULL);
    if (brief != NULL) {
        json_object *v;
        CHECK(json_object_object_get_ex(brief, "language", &v) && strcmp(json_object_get_string(v), "ja") == 0);
        CHECK(json_object_object_get_ex(brief, "product", &v) && json_object_object_get_ex(v, "name", &v) &&
              strcmp(json_object_get_string(v), "Aurora \"Glow\" Lamp") == 0);
    }
    json_object_put(brief);
    free(p);
    free(firm);
    free(plain);
    json_object_put(info);
    json_object_put(langs);
    json_object_put(platforms);
}

int main(void)
{
    test_extract();
    test_body();
    test_merge();
    test_localise_prompts();
    return unit_done("test_novapro");
}
