"""Lists that grow for years are shown a page at a time: Veilig Thuis's referrals and the triage
queue (25 a page). The page number comes from the URL and is never trusted; a crisis referral is
never pages behind regular ones; only the referrals shown are audited as read; the statements of a
page do not grow with its rows."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from mda.accounts.models import Role, User
from mda.audit.models import AuditEvent
from mda.db import db
from mda.organisations.models import OrganisationKind
from mda.paging import MAX_PAGE_ASKED, Page, page_asked
from mda.reference.models import Municipality
from mda.referrals.models import Referral, ReferralStatus, Urgency
from mda.referrals.queries import LIST_PAGE_SIZE
from mda.timeutil import utcnow
from tests import factories as make

LINK = re.compile(r'href="/(?:verwijzingen|triage)/(\d+)"')


def _referrals(count: int, *, author: User, status: ReferralStatus, urgent_at: set[int] = frozenset()) -> list[int]:
    """``count`` referrals of the author's organisation, the first made longest ago; those at the
    positions in ``urgent_at`` are crises. Their ids, oldest first."""
    start = utcnow() - timedelta(days=count + 1)
    municipality = make.municipality("Venlo")
    referrals = []
    for number in range(count):
        moment = start + timedelta(days=number)
        referral = Referral(organisation_id=author.organisation_id, created_by_id=author.id, status=status,
                            created_at=moment, municipality=municipality,
                            submitted_at=moment if status != ReferralStatus.DRAFT else None,
                            urgency=Urgency.CRISIS if number in urgent_at else Urgency.NORMAL)
        referral.family_label = f"Gezin Paginavoorbeeld {number}"
        referrals.append(referral)
    db.session.add_all(referrals)
    db.session.commit()
    return [referral.id for referral in referrals]


@pytest.fixture
def accounts(app: Flask) -> dict[str, User]:
    with app.app_context():
        vt_org = make.organisation(OrganisationKind.VEILIG_THUIS)
        team = make.organisation(OrganisationKind.MDA_TEAM)
        found = {"vt": make.user(Role.VT_REFERRER, org=vt_org),
                 "vt_other": make.user(Role.VT_REFERRER, org=make.organisation(OrganisationKind.VEILIG_THUIS)),
                 "lead": make.user(Role.COORDINATOR, Role.TEAM_LEAD, org=team)}
        db.session.commit()
        return found


def signed_in(app: Flask, account: User) -> FlaskClient:
    client = app.test_client()
    assert make.login(client, account).status_code == 302
    return client


def shown(page: str) -> list[int]:
    """The referral ids a list links to, in order."""
    return [int(found) for found in LINK.findall(page)]


def test_veilig_thuis_sees_its_referrals_newest_first_a_page_at_a_time(app: Flask, accounts) -> None:
    with app.app_context():
        own = _referrals(LIST_PAGE_SIZE + 5, author=accounts["vt"], status=ReferralStatus.SUBMITTED)
        other = _referrals(3, author=accounts["vt_other"], status=ReferralStatus.SUBMITTED)
    client = signed_in(app, accounts["vt"])
    first = client.get("/verwijzingen/").get_data(as_text=True)
    assert shown(first) == list(reversed(own))[:LIST_PAGE_SIZE]
    assert "30 verwijzingen, nieuwste eerst; u ziet 1 tot en met 25." in first
    assert "1 van 2" in first and 'href="/verwijzingen/?pagina=2"' in first
    second = client.get("/verwijzingen/?pagina=2").get_data(as_text=True)
    assert shown(second) == list(reversed(own))[LIST_PAGE_SIZE:]
    assert "u ziet 26 tot en met 30" in second and 'href="/verwijzingen/?pagina=1"' in second
    assert not set(other) & set(shown(first) + shown(second))  # another organisation's: never counted or shown


def test_only_the_referrals_shown_are_audited_as_read(app: Flask, accounts) -> None:
    with app.app_context():
        own = _referrals(LIST_PAGE_SIZE + 5, author=accounts["vt"], status=ReferralStatus.SUBMITTED)
    client = signed_in(app, accounts["vt"])
    with app.app_context():
        before = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    assert client.get("/verwijzingen/?pagina=2").status_code == 200
    with app.app_context():
        read = db.session.scalars(select(AuditEvent.object_id).where(
            AuditEvent.id > before, AuditEvent.object_type == "referral", AuditEvent.detail == "verwijzingenlijst")).all()
    assert sorted(read) == sorted(own[:5])  # the five oldest are on page 2


def test_a_crisis_is_on_the_first_page_of_the_triage_queue_however_long_the_queue(app: Flask, accounts) -> None:
    with app.app_context():
        queue = _referrals(2 * LIST_PAGE_SIZE + 3, author=accounts["vt"], status=ReferralStatus.SUBMITTED,
                           urgent_at={2 * LIST_PAGE_SIZE + 1})  # the newest but one: the shortest wait
        drafts = _referrals(2, author=accounts["vt"], status=ReferralStatus.DRAFT)
    lead = signed_in(app, accounts["lead"])
    first = lead.get("/triage/").get_data(as_text=True)
    crisis = queue[2 * LIST_PAGE_SIZE + 1]
    regular = [referral_id for referral_id in queue if referral_id != crisis]
    queued = [found for found in shown(first) if found not in shown(first.split('id="besloten-kop"')[1])]
    assert queued == [crisis] + regular[:LIST_PAGE_SIZE - 1]
    assert "53 verwijzingen wachten op triage" in first and "1 van 3" in first
    last = lead.get("/triage/?pagina=3").get_data(as_text=True)
    assert shown(last.split('id="besloten-kop"')[0]) == regular[2 * LIST_PAGE_SIZE - 1:]
    assert not set(drafts) & set(shown(first) + shown(last))


@pytest.mark.parametrize("asked", ["0", "-1", "abc", "", "1.5", "٣", "9" * 40, str(MAX_PAGE_ASKED), "%00", "2%20"])
def test_any_page_number_in_the_url_gets_a_page_never_an_error(app: Flask, accounts, asked: str) -> None:
    with app.app_context():
        _referrals(LIST_PAGE_SIZE + 1, author=accounts["vt"], status=ReferralStatus.SUBMITTED)
    for account, path in (("vt", "/verwijzingen/"), ("lead", "/triage/")):
        response = signed_in(app, accounts[account]).get(f"{path}?pagina={asked}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert ("1 van 2" in page) or ("2 van 2" in page)  # page 1, or the last page for a number past the end


def test_the_page_number_is_read_safely() -> None:
    assert [page_asked(value) for value in (None, "", "0", "-3", "x", "² ", "7", " 7 ", "12345678")] == \
        [1, 1, 1, 1, 1, 1, 7, 7, MAX_PAGE_ASKED]
    page = Page(items=[1, 2], total=27, number=2, size=25)
    assert (page.pages, page.first_shown, page.last_shown) == (2, 26, 27)
    assert Page(items=[], total=0, number=1, size=25).pages == 1


def test_a_list_page_costs_the_same_statements_with_more_rows(app: Flask, accounts) -> None:
    """Organisation and municipality are loaded with the referrals, not one by one per row."""
    counts = {}
    for extra in (2, LIST_PAGE_SIZE):
        with app.app_context():
            _referrals(extra, author=accounts["vt"], status=ReferralStatus.SUBMITTED)
            # every referral another municipality to look up, were they loaded one by one
            municipalities = db.session.scalars(select(Municipality).order_by(Municipality.id)).all()
            for number, referral in enumerate(db.session.scalars(select(Referral).order_by(Referral.id))):
                referral.municipality = municipalities[number % len(municipalities)]
            db.session.commit()
            engine = db.engine
        for account, path in (("vt", "/verwijzingen/"), ("lead", "/triage/")):
            client = signed_in(app, accounts[account])
            client.get(path)
            statements: list[str] = []

            def note(*args, statements=statements) -> None:
                statements.append(args[2])
            event.listen(engine, "before_cursor_execute", note)
            try:
                assert client.get(path).status_code == 200
            finally:
                event.remove(engine, "before_cursor_execute", note)
            counts.setdefault(path, []).append(len(statements))
    assert all(len(set(found)) == 1 for found in counts.values()), counts


@pytest.mark.parametrize("extra", ["endpoint=x", "_method=POST", "_external=1&_scheme=javascript", "_anchor=x",
                                   "values=1", "pagina=2&pagina=x"])
def test_stray_arguments_in_the_caseload_url_are_not_passed_on_to_its_links(app: Flask, extra: str) -> None:
    """The sort and page links keep the filter (its own fields) and drop anything else typed into the URL."""
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        make.case(coordinator)
        db.session.commit()
    response = signed_in(app, coordinator).get(f"/casussen/?fase=directe_veiligheid&{extra}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    links = re.findall(r'href="(/casussen/\?[^"]*)"', page)
    assert links and all("fase=directe_veiligheid" in link for link in links if "sorteer=" in link)
    assert not any(stray in page for stray in ("endpoint=", "_method", "javascript:", "_anchor", "values="))
