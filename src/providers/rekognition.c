#include "rekognition.h"
#include "aws.h"
#include "imgbox.h"
#include "util.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRIES 2
#define DOWNSCALE_SIDE 2048

static json_object *image_bytes(const struct config *cfg, const void *bytes, size_t len, char *err)
{
    unsigned char *small = NULL;
    size_t slen = 0;
    char *b64;
    json_object *o;

    if (len > REKOGNITION_MAX_BYTES) {
        if (imgbox_downscale_jpeg(cfg, bytes, len, DOWNSCALE_SIDE, 85, 0, &small, &slen, err) != IMGDEC_OK)
            return NULL;
        bytes = small;
        len = slen;
    }
    b64 = malloc(4 * ((len + 2) / 3) + 1);
    if (b64 == NULL) {
        free(small);
        ads_errf(err, "out of memory");
        return NULL;
    }
    EVP_EncodeBlock((unsigned char *)b64, bytes, (int)len);
    o = json_object_new_object();
    json_object_object_add(o, "Bytes", json_object_new_string(b64));
    free(b64);
    free(small);
    return o;
}

char *rekognition_request(const struct config *cfg, const char *s3_key, const void *bytes,
                          size_t len, char *err)
{
    json_object *root, *image;
    char *out;

    if (strcmp(cfg->storage, "s3") == 0 && s3_key != NULL && s3_key[0] != '\0') {
        json_object *obj = json_object_new_object();
        image = json_object_new_object();
        json_object_object_add(obj, "Bucket", json_object_new_string(cfg->uploads_bucket));
        json_object_object_add(obj, "Name", json_object_new_string(s3_key));
        json_object_object_add(image, "S3Object", obj);
    } else if ((image = image_bytes(cfg, bytes, len, err)) == NULL) {
        return NULL;
    }
    root = json_object_new_object();
    json_object_object_add(root, "Image", image);
    json_object_object_add(root, "MaxLabels", json_object_new_int((int)cfg->rekognition_max_labels));
    json_object_object_add(root, "MinConfidence", json_object_new_double((double)cfg->rekognition_min_confidence));
    out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(root);
    if (out == NULL)
        ads_errf(err, "out of memory");
    return out;
}

static json_object *names_of(json_object *label, const char *field)
{
    json_object *arr, *out = json_object_new_array(), *name;
    size_t i;

    if (json_object_object_get_ex(label, field, &arr) && json_object_is_type(arr, json_type_array))
        for (i = 0; i < json_object_array_length(arr); i++)
            if (json_object_object_get_ex(json_object_array_get_idx(arr, i), "Name", &name) &&
                json_object_is_type(name, json_type_string))
                json_object_array_add(out, json_object_get(name));
    return out;
}

json_object *rekognition_labels_of(const char *reply)
{
    json_object *root = json_tokener_parse(reply), *labels, *out;
    size_t i;

    if (root == NULL || !json_object_object_get_ex(root, "Labels", &labels) ||
        !json_object_is_type(labels, json_type_array)) {
        json_object_put(root);
        return NULL;
    }
    out = json_object_new_array();
    for (i = 0; i < json_object_array_length(labels); i++) {
        json_object *l = json_object_array_get_idx(labels, i), *name, *conf = NULL, *inst, *v;
        if (!json_object_object_get_ex(l, "Name", &name) || !json_object_is_type(name, json_type_string))
            continue;
        v = json_object_new_object();
        json_object_object_add(v, "name", json_object_get(name));
        json_object_object_get_ex(l, "Confidence", &conf);
        json_object_object_add(v, "confidence",
                               json_object_new_double(floor(json_object_get_double(conf) * 10.0 + 0.5) / 10.0));
        json_object_object_add(v, "categories", names_of(l, "Categories"));
        json_object_object_add(v, "instances",
                               json_object_new_int(json_object_object_get_ex(l, "Instances", &inst) &&
                                                   json_object_is_type(inst, json_type_array)
                                                       ? (int)json_object_array_length(inst) : 0));
        json_object_object_add(v, "parents", names_of(l, "Parents"));
        json_object_array_add(out, v);
    }
    json_object_put(root);
    return out;
}

int rekognition_labels(const struct config *cfg, const char *s3_key, const void *bytes, size_t len,
                       double deadline_ms, json_object **labels, char *warning)
{
    double deadline = cfg_ai_deadline(cfg, deadline_ms);
    struct aws_endpoint ep;
    char *body;
    struct outcall *c = NULL;
    int rc = -1;

    *labels = NULL;
    if (aws_ai_endpoint(&ep, cfg, "rekognition", "rekognition", cfg->rekognition_endpoint,
                        cfg->rekognition_region[0] ? cfg->rekognition_region : cfg->bedrock_region,
                        cfg->ai_timeout_ms, warning) != 0)
        return -1;
    body = rekognition_request(cfg, s3_key, bytes, len, warning);
    if (body != NULL && aws_call_retried(&ep, "/", "RekognitionService.DetectLabels", "application/x-amz-json-1.1",
                                         body, strlen(body), "Rekognition DetectLabels", deadline, RETRIES,
                                         &c, warning) == OUTCALL_OK) {
        *labels = rekognition_labels_of(c->reply.data ? c->reply.data : "");
        if (*labels == NULL)
            ads_errf(warning, "Rekognition DetectLabels: the reply holds no Labels");
        rc = *labels ? 0 : -1;
        outcall_free(c);
    }
    free(body);
    aws_endpoint_free(&ep);
    return rc;
}
