"""Session identity: the cookie names the user and their session generation.

Bumping ``User.session_generation`` (password change, disabling, administrator
reset) ends every session of that user at their next request.
"""
from __future__ import annotations

from flask import session
from flask_login import UserMixin, login_user
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..db import db
from ..timeutil import utcnow


class SessionUser(UserMixin):
    """What Flask-Login holds for a request; the account itself is ``.account``."""

    def __init__(self, account: User):
        self.account = account

    def get_id(self) -> str:
        return f"{self.account.id}:{self.account.session_generation}"

    @property
    def is_active(self) -> bool:
        return self.account.active


_WITH_ROLES = (joinedload(User.roles),)


def load_user_from_session_id(session_id: str) -> SessionUser | None:
    user_id, _, generation = session_id.partition(":")
    if not (user_id.isdigit() and generation.isdigit()):
        return None
    # Every request loads its account: one query with its roles instead of two (the option is
    # built once: a new one per request made SQLAlchemy rebuild its cache key every time).
    account = db.session.get(User, int(user_id), options=_WITH_ROLES)
    if account is None or not account.active or account.session_generation != int(generation):
        return None
    return SessionUser(account)


# Between the password and the second factor the visitor is not logged in: only this
# marker in the session says whose code to expect, and it expires quickly.
PENDING_KEY = "pending_login"
PENDING_SECONDS = 300


def begin_pending_login(account: User) -> None:
    session.clear()
    session[PENDING_KEY] = {"user_id": account.id, "generation": account.session_generation,
                            "since": utcnow().timestamp()}


def pending_account() -> User | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    if utcnow().timestamp() - float(pending.get("since", 0)) > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None
    account = db.session.get(User, int(pending.get("user_id", 0)))
    if account is None or not account.active or account.session_generation != pending.get("generation"):
        return None
    return account


def start_session(account: User) -> None:
    """A fresh session id at login (no fixation), with its clock started."""
    session.clear()
    login_user(SessionUser(account))
    now = utcnow().timestamp()
    session["signed_in_at"] = now
    session["seen_at"] = now


def session_expired(idle_minutes: int, absolute_hours: int) -> bool:
    now = utcnow().timestamp()
    signed_in_at = float(session.get("signed_in_at", 0))
    seen_at = float(session.get("seen_at", 0))
    return now - seen_at > idle_minutes * 60 or now - signed_in_at > absolute_hours * 3600


def note_activity() -> None:
    session["seen_at"] = utcnow().timestamp()
