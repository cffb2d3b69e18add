#!/usr/bin/python3
"""Integration suite for the AWS credential chain, on the cloud stack
(storage local, image_provider = bedrock: the generator's Nova Canvas calls
carry the credentials) and on the s3 stack (the generator's PutObject calls
do). The AWS emulator in use is told to accept only credentials the
credential emulator (tests/emulators/credemu.py: STS, ECS, IMDSv2 on one
port) issued, which expire 20 s after issue; the generator gets a copy of
the stack's configuration without any AWS keys, and the AWS_* variables of
one source. Traffic runs for more than two lifetimes: every job must
complete (no signing failure at an expiry), the emulator must have refused
nothing, and the source must have been asked again (refreshes)."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (GENERATORS, PREFIX, RUNAS, VAR, Emulator, expect, free_port, new_source, post, read_log, run, sql,  # noqa: E402
                     start_process, stop_all, stop_process, test, wait_until)

ALICE = os.environ["ADS_KEY_ALICE"]
STORAGE = os.environ.get("ADS_STORAGE", "local")
S3_URL = os.environ.get("ADS_S3_URL", "")
BEDROCK_URL = os.environ.get("ADS_BEDROCK_URL", "")
ON_S3 = STORAGE == "s3"
USER = "storage" if ON_S3 else "ai services"
ISSUED = os.path.join(VAR, "issued.jsonl")
CONF = os.path.join(VAR, "creds.conf")
ROLE = "arn:aws:iam::123456789012:role/adsmith"
WEB_TOKEN = "eyJhbGciOiJSUzI1NiJ9.adsmith-test-token.sig"
ECS_TOKEN = "ecs-test-authorization"
LIFETIME = 20
AWS_VARS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SHARED_CREDENTIALS_FILE",
            "AWS_CONFIG_FILE", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
            "AWS_ENDPOINT_URL_STS", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_DISABLED"]
CRED = None                  # credemu's Emulator
CRED_PROC = None


# ---------------------------------------------------------------- helpers

def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def start_credemu():
    global CRED, CRED_PROC
    port = free_port()
    log = open(os.path.join(VAR, "log", "credemu.log"), "a")
    CRED_PROC = subprocess.Popen(["/usr/bin/python3", os.path.join(os.environ["ADS_ROOT"], "tests", "emulators",
                                                                    "credemu.py"),
                                  "--port", str(port), "--issued", ISSUED, "--role-arn", ROLE, "--web-token", WEB_TOKEN,
                                  "--ecs-token", ECS_TOKEN], stdout=log, stderr=log)
    write(os.path.join(VAR, "credemu.pid"), "%d\n" % CRED_PROC.pid)
    CRED = Emulator("http://127.0.0.1:%d" % port)
    expect(wait_until(lambda: _up(CRED), 10), "credemu did not start")


def _up(emu):
    try:
        emu.stats()
        return True
    except OSError:
        return False


def chain_config():
    """The stack's configuration without any AWS key: the chain decides."""
    drop = ("s3_access_key_id", "s3_secret_access_key", "s3_session_token", "aws_access_key_id",
            "aws_secret_access_key", "aws_session_token")
    lines = [l for l in open(os.path.join(VAR, "adsmith.conf")) if l.split("=", 1)[0].strip() not in drop]
    write(CONF, "".join(lines), 0o644)


def files():
    """The token files and a shared credentials file, readable by the service user."""
    d = os.path.join(VAR, "aws")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o755)
    write(os.path.join(d, "web-token"), WEB_TOKEN + "\n")
    write(os.path.join(d, "ecs-token"), ECS_TOKEN + "\n")
    return d


def source_env(name):
    """Every AWS_* variable unset but those of source name."""
    d = files()
    env = {k: None for k in AWS_VARS}
    env["HOME"] = os.path.join(VAR, "nohome")
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    if name == "web identity":
        env.update(AWS_WEB_IDENTITY_TOKEN_FILE=os.path.join(d, "web-token"), AWS_ROLE_ARN=ROLE,
                   AWS_ROLE_SESSION_NAME="adsmith-test", AWS_ENDPOINT_URL_STS=CRED.url + "/")
    elif name == "container credentials":
        env.update(AWS_CONTAINER_CREDENTIALS_FULL_URI=CRED.url + "/v2/credentials/adsmith",
                   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=os.path.join(d, "ecs-token"))
    elif name == "instance metadata":
        env.update(AWS_EC2_METADATA_SERVICE_ENDPOINT=CRED.url, AWS_EC2_METADATA_DISABLED=None)
    return env


def ctl_check(env, conf=CONF):
    """adsmithctl config check with these variables; (code, output)."""
    e = dict(os.environ, ADSMITH_CONFIG=conf)
    for k, v in env.items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = v
    p = subprocess.run(RUNAS + [os.path.join(PREFIX, "bin", "adsmithctl"), "config", "check"],
                       capture_output=True, text=True, env=e)
    return p.returncode, p.stdout + p.stderr


def source_line(out):
    for line in out.splitlines():
        if line.startswith("# aws credentials (%s): " % USER):
            return line.split(": ", 1)[1]
    return None


def issued_secrets():
    out = []
    if os.path.exists(ISSUED):
        for line in open(ISSUED):
            c = json.loads(line)
            out += [c["secret"], c["token"]]
    return out


def gate(on):
    """The AWS emulator in use accepts only issued credentials (on) or its static pair too."""
    if ON_S3:
        Emulator(S3_URL).call("/_emu/issued_only?on=%d" % (1 if on else 0), {})
    else:
        Emulator(BEDROCK_URL).behave(issued_only=on)


def target_stats():
    return Emulator(S3_URL if ON_S3 else BEDROCK_URL).stats()


def enqueue():
    rid = "c-" + uuid.uuid4().hex[:12]
    r = post("/api/assets", {"prompt": "A walnut desk lamp in warm evening light", "request_id": rid}, key=ALICE,
             src=new_source())
    expect(r.status == 200, r.body)
    return rid


def status(rid):
    return sql("SELECT status FROM generated_images WHERE request_id = '%s'" % rid)


def completed(rids):
    n = sql("SELECT count(*) FROM generated_images WHERE status = 'completed' AND request_id IN (%s)"
            % ",".join("'%s'" % r for r in rids))
    return int(n) == len(rids)


def stop_stack_generator():
    """The stack's own generator (the s3 and tsan stacks keep it running)
    signs with the static keys: it must not take the jobs this suite sends."""
    pidfile = os.path.join(VAR, "run", "generator.pid")
    if not os.path.exists(pidfile):
        return
    try:
        pid = int(open(pidfile).read().strip())
        if "adsmith-generator" not in open("/proc/%d/cmdline" % pid).read():
            return
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not os.path.exists("/proc/%d" % pid) or
                   open("/proc/%d/stat" % pid).read().split(") ")[1][0] == "Z", 40)
    except (ValueError, ProcessLookupError, FileNotFoundError):
        pass


def run_source_across_expiry(name, counter):
    """The generator on source name's credentials, jobs sent for more than
    two lifetimes: all complete, nothing refused, the source asked again."""
    CRED.call("/_emu/reset", {})
    CRED.behave(lifetime=LIFETIME)
    chain_config()
    env = source_env(name)
    code, out = ctl_check(env)
    expect(code == 0, out)
    line = source_line(out)
    expect(line is not None and line.startswith(name + " (") and "expires 20" in line, "config check said %r" % line)
    if name == "web identity":
        expect("role %s" % ROLE in line, line)
    for s in issued_secrets():
        expect(s not in out, "config check printed a secret or a session token")
    gate(True)
    before = target_stats()
    fetched_before = CRED.stats()[counter]
    gen = start_process("generator", "listening for jobs", GENERATORS, extra_env=env, config=CONF)
    try:
        rids = []
        t0 = time.time()
        while time.time() - t0 < 2 * LIFETIME + 8:
            rids.append(enqueue())
            time.sleep(1.5)
        expect(wait_until(lambda: completed(rids), 30, 0.5),
               "jobs not completed: %s" % [(r, status(r)) for r in rids if status(r) != "completed"][:5])
        after = target_stats()
        expect(after["rejected"] == before["rejected"],
               "the emulator refused %d signed calls" % (after["rejected"] - before["rejected"]))
        expect(after["signed_ok"] - before["signed_ok"] >= len(rids), "fewer signed calls than jobs")
        fetched = CRED.stats()[counter] - fetched_before
        # Refreshed at half the 20 s lifetime over ~48 s: 4-6 fetches, not one
        # per call nor one in all.
        expect(3 <= fetched <= 10, "%s asked %d times over %d jobs" % (name, fetched, len(rids)))
        log = read_log(gen)
        expect(log.count("aws credentials from %s" % name) >= 3, log[-2000:])
        for word in ("refresh failed", "InvalidSignature", "ExpiredToken", "UnrecognizedClient", "InvalidAccessKeyId"):
            expect(word not in log, "%s in the generator's log: %s" % (word, log[-2000:]))
        print("     %s: %d jobs over %.0f s, %d fetches, 0 refused" % (name, len(rids), time.time() - t0, fetched))
    finally:
        stop_process(gen)
        gate(False)


# ---------------------------------------------------------------- tests

@test
def web_identity_credentials_sign_across_expiries():
    run_source_across_expiry("web identity", "sts")


@test
def container_credentials_sign_across_expiries():
    run_source_across_expiry("container credentials", "ecs")


@test
def instance_metadata_credentials_sign_across_expiries():
    run_source_across_expiry("instance metadata", "imds_creds")
    expect(CRED.stats()["imds_v1"] == 0, "a metadata GET went without the IMDSv2 token")


@test
def precedence_configuration_env_profile_web_identity_container_instance():
    chain_config()
    d = files()
    write(os.path.join(d, "credentials"), "[default]\naws_access_key_id = AKIAPROFILE\n"
          "aws_secret_access_key = profile-secret\n\n[other]\naws_access_key_id = AKIAOTHER\n"
          "aws_secret_access_key = other-secret\n")
    env = source_env("instance metadata")
    for other in ("web identity", "container credentials"):
        env.update({k: v for k, v in source_env(other).items() if v is not None and k.startswith("AWS_") and
                    k != "AWS_EC2_METADATA_DISABLED"})
    env.update(AWS_SHARED_CREDENTIALS_FILE=os.path.join(d, "credentials"), AWS_ACCESS_KEY_ID="AKIAENVIRONMENT",
               AWS_SECRET_ACCESS_KEY="env-secret")
    # The stack's own configuration names its keys: they come first.
    code, out = ctl_check(env, os.path.join(VAR, "adsmith.conf"))
    expect(code == 0 and source_line(out) == "configuration (%s)" % ("s3_access_key_id" if ON_S3 else
                                                                     "aws_access_key_id"), out)
    steps = [("environment (AWS_ACCESS_KEY_ID)", ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]),
             ("shared files (profile default in %s)" % os.path.join(d, "credentials"), ["AWS_SHARED_CREDENTIALS_FILE"]),
             ("web identity (role %s, expires " % ROLE, ["AWS_WEB_IDENTITY_TOKEN_FILE"]),
             ("container credentials (%s/v2/credentials/adsmith, expires " % CRED.url,
              ["AWS_CONTAINER_CREDENTIALS_FULL_URI"]),
             ("instance metadata (IMDSv2, role adsmith-instance, expires ", [])]
    for want, remove in steps:
        code, out = ctl_check(env)
        line = source_line(out)
        expect(code == 0 and line is not None and line.startswith(want), "wanted %r, got %r" % (want, out[-600:]))
        expect("env-secret" not in out and "profile-secret" not in out, "a secret in config check's output")
        for k in remove:
            env[k] = None
    env["AWS_PROFILE"] = "other"
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.path.join(d, "credentials")
    code, out = ctl_check(env)
    expect(code == 0 and source_line(out).startswith("shared files (profile other in "), out)
    env["AWS_SHARED_CREDENTIALS_FILE"] = None
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    code, out = ctl_check(env)
    expect(code != 0 and "no AWS credentials" in out, out)


@test
def a_refused_source_is_an_error_naming_it():
    chain_config()
    d = files()
    write(os.path.join(d, "bad-token"), "not-the-token\n")
    env = source_env("web identity")
    env["AWS_WEB_IDENTITY_TOKEN_FILE"] = os.path.join(d, "bad-token")
    code, out = ctl_check(env)
    expect(code != 0 and "web identity" in out and "InvalidIdentityToken" in out, out)
    env = source_env("container credentials")
    env["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = os.path.join(d, "bad-token")
    code, out = ctl_check(env)
    expect(code != 0 and "container credentials" in out and "HTTP 401" in out, out)
    # A FULL_URI on another host over plain http is refused before any request.
    env = source_env("container credentials")
    env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://192.0.2.1/creds"
    code, out = ctl_check(env)
    expect(code != 0 and "FULL_URI must be https" in out, out)


@test
def no_issued_secret_in_any_log():
    secrets = issued_secrets()
    expect(secrets, "nothing was issued")
    for name in os.listdir(os.path.join(VAR, "log")):
        text = open(os.path.join(VAR, "log", name), errors="replace").read()
        for s in secrets:
            expect(s not in text, "an issued secret or session token is in log/%s" % name)


if __name__ == "__main__":
    try:
        stop_stack_generator()
        start_credemu()
        passed, failed = run(sys.argv[1:] or None)
    finally:
        stop_all()
        if CRED_PROC is not None:
            CRED_PROC.kill()
            CRED_PROC.wait()
    sys.exit(1 if failed else 0)
