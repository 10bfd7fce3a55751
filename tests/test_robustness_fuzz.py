"""Issue 10.8: every public area method, one hostile value per parameter at a time, gives
a pgrecall error (or works) -- never a raw TypeError, pydantic or driver error."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest

import pgrecall
from pgrecall import PgRecallError, ValidationError
from pgrecall.areas._base import Area

HOSTILE: list[Any] = [
    None, "", "   ", "a\x00b", "\ud800", -1, 0, 2**31, 2**63, 10**4301, math.nan, math.inf,
    True, [], {}, object(), b"x", datetime(2025, 1, 1), date(2025, 1, 1), [None],
    {"k": math.nan}, {"k": 10**4301}, ["\x00"], {"\x00": 1},
]  # fmt: skip
# Not user input: helpers the areas share, callables, generators.
SKIP = {
    "search_pipeline", "vector_for", "dimensions_of", "get_or_set", "yield_keys", "append",
    "log_many",
}  # fmt: skip
VECTOR = [1.0, 0.0, 0.0]


def _baseline(s: pgrecall.Session) -> dict[str, Any]:
    """A plausible value per parameter name (ids of rows that exist)."""
    s.embeddings.declare_model("m", dimensions=3)
    conv = s.conversations.create("u1")
    msg = s.messages.append(conv.id, role="user", content="hello there")
    doc = s.documents.add("a.txt", title="doc")
    analysis = s.analyses.add(doc.id, summary="s")
    run = s.runs.create("job")
    persona = s.personas.create("p", template="t")
    module = s.modules.create("mod", type="prompt")
    memory = s.memories.add("fact", embedding=VECTOR, model="m")
    chunk = s.embeddings.add("chunk", VECTOR, model="m", document_id=doc.id)
    ds = s.domain_sets.create("ds", domains=["example.com"])
    return {
        "ids": {
            "conversations": conv.id, "messages": msg.id, "documents": doc.id,
            "analyses": analysis.id, "runs": run.id, "personas": persona.id,
            "modules": module.id, "memories": memory.id, "embeddings": chunk.id,
            "domain_sets": ds.id,
        },
        "conversation_id": conv.id, "document_id": doc.id, "run_id": run.id,
        "persona_id": persona.id, "module_id": module.id, "memory_id": memory.id,
        "analysis_id": analysis.id, "message_id": msg.id, "document_ids": [doc.id],
        "user_id": "u1", "model": "m", "embedding": VECTOR, "embeddings": [VECTOR],
        "contents": ["c"], "content": "text", "q": "harbour", "text": "harbour",
        "name": "n1", "key": "k1", "namespace": "ns", "keys": ["k1"], "items": {"k1": 1},
        "value": {"v": 1}, "patch": {"a": 1}, "domain": "example.com", "kind": "job",
        "type": "prompt", "template": "t", "filename": "f.txt", "email": "a@b.c",
        "error": "boom", "version": 1, "max_tokens": 100, "dimensions": 3, "below": 0.1,
        "title": "t", "prefix": "k", "sha256": "0" * 64, "request_id": "r1",
    }  # fmt: skip


def _methods(s: pgrecall.Session) -> list[tuple[str, Callable[..., Any], inspect.Signature]]:
    found: list[tuple[str, Callable[..., Any], inspect.Signature]] = []
    for area_name, area in vars(s).items():
        if not isinstance(area, Area):
            continue
        for name, fn in inspect.getmembers(area, inspect.ismethod):
            if not name.startswith("_") and name not in SKIP:
                found.append((f"{area_name}.{name}", fn, inspect.signature(fn)))
    return found


def _required(area: str, sig: inspect.Signature, base: dict[str, Any]) -> dict[str, Any] | None:
    args: dict[str, Any] = {}
    for p in sig.parameters.values():
        if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) or p.default is not p.empty:
            continue
        if p.name == "id":
            args["id"] = base["ids"].get(area)
        elif p.name in base:
            args[p.name] = base[p.name]
        else:
            return None  # no plausible value: the method is left out
    return args


def _show(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"<int of {value.bit_length()} bits>"
    try:
        return repr(value)[:160]
    except ValueError:
        return f"<{type(value).__name__}>"


def _call(fn: Callable[..., Any], sig: inspect.Signature, args: dict[str, Any]) -> Any:
    positional = [
        args.pop(p.name) for p in sig.parameters.values()
        if p.kind is p.POSITIONAL_ONLY and p.name in args
    ]  # fmt: skip
    return fn(*positional, **args)


@pytest.mark.slow
def test_hostile_values_give_only_pgrecall_errors(store: pgrecall.Store) -> None:
    leaks: list[str] = []
    after_sql: dict[str, str] = {}
    calls = 0
    with store.session(tenant="acme") as s:
        base = _baseline(s)
        for name, fn, sig in _methods(s):
            area = name.split(".")[0]
            required = _required(area, sig, base)
            if required is None:
                continue
            for param in sig.parameters.values():
                if param.kind in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
                    continue
                for value in HOSTILE:
                    args = {**required, param.name: value}
                    calls += 1
                    try:
                        with s.savepoint():
                            _call(fn, sig, args)
                    except ValidationError as exc:
                        if exc.sqlstate is not None:
                            after_sql.setdefault(f"{name}({param.name})", repr(exc)[:120])
                    except PgRecallError:
                        pass
                    except Exception as exc:  # every other class is a leak
                        leaks.append(f"{name}({param.name}={_show(value)}): {_show(exc)}")
    print(f"{calls} hostile calls; validated by the database: {len(after_sql)}")
    for where, err in sorted(after_sql.items()):
        print("  after SQL:", where, err)
    for leak in sorted({leak.split("=")[0] + " " + leak.split("): ")[-1][:70] for leak in leaks}):
        print("  leak:", leak)
    assert leaks == []
    assert after_sql == {}  # every refusal before any SQL is sent
