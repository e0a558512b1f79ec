"""Reads of referrals for the lists, the start page and the menu. Nothing here decrypts."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, case as sql_case, func, select
from sqlalchemy.orm import joinedload

from ..db import db
from ..paging import Page, page_of
from .models import Referral, ReferralStatus, Urgency

DECIDED = (ReferralStatus.ACCEPTED, ReferralStatus.DECLINED, ReferralStatus.REDIRECTED)
LIST_PAGE_SIZE = 25


def _shown_in_lists() -> tuple[Any, ...]:
    """The lists name each referral's organisation and municipality: loaded with it, not one by one.
    (Built per call: at import the other models' mappers may not exist yet.)"""
    return joinedload(Referral.organisation), joinedload(Referral.municipality)


def _by_urgency() -> Select:
    """Submitted referrals: crisis first, then urgent, then regular; within each the longest waiting first."""
    rank = sql_case((Referral.urgency == Urgency.CRISIS, 0), (Referral.urgency == Urgency.URGENT, 1), else_=2)
    return (select(Referral).where(Referral.status == ReferralStatus.SUBMITTED)
            .order_by(rank, Referral.submitted_at, Referral.id))


def triage_queue_by_urgency(limit: int | None = None) -> list[Referral]:
    query = _by_urgency()
    if limit is not None:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def triage_queue_page(number: int) -> Page[Referral]:
    """The triage queue a page at a time, in the start page's order: a crisis referral is never
    behind pages of regular ones that waited longer."""
    return page_of(_by_urgency(), number, LIST_PAGE_SIZE, options=_shown_in_lists())


def referrals_page(organisation_id: int | None, number: int) -> Page[Referral]:
    """The organisation's referrals, newest first, a page at a time: the list grows for years."""
    if organisation_id is None:
        return Page(items=[], total=0, number=1, size=LIST_PAGE_SIZE)
    return page_of(select(Referral).where(Referral.organisation_id == organisation_id)
                   .order_by(Referral.created_at.desc(), Referral.id.desc()),
                   number, LIST_PAGE_SIZE, options=_shown_in_lists())


def triage_count_query() -> Select:
    return select(func.count()).select_from(Referral).where(Referral.status == ReferralStatus.SUBMITTED)


def triage_count() -> int:
    return db.session.scalar(triage_count_query()) or 0


def recently_decided(limit: int = 20) -> list[Referral]:
    return list(db.session.scalars(
        select(Referral).where(Referral.status.in_(DECIDED)).options(joinedload(Referral.organisation))
        .order_by(Referral.decided_at.desc(), Referral.id.desc()).limit(limit)))


def decisions_since(organisation_id: int | None, since: datetime | None, limit: int = 50) -> list[Referral]:
    """Decisions on the organisation's referrals taken after ``since`` (all, if never), newest first."""
    if organisation_id is None:
        return []
    query = select(Referral).where(Referral.organisation_id == organisation_id, Referral.status.in_(DECIDED))
    if since is not None:
        query = query.where(Referral.decided_at > since)
    return list(db.session.scalars(query.order_by(Referral.decided_at.desc(), Referral.id.desc()).limit(limit)))
