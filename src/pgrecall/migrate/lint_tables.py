"""The lint rules on pgrecall's own tables that squawk cannot know.

A table a migration creates in schema ``pgrecall`` has ``COMMENT ON TABLE`` in the same
file, and when it has a ``tenant_id`` column (a tenant table) the same file enables and
forces row level security on it and creates its policy: tenant isolation is not left to
a later migration, or to memory. (``tests/test_rls_catalog.py`` checks the result in the
catalog; this names the file and line before anything is applied.) Tables in other
schemas, such as a project's own, are not concerned.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from ..query.lexer import Scanned
from .report import LintProblem

__all__ = ["table_problems"]

_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)'
_QNAME = rf"{_IDENT}(?:\s*\.\s*{_IDENT})?"
_NAME_PART = re.compile(r'"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*)')
_TABLE = re.compile(
    r"^CREATE\s+(?:(?:GLOBAL|LOCAL)\s+)?(?:(?:TEMP|TEMPORARY|UNLOGGED)\s+)?TABLE\s+"
    rf"(?:IF\s+NOT\s+EXISTS\s+)?(?P<name>{_QNAME})(?P<rest>.*)$",
    re.I | re.S,
)
_TENANT_COLUMN = re.compile(r"[(,]\s*tenant_id\s", re.I)
_COMMENT = re.compile(rf"^COMMENT\s+ON\s+TABLE\s+(?P<name>{_QNAME})\s+IS\b", re.I)
_ALTER = re.compile(
    rf"^ALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<name>{_QNAME})\s+(?P<rest>.*)$",
    re.I | re.S,
)
_ENABLE = re.compile(r"\bENABLE\s+ROW\s+LEVEL\s+SECURITY\b", re.I)
_FORCE = re.compile(r"(?<!NO )\bFORCE\s+ROW\s+LEVEL\s+SECURITY\b", re.I)
_POLICY = re.compile(rf"^CREATE\s+POLICY\s+{_IDENT}\s+ON\s+(?P<name>{_QNAME})(?:\s|$)", re.I)


def _key(name: str) -> tuple[str, ...]:
    return tuple(
        m[1].replace('""', '"') if m[1] is not None else m[2].lower()
        for m in _NAME_PART.finditer(name)
    )


def _done(stmts: Sequence[Scanned]) -> dict[str, set[tuple[str, ...]]]:
    """What the file does to which table: comment, enable, force, policy."""
    done: dict[str, set[tuple[str, ...]]] = {
        k: set() for k in ("comment", "enable", "force", "policy")
    }
    for stmt in stmts:
        if m := _COMMENT.match(stmt.text):
            done["comment"].add(_key(m["name"]))
        elif m := _ALTER.match(stmt.text):
            if _ENABLE.search(m["rest"]):
                done["enable"].add(_key(m["name"]))
            if _FORCE.search(m["rest"]):
                done["force"].add(_key(m["name"]))
        elif m := _POLICY.match(stmt.text):
            done["policy"].add(_key(m["name"]))
    return done


def table_problems(path: Path, stmts: Sequence[Scanned]) -> list[LintProblem]:
    """The rules above, for the tables this file creates in schema ``pgrecall``."""
    done = _done(stmts)
    problems = []
    for stmt in stmts:
        m = _TABLE.match(stmt.text)
        if m is None or len(key := _key(m["name"])) != 2 or key[0] != "pgrecall":
            continue
        name = ".".join(key)
        if key not in done["comment"]:
            problems.append(
                LintProblem(path, stmt.line, f"table {name} has no COMMENT ON TABLE in this file")
            )
        if not _TENANT_COLUMN.search(m["rest"]):
            continue
        missing = [
            text
            for what, text in (
                ("enable", f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY"),
                ("force", f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY"),
                ("policy", f"CREATE POLICY ... ON {name}"),
            )
            if key not in done[what]
        ]
        if missing:
            problems.append(
                LintProblem(
                    path,
                    stmt.line,
                    f"tenant table {name} (it has tenant_id) needs, in the same file: "
                    + "; ".join(missing),
                )
            )
    return problems
