#!/usr/bin/python3
"""An OpenAI-compatible chat-completions emulator for adsmith's tests (the
API that vLLM, llama.cpp server and Ollama serve): POST
/v1/chat/completions with a Bearer key, the request shape checked, tool
calls in the "function" shape, usage in every reply.

With tools in the request (tier 1) it asks for the three tools in one turn
(tool_calls, finish_reason "tool_calls"), then, once every call has its
"tool" message, answers with a campaign quoting their results. Without
tools it answers a cultural-insight prompt with per-market insight and
anything else with a campaign for the product named in the prompt.

Test control (under /_emu/):
  POST /_emu/behave  JSON, any of: delay_ms; fail (the next N calls answer
                     503); notools (a request with tools is refused, 400);
                     length (campaign answers are cut off, finish_reason
                     "length"); lang_mode (native, english, english_once:
                     as the bedrock emulator's)
  POST /_emu/reset
  GET  /_emu/stats   {"calls", "tool_calls", "rejected", "with_tools", "plain",
                      "localise_calls"}

Usage: openaiemu.py --port P --key KEY --model MODEL"""

import argparse
import json
import time

import emubase
import emucopy
from bedrockemu import campaign_for

ARGS = None
TOOLS = ("analyze_product_image", "search_youtube_trends", "get_cultural_insights")


CTL = emubase.Control({"delay_ms": 0, "fail": 0, "notools": False, "length": False, "calls": 0, "tool_calls": 0,
                       "rejected": 0, "with_tools": 0, "plain": 0,
                       "lang_mode": "native", "localise_calls": 0})
STATE, LOCK = CTL.state, CTL.lock


def err(status, message):
    return status, {"error": {"message": message, "type": "invalid_request_error"}}


def answer(text, finish, prompt_len, tool_calls=None):
    msg = {"role": "assistant", "content": text}
    if tool_calls:
        msg["tool_calls"] = tool_calls
    return 200, {"id": "chatcmpl-emu", "object": "chat.completion", "model": ARGS.model,
                 "choices": [{"index": 0, "message": msg, "finish_reason": finish}],
                 "usage": {"prompt_tokens": prompt_len // 4, "completion_tokens": len(text or "") // 4 + 10,
                           "total_tokens": prompt_len // 4 + len(text or "") // 4 + 10}}


def product_name(prompt, marker):
    try:
        return json.loads(prompt.split(marker, 1)[1])["product"]["name"]
    except (ValueError, KeyError, IndexError, TypeError):
        return "the product"


def complete(req):
    msgs = req["messages"]
    with LOCK:
        notools, length, lang_mode = STATE["notools"], STATE["length"], STATE["lang_mode"]
    user = next(m["content"] for m in msgs if m["role"] == "user")
    size = len(json.dumps(req))
    if "tools" in req:
        names = sorted(t["function"]["name"] for t in req["tools"] if t.get("type") == "function")
        if names != sorted(TOOLS) or not all(t["function"]["parameters"]["type"] == "object" for t in req["tools"]):
            return err(400, "unexpected tools")
        if notools:
            return err(400, "this model does not support tools")
        with LOCK:
            STATE["with_tools"] += 1
        asked = [c["id"] for m in msgs if m["role"] == "assistant" for c in m.get("tool_calls") or []]
        done = {m["tool_call_id"]: m["content"] for m in msgs if m["role"] == "tool"}
        if sorted(asked) != sorted(done):
            return err(400, "every tool call needs a tool message")
        if not asked:
            calls = [{"id": "call_%d" % i, "type": "function",
                      "function": {"name": n, "arguments": json.dumps({"product_name": "x"} if i == 1 else {})}}
                     for i, n in enumerate(TOOLS)]
            with LOCK:
                STATE["tool_calls"] += len(calls)
            return answer(None, "tool_calls", size, calls)
        results = {n: json.loads(done["call_%d" % i]) for i, n in enumerate(TOOLS)}
        camp = campaign_for(product_name(user, "BRIEF AND RESEARCH:\n"), user, lang_mode)
        labels = results["analyze_product_image"].get("labels") or [{}]
        videos = results["search_youtube_trends"].get("videos") or []
        camp["content_ideas"][0]["caption"] = "Local model says: seen %s; videos %d; markets %d" % (
            labels[0].get("name", "-"), len(videos), len(results["get_cultural_insights"].get("markets", [])))
        return answer(json.dumps(camp), "stop", size)
    with LOCK:
        STATE["plain"] += 1
    if user.startswith("CULTURAL INSIGHT REQUEST"):
        markets = json.loads(user.split("BRIEF:\n", 1)[1])["markets"]
        text = json.dumps({"markets": [{"market": m, "insights": ["Local insight for %s" % m], "cautions": [],
                                        "platforms": ["Instagram"], "timing": "Evenings"} for m in markets]})
        return answer(text, "stop", size)
    if user.startswith("LOCALISATION REQUEST"):
        with LOCK:
            STATE["localise_calls"] += 1
        return answer(json.dumps(emucopy.localise(user, english=lang_mode == "english")), "stop", size)
    camp = campaign_for(product_name(user, "BRIEF AND RESEARCH:\n"), user, lang_mode)
    camp["content_ideas"][0]["caption"] = "Local model synthesis"
    text = json.dumps(camp)
    if length:
        return answer(text[:len(text) // 3], "length", size)
    return answer(text, "stop", size)


class Handler(emubase.Handler):
    control = CTL

    def _send(self, status, body):
        self.send(status, body)

    def do_GET(self):
        if not self.controlled():
            self._send(*err(404, "not found"))

    def do_POST(self):
        body = self.body()
        if self.controlled(body):
            return
        if self.path != "/v1/chat/completions":
            return self._send(*err(404, "not found"))
        with LOCK:
            STATE["calls"] += 1
        if self.headers.get("Authorization") != "Bearer " + ARGS.key:
            with LOCK:
                STATE["rejected"] += 1
            return self._send(*err(401, "Incorrect API key provided"))
        try:
            req = json.loads(body)
            assert req["model"] == ARGS.model and isinstance(req["max_tokens"], int)
            assert [m["role"] for m in req["messages"]][:2] == ["system", "user"]
        except (ValueError, KeyError, TypeError, AssertionError):
            return self._send(*err(400, "malformed request"))
        with LOCK:
            delay = STATE["delay_ms"]
            fail = STATE["fail"] > 0
            STATE["fail"] -= fail
        if delay:
            time.sleep(delay / 1000.0)
        if fail:
            return self._send(*err(503, "the model is loading"))
        return self._send(*complete(req))


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--model", required=True)
    ARGS = p.parse_args()
    emubase.serve(ARGS.port, Handler)


if __name__ == "__main__":
    main()
