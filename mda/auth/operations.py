"""Checking credentials. Unknown user and wrong password look the same from outside."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from ..accounts.models import User
from ..audit.models import AuditAction, AuditOutcome
from ..audit.trail import record
from ..db import db
from ..security.passwords import Passwords


def _passwords() -> Passwords:
    return current_app.extensions["mda.passwords"]


def authenticate(username: str, password: str) -> User | None:
    user = db.session.scalars(select(User).where(User.username == username.strip().lower())).first()
    valid = _passwords().verify(user.password_hash if user else None, password)
    if user is None or not valid or not user.active:
        record(AuditAction.LOGIN_FAILED, by=user, outcome=AuditOutcome.FAILED,
               username=None if user else "(onbekend)")
        return None
    if _passwords().needs_rehash(user.password_hash):
        user.password_hash = _passwords().hash(password)
    record(AuditAction.LOGIN, by=user)
    return user


def set_password(user: User, password: str) -> None:
    user.password_hash = _passwords().hash(password)
    user.session_generation += 1
