"""Migrations: yoyo applies the files; pgrecall closes the gaps yoyo 9 leaves.

The same ``sql/migrations`` files serve ``yoyo apply`` (with the repository's
``yoyo.ini``) and :func:`migrate`. On top of yoyo's Python API this module adds:

- a PostgreSQL advisory lock, held on its own connection for the whole run, instead
  of yoyo's lock row (which stays behind when a deploy is killed). yoyo's own
  connections run with ``client_connection_check_interval`` so that the server
  aborts the statement of a killed client within a second;
- a checksum ledger (``pgrecall_meta.migration_ledger``): an applied migration whose
  file (or rollback file) changed, an applied id missing on disk, or a new id that
  sorts before the last applied one is refused, naming the file. Migrations applied
  by plain ``yoyo apply`` are adopted into the ledger;
- :func:`lint`, run before every :func:`migrate`: ids ``NNNN_name``, a rollback file
  or an ``-- irreversible: <reason>`` header, and index builds on existing tables as
  ``CREATE INDEX CONCURRENTLY`` in a ``-- transactional: false`` file of their own;
- after applying, an INVALID index is an error whose message carries the fix;
- a short ``lock_timeout`` per transactional migration, retried with backoff
  (:class:`LiveSafety`, :mod:`.live`), so a migration never queues behind a long
  query while every other query queues behind it;
- a dry run that prints the plan, and :func:`status` (applied, pending, drifted,
  missing).

A transactional migration, yoyo's bookkeeping row and the ledger row commit in one
transaction, so a run killed at any point leaves either all or none of them.
"""

from __future__ import annotations

from .files import checksum
from .lint import lint
from .live import LiveSafety
from .report import ID_PATTERN, LEDGER_TABLE, LOCK_KEYS, LintProblem, MigrationState, Report
from .runner import migrate, rollback, status

__all__ = [
    "ID_PATTERN",
    "LEDGER_TABLE",
    "LOCK_KEYS",
    "LintProblem",
    "LiveSafety",
    "MigrationState",
    "Report",
    "checksum",
    "lint",
    "migrate",
    "rollback",
    "status",
]
