"""Encrypted online backups and restoring them into an empty database (security item 29).

The dump is taken while the app runs: SQLite's backup API (a consistent snapshot, in memory) or
``pg_dump --format=custom`` (one consistent transaction). It is encrypted as it is written, with
AES-256-GCM in chunks under the backup key, which is kept apart from the field keys:

    header:  magic "MDA-BACKUP" 00 01 (12 bytes) | kind "S"/"P" (1) | nonce prefix (7, random)
    chunks:  length (4, big-endian) | ciphertext+tag of at most CHUNK_BYTES of the dump

Each chunk's nonce is the prefix, its 4-byte number and a last-chunk flag; the header is the
associated data. Reordered, dropped, truncated or altered chunks fail authentication, and so does
a file read with another key. The field values inside the dump are encrypted a second time under
the field keys, so a restore needs both the backup key and the key file.

The key comes from ``current_app.config``: ``BACKUP_KEY`` (base64 of 32 bytes; ``MDA_BACKUP_KEY``
in the environment) or ``BACKUP_KEY_FILE`` (a file holding that base64 text). Keep it on other
media than the backups, never beside them.
"""
from __future__ import annotations

import base64
import binascii
import os
import shutil
import sqlite3
import struct
import subprocess
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import Integer, delete, func, inspect, select, text
from sqlalchemy.engine import URL, make_url

from ..db import make_engine

MAGIC = b"MDA-BACKUP\x00\x01"
KIND_SQLITE, KIND_POSTGRES = b"S", b"P"
PREFIX_BYTES = 7
HEADER_BYTES = len(MAGIC) + 1 + PREFIX_BYTES
CHUNK_BYTES = 1024 * 1024
_LENGTH = struct.Struct(">I")


class BackupError(Exception):
    """A backup cannot be made, read or restored; the message says why (never data)."""


def generate_backup_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def backup_key() -> bytes:
    config = current_app.config
    value = config.get("BACKUP_KEY")
    if not value and config.get("BACKUP_KEY_FILE"):
        try:
            value = Path(config["BACKUP_KEY_FILE"]).read_text().strip()
        except OSError as exc:
            raise BackupError(f"Het back-upsleutelbestand is niet te lezen: {exc.strerror}.") from exc
    if not value:
        raise BackupError("Geen back-upsleutel ingesteld: zet MDA_BACKUP_KEY of MDA_BACKUP_KEY_FILE "
                          "(maak er een met `mda backup generate-key`).")
    try:
        key = value if isinstance(value, bytes) else base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BackupError("De back-upsleutel is geen geldige base64.") from exc
    if len(key) != 32:
        raise BackupError("De back-upsleutel moet 32 bytes zijn (base64).")
    settings = current_app.extensions["mda.settings"]
    if key in settings.field_keys.values() or key in (settings.blind_index_key, settings.audit_key):
        raise BackupError("De back-upsleutel moet verschillen van de veld-, index- en auditsleutels.")
    return key


# --- the encrypted container -------------------------------------------------------------

def _nonce(prefix: bytes, number: int, last: bool) -> bytes:
    return prefix + number.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def encrypt_stream(source: BinaryIO, target: BinaryIO, key: bytes, kind: bytes) -> None:
    aead = AESGCM(key)
    header = MAGIC + kind + os.urandom(PREFIX_BYTES)
    prefix = header[-PREFIX_BYTES:]
    target.write(header)
    number = 0
    chunk = source.read(CHUNK_BYTES)
    while True:
        following = source.read(CHUNK_BYTES)
        last = not following
        sealed = aead.encrypt(_nonce(prefix, number, last), chunk, header)
        target.write(_LENGTH.pack(len(sealed)) + sealed)
        if last:
            return
        if number == 0xFFFFFFFF:
            raise BackupError("De back-up is te groot.")
        number, chunk = number + 1, following


def read_kind(source: BinaryIO) -> tuple[bytes, bytes]:
    header = source.read(HEADER_BYTES)
    if len(header) != HEADER_BYTES or not header.startswith(MAGIC):
        raise BackupError("Dit is geen MDA++-back-upbestand.")
    return header[len(MAGIC):len(MAGIC) + 1], header


def decrypt_chunks(source: BinaryIO, key: bytes, header: bytes) -> Iterator[bytes]:
    aead = AESGCM(key)
    prefix = header[-PREFIX_BYTES:]
    number = 0
    while True:
        length_bytes = source.read(_LENGTH.size)
        if len(length_bytes) != _LENGTH.size:
            raise BackupError("De back-up is afgebroken (het laatste deel ontbreekt).")
        sealed = source.read(_LENGTH.unpack(length_bytes)[0])
        for last in (False, True):
            try:
                chunk = aead.decrypt(_nonce(prefix, number, last), sealed, header)
                break
            except InvalidTag:
                continue
        else:
            raise BackupError("De back-up kan niet worden ontsleuteld: verkeerde sleutel of gewijzigd bestand.")
        yield chunk
        if last:
            if source.read(1):
                raise BackupError("Na het laatste deel van de back-up staan nog gegevens.")
            return
        number += 1


# --- taking a backup ---------------------------------------------------------------------

def _kind_of(url: URL) -> bytes:
    if url.get_backend_name() == "sqlite":
        return KIND_SQLITE
    if url.get_backend_name() == "postgresql":
        return KIND_POSTGRES
    raise BackupError(f"Back-ups van {url.get_backend_name()} worden niet ondersteund.")


def _private_file(path: Path) -> BinaryIO:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "wb")


def create_backup(database_url: str, output: Path) -> None:
    """Write an encrypted, consistent copy of the database to ``output`` (which must not exist)."""
    key = backup_key()
    url = make_url(database_url)
    kind = _kind_of(url)
    temporary = output.with_name(output.name + ".partial")
    try:
        with _private_file(temporary) as target:
            if kind == KIND_SQLITE:
                _sqlite_dump(url, target, key)
            else:
                _postgres_dump(url, target, key)
            target.flush()
            os.fsync(target.fileno())
        if output.exists():
            raise BackupError(f"{output} bestaat al; een back-up wordt nooit overschreven.")
        temporary.replace(output)
    finally:
        temporary.unlink(missing_ok=True)


def _sqlite_dump(url: URL, target: BinaryIO, key: bytes) -> None:
    import io
    source = sqlite3.connect(url.database or "")
    snapshot = sqlite3.connect(":memory:")
    try:
        source.backup(snapshot)  # online and consistent, also while the app writes
        data = snapshot.serialize()
    finally:
        source.close()
        snapshot.close()
    encrypt_stream(io.BytesIO(_rollback_journal(data)), target, key, KIND_SQLITE)


def _rollback_journal(data: bytes) -> bytes:
    # The copied header still says WAL (file format bytes 18 and 19 are 2); an in-memory image
    # cannot be opened in WAL mode, so mark it as a rollback-journal database (1). The app turns
    # WAL on again when it connects to the restored file.
    image = bytearray(data)
    if len(image) >= 20:
        image[18] = image[19] = 1
    return bytes(image)


def _libpq(url: URL) -> tuple[list[str], dict[str, str]]:
    arguments = ["--dbname", url.database or ""]
    if url.host:
        arguments += ["--host", url.host]
    if url.port:
        arguments += ["--port", str(url.port)]
    if url.username:
        arguments += ["--username", url.username]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)  # never on the command line, where ps shows it
    return arguments, env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is niet gevonden; installeer de PostgreSQL-clientprogramma's.")
    return found


def _postgres_dump(url: URL, target: BinaryIO, key: bytes) -> None:
    arguments, env = _libpq(url)
    process = subprocess.Popen([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                                *arguments], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert process.stdout is not None
    encrypt_stream(process.stdout, target, key, KIND_POSTGRES)
    _, errors = process.communicate()
    if process.returncode != 0:
        raise BackupError(f"pg_dump is mislukt (code {process.returncode}): "
                          f"{errors.decode(errors='replace').strip()[:500]}")


# --- restoring ---------------------------------------------------------------------------

def _require_empty(url: URL) -> None:
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        if not path.exists() or path.stat().st_size == 0:
            return
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise BackupError("De doeldatabase is niet leeg; herstel alleen in een lege database.")


def restore_backup(backup: Path, target_url: str) -> None:
    key = backup_key()
    url = make_url(target_url)
    with backup.open("rb") as source:
        kind, header = read_kind(source)
        moving = kind == KIND_SQLITE and _kind_of(url) == KIND_POSTGRES
        if kind != _kind_of(url) and not moving:
            raise BackupError("Deze back-up is van een ander soort database dan het doel.")
        _require_empty(url)
        chunks = decrypt_chunks(source, key, header)
        if moving:
            _sqlite_into_postgres(url, chunks)
        elif kind == KIND_SQLITE:
            _sqlite_restore(url, chunks)
        else:
            _postgres_restore(url, chunks)


def _sqlite_restore(url: URL, chunks: Iterator[bytes]) -> None:
    data = b"".join(chunks)  # authenticated completely before anything is written
    snapshot = sqlite3.connect(":memory:")
    target = sqlite3.connect(url.database or "")
    try:
        snapshot.deserialize(_rollback_journal(data))
        snapshot.backup(target)
    finally:
        snapshot.close()
        target.close()


def _postgres_restore(url: URL, chunks: Iterator[bytes]) -> None:
    import tempfile
    # Decrypt (and authenticate) the whole dump before pg_restore sees any of it, into a private
    # temporary file: a tampered backup then restores nothing at all.
    with tempfile.TemporaryDirectory(prefix="mda-restore-") as folder:
        dump = Path(folder) / "dump"
        with _private_file(dump) as handle:
            for chunk in chunks:
                handle.write(chunk)
        arguments, env = _libpq(url)
        # --clean --if-exists: an empty database still has its own "public" schema.
        result = subprocess.run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--clean", "--if-exists",
                                 "--exit-on-error", "--single-transaction", *arguments, str(dump)],
                                capture_output=True, env=env)
    if result.returncode != 0:
        raise BackupError(f"pg_restore is mislukt (code {result.returncode}): "
                          f"{result.stderr.decode(errors='replace').strip()[:500]}")


# --- moving from SQLite to PostgreSQL -----------------------------------------------------------

COPY_BATCH = 5000


def _sqlite_into_postgres(url: URL, chunks: Iterator[bytes]) -> None:
    """Restore a SQLite backup into an empty PostgreSQL database (moving an installation).

    The PostgreSQL schema is made by the migrations, at the backup's revision, which must be the
    latest one this code knows (run ``mda db upgrade`` on the SQLite installation before the
    backup); then every table of the models is copied row by row through the models' own column
    types (so SQLite's text dates and 0/1 booleans arrive as PostgreSQL's), in one transaction,
    and the id sequences are moved past the copied ids. Encrypted values are copied as they are:
    the same key file reads them afterwards."""
    import tempfile

    from ..migrate import upgrade
    from ..models import metadata
    from ..monitoring.health import expected_heads

    data = b"".join(chunks)  # authenticated completely before anything is written
    with tempfile.TemporaryDirectory(prefix="mda-move-") as folder:
        image = Path(folder) / "source.sqlite"
        with _private_file(image) as handle:
            handle.write(_rollback_journal(data))
        source = make_engine(f"sqlite:///{image}")
        target = make_engine(url.render_as_string(hide_password=False))
        try:
            with source.connect() as reading:
                revision = reading.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
                tables = set(inspect(reading).get_table_names()) - {"alembic_version"}
            if frozenset(revision) != expected_heads():
                raise BackupError("De back-up is niet van de nieuwste databaseversie: voer eerst `mda db upgrade` "
                                  "uit op de SQLite-installatie en maak dan een nieuwe back-up.")
            unknown = tables - set(metadata.tables)
            if unknown:
                raise BackupError(f"De back-up bevat tabellen die deze versie niet kent: {', '.join(sorted(unknown))}.")
            upgrade(target, "heads")
            ordered = [table for table in metadata.sorted_tables if table.name in tables]
            with source.connect() as reading, target.begin() as writing:
                # The migrations filled the reference tables and the chain head: the copy replaces them.
                for table in reversed(metadata.sorted_tables):
                    writing.execute(delete(table))
                for table in ordered:
                    batch = []
                    for row in reading.execute(select(table)).mappings():
                        batch.append(dict(row))
                        if len(batch) == COPY_BATCH:
                            writing.execute(table.insert(), batch)
                            batch = []
                    if batch:
                        writing.execute(table.insert(), batch)
                for table in ordered:
                    key = list(table.primary_key.columns)
                    if len(key) == 1 and isinstance(key[0].type, Integer):
                        # NULL (nothing to do) for a key without a sequence, e.g. a fixed reference id.
                        column = key[0]
                        writing.execute(text(
                            "SELECT setval(pg_get_serial_sequence(:table, :column), "
                            f'COALESCE((SELECT MAX("{column.name}") FROM "{table.name}"), 1), '
                            f'(SELECT COUNT(*) FROM "{table.name}") > 0)'),
                            {"table": table.name, "column": column.name})
            _verify_copy(source, target, ordered)
        except BackupError:
            raise
        except Exception as exc:
            raise BackupError(f"Verhuizen naar PostgreSQL is mislukt ({type(exc).__name__}); de doeldatabase "
                              "kan half gevuld zijn: maak haar opnieuw leeg aan en probeer het nog eens.") from exc
        finally:
            source.dispose()
            target.dispose()


def _verify_copy(source: Any, target: Any, tables: list[Any]) -> None:
    """Every table has as many rows in PostgreSQL as in the backup."""
    with source.connect() as reading, target.connect() as written:
        for table in tables:
            expected = reading.execute(select(func.count()).select_from(table)).scalar_one()
            found = written.execute(select(func.count()).select_from(table)).scalar_one()
            if expected != found:
                raise BackupError(f"Na het verhuizen klopt het aantal rijen van {table.name} niet "
                                  f"({found} in plaats van {expected}).")
