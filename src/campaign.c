#include "campaign.h"
#include "synth.h"
#include "util.h"
#include "vision.h"
#include "novapro.h"
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

    j->rc = vision_analyze(j->cfg, j->in->image, j->in->image_len, &j->analysis, j->err);
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

/* With text_provider = bedrock, Nova Pro writes the creative sections over
 * the built-in plan; the plan stays wherever the model's reply falls short.
 * Usage and cost are recorded whatever happens. */
static void synthesize(const struct config *cfg, const struct campaign_input *in, double deadline,
                       struct campaign_result *out, const struct synth_input *si)
{
    struct novapro_usage u = { 0, 0 };
    json_object *model = NULL, *calls = json_object_new_array(), *call;
    char err[ADS_ERRSZ], msg[ADS_ERRSZ + 64];
    double t = ads_now_ms();
    char *prompt;
    int rc;

    out->generation_method = "fallback_campaign";
    out->usage = json_object_new_object();
    if (strcmp(cfg->text_provider, "bedrock") == 0) {
        prompt = novapro_prompt(in->product_info, in->markets, in->objectives, si->image_analysis, si->videos,
                                si->cultural);
        rc = prompt ? novapro_synthesize(cfg, prompt, deadline, &model, &u, err) : NOVAPRO_CALL_FAILED;
        free(prompt);
        if (rc != NOVAPRO_OK) {
            snprintf(msg, sizeof msg, "synthesis failed (%s); the built-in plan is used", err);
            json_object_array_add(out->warnings, json_object_new_string(msg));
        } else if (novapro_merge(out->campaign, model, out->warnings) > 0) {
            out->generation_method = "fail_safe_orchestration_with_synthesis";
        }
        json_object_put(model);
        call = json_object_new_object();
        json_object_object_add(call, "stage", json_object_new_string("synthesis"));
        json_object_object_add(call, "model", json_object_new_string(cfg->text_model));
        json_object_object_add(call, "input_tokens", json_object_new_int64(u.input_tokens));
        json_object_object_add(call, "output_tokens", json_object_new_int64(u.output_tokens));
        json_object_object_add(call, "ok", json_object_new_boolean(rc == NOVAPRO_OK));
        json_object_array_add(calls, timed(call, t));
    }
    json_object_object_add(out->usage, "input_tokens", json_object_new_int64(u.input_tokens));
    json_object_object_add(out->usage, "output_tokens", json_object_new_int64(u.output_tokens));
    json_object_object_add(out->usage, "calls", calls);
    out->cost_usd = novapro_cost(cfg, &u);
}

int campaign_run(const struct config *cfg, const struct kb *kb,
                 const struct campaign_input *in, struct campaign_result *out, char *err)
{
    struct synth_input si;
    struct vision_job vj;
    struct video_job wj;
    pthread_t vt, wt;
    int v_thread, w_thread = 0;
    json_object *videos, *image;
    double t, deadline = in->deadline_ms > 0 ? in->deadline_ms : ads_now_ms() + (double)cfg->campaign_deadline_ms;

    memset(out, 0, sizeof *out);
    out->warnings = json_object_new_array();

    /* Image analysis and video trends run side by side; cultural insight
     * (the knowledge base, in memory) runs here meanwhile. */
    memset(&vj, 0, sizeof vj);
    vj.cfg = cfg;
    vj.in = in;
    vj.deadline = deadline;
    vj.warnings = json_object_new_array();
    memset(&wj, 0, sizeof wj);
    wj.cfg = cfg;
    wj.name = info_str(in->product_info, "name");
    wj.category = info_str(in->product_info, "category");
    wj.deadline = deadline;
    v_thread = start(&vt, vision_thread, &vj);
    if (strcmp(cfg->video_provider, "youtube") == 0)
        w_thread = start(&wt, video_thread, &wj);

    t = ads_now_ms();
    out->cultural_data = json_object_new_object();
    json_object_object_add(out->cultural_data, "provider", json_object_new_string("knowledge_base"));
    json_object_object_add(out->cultural_data, "markets", synth_cultural(kb, in->markets, out->warnings));
    timed(out->cultural_data, t);

    if (v_thread)
        pthread_join(vt, NULL);
    if (w_thread)
        pthread_join(wt, NULL);
    videos = video_result(cfg, &wj, out);
    append_all(out->warnings, vj.warnings);
    json_object_put(vj.warnings);
    if (vj.rc != 0) {
        snprintf(err, ADS_ERRSZ, "%s", vj.err);
        json_object_put(videos);
        campaign_result_free(out);
        return CAMPAIGN_BAD_IMAGE;
    }
    out->image_analysis = vj.analysis;

    memset(&si, 0, sizeof si);
    si.product_info = in->product_info;
    si.markets = in->markets;
    si.objectives = in->objectives;
    si.image_analysis = vj.analysis;
    si.videos = videos;
    json_object_object_get_ex(out->cultural_data, "markets", &si.cultural);
    si.kb = kb;
    out->campaign = synth_campaign(&si, out->warnings);

    /* The photo's URL and key go beside the labels synth put there. */
    if (json_object_object_get_ex(out->campaign, "product", &image) &&
        json_object_object_get_ex(image, "image", &image)) {
        json_object_object_add(image, "public_url", json_object_new_string(in->image_url ? in->image_url : ""));
        json_object_object_add(image, "s3_key", json_object_new_string(in->s3_key ? in->s3_key : ""));
    }
    synthesize(cfg, in, deadline, out, &si);
    json_object_put(videos);
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
