#!/usr/bin/python3
"""Campaign latency end to end through nginx, driven by scripts/bench.

  builtin   30 campaigns with the built-in providers
  cloud     tier 2 with the cloud providers against their emulators, each
            stage answering after ADS_BENCH_DELAY_MS (300): Rekognition,
            YouTube (two dependent calls), Nova Pro's cultural insight, then
            Nova Pro's synthesis. Reported next to the ideal with the stages
            side by side and with the stages one after another.

Environment: ADS_BENCH_URL, ADS_BENCH_KEY, ADS_BENCH_PHOTO; for cloud also
ADS_YOUTUBE_URL, ADS_REKOGNITION_URL, ADS_BEDROCK_URL."""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchclient import BASE, behave, call, upload_photo  # noqa: E402

BRIEF = {"product_info": {"name": "Aurora Desk Lamp", "category": "Home Office",
                          "description": "A dimmable LED desk lamp with a wireless charging base.",
                          "key_features": ["Wireless charging base", "Five colour temperatures"]},
         "target_markets": {"markets": ["North America", "Germany", "Japan"]},
         "campaign_objectives": {"target_audience": "remote workers", "campaign_duration": "4 weeks",
                                 "primary_goal": "drive online sales", "budget": "$8,000"}}


def brief():
    return dict(BRIEF, upload_id=upload_photo())


def measure(n):
    b = brief()
    times, methods = [], set()
    for _ in range(n):
        t0 = time.perf_counter()
        methods.add(call("POST", BASE + "/api/campaign/tier-1", b)["generation_method"])
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[int(n * 0.9) - 1], methods


def cloud(delay, youtube_call):
    behave(os.environ["ADS_REKOGNITION_URL"], {"delay_ms": delay})
    behave(os.environ["ADS_YOUTUBE_URL"], {"delay_ms": youtube_call})
    behave(os.environ["ADS_BEDROCK_URL"], {"text_delay_ms": delay, "converse_mode": "off"})
    med, p90, methods = measure(10)
    stage = max(delay, 2 * youtube_call)
    print("tier 2, Rekognition %d ms, YouTube 2 x %d ms, Nova Pro cultural %d ms, synthesis %d ms:"
          " median %.0f ms, p90 %.0f ms (%s); ideal side by side %d ms, one after another %d ms;"
          " our own share %.0f ms"
          % (delay, youtube_call, delay, delay, med, p90, ",".join(sorted(methods)), stage + delay,
             delay + 2 * youtube_call + delay + delay, med - stage - delay))


if __name__ == "__main__":
    if sys.argv[1:] == ["builtin"]:
        med, p90, _ = measure(30)
        print("campaign_builtin_ms median %.1f p90 %.1f (30 requests, 1.2 MP photo)" % (med, p90))
    else:
        d = int(os.environ.get("ADS_BENCH_DELAY_MS", "300"))
        cloud(d, d // 2)      # each stage 300 ms: the arithmetic
        cloud(d, d)           # every call 300 ms: YouTube's stage is two calls
