#!/usr/bin/python3
"""adsmith integration suite: the data lifecycle. adsmithctl prune with the
retention settings, user export and user delete, on the stack's store
(local, or S3 through the emulator), and adsmith_enqueue_image called from
psql, checked against the HTTP API both ways."""

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (PREFIX, VAR, RUNAS, config_value, ctl, expect, expect_error, get, post, request,  # noqa: E402
                     run, sql, start_generator, stop_all, test, wait_until)

ALICE = os.environ["ADS_KEY_ALICE"]
ROOT = os.environ["ADS_ROOT"]
PHOTO = os.path.join(ROOT, "data", "sample-product.png")
STORAGE = os.environ.get("ADS_STORAGE", "local")
S3_URL = os.environ.get("ADS_S3_URL", "")
EMULATED_S3 = STORAGE == "s3" and os.environ.get("ADS_S3_SERVER", "emulator") == "emulator"
UPLOADS = "adsmith-uploads"
ASSETS = "adsmith-assets"
# Everything these tests age is two days old; prune keeps one day.
ONE_DAY = {"ADSMITH_RETAIN_UPLOADS_UNUSED": "1d", "ADSMITH_RETAIN_PRODUCTS": "1d",
           "ADSMITH_RETAIN_IMAGES": "1d", "ADSMITH_RETAIN_FINISHED_JOBS": "1d"}
KINDS = ("webhook_deliveries", "campaign_jobs", "image_jobs_failed", "images", "products", "uploads_unused")


def new_user(prefix):
    user = "%s_%s" % (prefix, uuid.uuid4().hex[:8])
    code, out, err = ctl("apikey", "create", "--user", user)
    expect(code == 0, err)
    return user, out.strip()


def stored(bucket, key):
    """sha256 of the object as the store holds it, or None."""
    if STORAGE == "local":
        path = os.path.join(VAR, "storage", bucket, key)
        if not os.path.exists(path):
            return None
        return hashlib.sha256(open(path, "rb").read()).hexdigest()
    r = request("GET", None, url=S3_URL + "/_emu/object?" + urllib.parse.urlencode({"bucket": bucket, "key": key}))
    return None if r.status == 404 else r.json()["sha256"]


def put_objects(bucket, keys, data=b"lifecycle test object\n"):
    """Puts objects straight into the store (not through adsmith)."""
    if STORAGE == "local":
        script = ("import os, sys\nroot, data = sys.argv[1], sys.stdin.buffer.read()\n"
                  "for k in sys.argv[2:]:\n"
                  "    p = os.path.join(root, k)\n"
                  "    os.makedirs(os.path.dirname(p), exist_ok=True)\n"
                  "    open(p, 'wb').write(data)\n")
        subprocess.run(RUNAS + ["/usr/bin/python3", "-c", script, os.path.join(VAR, "storage", bucket)] + list(keys),
                       input=data, check=True)
        return
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    creds = botocore.credentials.Credentials(config_value("s3_access_key_id"), config_value("s3_secret_access_key"))
    for k in keys:
        url = "%s/%s/%s" % (S3_URL, bucket, urllib.parse.quote(k, safe="/~"))
        req = botocore.awsrequest.AWSRequest(method="PUT", url=url, data=data,
                                             headers={"Content-Type": "application/octet-stream"})
        botocore.auth.S3SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
        r = request("PUT", None, url=url, body=data, headers=dict(req.headers.items()))
        expect(r.status == 200, "PUT %s: %d" % (k, r.status))


def upload(key):
    """An upload through the API (presigned PUT); returns (upload_id, s3_key, sha256)."""
    r = post("/api/upload/presigned-url", {"file_name": "lamp.png", "file_type": "image/png"}, key=key)
    expect(r.status == 200, r.body)
    p = r.json()
    data = open(PHOTO, "rb").read()
    r = request("PUT", None, url=p["upload_url"], body=data, headers={"Content-Type": "image/png"})
    expect(r.status == 200, "upload PUT: %d %r" % (r.status, r.body[:200]))
    key_ = sql("SELECT s3_key FROM uploads WHERE upload_id = '%s'" % p["upload_id"])
    sql("UPDATE uploads SET uploaded_at = now() WHERE upload_id = '%s'" % p["upload_id"])
    return p["upload_id"], key_, hashlib.sha256(data).hexdigest()


def image(key, prompt="a lighthouse at dawn over a calm sea"):
    """An image job through the API, waited for; returns (request_id, s3_key)."""
    r = post("/api/assets", {"prompt": prompt, "style": "vivid", "aspect_ratio": "1:1"}, key=key)
    expect(r.status == 200, r.body)
    rid = r.json()["request_id"]
    done = wait_until(lambda: get("/api/assets/" + rid, key=key).json().get("status") == "completed", 30, 0.2)
    expect(done, "image %s did not complete" % rid)
    return rid, sql("SELECT s3_key FROM generated_images WHERE request_id = '%s'" % rid)


def product(user, s3_key, old=False):
    pid = str(uuid.uuid4())
    sql("INSERT INTO products (product_id, user_id, correlation_id, name, description, category, product_info,"
        " s3_bucket, s3_key, target_markets, campaign_objectives, campaign, created_at) VALUES"
        " ('%s', '%s', gen_random_uuid(), 'Lamp', 'A lamp', 'Home', '{\"name\": \"Lamp\"}', '%s', '%s',"
        " '{\"markets\": [\"Japan\"]}', '{}', '{\"campaign_data\": {\"headline\": \"Light up %s\"}}', now() - interval '%s')"
        % (pid, user, UPLOADS, s3_key, pid, "2 days" if old else "0 s"))
    return pid


def campaign_job(user, s3_key, status="completed", old=True):
    pid = str(uuid.uuid4())
    sql("INSERT INTO campaign_jobs (product_id, user_id, correlation_id, name, brief, s3_bucket, s3_key, status,"
        " created_at, completed_at) VALUES ('%s', '%s', gen_random_uuid(), 'Lamp', '{}', '%s', '%s', '%s',"
        " now() - interval '%s', CASE WHEN '%s' IN ('completed', 'failed') THEN now() - interval '%s' END)"
        % (pid, user, UPLOADS, s3_key, status, "2 days" if old else "0 s", status, "2 days" if old else "0 s"))
    return pid


def age(table, where, *columns):
    sets = ", ".join("%s = %s - interval '2 days'" % (c, c) for c in columns)
    sql("UPDATE %s SET %s WHERE %s" % (table, sets, where))


def counts(out):
    """The 'kind count' lines of adsmithctl prune and user delete."""
    c = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            c[parts[0]] = int(parts[1])
    return c


def table_counts():
    return sql("SELECT (SELECT count(*) FROM uploads), (SELECT count(*) FROM products),"
               " (SELECT count(*) FROM generated_images), (SELECT count(*) FROM campaign_jobs),"
               " (SELECT count(*) FROM webhook_deliveries), (SELECT count(*) FROM object_deletions),"
               " (SELECT count(*) FROM api_keys)")


@test
def test_prune_settings_are_checked():
    code, out, err = ctl("prune", env_extra={"ADSMITH_RETAIN_IMAGES": "30"})
    expect(code == 1 and "retain_images" in err and "duration" in err, (code, err))
    code, out, err = ctl("config", "check", env_extra={"ADSMITH_RETAIN_PRODUCTS": "12h"})
    expect(code == 0 and "retain_products = 12h" in out, out)
    code, out, err = ctl("prune", "--now")
    expect(code == 2 and "prune [--dry-run]" in err, (code, err))


@test
def test_prune_deletes_old_rows_and_objects_keeps_the_rest():
    user, key = new_user("lc_prune")
    up_old, k_old, _ = upload(key)            # unused, two days old: goes
    up_used, k_used, _ = upload(key)          # old, but a product uses it: stays
    up_new, k_new, _ = upload(key)            # unused but recent: stays
    age("uploads", "upload_id IN ('%s', '%s')" % (up_old, up_used), "created_at", "expires_at")
    prod_new = product(user, k_used)
    prod_old_key = "uploads/%s/old-product.png" % user
    put_objects(UPLOADS, [prod_old_key])
    prod_old = product(user, prod_old_key, old=True)  # an old product: goes (its photo is no upload here)
    img_old, ik_old = image(key)
    img_new, ik_new = image(key, "a red bicycle leaning on a brick wall")
    age("generated_images", "request_id = '%s'" % img_old, "created_at", "generated_at")
    failed = "lc-failed-" + uuid.uuid4().hex[:8]
    pending = "lc-pending-" + uuid.uuid4().hex[:8]
    sql("INSERT INTO generated_images (request_id, user_id, prompt, style, aspect_ratio, body_hash, status, error,"
        " created_at, dead_lettered_at) VALUES ('%s', '%s', 'an old failed prompt', 'vivid', '1:1', 'x', 'failed',"
        " 'boom', now() - interval '2 days', now() - interval '2 days')" % (failed, user))
    # Old but pending (not due yet): a queued job is never pruned.
    sql("INSERT INTO generated_images (request_id, user_id, prompt, style, aspect_ratio, body_hash, created_at,"
        " run_after) VALUES ('%s', '%s', 'an old pending prompt', 'vivid', '1:1', 'x', now() - interval '2 days',"
        " now() + interval '1 day')" % (pending, user))
    cj_old = campaign_job(user, k_used)
    cj_running = campaign_job(user, k_used, status="running")
    sql("INSERT INTO webhook_deliveries (job_kind, job_id, user_id, url, job_status, state, created_at, attempted_at)"
        " VALUES ('image', '%s', '%s', 'http://127.0.0.1:9/', 'completed', 'delivered', now() - interval '2 days',"
        " now() - interval '2 days')" % (img_old, user))
    expect(stored(ASSETS, ik_old) and stored(UPLOADS, k_old), "objects missing before the prune")

    before = table_counts()
    code, out, err = ctl("prune", "--dry-run", env_extra=ONE_DAY)
    expect(code == 0, err)
    c = counts(out)
    expect(all(c.get(k, 0) >= 1 for k in KINDS), out)
    expect('"%s"' % ik_old in out or c["images"] > 5, "the old image's key is not in the sample: " + out)
    expect(table_counts() == before, "the dry run changed rows")
    expect(stored(ASSETS, ik_old) and stored(UPLOADS, k_old), "the dry run deleted objects")

    code, out, err = ctl("prune", env_extra=ONE_DAY)
    expect(code == 0, err + out)
    c = counts(out)
    expect(all(c.get(k, 0) >= 1 for k in KINDS) and c.get("objects", 0) >= 2, out)
    gone = sql("SELECT (SELECT count(*) FROM uploads WHERE upload_id = '%s'),"
               " (SELECT count(*) FROM products WHERE product_id = '%s'),"
               " (SELECT count(*) FROM generated_images WHERE request_id IN ('%s', '%s')),"
               " (SELECT count(*) FROM campaign_jobs WHERE product_id = '%s'),"
               " (SELECT count(*) FROM webhook_deliveries WHERE user_id = '%s'),"
               " (SELECT count(*) FROM object_deletions)" % (up_old, prod_old, img_old, failed, cj_old, user))
    expect(gone == "0|0|0|0|0|0", "rows left: " + gone)
    expect(stored(ASSETS, ik_old) is None and stored(UPLOADS, k_old) is None, "objects left behind")
    kept = sql("SELECT (SELECT count(*) FROM uploads WHERE upload_id IN ('%s', '%s')),"
               " (SELECT count(*) FROM products WHERE product_id = '%s'),"
               " (SELECT count(*) FROM generated_images WHERE request_id IN ('%s', '%s')),"
               " (SELECT count(*) FROM campaign_jobs WHERE product_id = '%s')"
               % (up_used, up_new, prod_new, img_new, pending, cj_running))
    expect(kept == "2|1|2|1", "kept rows: " + kept)
    expect(stored(UPLOADS, k_used) and stored(UPLOADS, k_new) and stored(ASSETS, ik_new), "kept objects deleted")
    r = get("/api/assets/" + img_new, key=key)
    expect(r.status == 200 and r.json()["status"] == "completed", r.body)

    # Idempotent: nothing is left to delete.
    code, out, err = ctl("prune", env_extra=ONE_DAY)
    expect(code == 0 and all(v == 0 for v in counts(out).values()), out)
    # forever keeps a kind whatever its age.
    age("generated_images", "request_id = '%s'" % img_new, "created_at", "generated_at")
    code, out, err = ctl("prune", env_extra=dict(ONE_DAY, ADSMITH_RETAIN_IMAGES="forever"))
    expect(code == 0 and re.search(r"^images +kept \(retain_images = forever\)$", out, re.M), out)
    expect(sql("SELECT count(*) FROM generated_images WHERE request_id = '%s'" % img_new) == "1", "forever image pruned")


@test
def test_prune_interrupted_then_rerun_finishes():
    user = "lc_bulk_" + uuid.uuid4().hex[:8]
    n = 3000 if STORAGE == "local" else 1500
    keys = ["uploads/%s/obj_%05d.bin" % (user, i) for i in range(n)]
    put_objects(UPLOADS, keys)
    sql("INSERT INTO uploads (upload_id, user_id, bucket, s3_key, file_name, content_type, created_at, expires_at,"
        " uploaded_at) SELECT gen_random_uuid(), '%s', '%s', format('uploads/%s/obj_%%s.bin', lpad(g::text, 5, '0')),"
        " 'x.bin', 'application/octet-stream', now() - interval '3 days', now() - interval '3 days',"
        " now() - interval '3 days' FROM generate_series(0, %d) g" % (user, UPLOADS, user, n - 1))
    if EMULATED_S3:
        request("GET", None, url=S3_URL + "/_emu/delay?ms=3")
    env = dict(os.environ, ADSMITH_CONFIG=os.path.join(VAR, "adsmith.conf"), **ONE_DAY)
    p = subprocess.Popen(RUNAS + [os.path.join(PREFIX, "bin", "adsmithctl"), "prune"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Killed once some objects are queued or deleted, mid-run.
        wait_until(lambda: p.poll() is not None or
                   int(sql("SELECT count(*) FROM uploads WHERE user_id = '%s'" % user)) < n, 20, 0.02)
        time.sleep(0.05)
        interrupted = p.poll() is None
        p.send_signal(signal.SIGKILL)
        p.wait(10)
    finally:
        if EMULATED_S3:
            request("GET", None, url=S3_URL + "/_emu/delay?ms=0")
    rows_left = int(sql("SELECT count(*) FROM uploads WHERE user_id = '%s'" % user))
    queued = int(sql("SELECT count(*) FROM object_deletions WHERE s3_key LIKE 'uploads/%s/%%'" % user))
    if EMULATED_S3:
        expect(interrupted and rows_left + queued > 0, "the prune was not interrupted (%d rows, %d queued)"
               % (rows_left, queued))
    # No row a user can read points at a deleted object.
    left_keys = sql("SELECT s3_key FROM uploads WHERE user_id = '%s'" % user).split()
    for k in left_keys[:200]:
        expect(stored(UPLOADS, k) is not None, "row %s points at a deleted object" % k)
    code, out, err = ctl("prune", env_extra=ONE_DAY)
    expect(code == 0, err)
    expect(sql("SELECT count(*) FROM uploads WHERE user_id = '%s'" % user) == "0", "rows left after the rerun")
    expect(sql("SELECT count(*) FROM object_deletions") == "0", "objects still queued after the rerun")
    missing = [k for k in keys[::50] + keys[-3:] if stored(UPLOADS, k) is not None]
    expect(not missing, "objects left: %r" % missing[:3])
    print("     (%d rows, killed %s: %d rows and %d objects left for the rerun)"
          % (n, "mid-run" if interrupted else "after it ended", rows_left, queued))


@test
def test_user_export():
    user, key = new_user("lc_export")
    other, okey = new_user("lc_other")
    up, k_up, sha = upload(key)
    rid, ik = image(key)
    pid = product(user, k_up)
    cj = campaign_job(user, k_up, old=False)
    upload(okey)
    code, out, err = ctl("user", "export", user)
    expect(code == 0, err)
    doc = json.loads(out)
    expect(doc["user_id"] == user, doc)
    expect(len(doc["api_keys"]) == 1 and doc["api_keys"][0]["key_prefix"] and doc["api_keys"][0]["revoked_at"] is None,
           doc["api_keys"])
    expect(key not in out and "key_hash" not in out, "a key or its hash is in the export")
    expect(hashlib.sha256(key.encode()).hexdigest() not in out, "a key hash is in the export")
    expect([u["upload_id"] for u in doc["uploads"]] == [up] and doc["uploads"][0]["s3_key"] == k_up, doc["uploads"])
    expect([p["product_id"] for p in doc["products"]] == [pid], doc["products"])
    expect(doc["products"][0]["campaign"]["campaign_data"]["headline"] == "Light up " + pid, doc["products"][0])
    expect([j["product_id"] for j in doc["campaign_jobs"]] == [cj], doc["campaign_jobs"])
    expect([i["request_id"] for i in doc["images"]] == [rid], doc["images"])
    expect(doc["images"][0]["s3_key"] == ik and doc["images"][0]["bucket"] == ASSETS, doc["images"][0])
    expect(other not in out, "another user's data is in the export")
    expect("url" not in doc["uploads"][0], "links without --links")

    code, out, err = ctl("user", "export", user, "--links", "600")
    expect(code == 0, err)
    doc = json.loads(out)
    expect(doc["links_expire_in"] == 600, doc)
    img_url = doc["images"][0]["url"]
    r = request("GET", None, url=img_url)
    expect(r.status == 200 and r.body[:8] == b"\x89PNG\r\n\x1a\n", "image link: %d" % r.status)
    if STORAGE == "s3":
        url = doc["uploads"][0]["url"]
        expect("X-Amz-Signature=" in url and "X-Amz-Expires=600" in url, url)
        r = request("GET", None, url=url)
        expect(r.status == 200 and hashlib.sha256(r.body).hexdigest() == sha, "upload link: %d" % r.status)
    else:
        # The local store presigns uploads only: no link for an upload's object.
        expect(doc["uploads"][0]["url"] is None, doc["uploads"][0])
    code, out, err = ctl("user", "export", "no such user")
    expect(code == 2 and "1-128" in err, (code, err))


@test
def test_user_delete():
    user, key = new_user("lc_delete")
    other, okey = new_user("lc_keep")
    up, k_up, _ = upload(key)
    rid, ik = image(key)
    product(user, k_up)
    campaign_job(user, k_up)
    sql("INSERT INTO webhook_deliveries (job_kind, job_id, user_id, url, job_status, state) VALUES"
        " ('image', '%s', '%s', 'http://127.0.0.1:9/', 'completed', 'delivered')" % (rid, user))
    oup, ok_up, _ = upload(okey)
    orid, oik = image(okey, "a quiet harbour with fishing boats")
    oprod = product(other, ok_up)

    before = table_counts()
    code, out, err = ctl("user", "delete", user)
    expect(code == 2 and "--yes" in err, (code, err))
    expect(table_counts() == before, "a refused delete changed rows")

    code, out, err = ctl("user", "delete", user, "--yes")
    expect(code == 0, err + out)
    c = counts(out)
    expect(c == {"api_keys": 1, "webhook_deliveries": 1, "campaign_jobs": 1, "images": 1, "products": 1,
                 "uploads": 1, "objects": c.get("objects", 0)} and c["objects"] >= 2, out)
    left = sql("SELECT (SELECT count(*) FROM api_keys WHERE user_id = '{0}')"
               " + (SELECT count(*) FROM uploads WHERE user_id = '{0}')"
               " + (SELECT count(*) FROM products WHERE user_id = '{0}')"
               " + (SELECT count(*) FROM generated_images WHERE user_id = '{0}')"
               " + (SELECT count(*) FROM campaign_jobs WHERE user_id = '{0}')"
               " + (SELECT count(*) FROM webhook_deliveries WHERE user_id = '{0}')".format(user))
    expect(left == "0", "rows of the user left: " + left)
    expect(stored(UPLOADS, k_up) is None and stored(ASSETS, ik) is None, "objects of the user left")
    expect(wait_until(lambda: get("/api/assets", key=key).status == 401, 10, 0.5), "the deleted key still works")
    # The other user keeps everything.
    r = get("/api/assets/" + orid, key=okey)
    expect(r.status == 200 and r.json()["status"] == "completed", r.body)
    expect(stored(UPLOADS, ok_up) and stored(ASSETS, oik), "another user's objects were deleted")
    expect(sql("SELECT count(*) FROM products WHERE product_id = '%s'" % oprod) == "1", "another user's product")
    expect(sql("SELECT count(*) FROM uploads WHERE upload_id = '%s'" % oup) == "1", "another user's upload")

    code, out, err = ctl("user", "delete", user, "--yes")
    expect(code == 0 and all(v == 0 for v in counts(out).values()), out)


@test
def test_user_delete_keeps_a_running_job_and_says_so():
    user, key = new_user("lc_running")
    up, k_up, _ = upload(key)
    held = campaign_job(user, k_up, status="running", old=False)
    sql("UPDATE campaign_jobs SET locked_by = 'elsewhere:1', locked_until = now() + interval '5 minutes'"
        " WHERE product_id = '%s'" % held)
    code, out, err = ctl("user", "delete", user, "--yes")
    expect(code == 1 and "kept 1 campaign_jobs running now" in err, (code, out, err))
    expect(counts(out)["uploads"] == 1 and counts(out)["campaign_jobs"] == 0, out)
    expect(sql("SELECT status FROM campaign_jobs WHERE product_id = '%s'" % held) == "running", "the held job went")
    # Once it has finished, a second run takes it.
    sql("UPDATE campaign_jobs SET status = 'failed', locked_until = NULL WHERE product_id = '%s'" % held)
    code, out, err = ctl("user", "delete", user, "--yes")
    expect(code == 0 and counts(out)["campaign_jobs"] == 1, (code, out, err))


# adsmith_enqueue_image from psql -------------------------------------------

def psql(script):
    """Runs a script through psql (stdin), stopping at the first error, with
    SQLSTATEs in messages. Returns (exit code, stdout, stderr)."""
    p = subprocess.run(RUNAS + ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose",
                                "-h", os.path.join(VAR, "run"), "-U", "adsmith", "-d", "adsmith"],
                       input=script, capture_output=True, text=True)
    return p.returncode, p.stdout.strip(), p.stderr


def lit(s):
    return "NULL" if s is None else "'" + s.replace("'", "''") + "'"


def enqueue_sql(user, prompt, style, ratio, rid=None):
    return "SELECT adsmith_enqueue_image(%s, %s, %s, %s, %s);" % (lit(user), lit(prompt), lit(style), lit(ratio),
                                                                  lit(rid))


@test
def test_sql_enqueue_rolled_back_leaves_no_job():
    rid = "sqlrb-" + uuid.uuid4().hex[:8]
    code, out, err = psql("BEGIN;\n" + enqueue_sql("alice", "a teapot on a wooden table", "vivid", "16:9", rid)
                          + "\nROLLBACK;\n")
    expect(code == 0 and out == rid, (code, out, err))
    expect(sql("SELECT count(*) FROM generated_images WHERE request_id = '%s'" % rid) == "0", "a job was left")
    expect_error(get("/api/assets/" + rid, key=ALICE), 404, "not_found")


@test
def test_sql_enqueue_committed_is_generated():
    rid = "sqlok-" + uuid.uuid4().hex[:8]
    t0 = time.time()
    code, out, err = psql(enqueue_sql("alice", "a teapot on a wooden table", "anime", "9:16", rid))
    expect(code == 0 and out == rid, (code, out, err))
    done = wait_until(lambda: get("/api/assets/" + rid, key=ALICE).json().get("status") == "completed", 20, 0.1)
    expect(done, "the generator did not complete the job queued from SQL")
    j = get("/api/assets/" + rid, key=ALICE).json()
    expect(j["style"] == "anime" and j["aspect_ratio"] == "9:16" and j["s3_key"], j)
    expect(stored(ASSETS, j["s3_key"]) is not None, "no image stored")
    print("     (completed %.2fs after the commit)" % (time.time() - t0))
    # A generated request_id when none is given.
    code, out, err = psql(enqueue_sql("alice", "a teapot on a wooden table", None, None))
    expect(code == 0 and len(out) == 36 and out.count("-") == 4, (out, err))
    expect(sql("SELECT style || ' ' || aspect_ratio FROM generated_images WHERE request_id = '%s'" % out)
           == "natural 1:1", "defaults")


@test
def test_sql_then_api_same_job_or_conflict():
    rid = "sqlapi-" + uuid.uuid4().hex[:8]
    body = {"prompt": "a lantern in the snow at night", "style": "photographic", "aspect_ratio": "4:3",
            "request_id": rid}
    code, out, err = psql(enqueue_sql("alice", body["prompt"], body["style"], body["aspect_ratio"], rid))
    expect(code == 0 and out == rid, (out, err))
    h_sql = sql("SELECT body_hash FROM generated_images WHERE request_id = '%s'" % rid)
    r = post("/api/assets", body, key=ALICE)
    expect(r.status == 200 and r.json()["request_id"] == rid and r.json()["message"] == "Image generation request queued",
           r.body)
    expect(sql("SELECT count(*) || ' ' || body_hash FROM generated_images WHERE request_id = '%s' GROUP BY body_hash"
               % rid) == "1 " + h_sql, "a second row or another hash")
    j = expect_error(post("/api/assets", dict(body, prompt="a lantern in the rain at night"), key=ALICE), 409,
                     "conflict")
    expect(j.get("request_id") == rid, j)
    # The same body under another user is a conflict too.
    code, out, err = psql(enqueue_sql("bob", body["prompt"], body["style"], body["aspect_ratio"], rid))
    expect(code != 0 and "23505" in err and "already used" in err, err)


@test
def test_api_then_sql_same_job_or_conflict():
    rid = "apisql-" + uuid.uuid4().hex[:8]
    body = {"prompt": "a paper boat on a puddle, macro", "style": "natural", "aspect_ratio": "3:4", "request_id": rid}
    r = post("/api/assets", body, key=ALICE)
    expect(r.status == 200, r.body)
    code, out, err = psql(enqueue_sql("alice", body["prompt"], body["style"], body["aspect_ratio"], rid))
    expect(code == 0 and out == rid, (code, out, err))
    expect(sql("SELECT count(*) FROM generated_images WHERE request_id = '%s'" % rid) == "1", "a second row")
    code, out, err = psql(enqueue_sql("alice", body["prompt"], "vivid", body["aspect_ratio"], rid))
    expect(code != 0 and "23505" in err and "request_id is already used by another request" in err, err)
    # The API's hash of a body without callback_url is the one the SQL computes.
    h = hashlib.sha256("\x1f".join([body["prompt"], body["style"], body["aspect_ratio"]]).encode()).hexdigest()
    expect(sql("SELECT body_hash FROM generated_images WHERE request_id = '%s'" % rid) == h, "hash differs")


@test
def test_sql_enqueue_bad_input():
    cases = [
        (("alice", "short", "vivid", "1:1", None), "prompt must be between 10 and 1000 characters"),
        (("alice", "", "vivid", "1:1", None), "Prompt is required"),
        (("alice", None, "vivid", "1:1", None), "Prompt is required"),
        (("alice", "x" * 1001, "vivid", "1:1", None), "prompt must be between 10 and 1000 characters"),
        (("alice", "a teapot on a wooden table", "sepia", "1:1", None), "style must be one of"),
        (("alice", "a teapot on a wooden table", "vivid", "2:1", None), "aspect_ratio must be one of"),
        (("alice", "a teapot on a wooden table", "vivid", "1:1", "bad id!"), "request_id must be 1-64"),
        (("alice", "a teapot on a wooden table", "vivid", "1:1", "x" * 65), "request_id must be 1-64"),
        (("al ice", "a teapot on a wooden table", "vivid", "1:1", None), "user_id must be 1-128"),
        ((None, "a teapot on a wooden table", "vivid", "1:1", None), "user_id must be 1-128"),
    ]
    before = sql("SELECT count(*) FROM generated_images")
    for args, msg in cases:
        code, out, err = psql(enqueue_sql(*args))
        expect(code != 0 and "22023" in err and msg in err, "%r: %s" % (args[1:], err))
    # 1000 characters (not bytes) is the limit, as in the API.
    code, out, err = psql("BEGIN;\n" + enqueue_sql("alice", "é" * 1000, "vivid", "1:1") + "\nROLLBACK;\n")
    expect(code == 0, err)
    expect(sql("SELECT count(*) FROM generated_images") == before, "a refused call queued a job")


def stack_generator_alive():
    try:
        os.kill(int(open(os.path.join(VAR, "run", "generator.pid")).read()), 0)
        return True
    except (OSError, ValueError):
        return False


if __name__ == "__main__":
    # An earlier suite of the run may have stopped the stack's generator.
    if not stack_generator_alive():
        start_generator()
    try:
        passed, failed = run(sys.argv[1:] or None)
    finally:
        stop_all()
    sys.exit(1 if failed else 0)
