"""The command line's unhappy paths (issue 10, operability): down with --pg 16, rollback
confirmation, health with project migrations, a closed pipe, an empty export, progress."""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pgrecall
import pgrecall.cli.common as common
from pgrecall import Store
from pgrecall.cli import main
from pgrecall.cli.progress import row_bar, step_bar
from pgrecall.dev import embedded
from pgrecall.errors import NotFoundError
from pgrecall.ops import cleanup, export_tenant, import_tenant
from pgrecall.ops.cleanup import CLEANUP_STEPS
from pgrecall.query.resources import migrations_dir

BIN = Path(sys.executable).parent
BASIC = Path(__file__).parent / "fixtures" / "migrations" / "basic"


# -- pgrecall down / --pg ------------------------------------------------------------------


@pytest.fixture
def fake_servers(monkeypatch: pytest.MonkeyPatch) -> tuple[set[int], list[int]]:
    """Embedded servers by version, without starting any: (running, stopped)."""
    running: set[int] = set()
    stopped: list[int] = []

    def status(data_dir: Path | str, version: int = 18) -> embedded.EmbeddedServer | None:
        if version not in running:
            return None
        return embedded.EmbeddedServer(Path(data_dir), version, f"postgresql:///v{version}")

    def stop(data_dir: Path | str, version: int = 18, **_: Any) -> bool:
        if version not in running:
            return False
        running.discard(version)
        stopped.append(version)
        return True

    monkeypatch.setattr(embedded, "status", status)
    monkeypatch.setattr(embedded, "stop", stop)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("PGRECALL_EMBEDDED_VERSION", raising=False)
    return running, stopped


def test_down_stops_a_server_started_with_pg_16(
    fake_servers: tuple[set[int], list[int]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    running, stopped = fake_servers
    running.add(16)
    assert main(["--dir", str(tmp_path), "--pg", "18", "down"]) == 0  # asked for 18 only
    assert capsys.readouterr().out.strip() == "not running" and stopped == []
    assert main(["--dir", str(tmp_path), "down"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "stopped" and stopped == [16]
    assert "PostgreSQL 16" in captured.err
    running.update({16, 18})
    assert main(["--dir", str(tmp_path), "down"]) == 0
    assert sorted(stopped) == [16, 16, 18]
    assert main(["--dir", str(tmp_path), "down"]) == 0
    assert capsys.readouterr().out.strip().endswith("not running")


def test_commands_use_the_running_version(
    fake_servers: tuple[set[int], list[int]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    running, _ = fake_servers
    args = argparse.Namespace(pg=None, dir=tmp_path, url=None)
    assert common.pg_version(args) == 18  # nothing runs: the default
    running.add(16)
    assert common.pg_version(args) == 16
    assert common.resolve_url(args) == "postgresql:///v16"
    assert "using the embedded PostgreSQL 16" in capsys.readouterr().err
    running.add(18)
    assert common.pg_version(args) == 18  # both: PGRECALL_EMBEDDED_VERSION first
    monkeypatch.setenv("PGRECALL_EMBEDDED_VERSION", "16")
    assert common.pg_version(args) == 16
    assert common.pg_version(argparse.Namespace(pg=18, dir=tmp_path, url=None)) == 18
    monkeypatch.delenv("PGRECALL_EMBEDDED_VERSION")
    running.discard(18)
    started: list[int] = []

    def start(data_dir: Path | str, version: int = 18) -> embedded.EmbeddedServer:
        started.append(version)
        return embedded.EmbeddedServer(Path(data_dir), version, f"postgresql:///v{version}")

    monkeypatch.setattr(embedded, "start", start)
    assert main(["--dir", str(tmp_path), "up"]) == 0  # 16 runs: up reuses it
    assert started == [16] and "PostgreSQL 16 running" in capsys.readouterr().out


# -- pgrecall rollback needs --yes for the initial migration or many -------------------------


def test_rollback_to_the_initial_migration_needs_yes(
    empty_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = ["--url", empty_db_url]
    assert main([*cli, "migrate", "--source", str(BASIC)]) == 0
    assert main([*cli, "rollback", "--source", str(BASIC), "--count", "5"]) == 2
    err = capsys.readouterr().err
    assert "initial one, 0101_basic_notes" in err and "add --yes" in err
    assert main([*cli, "status", "--source", str(BASIC)]) == 0
    assert "pending" not in capsys.readouterr().out  # nothing was rolled back
    assert main([*cli, "rollback", "--source", str(BASIC), "--count", "5", "--dry-run"]) == 0
    assert "would roll back 3" in capsys.readouterr().out  # a dry run needs no --yes
    assert main([*cli, "rollback", "--source", str(BASIC)]) == 0  # one, not the first: fine
    assert main([*cli, "rollback", "--source", str(BASIC), "--count", "2", "--yes"]) == 0
    assert "rolled back 2 migration(s)" in capsys.readouterr().out


def test_rolling_back_more_than_three_needs_yes(
    empty_db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(1, 7):
        (tmp_path / f"000{i}_t{i}.sql").write_text(f"-- t{i}\nCREATE TABLE t{i} (i bigint);\n")
        (tmp_path / f"000{i}_t{i}.rollback.sql").write_text(f"DROP TABLE t{i};\n")
    cli = ["--url", empty_db_url]
    assert main([*cli, "migrate", "--source", str(tmp_path)]) == 0
    assert main([*cli, "rollback", "--source", str(tmp_path), "--count", "4"]) == 2
    assert "rolls back 4 migrations (0006_t6, 0005_t5, 0004_t4, 0003_t3)" in (
        capsys.readouterr().err
    )
    assert main([*cli, "rollback", "--source", str(tmp_path), "--count", "3"]) == 0
    assert "rolled back 3" in capsys.readouterr().out


# -- pgrecall health --source -----------------------------------------------------------------


def test_health_knows_the_project_migrations(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = tmp_path / "app_migrations"
    app.mkdir()
    (app / "0900_app_notes.sql").write_text(
        "-- 0900 app notes\nCREATE TABLE public.app_notes (id bigint PRIMARY KEY);\n"
    )
    (app / "0900_app_notes.rollback.sql").write_text("DROP TABLE public.app_notes;\n")
    sources = ["--source", str(migrations_dir()), "--source", str(app)]
    assert main(["--url", db_url, "migrate", *sources]) == 0
    capsys.readouterr()
    assert main(["--url", db_url, "health"]) == 1  # pgrecall's own sources only
    assert "missing migration(s): 0900_app_notes" in capsys.readouterr().out
    assert main(["--url", db_url, "health", *sources]) == 0
    out = capsys.readouterr().out
    assert '"status": "healthy"' in out and "missing" in out  # the (empty) list
    with pgrecall.connect(db_url, pool_min_size=0) as store:
        assert store.health().status == "unhealthy"
        assert store.health(sources=[migrations_dir(), app]).status == "healthy"


# -- a closed pipe ----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_closed_pipe_ends_quietly(db_url: str) -> None:
    with subprocess.Popen(
        [str(BIN / "pgrecall"), "--url", db_url, "status", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # `| head` gone before the command writes a byte
        err = proc.stderr.read()
        code = proc.wait(60)
    assert code == 141, err
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_broken_pipe_in_process(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Closed(io.StringIO):
        def write(self, s: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", Closed())
    assert main(["--url", db_url, "status", "--json"]) == 141


# -- export of a tenant without rows ---------------------------------------------------------


def _seed(store: Store, tenant: str = "acme", messages: int = 3) -> None:
    with store.session(tenant=tenant) as s:
        c = s.conversations.create(user_id="u1", title="t")
        for i in range(messages):
            s.messages.append(c.id, role="user", content=f"m{i}")


def test_export_of_an_unknown_tenant_refuses_unless_allowed(
    store: Store, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(store)
    with pytest.raises(NotFoundError, match="tenant 'nosuch' has no rows"):
        export_tenant(store, "nosuch", tmp_path / "lib", allow_empty=False)
    assert not (tmp_path / "lib").exists()  # nothing written
    out = tmp_path / "cli"
    assert main(["--url", db_url, "export", "--tenant", "nosuch", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "NotFoundError" in err and "--allow-empty" in err and not out.exists()
    assert main(["--url", db_url, "export", "--tenant", "nosuch", "--out", "-"]) == 2
    assert capsys.readouterr().out == ""
    args = ["--url", db_url, "export", "--tenant", "nosuch", "--out", str(out), "--allow-empty"]
    assert main(args) == 0
    assert "warning: tenant 'nosuch' has no rows" in capsys.readouterr().err
    assert (out / "manifest.json").is_file()
    assert main(["--url", db_url, "export", "--tenant", "acme", "--out", str(tmp_path / "a")]) == 0
    assert "warning" not in capsys.readouterr().err


# -- progress -----------------------------------------------------------------------------------


def test_operations_report_progress(store: Store, tmp_path: Path) -> None:
    _seed(store, messages=1200)
    seen: dict[str, int] = {}

    def count(table: str, rows: int) -> None:
        seen[table] = seen.get(table, 0) + rows

    report = export_tenant(store, "acme", tmp_path / "x", progress=count)
    assert seen == report.rows and seen["messages"] == 1200
    stream = io.StringIO()
    seen.clear()
    export_tenant(store, "acme", stream, progress=count)
    assert seen == report.rows
    seen.clear()
    restored = import_tenant(store, tmp_path / "x", tenant="copy", progress=count)
    assert seen == restored.rows and sum(seen.values()) == sum(report.rows.values())
    steps: list[str] = []
    cleanup(store, tenant="acme", progress=steps.append)
    assert len(steps) == CLEANUP_STEPS == len(set(steps))


def test_bars_draw_on_a_terminal_only(capsys: pytest.CaptureFixture[str]) -> None:
    with row_bar("export acme", enabled=True) as progress:
        assert progress is not None
        progress("messages", 1500)
    assert "export acme" in capsys.readouterr().err
    with step_bar("cleanup", 2, enabled=True) as step:
        assert step is not None
        step("one")
        step("two")
    assert "cleanup" in capsys.readouterr().err
    with row_bar("export acme") as progress, step_bar("cleanup", 2) as step:
        assert progress is None and step is None  # captured stderr is not a terminal
    assert capsys.readouterr().err == ""


def test_cli_without_a_terminal_prints_no_bar(
    store: Store, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(store)
    assert main(["--url", db_url, "export", "--tenant", "acme", "--out", str(tmp_path / "e")]) == 0
    assert main(["--url", db_url, "cleanup", "--tenant", "acme"]) == 0
    err = capsys.readouterr().err
    assert "rows/s" not in err and "steps" not in err and "%|" not in err


# -- the README's `pgrecall check` example ---------------------------------------------------


def test_readme_check_example_prints_what_the_readme_says(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    start = readme.index("## Checking queries against the schema")
    section = readme[start : readme.index("\n## ", start + 10)]
    sql = re.findall(r"```sql\n(.*?)```", section, re.S)[0]
    models = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    transcript = re.findall(r"```\n(\$ pgrecall check --source app/queries\n.*?)```", section, re.S)
    expected = [
        line for line in transcript[0].splitlines() if line.startswith("app/queries/")
    ]
    (tmp_path / "app" / "queries").mkdir(parents=True)
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "queries" / "overview.sql").write_text(sql)
    (tmp_path / "app" / "models.py").write_text(
        "from datetime import datetime\nfrom uuid import UUID\n"
        "from pydantic import BaseModel\n" + models
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "app" or m.startswith("app.")]:
        monkeypatch.delitem(sys.modules, name)
    assert main(["--url", db_url, "check", "--source", "app/queries"]) == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed == expected


def test_an_untranslated_database_error_is_a_message_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad_url = "postgresql://nobody:wrong@127.0.0.1:1/none"
    assert main(["--url", bad_url, "check", "--in-place"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pgrecall check: ") and "Traceback" not in err
    assert "127.0.0.1" in err and "port 1" in err  # libpq's own reason


@pytest.mark.slow
def test_the_bar_shows_on_a_real_terminal(store: Store, db_url: str, tmp_path: Path) -> None:
    """stderr on a pseudo-terminal: the bar is drawn there; stdout keeps the JSON report."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    _seed(store, messages=1500)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # 120 columns
    with subprocess.Popen(
        [str(BIN / "pgrecall"), "--url", db_url, "export", "--tenant", "acme",
         "--out", str(tmp_path / "e")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        text=True,
    ) as proc:
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        out = proc.stdout.read() if proc.stdout else ""
        assert proc.wait(60) == 0
    os.close(master)
    terminal = b"".join(chunks).decode(errors="replace")
    assert "export acme" in terminal and "rows" in terminal, terminal
    assert '"messages": 1500' in out  # the report, untouched by the bar


def test_ctrl_c_is_a_line_and_exit_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pgrecall.cli.migrate as cli_migrate

    def interrupted(args: argparse.Namespace) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_migrate, "cmd_lint", interrupted)
    assert main(["lint"]) == 130
    assert capsys.readouterr().err == "pgrecall lint: interrupted\n"


def test_import_reads_a_stream_file_written_by_export(
    store: Store, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(store)
    assert main(["--url", db_url, "export", "--tenant", "acme", "--out", "-"]) == 0
    stream = tmp_path / "acme.jsonl"
    stream.write_text(capsys.readouterr().out)
    assert main(["--url", db_url, "import", str(stream)]) == 2  # a stream names no tenant
    assert "which tenant?" in capsys.readouterr().err
    assert main(["--url", db_url, "import", str(stream), "--tenant", "copy"]) == 0
    assert '"messages": 3' in capsys.readouterr().out
    with store.session(tenant="copy") as s:
        assert len(s.conversations.list("u1")) == 1
