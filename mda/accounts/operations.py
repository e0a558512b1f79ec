"""Creating accounts and granting roles; every change is audited."""
from __future__ import annotations

from typing import Iterable

from flask import current_app
from sqlalchemy import select

from ..audit.models import AuditAction
from ..audit.trail import record
from ..db import db
from ..errors import InvalidInput
from ..organisations.models import Organisation
from .models import Role, User, UserRole


def create_user(*, username: str, display_name: str, password: str, roles: Iterable[Role],
                organisation: Organisation | None, by: User | None) -> User:
    username = username.strip().lower()
    if not username or not display_name.strip():
        raise InvalidInput("Vul een gebruikersnaam en een naam in.", field="username")
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise InvalidInput("Deze gebruikersnaam bestaat al.", field="username")
    user = User(username=username, display_name=display_name.strip(), organisation=organisation,
                password_hash=current_app.extensions["mda.passwords"].hash(password))
    user.roles = [UserRole(role=role) for role in dict.fromkeys(roles)]
    db.session.add(user)
    db.session.flush()
    record(AuditAction.ACCOUNT_CHANGE, by=by, object_type="user", object_id=user.id, detail="account aangemaakt",
           username=None if by else "(systeem)")
    record(AuditAction.ROLE_CHANGE, by=by, object_type="user", object_id=user.id,
           detail="rollen: " + ",".join(sorted(str(role) for role in user.role_set)),
           username=None if by else "(systeem)")
    return user
