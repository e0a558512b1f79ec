"""Where personal data lives, and wiping it: shared by the retention purge and erasure.

Every model with encrypted fields (``ENCRYPTED_FIELDS``) is either reachable from a case (its own
``case_id``, or its order's ``house_ban_id``) or named in ``NOT_CASE_DATA`` with the reason; a
test fails when a new model is neither, so a purge can never silently miss a table.
"""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import Select, select

from ..db import db
from ..security.fields import ENCRYPTED_FIELDS, EncryptedField

# Models with encrypted fields that do not belong to a family's file.
NOT_CASE_DATA = {
    "users": "accounts of staff (the TOTP secret); removed with the account, not with a case",
    "consultation_questions": "carry no personal data by rule; kept for the pilot's evaluation",
    "form_drafts": "what a form held when its session ended, for its author only; removed when it is back "
                   "in the form and by the retention purge after a day (mda.auth.resume)",
}


def case_scoped_models() -> list[type]:
    return [model for model in ENCRYPTED_FIELDS if model.__tablename__ not in NOT_CASE_DATA]


def rows_of_cases(model: type, case_ids: Iterable[int]) -> Select[Any]:
    """The rows of ``model`` that belong to the given cases."""
    case_ids = list(case_ids)
    if model.__tablename__ == "cases":
        return select(model).where(model.id.in_(case_ids))
    if hasattr(model, "case_id"):
        return select(model).where(model.case_id.in_(case_ids))
    if hasattr(model, "house_ban_id"):
        from ..huisverbod.models import HouseBan
        return select(model).join(HouseBan, HouseBan.id == model.house_ban_id).where(HouseBan.case_id.in_(case_ids))
    raise LookupError(f"{model.__tablename__} has encrypted fields but no way to its case; "
                      "add it to mda.lifecycle.scrub")


def rows_of_referrals(model: type, referral_ids: Iterable[int]) -> Select[Any] | None:
    referral_ids = list(referral_ids)
    if model.__tablename__ == "referrals":
        return select(model).where(model.id.in_(referral_ids))
    if hasattr(model, "referral_id") and model.__tablename__ not in NOT_CASE_DATA:
        return select(model).where(model.referral_id.in_(referral_ids))
    return None


def holds_personal_data(row: Any) -> bool:
    fields: list[EncryptedField] = ENCRYPTED_FIELDS.get(type(row), [])
    if any(getattr(row, field.column_attribute) is not None for field in fields):
        return True
    if getattr(row, "holds_content", False):  # an attachment whose encrypted chunks still exist
        return True
    return any(getattr(row, name, None) is not None for name in ("bsn_index", "name_birth_index"))


def wipe(row: Any, only: Iterable[str] | None = None) -> bool:
    """Drop the ciphertexts (and blind-index values) of ``row``; True when something was there.

    The ciphertext column is set to NULL directly, not through the descriptor, so no blind
    index is recomputed and no key is needed: what is gone cannot be decrypted by any key.
    """
    fields: list[EncryptedField] = ENCRYPTED_FIELDS.get(type(row), [])
    changed = False
    for field in fields:
        if only is not None and field.name not in only:
            continue
        if getattr(row, field.column_attribute) is not None:
            setattr(row, field.column_attribute, None)
            changed = True
    if only is None and getattr(row, "holds_content", False):
        row.remove_content()  # an attachment: its encrypted chunks are deleted, not only unlinked
        changed = True
    if only is None:
        for name in ("bsn_index", "name_birth_index"):
            if getattr(row, name, None) is not None:
                setattr(row, name, None)
                changed = True
    return changed


def wipe_all(rows: Iterable[Any]) -> int:
    count = sum(1 for row in rows if wipe(row))
    db.session.flush()
    return count
