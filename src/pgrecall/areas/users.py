# Generated from users_async.py by tools/async_to_sync.py: do not edit.
"""``s.users``: the application's users (optional profiles; created on first use)."""

from __future__ import annotations

from typing import Any

from ..models.core import User
from ._base import Area
from .validate import check_key, check_limit, check_text, jsonb, opt_text

__all__ = ["Users", "check_user_id"]


def check_user_id(user_id: str) -> str:
    """The application's user id: non-blank text, at most 200 characters."""
    return check_key(user_id, "user_id")


class Users(Area):
    def upsert(
        self,
        user_id: str,
        *,
        username: str | None = None,
        email: str | None = None,
        display_name: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> User:
        """Create the user or update the given fields (``None`` keeps; metadata merges)."""
        user = self.db.one(
            self.q.upsert_user,
            User,
            tenant_id=self.t,
            user_id=check_user_id(user_id),
            username=opt_text(username, "username", 200),
            email=opt_text(email, "email", 320),
            display_name=opt_text(display_name, "display_name", 500),
            metadata=jsonb(metadata, "metadata"),
        )
        assert user is not None  # INSERT ... ON CONFLICT DO UPDATE always returns the row
        return user

    def get(self, user_id: str) -> User:
        """The user; :class:`NotFoundError` when unknown."""
        return self.db.get(
            self.q.get_user, User, tenant_id=self.t, user_id=check_user_id(user_id)
        )

    def find(self, user_id: str) -> User | None:
        return self.db.one(
            self.q.get_user, User, tenant_id=self.t, user_id=check_user_id(user_id)
        )

    def by_email(self, email: str) -> User | None:
        return self.db.one(
            self.q.get_user_by_email, User, tenant_id=self.t, email=check_text(email, "email")
        )

    def list(self, *, after: str | None = None, limit: int = 100) -> list[User]:
        """Users in user id order; pass the last ``user_id`` as ``after`` for the next page."""
        return self.db.many(
            self.q.list_users,
            User,
            tenant_id=self.t,
            after=opt_text(after, "after", 200),
            limit=check_limit(limit),
        )

    def delete(self, user_id: str) -> bool:
        """Delete the user with their conversations and messages."""
        n = self.db.execute(
            self.q.delete_user, tenant_id=self.t, user_id=check_user_id(user_id)
        )
        return n > 0
