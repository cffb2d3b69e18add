#include "youtube.h"
#include "buf.h"
#include "outcall.h"
#include "util.h"

#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_REPLY (2u * 1024 * 1024)
#define MAX_RESULTS 10
#define RETRIES 2

int youtube_relevance(int rank, int n, long long views)
{
    double reach, score;

    if (n <= 0 || rank < 0 || rank >= n)
        return 0;
    reach = views > 0 ? log10(1.0 + (double)views) / 7.0 : 0.0;
    if (reach > 1.0)
        reach = 1.0;
    score = 60.0 * (double)(n - rank) / (double)n + 40.0 * reach;
    return (int)lround(score);
}

/* Removes every occurrence of secret from msg. */
static void scrub(char *msg, const char *secret)
{
    size_t n = strlen(secret);
    char *p;

    if (n == 0)
        return;
    while ((p = strstr(msg, secret)) != NULL)
        memmove(p, p + n, strlen(p + n) + 1);
}

/* The outcall classifier for Google's error body: {"error": {"message",
 * "errors": [{"reason"}]}} on a non-2xx reply, else the plain one. */
static enum outcall_class classify(struct outcall *c, CURLcode cc, char *warning)
{
    enum outcall_class cls = outcall_classify_http(c, cc, warning);
    json_object *o, *e, *v;
    const char *msg = "", *reason = "";

    if (cls == OUTCALL_OK || c->status == 0)
        return cls;
    o = c->reply.len ? json_tokener_parse(c->reply.data) : NULL;
    if (o != NULL && json_object_object_get_ex(o, "error", &e)) {
        if (json_object_object_get_ex(e, "message", &v))
            msg = json_object_get_string(v);
        if (json_object_object_get_ex(e, "errors", &v) && json_object_array_length(v) > 0 &&
            json_object_object_get_ex(json_object_array_get_idx(v, 0), "reason", &v))
            reason = json_object_get_string(v);
    }
    ads_errf(warning, "%s: HTTP %ld %s%s%.160s", c->what, c->status, reason, *msg ? ": " : "", msg);
    json_object_put(o);
    return cls;
}

/* GET with retries on the caller's handle; the parsed JSON reply, or NULL
 * with a warning. */
static json_object *get_json(CURL *easy, const char *url, const char *what, double deadline,
                             long connect_ms, char *warning)
{
    struct outcall c;
    json_object *o = NULL;
    char label[32];

    snprintf(label, sizeof label, "YouTube %s", what);
    if (outcall_init(&c, easy, label, MAX_REPLY, warning) != 0)
        return NULL;
    c.deadline_ms = deadline;
    c.connect_ms = connect_ms;
    c.policy = outcall_policy_default(RETRIES);
    c.classify = classify;
    if (outcall_request(&c, "GET", url, NULL, 0, warning) == 0 && outcall_run(&c, warning) == OUTCALL_OK) {
        o = json_tokener_parse(outcall_text(&c));
        if (o == NULL || !json_object_is_type(o, json_type_object)) {
            json_object_put(o);
            o = NULL;
            ads_errf(warning, "YouTube %s: the reply is not a JSON object", what);
        }
    }
    outcall_clear(&c);
    return o;
}

static const char *str_at(json_object *o, const char *a, const char *b)
{
    json_object *v;

    if (!json_object_object_get_ex(o, a, &v))
        return NULL;
    if (b != NULL && !json_object_object_get_ex(v, b, &v))
        return NULL;
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static const char *thumbnail(json_object *snippet)
{
    static const char *const sizes[] = { "high", "medium", "default" };
    json_object *t, *s;
    size_t i;

    if (!json_object_object_get_ex(snippet, "thumbnails", &t))
        return "";
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (json_object_object_get_ex(t, sizes[i], &s) && str_at(s, "url", NULL) != NULL)
            return str_at(s, "url", NULL);
    return "";
}

/* The search results as videos without statistics; ids into *ids. */
static json_object *from_search(json_object *reply, struct buf *ids)
{
    json_object *items, *out = json_object_new_array();
    size_t i, n;

    if (!json_object_object_get_ex(reply, "items", &items) || !json_object_is_type(items, json_type_array))
        return out;
    n = json_object_array_length(items);
    for (i = 0; i < n && json_object_array_length(out) < MAX_RESULTS; i++) {
        json_object *it = json_object_array_get_idx(items, i), *snip, *v;
        const char *id = str_at(it, "id", "videoId"), *title, *chan, *thumb;
        if (id == NULL || !ads_all_chars(id, 1, 64, "_-") || !json_object_object_get_ex(it, "snippet", &snip))
            continue;
        title = str_at(snip, "title", NULL);
        chan = str_at(snip, "channelTitle", NULL);
        thumb = thumbnail(snip);
        v = json_object_new_object();
        json_object_object_add(v, "video_id", json_object_new_string(id));
        json_object_object_add(v, "title", json_object_new_string(title ? title : ""));
        json_object_object_add(v, "channel_title", json_object_new_string(chan ? chan : ""));
        json_object_object_add(v, "channelTitle", json_object_new_string(chan ? chan : ""));
        json_object_object_add(v, "thumbnail_url", json_object_new_string(thumb));
        json_object_object_add(v, "thumbnailUrl", json_object_new_string(thumb));
        title = str_at(snip, "publishedAt", NULL);
        json_object_object_add(v, "published_at", json_object_new_string(title ? title : ""));
        json_object_array_add(out, v);
        buf_printf(ids, "%s%s", ids->len ? "," : "", id);
    }
    return out;
}

static long long count_of(json_object *stats, const char *name)
{
    const char *s = str_at(stats, name, NULL);
    long long v;
    char *end;

    if (s == NULL)
        return 0;
    v = strtoll(s, &end, 10);
    return (*end == '\0' && v >= 0) ? v : 0;
}

/* Adds the counts, the score and the URL to each video. */
static void add_statistics(json_object *videos, json_object *reply)
{
    json_object *items = NULL;
    size_t i, j, n = json_object_array_length(videos), m = 0;

    if (reply != NULL && json_object_object_get_ex(reply, "items", &items) &&
        json_object_is_type(items, json_type_array))
        m = json_object_array_length(items);
    for (i = 0; i < n; i++) {
        json_object *v = json_object_array_get_idx(videos, i), *stats = NULL;
        const char *id = str_at(v, "video_id", NULL);
        char url[128];
        long long views;
        for (j = 0; j < m && stats == NULL; j++) {
            json_object *it = json_object_array_get_idx(items, j);
            const char *sid = str_at(it, "id", NULL);
            if (sid != NULL && strcmp(sid, id) == 0)
                json_object_object_get_ex(it, "statistics", &stats);
        }
        views = count_of(stats, "viewCount");
        json_object_object_add(v, "viewCount", json_object_new_int64(views));
        json_object_object_add(v, "likeCount", json_object_new_int64(count_of(stats, "likeCount")));
        json_object_object_add(v, "commentCount", json_object_new_int64(count_of(stats, "commentCount")));
        json_object_object_add(v, "relevance_score", json_object_new_int(youtube_relevance((int)i, (int)n, views)));
        snprintf(url, sizeof url, "https://www.youtube.com/watch?v=%s", id);
        json_object_object_add(v, "url", json_object_new_string(url));
    }
}

static char *build_url(CURL *c, const char *endpoint, const char *path, const char *params,
                       const char *extra_name, const char *extra, const char *key)
{
    struct buf u;
    char *e = curl_easy_escape(c, extra, 0), *k = curl_easy_escape(c, key, 0);
    size_t n = strlen(endpoint);

    buf_init(&u);
    while (n > 0 && endpoint[n - 1] == '/')
        n--;
    if (e != NULL && k != NULL)
        buf_printf(&u, "%.*s%s?%s&%s=%s&key=%s", (int)n, endpoint, path, params, extra_name, e, k);
    curl_free(e);
    curl_free(k);
    if (e == NULL || k == NULL) {
        buf_free(&u);
        return NULL;
    }
    return buf_steal(&u);
}

int youtube_related(const struct config *cfg, const char *name, const char *category, double deadline_ms,
                    json_object **videos, char **query, char *warning)
{
    double deadline = cfg_ai_deadline(cfg, deadline_ms);
    json_object *search, *stats = NULL;
    struct buf q, ids;
    char *url;
    CURL *c;

    *videos = NULL;
    *query = NULL;
    if (cfg->youtube_api_key[0] == '\0') {
        ads_errf(warning, "YouTube: no API key (youtube_api_key or YOUTUBE_API_KEY)");
        return -1;
    }
    buf_init(&q);
    buf_printf(&q, "%s %s review", name, category);
    *query = buf_steal(&q);
    c = curl_easy_init();
    if (*query == NULL || c == NULL) {
        curl_easy_cleanup(c);
        ads_errf(warning, "YouTube: out of memory");
        return -1;
    }
    url = build_url(c, cfg->youtube_endpoint, "/youtube/v3/search",
                    "part=snippet&type=video&maxResults=10&order=relevance", "q", *query, cfg->youtube_api_key);
    search = url ? get_json(c, url, "search", deadline, cfg->ai_connect_timeout_ms, warning) : NULL;
    free(url);
    if (search == NULL) {
        curl_easy_cleanup(c);
        scrub(warning, cfg->youtube_api_key);
        return -1;
    }
    buf_init(&ids);
    *videos = from_search(search, &ids);
    json_object_put(search);
    if (ids.len > 0) {
        url = build_url(c, cfg->youtube_endpoint, "/youtube/v3/videos", "part=statistics", "id", ids.data,
                        cfg->youtube_api_key);
        stats = url ? get_json(c, url, "videos", deadline, cfg->ai_connect_timeout_ms, warning) : NULL;
        free(url);
        if (stats == NULL) {
            /* Videos without their counts would read as unpopular ones. */
            json_object_put(*videos);
            *videos = NULL;
            buf_free(&ids);
            curl_easy_cleanup(c);
            scrub(warning, cfg->youtube_api_key);
            return -1;
        }
    }
    add_statistics(*videos, stats);
    json_object_put(stats);
    buf_free(&ids);
    curl_easy_cleanup(c);
    return 0;
}
