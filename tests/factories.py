"""Small factory functions for tests; each flushes and returns the object."""
from __future__ import annotations

from datetime import date
from itertools import count
from typing import Iterable

from flask.testing import FlaskClient
from sqlalchemy import select

from mda.accounts.models import Role, User
from mda.accounts.operations import create_user
from mda.auth import mfa
from mda.cases.models import Case, IntakeRoute, ViolenceForm
from mda.cases.operations import open_case
from mda.db import db
from mda.organisations.models import Organisation, OrganisationKind
from mda.reference.models import Municipality
from mda.timeutil import utcnow

PASSWORD = "correct horse battery staple"
_sequence = count(1)

# Valid BSNs (eleven-test) in the 9999x test range.
BSN_A = "999990019"
BSN_B = "999990020"
BSN_C = "999990032"


def organisation(kind: OrganisationKind = OrganisationKind.MDA_TEAM, name: str | None = None) -> Organisation:
    org = Organisation(name=name or f"{kind.label} {next(_sequence)}", kind=kind)
    db.session.add(org)
    db.session.flush()
    return org


def user(*roles: Role, org: Organisation | None = None, username: str | None = None,
         enrolled: bool = True) -> User:
    """An account; ``enrolled`` gives it a TOTP secret as if it had linked an authenticator app."""
    roles = roles or (Role.COORDINATOR,)
    org = org or organisation(OrganisationKind.VEILIG_THUIS if Role.VT_REFERRER in roles
                              else OrganisationKind.MDA_TEAM)
    account = create_user(username=username or f"user{next(_sequence)}", display_name="Test Gebruiker",
                          password=PASSWORD, roles=roles, organisation=org, by=None)
    if enrolled:
        account.totp_secret = mfa.new_secret()
        account.mfa_enrolled_at = utcnow()
        db.session.flush()
    return account


def municipality(name: str = "Venlo") -> Municipality:
    return db.session.scalars(select(Municipality).where(Municipality.name == name)).one()


def case(coordinator: User | None = None, *, town: str = "Venlo", ave_level: int = 3,
         forms: Iterable[ViolenceForm] = (ViolenceForm.PARTNER_VIOLENCE,), opened_on: date | None = None) -> Case:
    coordinator = coordinator or user(Role.COORDINATOR)
    return open_case(municipality=municipality(town), intake_route=IntakeRoute.ACTIE_OVERLEG,
                     coordinator=coordinator, by=coordinator, forms=forms, ave_level=ave_level,
                     opened_on=opened_on)


def login(client: FlaskClient, account: User, password: str = PASSWORD):
    """The whole login: password, then the current code from the account's authenticator."""
    response = client.post("/inloggen", data={"username": account.username, "password": password})
    if response.status_code != 302 or response.headers["Location"] != "/inloggen/code":
        return response
    with client.application.app_context():
        stored = db.session.get(User, account.id)
        # Tests log the same account in many times within one 30-second step; a real
        # authenticator would wait for the next code. Replay protection itself is tested apart.
        stored.totp_last_step = None
        code = mfa.code_for(stored.totp_secret)
        db.session.commit()
    return client.post("/inloggen/code", data={"code": code})


def safe_start(case: Case, by: User) -> None:
    """What leaving directe veiligheid asks for: a veiligheidstaxatie and a current safety plan."""
    from datetime import timedelta

    from mda.safety.models import AssessmentKind
    from mda.safety.operations import agree_safety_plan, record_assessment
    from mda.timeutil import today
    record_assessment(case, kind=AssessmentKind.VEILIGHEIDSTAXATIE, assessed_on=today(), instrument="LIRIK",
                      outcome="Acute onveiligheid", by=by)
    agree_safety_plan(case, agreed_on=today(), review_on=today() + timedelta(days=42),
                      agreements="Geen contact zonder begeleiding", agreed_by="Gezin en coördinator", by=by)
