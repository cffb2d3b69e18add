#!/usr/bin/python3
"""Writes seed inputs for a fuzz target into a corpus directory.

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


def main():
    target, directory = sys.argv[1], sys.argv[2]
    seeds = {"sigv4": sigv4_seeds}.get(target)
    if seeds is None:
        return
    os.makedirs(directory, exist_ok=True)
    for name, text in seeds().items():
        with open(os.path.join(directory, "seed-" + name), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
