"""API tokens: issued per Veilig Thuis organisation by an administrator, shown once, revocable.

Only the SHA-256 digest of a token is stored. A token carries 256 random bits, so unlike a
password it needs no slow or keyed hash: nobody can guess their way back from the digest.
"""
from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select

from ..accounts.models import User
from ..audit.models import AuditAction
from ..audit.trail import record
from ..db import db
from ..errors import InvalidInput
from ..organisations.models import Organisation, OrganisationKind
from ..timeutil import utcnow
from .models import ApiToken

TOKEN_PREFIX = "mda_"
TOKEN_PATTERN = re.compile(r"^mda_[A-Za-z0-9_-]{43}$")
MAX_LABEL = 80


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(organisation: Organisation | None, *, label: str | None, by: User) -> tuple[ApiToken, str]:
    """A new token for the organisation; the plaintext is returned once and never stored."""
    if organisation is None or organisation.kind != OrganisationKind.VEILIG_THUIS or not organisation.active:
        raise InvalidInput("Kies een actieve Veilig Thuis-organisatie: alleen Veilig Thuis verwijst via de API.",
                           field="organisation")
    label = (label or "").strip()
    if not label:
        raise InvalidInput("Geef de sleutel een naam, bijvoorbeeld het systeem dat hem gebruikt.", field="label")
    if len(label) > MAX_LABEL:
        raise InvalidInput(f"Een naam heeft hoogstens {MAX_LABEL} tekens.", field="label")
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(organisation_id=organisation.id, label=label, token_hash=digest(plaintext),
                     token_prefix=plaintext[:10], created_by_id=by.id, created_at=utcnow())
    db.session.add(token)
    db.session.flush()
    record(AuditAction.CREATE, by=by, object_type="api_token", object_id=token.id,
           detail=f"API-sleutel uitgegeven aan organisatie {organisation.id}")
    return token, plaintext


def revoke_token(token: ApiToken, *, by: User) -> bool:
    """Revoke at once; False when it was already revoked."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    token.revoked_by_id = by.id
    db.session.flush()
    record(AuditAction.CHANGE, by=by, object_type="api_token", object_id=token.id, detail="API-sleutel ingetrokken")
    return True


def find_token(presented: str) -> ApiToken | None:
    """The stored token the presented one belongs to, revoked or not; None when unknown."""
    if not TOKEN_PATTERN.match(presented):
        return None
    return db.session.scalars(select(ApiToken).where(ApiToken.token_hash == digest(presented))).first()


def all_tokens() -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.revoked_at.is_not(None),
                                                             ApiToken.created_at.desc())))
