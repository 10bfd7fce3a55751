"""Foreign keys added after their tables (0011/0012): documents -> runs, memories -> personas."""

from __future__ import annotations

from uuid import uuid4

import pytest

import pgrecall


def test_deleting_a_run_or_persona_clears_the_link(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        run = s.runs.create("research", input={"q": "x"})
        doc = s.documents.add("report.pdf", data=b"%PDF", run_id=run.id)
        persona = s.personas.create("Ada", template="You are Ada.")
        memory = s.memories.add("likes tea", persona_id=persona.id)
        assert [d.id for d in s.runs.files(run.id)] == [doc.id]
        assert s.runs.delete(run.id) and s.personas.delete(persona.id)
        assert s.documents.get(doc.id).run_id is None
        assert s.memories.get(memory.id).persona_id is None


def test_links_to_missing_rows_are_refused(store: pgrecall.Store) -> None:
    with store.session(tenant="acme") as s:
        with pytest.raises(pgrecall.ConflictError) as err, s.savepoint():
            s.documents.add("orphan.pdf", data=b"x", run_id=uuid4())
        assert err.value.constraint_name == "documents_run_fkey"
        with pytest.raises(pgrecall.ConflictError) as err, s.savepoint():
            s.memories.add("orphan", persona_id=uuid4())
        assert err.value.constraint_name == "memories_persona_fkey"
