"""The HTTP service through Starlette's TestClient: flows, errors, tenancy, commits."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from fastapi.testclient import TestClient
from test_api_support import auth, make_key, settings_for

import pgrecall
from pgrecall.api import RateLimit, create_app

PROBLEM = "application/problem+json"


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(db_url), max_body_bytes=64 * 1024)) as c:
        yield c


@pytest.fixture
def key(store: pgrecall.Store) -> str:
    return make_key(store, "acme")


def _conversation(client: TestClient, key: str, **body: Any) -> dict[str, Any]:
    r = client.post("/v1/conversations", json={"user_id": "u1", **body}, headers=auth(key))
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def _problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:pgrecall:problem:")
    return body


def test_seed_flow_conversation_message_context(client: TestClient, key: str) -> None:
    conv = _conversation(client, key, title="Research")
    assert conv["tenant_id"] == "acme" and conv["title"] == "Research"
    cid = conv["id"]
    for i, (role, tokens) in enumerate([("system", 5), ("user", 10), ("assistant", 20)]):
        r = client.post(
            f"/v1/conversations/{cid}/messages",
            json={"role": role, "content": f"m{i}", "token_count": tokens},
            headers=auth(key),
        )
        assert r.status_code == 201, r.text
        assert r.json()["seq"] == i + 1
    r = client.get(f"/v1/conversations/{cid}/context", params={"max_tokens": 26}, headers=auth(key))
    assert r.status_code == 200
    assert [m["content"] for m in r.json()] == ["m0", "m2"]  # system kept, then what fits
    got = client.get(f"/v1/conversations/{cid}", headers=auth(key)).json()
    assert got["message_count"] == 3


def test_no_key_bad_key_revoked_key_are_401(
    client: TestClient, store: pgrecall.Store, key: str
) -> None:
    _problem(client.get("/v1/stats"), 401)
    _problem(client.get("/v1/stats", headers=auth("pgr_nope")), 401)
    _problem(client.get("/v1/stats", headers={"Authorization": f"Basic {key}"}), 401)
    assert client.get("/v1/stats", headers=auth(key)).status_code == 200
    from pgrecall.api.keys import revoke_key

    with store.session("acme") as s:
        revoke_key(s, key[:12])
    r = client.get("/v1/stats", headers=auth(key))
    _problem(r, 401)
    assert r.headers["www-authenticate"] == "Bearer"


def test_expired_key_is_401(client: TestClient, store: pgrecall.Store) -> None:
    from datetime import UTC, datetime, timedelta

    old = make_key(store, "acme", expires_at=datetime.now(UTC) - timedelta(seconds=1))
    _problem(client.get("/v1/stats", headers=auth(old)), 401)


def test_errors_are_problems(client: TestClient, key: str) -> None:
    h = auth(key)
    bad_json = client.post(
        "/v1/conversations", content=b"{oops", headers=h | {"content-type": "application/json"}
    )
    _problem(bad_json, 400)
    invalid = _problem(client.post("/v1/conversations", json={"user_id": ""}, headers=h), 422)
    assert invalid["errors"][0]["loc"] == ["body", "user_id"]
    _problem(client.get(f"/v1/conversations/{uuid.uuid4()}", headers=h), 404)
    _problem(client.get("/v1/conversations/not-a-uuid", headers=h), 422)
    _problem(client.get("/v1/nowhere", headers=h), 404)
    _problem(client.put("/v1/stats", headers=h), 405)
    _problem(client.post("/v1/conversations", content=b"x" * 70_000, headers=h), 413)
    cid = _conversation(client, key)["id"]
    assert client.post(f"/v1/conversations/{cid}/close", headers=h).status_code == 200
    closed = client.post(
        f"/v1/conversations/{cid}/messages", json={"role": "user", "content": "x"}, headers=h
    )
    _problem(closed, 409)
    nul = client.post(
        f"/v1/conversations/{cid}/messages", json={"role": "user", "content": "a\x00"}, headers=h
    )
    _problem(nul, 422)
    _problem(client.get("/v1/conversations?user_id=u1&cursor=%21%21", headers=h), 400)


def test_chunked_body_over_the_limit_is_413(client: TestClient, key: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"y" * 10_000

    r = client.post("/v1/conversations", content=chunks(), headers=auth(key))
    _problem(r, 413)


def test_keyset_pages_of_conversations_and_messages(client: TestClient, key: str) -> None:
    h = auth(key)
    made = {_conversation(client, key, title=f"c{i}")["id"] for i in range(5)}
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"user_id": "u1", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/v1/conversations", params=params, headers=h).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made) and len(seen) == 5
    cid = seen[0]
    for i in range(5):
        client.post(
            f"/v1/conversations/{cid}/messages", json={"role": "user", "content": str(i)}, headers=h
        )
    contents, cursor = [], None
    while True:
        q: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = client.get(f"/v1/conversations/{cid}/messages", params=q, headers=h).json()
        contents += [m["content"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert contents == ["0", "1", "2", "3", "4"]


def test_idempotency_key_returns_the_first_message_with_the_same_status(
    client: TestClient, key: str
) -> None:
    cid = _conversation(client, key)["id"]
    h = auth(key) | {"Idempotency-Key": "req-1"}
    first = client.post(
        f"/v1/conversations/{cid}/messages", json={"role": "user", "content": "a"}, headers=h
    )
    again = client.post(
        f"/v1/conversations/{cid}/messages", json={"role": "user", "content": "a"}, headers=h
    )
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert client.get(f"/v1/conversations/{cid}", headers=auth(key)).json()["message_count"] == 1


def test_cross_tenant_ids_are_404_never_leaked(client: TestClient, store: pgrecall.Store) -> None:
    """Many random attempts with one tenant's key at another tenant's ids: 0 leaks."""
    rng = random.Random(13)
    tenants = ["t1", "t2", "t3"]
    keys = {t: make_key(store, t) for t in tenants}
    owned: dict[str, list[str]] = {t: [] for t in tenants}
    for t in tenants:
        for _ in range(4):
            cid = _conversation(client, keys[t], title=f"secret of {t}")["id"]
            owned[t].append(cid)
    paths = [
        "/v1/conversations/{id}",
        "/v1/conversations/{id}/messages",
        "/v1/conversations/{id}/context?max_tokens=100",
    ]
    writes = ["archive", "close", "restore", "messages"]
    leaks = attempts = 0
    for _ in range(200):
        me, other = rng.sample(tenants, 2)
        cid = rng.choice(owned[other])
        if rng.random() < 0.6:
            r = client.get(rng.choice(paths).format(id=cid), headers=auth(keys[me]))
        else:
            action = rng.choice(writes)
            body = {"role": "user", "content": "x"} if action == "messages" else None
            r = client.post(f"/v1/conversations/{cid}/{action}", json=body, headers=auth(keys[me]))
        attempts += 1
        if r.status_code != 404 or other in r.text:
            leaks += 1
    assert (attempts, leaks) == (200, 0)
    for t in tenants:  # and nothing changed
        for cid in owned[t]:
            got = client.get(f"/v1/conversations/{cid}", headers=auth(keys[t])).json()
            assert (got["status"], got["message_count"]) == ("active", 0)


def test_a_failed_commit_is_an_error_response_and_nothing_is_stored(
    client: TestClient, key: str, db_url: str
) -> None:
    """A deferred constraint fails at COMMIT, after the handler built its body: the
    response is a problem, not 201, and the message is not there."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            """
            CREATE FUNCTION public.refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.content = 'boom' THEN
                    RAISE EXCEPTION 'refused at commit' USING ERRCODE = '23514';
                END IF;
                RETURN NULL;
            END $$;
            CREATE CONSTRAINT TRIGGER refuse_boom AFTER INSERT ON pgrecall.messages
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.refuse_boom();
            """
        )
    cid = _conversation(client, key)["id"]
    url = f"/v1/conversations/{cid}/messages"
    ok = client.post(url, json={"role": "user", "content": "fine"}, headers=auth(key))
    assert ok.status_code == 201
    r = client.post(url, json={"role": "user", "content": "boom"}, headers=auth(key))
    body = _problem(r, 422)
    assert body["sqlstate"] == "23514"
    page = client.get(url, headers=auth(key)).json()
    assert [m["content"] for m in page["items"]] == ["fine"]


def test_healthz_readyz_docs_offline(client: TestClient) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "healthy"
    assert "127.0.0.1" not in health.text and "password" not in health.text
    assert client.get("/readyz").json() == {"status": "ready"}
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower() and "/docs/assets/swagger-ui-bundle.js" in docs.text
    js = client.get("/docs/assets/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000


def test_openapi_documents_every_problem(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert "Problem" in spec["components"]["schemas"]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            codes = set(op["responses"])
            assert {"400", "422", "500", "503"} <= codes, (method, path)
            if not path.startswith(("/healthz", "/readyz")):
                assert {"401", "429"} <= codes, (method, path)
            if "requestBody" in op:
                assert "413" in codes, (method, path)
            assert op["responses"]["422"]["content"].keys() == {PROBLEM}


def test_runs_and_events_flow(client: TestClient, key: str) -> None:
    h = auth(key)
    run = client.post("/v1/runs", json={"kind": "research", "input": {"q": "pgvector"}}, headers=h)
    assert run.status_code == 201, run.text
    claimed = client.post("/v1/runs/claim", json={"kind": "research", "worker_id": "w1"}, headers=h)
    assert claimed.status_code == 200 and claimed.json()["id"] == run.json()["id"]
    none = client.post("/v1/runs/claim", json={"kind": "research"}, headers=h)
    assert none.status_code == 204
    rid = run.json()["id"]
    beat = client.post(f"/v1/runs/{rid}/heartbeat", json={"worker_id": "w1"}, headers=h)
    assert beat.status_code == 200
    _problem(client.post(f"/v1/runs/{rid}/heartbeat", json={"worker_id": "w2"}, headers=h), 409)
    done = client.post(f"/v1/runs/{rid}/succeed", json={"output": {"answer": 42}}, headers=h)
    assert done.json()["status"] == "succeeded"
    ev = client.post("/v1/events", json={"type": "message.sent", "details": {"n": 1}}, headers=h)
    assert ev.status_code == 201
    listed = client.get("/v1/events", params={"type": "message.sent"}, headers=h).json()
    assert [e["id"] for e in listed] == [ev.json()["id"]]
    assert client.get("/v1/stats", headers=h).json()["runs"] == 1


def test_idempotent_posts_refuse_missing_or_bad_keys(client: TestClient, key: str) -> None:
    """The operations taking Idempotency-Key enforce the bearer key like every other."""
    cid = _conversation(client, key)["id"]
    calls = [
        (f"/v1/conversations/{cid}/messages", {"role": "user", "content": "x"}),
        ("/v1/runs", {"kind": "research"}),
    ]
    for url, body in calls:
        for headers in ({}, auth("pgr_forged"), auth(key[:-1])):
            r = client.post(url, json=body, headers=headers | {"Idempotency-Key": "k1"})
            _problem(r, 401)


def test_knowledge_flow_with_metadata_filters(client: TestClient, key: str) -> None:
    h = auth(key)
    model = client.post("/v1/embedding-models", json={"name": "m3", "dimensions": 3}, headers=h)
    assert model.status_code == 200, model.text
    doc = client.post(
        "/v1/documents",
        json={"filename": "a.pdf", "title": "pgvector notes", "metadata": {"year": 2024}},
        headers=h,
    ).json()
    for i, (vec, lang) in enumerate([([1, 0, 0], "en"), ([0, 1, 0], "fr")]):
        r = client.post(
            "/v1/embeddings",
            json={
                "content": f"chunk {i}",
                "embedding": vec,
                "model": "m3",
                "document_id": doc["id"],
                "chunk_index": i,
                "source": {"lang": lang},
            },
            headers=h,
        )
        assert r.status_code == 201, r.text
    query = {"embedding": [1, 0.1, 0], "model": "m3", "k": 5}
    hits = client.post("/v1/search/vector", json=query, headers=h).json()
    assert [x["content"] for x in hits] == ["chunk 0", "chunk 1"]
    only_fr = query | {"filter": {"lang": {"$in": ["fr"]}}}
    hits = client.post("/v1/search/vector", json=only_fr, headers=h).json()
    assert [x["content"] for x in hits] == ["chunk 1"]
    old_docs = query | {"document_filter": {"year": {"$lt": 2000}}}
    assert client.post("/v1/search/vector", json=old_docs, headers=h).json() == []
    whole = query | {"filter": {"tags": {"$size": 2.0}}}  # JSON Schema's integer takes 2.0
    assert client.post("/v1/search/vector", json=whole, headers=h).json() == []
    bad = query | {"filter": {"lang": {"$between": [1, "z"]}}}
    _problem(client.post("/v1/search/vector", json=bad, headers=h), 422)
    wrong_length = query | {"embedding": [1, 0]}
    _problem(client.post("/v1/search/vector", json=wrong_length, headers=h), 409)
    text = client.post("/v1/search/text", json={"q": "pgvector"}, headers=h).json()
    assert [x["document_id"] for x in text] == [doc["id"]]
    analysis = client.post(f"/v1/documents/{doc['id']}/analyses", json={"summary": "s"}, headers=h)
    assert analysis.status_code == 201 and analysis.json()["version"] == 1
    memory = client.post(
        "/v1/memories",
        json={"content": "likes pgvector", "embedding": {"model": "m3", "vector": [1, 0, 0]}},
        headers=h,
    )
    assert memory.status_code == 201, memory.text
    recalled = client.post(
        "/v1/memories/recall", json={"embedding": [1, 0, 0], "model": "m3"}, headers=h
    ).json()
    assert [m["id"] for m in recalled] == [memory.json()["id"]]


def test_openapi_examples_are_valid_requests(client: TestClient) -> None:
    from pgrecall.api import schemas

    spec = client.get("/openapi.json").json()["components"]["schemas"]
    with_examples = {
        n: s["examples"] for n, s in spec.items() if "examples" in s and n != "Problem"
    }
    assert len(with_examples) >= 5
    for name, examples in with_examples.items():
        for example in examples:
            getattr(schemas, name).model_validate(example)


def test_database_gone_is_503_with_retry_after(db_url: str, pg_url: str) -> None:
    """The database disappears under a running app: 503 problems with Retry-After."""
    from pgrecall.testing import drop_database

    with TestClient(create_app(settings_for(db_url, pool_timeout=0.5))) as client:
        assert client.get("/readyz").status_code == 200
        drop_database(pg_url, urlsplit(db_url).path.lstrip("/"))
        for r in (client.get("/readyz"), client.get("/v1/stats", headers=auth("pgr_x"))):
            _problem(r, 503)
            assert r.headers["retry-after"] == "1"
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["status"] == "unhealthy"
        assert "postgres" not in health.text and "/tmp" not in health.text


def test_the_app_opens_and_uses_a_given_store(db_url: str, store: pgrecall.Store) -> None:
    key = make_key(store, "acme")
    mine = pgrecall.AsyncStore(settings_for(db_url))  # not opened: the app's loop opens it
    app = create_app(mine)
    with TestClient(app) as client:
        assert client.get("/v1/stats", headers=auth(key)).status_code == 200
        assert app.state.pgrecall.store is mine
        assert client.portal is not None
        client.portal.call(mine.close)  # in the loop that opened it
    assert mine.pool.closed


def test_the_service_runs_as_the_application_role(app_url: str) -> None:
    """Connected as a non-superuser login in pgrecall_app (row level security on): keys,
    a rate limit, the seed's flow, stats, and another tenant's id is a 404."""
    with pgrecall.connect(app_url, pool_min_size=0, pool_max_size=2) as app_store:
        key, other = make_key(app_store, "acme"), make_key(app_store, "evil")
    app = create_app(settings_for(app_url), rate_limit=RateLimit(rate=1000, burst=1000))
    with TestClient(app) as client:
        conv = _conversation(client, key)
        url = f"/v1/conversations/{conv['id']}/messages"
        msg = client.post(url, json={"role": "user", "content": "hi"}, headers=auth(key))
        assert msg.status_code == 201
        assert client.get("/v1/stats", headers=auth(key)).json()["messages"] == 1
        _problem(client.get(f"/v1/conversations/{conv['id']}", headers=auth(other)), 404)
        assert client.get("/v1/stats", headers=auth(other)).json()["messages"] == 0


def test_bodies_take_only_their_json_types(client: TestClient, key: str) -> None:
    """Pydantic's lax mode would turn "5" into 5, 1 into true and -4613 into a date: the
    schema allows none of them, so neither does the service (5.0 is an integer)."""
    h = auth(key)
    for body in (
        {"kind": "k", "priority": "5"},
        {"kind": "k", "priority": True},
        {"kind": "k", "max_attempts": 2.5},
    ):
        _problem(client.post("/v1/runs", json=body, headers=h), 422)
    assert (
        client.post("/v1/runs", json={"kind": "k", "priority": 5.0}, headers=h).status_code == 201
    )
    _problem(
        client.post("/v1/memories", json={"content": "x", "expires_at": -4613}, headers=h), 422
    )
    spec = client.get("/openapi.json").text
    assert '"ge"' not in spec and '"le"' not in spec  # constraints stay minimum / maximum
