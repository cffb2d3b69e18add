#include "campaign.h"
#include "synth.h"
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

/* Tier 1: the agent gathers with its tools and writes the campaign.
 * Returns the model's campaign object, or NULL (the reason in warnings). */
static json_object *tier1(struct gather *g, double deadline, struct usage_log *log)
{
    const struct campaign_input *in = g->in;
    struct novapro_usage u = { 0, 0 };
    json_object *model = NULL;
    char err[ADS_ERRSZ], msg[ADS_ERRSZ + 80];
    double t = ads_now_ms();
    char *prompt = novapro_prompt(in->product_info, in->markets, in->objectives, NULL, NULL, NULL);
    int turns = 0, rc;

    if (prompt == NULL)
        rc = AGENT_FAILED;
    else if (strcmp(g->cfg->text_provider, "openai") == 0)
        rc = openai_agent_run(g->cfg, prompt, deadline, run_tools, g, &model, &u, &turns, err);
    else
        rc = agent_run(g->cfg, prompt, deadline, run_tools, g, &model, &u, &turns, err);
    free(prompt);
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
static void synthesize(const struct config *cfg, const struct campaign_input *in, double deadline,
                       struct campaign_result *out, const struct synth_input *si, struct usage_log *log)
{
    struct novapro_usage u = { 0, 0 };
    json_object *model = NULL;
    char err[ADS_ERRSZ], msg[ADS_ERRSZ + 64];
    double t = ads_now_ms();
    char *prompt = novapro_prompt(in->product_info, in->markets, in->objectives, si->image_analysis, si->videos,
                                  out->cultural_data);
    int rc = prompt ? text_json(cfg)(cfg, prompt, deadline, &model, &u, err) : NOVAPRO_CALL_FAILED;

    free(prompt);
    if (rc != NOVAPRO_OK) {
        snprintf(msg, sizeof msg, "synthesis failed (%s); the built-in plan is used", err);
        json_object_array_add(out->warnings, json_object_new_string(msg));
    } else if (novapro_merge(out->campaign, model, out->warnings) > 0) {
        out->generation_method = "fail_safe_orchestration_with_synthesis";
    }
    json_object_put(model);
    log_call(log, cfg, "synthesis", &u, rc == NOVAPRO_OK, t, 0);
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
    json_object *videos, *image, *model = NULL;
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
    out->campaign = synth_campaign(&si, out->warnings);
    /* The photo's URL and key go beside the labels synth put there. */
    if (json_object_object_get_ex(out->campaign, "product", &image) &&
        json_object_object_get_ex(image, "image", &image)) {
        json_object_object_add(image, "public_url", json_object_new_string(in->image_url ? in->image_url : ""));
        json_object_object_add(image, "s3_key", json_object_new_string(in->s3_key ? in->s3_key : ""));
    }
    if (model != NULL && novapro_merge(out->campaign, model, out->warnings) > 0)
        out->generation_method = "bedrock_agent_with_tools";
    else if (cloud_text)
        synthesize(cfg, in, deadline, out, &si, &log);
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
