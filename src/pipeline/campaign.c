#include "campaign.h"
#include "synth.h"
#include "l10n.h"
#include "langcheck.h"
#include "telemetry.h"
#include "util.h"
#include "vision.h"
#include "agent.h"
#include "novapro.h"
#include "openai.h"
#include "rekognition.h"
#include "youtube.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include <string.h>

static json_object *timed(json_object *data, double started_ms)
{
    json_object_object_add(data, "duration_ms", json_object_new_double((double)(long)((ads_now_ms() - started_ms) * 10) / 10.0));
    return data;
}

/* The text model's two jobs, by provider: a prompt answered with JSON, and
 * tier 1's tool loop. */
typedef int (*json_call)(const struct config *, const char *, double, json_object **, struct novapro_usage *, char *);

static json_call text_json(const struct config *cfg)
{
    return strcmp(cfg->text_provider, "openai") == 0 ? openai_complete : novapro_synthesize;
}

static const char *text_model(const struct config *cfg)
{
    return strcmp(cfg->text_provider, "openai") == 0 ? cfg->openai_model : cfg->text_model;
}

/* Cultural insight from Nova Pro, on a thread of its own; the prompt is
 * made before the start, so the thread touches no shared object. */
struct culture_job {
    const struct config *cfg;
    double deadline;
    char *prompt;
    json_object *insight;        /* out: {"markets": [...]} */
    struct novapro_usage u;
    int rc;
    char err[ADS_ERRSZ];
    double started;
};

static void *culture_thread(void *arg)
{
    struct culture_job *j = arg;

    j->started = ads_now_ms();
    j->rc = text_json(j->cfg)(j->cfg, j->prompt, j->deadline, &j->insight, &j->u, j->err);
    return NULL;
}

static const char *info_str(json_object *info, const char *name)
{
    json_object *v;

    if (json_object_object_get_ex(info, name, &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return "";
}

/* With vision_provider = rekognition its labels replace the built-in ones;
 * the pixel analysis (size, colours) stays. A failure keeps the built-in
 * labels and says so in warnings. */
static void cloud_labels(const struct config *cfg, const struct campaign_input *in, double deadline,
                         json_object *analysis, json_object *warnings)
{
    json_object *labels = NULL;
    char warning[ADS_ERRSZ], msg[ADS_ERRSZ + 64];

    if (strcmp(cfg->vision_provider, "rekognition") != 0)
        return;
    if (rekognition_labels(cfg, in->s3_key, in->image, in->image_len, deadline, &labels, warning) != 0) {
        snprintf(msg, sizeof msg, "image labels from the built-in analysis: %s", warning);
        json_object_array_add(warnings, json_object_new_string(msg));
        json_object_object_add(analysis, "error", json_object_new_string(warning));
        return;
    }
    json_object_object_add(analysis, "provider", json_object_new_string("rekognition"));
    json_object_object_add(analysis, "labels", labels);
}

/* The image stage, on a thread of its own: the built-in pixel analysis,
 * then the cloud labels. It touches only its own objects and the input,
 * which nobody changes while it runs. */
struct vision_job {
    const struct config *cfg;
    const struct campaign_input *in;
    double deadline;
    json_object *analysis;       /* out */
    json_object *warnings;       /* its own, merged after the join */
    int rc;
    char err[ADS_ERRSZ];
};

static void *vision_thread(void *arg)
{
    struct vision_job *j = arg;
    double t = ads_now_ms();

    j->rc = vision_analyze(j->cfg, j->in->image, j->in->image_len, j->in->s3_key, j->deadline, &j->analysis,
                           j->warnings, j->err);
    if (j->rc == 0) {
        cloud_labels(j->cfg, j->in, j->deadline, j->analysis, j->warnings);
        timed(j->analysis, t);
    }
    return NULL;
}

/* The video stage, on a thread of its own. */
struct video_job {
    const struct config *cfg;
    const char *name, *category;  /* read from the brief before the start */
    double deadline;
    json_object *videos;         /* out */
    char *query;
    char warning[ADS_ERRSZ];
    int rc;
    double ms;
};

static void *video_thread(void *arg)
{
    struct video_job *j = arg;
    double t = ads_now_ms();

    j->rc = youtube_related(j->cfg, j->name, j->category, j->deadline, &j->videos, &j->query, j->warning);
    j->ms = ads_now_ms() - t;
    return NULL;
}

/* Runs fn on a thread; when no thread can be had, right here. 1 when a
 * thread was started (join it). */
static int start(pthread_t *t, void *(*fn)(void *), void *arg)
{
    if (pthread_create(t, NULL, fn, arg) == 0)
        return 1;
    fn(arg);
    return 0;
}

/* The youtube_data record and the videos (a reference of its own); a
 * failure is a warning and no videos, never invented ones. */
static json_object *video_result(const struct config *cfg, struct video_job *j, struct campaign_result *out)
{
    json_object *videos = j->videos ? j->videos : json_object_new_array();
    char msg[ADS_ERRSZ + 64];

    out->youtube_data = json_object_new_object();
    json_object_object_add(out->youtube_data, "provider", json_object_new_string(cfg->video_provider));
    if (strcmp(cfg->video_provider, "youtube") != 0) {
        json_object_array_add(out->warnings, json_object_new_string("video trends disabled (video_provider = none): no related videos"));
    } else if (j->rc != 0) {
        snprintf(msg, sizeof msg, "video trends unavailable: %s", j->warning);
        json_object_array_add(out->warnings, json_object_new_string(msg));
        json_object_object_add(out->youtube_data, "error", json_object_new_string(j->warning));
    }
    if (j->query != NULL)
        json_object_object_add(out->youtube_data, "query", json_object_new_string(j->query));
    free(j->query);
    json_object_object_add(out->youtube_data, "videos", json_object_get(videos));
    json_object_object_add(out->youtube_data, "duration_ms", json_object_new_double((double)(long)(j->ms * 10) / 10.0));
    return videos;
}

static void append_all(json_object *to, json_object *from)
{
    size_t i;

    for (i = 0; i < json_object_array_length(from); i++)
        json_object_array_add(to, json_object_get(json_object_array_get_idx(from, i)));
}

/* What the stages gathered, whoever asked for them: the agent's tools
 * (tier 1) or the pipeline itself (tier 2). Each stage runs once. */
struct gather {
    const struct config *cfg;
    const struct kb *kb;
    const struct campaign_input *in;
    struct vision_job vj;
    struct video_job wj;
    struct culture_job cj;
    int vision_done, video_done, culture_model;
    json_object *cultural;       /* per-market insight, NULL until run */
    double cultural_ms;
    json_object *warnings;       /* the result's (this thread only) */
};

/* Runs the stages asked for that have not run: image and videos on
 * threads of their own, cultural insight (in memory) here meanwhile. */
static void gather_run(struct gather *g, int vision, int video, int cultural)
{
    pthread_t vt, wt, ct;
    int v = 0, w = 0, m = 0;
    double t;

    vision = vision && !g->vision_done;
    video = video && !g->video_done && strcmp(g->cfg->video_provider, "youtube") == 0;
    cultural = cultural && g->cultural == NULL;
    if (vision)
        v = start(&vt, vision_thread, &g->vj);
    if (video)
        w = start(&wt, video_thread, &g->wj);
    if (cultural) {
        t = ads_now_ms();
        g->cultural = synth_cultural(g->kb, g->in->markets, g->warnings);
        g->cultural_ms = ads_now_ms() - t;
        if (strcmp(g->cfg->text_provider, "builtin") != 0) {
            g->cj.prompt = novapro_cultural_prompt(g->in->product_info, g->in->markets, g->in->objectives,
                                                   g->cultural);
            g->culture_model = g->cj.prompt != NULL;
            m = g->culture_model && start(&ct, culture_thread, &g->cj);
        }
    }
    if (v)
        pthread_join(vt, NULL);
    if (w)
        pthread_join(wt, NULL);
    if (m)
        pthread_join(ct, NULL);
    g->vision_done |= vision;
    g->video_done |= video;
}

static json_object *tool_error(const char *msg)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "error", json_object_new_string(msg));
    return o;
}

/* The agent's tools. One turn's calls run side by side. The query and the
 * markets are the brief's, whatever the model passed: the contract fixes
 * the query's shape, and insight for other markets would not be used. */
static int run_tools(void *ctx, struct agent_tool_call *calls, int n)
{
    struct gather *g = ctx;
    int i, vision = 0, video = 0, cultural = 0;

    for (i = 0; i < n; i++) {
        vision |= strcmp(calls[i].name, "analyze_product_image") == 0;
        video |= strcmp(calls[i].name, "search_youtube_trends") == 0;
        cultural |= strcmp(calls[i].name, "get_cultural_insights") == 0;
    }
    gather_run(g, vision, video, cultural);
    for (i = 0; i < n; i++) {
        struct agent_tool_call *c = &calls[i];
        if (strcmp(c->name, "analyze_product_image") == 0) {
            c->failed = g->vj.rc != 0;
            c->result = c->failed ? tool_error(g->vj.err) : json_object_get(g->vj.analysis);
        } else if (strcmp(c->name, "search_youtube_trends") == 0) {
            c->failed = strcmp(g->cfg->video_provider, "youtube") == 0 && g->wj.rc != 0;
            if (c->failed) {
                c->result = tool_error(g->wj.warning);
            } else {
                c->result = json_object_new_object();
                json_object_object_add(c->result, "videos",
                                       g->wj.videos ? json_object_get(g->wj.videos) : json_object_new_array());
            }
        } else if (strcmp(c->name, "get_cultural_insights") == 0) {
            c->result = json_object_new_object();
            json_object_object_add(c->result, "markets", json_object_get(g->cultural));
            if (g->cj.insight != NULL)
                json_object_object_add(c->result, "model_insights", json_object_get(g->cj.insight));
        } else {
            c->failed = 1;
            c->result = tool_error("no such tool");
        }
    }
    return 0;
}

/* Token usage over every model call of a campaign. */
struct usage_log {
    struct novapro_usage total;
    json_object *calls;
};

static void log_call(struct usage_log *l, const struct config *cfg, const char *stage, const struct novapro_usage *u,
                     int ok, double started, int turns)
{
    json_object *call = json_object_new_object();

    json_object_object_add(call, "stage", json_object_new_string(stage));
    json_object_object_add(call, "model", json_object_new_string(text_model(cfg)));
    json_object_object_add(call, "input_tokens", json_object_new_int64(u->input_tokens));
    json_object_object_add(call, "output_tokens", json_object_new_int64(u->output_tokens));
    json_object_object_add(call, "ok", json_object_new_boolean(ok));
    if (turns > 0)
        json_object_object_add(call, "turns", json_object_new_int(turns));
    json_object_array_add(l->calls, timed(call, started));
    l->total.input_tokens += u->input_tokens;
    l->total.output_tokens += u->output_tokens;
}

/* Nova Pro's cultural insight goes beside the knowledge base's in the
 * cultural record (and from there into the synthesis prompt); a failure
 * leaves the knowledge base's alone, with a warning. */
static void culture_result(struct gather *g, struct campaign_result *out, struct usage_log *log)
{
    char msg[ADS_ERRSZ + 64];

    if (!g->culture_model)
        return;
    log_call(log, g->cfg, "cultural", &g->cj.u, g->cj.rc == NOVAPRO_OK, g->cj.started, 0);
    if (g->cj.rc != NOVAPRO_OK) {
        snprintf(msg, sizeof msg, "cultural insight from the knowledge base only: %s", g->cj.err);
        json_object_array_add(out->warnings, json_object_new_string(msg));
        json_object_object_add(out->cultural_data, "error", json_object_new_string(g->cj.err));
        return;
    }
    snprintf(msg, sizeof msg, "knowledge_base+%s", g->cfg->text_provider);
    json_object_object_add(out->cultural_data, "provider", json_object_new_string(msg));
    json_object_object_add(out->cultural_data, "model_insights", json_object_get(g->cj.insight));
}

/* [{"market", "language"}] for the prompt: each market's primary language. */
static json_object *market_languages(const struct kb *kb, json_object *markets)
{
    json_object *out = json_object_new_array();
    size_t i;

    for (i = 0; markets != NULL && i < json_object_array_length(markets); i++) {
        const char *m = json_object_get_string(json_object_array_get_idx(markets, i));
        json_object *p = kb_match(kb, m ? m : ""), *e = json_object_new_object();
        json_object_object_add(e, "market", json_object_new_string(m ? m : ""));
        json_object_object_add(e, "language", json_object_new_string(kb_language(p ? p : kb_generic(kb), m)));
        json_object_array_add(out, e);
    }
    return out;
}

/* Tier 1: the agent gathers with its tools and writes the campaign.
 * Returns the model's campaign object, or NULL (the reason in warnings). */
static json_object *tier1(struct gather *g, double deadline, struct usage_log *log)
{
    const struct campaign_input *in = g->in;
    struct novapro_usage u = { 0, 0 };
    json_object *model = NULL;
    char err[ADS_ERRSZ], msg[ADS_ERRSZ + 80];
    double t = ads_now_ms();
    json_object *langs = market_languages(g->kb, in->markets);
    char *prompt = novapro_prompt(in->product_info, in->markets, in->objectives, NULL, NULL, NULL, langs);
    int turns = 0, rc;

    if (prompt == NULL)
        rc = AGENT_FAILED;
    else if (strcmp(g->cfg->text_provider, "openai") == 0)
        rc = openai_agent_run(g->cfg, prompt, deadline, run_tools, g, &model, &u, &turns, err);
    else
        rc = agent_run(g->cfg, prompt, deadline, run_tools, g, &model, &u, &turns, err);
    free(prompt);
    json_object_put(langs);
    log_call(log, g->cfg, "agent", &u, rc == AGENT_OK, t, turns);
    if (rc != AGENT_OK) {
        snprintf(msg, sizeof msg, "tier 1 (agent with tools) failed: %s; tier 2 used", err);
        json_object_array_add(g->warnings, json_object_new_string(msg));
        return NULL;
    }
    return model;
}

/* Tier 2's synthesis: Nova Pro writes the creative sections over the
 * built-in plan; the plan stays wherever the reply falls short. */
static json_object *synthesize(const struct config *cfg, const struct campaign_input *in, double deadline,
                               struct campaign_result *out, const struct synth_input *si, struct usage_log *log)
{
    struct novapro_usage u = { 0, 0 };
    json_object *model = NULL, *variants = NULL;
    char err[ADS_ERRSZ], msg[ADS_ERRSZ + 64];
    double t = ads_now_ms();
    json_object *langs = market_languages(si->kb, in->markets);
    char *prompt = novapro_prompt(in->product_info, in->markets, in->objectives, si->image_analysis, si->videos,
                                  out->cultural_data, langs);
    int rc = prompt ? text_json(cfg)(cfg, prompt, deadline, &model, &u, err) : NOVAPRO_CALL_FAILED;

    free(prompt);
    json_object_put(langs);
    if (rc != NOVAPRO_OK) {
        snprintf(msg, sizeof msg, "synthesis failed (%s); the built-in plan is used", err);
        json_object_array_add(out->warnings, json_object_new_string(msg));
    } else if (novapro_merge(out->campaign, model, out->warnings) > 0) {
        out->generation_method = "fail_safe_orchestration_with_synthesis";
        if (json_object_object_get_ex(model, "market_variants", &variants))
            json_object_get(variants);
    }
    json_object_put(model);
    log_call(log, cfg, "synthesis", &u, rc == NOVAPRO_OK, t, 0);
    return variants;
}

/* The model's variant for a market: by market name, else by language. */
static json_object *find_variant(json_object *variants, const char *market, const char *lang)
{
    size_t i, n = variants && json_object_is_type(variants, json_type_array) ? json_object_array_length(variants) : 0;
    json_object *v;

    for (i = 0; i < n; i++)
        if (json_object_object_get_ex(json_object_array_get_idx(variants, i), "market", &v) &&
            strcasecmp(json_object_get_string(v), market) == 0)
            return json_object_array_get_idx(variants, i);
    for (i = 0; i < n; i++)
        if (json_object_object_get_ex(json_object_array_get_idx(variants, i), "language", &v) &&
            strcasecmp(json_object_get_string(v), lang) == 0)
            return json_object_array_get_idx(variants, i);
    return NULL;
}

/* A model's variant made ours: a copy, with the market, language and
 * source set and every idea and template tagged with the language. */
static json_object *adopt(json_object *mv, const char *market, const char *profile, const char *lang, int retried)
{
    static const char *const lists[] = { "content_ideas", "video_scripts", "email_templates", "blog_outlines", NULL };
    json_object *v = NULL, *l;
    size_t i, j;

    if (json_object_deep_copy(mv, &v, NULL) != 0)
        return NULL;
    json_object_object_add(v, "market", json_object_new_string(market));
    json_object_object_add(v, "profile", json_object_new_string(profile));
    json_object_object_add(v, "language", json_object_new_string(lang));
    json_object_object_add(v, "requested_language", json_object_new_string(lang));
    json_object_object_add(v, "source", json_object_new_string("model"));
    json_object_object_add(v, "retried", json_object_new_boolean(retried));
    for (i = 0; lists[i] != NULL; i++)
        if (json_object_object_get_ex(v, lists[i], &l) && json_object_is_type(l, json_type_array))
            for (j = 0; j < json_object_array_length(l); j++)
                if (json_object_is_type(json_object_array_get_idx(l, j), json_type_object))
                    json_object_object_add(json_object_array_get_idx(l, j), "language", json_object_new_string(lang));
    return v;
}

static const char *vstr(json_object *o, const char *k)
{
    json_object *v;

    return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
}

/* One localisation call for a market, firmer when why says what the last
 * answer got wrong: the variant it answered (caller frees), or NULL. */
static json_object *ask_again(const struct config *cfg, const struct campaign_input *in, const char *market,
                              const char *lang, json_object *platforms, const char *why, double deadline,
                              struct usage_log *log)
{
    struct novapro_usage u = { 0, 0 };
    json_object *reply = NULL, *v = NULL, *list;
    char err[ADS_ERRSZ];
    double t = ads_now_ms();
    char *prompt = novapro_localise_prompt(in->product_info, in->objectives, market, lang, platforms, why);
    int rc = prompt ? text_json(cfg)(cfg, prompt, deadline, &reply, &u, err) : NOVAPRO_CALL_FAILED;

    free(prompt);
    log_call(log, cfg, "localise", &u, rc == NOVAPRO_OK, t, 0);
    if (rc != NOVAPRO_OK)
        return NULL;
    /* The variant itself, or wrapped in market_variants. */
    if (json_object_object_get_ex(reply, "market_variants", &list))
        v = find_variant(list, market, lang);
    else
        v = reply;
    v = l10n_variant_ok(v) ? json_object_get(v) : NULL;
    json_object_put(reply);
    return v;
}

/* The model path's per-market variants: the model's own for each market,
 * checked to be in the market's language; one that fails (or is missing)
 * is asked for again once, with a firmer instruction; one still in the
 * wrong language is kept marked language_check "failed" and named in
 * warnings. When the model gives nothing usable, the built-in variant
 * stays. */
static void localise(const struct config *cfg, const struct campaign_input *in, json_object *model_variants,
                     double deadline, struct campaign_result *out, struct usage_log *log)
{
    json_object *variants, *platforms = NULL, *camps;
    char msg[ADS_ERRSZ + 200];
    size_t i;

    if (!json_object_object_get_ex(out->campaign, "market_variants", &variants))
        return;
    if (json_object_object_get_ex(out->campaign, "campaigns", &camps) && json_object_array_length(camps) > 0)
        json_object_object_get_ex(json_object_array_get_idx(camps, 0), "platforms", &platforms);
    for (i = 0; i < json_object_array_length(variants); i++) {
        json_object *builtin = json_object_array_get_idx(variants, i), *mv, *v = NULL, *again;
        const char *market = vstr(builtin, "market"), *lang = vstr(builtin, "requested_language");
        char why[240] = "";
        int rc = LANGCHECK_WRONG;

        mv = find_variant(model_variants, market, lang);
        if (l10n_variant_ok(mv) && (v = adopt(mv, market, vstr(builtin, "profile"), lang, 0)) != NULL) {
            rc = l10n_check_variant(v, lang, in->product_info);
            snprintf(why, sizeof why, "%s", vstr(v, "language_check_detail"));
        } else {
            snprintf(why, sizeof why, "no variant for this market in the reply");
        }
        if (rc < 0 && ads_now_ms() < deadline &&
            (again = ask_again(cfg, in, market, lang, platforms, why, deadline, log)) != NULL) {
            json_object_put(v);
            v = adopt(again, market, vstr(builtin, "profile"), lang, 1);
            json_object_put(again);
            rc = v ? l10n_check_variant(v, lang, in->product_info) : LANGCHECK_WRONG;
        }
        if (v == NULL) {
            snprintf(msg, sizeof msg, "market_variants: %.100s (%.20s) from the built-in copy: the model wrote none",
                     market, lang);
            json_object_array_add(out->warnings, json_object_new_string(msg));
            continue;
        }
        if (rc < 0) {
            snprintf(msg, sizeof msg, "market_variants: %.100s is not in %.20s after a retry (%.200s); marked "
                     "language_check failed", market, lang, vstr(v, "language_check_detail"));
            json_object_array_add(out->warnings, json_object_new_string(msg));
        }
        json_object_array_put_idx(variants, i, v);
    }
}

/* The creative requests follow the final plan's platforms (the model's,
 * when it wrote the campaigns) and survive the model's generated_assets;
 * the built-in ones stay when the plan names no platform. */
static void restore_creatives(json_object *campaign, const struct synth_input *si, json_object *builtin)
{
    json_object *camps, *platforms = NULL, *ga, *reqs;

    if (!json_object_object_get_ex(campaign, "generated_assets", &ga) || !json_object_is_type(ga, json_type_object))
        return;
    if (json_object_object_get_ex(campaign, "campaigns", &camps) && json_object_is_type(camps, json_type_array) &&
        json_object_array_length(camps) > 0)
        json_object_object_get_ex(json_object_array_get_idx(camps, 0), "platforms", &platforms);
    reqs = platforms && json_object_is_type(platforms, json_type_array) ? synth_creative_requests(si, platforms) : NULL;
    if (reqs == NULL && builtin == NULL)
        return;
    json_object_object_add(ga, "creative_requests", reqs ? reqs : json_object_get(builtin));
}

/* Tags each object of the model's English sections with "language" where
 * it has none (the prompt asks for those sections in English). */
static void tag_english(json_object *campaign)
{
    static const char *const lists[] = { "video_scripts", "email_templates", "blog_outlines", NULL };
    json_object *ga, *l;
    size_t i, j;

    for (i = 0; i < 4; i++) {
        if (i == 0) {
            if (!json_object_object_get_ex(campaign, "content_ideas", &l))
                continue;
        } else if (!json_object_object_get_ex(campaign, "generated_assets", &ga) ||
                   !json_object_object_get_ex(ga, lists[i - 1], &l)) {
            continue;
        }
        for (j = 0; json_object_is_type(l, json_type_array) && j < json_object_array_length(l); j++) {
            json_object *o = json_object_array_get_idx(l, j);
            if (json_object_is_type(o, json_type_object) && !json_object_object_get_ex(o, "language", NULL))
                json_object_object_add(o, "language", json_object_new_string("en"));
        }
    }
}

static void gather_free(struct gather *g)
{
    json_object_put(g->vj.analysis);
    json_object_put(g->vj.warnings);
    json_object_put(g->wj.videos);
    free(g->wj.query);
    json_object_put(g->cultural);
    json_object_put(g->cj.insight);
    free(g->cj.prompt);
}

int campaign_run(const struct config *cfg, const struct kb *kb,
                 const struct campaign_input *in, struct campaign_result *out, char *err)
{
    struct gather g;
    struct synth_input si;
    struct usage_log log = { { 0, 0 }, NULL };
    json_object *videos, *image, *model = NULL, *model_variants = NULL, *ga, *creatives = NULL;
    double deadline = in->deadline_ms > 0 ? in->deadline_ms : ads_now_ms() + (double)cfg->campaign_deadline_ms;
    int cloud_text = strcmp(cfg->text_provider, "builtin") != 0;

    memset(out, 0, sizeof *out);
    out->warnings = json_object_new_array();
    out->generation_method = "fallback_campaign";
    log.calls = json_object_new_array();
    memset(&g, 0, sizeof g);
    g.cfg = cfg;
    g.kb = kb;
    g.in = in;
    g.warnings = out->warnings;
    g.vj.cfg = cfg;
    g.vj.in = in;
    g.vj.deadline = deadline;
    g.vj.warnings = json_object_new_array();
    g.wj.cfg = cfg;
    g.wj.name = info_str(in->product_info, "name");
    g.wj.category = info_str(in->product_info, "category");
    g.wj.deadline = deadline;
    g.cj.cfg = cfg;
    g.cj.deadline = deadline;

    if (cloud_text && cfg->agent_max_turns > 0)
        model = tier1(&g, deadline, &log);
    gather_run(&g, 1, 1, 1);           /* whatever the agent did not ask for */
    append_all(out->warnings, g.vj.warnings);
    if (g.vj.rc != 0) {
        snprintf(err, ADS_ERRSZ, "%s", g.vj.err);
        json_object_put(model);
        json_object_put(log.calls);
        gather_free(&g);
        campaign_result_free(out);
        return g.vj.rc == IMGDEC_FAILED ? CAMPAIGN_FAILED : g.vj.rc == IMGDEC_DEADLINE ? CAMPAIGN_DEADLINE
                                                                                       : CAMPAIGN_BAD_IMAGE;
    }
    videos = video_result(cfg, &g.wj, out);
    g.wj.videos = NULL;
    g.wj.query = NULL;
    out->image_analysis = json_object_get(g.vj.analysis);
    out->cultural_data = json_object_new_object();
    json_object_object_add(out->cultural_data, "provider", json_object_new_string("knowledge_base"));
    json_object_object_add(out->cultural_data, "markets", json_object_get(g.cultural));
    json_object_object_add(out->cultural_data, "duration_ms",
                           json_object_new_double((double)(long)(g.cultural_ms * 10) / 10.0));
    culture_result(&g, out, &log);

    memset(&si, 0, sizeof si);
    si.product_info = in->product_info;
    si.markets = in->markets;
    si.objectives = in->objectives;
    si.image_analysis = g.vj.analysis;
    si.videos = videos;
    si.cultural = g.cultural;
    si.kb = kb;
    si.s3_key = in->s3_key;
    out->campaign = synth_campaign(&si, out->warnings);
    /* The creative requests are adsmith's own: they survive the model's
     * generated_assets (restore_creatives). */
    if (json_object_object_get_ex(out->campaign, "generated_assets", &ga) &&
        json_object_object_get_ex(ga, "creative_requests", &creatives))
        json_object_get(creatives);
    /* The photo's URL and key go beside the labels synth put there. */
    if (json_object_object_get_ex(out->campaign, "product", &image) &&
        json_object_object_get_ex(image, "image", &image)) {
        json_object_object_add(image, "public_url", json_object_new_string(in->image_url ? in->image_url : ""));
        json_object_object_add(image, "s3_key", json_object_new_string(in->s3_key ? in->s3_key : ""));
    }
    if (model != NULL && novapro_merge(out->campaign, model, out->warnings) > 0) {
        out->generation_method = "bedrock_agent_with_tools";
        if (json_object_object_get_ex(model, "market_variants", &model_variants))
            json_object_get(model_variants);
    } else if (cloud_text) {
        model_variants = synthesize(cfg, in, deadline, out, &si, &log);
    }
    if (strcmp(out->generation_method, "fallback_campaign") != 0) {
        tag_english(out->campaign);
        localise(cfg, in, model_variants, deadline, out, &log);
    }
    restore_creatives(out->campaign, &si, creatives);
    json_object_put(creatives);
    json_object_put(model_variants);
    json_object_put(model);
    json_object_put(videos);
    gather_free(&g);

    out->usage = json_object_new_object();
    json_object_object_add(out->usage, "input_tokens", json_object_new_int64(log.total.input_tokens));
    json_object_object_add(out->usage, "output_tokens", json_object_new_int64(log.total.output_tokens));
    json_object_object_add(out->usage, "calls", log.calls);
    out->cost_usd = novapro_cost(cfg, &log.total);
    /* Tokens were spent even when the deadline throws the result away. */
    telemetry_model_usage(cfg->text_provider, log.total.input_tokens, log.total.output_tokens, out->cost_usd);
    if (ads_now_ms() > deadline) {
        ads_errf(err, "the campaign did not finish within %ld ms", cfg->campaign_deadline_ms);
        campaign_result_free(out);
        return CAMPAIGN_DEADLINE;
    }
    return CAMPAIGN_OK;
}

void campaign_result_free(struct campaign_result *r)
{
    json_object_put(r->campaign);
    json_object_put(r->warnings);
    json_object_put(r->image_analysis);
    json_object_put(r->youtube_data);
    json_object_put(r->cultural_data);
    json_object_put(r->usage);
    memset(r, 0, sizeof *r);
}
