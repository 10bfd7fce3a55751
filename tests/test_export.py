"""Export -> purge -> import round trip, stream format, and the CLI commands."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

import pgrecall
from pgrecall import ConflictError
from pgrecall.api.keys import create_key
from pgrecall.cli import main
from pgrecall.models.ops import NewEvent
from pgrecall.ops import export_tenant, import_tenant, purge_tenant


def _fill(store: pgrecall.Store, tenant: str) -> None:
    """A bit of every area, so the round trip covers every table."""
    with store.session(tenant=tenant) as s:
        s.users.upsert("u1", email="u1@example.com", metadata={"plan": "pro"})
        p = s.personas.create("Ada", template="You are Ada.")
        m = s.modules.create("safety", type="simple", content="Be safe.")
        s.personas.attach(p.id, m.id, position=3)
        c = s.conversations.create(user_id="u1", title="Research", persona_id=p.id)
        for i in range(5):
            s.messages.append(
                c.id,
                role="user" if i % 2 else "assistant",
                content=f"m{i} é ✓",
                model="gpt-x",
                input_tokens=10,
                latency_ms=100 + i,
            )
        s.conversations.delete(s.conversations.create(user_id="u2").id)
        s.states.set(c.id, "mood", {"v": [1, 2.5, None]}, persona_id=p.id, module_id=m.id)
        run = s.runs.create("research", input={"q": "?"}, conversation_id=c.id, user_id="u1")
        s.runs.claim_next("research", worker_id="w")
        s.runs.succeed(run.id, {"a": 1}, cost=0.5)
        s.events.log("llm.call", conversation_id=c.id, details={"k": "v"})
        s.events.log_many(
            [NewEvent(type="old", occurred_at=datetime.now(UTC) - timedelta(days=500))]
        )
        s.cache.set("k", {"cached": True}, ttl=3600)
        s.kv.mset("parents", [("doc:1", b"\x00\xffbytes"), ("doc:2", "é".encode())])
        s.domain_sets.create("std", ["iso.org"])
        doc = s.documents.add(filename="a.txt", title="A doc", run_id=run.id)
        s.analyses.add(doc.id, summary="about standards", tags=["iso"])
        s.embeddings.declare_model("tiny", dimensions=3)
        s.embeddings.add("chunk", np.array([0.1, 0.2, 0.3]), model="tiny", document_id=doc.id)
        s.memories.add(
            "likes tea",
            user_id="u1",
            kind="preference",
            importance=0.9,
            persona_id=p.id,
            embedding=[0.3, 0.2, 0.1],
            model="tiny",
        )
        create_key(s, name="export")  # the HTTP service's tables (0015, 0016)
        take = s.queries.api_rate_take
        s.db.scalar(take, float, tenant_id=tenant, subject="k", rate=1.0, burst=5.0)


def _dump(path: Path) -> dict[str, list[str]]:
    return {f.stem: f.read_text("utf-8").splitlines() for f in sorted(path.glob("*.jsonl"))}


def test_export_purge_import_round_trip(store: pgrecall.Store, tmp_path: Path) -> None:
    _fill(store, "acme")
    _fill(store, "other")
    first = export_tenant(store, "acme", tmp_path / "a")
    assert first.rows["messages"] == 5 and first.rows["events"] == 2
    assert all(n > 0 for t, n in first.rows.items()), first.rows  # every table is covered
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["tenant"] == "acme" and manifest["format"] == "pgrecall-export"
    names = [t["name"] for t in manifest["tables"]]
    assert names.index("users") < names.index("conversations") < names.index("messages")

    with pytest.raises(ConflictError, match="has rows"):
        import_tenant(store, tmp_path / "a")  # the tenant still has its rows

    purged = purge_tenant(store, "acme")
    assert purged.rows == first.rows  # cascaded rows are counted under their own table
    with store.session(tenant="acme") as s:
        assert all(n == 0 for n in s.stats.counts().values())
    with store.session(tenant="other") as s:
        assert s.stats.counts()["messages"] == 5  # the other tenant is untouched

    restored = import_tenant(store, tmp_path / "a")
    assert restored.rows == {t: n for t, n in first.rows.items() if n}
    export_tenant(store, "acme", tmp_path / "b")
    assert _dump(tmp_path / "a") == _dump(tmp_path / "b")  # byte for byte, every row

    with store.session(tenant="acme") as s:  # triggers work on the restored rows
        c = s.conversations.list("u1")[0]
        assert s.messages.append(c.id, role="user", content="after").seq == 6


def test_stream_export_into_another_tenant(store: pgrecall.Store) -> None:
    _fill(store, "acme")
    buf = io.StringIO()
    report = export_tenant(store, "acme", buf)
    lines = buf.getvalue().splitlines()
    assert len(lines) == sum(report.rows.values())
    tables = list(dict.fromkeys(json.loads(line)["table"] for line in lines))
    assert tables.index("users") < tables.index("conversations") < tables.index("messages")
    rows = import_tenant(store, io.StringIO(buf.getvalue()), tenant="copy")
    assert rows.rows == {t: n for t, n in report.rows.items() if n} and rows.tenant == "copy"
    with store.session(tenant="copy") as s:
        c = s.conversations.list("u1")[0]
        assert s.messages.last(c.id)[0].content == "m0 é ✓"
        assert s.conversations.get(c.id).tenant_id == "copy"


def test_cli_export_purge_import(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pgrecall.connect(db_url, pool_min_size=0) as store:
        _fill(store, "acme")
    out = tmp_path / "dump"
    assert main(["--url", db_url, "export", "--tenant", "acme", "--out", str(out)]) == 0
    exported = json.loads(capsys.readouterr().out)["rows"]
    assert main(["--url", db_url, "purge", "--tenant", "acme"]) == 2  # needs --yes
    capsys.readouterr()
    assert main(["--url", db_url, "purge", "--tenant", "acme", "--yes"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == exported
    assert main(["--url", db_url, "import", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["rows"] == {t: n for t, n in exported.items() if n}
    assert main(["--url", db_url, "cleanup", "--tenant", "acme", "--deleted-days", "0"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["conversations_purged"] == 1 and report["tenant"] == "acme"
