/* agent and openai: the tool definitions in both shapes and the reading of
 * tool calls from an assistant message. The loop itself runs against the emulator in the
 * integration suite. */
#include <config.h>

#include <json-c/json.h>
#include <string.h>

#include "agent.h"
#include "openai.h"
#include "unit.h"

static void test_tools(void)
{
    json_object *cfg = agent_tool_config(), *tools = json_object_object_get(cfg, "tools");
    const char *want[] = { "analyze_product_image", "search_youtube_trends", "get_cultural_insights" };
    size_t i;

    CHECK(json_object_array_length(tools) == 3);
    for (i = 0; i < 3; i++) {
        json_object *spec = json_object_object_get(json_object_array_get_idx(tools, i), "toolSpec");
        json_object *schema = json_object_object_get(json_object_object_get(spec, "inputSchema"), "json");
        CHECK(strcmp(json_object_get_string(json_object_object_get(spec, "name")), want[i]) == 0);
        CHECK(json_object_get_string_len(json_object_object_get(spec, "description")) > 20);
        CHECK(schema != NULL && strcmp(json_object_get_string(json_object_object_get(schema, "type")), "object") == 0);
        CHECK(json_object_is_type(json_object_object_get(schema, "properties"), json_type_object));
    }
    json_object_put(cfg);
}

static void test_calls(void)
{
    json_object *msg = json_tokener_parse(
        "{\"role\": \"assistant\", \"content\": [{\"text\": \"Looking.\"},"
        " {\"toolUse\": {\"toolUseId\": \"t1\", \"name\": \"analyze_product_image\", \"input\": {}}},"
        " {\"toolUse\": {\"toolUseId\": \"t2\", \"name\": \"get_cultural_insights\", \"input\": {\"markets\": [\"Japan\"]}}}]}");
    struct agent_tool_call calls[AGENT_MAX_TOOL_CALLS];
    int n = agent_tool_calls(msg, calls, AGENT_MAX_TOOL_CALLS);

    CHECK(n == 2);
    CHECK(strcmp(calls[0].id, "t1") == 0 && strcmp(calls[0].name, "analyze_product_image") == 0);
    CHECK(strcmp(calls[1].id, "t2") == 0 && json_object_is_type(calls[1].input, json_type_object));
    CHECK(agent_tool_calls(msg, calls, 1) == 1);                  /* never more than asked */
    json_object_put(msg);
    msg = json_tokener_parse("{\"role\": \"assistant\", \"content\": \"not a list\"}");
    CHECK(agent_tool_calls(msg, calls, AGENT_MAX_TOOL_CALLS) == 0);
    json_object_put(msg);
}

/* The same tools in the chat-completions "function" shape. */
static void test_openai_tools(void)
{
    json_object *tools = openai_tools(), *fn;

    CHECK(json_object_array_length(tools) == 3);
    fn = json_object_object_get(json_object_array_get_idx(tools, 1), "function");
    CHECK(strcmp(json_object_get_string(json_object_object_get(json_object_array_get_idx(tools, 1), "type")),
                 "function") == 0);
    CHECK(strcmp(json_object_get_string(json_object_object_get(fn, "name")), "search_youtube_trends") == 0);
    CHECK(strcmp(json_object_get_string(json_object_object_get(json_object_object_get(fn, "parameters"), "type")),
                 "object") == 0);
    json_object_put(tools);
}

int main(void)
{
    test_tools();
    test_openai_tools();
    test_calls();
    return unit_done("test_agent");
}
