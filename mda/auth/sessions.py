"""Session identity: the cookie names the user and their session generation.

Bumping ``User.session_generation`` (password change, disabling, administrator
reset) ends every session of that user at their next request.
"""
from __future__ import annotations

from flask_login import UserMixin

from ..accounts.models import User
from ..db import db


class SessionUser(UserMixin):
    """What Flask-Login holds for a request; the account itself is ``.account``."""

    def __init__(self, account: User):
        self.account = account

    def get_id(self) -> str:
        return f"{self.account.id}:{self.account.session_generation}"

    @property
    def is_active(self) -> bool:
        return self.account.active


def load_user_from_session_id(session_id: str) -> SessionUser | None:
    user_id, _, generation = session_id.partition(":")
    if not (user_id.isdigit() and generation.isdigit()):
        return None
    account = db.session.get(User, int(user_id))
    if account is None or not account.active or account.session_generation != int(generation):
        return None
    return SessionUser(account)
