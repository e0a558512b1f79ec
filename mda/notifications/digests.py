"""The daily overview e-mail: one message per user at the hour they chose (Dutch time).

Runs under the worker's job lease; writing the outbox row, clearing the notifications' digest
flag and recording the day happen in one transaction, so an overview is never sent twice
for the same notifications nor lost.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from ..accounts.models import User
from ..db import db
from ..timeutil import AMSTERDAM, utcnow
from .models import Notification, NotificationSettings
from .operations import enqueue_mail, mail_body, mail_subject, settings_of, still_for

DEFAULT_DIGEST_HOUR = 7


def send_digests(now: datetime | None = None) -> int:
    """Queue the overview of every user whose hour has come today; returns how many were queued."""
    now = now or utcnow()
    local = now.astimezone(AMSTERDAM)
    user_ids = db.session.scalars(select(Notification.recipient_id).where(Notification.digest_pending.is_(True))
                                  .distinct().order_by(Notification.recipient_id)).all()
    queued = 0
    for user_id in user_ids:
        settings = db.session.get(NotificationSettings, user_id)
        hour = settings.digest_hour if settings else DEFAULT_DIGEST_HOUR
        if local.hour < hour or (settings and settings.last_digest_on == local.date()):
            continue
        user = db.session.get(User, user_id)
        pending = db.session.scalars(select(Notification).where(Notification.recipient_id == user_id,
                                                                Notification.digest_pending.is_(True))
                                     .order_by(Notification.created_at, Notification.id)).all()
        # Read in the app already, or about a case the user may no longer see: not mailed.
        lines = [n for n in pending if n.read_at is None and still_for(user, n)]
        for notification in pending:
            notification.digest_pending = False
        settings = settings_of(user)
        settings.last_digest_on = local.date()
        if lines and user.active and settings.email:
            enqueue_mail(user, subject=mail_subject(lines),
                         body=mail_body(lines), is_digest=True)
            queued += 1
        db.session.commit()
    return queued
