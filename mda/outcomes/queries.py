"""Reads of the outcomes area."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from ..cases.models import Case
from ..db import db
from .models import FollowUpCheck


def pending_follow_up(case_id: int) -> FollowUpCheck | None:
    """The case's follow-up check that is still to be recorded, if any."""
    return db.session.scalars(select(FollowUpCheck).where(FollowUpCheck.case_id == case_id,
                                                          FollowUpCheck.recorded_at.is_(None))
                              .order_by(FollowUpCheck.due_on)).first()


def follow_ups_due(case_ids: Any, due_until: date) -> list[tuple[FollowUpCheck, Case]]:
    """Follow-up checks still to be recorded and due by ``due_until``, of the cases among
    ``case_ids`` (a SELECT of case ids the caller decided the user may see); earliest due first."""
    rows = db.session.execute(
        select(FollowUpCheck, Case).join(Case, Case.id == FollowUpCheck.case_id)
        .where(FollowUpCheck.recorded_at.is_(None), FollowUpCheck.due_on <= due_until,
               FollowUpCheck.case_id.in_(case_ids))
        .order_by(FollowUpCheck.due_on, FollowUpCheck.id)).all()
    return [(check, case) for check, case in rows]
