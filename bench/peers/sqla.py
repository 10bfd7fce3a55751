"""The SQLAlchemy ORM peer: the "database module" most LLM apps start with.

Written the usual way, in good faith: declarative models with relationships,
``sessionmaker`` and a session per request (FastAPI's ``get_db``) passed to CRUD
functions, ``db.add`` + ``commit`` + ``refresh`` (the FastAPI tutorial shape),
``conversation.message_count += 1`` in Python with ``updated_at`` kept by the ORM,
UUID keys made by the client. Its own tables live in schema ``peer_sqla``. It gets
the index its reads need (``conversation_id, created_at``), which not every such
module has.

Not done by the usual module, and so not here: row locks around the counter (8
writers on one conversation lose increments — :meth:`OrmChat.counts` shows it), tenant
scoping, idempotency keys.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    create_engine,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    sessionmaker,
)

from . import sqlalchemy_url

__all__ = [
    "Base", "Conversation", "Message", "OrmChat", "add_message", "create_conversation",
    "get_message", "last_messages",
]

SCHEMA = "peer_sqla"


class Base(DeclarativeBase):
    metadata = MetaData(schema=SCHEMA)


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    title: Mapped[str | None] = mapped_column(String(500))
    message_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", order_by="Message.created_at"
    )


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_created", "conversation_id", "created_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey(f"{SCHEMA}.conversations.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    token_count: Mapped[int | None]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    conversation: Mapped[Conversation] = relationship(back_populates="messages")


def create_conversation(db: Session, user_id: str, title: str | None = None) -> Conversation:
    conv = Conversation(user_id=user_id, title=title)
    db.add(conv)
    db.commit()
    db.refresh(conv)
    return conv


def add_message(db: Session, conversation_id: uuid.UUID, role: str, content: str) -> Message:
    conv = db.get(Conversation, conversation_id)
    if conv is None:
        raise LookupError(f"conversation {conversation_id} not found")
    msg = Message(conversation_id=conv.id, role=role, content=content,
                  token_count=len(content) // 4)
    db.add(msg)
    conv.message_count += 1  # updated_at follows (onupdate)
    db.commit()
    db.refresh(msg)
    return msg


def last_messages(db: Session, conversation_id: uuid.UUID, n: int = 20) -> list[Message]:
    rows = db.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.created_at.desc())
        .limit(n)
    ).all()
    return list(reversed(rows))


def get_message(db: Session, message_id: uuid.UUID) -> Message | None:
    return db.get(Message, message_id)


class OrmChat:
    """The engine and the session factory (``get_db`` of a FastAPI app)."""

    def __init__(self, url: str, *, pool_size: int = 5) -> None:
        self.engine: Engine = create_engine(
            sqlalchemy_url(url), pool_size=pool_size, max_overflow=0
        )
        self.Session = sessionmaker(bind=self.engine)

    def create_tables(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
        Base.metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def turn(self, conversation_id: uuid.UUID, role: str, content: str) -> list[Message]:
        """One chat request: store the message, read the last 20 for the prompt."""
        with self.Session() as db:
            add_message(db, conversation_id, role, content)
            return last_messages(db, conversation_id, 20)

    def prefill(self, conversation_id: uuid.UUID, messages: list[dict[str, str]]) -> None:
        """Seed a conversation's history (setup, not measured)."""
        with self.Session() as db:
            conv = db.get(Conversation, conversation_id)
            assert conv is not None
            start = datetime.now(UTC) - timedelta(hours=1)
            db.add_all(
                Message(conversation_id=conversation_id, role=m["role"], content=m["content"],
                        token_count=len(m["content"]) // 4, created_at=start + timedelta(seconds=i))
                for i, m in enumerate(messages)
            )
            conv.message_count += len(messages)
            db.commit()

    def counts(self, conversation_id: uuid.UUID) -> tuple[int, int]:
        """(the message_count counter, the message rows actually stored)."""
        with self.Session() as db:
            conv = db.get(Conversation, conversation_id)
            assert conv is not None
            stored = db.scalar(
                select(func.count()).where(Message.conversation_id == conversation_id)
            )
            return conv.message_count, int(stored or 0)
