"""``python -m bench.api``: what HTTP costs. "Append a message, then get the context" by N
concurrent clients, through ``pgrecall serve`` (httpx) and through the Python API.

Both sides do the same two units of work per operation (two requests / two sessions:
append, then the context window) on the same database, rounds alternating so a noisy
neighbour hits both alike. The server is its own process (``pgrecall serve``, one uvicorn
worker); the HTTP clients are asyncio tasks in this process, as the Python side is.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

import pgrecall
from pgrecall.api.keys import create_key

from ._db import bench_database
from ._harness import machine, percentile

Op = Callable[[int, int], Awaitable[None]]


async def drive(op: Op, clients: int, seconds: float) -> tuple[float, list[float]]:
    """Run ``op`` in ``clients`` concurrent loops for ``seconds``: (ops/s, latencies in s)."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def loop(c: int) -> None:
        i = 0
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            await op(c, i)
            latencies.append(time.perf_counter() - t0)
            i += 1

    start = time.perf_counter()
    await asyncio.gather(*(loop(c) for c in range(clients)))
    return len(latencies) / (time.perf_counter() - start), latencies


def python_op(store: pgrecall.AsyncStore, convs: list[str]) -> Op:
    async def op(c: int, i: int) -> None:
        async with store.session("bench") as s:
            await s.messages.append(convs[c], role="user", content=f"m{i}", token_count=8)
        async with store.session("bench") as s:
            await s.messages.context(convs[c], max_tokens=2000)

    return op


def http_op(client: httpx.AsyncClient, convs: list[str]) -> Op:
    async def op(c: int, i: int) -> None:
        msg = {"role": "user", "content": f"m{i}", "token_count": 8}
        r = await client.post(f"/v1/conversations/{convs[c]}/messages", json=msg)
        r.raise_for_status()
        r = await client.get(f"/v1/conversations/{convs[c]}/context?max_tokens=2000")
        r.raise_for_status()

    return op


def serve(url: str, port: int) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).parent / "pgrecall"
    env = os.environ | {"DATABASE_URL": url}
    proc = subprocess.Popen(
        [str(exe), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("pgrecall serve did not start")


async def run(url: str, *, clients: int, seconds: float, rounds: int, port: int) -> str:
    with pgrecall.connect(url) as sync_store, sync_store.session("bench") as s:
        key = create_key(s, name="bench").key
        convs = [str(s.conversations.create(user_id=f"u{c}").id) for c in range(clients)]
    server = serve(url, port)
    sides: dict[str, list[float]] = {"python": [], "http": []}
    lat: dict[str, list[float]] = {"python": [], "http": []}
    try:
        store = await pgrecall.connect_async(url, pool_max_size=10)
        headers = {"Authorization": f"Bearer {key}"}
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with (
            store,
            httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}", headers=headers, limits=limits, timeout=60
            ) as client,
        ):
            ops = {"python": python_op(store, convs), "http": http_op(client, convs)}
            for op in ops.values():  # warm up pools, prepared statements, keep-alive
                await drive(op, clients, 1.0)
            for _ in range(rounds):
                for name, op in ops.items():
                    rate, latencies = await drive(op, clients, seconds)
                    sides[name].append(rate)
                    lat[name] += latencies
    finally:
        server.terminate()
        server.wait(timeout=30)
    return report(sides, lat, clients)


def report(sides: dict[str, list[float]], lat: dict[str, list[float]], clients: int) -> str:
    lines = [
        f"append + context, {clients} concurrent clients ({machine()['cores']} cores, "
        f"{machine()['cpu']})",
        "| side | ops/s (median of rounds) | p50 ms | p95 ms |",
        "|---|---|---|---|",
    ]
    for name in ("python", "http"):
        rates = sorted(sides[name])
        median = rates[len(rates) // 2]
        p50 = percentile(lat[name], 50) * 1000
        p95 = percentile(lat[name], 95) * 1000
        lines.append(f"| {name} | {median:.0f} | {p50:.1f} | {p95:.1f} |")
    ratio = sorted(sides["python"])[len(sides["python"]) // 2] / max(
        1e-9, sorted(sides["http"])[len(sides["http"]) // 2]
    )
    lines.append(f"HTTP throughput is 1/{ratio:.1f} of the Python API's")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__)
    parser.add_argument("--clients", type=int, action="append", help="default: 1 and 8")
    parser.add_argument("--seconds", type=float, default=5.0, help="per round and side")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--quick", action="store_true", help="1 round of 1 s")
    args = parser.parse_args(argv)
    seconds, rounds = (1.0, 1) if args.quick else (args.seconds, args.rounds)
    with bench_database() as url:
        for clients in args.clients or [1, 8]:
            print(
                asyncio.run(
                    run(url, clients=clients, seconds=seconds, rounds=rounds, port=args.port)
                )
            )


if __name__ == "__main__":
    main()
