#!/usr/bin/python3
"""Writes seed inputs for a fuzz target into a corpus directory.

awscreds: a shared credentials file, a config file with profiles, STS's
AssumeRoleWithWebIdentity reply and the container/instance endpoints' JSON,
each behind the byte that picks its reader in fuzz_awscreds.

api: one request per route and shape (the first byte picks method, path
and content type as fuzz_api reads it, the rest is the body): image jobs old
and new (creatives with source, task, colours, overlay, sizes), campaign
briefs in both spellings, upload slots, a job's status.

sigv4: presigned PUT URLs as fuzz_sigv4 reads them (path, query and host on
three lines), signed by botocore with the target's credentials (AKID /
secret, us-east-1, s3) at the target's clock (1700000000), so the fuzzer
starts from inputs that pass verification and mutates from there: a valid
URL, one with a session token, one valid for a second, a
tampered signature, one not signing content-type and keys that need percent-encoding.

Usage: make-seeds.py TARGET DIR"""

import datetime
import os
import sys
import types
import urllib.parse


def sigv4_seeds():
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    when = datetime.datetime.utcfromtimestamp(1700000000)

    class Fixed(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return when

        @classmethod
        def now(cls, tz=None):
            return when
    real = botocore.auth.datetime
    botocore.auth.datetime = types.SimpleNamespace(datetime=Fixed)
    png = {"Content-Type": "image/png"}
    cases = [("plain", "/adsmith-uploads/uploads/alice/20231114_221320_x.png", png, None, 3600),
             ("unsigned-ctype", "/b/k.png", {}, None, 900),
             ("token", "/b/dir/k.png", png, "FwoGZXIvYXdzEJr//token", 60),
             ("one-second", "/b/k.png", png, None, 1),
             ("odd-key", "/b/" + urllib.parse.quote("a b+c=d&e~f%g/\u65e5\u672c.png", safe="/~"), png, None, 604800)]
    out = {}
    try:
        for name, path, headers, token, expires in cases:
            creds = botocore.credentials.Credentials("AKID", "secret", token)
            req = botocore.awsrequest.AWSRequest(method="PUT", url="http://h" + path, headers=headers)
            botocore.auth.S3SigV4QueryAuth(creds, "s3", "us-east-1", expires=expires).add_auth(req)
            parts = urllib.parse.urlsplit(req.url)
            out[name] = "%s\n%s\nh" % (parts.path, parts.query)
    finally:
        botocore.auth.datetime = real
    q = out["plain"].split("\n")
    out["tampered"] = "%s\n%s\nh" % (q[0], q[1][:-1] + ("0" if q[1][-1] != "0" else "1"))
    return out


def awscreds_seeds():
    sts = ('<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
           '<AssumeRoleWithWebIdentityResult><SubjectFromWebIdentityToken>system:sa</SubjectFromWebIdentityToken>'
           '<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn>'
           '<AssumedRoleId>AROA:s</AssumedRoleId></AssumedRoleUser>'
           '<Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>wJalr/K7MDENG+bPxRfiCY</SecretAccessKey>'
           '<SessionToken>FwoGZXIvYXdzEJr//token&amp;more</SessionToken><Expiration>2026-11-25T23:40:00Z</Expiration>'
           '</Credentials></AssumeRoleWithWebIdentityResult>'
           '<ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>'
           '</AssumeRoleWithWebIdentityResponse>')
    return {
        "credentials": "\x00[default]\naws_access_key_id = AKIDEFAULT\naws_secret_access_key = s3cret\n\n"
                       "[prod]\naws_access_key_id=AKIDPROD\naws_secret_access_key=prod/secret\n"
                       "aws_session_token = tok\n; a comment\n# another\n",
        "config": "\x01[default]\nregion = us-east-1\n[profile prod]\naws_access_key_id = AKIDPROD\n"
                  "aws_secret_access_key = prod/secret\n",
        "sts": "\x02" + sts,
        "ecs": '\x03{"AccessKeyId": "ASIAECS", "SecretAccessKey": "sek", "Token": "tok",'
               ' "Expiration": "2026-11-25T23:40:00Z", "RoleArn": "arn:aws:iam::1:role/task"}',
        "imds": '\x03{"Code": "Success", "LastUpdated": "2026-11-25T23:00:00Z", "Type": "AWS-HMAC",'
                ' "AccessKeyId": "ASIAIMDS", "SecretAccessKey": "sek", "Token": "tok",'
                ' "Expiration": "2026-11-25T23:40:00.123+00:00"}',
        "time": "\x042026-11-25T23:40:00.5Z",
    }


def api_seeds():
    import json

    def req(method, path, body):
        """fuzz_api's first byte: method in bits 0-1, path in bits 2-4, JSON."""
        methods = {"GET": 0, "POST": 1, "PUT": 2, "DELETE": 3}
        paths = ["/api/assets", "/api/campaigns", "/api/campaign/tier-1", "/api/upload/presigned-url",
                 "/api/assets/x-1", "/api/upload/status/abc", "/api/health", "/objects/"]
        data = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        return chr(methods[method] | paths.index(path) << 2) + data

    brief = {"upload_id": "0b8e3f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
             "product_info": {"name": "Aurora Desk Lamp", "category": "Home Office", "price": 89,
                              "description": "A dimmable LED desk lamp.", "key_features": ["Wireless base", "Dimmable"]},
             "target_markets": {"markets": ["Japan", "Germany", "Brazil"]},
             "campaign_objectives": {"target_audience": "remote workers", "campaign_duration": "4 weeks",
                                     "primary_goal": "drive online sales", "budget": "$8,000",
                                     "platform_preferences": ["Instagram", "TikTok"]}}
    camel = {"s3Info": {"bucket": "adsmith-uploads", "key": "uploads/u/a.png"},
             "productInfo": brief["product_info"], "targetMarkets": brief["target_markets"],
             "campaignObjectives": brief["campaign_objectives"], "callback_url": "https://example.com/hook"}
    return {
        "assets-plain": req("POST", "/api/assets", {"prompt": "A lighthouse at dawn, watercolour", "style": "vivid",
                                                    "aspect_ratio": "16:9", "request_id": "batch-1"}),
        "assets-callback": req("POST", "/api/assets", {"prompt": "A lighthouse at dawn", "webhook_url":
                                                       "https://example.com/h", "user_id": "alice"}),
        "assets-creative": req("POST", "/api/assets", {
            "prompt": "Pink bottle on a marble counter", "request_id": "set-1", "task": "background_replace",
            "source": {"upload_id": "0b8e3f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b"}, "colors": ["#E0157A", "#FFFFFF"],
            "sizes": ["story", "linkedin", "16:9"],
            "overlay": {"headline": "新登場です", "cta": "今すぐ購入", "position": "top", "language": "ja"}}),
        "assets-creative-key": req("POST", "/api/assets", {
            "prompt": "Product on white", "task": "background_remove", "source": {"s3Key": "uploads/u/a b.png"},
            "sizes": ["instagram_square"]}),
        "campaigns-async": req("POST", "/api/campaigns", brief),
        "tier1": req("POST", "/api/campaign/tier-1", brief),
        "tier1-camel": req("POST", "/api/campaign/tier-1", camel),
        "presign": req("POST", "/api/upload/presigned-url", {"file_name": "shot.png", "file_type": "image/png"}),
        "status": req("GET", "/api/assets/x-1", ""),
        "campaigns-list": req("GET", "/api/campaigns", ""),
    }


def main():
    target, directory = sys.argv[1], sys.argv[2]
    seeds = {"sigv4": sigv4_seeds, "awscreds": awscreds_seeds, "api": api_seeds}.get(target)
    if seeds is None:
        return
    os.makedirs(directory, exist_ok=True)
    for name, text in seeds().items():
        with open(os.path.join(directory, "seed-" + name), "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
