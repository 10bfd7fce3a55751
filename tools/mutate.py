"""Mutation testing: break one rule at a time and check that the tests notice.

Each mutant is a textual change to one SQL or Python file (a policy that lets every row
through, a tenant predicate neutralised with ``OR true``, a lock removed, a status dropped
from a lifecycle, a commit instead of a rollback ...). For each one the script applies
it, runs the tests chosen for it (``pytest -x``), restores the file and reports whether
a test failed (caught) or not (missed). Not part of ``make test``: it is slow (a fresh
pytest run, server and migrated template per mutant).

By default it works on a copy of the last commit (``git archive HEAD``) in
``/tmp/mutate-work``, never in the checkout, so other work in the checkout is safe and
the copy is the same for every mutant. Mutated migrations are picked up because each
pytest run builds its template database from ``sql/migrations``.

    python tools/mutate.py                  # every mutant
    python tools/mutate.py -k rls -k get_   # mutants whose name contains a word
    python tools/mutate.py --list           # what would run
    python tools/mutate.py --in-place       # mutate the checkout itself (clean files only)

Exit status 0 when every mutant was caught, 1 when one was missed, 2 on a setup error.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

__all__ = ["MUTANTS", "Mutant", "apply", "main"]

ROOT = Path(__file__).resolve().parents[1]
WORK = Path("/tmp/mutate-work")


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # relative to the repository
    old: str
    new: str
    tests: tuple[str, ...]  # test files or node ids (together they are the baseline)
    block: str | None = None  # only inside this named query (``-- name: <block> ``)


RLS_TESTS = ("tests/test_rls_catalog.py", "tests/test_tenancy.py")
FILTER_TESTS = ("tests/test_tenant_filters.py",)
P = "tests/test_promises.py::"
POLICY = (
    "CREATE POLICY tenant_isolation ON pgrecall.{t}\n"
    "    USING (tenant_id = pgrecall.current_tenant())\n"
    "    WITH CHECK (tenant_id = pgrecall.current_tenant());"
)
OPEN_POLICY = (
    "CREATE POLICY tenant_isolation ON pgrecall.{t}\n    USING (true)\n    WITH CHECK (true);"
)


def _policy(table: str, migration: str) -> Mutant:
    return Mutant(
        f"rls-using-true-{table}",
        f"sql/migrations/{migration}",
        POLICY.format(t=table),
        OPEN_POLICY.format(t=table),
        RLS_TESTS,
    )


def _or_true(query: str, file: str) -> Mutant:
    return Mutant(
        f"or-true-{query}",
        f"sql/queries/{file}",
        "tenant_id = :tenant_id",
        "(tenant_id = :tenant_id OR true)",
        FILTER_TESTS,
        block=query,
    )


MUTANTS: tuple[Mutant, ...] = (
    _policy("runs", "0005_runs.sql"),
    _policy("cache", "0006_events_cache.sql"),
    _policy("personas", "0007_personas.sql"),
    _policy("memories", "0003_knowledge.sql"),
    _policy("embeddings", "0003_knowledge.sql"),
    _policy("conversations", "0002_core.sql"),
    Mutant(
        "rls-not-forced-runs",
        "sql/migrations/0005_runs.sql",
        "ALTER TABLE pgrecall.runs FORCE ROW LEVEL SECURITY;\n",
        "",
        RLS_TESTS,
    ),
    _or_true("get_document", "documents.sql"),
    _or_true("get_run", "runs.sql"),
    _or_true("get_memory", "memories.sql"),
    _or_true("get_conversation", "conversations.sql"),
    _or_true("list_runs", "runs.sql"),
    _or_true("get_persona", "personas.sql"),
    _or_true("last_messages", "messages.sql"),
    Mutant(
        "append-to-deleted-allowed",
        "sql/migrations/0002_core.sql",
        "IF conv_status IN ('closed', 'deleted') THEN",
        "IF conv_status IN ('closed') THEN",
        (P + "test_appends_to_a_deleted_conversation_are_refused", "tests/test_core.py"),
    ),
    Mutant(
        "append-trigger-without-for-update",
        "sql/migrations/0002_core.sql",
        "     WHERE c.tenant_id = NEW.tenant_id AND c.id = NEW.conversation_id\n       FOR UPDATE;",
        "     WHERE c.tenant_id = NEW.tenant_id AND c.id = NEW.conversation_id;",
        (
            P + "test_concurrent_retries_with_one_request_id_make_one_message",
            "tests/test_concurrency.py::test_eight_threads_append_to_one_conversation",
        ),
    ),
    Mutant(
        "run-lifecycle-without-pending-cancelled",
        "sql/migrations/0017_robustness.sql",
        "('pending', 'running'), ('pending', 'cancelled'),",
        "('pending', 'running'),",
        ("tests/test_runs.py",),
    ),
    Mutant(
        "run-lifecycle-cancelled-not-final",
        "sql/migrations/0017_robustness.sql",
        "IF OLD.status IN ('succeeded', 'cancelled') AND (",
        "IF OLD.status IN ('succeeded') AND (",
        (P + "test_a_finished_run_keeps_its_outcome_even_from_raw_sql", "tests/test_runs.py"),
    ),
    Mutant(
        "check-commits",
        "src/pgrecall/check/__init__.py",
        'conn.execute("ROLLBACK")',
        'conn.execute("COMMIT")',
        ("tests/test_check.py::test_the_check_changes_nothing",),
    ),
    Mutant(
        "class-22-not-validation",
        "src/pgrecall/errors.py",
        '_VALIDATION_CLASSES = ("22", "23502", "23514")',
        '_VALIDATION_CLASSES = ("23502", "23514")',
        (P + "test_data_errors_are_validation_errors",),
    ),
    Mutant(
        "deadlock-not-transient",
        "src/pgrecall/errors.py",
        '_RETRYABLE = {"40001", "40P01", ',
        '_RETRYABLE = {"40001", ',
        (P + "test_a_deadlock_is_transient",),
    ),
    Mutant(
        "stream-fetches-everything",
        "src/pgrecall/query/db.py",
        "                for item in cur:\n",
        "                for item in cur.fetchall():\n",
        (P + "test_stream_uses_a_server_side_cursor_at_constant_memory",),
    ),
    Mutant(
        "tenant-setting-session-level",
        "src/pgrecall/query/citus.py",
        'SET_TENANT = "SELECT set_config(%s, %s, true)"',
        'SET_TENANT = "SELECT set_config(%s, %s, false)"',
        ("tests/test_tenancy.py",),
    ),
)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def apply(text: str, m: Mutant) -> str:
    """``text`` with the mutant applied; raises when it does not apply exactly."""
    if m.block is None:
        if text.count(m.old) != 1:
            raise ValueError(f"{m.name}: expected {m.old!r} once in {m.path}")
        return text.replace(m.old, m.new)
    start = text.find(f"-- name: {m.block} ")
    if start < 0:
        raise ValueError(f"{m.name}: no query {m.block} in {m.path}")
    end = text.find("-- name:", start + 1)
    end = len(text) if end < 0 else end
    body = text[start:end]
    if m.old not in body:
        raise ValueError(f"{m.name}: {m.old!r} not in query {m.block}")
    return text[:start] + body.replace(m.old, m.new) + text[end:]


def _clean_in_git(root: Path, path: str) -> bool:
    done = subprocess.run(
        ["git", "-C", str(root), "diff", "--quiet", "HEAD", "--", path], check=False
    )
    return done.returncode == 0


@contextmanager
def mutated(root: Path, m: Mutant, *, in_place: bool) -> Iterator[None]:
    """The mutant applied to ``root/m.path`` for the duration of the block; the file is
    restored byte for byte on the way out, whatever happens."""
    target = root / m.path
    if in_place and not _clean_in_git(root, m.path):
        raise RuntimeError(f"refusing to mutate {m.path}: it has uncommitted changes")
    original = target.read_bytes()
    mutant = apply(original.decode("utf-8"), m).encode("utf-8")
    try:
        target.write_bytes(mutant)
        yield
    finally:
        target.write_bytes(original)
        if _digest(target.read_bytes()) != _digest(original):
            raise RuntimeError(f"{m.path} was not restored")


def _pytest(root: Path, tests: Sequence[str], timeout: float) -> tuple[str, str]:
    """Run pytest on ``root``: ("passed" | "failed" | "error" | "timeout", last lines)."""
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    try:
        done = subprocess.run(
            cmd, cwd=root, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return "timeout", ""
    tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-3:])
    status = {0: "passed", 1: "failed"}.get(done.returncode, "error")
    return status, tail


def _copy(work: Path) -> Path:
    """A fresh copy of the last commit of the checkout in ``work``."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "HEAD"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(work)], input=archive.stdout, check=True)
    return work


def _on_signal(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")  # unwinds through every finally: restores


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("-k", action="append", default=[], help="only mutants whose name has this")
    p.add_argument("--list", action="store_true", help="list the mutants and exit")
    p.add_argument("--work", type=Path, default=WORK, help=f"the copy to mutate ({WORK})")
    p.add_argument("--in-place", action="store_true", help="mutate the checkout itself")
    p.add_argument("--timeout", type=float, default=900, help="seconds per pytest run")
    args = p.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.k or any(k in m.name for k in args.k)]
    if args.list:
        for m in chosen:
            print(f"{m.name:<42} {m.path}  ->  pytest {' '.join(m.tests)}")
        return 0
    signal.signal(signal.SIGTERM, _on_signal)
    root = ROOT if args.in_place else _copy(args.work)
    for m in chosen:  # every mutant applies to this tree before anything runs
        apply((root / m.path).read_text("utf-8"), m)
    baseline = sorted({t for m in chosen for t in m.tests})
    status, tail = _pytest(root, baseline, args.timeout)
    if status != "passed":
        print(f"the tests fail without a mutant ({status}):\n{tail}", file=sys.stderr)
        return 2
    print(f"baseline: {' '.join(baseline)} passed on {root}")
    results: list[tuple[Mutant, str]] = []
    for m in chosen:
        started = time.monotonic()
        with mutated(root, m, in_place=args.in_place):
            status, tail = _pytest(root, m.tests, args.timeout)
        verdict = {"failed": "caught", "timeout": "caught (timeout)"}.get(status, "MISSED")
        if status == "error":
            verdict = "MISSED (pytest error)"
        results.append((m, verdict))
        took = time.monotonic() - started
        print(f"{verdict:<22} {m.name:<42} {took:6.1f} s", flush=True)
        if verdict != "caught":
            print("    " + tail.replace("\n", "\n    "), flush=True)
    caught = sum(v.startswith("caught") for _, v in results)
    print(f"\nmutation score: {caught}/{len(results)} caught")
    return 0 if caught == len(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
