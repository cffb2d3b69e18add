/*
 * openai: text_provider = openai, for people who run their own model: any
 * OpenAI-compatible POST {openai_base_url}/chat/completions server (vLLM,
 * llama.cpp server, Ollama, ...). The same two jobs as Nova Pro, with the
 * same contracts: a prompt answered with a JSON object (tier 2 synthesis
 * and cultural insight, novapro_extract reads the reply; finish_reason
 * "length" is a truncation), and tier 1's tool loop with the three tools as
 * "function" tools, tool_calls in, "tool" messages out.
 *
 * openai_api_key (or OPENAI_API_KEY) goes in an Authorization: Bearer
 * header when set, and never into a log or a message. Calls are retried on
 * 429, 5xx and connection errors with jittered backoff, inside
 * ai_timeout_ms and the caller's deadline.
 *
 * Thread-safe (cultural insight calls it on a thread of its own): the config
 * is only read, each call has its own handle and objects.
 */
#ifndef ADS_OPENAI_H
#define ADS_OPENAI_H

#include <json-c/json.h>

#include "agent.h"
#include "cfg.h"
#include "novapro.h"

/* As novapro_synthesize. */
int openai_complete(const struct config *cfg, const char *prompt, double deadline_ms, json_object **model,
                    struct novapro_usage *usage, char *err);

/* As agent_run. */
int openai_agent_run(const struct config *cfg, const char *prompt, double deadline_ms, agent_runner run, void *ctx,
                     json_object **campaign, struct novapro_usage *usage, int *turns, char *err);

/* The agent's tools in the chat-completions "function" shape (new object). */
json_object *openai_tools(void);

#endif
