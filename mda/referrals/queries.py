"""Reads of referrals for the start page and the menu. Nothing here decrypts."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, case as sql_case, func, select

from ..db import db
from .models import Referral, ReferralStatus, Urgency

DECIDED = (ReferralStatus.ACCEPTED, ReferralStatus.DECLINED, ReferralStatus.REDIRECTED)


def triage_queue_by_urgency(limit: int | None = None) -> list[Referral]:
    """Submitted referrals: crisis first, then urgent, then regular; within each the longest waiting first."""
    rank = sql_case((Referral.urgency == Urgency.CRISIS, 0), (Referral.urgency == Urgency.URGENT, 1), else_=2)
    query = (select(Referral).where(Referral.status == ReferralStatus.SUBMITTED)
             .order_by(rank, Referral.submitted_at, Referral.id))
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def triage_count_query() -> Select:
    return select(func.count()).select_from(Referral).where(Referral.status == ReferralStatus.SUBMITTED)


def triage_count() -> int:
    return db.session.scalar(triage_count_query()) or 0


def decisions_since(organisation_id: int | None, since: datetime | None, limit: int = 50) -> list[Referral]:
    """Decisions on the organisation's referrals taken after ``since`` (all, if never), newest first."""
    if organisation_id is None:
        return []
    query = select(Referral).where(Referral.organisation_id == organisation_id, Referral.status.in_(DECIDED))
    if since is not None:
        query = query.where(Referral.decided_at > since)
    return list(db.session.scalars(query.order_by(Referral.decided_at.desc(), Referral.id.desc()).limit(limit)))
