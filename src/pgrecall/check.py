"""``pgrecall check``: verify named queries against the migrated schema (issue 6)."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_command"]


def add_command(sub: Any) -> None:
    """Register ``pgrecall check`` on the CLI's subparsers (not implemented yet)."""
    del sub
    _ = argparse
