"""Writing notifications and their e-mails, in the transaction of the event that causes them.

``notify`` is the one verb: it keeps only the recipients who may see what the notification is
about (asked of ``mda.security.policy``), writes the in-app notification, and writes an outbox
row for an immediate e-mail or marks it for the daily overview, by the recipient's preference.
Time-based notifications carry a ``due_key`` (the due moment) and are written at most once per
recipient, kind, object and due moment: the database's unique constraint decides, inside a
savepoint, so two workers scanning at once cannot both write one.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Iterable

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..accounts.models import User
from ..audit.models import AuditAction
from ..audit.trail import record
from ..cases.models import Case
from ..db import db
from ..errors import InvalidInput
from ..security.policy import Permission, may
from ..timeutil import utcnow
from .models import (DEFAULT_DELIVERY, MAIL_PHRASES, MANDATORY_IMMEDIATE, Delivery, Notification,
                     NotificationKind, NotificationPreference, NotificationSettings, OutboxMessage,
                     OutboxStatus)

MAIL_PREFIX = "MDA++"


@dataclass(frozen=True)
class Subject:
    """What a notification is about: the object (type and id), the policy check a recipient
    must pass, and the case it belongs to, if any."""

    type: str
    id: int
    permission: Permission
    target: Any = None          # the object the permission is checked on (a Case, a Referral or None)
    case: Case | None = None    # named in the notification by id and case number only


def delivery_for(user: User, kind: NotificationKind) -> Delivery:
    if kind in MANDATORY_IMMEDIATE:
        return Delivery.IMMEDIATE
    chosen = db.session.scalar(select(NotificationPreference.delivery).where(
        NotificationPreference.user_id == user.id, NotificationPreference.kind == kind))
    return chosen or DEFAULT_DELIVERY.get(kind, Delivery.IMMEDIATE)


def may_receive(user: User, subject: Subject) -> bool:
    return may(user, subject.permission, subject.target)


def still_for(user: User | None, notification: Notification | None) -> bool:
    """May this notification still reach this user, when its e-mail goes out? The account is
    active and, for a notification about a case, the user may still see that case (taken off
    the team, or the case handed to another coordinator, between the event and the send)."""
    if user is None or not user.active:
        return False
    if notification is None or notification.case_id is None:
        return True
    case = db.session.get(Case, notification.case_id)
    return case is not None and may(user, Permission.CASE_VIEW, case)


def notify(recipients: Iterable[User], kind: NotificationKind, subject: Subject, *, link: str,
           detail: str | None = None, due_key: str | None = None) -> list[Notification]:
    """Notify each recipient who may see the subject; returns the notifications written."""
    written = []
    seen: set[int] = set()
    for user in recipients:
        if user is None or user.id in seen or not may_receive(user, subject):
            continue
        seen.add(user.id)
        notification = _write(user, kind, subject, link=link, detail=detail, due_key=due_key)
        if notification is not None:
            written.append(notification)
    return written


def _write(user: User, kind: NotificationKind, subject: Subject, *, link: str, detail: str | None,
           due_key: str | None) -> Notification | None:
    case = subject.case
    notification = Notification(recipient_id=user.id, kind=kind, case_id=case.id if case else None,
                                case_reference=case.reference if case else None, subject_type=subject.type,
                                subject_id=subject.id, due_key=due_key, link=link, detail=detail,
                                created_at=utcnow())
    delivery = delivery_for(user, kind)
    notification.digest_pending = delivery == Delivery.DIGEST
    if due_key is not None:
        if _exists(user, kind, subject, due_key):
            return None
        try:
            with db.session.begin_nested():
                db.session.add(notification)
                db.session.flush()
        except IntegrityError:
            return None  # another worker wrote it first
    else:
        db.session.add(notification)
        db.session.flush()
    # Without an address a user gets the app only; a legal deadline is queued all the same, so
    # that the functional administrator sees that it could not go out.
    if delivery == Delivery.IMMEDIATE and (kind in MANDATORY_IMMEDIATE or address_of(user)):
        enqueue_mail(user, subject=mail_subject([notification]), body=mail_body([notification]),
                     notification=notification)
    return notification


def address_of(user: User) -> str | None:
    return db.session.scalar(select(NotificationSettings.email).where(NotificationSettings.user_id == user.id))


def _exists(user: User, kind: NotificationKind, subject: Subject, due_key: str) -> bool:
    return db.session.scalar(select(Notification.id).where(
        Notification.recipient_id == user.id, Notification.kind == kind, Notification.subject_type == subject.type,
        Notification.subject_id == subject.id, Notification.due_key == due_key)) is not None


# --- e-mail text: no personal data, nothing about the case beyond its number ------------------

def _base_url() -> str:
    return current_app.extensions["mda.settings"].mail.base_url


def _line(notification: Notification) -> str:
    where = f"casus {notification.case_reference}: " if notification.case_reference else ""
    return f"- {where}{MAIL_PHRASES[notification.kind]}.\n  {_base_url()}/meldingen/{notification.id}"


def mail_subject(notifications: list[Notification]) -> str:
    if len(notifications) == 1:
        only = notifications[0]
        urgent = only.kind in MANDATORY_IMMEDIATE
        about = f" (casus {only.case_reference})" if only.case_reference else ""
        return f"{MAIL_PREFIX}: {'dringend, ' if urgent else ''}er staat iets voor u klaar{about}"
    return f"{MAIL_PREFIX}: dagelijks overzicht, {len(notifications)} meldingen"


def mail_body(notifications: list[Notification]) -> str:
    lines = "\n".join(_line(notification) for notification in notifications)
    return ("Goedendag,\n\n"
            "In MDA++ staat iets voor u klaar:\n\n"
            f"{lines}\n\n"
            "Log in om te zien wat er te doen is. Deze e-mail bevat bewust geen gegevens over de casus.\n"
            f"{_base_url()}/meldingen/\n\n"
            "U kunt in MDA++ onder Meldingen > Instellingen kiezen welke meldingen u per e-mail krijgt.\n")


def new_message_id() -> str:
    sender = current_app.extensions["mda.settings"].mail.sender
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<mda-{uuid.uuid4().hex}@{domain}>"


def enqueue_mail(user: User, *, subject: str, body: str, notification: Notification | None = None,
                 is_digest: bool = False) -> OutboxMessage:
    message = OutboxMessage(recipient_id=user.id, notification_id=notification.id if notification else None,
                            is_digest=is_digest, subject=subject, body=body, message_id=new_message_id(),
                            status=OutboxStatus.PENDING, attempts=0, created_at=utcnow(),
                            next_attempt_at=utcnow())
    db.session.add(message)
    db.session.flush()
    return message


# --- the inbox ------------------------------------------------------------------------------

def mark_read(notification: Notification, *, by: User) -> None:
    if notification.recipient_id != by.id:
        raise InvalidInput("Deze melding is niet van u.")
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.flush()


def mark_all_read(*, by: User) -> int:
    unread = db.session.scalars(select(Notification).where(Notification.recipient_id == by.id,
                                                           Notification.read_at.is_(None))).all()
    now = utcnow()
    for notification in unread:
        notification.read_at = now
    db.session.flush()
    return len(unread)


# --- preferences ----------------------------------------------------------------------------

def settings_of(user: User) -> NotificationSettings:
    settings = db.session.get(NotificationSettings, user.id)
    if settings is None:
        settings = NotificationSettings(user_id=user.id, email=None, digest_hour=7)
        db.session.add(settings)
        db.session.flush()
    return settings


def save_preferences(user: User, *, email: str | None, digest_hour: int,
                     deliveries: dict[NotificationKind, Delivery], by: User) -> None:
    if by.id != user.id:
        raise InvalidInput("U kunt alleen uw eigen instellingen wijzigen.")
    if not 0 <= digest_hour <= 23:
        raise InvalidInput("Kies een uur tussen 0 en 23.", field="digest_hour")
    settings = settings_of(user)
    settings.email = (email or "").strip() or None
    settings.digest_hour = digest_hour
    existing = {p.kind: p for p in db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id))}
    for kind, delivery in deliveries.items():
        if kind in MANDATORY_IMMEDIATE:
            continue
        if kind in existing:
            existing[kind].delivery = delivery
        else:
            db.session.add(NotificationPreference(user_id=user.id, kind=kind, delivery=delivery))
    db.session.flush()
    record(AuditAction.ACCOUNT_CHANGE, by=by, object_type="notification_settings", object_id=user.id,
           detail="meldingsinstellingen gewijzigd")


# --- the functional administrator's outbox page ----------------------------------------------

def retry(message: OutboxMessage, *, by: User) -> None:
    if message.status not in (OutboxStatus.FAILED, OutboxStatus.NO_ADDRESS):
        raise InvalidInput("Alleen een mislukte e-mail kan opnieuw worden verzonden.")
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = utcnow()
    message.claimed_by = message.claimed_until = None
    db.session.flush()
    record(AuditAction.CHANGE, by=by, object_type="email_outbox", object_id=message.id,
           detail="e-mail opnieuw in de wachtrij")
