"""The benches' HTTP client: the stack's API as a client sees it (JSON
bodies, the bench's API key), and the emulators' control routes.

Environment: ADS_BENCH_URL, ADS_BENCH_KEY, ADS_BENCH_PHOTO."""

import json
import os
import urllib.error
import urllib.request

BASE, KEY = os.environ["ADS_BENCH_URL"], os.environ["ADS_BENCH_KEY"]


def answer(method, url, body=None, ctype="application/json", auth=True, timeout=90):
    """(status, parsed JSON body, Retry-After), error statuses included."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    req = urllib.request.Request(url, data=data, method=method)
    if auth:
        req.add_header("Authorization", "Bearer " + KEY)
    if data is not None:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"{}"), r.headers.get("Retry-After")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}"), e.headers.get("Retry-After")


def call(method, url, body=None, ctype="application/json", auth=True, timeout=90):
    """The parsed JSON body of a 2xx answer; anything else ends the bench."""
    status, j, _ = answer(method, url, body, ctype, auth, timeout)
    if not 200 <= status < 300:
        raise SystemExit("%s %s answered %d: %s" % (method, url, status, json.dumps(j)[:200]))
    return j


def behave(url, body):
    """Resets an emulator and sets how it answers."""
    call("POST", url + "/_emu/reset", {}, auth=False)
    call("POST", url + "/_emu/behave", body, auth=False)


def upload_photo():
    """Uploads ADS_BENCH_PHOTO as a client would; its upload_id."""
    up = call("POST", BASE + "/api/upload/presigned-url", {"file_name": "p.png", "file_type": "image/png"})
    with open(os.environ["ADS_BENCH_PHOTO"], "rb") as f:
        call("PUT", up["upload_url"], f.read(), "image/png", auth=False)
    return up["upload_id"]
