"""Timing helpers: interleaved rounds, medians, percentiles, result files.

Benchmarks report ratios against a baseline measured in the same process run, with
the two sides alternating round by round so a noisy neighbour hits both alike.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


@dataclass
class Result:
    name: str
    unit: str
    values: dict[str, float]
    ratio: float | None = None
    baseline: str | None = None
    target: str | None = None
    notes: str = ""
    extra: dict[str, float] = field(default_factory=dict)


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def per_call(fn: Callable[[], object], n: int) -> float:
    """Mean seconds per call over ``n`` calls."""
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def interleaved(
    sides: dict[str, Callable[[], object]], *, n: int, rounds: int, warmup: int = 200
) -> dict[str, list[float]]:
    """Per-call seconds for each side, ``rounds`` times, sides alternating."""
    for fn in sides.values():
        per_call(fn, warmup)
    samples: dict[str, list[float]] = {name: [] for name in sides}
    order = list(sides)
    for r in range(rounds):
        for name in order if r % 2 == 0 else reversed(order):
            samples[name].append(per_call(sides[name], n))
    return samples


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def median(values: list[float]) -> float:
    return statistics.median(values)


def write(name: str, results: list[Result]) -> Path:
    """Write ``bench/results/<name>.json`` and ``.md``; return the markdown path."""
    RESULTS.mkdir(exist_ok=True)
    payload = {"machine": machine(), "results": [asdict(r) for r in results]}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    md = RESULTS / f"{name}.md"
    md.write_text(render(results) + "\n")
    return md


def render(results: list[Result]) -> str:
    m = machine()
    lines = [
        f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}",
        "",
        "| benchmark | measured | ratio | target |",
        "|---|---|---|---|",
    ]
    for r in results:
        measured = ", ".join(f"{k} {v:,.1f} {r.unit}" for k, v in r.values.items())
        ratio = f"{r.ratio:.3f}× {r.baseline}" if r.ratio is not None else ""
        lines.append(f"| {r.name} | {measured} | {ratio} | {r.target or ''} |")
    return "\n".join(lines)
