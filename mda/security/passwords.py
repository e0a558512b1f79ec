"""Password hashing with Argon2id (argon2-cffi)."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from argon2.profiles import RFC_9106_LOW_MEMORY

from ..errors import InvalidInput

MAX_PASSWORD_LENGTH = 256   # long passphrases welcome; over-long input is refused before hashing
MIN_PASSWORD_LENGTH = 12


def make_hasher(fast: bool = False) -> PasswordHasher:
    if fast:  # tests only: same algorithm, cheap parameters
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY)


class Passwords:
    def __init__(self, hasher: PasswordHasher):
        self._hasher = hasher
        # Unknown users are checked against this hash, so they cost the same time as known ones.
        self._dummy_hash = hasher.hash("dummy password for timing equality")

    def hash(self, password: str) -> str:
        check_password_policy(password)
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        if len(password) > MAX_PASSWORD_LENGTH:
            return False
        try:
            return self._hasher.verify(stored_hash or self._dummy_hash, password) and stored_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"Een wachtwoord heeft minstens {MIN_PASSWORD_LENGTH} tekens. "
                           "Een zin van een paar woorden werkt goed.", field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(f"Een wachtwoord heeft hoogstens {MAX_PASSWORD_LENGTH} tekens.", field="password")
