"""Generate the sync modules from their async sources (as psycopg does).

Usage: ``python tools/async_to_sync.py`` rewrites every ``src/pgrecall/**/*_async.py``
into its sync twin (``_db_async.py`` -> ``_db.py``); ``--check`` exits 1 when a
generated file is out of date. The rewrite is lexical: a fixed table of names plus
dropping ``async`` / ``await``; imports are de-duplicated and re-sorted.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "pgrecall"

NAMES = {
    "AsyncConnectionPool": "ConnectionPool",
    "AsyncConnection": "Connection",
    "AsyncCursor": "Cursor",
    "AsyncIterator": "Iterator",
    "AsyncGenerator": "Generator",
    "AbstractAsyncContextManager": "AbstractContextManager",
    "asynccontextmanager": "contextmanager",
    "AsyncDB": "DB",
    "AsyncStore": "Store",
    "AsyncSession": "Session",
    "AsyncArea": "Area",
    "AsyncUsers": "Users",
    "AsyncConversations": "Conversations",
    "AsyncMessages": "Messages",
    "AsyncDocuments": "Documents",
    "AsyncAnalyses": "Analyses",
    "AsyncEmbeddings": "Embeddings",
    "AsyncVectorArea": "VectorArea",
    "AsyncSearch": "Search",
    "AsyncMemories": "Memories",
    "AsyncRuns": "Runs",
    "AsyncEvents": "Events",
    "AsyncCache": "Cache",
    "AsyncPersonas": "Personas",
    "AsyncModules": "Modules",
    "AsyncStates": "States",
    "AsyncDomainSets": "DomainSets",
    "AsyncStats": "Stats",
    "AsyncReplicaRouter": "ReplicaRouter",
    "AsyncExitStack": "ExitStack",
    "push_async_exit": "push",
    "enter_async_context": "enter_context",
    "AsyncKV": "KV",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "aclose": "close",
    "asyncio": "time",
    "connect_async": "connect",
}
PHRASES = [
    (re.compile(r"\basync def\b"), "def"),
    (re.compile(r"\basync with\b"), "with"),
    (re.compile(r"\basync for\b"), "for"),
    (re.compile(r"\bawait\s+"), ""),
    (re.compile(r"\b(\w+)_async\b"), r"\1"),
    (re.compile(r"\bAwaitable\[([^\]]+)\]"), r"\1"),
    (re.compile(r"^(from \S+ import .*)\bAwaitable, ", re.M), r"\1"),
]
WORD = re.compile(r"\b(" + "|".join(sorted(NAMES, key=len, reverse=True)) + r")\b")
IMPORT = re.compile(r"^(?P<head>from \S+ import )(?P<names>[^()\n]+)$", re.M)
HEADER = "# Generated from {src} by tools/async_to_sync.py: do not edit.\n"


def _sort_key(name: str) -> tuple[int, str]:
    base = name.split(" as ")[0]
    if base.isupper() and len(base) > 1:
        return (0, base)
    if base[:1].isupper():
        return (1, base)
    return (2, base)


def _imports(match: re.Match[str]) -> str:
    names = list(dict.fromkeys(n.strip() for n in match.group("names").split(",")))
    return match.group("head") + ", ".join(sorted(names, key=_sort_key))


ALL = re.compile(r"^__all__ = \[(?P<names>[^\]\n]*)\]$", re.M)


def _all(match: re.Match[str]) -> str:
    names = [n.strip() for n in match.group("names").split(",") if n.strip()]
    return "__all__ = [" + ", ".join(sorted(names, key=lambda n: _sort_key(n.strip('"')))) + "]"


def convert(text: str) -> str:
    for pattern, repl in PHRASES:
        text = pattern.sub(repl, text)
    text = WORD.sub(lambda m: NAMES[m.group(1)], text)
    return ALL.sub(_all, IMPORT.sub(_imports, text))


def targets() -> list[tuple[Path, Path]]:
    return [
        (src, src.with_name(src.name.replace("_async.py", ".py")))
        for src in sorted(ROOT.rglob("*_async.py"))
    ]


def render(src: Path) -> str:
    return HEADER.format(src=src.name) + convert(src.read_text(encoding="utf-8"))


def main(argv: list[str]) -> int:
    stale = []
    for src, dst in targets():
        text = render(src)
        if dst.exists() and dst.read_text(encoding="utf-8") == text:
            continue
        if "--check" in argv:
            stale.append(dst)
        else:
            dst.write_text(text, encoding="utf-8")
            print(f"generated {dst.relative_to(ROOT.parents[1])}")
    for dst in stale:
        print(f"{dst}: out of date; run `make generate`", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
