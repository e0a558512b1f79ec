"""Every route, requested by every role and anonymously, answers exactly what the policy allows.

A route that is not listed in ROUTES makes the test fail: adding a page means deciding here
who may reach it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mda.accounts.models import Role, User
from mda.cases.models import Case
from mda.db import db
from mda.journal.operations import add_task
from mda.organisations.models import OrganisationKind
from mda.people.models import PersonRole
from mda.people.operations import add_person
from mda.referrals.models import ApiToken, ConsultationQuestion, Referral, ReferralStatus
from mda.teams.models import TeamPhase
from mda.teams.operations import add_expert, end_expert_membership
from tests import factories as make

ROLES = ["anonymous", "coordinator", "team_lead", "expert", "vt_referrer", "steering", "admin", "privacy"]
SIGNED_IN = frozenset(ROLES) - {"anonymous"}

# Values that identify a family; none may reach a page the steering group can open.
PERSON_NAME, PERSON_BSN, PERSON_ADDRESS = "Anna Matrixvoorbeeld", make.BSN_A, "Matrixlaan 3, Venlo"
OTHER_NAME = "Bram Anderezaak"


@dataclass
class World:
    users: dict[str, User]
    own_case: Case       # the coordinator's and the expert's case
    other_case: Case     # nobody's but the team lead's to see
    other_coordinator: User
    own_referral: Referral
    foreign_referral: Referral
    own_ban_id: int = 0                             # a running huisverbod on the own case
    own_person_id: int = 0
    own_task_id: int = 0
    expert_membership_id: int = 0
    own_draft: Referral | None = None               # a draft of the VT user's organisation
    own_draft_person_id: int = 0
    api_token: ApiToken | None = None
    consultation: ConsultationQuestion | None = None
    own_attachment_id: int = 0                      # a document kept with the own case
    coordinator_notification_id: int = 0            # a notification in the coordinator's inbox
    outbox_message_id: int = 0
    release_id: int = 0                             # a published release of the steering information


def _release_world() -> int:
    from mda.metrics.operations import publish_release, quarter
    release = publish_release(quarter(2025, 1), by=None, config={})   # an ended quarter
    return release.id


@pytest.fixture
def world(app: Flask) -> Iterator[World]:
    with app.app_context():
        team_org = make.organisation(OrganisationKind.MDA_TEAM)
        vt_org = make.organisation(OrganisationKind.VEILIG_THUIS)
        users = {
            "coordinator": make.user(Role.COORDINATOR, org=team_org),
            "team_lead": make.user(Role.COORDINATOR, Role.TEAM_LEAD, org=team_org),
            "expert": make.user(Role.EXPERT, org=make.organisation(OrganisationKind.POLICE)),
            "vt_referrer": make.user(Role.VT_REFERRER, org=vt_org),
            "steering": make.user(Role.STEERING, org=make.organisation(OrganisationKind.STEERING_GROUP)),
            "admin": make.user(Role.ADMIN),
            "privacy": make.user(Role.PRIVACY_OFFICER),
        }
        other_coordinator = make.user(Role.COORDINATOR, org=team_org)
        own_case = make.case(users["coordinator"])
        other_case = make.case(other_coordinator)
        membership = add_expert(own_case, users["expert"], discipline_code="judicial",
                                team_phase=TeamPhase.BASISTEAM, by=users["coordinator"])
        task = add_task(own_case, description="Bel de school", owner=users["coordinator"], due_on=date.today(),
                        by=users["coordinator"])
        own_person = add_person(own_case, role=PersonRole.UNDERGOING_VIOLENCE, by=users["coordinator"], name=PERSON_NAME,
                   bsn=PERSON_BSN, address=PERSON_ADDRESS)
        add_person(other_case, role=PersonRole.USING_VIOLENCE, by=other_coordinator, name=OTHER_NAME)
        own_referral = _referral(vt_org.id, users["vt_referrer"].id)
        foreign_referral = _referral(make.organisation(OrganisationKind.VEILIG_THUIS).id, users["vt_referrer"].id)
        db.session.commit()
        yield World(users, own_case, other_case, other_coordinator, own_referral, foreign_referral,
                    own_person_id=own_person.id, own_task_id=task.id, expert_membership_id=membership.id,
                    **_referral_world(users, vt_org.id), **_house_ban_world(own_case, users["coordinator"]),
                    **_document_world(own_case, users["coordinator"]), **_notification_world(own_case, users),
                    release_id=_release_world(), **_plan_world(own_case, other_case, users["coordinator"],
                                                               other_coordinator))


def _plan_world(own_case: Case, other_case: Case, coordinator: User, other_coordinator: User) -> dict[str, object]:
    """A safety plan (version 1) on both cases, for the print view."""
    from datetime import timedelta

    from mda.safety.operations import agree_safety_plan
    from mda.timeutil import today
    for case, by in ((own_case, coordinator), (other_case, other_coordinator)):
        agree_safety_plan(case, agreed_on=today(), review_on=today() + timedelta(days=30), agreements="Afspraken",
                          agreed_by="Gezin", by=by)
    db.session.commit()
    return {}


def _document_world(case: Case, by: User) -> dict[str, object]:
    import io

    from mda.documents.models import AttachmentKind
    from mda.documents.operations import upload
    attachment = upload(case, source=io.BytesIO(b"%PDF-1.7\n" + b"0" * 100), file_name="beschikking.pdf",
                        kind=AttachmentKind.DECISION, description="Beschikking", by=by)
    db.session.commit()
    return {"own_attachment_id": attachment.id}


def _notification_world(case: Case, users: dict[str, User]) -> dict[str, object]:
    """A task given to the coordinator by the expert: a notification in the coordinator's inbox
    and an e-mail in the outbox."""
    from mda.notifications.models import Notification, OutboxMessage
    add_task(case, description="Taak voor de coördinator", owner=users["coordinator"], due_on=date.today(),
             by=users["expert"])
    note = db.session.query(Notification).filter_by(recipient_id=users["coordinator"].id).one()
    message = OutboxMessage(recipient_id=users["coordinator"].id, subject="MDA++", body="x", message_id="<m@test>")
    db.session.add(message)
    db.session.commit()
    return {"coordinator_notification_id": note.id, "outbox_message_id": message.id}


def _referral_world(users: dict[str, User], vt_org_id: int) -> dict[str, object]:
    """A draft with one person, an API key and a consultation question, for the referral routes."""
    from mda.referrals.consultations import record_consultation
    from mda.referrals.operations import add_referral_person, save_draft
    from mda.referrals.tokens import issue_token
    from mda.organisations.models import Organisation
    from mda.timeutil import today
    draft = save_draft(None, by=users["vt_referrer"])
    person = add_referral_person(draft, by=users["vt_referrer"], role=PersonRole.CHILD, name="Kim Conceptkind")
    token, _ = issue_token(db.session.get(Organisation, vt_org_id), label="Registratiesysteem", by=users["admin"])
    question = record_consultation(by=users["coordinator"], asked_on=today(),
                                   asking_organisation=make.organisation(OrganisationKind.LOCAL_TEAM),
                                   municipality=make.municipality(), question="Opschalen bij herhaald geweld?",
                                   advice=None, advised_on=None, minutes_spent=None, escalation_advised=False,
                                   led_to_referral=False)
    db.session.commit()
    return {"own_draft": draft, "own_draft_person_id": person.id, "api_token": token, "consultation": question}


def _house_ban_world(case: Case, by: User) -> dict[str, object]:
    """A running huisverbod on the case, written directly: the routes only need it to exist
    (imposing it properly would add persons to the case that other tests count)."""
    from datetime import timedelta

    from mda.huisverbod import deadlines
    from mda.huisverbod.models import HouseBan, HouseBanRoute, ImposedBy, OrderForm
    from mda.people.models import Person
    from mda.timeutil import utcnow
    person = db.session.query(Person).filter_by(case_id=case.id).order_by(Person.id).first()
    imposed = utcnow() - timedelta(days=1)
    ban = HouseBan(case_id=case.id, municipality_id=case.municipality_id, imposed_at=imposed,
                   imposed_by=ImposedBy.MAYOR, form=OrderForm.WRITTEN, route=HouseBanRoute.A_ACUTE_POLICE,
                   removed_person_id=person.id, ends_at=deadlines.initial_end(imposed),
                   casemanagement_until=deadlines.casemanagement_end(imposed), recorded_by_id=by.id)
    ban.dwelling = PERSON_ADDRESS
    db.session.add(ban)
    db.session.commit()
    return {"own_ban_id": ban.id}


def _referral(organisation_id: int, created_by_id: int) -> Referral:
    referral = Referral(organisation_id=organisation_id, created_by_id=created_by_id,
                        status=ReferralStatus.SUBMITTED)
    db.session.add(referral)
    db.session.flush()
    return referral


@dataclass(frozen=True)
class Route:
    method: str
    url: Callable[[World], str]
    allowed: frozenset[str]
    denied_status: int = 403   # 404 where the route names an object the user may not see
    public: bool = False
    public_statuses: tuple[int, ...] = (200, 302)   # what a public route answers without a session


def only(*roles: str) -> frozenset[str]:
    return frozenset(roles)


CASE_READERS = only("coordinator", "team_lead", "expert")   # on the own case; others get 404
CASE_EDITORS = only("coordinator", "expert")                # members of the case: journal, tasks, assessments
CASE_DIRECTORS = only("coordinator")                        # casusregie (phase, AVE, plan, client system,
#                                                             participation, huisverbod): the case's coordinator
TEAM_MANAGERS = only("coordinator", "team_lead")


def case_routes(method: str, path: str, own: frozenset[str], other: frozenset[str] = frozenset()) -> list[Route]:
    """A route under /casussen/<id>: tried on the user's own case and on a case that is not theirs."""
    return [Route(method, lambda w: f"/casussen/{w.own_case.id}{path.format(w=w)}", own, 404),
            Route(method, lambda w: f"/casussen/{w.other_case.id}{path.format(w=w)}", other, 404)]


ROUTES: dict[str, list[Route]] = {
    # Public routes: reachable by all; without a password step first the code and enrolment
    # pages send everyone back to the login page, and a signed-in user goes on to the start page.
    "static": [Route("GET", lambda w: "/static/style.css", frozenset(ROLES), public=True)],
    "bootstrap.static": [Route("GET", lambda w: "/bootstrap/static/css/bootstrap.min.css", frozenset(ROLES),
                               public=True)],
    "auth.login": [Route("GET", lambda w: "/inloggen", frozenset(ROLES), public=True)],
    "auth.second_factor": [Route("GET", lambda w: "/inloggen/code", frozenset(ROLES), public=True)],
    "auth.enrol": [Route("GET", lambda w: "/inloggen/koppelen", frozenset(ROLES), public=True)],
    "home.index": [Route("GET", lambda w: "/", SIGNED_IN)],
    "auth.renew_session": [Route("POST", lambda w: "/sessie/verlengen", SIGNED_IN)],
    "cases.index": [Route("GET", lambda w: "/casussen/", only("coordinator", "team_lead", "expert")),
                    Route("GET", lambda w: "/casussen/?alle=1", only("coordinator", "team_lead", "expert"))],
    "cases.detail": [
        Route("GET", lambda w: f"/casussen/{w.own_case.id}", only("coordinator", "team_lead", "expert"), 404),
        Route("GET", lambda w: f"/casussen/{w.other_case.id}", only("team_lead"), 404),
        Route("GET", lambda w: "/casussen/999999", only(), 404),
    ],
    "cases.track": case_routes("GET", "/fasen", CASE_READERS, only("team_lead")),
    "cases.move_phase": case_routes("POST", "/fase", CASE_DIRECTORS),
    "cases.change_ave": case_routes("POST", "/ave", CASE_DIRECTORS),
    "cases.close": case_routes("POST", "/afsluiten", CASE_DIRECTORS),
    "cases.follow_up": case_routes("POST", "/follow-up", CASE_DIRECTORS),
    "cases.reopen": case_routes("POST", "/heropenen", CASE_DIRECTORS),
    "cases.family_label": case_routes("POST", "/gezinslabel", CASE_DIRECTORS),
    "search.index": [Route("GET", lambda w: "/zoeken", only("coordinator", "team_lead", "expert", "vt_referrer")),
                     Route("POST", lambda w: "/zoeken", only("coordinator", "team_lead", "expert", "vt_referrer"))],
    "worklist.my_tasks": [Route("GET", lambda w: "/mijn-taken", only("coordinator", "team_lead", "expert"))],
    "worklist.finish_task": [Route("POST", lambda w: f"/mijn-taken/{w.own_task_id}/afronden", CASE_EDITORS, 404),
                             Route("POST", lambda w: "/mijn-taken/999999/afronden", only(), 404)],
    "people.index": case_routes("GET", "/clientsysteem/", CASE_READERS, only("team_lead")),
    # The client system is casusregie: the expert sees the persons but does not add, change or relate them.
    "people.create": case_routes("POST", "/clientsysteem/personen", CASE_DIRECTORS),
    "people.edit": case_routes("GET", "/clientsysteem/personen/{w.own_person_id}", CASE_DIRECTORS)
    + case_routes("POST", "/clientsysteem/personen/{w.own_person_id}", CASE_DIRECTORS),
    "people.create_relation": case_routes("POST", "/clientsysteem/relaties", CASE_DIRECTORS),
    "teams.index": case_routes("GET", "/team/", CASE_READERS, only("team_lead")),
    "teams.replace_coordinator": case_routes("POST", "/team/coordinator", TEAM_MANAGERS, only("team_lead")),
    "teams.add": case_routes("POST", "/team/experts", TEAM_MANAGERS, only("team_lead")),
    "teams.end": case_routes("POST", "/team/{w.expert_membership_id}/beeindigen", TEAM_MANAGERS),
    "safety.index": case_routes("GET", "/veiligheid/", CASE_READERS, only("team_lead")),
    "safety.create_plan": case_routes("POST", "/veiligheid/plannen", CASE_DIRECTORS),
    "safety.create_assessment": case_routes("POST", "/veiligheid/taxaties", CASE_EDITORS),
    # The print view of plan version 1 (both cases have one: see _plan_world); a missing version is 404.
    "safety.print_plan": case_routes("GET", "/veiligheid/plannen/1/afdrukken", CASE_READERS, only("team_lead"))
    + [Route("GET", lambda w: f"/casussen/{w.own_case.id}/veiligheid/plannen/9/afdrukken", frozenset(), 404)],
    "journal.index": case_routes("GET", "/journaal", CASE_READERS, only("team_lead")),
    "journal.create_entry": case_routes("POST", "/journaal", CASE_EDITORS),
    "journal.search_entries": case_routes("POST", "/journaal/zoeken", CASE_READERS, only("team_lead")),
    "journal.create_task": case_routes("POST", "/taken", CASE_EDITORS),
    "journal.finish_task": case_routes("POST", "/taken/{w.own_task_id}/afronden", CASE_EDITORS),
    "journal.participation": case_routes("GET", "/participatie", CASE_READERS, only("team_lead"))
    + case_routes("POST", "/participatie", CASE_DIRECTORS),  # the family's participation is casusregie
    # Documents: read by whoever may see the case, kept, replaced and deleted by its members; a
    # document addressed through another case is nobody's.
    "documents.index": case_routes("GET", "/documenten", CASE_READERS, only("team_lead")),
    "documents.upload_document": case_routes("POST", "/documenten", CASE_EDITORS),
    "documents.detail": case_routes("GET", "/documenten/{w.own_attachment_id}", CASE_READERS),
    "documents.download": case_routes("GET", "/documenten/{w.own_attachment_id}/downloaden", CASE_READERS),
    "documents.replace_document": case_routes("POST", "/documenten/{w.own_attachment_id}/vervangen", CASE_EDITORS),
    "documents.delete_document": case_routes("POST", "/documenten/{w.own_attachment_id}/verwijderen", CASE_EDITORS),
    "documents.summary": case_routes("GET", "/overdracht.pdf", CASE_READERS, only("team_lead")),
    # Huisverboden: the deadlines view for coordinators and the team lead; the case tab for whoever
    # may see the case; imposing and every event form only for the coordinator of the case (casusregie).
    "huisverbod.overview": [Route("GET", lambda w: "/huisverboden", only("coordinator", "team_lead"))],
    "huisverbod.case_orders": [
        Route("GET", lambda w: f"/casussen/{w.own_case.id}/huisverboden", only("coordinator", "team_lead", "expert"),
              404),
        Route("GET", lambda w: f"/casussen/{w.other_case.id}/huisverboden", only("team_lead"), 404),
    ],
    "huisverbod.impose": [
        Route("GET", lambda w: f"/casussen/{w.own_case.id}/huisverboden/nieuw", CASE_DIRECTORS, 404),
        Route("POST", lambda w: f"/casussen/{w.own_case.id}/huisverboden/nieuw", CASE_DIRECTORS, 404),
        Route("GET", lambda w: f"/casussen/{w.other_case.id}/huisverboden/nieuw", only(), 404),
    ],
    **{f"huisverbod.{endpoint}": [
        Route("POST", lambda w, part=part: f"/casussen/{w.own_case.id}/huisverboden/{w.own_ban_id}/{part}",
              CASE_DIRECTORS, 404),
        # The order addressed through another case: nobody, not even the team lead.
        Route("POST", lambda w, part=part: f"/casussen/{w.other_case.id}/huisverboden/{w.own_ban_id}/{part}",
              only(), 404),
    ] for endpoint, part in [("extend", "verlengen"), ("decline_extension", "niet-verlengen"),
                             ("withdraw", "intrekken"), ("written_up", "schriftelijk"),
                             ("reachability", "bereikbaarheid"), ("appeal", "beroep"), ("hearing", "zitting"),
                             ("ruling", "uitspraak"), ("breach", "overtreding"),
                             ("casemanagement_start", "casemanagement-start"),
                             ("casemanagement_end", "casemanagement-einde")]},
    "reference.index": [Route("GET", lambda w: "/beheer/referentiegegevens", only("admin"))],
    "reference.create_organisation": [Route("POST", lambda w: "/beheer/organisaties", only("admin"))],
    "reference.edit_organisation": [
        Route("GET", lambda w: f"/beheer/organisaties/{w.users['admin'].organisation_id}", only("admin")),
        Route("POST", lambda w: f"/beheer/organisaties/{w.users['admin'].organisation_id}", only("admin"))],
    "reference.edit_ave_level": [Route("POST", lambda w: "/beheer/ave-niveaus/3", only("admin"))],
    "reference.edit_discipline": [Route("POST", lambda w: "/beheer/disciplines/medical", only("admin"))],
    "audit.search": [Route("GET", lambda w: "/audit/", only("privacy"))],
    "audit.export": [Route("GET", lambda w: "/audit/export.csv", only("privacy"))],
    "admin_users.index": [Route("GET", lambda w: "/beheer/gebruikers/", only("admin"))],
    "admin_users.create": [Route("GET", lambda w: "/beheer/gebruikers/nieuw", only("admin")),
                           Route("POST", lambda w: "/beheer/gebruikers/nieuw", only("admin"))],
    "admin_users.edit": [Route("GET", lambda w: f"/beheer/gebruikers/{w.other_coordinator.id}", only("admin")),
                         Route("POST", lambda w: f"/beheer/gebruikers/{w.other_coordinator.id}", only("admin"))],
    "admin_users.set_active": [Route("POST", lambda w: f"/beheer/gebruikers/{w.other_coordinator.id}/actief",
                                     only("admin"))],
    "admin_users.reset_mfa": [Route("POST", lambda w: f"/beheer/gebruikers/{w.other_coordinator.id}/mfa-herstellen",
                                    only("admin"))],
    "admin_users.reset_password": [Route("POST",
                                         lambda w: f"/beheer/gebruikers/{w.other_coordinator.id}/wachtwoord",
                                         only("admin"))],
    # Referrals (Veilig Thuis), triage (team lead), consultation questions, API keys and the API.
    "referrals.index": [Route("GET", lambda w: "/verwijzingen/", only("vt_referrer"))],
    "referrals.create": [Route("GET", lambda w: "/verwijzingen/nieuw", only("vt_referrer")),
                         Route("POST", lambda w: "/verwijzingen/nieuw", only("vt_referrer"))],
    "referrals.detail": [
        Route("GET", lambda w: f"/verwijzingen/{w.own_referral.id}", only("vt_referrer", "team_lead"), 404),
        Route("GET", lambda w: f"/verwijzingen/{w.foreign_referral.id}", only("team_lead"), 404),
        Route("GET", lambda w: f"/verwijzingen/{w.own_draft.id}", only("vt_referrer"), 404),
        Route("GET", lambda w: "/verwijzingen/999999", only(), 404),
    ],
    "referrals.edit": [
        Route("GET", lambda w: f"/verwijzingen/{w.own_draft.id}/bewerken", only("vt_referrer"), 404),
        Route("POST", lambda w: f"/verwijzingen/{w.own_draft.id}/bewerken", only("vt_referrer"), 404),
        Route("GET", lambda w: f"/verwijzingen/{w.own_referral.id}/bewerken", only(), 404),  # submitted
        Route("GET", lambda w: f"/verwijzingen/{w.foreign_referral.id}/bewerken", only(), 404),
    ],
    "referrals.add_person": [
        Route("POST", lambda w: f"/verwijzingen/{w.own_draft.id}/personen", only("vt_referrer"), 404),
        Route("POST", lambda w: f"/verwijzingen/{w.foreign_referral.id}/personen", only(), 404)],
    "referrals.edit_person": [
        Route("GET", lambda w: f"/verwijzingen/{w.own_draft.id}/personen/{w.own_draft_person_id}",
              only("vt_referrer"), 404),
        Route("POST", lambda w: f"/verwijzingen/{w.own_draft.id}/personen/{w.own_draft_person_id}",
              only("vt_referrer"), 404),
        Route("GET", lambda w: f"/verwijzingen/{w.foreign_referral.id}/personen/{w.own_draft_person_id}",
              only(), 404)],
    "referrals.remove_person": [
        Route("POST", lambda w: f"/verwijzingen/{w.own_draft.id}/personen/{w.own_draft_person_id}/verwijderen",
              only("vt_referrer"), 404)],
    "referrals.submit": [Route("POST", lambda w: f"/verwijzingen/{w.own_draft.id}/indienen", only("vt_referrer"),
                               404),
                         Route("POST", lambda w: f"/verwijzingen/{w.foreign_referral.id}/indienen", only(), 404)],
    "referrals.review": [Route("GET", lambda w: f"/verwijzingen/{w.own_draft.id}/controleren", only("vt_referrer"),
                               404),
                         Route("GET", lambda w: f"/verwijzingen/{w.foreign_referral.id}/controleren", only(), 404)],
    # Without the version the form is refused: the draft stays for the routes after this one.
    "referrals.delete_draft": [Route("POST", lambda w: f"/verwijzingen/{w.own_draft.id}/verwijderen",
                                     only("vt_referrer"), 404),
                               Route("POST", lambda w: f"/verwijzingen/{w.foreign_referral.id}/verwijderen", only(),
                                     404)],
    "referrals.triage_index": [Route("GET", lambda w: "/triage/", only("team_lead"))],
    "referrals.triage_detail": [
        Route("GET", lambda w: f"/triage/{w.own_referral.id}", only("team_lead"), 404),
        Route("GET", lambda w: f"/triage/{w.foreign_referral.id}", only("team_lead"), 404),
        Route("GET", lambda w: f"/triage/{w.own_draft.id}", only(), 404),  # drafts are not shared yet
    ],
    "referrals.accept": [Route("POST", lambda w: f"/triage/{w.own_referral.id}/accepteren", only("team_lead"), 404)],
    "referrals.decline": [Route("POST", lambda w: f"/triage/{w.own_referral.id}/afwijzen", only("team_lead"), 404)],
    "referrals.join_case": [Route("POST", lambda w: f"/triage/{w.own_referral.id}/toevoegen", only("team_lead"), 404)],
    "referrals.redirect_referral": [Route("POST", lambda w: f"/triage/{w.own_referral.id}/doorgeleiden",
                                          only("team_lead"), 404)],
    "referrals.consultations_index": [Route("GET", lambda w: "/consultvragen/", only("coordinator", "team_lead"))],
    "referrals.consultation_create": [
        Route("GET", lambda w: "/consultvragen/nieuw", only("coordinator", "team_lead")),
        Route("POST", lambda w: "/consultvragen/nieuw", only("coordinator", "team_lead"))],
    "referrals.consultation_edit": [
        Route("GET", lambda w: f"/consultvragen/{w.consultation.id}", only("coordinator", "team_lead")),
        Route("POST", lambda w: f"/consultvragen/{w.consultation.id}", only("coordinator", "team_lead"))],
    "referrals.api_tokens": [Route("GET", lambda w: "/beheer/api-sleutels/", only("admin"))],
    "referrals.api_token_create": [Route("GET", lambda w: "/beheer/api-sleutels/nieuw", only("admin")),
                                   Route("POST", lambda w: "/beheer/api-sleutels/nieuw", only("admin"))],
    "referrals.api_token_revoke": [Route("POST", lambda w: f"/beheer/api-sleutels/{w.api_token.id}/intrekken",
                                         only("admin"))],
    # No session counts here: without an API key everyone, signed in or not, gets 401.
    "referrals_api.submit_referral": [Route("POST", lambda w: "/api/v1/verwijzingen", frozenset(ROLES),
                                            public=True, public_statuses=(401,))],
    # Stuurinformatie: the steering group sees published releases only; live figures for any
    # period (with free dates and filters) are the team lead's alone.
    "metrics.releases": [Route("GET", lambda w: "/stuurinformatie/", only("steering", "team_lead"))],
    "metrics.release": [Route("GET", lambda w: f"/stuurinformatie/publicaties/{w.release_id}",
                              only("steering", "team_lead"))],
    "metrics.release_table_csv": [Route("GET", lambda w: f"/stuurinformatie/publicaties/{w.release_id}/kerncijfers.csv",
                                        only("steering", "team_lead"))],
    "metrics.release_pdf": [Route("HEAD", lambda w: f"/stuurinformatie/publicaties/{w.release_id}.pdf",
                                  only("steering", "team_lead"))],
    "metrics.release_workbook": [Route("HEAD", lambda w: f"/stuurinformatie/publicaties/{w.release_id}.xlsx",
                                       only("steering", "team_lead"))],
    "metrics.dashboard": [Route("GET", lambda w: "/stuurinformatie/actueel/?van=2026-02-08&tot=2026-02-11",
                                only("team_lead"))],
    "metrics.report": [Route("GET", lambda w: "/stuurinformatie/actueel/rapport", only("team_lead"))],
    "metrics.table_export": [Route("GET", lambda w: "/stuurinformatie/actueel/tabellen/instroom_gemeente_besluit.csv"
                                   "?van=2026-02-08&tot=2026-02-11", only("team_lead"))],
    # HEAD runs the same view; a GET body here is binary, which the text scan below cannot read
    # (tests/test_metrics_safety.py opens the workbook and scans its cells instead).
    "metrics.workbook_export": [Route("HEAD", lambda w: "/stuurinformatie/actueel/stuurinformatie.xlsx",
                                      only("team_lead"))],
    # The privacy officer's pages: erasure requests and the access report (lifecycle).
    "lifecycle.index": [Route("GET", lambda w: "/privacy/", only("privacy"))],
    "lifecycle.find_person": [Route("GET", lambda w: "/privacy/personen", only("privacy")),
                              Route("POST", lambda w: "/privacy/personen", only("privacy"))],
    "lifecycle.access": [Route("GET", lambda w: f"/privacy/inzageverzoeken/{_access_request_id(w)}/overzicht",
                               only("privacy"))],
    "lifecycle.new_access_request": [Route("POST", lambda w: "/privacy/inzageverzoeken/nieuw", only("privacy"))],
    "lifecycle.access_request_detail": [Route("GET", lambda w: f"/privacy/inzageverzoeken/{_access_request_id(w)}",
                                              only("privacy"))],
    "lifecycle.extend_access": [Route("POST", lambda w: f"/privacy/inzageverzoeken/{_access_request_id(w)}/verlengen",
                                      only("privacy"))],
    "lifecycle.complete_access": [Route("POST",
                                        lambda w: f"/privacy/inzageverzoeken/{_access_request_id(w)}/afhandelen",
                                        only("privacy"))],
    # Without a lookup in the same sitting the form is not offered (tests/test_access_requests.py).
    "lifecycle.new_request": [Route("GET", lambda w: "/privacy/verzoeken/nieuw", only("privacy")),
                              Route("POST", lambda w: "/privacy/verzoeken/nieuw", only("privacy"))],
    "lifecycle.request_detail": [Route("GET", lambda w: f"/privacy/verzoeken/{_erasure_request_id(w)}",
                                       only("privacy"))],
    "lifecycle.decide": [Route("POST", lambda w: f"/privacy/verzoeken/{_erasure_request_id(w)}/besluit",
                               only("privacy"))],
    "lifecycle.execute": [Route("POST", lambda w: f"/privacy/verzoeken/{_erasure_request_id(w)}/uitvoeren",
                                only("privacy"))],
    # Notifications: everyone's own inbox and preferences; someone else's notification is 404.
    "notifications.index": [Route("GET", lambda w: "/meldingen/", SIGNED_IN),
                            Route("GET", lambda w: "/meldingen/?ongelezen=1", SIGNED_IN)],
    "notifications.open_notification": [
        Route("GET", lambda w: f"/meldingen/{w.coordinator_notification_id}", only("coordinator"), 404),
        Route("GET", lambda w: "/meldingen/999999", only(), 404)],
    "notifications.mark_read": [
        Route("POST", lambda w: f"/meldingen/{w.coordinator_notification_id}/gelezen", only("coordinator"), 404)],
    "notifications.mark_all_read": [Route("POST", lambda w: "/meldingen/alles-gelezen", SIGNED_IN)],
    "notifications.preferences": [Route("GET", lambda w: "/meldingen/instellingen", SIGNED_IN),
                                  Route("POST", lambda w: "/meldingen/instellingen", SIGNED_IN)],
    "mail_admin.outbox": [Route("GET", lambda w: "/beheer/e-mail/", only("admin")),
                          Route("GET", lambda w: "/beheer/e-mail/?alles=1", only("admin"))],
    "mail_admin.retry": [Route("POST", lambda w: f"/beheer/e-mail/{w.outbox_message_id}/opnieuw", only("admin"))],
    # Health for load balancers, metrics for monitoring: no session needed and none grants more. A
    # session never opens the metrics: only a configured address or the token does (test_monitoring).
    "monitoring.live": [Route("GET", lambda w: "/health/live", frozenset(ROLES), public=True,
                              public_statuses=(200,))],
    "monitoring.ready": [Route("GET", lambda w: "/health/ready", frozenset(ROLES), public=True,
                               public_statuses=(200,))],
    "monitoring.metrics": [Route("GET", lambda w: "/metrics", frozenset(), public=True, public_statuses=(403,))],
    # Last, because it ends the session of the client that walks the matrix.
    "auth.logout": [Route("POST", lambda w: "/uitloggen", frozenset(ROLES), public=True)],
}


def test_every_route_has_an_entry(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints == set(ROUTES), ("routes missing from the matrix: "
                                      f"{sorted(endpoints - set(ROUTES))}; stale entries: "
                                      f"{sorted(set(ROUTES) - endpoints)}")


def _client_for(app: Flask, world: World, role: str) -> FlaskClient:
    client = app.test_client()
    if role != "anonymous":
        response = make.login(client, world.users[role])
        assert response.status_code == 302 and response.headers["Location"] == "/", role
    return client


@pytest.mark.parametrize("role", ROLES)
def test_role_by_route_matrix(app: Flask, world: World, role: str) -> None:
    client = _client_for(app, world, role)
    failures = []
    for endpoint, routes in ROUTES.items():
        for route in routes:
            url = route.url(world)
            response = client.open(url, method=route.method)
            response.close()  # static files are streamed from an open file
            status = response.status_code
            if route.public:
                ok = status in route.public_statuses
            elif role == "anonymous":
                ok = status == 302 and response.headers["Location"] == "/inloggen"
            elif role in route.allowed:
                # 422: an empty form was refused with its messages, which proves the route was reached.
                ok = status in (200, 302, 422) and response.headers.get("Location") != "/inloggen"
            else:
                ok = status == route.denied_status
            if not ok:
                failures.append(f"{role} {route.method} {url} ({endpoint}) -> {status}")
    assert not failures, "\n".join(failures)


def test_steering_never_sees_identifying_data(app: Flask, world: World) -> None:
    client = _client_for(app, world, "steering")
    identifying = [PERSON_NAME, PERSON_BSN, PERSON_ADDRESS, OTHER_NAME, world.own_case.reference,
                   world.other_case.reference]
    for endpoint, routes in ROUTES.items():
        for route in routes:
            if route.method != "GET":
                continue
            with client.get(route.url(world)) as response:
                body = response.get_data(as_text=True)
            for value in identifying:
                assert value not in body, f"{value!r} shown to the steering group on {endpoint}"


def test_expert_removed_from_case_loses_access_at_once(app: Flask, world: World) -> None:
    client = _client_for(app, world, "expert")
    url = f"/casussen/{world.own_case.id}"
    assert client.get(url).status_code == 200
    with app.app_context():
        from mda.teams.models import TeamMembership
        membership = db.session.query(TeamMembership).filter_by(case_id=world.own_case.id,
                                                                user_id=world.users["expert"].id).one()
        end_expert_membership(membership, by=db.session.get(User, world.users["coordinator"].id))
        db.session.commit()
    assert client.get(url).status_code == 404
    assert world.own_case.reference not in client.get("/casussen/").get_data(as_text=True)


def test_expert_cannot_reach_another_case_by_changing_the_id(app: Flask, world: World) -> None:
    client = _client_for(app, world, "expert")
    for case_id in (world.other_case.id, world.own_case.id + 1000, 0):
        response = client.get(f"/casussen/{case_id}")
        assert response.status_code == 404
        assert OTHER_NAME not in response.get_data(as_text=True)


def test_viewing_a_case_writes_audit_records(app: Flask, world: World) -> None:
    from sqlalchemy import select

    from mda.audit.models import AuditAction, AuditEvent, AuditOutcome
    client = _client_for(app, world, "coordinator")
    client.get(f"/casussen/{world.own_case.id}")
    client.get(f"/casussen/{world.own_case.id}/clientsysteem/")
    client.get(f"/casussen/{world.other_case.id}")
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == AuditAction.READ)).all()
    coordinator_id = world.users["coordinator"].id
    case_reads = [e for e in events if e.user_id == coordinator_id and e.object_type == "case"]
    assert [(e.case_id, e.outcome) for e in case_reads] == [(world.own_case.id, AuditOutcome.SUCCESS),
                                                            (world.other_case.id, AuditOutcome.DENIED)]
    person_reads = [e for e in events if e.user_id == coordinator_id and e.object_type == "person"]
    # The overview shows the family's names and roles, the client system page the person in full.
    assert [e.detail for e in person_reads] == ["overzicht", None]
    assert all(e.access_point == "127.0.0.1" for e in person_reads)
    denied = [e for e in events if e.outcome == AuditOutcome.DENIED]
    assert [(e.user_id, e.case_id) for e in denied] == [(coordinator_id, world.other_case.id)]


def _erasure_request_id(w: World) -> int:
    """A received erasure request for the own case's person, made once per world (the world
    fixture keeps its application context open while the matrix is walked)."""
    if not getattr(w, "lifecycle_request_id", None):
        from mda.lifecycle.erasure import record_request
        from mda.people.models import Person
        from mda.timeutil import today
        made = record_request(db.session.get(Person, w.own_person_id), received_on=today(),
                              by=db.session.get(User, w.users["privacy"].id))
        db.session.commit()
        w.lifecycle_request_id = made.id  # type: ignore[attr-defined]
    return w.lifecycle_request_id  # type: ignore[attr-defined]


def _access_request_id(w: World) -> int:
    """A registered access request for the own case's person, made once per world."""
    if not getattr(w, "access_request_id", None):
        from mda.lifecycle.access_requests import register
        from mda.people.models import Person
        from mda.timeutil import today
        made = register(db.session.get(Person, w.own_person_id), received_on=today(),
                        by=db.session.get(User, w.users["privacy"].id))
        db.session.commit()
        w.access_request_id = made.id  # type: ignore[attr-defined]
    return w.access_request_id  # type: ignore[attr-defined]
