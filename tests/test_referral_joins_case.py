"""A referral joins the running case its family is already in, instead of opening a second case."""
from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import func, select

from mda.accounts.models import Role
from mda.audit.trail import verify
from mda.cases.models import Case
from mda.db import db
from mda.journal.models import JournalEntry
from mda.people.models import Person, PersonRole
from mda.people.operations import add_person
from mda.referrals.models import Referral, ReferralStatus
from mda.referrals.operations import add_referral_person, save_draft, submit
from tests import factories as make


def _setting(app: Flask):  # noqa: ANN202
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        coordinator.display_name = "Carla Lopend"
        lead = make.user(Role.COORDINATOR, Role.TEAM_LEAD)
        vt = make.user(Role.VT_REFERRER)
        running = make.case(coordinator)
        add_person(running, role=PersonRole.UNDERGOING_VIOLENCE, by=coordinator, name="Sara Bekend", bsn=make.BSN_A)
        unrelated = make.case(coordinator)
        referral = save_draft(None, by=vt, family_label="Gezin Bekend", reason="Opnieuw geweld na het huisverbod.",
                              municipality=make.municipality("Venlo"), current_ave_level=4, intake_route="huisverbod",
                              violence_forms=["partner_violence"])
        add_referral_person(referral, by=vt, role="undergoing_violence", name="Sara Bekend", bsn=make.BSN_A)
        add_referral_person(referral, by=vt, role="child", name="Noah Nieuw", date_of_birth=date(2018, 3, 4))
        submit(referral, by=vt)
        db.session.commit()
        return lead, vt, running.id, unrelated.id, referral.id, referral.version


def test_team_lead_adds_the_referral_to_the_running_case(app: Flask) -> None:
    lead, vt, case_id, _, referral_id, version = _setting(app)
    client = app.test_client()
    make.login(client, lead)
    page = client.get(f"/triage/{referral_id}").get_data(as_text=True)
    assert "Toevoegen aan de lopende casus" in page and "al bekend in de casus" in page and "<strong>nieuw</strong>" in page
    response = client.post(f"/triage/{referral_id}/toevoegen", data={
        "toevoegen-version": version, "toevoegen-case_id": case_id, "toevoegen-note": "Loopt al bij ons."})
    assert response.status_code == 302
    with app.app_context():
        referral = db.session.get(Referral, referral_id)
        assert referral.status == ReferralStatus.ACCEPTED and referral.case_id == case_id
        assert db.session.scalar(select(func.count()).select_from(Case)) == 2  # no second case
        names = sorted(p.name for p in db.session.scalars(select(Person).where(Person.case_id == case_id)))
        assert names == ["Noah Nieuw", "Sara Bekend"]  # the known person is not doubled
        entry = db.session.scalars(select(JournalEntry).where(JournalEntry.case_id == case_id)).one()
        assert entry.body.startswith(f"Nieuwe instroom: verwijzing {referral_id}")
        assert "1 persoon was al bekend" in entry.body and "Noah Nieuw (kind)" in entry.body
        assert verify(db.session).intact
    vt_client = app.test_client()
    make.login(vt_client, vt)
    assert "Carla Lopend" in vt_client.get(f"/verwijzingen/{referral_id}").get_data(as_text=True)


def test_only_a_running_case_the_family_is_in(app: Flask) -> None:
    lead, _, case_id, unrelated_id, referral_id, version = _setting(app)
    client = app.test_client()
    make.login(client, lead)
    refused = client.post(f"/triage/{referral_id}/toevoegen", data={
        "toevoegen-version": version, "toevoegen-case_id": unrelated_id})
    assert refused.status_code == 200 and "al bekend is" in refused.get_data(as_text=True)
    missing = client.post(f"/triage/{referral_id}/toevoegen", data={"toevoegen-version": version,
                                                                   "toevoegen-case_id": "999999"})
    assert "Kies een lopende casus" in missing.get_data(as_text=True)
    stale = client.post(f"/triage/{referral_id}/toevoegen", data={"toevoegen-version": version - 1,
                                                                 "toevoegen-case_id": case_id})
    assert stale.status_code == 409
    with app.app_context():
        assert db.session.get(Referral, referral_id).status == ReferralStatus.SUBMITTED
        assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == 0
