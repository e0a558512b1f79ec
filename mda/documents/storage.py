"""An attachment's content: encrypted in chunks as it streams in, decrypted chunk by chunk as it
streams out, so a 25 MB file never needs 25 MB of memory.

Each chunk is a field-cipher token (the current key, a random nonce) whose associated data is
``attachment_chunks|<attachment uuid>|<number>|<1 for the last chunk, else 0>``. Reordering,
moving a chunk to another attachment, or cutting the file short (then the new last chunk was
sealed as "not last") fails authentication.
"""
from __future__ import annotations

from typing import BinaryIO, Iterator

from sqlalchemy import delete, insert, select

from ..db import db
from ..errors import DomainError
from ..security.fields import field_cipher
from ..timeutil import utcnow
from .models import Attachment, AttachmentChunk

CHUNK_BYTES = 64 * 1024
TABLE = AttachmentChunk.__tablename__


class ContentTooLarge(DomainError):
    status_code = 413


class DocumentUnreadable(DomainError):
    """The stored content does not decrypt: altered, moved or incomplete. Never shows content."""

    status_code = 500

    def __init__(self) -> None:
        super().__init__("Dit document kan niet worden geopend: de opgeslagen inhoud is beschadigd of "
                         "hoort niet bij dit document. Meld het bij de functioneel beheerder.")


def chunk_context(attachment: Attachment, number: int, last: bool) -> bytes:
    return f"{TABLE}|{attachment.row_key()}|{number}|{1 if last else 0}".encode()


def write_chunks(attachment: Attachment, source: BinaryIO, limit: int) -> int:
    """Encrypt ``source`` into chunk rows of the (flushed) attachment; returns the size in bytes.
    Each chunk is inserted as it is read, as a plain insert (no ORM object stays behind)."""
    cipher = field_cipher()
    statement = insert(AttachmentChunk.__table__)
    size, number = 0, 0
    chunk = source.read(CHUNK_BYTES)
    while True:
        following = source.read(CHUNK_BYTES)
        size += len(chunk)
        if size > limit:
            raise ContentTooLarge(too_large_message(limit), field="file")
        last = not following
        db.session.execute(statement, {"attachment_id": attachment.id, "number": number,
                                       "ciphertext": cipher.encrypt_bytes(chunk, chunk_context(attachment, number, last))})
        if last:
            attachment.chunk_count, attachment.size_bytes = number + 1, size
            return size
        number, chunk = number + 1, following


def read_chunks(attachment: Attachment) -> Iterator[bytes]:
    """The plaintext, one chunk at a time; each chunk is read with its own small query."""
    if not attachment.holds_content:
        raise DocumentUnreadable()
    cipher = field_cipher()
    query = select(AttachmentChunk.ciphertext).where(AttachmentChunk.attachment_id == attachment.id)
    size = 0
    for number in range(attachment.chunk_count):
        token = db.session.execute(query.where(AttachmentChunk.number == number)).scalar_one_or_none()
        if token is None:
            raise DocumentUnreadable()
        try:
            plaintext = cipher.decrypt_bytes(token, chunk_context(attachment, number,
                                                                  number == attachment.chunk_count - 1))
        except Exception as exc:  # DecryptionError, or a malformed token
            raise DocumentUnreadable() from exc
        size += len(plaintext)
        yield plaintext
    if size != attachment.size_bytes:
        raise DocumentUnreadable()


def delete_chunks(attachment: Attachment) -> None:
    db.session.execute(delete(AttachmentChunk).where(AttachmentChunk.attachment_id == attachment.id))
    attachment.content_removed_at = utcnow()


def too_large_message(limit: int) -> str:
    return f"Het bestand is te groot: hoogstens {format_size(limit)}."


def format_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB").replace(".", ",")
    if size >= 1024:
        return f"{max(1, round(size / 1024))} kB"
    return f"{size} bytes"


# --- key rotation (called by mda.security.rotation) ------------------------------------------

def rotate_chunks(session, batch_size: int = 64) -> int:  # noqa: ANN001 - a Session
    """Re-encrypt chunks not under the current key, a batch at a time, committing as it goes
    (safe to interrupt). Returns the number of chunks re-encrypted."""
    from sqlalchemy import update
    cipher = field_cipher()
    table = AttachmentChunk.__table__
    count = 0
    after = (0, -1)
    while True:
        rows = session.execute(
            select(table.c.attachment_id, table.c.number, table.c.ciphertext)
            .where((table.c.attachment_id > after[0])
                   | ((table.c.attachment_id == after[0]) & (table.c.number > after[1])))
            .order_by(table.c.attachment_id, table.c.number).limit(batch_size)).all()
        if not rows:
            return count
        for attachment_id, number, token in rows:
            if cipher.is_current(token):
                continue
            attachment = session.get(Attachment, attachment_id)
            context = chunk_context(attachment, number, number == attachment.chunk_count - 1)
            session.execute(update(table).where(table.c.attachment_id == attachment_id, table.c.number == number)
                            .values(ciphertext=cipher.encrypt_bytes(cipher.decrypt_bytes(token, context), context)))
            count += 1
        session.commit()
        after = (rows[-1][0], rows[-1][1])


def chunk_key_ids(session) -> Iterator[int]:  # noqa: ANN001 - a Session
    """The key id of every stored chunk (read from the token header only)."""
    cipher = field_cipher()
    for (token,) in session.execute(select(AttachmentChunk.ciphertext)).yield_per(256):
        yield cipher.key_id_of(token)
