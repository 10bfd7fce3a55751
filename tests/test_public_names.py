"""Every name the README (and ARCHITECTURE.md) shows a user importing resolves."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest

import pgrecall

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "ARCHITECTURE.md"]
FROM_IMPORT = re.compile(r"^\s*from (pgrecall(?:\.\w+)*) import ([\w, ()]+)", re.M)
ATTRIBUTE = re.compile(r"\bpgrecall((?:\.[A-Za-z_]\w*)+)\s*\(")


def _code(text: str) -> str:
    return "\n".join(re.findall(r"```(?:python|py)\n(.*?)```", text, re.S))


def from_imports() -> list[tuple[str, str]]:
    found = set()
    for doc in DOCS:
        for module, names in FROM_IMPORT.findall(_code(doc.read_text())):
            for name in names.strip("()").split(","):
                if name.strip():
                    found.add((module, name.split(" as ")[0].strip()))
    return sorted(found)


def _sql_functions() -> set[str]:
    """``pgrecall.current_tenant()`` in the README is SQL, defined by a migration."""
    text = "\n".join(p.read_text() for p in (ROOT / "sql" / "migrations").glob("*.sql"))
    return set(re.findall(r"FUNCTION\s+pgrecall\.(\w+)", text, re.I))


def called_names() -> list[str]:
    found = set()
    for doc in DOCS:  # Python code only: `ON pgrecall.embeddings (...)` in SQL is a table
        found.update(ATTRIBUTE.findall(_code(doc.read_text())))
    sql = _sql_functions()
    return sorted(n for n in found if n.strip(".") not in sql)


@pytest.mark.parametrize(("module", "name"), from_imports(), ids=lambda v: str(v))
def test_readme_from_import_resolves(module: str, name: str) -> None:
    assert hasattr(importlib.import_module(module), name)


@pytest.mark.parametrize("dotted", called_names())
def test_readme_attribute_resolves(dotted: str) -> None:
    obj: Any = pgrecall
    for part in dotted.strip(".").split("."):
        if not hasattr(obj, part):
            obj = importlib.import_module(f"{obj.__name__}.{part}")
        else:
            obj = getattr(obj, part)
    assert callable(obj)


def test_the_public_surface() -> None:
    for name in pgrecall.__all__:
        assert hasattr(pgrecall, name), name
    assert callable(pgrecall.retry) and callable(pgrecall.connect)
