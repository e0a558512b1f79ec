"""Checking credentials, lockout and the end of sessions.

Unknown user, wrong password, wrong code and a locked account all look the
same from outside; the audit trail records what really happened.
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from ..accounts.models import User
from ..audit.models import AuditAction, AuditOutcome
from ..audit.trail import record
from ..db import db
from ..security.passwords import Passwords
from ..timeutil import utcnow
from . import mfa

FAILURES_BEFORE_LOCKOUT = 5
MAX_LOCKOUT_MINUTES = 60


def _passwords() -> Passwords:
    return current_app.extensions["mda.passwords"]


def is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def register_failure(user: User, reason: str) -> None:
    """Count a failed attempt; from the fifth on the account is locked for a growing time."""
    user.failed_logins += 1
    if user.failed_logins >= FAILURES_BEFORE_LOCKOUT:
        minutes = min(2 ** (user.failed_logins - FAILURES_BEFORE_LOCKOUT), MAX_LOCKOUT_MINUTES)
        user.locked_until = utcnow() + timedelta(minutes=minutes)
    record(AuditAction.LOGIN_FAILED, by=user, outcome=AuditOutcome.FAILED, detail=reason)


def check_password(username: str, password: str) -> User | None:
    """First factor. Returns the account only when the password is right and it may log in."""
    lookup = username.strip().lower()
    # A NUL cannot be in any username, and PostgreSQL refuses it in a query parameter (DataError).
    user = None if "\x00" in lookup else db.session.scalars(select(User).where(User.username == lookup)).first()
    valid = _passwords().verify(user.password_hash if user else None, password)
    if user is None:
        record(AuditAction.LOGIN_FAILED, outcome=AuditOutcome.FAILED, username="(onbekend)",
               detail="onbekende gebruiker")
        return None
    if not user.active:
        record(AuditAction.LOGIN_FAILED, by=user, outcome=AuditOutcome.DENIED, detail="account uitgeschakeld")
        return None
    if is_locked(user):
        record(AuditAction.LOGIN_FAILED, by=user, outcome=AuditOutcome.DENIED, detail="account geblokkeerd")
        return None
    if not valid:
        register_failure(user, "onjuist wachtwoord")
        return None
    if _passwords().needs_rehash(user.password_hash):
        user.password_hash = _passwords().hash(password)
    return user


def check_second_factor(user: User, code: str) -> bool:
    if not user.active or is_locked(user):
        record(AuditAction.LOGIN_FAILED, by=user, outcome=AuditOutcome.DENIED, detail="account geblokkeerd")
        return False
    if not mfa.accept_code(user, code):
        register_failure(user, "onjuiste of hergebruikte code")
        return False
    return True


def start_enrolment(user: User) -> str:
    """The secret shown as a QR code until the first code confirms it."""
    if user.mfa_enrolled_at is None and user.totp_secret is None:
        user.totp_secret = mfa.new_secret()
    return user.totp_secret


def complete_login(user: User, *, enrolled_now: bool = False) -> None:
    user.failed_logins = 0
    user.locked_until = None
    user.previous_login_at, user.last_login_at = user.last_login_at, utcnow()
    if enrolled_now:
        user.mfa_enrolled_at = utcnow()
        record(AuditAction.MFA_CHANGE, by=user, object_type="user", object_id=user.id,
               detail="tweestapsverificatie gekoppeld")
    record(AuditAction.LOGIN, by=user)


def set_password(user: User, password: str) -> None:
    user.password_hash = _passwords().hash(password)
    user.session_generation += 1  # every other session of this user ends
