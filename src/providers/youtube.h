/*
 * youtube: related videos from the YouTube Data API v3 (video_provider =
 * youtube). One search call (part=snippet, q="{name} {category} review",
 * type=video, maxResults=10, order=relevance), then one videos call with
 * part=statistics for every result at once. Calls have connect and total
 * timeouts and are retried on 429, 5xx and connection errors with
 * exponential backoff and full jitter, inside ai_timeout_ms in all and never
 * past the caller's deadline (ads_now_ms clock).
 *
 * Each video: video_id, title, channel_title and channelTitle,
 * thumbnail_url and thumbnailUrl, published_at, viewCount, likeCount and
 * commentCount (integers; 0 where the channel hides them), url, and
 * relevance_score, an integer 0-100:
 *   60 * (n - rank) / n                      the API's own relevance order
 * + 40 * min(1, log10(1 + viewCount) / 7)    reach: 10 million views is full
 *
 * The API key travels only in the request URL, which is never logged, and
 * is scrubbed from any message that could echo it.
 *
 * Thread-safe (the campaign's video stage calls it on its own thread): the
 * config is only read, each call has its own handle.
 */
#ifndef ADS_YOUTUBE_H
#define ADS_YOUTUBE_H

#include <json-c/json.h>

#include "cfg.h"

/* 0 with *videos an array (owned by the caller) and *query the search text
 * (caller frees). On failure -1, no videos, and warning says why (no key
 * in it); *query is still set when it could be built. */
int youtube_related(const struct config *cfg, const char *name, const char *category, double deadline_ms,
                    json_object **videos, char **query, char *warning);

/* The documented score for a result at rank (0-based) of n with views. */
int youtube_relevance(int rank, int n, long long views);

#endif
