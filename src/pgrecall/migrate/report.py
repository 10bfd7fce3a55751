"""Results of a migration run: the plan, each migration's state, lint problems."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

__all__ = [
    "APPLICATION_NAME",
    "CHECK_INTERVAL",
    "ID_PATTERN",
    "LEDGER_TABLE",
    "LOCK_KEYS",
    "ROLLBACK_SUFFIX",
    "LintProblem",
    "MigrationState",
    "Report",
    "StateName",
    "logger",
]

logger = logging.getLogger("pgrecall.migrations")

ID_PATTERN = re.compile(r"^\d{4}_[a-z0-9_]+$")
LEDGER_TABLE = "pgrecall_meta.migration_ledger"
#: ``pg_advisory_lock(int4, int4)`` keys: 'pgrc', 'migr'. Per database.
LOCK_KEYS = (0x70677263, 0x6D696772)
ROLLBACK_SUFFIX = ".rollback.sql"
CHECK_INTERVAL = "1s"  # client_connection_check_interval on yoyo's connections
APPLICATION_NAME = "pgrecall migrate"

StateName = Literal["applied", "pending", "drifted", "missing"]




@dataclass(frozen=True)
class LintProblem:
    """One broken rule, at ``path:line``."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class MigrationState:
    """Where one migration stands in a database.

    ``applied``: recorded by yoyo and (when the ledger knows it) unchanged on disk;
    ``pending``: on disk, not applied; ``drifted``: applied, but the file or its
    rollback file changed since; ``missing``: applied, but no file on disk.
    """

    id: str
    state: StateName
    applied_at: datetime | None
    path: Path | None

    def as_dict(self) -> dict[str, str | None]:
        """JSON-ready form (``applied_at`` in ISO 8601)."""
        return {
            "id": self.id,
            "state": self.state,
            "applied_at": self.applied_at.isoformat() if self.applied_at else None,
            "path": str(self.path) if self.path else None,
        }


@dataclass
class Report:
    """What a :func:`migrate` or :func:`rollback` run did (or, with ``dry_run``, would do).

    ``plan`` lists the migration ids in the order they run; ``summaries`` maps each to
    the first line of its leading comment. ``adopted`` are migrations applied by plain
    ``yoyo apply`` that were (or would be) recorded in the ledger. ``lock_timeouts``
    counts, per migration, the attempts that hit ``lock_timeout`` and were retried.
    """

    applied: list[str] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    plan: list[str] = field(default_factory=list)
    dry_run: bool = False
    summaries: dict[str, str] = field(default_factory=dict)
    action: Literal["migrate", "rollback"] = "migrate"
    lock_timeouts: dict[str, int] = field(default_factory=dict)

    def render(self) -> str:
        """Human-readable text, one migration per line."""
        lines = []
        if self.adopted:
            verb = "would adopt" if self.dry_run else "adopted"
            lines.append(f"{verb} (applied by yoyo apply): {', '.join(self.adopted)}")
        lines.extend(self._plan_lines())
        for mid, n in self.lock_timeouts.items():
            lines.append(f"{mid}: {n} lock timeout(s), retried")
        return "\n".join(lines)

    def _plan_lines(self) -> list[str]:
        verb = "apply" if self.action == "migrate" else "roll back"
        if not self.plan:
            return [f"nothing to {verb}"]
        done = "applied" if self.action == "migrate" else "rolled back"
        head = f"would {verb}" if self.dry_run else done
        lines = [f"{head} {len(self.plan)} migration(s):"]
        width = max(len(mid) for mid in self.plan)
        for mid in self.plan:
            lines.append(f"  {mid:<{width}}  {self.summaries.get(mid, '')}".rstrip())
        return lines

    def __str__(self) -> str:
        return self.render()


