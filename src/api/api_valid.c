/* Table-driven validation of request bodies (see api_valid.h). */
#include "api_valid.h"
#include "buf.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int api_valid_text(json_object *v)
{
    const char *s;

    if (!json_object_is_type(v, json_type_string))
        return 0;
    s = json_object_get_string(v);
    /* A "\u0000" keeps its place in json-c's length but ends the C string. */
    return (size_t)json_object_get_string_len(v) == strlen(s) && ads_utf8_len(s) >= 0;
}

int api_valid_find_nul(json_object *v, const char *prefix, char *where, size_t wheresz)
{
    char sub[256];
    size_t i;

    if (json_object_is_type(v, json_type_string)) {
        if ((size_t)json_object_get_string_len(v) == strlen(json_object_get_string(v)))
            return 0;
        snprintf(where, wheresz, "%s", prefix);
        return 1;
    }
    if (json_object_is_type(v, json_type_array)) {
        for (i = 0; i < json_object_array_length(v); i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", prefix, i);
            if (api_valid_find_nul(json_object_array_get_idx(v, i), sub, where, wheresz))
                return 1;
        }
        return 0;
    }
    if (json_object_is_type(v, json_type_object)) {
        json_object_object_foreach(v, k, e) {
            snprintf(sub, sizeof sub, "%s%s%s", prefix, prefix[0] ? "." : "", k);
            if (api_valid_find_nul(e, sub, where, wheresz))
                return 1;
        }
    }
    return 0;
}

static int one_of(const char *v, const char *const *set)
{
    for (; *set != NULL; set++)
        if (strcmp(v, *set) == 0)
            return 1;
    return 0;
}

static void say_allowed(char *msg, size_t msgsz, const char *name, const char *const *set)
{
    struct buf b;
    const char *const *p;

    buf_init(&b);
    for (p = set; *p != NULL; p++) {
        buf_adds(&b, p == set ? "" : ", ");
        buf_adds(&b, *p);
    }
    snprintf(msg, msgsz, "%s must be one of %s", name, b.data ? b.data : "");
    buf_free(&b);
}

/* The value rule broken: the table's own message, else the generic one. */
static int bad(const struct av_field *f, char *msg, size_t msgsz, const char *generic)
{
    snprintf(msg, msgsz, "%s", f->bad_msg ? f->bad_msg : generic);
    return -1;
}

static int check_string(const struct av_field *f, const char *name, json_object *v, char *msg, size_t msgsz)
{
    char gen[300];
    const char *s;
    long n;

    if (!json_object_is_type(v, json_type_string)) {
        snprintf(msg, msgsz, "%s must be a string", name);
        return -1;
    }
    s = json_object_get_string(v);
    if ((size_t)json_object_get_string_len(v) != strlen(s)) {
        snprintf(msg, msgsz, "%s must not contain NUL characters", name);
        return -1;
    }
    if ((n = ads_utf8_len(s)) < 0) {
        snprintf(msg, msgsz, "%s is not valid UTF-8", name);
        return -1;
    }
    if (n == 0 && f->required && f->missing_msg != NULL) {
        snprintf(msg, msgsz, "%s", f->missing_msg);
        return -1;
    }
    if (f->allowed != NULL && !one_of(s, f->allowed)) {
        say_allowed(gen, sizeof gen, name, f->allowed);
        return bad(f, msg, msgsz, gen);
    }
    if ((double)n < f->min || (double)n > f->max) {
        snprintf(gen, sizeof gen, "%s must be between %.0f and %.0f characters", name, f->min, f->max);
        return bad(f, msg, msgsz, gen);
    }
    if (f->check != NULL && !f->check(s)) {
        snprintf(gen, sizeof gen, "%s is not acceptable", name);
        return bad(f, msg, msgsz, gen);
    }
    return 0;
}

/* A JSON number inside [min, max]; integers beyond int64 count as out of
 * range (json-c keeps them as uint64 or saturates). */
static int check_number(const struct av_field *f, const char *name, json_object *v, int ints_only,
                        char *msg, size_t msgsz)
{
    char gen[300];
    double d;

    if (!json_object_is_type(v, json_type_int) && (ints_only || !json_object_is_type(v, json_type_double))) {
        snprintf(msg, msgsz, "%s must be %s", name, ints_only ? "an integer" : "a number");
        return -1;
    }
    if (json_object_is_type(v, json_type_int)) {
        int64_t i = json_object_get_int64(v);
        if (i == INT64_MAX || i == INT64_MIN)
            d = i > 0 ? INFINITY : -INFINITY;
        else
            d = (double)i;
    } else {
        d = json_object_get_double(v);
    }
    if (!isfinite(d) || d < f->min || d > f->max) {
        snprintf(gen, sizeof gen, "%s must be between %.0f and %.0f", name, f->min, f->max);
        return bad(f, msg, msgsz, gen);
    }
    return 0;
}

static int check_array(const struct av_field *f, const char *name, json_object *v, char *msg, size_t msgsz)
{
    size_t i, len;

    if (!json_object_is_type(v, json_type_array)) {
        snprintf(msg, msgsz, "%s must be an array of strings", name);
        return -1;
    }
    len = json_object_array_length(v);
    if ((double)len < f->min || (double)len > f->max) {
        snprintf(msg, msgsz, "%s must have between %.0f and %.0f items", name, f->min, f->max);
        return -1;
    }
    for (i = 0; i < len; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        long el;
        if (!api_valid_text(e) || (el = ads_utf8_len(json_object_get_string(e))) < f->item_min || el > f->item_max) {
            snprintf(msg, msgsz, "%s items must be strings of %ld-%ld characters", name, f->item_min, f->item_max);
            return -1;
        }
    }
    return 0;
}

/* Checks one present field; *copy gets what goes into the output. */
static int check_field(const struct av_field *f, const char *name, json_object *v, json_object **copy,
                       char *msg, size_t msgsz)
{
    *copy = NULL;
    switch (f->type) {
    case AV_STRING:
        if (check_string(f, name, v, msg, msgsz) != 0)
            return -1;
        break;
    case AV_INT:
    case AV_NUMBER:
        if (check_number(f, name, v, f->type == AV_INT, msg, msgsz) != 0)
            return -1;
        break;
    case AV_NUM_OR_TEXT:
        if (json_object_is_type(v, json_type_string)) {
            struct av_field text = { .name = f->name, .type = AV_STRING, .max = (double)f->text_max };
            if (check_string(&text, name, v, msg, msgsz) != 0)
                return -1;
        } else if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double)) {
            snprintf(msg, msgsz, "%s must be a number or a string", name);
            return -1;
        } else if (check_number(f, name, v, 0, msg, msgsz) != 0) {
            return -1;
        }
        break;
    case AV_STR_ARRAY:
        if (check_array(f, name, v, msg, msgsz) != 0)
            return -1;
        break;
    case AV_OBJECT:
        if (!json_object_is_type(v, json_type_object)) {
            snprintf(msg, msgsz, "%s must be an object", name);
            return -1;
        }
        return api_valid(v, f->fields, name, copy, msg, msgsz);
    }
    *copy = json_object_get(v);
    return 0;
}

int api_valid(json_object *in, const struct av_field *table, const char *prefix,
              json_object **out, char *msg, size_t msgsz)
{
    json_object *n = json_object_new_object();
    const struct av_field *f;
    char name[256];

    *out = NULL;
    /* At the top, any string anywhere (fields outside the table too). */
    if (prefix[0] == '\0' && api_valid_find_nul(in, "", name, sizeof name)) {
        snprintf(msg, msgsz, "%s must not contain NUL characters", name);
        json_object_put(n);
        return -1;
    }
    for (f = table; f->name != NULL; f++) {
        json_object *v = NULL, *copy;
        const char *spelled = f->name;

        if (json_object_object_get_ex(in, f->name, &v) && v != NULL)
            spelled = f->name;
        else if (f->alt != NULL && json_object_object_get_ex(in, f->alt, &v) && v != NULL)
            spelled = f->alt;
        else
            v = NULL;     /* a JSON null counts as absent */
        snprintf(name, sizeof name, "%s%s%s", prefix, prefix[0] ? "." : "", spelled);
        if (v == NULL) {
            if (f->required) {
                if (f->missing_msg != NULL)
                    snprintf(msg, msgsz, "%s", f->missing_msg);
                else
                    snprintf(msg, msgsz, "%s is required", name);
                goto fail;
            }
            if (f->def != NULL)
                json_object_object_add(n, f->name, json_object_new_string(f->def));
            continue;
        }
        if (check_field(f, name, v, &copy, msg, msgsz) != 0)
            goto fail;
        json_object_object_add(n, f->name, copy);
    }
    *out = n;
    return 0;
fail:
    json_object_put(n);
    return -1;
}
