#!/usr/bin/python3
"""A bedrock-runtime emulator for adsmith's tests: InvokeModel for Amazon
Nova Canvas and Amazon Nova Pro over HTTP/1.1. Every call's SigV4 signature (service "bedrock")
is recomputed with botocore's own signer; the body is checked field by
field against the shape of its taskType (TEXT_IMAGE, BACKGROUND_REMOVAL,
OUTPAINTING, IMAGE_VARIATION, COLOR_GUIDED_GENERATION), input images
included: base64 of a PNG or JPEG with 8 bits per channel and no alpha
channel, each side 320-4096 and a multiple of 16, aspect ratio within 1:4
and 4:1, at most 4,194,304 pixels. The answer is a real PNG of the asked
size (an edit: the input image's size; background removal: RGBA with a
transparent border; colour-guided: the first colour), base64 in
{"images": [...]}, as the service answers. Errors use Bedrock's
status codes, x-amzn-ErrorType header and JSON body.

Nova Pro (--text-model): the body must be {"messages": [{"role": "user",
"content": [{"text"}]}], "inferenceConfig": {"maxTokens"}}; the answer is a
campaign written for the product named in the prompt, in the Converse
reply shape with usage (tokens counted as characters / 4).

Test control (unsigned, under /_emu/):
  POST /_emu/behave  JSON, any of:
      issued_only   accept only credentials credemu.py issued (--issued
                    FILE: their key, secret and session token, until
                    they expire), not --access-key
      delay_ms      every call waits this long before answering
      fail          the next N calls answer fail_status (default 503)
      throttle      the next N calls answer 429 ThrottlingException
      malformed     the next N calls answer 200 with a broken image
      refuse_word   prompts containing it are refused by the content filter
      fail_word     prompts containing it always answer 500
      hang          the next N calls are answered after hang_ms
      text_mode     Nova Pro answers: json (default), fenced (in a ```json
                    block), prose (text around the object), partial (two
                    sections only), truncated (cut off, stopReason
                    max_tokens), garbage (no JSON at all)
      text_fail     the next N Nova Pro calls answer 503
      text_throttle the next N Nova Pro synthesis calls answer 429
                    ThrottlingException
      text_delay_ms every Nova Pro call waits this long
      cultural_fail the next N cultural-insight calls (InvokeModel with a
                    "CULTURAL INSIGHT REQUEST" prompt) answer 503
      lang_mode     market variants: native (default: each in its market's
                    language), english (always English, retries too: the
                    language check's failure path), english_once (English
                    in the campaign, the market's language when asked again)
      converse_mode Converse (tier 1) behaviour: agent (default: asks for the
                    three tools in one turn, then answers with a campaign
                    that quotes their results), sequential (one tool per
                    turn), loop (asks for tools forever), off (400
                    ValidationException)
  POST /_emu/reset   back to answering at once, counters zeroed
  GET  /_emu/stats   JSON counters: requests, signed_ok, rejected, images,
                     throttled, failed, refused, in_flight, max_in_flight,
                     localise_calls (LOCALISATION REQUEST prompts),
                     calls (signed model calls per prompt), images_by_prompt,
                     call_times ([time, prompt] of each Nova Canvas call, the first 50,000),
                     tasks (each accepted creatives call: taskType, its
                     parameters with every image replaced by what it is,
                     {"format", "width", "height", "alpha", "bytes"}, and
                     the generation config; the last 200)

Usage: bedrockemu.py --port P --access-key A --secret-key S [--region R] [--issued FILE]
                     [--model amazon.nova-canvas-v1:0] [--text-model amazon.nova-pro-v1:0]"""

import argparse
import base64
import json
import struct
import time
import urllib.parse
import uuid
import zlib

import awssig
import emubase
import emucopy

ARGS = None
SIZES = {(1024, 1024), (1280, 720), (720, 1280), (1152, 864), (864, 1152)}
PNG_CACHE = {}


CTL = emubase.Control({"issued_only": False, "delay_ms": 0, "fail": 0, "fail_status": 503, "throttle": 0, "malformed": 0,
                      "refuse_word": None, "fail_word": None, "hang": 0, "hang_ms": 0,
                      "requests": 0, "signed_ok": 0, "rejected": 0, "images": 0, "throttled": 0,
                      "failed": 0, "refused": 0, "in_flight": 0, "max_in_flight": 0, "calls": {},
                      "images_by_prompt": {}, "text_mode": "json", "text_fail": 0, "text_delay_ms": 0,
                      "text_calls": 0, "last_max_tokens": None,
                      "converse_mode": "agent", "converse_calls": 0, "tool_turns": [],
                      "cultural_fail": 0, "cultural_calls": 0, "text_throttle": 0, "call_times": [],
                      "lang_mode": "native", "localise_calls": 0,
                      "tasks": []})
STATE, LOCK, take, bump = CTL.state, CTL.lock, CTL.take, CTL.bump


def png_of(w, h, rgb=b"\x2a\x7f\xd4", cutout=False):
    """A solid-colour PNG, built once per size and colour: small to send,
    real to decode. cutout: RGBA, the colour in the middle half, a
    transparent border around it (what background removal answers)."""
    if (w, h, rgb, cutout) not in PNG_CACHE:
        def chunk(kind, data):
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        if cutout:
            clear, solid = b"\x00\x00\x00\x00", rgb + b"\xff"
            inner = b"\x00" + clear * (w // 4) + solid * (w - 2 * (w // 4)) + clear * (w // 4)
            edge = b"\x00" + clear * w
            raw = zlib.compress(edge * (h // 4) + inner * (h - 2 * (h // 4)) + edge * (h // 4), 9)
        else:
            raw = zlib.compress((b"\x00" + rgb * w) * h, 9)
        PNG_CACHE[(w, h, rgb, cutout)] = (
            b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6 if cutout else 2, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))
    return PNG_CACHE[(w, h, rgb, cutout)]


def error(status, kind, message):
    body = json.dumps({"message": message}).encode()
    return status, {"Content-Type": "application/json", "x-amzn-ErrorType": kind + ":http://internal.amazon.com/coral/com.amazon.bedrock/"}, body


class Invalid(Exception):
    """A request body Bedrock answers with 400 ValidationException."""


def image_info(b64, field):
    """What an input image is: {"format", "width", "height", "alpha",
    "bytes"}, or Invalid when Nova Canvas would refuse it."""
    if not isinstance(b64, str) or not b64:
        raise Invalid("%s must be a base64 string" % field)
    try:
        data = base64.b64decode(b64, validate=True)
    except ValueError:
        raise Invalid("%s is not valid base64" % field)
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", data[16:26])
        if depth != 8 or ctype not in (0, 2, 4, 6):
            raise Invalid("%s must have 8 bits per channel (RGB)" % field)
        fmt, alpha = "png", ctype in (4, 6)
        if not data.endswith(b"IEND\xaeB`\x82"):
            raise Invalid("%s is not a whole PNG" % field)
    elif data[:2] == b"\xff\xd8":
        fmt, alpha, w, h, i = "jpeg", False, 0, 0, 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                raise Invalid("%s is not a valid JPEG" % field)
            marker, seg = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                h, w = struct.unpack(">HH", data[i + 5:i + 9])
                if data[i + 4] != 8 or data[i + 9] not in (1, 3):
                    raise Invalid("%s must have 8 bits per channel (RGB)" % field)
                break
            i += 2 + seg
        if not w:
            raise Invalid("%s is not a valid JPEG" % field)
    else:
        raise Invalid("%s must be a PNG or JPEG image" % field)
    if alpha:
        raise Invalid("%s must not have an alpha channel (transparent pixels are not accepted)" % field)
    if not (320 <= w <= 4096 and 320 <= h <= 4096):
        raise Invalid("%s: each side must be 320-4096 pixels, not %dx%d" % (field, w, h))
    if w % 16 or h % 16:
        raise Invalid("%s: width and height must be multiples of 16, not %dx%d" % (field, w, h))
    if w * h > 4194304:
        raise Invalid("%s: at most 4194304 pixels, not %d" % (field, w * h))
    if w > 4 * h or h > 4 * w:
        raise Invalid("%s: the aspect ratio must be between 1:4 and 4:1" % field)
    return {"format": fmt, "width": w, "height": h, "alpha": alpha, "bytes": len(data)}


def text_field(params, name, where, required):
    v = params.get(name)
    if v is None and not required:
        return None
    if not isinstance(v, str) or not 1 <= len(v) <= 1024:
        raise Invalid("%s.%s must be 1-1024 characters" % (where, name))
    return v


def only_keys(obj, allowed, where):
    extra = sorted(set(obj) - set(allowed))
    if extra:
        raise Invalid("%s: unexpected field(s) %s" % (where, ", ".join(extra)))


def gen_config(req, sized):
    """imageGenerationConfig: (width, height) when sized, else None."""
    conf = req.get("imageGenerationConfig")
    if not isinstance(conf, dict):
        raise Invalid("imageGenerationConfig is required")
    only_keys(conf, ("numberOfImages", "quality", "cfgScale", "seed") + (("width", "height") if sized else ()),
              "imageGenerationConfig")
    if conf.get("numberOfImages") != 1 or conf.get("quality") not in ("standard", "premium"):
        raise Invalid("numberOfImages must be 1 here and quality standard or premium")
    cfg = conf.get("cfgScale")
    if not isinstance(cfg, (int, float)) or not 1.1 <= cfg <= 10:
        raise Invalid("cfgScale must be 1.1-10")
    if not sized:
        return None
    w, h = conf.get("width"), conf.get("height")
    if (w, h) not in SIZES:
        raise Invalid("unsupported width/height %r x %r" % (w, h))
    return w, h


HEX = set("0123456789ABCDEFabcdef")


def check_task(req):
    """A creatives task: (width, height, text, rgb, cutout, record) or Invalid."""
    kind = req.get("taskType")
    rec = {"taskType": kind}
    if kind == "BACKGROUND_REMOVAL":
        only_keys(req, ("taskType", "backgroundRemovalParams"), "request")
        p = req.get("backgroundRemovalParams")
        if not isinstance(p, dict):
            raise Invalid("backgroundRemovalParams is required")
        only_keys(p, ("image",), "backgroundRemovalParams")
        img = rec["image"] = image_info(p.get("image"), "backgroundRemovalParams.image")
        return img["width"], img["height"], "", b"\x2a\x7f\xd4", True, rec
    if kind == "OUTPAINTING":
        only_keys(req, ("taskType", "outPaintingParams", "imageGenerationConfig"), "request")
        p = req.get("outPaintingParams")
        if not isinstance(p, dict):
            raise Invalid("outPaintingParams is required")
        only_keys(p, ("image", "text", "negativeText", "maskPrompt", "maskImage", "outPaintingMode"), "outPaintingParams")
        img = rec["image"] = image_info(p.get("image"), "outPaintingParams.image")
        rec["text"] = text_field(p, "text", "outPaintingParams", True)
        text_field(p, "negativeText", "outPaintingParams", False)
        if ("maskPrompt" in p) == ("maskImage" in p):
            raise Invalid("outPaintingParams needs exactly one of maskPrompt and maskImage")
        if "maskPrompt" in p:
            rec["maskPrompt"] = text_field(p, "maskPrompt", "outPaintingParams", True)
        if p.get("outPaintingMode", "DEFAULT") not in ("DEFAULT", "PRECISE"):
            raise Invalid("outPaintingMode must be DEFAULT or PRECISE")
        rec["outPaintingMode"] = p.get("outPaintingMode", "DEFAULT")
        gen_config(req, False)
        return img["width"], img["height"], rec["text"], b"\x35\x8a\x4f", False, rec
    if kind == "IMAGE_VARIATION":
        only_keys(req, ("taskType", "imageVariationParams", "imageGenerationConfig"), "request")
        p = req.get("imageVariationParams")
        if not isinstance(p, dict):
            raise Invalid("imageVariationParams is required")
        only_keys(p, ("images", "text", "negativeText", "similarityStrength"), "imageVariationParams")
        imgs = p.get("images")
        if not isinstance(imgs, list) or not 1 <= len(imgs) <= 5:
            raise Invalid("imageVariationParams.images must hold 1-5 images")
        rec["images"] = [image_info(b, "imageVariationParams.images[%d]" % i) for i, b in enumerate(imgs)]
        rec["text"] = text_field(p, "text", "imageVariationParams", False)
        text_field(p, "negativeText", "imageVariationParams", False)
        sim = p.get("similarityStrength", 0.7)
        if not isinstance(sim, (int, float)) or not 0.2 <= sim <= 1.0:
            raise Invalid("similarityStrength must be 0.2-1.0")
        rec["similarityStrength"] = sim
        w, h = rec["size"] = gen_config(req, True)
        return w, h, rec["text"] or "", b"\x8a\x35\x9c", False, rec
    if kind == "COLOR_GUIDED_GENERATION":
        only_keys(req, ("taskType", "colorGuidedGenerationParams", "imageGenerationConfig"), "request")
        p = req.get("colorGuidedGenerationParams")
        if not isinstance(p, dict):
            raise Invalid("colorGuidedGenerationParams is required")
        only_keys(p, ("colors", "text", "negativeText", "referenceImage"), "colorGuidedGenerationParams")
        cols = p.get("colors")
        if not isinstance(cols, list) or not 1 <= len(cols) <= 10 or not all(
                isinstance(c, str) and len(c) == 7 and c[0] == "#" and set(c[1:]) <= HEX for c in cols):
            raise Invalid("colorGuidedGenerationParams.colors must be 1-10 colours as #RRGGBB")
        rec["colors"] = cols
        rec["text"] = text_field(p, "text", "colorGuidedGenerationParams", True)
        text_field(p, "negativeText", "colorGuidedGenerationParams", False)
        if "referenceImage" in p:
            rec["referenceImage"] = image_info(p["referenceImage"], "colorGuidedGenerationParams.referenceImage")
        w, h = rec["size"] = gen_config(req, True)
        return w, h, rec["text"], bytes.fromhex(cols[0][1:]), False, rec
    raise Invalid("taskType %r is not supported" % (kind,))


def check_canvas(req):
    """The request shape of its taskType: ((width, height, prompt, rgb, cutout), None) or (None, error)."""
    if not isinstance(req, dict):
        return None, error(400, "ValidationException", "the body must be a JSON object")
    if req.get("taskType") != "TEXT_IMAGE":
        try:
            w, h, text, rgb, cutout, rec = check_task(req)
        except Invalid as e:
            return None, error(400, "ValidationException", str(e))
        with LOCK:
            STATE["tasks"] = (STATE["tasks"] + [rec])[-200:]
        return (w, h, text, rgb, cutout), None
    params, conf = req.get("textToImageParams"), req.get("imageGenerationConfig")
    if not isinstance(params, dict) or not isinstance(conf, dict):
        return None, error(400, "ValidationException", "textToImageParams and imageGenerationConfig are required")
    text = params.get("text")
    if not isinstance(text, str) or not 1 <= len(text) <= 1024:
        return None, error(400, "ValidationException", "textToImageParams.text must be 1-1024 characters")
    neg = params.get("negativeText")
    if neg is not None and (not isinstance(neg, str) or not 1 <= len(neg) <= 1024):
        return None, error(400, "ValidationException", "textToImageParams.negativeText must be 1-1024 characters")
    if conf.get("numberOfImages") != 1 or conf.get("quality") not in ("standard", "premium"):
        return None, error(400, "ValidationException", "numberOfImages must be 1 here and quality standard or premium")
    w, h, cfg = conf.get("width"), conf.get("height"), conf.get("cfgScale")
    if (w, h) not in SIZES:
        return None, error(400, "ValidationException", "unsupported width/height %r x %r" % (w, h))
    if not isinstance(cfg, (int, float)) or not 1.1 <= cfg <= 10:
        return None, error(400, "ValidationException", "cfgScale must be 1.1-10")
    return (w, h, text, b"\x2a\x7f\xd4", False), None


def invoke(raw_path, headers, body):
    denied = awssig.verify("bedrock", ARGS.region, ARGS.access_key, ARGS.secret_key, "POST", raw_path, headers, body,
                           ARGS.issued, STATE["issued_only"])
    if denied:
        bump("rejected")
        return error(403, *denied)
    bump("signed_ok")
    parts = raw_path.split("/")
    if len(parts) == 4 and parts[1] == "model" and parts[3] == "converse":
        if urllib.parse.unquote(parts[2]) != ARGS.text_model:
            return error(404, "ResourceNotFoundException", "model not found")
        return converse(body)
    if len(parts) != 4 or parts[1] != "model" or parts[3] != "invoke":
        return error(404, "UnknownOperationException", "unknown operation")
    model = urllib.parse.unquote(parts[2])
    if model == ARGS.text_model and parts[3] == "invoke":
        return text_invoke(body)
    if model != ARGS.model:
        return error(404, "ResourceNotFoundException", "model %s not found" % model)
    try:
        req = json.loads(body)
    except ValueError:
        return error(400, "ValidationException", "body is not JSON")
    shape, bad = check_canvas(req)
    if bad:
        return bad
    w, h, text, rgb, cutout = shape
    with LOCK:
        STATE["calls"][text] = STATE["calls"].get(text, 0) + 1
        if len(STATE["call_times"]) < 50000:
            STATE["call_times"].append([round(time.time(), 4), text])
        delay = STATE["delay_ms"]
        if STATE["hang"] > 0:
            STATE["hang"] -= 1
            delay = STATE["hang_ms"]
        refuse = STATE["refuse_word"] and STATE["refuse_word"] in text
        fail_word = STATE["fail_word"] and STATE["fail_word"] in text
    if delay:
        time.sleep(delay / 1000.0)
    if take("throttle"):
        bump("throttled")
        return error(429, "ThrottlingException", "Too many requests, please wait before trying again.")
    if fail_word:
        bump("failed")
        return error(500, "InternalServerException", "The model failed to generate (injected for %s)." % STATE["fail_word"])
    if take("fail"):
        bump("failed")
        return error(STATE["fail_status"], "ServiceUnavailableException", "Service unavailable, try again.")
    if refuse:
        bump("refused")
        return error(400, "ValidationException", "This request has been blocked by our content filters.")
    if take("malformed"):
        return 200, {"Content-Type": "application/json"}, b'{"images": ["iVBORw0KGgo"], "error": null}'
    with LOCK:
        STATE["images"] += 1
        STATE["images_by_prompt"][text] = STATE["images_by_prompt"].get(text, 0) + 1
    out = json.dumps({"images": [base64.b64encode(png_of(w, h, rgb, cutout)).decode()], "error": None}).encode()
    return 200, {"Content-Type": "application/json"}, out


def campaign_for(name, prompt=None, lang_mode="native"):
    """The campaign for a product; with the prompt, its market_variants in
    each market's language (or English, by lang_mode)."""
    camp = campaign_body(name)
    if prompt is not None:
        camp["market_variants"] = emucopy.variants_for(prompt, name, english=lang_mode != "native")
    return camp


def campaign_body(name):
    return {
        "content_ideas": [{"platform": "Instagram", "topic": "Launch", "engagement_score": 88,
                           "caption": "Nova Pro says: meet %s" % name, "hashtags": ["#launch"]},
                          {"platform": "TikTok", "topic": "Demo", "engagement_score": 80,
                           "caption": "Nova Pro says: %s in 15 seconds" % name, "hashtags": ["#demo"]}],
        "campaigns": [{"name": "%s launch (Nova Pro)" % name, "duration": "4 weeks", "posts_per_week": 4,
                       "platforms": ["Instagram", "TikTok"], "calendar": {"Week 1": "Teaser"}, "adaptations": {}}],
        "generated_assets": {"image_prompts": ["%s on a desk" % name], "video_scripts": [{"type": "short", "content": "Hook"}],
                             "email_templates": [{"subject": "Meet %s" % name, "body": "Hello"}],
                             "blog_outlines": [{"title": "Why %s" % name, "introduction": "Intro", "points": ["One"]}]},
        "platform_recommendations": {"primary_platforms": ["Instagram", "TikTok"], "rationale": "Visual product"},
        "market_insights": {"trending_content_types": ["Short video"], "cultural_considerations": ["Be precise"],
                            "audience_preferences": ["Reviews"]},
        "recommendations": [{"type": "timing", "title": "Post at 6 pm", "description": "Evening reach"}],
    }


def converse_shaped(text, prompt, stop="end_turn"):
    reply = {"output": {"message": {"role": "assistant", "content": [{"text": text}]}}, "stopReason": stop,
             "usage": {"inputTokens": len(prompt) // 4, "outputTokens": len(text) // 4,
                       "totalTokens": len(prompt) // 4 + len(text) // 4}}
    return 200, {"Content-Type": "application/json"}, json.dumps(reply).encode()


def cultural(prompt):
    with LOCK:
        STATE["cultural_calls"] += 1
        delay = STATE["text_delay_ms"]
    if delay:
        time.sleep(delay / 1000.0)
    if take("cultural_fail"):
        return error(503, "ServiceUnavailableException", "Service unavailable, try again.")
    try:
        markets = json.loads(prompt.split("BRIEF:\n", 1)[1])["markets"]
    except (ValueError, KeyError, IndexError, TypeError):
        return error(400, "ValidationException", "no markets in the prompt")
    out = {"markets": [{"market": m, "insights": ["Nova Pro insight for %s" % m], "cautions": ["Avoid hype"],
                        "platforms": ["Instagram"], "timing": "Evenings"} for m in markets]}
    return converse_shaped(json.dumps(out), prompt)


def text_invoke(body):
    try:
        req = json.loads(body)
        msgs = req["messages"]
        prompt = msgs[0]["content"][0]["text"]
        max_tokens = req["inferenceConfig"]["maxTokens"]
        assert msgs[0]["role"] == "user" and isinstance(prompt, str) and isinstance(max_tokens, int)
    except (ValueError, KeyError, IndexError, TypeError, AssertionError):
        return error(400, "ValidationException", "messages[0].content[0].text and inferenceConfig.maxTokens are required")
    if prompt.startswith("CULTURAL INSIGHT REQUEST"):
        return cultural(prompt)
    if prompt.startswith("LOCALISATION REQUEST"):
        with LOCK:
            STATE["localise_calls"] += 1
            mode = STATE["lang_mode"]
        return converse_shaped(json.dumps(emucopy.localise(prompt, english=mode == "english")), prompt)
    with LOCK:
        STATE["text_calls"] += 1
        STATE["last_max_tokens"] = max_tokens
        mode, delay = STATE["text_mode"], STATE["text_delay_ms"]
    if delay:
        time.sleep(delay / 1000.0)
    if take("text_fail"):
        return error(503, "ServiceUnavailableException", "Service unavailable, try again.")
    if take("text_throttle"):
        return error(429, "ThrottlingException", "Too many requests, please wait before trying again.")
    try:
        name = json.loads(prompt.split("BRIEF AND RESEARCH:\n", 1)[1])["product"]["name"]
    except (ValueError, KeyError, IndexError, TypeError):
        name = "the product"
    camp = campaign_for(name, prompt, STATE["lang_mode"])
    if mode == "partial":
        camp = {k: camp[k] for k in ("content_ideas", "campaigns")}
    text, stop = json.dumps(camp, indent=1), "end_turn"
    if mode == "fenced":
        text = "```json\n" + text + "\n```"
    elif mode == "prose":
        text = "Here is the campaign you asked for {as promised}:\n" + text + "\nLet me know if you need changes."
    elif mode == "truncated":
        text, stop = text[:len(text) // 2], "max_tokens"
    elif mode == "garbage":
        text = "I cannot help with that request."
    return converse_shaped(text, prompt, stop)


TOOLS = ("analyze_product_image", "search_youtube_trends", "get_cultural_insights")


def converse(body):
    """Tier 1: a Converse tool-use conversation, checked turn by turn."""
    try:
        req = json.loads(body)
        msgs = req["messages"]
        tools = [t["toolSpec"] for t in req["toolConfig"]["tools"]]
        assert req["inferenceConfig"]["maxTokens"] > 0 and req["system"][0]["text"]
        assert sorted(t["name"] for t in tools) == sorted(TOOLS)
        assert all(t["inputSchema"]["json"]["type"] == "object" and t["description"] for t in tools)
        assert [m["role"] for m in msgs] == ["user", "assistant"] * (len(msgs) // 2) + ["user"]
    except (ValueError, KeyError, IndexError, TypeError, AssertionError):
        return error(400, "ValidationException", "malformed Converse request")
    with LOCK:
        STATE["converse_calls"] += 1
        mode, delay = STATE["converse_mode"], STATE["text_delay_ms"]
    if mode == "off":
        return error(400, "ValidationException", "Converse is not available for this account")
    if delay:
        time.sleep(delay / 1000.0)
    if take("text_fail"):
        return error(503, "ServiceUnavailableException", "Service unavailable, try again.")
    # Every toolUse of the last assistant turn must be answered, by id.
    results = {}
    if len(msgs) > 1:
        asked = [c["toolUse"]["toolUseId"] for c in msgs[-2]["content"] if "toolUse" in c]
        for c in msgs[-1]["content"]:
            if "toolResult" in c:
                results[c["toolResult"]["toolUseId"]] = c["toolResult"]
        if sorted(asked) != sorted(results):
            return error(400, "ValidationException", "toolResult ids do not match the toolUse ids")
    seen = {}
    for m in msgs:
        for c in m["content"]:
            if "toolUse" in c:
                seen[c["toolUse"]["toolUseId"]] = c["toolUse"]["name"]
    answered = {seen[i]: r for m in msgs for c in m["content"] if "toolResult" in c
                for i, r in [(c["toolResult"]["toolUseId"], c["toolResult"])]}
    turn = len(msgs) // 2
    if mode == "loop" or (mode == "sequential" and turn < 3) or (mode == "agent" and turn == 0):
        wanted = TOOLS if mode == "agent" else (TOOLS[turn % 3],)
        content = [{"text": "Let me look that up."}]
        for i, name in enumerate(wanted):
            content.append({"toolUse": {"toolUseId": "tooluse_%d_%d" % (turn, i), "name": name,
                                        "input": {"markets": ["Japan"]} if name == "get_cultural_insights"
                                        else {"product_name": "x"} if name == "search_youtube_trends" else {}}})
        with LOCK:
            STATE["tool_turns"].append(list(wanted))
        reply = {"output": {"message": {"role": "assistant", "content": content}}, "stopReason": "tool_use",
                 "usage": {"inputTokens": len(body) // 4, "outputTokens": 40, "totalTokens": len(body) // 4 + 40}}
        return 200, {"Content-Type": "application/json"}, json.dumps(reply).encode()
    try:
        name = json.loads(msgs[0]["content"][0]["text"].split("BRIEF AND RESEARCH:\n", 1)[1])["product"]["name"]
    except (ValueError, KeyError, IndexError, TypeError):
        name = "the product"
    camp = campaign_for(name, msgs[0]["content"][0]["text"], STATE["lang_mode"])
    label = answered.get("analyze_product_image", {}).get("content", [{}])[0].get("json", {}).get("labels", [{}])
    videos = answered.get("search_youtube_trends", {}).get("content", [{}])[0].get("json", {}).get("videos", [])
    markets = answered.get("get_cultural_insights", {}).get("content", [{}])[0].get("json", {}).get("markets", [])
    camp["content_ideas"][0]["caption"] = "Agent says: %s; seen %s; trending %s; markets %d" % (
        name, label[0].get("name", "-") if label else "-", videos[0]["title"] if videos else "-", len(markets))
    text = "Here is the campaign:\n```json\n" + json.dumps(camp) + "\n```"
    reply = {"output": {"message": {"role": "assistant", "content": [{"text": text}]}}, "stopReason": "end_turn",
             "usage": {"inputTokens": len(body) // 4, "outputTokens": len(text) // 4,
                       "totalTokens": len(body) // 4 + len(text) // 4}}
    return 200, {"Content-Type": "application/json"}, json.dumps(reply).encode()


class Handler(emubase.Handler):
    control = CTL

    def _send(self, status, headers, body):
        headers = dict(headers, **{"x-amzn-RequestId": str(uuid.uuid4())})
        self.send(status, body, headers, content_type=headers.pop("Content-Type", "application/json"))

    def do_GET(self):
        if not self.controlled():
            self._send(*error(404, "UnknownOperationException", "unknown operation"))

    def do_POST(self):
        body = self.body()
        if self.controlled(body):
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        with LOCK:
            STATE["requests"] += 1
            STATE["in_flight"] += 1
            STATE["max_in_flight"] = max(STATE["max_in_flight"], STATE["in_flight"])
        try:
            status, hdrs, out = invoke(self.path, headers, body)
        finally:
            bump("in_flight", -1)
        return self._send(status, hdrs, out)


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--access-key", required=True)
    p.add_argument("--secret-key", required=True)
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--model", default="amazon.nova-canvas-v1:0")
    p.add_argument("--text-model", default="amazon.nova-pro-v1:0")
    p.add_argument("--issued", default=None)
    ARGS = p.parse_args()
    for w, h in SIZES:
        png_of(w, h)
    emubase.serve(ARGS.port, Handler)


if __name__ == "__main__":
    main()
