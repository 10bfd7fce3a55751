"""pgrecall.migrate against a real PostgreSQL: lock, ledger, lint, INVALID indexes,
dry run, rollback, status, and coexistence with plain ``yoyo apply``."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import LiteralString
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
import pytest
import yoyo
from waits import wait_for

from pgrecall import migrate as migrations
from pgrecall.errors import MigrationError
from pgrecall.migrate import LOCK_KEYS, LintProblem, lint, migrate, rollback, status
from pgrecall.query.resources import migrations_dir
from pgrecall.settings import libpq_url, yoyo_url

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "migrations"
BASIC = FIXTURES / "basic"
SLOW = FIXTURES / "slow"
BASIC_IDS = ["0101_basic_notes", "0102_basic_tags", "0103_basic_tags_idx"]
SLOW_IDS = ["0201_slow_table", "0202_slow_after"]

CHILD = """
import sys
from pathlib import Path
from pgrecall import migrate as migrations
report = migrations.migrate(sys.argv[1], sources=[Path(sys.argv[2])], lock_timeout=30)
print("applied:" + ",".join(report.applied), flush=True)
"""


def with_param(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query), **params)
    return urlunsplit(parts._replace(query=urlencode(query)))


def scalar(url: str, query: LiteralString, params: tuple[object, ...] = ()) -> object:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        row = conn.execute(query, params).fetchone()
        return row[0] if row else None


def ledger(url: str) -> dict[str, tuple[str, bool]]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT migration_id, checksum, adopted FROM pgrecall_meta.migration_ledger"
        ).fetchall()
    return {mid: (checksum, adopted) for mid, checksum, adopted in rows}


def states(url: str, sources: list[Path]) -> dict[str, str]:
    return {s.id: s.state for s in status(url, sources=sources)}


def user_relations(url: str) -> int:
    count = scalar(
        url,
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname <> 'information_schema' AND n.nspname !~ '^pg_'",
    )
    assert isinstance(count, int)
    return count


def spawn(url: str, source: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def basic(tmp_path: Path) -> Path:
    """A private copy of the basic fixture, free to edit."""
    return Path(shutil.copytree(BASIC, tmp_path / "basic"))


# -- lint ------------------------------------------------------------------------------


def test_lint_passes_the_project_migrations() -> None:
    assert lint() == []
    assert lint([migrations_dir()]) == []


@pytest.mark.parametrize("name", ["basic", "slow", "invalid_index", "irreversible"])
def test_lint_passes_fixture_dirs(name: str) -> None:
    assert lint([FIXTURES / name]) == []


def test_lint_ignores_sql_in_comments_strings_and_bodies() -> None:
    assert lint([FIXTURES / "lint_ok_tricky"]) == []


LINT_CASES = {
    "bad_id": ("1_BadName.sql", 1, "is not NNNN_name"),
    "duplicate_number": ("0901_dup_second.sql", 1, "number 0901 is also used by"),
    "no_rollback": ("0911_no_rollback.sql", 1, "no `-- irreversible: <reason>` header"),
    "index_existing_table": ("0921_index_existing.sql", 5, "use CREATE INDEX CONCURRENTLY"),
    "concurrently_in_transaction": (
        "0931_concurrent_tx.sql",
        3,
        "CONCURRENTLY cannot run inside a transaction",
    ),
    "non_transactional_mixed": ("0941_mixed.sql", 5, "may only build indexes"),
    "orphan_rollback": ("0951_gone.rollback.sql", 1, "rollback file without 0951_gone.sql"),
    "unterminated_string": ("0961_unterminated.sql", 3, "unterminated quoted string"),
    "tenant_table_without_rls": (
        "0971_tenant_notes.sql",
        3,
        "tenant table pgrecall.notes (it has tenant_id) needs, in the same file: ALTER TABLE "
        "pgrecall.notes FORCE ROW LEVEL SECURITY; CREATE POLICY ... ON pgrecall.notes",
    ),
    "table_without_comment": ("0981_tags.sql", 4, "pgrecall.tags has no COMMENT ON TABLE"),
}


@pytest.mark.parametrize("case", sorted(LINT_CASES))
def test_lint_rejects_bad_migrations(case: str) -> None:
    filename, line, message = LINT_CASES[case]
    directory = FIXTURES / "lint_bad" / case
    problems = lint([directory])
    matching = [p for p in problems if p.path.name == filename and message in p.message]
    assert matching, problems
    assert matching[0].line == line
    assert str(matching[0]) == f"{directory / filename}:{line}: {matching[0].message}"


def test_lint_accepts_a_complete_tenant_table(tmp_path: Path) -> None:
    (tmp_path / "0001_notes.sql").write_text(
        "-- 0001 notes\n"
        'CREATE TABLE IF NOT EXISTS PGRECALL."Notes" (id bigint, tenant_id text NOT NULL);\n'
        "COMMENT ON TABLE pgrecall.\"Notes\" IS 'x';\n"
        'ALTER TABLE ONLY pgrecall."Notes" ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;\n'
        'CREATE POLICY tenant ON pgrecall."Notes" USING (tenant_id = current_user);\n'
        "CREATE TABLE public.untouched (tenant_id text);\n"  # not pgrecall's: no rules
    )
    (tmp_path / "0001_notes.rollback.sql").write_text('DROP TABLE pgrecall."Notes";\n')
    assert lint([tmp_path]) == []
    (tmp_path / "0001_notes.sql").write_text(
        "-- 0001 notes\nCREATE TABLE pgrecall.n (tenant_id text);\n"
        "COMMENT ON TABLE pgrecall.n IS 'x';\n"
        "ALTER TABLE pgrecall.n ENABLE ROW LEVEL SECURITY, NO FORCE ROW LEVEL SECURITY;\n"
        "CREATE POLICY p ON pgrecall.n USING (true);\n"
    )
    (tmp_path / "0001_notes.rollback.sql").write_text("DROP TABLE pgrecall.n;\n")
    assert [p.message.split(": ", 1)[1] for p in lint([tmp_path])] == [
        "ALTER TABLE pgrecall.n FORCE ROW LEVEL SECURITY"
    ]


def test_lint_problem_renders_as_path_line_message() -> None:
    problem = LintProblem(Path("a/0001_x.sql"), 7, "bad")
    assert str(problem) == "a/0001_x.sql:7: bad"


def test_lint_checks_headers(tmp_path: Path) -> None:
    (tmp_path / "0001_both.sql").write_text("-- irreversible: why\nCREATE TABLE b (i int);\n")
    (tmp_path / "0001_both.rollback.sql").write_text("DROP TABLE b;\n")
    (tmp_path / "0002_tx.sql").write_text("-- transactional: maybe\nSELECT 1;\n")
    (tmp_path / "0002_tx.rollback.sql").write_text("SELECT 1;\n")
    (tmp_path / "0003_dep.sql").write_text("-- depends: 0009_later\nSELECT 1;\n")
    (tmp_path / "0003_dep.rollback.sql").write_text("SELECT 1;\n")
    (tmp_path / "0004_empty.sql").write_text("-- irreversible: nothing to undo\n")
    messages = [p.message for p in lint([tmp_path])]
    assert any("says irreversible but has 0001_both.rollback.sql" in m for m in messages)
    assert any("transactional: maybe" in m for m in messages)
    assert any("depends on 0009_later" in m for m in messages)
    assert any("no SQL statements" in m for m in messages)


def test_migrate_refuses_on_lint_problems_and_changes_nothing(empty_db_url: str) -> None:
    bad = FIXTURES / "lint_bad" / "index_existing_table"
    with pytest.raises(MigrationError, match=r"lint problem.*\n.*0921_index_existing.sql:5:"):
        migrate(empty_db_url, sources=[bad])
    assert user_relations(empty_db_url) == 0


def test_missing_source_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="not found"):
        lint([tmp_path / "nope"])


# -- migrate, dry run, rollback, status -------------------------------------------------


@pytest.mark.parametrize("scheme", ["postgres://", "postgresql://", "postgresql+psycopg://"])
def test_migrate_accepts_every_url_scheme(empty_db_url: str, scheme: str) -> None:
    url = scheme + empty_db_url.split("://", 1)[1]
    report = migrate(url, sources=[BASIC])
    assert report.applied == BASIC_IDS
    assert states(url, [BASIC]) == dict.fromkeys(BASIC_IDS, "applied")


def test_migrate_applies_records_and_is_idempotent(empty_db_url: str) -> None:
    report = migrate(empty_db_url, sources=[BASIC])
    assert report.applied == report.plan == BASIC_IDS
    assert not report.dry_run and report.adopted == []
    assert "applied 3 migration(s)" in report.render()
    book = ledger(empty_db_url)
    assert sorted(book) == BASIC_IDS
    assert book["0101_basic_notes"] == (
        migrations.checksum(BASIC / "0101_basic_notes.sql"),
        False,
    )
    again = migrate(empty_db_url, sources=[BASIC])
    assert again.applied == again.plan == []
    assert again.render() == "nothing to apply"
    assert scalar(empty_db_url, "SELECT count(*) FROM yoyo_lock") == 0  # never used


def test_dry_run_returns_the_plan_and_changes_nothing(empty_db_url: str) -> None:
    report = migrate(empty_db_url, sources=[BASIC], dry_run=True)
    assert report.dry_run and report.applied == []
    assert report.plan == BASIC_IDS
    assert report.summaries["0103_basic_tags_idx"] == (
        "0103 basic tags index: an index on an existing table, built concurrently."
    )
    assert "would apply 3 migration(s)" in report.render()
    assert re.search(r"(?m)^  0101_basic_notes +0101 basic notes: a table", report.render())
    assert user_relations(empty_db_url) == 0
    assert scalar(empty_db_url, "SELECT to_regnamespace('pgrecall_meta')") is None

    migrate(empty_db_url, sources=[BASIC])
    back = rollback(empty_db_url, sources=[BASIC], count=2, dry_run=True)
    assert back.plan == ["0103_basic_tags_idx", "0102_basic_tags"]
    assert back.rolled_back == [] and "would roll back 2" in back.render()
    assert states(empty_db_url, [BASIC]) == dict.fromkeys(BASIC_IDS, "applied")


def test_rollback_runs_rollback_files_and_removes_ledger_rows(empty_db_url: str) -> None:
    migrate(empty_db_url, sources=[BASIC])
    report = rollback(empty_db_url, sources=[BASIC])
    assert report.rolled_back == ["0103_basic_tags_idx"]
    assert scalar(empty_db_url, "SELECT to_regclass('notes_tags_idx')") is None
    assert sorted(ledger(empty_db_url)) == BASIC_IDS[:2]

    report = rollback(empty_db_url, sources=[BASIC], count=5)
    assert report.rolled_back == ["0102_basic_tags", "0101_basic_notes"]
    assert ledger(empty_db_url) == {}
    assert scalar(empty_db_url, "SELECT count(*) FROM _yoyo_migration") == 0
    assert scalar(empty_db_url, "SELECT to_regclass('notes')") is None
    assert states(empty_db_url, [BASIC]) == dict.fromkeys(BASIC_IDS, "pending")
    assert rollback(empty_db_url, sources=[BASIC]).render() == "nothing to roll back"

    assert migrate(empty_db_url, sources=[BASIC]).applied == BASIC_IDS  # and forward again


def test_rollback_refuses_an_irreversible_migration(empty_db_url: str) -> None:
    source = FIXTURES / "irreversible"
    migrate(empty_db_url, sources=[source])
    with pytest.raises(MigrationError, match="cannot be rolled back: deleted rows cannot be"):
        rollback(empty_db_url, sources=[source])
    with pytest.raises(MigrationError, match="whole number >= 1"):
        rollback(empty_db_url, sources=[source], count=0)
    assert states(empty_db_url, [source]) == {"0701_irreversible_purge": "applied"}


def test_status_shows_applied_pending_drifted_missing(empty_db_url: str, basic: Path) -> None:
    assert states(empty_db_url, [basic]) == dict.fromkeys(BASIC_IDS, "pending")
    migrate(empty_db_url, sources=[basic])
    with (basic / "0101_basic_notes.sql").open("a") as f:
        f.write("-- an edit after the fact\n")
    (basic / "0103_basic_tags_idx.sql").unlink()
    (basic / "0103_basic_tags_idx.rollback.sql").unlink()
    (basic / "0104_basic_more.sql").write_text("-- irreversible: test\nSELECT 1;\n")

    result = {s.id: s for s in status(empty_db_url, sources=[basic])}
    assert {mid: s.state for mid, s in result.items()} == {
        "0101_basic_notes": "drifted",
        "0102_basic_tags": "applied",
        "0103_basic_tags_idx": "missing",
        "0104_basic_more": "pending",
    }
    assert result["0103_basic_tags_idx"].path is None
    assert result["0102_basic_tags"].path == basic / "0102_basic_tags.sql"
    assert result["0102_basic_tags"].applied_at is not None
    assert result["0104_basic_more"].applied_at is None
    assert result["0102_basic_tags"].as_dict()["state"] == "applied"


# -- the ledger refuses ------------------------------------------------------------------


def test_an_edited_applied_migration_is_refused(empty_db_url: str, basic: Path) -> None:
    migrate(empty_db_url, sources=[basic])
    (basic / "0102_basic_tags.sql").write_text(
        "-- 0102 basic tags, edited\nALTER TABLE notes ADD COLUMN tags text[];\n"
    )
    (basic / "0104_basic_more.sql").write_text("-- irreversible: test\nSELECT 1;\n")
    for dry_run in (True, False):
        with pytest.raises(MigrationError, match=r"0102_basic_tags\.sql changed after"):
            migrate(empty_db_url, sources=[basic], dry_run=dry_run)
    assert states(empty_db_url, [basic])["0104_basic_more"] == "pending"  # nothing applied


def test_an_edited_rollback_file_is_drift_too(empty_db_url: str, basic: Path) -> None:
    migrate(empty_db_url, sources=[basic])
    (basic / "0102_basic_tags.rollback.sql").write_text("SELECT 1;\n")
    with pytest.raises(MigrationError, match=r"0102_basic_tags\.sql changed after"):
        migrate(empty_db_url, sources=[basic])
    with pytest.raises(MigrationError, match=r"0102_basic_tags\.sql changed after"):
        rollback(empty_db_url, sources=[basic], count=2)


def test_a_missing_applied_migration_is_refused(empty_db_url: str, basic: Path) -> None:
    migrate(empty_db_url, sources=[basic])
    (basic / "0103_basic_tags_idx.sql").unlink()
    (basic / "0103_basic_tags_idx.rollback.sql").unlink()
    with pytest.raises(MigrationError, match=r"0103_basic_tags_idx is missing on disk"):
        migrate(empty_db_url, sources=[basic])
    with pytest.raises(MigrationError, match=r"0103_basic_tags_idx is missing on disk"):
        rollback(empty_db_url, sources=[basic])


def test_a_new_migration_sorting_before_the_last_applied_is_refused(
    empty_db_url: str, basic: Path
) -> None:
    migrate(empty_db_url, sources=[basic])
    (basic / "0100_basic_early.sql").write_text("-- irreversible: test\nSELECT 1;\n")
    with pytest.raises(MigrationError, match=r"0100_basic_early\.sql is new but sorts before"):
        migrate(empty_db_url, sources=[basic])


# -- INVALID indexes ----------------------------------------------------------------------


def test_a_failed_concurrent_index_build_reports_the_invalid_index(empty_db_url: str) -> None:
    source = FIXTURES / "invalid_index"
    with pytest.raises(MigrationError) as caught:
        migrate(empty_db_url, sources=[source])
    message = str(caught.value)
    assert "could not apply 0602_dupes_unique" in message
    assert "done before it: 0601_dupes_table" in message
    assert "index public.dupes_val_key on public.dupes is INVALID" in message
    assert "REINDEX INDEX CONCURRENTLY public.dupes_val_key;" in message
    assert "DROP INDEX CONCURRENTLY public.dupes_val_key;" in message
    assert caught.value.sqlstate == "23505"
    assert states(empty_db_url, [source]) == {
        "0601_dupes_table": "applied",
        "0602_dupes_unique": "pending",
    }


def test_an_invalid_index_left_behind_fails_the_next_migrate(empty_db_url: str) -> None:
    migrate(empty_db_url, sources=[BASIC])
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE stray (v int); INSERT INTO stray VALUES (1), (1)")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY stray_v_key ON stray (v)")
    with pytest.raises(MigrationError, match=r"REINDEX INDEX CONCURRENTLY public\.stray_v_key;"):
        migrate(empty_db_url, sources=[BASIC])


# -- the advisory lock --------------------------------------------------------------------


def test_lock_timeout_names_the_holder(empty_db_url: str) -> None:
    with psycopg.connect(empty_db_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s::int4, %s::int4)", LOCK_KEYS)
        with pytest.raises(MigrationError, match=rf"held by pid {holder.info.backend_pid}\b"):
            migrate(empty_db_url, sources=[BASIC], lock_timeout=0.5)
        # that a run waits while the lock is held and then applies: test_promises.py
        # status does not wait for the lock either
        assert states(empty_db_url, [BASIC]) == dict.fromkeys(BASIC_IDS, "pending")
    assert user_relations(empty_db_url) == 0


def test_concurrent_migrate_threads_apply_once(empty_db_url: str) -> None:
    url = with_param(empty_db_url, application_name="pgrecall-test-pause")  # sleeps 1 s
    barrier = threading.Barrier(2)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(migrate(url, sources=[SLOW]).applied)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [[], SLOW_IDS]
    applies = scalar(empty_db_url, "SELECT count(*) FROM _yoyo_log WHERE operation = 'apply'")
    assert applies == len(SLOW_IDS)


def test_concurrent_migrate_processes_apply_once(empty_db_url: str) -> None:
    url = with_param(empty_db_url, application_name="pgrecall-test-pause")
    procs = [spawn(url, SLOW) for _ in range(2)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    applied = sorted(line for out, _ in outputs for line in out.splitlines() if "applied:" in line)
    assert applied == ["applied:", "applied:" + ",".join(SLOW_IDS)]


def _wait_for_sleeper(url: str, proc: subprocess.Popen[str], timeout: float = 20) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        pid = scalar(
            url,
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgrecall-test-slow'"
            " AND state = 'active' AND query LIKE %s",
            ("%pg_sleep%",),
        )
        if isinstance(pid, int):
            return pid
        time.sleep(0.1)
    raise AssertionError("the slow migration never started")


@pytest.fixture
def killed_run(empty_db_url: str) -> Iterator[int]:
    """A migrate process killed (SIGKILL) in the middle of a 30 s migration step."""
    proc = spawn(with_param(empty_db_url, application_name="pgrecall-test-slow"), SLOW)
    try:
        backend_pid = _wait_for_sleeper(empty_db_url, proc)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        yield backend_pid
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_kill_9_mid_migration_does_not_block_the_next_run(
    empty_db_url: str, killed_run: int
) -> None:
    # The server aborts the killed client's statement (client_connection_check_interval)
    # and its advisory lock goes with it: the backend is gone while its 30 s pg_sleep would
    # still run (the guard, 20 s, is set by that sleep, not by how fast this machine is).
    wait_for(
        empty_db_url,
        "SELECT NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s)",
        (killed_run,),
        what="the killed run's backend goes away",
        guard=20,
    )
    report = migrate(empty_db_url, sources=[SLOW], lock_timeout=10)
    assert report.applied == SLOW_IDS
    assert scalar(empty_db_url, "SELECT count(*) FROM slow_items") == 3
    assert scalar(empty_db_url, "SELECT count(*) FROM yoyo_lock") == 0
    # the killed client's statement was aborted by the server, not left sleeping
    alive = scalar(
        empty_db_url, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (killed_run,)
    )
    assert alive == 0
    assert states(empty_db_url, [SLOW]) == dict.fromkeys(SLOW_IDS, "applied")


# -- coexistence with plain yoyo -----------------------------------------------------------


def test_plain_yoyo_apply_works_and_is_adopted(empty_db_url: str) -> None:
    yoyo_bin = Path(sys.executable).with_name("yoyo")
    env = dict(os.environ, DATABASE_URL=yoyo_url(empty_db_url))
    done = subprocess.run(
        [str(yoyo_bin), "apply", "--config", "yoyo.ini"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    ids = sorted(p.name.removesuffix(".sql") for p in migrations_dir().glob("[0-9]*.sql"))
    ids = [i for i in ids if not i.endswith(".rollback")]
    assert "0001_foundation" in ids

    assert migrate(empty_db_url, dry_run=True).adopted == ids  # would adopt, does not
    assert scalar(empty_db_url, "SELECT to_regnamespace('pgrecall_meta')") is None
    report = migrate(empty_db_url)
    assert report.adopted == ids and report.applied == []
    assert "adopted (applied by yoyo apply): 0001_foundation" in report.render()
    assert {mid: adopted for mid, (_, adopted) in ledger(empty_db_url).items()} == dict.fromkeys(
        ids, True
    )
    assert {s.id: s.state for s in status(empty_db_url)} == dict.fromkeys(ids, "applied")


def test_status_adopts_migrations_applied_by_yoyo(empty_db_url: str) -> None:
    backend = yoyo.get_backend(yoyo_url(empty_db_url))
    try:
        with backend.lock():
            backend.apply_migrations(backend.to_apply(yoyo.read_migrations(str(BASIC))))
    finally:
        backend.connection.close()
    assert states(empty_db_url, [BASIC]) == dict.fromkeys(BASIC_IDS, "applied")
    assert ledger(empty_db_url) == {
        mid: (migrations.checksum(BASIC / f"{mid}.sql"), True) for mid in BASIC_IDS
    }
    assert migrate(empty_db_url, sources=[BASIC]).adopted == []


def test_a_plain_yoyo_rollback_is_reconciled(empty_db_url: str) -> None:
    migrate(empty_db_url, sources=[BASIC])
    backend = yoyo.get_backend(yoyo_url(empty_db_url))
    try:
        with backend.lock():
            to_rollback = backend.to_rollback(yoyo.read_migrations(str(BASIC)))
            backend.rollback_migrations(to_rollback[:1])
    finally:
        backend.connection.close()
    assert states(empty_db_url, [BASIC])["0103_basic_tags_idx"] == "pending"
    assert migrate(empty_db_url, sources=[BASIC]).applied == ["0103_basic_tags_idx"]
    assert ledger(empty_db_url)["0103_basic_tags_idx"] == (
        migrations.checksum(BASIC / "0103_basic_tags_idx.sql"),
        False,
    )
