#!/usr/bin/python3
"""Integration suite for the cloud campaign providers: campaigns through
nginx with video_provider = youtube against the YouTube Data API emulator
(tests/emulators/youtubeemu.py), vision_provider = rekognition against the
Rekognition emulator (tests/emulators/rekognitionemu.py) and text_provider
= bedrock against the bedrock-runtime emulator's Nova Pro, on the same
private stack as the job-queue suite."""

import json
import math
import os
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (VAR, Emulator, campaign_from_photo, config_value, lamp_brief, expect, post, request,  # noqa: E402
                     run, sql, test)
from harness import check_creatives, check_localised  # noqa: E402

ALICE = os.environ["ADS_KEY_ALICE"]
EMU_URL = os.environ["ADS_YOUTUBE_URL"]
REKOGNITION_URL = os.environ["ADS_REKOGNITION_URL"]
BEDROCK_URL = os.environ["ADS_BEDROCK_URL"]
PHOTO = os.path.join(os.environ["ADS_ROOT"], "data", "sample-product.png")
BRIEF = lamp_brief(["North America", "Japan"])
# Under ThreadSanitizer the pixel analysis before the Rekognition call is
# several times slower: the services' delays grow so the stages still overlap.
OVERLAP_SCALE = 4 if os.environ.get("ADS_SANITIZER") == "thread" else 1


YOUTUBE = Emulator(EMU_URL)
REKOGNITION = Emulator(REKOGNITION_URL)
BEDROCK = Emulator(BEDROCK_URL)
behave = YOUTUBE.behave
rk = REKOGNITION.behave
rk_stats = REKOGNITION.stats


def nova(**kw):
    """Tier 2 unless told otherwise: Converse (tier 1) is refused."""
    kw.setdefault("converse_mode", "off")
    BEDROCK.behave(**kw)


def stored_campaign(product_id):
    return json.loads(sql("SELECT campaign FROM products WHERE product_id = '%s'" % product_id))


def noisy_png(w, h):
    """A PNG that does not compress: over 5 MB at 1600x1200."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + os.urandom(w * 3) for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))


def campaign(photo=None):
    return campaign_from_photo(ALICE, BRIEF, photo if photo is not None else open(PHOTO, "rb").read())


def youtube_row(product_id):
    return json.loads(sql("SELECT youtube_data FROM products WHERE product_id = '%s'" % product_id))


@test
def campaign_carries_related_videos_in_both_spellings():
    behave()
    j, _ = campaign()
    videos = j["campaign"]["related_youtube_videos"]
    expect(len(videos) == 10, "%d videos" % len(videos))
    s = YOUTUBE.stats()
    expect(s["search"] == 1 and s["videos"] == 1 and len(s["last_ids"]) == 10,
           "one search and one statistics call for all results: %s" % s)
    for rank, v in enumerate(videos):
        expect(v["channel_title"] == v["channelTitle"] and v["thumbnail_url"] == v["thumbnailUrl"], v)
        expect(v["thumbnail_url"].endswith("/hqdefault.jpg") and v["url"] == "https://www.youtube.com/watch?v=" + v["video_id"])
        for k in ("viewCount", "likeCount", "commentCount", "relevance_score"):
            expect(isinstance(v[k], int), "%s is not an integer: %r" % (k, v[k]))
        want = round(60 * (10 - rank) / 10 + 40 * min(1, math.log10(1 + v["viewCount"]) / 7))
        expect(v["relevance_score"] == want and 0 <= want <= 100, (rank, v["relevance_score"], want))
    expect(videos[1]["viewCount"] == 8000 and videos[1]["likeCount"] == 80, videos[1])
    expect(not any("video" in w for w in j["warnings"]), j["warnings"])
    row = youtube_row(j["product_id"])
    expect(row["provider"] == "youtube" and row["query"] == "Aurora Desk Lamp Home Office review", row)
    expect(len(row["videos"]) == 10 and "error" not in row)


@test
def quota_exceeded_gives_a_warning_and_no_invented_videos():
    behave(quota=True)
    j, body = campaign()
    expect(j["campaign"]["related_youtube_videos"] == [], "videos were invented")
    expect(any("quotaExceeded" in w for w in j["warnings"]), j["warnings"])
    expect(config_value("youtube_api_key") not in body, "the API key is in the answer")
    expect("quotaExceeded" in youtube_row(j["product_id"])["error"])
    expect(YOUTUBE.stats()["search"] == 1, "a 403 was retried")


@test
def server_errors_are_retried():
    behave(fail=2)
    j, _ = campaign()
    expect(len(j["campaign"]["related_youtube_videos"]) == 10, j["warnings"])
    expect(YOUTUBE.stats()["search"] == 3)


@test
def a_broken_reply_is_a_warning():
    behave(malformed=1)
    j, _ = campaign()
    expect(j["campaign"]["related_youtube_videos"] == [])
    expect(any("not a JSON object" in w for w in j["warnings"]), j["warnings"])


@test
def hidden_like_counts_read_as_zero():
    behave(hidden_likes=True)
    j, _ = campaign()
    videos = j["campaign"]["related_youtube_videos"]
    expect(len(videos) == 10 and all(v["likeCount"] == 0 and v["viewCount"] > 0 for v in videos))


@test
def the_youtube_key_is_never_logged():
    secret = config_value("youtube_api_key")
    expect(secret and len(secret) >= 20)
    for name in os.listdir(os.path.join(VAR, "log")):
        if name.startswith("youtubeemu"):
            continue
        text = open(os.path.join(VAR, "log", name), errors="replace").read()
        expect(secret not in text, "the YouTube key is in %s" % name)


@test
def labels_come_from_rekognition_with_the_bytes_inline():
    rk()
    behave()
    j, _ = campaign()
    labels = j["campaign"]["product"]["image"]["labels"]
    names = {"Lamp", "Desk", "Electronics", "Indoors", "Light", "Interior Design"}
    expect(labels and all(label["name"] in names for label in labels), labels)
    for label in labels:
        expect(isinstance(label["instances"], int) and isinstance(label["categories"], list) and label["categories"])
        expect(75 <= label["confidence"] <= 100 and round(label["confidence"], 1) == label["confidence"], label)
    s = rk_stats()
    expect(s["signed_ok"] == 1 and s["rejected"] == 0, s)
    expect(s["image"] == "Bytes" and s["bytes_format"] == "png" and s["max_labels"] == 50 and s["min_confidence"] == 75, s)
    row = json.loads(sql("SELECT image_analysis FROM products WHERE product_id = '%s'" % j["product_id"]))
    expect(row["provider"] == "rekognition" and row["colors"] and row["width"] > 0, row)
    expect(not any("label" in w for w in j["warnings"]), j["warnings"])


@test
def a_photo_over_five_megabytes_is_sent_downscaled():
    rk()
    photo = noisy_png(1600, 1200)
    expect(5 * 1024 * 1024 < len(photo) < 10 * 1024 * 1024, len(photo))
    j, _ = campaign(photo)
    s = rk_stats()
    expect(s["image"] == "Bytes" and s["bytes_format"] == "jpeg" and s["bytes_len"] < 5 * 1024 * 1024, s)
    expect(j["campaign"]["product"]["image"]["labels"], j["warnings"])


@test
def rekognition_throttling_is_retried():
    rk(throttle=1)
    j, _ = campaign()
    expect(rk_stats()["calls"] == 2 and not any("label" in w for w in j["warnings"]), j["warnings"])


@test
def rekognition_down_degrades_to_the_builtin_labels_with_a_warning():
    rk(fail=5)
    j, body = campaign()
    expect(rk_stats()["calls"] == 3, "two retries, then give up: %s" % rk_stats())
    expect(any("built-in analysis" in w and "InternalServerError" in w for w in j["warnings"]), j["warnings"])
    expect(j["campaign"]["product"]["image"]["labels"], "no labels at all")
    expect(config_value("aws_secret_access_key") not in body)
    rk(malformed=1)
    j, _ = campaign()
    expect(any("no Labels" in w for w in j["warnings"]), j["warnings"])


@test
def nova_pro_writes_the_campaign_and_its_cost_is_recorded():
    nova()
    rk()
    behave()
    j, _ = campaign()
    expect(j["generation_method"] == "fail_safe_orchestration_with_synthesis", (j["generation_method"], j["warnings"]))
    c = j["campaign"]
    expect(c["content_ideas"][0]["caption"] == "Nova Pro says: meet Aurora Desk Lamp", c["content_ideas"][0])
    expect(c["campaigns"][0]["name"] == "Aurora Desk Lamp launch (Nova Pro)")
    # The facts stay adsmith's: estimates, videos, the photo's labels.
    expect(c["analytics"]["is_estimate"] is True and len(c["related_youtube_videos"]) == 10)
    expect(c["product"]["image"]["labels"])
    expect(not any("synthesis" in w for w in j["warnings"]), j["warnings"])
    s = BEDROCK.stats()
    expect(s["text_calls"] == 1 and s["last_max_tokens"] == 4096 and s["rejected"] == 0, s)
    row = stored_campaign(j["product_id"])
    u = row["usage"]
    expect(u["input_tokens"] > 100 and u["output_tokens"] > 100, u)
    synthesis = [c for c in u["calls"] if c["stage"] == "synthesis"]
    expect(len(synthesis) == 1 and synthesis[0]["model"] == "amazon.nova-pro-v1:0" and synthesis[0]["ok"], u)
    expect([c["ok"] for c in u["calls"] if c["stage"] == "cultural"] == [True], u)
    cultural = json.loads(sql("SELECT cultural_data FROM products WHERE product_id = '%s'" % j["product_id"]))
    expect(cultural["provider"] == "knowledge_base+bedrock", cultural)
    expect([m["market"] for m in cultural["model_insights"]["markets"]] == ["North America", "Japan"], cultural)
    expect(cultural["markets"], "the knowledge base's insight is gone")
    expect(any("tier 1" in w for w in j["warnings"]), "the refused agent is not named: %s" % j["warnings"])
    want = (u["input_tokens"] * 0.80 + u["output_tokens"] * 3.20) / 1e6
    expect(abs(row["cost_usd"] - want) < 1e-9, (row["cost_usd"], want))


def localised_campaign():
    return campaign_from_photo(ALICE, lamp_brief(["Japan", "Germany", "Brazil"]), open(PHOTO, "rb").read())


@test
def nova_pro_writes_each_market_in_its_language():
    for tier in ("off", "agent"):                 # tier 2's synthesis, then tier 1's agent
        nova(converse_mode=tier)
        rk()
        behave()
        j, _ = localised_campaign()
        expect(j["generation_method"] != "fallback_campaign", j["warnings"])
        c = j["campaign"]
        variants = check_localised(c, {"Japan": "ja", "Germany": "de", "Brazil": "pt"}, source="model")
        expect(not any(v["retried"] for v in variants.values()), variants)
        expect(BEDROCK.stats()["localise_calls"] == 0, BEDROCK.stats())
        # The creative requests are adsmith's, whatever the model wrote.
        key = sql("SELECT s3_key FROM products WHERE product_id = '%s'" % j["product_id"])
        check_creatives(c, key)


@test
def a_reply_in_the_wrong_language_is_asked_again_then_marked():
    # English in the campaign, the right language when asked again.
    nova(lang_mode="english_once")
    rk()
    behave()
    j, _ = localised_campaign()
    variants = check_localised(j["campaign"], {"Japan": "ja", "Germany": "de", "Brazil": "pt"}, source="model")
    expect(all(v["retried"] for v in variants.values()), variants)
    expect(BEDROCK.stats()["localise_calls"] == 3, BEDROCK.stats())
    calls = [x["stage"] for x in stored_campaign(j["product_id"])["usage"]["calls"]]
    expect(calls.count("localise") == 3, calls)
    # English every time: each variant is kept, marked failed, and named.
    nova(lang_mode="english")
    j, _ = localised_campaign()
    variants = {v["market"]: v for v in j["campaign"]["market_variants"]}
    for market in ("Japan", "Germany", "Brazil"):
        v = variants[market]
        expect(v["language_check"] == "failed" and v["retried"] is True and v["language_check_detail"], v)
        expect(any(market in w and "language_check failed" in w for w in j["warnings"]), j["warnings"])
    expect(BEDROCK.stats()["localise_calls"] == 3, BEDROCK.stats())


@test
def a_reply_in_fences_or_prose_is_still_read():
    for mode in ("fenced", "prose"):
        nova(text_mode=mode)
        j, _ = campaign()
        expect(j["generation_method"] == "fail_safe_orchestration_with_synthesis", (mode, j["warnings"]))
        expect(j["campaign"]["content_ideas"][0]["caption"].startswith("Nova Pro says"), mode)


@test
def missing_sections_come_from_the_builtin_plan_and_are_named():
    nova(text_mode="partial")
    j, _ = campaign()
    expect(j["generation_method"] == "fail_safe_orchestration_with_synthesis")
    c = j["campaign"]
    expect(c["content_ideas"][0]["caption"].startswith("Nova Pro says"))
    for section in ("generated_assets", "platform_recommendations", "market_insights", "recommendations"):
        expect(any(section in w for w in j["warnings"]), "%s not named: %s" % (section, j["warnings"]))
        expect(c[section], "%s is empty" % section)
    expect(c["generated_assets"]["email_templates"][0]["subject"])


@test
def a_truncated_or_unusable_reply_falls_back_with_a_warning():
    for mode, words in (("truncated", "truncated"), ("garbage", "no JSON object")):
        nova(text_mode=mode)
        j, _ = campaign()
        expect(j["generation_method"] == "fallback_campaign", mode)
        expect(any("synthesis failed" in w and words in w for w in j["warnings"]), (mode, j["warnings"]))
        u = stored_campaign(j["product_id"])["usage"]
        synthesis = [c for c in u["calls"] if c["stage"] == "synthesis"][0]
        expect(synthesis["output_tokens"] > 0 and synthesis["ok"] is False, "the tokens were paid for: %s" % u)


@test
def nova_pro_down_falls_back_after_retries():
    nova(text_fail=5)
    j, body = campaign()
    expect(j["generation_method"] == "fallback_campaign")
    expect(any("synthesis failed" in w and "ServiceUnavailableException" in w for w in j["warnings"]), j["warnings"])
    expect(BEDROCK.stats()["text_calls"] == 3)
    expect(config_value("aws_secret_access_key") not in body)


@test
def nova_pro_throttling_is_retried():
    nova(text_throttle=1)
    j, _ = campaign()
    expect(j["generation_method"] == "fail_safe_orchestration_with_synthesis", j["warnings"])
    expect(BEDROCK.stats()["text_calls"] == 2)


@test
def no_aws_secret_in_any_log():
    secret = config_value("aws_secret_access_key")
    for name in os.listdir(os.path.join(VAR, "log")):
        text = open(os.path.join(VAR, "log", name), errors="replace").read()
        expect(secret not in text, "the AWS secret is in %s" % name)


@test
def image_labels_and_video_trends_run_side_by_side():
    rk(delay_ms=400 * OVERLAP_SCALE)
    behave(delay_ms=200 * OVERLAP_SCALE)           # two YouTube calls: 400 ms in all
    nova()                         # tier 2
    j, _ = campaign()
    r, y = rk_stats(), YOUTUBE.stats()
    expect(r["first_start"] and y["first_start"], (r, y))
    # Each service was still busy when the other one started.
    expect(r["first_start"] < y["last_end"] and y["first_start"] < r["last_end"],
           "the stages ran one after the other: rekognition %.3f-%.3f, youtube %.3f-%.3f"
           % (r["first_start"], r["last_end"], y["first_start"], y["last_end"]))
    expect(j["generation_method"] == "fail_safe_orchestration_with_synthesis")


@test
def a_campaign_past_its_deadline_answers_504_and_saves_nothing():
    deadline = int(config_value("campaign_deadline_ms"))
    nova(text_delay_ms=deadline + 5000)
    before = sql("SELECT count(*) FROM products")
    r = post("/api/upload/presigned-url", {"file_name": "lamp.png", "file_type": "image/png"}, key=ALICE)
    up = r.json()
    request("PUT", None, url=up["upload_url"], body=open(PHOTO, "rb").read(), headers={"Content-Type": "image/png"})
    t0 = time.time()
    r = post("/api/campaign/tier-1", dict(BRIEF, upload_id=up["upload_id"]), key=ALICE, timeout=90)
    took = time.time() - t0
    expect(r.status == 504, (r.status, r.body[:300]))
    j = r.json()
    expect(j["success"] is False and j["code"] == "deadline_exceeded" and j["correlation_id"], j)
    expect(deadline / 1000 <= took < deadline / 1000 + 1.5, "answered after %.2f s" % took)
    expect(sql("SELECT count(*) FROM products") == before, "something was saved")
    nova()


@test
def cultural_insight_failing_keeps_the_knowledge_base_and_warns():
    nova(cultural_fail=5)
    j, _ = campaign()
    expect(any("cultural insight from the knowledge base only" in w for w in j["warnings"]), j["warnings"])
    expect(BEDROCK.stats()["cultural_calls"] == 3)
    cultural = json.loads(sql("SELECT cultural_data FROM products WHERE product_id = '%s'" % j["product_id"]))
    expect(cultural["provider"] == "knowledge_base" and cultural["markets"] and "error" in cultural, cultural)
    expect(j["generation_method"] == "fail_safe_orchestration_with_synthesis")


@test
def tier1_agent_gathers_with_its_tools_and_writes_the_campaign():
    rk(delay_ms=300 * OVERLAP_SCALE)
    behave(delay_ms=150 * OVERLAP_SCALE)
    nova(converse_mode="agent")
    j, _ = campaign()
    expect(j["generation_method"] == "bedrock_agent_with_tools", (j["generation_method"], j["warnings"]))
    c = j["campaign"]
    caption = c["content_ideas"][0]["caption"]
    # The model's answer quotes what the tools returned to it.
    first_label = c["product"]["image"]["labels"][0]["name"]
    want = "Agent says: Aurora Desk Lamp; seen %s; trending %s; markets 2" % (
        first_label, c["related_youtube_videos"][0]["title"])
    expect(caption == want, (caption, want))
    s = BEDROCK.stats()
    expect(s["converse_calls"] == 2 and s["text_calls"] == 0, s)
    expect(s["tool_turns"] == [["analyze_product_image", "search_youtube_trends", "get_cultural_insights"]], s)
    r, y = rk_stats(), YOUTUBE.stats()
    expect(r["first_start"] < y["last_end"] and y["first_start"] < r["last_end"], "one turn's tools ran one after another")
    expect(r["calls"] == 1 and y["search"] == 1, "a stage ran twice: %s %s" % (r["calls"], y["search"]))
    u = stored_campaign(j["product_id"])["usage"]
    # The cultural tool asked Nova Pro too, as the original's cultural stage did.
    expect([x["stage"] for x in u["calls"]] == ["agent", "cultural"] and u["calls"][0]["turns"] == 2
           and u["calls"][0]["ok"], u)
    expect(u["input_tokens"] > 0 and stored_campaign(j["product_id"])["cost_usd"] > 0)
    row = sql("SELECT image_analysis IS NOT NULL AND youtube_data IS NOT NULL AND cultural_data IS NOT NULL"
              " FROM products WHERE product_id = '%s'" % j["product_id"])
    expect(row == "t", "a stage's record is missing")


@test
def tier1_agent_may_ask_one_tool_per_turn():
    nova(converse_mode="sequential")
    rk()
    behave()
    j, _ = campaign()
    expect(j["generation_method"] == "bedrock_agent_with_tools", j["warnings"])
    s = BEDROCK.stats()
    expect(s["converse_calls"] == 4 and len(s["tool_turns"]) == 3, s)
    expect(j["campaign"]["content_ideas"][0]["caption"].endswith("markets 2"))


@test
def tier1_agent_that_never_answers_falls_back_to_tier2():
    nova(converse_mode="loop")
    rk()
    j, _ = campaign()
    s = BEDROCK.stats()
    turns = int(config_value("agent_max_turns") or 6)
    expect(s["converse_calls"] == turns and s["text_calls"] == 1, s)
    expect(j["generation_method"] == "fail_safe_orchestration_with_synthesis", j["generation_method"])
    expect(any("tier 1" in w and "%d turns" % turns in w for w in j["warnings"]), j["warnings"])
    expect(rk_stats()["calls"] == 1, "the image was analysed more than once")


if __name__ == "__main__":
    passed, failed = run(sys.argv[1:] or None)
    sys.exit(1 if failed else 0)
