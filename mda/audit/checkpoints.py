"""Signed checkpoints of the audit trail's tail, kept outside the database.

The hash chain shows a record removed or altered in the middle, but not the newest records
removed with the chain head moved back: what remains is a shorter chain that is intact. A
checkpoint (number of records, last record id, its hash, the time) written elsewhere at a regular
cadence pins the tail: ``verify`` against the newest checkpoint names the records that are gone.

Checkpoints are appended as JSON lines to ``audit-checkpoints.jsonl`` in ``AUDIT_CHECKPOINT_DIR``,
a folder the database's administrators cannot write (another host, a mount only the app's service
account may append to, or a log shipper that forwards every new line). Each line is signed with an
HMAC under the audit key, domain-separated from the chain's own hashes. A separate key would add
key management without adding protection: whoever holds the audit key can rewrite the whole chain
anyway, and whoever does not can neither forge a checkpoint nor a record.

``write_checkpoint`` is a plain function for the scheduled work; ``mda audit checkpoint`` calls it.
Records appended after the newest checkpoint are covered only from the next one: the cadence
(every few minutes) is the window in which the newest records could be removed unseen.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..timeutil import utcnow
from .models import AuditChainHead, AuditEvent

CHECKPOINT_FILE = "audit-checkpoints.jsonl"
SIGNATURE_CONTEXT = b"mda-audit-checkpoint-v1\n"  # never equal to a chain hash of the same bytes
CHAIN_HEAD_ID = 1


class CheckpointError(Exception):
    """A checkpoint file that cannot be read or used; the message says why, in Dutch."""


@dataclass(frozen=True)
class Checkpoint:
    records: int
    last_id: int | None
    head_hash: str
    written_at: str  # ISO 8601, UTC
    signature: str = ""

    def body(self) -> dict[str, object]:
        fields = asdict(self)
        fields.pop("signature")
        return fields

    def signed(self, key: bytes) -> "Checkpoint":
        return Checkpoint(**self.body(), signature=_sign(self.body(), key))  # type: ignore[arg-type]

    def signature_valid(self, key: bytes) -> bool:
        return hmac.compare_digest(self.signature, _sign(self.body(), key))

    def describe(self) -> str:
        return (f"controlepunt van {self.written_at}: {self.records} records, laatste record "
                f"{self.last_id if self.last_id is not None else '(geen)'}")


def _sign(body: dict[str, object], key: bytes) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, SIGNATURE_CONTEXT + canonical, hashlib.sha256).hexdigest()


def current_tail(session: Session) -> tuple[int, int | None, str]:
    """Records up to the chain head, the head's record id and hash, read in one statement so the
    three belong together even while other workers append."""
    head = AuditChainHead.__table__
    events = AuditEvent.__table__
    counted = (select(func.count()).select_from(events).where(events.c.id <= head.c.last_event_id)
               .scalar_subquery())
    row = session.execute(select(head.c.last_event_id, head.c.last_hash, counted)
                          .where(head.c.id == CHAIN_HEAD_ID)).one()
    last_id, head_hash, records = row
    return (records or 0) if last_id is not None else 0, last_id, head_hash


def checkpoint_file(directory: str | Path) -> Path:
    return Path(directory) / CHECKPOINT_FILE


def write_checkpoint(session: Session, directory: str | Path, key: bytes) -> Checkpoint:
    """Append a signed checkpoint of the trail's committed tail to the checkpoint file."""
    records, last_id, head_hash = current_tail(session)
    checkpoint = Checkpoint(records=records, last_id=last_id, head_hash=head_hash,
                            written_at=utcnow().isoformat(timespec="seconds")).signed(key)
    path = checkpoint_file(directory)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
    line = (json.dumps(asdict(checkpoint), sort_keys=True, separators=(",", ":")) + "\n").encode()
    # O_APPEND: one write per line, never rewriting what is there (the folder may be append-only).
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(descriptor, line)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return checkpoint


def newest_checkpoint(path: str | Path) -> Checkpoint | None:
    """The last line of a checkpoint file (None when the file does not exist or is empty)."""
    path = Path(path)
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"het controlepuntbestand {path} kan niet worden gelezen ({exc})") from exc
    if not lines:
        return None
    try:
        fields = json.loads(lines[-1])
        checkpoint = Checkpoint(records=int(fields["records"]),
                                last_id=None if fields["last_id"] is None else int(fields["last_id"]),
                                head_hash=str(fields["head_hash"]), written_at=str(fields["written_at"]),
                                signature=str(fields["signature"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"de laatste regel van {path} is geen geldig controlepunt") from exc
    return checkpoint
