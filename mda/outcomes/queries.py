"""Reads of the outcomes area."""
from __future__ import annotations

from sqlalchemy import select

from ..db import db
from .models import FollowUpCheck


def pending_follow_up(case_id: int) -> FollowUpCheck | None:
    """The case's follow-up check that is still to be recorded, if any."""
    return db.session.scalars(select(FollowUpCheck).where(FollowUpCheck.case_id == case_id,
                                                          FollowUpCheck.recorded_at.is_(None))
                              .order_by(FollowUpCheck.due_on)).first()
