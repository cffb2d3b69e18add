#!/usr/bin/python3
"""Integration suite for text_provider = openai: campaigns through nginx
against an OpenAI-compatible chat-completions emulator
(tests/emulators/openaiemu.py), with the built-in vision and no videos."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import VAR, Emulator, campaign_from_photo, config_value, lamp_brief, expect, run, sql, test  # noqa: E402
from harness import check_localised  # noqa: E402

ALICE = os.environ["ADS_KEY_ALICE"]
EMU = os.environ["ADS_OPENAI_URL"]
PHOTO = os.path.join(os.environ["ADS_ROOT"], "data", "sample-product.png")
BRIEF = lamp_brief(["Germany", "Japan"])


SERVER = Emulator(EMU)
behave = SERVER.behave


def campaign():
    return campaign_from_photo(ALICE, BRIEF, open(PHOTO, "rb").read())


def stored(product_id, column="campaign"):
    return json.loads(sql("SELECT %s FROM products WHERE product_id = '%s'" % (column, product_id)))


@test
def tier1_runs_with_a_local_model_and_its_tools():
    behave()
    j, _ = campaign()
    expect(j["generation_method"] == "bedrock_agent_with_tools", (j["generation_method"], j["warnings"]))
    caption = j["campaign"]["content_ideas"][0]["caption"]
    label = j["campaign"]["product"]["image"]["labels"][0]["name"]
    expect(caption == "Local model says: seen %s; videos 0; markets 2" % label, caption)
    s = SERVER.stats()
    expect(s["with_tools"] == 2 and s["tool_calls"] == 3 and s["rejected"] == 0, s)
    u = stored(j["product_id"])["usage"]
    expect(u["calls"][0]["stage"] == "agent" and u["calls"][0]["model"] == config_value("openai_model"), u)
    expect(stored(j["product_id"], "cultural_data")["provider"] == "knowledge_base+openai")


@test
def a_local_model_writes_each_market_in_its_language_or_is_marked():
    brief = lamp_brief(["Japan", "Germany", "Brazil"])
    behave()
    j, _ = campaign_from_photo(ALICE, brief, open(PHOTO, "rb").read())
    check_localised(j["campaign"], {"Japan": "ja", "Germany": "de", "Brazil": "pt"}, source="model")
    expect(SERVER.stats()["localise_calls"] == 0, SERVER.stats())
    behave(lang_mode="english")
    j, _ = campaign_from_photo(ALICE, brief, open(PHOTO, "rb").read())
    variants = {v["market"]: v for v in j["campaign"]["market_variants"]}
    expect(all(v["language_check"] == "failed" and v["retried"] for v in variants.values()), variants)
    expect(SERVER.stats()["localise_calls"] == 3, SERVER.stats())
    expect(sum("language_check failed" in w for w in j["warnings"]) == 3, j["warnings"])


@test
def a_model_without_tools_gets_tier2():
    behave(notools=True)
    j, _ = campaign()
    expect(j["generation_method"] == "fail_safe_orchestration_with_synthesis", j["warnings"])
    expect(j["campaign"]["content_ideas"][0]["caption"] == "Local model synthesis")
    expect(any("tier 1" in w and "does not support tools" in w for w in j["warnings"]), j["warnings"])
    cultural = stored(j["product_id"], "cultural_data")
    expect([m["market"] for m in cultural["model_insights"]["markets"]] == ["Germany", "Japan"], cultural)


@test
def a_reply_cut_off_at_max_tokens_is_a_truncation():
    behave(notools=True, length=True)
    j, _ = campaign()
    expect(j["generation_method"] == "fallback_campaign", j["generation_method"])
    expect(any("synthesis failed" in w and "truncated" in w for w in j["warnings"]), j["warnings"])


@test
def the_model_server_down_gives_the_builtin_plan():
    behave(fail=100)
    j, body = campaign()
    expect(j["generation_method"] == "fallback_campaign", j["generation_method"])
    expect(any("synthesis failed" in w and "503" in w for w in j["warnings"]), j["warnings"])
    expect(config_value("openai_api_key") not in body)


@test
def the_openai_key_is_never_logged():
    secret = config_value("openai_api_key")
    expect(secret and len(secret) >= 20)
    for name in os.listdir(os.path.join(VAR, "log")):
        text = open(os.path.join(VAR, "log", name), errors="replace").read()
        expect(secret not in text, "the key is in %s" % name)


if __name__ == "__main__":
    passed, failed = run(sys.argv[1:] or None)
    sys.exit(1 if failed else 0)
