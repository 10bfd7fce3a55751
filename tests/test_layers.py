"""The package layout: layers import downward only, and the core imports no extra.

Each module of ``src/pgrecall`` belongs to a unit (its first package under
``pgrecall``, or the top-level module with its ``_async`` twin folded in). A unit may
import only units of a lower rank; imports under ``if TYPE_CHECKING:`` are annotations,
not dependencies, and are skipped. Strictly lower ranks also mean no import cycles
between units.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "pgrecall"

RANKS: dict[str, int] = {
    "errors": 0,
    "settings": 1,
    "query": 2,
    "models": 2,
    "areas.validate": 2,
    "areas": 3,
    "migrate": 3,
    "ops": 4,
    "session": 5,
    "replicas": 5,
    "store": 6,
    "dev": 7,
    "testing": 8,
    "check": 9,
    "cli": 10,
    "api": 10,
    "integrations": 10,
    "pgrecall": 9,
}
#: The optional extras: only their own packages may import them.
EXTRAS = {"fastapi", "starlette", "uvicorn", "langchain_core", "langchain", "llama_index"}
EXTRA_UNITS = {"api", "integrations"}
#: Same-rank imports allowed: the CLI's HTTP commands import the api inside the command
#: functions (tests/test_api_cli.py checks that no module-level import does).
LAZY_DOORS = {("cli", "api")}


def unit_of(module: str) -> str:
    """``pgrecall.areas.messages_async`` -> ``areas``; ``pgrecall.store_async`` -> ``store``.

    ``pgrecall`` itself (the public surface, which imports everything) ranks with the
    doors: only they may import from it.
    """
    if module == "pgrecall":
        return "pgrecall"
    parts = module.split(".")[1:]
    if parts[:2] == ["areas", "validate"]:
        return "areas.validate"
    head = parts[0] if parts else ""
    return head.removesuffix("_async")


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports_of(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, absolute module, names) for every import outside TYPE_CHECKING blocks."""
    tree = ast.parse(path.read_text(), str(path))
    skip = _type_checking_lines(tree)
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found: list[tuple[int, str, list[str]]] = []
    for node in ast.walk(tree):
        if node.lineno in skip if isinstance(node, ast.stmt) else True:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            found.append((node.lineno, target, [a.name for a in node.names]))
    return found


def _targets(module: str, names: list[str]) -> list[str]:
    """``from pgrecall import migrate`` names a module; ``from .x import f`` names x."""
    if module == "pgrecall":  # submodules by name; public names come from the root
        subs = [n for n in names if (SRC / n).is_dir() or (SRC / f"{n}.py").exists()]
        public = [n for n in names if n not in subs and n != "__version__"]
        return [f"pgrecall.{n}" for n in subs] + (["pgrecall"] if public else [])
    if module.startswith("pgrecall.") and module.count(".") == 1 and names:
        sub = SRC / module.split(".")[1]
        if sub.is_dir():  # `from ..areas import validate`
            return [f"{module}.{n}" if (sub / f"{n}.py").exists() else module for n in names]
    return [module]


MODULES = sorted(SRC.rglob("*.py"))


def violations(path: Path) -> list[str]:
    me = unit_of(module_name(path))
    out = []
    for line, module, names in imports_of(path):
        top = module.split(".")[0]
        if top in EXTRAS and me not in EXTRA_UNITS:
            out.append(f"{path}:{line}: the core imports the optional extra {module}")
        if top != "pgrecall" or module_name(path) == "pgrecall":
            continue
        for target in _targets(module, names):
            other = unit_of(target)
            if other == me:
                continue
            if RANKS[other] >= RANKS[me] and (me, other) not in LAZY_DOORS:
                out.append(f"{path}:{line}: {me} (rank {RANKS[me]}) imports {target} "
                           f"({other}, rank {RANKS[other]})")
    return out


def test_every_unit_has_a_rank() -> None:
    units = {unit_of(module_name(p)) for p in MODULES}
    assert units <= set(RANKS), f"add these units to RANKS: {sorted(units - set(RANKS))}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_go_downward(path: Path) -> None:
    assert violations(path) == []


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    """The rule can fail: an area importing the store is reported."""
    fake = SRC / "areas" / "_layers_probe.py"
    fake.write_text("from ..store import Store\n")
    try:
        assert any("imports pgrecall.store" in v for v in violations(fake))
    finally:
        fake.unlink()


def test_top_level_holds_packages_and_a_handful_of_modules() -> None:
    modules = sorted(p.stem for p in SRC.glob("*.py"))
    assert modules == [
        "__init__", "errors", "session", "session_async", "settings", "store", "store_async",
    ]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_is_too_long(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= 500
