"""The chat workload against the peers: a chat turn, point reads, the message counter.

Data (:mod:`bench.data`, seeded): each side gets its own ``conversations``
conversations, each seeded with ``history`` messages of 100-600 characters (user and
assistant alternating); turns go round-robin over them, so histories grow slowly, the
same for every side.

- **chat turn** = one request of a chat app: store the new message and read the last
  20 for the prompt. pgrecall: one ``store.session`` with ``s.messages.append`` and
  ``s.messages.last(cid, 20)``. raw psycopg: the same statements as tuples.
  SQLAlchemy ORM: one session with the CRUD functions ``add_message`` (get the
  conversation, add, ``message_count += 1``, commit, refresh) and ``last_messages``.
  langchain-postgres: ``add_messages([...])``, then ``.messages[-20:]`` (it reads the
  whole history). 1 writer: sides alternating round by round, median per turn.
  8 writers: 8 threads, each on its own conversations, a pool of 8 per side;
  turns per second (median over rounds) and per-turn p50 / p95.
- **message by id**: one session (transaction) per read; langchain's chat history has
  no such read.
- **message_count under 8 writers on one conversation**: the counter a chat list shows.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from typing import Any

import pgrecall

from . import data
from ._harness import Result, concurrent, interleaved, median, percentile
from .peers import LANGCHAIN, PGRECALL, RAW, SQLA, raw

TENANT = "chat"
TARGET = 3.5  # chat: ≥ 3.5× faster than the SQLAlchemy ORM module
TARGET_RAW = 1.1  # and p50 ≤ 1.1× the raw psycopg turn
PG_SESSION = "pgrecall session"  # the same turn as a session: s.messages.append + last


class _Sides:
    """Every side's connections and conversations (the setup is not measured)."""

    def __init__(
        self, url: str, peers: tuple[str, ...], *, workers: int, conversations: int,
        history: int, with_session: bool = False,
    ) -> None:
        self.peers = peers
        self.with_session = with_session
        self.workers = workers
        self.messages = data.messages(history + 2000)
        self.seed, self.fresh = self.messages[:history], self.messages[history:]
        self.store = pgrecall.connect(url, pool_min_size=workers, pool_max_size=workers)
        self.pg_cids = [self._pg_conversation() for _ in range(conversations)]
        self.pool = self.raw_cids = None
        if RAW in peers:
            self.pool = raw.open_pool(url, workers)
            self.raw_cids = [self._pg_conversation() for _ in range(conversations)]
        self.orm: Any = None
        self.lc: Any = None
        if SQLA in peers:
            from .peers import sqla

            self.orm = sqla.OrmChat(url, pool_size=workers)
            self.orm.create_tables()
            self.orm_cids = []
            for _ in range(conversations):
                with self.orm.Session() as db:
                    cid = sqla.create_conversation(db, "u1", "bench").id
                self.orm.prefill(cid, self.seed)
                self.orm_cids.append(cid)
        if LANGCHAIN in peers:
            from .peers.lc import LcChat

            self.lc = LcChat(url, workers=workers)
            self.lc_sessions = [str(uuid.uuid4()) for _ in range(conversations)]
            for sid in self.lc_sessions:
                self.lc.seed(sid, self.seed)

    def _pg_conversation(self) -> uuid.UUID:
        with self.store.session(tenant=TENANT) as s:
            cid = s.conversations.create(user_id="u1", title="bench").id
            for m in self.seed:
                s.messages.append(cid, role=m["role"], content=m["content"])
        return cid

    def close(self) -> None:
        self.store.close()
        if self.pool is not None:
            self.pool.close()
        if self.orm is not None:
            self.orm.close()
        if self.lc is not None:
            self.lc.close()

    def turns(self) -> dict[str, Callable[[int], object]]:
        """Per side, ``turn(worker)``: one chat turn on that worker's next conversation."""
        counters = [itertools.count() for _ in range(self.workers)]
        fresh, w_n = self.fresh, self.workers

        def pick(w: int, n: int) -> tuple[int, dict[str, str]]:
            i = next(counters[w])
            return (w + i * w_n) % n, fresh[i % len(fresh)]

        def pg(w: int) -> object:
            c, m = pick(w, len(self.pg_cids))
            return self.store.chat_turn(
                TENANT, self.pg_cids[c], role=m["role"], content=m["content"]  # type: ignore[arg-type]
            )

        def pg_session(w: int) -> object:
            c, m = pick(w, len(self.pg_cids))
            cid = self.pg_cids[c]
            with self.store.session(tenant=TENANT) as s:
                s.messages.append(cid, role=m["role"], content=m["content"])  # type: ignore[arg-type]
                return s.messages.last(cid, 20)

        sides: dict[str, Callable[[int], object]] = {PGRECALL: pg}
        if self.with_session:
            sides[PG_SESSION] = pg_session
        if self.pool is not None and self.raw_cids is not None:
            pool, raw_cids = self.pool, self.raw_cids

            def rw(w: int) -> object:
                c, m = pick(w, len(raw_cids))
                return raw.chat_turn(pool, TENANT, raw_cids[c], m["role"], m["content"])

            sides[RAW] = rw
        if self.orm is not None:

            def orm(w: int) -> object:
                c, m = pick(w, len(self.orm_cids))
                return self.orm.turn(self.orm_cids[c], m["role"], m["content"])

            sides[SQLA] = orm
        if self.lc is not None:

            def lc(w: int) -> object:
                c, m = pick(w, len(self.lc_sessions))
                sid = self.lc_sessions[c]
                self.lc.add(sid, m["role"], m["content"], worker=w)
                return self.lc.last(sid, 20, worker=w)

            sides[LANGCHAIN] = lc
        return sides


def _speedups(ms: dict[str, float], *, higher_is_better: bool = False) -> dict[str, float]:
    """pgrecall's speedup over each peer (its own session form is not a peer)."""
    base = ms[PGRECALL]
    return {p: (base / v if higher_is_better else v / base) for p, v in ms.items()
            if p not in (PGRECALL, PG_SESSION)}


def _chat_notes(conversations: int, history: int) -> str:
    return (
        f"{conversations} conversations per side, each seeded with {history} messages "
        "(100-600 characters, seeded); turns round-robin over them. A turn stores a message "
        "and reads the last 20. SQLAlchemy ORM: get conversation, add message, "
        "message_count += 1, commit, refresh, select last 20 — one session. "
        "langchain-postgres reads the whole history and keeps the last 20."
    )


def one_writer(url: str, peers: tuple[str, ...], *, quick: bool) -> Result:
    conversations, history = (4, 20) if quick else (32, 100)
    sides = _Sides(url, peers, workers=1, conversations=conversations, history=history,
                   with_session=True)
    try:
        turns = {name: (lambda fn=fn: fn(0)) for name, fn in sides.turns().items()}
        samples = interleaved(turns, n=30 if quick else 100, rounds=3 if quick else 15,
                              warmup=10 if quick else 100)
    finally:
        sides.close()
    ms = {name: median(v) * 1e3 for name, v in samples.items()}
    result = Result(
        name="chat turn (append + last 20), 1 writer",
        unit="ms",
        values=ms,
        speedups=_speedups(ms),
        notes=_chat_notes(conversations, history) + " pgrecall: store.chat_turn (one round "
        "trip); pgrecall session: store.session with s.messages.append and "
        "s.messages.last (BEGIN + tenant, INSERT, SELECT, COMMIT).",
    )
    _chat_targets(result, ms)
    return result


def _chat_targets(result: Result, per_turn: dict[str, float]) -> None:
    """p50 ≤ 1.1× raw psycopg and ≥ 3.5× faster than the ORM module (the sides present)."""
    wanted, met = [], []
    if RAW in per_turn:
        result.ratio, result.baseline = per_turn[PGRECALL] / per_turn[RAW], RAW
        wanted.append(f"≤ {TARGET_RAW}× raw psycopg")
        met.append(result.ratio <= TARGET_RAW)
    if SQLA in per_turn:
        wanted.append(f"≥ {TARGET}× SQLAlchemy ORM")
        met.append(result.speedups[SQLA] >= TARGET)
    if wanted:
        result.target, result.met = ", ".join(wanted), all(met)


def eight_writers(url: str, peers: tuple[str, ...], *, quick: bool) -> Result:
    conversations, history = (8, 20) if quick else (32, 100)
    sides = _Sides(url, peers, workers=8, conversations=conversations, history=history)
    try:
        out = concurrent(sides.turns(), threads=8, ops=10 if quick else 60,
                         rounds=3 if quick else 5)
    finally:
        sides.close()
    rates = {name: median(r) for name, (r, _) in out.items()}
    values: dict[str, float] = {f"{name} turns/s": rate for name, rate in rates.items()}
    extra = {}
    for name, (_, lat) in out.items():
        extra[f"{name} p50 ms"] = median(lat) * 1e3
        extra[f"{name} p95 ms"] = percentile(lat, 95) * 1e3
    result = Result(
        name="chat turns, 8 writers (own conversations)",
        unit="",
        values=values,
        extra=extra,
        speedups=_speedups(rates, higher_is_better=True),
        notes=_chat_notes(conversations, history) + " Per-turn latency p50 / p95: "
        + ", ".join(f"{n} {extra[f'{n} p50 ms']:.1f} / {extra[f'{n} p95 ms']:.1f} ms"
                    for n in rates) + ".",
    )
    if SQLA in rates:
        result.target = f"≥ {TARGET}× SQLAlchemy ORM"
        result.met = result.speedups[SQLA] >= TARGET
    return result


def message_by_id(url: str, peers: tuple[str, ...], *, quick: bool) -> Result:
    sides = _Sides(url, tuple(p for p in peers if p != LANGCHAIN), workers=1,
                   conversations=2, history=50)
    try:
        with sides.store.session(tenant=TENANT) as s:
            pg_ids = [m.id for m in s.messages.last(sides.pg_cids[0], 50)]
        it = itertools.cycle(range(50))

        def pg() -> object:
            with sides.store.session(tenant=TENANT) as s:
                return s.messages.get(pg_ids[next(it)])

        reads: dict[str, Callable[[], object]] = {PGRECALL: pg}
        if sides.pool is not None:
            pool = sides.pool
            reads[RAW] = lambda: raw.get_message(pool, TENANT, pg_ids[next(it)])
        if sides.orm is not None:
            from .peers import sqla

            with sides.orm.Session() as db:
                orm_ids = [m.id for m in sqla.last_messages(db, sides.orm_cids[0], 50)]

            def orm() -> object:
                with sides.orm.Session() as db:
                    return sqla.get_message(db, orm_ids[next(it)])

            reads[SQLA] = orm
        samples = interleaved(reads, n=100 if quick else 1000, rounds=3 if quick else 9,
                              warmup=50 if quick else 200)
    finally:
        sides.close()
    ms = {name: median(v) * 1e3 for name, v in samples.items()}
    return Result(
        name="message by id (one transaction per read)",
        unit="ms",
        values=ms,
        speedups=_speedups(ms),
        notes=(
            "pgrecall: store.session + s.messages.get → Message (pydantic); raw psycopg: "
            "the same SQL → tuple; SQLAlchemy ORM: a session + session.get(Message, id). "
            "langchain-postgres' chat history has no read by id."
        ),
    )


def counter(url: str, peers: tuple[str, ...], *, quick: bool) -> Result:
    """8 writers append to ONE conversation; does message_count match the rows?"""
    per = 10 if quick else 25
    sides = _Sides(url, tuple(p for p in peers if p in (PGRECALL, SQLA)), workers=8,
                   conversations=1, history=0)
    try:
        cid = sides.pg_cids[0]

        def pg(w: int) -> object:
            with sides.store.session(tenant=TENANT) as s:
                return s.messages.append(cid, role="user", content="hello " * 20)

        writers: dict[str, Callable[[int], object]] = {PGRECALL: pg}
        if sides.orm is not None:
            from .peers import sqla

            ocid = sides.orm_cids[0]

            def orm(w: int) -> object:
                with sides.orm.Session() as db:
                    return sqla.add_message(db, ocid, "user", "hello " * 20)

            writers[SQLA] = orm
        concurrent(writers, threads=8, ops=per, rounds=1)
        with sides.store.session(tenant=TENANT) as s:
            counts = {PGRECALL: float(s.conversations.get(cid).message_count)}
        if sides.orm is not None:
            counts[SQLA] = float(sides.orm.counts(sides.orm_cids[0])[0])
    finally:
        sides.close()
    return Result(
        name=f"message_count after 8 writers × {per} appends to one conversation",
        unit=f"(of {8 * per})",
        values=counts,
        notes=(
            "pgrecall's trigger counts under the conversation row lock. The ORM module "
            "reads the conversation, adds 1 in Python and writes it back: concurrent "
            "requests overwrite each other's increment (every message row is stored; the "
            "counter is wrong)."
        ),
    )


def run(url: str, *, quick: bool = False, peers: tuple[str, ...]) -> list[Result]:
    return [
        one_writer(url, peers, quick=quick),
        eight_writers(url, peers, quick=quick),
        message_by_id(url, peers, quick=quick),
        counter(url, peers, quick=quick),
    ]
