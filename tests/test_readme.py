"""The README's API examples run against a real database (pydantic-settings style)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

import pgrecall

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def blocks(section: str, lang: str) -> list[str]:
    start = README.index(section)
    end = README.find("\n## ", start + len(section))
    text = README[start : end if end > 0 else None]
    return re.findall(rf"```{lang}\n(.*?)```", text, re.S)


def test_api_by_example(db_url: str) -> None:
    sync, asynchronous = blocks("## The API by example", "python")[:2]
    namespace: dict[str, object] = {}
    exec(sync.replace('"postgresql://app@db/app"', repr(db_url)), namespace)
    c = namespace["c"]
    with pgrecall.connect(db_url) as store, store.session(tenant="acme") as s:
        assert s.conversations.find(c.id) is None  # type: ignore[attr-defined]  # purged
        assert s.users.get("u1").display_name == "U. One"

    body = "\n".join("    " + line for line in asynchronous.splitlines())
    exec(f"async def main(url):\n{body}\n    return c\n", namespace)
    conv = asyncio.run(namespace["main"](db_url))  # type: ignore[operator]
    with pgrecall.connect(db_url) as store, store.session(tenant="acme") as s:
        assert [m.content for m in s.messages.last(conv.id)] == ["hi"]


def test_query_layer_example(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (sql,) = blocks("### The query layer on its own", "sql")
    python = blocks("### The query layer on its own", "python")[0]
    (tmp_path / "sql" / "app").mkdir(parents=True)
    (tmp_path / "sql" / "app" / "reports.sql").write_text(sql)
    monkeypatch.chdir(tmp_path)
    with pgrecall.connect(db_url) as store:
        with store.session(tenant="acme") as s:
            conv = s.conversations.create(user_id="u7")
            s.messages.append(conv.id, role="user", content="hello")
        namespace: dict[str, object] = {"store": store}
        exec(python, namespace)
    rows = namespace["rows"]
    assert [(r.user_id, r.messages) for r in rows] == [("u7", 1)]  # type: ignore[attr-defined]
