#!/usr/bin/python3
"""The quickstart demo, run as a client would: presigned upload of the
sample product photo, a campaign for it, and one image job polled to
completion. Usage: demo.py BASE_URL API_KEY PHOTO"""

import json
import re
import sys
import time
import urllib.error
import urllib.request


def call(method, url, key=None, body=None, ctype="application/json"):
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    req = urllib.request.Request(url, data=data, method=method)
    if key:
        req.add_header("Authorization", "Bearer " + key)
    if data is not None:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=70) as r:
            return r.status, parse_body(r.read())
    except urllib.error.HTTPError as e:
        return e.code, parse_body(e.read())


def parse_body(raw):
    """JSON from adsmith; an S3 store answers errors in XML (Code, Message)."""
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError:
        text = raw.decode("utf-8", "replace")
        code = re.search(r"<Code>([^<]*)</Code>", text)
        msg = re.search(r"<Message>([^<]*)</Message>", text)
        return {"code": code.group(1) if code else "unreadable_reply",
                "error": msg.group(1) if msg else text[:200]}


def wait_job(base, key, request_id, what):
    """Polls an image job (or a set of them) until it ends; exits unless completed."""
    deadline = time.time() + 60
    while True:
        st, j = call("GET", base + "/api/assets/" + request_id, key)
        if j.get("status") in ("completed", "failed") or time.time() > deadline:
            break
        time.sleep(0.3)
    if j.get("status") != "completed":
        sys.exit("%s did not complete: %s" % (what, j))
    return j


def main():
    base, key, photo = sys.argv[1], sys.argv[2], sys.argv[3]
    st, up = call("POST", base + "/api/upload/presigned-url", key,
                  {"file_name": "sample-product.png", "file_type": "image/png"})
    if st != 200:
        sys.exit("presign failed: %s %s" % (st, up))
    st, put = call("PUT", up["upload_url"], body=open(photo, "rb").read(), ctype="image/png")
    if st != 200:
        sys.exit("upload failed: %s %s: %s" % (st, put.get("code", ""), put.get("error", "")))
    st, status = call("GET", base + "/api/upload/status/" + up["upload_id"], key)
    print("upload   %s (%s bytes) -> %s" % (up["s3_key"], status.get("size"), status.get("status")))

    brief = {
        "upload_id": up["upload_id"],
        "product_info": {"name": "Aurora Desk Lamp", "category": "Home Office", "price": 89,
                         "description": "A dimmable LED desk lamp with warm-to-cool light, an aluminium arm "
                                        "and a wireless charging base.",
                         "key_features": ["Wireless charging base", "Five colour temperatures", "Aluminium arm"]},
        "target_markets": {"markets": ["North America", "Germany", "Japan"]},
        "campaign_objectives": {"target_audience": "remote workers and students", "campaign_duration": "4 weeks",
                                "primary_goal": "drive online sales", "budget": "$8,000",
                                "target_age_range": "22-40", "platform_preferences": ["Instagram", "TikTok"]},
    }
    t0 = time.time()
    st, res = call("POST", base + "/api/campaign/tier-1", key, brief)
    if st != 200:
        sys.exit("campaign failed: %s %s" % (st, res))
    c = res["campaign"]
    camp = c["campaigns"][0]
    print("campaign %s in %.0f ms, method %s" % (res["product_id"], (time.time() - t0) * 1000, res["generation_method"]))
    print("  plan:       %s, %s, %d posts/week on %s" % (camp["name"], camp["duration"], camp["posts_per_week"],
                                                         ", ".join(camp["platforms"])))
    print("  labels:     %s" % ", ".join(l["name"] for l in c["product"]["image"]["labels"]))
    for idea in c["content_ideas"][:3]:
        print("  idea:       [%s] %s" % (idea["platform"], idea["caption"]))
    for note in c["market_insights"]["cultural_considerations"][:3]:
        print("  culture:    %s" % note)
    print("  email:      %s" % c["generated_assets"]["email_templates"][0]["subject"])
    print("  estimates:  reach %s, views %s, conversion %s (%s)" % (
        c["analytics"]["estimatedReach"], c["analytics"]["estimatedViews"], c["analytics"]["conversionRate"],
        "estimates, not measurements"))
    for v in c.get("market_variants", [])[:3]:
        if v.get("content_ideas"):
            print("  %-11s %s" % (v["language"] + ":", v["content_ideas"][0]["caption"]))
    for w in res["warnings"]:
        print("  warning:    %s" % w)

    prompt = c["generated_assets"]["image_prompts"][0][:300]
    st, job = call("POST", base + "/api/assets", key, {"prompt": prompt, "style": "photographic", "aspect_ratio": "4:3"})
    if st != 200:
        sys.exit("image job failed: %s %s" % (st, job))
    j = wait_job(base, key, job["request_id"], "image job")
    print("image    %s" % j["s3_url"])

    # A product creative as the plan asks for it: the photo on a new
    # background at a platform's size, with the market's headline set on it.
    reqs = [r for r in c["generated_assets"].get("creative_requests", []) if r["market"] == "Japan"]
    if not reqs:
        return
    st, job = call("POST", base + "/api/assets", key, reqs[0]["body"])
    if st != 200:
        sys.exit("creative failed: %s %s" % (st, job))
    j = wait_job(base, key, job["request_id"], "creative")
    ov = reqs[0]["body"]["overlay"]
    for o in j["outputs"]:
        print("creative %s %dx%d \"%s\" / \"%s\": %s" % (o["size"], o["width"], o["height"], ov["headline"], ov["cta"],
                                                        o["url"]))


if __name__ == "__main__":
    main()
