"""Health: a report that never raises, healthy or not."""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

import pgrecall
from pgrecall.cli import main
from pgrecall.ops.health import health


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgresql://nobody@127.0.0.1:{port}/nothing"


def test_store_health_is_healthy(store: pgrecall.Store) -> None:
    report = store.health()
    assert report.status == "healthy", report.problems
    assert report.server_version and report.database and report.latency_ms is not None
    assert report.pgvector_version is not None and report.in_recovery is False
    assert report.pool is not None and "pool_max" in report.pool
    assert report.migrations is not None and report.migrations.applied >= 5
    assert report.migrations.pending == [] and report.migrations.drifted == []
    assert json.loads(report.model_dump_json())["status"] == "healthy"


async def test_async_store_health(astore: pgrecall.AsyncStore) -> None:
    report = await astore.health(check_migrations=False)
    assert report.status == "healthy" and report.migrations is None


def test_unreachable_server_is_unhealthy_not_an_exception() -> None:
    report = health(_closed_port_url(), timeout=2)
    assert report.status == "unhealthy"
    assert report.problems and "OperationalError" in report.problems[0]
    assert report.server_version is None
    bad_scheme = health("mysql://x/y")
    assert bad_scheme.status == "unhealthy" and "ConfigurationError" in bad_scheme.problems[0]


def test_unmigrated_database_is_unhealthy(empty_db_url: str) -> None:
    report = health(empty_db_url)
    assert report.status == "unhealthy" and report.server_version is not None
    assert "schema pgrecall does not exist" in report.problems[0]


def test_cli_health(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--url", db_url, "health"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "healthy"
    assert main(["--url", _closed_port_url(), "health"]) == 1
    assert json.loads(capsys.readouterr().out)["status"] == "unhealthy"


@pytest.mark.slow
def test_store_health_with_the_server_stopped() -> None:
    from pgrecall.dev import embedded

    home = Path(tempfile.mkdtemp(prefix="pgrecall-health-"))
    try:
        server = embedded.start(home, 18)
        with pgrecall.connect(server.url, pool_min_size=1, pool_max_size=2) as store:
            up = store.health()  # answers, but has no pgrecall schema
            assert up.server_version is not None and up.latency_ms is not None
            embedded.stop(home, 18, mode="immediate")
            report = store.health()
            assert report.status == "unhealthy" and report.server_version is None
            assert "OperationalError" in report.problems[0]
            assert report.pool is not None  # pool stats are still reported
    finally:
        embedded.stop(home, 18, mode="immediate")
        shutil.rmtree(home, ignore_errors=True)
