/*
 * rekognition: image labels from Amazon Rekognition DetectLabels (JSON 1.1,
 * X-Amz-Target RekognitionService.DetectLabels), SigV4-signed. With
 * storage = s3 the service reads the uploaded object itself (Image.S3Object);
 * otherwise the bytes go inline (Image.Bytes), and a photo over
 * Rekognition's 5 MB limit is sent as a downscaled JPEG. Throttling, 5xx and
 * connection errors are retried twice with jittered backoff within
 * ai_timeout_ms, and never past the caller's deadline (ads_now_ms clock).
 *
 * Labels come back in the contract's shape: {"name", "confidence" (one
 * decimal), "categories": [names], "instances" (how many were located),
 * "parents": [names]}. Returned objects and strings are owned by the caller.
 *
 * Thread-safe (the campaign's image stage calls it on its own thread): the
 * config is only read, each call has its own handle.
 */
#ifndef ADS_REKOGNITION_H
#define ADS_REKOGNITION_H

#include <stddef.h>

#include <json-c/json.h>

#include "cfg.h"

#define REKOGNITION_MAX_BYTES (5u * 1024 * 1024)

/* The DetectLabels body for an object (s3_key set and storage = s3) or for
 * bytes. NULL with a message. */
char *rekognition_request(const struct config *cfg, const char *s3_key, const void *bytes,
                          size_t len, char *err);

/* Labels of a DetectLabels reply; NULL when the reply is not one. */
json_object *rekognition_labels_of(const char *reply);

/* 0 with *labels; -1 with a warning (no credential in it). */
int rekognition_labels(const struct config *cfg, const char *s3_key, const void *bytes, size_t len,
                       double deadline_ms, json_object **labels, char *warning);

#endif
