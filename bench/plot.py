"""The PNG of a run: pgrecall's speedup over each peer per workload, and recall@10.

matplotlib (the ``bench`` extra) with the Agg backend: no display needed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from ._harness import Result, machine

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["PEER_COLOURS", "plot"]

PEER_COLOURS = {
    "raw psycopg": "#8c8c8c",
    "SQLAlchemy ORM": "#d62728",
    "langchain-postgres": "#1f77b4",
    "pgrecall": "#2ca02c",
}


def plot(results: list[Result], path: Path) -> Path | None:
    """Draw the speedups (log scale) and the recall of the searches; ``None`` when
    nothing in ``results`` has a peer to compare with."""
    rows = [r for r in results if r.speedups]
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recalls = [r for r in results if any(k.endswith("recall@10") for k in r.extra)]
    fig, axes = plt.subplots(
        1, 2 if recalls else 1, figsize=(13 if recalls else 9, 0.5 * len(rows) + 1.8),
        gridspec_kw={"width_ratios": [3, 1]} if recalls else None, squeeze=False,
    )
    _speedups(axes[0][0], rows)
    if recalls:
        _recalls(axes[0][1], recalls)
    m = machine()
    fig.suptitle(f"pgrecall vs peers — {m['cpu']}, {m['cores']} cores, Python {m['python']}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _speedups(ax: Axes, rows: list[Result]) -> None:
    """Bars from 1× (log scale): right of the line pgrecall is faster, left slower; a
    black tick marks the target where there is one."""
    peers = [p for p in PEER_COLOURS if any(p in r.speedups for r in rows)]
    height = 0.8 / max(1, len(peers))
    labelled: set[str] = set()
    for i, r in enumerate(rows):
        goal = _target(r)
        for j, peer in enumerate(peers):
            if peer not in r.speedups:
                continue
            y = i + (j - (len(peers) - 1) / 2) * height
            x = r.speedups[peer]
            ax.barh(y, x - 1, height, left=1, color=PEER_COLOURS[peer],
                    label=None if peer in labelled else peer)
            labelled.add(peer)
            ax.text(x, y, f" {x:.2f}× ", va="center",
                    ha="left" if x >= 1 else "right", fontsize=7)
            if goal is not None and goal[0] == peer:
                ax.plot([goal[1]], [y], marker="|", markersize=12, color="black",
                        label=None if "target" in labelled else "target")
                labelled.add("target")
    ax.set_xscale("log")
    xs = [x for r in rows for x in r.speedups.values()]
    xs += [goal[1] for r in rows if (goal := _target(r)) is not None]
    lo, hi = min(xs) / 1.6, max(xs) * 1.6
    ticks = [t for t in (0.125, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64) if lo <= t <= hi]
    ax.set_xticks(ticks, [f"{t:g}×" for t in ticks])
    ax.minorticks_off()
    ax.set_xlim(lo, hi)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(rows)), [r.name for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("pgrecall speedup over the peer (> 1×: pgrecall faster; log scale)")
    ax.legend(fontsize=8, loc="lower right")


def _target(r: Result) -> tuple[str, float] | None:
    """(peer, speedup the target asks for) from "≥ 3× SQLAlchemy ORM" / "≤ 1.15×"."""
    found = re.fullmatch(r"≥ ([\d.]+)× (.+)", r.target or "")
    if found and found.group(2) in r.speedups:
        return found.group(2), float(found.group(1))
    found = re.fullmatch(r"≤ ([\d.]+)×", r.target or "")
    if found and r.baseline in r.speedups:
        return r.baseline, 1 / float(found.group(1))
    return None


def _recalls(ax: Axes, rows: list[Result]) -> None:
    sides = [p for p in PEER_COLOURS if any(f"{p} recall@10" in r.extra for r in rows)]
    height = 0.8 / max(1, len(sides))
    for i, r in enumerate(rows):
        for j, side in enumerate(sides):
            value = r.extra.get(f"{side} recall@10")
            if value is None:
                continue
            y = i + (j - (len(sides) - 1) / 2) * height
            ax.barh(y, value, height, color=PEER_COLOURS[side], label=side if i == 0 else None)
            ax.text(value, y, f" {value:.2f}", va="center", fontsize=7)
    ax.axvline(0.9, color="black", linewidth=0.8, linestyle="--")
    ax.set_xlim(0, 1.2)
    names = [r.name.replace("top-10 vector search, ", "") for r in rows]
    ax.set_yticks(range(len(rows)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("recall@10 (dashed: 0.9)")
    ax.legend(fontsize=7, loc="lower left")
