#!/usr/bin/python3
"""An Amazon Rekognition emulator for adsmith's tests: DetectLabels over the
JSON 1.1 protocol (POST /, X-Amz-Target RekognitionService.DetectLabels).
Every call's SigV4 signature (service "rekognition") is recomputed with
botocore's signer; the body must carry Image with exactly one of S3Object
{Bucket, Name} or Bytes (base64 of a JPEG or PNG of at most 5 MB, as the
service requires), MaxLabels and MinConfidence. The labels answered depend
on the image's bytes (or object name), in the service's reply shape.

Test control (unsigned, under /_emu/):
  POST /_emu/behave  JSON, any of: delay_ms; fail (the next N calls answer
                     503); throttle (the next N answer 400
                     ProvisionedThroughputExceededException); malformed (the
                     next N replies are not JSON)
  POST /_emu/reset
  GET  /_emu/stats   {"calls", "signed_ok", "rejected", "image": "Bytes" |
                      "S3Object", "bytes_len", "bytes_format", "max_labels",
                      "min_confidence", "s3_object", "first_start", "last_end"}

Usage: rekognitionemu.py --port P --access-key A --secret-key S [--region R]"""

import argparse
import base64
import hashlib
import json
import time
import uuid

import awssig
import emubase

ARGS = None
NAMES = [("Lamp", "Furniture and Furnishings", ["Furniture"]), ("Desk", "Furniture and Furnishings", ["Furniture", "Table"]),
         ("Electronics", "Technology and Computing", []), ("Indoors", "Home and Indoors", []),
         ("Light", "Lighting", []), ("Interior Design", "Home and Indoors", ["Indoors"])]


CTL = emubase.Control({"delay_ms": 0, "fail": 0, "throttle": 0, "malformed": 0, "calls": 0, "signed_ok": 0,
                       "rejected": 0, "image": None, "bytes_len": 0, "bytes_format": None, "max_labels": None,
                       "min_confidence": None, "s3_object": None, "first_start": None, "last_end": None})
STATE, LOCK, take = CTL.state, CTL.lock, CTL.take


def error(status, kind, message):
    return status, {"x-amzn-ErrorType": kind}, {"__type": kind, "Message": message}


def labels_for(seed, max_labels, min_conf):
    h = hashlib.sha256(seed).digest()
    out = []
    for i, (name, cat, parents) in enumerate(NAMES):
        conf = 70.0 + h[i] / 255.0 * 29.9
        if conf < min_conf:
            continue
        inst = [{"BoundingBox": {"Width": 0.4, "Height": 0.5, "Left": 0.1, "Top": 0.2}, "Confidence": conf}] * (h[i] % 3)
        out.append({"Name": name, "Confidence": conf, "Instances": inst,
                    "Parents": [{"Name": p} for p in parents], "Categories": [{"Name": cat}], "Aliases": []})
    out.sort(key=lambda label: -label["Confidence"])
    return out[:max_labels]


def detect(headers, body):
    denied = awssig.verify("rekognition", ARGS.region, ARGS.access_key, ARGS.secret_key, "POST", "/", headers, body)
    with LOCK:
        STATE["calls"] += 1
        STATE["rejected" if denied else "signed_ok"] += 1
    if denied:
        return error(400, *denied)
    if headers.get("x-amz-target") != "RekognitionService.DetectLabels":
        return error(400, "UnknownOperationException", "unknown operation")
    if not headers.get("content-type", "").startswith("application/x-amz-json-1.1"):
        return error(400, "SerializationException", "content type must be application/x-amz-json-1.1")
    try:
        req = json.loads(body)
        image = req["Image"]
        max_labels, min_conf = req["MaxLabels"], req["MinConfidence"]
    except (ValueError, KeyError, TypeError):
        return error(400, "InvalidParameterException", "Image, MaxLabels and MinConfidence are required")
    if not isinstance(image, dict) or len(image) != 1 or not ({"Bytes", "S3Object"} & set(image)):
        return error(400, "InvalidParameterException", "Image needs exactly one of Bytes or S3Object")
    if "Bytes" in image:
        try:
            raw = base64.b64decode(image["Bytes"], validate=True)
        except ValueError:
            return error(400, "InvalidParameterException", "Bytes is not base64")
        if len(raw) > 5 * 1024 * 1024:
            return error(400, "ImageTooLargeException", "Image size is too large.")
        fmt = "jpeg" if raw[:3] == b"\xff\xd8\xff" else "png" if raw[:8] == b"\x89PNG\r\n\x1a\n" else None
        if fmt is None:
            return error(400, "InvalidImageFormatException", "Request has invalid image format")
        seed = raw
        with LOCK:
            STATE.update({"image": "Bytes", "bytes_len": len(raw), "bytes_format": fmt})
    else:
        obj = image["S3Object"]
        seed = json.dumps(obj, sort_keys=True).encode()
        with LOCK:
            STATE.update({"image": "S3Object", "s3_object": obj})
    with LOCK:
        STATE.update({"max_labels": max_labels, "min_confidence": min_conf})
        delay = STATE["delay_ms"]
    if delay:
        time.sleep(delay / 1000.0)
    if take("throttle"):
        return error(400, "ProvisionedThroughputExceededException", "Provisioned rate exceeded")
    if take("fail"):
        return error(503, "InternalServerError", "Internal server error")
    if take("malformed"):
        return 200, {}, "{\"Labels\": [trunc"
    return 200, {}, {"Labels": labels_for(seed, int(max_labels), float(min_conf)), "LabelModelVersion": "3.0"}


class Handler(emubase.Handler):
    control = CTL

    def _send(self, status, headers, body):
        self.send(status, body, dict(headers, **{"x-amzn-RequestId": str(uuid.uuid4())}),
                  content_type="application/x-amz-json-1.1")

    def do_GET(self):
        if not self.controlled():
            self._send(*error(404, "UnknownOperationException", "not found"))

    def do_POST(self):
        body = self.body()
        if self.controlled(body):
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        started = time.time()
        answer = detect(headers, body)
        with LOCK:
            STATE["first_start"] = STATE["first_start"] or started
            STATE["last_end"] = time.time()
        self._send(*answer)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--access-key", required=True)
    p.add_argument("--secret-key", required=True)
    p.add_argument("--region", default="us-east-1")
    ARGS = p.parse_args()
    emubase.serve(ARGS.port, Handler)


if __name__ == "__main__":
    main()
