#!/usr/bin/python3
"""Integration suite for product creatives: POST /api/assets with a source
photo, a task, colours, an overlay and platform sizes, through the queue to
stored PNGs. Run in two modes of scripts/test, with a generator this suite
starts: local (image_provider = builtin: the compositor) and cloud
(image_provider = bedrock, against the
bedrock-runtime emulator, which checks each Nova Canvas task's body field
by field and records what it was sent)."""

import hashlib
import json
import os
import struct
import sys
import uuid
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (VAR, Emulator, expect, expect_error, get, new_source, post, request, run, sql,  # noqa: E402
                     start_generator, stop_all, test, test_if, wait_until)

ALICE = os.environ["ADS_KEY_ALICE"]
BOB = os.environ["ADS_KEY_BOB"]
EMU_URL = os.environ.get("ADS_BEDROCK_URL", "")
BEDROCK = bool(EMU_URL)
BUILTIN = not BEDROCK
STORAGE = os.environ.get("ADS_STORAGE", "local")

NAMED = {"instagram_square": (1080, 1080), "instagram_portrait": (1080, 1350), "story": (1080, 1920),
         "facebook_link": (1200, 628), "youtube_thumbnail": (1280, 720), "pinterest": (1000, 1500),
         "linkedin": (1200, 627)}
# The studio shot's product: a colour no background or palette here uses.
PRODUCT = (0xE0, 0x15, 0x7A)


# ---------------------------------------------------------------- PNG helpers

def png_encode(w, h, pixel, alpha=False):
    """A PNG of w x h whose pixel(x, y) gives (r, g, b[, a])."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = bytearray()
    for y in range(h):
        rows.append(0)
        for x in range(w):
            rows.extend(pixel(x, y))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 6 if alpha else 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(rows), 6)) + \
        chunk(b"IEND", b"")


def png_decode(data):
    """(width, height, colour type, rows of RGBA tuples' bytes): 8-bit RGB
    or RGBA, not interlaced, as cairo writes them."""
    expect(data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            expect(depth == 8 and ctype in (2, 6) and interlace == 0, "unexpected PNG form %d/%d" % (depth, ctype))
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    bpp = 4 if ctype == 6 else 3
    raw, stride = zlib.decompress(idat), w * bpp
    out, prev = [], bytearray(stride)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.append(bytes(line))
        prev = line
    return w, h, ctype, out


def count_near(decoded, rgb, tol=40, step=3):
    """Pixels (every step-th each way, opaque) within tol of rgb."""
    w, h, ctype, rows = decoded
    bpp = 4 if ctype == 6 else 3
    n = 0
    for y in range(0, h, step):
        row = rows[y]
        for x in range(0, w, step):
            p = row[x * bpp:x * bpp + bpp]
            if (bpp == 3 or p[3] > 200) and all(abs(p[i] - rgb[i]) <= tol for i in range(3)):
                n += 1
    return n


def studio_shot(w=640, h=480):
    """A product photo: a light grey sweep, a soft floor shadow, and the
    product (a rounded bottle of PRODUCT colour) in the middle."""
    def pixel(x, y):
        dx, dy = (x - w / 2) / (w * 0.16), (y - h * 0.5) / (h * 0.3)
        if dx * dx + dy * dy <= 1:
            return PRODUCT
        g = 236 - int(20 * y / h)
        return (g, g, g + 2)
    return png_encode(w, h, pixel)


# ---------------------------------------------------------------- API helpers

def upload(key, data, ftype="image/png"):
    r = post("/api/upload/presigned-url", {"file_name": "shot.png", "file_type": ftype}, key=key)
    expect(r.status == 200, r.body)
    p = r.json()
    r = request("PUT", None, url=p["upload_url"], body=data, headers={"Content-Type": ftype}, timeout=60)
    expect(r.status == 200, "upload failed: %d %r" % (r.status, r.body[:200]))
    return p


_shot = {}


def shot_upload():
    """Alice's studio shot, uploaded once."""
    if "p" not in _shot:
        _shot["p"] = upload(ALICE, studio_shot())
    return _shot["p"]


def rid(prefix="cr"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def creative(body, key=ALICE):
    r = post("/api/assets", body, key=key, src=new_source())
    expect(r.status == 200, r.body)
    expect(r.json() == {"message": "Image generation request queued", "request_id": body["request_id"]}, r.body)
    return body["request_id"]


def wait_done(request_id, key=ALICE, timeout=60):
    def done():
        r = get("/api/assets/" + request_id, key=key, src=new_source())
        return r.json() if r.status == 200 and r.json()["status"] != "pending" else None
    j = wait_until(done, timeout, 0.2)
    expect(j, "%s still pending after %d s" % (request_id, timeout))
    return j


def stored(key):
    """The generated object as the store holds it (read back, not via URL)."""
    if STORAGE == "local":
        with open(os.path.join(VAR, "storage", "adsmith-assets", key), "rb") as f:
            return f.read()
    r = request("GET", None, url=os.environ["ADS_S3_URL"] + "/adsmith-assets/" + key)
    expect(r.status == 200)
    return r.body


def rows_of(set_id):
    return int(sql("SELECT count(*) FROM generated_images WHERE request_id = '%s' OR set_id = '%s'" % (set_id, set_id)))


def count_jobs():
    return int(sql("SELECT count(*) FROM generated_images"))


# ---------------------------------------------------------------- both providers

@test
def several_sizes_in_one_request_give_one_output_each():
    p = shot_upload()
    r_id = rid("set")
    creative({"prompt": "Pink bottle on a marble counter in morning light", "request_id": r_id,
              "task": "background_replace", "source": {"upload_id": p["upload_id"]},
              "sizes": ["story", "linkedin", "16:9"],
              "overlay": {"headline": "Fresh every morning", "cta": "Shop now"}})
    expect(rows_of(r_id) == 3, "one job row per size")
    j = wait_done(r_id)
    expect(j["status"] == "completed" and j["request_id"] == r_id and j["task"] == "background_replace", j)
    outs = {o["size"]: o for o in j["outputs"]}
    want = {"story": (1080, 1920), "linkedin": (1200, 627), "16:9": (1280, 720)}
    expect(set(outs) == set(want), j["outputs"])
    for size, (w, h) in want.items():
        o = outs[size]
        expect(o["status"] == "completed" and (o["width"], o["height"]) == (w, h), o)
        img = request("GET", None, url=o["url"])
        expect(img.status == 200 and struct.unpack(">II", img.body[16:24]) == (w, h), "%s: %r" % (size, o))
        expect(png_decode(stored(o["s3_key"]))[:2] == (w, h), size)
    expect("s3_url" not in j, "a set of several has no single URL")
    # Each job of the set answers on its own too, as a plain job.
    one = get("/api/assets/%s.16x9" % r_id, key=ALICE).json()
    expect(one["request_id"] == r_id + ".16x9" and one["s3_url"] == outs["16:9"]["url"] and "outputs" not in one, one)
    expect_error(get("/api/assets/%s.16x9" % r_id, key=BOB), 404, "not_found")


@test
def the_request_id_names_the_set_and_repeats_are_idempotent():
    p = shot_upload()
    r_id = rid("idem")
    body = {"prompt": "Pink bottle on a beach towel at noon", "request_id": r_id, "task": "variation",
            "source": {"uploadId": p["upload_id"]}, "sizes": ["instagram_square", "pinterest"]}
    creative(body)
    before = count_jobs()
    creative(body)
    creative(dict(body, sizes=["instagram_square", "pinterest"]))
    expect(count_jobs() == before and rows_of(r_id) == 2, "a repeat queued more rows")
    for changed in ({"sizes": ["instagram_square"]}, {"task": "background_remove"}, {"colors": ["#112233"]},
                    {"prompt": "Another prompt for the same set id"}):
        expect_error(post("/api/assets", dict(body, **changed), key=ALICE), 409, "conflict")
    # Bob's request names Alice's photo: refused as a photo that does not
    # exist; his own request under Alice's set id: a conflict.
    expect_error(post("/api/assets", body, key=BOB), 404, "not_found")
    expect_error(post("/api/assets", {"prompt": body["prompt"], "request_id": r_id, "sizes": ["story"]}, key=BOB),
                 409, "conflict")
    plain = {"prompt": "Pink bottle on a beach towel at noon", "request_id": r_id}
    expect_error(post("/api/assets", plain, key=ALICE), 409, "conflict")
    expect(count_jobs() == before, "a conflict wrote rows")
    j = wait_done(r_id)
    expect([o["size"] for o in j["outputs"]] == ["instagram_square", "pinterest"] or
           sorted(o["size"] for o in j["outputs"]) == ["instagram_square", "pinterest"], j)
    expect(all(o["status"] == "completed" for o in j["outputs"]), j)
    # Another set id with the same body is a new set.
    creative(dict(body, request_id=r_id + "b"))
    expect(rows_of(r_id + "b") == 2)


@test
def someone_elses_upload_is_refused_like_a_missing_one():
    theirs = upload(BOB, studio_shot(320, 320))
    before = count_jobs()
    for source in ({"upload_id": theirs["upload_id"]}, {"s3_key": theirs["s3_key"]},
                   {"upload_id": str(uuid.uuid4())}, {"s3_key": "uploads/alice/nothing_here.png"}):
        j = expect_error(post("/api/assets", {"prompt": "Someone else's bottle in a new scene", "request_id": rid(),
                                              "task": "background_replace", "source": source}, key=ALICE),
                         404, "not_found")
        expect("source" in j["error"].lower(), j)
    # A slot handed out but never uploaded to is not a photo either.
    r = post("/api/upload/presigned-url", {"file_name": "x.png", "file_type": "image/png"}, key=ALICE)
    j = expect_error(post("/api/assets", {"prompt": "An upload that never happened", "task": "variation",
                                          "source": {"upload_id": r.json()["upload_id"]}}, key=ALICE),
                     404, "not_found")
    expect(count_jobs() == before, "a refused request wrote rows")


@test
def every_new_field_is_validated_and_nothing_is_written():
    p = shot_upload()
    good = {"prompt": "Pink bottle on a wooden shelf", "task": "background_replace",
            "source": {"upload_id": p["upload_id"]}}
    cases = [
        ({"task": "paint"}, "task"),
        ({"task": 7}, "task"),
        ({"task": "variation", "source": None}, "source"),
        ({"source": "uploads/alice/x.png"}, "source"),
        ({"source": {}}, "source"),
        ({"source": {"upload_id": p["upload_id"], "s3_key": p["s3_key"]}}, "source"),
        ({"source": {"upload_id": "not-a-uuid"}}, "source.upload_id"),
        ({"source": {"s3Key": "../../etc/passwd\u0001"}}, "source"),
        ({"colors": "#FF0000"}, "colors"),
        ({"colors": ["red"]}, "colors"),
        ({"colors": ["#GG0000"]}, "colors"),
        ({"colors": ["#FF00001"]}, "colors"),
        ({"colors": ["#FF0000"] * 11}, "colors"),
        ({"overlay": "Buy now"}, "overlay"),
        ({"overlay": {}}, "overlay"),
        ({"overlay": {"headline": "h" * 81}}, "overlay.headline"),
        ({"overlay": {"cta": "c" * 31}}, "overlay.cta"),
        ({"overlay": {"headline": "Hello", "position": "left"}}, "overlay.position"),
        ({"overlay": {"headline": "Hello", "language": "english"}}, "overlay.language"),
        ({"overlay": {"headline": "Hello", "language": "pt-"}}, "overlay.language"),
        ({"sizes": []}, "sizes"),
        ({"sizes": "story"}, "sizes"),
        ({"sizes": ["billboard"]}, "sizes"),
        ({"sizes": ["2:1"]}, "sizes"),
        ({"sizes": ["story", "story"]}, "sizes"),
        ({"sizes": ["story"] * 13}, "sizes"),
        ({"task": "color_guided"}, "colors"),
    ]
    before = count_jobs()
    for change, field in cases:
        body = dict(good, request_id=rid("bad"))
        for k, v in change.items():
            if v is None:
                body.pop(k, None)
            else:
                body[k] = v
        j = expect_error(post("/api/assets", body, key=ALICE, src=new_source()), 400, "invalid_request")
        expect(field in j["error"], "%r: message %r does not name %s" % (change, j["error"], field))
    expect(count_jobs() == before, "a rejected request wrote rows")


@test
def a_plain_request_answers_and_hashes_exactly_as_before():
    r_id = rid("plain")
    body = {"prompt": "A plain request with no creatives fields", "style": "vivid", "aspect_ratio": "4:3",
            "request_id": r_id}
    creative(body)
    want = hashlib.sha256("\x1f".join([body["prompt"], "vivid", "4:3"]).encode()).hexdigest()
    expect(sql("SELECT body_hash || ' ' || task || ' ' || coalesce(set_id, '-') || ' ' || coalesce(size_name, '-')"
               " FROM generated_images WHERE request_id = '%s'" % r_id) == want + " text_image - -")
    j = wait_done(r_id)
    expect(j["status"] == "completed" and "outputs" not in j and "task" not in j, j)
    expect(set(j) == {"request_id", "status", "user_id", "prompt", "style", "aspect_ratio", "created_at",
                      "attempts", "s3_key", "s3_url", "generated_at"}, sorted(j))


@test
def colours_default_to_the_stored_analysis_of_the_photo():
    p = upload(ALICE, studio_shot(400, 300))
    palette = '[{"name": "raspberry", "hex": "#e0157a", "share": 0.4}, {"name": "grey", "hex": "#E6E6E8", "share": 0.6}]'
    # The product row a campaign from this photo leaves (its vision stage's analysis).
    sql("INSERT INTO products (product_id, user_id, correlation_id, name, description, category, product_info,"
        " s3_bucket, s3_key, target_markets, campaign_objectives, image_analysis)"
        " VALUES ('%s', 'alice', '%s', 'Pink bottle', 'A pink bottle of something nice to drink', 'Drinks', '{}',"
        " 'adsmith-uploads', '%s', '{}', '{}', '{\"provider\": \"builtin\", \"colors\": %s}')"
        % (uuid.uuid4(), uuid.uuid4(), p["s3_key"], palette))
    r_id = creative({"prompt": "Pink bottle in a palette of its own", "request_id": rid("pal"), "task": "color_guided",
                     "source": {"s3_key": p["s3_key"]}})
    expect(sql("SELECT colors::text FROM generated_images WHERE request_id = '%s'" % r_id) == '["#E0157A", "#E6E6E8"]')
    r2 = creative({"prompt": "Pink bottle in a palette of its own", "request_id": rid("pal"), "task": "color_guided",
                   "source": {"s3_key": p["s3_key"]}, "colors": ["#00ff00"]})
    expect(sql("SELECT colors::text FROM generated_images WHERE request_id = '%s'" % r2) == '["#00FF00"]')
    expect(wait_done(r_id)["status"] == "completed")


# ---------------------------------------------------------------- built-in provider

@test_if(BUILTIN)
def builtin_creatives_at_every_named_size_keep_the_product():
    p = shot_upload()
    r_id = rid("named")
    creative({"prompt": "Pink bottle on a sunlit kitchen table", "request_id": r_id, "task": "background_replace",
              "source": {"upload_id": p["upload_id"]}, "sizes": list(NAMED),
              "overlay": {"headline": "Summer in a bottle", "position": "top"}})
    j = wait_done(r_id, timeout=120)
    expect(j["status"] == "completed", j)
    expect(sorted(o["size"] for o in j["outputs"]) == sorted(NAMED), j["outputs"])
    for o in j["outputs"]:
        w, h = NAMED[o["size"]]
        expect((o["width"], o["height"]) == (w, h), o)
        img = png_decode(stored(o["s3_key"]))
        expect(img[:2] == (w, h), "%s is %dx%d, not %dx%d" % (o["size"], img[0], img[1], w, h))
        found = count_near(img, PRODUCT)
        expect(found >= 50, "%s: the product colour is not in the output (%d samples)" % (o["size"], found))


@test_if(BUILTIN)
def a_campaigns_creative_requests_run_as_they_are():
    """generated_assets.creative_requests are bodies a caller sends to
    /api/assets unchanged: each is accepted and ends as a PNG of its size."""
    p = shot_upload()
    brief = {"upload_id": p["upload_id"],
             "product_info": {"name": "Pink Bottle", "category": "Beauty",
                              "description": "A refillable glass bottle for face mist."},
             "target_markets": {"markets": ["Japan", "Germany"]},
             "campaign_objectives": {"target_audience": "young professionals", "campaign_duration": "2 weeks",
                                     "primary_goal": "drive online sales", "budget": "$5,000"}}
    r = post("/api/campaign/tier-1", brief, key=ALICE, src=new_source(), timeout=120)
    expect(r.status == 200, r.body[:300])
    reqs = r.json()["campaign"]["generated_assets"]["creative_requests"]
    expect({q["market"] for q in reqs} == {"Japan", "Germany"} and all(q["path"] == "/api/assets" for q in reqs), reqs)
    sent = []
    for q in reqs:
        body = dict(q["body"], request_id=rid("plan"))
        sent.append((creative(body), body["sizes"][0], q["language"]))
    for request_id, size, language in sent:
        j = wait_done(request_id, timeout=120)
        o = j["outputs"][0] if "outputs" in j else j
        expect(j["status"] == "completed", "%s (%s, %s): %s" % (request_id, size, language, j))
        key = o.get("s3_key")
        expect(png_decode(stored(key))[:2] == NAMED[size], "%s: not %dx%d" % ((size,) + NAMED[size]))


@test_if(BUILTIN)
def builtin_text_image_and_background_removal():
    p = shot_upload()
    t = creative({"prompt": "A summer drinks poster with bold shapes", "request_id": rid("txt"),
                  "sizes": ["facebook_link"], "colors": ["#1E90FF", "#FFD700"], "overlay": {"cta": "Order today"}})
    cut = creative({"prompt": "Pink bottle cut out of its studio", "request_id": rid("cut"), "task": "background_remove",
                    "source": {"upload_id": p["upload_id"]}, "sizes": ["instagram_square"]})
    jt, jc = wait_done(t), wait_done(cut)
    expect(jt["status"] == "completed" and jt["outputs"][0]["width"] == 1200 and jt["outputs"][0]["height"] == 628, jt)
    img = png_decode(stored(jc["outputs"][0]["s3_key"]))
    expect(jc["status"] == "completed" and img[:2] == (1080, 1080), jc)
    expect(count_near(img, PRODUCT) >= 50, "the cut-out lost the product")


# ---------------------------------------------------------------- Nova Canvas (emulator)

EMU = Emulator(EMU_URL) if BEDROCK else None


def tasks_sent(kind):
    return [t for t in EMU.stats()["tasks"] if t["taskType"] == kind]


def check_input(img, limit_box=None):
    """An input image as Nova Canvas takes it."""
    expect(img["format"] == "png" and img["alpha"] is False, img)
    w, h = img["width"], img["height"]
    expect(320 <= w <= 4096 and 320 <= h <= 4096 and w % 16 == 0 and h % 16 == 0, img)
    expect(w * h <= 4194304 and max(w, h) <= 4 * min(w, h), img)
    if limit_box:
        expect(w <= limit_box and h <= limit_box, img)


@test_if(BEDROCK)
def each_task_sends_nova_canvas_the_body_it_requires():
    EMU.behave()
    p = shot_upload()
    base = {"prompt": "Pink bottle on a rooftop garden at sunset", "source": {"upload_id": p["upload_id"]},
            "overlay": {"headline": "Rooftop season", "cta": "Shop"}}
    ids = {task: creative(dict(base, request_id=rid(task[:6]), task=task, sizes=[size], colors=["#E0157A", "#2A7FD4"]))
           for task, size in (("background_replace", "facebook_link"), ("background_remove", "instagram_square"),
                              ("variation", "story"), ("color_guided", "pinterest"))}
    done = {task: wait_done(i) for task, i in ids.items()}
    for task, j in done.items():
        o = j["outputs"][0]
        expect(j["status"] == "completed" and o["status"] == "completed", j)
        img = png_decode(stored(o["s3_key"]))
        expect(img[:2] == (o["width"], o["height"]), "%s: %r" % (task, img[:2]))
    (op,) = tasks_sent("OUTPAINTING")[-1:]
    check_input(op["image"])
    # The photo on a canvas of the target's shape (facebook_link -> 16:9).
    expect((op["image"]["width"], op["image"]["height"]) == (1280, 720), op)
    expect(op["maskPrompt"] and op["outPaintingMode"] == "PRECISE" and op["text"] == base["prompt"], op)
    (br,) = tasks_sent("BACKGROUND_REMOVAL")[-1:]
    check_input(br["image"], 1024)
    # The model's cut-out keeps its transparency through to the stored PNG.
    cut = png_decode(stored(done["background_remove"]["outputs"][0]["s3_key"]))
    expect(cut[2] == 6 and cut[3][0][3] == 0, "the background removal lost its transparency")
    (va,) = tasks_sent("IMAGE_VARIATION")[-1:]
    expect(len(va["images"]) == 1 and 0.2 <= va["similarityStrength"] <= 1.0 and va["size"] == [720, 1280], va)
    check_input(va["images"][0], 1024)
    (cg,) = tasks_sent("COLOR_GUIDED_GENERATION")[-1:]
    expect(cg["colors"] == ["#E0157A", "#2A7FD4"] and cg["size"] == [864, 1152], cg)
    check_input(cg["referenceImage"], 1024)
    # The emulator paints colour-guided images in the first colour: it
    # reached the stored creative.
    pin = png_decode(stored(done["color_guided"]["outputs"][0]["s3_key"]))
    expect(pin[:2] == (1000, 1500) and count_near(pin, PRODUCT, 10) > 1000, "the palette did not reach the image")


@test_if(BEDROCK)
def odd_photos_are_fitted_to_the_input_limits():
    EMU.behave()
    for w, h in ((2400, 400), (150, 90), (500, 2600)):
        p = upload(ALICE, studio_shot(w, h))
        r_id = creative({"prompt": "Pink bottle, an odd photo size", "request_id": rid("odd"), "task": "variation",
                         "source": {"upload_id": p["upload_id"]}})
        j = wait_done(r_id)
        expect(j["status"] == "completed" and j["outputs"][0]["size"] == "1:1", j)
        check_input(tasks_sent("IMAGE_VARIATION")[-1]["images"][0], 1024)


@test_if(BEDROCK)
def the_emulator_refuses_bodies_nova_canvas_would_refuse():
    """Bodies this suite's generator never sends, signed as it would."""
    import base64
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials
    conf = open(os.path.join(VAR, "adsmith.conf")).read()
    val = {k.strip(): v.strip() for k, _, v in (ln.partition("=") for ln in conf.splitlines()) if v}
    creds = botocore.credentials.Credentials(val["aws_access_key_id"], val["aws_secret_access_key"])
    url = EMU_URL + "/model/amazon.nova-canvas-v1%3A0/invoke"

    def invoke(body):
        data = json.dumps(body).encode()
        req = botocore.awsrequest.AWSRequest(method="POST", url=url, data=data,
                                             headers={"Content-Type": "application/json"})
        botocore.auth.SigV4Auth(creds, "bedrock", "us-east-1").add_auth(req)
        return request("POST", None, url=url, body=data, headers=dict(req.headers.items()))
    rgba = base64.b64encode(png_encode(320, 320, lambda x, y: (1, 2, 3, 255), alpha=True)).decode()
    small = base64.b64encode(png_encode(200, 320, lambda x, y: (1, 2, 3))).decode()
    odd = base64.b64encode(png_encode(330, 320, lambda x, y: (1, 2, 3))).decode()
    ok = base64.b64encode(png_encode(320, 320, lambda x, y: (1, 2, 3))).decode()
    conf = {"numberOfImages": 1, "quality": "standard", "cfgScale": 6.5}
    for body, why in [
            ({"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": rgba}}, "alpha"),
            ({"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": small}}, "320-4096"),
            ({"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": odd}}, "multiples of 16"),
            ({"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": "not base64!"}}, "base64"),
            ({"taskType": "OUTPAINTING", "outPaintingParams": {"image": ok, "text": "scene"},
              "imageGenerationConfig": conf}, "maskPrompt"),
            ({"taskType": "COLOR_GUIDED_GENERATION", "colorGuidedGenerationParams": {"colors": ["red"], "text": "x"},
              "imageGenerationConfig": dict(conf, width=1024, height=1024)}, "#RRGGBB"),
            ({"taskType": "IMAGE_VARIATION", "imageVariationParams": {"images": [ok], "similarityStrength": 2},
              "imageGenerationConfig": dict(conf, width=1024, height=1024)}, "similarityStrength")]:
        r = invoke(body)
        expect(r.status == 400 and r.header("x-amzn-ErrorType").startswith("ValidationException"), r.body)
        expect(why in r.json()["message"], "%r does not say %s" % (r.json()["message"], why))
    r = invoke({"taskType": "BACKGROUND_REMOVAL", "backgroundRemovalParams": {"image": ok}})
    expect(r.status == 200 and len(r.json()["images"]) == 1, r.body[:200])


if __name__ == "__main__":
    try:
        # The stack's own generator may have been stopped by the suites
        # before (local mode); the cloud stack starts none.
        start_generator()
        passed, failed = run(sys.argv[1:] or None)
    finally:
        stop_all()
    sys.exit(1 if failed else 0)
