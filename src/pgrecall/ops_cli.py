"""Operations commands: cleanup, export, import, purge (issue 5)."""

from __future__ import annotations

from typing import Any

__all__ = ["add_commands"]


def add_commands(sub: Any) -> None:
    """Register the operations commands on the CLI's subparsers (none yet)."""
    del sub
