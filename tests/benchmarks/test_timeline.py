"""benchmarks/timeline.py: a run's progress lines, timed, beside the machine's busy cores."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # benchmarks/ is a folder of scripts, not an installed package
from benchmarks import corpus, timeline  # noqa: E402
from benchmarks.serve_corpus import serve_corpus  # noqa: E402


def test_a_small_run_is_timed_step_by_step(tmp_path):
    corpus.generate(12, tmp_path / "corpus", seed=3)
    with serve_corpus(tmp_path / "corpus") as base:
        registry = corpus.registry_for(tmp_path / "corpus", base, tmp_path / "registry.csv")
        result = timeline.run(registry, tmp_path / "home", 2024)
    assert result["returncode"] == 0, result["output"]
    messages = [m for _t, m in result["lines"]]
    assert messages[0] == "start" and messages[-1] == "end"
    for phase in ("fetching 12 report(s)", "loading", "validating", "publishing"):
        assert any(phase in m for m in messages), (phase, messages)
    times = [t for t, _m in result["lines"]]
    assert times == sorted(times) and 0 <= times[0] < times[-1]
    assert result["samples"] and all(0 <= c <= (timeline.os.cpu_count() or 1) + 0.01 for _t, c in result["samples"])
    text = timeline.table(result)
    assert "loading" in text and "mean busy cores" in text.splitlines()[-1]
    assert (tmp_path / "home" / "marts.duckdb").is_file()  # the run itself, not a dry run


def test_mean_busy_takes_the_samples_of_the_span():
    samples = [(0.25, 1.0), (0.5, 2.0), (0.75, 0.0), (2.0, 1.5)]
    assert timeline.mean_busy(samples, 0.0, 0.5) == 1.5  # the samples that end within the span: 0.25 and 0.5
    assert timeline.mean_busy(samples, 1.0, 1.2) is None
