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
 *
 * The loop itself (agent_loop) is the same for every provider: it drives a
 * small table of the provider's operations (struct agent_ops), as the
 * stores do with theirs. Converse is one table (agent_run); OpenAI chat
 * completions with function tools is another (openai.c). The loop calls
 * the model at most agent_max_turns times, hands each turn's tool calls to
 * the caller's runner at once (which runs them side by side), passes the
 * deadline to every model call and adds up the usage. It keeps no state
 * between runs: runs on different threads are independent.
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

/* A provider's side of the loop. state is the provider's per-run data. */
struct agent_ops {
    /* Per-run state (endpoints); 0, or -1 with a message. close takes
     * whatever open left in *state, even after a failure (NULL or not). */
    int (*open)(const struct config *cfg, void **state, char *err);
    void (*close)(void *state);
    /* The first messages: the system prompt where the API wants it there,
     * then the user's prompt. */
    void (*start)(json_object *messages, const char *prompt);
    /* One model call over messages with the tools offered, within the
     * deadline: the reply, or NULL with a message; usage added either way. */
    json_object *(*call)(void *state, const struct config *cfg, json_object *messages, double deadline_ms,
                         struct novapro_usage *usage, char *err);
    /* The reply's assistant message (borrowed from reply) and stop reason;
     * NULL with a message. */
    json_object *(*message)(json_object *reply, const char **stop, char *err);
    /* The message's tool calls (at most max), 0 when it is the answer.
     * Inputs borrowed from msg or added to holder (which the loop keeps). */
    int (*tool_calls)(json_object *msg, const char *stop, struct agent_tool_call *calls, int max,
                      json_object *holder);
    /* The final answer into *campaign: NOVAPRO_OK or a NOVAPRO_ error. */
    int (*answer)(json_object *msg, const char *stop, json_object **campaign, char *err);
    /* Appends the turn's results to messages; the results stay the loop's. */
    void (*add_results)(json_object *messages, struct agent_tool_call *calls, int n);
};

/* The loop over ops; as agent_run. */
int agent_loop(const struct agent_ops *ops, const struct config *cfg, const char *prompt, double deadline_ms,
               agent_runner run, void *ctx, json_object **campaign, struct novapro_usage *usage, int *turns,
               char *err);

/* The tool calls in an assistant message's content (at most max); their
 * inputs stay borrowed from msg. */
int agent_tool_calls(json_object *msg, struct agent_tool_call *calls, int max);

#endif
