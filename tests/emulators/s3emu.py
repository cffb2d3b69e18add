#!/usr/bin/python3
"""An S3 emulator for adsmith's tests: path-style S3 over HTTP that checks
every request's SigV4 signature (Authorization header or presigned query)
with botocore's own signer, stores objects in memory and answers with S3's
status codes and XML errors. Anonymous GET is allowed on buckets named in
--public (generated assets are public).

Test control (unsigned, under /_emu/): POST /_emu/fail?count=N&status=503
makes the next N object requests fail; POST /_emu/delay?ms=N makes every
object request wait N ms before it is answered (0: no wait; it also resets
max_in_flight); GET /_emu/object?bucket=B&key=K returns an object's
metadata as JSON (404 if absent); GET /_emu/stats returns request counts,
the object requests being answered now (in_flight) and the most at once
(max_in_flight).

POST /_emu/issued_only?on=1 accepts only credentials credemu.py issued
(--issued FILE: their key, secret and session token, until they expire).

Usage: s3emu.py --port P --access-key A --secret-key S [--region R] [--public BUCKET] [--issued FILE]"""

import argparse
import datetime
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.auth
import botocore.awsrequest
import botocore.credentials

import awssig

ARGS = None
LOCK = threading.Lock()
OBJECTS = {}          # (bucket, key) -> {"body", "type", "meta", "mtime"}
FAIL = {"count": 0, "status": 503}
DELAY = {"ms": 0}
ISSUED_ONLY = {"on": False}   # accept only credentials credemu.py issued (--issued)
STATS = {"requests": 0, "signed_ok": 0, "rejected": 0, "failed_injected": 0, "in_flight": 0, "max_in_flight": 0}
EMPTY_SHA = hashlib.sha256(b"").hexdigest()


def xml_error(code, message, status):
    rid = uuid.uuid4().hex[:16].upper()
    body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message>"
            "<RequestId>%s</RequestId></Error>" % (code, message, rid)).encode()
    return status, {"Content-Type": "application/xml", "x-amz-request-id": rid}, body


def _fixed_time(amzdate):
    when = datetime.datetime.strptime(amzdate, "%Y%m%dT%H%M%SZ")

    class Fixed(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return when
    return Fixed


def _creds(key_id=None, token=None):
    """The credentials a request names by key id: the static pair, or one
    credemu.py issued (--issued; with its session token, unexpired). A
    botocore Credentials, or an xml_error tuple."""
    temp = awssig.issued(ARGS.issued, key_id) if key_id is not None else None
    if temp is not None:
        problem = awssig.session_problem(temp, token)
        if problem:
            return xml_error("ExpiredToken" if "expired" in problem else "InvalidToken", problem, 400 if "expired" in problem else 403)
        return botocore.credentials.Credentials(temp["key"], temp["secret"], temp["token"])
    if key_id is not None and (key_id != ARGS.access_key or ISSUED_ONLY["on"]):
        return xml_error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", 403)
    return botocore.credentials.Credentials(ARGS.access_key, ARGS.secret_key)


def verify_header_auth(method, raw_path, query, headers, body):
    """Recomputes the Authorization header with botocore. None or an error tuple."""
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return xml_error("AccessDenied", "Unsupported or missing authorization", 403)
    fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    cred = fields.get("Credential", "").split("/")
    if len(cred) != 5:
        return xml_error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", 403)
    creds = _creds(cred[0], headers.get("x-amz-security-token"))
    if isinstance(creds, tuple):
        return creds
    signed = fields.get("SignedHeaders", "").split(";")
    if creds.token and "x-amz-security-token" not in signed:
        return xml_error("AccessDenied", "x-amz-security-token must be signed", 403)
    amzdate = headers.get("x-amz-date", "")
    claimed = headers.get("x-amz-content-sha256", "")
    if claimed not in ("UNSIGNED-PAYLOAD",) and claimed != hashlib.sha256(body).hexdigest():
        return xml_error("XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", 400)
    url = "http://%s%s" % (headers.get("host", ""), raw_path + ("?" + query if query else ""))
    req = botocore.awsrequest.AWSRequest(method=method, url=url, data=body,
                                         headers={h: headers[h] for h in signed if h in headers})
    signer = botocore.auth.S3SigV4Auth(creds, "s3", cred[2])
    req.context["timestamp"] = amzdate
    canonical = signer.canonical_request(req)
    sts = signer.string_to_sign(req, canonical)
    expected = signer.signature(sts, req)
    if not hmac.compare_digest(expected, fields.get("Signature", "")):
        return xml_error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.", 403)
    return None


def verify_presigned(method, raw_path, query, headers):
    q = urllib.parse.parse_qs(query, keep_blank_values=True)
    get = lambda k: q.get(k, [""])[0]
    cred = get("X-Amz-Credential").split("/")
    if len(cred) != 5:
        return xml_error("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", 403)
    creds = _creds(cred[0], get("X-Amz-Security-Token") or None)
    if isinstance(creds, tuple):
        return creds
    amzdate, expires = get("X-Amz-Date"), int(get("X-Amz-Expires") or "0")
    signed_at = datetime.datetime.strptime(amzdate, "%Y%m%dT%H%M%SZ")
    if datetime.datetime.utcnow() > signed_at + datetime.timedelta(seconds=expires):
        return xml_error("AccessDenied", "Request has expired", 403)
    signed = get("X-Amz-SignedHeaders").split(";")
    # Rebuild the URL without the signing parameters; botocore adds them back.
    keep = [(k, v) for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True) if not k.startswith("X-Amz-")]
    url = "http://%s%s" % (headers.get("host", ""), raw_path)
    if keep:
        url += "?" + urllib.parse.urlencode(keep, quote_via=urllib.parse.quote)
    req = botocore.awsrequest.AWSRequest(method=method, url=url,
                                         headers={h: headers[h] for h in signed if h in headers and h != "host"})
    real = botocore.auth.datetime
    botocore.auth.datetime = type("M", (), {"datetime": _fixed_time(amzdate)})
    try:
        botocore.auth.S3SigV4QueryAuth(creds, "s3", cred[2], expires=expires).add_auth(req)
    finally:
        botocore.auth.datetime = real
    expected = urllib.parse.parse_qs(urllib.parse.urlsplit(req.url).query)["X-Amz-Signature"][0]
    if not hmac.compare_digest(expected, get("X-Amz-Signature")):
        return xml_error("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.", 403)
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True   # one response, not two segments waiting on a delayed ACK

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, headers, body, head=False):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _control(self, parts, query):
        q = urllib.parse.parse_qs(query)
        if parts.path == "/_emu/fail":
            with LOCK:
                FAIL["count"] = int(q.get("count", ["1"])[0])
                FAIL["status"] = int(q.get("status", ["503"])[0])
            return self._send(200, {"Content-Type": "application/json"}, b"{}")
        if parts.path == "/_emu/delay":
            with LOCK:
                DELAY["ms"] = int(q.get("ms", ["0"])[0])
                STATS["max_in_flight"] = STATS["in_flight"]
            return self._send(200, {"Content-Type": "application/json"}, b"{}")
        if parts.path == "/_emu/object":
            with LOCK:
                o = OBJECTS.get((q["bucket"][0], q["key"][0]))
            if o is None:
                return self._send(404, {"Content-Type": "application/json"}, b"{}")
            info = {"size": len(o["body"]), "content_type": o["type"], "meta": o["meta"],
                    "sha256": hashlib.sha256(o["body"]).hexdigest()}
            return self._send(200, {"Content-Type": "application/json"}, json.dumps(info).encode())
        if parts.path == "/_emu/issued_only":
            with LOCK:
                ISSUED_ONLY["on"] = q.get("on", ["0"])[0] == "1"
            return self._send(200, {"Content-Type": "application/json"}, b"{}")
        if parts.path == "/_emu/stats":
            with LOCK:
                data = json.dumps(dict(STATS, objects=len(OBJECTS))).encode()
            return self._send(200, {"Content-Type": "application/json"}, data)
        return self._send(404, {}, b"")

    def _handle(self, method):
        raw_path, _, query = self.path.partition("?")
        parts = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if raw_path.startswith("/_emu/"):
            return self._control(parts, query)
        with LOCK:
            STATS["in_flight"] += 1
            STATS["max_in_flight"] = max(STATS["max_in_flight"], STATS["in_flight"])
            delay = DELAY["ms"]
        try:
            if delay:
                time.sleep(delay / 1000.0)
            return self._object(method, raw_path, query, body)
        finally:
            with LOCK:
                STATS["in_flight"] -= 1

    def _object(self, method, raw_path, query, body):
        headers = {k.lower(): v for k, v in self.headers.items()}
        with LOCK:
            STATS["requests"] += 1
            injected = FAIL["count"] > 0
            if injected:
                FAIL["count"] -= 1
                STATS["failed_injected"] += 1
                status = FAIL["status"]
        if injected:
            code = "SlowDown" if status == 503 else "InternalError"
            return self._send(*xml_error(code, "Injected failure", status), head=method == "HEAD")
        segs = urllib.parse.unquote(raw_path).lstrip("/").split("/", 1)
        bucket, key = segs[0], segs[1] if len(segs) > 1 else ""
        anonymous = "authorization" not in headers and "X-Amz-Signature" not in query
        if anonymous and method == "GET" and bucket in ARGS.public:
            problem = None
        elif "X-Amz-Signature" in query:
            problem = verify_presigned(method, raw_path, query, headers)
        else:
            problem = verify_header_auth(method, raw_path, query, headers, body)
        if problem:
            with LOCK:
                STATS["rejected"] += 1
            return self._send(*problem, head=method == "HEAD")
        with LOCK:
            STATS["signed_ok"] += 1
        if not key:
            return self._send(*xml_error("InvalidRequest", "Bucket operations are not emulated", 400))
        if method == "PUT":
            meta = {k: v for k, v in headers.items() if k.startswith("x-amz-meta-")}
            etag = '"%s"' % hashlib.md5(body).hexdigest()
            with LOCK:
                OBJECTS[(bucket, key)] = {"body": body, "type": headers.get("content-type", "binary/octet-stream"),
                                          "meta": meta, "mtime": datetime.datetime.utcnow(), "etag": etag}
            return self._send(200, {"ETag": etag}, b"")
        with LOCK:
            o = OBJECTS.get((bucket, key))
        if method == "DELETE":
            with LOCK:
                OBJECTS.pop((bucket, key), None)
            return self._send(204, {}, b"")
        if o is None:
            return self._send(*xml_error("NoSuchKey", "The specified key does not exist.", 404), head=method == "HEAD")
        hdrs = {"Content-Type": o["type"], "ETag": o["etag"], "Content-Length": str(len(o["body"])),
                "Last-Modified": o["mtime"].strftime("%a, %d %b %Y %H:%M:%S GMT")}
        hdrs.update(o["meta"])
        return self._send(200, hdrs, o["body"], head=method == "HEAD")

    def do_GET(self):
        self._handle("GET")

    def do_HEAD(self):
        self._handle("HEAD")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")

    def do_POST(self):
        self._handle("POST")


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--access-key", required=True)
    p.add_argument("--secret-key", required=True)
    p.add_argument("--public", action="append", default=[])
    p.add_argument("--issued", default=None)
    ARGS = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
