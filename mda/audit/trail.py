"""Writing and verifying the audit trail.

Each record stores ``prev_hash`` and ``hash = HMAC(audit_key, canonical record)``;
the canonical form includes ``prev_hash``, so removing, altering or reordering
a record breaks the chain from that point on. Appends lock the one-row chain
head (SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises writers itself),
inside the transaction of the change they describe.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

from flask import current_app, has_request_context, request
from sqlalchemy import event as sa_event, insert, select, update
from sqlalchemy.orm import Session

from ..db import db
from ..timeutil import utcnow
from .models import AuditAction, AuditChainHead, AuditEvent, AuditOutcome

if TYPE_CHECKING:
    from .checkpoints import Checkpoint

GENESIS_HASH = "0" * 64
CHAIN_HEAD_ID = 1


def _canonical(event: Any) -> bytes:
    fields = {
        "occurred_at": event.occurred_at.isoformat(timespec="microseconds"),
        "user_id": event.user_id,
        "username": event.username,
        "role": event.role,
        "action": str(event.action),
        "object_type": event.object_type,
        "object_id": event.object_id,
        "case_id": event.case_id,
        "person_id": event.person_id,
        "access_point": event.access_point,
        "outcome": str(event.outcome),
        "detail": event.detail,
        "prev_hash": event.prev_hash,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def _seal(event: Any, key: bytes) -> str:
    return hmac.new(key, _canonical(event), hashlib.sha256).hexdigest()


def _audit_key() -> bytes:
    return current_app.extensions["mda.settings"].audit_key


PENDING_KEY = "mda.audit.pending"


def record(action: AuditAction, *, by: object | None = None, case_id: int | None = None,
           person_id: int | None = None, object_type: str | None = None, object_id: int | None = None,
           outcome: AuditOutcome = AuditOutcome.SUCCESS, detail: str | None = None,
           username: str | None = None, session: Session | None = None) -> AuditEvent:
    """Add one record to the current transaction. ``detail`` must never hold personal data.

    In a request the record is appended to the chain when the request's transaction commits
    (``_append_pending``, before the response leaves): the chain head stays locked for the
    commit only, not for the rest of the request, and a failed append still fails the request
    and rolls back what it recorded. Elsewhere (commands, a separate session) it is appended at
    once. Either way it is in the same transaction as the change it describes."""
    roles = getattr(by, "role_set", None)
    event = AuditEvent(
        occurred_at=utcnow(),
        user_id=getattr(by, "id", None),
        username=getattr(by, "username", None) or username,
        role=",".join(sorted(str(role) for role in roles)) if roles else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        case_id=case_id,
        person_id=person_id,
        access_point=request.remote_addr if has_request_context() else "cli",
        outcome=outcome,
        detail=detail,
    )
    if session is None and has_request_context():
        db.session.info.setdefault(PENDING_KEY, []).append(event)
    else:
        _append(session or db.session, event)
    return event


def _append(session: Session, event: AuditEvent) -> None:
    """Chain and insert one record: three plain statements (lock and read the head, insert,
    move the head), cheaper than the ORM's unit of work on a path every page takes."""
    head_table = AuditChainHead.__table__
    if session.get_bind().dialect.name == "sqlite":
        # pysqlite runs a SELECT outside any transaction (BEGIN comes with the first write), so two
        # workers could read the same head and fork the chain. A no-op write takes SQLite's write
        # lock for the rest of this transaction and returns the head as it is under that lock.
        head_hash = session.execute(
            update(head_table).where(head_table.c.id == CHAIN_HEAD_ID)
            .values(last_hash=head_table.c.last_hash).returning(head_table.c.last_hash)).scalar_one()
    else:
        head_hash = session.execute(select(head_table.c.last_hash).where(head_table.c.id == CHAIN_HEAD_ID)
                                    .with_for_update()).scalar_one()
    event.prev_hash = head_hash
    event.hash = _seal(event, _audit_key())
    columns = {column.key: getattr(event, column.key) for column in AuditEvent.__table__.columns
               if column.key != "id"}
    event.id = session.execute(insert(AuditEvent.__table__).values(columns)
                               .returning(AuditEvent.__table__.c.id)).scalar_one()
    session.execute(update(head_table).where(head_table.c.id == CHAIN_HEAD_ID)
                    .values(last_hash=event.hash, last_event_id=event.id))


@sa_event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    for pending in session.info.pop(PENDING_KEY, []):
        _append(session, pending)


@sa_event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: Any) -> None:
    # What the rolled-back transaction recorded did not happen; a savepoint's rollback keeps the rest.
    if not previous_transaction.nested:
        session.info.pop(PENDING_KEY, None)


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken_id: int | None = None
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify(session: Session, batch_size: int = 5000, checkpoint: "Checkpoint | None" = None) -> ChainReport:
    """Walk the trail in order, recompute every hash, and name the first record that does not fit.

    With a ``checkpoint`` (see mda.audit.checkpoints) the tail is checked too: the record it names
    must still be there with the same hash and as many records before it, which finds the newest
    records removed with the chain head moved back."""
    key = _audit_key()
    if checkpoint is not None and not checkpoint.signature_valid(key):
        return ChainReport(0, None, "de handtekening van het controlepunt klopt niet (vervalst, gewijzigd "
                                    "of met een andere auditsleutel gemaakt)")
    expected_prev = GENESIS_HASH
    checked = 0
    last_id: int | None = None
    pinned: tuple[int, str] | None = None  # (records up to and including it, hash) of the checkpoint's record
    for event in _in_order(session, batch_size):
        if event.prev_hash != expected_prev:
            return ChainReport(checked, event.id, "de keten is onderbroken vóór dit record "
                                                  "(een eerder record is verwijderd of gewijzigd)")
        if not hmac.compare_digest(event.hash, _seal(event, key)):
            return ChainReport(checked, event.id, "de inhoud van dit record is gewijzigd")
        expected_prev = event.hash
        last_id = event.id
        checked += 1
        if checkpoint is not None and event.id == checkpoint.last_id:
            pinned = (checked, event.hash)
    head = session.execute(select(AuditChainHead.__table__).where(AuditChainHead.id == CHAIN_HEAD_ID)).first()
    if head is None or head.last_hash != expected_prev:
        return ChainReport(checked, last_id, "het laatste record ontbreekt of de ketenkop klopt niet")
    if checkpoint is not None and checkpoint.last_id is not None:
        return _against_checkpoint(checkpoint, pinned, checked, last_id)
    return ChainReport(checked)


def _against_checkpoint(checkpoint: "Checkpoint", pinned: tuple[int, str] | None, checked: int,
                        last_id: int | None) -> ChainReport:
    assert checkpoint.last_id is not None
    if pinned is None and (last_id or 0) < checkpoint.last_id:
        first_missing = (last_id or 0) + 1
        missing = checkpoint.records - checked
        return ChainReport(checked, first_missing, (
            f"de nieuwste records ontbreken: volgens het {checkpoint.describe()} liep de trail tot en met "
            f"record {checkpoint.last_id}, nu eindigt hij bij record {last_id or '(geen)'}; records "
            f"{first_missing} tot en met {checkpoint.last_id} ({missing if missing > 0 else 'een aantal'} records) "
            "zijn verwijderd en de ketenkop is teruggezet"))
    if pinned is None or not hmac.compare_digest(pinned[1], checkpoint.head_hash):
        return ChainReport(checked, checkpoint.last_id, (
            f"record {checkpoint.last_id} is niet meer het record uit het {checkpoint.describe()}: "
            "de records vanaf daar zijn verwijderd en vervangen"))
    if pinned[0] != checkpoint.records:
        return ChainReport(checked, checkpoint.last_id, (
            f"tot en met record {checkpoint.last_id} telt de trail {pinned[0]} records, het "
            f"{checkpoint.describe()} telde er {checkpoint.records}"))
    return ChainReport(checked)


def _in_order(session: Session, batch_size: int) -> Iterable[Any]:
    # Plain rows, not ORM objects: the walk must not fill the session with the whole trail.
    table = AuditEvent.__table__
    after = 0
    while True:
        batch = session.execute(
            select(table).where(table.c.id > after).order_by(table.c.id).limit(batch_size)
        ).all()
        if not batch:
            return
        yield from batch
        after = batch[-1].id
