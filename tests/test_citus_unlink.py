"""The links 0018 moved from ON DELETE SET NULL to unlink triggers: same result, any deployment.

Runs on the single-node test server and, with ``PGRECALL_TEST_CITUS_URL``, on a Citus
cluster with every table distributed (the triggers then run on the shards).
"""

from __future__ import annotations

import psycopg
import pytest

import pgrecall


def test_every_cleared_link_as_the_app_login(app_store: pgrecall.Store) -> None:
    with app_store.session(tenant="acme") as s:
        persona = s.personas.create("Ada", template="You are Ada.")
        conv = s.conversations.create("u1", persona_id=persona.id)
        msg = s.messages.append(conv.id, role="user", content="remember tea")
        run = s.runs.create("research", conversation_id=conv.id, user_id="u2")
        doc = s.documents.add("a.pdf", data=b"a", conversation_id=conv.id, run_id=run.id)
        mem = s.memories.add(
            "likes tea", conversation_id=conv.id, message_id=msg.id, persona_id=persona.id
        )
        other = s.conversations.create("u1", persona_id=persona.id)
    with app_store.session(tenant="acme") as s:
        assert s.conversations.purge(conv.id)
        d, m, r = s.documents.get(doc.id), s.memories.get(mem.id), s.runs.get(run.id)
        assert (d.conversation_id, m.conversation_id, m.message_id, r.conversation_id) == (
            None, None, None, None,
        )  # fmt: skip
        assert d.run_id == run.id and m.persona_id == persona.id and r.user_id == "u2"
        assert s.users.delete("u2") and s.runs.get(run.id).user_id is None
        assert s.runs.delete(run.id) and s.documents.get(doc.id).run_id is None
        assert s.personas.delete(persona.id)
        assert s.memories.get(mem.id).persona_id is None
        assert s.conversations.get(other.id).persona_id is None


def test_the_keys_still_refuse_dangling_links(store: pgrecall.Store, db_url: str) -> None:
    with store.session(tenant="acme") as s:
        conv = s.conversations.create("u1")
        s.documents.add("a.pdf", data=b"a", conversation_id=conv.id)
    with psycopg.connect(db_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT conname, confdeltype FROM pg_constraint WHERE conname = ANY(%s)",
            ([
                "documents_conversation_fkey", "memories_conversation_fkey",
                "memories_message_fkey", "runs_conversation_fkey", "runs_user_fkey",
                "conversations_persona_fkey", "documents_run_fkey", "memories_persona_fkey",
            ],),
        ).fetchall()  # fmt: skip
        assert {r[1] for r in rows} == {"a"}  # NO ACTION: Citus accepts it
        assert len({r[0] for r in rows}) == 8
        # Without the trigger the key refuses the delete instead of leaving a dangling id.
        with pytest.raises(psycopg.errors.ForeignKeyViolation), conn.transaction():
            conn.execute("ALTER TABLE pgrecall.conversations DISABLE TRIGGER conversations_unlink")
            conn.execute("SELECT set_config('pgrecall.tenant_id', 'acme', true)")
            conn.execute("DELETE FROM pgrecall.conversations WHERE id = %s", (conv.id,))
