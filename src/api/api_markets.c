/* GET /api/markets: the markets the knowledge base knows, so a client can
 * offer them as choices. Reads only the kb loaded at start (no database). */
#include "api_int.h"
#include "kb.h"

void route_markets(struct call *c)
{
    const struct kb *kb = c->ctx->kb;
    json_object *o, *list;
    int i, n;

    if (kb == NULL) {
        api_error(c, 503, "unavailable", NULL, "Market knowledge base not loaded");
        return;
    }
    n = kb_count(kb);
    list = json_object_new_array();
    for (i = 0; i < n; i++) {
        json_object *p = kb_market_at(kb, i);
        json_object *m = json_object_new_object();
        json_object_object_add(m, "id", json_object_new_string(kb_str(p, "id")));
        json_object_object_add(m, "name", json_object_new_string(kb_str(p, "name")));
        json_object_object_add(m, "region", json_object_new_string(kb_str(p, "region")));
        /* A copy: workers share the knowledge base, json-c counts are not atomic. */
        {
            json_object *langs = NULL;
            if (json_object_deep_copy(kb_languages(p, NULL), &langs, NULL) == 0)
                json_object_object_add(m, "languages", langs);
        }
        json_object_array_add(list, m);
    }
    o = json_object_new_object();
    json_object_object_add(o, "markets", list);
    json_object_object_add(o, "count", json_object_new_int(n));
    api_json(c, 200, o);
}
