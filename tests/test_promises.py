"""Every promise of the README has a test: the ones no other test file holds.

Each test names the README sentence it checks. No wall-clock bounds: waits are on
states observed in the database (``pg_locks``) or on events.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TextIO, cast
from uuid import UUID, uuid4

import psycopg
import pytest
from pydantic import BaseModel
from waits import WAITING_ON_A_LOCK, wait_for

import pgrecall
from pgrecall import (
    ConflictError,
    NotFoundError,
    Query,
    TransientError,
    ValidationError,
)
from pgrecall.cli import main
from pgrecall.models.ops import NewEvent
from pgrecall.ops import export_tenant, import_tenant
from pgrecall.testing.plugin import APP_LOGIN

BIN = Path(sys.executable).parent


# --- messages -------------------------------------------------------------------------


def test_appends_to_a_deleted_conversation_are_refused(store: pgrecall.Store) -> None:
    """README: the trigger "refuses appends to a closed or deleted conversation"."""
    with store.session(tenant="acme") as s:
        c = s.conversations.create(user_id="u1")
        s.messages.append(c.id, role="user", content="before")
        s.conversations.delete(c.id)
    with pytest.raises(ConflictError, match="deleted"), store.session(tenant="acme") as s:
        s.messages.append(c.id, role="user", content="after")
    with pytest.raises(ConflictError, match="deleted"):
        store.append_message("acme", c.id, role="user", content="after", request_id="r")
    raw = Query.from_string(  # the trigger itself, not only the API
        "raw",
        "exec",
        "INSERT INTO pgrecall.messages (tenant_id, conversation_id, role, content)"
        " VALUES ('acme', :cid, 'user', 'raw')",
    )
    with pytest.raises(ConflictError) as raised, store.session(tenant="acme") as s:
        s.db.execute(raw, cid=c.id)
    assert raised.value.sqlstate == "PR409"
    with store.session(tenant="acme") as s:
        assert s.conversations.restore(c.id).message_count == 1
        s.messages.append(c.id, role="user", content="restored")  # allowed again
        assert [m.content for m in s.messages.last(c.id)] == ["before", "restored"]


def test_concurrent_retries_with_one_request_id_make_one_message(db_url: str) -> None:
    """README: "a retried append returns the first message instead of a duplicate" --
    also when the retries run at the same time. The conversation row is held locked
    until every retry waits (seen in pg_stat_activity), so they all race."""
    n = 6
    with pgrecall.connect(db_url, pool_max_size=n) as store:
        with store.session(tenant="acme") as s:
            cid = s.conversations.create(user_id="u1").id
        ids: list[UUID] = []
        errors: list[BaseException] = []

        def retry() -> None:
            try:
                with store.session(tenant="acme") as s:
                    ids.append(
                        s.messages.append(cid, role="user", content="once", request_id="r-1").id
                    )
            except BaseException as exc:
                errors.append(exc)

        with psycopg.connect(db_url) as holder:
            holder.execute("SELECT 1 FROM pgrecall.conversations WHERE id = %s FOR UPDATE", (cid,))
            threads = [threading.Thread(target=retry) for _ in range(n)]
            for t in threads:
                t.start()
            wait_for(db_url, WAITING_ON_A_LOCK, (n, "pgrecall"), what=f"{n} appends waiting")
        for t in threads:  # the holder committed: they go on
            t.join()
        assert errors == []
        assert len(ids) == n and len(set(ids)) == 1
        with store.session(tenant="acme") as s:
            assert [m.request_id for m in s.messages.last(cid)] == ["r-1"]
            assert s.conversations.get(cid).message_count == 1


@pytest.mark.parametrize("final", ["succeeded", "cancelled"])
def test_a_finished_run_keeps_its_outcome_even_from_raw_sql(
    store: pgrecall.Store, final: str
) -> None:
    """README: the run lifecycle is enforced by a trigger, "even from raw SQL"; a
    succeeded or cancelled run is final: its outcome cannot be rewritten."""
    with store.session(tenant="acme") as s:
        run = s.runs.create("research", input={"q": "?"})
        if final == "succeeded":
            s.runs.claim_next("research", worker_id="w")
            s.runs.succeed(run.id, {"answer": 42}, worker_id="w")
        else:
            s.runs.cancel(run.id)
    for change in ("output = '{\"answer\": 0}'", "error = 'rewritten'", "status = 'pending'"):
        q = Query.from_string("u", "exec", f"UPDATE pgrecall.runs SET {change} WHERE id = :id")
        with pytest.raises(ConflictError) as raised, store.session(tenant="acme") as s:
            s.db.execute(q, id=run.id)
        assert raised.value.sqlstate == "PR409", change
    with store.session(tenant="acme") as s:
        assert s.runs.get(run.id).status == final


# --- errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "sqlstate"),
    [
        ("SELECT 'x'::int", "22P02"),  # class 22: data exception
        ("SELECT 1 / 0", "22012"),
        ("INSERT INTO pgrecall.users (tenant_id, user_id) VALUES ('acme', NULL)", "23502"),
        ("INSERT INTO pgrecall.users (tenant_id, user_id) VALUES ('', 'x')", "23514"),
    ],
)
def test_data_errors_are_validation_errors(store: pgrecall.Store, sql: str, sqlstate: str) -> None:
    """README: ValidationError "(and SQLSTATE class 22 / 23502 / 23514)"."""
    q = Query.from_string("q", "exec", sql)
    with pytest.raises(ValidationError) as raised, store.session(tenant="acme") as s:
        s.db.execute(q)
    assert raised.value.sqlstate == sqlstate
    assert isinstance(raised.value, ValueError)


def test_error_classes_are_the_builtin_ones_too(store: pgrecall.Store) -> None:
    """README: ValidationError is also a ValueError, NotFoundError also a LookupError."""
    assert issubclass(ValidationError, ValueError) and issubclass(NotFoundError, LookupError)
    with store.session(tenant="acme") as s:
        c = s.conversations.create(user_id="u1")
        with pytest.raises(ValueError), s.savepoint():
            s.messages.append(c.id, role="robot", content="x")  # type: ignore[arg-type]
        with pytest.raises(LookupError):
            s.conversations.get(uuid4())


def test_a_deadlock_is_transient(db_url: str, store: pgrecall.Store) -> None:
    """README: TransientError for "serialization failure, deadlock ..."."""
    with store.session(tenant="acme") as s:
        a = s.conversations.create(user_id="u1").id
        b = s.conversations.create(user_id="u1").id
    lock = "SELECT 1 FROM pgrecall.conversations WHERE id = %s FOR UPDATE"
    lock_q = Query.from_string("lock", "exec", lock.replace("%s", ":id"))
    other_done = threading.Event()
    other_error: list[BaseException] = []
    with psycopg.connect(db_url, application_name="deadlock-other") as other:
        other.execute(lock, (b,))

        def take_a() -> None:
            try:
                other.execute(lock, (a,))  # waits for the session below, which then waits on b
            except BaseException as exc:
                other_error.append(exc)
            finally:
                other_done.set()

        with pytest.raises(TransientError) as raised, store.session(tenant="acme") as s:
            s.db.execute(lock_q, id=a)
            thread = threading.Thread(target=take_a)
            thread.start()
            wait_for(db_url, WAITING_ON_A_LOCK, (1, "deadlock-other"), what="the other waits")
            s.db.execute(Query.from_string("t", "exec", "SET LOCAL deadlock_timeout = '10ms'"))
            s.db.execute(lock_q, id=b)  # the deadlock: detected here, within 10 ms
        thread.join()
    assert raised.value.sqlstate == "40P01"
    assert other_done.is_set() and other_error == []  # the other one got its lock


def test_pool_timeout_is_transient(db_url: str) -> None:
    """README: TransientError for "... pool timeout"."""
    with (
        pgrecall.connect(db_url, pool_min_size=1, pool_max_size=1, pool_timeout=0.2) as store,
        store.session(tenant="acme"),  # the only connection is taken
        pytest.raises(TransientError),
        store.session(tenant="acme"),
    ):
        pass


# --- constant memory ---------------------------------------------------------------------


class _Padded(BaseModel):
    n: int
    pad: str


_ROWS = Query.from_string(
    "rows", "many", "SELECT g AS n, repeat('x', 500) AS pad FROM generate_series(1, :n) g"
)


def _peak(fn: Callable[[], object]) -> int:
    """Peak Python memory (tracemalloc) while ``fn`` runs, in bytes."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_stream_uses_a_server_side_cursor_at_constant_memory(store: pgrecall.Store) -> None:
    """README: db.stream is "a server-side cursor at constant memory": the peak stays flat
    when the rows grow 8x (db.many, the control, grows with them)."""

    def stream(n: int) -> Callable[[], object]:
        def run() -> int:
            with store.session(tenant="acme") as s:
                return sum(r.n for r in s.db.stream(_ROWS, _Padded, n=n, batch=500))

        return run

    def many(n: int) -> Callable[[], object]:
        def run() -> int:
            with store.session(tenant="acme") as s:
                return sum(r.n for r in s.db.many(_ROWS, _Padded, n=n))

        return run

    small, large = 2_000, 16_000
    stream(small)()  # warm up (imports, caches)
    ratio = _peak(stream(large)) / _peak(stream(small))
    control = _peak(many(large)) / _peak(many(small))
    assert control > 4, f"the measurement cannot see rows held in memory ({control:.2f})"
    assert ratio < 1.5, f"peak grew {ratio:.2f}x for 8x the rows"


class _Sink(io.TextIOBase):
    """A text stream that forgets what it is given."""

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        return len(s)


def _sink() -> TextIO:
    return cast(TextIO, _Sink())


def test_export_streams_at_constant_memory(store: pgrecall.Store) -> None:
    """README: export "streams through server-side cursors at constant memory"."""
    fill = Query.from_string(  # triggers off (superuser): seq given, counters left alone
        "fill",
        "exec",
        "INSERT INTO pgrecall.messages (tenant_id, conversation_id, seq, role, content)"
        " SELECT :tenant_id, :cid, g, 'user', repeat('y', 500) FROM generate_series(1, :n) g",
    )
    replica = Query.from_string("r", "exec", "SET LOCAL session_replication_role = replica")

    def tenant_with(name: str, n: int) -> str:
        with store.session(tenant=name) as s:
            c = s.conversations.create(user_id="u1")
            s.db.execute(replica)
            s.db.execute(fill, tenant_id=name, cid=c.id, n=n)
        return name

    # export fetches 2,000 rows a round trip: both sizes span several batches
    small, large = tenant_with("small", 4_000), tenant_with("large", 32_000)
    export_tenant(store, small, _sink())  # warm up
    ratio = _peak(lambda: export_tenant(store, large, _sink())) / _peak(
        lambda: export_tenant(store, small, _sink())
    )
    assert ratio < 1.5, f"export peak grew {ratio:.2f}x for 8x the messages"


# --- pgrecall check ---------------------------------------------------------------------


def test_check_exit_status_2_when_it_cannot_run(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """README: "It is 2 when the check cannot run (bad URL, malformed query file)"."""
    (tmp_path / "bad.sql").write_text("-- name: q :sometimes\nSELECT 1;\n")
    assert main(["--url", db_url, "check", "--in-place", "--source", str(tmp_path)]) == 2
    assert "bad.sql" in capsys.readouterr().err
    (tmp_path / "bad.sql").write_text("-- name: q :one\nSELECT 1 AS one;\n")
    assert main(["--url", db_url, "check", "--in-place", "--source", str(tmp_path)]) == 0


def test_check_exit_status_2_for_a_bad_url(capsys: pytest.CaptureFixture[str]) -> None:
    """README: exit status 2 "when the check cannot run (bad URL ...)"."""
    bad_url = "postgresql://nobody:wrong@127.0.0.1:1/none"
    assert main(["--url", bad_url, "check", "--in-place"]) == 2
    assert "pgrecall check" in capsys.readouterr().err


def test_check_with_other_migrations(pg_url: str, tmp_path: Path) -> None:
    """README: the check applies "pgrecall's own [migrations], or --migrations DIR"."""
    migrations, queries = tmp_path / "migrations", tmp_path / "queries"
    migrations.mkdir()
    queries.mkdir()
    (migrations / "0001_notes.sql").write_text(
        "-- 0001 notes: a table of the application's own.\n"
        "CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL);\n"
    )
    (migrations / "0001_notes.rollback.sql").write_text("DROP TABLE notes;\n")
    (queries / "notes.sql").write_text(
        "-- name: note :one\n-- @returns int\nSELECT id FROM notes WHERE id = :id::int;\n"
        "-- name: note_body :scalar\n-- @returns str\nSELECT body FROM notes WHERE id = 1;\n"
    )
    args = ["--url", pg_url, "check", "--migrations", str(migrations), "--source", str(queries)]
    assert main(args) == 0
    (queries / "notes.sql").write_text(
        "-- name: user :one\nSELECT user_id FROM pgrecall.users;\n"  # not in these migrations
    )
    assert main(args) == 1


# --- settings ------------------------------------------------------------------------------


def test_pgrecall_echo_logs_statements_and_parameters(
    db_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """README: PGRECALL_ECHO "log every statement and its parameters at DEBUG (pgrecall.sql)"."""
    caplog.set_level(logging.DEBUG, logger="pgrecall.sql")
    for echo in ("false", "true"):
        monkeypatch.setenv("PGRECALL_ECHO", echo)
        caplog.clear()
        with pgrecall.connect(db_url, pool_min_size=0) as store, store.session("acme") as s:
            s.conversations.create(user_id="echo-user")
        logged = [r.getMessage() for r in caplog.records if r.name == "pgrecall.sql"]
        if echo == "false":
            assert logged == []
        else:
            assert any("create_conversation" in m for m in logged), logged  # the statement
            assert any("echo-user" in m for m in logged), logged
            assert all(r.levelno == logging.DEBUG for r in caplog.records)


LOCK_KEYS_SQL = """
SELECT pg_advisory_lock(%s::int4, %s::int4)
"""


def test_pgrecall_migrate_lock_timeout(
    empty_db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """README: PGRECALL_MIGRATE_LOCK_TIMEOUT "seconds migrate waits for another run's lock"."""
    from pgrecall.migrate import LOCK_KEYS

    monkeypatch.setenv("PGRECALL_MIGRATE_LOCK_TIMEOUT", "0.25")
    with psycopg.connect(empty_db_url, autocommit=True) as holder:
        holder.execute(LOCK_KEYS_SQL, LOCK_KEYS)
        pid = holder.info.backend_pid
        assert main(["--url", empty_db_url, "migrate"]) == 2
    err = capsys.readouterr().err
    assert "within 0.25 s" in err and f"held by pid {pid}" in err
    with psycopg.connect(empty_db_url) as conn:
        assert conn.execute("SELECT to_regnamespace('pgrecall')").fetchone() == (None,)


def test_migrate_waits_for_the_lock_and_then_applies(empty_db_url: str) -> None:
    """The other side of the lock timeout: a run that finds the lock taken waits (seen polling
    the lock in pg_stat_activity), and applies once the holder lets go."""
    from pgrecall.migrate import LOCK_KEYS, migrate

    done: list[object] = []
    with psycopg.connect(empty_db_url, autocommit=True) as holder:
        holder.execute(LOCK_KEYS_SQL, LOCK_KEYS)
        thread = threading.Thread(
            target=lambda: done.append(migrate(empty_db_url, lock_timeout=600))
        )
        thread.start()
        wait_for(
            empty_db_url,
            "SELECT count(*) > 0 FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
            " AND query LIKE '%%pg_try_advisory_lock%%' AND datname = current_database()",
            what="migrate polling the lock",
        )
        assert done == []  # still waiting: the lock is held
    thread.join()
    assert len(done) == 1 and getattr(done[0], "applied", None)


# --- migrations from the command line -------------------------------------------------


def _status(url: str, capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    capsys.readouterr()
    assert main(["--url", url, "status", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    items = rows if isinstance(rows, list) else rows.get("migrations", rows)
    return {r["id"]: r["state"] for r in items}


def test_cli_migrate_dry_run_and_rollback(
    empty_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """README: "--dry-run prints the plan and changes nothing"; `pgrecall rollback
    [--count N] [--dry-run]`."""
    url = empty_db_url
    before = _status(url, capsys)
    assert before and set(before.values()) == {"pending"}
    assert main(["--url", url, "migrate", "--dry-run"]) == 0
    plan = capsys.readouterr().out
    assert all(mid in plan for mid in before), plan
    assert _status(url, capsys) == before  # nothing applied
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regnamespace('pgrecall')").fetchone() == (None,)

    assert main(["--url", url, "migrate"]) == 0
    applied = _status(url, capsys)
    assert set(applied.values()) == {"applied"}
    last = max(applied)
    assert main(["--url", url, "rollback", "--count", "1", "--dry-run"]) == 0
    assert last in capsys.readouterr().out
    assert _status(url, capsys) == applied
    assert main(["--url", url, "rollback", "--count", "1"]) == 0
    after = _status(url, capsys)
    assert after[last] == "pending"
    assert {k: v for k, v in after.items() if k != last} == {
        k: v for k, v in applied.items() if k != last
    }


@pytest.mark.slow
def test_pg_16_runs_the_embedded_postgresql_16(tmp_path: Path) -> None:
    """README: "--pg 16 selects the embedded PostgreSQL 16 instead of 18"; the migrations
    work there (uuid_v7 falls back to the portable SQL function)."""
    env = {**os.environ, "XDG_RUNTIME_DIR": "/tmp"}
    env.pop("DATABASE_URL", None)
    cli = [str(BIN / "pgrecall"), "--dir", str(tmp_path / "pg"), "--pg", "16"]
    up = subprocess.run([*cli, "up"], capture_output=True, text=True, env=env)
    try:
        assert up.returncode == 0, up.stderr
        assert "embedded PostgreSQL 16" in up.stdout + up.stderr
        version = subprocess.run(
            [*cli, "psql", "-Atc", "SHOW server_version_num"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        assert version.stdout.strip().startswith("16"), version.stdout
        subprocess.run([*cli, "migrate"], capture_output=True, text=True, env=env, check=True)
        uuid = subprocess.run(
            [*cli, "psql", "-Atc", "SELECT pgrecall.uuid_v7()"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        assert UUID(uuid.stdout.strip()).version == 7
    finally:
        subprocess.run([*cli, "down"], capture_output=True, text=True, env=env)


# --- operations ------------------------------------------------------------------------------


def test_cleanup_events_days_never_keeps_every_partition(
    store: pgrecall.Store, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """README: `pgrecall cleanup ... --events-days never`: no event partition is dropped."""
    old = date.today() - timedelta(days=200)
    with store.session(tenant="acme") as s:
        s.events.create_partitions(from_day=old, days=1)
        s.events.log_many([NewEvent(type="old", occurred_at=datetime.now(UTC) - timedelta(200))])
    count = "SELECT count(*) FROM pgrecall.events WHERE type = 'old'"
    name = f"events_p{old:%Y%m%d}"
    exists = "SELECT to_regclass(%s) IS NOT NULL"
    assert main(["--url", db_url, "cleanup", "--events-days", "never"]) == 0
    assert name not in capsys.readouterr().out
    with psycopg.connect(db_url) as conn:
        assert conn.execute(count).fetchone() == (1,)
        assert conn.execute(exists, (f"pgrecall.{name}",)).fetchone() == (True,)
    assert main(["--url", db_url, "cleanup"]) == 0  # the control: 90 days drops it
    with psycopg.connect(db_url) as conn:
        assert conn.execute(count).fetchone() == (0,)
        assert conn.execute(exists, (f"pgrecall.{name}",)).fetchone() == (False,)


def test_import_as_a_non_superuser_with_set_on_parameter(
    store: pgrecall.Store, db_url: str, app_url: str, tmp_path: Path
) -> None:
    """README: import needs "superuser, or GRANT SET ON PARAMETER session_replication_role"."""
    with store.session(tenant="acme") as s:
        c = s.conversations.create(user_id="u1", title="kept")
        for i in range(3):
            s.messages.append(c.id, role="user", content=f"m{i}")
    export_tenant(store, "acme", tmp_path / "acme")
    with pgrecall.connect(app_url, pool_min_size=0) as app:
        with psycopg.connect(db_url, autocommit=True) as admin:
            admin.execute(f"REVOKE SET ON PARAMETER session_replication_role FROM {APP_LOGIN}")
        with pytest.raises(pgrecall.PgRecallError):
            import_tenant(app, tmp_path / "acme", tenant="copy")
        with psycopg.connect(db_url, autocommit=True) as admin:
            admin.execute(f"GRANT SET ON PARAMETER session_replication_role TO {APP_LOGIN}")
        try:
            report = import_tenant(app, tmp_path / "acme", tenant="copy")
        finally:
            with psycopg.connect(db_url, autocommit=True) as admin:
                admin.execute(f"REVOKE SET ON PARAMETER session_replication_role FROM {APP_LOGIN}")
        assert report.rows["messages"] == 3
        with app.session(tenant="copy") as s:
            [conv] = s.conversations.list("u1")
            assert conv.title == "kept" and conv.message_count == 3
            assert [m.seq for m in s.messages.last(conv.id)] == [1, 2, 3]


def test_drop_event_partitions_is_owner_only(db_url: str, app_url: str) -> None:
    """README: `SELECT * FROM pgrecall.drop_event_partitions(90);` (owner only)."""
    with psycopg.connect(app_url) as app, pytest.raises(psycopg.errors.InsufficientPrivilege):
        app.execute("SELECT * FROM pgrecall.drop_event_partitions(90)")
    with psycopg.connect(db_url) as owner:
        owner.execute("SELECT * FROM pgrecall.drop_event_partitions(90)").fetchall()
