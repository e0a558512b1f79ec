"""Retention (AVG art. 5(1)(e)): remove the personal data of closed files once their term is over.

What goes: every ciphertext and blind-index value of an expired case, in the case's own rows and
in its history tables (phase, AVE and status changes, order events, journal, plans, referral).
What stays: the rows themselves with their non-identifying facts, because the steering metrics
count them (the case with its phase, AVE, dates and route; persons with role, age band and gender;
orders and their events; status changes). A purged case can never be decrypted again: the
ciphertext is gone, not only the key.

The audit trail is not shortened. It holds ids and codes only, and its keyed hash chain starts at
the genesis record: removing its oldest records would make ``mda audit verify`` fail. The
configured audit term is a minimum (NEN 7513: at least five years); the purge reports how many
records are past it.

Settings (``current_app.config``, so ``MDA_RETENTION_...`` in the environment):
- ``RETENTION_CLOSED_CASE_YEARS`` (default 20): years after closure;
- ``RETENTION_UNACCEPTED_REFERRAL_YEARS`` (default 20): years after a referral was declined or
  redirected without becoming a case (or after a draft was started);
- ``RETENTION_AUDIT_YEARS`` (default 5, at least 5).
Consultation questions carry no personal data and are kept for the pilot's evaluation.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone

from flask import current_app
from sqlalchemy import func, or_, select

from ..audit.models import AuditAction, AuditEvent
from ..audit.trail import record
from ..cases.models import Case, CaseStatus
from ..db import db
from ..errors import DomainError
from ..referrals.models import Referral, ReferralStatus
from ..timeutil import today
from .scrub import case_scoped_models, holds_personal_data, rows_of_cases, rows_of_referrals, wipe

SYSTEM = "(systeem)"
PURGE_OBJECT = "retention_purge"
MINIMUM_AUDIT_YEARS = 5


class RetentionConfigError(DomainError):
    pass


@dataclass(frozen=True)
class RetentionPolicy:
    closed_case_years: int
    unaccepted_referral_years: int
    audit_years: int

    @classmethod
    def from_config(cls) -> "RetentionPolicy":
        config = current_app.config

        def years(name: str, default: int, minimum: int = 1) -> int:
            value = config.get(name, default)
            try:
                number = int(value)
            except (TypeError, ValueError) as exc:
                raise RetentionConfigError(f"{name} moet een geheel aantal jaren zijn.") from exc
            if number < minimum:
                raise RetentionConfigError(f"{name} moet minstens {minimum} jaar zijn.")
            return number

        return cls(closed_case_years=years("RETENTION_CLOSED_CASE_YEARS", 20),
                   unaccepted_referral_years=years("RETENTION_UNACCEPTED_REFERRAL_YEARS", 20),
                   audit_years=years("RETENTION_AUDIT_YEARS", MINIMUM_AUDIT_YEARS, MINIMUM_AUDIT_YEARS))


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


@dataclass
class PurgeItem:
    """One expired file: named by case reference (or referral number) and a count, nothing else."""

    label: str
    records: int
    case_id: int | None = None
    referral_id: int | None = None


@dataclass
class PurgePlan:
    policy: RetentionPolicy
    cases: list[PurgeItem] = field(default_factory=list)
    referrals: list[PurgeItem] = field(default_factory=list)
    audit_records_past_term: int = 0

    @property
    def records(self) -> int:
        return sum(item.records for item in self.cases + self.referrals)


def _case_rows(case_ids: list[int]) -> list[object]:
    rows: list[object] = []
    for model in case_scoped_models():
        rows.extend(db.session.scalars(rows_of_cases(model, case_ids)))
    return rows


def _referral_rows(referral_ids: list[int]) -> list[object]:
    rows: list[object] = []
    for model in case_scoped_models():
        query = rows_of_referrals(model, referral_ids)
        if query is not None:
            rows.extend(db.session.scalars(query))
    return rows


def plan_purge(policy: RetentionPolicy | None = None) -> PurgePlan:
    """What has expired and still holds personal data (a purged file is not listed again)."""
    policy = policy or RetentionPolicy.from_config()
    day = today()
    plan = PurgePlan(policy)
    case_cutoff = years_before(day, policy.closed_case_years)
    expired_cases = db.session.execute(
        select(Case.id, Case.reference).where(Case.status == CaseStatus.CLOSED, Case.closed_on <= case_cutoff)
        .order_by(Case.closed_on, Case.id)).all()
    for case_id, reference in expired_cases:
        count = sum(1 for row in _case_rows([case_id]) if holds_personal_data(row))
        if count:
            plan.cases.append(PurgeItem(reference, count, case_id=case_id))

    referral_cutoff = _start_of(years_before(day, policy.unaccepted_referral_years))
    expired_referrals = db.session.scalars(
        select(Referral.id).where(Referral.case_id.is_(None), or_(
            Referral.status.in_([ReferralStatus.DECLINED, ReferralStatus.REDIRECTED])
            & (Referral.decided_at <= referral_cutoff),
            (Referral.status == ReferralStatus.DRAFT) & (Referral.created_at <= referral_cutoff),
        )).order_by(Referral.id)).all()
    for referral_id in expired_referrals:
        count = sum(1 for row in _referral_rows([referral_id]) if holds_personal_data(row))
        if count:
            plan.referrals.append(PurgeItem(f"verwijzing {referral_id}", count, referral_id=referral_id))

    audit_cutoff = _start_of(years_before(day, policy.audit_years))
    plan.audit_records_past_term = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.occurred_at < audit_cutoff)) or 0
    return plan


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def purge(dry_run: bool = False) -> PurgePlan:
    """Anonymise every expired file, one audit record per file; the caller commits.

    With ``dry_run`` nothing changes except one audit record that the dry run took place.
    """
    plan = plan_purge()
    if dry_run:
        record(AuditAction.READ, username=SYSTEM, object_type=PURGE_OBJECT,
               detail=f"proefdraai: {len(plan.cases)} casussen, {len(plan.referrals)} verwijzingen, "
                      f"{plan.records} records")
        return plan
    for item in plan.cases:
        wiped = sum(1 for row in _case_rows([item.case_id]) if wipe(row))
        db.session.flush()
        record(AuditAction.DELETE, username=SYSTEM, case_id=item.case_id, object_type=PURGE_OBJECT,
               object_id=item.case_id, detail=f"bewaartermijn verstreken: {wiped} records geanonimiseerd")
    for item in plan.referrals:
        wiped = sum(1 for row in _referral_rows([item.referral_id]) if wipe(row))
        db.session.flush()
        record(AuditAction.DELETE, username=SYSTEM, object_type=PURGE_OBJECT, object_id=item.referral_id,
               detail=f"bewaartermijn verstreken (verwijzing): {wiped} records geanonimiseerd")
    from ..auth.resume import purge_old_drafts
    purge_old_drafts()  # text kept after an ended session, never collected by its author
    record(AuditAction.DELETE, username=SYSTEM, object_type=PURGE_OBJECT,
           detail=f"opschoning: {len(plan.cases)} casussen, {len(plan.referrals)} verwijzingen, "
                  f"{plan.records} records; auditrecords bewaard")
    return plan



def release_old_pages() -> None:
    """After a committed purge or erasure: make SQLite drop old page images from its WAL file.

    ``secure_delete`` overwrites freed space in the database file, but the write-ahead log keeps
    earlier versions of changed pages until a checkpoint. PostgreSQL keeps dead row versions until
    VACUUM (autovacuum, or run ``VACUUM`` after a large purge).
    """
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
