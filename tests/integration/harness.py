"""A small test harness for the integration suite: HTTP helpers that talk
to nginx as a client would (optionally from a chosen loopback source address,
so per-address rate limits stay independent), and a runner that prints one
line per test and a closing 'N passed, N failed'."""

import http.client
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import traceback
import urllib.parse
import urllib.request

BASE = os.environ["ADS_URL"]
VAR = os.environ["ADS_VAR"]
PREFIX = os.environ["ADS_PREFIX"]
RUNAS = shlex.split(os.environ.get("ADS_RUNAS", ""))
HOST, PORT = urllib.parse.urlsplit(BASE).hostname, urllib.parse.urlsplit(BASE).port

_tests = []
_src_counter = [10]


def test(fn):
    _tests.append(fn)
    return fn


def test_if(condition):
    """Registers the test only where it applies (e.g. one storage driver)."""
    def register(fn):
        if condition:
            _tests.append(fn)
        return fn
    return register


def new_source():
    """A fresh loopback source address: its own rate-limit bucket."""
    _src_counter[0] += 1
    n = _src_counter[0] % 60000
    return "127.%d.%d.%d" % (n // 62500 + 1, (n // 250) % 250 + 1, n % 250 + 1)


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def request(method, path, body=None, headers=None, key=None, src=None, timeout=30, url=None):
    """path may be a full URL (url=...) or a path on the API."""
    if url is not None:
        parts = urllib.parse.urlsplit(url)
        host, port = parts.hostname, parts.port
        target = parts.path + ("?" + parts.query if parts.query else "")
    else:
        host, port, target = HOST, PORT, path
    # Each request comes from its own loopback address unless a test picks
    # one: nginx's per-address rate limits then only bite where tested.
    conn = http.client.HTTPConnection(host, port, timeout=timeout,
                                      source_address=(src or new_source(), 0))
    hdrs = dict(headers or {})
    if key:
        hdrs["Authorization"] = "Bearer " + key
    data = body
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    elif isinstance(body, str):
        data = body.encode()
    try:
        conn.request(method, target, body=data, headers=hdrs)
        r = conn.getresponse()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


def get(path, **kw):
    return request("GET", path, **kw)


def post(path, body, **kw):
    return request("POST", path, body=body, **kw)


def ctl(*args, env_extra=None):
    """Runs adsmithctl against the stack; returns (code, stdout, stderr)."""
    env = dict(os.environ, ADSMITH_CONFIG=os.path.join(VAR, "adsmith.conf"), **(env_extra or {}))
    p = subprocess.run(RUNAS + [os.path.join(PREFIX, "bin", "adsmithctl")] + list(args),
                       capture_output=True, text=True, env=env)
    return p.returncode, p.stdout, p.stderr


def sql(query):
    """One psql query, returning the text of the result."""
    p = subprocess.run(RUNAS + ["psql", "-X", "-q", "-At", "-h", os.path.join(VAR, "run"),
                                "-U", "adsmith", "-d", "adsmith", "-c", query],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError("psql failed: " + p.stderr)
    return p.stdout.strip()


def config_value(name):
    with open(os.path.join(VAR, "adsmith.conf")) as f:
        for line in f:
            if "=" in line and line.split("=", 1)[0].strip() == name:
                return line.split("=", 1)[1].strip()
    return None


def api_workers(pool="general"):
    """(master pid, pids of one pool's workers): "general" or "campaign"
    (adsmith-api names its campaign workers "campaign-worker")."""
    master = int(open(os.path.join(VAR, "run", "api.pid")).read())
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    pids = []
    for pid in out:
        try:
            with open("/proc/%s/comm" % pid) as f:
                name = f.read().strip()
        except OSError:
            continue
        if (name == "campaign-worker") == (pool == "campaign"):
            pids.append(int(pid))
    return master, pids


def wait_until(fn, timeout=10.0, step=0.1):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()


def expect(cond, msg="expectation failed"):
    if not cond:
        raise AssertionError(msg)


def expect_error(r, status, code):
    expect(r.status == status, "status %d, wanted %d: %r" % (r.status, status, r.body[:300]))
    ctype = r.header("Content-Type") or ""
    expect(ctype.startswith("application/json"), "error is not JSON: %s" % ctype)
    j = r.json()
    expect(j.get("code") == code, "code %r, wanted %r" % (j.get("code"), code))
    expect(isinstance(j.get("error"), str) and j["error"], "no error message")
    return j


def run(only=None):
    passed = failed = 0
    for fn in _tests:
        if only and fn.__name__ not in only:
            continue
        t0 = time.time()
        try:
            fn()
            passed += 1
            print("ok   %-48s %6.2fs" % (fn.__name__, time.time() - t0), flush=True)
        except Exception:
            failed += 1
            print("FAIL %-48s %6.2fs" % (fn.__name__, time.time() - t0), flush=True)
            traceback.print_exc(limit=3, file=sys.stdout)
    print("integration: %d passed, %d failed" % (passed, failed))
    return passed, failed


class Emulator:
    """The /_emu/ control endpoints every emulator under tests/emulators has."""

    def __init__(self, url):
        self.url = url

    def call(self, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method="GET" if data is None else "POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def behave(self, **kw):
        """Back to answering normally, then the behaviour asked for."""
        self.call("/_emu/reset", {})
        if kw:
            self.call("/_emu/behave", kw)

    def stats(self):
        return self.call("/_emu/stats")


def lamp_brief(markets):
    """The Aurora Desk Lamp brief the provider suites send, for markets."""
    return {
        "product_info": {"name": "Aurora Desk Lamp", "category": "Home Office",
                         "description": "A dimmable LED desk lamp with a wireless charging base."},
        "target_markets": {"markets": list(markets)},
        "campaign_objectives": {"target_audience": "remote workers", "campaign_duration": "4 weeks",
                                "primary_goal": "drive online sales", "budget": "$5,000"},
    }


def campaign_from_photo(key, brief, photo, timeout=60):
    """Uploads the photo bytes through a presigned URL, then asks for a
    campaign; returns (answer, answer text). Expects both to succeed."""
    r = post("/api/upload/presigned-url", {"file_name": "lamp.png", "file_type": "image/png"}, key=key)
    expect(r.status == 200, r.body)
    up = r.json()
    r = request("PUT", None, url=up["upload_url"], body=photo, headers={"Content-Type": "image/png"}, timeout=60)
    expect(r.status == 200, r.body)
    r = post("/api/campaign/tier-1", dict(brief, upload_id=up["upload_id"]), key=key, timeout=timeout)
    expect(r.status == 200, r.body[:400])
    return r.json(), r.body.decode()


GENERATORS = []


def free_port():
    """A TCP port on 127.0.0.1 that is free now (for an emulator the suite starts)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_process(program, ready, procs, extra_env=None, **env):
    """Starts adsmith-PROGRAM of the stack's prefix, appended to procs, its
    log in log/PROGRAM-N.log; env overrides config keys (ADSMITH_*);
    extra_env sets other variables (AWS_*), None removing one. Waits for
    the line ready in its log."""
    n = len(procs) + 1
    log = open(os.path.join(VAR, "log", "%s-%d.log" % (program, n)), "a")
    e = dict(os.environ, ADSMITH_CONFIG=os.path.join(VAR, "adsmith.conf"))
    e.update({"ADSMITH_" + k.upper(): str(v) for k, v in env.items()})
    for k, v in (extra_env or {}).items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    p = subprocess.Popen(RUNAS + [os.path.join(PREFIX, "sbin", "adsmith-" + program)],
                         stdout=log, stderr=log, env=e)
    p.log_path = log.name
    procs.append(p)
    expect(wait_until(lambda: ready in read_log(p), 10), "%s did not start: %s" % (program, read_log(p)))
    return p


def start_generator(**env):
    return start_process("generator", "listening for jobs", GENERATORS, **env)


def read_log(p):
    with open(p.log_path) as f:
        return f.read()


def stop_process(p, sig=signal.SIGTERM, timeout=40):
    if p.poll() is None:
        p.send_signal(sig)
        p.wait(timeout)
    return p.returncode


def stop_all():
    for p in GENERATORS:
        if p.poll() is None:
            stop_process(p, signal.SIGKILL)


def pg_ctl(action):
    """Stops or starts the stack's PostgreSQL."""
    pgbin = os.environ["ADS_PGBIN"]
    args = [os.path.join(pgbin, "pg_ctl"), "-D", os.path.join(VAR, "pg"), "-w", "-m", "fast"]
    if action == "start":
        args = [os.path.join(pgbin, "pg_ctl"), "-D", os.path.join(VAR, "pg"), "-w", "-l",
                os.path.join(VAR, "log", "postgres.log"), "-o",
                "-c listen_addresses='' -c unix_socket_directories='%s' -c fsync=off" % os.path.join(VAR, "run")]
    subprocess.run(RUNAS + args + [action], check=True, capture_output=True)


# Localisation: what a marketer checks in a localised campaign. Languages
# are checked by script (Japanese kana) and by common words (German,
# Portuguese), never by exact strings.
GERMAN_WORDS = {"und", "sie", "für", "ihr", "ihre", "ihren", "mit", "der", "das", "den", "im", "jetzt", "mehr", "uns",
                "wir", "entdecken", "zum", "auf", "von", "ein", "eine", "alltag"}
PORTUGUESE_WORDS = {"você", "para", "com", "seu", "sua", "do", "da", "no", "na", "em", "dia", "conheça", "nossos",
                    "mais", "um", "uma", "veja", "o", "os", "e"}
ENGLISH_WORDS = {"the", "and", "with", "your", "you", "for", "meet", "discover", "our", "this"}
CREATIVE_FIELDS = {"prompt", "style", "task", "source", "sizes", "overlay"}
CREATIVE_SIZES = {"instagram_square", "instagram_portrait", "story", "facebook_link", "youtube_thumbnail",
                  "pinterest", "linkedin"}


def words(text):
    return [w.strip(".,:;!?()[]\"'«»…").lower() for w in text.split()]


def reads_as(text, lang):
    """True when text plausibly is in lang (ja: kana; de, pt: their words
    outnumber English ones)."""
    if lang == "ja":
        return any("\u3040" <= ch <= "\u30ff" for ch in text)
    ws = words(text)
    mine = GERMAN_WORDS if lang == "de" else PORTUGUESE_WORDS if lang == "pt" else ENGLISH_WORDS
    english = sum(w in ENGLISH_WORDS for w in ws)
    return sum(w in mine for w in ws) >= 1 and (lang == "en" or sum(w in mine for w in ws) > english)


def check_localised(c, want, source=None):
    """The campaign's market_variants: one per market of want ({market:
    primary language}), each idea, script and email in its language."""
    variants = {v["market"]: v for v in c["market_variants"]}
    expect(set(variants) == set(want), (sorted(variants), want))
    for market, lang in want.items():
        v = variants[market]
        expect(v["language"].split("-")[0] == lang and v["language_check"] == "passed", (market, v.get("language"),
                                                                                         v.get("language_check_detail")))
        if source:
            expect(v["source"] == source, (market, v["source"]))
        expect(v["content_ideas"], market)
        for idea in v["content_ideas"]:
            expect(idea["language"].split("-")[0] == lang, idea)
            expect(reads_as(idea["topic"] + " " + idea["caption"], lang), (market, idea))
        for t in v["email_templates"]:
            expect(reads_as(t["subject"] + " " + t["body"], lang), (market, t))
        for s in v["video_scripts"]:
            expect(reads_as(s["content"], lang), (market, s))
    return variants


def check_plan(c):
    """No content idea repeats; no calendar post repeats."""
    ideas = c["content_ideas"]
    topics = [i["topic"] for i in ideas]
    expect(len(set(topics)) == len(topics), topics)
    expect(len({(i["platform"], i["angle"]) for i in ideas}) == len(ideas), ideas)
    expect(all(i["language"] == "en" for i in ideas), ideas)
    seen, titles, posts = set(), [], []
    for week, plan in c["campaigns"][0]["calendar"].items():
        expect(len(plan["posts"]) == len(plan["schedule"]) == c["campaigns"][0]["posts_per_week"], (week, plan))
        slots = [(p["day"], p["time"]) for p in plan["schedule"]]
        expect(len(set(slots)) == len(slots), (week, slots))
        for p in plan["schedule"]:
            key = (p["platform"], p["day"], p["time"], p["angle"])
            expect(key not in seen, ("repeated post", week, key))
            seen.add(key)
            titles.append(p["title"])
        posts += plan["posts"]
    expect(len(set(titles)) == len(titles), titles)
    expect(len(set(posts)) == len(posts), posts)


def check_creatives(c, s3_key, platforms=None):
    """Every creative request is a body POST /api/assets takes as it is."""
    reqs = c["generated_assets"]["creative_requests"]
    expect(reqs, "no creative requests")
    for r in reqs:
        b = r["body"]
        expect(r["method"] == "POST" and r["path"] == "/api/assets", r)
        expect(set(b) == CREATIVE_FIELDS, sorted(b))
        expect(isinstance(b["prompt"], str) and 10 <= len(b["prompt"]) <= 1000, b["prompt"])
        expect(b["style"] in ("natural", "vivid", "anime", "photographic") and b["task"] == "background_replace", b)
        expect(b["source"] == {"s3_key": s3_key}, (b["source"], s3_key))
        expect(len(b["sizes"]) == 1 and b["sizes"][0] in CREATIVE_SIZES, b["sizes"])
        expect(set(b["overlay"]) == {"headline", "cta", "position", "language"} and b["overlay"]["headline"]
               and b["overlay"]["cta"] and b["overlay"]["position"] in ("top", "bottom", "center")
               and b["overlay"]["language"] == r["language"], b["overlay"])
        lang = r["language"].split("-")[0]
        if lang in ("ja", "de", "pt"):
            expect(reads_as(b["overlay"]["headline"] + " " + b["overlay"]["cta"], lang), (lang, b["overlay"]))
    if platforms is not None:
        expect({r["platform"] for r in reqs} == set(platforms), ({r["platform"] for r in reqs}, platforms))
    return reqs
