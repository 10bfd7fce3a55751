"""The service over real HTTP: concurrency, and the README's curl lines and example."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from test_api_support import auth, free_port, live_server, make_key, settings_for

import pgrecall
from pgrecall.api import RateLimit, create_app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def section(title: str, lang: str) -> list[str]:
    start = README.index(title)
    end = README.find("\n## ", start + len(title))
    return re.findall(rf"```{lang}\n(.*?)```", README[start:end], re.S)


@pytest.fixture
def base(db_url: str) -> Iterator[str]:
    with live_server(create_app(settings_for(db_url, pool_max_size=8))) as url:
        yield url


async def _concurrently(
    n: int, base: str, method: str, path: str, **kw: object
) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        return await asyncio.gather(*(client.request(method, path, **kw) for _ in range(n)))  # type: ignore[arg-type]


def test_concurrent_posts_with_one_idempotency_key_store_one_message(
    base: str, store: pgrecall.Store
) -> None:
    key = make_key(store, "acme")
    with httpx.Client(base_url=base) as client:
        cid = client.post("/v1/conversations", json={"user_id": "u"}, headers=auth(key)).json()[
            "id"
        ]
    headers = auth(key) | {"Idempotency-Key": "same-request"}
    body = {"role": "user", "content": "once"}
    answers = asyncio.run(
        _concurrently(
            12, base, "POST", f"/v1/conversations/{cid}/messages", json=body, headers=headers
        )
    )
    assert {r.status_code for r in answers} == {201}
    assert len({r.json()["id"] for r in answers}) == 1
    with store.session("acme") as s:
        assert [m.content for m in s.messages.last(cid)] == ["once"]


def test_concurrent_requests_take_exactly_the_burst(db_url: str, store: pgrecall.Store) -> None:
    key = make_key(store, "acme")
    app = create_app(settings_for(db_url, pool_max_size=8), rate_limit=RateLimit(1e-4, 5))
    with live_server(app) as base:
        answers = asyncio.run(_concurrently(20, base, "GET", "/v1/stats", headers=auth(key)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] * 5 + [429] * 15


def test_readme_curl_session_runs_against_pgrecall_serve(db_url: str, tmp_path: Path) -> None:
    """The README's shell block, line for line, against `pgrecall serve` on a free port."""
    (script,) = section("## HTTP service", "sh")
    port = free_port()
    bin_dir = Path(sys.executable).parent
    env = os.environ | {"PATH": f"{bin_dir}:{os.environ['PATH']}", "DATABASE_URL": db_url}
    lines = []
    for line in script.splitlines():
        if line.startswith("export DATABASE_URL="):
            continue  # the test's database is in the environment
        if line.startswith("pgrecall serve"):
            continue  # started below, so the test can wait for it
        lines.append(line.replace("localhost:8000", f"127.0.0.1:{port}"))
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [str(bin_dir / "pgrecall"), "serve", "--port", str(port)],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(server, port, log)
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", "\n".join(lines)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert '"content":"What is pgvector?"' in out  # the message and the context
    assert '"status":"running"' in out and '"worker_id":"w1"' in out  # the claimed run
    assert '"type":"message.sent"' in out


@pytest.mark.slow
def test_serve_with_two_workers_shares_the_rate_limit(
    db_url: str, store: pgrecall.Store, tmp_path: Path
) -> None:
    """`pgrecall serve --workers 2 --rate-limit`: two processes, one bucket per key."""
    key = make_key(store, "acme")
    port = free_port()
    bin_dir = Path(sys.executable).parent
    log = tmp_path / "serve.log"
    args = ["serve", "--port", str(port), "--workers", "2", "--rate-limit", "0.001", "--burst", "6"]
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [str(bin_dir / "pgrecall"), "--url", db_url, *args],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(server, port, log)
        # a fresh connection each time: either worker may take it (the bucket is in PostgreSQL)
        codes = [
            httpx.get(f"http://127.0.0.1:{port}/v1/stats", headers=auth(key)).status_code
            for _ in range(10)
        ]
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert codes == [200] * 6 + [429] * 4
    assert "Started parent process" in log.read_text()  # really two workers under a parent


def _wait_ready(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise AssertionError(f"pgrecall serve exited: {log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=0.1)  # the next poll, or the exit noticed above
    raise AssertionError(f"pgrecall serve did not become ready: {log.read_text()}")


def test_readme_custom_authenticator_example(db_url: str) -> None:
    (example,) = section("## HTTP service", "python")
    namespace: dict[str, object] = {"url": db_url}
    exec(example, namespace)
    app = namespace["app"]
    with TestClient(app) as client:  # type: ignore[arg-type]
        headers = {"x-tenant": "acme", "x-user": "u1"}
        made = client.post("/v1/conversations", json={"user_id": "u1"}, headers=headers)
        assert made.status_code == 201 and made.json()["tenant_id"] == "acme"
        assert client.get("/v1/stats", headers={"x-user": "u1"}).status_code == 401


def test_curl_and_jq_are_there() -> None:
    assert shutil.which("curl") and shutil.which("jq"), "the README test needs curl and jq"
