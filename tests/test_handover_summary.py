"""The handover summary PDF: the case's data for whoever may see the case, 404 for anyone else,
confidential with maker and time on every page, and audited."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta, timezone

from flask import Flask
from pypdf import PdfReader
from sqlalchemy import select

from mda.accounts.models import Role
from mda.audit.models import AuditAction, AuditEvent, AuditOutcome
from mda.cases.operations import change_ave_level
from mda.db import db
from mda.huisverbod.models import HouseBanRoute, ImposedBy, OrderForm
from mda.huisverbod.operations import impose_house_ban
from mda.journal.operations import add_task
from mda.organisations.models import OrganisationKind
from mda.people.models import PersonRole
from mda.people.operations import add_person
from mda.teams.models import TeamPhase
from mda.teams.operations import add_expert
from mda.timeutil import utcnow
from tests import factories as make

MOTHER = "Anaïs van ’t Hoëk-Łukasz"
FATHER = "Jörg Müller"
CHILD = "Zoë Dupré"
MADE_AT = datetime(2026, 7, 1, 21, 30, tzinfo=timezone.utc)   # 23:30 in summer time


def _pages(data: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


def test_summary_holds_the_case_on_pages_marked_confidential(app: Flask, client, clock) -> None:
    clock(MADE_AT - timedelta(days=3))
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        coordinator.display_name = "Coördinator Brüggen"
        expert = make.user(Role.EXPERT, org=make.organisation(OrganisationKind.POLICE))
        outsider = make.user(Role.COORDINATOR)
        steering = make.user(Role.STEERING)
        case = make.case(coordinator)
        add_expert(case, expert, discipline_code="judicial", team_phase=TeamPhase.BASISTEAM, by=coordinator)
        mother = add_person(case, role=PersonRole.UNDERGOING_VIOLENCE, by=coordinator, name=MOTHER,
                            date_of_birth=date(1988, 2, 29), address="Lindelaan 4, Venlo")
        father = add_person(case, role=PersonRole.USING_VIOLENCE, by=coordinator, name=FATHER,
                            date_of_birth=date(1985, 5, 6))
        add_person(case, role=PersonRole.CHILD, by=coordinator, name=CHILD)
        change_ave_level(case, 4, by=coordinator, reason="Dreiging na de scheiding")
        make.safe_start(case, coordinator)
        impose_house_ban(case, imposed_at=utcnow() - timedelta(hours=2), imposed_by=ImposedBy.MAYOR,
                         form=OrderForm.WRITTEN, route=HouseBanRoute.A_ACUTE_POLICE, removed_person=father,
                         protected_persons=[mother], dwelling="Lindelaan 4, Venlo", facts="Feitenrelaas",
                         by=coordinator)
        for number in range(60):  # enough to need more than one page
            add_task(case, description=f"Taak {number}: bel {MOTHER} over de afspraken", owner=coordinator,
                     due_on=date(2026, 7, 10), by=coordinator)
        db.session.commit()
        case_id, reference = case.id, case.reference
        for account in (coordinator, expert, outsider, steering):
            db.session.refresh(account)

    clock(MADE_AT)
    make.login(client, coordinator)
    response = client.get(f"/casussen/{case_id}/overdracht.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="overdracht-{reference}.pdf"')
    pages = _pages(response.data)
    assert len(pages) >= 2
    for page in pages:
        assert "VERTROUWELIJK" in page and "Vertrouwelijk" in page
        assert "Gemaakt door Coördinator Brüggen op 01-07-2026 23:30 (Nederlandse tijd)" in page
        assert f"Overdrachtsamenvatting casus {reference}" in page
        assert "UTC" not in page
    text = " ".join(pages)
    for expected in (MOTHER, FATHER, CHILD, "geboren 29-02-1988", "Lindelaan 4, Venlo",
                     "Gedetacheerd expert", "AVE: 3 → 4",
                     "Dreiging na de scheiding", "Veiligheidsplan", "Versie 1", "Taak 59: bel", "Loopt",
                     f"uithuisgeplaatst: {FATHER}"):
        assert expected in text, expected
    assert re.search(r"Fase: Directe veiligheid|fase: .*Directe veiligheid", text, re.IGNORECASE)

    with app.app_context():
        exports = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "handover_summary")).all()
        assert [(event.action, event.case_id, event.user_id) for event in exports] == [
            (AuditAction.EXPORT, case_id, coordinator.id)]

    # A member expert may see the case, so may make the summary; anyone else gets 404, and it is audited.
    for account, status in ((expert, 200), (outsider, 404), (steering, 404)):
        other = app.test_client()
        make.login(other, account)
        assert other.get(f"/casussen/{case_id}/overdracht.pdf").status_code == status, account.username
    with app.app_context():
        denied = db.session.scalars(select(AuditEvent.user_id).where(
            AuditEvent.case_id == case_id, AuditEvent.outcome == AuditOutcome.DENIED)).all()
        assert set(denied) == {outsider.id, steering.id}


def test_characters_the_font_lacks_become_a_question_mark(ctx: Flask) -> None:
    from mda.documents.summary import printable
    assert printable("Zoë ’t Łukasz") == "Zoë ’t Łukasz"
    assert printable("naam 漢 en \U0001F9D1") == "naam ? en ?"
