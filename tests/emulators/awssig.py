"""SigV4 header verification for the JSON-protocol AWS emulators
(bedrock-runtime, Rekognition): the Authorization header is recomputed
with botocore's own SigV4Auth and compared in constant time."""

import hmac

import botocore.auth
import botocore.awsrequest
import botocore.credentials


def verify(service, region, access_key, secret_key, method, raw_path, headers, body):
    """None when the signature holds, else (error type, message)."""
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "AccessDeniedException", "Missing Authentication Token"
    fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(",") if "=" in p)
    cred = fields.get("Credential", "").split("/")
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
