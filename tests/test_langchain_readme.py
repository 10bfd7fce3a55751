"""The README's LangChain example runs against a real database (as tests/test_readme.py
does for the API examples)."""

from __future__ import annotations

import re
from pathlib import Path

import pgrecall

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_langchain_example(db_url: str) -> None:
    start = README.index("## LangChain")
    section = README[start : README.index("\n## ", start + 1)]
    (code,) = re.findall(r"```python\n(.*?)```", section, re.S)
    namespace: dict[str, object] = {}
    exec(code.replace('"postgresql://app@db/app"', repr(db_url)), namespace)
    assert [d.id for d in namespace["recent"]] == ["rrf"]  # type: ignore[attr-defined]
    assert len(namespace["diverse"]) == 2  # type: ignore[arg-type]
    assert {d.metadata["topic"] for d in namespace["found"]} == {"search"}  # type: ignore[attr-defined]
    assert namespace["parent_keys"] == ["doc:1", "doc:2"]
    with pgrecall.connect(db_url) as store, store.session(tenant="acme") as s:
        assert s.embeddings.count(model="fake-384") == 1  # "rrf" replaced, "rls" deleted
        assert s.conversations.get(namespace["old_conversation"]).status == "deleted"  # type: ignore[arg-type]
        assert s.kv.get("parents", "doc:2") == b"full text 2"
        assert s.cache.stats().entries == 1
