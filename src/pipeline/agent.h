/*
 * agent: tier 1, the Bedrock agent with tools (generation_method
 * "bedrock_agent_with_tools"), as a Converse tool-use loop with Nova Pro.
 * The model gets the brief and three tools (analyze_product_image,
 * search_youtube_trends, get_cultural_insights, each with a JSON schema),
 * asks for them as it decides; the caller runs each turn's tool calls (at
 * once, side by side) and the loop returns their results as toolResult
 * blocks, for at most agent_max_turns model calls. The last message must
 * hold the campaign JSON, read like tier 2's (novapro_extract).
 *
 * Every Converse call is SigV4-signed, retried on throttling and 5xx, and
 * bounded by the deadline. Token usage is added up over all turns, even
 * when the loop fails.
 */
#ifndef ADS_AGENT_H
#define ADS_AGENT_H

#include <json-c/json.h>

#include "cfg.h"
#include "novapro.h"

#define AGENT_MAX_TOOL_CALLS 8

struct agent_tool_call {
    char id[96];
    char name[48];
    json_object *input;          /* borrowed from the model's message */
    json_object *result;         /* set by the runner (owned by the loop after) */
    int failed;                  /* the result is an error message */
};

/* Runs the n calls of one turn (side by side where it can), filling each
 * result; returns 0. */
typedef int (*agent_runner)(void *ctx, struct agent_tool_call *calls, int n);

/* The Converse toolConfig (a new object). */
json_object *agent_tool_config(void);

/* The loop. AGENT_OK with *campaign (the parsed JSON object, caller
 * frees), or an error with a message. *turns counts model calls. */
enum { AGENT_OK = 0, AGENT_FAILED = -1, AGENT_TOO_MANY_TURNS = -2, AGENT_NO_CAMPAIGN = -3 };
int agent_run(const struct config *cfg, const char *prompt, double deadline_ms, agent_runner run, void *ctx,
              json_object **campaign, struct novapro_usage *usage, int *turns, char *err);

/* The tool calls in an assistant message's content (at most max); their
 * inputs stay borrowed from msg. */
int agent_tool_calls(json_object *msg, struct agent_tool_call *calls, int max);

#endif
