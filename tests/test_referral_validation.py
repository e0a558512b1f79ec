"""Invalid input on every field of the referral, person and triage forms gives a Dutch message
next to the field and saves nothing."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from mda.cases.models import Case
from mda.db import db
from mda.people.models import Person
from mda.referrals.models import Referral, ReferralStatus
from mda.timeutil import today
from tests.test_referrals import (People, accept_data, add_web_person, create_draft, people,  # noqa: F401
                                  referral_data_in, signed_in, stored, submitted_referral)

TOO_LONG = "x" * 4001
# Fixed when the module is collected, and tested minutes later: a week ahead stays in the future
# when the suite runs across midnight on the Dutch calendar (one day ahead did not).
FUTURE = (today() + timedelta(days=7)).isoformat()


@pytest.mark.parametrize("field,value,message", [
    ("actie_overleg_on", FUTURE, "De datum van het Actie-overleg ligt in de toekomst."),
    ("actie_overleg_on", "2026-02-31", "Vul een geldige datum in"),
    ("actie_overleg_on", "1999-12-31", "De datum van het Actie-overleg ligt te ver terug."),
    ("intake_route", "crisis", "Kies een waarde uit de lijst."),
    ("partners_present", ["buurman"], "Kies een waarde uit de lijst."),
    ("reason", TOO_LONG, "Deze tekst is te lang: hoogstens 4000 tekens."),
    ("urgency", "morgen", "Kies een waarde uit de lijst."),
    ("violence_forms", ["ruzie"], "Kies een waarde uit de lijst."),
    ("municipality", "999999", "Kies een gemeente uit de lijst."),
    ("municipality", "Venlo", "Kies een gemeente uit de lijst."),
    ("requesting_team", "999999", "Kies een lokaal team uit de lijst."),
    ("current_ave_level", "7", "Een AVE-niveau ligt tussen 1 en 5."),
    ("house_ban_situation", "misschien", "Kies een waarde uit de lijst."),
    ("tried_before", TOO_LONG, "Deze tekst is te lang: hoogstens 4000 tekens."),
])
def test_invalid_referral_field_is_refused_in_dutch(app: Flask, people: People, field: str, value: Any,
                                                    message: str) -> None:
    vt = signed_in(app, people.vt)
    referral_id = create_draft(app, vt)
    before = stored(app, referral_id)
    changes = {"reason": "Nieuwe reden", field: value}  # the valid change of reason must not be saved either
    response = vt.post(f"/verwijzingen/{referral_id}/bewerken",
                       data={**referral_data_in(app, **changes), "version": str(before.version)})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page
    assert 'aria-invalid="true"' in page or "invalid-feedback d-block" in page
    after = stored(app, referral_id)
    assert after.version == before.version
    with app.app_context():
        assert db.session.get(Referral, referral_id).reason == "Blijft hangen na het Actie-overleg; langdurige regie nodig."


def test_invalid_new_referral_saves_nothing(app: Flask, people: People) -> None:
    vt = signed_in(app, people.vt)
    response = vt.post("/verwijzingen/nieuw", data={**referral_data_in(app, actie_overleg_on=FUTURE), "version": "nieuw"})
    assert response.status_code == 200 and "ligt in de toekomst" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Referral)) == 0


@pytest.mark.parametrize("field,value,message", [
    ("role", "", "Kies de rol van deze persoon in het cliëntsysteem."),
    ("role", "koning", "Kies de rol van deze persoon uit de lijst."),
    ("name", "", "Vul de naam van deze persoon in."),
    ("name", "n" * 201, "Deze tekst is te lang: hoogstens 200 tekens."),
    ("bsn", "123456789", "Dit BSN is ongeldig: het voldoet niet aan de elfproef."),
    ("bsn", "12ab", "Een BSN bestaat uit 9 cijfers."),
    ("bsn", "9" * 21, "Een BSN bestaat uit 9 cijfers."),
    ("date_of_birth", FUTURE, "De geboortedatum ligt in de toekomst."),
    ("date_of_birth", "gisteren", "Vul een geldige datum in"),
    ("date_of_birth", "1850-01-01", "De geboortedatum ligt voor 1900."),
    ("address", "a" * 301, "Deze tekst is te lang: hoogstens 300 tekens."),
    ("phone", "bel me", "Vul een telefoonnummer in met alleen cijfers"),
    ("phone", "0" * 41, "Deze tekst is te lang: hoogstens 40 tekens."),
    ("gender", "onbekend-anders", "Kies een waarde uit de lijst."),
])
def test_invalid_person_field_is_refused_in_dutch(app: Flask, people: People, field: str, value: str,
                                                  message: str) -> None:
    vt = signed_in(app, people.vt)
    referral_id = create_draft(app, vt)
    version = stored(app, referral_id).version
    response = add_web_person(app, vt, referral_id, **{field: value})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and message in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Person)) == 0
    assert stored(app, referral_id).version == version


def test_invalid_change_of_a_person_keeps_the_stored_values(app: Flask, people: People) -> None:
    vt = signed_in(app, people.vt)
    referral_id = create_draft(app, vt)
    assert add_web_person(app, vt, referral_id).status_code == 302
    with app.app_context():
        person_id = db.session.scalar(select(Person.id))
    from tests.test_referrals import VICTIM_NAME, person_data
    response = vt.post(f"/verwijzingen/{referral_id}/personen/{person_id}",
                       data={**person_data(name="Nieuwe Naam", bsn="111111111"),
                             "persoon-version": str(stored(app, referral_id).version)})
    assert response.status_code == 200 and "elfproef" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Person, person_id).name == VICTIM_NAME


@pytest.mark.parametrize("form,data,message", [
    ("accepteren", {"coordinator": "0"}, "Kies een actieve MDA++-coördinator voor deze casus."),
    ("accepteren", {"coordinator": "999999"}, "Kies een coördinator uit de lijst."),
    ("accepteren", {"ave_level": "9"}, "Een AVE-niveau ligt tussen 1 en 5."),
    ("accepteren", {"note": "n" * 2001}, "Deze tekst is te lang: hoogstens 2000 tekens."),
    ("afwijzen", {"reason": ""}, "Geef de reden van de afwijzing"),
    ("afwijzen", {"reason": "r" * 2001}, "Deze tekst is te lang: hoogstens 2000 tekens."),
    ("doorgeleiden", {"target": "", "advice": "Advies"}, "Kies naar wie de verwijzing wordt doorgeleid."),
    ("doorgeleiden", {"target": "politie", "advice": "Advies"}, "Kies naar wie de verwijzing wordt doorgeleid."),
    ("doorgeleiden", {"target": "local_team", "advice": ""}, "Geef een advies bij het doorgeleiden"),
])
def test_invalid_triage_decision_is_refused_in_dutch(app: Flask, people: People, form: str, data: dict[str, str],
                                                     message: str) -> None:
    vt = signed_in(app, people.vt)
    referral_id = submitted_referral(app, vt)
    lead = signed_in(app, people.lead)
    version = stored(app, referral_id).version
    if form == "accepteren":
        fields = {**accept_data(app, referral_id, people.coordinator),
                  **{f"accepteren-{key}": value for key, value in data.items()}}
    else:
        fields = {f"{form}-{key}": value for key, value in {**data, "version": str(version)}.items()}
    url = {"accepteren": "accepteren", "afwijzen": "afwijzen", "doorgeleiden": "doorgeleiden"}[form]
    response = lead.post(f"/triage/{referral_id}/{url}", data=fields)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    after = stored(app, referral_id)
    assert after.status == ReferralStatus.SUBMITTED and after.version == version
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_a_user_without_the_coordinator_role_cannot_be_made_coordinator(app: Flask, people: People) -> None:
    vt = signed_in(app, people.vt)
    referral_id = submitted_referral(app, vt)
    from mda.referrals import operations
    with app.app_context():
        from mda.accounts.models import User
        referral = db.session.get(Referral, referral_id)
        with pytest.raises(Exception, match="actieve MDA"):
            operations.accept(referral, by=db.session.get(User, people.lead.id),
                              coordinator=db.session.get(User, people.vt.id))
        db.session.rollback()
