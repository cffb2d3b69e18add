#!/usr/bin/python3
"""A YouTube Data API v3 emulator for adsmith's tests: GET
/youtube/v3/search and /youtube/v3/videos with the real reply shapes. The
key must be --key (else 400 keyInvalid, as Google answers); search must ask
part=snippet, type=video, maxResults=10, order=relevance and a q; videos
must ask part=statistics. Results are derived from q, so the same query
gets the same videos.

Test control (under /_emu/):
  POST /_emu/behave  JSON, any of: delay_ms; fail (the next N calls answer
                     fail_status, default 503); quota (every call answers 403
                     quotaExceeded); malformed (the next N replies are not
                     JSON); hidden_likes (videos carry no likeCount)
  POST /_emu/reset
  GET  /_emu/stats   {"search": N, "videos": N, "rejected": N, "last_ids": [...],
                      "first_start", "last_end": wall-clock seconds of calls}

Usage: youtubeemu.py --port P --key KEY"""

import argparse
import hashlib
import json
import time
import urllib.parse

import emubase

ARGS = None


CTL = emubase.Control({"delay_ms": 0, "fail": 0, "fail_status": 503, "quota": False, "malformed": 0,
                       "hidden_likes": False, "search": 0, "videos": 0, "rejected": 0, "last_ids": [],
                       "first_start": None, "last_end": None})
STATE, LOCK = CTL.state, CTL.lock


def google_error(status, reason, message):
    return status, json.dumps({"error": {"code": status, "message": message,
                                         "errors": [{"message": message, "domain": "youtube", "reason": reason}]}})


def video_ids(q):
    h = hashlib.sha256(q.encode()).hexdigest()
    return ["v%s-%d" % (h[i * 4:i * 4 + 9], i) for i in range(10)]


def search(q):
    p = urllib.parse.parse_qs(q)
    one = lambda k: p.get(k, [""])[0]
    if (one("part"), one("type"), one("maxResults"), one("order")) != ("snippet", "video", "10", "relevance") or not one("q"):
        return google_error(400, "badRequest", "unexpected search parameters: %s" % sorted(p))
    items = []
    for i, vid in enumerate(video_ids(one("q"))):
        items.append({"kind": "youtube#searchResult", "id": {"kind": "youtube#video", "videoId": vid},
                      "snippet": {"title": "%s #%d" % (one("q").title(), i + 1), "channelTitle": "Channel %d" % (i % 3),
                                  "publishedAt": "2026-0%d-01T12:00:00Z" % (i % 9 + 1),
                                  "thumbnails": {"default": {"url": "https://i.ytimg.com/vi/%s/default.jpg" % vid},
                                                 "high": {"url": "https://i.ytimg.com/vi/%s/hqdefault.jpg" % vid}}}})
    return 200, json.dumps({"kind": "youtube#searchListResponse", "items": items})


def videos(q):
    p = urllib.parse.parse_qs(q)
    if p.get("part", [""])[0] != "statistics" or not p.get("id", [""])[0]:
        return google_error(400, "badRequest", "unexpected videos parameters")
    ids = p["id"][0].split(",")
    with LOCK:
        STATE["last_ids"] = ids
        hidden = STATE["hidden_likes"]
    items = []
    for n, vid in enumerate(ids):
        stats = {"viewCount": str(1000 * (n + 1) ** 3), "commentCount": str(7 * (n + 1))}
        if not hidden:
            stats["likeCount"] = str(40 * (n + 1))
        items.append({"kind": "youtube#video", "id": vid, "statistics": stats})
    return 200, json.dumps({"kind": "youtube#videoListResponse", "items": items})


class Handler(emubase.Handler):
    control = CTL

    def _send(self, status, body):
        self.send(status, body, content_type="application/json; charset=UTF-8")

    def do_POST(self):
        if not self.controlled(self.body()):
            self._send(*google_error(404, "notFound", "not found"))

    def do_GET(self):
        if self.controlled():
            return
        parts = urllib.parse.urlsplit(self.path)
        started = time.time()
        try:
            self._api(parts, started)
        finally:
            with LOCK:
                STATE["first_start"] = STATE["first_start"] or started
                STATE["last_end"] = time.time()

    def _api(self, parts, started):
        key = urllib.parse.parse_qs(parts.query).get("key", [""])[0]
        if key != ARGS.key:
            with LOCK:
                STATE["rejected"] += 1
            return self._send(*google_error(400, "keyInvalid", "API key not valid. Please pass a valid API key."))
        with LOCK:
            delay, quota = STATE["delay_ms"], STATE["quota"]
            fail = STATE["fail"] > 0
            STATE["fail"] -= fail
            malformed = STATE["malformed"] > 0
            STATE["malformed"] -= malformed
            if parts.path in ("/youtube/v3/search", "/youtube/v3/videos"):
                STATE[parts.path.rsplit("/", 1)[1]] += 1
        if delay:
            time.sleep(delay / 1000.0)
        if quota:
            return self._send(*google_error(403, "quotaExceeded", "The request cannot be completed because you have exceeded your quota."))
        if fail:
            return self._send(*google_error(STATE["fail_status"], "backendError", "Backend Error"))
        if malformed:
            return self._send(200, "<html>not json</html>")
        if parts.path == "/youtube/v3/search":
            return self._send(*search(parts.query))
        if parts.path == "/youtube/v3/videos":
            return self._send(*videos(parts.query))
        return self._send(*google_error(404, "notFound", "not found"))


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--key", required=True)
    ARGS = p.parse_args()
    emubase.serve(ARGS.port, Handler)


if __name__ == "__main__":
    main()
