# Generated from runs_async.py by tools/async_to_sync.py: do not edit.
"""``s.runs``: LLM jobs as a work queue with an enforced status machine.

Statuses move ``pending -> running -> succeeded | failed | cancelled`` (plus
``pending -> cancelled``, ``running -> pending`` and ``failed -> pending`` for retries);
the database refuses anything else with :class:`ConflictError` (SQLSTATE PR409).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from psycopg.types.json import Jsonb

from ..errors import ConflictError, ValidationError
from ..models.knowledge import Document
from ..models.ops import RUN_STATUSES, Run, RunStatus
from ._base import Area
from .users import check_user_id
from .validate import (
    MAX_INT,
    as_uuid,
    check_after,
    check_aware,
    check_choice,
    check_count,
    check_json,
    check_key,
    check_limit,
    check_number,
    check_seq,
    check_text,
    jsonb,
    opt_key,
    opt_text,
    show,
)

__all__ = ["Runs", "check_count", "check_seconds"]

MAX_ERROR = 100_000
MAX_SECONDS = 366 * 24 * 3600.0  # retry_delay, stale_after
MAX_COST = Decimal(10**8)  # numeric(14, 6)
# The status machine (as in query set_run_status and trigger runs_before_update).
_MOVES = frozenset(
    {
        ("pending", "running"),
        ("pending", "cancelled"),
        ("running", "succeeded"),
        ("running", "failed"),
        ("running", "cancelled"),
        ("running", "pending"),
        ("failed", "pending"),
    }
)


def check_seconds(value: float, what: str) -> float:
    """A finite, non-negative number of seconds (at most a year)."""
    return check_number(value, what, minimum=0.0, maximum=MAX_SECONDS)


def _cost(value: Decimal | float | None) -> Decimal | None:
    """numeric(14, 6): finite, >= 0 and below 10**8."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, float)):
        raise ValidationError("cost must be a number")
    if isinstance(value, int) and value.bit_length() > 64:
        raise ValidationError("cost is too large (numeric(14, 6): below 10**8)")
    cost = Decimal(str(value)) if not isinstance(value, Decimal) else value
    if not cost.is_finite() or not 0 <= cost < MAX_COST:
        raise ValidationError(f"cost must be finite, >= 0 and below {MAX_COST}, not {show(value)}")
    return cost


def _json(value: Any, what: str) -> Jsonb | None:
    return None if value is None else Jsonb(check_json(value, what))


def _kind(kind: str) -> str:
    return check_key(kind, "kind")


def _worker(worker_id: str | None) -> str | None:
    return opt_key(worker_id, "worker_id")


def _statuses(statuses: Sequence[str]) -> list[str]:
    found = [check_choice(x, RUN_STATUSES, "statuses") for x in check_seq(statuses, "statuses")]
    if not found:
        raise ValidationError("statuses must name at least one status")
    return found


class Runs(Area):
    def create(
        self,
        kind: str,
        *,
        input: Any = None,
        priority: int = 0,
        provider: str | None = None,
        model: str | None = None,
        request_id: str | None = None,
        trace_id: str | None = None,
        conversation_id: UUID | str | None = None,
        user_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        max_attempts: int = 3,
        available_at: datetime | None = None,
    ) -> Run:
        """Queue a run (``pending``). With ``request_id`` a retry returns the first run."""
        request_id = opt_key(request_id, "request_id")
        if isinstance(priority, bool) or not isinstance(priority, int) or abs(priority) > MAX_INT:
            raise ValidationError("priority must be a 32-bit integer")
        if not check_count(max_attempts, "max_attempts"):
            raise ValidationError("max_attempts must be at least 1")
        run = self.db.one(
            self.q.create_run,
            Run,
            tenant_id=self.t,
            kind=_kind(kind),
            priority=priority,
            input=Jsonb(check_json({} if input is None else input, "input")),
            provider=opt_text(provider, "provider", 200),
            model=opt_text(model, "model", 200),
            request_id=request_id,
            trace_id=opt_text(trace_id, "trace_id", 200),
            conversation_id=None
            if conversation_id is None
            else as_uuid(conversation_id, "conversation_id"),
            user_id=None if user_id is None else check_user_id(user_id),
            metadata=jsonb(metadata, "metadata"),
            max_attempts=max_attempts,
            available_at=check_aware(available_at, "available_at"),
        )
        if run is None:  # request_id seen before: the first run wins
            run = self.db.get(
                self.q.get_run_by_request_id, Run, tenant_id=self.t, request_id=request_id
            )
        return run

    def get(self, id: UUID | str) -> Run:
        return self.db.get(self.q.get_run, Run, tenant_id=self.t, id=as_uuid(id))

    def find(self, id: UUID | str) -> Run | None:
        return self.db.one(self.q.get_run, Run, tenant_id=self.t, id=as_uuid(id))

    def by_request_id(self, request_id: str) -> Run | None:
        return self.db.one(
            self.q.get_run_by_request_id,
            Run,
            tenant_id=self.t,
            request_id=check_text(request_id, "request_id", max_len=200),
        )

    def claim_next(self, kind: str, *, worker_id: str | None = None) -> Run | None:
        """Take the next pending run of ``kind`` for this worker, or ``None``.

        ``FOR UPDATE SKIP LOCKED``: concurrent workers never get the same run. Commit
        the session soon after claiming (the row stays locked until then).
        """
        return self.db.one(
            self.q.claim_next_run,
            Run,
            tenant_id=self.t,
            kind=_kind(kind),
            worker_id=_worker(worker_id),
        )

    def heartbeat(self, id: UUID | str, *, worker_id: str | None = None) -> Run:
        """Record that the worker is alive; :class:`ConflictError` if it lost the run."""
        rid = as_uuid(id)
        run = self.db.one(
            self.q.heartbeat_run, Run, tenant_id=self.t, id=rid, worker_id=_worker(worker_id)
        )
        if run is None:
            current = self.get(rid)
            raise ConflictError(
                f"run {rid} is {current.status} (worker {current.worker_id}): "
                "not running for this worker",
                sqlstate="PR409",
            )
        return run

    def _move(
        self,
        id: UUID | str,
        status: RunStatus,
        *,
        worker_id: str | None = None,
        output: Any = None,
        error: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cost: Decimal | float | None = None,
        trace_id: str | None = None,
        retry: bool = False,
        retry_delay: float = 0.0,
    ) -> Run:
        rid = as_uuid(id)
        run = self.db.one(
            self.q.set_run_status,
            Run,
            tenant_id=self.t,
            id=rid,
            status=status,
            worker_id=_worker(worker_id),
            output=_json(output, "output"),
            error=opt_text(error, "error", MAX_ERROR),
            provider=opt_text(provider, "provider", 200),
            model=opt_text(model, "model", 200),
            input_tokens=check_count(input_tokens, "input_tokens"),
            output_tokens=check_count(output_tokens, "output_tokens"),
            cost=_cost(cost),
            trace_id=opt_text(trace_id, "trace_id", 200),
            retry=bool(retry),
            retry_delay_s=check_seconds(retry_delay, "retry_delay"),
        )
        if run is not None:
            return run
        current = self.get(rid)  # NotFoundError when absent
        if (current.status, status) not in _MOVES:
            raise ConflictError(
                f"run {rid} is {current.status}: cannot become {status}", sqlstate="PR409"
            )
        raise ConflictError(
            f"run {rid} is {current.status}, held by worker {current.worker_id}, not {worker_id}",
            sqlstate="PR409",
        )

    def start(self, id: UUID | str, *, worker_id: str | None = None) -> Run:
        """Move a pending run to ``running`` (without the queue: see :meth:`claim_next`)."""
        return self._move(id, "running", worker_id=worker_id)

    def succeed(
        self,
        id: UUID | str,
        output: Any = None,
        *,
        worker_id: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cost: Decimal | float | None = None,
        trace_id: str | None = None,
    ) -> Run:
        """``running -> succeeded`` with the output and usage (``None`` keeps a value)."""
        return self._move(
            id,
            "succeeded",
            worker_id=worker_id,
            output=output,
            provider=provider,
            model=model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost=cost,
            trace_id=trace_id,
        )

    def fail(
        self,
        id: UUID | str,
        error: str,
        *,
        worker_id: str | None = None,
        retry: bool = False,
        retry_delay: float = 0.0,
        output: Any = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cost: Decimal | float | None = None,
    ) -> Run:
        """``running -> failed``; with ``retry=True`` back to ``pending`` instead while
        attempts remain (claimable again after ``retry_delay`` seconds)."""
        return self._move(
            id,
            "failed",
            worker_id=worker_id,
            error=check_text(error, "error", max_len=MAX_ERROR),
            retry=retry,
            retry_delay=retry_delay,
            output=output,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost=cost,
        )

    def cancel(self, id: UUID | str) -> Run:
        """``pending | running -> cancelled``."""
        return self._move(id, "cancelled")

    def retry(self, id: UUID | str) -> Run:
        """``failed -> pending`` (or ``running -> pending``): claimable again now."""
        return self._move(id, "pending")

    def requeue_stale(self, *, stale_after: float = 300.0) -> list[Run]:
        """Runs whose worker has not heart-beaten for ``stale_after`` seconds go back to
        ``pending`` (``failed`` once ``max_attempts`` is spent); returns them."""
        return self.db.many(
            self.q.requeue_stale_runs,
            Run,
            tenant_id=self.t,
            stale_after_s=check_seconds(stale_after, "stale_after"),
        )

    def files(self, run_id: UUID | str) -> list[Document]:
        """The documents attached to the run (``documents.run_id``), oldest first."""
        return self.db.many(
            self.q.run_documents, Document, tenant_id=self.t, run_id=as_uuid(run_id, "run_id")
        )

    def delete(self, id: UUID | str) -> bool:
        n = self.db.execute(self.q.delete_run, tenant_id=self.t, id=as_uuid(id))
        return n > 0

    def list(
        self,
        *,
        kind: str | None = None,
        statuses: Sequence[RunStatus] | None = None,
        conversation_id: UUID | str | None = None,
        user_id: str | None = None,
        limit: int = 50,
        after: Run | None = None,
    ) -> list[Run]:
        """Runs newest first; pass the last run of a page as ``after`` for the next."""
        after = check_after(after, Run)
        return self.db.many(
            self.q.list_runs,
            Run,
            tenant_id=self.t,
            kind=None if kind is None else _kind(kind),
            statuses=None if statuses is None else _statuses(statuses),
            conversation_id=None
            if conversation_id is None
            else as_uuid(conversation_id, "conversation_id"),
            user_id=None if user_id is None else check_user_id(user_id),
            before_created=after.created_at if after else None,
            before_id=after.id if after else None,
            limit=check_limit(limit),
        )
