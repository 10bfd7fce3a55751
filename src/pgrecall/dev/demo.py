"""``pgrecall demo``: real rows in every area, read back, and how to see them in psql.

Embeddings come from a toy "model" (hashed words, 384 dimensions) so the demo needs no
network or model download; any real embedding model plugs in the same way.
"""

from __future__ import annotations

import hashlib
import math
import time

from ..models.core import Role
from ..store import Store, connect

__all__ = ["run_demo"]

_SYSTEM = "You are a research assistant. Answer briefly and cite sources."
_TURNS: list[tuple[Role, str]] = [
    ("user", "What is pgvector?"),
    ("assistant", "A PostgreSQL extension that stores vectors and finds nearest neighbours."),
    ("user", "Which index does it use for approximate search?"),
    ("assistant", "HNSW (graph based) or IVFFlat (clustered lists); HNSW recalls better."),
    ("user", "And how do I keep tenants apart?"),
    ("assistant", "Row level security on tenant_id, set per transaction with set_config."),
]


_CHUNKS = [
    "pgvector stores embeddings in PostgreSQL and answers nearest-neighbour queries.",
    "HNSW is a graph index: fast approximate search with high recall.",
    "Row level security keeps each tenant's rows invisible to the others.",
    "An UNLOGGED table is fast but emptied after a crash: good for a cache.",
]
_MODEL = "demo-hashed-words"


def toy_embedding(text: str, dims: int = 384) -> list[float]:
    """A deterministic bag-of-words vector: each word hashed to a dimension."""
    vec = [0.0] * dims
    for word in text.lower().replace(".", " ").replace(":", " ").split():
        vec[int.from_bytes(hashlib.sha256(word.encode()).digest()[:4], "big") % dims] += 1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


def _ranks(text: int | None, vector: int | None) -> str:
    """A hybrid hit's ranks; a hit found by one side only has no rank on the other."""
    return ", ".join(
        f"{side} #{rank}" if rank is not None else f"no {side} match"
        for side, rank in (("text", text), ("vector", vector))
    )


def _knowledge_and_ops(store: Store) -> None:
    with store.session(tenant="acme") as s:
        doc = s.documents.add(
            "notes/pgvector.md",
            data="\n".join(_CHUNKS).encode(),
            title="Notes on pgvector",
            mime_type="text/markdown",
        )
        s.analyses.add(
            doc.id,
            category="databases",
            summary="How pgvector indexes work",
            tags=["pgvector", "hnsw"],
            model="demo-model",
        )
        s.embeddings.declare_model(_MODEL, dimensions=384)
        print(
            f"  embeddings: model {_MODEL!r}, a toy hashed-words model (each word hashed to one "
            "of 384 dimensions), not a real embedding model: similarities are word overlap"
        )
        s.embeddings.add_many(
            _CHUNKS, [toy_embedding(c) for c in _CHUNKS], model=_MODEL, document_id=doc.id
        )
        q = "fast approximate search"
        for d in s.search.text("pgvector index", config="english"):
            print(f"  text search 'pgvector index': {d.title!r} [{d.category}] {d.snippet!r}")
        for v in s.search.vector(toy_embedding("tenant rows security"), 1, model=_MODEL):
            print(
                f"  vector search 'tenant rows security': {v.content[:60]} (cos {v.similarity:.2f})"
            )
        hits = s.search.hybrid(q, toy_embedding(q), 2, model=_MODEL)
        print(f"  hybrid search {q!r}:")
        for h in hits:
            ranks = _ranks(h.text_rank, h.vector_rank)
            print(f"    score {h.score:.4f} ({ranks})  {h.content[:60]}")
        s.memories.add(
            "Alice prefers short answers with sources",
            kind="preference",
            importance=0.9,
            user_id="alice",
            embedding=toy_embedding("prefers short answers sources"),
            model=_MODEL,
        )
        best = s.memories.recall(
            toy_embedding("how long should answers be"), 1, model=_MODEL, user_id="alice"
        )
        print(f"  recalled memory: {best[0].content!r} (score {best[0].score:.3f})")
        run = s.runs.create("research", input={"q": q}, request_id="demo-run")
    with store.session(tenant="acme") as s:
        claimed = s.runs.claim_next("research", worker_id="demo-worker")
        if claimed is not None:
            done = s.runs.succeed(
                claimed.id,
                {"answer": hits[0].content if hits else ""},
                worker_id="demo-worker",
                input_tokens=42,
                output_tokens=7,
            )
            print(f"  run {run.kind}: {done.status} after claim by {done.worker_id}")
        s.events.log("demo.finished", service="demo", details={"hits": len(hits)})
        cached = s.cache.get_or_set("demo:answer", lambda: {"computed_at": time.time()}, ttl=60)
        print(f"  cache get_or_set -> {sorted(cached)}; stats {s.cache.stats().entries} entry")


def run_demo(url: str, *, psql: str = "psql") -> int:
    """Write and read back real rows; print what happened and how to look in psql."""
    with connect(url, pool_min_size=1, pool_max_size=2) as store:
        with store.session(tenant="acme") as s:
            user = s.users.upsert("alice", display_name="Alice", email="alice@example.com")
            conv = s.conversations.create(user_id=user.user_id, title="pgvector questions")
            s.messages.append(conv.id, role="system", content=_SYSTEM, request_id="sys")
            for i, (role, text) in enumerate(_TURNS):
                s.messages.append(
                    conv.id,
                    role=role,
                    content=text,
                    request_id=f"turn-{i}",
                    model="demo-model" if role == "assistant" else None,
                    source="demo",
                )
            again = s.messages.append(
                conv.id, role="user", content=_TURNS[0][1], request_id="turn-0"
            )
            print(f"tenant acme: conversation {conv.id} '{conv.title}' for user {user.user_id}")
            print(
                f"  retried append with request_id turn-0 returned seq {again.seq} (no duplicate)"
            )
        with store.session(tenant="globex") as s:
            other = s.conversations.create(user_id="bob", title="Invisible to acme")
            s.messages.append(other.id, role="user", content="globex only")
        with store.session(tenant="acme") as s:
            fresh = s.conversations.get(conv.id)
            print(f"  message_count={fresh.message_count} (kept by trigger)")
            started = time.perf_counter()
            window = s.messages.context(conv.id, max_tokens=60)
            ms = (time.perf_counter() - started) * 1000
            print(f"  context window for a 60-token budget ({ms:.1f} ms, one SQL statement):")
            for m in window:
                print(f"    #{m.seq:<2} {m.role:<9} {m.token_count:>3} tok  {m.content[:60]}")
            print(f"  roles: {s.messages.count_by_role(conv.id)}")
            print(f"  acme sees {len(s.conversations.list('bob'))} conversations of globex's bob")
        _knowledge_and_ops(store)
        health = store.health()
        print(
            f"  health: {health.status}, PostgreSQL {health.server_version}, "
            f"pgvector {health.pgvector_version}"
        )
    print()
    print("Inspect the same rows in psql:")
    print(f"  {psql} '{url}'")
    print("  -- superusers bypass RLS; as the app role, set the tenant first:")
    print("  SELECT set_config('pgrecall.tenant_id', 'acme', false);")
    print("  \\d+ pgrecall.messages")
    print("  SELECT seq, role, token_count, left(content, 50) FROM pgrecall.messages")
    print(f"   WHERE tenant_id = 'acme' AND conversation_id = '{conv.id}' ORDER BY seq;")
    print("  SELECT chunk_index, dimensions, left(content, 40) FROM pgrecall.embeddings;")
    print("  SELECT kind, status, worker_id, input_tokens FROM pgrecall.runs;")
    return 0
