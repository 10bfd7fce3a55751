"""bench/api.py runs (tiny sizes): both sides measured, the table rendered."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from test_api_support import free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.api import run


@pytest.mark.slow
def test_api_benchmark_smoke(db_url: str) -> None:
    table = asyncio.run(run(db_url, clients=2, seconds=0.3, rounds=1, port=free_port()))
    rows = {
        line.split("|")[1].strip(): line for line in table.splitlines() if line.startswith("| ")
    }
    assert {"python", "http"} <= set(rows)
    assert "HTTP throughput is 1/" in table
