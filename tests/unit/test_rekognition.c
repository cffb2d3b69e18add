/* rekognition: the DetectLabels body for each storage driver, the 5 MB
 * limit, and the mapping of a reply to the contract's labels. */
#include <config.h>

#include <json-c/json.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#include "cfg.h"
#include "rekognition.h"
#include "render.h"
#include "unit.h"
#include "util.h"

static json_object *image_of(const char *body)
{
    json_object *o = json_tokener_parse(body), *img = NULL;

    CHECK(o != NULL && json_object_object_get_ex(o, "Image", &img));
    CHECK(json_object_get_int(json_object_object_get(o, "MaxLabels")) == 50);
    CHECK(json_object_get_double(json_object_object_get(o, "MinConfidence")) == 75.0);
    json_object_get(img);
    json_object_put(o);
    return img;
}

static void test_request(struct config *cfg)
{
    char err[ADS_ERRSZ];
    unsigned char *png = NULL;
    size_t len = 0;
    json_object *img, *obj;
    char *body;

    CHECK(render_png("a product photo for the request test", "natural", "1:1", &png, &len, err) == 0);
    body = rekognition_request(cfg, "uploads/alice/x.png", png, len, err);   /* storage = local */
    img = image_of(body);
    CHECK(json_object_object_get_ex(img, "Bytes", &obj) && !json_object_object_get_ex(img, "S3Object", NULL));
    CHECK((size_t)json_object_get_string_len(obj) == 4 * ((len + 2) / 3));
    json_object_put(img);
    free(body);

    free(cfg->storage);
    cfg->storage = strdup("s3");
    body = rekognition_request(cfg, "uploads/alice/x.png", png, len, err);
    img = image_of(body);
    CHECK(json_object_object_get_ex(img, "S3Object", &obj) && !json_object_object_get_ex(img, "Bytes", NULL));
    CHECK(strcmp(json_object_get_string(json_object_object_get(obj, "Bucket")), "adsmith-uploads") == 0);
    CHECK(strcmp(json_object_get_string(json_object_object_get(obj, "Name")), "uploads/alice/x.png") == 0);
    json_object_put(img);
    free(body);
    free(png);
}

static void test_limit(struct config *cfg)
{
    /* 6 MB that is not an image cannot be downscaled: an error, not a call. */
    size_t n = 6u * 1024 * 1024;
    unsigned char *junk = malloc(n);
    char err[ADS_ERRSZ];

    free(cfg->storage);
    cfg->storage = strdup("local");
    RAND_bytes(junk, (int)n);
    CHECK(rekognition_request(cfg, "", junk, n, err) == NULL);
    free(junk);
}

static void test_labels(void)
{
    const char *reply =
        "{\"Labels\": [{\"Name\": \"Lamp\", \"Confidence\": 98.7654, \"Instances\": [{}, {}],"
        " \"Parents\": [{\"Name\": \"Furniture\"}], \"Categories\": [{\"Name\": \"Home and Indoors\"}]},"
        " {\"Confidence\": 90}, {\"Name\": \"Indoors\", \"Confidence\": 80.04}]}";
    json_object *l = rekognition_labels_of(reply), *first;

    CHECK(l != NULL && json_object_array_length(l) == 2);       /* the nameless one is skipped */
    first = json_object_array_get_idx(l, 0);
    CHECK(strcmp(json_object_get_string(json_object_object_get(first, "name")), "Lamp") == 0);
    CHECK(json_object_get_double(json_object_object_get(first, "confidence")) == 98.8);
    CHECK(json_object_get_int(json_object_object_get(first, "instances")) == 2);
    CHECK(strcmp(json_object_get_string(json_object_array_get_idx(json_object_object_get(first, "categories"), 0)),
                 "Home and Indoors") == 0);
    CHECK(json_object_get_int(json_object_object_get(json_object_array_get_idx(l, 1), "instances")) == 0);
    json_object_put(l);
    CHECK(rekognition_labels_of("{\"Labels\": [trunc") == NULL);
    CHECK(rekognition_labels_of("{\"Other\": 1}") == NULL);
}

int main(void)
{
    struct config cfg;
    char err[ADS_ERRSZ];

    CHECK(cfg_load(&cfg, NULL, err) == 0);
    test_request(&cfg);
    test_limit(&cfg);
    cfg_free(&cfg);
    test_labels();
    return unit_done("test_rekognition");
}
