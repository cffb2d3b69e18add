#!/usr/bin/python3
"""The three remote AWS credential sources on one port, for adsmith's tests,
each with its real wire protocol:

  STS AssumeRoleWithWebIdentity: POST / (form body) or GET /?Action=...,
      Version 2011-06-15; the WebIdentityToken must be --web-token and the
      RoleArn --role-arn (else 400 InvalidIdentityToken / 403 AccessDenied,
      as STS answers, in its ErrorResponse XML); the answer is STS's XML
      with AssumeRoleWithWebIdentityResult/Credentials.
  ECS container credentials: GET --ecs-path; the Authorization header must
      be --ecs-token (else 401); JSON AccessKeyId, SecretAccessKey, Token,
      Expiration, RoleArn.
  EC2 IMDSv2: PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds
      (1-21600, else 400) gives a session token valid that long; GETs under
      /latest/meta-data/ without a valid X-aws-ec2-metadata-token answer 401
      (IMDSv1 refused). .../iam/security-credentials/ lists --imds-role;
      .../iam/security-credentials/ROLE answers the credentials JSON.

Every issue is fresh credentials (key, secret, session token) that expire
after `lifetime` seconds, appended as one JSON line to --issued FILE, where
the Bedrock and S3 emulators look them up (awssig.issued).

Test control (unsigned, under /_emu/):
  POST /_emu/behave  JSON, any of: lifetime (seconds, default 20), fail (the
                     next N credential answers are 500)
  POST /_emu/reset   defaults, counters zeroed
  GET  /_emu/stats   sts, ecs, imds_token, imds_creds (credentials issued
                     per source), refused (requests turned away), imds_v1
                     (GETs without a token)

Usage: credemu.py --port P --issued FILE [--web-token T] [--role-arn A]
                  [--ecs-path /v2/credentials/x] [--ecs-token T] [--imds-role R]"""

import argparse
import datetime
import json
import secrets
import threading
import time
import urllib.parse
import uuid
from xml.sax.saxutils import escape

import emubase

ARGS = None
CTL = emubase.Control({"lifetime": 20, "fail": 0, "sts": 0, "ecs": 0, "imds_token": 0, "imds_creds": 0,
                       "refused": 0, "imds_v1": 0})
STATE, LOCK = CTL.state, CTL.lock
TOKENS = {}                  # IMDS session token -> expiry (time.time())
FILE_LOCK = threading.Lock()


def iso(t):
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def issue(source):
    """Fresh credentials, recorded in the --issued file and counted."""
    with LOCK:
        lifetime = STATE["lifetime"]
        STATE[source] += 1
    c = {"key": "ASIA" + secrets.token_hex(8).upper(), "secret": secrets.token_urlsafe(30),
         "token": "IQoJ" + secrets.token_urlsafe(180), "expires": int(time.time()) + lifetime, "source": source}
    with FILE_LOCK, open(ARGS.issued, "a") as f:
        f.write(json.dumps(c) + "\n")
    return c


def refuse():
    CTL.bump("refused")


def sts_error(status, code, message):
    body = ('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
            '<Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>'
            % (code, escape(message), uuid.uuid4()))
    return status, body, None, "text/xml"


def sts(params):
    get = lambda k: params.get(k, [""])[0]
    if get("Action") != "AssumeRoleWithWebIdentity" or get("Version") != "2011-06-15":
        refuse()
        return sts_error(400, "InvalidAction", "Could not find operation %s for version %s" % (get("Action"), get("Version")))
    if get("WebIdentityToken") != ARGS.web_token:
        refuse()
        return sts_error(400, "InvalidIdentityToken", "Couldn't verify the web identity token")
    if get("RoleArn") != ARGS.role_arn:
        refuse()
        return sts_error(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
    if not get("RoleSessionName"):
        refuse()
        return sts_error(400, "ValidationError", "RoleSessionName is required")
    if CTL.take("fail"):
        return sts_error(500, "InternalFailure", "injected")
    c = issue("sts")
    body = ('<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n'
            '  <AssumeRoleWithWebIdentityResult>\n'
            '    <Audience>sts.amazonaws.com</Audience>\n'
            '    <AssumedRoleUser>\n      <Arn>%s/%s</Arn>\n      <AssumedRoleId>AROA:%s</AssumedRoleId>\n'
            '    </AssumedRoleUser>\n'
            '    <Credentials>\n      <AccessKeyId>%s</AccessKeyId>\n      <SecretAccessKey>%s</SecretAccessKey>\n'
            '      <SessionToken>%s</SessionToken>\n      <Expiration>%s</Expiration>\n    </Credentials>\n'
            '    <SubjectFromWebIdentityToken>system:serviceaccount:adsmith:adsmith</SubjectFromWebIdentityToken>\n'
            '  </AssumeRoleWithWebIdentityResult>\n'
            '  <ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata>\n'
            '</AssumeRoleWithWebIdentityResponse>\n'
            % (escape(ARGS.role_arn.replace(":role/", ":assumed-role/")), escape(get("RoleSessionName")),
               escape(get("RoleSessionName")), c["key"], escape(c["secret"]), escape(c["token"]), iso(c["expires"]),
               uuid.uuid4()))
    return 200, body, None, "text/xml"


def creds_json(c, imds):
    out = {"AccessKeyId": c["key"], "SecretAccessKey": c["secret"], "Token": c["token"], "Expiration": iso(c["expires"])}
    if imds:
        out.update({"Code": "Success", "LastUpdated": iso(time.time()), "Type": "AWS-HMAC"})
    else:
        out["RoleArn"] = ARGS.role_arn
    return out


class Handler(emubase.Handler):
    control = CTL

    def imds_token_ok(self):
        t = self.headers.get("X-aws-ec2-metadata-token")
        with LOCK:
            return t is not None and TOKENS.get(t, 0) > time.time()

    def do_PUT(self):
        self.body()
        if self.path != "/latest/api/token":
            return self.send(404, "", content_type="text/plain")
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600 or self.headers.get("X-Forwarded-For"):
            refuse()
            return self.send(400, "", content_type="text/plain")
        t = secrets.token_urlsafe(40)
        with LOCK:
            TOKENS[t] = time.time() + int(ttl)
            STATE["imds_token"] += 1
        self.send(200, t, {"X-aws-ec2-metadata-token-ttl-seconds": ttl}, content_type="text/plain")

    def do_GET(self):
        if self.controlled():
            return
        path, _, query = self.path.partition("?")
        if path == "/" and query:
            return self.send(*sts(urllib.parse.parse_qs(query)))
        if path == ARGS.ecs_path:
            if self.headers.get("Authorization") != ARGS.ecs_token:
                refuse()
                return self.send(401, {"message": "unauthorized"})
            if CTL.take("fail"):
                return self.send(500, {"message": "injected"})
            return self.send(200, creds_json(issue("ecs"), False))
        if path.startswith("/latest/"):
            if not self.imds_token_ok():
                CTL.bump("imds_v1" if "X-aws-ec2-metadata-token" not in self.headers else "refused")
                return self.send(401, "", content_type="text/plain")
            base = "/latest/meta-data/iam/security-credentials/"
            if path == base:
                return self.send(200, ARGS.imds_role, content_type="text/plain")
            if path == base + ARGS.imds_role:
                if CTL.take("fail"):
                    return self.send(500, "", content_type="text/plain")
                return self.send(200, creds_json(issue("imds_creds"), True), content_type="text/plain")
        self.send(404, "", content_type="text/plain")

    def do_POST(self):
        body = self.body()
        if self.controlled(body):
            return
        if self.path == "/":
            return self.send(*sts(urllib.parse.parse_qs(body.decode())))
        self.send(404, "", content_type="text/plain")


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--issued", required=True)
    p.add_argument("--web-token", default="eyJhbGciOiJSUzI1NiJ9.adsmith-test-token.sig")
    p.add_argument("--role-arn", default="arn:aws:iam::123456789012:role/adsmith")
    p.add_argument("--ecs-path", default="/v2/credentials/adsmith")
    p.add_argument("--ecs-token", default="ecs-test-authorization")
    p.add_argument("--imds-role", default="adsmith-instance")
    ARGS = p.parse_args()
    emubase.serve(ARGS.port, Handler)


if __name__ == "__main__":
    main()
