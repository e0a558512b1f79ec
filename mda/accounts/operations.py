"""Creating and administering accounts and granting roles; every change is audited."""
from __future__ import annotations

from typing import Iterable

from flask import current_app
from sqlalchemy import select

from ..audit.models import AuditAction
from ..audit.trail import record
from ..db import db
from ..errors import InvalidInput
from ..organisations.models import Organisation
from ..timeutil import utcnow
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


# --- Administration by the functional administrator ------------------------------------------
# Each verb validates everything first and only then changes the account, so a refused change
# leaves nothing half-done. Audit details name what changed, never names, passwords or secrets.

def _is_self(user: User, by: User | None) -> bool:
    return by is not None and by.id == user.id


def _audit(action: AuditAction, user: User, detail: str, by: User | None) -> None:
    record(action, by=by, object_type="user", object_id=user.id, detail=detail,
           username=None if by else "(systeem)")


def _roles_detail(roles: Iterable[Role]) -> str:
    return "rollen: " + ",".join(sorted(str(role) for role in roles))


def update_user(user: User, *, display_name: str, organisation: Organisation | None,
                roles: Iterable[Role], by: User | None, work_contact: str | None = None) -> User:
    """``work_contact`` None leaves it as it is; an empty text removes it."""
    display_name = display_name.strip()
    new_roles = list(dict.fromkeys(Role(role) for role in roles))
    if not display_name:
        raise InvalidInput("Vul een naam in.", field="display_name")
    if not new_roles:
        raise InvalidInput("Kies minstens één rol.", field="roles")
    if _is_self(user, by) and user.has_role(Role.ADMIN) and Role.ADMIN not in new_roles:
        raise InvalidInput("U kunt uw eigen rol van functioneel beheerder niet intrekken. "
                           "Vraag dat aan een andere beheerder.", field="roles")
    if (organisation is not None and not organisation.active
            and organisation.id != user.organisation_id):
        raise InvalidInput("Deze organisatie is niet meer actief.", field="organisation")

    changed: list[str] = []
    if display_name != user.display_name:
        user.display_name = display_name
        changed.append("naam")
    if (organisation.id if organisation else None) != user.organisation_id:
        user.organisation = organisation
        changed.append("organisatie")
    if work_contact is not None and (" ".join(work_contact.split()) or None) != user.work_contact:
        user.work_contact = " ".join(work_contact.split()) or None
        changed.append("contactgegevens")
    if changed:
        _audit(AuditAction.ACCOUNT_CHANGE, user, "account gewijzigd: " + ", ".join(changed), by)

    old_roles = user.role_set
    if set(new_roles) != old_roles:
        # Keep the existing assignments (and their granted_at); add and remove only the difference,
        # so the unique (user_id, role) constraint never sees a delete and insert of the same role.
        user.roles = ([assignment for assignment in user.roles if assignment.role in new_roles]
                      + [UserRole(role=role) for role in new_roles if role not in old_roles])
        _audit(AuditAction.ROLE_CHANGE, user, _roles_detail(new_roles), by)
    db.session.flush()
    return user


def set_active(user: User, active: bool, *, by: User | None) -> User:
    if not active and _is_self(user, by):
        raise InvalidInput("U kunt uw eigen account niet uitschakelen.", field="active")
    if user.active == active:
        return user
    user.active = active
    if not active:
        user.session_generation += 1  # every running session of this user ends at its next request
    _audit(AuditAction.ACCOUNT_CHANGE, user, "account ingeschakeld" if active else "account uitgeschakeld", by)
    db.session.flush()
    return user


def reset_mfa(user: User, *, by: User | None) -> User:
    """Forget the second factor; the user sets it up again at the next login."""
    user.totp_secret = None
    user.mfa_enrolled_at = None
    user.totp_last_step = None
    user.session_generation += 1
    _audit(AuditAction.MFA_CHANGE, user, "tweestapsverificatie hersteld door beheerder", by)
    db.session.flush()
    return user


def reset_password(user: User, new_password: str, *, by: User | None) -> User:
    # Hashing enforces the password policy and raises InvalidInput(field="password") first.
    password_hash = current_app.extensions["mda.passwords"].hash(new_password)
    user.password_hash = password_hash
    user.password_changed_at = utcnow()
    user.failed_logins = 0
    user.locked_until = None
    user.session_generation += 1
    _audit(AuditAction.ACCOUNT_CHANGE, user, "wachtwoord opnieuw ingesteld door beheerder", by)
    db.session.flush()
    return user
