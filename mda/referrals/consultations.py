"""Consultation questions (consultvragen) from local teams: a lighter record than a case.

A consultation question carries no personal data: only the asking team, the municipality,
the question and advice in general terms, who advised, the time spent and what came of it.
A text that contains a valid BSN is refused, as a last net under the instruction on the form.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..accounts.models import User
from ..audit.models import AuditAction
from ..audit.trail import record
from ..db import db
from ..errors import InvalidInput, StaleVersion
from ..organisations.models import Organisation, OrganisationKind
from ..people.identity import validate_bsn
from ..reference.models import Municipality
from ..timeutil import today, utcnow
from .models import ConsultationQuestion
from .operations import EARLIEST_DATE

MAX_TEXT = 4000
MAX_MINUTES = 24 * 60
NINE_DIGITS = re.compile(r"(?<!\d)\d{9}(?!\d)|(?<!\d)\d{4}[ .]\d{2}[ .]\d{3}(?!\d)")

STALE_MESSAGE = ("Deze consultvraag is intussen door iemand anders gewijzigd. Hieronder staat wat nu is "
                 "opgeslagen; uw invoer is niet bewaard.")


def _free_text(value: Any, field: str, *, required: bool, missing: str) -> str | None:
    value = (value or "").strip() if isinstance(value, str) or value is None else None
    if value is None:
        raise InvalidInput("Vul tekst in.", field=field)
    if not value:
        if required:
            raise InvalidInput(missing, field=field)
        return None
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"Deze tekst is te lang: hoogstens {MAX_TEXT} tekens, nu {len(value)}.", field=field)
    for candidate in NINE_DIGITS.findall(value):
        try:
            validate_bsn(re.sub(r"\D", "", candidate))
        except InvalidInput:
            continue
        raise InvalidInput("Deze tekst lijkt een BSN te bevatten. Een consultvraag bevat geen persoonsgegevens: "
                           "beschrijf de situatie zonder namen, BSN of geboortedata.", field=field)
    return value


def _day(value: Any, field: str, label: str, *, required: bool) -> date | None:
    if value in (None, ""):
        if required:
            raise InvalidInput(f"Vul de {label} in.", field=field)
        return None
    if not isinstance(value, date):
        raise InvalidInput(f"Vul een geldige {label} in.", field=field)
    if value > today():
        raise InvalidInput(f"De {label} ligt in de toekomst.", field=field)
    if value < EARLIEST_DATE:
        raise InvalidInput(f"De {label} ligt te ver terug.", field=field)
    return value


def _validated(*, asked_on: Any, asking_organisation: Organisation | None, municipality: Municipality | None,
               question: Any, advice: Any, advised_on: Any, minutes_spent: Any, escalation_advised: Any,
               led_to_referral: Any) -> dict[str, Any]:
    asked_on = _day(asked_on, "asked_on", "datum van de vraag", required=True)
    if asking_organisation is None or asking_organisation.kind != OrganisationKind.LOCAL_TEAM \
            or not asking_organisation.active:
        raise InvalidInput("Kies het lokale team dat de vraag stelt.", field="asking_organisation")
    if municipality is None or not municipality.active:
        raise InvalidInput("Kies de gemeente.", field="municipality")
    question = _free_text(question, "question", required=True, missing="Vul de vraag in.")
    advice = _free_text(advice, "advice", required=False, missing="")
    advised_on = _day(advised_on, "advised_on", "datum van het advies", required=False)
    if advice and advised_on is None:
        advised_on = today()
    if advised_on is not None and advised_on < asked_on:
        raise InvalidInput("Het advies kan niet eerder zijn gegeven dan de vraag is gesteld.", field="advised_on")
    if minutes_spent in (None, ""):
        minutes_spent = None
    elif isinstance(minutes_spent, bool) or not isinstance(minutes_spent, int) \
            or not 0 <= minutes_spent <= MAX_MINUTES:
        raise InvalidInput(f"Vul de bestede tijd in hele minuten in, tussen 0 en {MAX_MINUTES}.",
                           field="minutes_spent")
    return {"asked_on": asked_on, "asking_organisation_id": asking_organisation.id,
            "municipality_id": municipality.id, "question": question, "advice": advice,
            "advised_on": advised_on, "minutes_spent": minutes_spent,
            "escalation_advised": bool(escalation_advised), "led_to_referral": bool(led_to_referral)}


def record_consultation(*, by: User, **fields: Any) -> ConsultationQuestion:
    clean = _validated(**fields)
    consultation = ConsultationQuestion(recorded_by_id=by.id, recorded_at=utcnow())
    consultation.row_key()
    _write(consultation, clean, by)
    db.session.add(consultation)
    db.session.flush()
    record(AuditAction.CREATE, by=by, object_type="consultation_question", object_id=consultation.id,
           detail="consultvraag vastgelegd")
    return consultation


def update_consultation(consultation: ConsultationQuestion, *, by: User,
                        expected_version: int | str | None = None, **fields: Any) -> ConsultationQuestion:
    if expected_version is not None and str(expected_version) != str(consultation.version):
        raise StaleVersion(STALE_MESSAGE)
    clean = _validated(**fields)
    _write(consultation, clean, by)
    db.session.flush()
    record(AuditAction.CHANGE, by=by, object_type="consultation_question", object_id=consultation.id,
           detail="consultvraag gewijzigd")
    return consultation


def _write(consultation: ConsultationQuestion, clean: dict[str, Any], by: User) -> None:
    stored_advice = consultation.advice if consultation.advice_ciphertext is not None else None
    advice_changed = clean["advice"] != stored_advice
    for name, value in clean.items():
        if name == "advice" and not advice_changed:
            continue
        setattr(consultation, name, value)
    if advice_changed:
        # Who gave the advice is whoever wrote it down.
        consultation.advised_by_id = by.id if clean["advice"] else None
    if not clean["advice"]:
        consultation.advised_on = None


def all_consultations() -> list[ConsultationQuestion]:
    return list(db.session.scalars(
        select(ConsultationQuestion)
        .options(selectinload(ConsultationQuestion.asking_organisation),
                 selectinload(ConsultationQuestion.municipality),
                 selectinload(ConsultationQuestion.advised_by))
        .order_by(ConsultationQuestion.asked_on.desc(), ConsultationQuestion.id.desc())))
