#!/usr/bin/python3
"""Writes seed inputs for a fuzz target into a corpus directory.

awscreds: a shared credentials file, a config file with profiles, STS's
AssumeRoleWithWebIdentity reply and the container/instance endpoints' JSON,
each behind the byte that picks its reader in fuzz_awscreds.

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


def main():
    target, directory = sys.argv[1], sys.argv[2]
    seeds = {"sigv4": sigv4_seeds, "awscreds": awscreds_seeds}.get(target)
    if seeds is None:
        return
    os.makedirs(directory, exist_ok=True)
    for name, text in seeds().items():
        with open(os.path.join(directory, "seed-" + name), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
