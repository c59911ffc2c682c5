"""Scenarios of flows/steps/fetch_ahead.py, each run in a fresh process by test_fetch_ahead.py: the head start
is only taken in a process without other threads, and a pytest process has Prefect's and servers' by then.

    python tests/flows/fetch_ahead_scenarios.py SCENARIO HOME REGISTRY  ->  one JSON line
"""

from __future__ import annotations

import json
import sys
import threading


def main(scenario: str, home: str, registry: str) -> dict:
    from flows.settings import load_settings
    from flows.steps import fetch_ahead, fetching

    settings = load_settings(env={}, home=home, sources=registry, min_delay=0.0, retries=0)
    out: dict = {}
    if scenario == "beside_a_thread":
        stop = threading.Event()
        t = threading.Thread(target=stop.wait, daemon=True)
        t.start()
        out["started"] = fetch_ahead.start_revalidation(2024, settings)
        stop.set()
        t.join()
        return out
    if scenario == "full_run":
        out["started"] = fetch_ahead.start_revalidation(2024, settings.with_overrides(full_run=True))
        return out
    out["started"] = fetch_ahead.start_revalidation(2024, settings)
    ahead = fetch_ahead._REVALIDATION.get("process")
    step_settings = settings
    if scenario == "other_settings":
        step_settings = settings.with_overrides(max_per_host=3)
    elif scenario == "died":
        fetch_ahead._REVALIDATION["process"].kill()
    lines: list[str] = []
    called = []
    outcomes = fetching.fetch_batch(fetching.load_sources(step_settings, 2024), step_settings,
                                    progress=lines.append, meanwhile=lambda: called.append(1))
    out.update(fetch=[o.fetch for o in outcomes], sha=[o.content_sha256 for o in outcomes], lines=lines,
               meanwhile=len(called), still_waiting=fetch_ahead.revalidating())
    if ahead is not None:  # a head start not taken may still be asking (a busy machine): its requests counted too
        ahead.join(timeout=60)
    return out


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4]), ensure_ascii=False))
