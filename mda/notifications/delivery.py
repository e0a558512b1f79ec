"""The worker's side of the outbox: claim, send, record, retry with backoff.

Claiming is a conditional ``UPDATE ... RETURNING id`` of due rows: on PostgreSQL after
``SELECT ... FOR UPDATE SKIP LOCKED`` so that two workers skip each other's rows, on SQLite as one
statement that holds the write lock. A claim is a lease: ``claimed_until`` in the future. No transaction is open
while talking to the SMTP server.

What the user sees: every message is sent; a message is repeated only when a worker dies (or
loses its lease) after the server accepted it and before it wrote that down, so each crash
repeats at most the one message it interrupted. The repeat carries the same Message-ID, so mail
clients and servers that de-duplicate drop it, and the row's ``attempts`` shows it was tried
more than once. No mail protocol lets a sender ask whether a message already arrived, so this
is the best a sender can do.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from flask import current_app
from sqlalchemy import and_, or_, select, update

from ..accounts.models import User
from ..db import db
from ..timeutil import utcnow
from .mailer import PermanentFailure, Transport, build_message
from .models import Notification, NotificationSettings, OutboxMessage, OutboxStatus
from .operations import still_for

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=2)
DEFAULT_LEASE = timedelta(minutes=5)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes after the first, second, third ... failed attempt, at most 2 hours."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def lease_length() -> timedelta:
    seconds = current_app.config.get("OUTBOX_LEASE_SECONDS")
    return timedelta(seconds=float(seconds)) if seconds else DEFAULT_LEASE


@dataclass
class SendReport:
    sent: list[int] = field(default_factory=list)
    retried: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    lost_claim: list[int] = field(default_factory=list)
    withdrawn: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        return (f"{len(self.sent)} verzonden, {len(self.retried)} later opnieuw, {len(self.failed)} mislukt"
                + (f", {len(self.withdrawn)} niet verzonden (geen toegang meer)" if self.withdrawn else "")
                + (f", {len(self.lost_claim)} claim verloren" if self.lost_claim else ""))


def _claimable(table, now: datetime):  # noqa: ANN001, ANN202 - a table or alias; a SQL condition
    return or_(and_(table.c.status == OutboxStatus.PENDING.value, table.c.next_attempt_at <= now),
               and_(table.c.status == OutboxStatus.SENDING.value, table.c.claimed_until < now))


def claim(worker_id: str, *, limit: int = 20, now: datetime | None = None) -> list[int]:
    """Take up to ``limit`` due messages for this worker; commits the claim."""
    now = now or utcnow()
    table = OutboxMessage.__table__
    session = db.session
    session.commit()  # start from a fresh transaction, so the claim below is its first statement
    if session.get_bind().dialect.name == "postgresql":
        # Lock the candidates first, skipping rows another worker holds, then claim exactly those.
        # (Inside ``UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED)`` PostgreSQL
        # may run the subquery more than once and claim more than n rows.)
        ids = session.scalars(select(table.c.id).where(_claimable(table, now)).order_by(table.c.id).limit(limit)
                              .with_for_update(skip_locked=True)).all()
        target = table.c.id.in_(ids)
    else:
        # SQLite: one statement, which takes the database's write lock before it reads.
        candidate = table.alias("candidate")  # unaliased, it would be correlated with the UPDATE
        target = table.c.id.in_(select(candidate.c.id).where(_claimable(candidate, now))
                                .order_by(candidate.c.id).limit(limit).scalar_subquery())
    claimed = session.execute(
        update(table).where(target, _claimable(table, now))
        .values(status=OutboxStatus.SENDING.value, claimed_by=worker_id, claimed_until=now + lease_length(),
                attempts=table.c.attempts + 1)
        .returning(table.c.id)).scalars().all()
    session.commit()
    return sorted(claimed)


def _finish(message_id: int, worker_id: str, **values: object) -> bool:
    """Record the outcome, only if the claim is still ours."""
    table = OutboxMessage.__table__
    result = db.session.execute(update(table).where(table.c.id == message_id, table.c.claimed_by == worker_id,
                                                    table.c.status == OutboxStatus.SENDING.value)
                                .values(**values))
    db.session.commit()
    return result.rowcount == 1


def send_one(message_id: int, worker_id: str, transport: Transport, report: SendReport) -> None:
    settings = current_app.extensions["mda.settings"].mail
    # The claim was written with a core UPDATE: read the row afresh, not from the identity map.
    message = db.session.get(OutboxMessage, message_id, populate_existing=True)
    # Access is checked again at sending: it may have ended since the e-mail was queued.
    recipient = db.session.get(User, message.recipient_id)
    notification = db.session.get(Notification, message.notification_id) if message.notification_id else None
    if not still_for(recipient, notification):
        db.session.commit()
        _finish(message_id, worker_id, status=OutboxStatus.WITHDRAWN.value, claimed_until=None,
                last_error="ontvanger heeft geen toegang meer")
        report.withdrawn.append(message_id)
        return
    address = db.session.scalar(select(NotificationSettings.email)
                                 .where(NotificationSettings.user_id == message.recipient_id))
    outgoing = None
    if address:
        outgoing = build_message(sender=settings.sender, to=address, subject=message.subject, body=message.body,
                                 message_id=message.message_id)
    attempts = message.attempts
    db.session.commit()  # no transaction stays open while the SMTP server is talking
    if outgoing is None:
        _finish(message_id, worker_id, status=OutboxStatus.NO_ADDRESS.value, claimed_until=None,
                last_error="geen e-mailadres ingesteld")
        report.failed.append(message_id)
        return
    try:
        transport.send(outgoing)
    except PermanentFailure as exc:
        _finish(message_id, worker_id, status=OutboxStatus.FAILED.value, claimed_until=None,
                last_error=str(exc)[:200])
        report.failed.append(message_id)
        return
    except Exception as exc:  # noqa: BLE001 - any transport error is retried later
        # The type only: an exception's text can quote an address.
        error = type(exc).__name__ + (f" {exc.smtp_code}" if hasattr(exc, "smtp_code") else "")
        if attempts >= MAX_ATTEMPTS:
            _finish(message_id, worker_id, status=OutboxStatus.FAILED.value, claimed_until=None, last_error=error)
            report.failed.append(message_id)
        else:
            _finish(message_id, worker_id, status=OutboxStatus.PENDING.value, claimed_until=None, last_error=error,
                    next_attempt_at=utcnow() + backoff(attempts))
            report.retried.append(message_id)
        log.warning("e-mail %s not sent (%s), attempt %s", message_id, error, attempts)
        return
    if _finish(message_id, worker_id, status=OutboxStatus.SENT.value, sent_at=utcnow(), claimed_until=None):
        report.sent.append(message_id)
    else:
        report.lost_claim.append(message_id)  # sent, but another worker took it over meanwhile
        log.warning("e-mail %s sent after its claim ran out", message_id)


def send_due(transport: Transport, worker_id: str, *, limit: int = 1,
             stopping: Callable[[], bool] = lambda: False) -> SendReport:
    """Send every due message. By default one message is claimed at a time, so its lease
    (5 minutes) always covers its one send (the SMTP timeout is 30 seconds): a slow batch can
    never outlive its claims and be taken over by another worker while still being sent."""
    report = SendReport()
    while not stopping():  # a worker asked to stop finishes the message in hand, then stops
        ids = claim(worker_id, limit=limit)
        for message_id in ids:
            send_one(message_id, worker_id, transport, report)
        if len(ids) < limit:
            break
    return report
