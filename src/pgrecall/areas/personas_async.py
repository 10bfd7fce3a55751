"""``s.personas``: assistant personas and the modules each one runs, in order."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ..errors import ValidationError
from ..models.ops import EXECUTION_CONTEXTS, ExecutionContext, Persona, PersonaModule
from ._base_async import AsyncArea
from .validate import (
    as_uuid,
    check_bool,
    check_choice,
    check_limit,
    check_text,
    jsonb,
    opt_bool,
    opt_text,
)

__all__ = ["MAX_TEMPLATE", "AsyncPersonas", "check_context", "check_name", "opt_json"]

MAX_TEMPLATE = 1_000_000


def check_name(name: str, what: str = "name") -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError(f"{what} must be non-empty text")
    return check_text(name, what, max_len=200)


def check_context(context: str | None) -> str | None:
    if context is not None:
        check_choice(context, EXECUTION_CONTEXTS, "execution_context")
    return context


def opt_json(value: dict[str, Any] | None, what: str) -> Any:
    return None if value is None else jsonb(value, what)


class AsyncPersonas(AsyncArea):
    async def create(
        self,
        name: str,
        *,
        template: str,
        description: str = "",
        mode: str | None = None,
        loop_frequency: str | None = None,
        first_message: str | None = None,
        image_path: str | None = None,
        active: bool = True,
        metadata: dict[str, Any] | None = None,
    ) -> Persona:
        """Create a persona; :class:`ConflictError` when the name is taken."""
        persona = await self.db.one(
            self.q.create_persona,
            Persona,
            tenant_id=self.t,
            name=check_name(name),
            description=check_text(description, "description", max_len=10_000),
            template=check_text(template, "template", max_len=MAX_TEMPLATE),
            mode=opt_text(mode, "mode", 200),
            loop_frequency=opt_text(loop_frequency, "loop_frequency", 200),
            first_message=opt_text(first_message, "first_message", MAX_TEMPLATE),
            image_path=opt_text(image_path, "image_path", 2000),
            active=check_bool(active, "active"),
            metadata=jsonb(metadata, "metadata"),
        )
        assert persona is not None  # INSERT ... RETURNING always returns the row
        return persona

    async def get(self, id: UUID | str) -> Persona:
        return await self.db.get(self.q.get_persona, Persona, tenant_id=self.t, id=as_uuid(id))

    async def by_name(self, name: str) -> Persona | None:
        return await self.db.one(
            self.q.get_persona_by_name, Persona, tenant_id=self.t, name=check_name(name)
        )

    async def update(
        self,
        id: UUID | str,
        *,
        name: str | None = None,
        description: str | None = None,
        template: str | None = None,
        mode: str | None = None,
        loop_frequency: str | None = None,
        first_message: str | None = None,
        image_path: str | None = None,
        active: bool | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Persona:
        """Change the given fields (``None`` keeps a value; ``metadata`` is merged)."""
        return await self.db.get(
            self.q.update_persona,
            Persona,
            tenant_id=self.t,
            id=as_uuid(id),
            name=None if name is None else check_name(name),
            description=opt_text(description, "description"),
            template=opt_text(template, "template", MAX_TEMPLATE),
            mode=opt_text(mode, "mode", 200),
            loop_frequency=opt_text(loop_frequency, "loop_frequency", 200),
            first_message=opt_text(first_message, "first_message", MAX_TEMPLATE),
            image_path=opt_text(image_path, "image_path", 2000),
            active=opt_bool(active, "active"),
            metadata=opt_json(metadata, "metadata"),
        )

    async def delete(self, id: UUID | str) -> bool:
        """Delete the persona (its module links and states too; conversations keep going
        without a persona)."""
        return await self.db.execute(self.q.delete_persona, tenant_id=self.t, id=as_uuid(id)) > 0

    async def attach(
        self, persona_id: UUID | str, module_id: UUID | str, *, position: int = 0
    ) -> None:
        """Give the persona a module (``position`` breaks ties of equal stage priority)."""
        if isinstance(position, bool) or not isinstance(position, int) or abs(position) >= 2**31:
            raise ValidationError("position must be a 32-bit integer")
        await self.db.execute(
            self.q.attach_module,
            tenant_id=self.t,
            persona_id=as_uuid(persona_id, "persona_id"),
            module_id=as_uuid(module_id, "module_id"),
            position=position,
        )

    async def detach(self, persona_id: UUID | str, module_id: UUID | str) -> bool:
        n = await self.db.execute(
            self.q.detach_module,
            tenant_id=self.t,
            persona_id=as_uuid(persona_id, "persona_id"),
            module_id=as_uuid(module_id, "module_id"),
        )
        return n > 0

    async def modules(
        self,
        persona_id: UUID | str,
        *,
        execution_context: ExecutionContext | None = None,
        include_inactive: bool = False,
    ) -> list[PersonaModule]:
        """The persona's modules in execution order: stage (immediate, post_response,
        on_demand), then ``stage_priority``, then ``position``."""
        return await self.db.many(
            self.q.modules_of_persona,
            PersonaModule,
            tenant_id=self.t,
            persona_id=as_uuid(persona_id, "persona_id"),
            execution_context=check_context(execution_context),
            include_inactive=bool(include_inactive),
        )

    async def list(self, *, include_inactive: bool = False, limit: int = 1000) -> list[Persona]:
        return await self.db.many(
            self.q.list_personas,
            Persona,
            tenant_id=self.t,
            include_inactive=bool(include_inactive),
            limit=check_limit(limit),
        )
