"""SigV4 header verification for the JSON-protocol AWS emulators
(bedrock-runtime, Rekognition): the Authorization header is recomputed
with botocore's own SigV4Auth and compared in constant time."""

import hmac
import json
import time

import botocore.auth
import botocore.awsrequest
import botocore.credentials


def issued(path, key_id):
    """The credentials credemu.py issued under key_id (it appends one JSON
    line per issue to path): {"key", "secret", "token", "expires"}, or None."""
    if not path:
        return None
    try:
        with open(path) as f:
            for line in f:
                c = json.loads(line)
                if c["key"] == key_id:
                    return c
    except FileNotFoundError:
        pass
    return None


def session_problem(c, token):
    """None when token is the issued credentials' own and they have not
    expired, else a message."""
    if c is None:
        return None
    if token != c["token"]:
        return "The security token included in the request is invalid."
    if time.time() >= c["expires"]:
        return "The security token included in the request is expired"
    return None


def verify(service, region, access_key, secret_key, method, raw_path, headers, body, issued_file=None,
           issued_only=False):
    """None when the signature holds, else (error type, message). With
    issued_file, credentials credemu.py issued are accepted too (with their
    session token, until they expire); with issued_only, only those."""
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "AccessDeniedException", "Missing Authentication Token"
    fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(",") if "=" in p)
    cred = fields.get("Credential", "").split("/")
    temp = issued(issued_file, cred[0]) if len(cred) == 5 else None
    if temp is not None:
        access_key, secret_key = temp["key"], temp["secret"]
        problem = session_problem(temp, headers.get("x-amz-security-token"))
        if problem:
            return ("ExpiredTokenException" if "expired" in problem else "UnrecognizedClientException"), problem
        if "x-amz-security-token" not in fields.get("SignedHeaders", "").split(";"):
            return "InvalidSignatureException", "x-amz-security-token must be signed."
    elif issued_only:
        return "UnrecognizedClientException", "The security token included in the request is invalid."
    if len(cred) != 5 or cred[0] != access_key:
        return "UnrecognizedClientException", "The security token included in the request is invalid."
    if cred[2] != region or cred[3] != service:
        return "InvalidSignatureException", "Credential should be scoped to a valid region and service."
    signed = fields.get("SignedHeaders", "").split(";")
    if "host" not in signed or "x-amz-date" not in signed:
        return "InvalidSignatureException", "host and x-amz-date must be signed."
    req = botocore.awsrequest.AWSRequest(method=method, url="http://%s%s" % (headers.get("host", ""), raw_path),
                                         data=body, headers={h: headers[h] for h in signed if h in headers})
    signer = botocore.auth.SigV4Auth(botocore.credentials.Credentials(access_key, secret_key), service, region)
    req.context["timestamp"] = headers.get("x-amz-date", "")
    expected = signer.signature(signer.string_to_sign(req, signer.canonical_request(req)), req)
    if not hmac.compare_digest(expected, fields.get("Signature", "")):
        return "InvalidSignatureException", "The request signature we calculated does not match the signature you provided."
    return None
