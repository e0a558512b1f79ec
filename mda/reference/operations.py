"""Changes to organisations and reference data by the functional administrator; all audited."""
from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from ..accounts.models import User
from ..audit.models import AuditAction
from ..audit.trail import record
from ..db import db
from ..errors import InvalidInput
from ..organisations.models import Organisation, OrganisationKind
from .models import AveLevel, Discipline


def save_organisation(organisation: Organisation | None, *, name: str, kind: OrganisationKind, active: bool,
                      by: User) -> Organisation:
    created = organisation is None
    organisation = organisation or Organisation()
    organisation.name, organisation.kind, organisation.active = name.strip(), kind, active
    try:
        with db.session.begin_nested():  # the unique name is guarded by the database
            db.session.add(organisation)
            db.session.flush()
    except IntegrityError as exc:
        raise InvalidInput("Er bestaat al een organisatie met deze naam.", field="name") from exc
    record(AuditAction.CREATE if created else AuditAction.CHANGE, by=by, object_type="organisation",
           object_id=organisation.id, detail="organisatie " + ("aangemaakt" if created else "gewijzigd"))
    return organisation


def describe_ave_level(level: AveLevel, *, title: str, description: str, by: User) -> None:
    level.title, level.description = title.strip(), description.strip()
    db.session.flush()
    record(AuditAction.CHANGE, by=by, object_type="ave_level", object_id=level.level, detail="omschrijving gewijzigd")


def rename_discipline(discipline: Discipline, *, name: str, by: User) -> None:
    discipline.name = name.strip()
    db.session.flush()
    record(AuditAction.CHANGE, by=by, object_type="discipline", detail=f"discipline {discipline.code} hernoemd")
