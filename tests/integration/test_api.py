#!/usr/bin/python3
"""adsmith integration suite: drives the running stack through nginx as a
client would. Started by scripts/test with a private PostgreSQL and nginx."""

import datetime
import glob
import hashlib
import json
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time
import types
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (BASE, PREFIX, VAR, RUNAS, api_workers, pg_ctl, config_value, ctl, expect, expect_error,  # noqa: E402
                     get, new_source, post, request, run, sql, test, test_if, wait_until)
from harness import check_creatives, check_localised, check_plan  # noqa: E402

ALICE = os.environ["ADS_KEY_ALICE"]
BOB = os.environ["ADS_KEY_BOB"]
REVOKED = os.environ["ADS_KEY_REVOKED"]
ROOT = os.environ["ADS_ROOT"]
PGBIN = os.environ["ADS_PGBIN"]
PHOTO = os.path.join(ROOT, "data", "sample-product.png")
UPLOADS = "adsmith-uploads"
STORAGE = os.environ.get("ADS_STORAGE", "local")
S3_URL = os.environ.get("ADS_S3_URL", "")
# "emulator": tests/emulators/s3emu.py, whose /_emu/ endpoints inject
# failures; "s3rver": a third-party S3 server (npm), driven only through S3.
S3_SERVER = os.environ.get("ADS_S3_SERVER", "emulator")
EMULATED_S3 = STORAGE == "s3" and S3_SERVER == "emulator"

BRIEF = {
    "product_info": {"name": "Aurora Desk Lamp",
                     "description": "A dimmable LED desk lamp with warm-to-cool light and a wireless charging base.",
                     "category": "Home Office", "price": 89.0,
                     "key_features": ["Wireless charging base", "Five colour temperatures", "Aluminium arm"]},
    "target_markets": {"markets": ["North America", "Germany", "Japan"]},
    "campaign_objectives": {"target_audience": "remote workers", "campaign_duration": "4 weeks",
                            "primary_goal": "drive online sales", "budget": "$8,000",
                            "platform_preferences": ["Instagram", "YouTube"]},
}


def png_size(data):
    expect(data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG")
    return struct.unpack(">II", data[16:24])


def presign(key, name="lamp.png", ftype="image/png", src=None):
    r = post("/api/upload/presigned-url", {"file_name": name, "file_type": ftype}, key=key, src=src)
    expect(r.status == 200, "presign failed: %r" % r.body)
    return r.json()


def upload(key, data=None, ftype="image/png", src=None):
    p = presign(key, ftype=ftype, src=src)
    r = request("PUT", None, url=p["upload_url"], body=data if data is not None else open(PHOTO, "rb").read(),
                headers={"Content-Type": ftype})
    expect(r.status == 200, "upload PUT failed: %d %r" % (r.status, r.body))
    return p


def brief_with(upload_id=None, **changes):
    b = json.loads(json.dumps(BRIEF))
    if upload_id:
        b["upload_id"] = upload_id
    for path, value in changes.items():
        node = b
        parts = path.split("__")
        for p in parts[:-1]:
            node = node[p]
        if value is None:
            node.pop(parts[-1], None)
        else:
            node[parts[-1]] = value
    return b


def count(table):
    return int(sql("SELECT count(*) FROM %s" % table))


def stored_object(bucket, key):
    """(size, sha256) of an object as the store holds it, or None."""
    if STORAGE == "local":
        path = os.path.join(VAR, "storage", bucket, key)
        if not os.path.exists(path):
            return None
        data = open(path, "rb").read()
        return len(data), hashlib.sha256(data).hexdigest()
    if S3_SERVER == "s3rver":
        r = s3_signed("GET", bucket, key)
        return None if r.status == 404 else (len(r.body), hashlib.sha256(r.body).hexdigest())
    r = request("GET", None, url=S3_URL + "/_emu/object?" + urllib.parse.urlencode({"bucket": bucket, "key": key}))
    if r.status == 404:
        return None
    j = r.json()
    return j["size"], j["sha256"]


def s3_signed(method, bucket, key):
    """An S3 request signed by botocore with the stack's store credentials."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    creds = botocore.credentials.Credentials(config_value("s3_access_key_id"), config_value("s3_secret_access_key"))
    url = "%s/%s/%s" % (S3_URL, bucket, urllib.parse.quote(key, safe="/~"))
    req = botocore.awsrequest.AWSRequest(method=method, url=url)
    botocore.auth.S3SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
    return request(method, None, url=url, headers=dict(req.headers.items()))


def expect_upload_refused(r, why=None):
    """The local store answers JSON; S3 (the emulator) answers S3's XML."""
    if STORAGE == "local":
        j = expect_error(r, 403, "access_denied")
        expect(why is None or why in j["error"], j["error"])
    else:
        expect(r.status == 403 and b"<Error>" in r.body, "%d %r" % (r.status, r.body[:200]))
        expect(why is None or why.encode() in r.body, r.body[:200])


def s3_fail(count, status=503):
    request("POST", None, url="%s/_emu/fail?count=%d&status=%d" % (S3_URL, count, status))


# ---------------------------------------------------------------- health, routing, auth

@test
def health_reports_database_and_echoes_request_id():
    r = get("/api/health", headers={"X-Request-ID": "client-rid-123"})
    expect(r.status == 200)
    j = r.json()
    expect(j["status"] == "ok" and j["database"] == "ok" and j["version"])
    expect(r.header("X-Request-ID") == "client-rid-123", "request id not echoed")
    r = get("/api/health")
    expect(re.fullmatch(r"[0-9a-f]{32}", r.header("X-Request-ID") or ""), "nginx did not make a request id")
    r = get("/api/health", headers={"X-Request-ID": "bad id with spaces"})
    expect(r.header("X-Request-ID") != "bad id with spaces", "malformed request id passed through")


@test
def auth_is_required_and_checked():
    expect_error(post("/api/assets", {"prompt": "a long enough prompt"}), 401, "unauthorized")
    expect_error(post("/api/assets", {"prompt": "a long enough prompt"}, key="ads_" + "0" * 40), 401, "unauthorized")
    expect_error(post("/api/assets", {"prompt": "a long enough prompt"}, key=REVOKED), 401, "unauthorized")
    expect_error(get("/api/upload/status/" + str(uuid.uuid4()), key="garbage"), 401, "unauthorized")
    r = get("/api/upload/status/" + str(uuid.uuid4()), headers={"X-Api-Key": ALICE})
    expect(r.status == 200 and r.json()["status"] == "not_found")


@test
def unknown_routes_and_methods_answer_json():
    expect_error(get("/api/nope", key=ALICE), 404, "not_found")
    expect_error(get("/favicon.ico"), 404, "not_found")
    r = request("DELETE", "/api/assets", key=ALICE)
    expect_error(r, 405, "method_not_allowed")
    expect("POST" in (r.header("Allow") or ""), "Allow header missing")
    expect_error(post("/api/health", {}), 405, "method_not_allowed")


@test
def body_rules_media_type_json_and_size():
    r = request("POST", "/api/assets", body="prompt=hello", key=ALICE,
                headers={"Content-Type": "application/x-www-form-urlencoded"})
    expect_error(r, 415, "unsupported_media_type")
    r = request("POST", "/api/assets", body="{not json", key=ALICE, headers={"Content-Type": "application/json"})
    expect_error(r, 400, "invalid_json")
    r = request("POST", "/api/assets", body="[1, 2]", key=ALICE, headers={"Content-Type": "application/json"})
    expect_error(r, 400, "invalid_json")
    big = json.dumps({"prompt": "x" * 70000})
    r = request("POST", "/api/assets", body=big, key=ALICE, headers={"Content-Type": "application/json"})
    expect_error(r, 413, "payload_too_large")


# ---------------------------------------------------------------- uploads

@test
def presigned_url_has_the_contract_shape():
    r = post("/api/upload/presigned-url", {"fileName": "../../evil.exe", "fileType": "image/png", "fileSize": 1234,
                                           "user_id": "mallory"}, key=ALICE)
    expect(r.status == 200, r.body)
    j = r.json()
    expect(j["upload_id"] == j["uploadId"] and uuid.UUID(j["upload_id"]))
    expect(j["upload_url"] == j["uploadUrl"] and j["method"] == "PUT")
    expect(j["s3_bucket"] == UPLOADS and j["s3_key"] == j["imageKey"])
    expect(re.fullmatch(r"uploads/alice/\d{8}_\d{6}_%s\.png" % j["upload_id"], j["s3_key"]), j["s3_key"])
    expect(j["expires_in"] == 3600 and j["expiresIn"] == 3600)
    expect(j["required_headers"] == {"Content-Type": "image/png"} == j["requiredHeaders"])
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(j["upload_url"]).query)
    expect(q["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and q["X-Amz-SignedHeaders"] == ["content-type;host"])
    expect(sql("SELECT user_id FROM uploads WHERE upload_id = '%s'" % j["upload_id"]) == "alice")
    r = post("/api/upload/presigned-url", {"file_name": "a.jpg", "file_type": "image/jpg"}, key=ALICE)
    expect(r.json()["s3_key"].endswith(".jpg"))


@test
def presigned_url_validation_changes_nothing():
    before = count("uploads")
    for body, field in [({"file_type": "image/png"}, "file_name"),
                        ({"file_name": "", "file_type": "image/png"}, "file_name"),
                        ({"file_name": "x" * 256, "file_type": "image/png"}, "file_name"),
                        ({"file_name": "a.gif", "file_type": "image/gif"}, "file_type"),
                        ({"file_name": "a.png"}, "file_type"),
                        ({"file_name": "a.png", "file_type": "image/png", "file_size": 10485761}, "file_size"),
                        ({"file_name": "a.png", "file_type": "image/png", "file_size": "big"}, "file_size"),
                        ({"file_name": 7, "file_type": "image/png"}, "file_name")]:
        j = expect_error(post("/api/upload/presigned-url", body, key=ALICE), 400, "invalid_request")
        expect(field in j["error"], "message %r does not name %s" % (j["error"], field))
    expect(count("uploads") == before, "a rejected request wrote a row")


@test
def presigned_upload_then_status_completed():
    p = upload(ALICE)
    r = get("/api/upload/status/" + p["upload_id"], key=ALICE)
    j = r.json()
    expect(j["status"] == "completed" and j["uploadId"] == p["upload_id"], j)
    expect(j["size"] == os.path.getsize(PHOTO) and j["content_type"] == "image/png")
    expect(j["s3_key"] == p["s3_key"] == j["imageKey"] and j["s3_bucket"] == UPLOADS and j["last_modified"])
    photo = open(PHOTO, "rb").read()
    expect(stored_object(UPLOADS, p["s3_key"]) == (len(photo), hashlib.sha256(photo).hexdigest()), "stored bytes differ")


@test
def upload_status_not_found_cases():
    p = presign(ALICE)
    for uid in (p["upload_id"], str(uuid.uuid4()), "not-a-uuid"):
        r = get("/api/upload/status/" + uid, key=ALICE)
        expect(r.status == 200 and r.json()["status"] == "not_found", r.body)


def _tamper(url, param, fn):
    parts = urllib.parse.urlsplit(url)
    q = urllib.parse.parse_qsl(parts.query)
    q = [(k, fn(v) if k == param else v) for k, v in q]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(q)))


@test
def tampered_and_wrong_type_uploads_are_refused_and_write_nothing():
    p = presign(ALICE)
    data = open(PHOTO, "rb").read()
    bad_sig = _tamper(p["upload_url"], "X-Amz-Signature", lambda v: ("0" if v[0] != "0" else "1") + v[1:])
    r = request("PUT", None, url=bad_sig, body=data, headers={"Content-Type": "image/png"})
    expect_upload_refused(r)
    later = _tamper(p["upload_url"], "X-Amz-Expires", lambda v: "604800")
    expect_upload_refused(request("PUT", None, url=later, body=data, headers={"Content-Type": "image/png"}))
    r = request("PUT", None, url=p["upload_url"], body=data, headers={"Content-Type": "image/jpeg"})
    expect_upload_refused(r)
    other_key = p["upload_url"].replace(p["upload_id"], str(uuid.uuid4()))
    expect_upload_refused(request("PUT", None, url=other_key, body=data, headers={"Content-Type": "image/png"}))
    expect(stored_object(UPLOADS, p["s3_key"]) is None, "refused upload was written")
    r = get("/api/upload/status/" + p["upload_id"], key=ALICE)
    expect(r.json()["status"] == "not_found")


@test_if(STORAGE == "local")
def local_uploads_are_limited_to_10_mib():
    p = presign(ALICE)
    r = request("PUT", None, url=p["upload_url"], body=b"x" * (10 * 1024 * 1024 + 1), headers={"Content-Type": "image/png"})
    expect_error(r, 413, "payload_too_large")
    expect(stored_object(UPLOADS, p["s3_key"]) is None)


class FullDisk:
    """A 64 KiB tmpfs mounted over one of the store's directories: the
    local store's disk as full as a real one gets. Needs root."""

    def __init__(self, *parts):
        self.path = os.path.join(VAR, "storage", *parts)

    def __enter__(self):
        os.makedirs(self.path, exist_ok=True)
        subprocess.run(["chown", "-R", "adsmith:adsmith" if RUNAS else "%d:%d" % (os.getuid(), os.getgid()),
                        os.path.join(VAR, "storage")], check=True)
        owner = "uid=%d,gid=%d" % (os.stat(self.path).st_uid, os.stat(self.path).st_gid)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755," + owner, "tmpfs", self.path], check=True)
        return self

    def files(self):
        return [os.path.join(d, f) for d, _, fs in os.walk(self.path) for f in fs]

    def __exit__(self, *exc):
        subprocess.run(["umount", self.path], check=True)


@test_if(STORAGE == "local" and os.geteuid() == 0)
def a_full_disk_answers_507_leaves_nothing_and_recovers():
    data = open(PHOTO, "rb").read()
    expect(len(data) > 64 * 1024, "the photo must not fit the small disk")
    p = presign(ALICE)
    with FullDisk(UPLOADS, "uploads", "alice") as disk:
        r = request("PUT", None, url=p["upload_url"], body=data, headers={"Content-Type": "image/png"})
        j = expect_error(r, 507, "insufficient_storage")
        expect(r.header("Retry-After"), "no Retry-After")
        expect("space" in j["error"], j)
        expect(disk.files() == [], "a partial file was left: %s" % disk.files())
        expect(get("/api/upload/status/" + p["upload_id"], key=ALICE).json()["status"] == "not_found")
        rid = "full-" + uuid.uuid4().hex[:8]
        with FullDisk("adsmith-assets", "generated", "alice") as assets:
            r = post("/api/assets", {"prompt": "An image for a full disk", "request_id": rid}, key=ALICE)
            expect(r.status == 200, r.body)
            expect(wait_until(lambda: sql("SELECT error IS NOT NULL FROM generated_images WHERE request_id = '%s'"
                                          % rid) == "t", 20), "the failed store was not recorded")
            expect(assets.files() == [], "a partial image was left: %s" % assets.files())
        expect(get("/api/health").status == 200, "the API did not stay up")
    r = request("PUT", None, url=p["upload_url"], body=data, headers={"Content-Type": "image/png"})
    expect(r.status == 200, "the upload failed once space returned: %d %r" % (r.status, r.body))
    expect(stored_object(UPLOADS, p["s3_key"]) == (len(data), hashlib.sha256(data).hexdigest()))
    j = _wait_job(rid, timeout=60)
    expect(j and j["status"] == "completed", "the job did not complete once space returned: %s" % j)


def _botocore_presign(url, ctype, expires, secret=None, when=None):
    """A presigned PUT for url (without query) made by botocore's own signer."""
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    if STORAGE == "local":
        creds = botocore.credentials.Credentials(config_value("local_signing_key_id"),
                                                 secret or config_value("local_signing_secret"))
    else:
        creds = botocore.credentials.Credentials(config_value("s3_access_key_id"),
                                                 secret or config_value("s3_secret_access_key"))
    req = botocore.awsrequest.AWSRequest(method="PUT", url=url, headers={"Content-Type": ctype})
    if when is not None:
        real = botocore.auth.datetime

        class Fixed(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return when
        botocore.auth.datetime = types.SimpleNamespace(datetime=Fixed)
    try:
        botocore.auth.S3SigV4QueryAuth(creds, "s3", "us-east-1", expires=expires).add_auth(req)
    finally:
        if when is not None:
            botocore.auth.datetime = real
    return req.url


@test
def botocore_agrees_with_our_presigned_urls():
    p = presign(ALICE)
    ours = urllib.parse.urlsplit(p["upload_url"])
    q = dict(urllib.parse.parse_qsl(ours.query))
    when = datetime.datetime.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
    theirs = _botocore_presign(urllib.parse.urlunsplit(ours._replace(query="")), "image/png", 3600, when=when)
    tq = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(theirs).query))
    expect(tq["X-Amz-Signature"] == q["X-Amz-Signature"], "signatures differ: botocore %s, ours %s"
           % (tq["X-Amz-Signature"], q["X-Amz-Signature"]))


@test
def botocore_signed_upload_accepted_wrong_secret_and_expired_refused():
    p = presign(ALICE)
    target = urllib.parse.urlunsplit(urllib.parse.urlsplit(p["upload_url"])._replace(query=""))
    data = open(PHOTO, "rb").read()
    wrong = _botocore_presign(target, "image/png", 600, secret="not-the-secret")
    expect_upload_refused(request("PUT", None, url=wrong, body=data, headers={"Content-Type": "image/png"}))
    old = datetime.datetime.utcnow() - datetime.timedelta(hours=2)
    expired = _botocore_presign(target, "image/png", 3600, when=old)
    expect_upload_refused(request("PUT", None, url=expired, body=data, headers={"Content-Type": "image/png"}), "expired")
    good = _botocore_presign(target, "image/png", 600)
    r = request("PUT", None, url=good, body=data, headers={"Content-Type": "image/png"})
    expect(r.status == 200, r.body)
    expect(get("/api/upload/status/" + p["upload_id"], key=ALICE).json()["status"] == "completed")


# ---------------------------------------------------------------- campaign

@test
def campaign_from_upload_has_every_section_and_is_stored():
    p = upload(ALICE)
    before = count("products")
    r = post("/api/campaign/tier-1", brief_with(p["upload_id"]), key=ALICE)
    expect(r.status == 200, r.body[:500])
    j = r.json()
    expect(j["success"] is True and j["generation_method"] == "fallback_campaign")
    expect(uuid.UUID(j["correlation_id"]) and uuid.UUID(j["product_id"]))
    c = j["campaign"]
    for section in ("product", "content_ideas", "campaigns", "generated_assets", "related_youtube_videos",
                    "platform_recommendations", "market_insights", "analytics", "recommendations"):
        expect(section in c, "missing " + section)
    expect(c["product"]["image"]["s3_key"] == p["s3_key"] and c["product"]["image"]["labels"])
    for label in c["product"]["image"]["labels"]:
        expect(set(label) >= {"name", "confidence", "categories", "instances"})
    idea = c["content_ideas"][0]
    expect("Aurora Desk Lamp" in idea["caption"] and 0 <= idea["engagement_score"] <= 100 and idea["hashtags"])
    camp = c["campaigns"][0]
    expect(set(camp["calendar"]) == {"Week %d" % i for i in range(1, 5)}, camp["calendar"].keys())
    expect(camp["posts_per_week"] >= 1 and camp["platforms"][:2] == ["Instagram", "YouTube"])
    ga = c["generated_assets"]
    expect(ga["image_prompts"] and ga["video_scripts"][0]["content"] and ga["email_templates"][0]["subject"])
    expect(ga["blog_outlines"][0]["points"])
    expect(c["related_youtube_videos"] == [] and any("video" in w for w in j["warnings"]))
    mi = c["market_insights"]
    expect(mi["trending_content_types"] and mi["cultural_considerations"] and mi["audience_preferences"])
    expect(any("Japan" in x for x in mi["cultural_considerations"]))
    expect({"timing", "content", "platform"} <= {x["type"] for x in c["recommendations"]})
    expect(c["analytics"]["estimatedReach"] > 0 and c["analytics"]["is_estimate"] is True)
    expect(count("products") == before + 1)
    row = sql("SELECT user_id, image_analysis IS NOT NULL, youtube_data IS NOT NULL, cultural_data IS NOT NULL,"
              " campaign->>'generation_method', campaign->>'correlation_id' FROM products WHERE product_id = '%s'"
              % j["product_id"])
    expect(row == "alice|t|t|t|fallback_campaign|" + j["correlation_id"], row)


@test
def builtin_campaign_speaks_each_markets_language_and_does_not_repeat_itself():
    p = upload(ALICE)
    r = post("/api/campaign/tier-1", brief_with(p["upload_id"], target_markets__markets=["Japan", "Germany", "Brazil"]),
             key=ALICE)
    expect(r.status == 200, r.body[:500])
    c = r.json()["campaign"]
    variants = check_localised(c, {"Japan": "ja", "Germany": "de", "Brazil": "pt"}, source="builtin")
    expect(variants["Brazil"]["language"] == "pt-BR", variants["Brazil"]["language"])
    # The product's name goes in as it is; nothing of a template is left.
    for v in variants.values():
        expect(all("Aurora Desk Lamp" in i["caption"] and "{" not in i["caption"] for i in v["content_ideas"]), v)
        expect(len({i["angle"] for i in v["content_ideas"]}) == len(v["content_ideas"]), v["content_ideas"])
    check_plan(c)
    # Posting times come from the first market's profile (Japan).
    sched = [p for w in c["campaigns"][0]["calendar"].values() for p in w["schedule"]]
    expect({p["time_zone"] for p in sched} == {"JST"} and {p["time"] for p in sched} <= {"07:30", "12:15", "21:00"}, sched[:3])
    check_creatives(c, p["s3_key"], c["campaigns"][0]["platforms"])
    expect({r["market"] for r in c["generated_assets"]["creative_requests"]} == {"Japan", "Germany", "Brazil"})
    # The contract's fields are all still there for older clients.
    idea = c["content_ideas"][0]
    expect(set(idea) >= {"platform", "topic", "engagement_score", "caption", "hashtags"}, idea)
    expect(all(isinstance(x, str) for w in c["campaigns"][0]["calendar"].values() for x in w["posts"]))


@test
def campaign_accepts_s3_info_and_camel_case():
    p = upload(ALICE)
    b = brief_with()
    b["s3Info"] = {"bucket": UPLOADS, "key": p["s3_key"]}
    b["productInfo"] = b.pop("product_info")
    b["productInfo"]["keyFeatures"] = b["productInfo"].pop("key_features")
    b["campaignObjectives"] = b.pop("campaign_objectives")
    b["campaignObjectives"]["targetAudience"] = b["campaignObjectives"].pop("target_audience")
    r = post("/api/campaign/tier-1", b, key=ALICE)
    expect(r.status == 200 and r.json()["success"], r.body[:400])


@test
def campaign_validation_errors_change_nothing():
    p = upload(ALICE)
    before = count("products")
    cases = [
        (brief_with(p["upload_id"], product_info__name="abc"), "product_info.name"),
        (brief_with(p["upload_id"], product_info__description="too short"), "product_info.description"),
        (brief_with(p["upload_id"], product_info__category=None), "product_info.category"),
        (brief_with(p["upload_id"], product_info=None), "product_info"),
        (brief_with(p["upload_id"], target_markets__markets=[]), "target_markets.markets"),
        (brief_with(p["upload_id"], target_markets__markets=["M%d" % i for i in range(21)]), "target_markets.markets"),
        (brief_with(p["upload_id"], campaign_objectives__primary_goal=None), "campaign_objectives.primary_goal"),
        (brief_with(p["upload_id"], campaign_objectives__platform_preferences="Instagram"), "platform_preferences"),
        (brief_with(), "s3_info or upload_id"),
        (dict(brief_with(), s3_info={"bucket": "someone-elses", "key": p["s3_key"]}), "bucket"),
        (dict(brief_with(), upload_id="nope"), "upload_id"),
    ]
    for body, field in cases:
        j = expect_error(post("/api/campaign/tier-1", body, key=ALICE), 400, "invalid_request")
        expect(j["success"] is False and uuid.UUID(j["correlation_id"]), j)
        expect(field in j["error"], "message %r does not name %s" % (j["error"], field))
    expect(count("products") == before, "a rejected campaign wrote a product")


@test
def campaign_image_must_be_the_callers_uploaded_image():
    p = upload(ALICE)
    before = count("products")
    j = expect_error(post("/api/campaign/tier-1", brief_with(p["upload_id"]), key=BOB), 404, "not_found")
    expect(j["success"] is False)
    expect_error(post("/api/campaign/tier-1", dict(brief_with(), s3_info={"bucket": UPLOADS, "key": p["s3_key"]}),
                      key=BOB), 404, "not_found")
    expect_error(post("/api/campaign/tier-1", brief_with(str(uuid.uuid4())), key=ALICE), 404, "not_found")
    pending = presign(ALICE)
    expect_error(post("/api/campaign/tier-1", brief_with(pending["upload_id"]), key=ALICE), 404, "not_found")
    junk = upload(ALICE, data=b"this is not an image at all", ftype="image/png")
    j = expect_error(post("/api/campaign/tier-1", brief_with(junk["upload_id"]), key=ALICE), 400, "invalid_image")
    expect("image" in j["error"])
    expect(count("products") == before)


def _hostile():
    sys.path.insert(0, os.path.join(ROOT, "tests", "hostile"))
    import mkhostile
    return mkhostile


@test
def hostile_images_are_refused_quickly_naming_the_limit_and_the_worker_survives():
    mk = _hostile()
    files = [("jpeg-many-scans.jpg", lambda: mk.jpeg_progressive(4096, 4096, [1], 18000), "image/jpeg", "100 scans"),
             ("jpeg-huge-coefficients.jpg", lambda: mk.jpeg_progressive(6000, 6000, [1, 2, 3], 0, truncate_dc=True),
              "image/jpeg", "memory limit"),
             ("png-interlaced-16bit.png", lambda: mk.png_image(6000, 6000, 16, 6, 1), "image/png", "memory limit"),
             ("png-wide-16bit.png", lambda: mk.png_image(40_000_000, 1, 16, 6, 0), "image/png", "per side"),
             ("webp-lossless-huge.webp", lambda: mk.webp_lossless_solid(6000, 6000), "image/webp", "memory limit")]
    with open(os.path.join(VAR, "log", "api.log")) as f:
        log_start = len(f.read())
    before = count("products")
    slow_health = []
    stop = threading.Event()

    def health():      # /api/health keeps answering promptly meanwhile
        while not stop.is_set():
            t0 = time.time()
            r = get("/api/health")
            if r.status != 200 or time.time() - t0 > 1.0:
                slow_health.append((r.status, round(time.time() - t0, 2)))
            time.sleep(0.05)

    watcher = threading.Thread(target=health)
    watcher.start()
    try:
        for name, make, ftype, says in files:
            p = upload(ALICE, data=make(), ftype=ftype)
            t0 = time.time()
            j = expect_error(post("/api/campaign/tier-1", brief_with(p["upload_id"]), key=ALICE), 400, "invalid_image")
            took = time.time() - t0
            expect(says in j["error"], "%s: %s" % (name, j["error"]))
            expect(took < 11.0, "%s took %.1f s" % (name, took))   # 5 x decode_max_cpu_ms at most, plus the rest
    finally:
        stop.set()
        watcher.join()
    expect(not slow_health, "health was slow or failed meanwhile: %r" % slow_health[:5])
    expect(count("products") == before)
    with open(os.path.join(VAR, "log", "api.log")) as f:
        expect("died" not in f.read()[log_start:], "a worker died")
    # A zTXt bomb is skipped, not inflated: analysed, and quickly.
    p = upload(ALICE, data=mk.png_ztxt_bomb(100, 7_900_000), ftype="image/png")
    t0 = time.time()
    r = post("/api/campaign/tier-1", brief_with(p["upload_id"]), key=ALICE)
    expect(r.status == 200 and time.time() - t0 < 5, (r.status, r.body[:200]))


@test
def image_of_another_type_than_declared_is_analysed_with_a_warning():
    jpeg = _hostile().jpeg_progressive(64, 48, [1], 3)     # a grey progressive JPEG
    p = upload(ALICE, data=jpeg, ftype="image/png")
    r = post("/api/campaign/tier-1", brief_with(p["upload_id"]), key=ALICE)
    expect(r.status == 200, r.body[:300])
    expect(any("uploaded as png but is a jpeg" in w for w in r.json()["warnings"]), r.json()["warnings"])
    row = sql("SELECT image_analysis->>'format', image_analysis->>'declared_format' FROM products"
              " WHERE product_id = '%s'" % r.json()["product_id"])
    expect(row == "jpeg|png", row)


@test
def unknown_market_gets_generic_profile_and_warning():
    p = upload(ALICE)
    r = post("/api/campaign/tier-1", brief_with(p["upload_id"], target_markets__markets=["Atlantis", "EU"]), key=ALICE)
    j = r.json()
    expect(r.status == 200 and any("Atlantis" in w for w in j["warnings"]), j.get("warnings"))


# ---------------------------------------------------------------- image jobs

def _wait_job(rid, key=ALICE, timeout=15):
    def done():
        r = get("/api/assets/" + rid, key=key, src=new_source())
        return r.json() if r.status == 200 and r.json()["status"] != "pending" else None
    return wait_until(done, timeout)


@test
def image_job_completes_and_the_png_is_public():
    rid = "it-" + uuid.uuid4().hex[:12]
    r = post("/api/assets/", {"prompt": "Aurora desk lamp on a walnut desk at dusk", "style": "photographic",
                              "aspect_ratio": "16:9", "request_id": rid}, key=ALICE)
    expect(r.status == 200 and r.json() == {"message": "Image generation request queued", "request_id": rid}, r.body)
    j = _wait_job(rid)
    expect(j and j["status"] == "completed", j)
    expect(j["user_id"] == "alice" and j["style"] == "photographic" and j["aspect_ratio"] == "16:9" and j["attempts"] == 1)
    expect(re.fullmatch(r"generated/alice/\d{8}_\d{6}_%s_Aurora_desk_lamp_on_a_walnut_desk_at_dusk\.png" % rid,
                        j["s3_key"]), j["s3_key"])
    img = request("GET", None, url=j["s3_url"])
    expect(img.status == 200 and png_size(img.body) == (1280, 720))
    expect(j["created_at"] and j["generated_at"])


@test
def image_sizes_follow_aspect_ratio():
    want = {"1:1": (1024, 1024), "9:16": (720, 1280), "4:3": (1152, 864), "3:4": (864, 1152)}
    ids = {}
    src = new_source()
    for ratio in want:
        r = post("/api/assets", {"prompt": "Sizing check for ratio " + ratio, "aspect_ratio": ratio}, key=ALICE, src=src)
        expect(r.status == 200)
        ids[ratio] = r.json()["request_id"]
    for ratio, rid in ids.items():
        j = _wait_job(rid)
        expect(j["status"] == "completed", j)
        expect(png_size(request("GET", None, url=j["s3_url"]).body) == want[ratio])


@test
def image_request_id_is_idempotent_and_conflicts_are_409():
    rid = "idem-" + uuid.uuid4().hex[:10]
    body = {"prompt": "Idempotency check prompt", "request_id": rid}
    r1 = post("/api/assets", body, key=ALICE)
    r2 = post("/api/assets", body, key=ALICE)
    expect(r1.status == 200 and r2.status == 200 and r1.json() == r2.json())
    expect(sql("SELECT count(*) FROM generated_images WHERE request_id = '%s'" % rid) == "1")
    expect_error(post("/api/assets", dict(body, prompt="A different prompt entirely"), key=ALICE), 409, "conflict")
    expect_error(post("/api/assets", body, key=BOB), 409, "conflict")


@test
def image_validation_changes_nothing():
    before = count("generated_images")
    for body, text in [({}, "Prompt is required"), ({"prompt": ""}, "Prompt is required"),
                       ({"prompt": "short"}, "prompt"), ({"prompt": "p" * 1001}, "prompt"),
                       ({"prompt": "a fine prompt here", "style": "oil"}, "style"),
                       ({"prompt": "a fine prompt here", "aspect_ratio": "2:1"}, "aspect_ratio"),
                       ({"prompt": "a fine prompt here", "request_id": "bad id!"}, "request_id"),
                       ({"prompt": "a fine prompt here", "request_id": "x" * 65}, "request_id"),
                       ({"prompt": 12345678901}, "prompt")]:
        j = expect_error(post("/api/assets", body, key=ALICE, src=new_source()), 400, "invalid_request")
        expect(text in j["error"], "message %r lacks %r" % (j["error"], text))
    expect(count("generated_images") == before)


@test
def users_never_see_each_others_rows():
    rid = "iso-" + uuid.uuid4().hex[:10]
    post("/api/assets", {"prompt": "Isolation check prompt", "request_id": rid}, key=ALICE)
    r = get("/api/assets/" + rid, key=BOB)
    expect(r.status == 404 and r.json() == {"error": "Request not found", "code": "not_found", "request_id": rid}, r.body)
    missing = get("/api/assets/no-such-id", key=BOB)
    expect(missing.status == 404 and missing.json()["error"] == "Request not found")
    p = upload(ALICE)
    expect(get("/api/upload/status/" + p["upload_id"], key=BOB).json()["status"] == "not_found")
    expect(get("/api/upload/status/" + p["upload_id"], key=ALICE).json()["status"] == "completed")


# ---------------------------------------------------------------- limits, schema, operations

@test
def rate_limits_answer_429_json_with_retry_after():
    src = new_source()
    statuses = []
    for _ in range(12):
        r = post("/api/campaign/tier-1", {}, key=ALICE, src=src)
        statuses.append(r.status)
        if r.status == 429:
            expect_error(r, 429, "rate_limited")
            expect(r.header("Retry-After"), "Retry-After missing")
            break
    expect(429 in statuses, "no 429 after %d requests: %s" % (len(statuses), statuses))
    other = post("/api/campaign/tier-1", {}, key=ALICE, src=new_source())
    expect(other.status == 400, "another client was limited too")


@test
def migrations_run_twice_safely():
    code, out, err = ctl("migrate")
    expect(code == 0 and "already applied" in out and "up to date" in out, out + err)
    shipped = glob.glob(os.path.join(PREFIX, "share", "adsmith", "sql", "[0-9][0-9][0-9]_*.sql"))
    expect(len(shipped) >= 2 and sql("SELECT count(*) FROM schema_migrations") == str(len(shipped)),
           "applied %s, shipped %d" % (sql("SELECT string_agg(version::text, ',') FROM schema_migrations"), len(shipped)))
    expect(sql("SELECT count(*) FROM pg_views WHERE viewname = 'dead_letter'") == "1")


@test
def every_table_and_column_is_commented():
    missing = sql("SELECT c.relname || '.' || a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
                  " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v')"
                  " AND a.attnum > 0 AND NOT a.attisdropped AND col_description(c.oid, a.attnum) IS NULL")
    expect(missing == "", "columns without comments: " + missing)
    tables = sql("SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                 " WHERE n.nspname = 'public' AND relkind IN ('r', 'v') AND obj_description(c.oid, 'pg_class') IS NULL")
    expect(tables == "", "tables without comments: " + tables)


@test
def api_keys_are_stored_only_as_hashes():
    expect(sql("SELECT count(*) FROM api_keys WHERE key_hash = '%s'" % hashlib.sha256(ALICE.encode()).hexdigest()) == "1")
    dump = sql("SELECT string_agg(key_prefix || key_hash, ',') FROM api_keys")
    expect(ALICE not in dump)
    code, out, err = ctl("apikey", "list")
    expect(code == 0 and "alice" in out and ALICE not in out)


def _workers():
    return api_workers("general")


@test
def killed_workers_are_replaced_and_nothing_acknowledged_is_lost():
    master, workers = _workers()
    expect(len(workers) >= 2, "expected several workers, got %s" % workers)
    results = {}
    lock = threading.Lock()
    stop = time.time() + 3.0

    def client(n):
        i = 0
        while time.time() < stop:
            rid = "kill-%d-%d-%s" % (n, i, uuid.uuid4().hex[:6])
            try:
                r = post("/api/assets", {"prompt": "Worker kill test prompt", "request_id": rid},
                         key=ALICE, src=new_source())
                status = r.status
            except Exception:
                status = -1
            with lock:
                results[rid] = status
            i += 1
            time.sleep(0.02)
    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    killed = 0
    for _ in range(3):
        time.sleep(0.6)
        _, ws = _workers()
        if ws:
            os.kill(ws[0], signal.SIGKILL)
            killed += 1
    for t in threads:
        t.join()
    expect(killed == 3)
    _, after = wait_until(lambda: (lambda m_w: m_w if len(m_w[1]) == len(workers) else None)(_workers()), 10)
    expect(len(after) == len(workers), "master did not replace workers: %s" % after)
    acked = [rid for rid, s in results.items() if s == 200]
    expect(len(acked) > 20, "too few requests went through: %d" % len(acked))
    rows = set(sql("SELECT string_agg(request_id, ',') FROM generated_images WHERE request_id LIKE 'kill-%'").split(","))
    lost = [rid for rid in acked if rid not in rows]
    expect(not lost, "acknowledged but not stored: %s" % lost[:5])
    for rid, s in results.items():
        expect(s in (200, 502, -1), "unexpected status %s" % s)
        if s != 200:   # the client retries with the same id: same answer, one row
            r = post("/api/assets", {"prompt": "Worker kill test prompt", "request_id": rid}, key=ALICE, src=new_source())
            expect(r.status == 200, r.body)
    expect(get("/api/health").status == 200)
    # Hundreds of renders nobody will look at: gone, so that the tests after
    # this one do not wait behind them on a slow machine.
    sql("DELETE FROM generated_images WHERE request_id LIKE 'kill-%' AND status = 'pending'")


@test
def sighup_reloads_without_dropping_requests():
    master, before = _workers()
    os.kill(master, signal.SIGHUP)
    ok = 0
    for _ in range(30):
        ok += get("/api/health", src=new_source()).status == 200
        time.sleep(0.03)
    _, after = wait_until(lambda: (lambda m_w: m_w if len(m_w[1]) == len(before) and not set(m_w[1]) & set(before)
                                   else None)(_workers()), 10)
    expect(after and not set(after) & set(before), "workers were not replaced on SIGHUP")
    expect(ok >= 28, "requests failed during reload: %d/30 ok" % ok)


@test
def database_down_gives_503_and_service_recovers():
    pg_ctl("stop")
    try:
        r = get("/api/health")
        expect(r.status == 503 and r.json()["database"] == "unavailable", r.body)
        expect_error(post("/api/assets", {"prompt": "while the database is down"}, key=ALICE), 503, "unavailable")
    finally:
        pg_ctl("start")
    expect(wait_until(lambda: get("/api/health").status == 200, 10), "health did not recover")
    rid = "after-restart-" + uuid.uuid4().hex[:8]
    r = post("/api/assets", {"prompt": "queued after the database came back", "request_id": rid}, key=ALICE)
    expect(r.status == 200, r.body)
    j = _wait_job(rid, timeout=90)
    expect(j and j["status"] == "completed", "generator did not recover: %s" % j)


# ---------------------------------------------------------------- S3 driver

@test_if(STORAGE == "s3")
def s3_upload_urls_point_at_the_store_and_assets_are_public_there():
    p = presign(ALICE)
    expect(p["upload_url"].startswith(S3_URL + "/" + UPLOADS + "/uploads/alice/"), p["upload_url"])
    r = request("PUT", "/objects/%s/%s?x=1" % (UPLOADS, p["s3_key"]), body=b"x", headers={"Content-Type": "image/png"})
    expect_error(r, 403, "access_denied")   # the API's local endpoint is closed with storage = s3
    rid = "s3-" + uuid.uuid4().hex[:10]
    post("/api/assets", {"prompt": "An asset stored in S3", "request_id": rid}, key=ALICE)
    j = _wait_job(rid)
    expect(j["status"] == "completed" and j["s3_url"].startswith(S3_URL + "/adsmith-assets/generated/alice/"), j)
    img = request("GET", None, url=j["s3_url"])
    expect(img.status == 200 and png_size(img.body) == (1024, 1024))
    expect(stored_object("adsmith-assets", j["s3_key"])[0] == len(img.body))
    head = s3_signed("HEAD", "adsmith-assets", j["s3_key"])
    expect(head.status == 200 and head.header("Content-Type") == "image/png"
           and head.header("x-amz-meta-request-id") == rid, "%d %r" % (head.status, head.headers))


@test_if(EMULATED_S3)
def s3_transient_errors_are_retried():
    p = upload(ALICE)
    s3_fail(2, 503)
    r = get("/api/upload/status/" + p["upload_id"], key=ALICE)
    expect(r.status == 200 and r.json()["status"] == "completed", r.body)
    s3_fail(2, 500)
    r = post("/api/campaign/tier-1", brief_with(p["upload_id"]), key=ALICE)
    expect(r.status == 200 and r.json()["success"], r.body[:300])


@test_if(EMULATED_S3)
def s3_outage_answers_json_and_writes_nothing():
    p = upload(ALICE)
    before = count("products")
    s3_fail(1000, 500)
    try:
        expect_error(get("/api/upload/status/" + p["upload_id"], key=ALICE), 502, "storage_error")
        j = expect_error(post("/api/campaign/tier-1", brief_with(p["upload_id"]), key=ALICE), 502, "storage_error")
        expect(j["success"] is False)
    finally:
        s3_fail(0)
    expect(count("products") == before, "a product was written during the outage")
    expect(get("/api/upload/status/" + p["upload_id"], key=ALICE).json()["status"] == "completed")


@test_if(EMULATED_S3)
def s3_stalled_past_its_timeout_answers_json_in_bounded_time():
    """Every S3 request held past s3_timeout_ms: the routes that read the
    store answer a JSON error within the timeout and retry budget, write
    nothing, leave the other routes as fast as before, and work again as
    soon as the store answers."""
    p = upload(ALICE)
    timeout = int(config_value("s3_timeout_ms")) / 1000.0
    retries = int(config_value("s3_retries"))
    budget = (retries + 1) * timeout + 3.0       # every attempt times out, plus the backoffs
    before = count("products")
    health, stop = [], threading.Event()

    def poll_health():
        while not stop.is_set():
            t0 = time.time()
            r = get("/api/health")
            health.append((time.time() - t0, r.status))
            time.sleep(0.05)

    request("POST", None, url="%s/_emu/delay?ms=%d" % (S3_URL, int(timeout * 1000) + 1500))
    poller = threading.Thread(target=poll_health)
    poller.start()
    try:
        t0 = time.time()
        r = get("/api/upload/status/" + p["upload_id"], key=ALICE, timeout=budget + 10)
        status_took = time.time() - t0
        j1 = expect_error(r, 502, "storage_error")
        t0 = time.time()
        r = post("/api/campaign/tier-1", brief_with(p["upload_id"]), key=ALICE, timeout=budget + 10)
        campaign_took = time.time() - t0
        j2 = expect_error(r, 502, "storage_error")
    finally:
        request("POST", None, url="%s/_emu/delay?ms=0" % S3_URL)
        stop.set()
        poller.join()
    slowest = max(h[0] for h in health)
    print("     upload status %.1f s, campaign %.1f s (timeout %.1f s, %d retries); health max %.0f ms over %d" % (
        status_took, campaign_took, timeout, retries, slowest * 1000, len(health)))
    expect(timeout <= status_took < budget and timeout <= campaign_took < budget,
           "took %.1f s and %.1f s for a budget of %.1f s" % (status_took, campaign_took, budget))
    expect("did not answer in time" in j1["error"] and "did not answer in time" in j2["error"], (j1, j2))
    expect(j2["success"] is False)
    expect(all(h[1] == 200 for h in health) and slowest < 1.0, "health suffered: max %.2f s" % slowest)
    expect(count("products") == before, "a product was written while the store stalled")
    expect(get("/api/upload/status/" + p["upload_id"], key=ALICE).json()["status"] == "completed")
    r = post("/api/campaign/tier-1", brief_with(p["upload_id"]), key=ALICE)
    expect(r.status == 200 and r.json()["success"], r.body[:300])


@test_if(STORAGE == "s3")
def storage_check_round_trips_and_names_a_wrong_secret():
    code, out, err = ctl("storage", "check")
    expect(code == 0 and "storage ok" in out, out + err)
    code, out, err = ctl("storage", "check", env_extra={"ADSMITH_S3_SECRET_ACCESS_KEY": "a-wrong-secret-value"})
    expect(code == 1 and "SignatureDoesNotMatch" in out, out + err)
    expect("a-wrong-secret-value" not in out + err, "the secret was printed")


def _s3_server(action):
    """Stops or starts the S3 server with the command scripts/test used."""
    pidfile = os.path.join(VAR, "s3.pid")
    probe = S3_URL + ("/_emu/stats" if S3_SERVER == "emulator" else "/")
    if action == "stop":
        os.kill(int(open(pidfile).read()), signal.SIGTERM)
        wait_until(lambda: request_fails(probe), 5)
        return
    args = open(os.path.join(VAR, "s3.args")).read().split("\n")
    log = open(os.path.join(VAR, "log", "s3.log"), "a")
    p = subprocess.Popen([a for a in args if a], stdout=log, stderr=log)
    open(pidfile, "w").write(str(p.pid))
    expect(wait_until(lambda: not request_fails(probe), 10), "the S3 server did not restart")


def request_fails(url):
    try:
        request("GET", None, url=url, timeout=2)
        return False
    except OSError:
        return True


@test_if(STORAGE == "s3")
def storage_check_names_a_clock_ten_minutes_off():
    env = dict(os.environ, ADSMITH_CONFIG=os.path.join(VAR, "adsmith.conf"))
    for offset, word in (("-10m", "behind"), ("+10m", "ahead of")):
        p = subprocess.run(RUNAS + ["faketime", "-f", offset, os.path.join(PREFIX, "bin", "adsmithctl"), "storage",
                                    "check"], capture_output=True, text=True, env=env)
        expect(p.returncode == 1 and "storage check failed" in p.stdout, p.stdout + p.stderr)
        line = [x for x in p.stdout.splitlines() if x.startswith("clock:")]
        expect(line and "FAILED" in line[0] and " s %s the store's" % word in line[0], p.stdout)
        secs = int(re.search(r"clock is (\d+) s", line[0]).group(1))
        expect(abs(secs - 600) <= 5, "measured %d s for a 600 s skew" % secs)
    code, out, err = ctl("storage", "check")
    expect(code == 0 and "clock:  ok" in out, out + err)


# Keys a user could have: S3 takes any UTF-8 up to 1024 bytes.
ODD_KEYS = ["with space.png", "a+b=c&d~e%f.png", "dir/sub dir/x y.jpg", "\u00fcn\u00efc\u00f6d\u00e9/\u65e5\u672c.png",
            "semi;colon,comma.png", "paren(1)[2]{3}.png", "quote'\"q.png", "hash#q?x.png", "star*!@$.png",
            "tilde~/.hidden", "%2F.png", "emoji\U0001F600.png", "back\\slash.png", "caret^pipe|.png",
            # 1024 bytes, the longest S3 key, in segments a file-backed server can store
            "/".join(["k" * 200] * 5) + "/" + "k" * 19]


def _ctl_presign(method, key, when=None):
    args = ["presign", "--method", method, "--bucket", UPLOADS, "--key", key, "--endpoint", S3_URL, "--path-style",
            "--expires", "900"]
    if method == "PUT":
        args += ["--content-type", "image/png"]
    if when is not None:
        args += ["--date", when.strftime("%Y%m%dT%H%M%SZ")]
    return ctl(*args)


@test_if(STORAGE == "s3")
def presign_signs_any_key_s3_accepts_as_botocore_does():
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    when = datetime.datetime(2026, 11, 25, 12, 0, 0)
    creds = botocore.credentials.Credentials(config_value("s3_access_key_id"), config_value("s3_secret_access_key"))
    real = botocore.auth.datetime

    class Fixed(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return when
    for key in ODD_KEYS + ["a//b.png", "../up.png", "trailing/", "k" * 1024]:
        for method in ("PUT", "GET"):
            code, out, err = _ctl_presign(method, key, when)
            expect(code == 0, "%r refused: %s" % (key, err))
            url = "%s/%s/%s" % (S3_URL, UPLOADS, urllib.parse.quote(key, safe="/~"))
            req = botocore.awsrequest.AWSRequest(method=method, url=url,
                                                 headers={"Content-Type": "image/png"} if method == "PUT" else {})
            botocore.auth.datetime = types.SimpleNamespace(datetime=Fixed)
            try:
                botocore.auth.S3SigV4QueryAuth(creds, "s3", "us-east-1", expires=900).add_auth(req)
            finally:
                botocore.auth.datetime = real
            expect(out.strip() == req.url, "%s %r:\n ours     %s\n botocore %s" % (method, key, out.strip(), req.url))
    for key in ["", "tab\tkey.png", "k" * 1025]:
        code, out, err = _ctl_presign("PUT", key)
        expect(code != 0 and "invalid bucket or key" in err and out == "", "%r: %d %s" % (key, code, out))


@test_if(STORAGE == "s3" and S3_SERVER == "s3rver")
def odd_keys_round_trip_through_presigned_urls():
    for key in ODD_KEYS:
        body = ("bytes of %s" % key).encode()
        code, put_url, err = _ctl_presign("PUT", key)
        expect(code == 0, err)
        r = request("PUT", None, url=put_url.strip(), body=body, headers={"Content-Type": "image/png"})
        expect(r.status == 200, "PUT %r: %d %r" % (key, r.status, r.body[:200]))
        code, get_url, err = _ctl_presign("GET", key)
        r = request("GET", None, url=get_url.strip())
        expect(r.status == 200 and r.body == body, "GET %r: %d %r" % (key, r.status, r.body[:200]))


@test_if(STORAGE == "s3")
def s3_store_down_then_back_loses_no_job():
    """Last of the S3 tests: restarting the emulator empties it."""
    p = presign(ALICE)
    rid = "down-" + uuid.uuid4().hex[:8]
    _s3_server("stop")
    try:
        t0 = time.time()
        expect_error(get("/api/upload/status/" + p["upload_id"], key=ALICE), 502, "storage_error")
        expect(time.time() - t0 < 10, "the outage answer took too long")
        r = post("/api/assets", {"prompt": "queued while the store is down", "request_id": rid}, key=ALICE)
        expect(r.status == 200, r.body)
        expect(wait_until(lambda: sql("SELECT error IS NOT NULL FROM generated_images WHERE request_id = '%s'" % rid)
                          == "t", 15), "the failed attempt was not recorded")
        j = get("/api/assets/" + rid, key=ALICE).json()
        expect(j["status"] == "pending" and j["attempts"] >= 1, j)
    finally:
        _s3_server("start")
    j = _wait_job(rid, timeout=30)
    expect(j and j["status"] == "completed", "the job did not complete once the store was back: %s" % j)
    expect(stored_object("adsmith-assets", j["s3_key"]) is not None)


@test
def markets_are_listed_from_the_knowledge_base():
    expect_error(get("/api/markets"), 401, "unauthorized")
    r = get("/api/markets", key=ALICE)
    expect(r.status == 200, r.body)
    j = r.json()
    with open(os.path.join(ROOT, "data", "markets.json")) as f:
        kb = json.load(f)["markets"]
    expect(j["count"] == len(kb) == len(j["markets"]), j)
    expect([m["name"] for m in j["markets"]] == [m["name"] for m in kb], j)
    by_name = {m["name"]: m for m in j["markets"]}
    expect(by_name["North America"]["region"] == "Americas" and by_name["Japan"]["region"] == "Asia-Pacific", j)
    expect(by_name["Japan"]["languages"] == ["ja"] and by_name["France"]["languages"][0] == "fr", j)
    expect(all(m["id"] and m["region"] for m in j["markets"]), j)
    expect_error(request("DELETE", "/api/markets", key=ALICE), 405, "method_not_allowed")


@test
def image_list_pages_newest_first_and_shows_only_own_images():
    code, out, _ = ctl("apikey", "create", "--user", "gallery-owner")
    expect(code == 0 and out.strip(), "no key for the gallery owner")
    key = out.strip()
    empty = get("/api/assets", key=key).json()
    expect(empty == {"items": [], "next_cursor": None}, empty)
    # Five rows: two share one created_at (the page boundary must not lose
    # or repeat either), one belongs to someone else.
    sql("INSERT INTO generated_images (request_id, user_id, prompt, style, aspect_ratio, body_hash, status, error,"
        " created_at) VALUES"
        " ('gal-1', 'gallery-owner', 'oldest prompt text', 'natural', '1:1', 'h', 'failed', 'no', now() - interval '4 min'),"
        " ('gal-2a', 'gallery-owner', 'tied prompt text a', 'vivid', '16:9', 'h', 'failed', 'no', now() - interval '3 min'),"
        " ('gal-2b', 'gallery-owner', 'tied prompt text b', 'vivid', '16:9', 'h', 'failed', 'no', now() - interval '3 min'),"
        " ('gal-x', 'someone-else', 'not the owner text', 'natural', '1:1', 'h', 'failed', 'no', now() - interval '2 min')")
    r = post("/api/assets", {"prompt": "the newest image of the gallery", "request_id": "gal-3"}, key=key)
    expect(r.status == 200, r.body)
    seen, cursor, pages = [], None, 0
    while True:
        path = "/api/assets?limit=2" + ("&cursor=" + urllib.parse.quote(cursor, safe="") if cursor else "")
        r = get(path, key=key)
        expect(r.status == 200, r.body)
        j = r.json()
        pages += 1
        expect(len(j["items"]) <= 2, j)
        seen += j["items"]
        cursor = j["next_cursor"]
        if cursor is None:
            break
        expect(pages < 5, "paging does not end")
    expect([i["request_id"] for i in seen] == ["gal-3", "gal-2b", "gal-2a", "gal-1"], [i["request_id"] for i in seen])
    expect(pages == 2, pages)
    newest = seen[0]
    expect(newest["prompt"] == "the newest image of the gallery" and newest["user_id"] == "gallery-owner" and
           "created_at" in newest and "attempts" in newest, newest)
    failed = seen[-1]
    expect(failed["status"] == "failed" and failed["error"] == "no" and "s3_url" not in failed, failed)
    # Each item answers as GET /api/assets/{id} does.
    one = get("/api/assets/gal-2a", key=key).json()
    expect(one == seen[2], (one, seen[2]))
    expect(get("/api/assets/", key=key).json()["items"][0]["request_id"] == "gal-3")
    for bad in ("limit=0", "limit=101", "limit=x", "cursor=nonsense", "cursor=12.a%2Fb"):
        j = expect_error(get("/api/assets?" + bad, key=key), 400, "invalid_request")
        expect(bad.split("=")[0] in j["error"], j)
    expect_error(get("/api/assets?limit=2"), 401, "unauthorized")
    expect(all(i["user_id"] == "alice" for i in get("/api/assets?limit=100", key=ALICE).json()["items"]))


if __name__ == "__main__":
    passed, failed = run(sys.argv[1:] or None)
    sys.exit(1 if failed else 0)
