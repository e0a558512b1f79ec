"""Field encryption and the blind index: the only code that touches key material.

A ciphertext token is self-describing so that keys can rotate:

    version (1 byte) | key id (2 bytes, big-endian) | nonce (12 bytes) | AES-256-GCM ciphertext+tag

The associated data binds a token to ``table|column|row-uuid``, so a token
copied into another row or column fails authentication instead of decrypting.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import struct
import unicodedata
from datetime import date
from typing import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

TOKEN_VERSION = 1
_HEADER = struct.Struct(">BH")
_NONCE_BYTES = 12


class CryptoError(Exception):
    """Base class for encryption failures; never carries plaintext."""


class DecryptionError(CryptoError):
    """The token was altered, belongs to another row, or its key is unknown."""


class FieldCipher:
    def __init__(self, keys: Mapping[int, bytes], current_key_id: int):
        if current_key_id not in keys:
            raise CryptoError("current key id has no key")
        self._aeads = {key_id: AESGCM(material) for key_id, material in keys.items()}
        self.current_key_id = current_key_id

    @staticmethod
    def context(table: str, column: str, row_uuid: object) -> bytes:
        return f"{table}|{column}|{row_uuid}".encode()

    def encrypt(self, plaintext: str, context: bytes) -> bytes:
        return self.encrypt_bytes(plaintext.encode("utf-8"), context)

    def encrypt_bytes(self, data: bytes, context: bytes) -> bytes:
        """The same token format for binary content (attachment chunks)."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aeads[self.current_key_id].encrypt(nonce, data, context)
        return _HEADER.pack(TOKEN_VERSION, self.current_key_id) + nonce + sealed

    def decrypt_bytes(self, token: bytes, context: bytes) -> bytes:
        """The plaintext, undecoded: attachment chunks, and a search that matches many values as bytes."""
        version, key_id = self._read_header(token)
        aead = self._aeads.get(key_id)
        if aead is None:
            raise DecryptionError(f"no key with id {key_id} is configured")
        token = bytes(token)
        nonce = token[_HEADER.size:_HEADER.size + _NONCE_BYTES]
        try:
            return aead.decrypt(nonce, token[_HEADER.size + _NONCE_BYTES:], context)
        except InvalidTag as exc:
            raise DecryptionError("ciphertext failed authentication (altered or moved)") from exc

    def decrypt(self, token: bytes, context: bytes) -> str:
        return self.decrypt_bytes(token, context).decode("utf-8")

    def key_id_of(self, token: bytes) -> int:
        return self._read_header(token)[1]

    def is_current(self, token: bytes) -> bool:
        return self.key_id_of(token) == self.current_key_id

    @staticmethod
    def _read_header(token: bytes) -> tuple[int, int]:
        token = bytes(token)
        if len(token) < _HEADER.size + _NONCE_BYTES + 16:
            raise DecryptionError("ciphertext is too short")
        version, key_id = _HEADER.unpack_from(token)
        if version != TOKEN_VERSION:
            raise DecryptionError(f"unknown token version {version}")
        return version, key_id


# How people type the same name: a typographic apostrophe, quotation mark or dash (from a word
# processor, a phone keyboard or a registration system) is the same character as the plain one.
# Applied before NFKD, which would split an acute accent used as an apostrophe into a space.
_TYPED_VARIANTS = str.maketrans({
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u2035\u00b4`\u02b9\u02bb\u02bc\u02bd\u02c8\uff07", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb\uff02", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d", "-"),
    # Invisible characters that come along when a name is copied: soft hyphen, zero-width spaces.
    **dict.fromkeys("\u00ad\u200b\u200c\u200d\u2060\ufeff", ""),
})


def normalise_name(name: str) -> str:
    """Case-folded, accents removed, whitespace collapsed (non-breaking spaces too), and typographic
    apostrophes, quotation marks and dashes read as the plain ones:
    'Jan  de Vrïes' == 'jan de vries' and 'Anne–Marie D’Souza' == 'anne-marie d'souza'."""
    decomposed = unicodedata.normalize("NFKD", name.translate(_TYPED_VARIANTS))
    without_accents = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(without_accents.casefold().split())


class BlindIndex:
    """Keyed HMAC over normalised, nearly unique values; its key is no encryption key.

    Only BSN and name plus date of birth are indexed: low-cardinality fields
    would leak through the frequency of their index values. The same key also fingerprints a
    month of steering counts (a whole slice, not one field), so that releases can tell whether
    they were computed from the same data without storing the counts.
    """

    def __init__(self, key: bytes):
        self._key = key

    def _digest(self, purpose: str, value: str) -> str:
        return hmac.new(self._key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()

    def bsn(self, normalised_bsn: str) -> str:
        return self._digest("bsn", normalised_bsn)

    def name_and_birth_date(self, name: str, birth_date: date) -> str:
        return self._digest("name-dob", f"{normalise_name(name)}|{birth_date.isoformat()}")

    def counts_fingerprint(self, slice_key: str, canonical: str) -> str:
        return self._digest("metrics-slice", f"{slice_key}|{canonical}")
