# Generated from modules_async.py by tools/async_to_sync.py: do not edit.
"""``s.modules``: prompt modules (text and / or scripts run at a stage of a response)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ..errors import ValidationError
from ..models.ops import ExecutionContext, Module
from ._base import Area
from .personas import MAX_TEMPLATE, check_context, check_name, opt_json
from .validate import (
    as_uuid,
    check_bool,
    check_limit,
    check_text,
    jsonb,
    opt_bool,
    opt_text,
)

__all__ = ["Modules"]


def _given(value: int | None, what: str) -> int:
    if value is None:
        raise ValidationError(f"{what} must be an integer, not None")
    return value


def _priority(value: int | None) -> int | None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**31
    ):
        raise ValidationError("stage_priority must be a 32-bit integer")
    return value


class Modules(Area):
    def create(
        self,
        name: str,
        *,
        type: str,
        content: str | None = None,
        description: str = "",
        trigger_pattern: str | None = None,
        script: str | None = None,
        execution_context: ExecutionContext = "immediate",
        requires_ai_inference: bool = False,
        stage_priority: int = 100,
        active: bool = True,
        metadata: dict[str, Any] | None = None,
    ) -> Module:
        """Create a module; :class:`ConflictError` when the name is taken."""
        module = self.db.one(
            self.q.create_module,
            Module,
            tenant_id=self.t,
            name=check_name(name),
            description=check_text(description, "description", max_len=10_000),
            content=opt_text(content, "content", MAX_TEMPLATE),
            type=check_name(type, "type"),
            trigger_pattern=opt_text(trigger_pattern, "trigger_pattern", 10_000),
            script=opt_text(script, "script", MAX_TEMPLATE),
            execution_context=check_context(execution_context) or "immediate",
            requires_ai_inference=check_bool(requires_ai_inference, "requires_ai_inference"),
            stage_priority=_priority(_given(stage_priority, "stage_priority")),
            active=check_bool(active, "active"),
            metadata=jsonb(metadata, "metadata"),
        )
        assert module is not None  # INSERT ... RETURNING always returns the row
        return module

    def get(self, id: UUID | str) -> Module:
        return self.db.get(self.q.get_module, Module, tenant_id=self.t, id=as_uuid(id))

    def by_name(self, name: str) -> Module | None:
        return self.db.one(
            self.q.get_module_by_name, Module, tenant_id=self.t, name=check_name(name)
        )

    def update(
        self,
        id: UUID | str,
        *,
        name: str | None = None,
        description: str | None = None,
        content: str | None = None,
        clear_content: bool = False,
        type: str | None = None,
        trigger_pattern: str | None = None,
        script: str | None = None,
        execution_context: ExecutionContext | None = None,
        requires_ai_inference: bool | None = None,
        stage_priority: int | None = None,
        active: bool | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Module:
        """Change the given fields (``None`` keeps a value; ``metadata`` is merged;
        ``clear_content=True`` makes it a script-only module)."""
        return self.db.get(
            self.q.update_module,
            Module,
            tenant_id=self.t,
            id=as_uuid(id),
            name=None if name is None else check_name(name),
            description=opt_text(description, "description"),
            content=opt_text(content, "content", MAX_TEMPLATE),
            clear_content=bool(clear_content),
            type=None if type is None else check_name(type, "type"),
            trigger_pattern=opt_text(trigger_pattern, "trigger_pattern", 10_000),
            script=opt_text(script, "script", MAX_TEMPLATE),
            execution_context=check_context(execution_context),
            requires_ai_inference=opt_bool(requires_ai_inference, "requires_ai_inference"),
            stage_priority=_priority(stage_priority),
            active=opt_bool(active, "active"),
            metadata=opt_json(metadata, "metadata"),
        )

    def delete(self, id: UUID | str) -> bool:
        return self.db.execute(self.q.delete_module, tenant_id=self.t, id=as_uuid(id)) > 0

    def list(
        self,
        *,
        execution_context: ExecutionContext | None = None,
        include_inactive: bool = False,
        limit: int = 1000,
    ) -> list[Module]:
        """The tenant's modules in execution order (stage, stage_priority, name)."""
        return self.db.many(
            self.q.list_modules,
            Module,
            tenant_id=self.t,
            execution_context=check_context(execution_context),
            include_inactive=bool(include_inactive),
            limit=check_limit(limit),
        )
