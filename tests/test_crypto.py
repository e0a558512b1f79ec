"""The field cipher and blind index on their own, with real AES-GCM and HMAC."""
from __future__ import annotations

import os
from datetime import date

import pytest

from mda.security.crypto import BlindIndex, DecryptionError, FieldCipher

KEY_1, KEY_2 = os.urandom(32), os.urandom(32)
CONTEXT = FieldCipher.context("persons", "name", "row-1")


def test_round_trip_carries_key_id_and_hides_plaintext() -> None:
    cipher = FieldCipher({1: KEY_1}, 1)
    token = cipher.encrypt("Anna Voorbeeld", CONTEXT)
    assert b"Anna" not in token
    assert cipher.key_id_of(token) == 1
    assert cipher.decrypt(token, CONTEXT) == "Anna Voorbeeld"


def test_same_plaintext_encrypts_differently_each_time() -> None:
    cipher = FieldCipher({1: KEY_1}, 1)
    assert cipher.encrypt("x", CONTEXT) != cipher.encrypt("x", CONTEXT)


@pytest.mark.parametrize("position", [0, 3, 20, -1])
def test_any_altered_byte_is_rejected(position: int) -> None:
    cipher = FieldCipher({1: KEY_1}, 1)
    token = bytearray(cipher.encrypt("Anna Voorbeeld", CONTEXT))
    token[position] ^= 0x01
    with pytest.raises(DecryptionError):
        cipher.decrypt(bytes(token), CONTEXT)


@pytest.mark.parametrize("other", [FieldCipher.context("persons", "name", "row-2"),
                                   FieldCipher.context("persons", "notes", "row-1"),
                                   FieldCipher.context("journal_entries", "name", "row-1")])
def test_token_bound_to_table_column_and_row(other: bytes) -> None:
    cipher = FieldCipher({1: KEY_1}, 1)
    with pytest.raises(DecryptionError):
        cipher.decrypt(cipher.encrypt("Anna Voorbeeld", CONTEXT), other)


def test_unknown_key_id_and_truncated_token_are_rejected() -> None:
    token = FieldCipher({2: KEY_2}, 2).encrypt("x", CONTEXT)
    with pytest.raises(DecryptionError):
        FieldCipher({1: KEY_1}, 1).decrypt(token, CONTEXT)
    with pytest.raises(DecryptionError):
        FieldCipher({2: KEY_2}, 2).decrypt(token[:10], CONTEXT)


def test_blind_index_normalises_names_and_depends_on_key() -> None:
    index = BlindIndex(KEY_1)
    born = date(1990, 1, 2)
    assert index.name_and_birth_date("Anna  Voorbéeld", born) == index.name_and_birth_date("anna voorbeeld", born)
    assert index.name_and_birth_date("Anna Voorbeeld", born) != index.name_and_birth_date("Anna Voorbeeld",
                                                                                          date(1990, 1, 3))
    assert BlindIndex(KEY_2).bsn("999990019") != index.bsn("999990019")
