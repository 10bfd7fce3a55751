"""What ``pgrecall check`` reports: problems located at ``file:line``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from ..query.named import Query

__all__ = ["Problem", "Severity", "problem"]


class Severity(StrEnum):
    """An error fails the check; a warning fails it only with ``--strict``."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding about one named query.

    ``code`` is a stable short name (``prepare``, ``nullable``, ``type``, ...) for
    tests and tools; ``str(problem)`` is ``file:line: query: severity: message``.
    """

    path: Path | None
    line: int
    query: str
    severity: Severity
    code: str
    message: str

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.path else f"<query {self.query}>"

    def __str__(self) -> str:
        return f"{self.where}: {self.query}: {self.severity.value}: {self.message}"


def problem(
    query: Query,
    code: str,
    message: str,
    *,
    line: int | None = None,
    severity: Severity = Severity.ERROR,
) -> Problem:
    """A problem of ``query``, at ``line`` (default: its first statement line)."""
    return Problem(query.path, line or query.line, query.name, severity, code, message)
