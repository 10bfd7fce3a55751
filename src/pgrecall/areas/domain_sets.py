# Generated from domain_sets_async.py by tools/async_to_sync.py: do not edit.
"""``s.domain_sets``: named, configurable lists of web domains."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from uuid import UUID

from ..errors import ValidationError
from ..models.ops import DomainSet
from ._base import Area
from .personas import check_name, opt_json
from .validate import (
    as_uuid,
    check_bool,
    check_limit,
    check_seq,
    check_text,
    jsonb,
    opt_bool,
    opt_text,
)

__all__ = ["MAX_DOMAINS", "DomainSets", "normalize_domain"]

MAX_DOMAINS = 10_000
_DOMAIN = re.compile(r"^(?=.{1,253}$)(\*\.)?([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*"
                     r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")  # fmt: skip


def normalize_domain(domain: str) -> str:
    """A host name in lower case, without scheme, path or trailing dot (``*.`` allowed)."""
    if not isinstance(domain, str):
        raise ValidationError(f"domain must be text, not {type(domain).__name__}")
    host = domain.strip().lower()
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", host).split("/", 1)[0].rstrip(".")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise ValidationError(f"not a domain name: {domain!r}") from None
    if not _DOMAIN.match(host):
        raise ValidationError(f"not a domain name: {domain!r}")
    return host


def _domains(domains: Iterable[str] | None) -> list[str] | None:
    if domains is None:
        return None
    if isinstance(domains, str):
        raise ValidationError("domains must be a list of domain names, not one string")
    found = list(dict.fromkeys(normalize_domain(d) for d in check_seq(domains, "domains")))
    if len(found) > MAX_DOMAINS:
        raise ValidationError(f"a domain set holds at most {MAX_DOMAINS} domains")
    return found


class DomainSets(Area):
    def create(
        self,
        name: str,
        domains: Iterable[str] = (),
        *,
        description: str = "",
        metadata: dict[str, Any] | None = None,
        active: bool = True,
    ) -> DomainSet:
        """Create a set; domains are normalised (lower case, host only, no duplicates)."""
        found = self.db.one(
            self.q.create_domain_set,
            DomainSet,
            tenant_id=self.t,
            name=check_name(name),
            description=check_text(description, "description", max_len=10_000),
            domains=_domains(check_seq(domains, "domains")),
            metadata=jsonb(metadata, "metadata"),
            active=check_bool(active, "active"),
        )
        assert found is not None  # INSERT ... RETURNING always returns the row
        return found

    def get(self, id: UUID | str) -> DomainSet:
        return self.db.get(self.q.get_domain_set, DomainSet, tenant_id=self.t, id=as_uuid(id))

    def by_name(self, name: str) -> DomainSet | None:
        return self.db.one(
            self.q.get_domain_set_by_name, DomainSet, tenant_id=self.t, name=check_name(name)
        )

    def containing(self, domain: str) -> list[DomainSet]:
        """The sets that list ``domain`` (exact host match)."""
        return self.db.many(
            self.q.domain_sets_containing,
            DomainSet,
            tenant_id=self.t,
            domain=normalize_domain(domain),
        )

    def update(
        self,
        id: UUID | str,
        *,
        name: str | None = None,
        description: str | None = None,
        domains: Iterable[str] | None = None,
        add: Iterable[str] | None = None,
        remove: Iterable[str] | None = None,
        metadata: dict[str, Any] | None = None,
        active: bool | None = None,
    ) -> DomainSet:
        """Change the given fields: ``domains`` replaces the list, ``add`` / ``remove``
        edit it in one statement (``None`` keeps; ``metadata`` is merged)."""
        return self.db.get(
            self.q.update_domain_set,
            DomainSet,
            tenant_id=self.t,
            id=as_uuid(id),
            name=None if name is None else check_name(name),
            description=opt_text(description, "description"),
            domains=_domains(domains),
            add=_domains(add),
            remove=_domains(remove),
            metadata=opt_json(metadata, "metadata"),
            active=opt_bool(active, "active"),
        )

    def delete(self, id: UUID | str) -> bool:
        n = self.db.execute(self.q.delete_domain_set, tenant_id=self.t, id=as_uuid(id))
        return n > 0

    def list(self, *, include_inactive: bool = False, limit: int = 1000) -> list[DomainSet]:
        return self.db.many(
            self.q.list_domain_sets,
            DomainSet,
            tenant_id=self.t,
            include_inactive=bool(include_inactive),
            limit=check_limit(limit),
        )
