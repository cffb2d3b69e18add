/* campaignq: what can be checked without a database (the statements run
 * against PostgreSQL in the integration suite): the listing's cursors and
 * the shape of the status answer for each status. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaignq.h"
#include "unit.h"

#define PID "1b4e28ba-2fa1-41d2-883f-0016d3cca427"

static void test_cursor_round_trip(void)
{
    static const long long times[] = { 0, 1, 1764100000123456LL, 9223372036854775807LL };
    char c[128], pid[37];
    long long us;
    size_t i, j;

    for (i = 0; i < sizeof times / sizeof times[0]; i++) {
        CHECK(campaignq_cursor_encode(times[i], PID, c, sizeof c) == 0);
        for (j = 0; c[j] != '\0'; j++)    /* safe in a query string as it is */
            CHECK(strchr("+/=&%", c[j]) == NULL);
        CHECK(strstr(c, PID) == NULL);    /* opaque */
        us = -1;
        CHECK(campaignq_cursor_decode(c, &us, pid) == 0);
        CHECK(us == times[i]);
        CHECK(strcmp(pid, PID) == 0);
    }
}

static void test_cursor_refused(void)
{
    static const char *const bad[] = {
        "", "!", "abc", "====", "a+b/", "bm90IGEgY3Vyc29y",   /* "not a cursor" */
        "MTIzLm5vdC1hLXV1aWQ",                                 /* "123.not-a-uuid" */
        "LTEuMWI0ZTI4YmEtMmZhMS00MWQyLTg4M2YtMDAxNmQzY2NhNDI3", /* "-1.<uuid>" */
        "eDEyLjFiNGUyOGJhLTJmYTEtNDFkMi04ODNmLTAwMTZkM2NjYTQyNw", /* "x12.<uuid>" */
        "MTIzLjFiNGUyOGJhLTJmYTEtNDFkMi04ODNmLTAwMTZkM2NjYTQyN3g", /* "123.<uuid>x" */
        NULL,
    };
    char c[128], pid[37], small[16];
    long long us;
    int i;

    for (i = 0; bad[i] != NULL; i++) {
        if (campaignq_cursor_decode(bad[i], &us, pid) == 0)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        CHECK(campaignq_cursor_decode(bad[i], &us, pid) != 0);
    }
    /* The well-formed twin of the last ones is accepted. */
    CHECK(campaignq_cursor_decode("MTIzLjFiNGUyOGJhLTJmYTEtNDFkMi04ODNmLTAwMTZkM2NjYTQyNw", &us, pid) == 0);
    CHECK(us == 123);
    CHECK(campaignq_cursor_encode(5, "not-a-uuid", c, sizeof c) != 0);
    CHECK(campaignq_cursor_encode(-5, PID, c, sizeof c) != 0);
    CHECK(campaignq_cursor_encode(5, PID, small, sizeof small) != 0);
}

static const char *str_of(json_object *o, const char *k)
{
    json_object *v;

    return json_object_object_get_ex(o, k, &v) && v != NULL ? json_object_get_string(v) : NULL;
}

static int has(json_object *o, const char *k)
{
    return json_object_object_get_ex(o, k, NULL);
}

static void test_status_shapes(void)
{
    struct campaignq_status st;
    json_object *o, *column, *v;

    memset(&st, 0, sizeof st);
    st.product_id = PID;
    st.status = "pending";
    st.correlation_id = "7d444840-9dc0-41c5-8a3e-7b5ad3a0d111";
    st.name = "Aurora Desk Lamp";
    st.created_at = "2026-11-25T20:00:00.000Z";
    o = campaignq_status_build(&st, NULL);
    CHECK(strcmp(str_of(o, "status"), "pending") == 0);
    CHECK(strcmp(str_of(o, "product_id"), PID) == 0 && strcmp(str_of(o, "productId"), PID) == 0);
    CHECK(has(o, "started_at") && str_of(o, "started_at") == NULL);      /* null, not missing */
    CHECK(has(o, "completed_at") && str_of(o, "completed_at") == NULL);
    CHECK(!has(o, "success") && !has(o, "campaign") && !has(o, "error") && !has(o, "code"));
    json_object_put(o);

    st.status = "failed";
    st.started_at = "2026-11-25T20:00:01.000Z";
    st.completed_at = "2026-11-25T20:00:02.000Z";
    st.error = "image: not a JPEG, PNG or WebP image";
    st.error_code = "invalid_image";
    o = campaignq_status_build(&st, NULL);
    CHECK(json_object_object_get_ex(o, "success", &v) && !json_object_get_boolean(v));
    CHECK(strcmp(str_of(o, "code"), "invalid_image") == 0);
    CHECK(strcmp(str_of(o, "error"), st.error) == 0);
    CHECK(!has(o, "campaign") && !has(o, "generation_method"));
    json_object_put(o);

    st.status = "completed";
    st.error = st.error_code = NULL;
    st.generation_method = "fallback_campaign";
    column = json_tokener_parse("{\"correlation_id\": \"x\", \"generation_method\": \"fallback_campaign\","
                                " \"warnings\": [\"w1\"], \"campaign_data\": {\"content_ideas\": []},"
                                " \"usage\": [], \"cost_usd\": 0}");
    o = campaignq_status_build(&st, column);
    json_object_put(column);                   /* the answer keeps what it needs */
    CHECK(json_object_object_get_ex(o, "success", &v) && json_object_get_boolean(v));
    CHECK(strcmp(str_of(o, "generation_method"), "fallback_campaign") == 0);
    CHECK(json_object_object_get_ex(o, "warnings", &v) && json_object_array_length(v) == 1);
    CHECK(json_object_object_get_ex(o, "campaign", &v) && json_object_object_get_ex(v, "content_ideas", NULL));
    CHECK(strcmp(str_of(o, "correlation_id"), st.correlation_id) == 0);
    CHECK(!has(o, "usage") && !has(o, "cost_usd") && !has(o, "error") && !has(o, "code"));
    json_object_put(o);
}

int main(void)
{
    test_cursor_round_trip();
    test_cursor_refused();
    test_status_shapes();
    return unit_done("test_campaignq");
}
