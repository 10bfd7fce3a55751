"""Timing helpers: interleaved rounds, medians, percentiles, result files.

Benchmarks report ratios against a baseline measured in the same process run, with
the two sides alternating round by round so a noisy neighbour hits both alike.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import threading
import time
from collections.abc import Callable, Mapping
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
    # peers benchmarks: how many times faster pgrecall is than each peer (> 1: faster)
    speedups: dict[str, float] = field(default_factory=dict)
    met: bool | None = None  # the target, when there is one


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
    sides: Mapping[str, Callable[[], object]], *, n: int, rounds: int, warmup: int = 200
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


def concurrent(
    sides: Mapping[str, Callable[[int], object]], *, threads: int, ops: int, rounds: int
) -> dict[str, tuple[list[float], list[float]]]:
    """``threads`` workers each calling ``fn(worker)`` ``ops`` times, per side, ``rounds``
    times with the sides alternating. Per side: (ops/s of each round, every op's seconds).
    """
    out: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in sides}
    order = list(sides)
    for r in range(rounds):
        for name in order if r % 2 == 0 else reversed(order):
            rate, latencies = _threads(sides[name], threads, ops)
            out[name][0].append(rate)
            out[name][1].extend(latencies)
    return out


def _threads(fn: Callable[[int], object], threads: int, ops: int) -> tuple[float, list[float]]:
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []
    start_line = threading.Barrier(threads + 1)

    def work(w: int) -> None:
        start_line.wait()
        try:
            for _ in range(ops):
                t0 = time.perf_counter()
                fn(w)
                latencies[w].append(time.perf_counter() - t0)
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for t in pool:
        t.start()
    start_line.wait()
    start = time.perf_counter()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise errors[0]
    return threads * ops / elapsed, [x for lat in latencies for x in lat]


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def median(values: list[float]) -> float:
    return statistics.median(values)


def write(
    name: str,
    results: list[Result],
    *,
    directory: Path = RESULTS,
    meta: Mapping[str, object] | None = None,
) -> Path:
    """Write ``<directory>/<name>.json`` and ``.md``; return the markdown path."""
    directory.mkdir(parents=True, exist_ok=True)
    payload = {"machine": machine(), **(meta or {}), "results": [asdict(r) for r in results]}
    (directory / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    md = directory / f"{name}.md"
    md.write_text(render(results) + "\n")
    return md


def render(results: list[Result]) -> str:
    m = machine()
    peers = any(r.speedups for r in results)
    head = "| benchmark | measured | ratio | target |"
    rule = "|---|---|---|---|"
    if peers:
        head = "| benchmark | measured | ratio | pgrecall vs peers | target | met |"
        rule = "|---|---|---|---|---|---|"
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}", "", head, rule]
    notes: list[str] = []
    for r in results:
        measured = ", ".join(f"{k} {_num(v)} {r.unit}".rstrip() for k, v in r.values.items())
        ratio = f"{r.ratio:.3f}× {r.baseline}" if r.ratio is not None else ""
        name = r.name
        if r.notes:
            notes.append(r.notes)
            name += f" [{len(notes)}]"
        if peers:
            vs = ", ".join(f"{x:.2f}× vs {p}" for p, x in r.speedups.items())
            met = {None: "", True: "yes", False: "**no**"}[r.met]
            lines.append(f"| {name} | {measured} | {ratio} | {vs} | {r.target or ''} | {met} |")
        else:
            lines.append(f"| {name} | {measured} | {ratio} | {r.target or ''} |")
    if notes:
        lines += ["", "Notes:", ""]
        lines += [f"{i}. {note}" for i, note in enumerate(notes, 1)]
    return "\n".join(lines)


def _num(value: float) -> str:
    """1,234 / 12.3 / 0.123: three significant digits below 100."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:.1f}"
    return f"{value:.3g}"
