"""Key rotation: re-encrypt every personal field under the newest key.

Works in batches and commits as it goes, so it is safe to interrupt and run again.
"""
from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from .fields import ENCRYPTED_FIELDS, field_cipher


def rotate_all(session: Session, batch_size: int = 500) -> dict[str, int]:
    """Returns the number of rows re-encrypted per table."""
    changed: dict[str, int] = {}
    for model, fields in ENCRYPTED_FIELDS.items():
        last_id = 0
        count = 0
        while True:
            rows = session.scalars(
                select(model).where(model.id > last_id).order_by(model.id).limit(batch_size)
            ).all()
            if not rows:
                break
            for row in rows:
                # Evaluate every field: a row may hold tokens under several old keys.
                if any([field.reencrypt(row) for field in fields]):
                    count += 1
            session.commit()
            last_id = rows[-1].id
        changed[model.__tablename__] = count
    from ..documents.storage import rotate_chunks
    changed["attachment_chunks"] = rotate_chunks(session)
    return changed


def key_usage(session: Session) -> Counter[int]:
    """How many stored tokens use each key id, read straight from the ciphertext columns."""
    usage: Counter[int] = Counter()
    cipher = field_cipher()
    for model, fields in ENCRYPTED_FIELDS.items():
        columns = [getattr(model, field.column_attribute) for field in fields]
        for row in session.execute(select(*columns)):
            for token in row:
                if token is not None:
                    usage[cipher.key_id_of(token)] += 1
    from ..documents.storage import chunk_key_ids
    usage.update(chunk_key_ids(session))
    return usage
