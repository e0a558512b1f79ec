"""Forms that keep their place: post/redirect/get back to the section with the confirmation there,
refused forms with an error summary linked to the fields, three kinds of messages, the referral's
check before submitting, deleting a draft, and relations read as sentences."""
from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mda.accounts.models import Role, User
from mda.audit.models import AuditAction, AuditEvent
from mda.db import db
from mda.people.models import Person, PersonRelation, PersonRole, RelationKind
from mda.people.operations import add_person, relate
from mda.people.identity import GenderCategory
from mda.referrals.models import Referral, ReferralStatus
from tests import factories as make
from tests.test_referrals import (People, add_web_person, create_draft, people, signed_in,  # noqa: F401
                                  stored)


def _section(page: str, anchor: str) -> str:
    """The HTML of the element with id ``anchor`` up to the next section-level element."""
    start = page.index(f'id="{anchor}"')
    return page[start:start + 4000]


def _case_client(app: Flask) -> tuple[FlaskClient, int]:
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case = make.case(coordinator)
        db.session.commit()
        case_id = case.id
    client = app.test_client()
    make.login(client, coordinator)
    return client, case_id


def test_a_save_returns_to_its_section_with_the_confirmation_there(app: Flask) -> None:
    client, case_id = _case_client(app)
    response = client.post(f"/casussen/{case_id}/journaal", data={
        "kind": "contact_family", "occurred_at": "2026-01-05T10:00", "body": "Huisbezoek."})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/casussen/{case_id}/journaal#journaal-toevoegen"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    section = _section(page, "journaal-toevoegen")
    assert 'class="alert alert-success flash-message" role="status"><strong>Gelukt:</strong> ' \
           "Het journaalbericht is vastgelegd." in section
    top = page[:page.index('id="journaal-toevoegen"')]
    assert "Het journaalbericht is vastgelegd." not in top                  # said once, at the form
    assert "Het journaalbericht is vastgelegd." not in client.get(
        f"/casussen/{case_id}/journaal").get_data(as_text=True)              # and only once


def test_a_refused_form_keeps_the_typing_and_sums_up_its_errors_at_the_top(app: Flask) -> None:
    client, case_id = _case_client(app)
    response = client.post(f"/casussen/{case_id}/journaal", data={
        "kind": "contact_family", "occurred_at": "", "body": "Wat ik typte"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    form = page[page.index(f'action="/casussen/{case_id}/journaal#journaal-toevoegen"'):]
    summary = re.search(r'<div class="alert alert-danger error-summary" role="alert" tabindex="-1"(.*?)</div>',
                        form, re.S)
    assert summary is not None and form.index("error-summary") < form.index('name="kind"')
    assert '<a href="#occurred_at">Datum en tijd: Vul datum en tijd in.</a>' in summary.group(1)
    assert 'aria-invalid="true"' in form and "Wat ik typte" in form
    assert 'id="occurred_at-fout"' in form                                   # and the message at the field


def test_required_fields_are_marked_in_words(app: Flask) -> None:
    client, case_id = _case_client(app)
    page = client.get(f"/casussen/{case_id}/journaal").get_data(as_text=True)
    assert re.search(r'<label class="form-label" for="body">Verslag</label> <span class="required-mark" '
                     r'aria-hidden="true">\(verplicht\)</span>',
                     page)
    assert re.search(r'<textarea[^>]*id="body"[^>]*required|<textarea[^>]*required[^>]*id="body"', page)


def test_dates_default_to_today_where_users_mean_today(app: Flask) -> None:
    from mda.timeutil import today
    client, case_id = _case_client(app)
    page = client.get(f"/casussen/{case_id}/veiligheid/").get_data(as_text=True)
    assert f'value="{today().isoformat()}"' in _section(page, "taxatie-vastleggen")


def test_messages_of_three_kinds_look_and_sound_different(app: Flask) -> None:
    with app.test_request_context("/"):
        from flask import flash, render_template_string
        flash("Opgeslagen.")
        flash("Pas op.", "warning")
        flash("Mislukt.", "error")
        html = render_template_string('{% from "_messages.html" import page_messages %}{{ page_messages() }}')
    assert 'alert-success flash-message" role="status"><strong>Gelukt:</strong> Opgeslagen.' in html
    assert 'alert-warning flash-message" role="status"><strong>Let op:</strong> Pas op.' in html
    assert 'alert-danger flash-message" role="alert"><strong>Niet gelukt:</strong> Mislukt.' in html


def test_veilig_thuis_checks_the_whole_referral_before_submitting(app: Flask, people: People) -> None:
    vt = signed_in(app, people.vt)
    referral_id = create_draft(app, vt)
    response = add_web_person(app, vt, referral_id)
    assert response.headers["Location"] == f"/verwijzingen/{referral_id}/bewerken#persoon-toevoegen"
    assert add_web_person(app, vt, referral_id, role="using_violence", name="Mark de Vries",
                          bsn=make.BSN_B, gender="male").status_code == 302
    with app.app_context():
        victim, perpetrator = db.session.scalars(select(Person).where(Person.referral_id == referral_id)
                                                 .order_by(Person.id)).all()
        db.session.add(PersonRelation(person_id=perpetrator.id, other_person_id=victim.id, kind=RelationKind.PARTNER))
        db.session.commit()
        victim_name = victim.name
    edit = vt.get(f"/verwijzingen/{referral_id}/bewerken").get_data(as_text=True)
    assert f'href="/verwijzingen/{referral_id}/controleren"' in edit
    assert f'action="/verwijzingen/{referral_id}/indienen' not in edit        # no submit without the summary
    review = vt.get(f"/verwijzingen/{referral_id}/controleren")
    page = review.get_data(as_text=True)
    assert review.status_code == 200
    assert "Blijft hangen na het Actie-overleg" in page and victim_name in page
    assert f"Mark de Vries is partner van {victim_name}" in page
    assert f'href="/verwijzingen/{referral_id}/bewerken"' in page             # back to change it
    assert stored(app, referral_id).status == ReferralStatus.DRAFT            # looking submits nothing
    response = vt.post(f"/verwijzingen/{referral_id}/indienen",
                       data={"indienen-version": str(stored(app, referral_id).version)})
    assert response.status_code == 302 and stored(app, referral_id).status == ReferralStatus.SUBMITTED
    assert vt.get(f"/verwijzingen/{referral_id}/controleren").status_code == 404   # no longer editable


def test_a_refused_submit_shows_its_errors_on_the_summary(app: Flask, people: People) -> None:
    vt = signed_in(app, people.vt)
    referral_id = create_draft(app, vt)
    response = vt.post(f"/verwijzingen/{referral_id}/indienen",
                       data={"indienen-version": str(stored(app, referral_id).version)})
    page = response.get_data(as_text=True)
    assert "error-summary" in page and "De verwijzing is nog niet compleet" in page
    assert f'action="/verwijzingen/{referral_id}/indienen#indienen"' in page


def test_a_draft_can_be_deleted_with_its_persons_and_that_is_audited(app: Flask, people: People) -> None:
    vt = signed_in(app, people.vt)
    referral_id = create_draft(app, vt)
    add_web_person(app, vt, referral_id)
    version = stored(app, referral_id).version
    refused = vt.post(f"/verwijzingen/{referral_id}/verwijderen", data={"weggooien-version": str(version - 1)})
    assert refused.status_code == 302
    with app.app_context():
        assert db.session.get(Referral, referral_id) is not None                # a stale page deletes nothing
    response = vt.post(f"/verwijzingen/{referral_id}/verwijderen", data={"weggooien-version": str(version)})
    assert response.status_code == 302 and response.headers["Location"] == "/verwijzingen/"
    with app.app_context():
        assert db.session.get(Referral, referral_id) is None
        assert db.session.scalars(select(Person).where(Person.referral_id == referral_id)).all() == []
        deletes = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.DELETE)).all()
        assert {(e.object_type, e.detail) for e in deletes} >= {("referral", "concept verwijderd")}
        assert any(e.object_type == "person" for e in deletes)


def test_a_submitted_referral_cannot_be_deleted(app: Flask, people: People) -> None:
    from tests.test_referrals import submitted_referral
    vt = signed_in(app, people.vt)
    referral_id = submitted_referral(app, vt)
    version = stored(app, referral_id).version
    vt.post(f"/verwijzingen/{referral_id}/verwijderen", data={"weggooien-version": str(version)})
    assert stored(app, referral_id).status == ReferralStatus.SUBMITTED


def test_relations_read_as_sentences(app: Flask) -> None:
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case = make.case(coordinator)
        mark = add_person(case, role=PersonRole.USING_VIOLENCE, gender=GenderCategory.MALE, by=coordinator,
                          name="Mark de Vries")
        sanne = add_person(case, role=PersonRole.UNDERGOING_VIOLENCE, gender=GenderCategory.FEMALE,
                           by=coordinator, name="Sanne de Vries")
        relate(mark, sanne, RelationKind.PARTNER, by=coordinator)
        db.session.commit()
        case_id = case.id
    client = app.test_client()
    make.login(client, coordinator)
    page = client.get(f"/casussen/{case_id}/clientsysteem/").get_data(as_text=True)
    assert "Mark de Vries is partner van Sanne de Vries" in page
    assert "<th scope=\"col\">Geslacht</th>" in page


def test_the_fast_html_params_write_what_wtforms_writes() -> None:
    """mda.forms replaces WTForms' html_params (slow: Markup.format per attribute) with one that must
    give the same HTML; an upgrade of WTForms that changes the original shows here."""
    from markupsafe import Markup
    from wtforms import BooleanField, Form as PlainForm, SelectField, StringField, widgets
    from wtforms.fields.choices import SelectChoice
    from wtforms.widgets import core

    from mda.forms import WTFORMS_HTML_PARAMS, _html_params
    cases = [
        {}, {"name": "q", "id": "kopzoek", "class_": "form-control"}, {"checked": True, "readonly": False, "x": 1},
        {"data_bs_toggle": "collapse", "aria_describedby": "a-hint", "for_": "f"},
        {"value": '"><script>alert(1)</script>&amp;'}, {"value": Markup('<b title="x">')}, {"value": 0},
        {"placeholder": "Zoek casus, BSN, naam…", "maxlength": 200}, {"value": "D’Souza & co's"},
    ]
    for kwargs in cases:
        assert _html_params(**kwargs) == WTFORMS_HTML_PARAMS(**kwargs), kwargs
        assert isinstance(_html_params(**kwargs), Markup)
    assert core.html_params is widgets.html_params is _html_params
    assert core.Input.html_params is _html_params and core.Button.html_params is _html_params

    class Sample(PlainForm):
        naam = StringField("Naam <i>", render_kw={"data_x": 'a"b'})
        keuze = SelectField("Keuze", choices=[SelectChoice("1", "Eén & <twee>"), SelectChoice("2", "Twee")], default="2")
        vink = BooleanField("Vink", default=True)
    form = Sample()
    html = form.naam() + form.naam.label() + form.keuze() + form.vink()
    assert 'data-x="a&#34;b"' in html and "Naam &lt;i&gt;" in html
    assert '<option selected value="2">Twee</option>' in html and "Eén &amp; &lt;twee&gt;" in html
    assert 'checked' in html and 'type="checkbox"' in html
