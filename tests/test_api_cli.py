"""API keys from the command line, the rate limit, custom authenticators, import hygiene."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from test_api_support import auth, make_key, settings_for

import pgrecall
from pgrecall.api import Principal, RateLimit, create_app
from pgrecall.cli import main

SRC = Path(__file__).resolve().parents[1] / "src" / "pgrecall"


def _cli(capsys: pytest.CaptureFixture[str], db_url: str, *args: str) -> list[str]:
    assert main(["--url", db_url, *args]) == 0
    return capsys.readouterr().out.splitlines()


def test_api_key_create_list_revoke(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    out = _cli(capsys, db_url, "api-key", "create", "--tenant", "acme", "--name", "ci")
    key = out[-1]
    assert key.startswith("pgr_") and len(key) == 47
    listed = _cli(capsys, db_url, "api-key", "list", "--tenant", "acme")
    assert len(listed) == 1 and key[:12] in listed[0] and key not in listed[0]
    assert _cli(capsys, db_url, "api-key", "list", "--tenant", "other") == []
    with TestClient(create_app(settings_for(db_url))) as client:
        assert client.get("/v1/stats", headers=auth(key)).status_code == 200
        _cli(capsys, db_url, "api-key", "revoke", "--tenant", "acme", key[:12])
        assert client.get("/v1/stats", headers=auth(key)).status_code == 401
    assert _cli(capsys, db_url, "api-key", "list", "--tenant", "acme") == []
    assert len(_cli(capsys, db_url, "api-key", "list", "--tenant", "acme", "--all")) == 1


def test_revoking_another_tenants_key_is_not_found(
    capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    key = _cli(capsys, db_url, "api-key", "create", "--tenant", "acme")[-1]
    assert main(["--url", db_url, "api-key", "revoke", "--tenant", "evil", key[:12]]) == 2
    assert "NotFoundError" in capsys.readouterr().err


def test_key_with_expiry(capsys: pytest.CaptureFixture[str], db_url: str) -> None:
    out = _cli(capsys, db_url, "api-key", "create", "--tenant", "acme", "--expires", "90d")
    assert "expires: never" not in out[0]


def test_only_hashes_are_stored(store: pgrecall.Store, db_url: str) -> None:
    import psycopg

    key = make_key(store, "acme")
    with psycopg.connect(db_url) as conn:
        rows = conn.execute("SELECT row_to_json(k)::text FROM pgrecall.api_keys k").fetchall()
    assert len(rows) == 1 and key not in rows[0][0] and key[12:] not in rows[0][0]


def test_app_role_cannot_read_other_tenants_keys(store: pgrecall.Store, app_url: str) -> None:
    """As the application role: RLS shows only the session tenant's keys, and the lookup
    function answers only for a key one holds."""
    import psycopg

    from pgrecall.api.keys import hash_key

    mine, theirs = make_key(store, "acme"), make_key(store, "other")
    with psycopg.connect(app_url) as conn:
        conn.execute("SELECT set_config('pgrecall.tenant_id', 'acme', true)")
        seen = conn.execute("SELECT tenant_id FROM pgrecall.api_keys").fetchall()
        assert seen == [("acme",)]
        found = conn.execute(
            "SELECT tenant_id FROM pgrecall.api_key_tenant(%s)", (hash_key(theirs),)
        ).fetchall()
        assert found == [("other",)]  # the holder of a key learns its tenant, nothing more
        assert mine != theirs
        with pytest.raises(psycopg.errors.InsufficientPrivilege):  # buckets: the function only
            conn.execute("INSERT INTO pgrecall.api_rate_limits VALUES ('acme', 's', 1, 't', now())")


def test_rate_limit_is_shared_by_every_app_instance(store: pgrecall.Store, db_url: str) -> None:
    """Two apps (two pools, as two workers would have) share one bucket per key."""
    key = make_key(store, "acme")
    limit = RateLimit(rate=0.001, burst=3)
    app1 = create_app(settings_for(db_url), rate_limit=limit)
    app2 = create_app(settings_for(db_url), rate_limit=limit)
    with TestClient(app1) as one, TestClient(app2) as two:
        codes = [c.get("/v1/stats", headers=auth(key)).status_code for c in (one, two, one)]
        assert codes == [200, 200, 200]
        limited = two.get("/v1/stats", headers=auth(key))
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.headers["content-type"] == "application/problem+json"
        other = make_key(store, "acme")  # another key has its own bucket
        assert one.get("/v1/stats", headers=auth(other)).status_code == 200


def test_custom_authenticator_decides_the_tenant_and_is_rate_limited(db_url: str) -> None:
    async def by_header(request: Request) -> Principal | None:
        user = request.headers.get("x-user")
        return None if user is None else Principal(tenant=f"t-{user}", subject=user)

    app = create_app(settings_for(db_url), authenticate=by_header, rate_limit=RateLimit(1e-3, 2))
    with TestClient(app) as client:
        made = client.post("/v1/conversations", json={"user_id": "u"}, headers={"x-user": "a"})
        assert made.status_code == 201 and made.json()["tenant_id"] == "t-a"
        cid = made.json()["id"]
        assert client.get(f"/v1/conversations/{cid}", headers={"x-user": "b"}).status_code == 404
        assert client.get("/v1/stats", headers={"x-user": "a"}).status_code == 200  # 2nd of 2
        assert client.get("/v1/stats", headers={"x-user": "a"}).status_code == 429
        assert client.get("/v1/stats").status_code == 401


def test_cli_imports_the_api_only_inside_command_functions() -> None:
    tree = ast.parse((SRC / "cli" / "api.py").read_text())
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    names = [getattr(n, "module", None) or n.names[0].name for n in top]
    assert not any(
        str(m).startswith(("api", "pgrecall.api", "fastapi", "uvicorn")) for m in names
    ), names


def test_keys_module_and_cli_work_without_fastapi() -> None:
    code = (
        "import sys; sys.modules['fastapi'] = None; sys.modules['uvicorn'] = None\n"
        "import pgrecall.api.keys, pgrecall.cli\n"
        "from pgrecall.cli import main\n"
        "assert 'fastapi' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_key_hash_in_two_tenants_authenticates_neither(
    store: pgrecall.Store, db_url: str
) -> None:
    """An imported copy of a tenant carries its keys' hashes: the lookup fails closed
    (401 for both) until the copy's key is revoked."""
    import psycopg

    key = make_key(store, "acme")
    with psycopg.connect(db_url) as conn:  # what `pgrecall import --tenant copy` would write
        conn.execute(
            "INSERT INTO pgrecall.api_keys (tenant_id, key_hash, prefix, name) "
            "SELECT 'copy', key_hash, prefix, name FROM pgrecall.api_keys WHERE tenant_id = 'acme'"
        )
    with TestClient(create_app(settings_for(db_url))) as client:
        assert client.get("/v1/stats", headers=auth(key)).status_code == 401
        from pgrecall.api.keys import revoke_key

        with store.session("copy") as s:
            revoke_key(s, key[:12])
        assert client.get("/v1/stats", headers=auth(key)).json()["api_keys"] == 1
