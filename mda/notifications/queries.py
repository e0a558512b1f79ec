"""Reads: a user's inbox and unread count, and the outbox for the functional administrator and
for monitoring (``outbox_backlog``, ``outbox_failed``: numbers only, no content)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ..accounts.models import User
from ..db import db
from .models import Notification, OutboxMessage, OutboxStatus

INBOX_PAGE = 100


def unread_count_query(recipient_id: Any) -> Select:
    """The user's unread notifications, counted; ``recipient_id`` is an id or a ``bindparam``."""
    return (select(func.count()).select_from(Notification)
            .where(Notification.recipient_id == recipient_id, Notification.read_at.is_(None)))


def unread_count(user: User) -> int:
    return db.session.scalar(unread_count_query(user.id)) or 0


def inbox(user: User, *, unread_only: bool = False, limit: int = INBOX_PAGE) -> list[Notification]:
    query = select(Notification).where(Notification.recipient_id == user.id)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return list(db.session.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc())
                                   .limit(limit)))


def outbox_backlog(session: Session | None = None) -> int:
    """E-mails not yet sent (waiting, being sent, or waiting for a retry): for health and metrics."""
    return (session or db.session).scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))) or 0


def outbox_failed(session: Session | None = None) -> int:
    """E-mails given up on (or without an address), waiting for the functional administrator."""
    return (session or db.session).scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status.in_([OutboxStatus.FAILED, OutboxStatus.NO_ADDRESS]))) or 0


def outbox_rows(*, problems_only: bool = True, limit: int = 200) -> list[OutboxMessage]:
    query = select(OutboxMessage)
    if problems_only:
        query = query.where((OutboxMessage.status.in_([OutboxStatus.FAILED, OutboxStatus.NO_ADDRESS]))
                            | (OutboxMessage.attempts > 1) | (OutboxMessage.last_error.is_not(None)))
    return list(db.session.scalars(query.order_by(OutboxMessage.id.desc()).limit(limit)))
