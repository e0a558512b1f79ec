"""Session identity: the cookie names the user, their session generation and a session token.

Bumping ``User.session_generation`` (password change, disabling, administrator
reset) ends every session of that user at their next request. Logging out forgets the
session's token on the server (``login_sessions``), which ends that session only: a copy
of its cookie is refused afterwards, while the user's other sessions go on.
"""
from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import timedelta

from flask import current_app, session
from flask_login import UserMixin, login_user
from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import joinedload

from ..accounts.models import User
from ..db import db
from ..timeutil import utcnow
from .models import LoginSession


class SessionUser(UserMixin):
    """What Flask-Login holds for a request; the account itself is ``.account``."""

    def __init__(self, account: User, token: str):
        self.account = account
        self.token = token

    def get_id(self) -> str:
        return f"{self.account.id}:{self.account.session_generation}:{self.token}"

    @property
    def is_active(self) -> bool:
        return self.account.active


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@functools.cache
def _account_of_session():  # noqa: ANN202
    """Every request loads its account: one query with its roles and the session's row. Built once,
    at the first request (building it at import would configure the mappers before every model is
    imported): a new statement per request cost more than running it (coercing its parts and
    hashing a new cache key)."""
    return (select(User).join(LoginSession, LoginSession.user_id == User.id)
            .where(User.id == bindparam("user_id"), LoginSession.token_digest == bindparam("digest"))
            .options(joinedload(User.roles)))


def load_user_from_session_id(session_id: str) -> SessionUser | None:
    user_id, generation, token = (session_id.split(":") + ["", ""])[:3]
    if not (user_id.isdigit() and generation.isdigit() and token) or len(user_id) > 10:
        return None
    account = db.session.scalars(_account_of_session(),
                                 {"user_id": int(user_id), "digest": _digest(token)}).unique().first()
    if account is None or not account.active or account.session_generation != int(generation):
        return None
    return SessionUser(account, token)


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
    """A fresh session id at login (no fixation), with its clock started and its row on the server.
    Rows of sessions past the absolute lifetime (anyone's: they can no longer be used) are pruned
    here, so the table holds only sessions that may still be live."""
    session.clear()
    token = secrets.token_urlsafe(32)
    started = utcnow()
    lifetime = timedelta(hours=current_app.extensions["mda.settings"].session_absolute_hours)
    db.session.execute(delete(LoginSession).where(LoginSession.created_at < started - lifetime))
    db.session.add(LoginSession(user_id=account.id, token_digest=_digest(token), created_at=started))
    login_user(SessionUser(account, token))
    session["signed_in_at"] = started.timestamp()
    session["seen_at"] = started.timestamp()


def end_session(user: SessionUser) -> None:
    """Forget this session's token: its cookie, and every copy of it, no longer logs anyone in."""
    db.session.execute(delete(LoginSession).where(LoginSession.token_digest == _digest(user.token)))


def session_expired(idle_minutes: int, absolute_hours: int) -> bool:
    now = utcnow().timestamp()
    signed_in_at = float(session.get("signed_in_at", 0))
    seen_at = float(session.get("seen_at", 0))
    return now - seen_at > idle_minutes * 60 or now - signed_in_at > absolute_hours * 3600


# The idle clock is moved on at most once a minute. Between two moves the session cookie is left as
# it is, so most requests neither sign a new cookie nor send one. ``seen_at`` then lies up to this
# long before the user's last request: the idle limit ends the session at most this much early,
# never late, and ``idle_seconds_left`` tells the page's warning exactly when it ends.
SEEN_AT_GRANULARITY_SECONDS = 60


def note_activity(force: bool = False) -> None:
    now = utcnow().timestamp()
    if force or now - float(session.get("seen_at", 0)) >= SEEN_AT_GRANULARITY_SECONDS:
        session["seen_at"] = now


def idle_seconds_left(idle_minutes: int) -> int:
    """Seconds until the idle limit ends this session if nothing else is done."""
    return max(0, int(idle_minutes * 60 - (utcnow().timestamp() - float(session.get("seen_at", 0)))))
