"""squawk, the PostgreSQL migration linter, run the way pgrecall runs migrations.

squawk reads one file at a time and cannot know how the runner executes it, so this
module tells it, per group of files:

- a transactional migration (and its rollback file) runs in one transaction:
  ``--assume-in-transaction`` (a failure half way leaves nothing behind to rerun around);
- a ``-- transactional: false`` migration does not;
- ``*.rollback.sql`` files get the extra exclusions of ``[pgrecall]
  rollback_excluded_rules`` in the config (dropping what the migration created is their
  job), and a file listed under ``[pgrecall.file_excluded_rules]`` its own, each with
  the reason next to it in the config.

squawk applies either its config's ``excluded_rules`` or the command line's
``--exclude``, not both, so the full list is always passed on the command line.
The config is ``.squawk.toml`` in the first source directory or a parent of it, else in
the working directory; pgrecall's own sits at the repository root (and in the wheel).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError, MigrationError
from .files import _all_files, _source_dirs
from .report import ROLLBACK_SUFFIX, LintProblem

__all__ = ["SquawkConfig", "find_config", "squawk"]

CONFIG_NAME = ".squawk.toml"


@dataclass(frozen=True)
class SquawkConfig:
    """The parts of ``.squawk.toml`` this runner needs."""

    path: Path | None = None
    excluded_rules: tuple[str, ...] = ()
    rollback_excluded_rules: tuple[str, ...] = ()
    file_excluded_rules: dict[str, tuple[str, ...]] = field(default_factory=dict)
    pg_version: str | None = None

    @classmethod
    def load(cls, path: Path) -> SquawkConfig:
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigurationError(f"cannot read {path}: {exc}") from exc
        own: dict[str, Any] = data.get("pgrecall", {})
        return cls(
            path=path,
            excluded_rules=_rules(data, "excluded_rules", path),
            rollback_excluded_rules=_rules(own, "rollback_excluded_rules", path),
            file_excluded_rules={
                name: _rules(own.get("file_excluded_rules", {}), name, path)
                for name in own.get("file_excluded_rules", {})
            },
            pg_version=str(data["pg_version"]) if "pg_version" in data else None,
        )

    def excludes(self, name: str) -> tuple[str, ...]:
        rules = list(self.excluded_rules)
        if name.endswith(ROLLBACK_SUFFIX):
            rules += self.rollback_excluded_rules
        rules += self.file_excluded_rules.get(name, ())
        return tuple(sorted(set(rules)))


def _rules(table: dict[str, Any], key: str, path: Path) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
        raise ConfigurationError(f"{path}: {key} must be a list of rule names")
    return tuple(value)


def find_config(dirs: Sequence[Path]) -> Path | None:
    """``.squawk.toml`` in the first directory or a parent, else in the working directory."""
    start = dirs[0].resolve() if dirs else Path.cwd()
    for d in (start, *start.parents, Path.cwd()):
        if (d / CONFIG_NAME).is_file():
            return d / CONFIG_NAME
    return None


def _binary() -> str:
    beside = Path(sys.executable).parent / ("squawk.exe" if os.name == "nt" else "squawk")
    found = str(beside) if beside.is_file() else shutil.which("squawk")
    if found is None:
        raise ConfigurationError(
            "squawk is not installed: pip install squawk-cli (pinned in pgrecall's dev extra)"
        )
    return found


def _run(
    binary: str,
    config: SquawkConfig,
    paths: list[Path],
    excludes: tuple[str, ...],
    in_transaction: bool,
) -> list[LintProblem]:
    cmd = [binary, "--reporter", "json"]
    if config.path is not None:
        cmd += ["--config", str(config.path)]
    if config.pg_version:
        cmd += ["--pg-version", config.pg_version]
    if in_transaction:
        cmd.append("--assume-in-transaction")
    if excludes:
        cmd.append("--exclude=" + ",".join(excludes))
    done = subprocess.run([*cmd, *map(str, paths)], capture_output=True, text=True, check=False)
    try:
        findings = json.loads(done.stdout or "[]")
    except json.JSONDecodeError as exc:
        raise MigrationError(f"squawk failed ({done.returncode}): {done.stderr.strip()}") from exc
    if done.returncode not in (0, 1) or not isinstance(findings, list):
        raise MigrationError(f"squawk failed ({done.returncode}): {done.stderr.strip()}")
    return [
        LintProblem(
            Path(f["file"]),
            int(f["line"]) + 1,  # squawk's JSON lines are 0-based
            f"squawk {f['rule_name']}: {f['message']}" + (f" ({f['help']})" if f["help"] else ""),
        )
        for f in findings
    ]


def squawk(
    sources: Sequence[Path] | None = None, *, config: Path | None = None
) -> list[LintProblem]:
    """Run squawk over the migration files (and their rollback files); ``[]`` when clean.

    ``config``: a ``.squawk.toml`` (default: :func:`find_config`). Raises
    :class:`~pgrecall.errors.ConfigurationError` when squawk is not installed.
    """
    dirs = _source_dirs(sources)
    path = config if config is not None else find_config(dirs)
    cfg = SquawkConfig.load(path) if path is not None else SquawkConfig()
    groups: dict[tuple[bool, tuple[str, ...]], list[Path]] = {}
    for f in _all_files(dirs)[0]:
        for p in (f.path, f.rollback_path):
            if p is not None:
                groups.setdefault((f.header.transactional, cfg.excludes(p.name)), []).append(p)
    binary = _binary()
    problems: list[LintProblem] = []
    for (in_transaction, excludes), paths in sorted(groups.items()):
        problems += _run(binary, cfg, paths, excludes, in_transaction)
    return sorted(problems, key=lambda p: (str(p.path), p.line, p.message))
