/*
 * api_valid: request bodies checked against a table of fields, one table per
 * route (after kcgi's struct kvalid). A field entry says its name, its other
 * spelling, its type, whether it is required, its limits, the values
 * allowed, an extra check, a default, and for objects the nested table.
 * Adding a field to a route is one line in its table.
 *
 * api_valid reads an object and writes a new one holding only the fields of
 * the table, under their snake_case names, defaults filled in, nested
 * objects normalised the same way. The first rule broken is written into
 * msg, naming the field as the client spelled it ("product_info.name",
 * "fileSize"), for a 400 invalid_request.
 *
 * Rules every field gets whatever its table says: strings are valid UTF-8
 * and hold no NUL (json-c keeps "\u0000" inside a string, and C would stop
 * reading there); numbers are finite and inside [min, max]. At the top
 * level, a NUL in any string of the body, in the table or not, is refused.
 *
 * Tables are static and read-only: every function here is thread-safe.
 */
#ifndef ADS_API_VALID_H
#define ADS_API_VALID_H

#include <stddef.h>

#include <json-c/json.h>

enum av_type {
    AV_STRING,       /* min..max characters */
    AV_INT,          /* a JSON integer in min..max */
    AV_NUMBER,       /* a JSON number in min..max */
    AV_NUM_OR_TEXT,  /* a number in min..max, or a text of at most text_max characters */
    AV_STR_ARRAY,    /* min..max items, each a string of item_min..item_max characters */
    AV_OBJECT,       /* an object checked against fields */
};

struct av_field {
    const char *name;                 /* snake_case; the name in the output */
    const char *alt;                  /* camelCase spelling accepted too, or NULL */
    enum av_type type;
    int required;
    double min, max;                  /* characters, value or items, by type */
    long text_max;                    /* AV_NUM_OR_TEXT: longest text */
    long item_min, item_max;          /* AV_STR_ARRAY: characters per item */
    const char *const *allowed;       /* AV_STRING: the only values accepted (NULL-ended) */
    int (*check)(const char *value);  /* AV_STRING: 1 when acceptable */
    const char *bad_msg;              /* message for a broken value rule, instead of the generic one */
    const char *missing_msg;          /* message when required and absent or empty */
    const char *def;                  /* AV_STRING: value when absent */
    const struct av_field *fields;    /* AV_OBJECT: the nested table */
};

/* The end of a table. */
#define AV_END { .name = NULL }

/* Checks in against table (fields named under prefix, "" at the top) and
 * builds *out (a new object, the caller's) from it. Returns 0, or -1 with
 * *out NULL and msg set. */
int api_valid(json_object *in, const struct av_field *table, const char *prefix,
              json_object **out, char *msg, size_t msgsz);

/* 1 when v is a JSON string without NUL and of valid UTF-8. */
int api_valid_text(json_object *v);

/* Finds the first string anywhere in v (object values and keys, array
 * items) that holds a NUL; writes its path into where. 1 when found. */
int api_valid_find_nul(json_object *v, const char *prefix, char *where, size_t wheresz);

#endif
