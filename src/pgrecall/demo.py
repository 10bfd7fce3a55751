"""``pgrecall demo``: store a small conversation for two tenants and read it back."""

from __future__ import annotations

import time

from .models import Role
from .store import connect

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
    print()
    print("Inspect the same rows in psql:")
    print(f"  {psql} '{url}'")
    print("  -- superusers bypass RLS; as the app role, set the tenant first:")
    print("  SELECT set_config('pgrecall.tenant_id', 'acme', false);")
    print("  \\d+ pgrecall.messages")
    print("  SELECT seq, role, token_count, left(content, 50) FROM pgrecall.messages")
    print(f"   WHERE tenant_id = 'acme' AND conversation_id = '{conv.id}' ORDER BY seq;")
    return 0
