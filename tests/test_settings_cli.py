"""Settings, URL handling, the generated sync code, packaging and the command line."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import pgrecall
from pgrecall import ConfigurationError
from pgrecall.cli import main
from pgrecall.settings import Settings, libpq_url, yoyo_url

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "url",
    ["postgres://u:p@h:5/d", "postgresql://u:p@h:5/d", "postgresql+psycopg://u:p@h:5/d"],
    ids=["postgres", "postgresql", "yoyo"],
)
def test_url_schemes_normalise(url: str) -> None:
    assert libpq_url(url) == "postgresql://u:p@h:5/d"
    assert yoyo_url(url) == "postgresql+psycopg://u:p@h:5/d"


def test_unsupported_scheme() -> None:
    with pytest.raises(ConfigurationError, match="unsupported database URL scheme"):
        libpq_url("mysql://h/d")


def test_connect_without_url_names_pgrecall_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigurationError, match="pgrecall up"):
        pgrecall.connect()


def test_settings_from_env_and_constructor_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://env/db")
    monkeypatch.setenv("PGRECALL_POOL_MAX_SIZE", "7")
    monkeypatch.setenv("PGRECALL_STATEMENT_TIMEOUT_MS", "1500")
    s = Settings()
    assert (s.database_url, s.pool_max_size, s.statement_timeout_ms) == (
        "postgres://env/db",
        7,
        1500,
    )
    assert Settings(database_url="postgres://arg/db", pool_max_size=3).pool_max_size == 3
    assert Settings(database_url="postgres://arg/db").database_url == "postgres://arg/db"


def test_statement_timeout_reaches_the_server(db_url: str) -> None:
    q = pgrecall.Query.from_string("t", "scalar", "SELECT current_setting('statement_timeout')")
    with pgrecall.connect(db_url, statement_timeout_ms=1234) as store, store.connection() as db:
        assert db.scalar(q, str) == "1234ms"


def test_generated_sync_modules_are_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "async_to_sync.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_cli_status_migrate_and_health(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--url", db_url, "migrate"]) == 0
    assert "nothing to apply" in capsys.readouterr().out.lower()
    assert main(["--url", db_url, "status"]) == 0
    out = capsys.readouterr().out
    assert "applied" in out and "0002_core" in out and "pending" not in out
    assert main(["--url", db_url, "lint"]) == 0


def test_cli_uses_database_url_and_says_so(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", yoyo_url(db_url))
    assert main(["status"]) == 0
    assert "using DATABASE_URL" in capsys.readouterr().err


def test_demo_prints_real_rows_and_psql(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--url", db_url, "demo"]) == 0
    out = capsys.readouterr().out
    assert "retried append with request_id turn-0 returned seq 2" in out
    assert "message_count=7" in out and "acme sees 0 conversations" in out
    assert "(text #1, vector #1)  HNSW is a graph index" in out
    assert "#None" not in out and "no text match, vector #2" in out  # a vector-only hit
    assert "a toy hashed-words model" in out
    assert "run research: succeeded" in out and "health: healthy" in out
    assert f"'{db_url}'" in out


@pytest.mark.slow
def test_up_down_and_psql_on_the_embedded_server(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_RUNTIME_DIR": "/tmp"}
    env.pop("DATABASE_URL", None)
    cli = [str(BIN / "pgrecall"), "--dir", str(tmp_path / "pg")]
    up = subprocess.run([*cli, "up"], capture_output=True, text=True, env=env)
    try:
        assert up.returncode == 0, up.stderr
        assert "DATABASE_URL=postgresql+psycopg://" in up.stdout
        psql = subprocess.run(
            [*cli, "psql", "-Atc", "SELECT extname FROM pg_extension ORDER BY 1"],
            capture_output=True, text=True, env=env, check=True,
        )
        assert "using the embedded PostgreSQL 18" in psql.stderr
        assert "plpgsql" in psql.stdout
        again = subprocess.run([*cli, "up"], capture_output=True, text=True, env=env, check=True)
        assert again.stdout == up.stdout  # reused, same URL
    finally:
        down = subprocess.run([*cli, "down"], capture_output=True, text=True, env=env)
    assert down.stdout.strip() == "stopped"


@pytest.mark.slow
def test_down_finds_a_server_started_with_pg_16(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_RUNTIME_DIR": "/tmp"}
    env.pop("DATABASE_URL", None)
    env.pop("PGRECALL_EMBEDDED_VERSION", None)
    cli = [str(BIN / "pgrecall"), "--dir", str(tmp_path / "pg")]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cli, *args], capture_output=True, text=True, env=env)

    up = run("--pg", "16", "up")
    try:
        assert up.returncode == 0, up.stderr
        assert "embedded PostgreSQL 16 running" in up.stdout
        psql = run("psql", "-Atc", "SHOW server_version_num")  # no --pg: the running one
        assert psql.stdout.startswith("16"), psql.stderr
        assert "using the embedded PostgreSQL 16" in psql.stderr
    finally:
        down = run("down")
    assert down.stdout.strip() == "stopped", down.stderr
    assert "PostgreSQL 16" in down.stderr
    assert run("down").stdout.strip() == "not running"


@pytest.mark.slow
def test_wheel_ships_the_sql_and_migrates_outside_the_checkout(
    tmp_path: Path, empty_db_url: str
) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)],
        check=True,
    )
    wheel = next(tmp_path.glob("pgrecall-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for f in (ROOT / "sql").rglob("*.sql"):
        assert f"pgrecall/sql/{f.relative_to(ROOT / 'sql').as_posix()}" in names
    assert "pgrecall/.squawk.toml" in names  # `pgrecall lint --squawk` finds it from sql/
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
         str(wheel)],
        check=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target), "DATABASE_URL": empty_db_url}
    code = (
        "import pgrecall.cli, pgrecall.query.resources as r; print(r.sql_dir());"
        " pgrecall.cli.main(['migrate'])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
        check=True,
    )
    assert out.stdout.splitlines()[0] == str(target / "pgrecall" / "sql")
    assert "0002_core" in out.stdout
