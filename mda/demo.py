"""Fictitious demo data: obviously invented families, valid-looking test BSNs (9999x range)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Iterator

from sqlalchemy import func, select, update

from .accounts.models import Role, User
from .accounts.operations import create_user
from .cases.models import Case, IntakeRoute, Phase, ViolenceForm
from .cases.operations import change_ave_level, move_phase, open_case
from .db import db
from .huisverbod.models import HouseBanRoute, ImposedBy, OrderForm
from .huisverbod.operations import impose_house_ban
from .journal.models import JournalKind
from .journal.operations import add_task, write_journal_entry
from .organisations.models import Organisation, OrganisationKind
from .people.identity import GenderCategory
from .people.models import PersonRole, RelationKind
from .people.operations import add_person, relate
from .reference.models import Municipality
from .referrals.models import ConsultationQuestion, Referral, ReferralStatus, Urgency
from .referrals.operations import add_referral_person, submit
from .safety.models import AssessmentKind, PlanContent, RiskLevel
from .safety.operations import agree_safety_plan, record_assessment
from .teams.models import TeamPhase
from .teams.operations import add_expert
from .timeutil import today, utcnow

DEMO_PASSWORD = "demo-wachtwoord-mda"

ORGANISATIONS = [
    ("MDA++-team Noord- en Midden-Limburg", OrganisationKind.MDA_TEAM),
    ("Veilig Thuis Noord- en Midden-Limburg", OrganisationKind.VEILIG_THUIS),
    ("Politie basisteam (demo)", OrganisationKind.POLICE),
    ("Openbaar Ministerie (demo)", OrganisationKind.PUBLIC_PROSECUTOR),
    ("Specialistische GGZ (demo)", OrganisationKind.MENTAL_HEALTH),
    ("Reclassering (demo)", OrganisationKind.PROBATION),
    ("Raad voor de Kinderbescherming (demo)", OrganisationKind.CHILD_PROTECTION_BOARD),
    ("Zorg- en Veiligheidshuis Noord-Limburg", OrganisationKind.SAFETY_HOUSE),
    ("Lokaal team Venlo (demo)", OrganisationKind.LOCAL_TEAM),
    ("Stuurgroep pilot MDA++", OrganisationKind.STEERING_GROUP),
    ("Regio Noord- en Midden-Limburg (beheer)", OrganisationKind.MUNICIPALITY),
]

DEMO_USERS = [
    ("coordinator", "Carla Coördinator (demo)", [Role.COORDINATOR], "MDA++-team Noord- en Midden-Limburg"),
    ("teamleider", "Tom Teamleider (demo)", [Role.COORDINATOR, Role.TEAM_LEAD], "MDA++-team Noord- en Midden-Limburg"),
    ("expert.politie", "Erik Expert Politie (demo)", [Role.EXPERT], "Politie basisteam (demo)"),
    ("expert.ggz", "Eva Expert GGZ (demo)", [Role.EXPERT], "Specialistische GGZ (demo)"),
    ("verwijzer.vt", "Vera Verwijzer (demo)", [Role.VT_REFERRER], "Veilig Thuis Noord- en Midden-Limburg"),
    ("stuurgroep", "Stan Stuurgroep (demo)", [Role.STEERING], "Stuurgroep pilot MDA++"),
    ("beheerder", "Bea Beheerder (demo)", [Role.ADMIN], "Regio Noord- en Midden-Limburg (beheer)"),
    ("privacy", "Piet Privacy (demo)", [Role.PRIVACY_OFFICER], "Regio Noord- en Midden-Limburg (beheer)"),
]

# (family name, municipality, phase, AVE level, intake route, forms, days open)
FAMILIES = [
    ("Voorbeeld", "Venlo", Phase.DIRECTE_VEILIGHEID, 4, IntakeRoute.HUISVERBOD, [ViolenceForm.PARTNER_VIOLENCE, ViolenceForm.WITNESSING_PARTNER_VIOLENCE], 5),
    ("Proefmans", "Roermond", Phase.STABIELE_VEILIGHEID, 3, IntakeRoute.ACTIE_OVERLEG, [ViolenceForm.CHILD_ABUSE], 120),
    ("Testgezin", "Weert", Phase.HERSTEL, 3, IntakeRoute.ACTIE_OVERLEG, [ViolenceForm.SEXUAL_ABUSE, ViolenceForm.INCEST], 300),
    ("Demodorp", "Venray", Phase.PARTICIPATIE, 2, IntakeRoute.LOCAL_TEAM_REQUEST, [ViolenceForm.PARTNER_VIOLENCE], 480),
    ("Fictief", "Horst aan de Maas", Phase.DIRECTE_VEILIGHEID, 3, IntakeRoute.ACTIE_OVERLEG, [ViolenceForm.HUMAN_TRAFFICKING], 20),
    ("Oefening", "Echt-Susteren", Phase.STABIELE_VEILIGHEID, 4, IntakeRoute.HUISVERBOD, [ViolenceForm.ELDER_ABUSE, ViolenceForm.FINANCIAL_EXPLOITATION], 90),
    ("Nepper", "Gennep", Phase.DIRECTE_VEILIGHEID, 5, IntakeRoute.CRISIS, [ViolenceForm.HONOUR_RELATED], 12),
    ("Zomaar", "Leudal", Phase.HERSTEL, 4, IntakeRoute.ACTIE_OVERLEG, [ViolenceForm.CHILD_NEGLECT, ViolenceForm.CHILD_ABUSE], 260),
    ("Verzonnen", "Peel en Maas", Phase.STABIELE_VEILIGHEID, 3, IntakeRoute.CONSULTATION, [ViolenceForm.STALKING], 150),
    ("Schijnbaar", "Maasgouw", Phase.DIRECTE_VEILIGHEID, 3, IntakeRoute.ACTIE_OVERLEG, [ViolenceForm.ABUSE_OF_PARENTS], 35),
    ("Denkbeeld", "Nederweert", Phase.STABIELE_VEILIGHEID, 2, IntakeRoute.HUISVERBOD, [ViolenceForm.PARTNER_VIOLENCE], 200),
    ("Probeersel", "Beesel", Phase.HERSTEL, 3, IntakeRoute.LOCAL_TEAM_REQUEST, [ViolenceForm.SEXUAL_VIOLENCE], 330),
]


def test_bsn(seed: int) -> str:
    """A number in the 9999x test range that passes the eleven-test."""
    for candidate in range(999_900_000 + seed * 97, 999_999_999):
        digits = f"{candidate:09d}"
        total = sum(int(d) * w for d, w in zip(digits, (9, 8, 7, 6, 5, 4, 3, 2, -1)))
        if total % 11 == 0:
            return digits
    raise ValueError("no test BSN found")


def demo_plan(mother: int, father: int, child: int, *, revised: bool) -> PlanContent:
    """A demo family's structured safety plan (fictitious): the first version from the start of
    directe veiligheid; the revised one changes some parts, so the version list shows marks."""
    mother_parts = {
        "agreements": "Anna blijft met Kim in de woning en laat Bram niet binnen. Zij belt elke avond om 20.00 uur "
                      "met de coördinator (demo).",
        "danger_signals": "Bram stuurt veel berichten achter elkaar, of staat onaangekondigd voor de deur.",
        "who_to_call": "Bij direct gevaar 112. Daarna de coördinator (06-00000000, demo); buiten kantoortijd "
                       "Veilig Thuis (0800-2000).",
        "next_phase": "Zes weken zonder incidenten en Anna voelt zich veilig genoeg voor begeleid contact.",
    }
    father_parts = {
        "agreements": "Bram komt niet naar de woning en neemt alleen via de coördinator contact op. Hij meldt zich "
                      "binnen twee weken bij de hulpverlening (demo).",
        "danger_signals": "Bram drinkt meer dagen achter elkaar of zegt dat hij het niet meer ziet zitten.",
        "who_to_call": "Bram belt zijn broer of de reclasseringswerker (demo) als hij merkt dat hij boos wordt.",
        "next_phase": "Bram is begonnen met de agressieregulatietraining en houdt zich aan de contactafspraak.",
    }
    child_parts = {
        "agreements": "Kim mag bij oma slapen als het thuis onrustig is. Haar mentor op school weet van het plan.",
        "danger_signals": "Kim wil niet naar huis, of is op school stil en teruggetrokken.",
        "who_to_call": "Kim belt oma of 112; de nummers staan in haar telefoon.",
    }
    parts = {"family": "Het gezin houdt zich aan de contactafspraken en bespreekt elke week met de coördinator "
                       "hoe het gaat.",
             "network": "Oma (moeder van Anna) vangt Kim op als dat nodig is. De buurvrouw belt 112 als zij "
                        "geschreeuw hoort."}
    if revised:
        father_parts["agreements"] = ("Bram ziet Kim elke zaterdag van 10.00 tot 12.00 uur, begeleid door het lokale "
                                      "team (demo). Hij volgt de agressieregulatietraining.")
        father_parts["next_phase"] = "De training is afgerond en het begeleid contact loopt drie maanden goed."
        del mother_parts["next_phase"]
        parts["network"] += " De broer van Bram brengt hem naar het begeleid contact en haalt hem weer op."
    return PlanContent(persons={mother: mother_parts, father: father_parts, child: child_parts}, parts=parts)


@contextmanager
def _hash_demo_password_once() -> Iterator[None]:
    """The demo accounts share one published password: hash it once (Argon2 at full cost takes a
    good part of a second per account), and give every account that hash. Only while loading."""
    from flask import current_app
    extensions = current_app.extensions
    passwords = extensions["mda.passwords"]
    hashed: dict[str, str] = {}

    class _Once:
        def hash(self, password: str) -> str:
            if password not in hashed:
                hashed[password] = passwords.hash(password)
            return hashed[password]

        def __getattr__(self, name: str) -> object:
            return getattr(passwords, name)

    extensions["mda.passwords"] = _Once()
    try:
        yield
    finally:
        extensions["mda.passwords"] = passwords


def load_demo_data() -> bool:
    """Load the demo set into an empty database; returns False if cases already exist."""
    session = db.session
    if session.scalar(select(func.count()).select_from(Case)):
        return False
    organisations = {name: Organisation(name=name, kind=kind) for name, kind in ORGANISATIONS}
    session.add_all(organisations.values())
    session.flush()
    with _hash_demo_password_once():
        users = {username: create_user(username=username, display_name=name, password=DEMO_PASSWORD, roles=roles,
                                       organisation=organisations[org], by=None)
                 for username, name, roles, org in DEMO_USERS}
    from .notifications.models import NotificationSettings
    # Addresses that can never be delivered to: the demo's worker only prints its e-mails.
    session.add_all(NotificationSettings(user_id=user.id, email=f"{username}@demo.invalid", digest_hour=7)
                    for username, user in users.items())
    session.flush()
    municipalities = {m.name: m for m in session.scalars(select(Municipality))}
    lead, coordinator = users["teamleider"], users["coordinator"]
    for account in (lead, coordinator):  # what Veilig Thuis sees after acceptance, for a warm handover
        account.work_contact = f"06-00000000 (demo), {account.username}@mda-demo.example"
    police, mental_health = users["expert.politie"], users["expert.ggz"]

    for number, (family, town, phase, ave, route, forms, days_open) in enumerate(FAMILIES):
        owner = coordinator if number % 3 else lead
        case = open_case(municipality=municipalities[town], intake_route=route, coordinator=owner, by=lead,
                         forms=forms, ave_level=3, opened_on=today() - timedelta(days=days_open),
                         family_label=f"Gezin {family}")
        adult_a = add_person(case, role=PersonRole.UNDERGOING_VIOLENCE, by=owner, name=f"Anna {family}",
                             bsn=test_bsn(number * 3), date_of_birth=date(1985 + number % 7, 3, 1 + number),
                             address=f"Fictieve Laan {number + 1}, {town}", phone=f"06-0000{number:04d}",
                             notes=f"Demo-notitie: {family} heeft een vaste contactpersoon.",
                             gender=GenderCategory.FEMALE)
        adult_b = add_person(case, role=PersonRole.USING_VIOLENCE, by=owner, name=f"Bram {family}",
                             bsn=test_bsn(number * 3 + 1), date_of_birth=date(1982 + number % 5, 7, 2 + number),
                             address=f"Fictieve Laan {number + 1}, {town}", gender=GenderCategory.MALE)
        child = add_person(case, role=PersonRole.CHILD, by=owner, name=f"Kim {family}",
                           bsn=test_bsn(number * 3 + 2), date_of_birth=date(2014 + number % 6, 11, 3 + number),
                           gender=GenderCategory.OTHER)
        relate(adult_a, adult_b, RelationKind.PARTNER, by=owner)
        relate(adult_a, child, RelationKind.PARENT_OF, by=owner)
        relate(adult_b, child, RelationKind.PARENT_OF, by=owner)

        record_assessment(case, kind=AssessmentKind.VEILIGHEIDSTAXATIE, assessed_on=case.opened_on,
                          instrument="LIRIK (demo)", outcome="Acute onveiligheid voor moeder en kind (demo).",
                          risk_level=RiskLevel.HIGH, by=owner)
        agree_safety_plan(case, agreed_on=case.opened_on, review_on=case.opened_on + timedelta(days=42),
                          agreements="Demo-afspraak: geen contact zonder begeleiding; dagelijks belcontact.",
                          agreed_by="Anna, Bram, coördinator (demo)", by=owner,
                          content=demo_plan(adult_a.id, adult_b.id, child.id, revised=False))
        if phase.position > 0:
            agree_safety_plan(case, agreed_on=today() - timedelta(days=10), review_on=today() + timedelta(days=35),
                              agreements="Demo-afspraak (herzien): begeleid contact met de kinderen.",
                              agreed_by="Anna, Bram, coördinator (demo)", by=owner,
                              content=demo_plan(adult_a.id, adult_b.id, child.id, revised=True))
        if phase.position >= 2:
            record_assessment(case, kind=AssessmentKind.RISICOTAXATIE, assessed_on=today() - timedelta(days=30),
                              instrument="B-SAFER (demo)", outcome="Matig risico op herhaling (demo).",
                              risk_level=RiskLevel.MEDIUM, by=owner)
        if phase.position >= 3:
            record_assessment(case, kind=AssessmentKind.DIAGNOSTIEK, assessed_on=today() - timedelta(days=20),
                              instrument="Traumascreening CRIES-13 (demo)", outcome="Traumabehandeling kind "
                              "gestart (demo).", by=owner)
        write_journal_entry(case, kind=JournalKind.CONTACT_FAMILY, by=owner,
                            occurred_at=utcnow() - timedelta(days=min(days_open, 3)),
                            body="Huisbezoek afgelegd (demo). Gezin werkt mee aan het plan.")
        add_task(case, description="Veiligheidsplan evalueren met het gezin (demo)", owner=owner,
                 due_on=today() + timedelta(days=(number % 5) * 4 - 4), by=owner)
        if number % 2 == 0:
            add_expert(case, police, discipline_code="judicial", team_phase=TeamPhase.BASISTEAM, by=lead,
                       on=case.opened_on)
        if number % 3 == 0:
            add_expert(case, mental_health, discipline_code="psychosocial", team_phase=TeamPhase.UITVOERING,
                       by=lead, on=case.opened_on)

        for step in list(Phase)[1:phase.position + 1]:
            move_phase(case, step, by=owner, reason="Doelen van de vorige fase behaald (demo).")
        if ave != case.ave_level:
            change_ave_level(case, ave, by=owner, reason="Samenwerking stokt (demo)." if ave > 3
                             else "Situatie stabiel, lokaal team neemt over (demo).")

        if number == 0:
            impose_house_ban(case, imposed_at=utcnow() - timedelta(days=3, hours=2),
                             imposed_by=ImposedBy.MAYOR, form=OrderForm.WRITTEN,
                             route=HouseBanRoute.A_ACUTE_POLICE, removed_person=adult_b,
                             protected_persons=[adult_a, child], dwelling=f"Fictieve Laan 1, {town}",
                             facts="Demo: melding van acuut partnergeweld bij de politie.",
                             child_abuse_reason=True, veilig_thuis_consulted_at=utcnow() - timedelta(days=3, hours=3),
                             risk_instrument="RiHG", risk_outcome="Huisverbod geïndiceerd", by=owner)

    referrer = users["verwijzer.vt"]
    for number, family in enumerate(("Wachtrij", "Concept")):
        referral = Referral(organisation_id=referrer.organisation_id, created_by_id=referrer.id,
                            status=ReferralStatus.DRAFT, actie_overleg_on=today() - timedelta(days=2 + number),
                            partners_present=["veilig_thuis", "police", "public_prosecutor"],
                            violence_forms=["partner_violence"], urgency=Urgency.URGENT,
                            municipality_id=municipalities["Venlo"].id, current_ave_level=3)
        referral.reason = "Demo: blijft hangen na het Actie-overleg, langdurige regie nodig."
        referral.tried_before = "Demo: hulp via het lokale team, twee keer een veiligheidsplan."
        session.add(referral)
        session.flush()
        add_referral_person(referral, by=referrer, role="undergoing_violence", name=f"Dana {family}",
                            bsn=test_bsn(90 + number * 2), date_of_birth=date(1990, 5, 4), gender="female")
        add_referral_person(referral, by=referrer, role="using_violence", name=f"Erik {family}",
                            bsn=test_bsn(91 + number * 2), date_of_birth=date(1988, 9, 10), gender="male")
        if number == 0:
            submit(referral, by=referrer)
    question = ConsultationQuestion(asked_on=today() - timedelta(days=6),
                                    asking_organisation_id=organisations["Lokaal team Venlo (demo)"].id,
                                    municipality_id=municipalities["Venlo"].id, advised_by_id=lead.id,
                                    advised_on=today() - timedelta(days=5), minutes_spent=45,
                                    escalation_advised=True)
    question.question = "Demo: moeten wij opschalen bij herhaald partnergeweld?"
    question.advice = "Demo: ja, bespreek in het Actie-overleg en overweeg verwijzing."
    session.add(question)
    session.flush()
    from flask import current_app

    from .metrics.demo_history import load_pilot_history, publish_recent
    load_pilot_history(users, organisations, municipalities)
    publish_recent(current_app.config)
    _settle_past_notifications()
    return True


def _settle_past_notifications(days: int = 7) -> None:
    """The demo's two years of history notified its users as it went, as the app does; a real
    user would have read those long ago. Only the last week's stay unread, so the demo opens with
    a handful of current notifications instead of hundreds, and no overview mail lists the past."""
    from .notifications.models import Notification
    settled = utcnow() - timedelta(days=days)
    db.session.execute(update(Notification).where(Notification.created_at < settled, Notification.read_at.is_(None))
                       .values(read_at=settled, digest_pending=False))
