"""Writing and verifying the audit trail.

Each record stores ``prev_hash`` and ``hash = HMAC(audit_key, canonical record)``;
the canonical form includes ``prev_hash``, so removing, altering or reordering
a record breaks the chain from that point on. Appends lock the one-row chain
head (SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises writers itself),
inside the transaction of the change they describe.
"""
from __future__ import annotations

import enum
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterable

from flask import current_app, has_request_context, request
from sqlalchemy import bindparam, event as sa_event, insert, select, text, update
from sqlalchemy.orm import Session

from ..db import db
from ..timeutil import utcnow
from .models import AuditAction, AuditChainHead, AuditEvent, AuditOutcome

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

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


@dataclass(slots=True)
class AuditRecord:
    """One record on its way into the chain: the columns of ``audit_events`` (a test keeps them
    the same), without the ORM's bookkeeping. It is inserted with a plain statement, never through
    the session, and a case page makes several: building ORM objects for them cost more than
    sealing them."""
    occurred_at: datetime
    user_id: int | None
    username: str | None
    role: str | None
    action: AuditAction
    object_type: str | None
    object_id: int | None
    case_id: int | None
    person_id: int | None
    access_point: str | None
    outcome: AuditOutcome
    detail: str | None
    prev_hash: str | None = None
    hash: str | None = None
    id: int | None = None  # set once appended


PENDING_KEY = "mda.audit.pending"
APPENDED_KEY = "mda.audit.appended"


def record(action: AuditAction, *, by: object | None = None, case_id: int | None = None,
           person_id: int | None = None, object_type: str | None = None, object_id: int | None = None,
           outcome: AuditOutcome = AuditOutcome.SUCCESS, detail: str | None = None,
           username: str | None = None, session: Session | None = None) -> AuditRecord:
    """Add one record to the current transaction. ``detail`` must never hold personal data.

    In a request the record is appended to the chain when the request's transaction commits
    (``_append_pending``, before the response leaves): the chain head stays locked for the
    commit only, not for the rest of the request, and a failed append still fails the request
    and rolls back what it recorded. Elsewhere (commands, a separate session) it is appended at
    once. Either way it is in the same transaction as the change it describes."""
    event = _event(action, by=by, case_id=case_id, person_id=person_id, object_type=object_type,
                   object_id=object_id, outcome=outcome, detail=detail, username=username)
    if session is None and has_request_context():
        db.session.info.setdefault(PENDING_KEY, []).append(event)
    else:
        _append(session or db.session, event)
    return event


def _event(action: AuditAction, *, by: object | None, case_id: int | None = None, person_id: int | None = None,
           object_type: str | None = None, object_id: int | None = None,
           outcome: AuditOutcome = AuditOutcome.SUCCESS, detail: str | None = None,
           username: str | None = None) -> AuditRecord:
    roles = getattr(by, "role_set", None)
    return AuditRecord(
        occurred_at=utcnow(),
        user_id=getattr(by, "id", None),
        username=getattr(by, "username", None) or username,
        role=",".join(sorted(str(role) for role in roles)) if roles else None,
        action=action,
        object_type=object_type,
        object_id=object_id,
        case_id=case_id,
        person_id=person_id,
        access_point=_access_point(),
        outcome=outcome,
        detail=detail,
    )


def _access_point() -> str | None:
    """Where the request came from (after ProxyFix, the client), or "cli" outside a request."""
    try:
        return request._get_current_object().remote_addr  # type: ignore[attr-defined]
    except RuntimeError:  # no request: a command or the worker
        return "cli"


def record_many(action: AuditAction, targets: Iterable[tuple[int | None, str | None, int | None]], *,
                by: object | None = None, detail: str | None = None,
                outcome: AuditOutcome = AuditOutcome.SUCCESS, session: Session | None = None) -> list[AuditRecord]:
    """One record per ``(case_id, object_type, object_id)``, for a list page that shows personal data
    of many cases at once. The records join the chain together, in one INSERT (``_append_many``)."""
    events = [_event(action, by=by, case_id=case_id, object_type=object_type, object_id=object_id,
                     outcome=outcome, detail=detail) for case_id, object_type, object_id in targets]
    if not events:
        return events
    if session is None and has_request_context():
        db.session.info.setdefault(PENDING_KEY, []).extend(events)
    else:
        _append_many(session or db.session, events)
    return events


_HEAD = AuditChainHead.__table__
_EVENTS = AuditEvent.__table__
_EVENT_COLUMNS = tuple(column.key for column in _EVENTS.columns if column.key != "id")
# Built once: a statement object caches its own cache key, so each append only binds values
# instead of building, coercing and hashing three new statements (a third of the cost of a
# signed-in request's own work before this).
# pysqlite runs a SELECT outside any transaction (BEGIN comes with the first write), so two
# workers could read the same head and fork the chain. A no-op write takes SQLite's write lock
# for the rest of this transaction and returns the head as it is under that lock.
_LOCK_HEAD_SQLITE = (update(_HEAD).where(_HEAD.c.id == CHAIN_HEAD_ID).values(last_hash=_HEAD.c.last_hash)
                     .returning(_HEAD.c.last_hash))
_LOCK_HEAD = select(_HEAD.c.last_hash).where(_HEAD.c.id == CHAIN_HEAD_ID).with_for_update()
_INSERT_EVENT = insert(_EVENTS).returning(_EVENTS.c.id)
# SQLAlchemy cannot promise SQLite's RETURNING order, so with sort_by_parameter_order it would send
# one INSERT per record (25 for a caseload page). SQLite numbers the rows of one multi-row INSERT in
# the order of its VALUES (each new rowid is one more than the largest, and the write lock is held),
# so the ids returned, sorted, are those of the records in order: one statement instead.
_INSERT_EVENTS_SQLITE = insert(_EVENTS).returning(_EVENTS.c.id)
# PostgreSQL: many records in one INSERT whose text is the same however many there are, each column
# passed as one array and unnested in order. A VALUES list of 25 records (a caseload page) has 375
# placeholders and some 10,000 characters: psycopg converts a statement that long anew on every run
# instead of from its cache (8% of the caseload's work), and the server parses it anew too. The
# records come back with their hash, which names each one whatever order RETURNING keeps.
_POSTGRESQL_ARRAY_TYPES = {"occurred_at": "timestamptz[]", "user_id": "integer[]", "object_id": "integer[]",
                           "case_id": "integer[]", "person_id": "integer[]"}  # the rest: text[]
# The head moves in the same statement (a WITH of the INSERT and the head's UPDATE, which reads the
# last record's id from the INSERT's RETURNING): one round trip fewer while the head is locked, on
# every list and case page. The join with the UPDATE's row returns nothing if the head did not move.
_INSERT_EVENTS_AND_MOVE_HEAD_POSTGRESQL = text(
    f"WITH appended AS (INSERT INTO {_EVENTS.name} ({', '.join(_EVENT_COLUMNS)}) "
    f"SELECT {', '.join(_EVENT_COLUMNS)} FROM unnest("
    + ", ".join(f"CAST(:{column} AS {_POSTGRESQL_ARRAY_TYPES.get(column, 'text[]')})" for column in _EVENT_COLUMNS)
    + f") WITH ORDINALITY AS appended({', '.join(_EVENT_COLUMNS)}, position) ORDER BY position "
    "RETURNING id, hash), "
    f"moved AS (UPDATE {_HEAD.name} SET last_hash = CAST(:new_hash AS text), "
    "last_event_id = (SELECT appended.id FROM appended WHERE appended.hash = CAST(:new_hash AS text)) "
    f"WHERE {_HEAD.name}.id = {CHAIN_HEAD_ID} RETURNING {_HEAD.name}.last_event_id) "
    "SELECT appended.id, appended.hash FROM appended CROSS JOIN moved")
_MOVE_HEAD = (update(_HEAD).where(_HEAD.c.id == CHAIN_HEAD_ID)
              .values(last_hash=bindparam("new_hash"), last_event_id=bindparam("new_event_id")))
# PostgreSQL: one record (a case page, the floor) goes in and moves the head in one statement, an
# INSERT ... RETURNING in a WITH of the head's UPDATE: one round trip fewer while the head is locked.
# SQLite has no INSERT inside a WITH; its statements cost no round trip anyway.
_APPENDED = (insert(_EVENTS).values({column: bindparam(f"event_{column}") for column in _EVENT_COLUMNS})
             .returning(_EVENTS.c.id).cte("appended"))
_INSERT_AND_MOVE_HEAD = (update(_HEAD).where(_HEAD.c.id == CHAIN_HEAD_ID)
                         .values(last_hash=bindparam("new_hash"), last_event_id=select(_APPENDED.c.id).scalar_subquery())
                         .returning(_HEAD.c.last_event_id))


def _append(session: Session, event: AuditRecord) -> None:
    _append_many(session, [event])


def _append_many(session: Session, events: list[AuditRecord]) -> None:
    """Chain and insert records: lock and read the head, one INSERT for all of them, move the head
    (on PostgreSQL the INSERT and the move are one statement). Plain statements,
    cheaper than the ORM's unit of work on a path every page takes.

    The chain order is the order of ``events``; ``verify`` walks by id, so the ids handed out must
    rise in that order. Each returned id is matched to its record (by order on SQLite, by hash on
    PostgreSQL); a database that numbered them otherwise fails the request instead of the chain.

    The statements run on the session's connection, in its transaction, without the ORM's
    execution layer (as ``db.read``): they touch no mapped object, and every audited request,
    the floor included, runs two or three of them."""
    connection = session.connection()
    sqlite = connection.dialect.name == "sqlite"
    previous = connection.execute(_LOCK_HEAD_SQLITE if sqlite else _LOCK_HEAD).scalar_one()
    key = _audit_key()
    rows = []
    for event in events:
        event.prev_hash = previous
        event.hash = previous = _seal(event, key)
        rows.append({column: getattr(event, column) for column in _EVENT_COLUMNS})
    if sqlite:
        ids = _insert_in_chain_order_sqlite(connection, rows)
        connection.execute(_MOVE_HEAD, {"new_hash": events[-1].hash, "new_event_id": ids[-1]})
    elif len(rows) == 1:
        parameters = {f"event_{column}": value for column, value in rows[0].items()}
        ids = [connection.execute(_INSERT_AND_MOVE_HEAD, {**parameters, "new_hash": events[0].hash}).scalar_one()]
    else:
        ids = _insert_in_chain_order_and_move_head_postgresql(connection, rows)
    for event, event_id in zip(events, ids):
        event.id = event_id
    session.info[APPENDED_KEY] = session.info.get(APPENDED_KEY, 0) + len(events)  # counted at commit (mda.monitoring)


def _insert_in_chain_order_sqlite(connection: Connection, rows: list[dict[str, Any]]) -> list[int]:
    if len(rows) == 1:
        return [connection.execute(_INSERT_EVENT, rows[0]).scalar_one()]
    ids = sorted(connection.execute(_INSERT_EVENTS_SQLITE, rows).scalars())
    if len(ids) != len(rows) or ids[-1] - ids[0] != len(rows) - 1:
        raise RuntimeError("audit records were not numbered one after another")
    return ids


def _insert_in_chain_order_and_move_head_postgresql(connection: Connection, rows: list[dict[str, Any]]) -> list[int]:
    columns = {column: [_plain(row[column]) for row in rows] for column in _EVENT_COLUMNS}
    id_of_hash = {record_hash: event_id for event_id, record_hash
                  in connection.execute(_INSERT_EVENTS_AND_MOVE_HEAD_POSTGRESQL, {**columns, "new_hash": rows[-1]["hash"]})}
    if len(id_of_hash) != len(rows):  # nothing back: the head did not move; the request fails, nothing is kept
        raise RuntimeError("audit records were not appended to the chain")
    ids = [id_of_hash[row["hash"]] for row in rows]
    if any(later <= earlier for earlier, later in zip(ids, ids[1:])):
        raise RuntimeError("audit records were numbered out of chain order")
    return ids


def _plain(value: Any) -> Any:
    """A value as an element of a PostgreSQL array parameter: an enum as its stored code."""
    return value.value if isinstance(value, enum.Enum) else value


@sa_event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    pending = session.info.pop(PENDING_KEY, [])
    if pending:
        _append_many(session, pending)


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
