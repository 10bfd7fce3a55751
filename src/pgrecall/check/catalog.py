"""What the check reads from the system catalog: table columns and their NOT NULL."""

from __future__ import annotations

from typing import Any

import psycopg

from .nulls import Null, PlanNulls

__all__ = ["Catalog"]

_COLUMNS_SQL = """
SELECT a.attname::text, a.attnotnull, a.attgenerated = 's', pg_get_expr(d.adbin, d.adrelid)
FROM pg_attribute AS a
JOIN pg_class AS c ON c.oid = a.attrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped
"""
_ORIGIN_SQL = """
SELECT attrelid::regclass::text || '.' || attname, attnotnull
FROM pg_attribute WHERE attrelid = %s AND attnum = %s
"""


class Catalog:
    """Cached catalog lookups on one connection."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self._columns: dict[tuple[str, str], dict[str, bool]] = {}
        self._origins: dict[tuple[int, int], tuple[str | None, bool | None]] = {}

    def columns(self, schema: str, table: str) -> dict[str, bool]:
        """``{column: cannot be NULL}`` of a table.

        A stored generated column without ``NOT NULL`` cannot be NULL either when
        its expression cannot (``coalesce(last_message_at, created_at)``).
        """
        if (schema, table) not in self._columns:
            rows = self.conn.execute(_COLUMNS_SQL, (schema, table)).fetchall()
            plain = {str(r[0]): bool(r[1]) for r in rows}
            self._columns[(schema, table)] = plain
            for name, notnull, generated, expression in rows:
                if generated and not notnull and expression:
                    plain[name] = _never_null(expression, schema, table, plain)
        return self._columns[(schema, table)]

    def origin(self, table: int, column: int) -> tuple[str | None, bool | None]:
        """``schema.table.column`` of a result column's source, and its ``attnotnull``."""
        if not table or column <= 0:
            return None, None
        if (table, column) not in self._origins:
            row = self.conn.execute(_ORIGIN_SQL, (table, column)).fetchone()
            self._origins[(table, column)] = (row[0], row[1]) if row else (None, None)
        return self._origins[(table, column)]


def _never_null(expression: str, schema: str, table: str, columns: dict[str, bool]) -> bool:
    """Evaluate a generation expression as if it were the output of a scan of the table."""
    scan: dict[str, object] = {"Node Type": "Seq Scan", "Schema": schema, "Alias": table}
    scan.update({"Relation Name": table, "Output": [expression]})
    nulls = PlanNulls(scan, lambda s, t: columns, 0).outputs(1)
    return nulls == [Null.NOT_NULL]
