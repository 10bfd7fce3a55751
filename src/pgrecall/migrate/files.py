"""Migration files on disk: discovery, headers, checksums."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import MigrationError
from ..query.resources import migrations_dir
from .report import ROLLBACK_SUFFIX, LintProblem

__all__ = ["checksum"]



@dataclass(frozen=True)
class _Header:
    """The leading comment block, read the way yoyo reads it."""

    directives: dict[str, str]
    summary: str
    irreversible: str | None

    @property
    def transactional(self) -> bool:
        return self.directives.get("transactional", "true").strip().lower() != "false"


_HEADER_LINE = re.compile(r"^\s*(?:--.*)?$")
_DIRECTIVE = re.compile(r"^\s*--\s*(transactional|depends|irreversible)\s*:\s*(.*?)\s*$")


def _header(text: str) -> _Header:
    directives: dict[str, str] = {}
    comments: list[str] = []
    for line in text.splitlines():
        if not _HEADER_LINE.match(line):
            break
        if m := _DIRECTIVE.match(line):
            directives[m[1]] = f"{directives.get(m[1], '')} {m[2]}".strip()
        else:
            comments.append(line.strip().lstrip("-").strip())
    summary = next((c for c in comments if c), "")
    return _Header(directives, summary, directives.pop("irreversible", None))


@dataclass(frozen=True)
class _File:
    """A migration file and its rollback file."""

    id: str
    path: Path
    text: str
    rollback_path: Path | None
    rollback_text: str | None
    checksum: str
    header: _Header


def _normalised(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n")


def _digest(main: bytes, rollback: bytes | None) -> str:
    digest = hashlib.sha256(_normalised(main))
    if rollback is not None:
        digest.update(b"\0rollback\0")
        digest.update(_normalised(rollback))
    return digest.hexdigest()


def _rollback_path(path: Path) -> Path:
    return path.with_name(path.name.removesuffix(".sql") + ROLLBACK_SUFFIX)


def checksum(path: Path) -> str:
    """sha256 of a migration file plus its rollback file (CRLF read as LF)."""
    rollback = _rollback_path(path)
    return _digest(path.read_bytes(), rollback.read_bytes() if rollback.is_file() else None)


def _read_file(path: Path) -> _File:
    main = path.read_bytes()
    rb_path = _rollback_path(path)
    rb = rb_path.read_bytes() if rb_path.is_file() else None
    text = main.decode("utf-8", errors="replace")
    return _File(
        id=path.name.removesuffix(".sql"),
        path=path,
        text=text,
        rollback_path=rb_path if rb is not None else None,
        rollback_text=rb.decode("utf-8", errors="replace") if rb is not None else None,
        checksum=_digest(main, rb),
        header=_header(text),
    )


def _source_dirs(sources: Sequence[Path] | None) -> list[Path]:
    dirs = [Path(s) for s in sources] if sources is not None else [migrations_dir()]
    for d in dirs:
        if not d.is_dir():
            raise MigrationError(f"migrations directory not found: {d}")
    return dirs


def _discover_dir(directory: Path) -> tuple[list[_File], list[LintProblem]]:
    files: list[_File] = []
    problems: list[LintProblem] = []
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        if path.name.endswith(ROLLBACK_SUFFIX):
            main = path.with_name(path.name.removesuffix(ROLLBACK_SUFFIX) + ".sql")
            if not main.is_file():
                problems.append(LintProblem(path, 1, f"rollback file without {main.name}"))
        elif path.suffix == ".sql":
            files.append(_read_file(path))
        elif path.suffix == ".py":
            problems.append(
                LintProblem(path, 1, "Python migrations are not supported: use plain SQL")
            )
    return files, problems


def _all_files(dirs: Sequence[Path]) -> tuple[list[_File], list[LintProblem]]:
    files: list[_File] = []
    problems: list[LintProblem] = []
    for directory in dirs:
        found, dir_problems = _discover_dir(directory)
        files += found
        problems += dir_problems
    return files, problems


def _discover(dirs: Sequence[Path]) -> dict[str, _File]:
    """Migration files by id (the first wins on a duplicate id, which lint refuses)."""
    found: dict[str, _File] = {}
    for f in _all_files(dirs)[0]:
        found.setdefault(f.id, f)
    return found


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


