"""Runs inside the Rasa runtime: loads a trained model and reports, for the held-out set,
intent accuracy (after the fallback threshold) and per-message parse latency, as JSON.

Usage: peerbot-rasa's python scripts/nlu_probe.py MODEL.tar.gz tests/nlu/heldout.yml
"""

import asyncio
import json
import statistics
import sys
import time

import yaml
from rasa.core.agent import Agent


async def main(model: str, heldout: dict) -> None:
    agent = Agent.load(model)
    for text in ("warm up", "hi"):
        await agent.parse_message(text)
    right = total = 0
    timings = []
    for intent, messages in heldout.items():
        for message in messages:
            started = time.perf_counter()
            parsed = await agent.parse_message(message)
            timings.append(time.perf_counter() - started)
            total += 1
            right += parsed["intent"]["name"] == intent
    timings.sort()
    print(
        json.dumps(
            {
                "heldout_accuracy": right / total,
                "heldout_total": total,
                "parse_ms_median": statistics.median(timings) * 1000,
                "parse_ms_p95": timings[int(0.95 * len(timings))] * 1000,
            }
        )
    )


if __name__ == "__main__":
    with open(sys.argv[2], encoding="utf-8") as handle:
        asyncio.run(main(sys.argv[1], yaml.safe_load(handle)))
