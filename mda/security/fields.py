"""Encrypted attributes on models.

A ``TypeDecorator`` cannot see the row, so encryption happens in the model
layer: the mapped column holds the token (bytes in, bytes out) and the
descriptor encrypts and decrypts with ``table|column|row-uuid`` as associated
data. Each model with personal fields has a ``uuid`` generated on first use,
before the flush, so the binding exists when the value is set.
"""
from __future__ import annotations

import uuid as uuid_module
from datetime import date
from typing import Any, Callable

from flask import current_app
from sqlalchemy import LargeBinary, String, Uuid, cast
from sqlalchemy.orm import Mapped, mapped_column

from .crypto import BlindIndex, FieldCipher

# model class -> names of its encrypted attributes, for key rotation and purges.
ENCRYPTED_FIELDS: dict[type, list["EncryptedField"]] = {}


# The app itself, not Flask's proxy: every encrypted field read asks (mda.web._require_login says why).
def field_cipher() -> FieldCipher:
    return current_app._get_current_object().extensions["mda.cipher"]  # type: ignore[attr-defined]


def blind_index() -> BlindIndex:
    return current_app._get_current_object().extensions["mda.blind_index"]  # type: ignore[attr-defined]


def ciphertext_column() -> Mapped[bytes | None]:
    return mapped_column(LargeBinary, nullable=True)


class RowKeyMixin:
    """A random row identifier that exists before the insert, for binding ciphertexts."""

    uuid: Mapped[uuid_module.UUID] = mapped_column(Uuid, unique=True, nullable=False,
                                                   default=uuid_module.uuid4)

    def row_key(self) -> uuid_module.UUID:
        if self.uuid is None:
            self.uuid = uuid_module.uuid4()
        return self.uuid


class EncryptedField:
    """Plaintext view of the ciphertext column ``<name>_ciphertext``.

    ``kind`` is ``str`` or ``date``; ``validate`` normalises or rejects a value
    before it is encrypted; ``after_set`` names a method to call afterwards
    (used to refresh blind indexes).
    """

    def __init__(self, kind: type = str, validate: Callable[[Any], Any] | None = None,
                 after_set: str | None = None):
        self.kind = kind
        self.validate = validate
        self.after_set = after_set

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.column_attribute = f"{name}_ciphertext"
        ENCRYPTED_FIELDS.setdefault(owner, []).append(self)

    def context(self, obj: RowKeyMixin) -> bytes:
        return FieldCipher.context(obj.__tablename__, self.name, obj.row_key())  # type: ignore[attr-defined]

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        token = getattr(obj, self.column_attribute)
        if token is None:
            return None
        text = field_cipher().decrypt(token, self.context(obj))
        return date.fromisoformat(text) if self.kind is date else text

    def __set__(self, obj: Any, value: Any) -> None:
        if isinstance(value, str):
            value = value.strip() or None
        if value is not None and self.validate is not None:
            value = self.validate(value)
        if value is None:
            setattr(obj, self.column_attribute, None)
        else:
            text = value.isoformat() if isinstance(value, date) else str(value)
            setattr(obj, self.column_attribute, field_cipher().encrypt(text, self.context(obj)))
        if self.after_set:
            getattr(obj, self.after_set)()

    def reencrypt(self, obj: Any) -> bool:
        """Re-encrypt under the newest key if needed; True when the row changed."""
        token = getattr(obj, self.column_attribute)
        if token is None or field_cipher().is_current(token):
            return False
        text = field_cipher().decrypt(token, self.context(obj))
        setattr(obj, self.column_attribute, field_cipher().encrypt(text, self.context(obj)))
        return True


def decrypt_stored(model: type, field_name: str, token: bytes | None, row_uuid: object) -> str | None:
    """The plaintext of one stored value read as a plain column (no ORM object)."""
    return stored_decryptor(model, field_name)(token, row_uuid)


def stored_decryptor(model: type, field_name: str, *, raw: bool = False) -> Callable[[bytes | None, object], Any]:
    """A decrypter of one field's stored values read as plain columns, for reads that go over many
    rows and need one or two fields of each (the search of a permitted set): the cipher and the
    context prefix are looked up once, not per row. The row's uuid may be given as read through
    ``row_uuid_text`` (no UUID object per row). With ``raw`` the plaintext comes as UTF-8 bytes."""
    cipher = field_cipher()
    prefix = f"{model.__tablename__}|{field_name}|"
    assert FieldCipher.context(model.__tablename__, field_name, "x") == f"{prefix}x".encode()
    open_token = cipher.decrypt_bytes if raw else cipher.decrypt

    def decrypt(token: bytes | None, row_uuid: object) -> Any:
        if token is None:
            return None
        if type(row_uuid) is str and len(row_uuid) == 32:  # SQLite keeps a Uuid as 32 hex digits
            row_uuid = f"{row_uuid[:8]}-{row_uuid[8:12]}-{row_uuid[12:16]}-{row_uuid[16:20]}-{row_uuid[20:]}"
        return open_token(token, f"{prefix}{row_uuid}".encode())
    return decrypt


def row_uuid_text(column: Any) -> Any:
    """A ``uuid`` column read as text, for ``stored_decryptor``: reading thousands of rows then
    skips building (and printing again) a UUID object for each. PostgreSQL gives the canonical
    dashed form; SQLite its stored 32 hex digits, which the decrypter turns into that form. A
    wrong form could never decrypt anything: the uuid is part of the authenticated context."""
    return cast(column, String)
