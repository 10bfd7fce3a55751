"""A streaming standby of the embedded test server, for the read-replica tests.

Built from the embedded server's own binaries: ``pg_basebackup -R`` copies the
primary's data directory and writes the standby settings, then ``pg_ctl`` starts it
on a Unix socket in its own directory. Only for a primary started by
:func:`pgrecall.testing.open_server` from the embedded PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..dev import embedded

__all__ = ["Standby", "start_standby"]

_COPIED_STATE = (".handle_pids.json", "postmaster.pid", "postmaster.opts")


@dataclass
class Standby:
    """A running standby: its admin URL and the controls the tests need."""

    data: Path
    bin_dir: Path
    user: str | None

    @property
    def url(self) -> str:
        return f"postgresql://postgres:@/postgres?host={self.data}"

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin_dir / args[0]), *args[1:]]
        if self.user:
            cmd = ["su", self.user, "-s", "/bin/sh", "-c", " ".join(_quote(a) for a in cmd)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({done.returncode}): {done.stderr.strip()}")

    def start(self) -> None:
        opts = f"-h '' -k {self.data}"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            opts,
            "-l",
            str(self.data.parent / "log"),
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"


def start_standby(primary_data: Path, version: int, where: Path) -> Standby:
    """Clone the primary whose data directory (and socket) is ``primary_data``."""
    user = "pgserver" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    where.mkdir(parents=True, exist_ok=True, mode=0o700)
    if user:
        shutil.chown(where, user)
    standby = Standby(where / "data", embedded.bin_dir(version), user)
    standby._run(
        "pg_basebackup",
        "-D",
        str(standby.data),
        "-R",
        "-X",
        "stream",
        "-c",
        "fast",
        "-h",
        str(primary_data),
        "-U",
        "postgres",
    )
    for name in _COPIED_STATE:  # the primary's runtime files came along with the copy
        (standby.data / name).unlink(missing_ok=True)
    for lock in standby.data.glob(".s.PGSQL.*.lock"):
        lock.unlink()
    standby.start()
    return standby
