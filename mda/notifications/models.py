"""Notifications in the app, each user's e-mail preferences, and the e-mail outbox.

Nothing here holds personal data of a client: a notification names its case by id and case
number only, and links to the place of work by a path of ids. ``detail`` is composed by
``mda.notifications.operations`` from labels and staff names only and is shown in the app,
never in an e-mail.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UtcDateTime
from ..enums import LabelledEnum, enum_column_type
from ..timeutil import utcnow


class Delivery(LabelledEnum):
    IMMEDIATE = ("immediate", "Direct per e-mail")
    DIGEST = ("digest", "In een dagelijks overzicht per e-mail")
    OFF = ("off", "Niet per e-mail (alleen in de app)")


class NotificationKind(LabelledEnum):
    """What a notification is about. ``MAIL_PHRASES`` says it without details for e-mail.

    To add a kind (for example the follow-up checks): add a member here, a phrase and a
    default delivery below, a migration that widens the CHECK constraint of the ``kind``
    columns, and a call to ``operations.notify`` where the event happens (or a scan in
    ``mda.notifications.scans``)."""

    REFERRAL_SUBMITTED = ("referral_submitted", "Nieuwe verwijzing in de triage")
    REFERRAL_CRISIS = ("referral_crisis", "Nieuwe crisisverwijzing in de triage")
    REFERRAL_DECIDED = ("referral_decided", "Besluit over een verwijzing")
    TEAM_ADDED = ("team_added", "Toegevoegd aan een casusteam")
    TEAM_REMOVED = ("team_removed", "Uit een casusteam gehaald")
    TASK_ASSIGNED = ("task_assigned", "Taak aan u toegewezen")
    TASK_DUE_TOMORROW = ("task_due_tomorrow", "Taak morgen af")
    TASK_OVERDUE = ("task_overdue", "Taak over de datum")
    HOUSE_BAN_REACHABILITY_DUE = ("house_ban_reachability", "Huisverbod: bereikbaarheid binnen 6 uur opgeven")
    HOUSE_BAN_EXPIRY_NEAR = ("house_ban_expiry", "Huisverbod loopt binnen 48 uur af")
    HOUSE_BAN_EXTENSION_PENDING = ("house_ban_extension", "Huisverbod: besluit over verlenging nodig")
    HOUSE_BAN_ENDED = ("house_ban_ended", "Huisverbod beëindigd")
    SAFETY_PLAN_REVIEW_DUE = ("safety_plan_review", "Evaluatie van het veiligheidsplan nadert")
    ERASURE_DEADLINE = ("erasure_deadline", "Privacyverzoek: wettelijke termijn nadert")
    ACCESS_REQUEST_DEADLINE = ("access_deadline", "Inzageverzoek: wettelijke termijn nadert")
    FOLLOW_UP_DUE = ("follow_up_due", "Follow-up twaalf maanden na afsluiting nodig")


# What an e-mail may say: that something is waiting, never what about the family.
MAIL_PHRASES: dict[NotificationKind, str] = {
    NotificationKind.REFERRAL_SUBMITTED: "er staat een nieuwe verwijzing klaar",
    NotificationKind.REFERRAL_CRISIS: "er staat een dringende verwijzing klaar",
    NotificationKind.REFERRAL_DECIDED: "er is een besluit genomen over een verwijzing van uw organisatie",
    NotificationKind.TEAM_ADDED: "u bent aan een casusteam toegevoegd",
    NotificationKind.TEAM_REMOVED: "uw deelname aan een casusteam is beëindigd",
    NotificationKind.TASK_ASSIGNED: "er is een taak aan u toegewezen",
    NotificationKind.TASK_DUE_TOMORROW: "een taak van u moet morgen af zijn",
    NotificationKind.TASK_OVERDUE: "een taak van u is over de datum",
    NotificationKind.HOUSE_BAN_REACHABILITY_DUE: "een wettelijke termijn loopt binnen enkele uren af",
    NotificationKind.HOUSE_BAN_EXPIRY_NEAR: "een wettelijke termijn loopt binnen twee dagen af",
    NotificationKind.HOUSE_BAN_EXTENSION_PENDING: "er is een besluit nodig vóór een wettelijke termijn",
    NotificationKind.HOUSE_BAN_ENDED: "er is een termijn afgelopen",
    NotificationKind.SAFETY_PLAN_REVIEW_DUE: "een evaluatie is binnenkort nodig",
    NotificationKind.ERASURE_DEADLINE: "de wettelijke termijn van een privacyverzoek nadert",
    NotificationKind.ACCESS_REQUEST_DEADLINE: "de wettelijke termijn van een inzageverzoek nadert",
    NotificationKind.FOLLOW_UP_DUE: "een follow-up na afsluiting is binnenkort nodig",
}

DEFAULT_DELIVERY: dict[NotificationKind, Delivery] = {
    NotificationKind.REFERRAL_SUBMITTED: Delivery.DIGEST,
    NotificationKind.REFERRAL_DECIDED: Delivery.IMMEDIATE,
    NotificationKind.TEAM_ADDED: Delivery.IMMEDIATE,
    NotificationKind.TEAM_REMOVED: Delivery.DIGEST,
    NotificationKind.TASK_ASSIGNED: Delivery.DIGEST,
    NotificationKind.TASK_DUE_TOMORROW: Delivery.DIGEST,
    NotificationKind.TASK_OVERDUE: Delivery.DIGEST,
    NotificationKind.HOUSE_BAN_ENDED: Delivery.IMMEDIATE,
    NotificationKind.SAFETY_PLAN_REVIEW_DUE: Delivery.DIGEST,
    NotificationKind.ERASURE_DEADLINE: Delivery.IMMEDIATE,
    NotificationKind.ACCESS_REQUEST_DEADLINE: Delivery.IMMEDIATE,
    NotificationKind.FOLLOW_UP_DUE: Delivery.DIGEST,
}

# Always sent at once, whatever the recipient chose: a crisis referral to the team leads and
# the legal deadlines of a huisverbod to the coordinator (they are only ever sent to them).
MANDATORY_IMMEDIATE = frozenset({
    NotificationKind.REFERRAL_CRISIS,
    NotificationKind.HOUSE_BAN_REACHABILITY_DUE,
    NotificationKind.HOUSE_BAN_EXPIRY_NEAR,
    NotificationKind.HOUSE_BAN_EXTENSION_PENDING,
})


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        # A time-based notification comes once per kind, object and due moment; event
        # notifications have no due key (NULLs never collide).
        UniqueConstraint("recipient_id", "kind", "subject_type", "subject_id", "due_key",
                         name="uq_notifications_once"),
        Index("ix_notifications_inbox", "recipient_id", "read_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(enum_column_type(NotificationKind, "notification_kind"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    case_reference: Mapped[str | None] = mapped_column(String(20))
    subject_type: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int] = mapped_column(Integer)
    due_key: Mapped[str | None] = mapped_column(String(40))
    link: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Waiting for the recipient's daily overview e-mail.
    digest_pending: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class NotificationSettings(Base):
    """Where and when a user wants e-mail. The address is a staff work address, not client data."""

    __tablename__ = "notification_settings"
    __table_args__ = (CheckConstraint("digest_hour BETWEEN 0 AND 23", name="digest_hour_range"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254))
    digest_hour: Mapped[int] = mapped_column(Integer, default=7)
    last_digest_on: Mapped[date | None] = mapped_column(Date)


class NotificationPreference(Base):
    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[NotificationKind] = mapped_column(enum_column_type(NotificationKind, "preference_kind"))
    delivery: Mapped[Delivery] = mapped_column(enum_column_type(Delivery, "delivery"))


class OutboxStatus(LabelledEnum):
    PENDING = ("pending", "Wacht op verzending")
    SENDING = ("sending", "Wordt verzonden")
    SENT = ("sent", "Verzonden")
    FAILED = ("failed", "Mislukt, niet meer geprobeerd")
    NO_ADDRESS = ("no_address", "Geen e-mailadres bekend")
    WITHDRAWN = ("withdrawn", "Niet verzonden: ontvanger heeft geen toegang meer")


class OutboxMessage(Base):
    """One e-mail, written in the same transaction as what caused it, sent by the worker.

    A worker claims a row by an atomic conditional UPDATE (``status`` to sending with a lease);
    a claim whose lease ran out (a worker killed mid-send) is taken over and sent again with the
    same ``message_id``, so the one message in flight may arrive twice and is recognisable."""

    __tablename__ = "email_outbox"
    __table_args__ = (Index("ix_email_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"))
    is_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(enum_column_type(OutboxStatus, "outbox_status"),
                                                 default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The error class and SMTP code only: never an address or message text.
    last_error: Mapped[str | None] = mapped_column(String(200))

    recipient: Mapped["User"] = relationship()  # noqa: F821
