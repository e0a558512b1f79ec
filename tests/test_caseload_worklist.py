"""The caseload as a worklist: each deadline says what it is, columns sort from their headers, the
coordinator column only where it tells something, and "Alle casussen" as a visible switch. And the
layering: the case core does not import the huisverbod area, the audit trail not the case model."""
from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

from flask import Flask

from mda.accounts.models import Role
from mda.db import db
from mda.journal.operations import add_task
from mda.safety.operations import agree_safety_plan
from mda.timeutil import today
from tests import factories as make
from tests.test_worklist import _ban

ROOT = Path(__file__).resolve().parents[1] / "mda"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            names.add((node.module or "") + ":" + ",".join(alias.name for alias in node.names))
    return names


def test_case_core_does_not_import_huisverbod_and_audit_queries_not_case() -> None:
    for name in ("views.py", "queries.py", "models.py", "operations.py"):
        assert not any("huisverbod" in imported for imported in _imports(ROOT / "cases" / name)), name
    assert not any("cases" in imported for imported in _imports(ROOT / "audit" / "queries.py"))


def test_deadlines_say_what_they_are(app: Flask) -> None:
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        with_task = make.case(coordinator)
        add_task(with_task, description="Huisbezoek plannen", owner=coordinator, due_on=today() + timedelta(days=2),
                 by=coordinator)
        agree_safety_plan(with_task, agreed_on=today(), review_on=today() + timedelta(days=30), agreements="A",
                          agreed_by="Gezin", by=coordinator)
        with_plan = make.case(coordinator)
        agree_safety_plan(with_plan, agreed_on=today(), review_on=today() + timedelta(days=5), agreements="A",
                          agreed_by="Gezin", by=coordinator)
        with_ban = make.case(coordinator)
        agree_safety_plan(with_ban, agreed_on=today(), review_on=today() + timedelta(days=40), agreements="A",
                          agreed_by="Gezin", by=coordinator)
        ban = _ban(with_ban, coordinator, imposed_days_ago=2)
        ban.reachability_stated_at = ban.imposed_at
        db.session.commit()
    client = app.test_client()
    make.login(client, coordinator)
    page = client.get("/casussen/").get_data(as_text=True)
    assert "Taak: Huisbezoek plannen" in page
    assert "Evaluatie veiligheidsplan" in page
    assert "Besluit verlenging huisverbod" in page
    # One coordinator on every case: the column would only repeat the user's own name.
    assert "sorteer=coordinator" not in page
    # Headers sort: the active one is marked, and clicking it again turns the order round.
    assert 'aria-sort="ascending"' in page and "sorteer=deadline&amp;aflopend=y" in page
    assert "sorteer=casus" in page
    descending = client.get("/casussen/?sorteer=casus&aflopend=y").get_data(as_text=True)
    assert 'aria-sort="descending"' in descending


def test_team_lead_switches_to_all_cases_and_sees_the_coordinator(app: Flask) -> None:
    with app.app_context():
        lead = make.user(Role.COORDINATOR, Role.TEAM_LEAD)
        other = make.user(Role.COORDINATOR)
        other.display_name = "Olga Anderecoördinator"
        make.case(other)
        db.session.commit()
    client = app.test_client()
    make.login(client, lead)
    own = client.get("/casussen/").get_data(as_text=True)
    assert 'href="/casussen/?alle=y">Alle casussen</a>' in own and 'type="checkbox" name="alle"' not in own
    everything = client.get("/casussen/?alle=y").get_data(as_text=True)
    assert "Olga Anderecoördinator" in everything and "sorteer=coordinator" in everything
    assert 'name="alle" value="y"' in everything  # the filter keeps the switch


def test_case_overview_is_a_dashboard(app: Flask) -> None:
    from datetime import datetime, timezone

    from mda.cases.operations import change_ave_level
    from mda.huisverbod.models import HouseBanEvent, HouseBanEventKind
    from mda.journal.models import JournalKind
    from mda.journal.operations import write_journal_entry
    from mda.people.models import PersonRole
    from mda.people.operations import add_person
    from mda.timeutil import utcnow
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case = make.case(coordinator)
        add_person(case, role=PersonRole.CHILD, by=coordinator, name="Kim Dashboardkind")
        add_task(case, description="Schoolgesprek voorbereiden", owner=coordinator,
                 due_on=today() + timedelta(days=3), by=coordinator)
        agree_safety_plan(case, agreed_on=today(), review_on=today() + timedelta(days=14), agreements="A",
                          agreed_by="Gezin", by=coordinator)
        write_journal_entry(case, kind=JournalKind.CONTACT_FAMILY, occurred_at=utcnow() - timedelta(hours=5),
                            body="Huisbezoek", by=coordinator)
        change_ave_level(case, 4, by=coordinator, reason="Politie betrokken")
        ban = _ban(case, coordinator, imposed_days_ago=1)
        db.session.add(HouseBanEvent(house_ban_id=ban.id, kind=HouseBanEventKind.IMPOSED,
                                     occurred_at=datetime.now(timezone.utc) - timedelta(minutes=1),
                                     recorded_by_id=coordinator.id))
        db.session.commit()
        case_id = case.id
    client = app.test_client()
    make.login(client, coordinator)
    page = client.get(f"/casussen/{case_id}").get_data(as_text=True)
    for expected in ("Kim Dashboardkind", "Kind", "Schoolgesprek voorbereiden", "Taak: Schoolgesprek voorbereiden",
                     "Evaluatie veiligheidsplan", "Laatste contact met het gezin", "Recent gebeurd",
                     "Huisverbod opgelegd", "AVE 3 naar 4", "Versie 1 afgesproken", "Contact met het gezin",
                     "Coördinator (vaste contactpersoon)"):
        assert expected in page, expected
    recent = page[page.index("Recent gebeurd"):]
    # Newest first: the order was imposed a minute ago, the contact five hours ago.
    assert recent.index("Huisverbod opgelegd") < recent.index("Contact met het gezin")
    assert f'href="/casussen/{case_id}/journaal"' in recent


def test_last_contact_is_found_among_the_newest_entries_and_beyond_them(app: Flask) -> None:
    from mda.journal.models import JournalKind
    from mda.journal.operations import write_journal_entry
    from mda.journal.queries import last_contact, recent_entries
    from mda.timeutil import format_moment, utcnow
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case = make.case(coordinator)
        now = utcnow()
        contact = write_journal_entry(case, kind=JournalKind.CONTACT_FAMILY, occurred_at=now - timedelta(days=30),
                                      body="Huisbezoek", by=coordinator)
        for hours in range(12):  # twelve newer entries, none of them a contact with the family
            write_journal_entry(case, kind=JournalKind.TEAM_MEETING, occurred_at=now - timedelta(hours=hours),
                                body="Overleg", by=coordinator)
        db.session.commit()
        newest = recent_entries(case, 10)
        assert contact.id not in {entry.id for entry in newest}
        assert last_contact(case, newest).id == contact.id == last_contact(case).id
        newer = write_journal_entry(case, kind=JournalKind.CONTACT_FAMILY, occurred_at=now - timedelta(minutes=5),
                                    body="Telefoon", by=coordinator)
        db.session.commit()
        newest = recent_entries(case, 10)
        assert last_contact(case, newest).id == newer.id == last_contact(case).id
        assert last_contact(case, newest).author == coordinator.display_name
        case_id, shown = case.id, format_moment(newer.occurred_at)
    client = app.test_client()
    make.login(client, coordinator)
    page = client.get(f"/casussen/{case_id}").get_data(as_text=True)
    assert f"Laatste contact met het gezin:\n        {shown}" in page


def test_the_overview_names_the_running_team_with_discipline_and_organisation(app: Flask) -> None:
    from mda.organisations.models import OrganisationKind
    from mda.reference.models import Discipline
    from mda.teams.models import TeamPhase
    from mda.teams.operations import add_expert, end_expert_membership
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR, username="coordinator-team-overview")
        case = make.case(coordinator)
        police = make.organisation(OrganisationKind.POLICE, name="Politie Limburg-Noord")
        officer = make.user(Role.EXPERT, org=police, username="expert-team-overview")
        gone = make.user(Role.EXPERT, org=police, username="expert-ended-overview")
        for account, name in ((coordinator, "Carla Coördinator"), (officer, "Pieter Politie"), (gone, "Els Eerder")):
            account.display_name = name
        discipline = db.session.get(Discipline, "judicial")
        add_expert(case, officer, discipline_code="judicial", team_phase=TeamPhase.BASISTEAM, by=coordinator)
        ended = add_expert(case, gone, discipline_code="judicial", team_phase=TeamPhase.BASISTEAM, by=coordinator)
        end_expert_membership(ended, by=coordinator)
        db.session.commit()
        case_id, names = case.id, (coordinator.display_name, officer.display_name, gone.display_name)
        discipline_name = discipline.name
        coordinator_organisation = coordinator.organisation.name
    client = app.test_client()
    make.login(client, coordinator)
    page = client.get(f"/casussen/{case_id}").get_data(as_text=True)
    team = page[page.index('id="kop-team"'):]
    team = team[:team.index("</section>")]
    coordinator_line = team.index("Coördinator (vaste contactpersoon):")
    assert names[0] in team and f"({coordinator_organisation})" in team
    assert f"{discipline_name}:" in team and names[1] in team and "(Politie Limburg-Noord)" in team
    assert coordinator_line < team.index(names[1])  # the coordinator first
    assert names[2] not in team  # an ended membership is not on the team


def test_a_caseload_row_names_the_earliest_open_task_of_several(app: Flask) -> None:
    from mda.journal.operations import complete_task
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        first, second = make.case(coordinator), make.case(coordinator)
        done = add_task(first, description="Al afgerond", owner=coordinator, due_on=today() + timedelta(days=1),
                        by=coordinator)
        complete_task(done, by=coordinator, expected_version=done.version)
        add_task(first, description="Later gesprek", owner=coordinator, due_on=today() + timedelta(days=9),
                 by=coordinator)
        add_task(first, description="Eerst bellen", owner=coordinator, due_on=today() + timedelta(days=3),
                 by=coordinator)
        add_task(first, description="Ook op dag drie", owner=coordinator, due_on=today() + timedelta(days=3),
                 by=coordinator)  # same day, added later: the older one is named
        add_task(second, description="Schoolbezoek", owner=coordinator, due_on=today() + timedelta(days=4),
                 by=coordinator)
        db.session.commit()
    client = app.test_client()
    make.login(client, coordinator)
    page = client.get("/casussen/").get_data(as_text=True)
    assert "Taak: Eerst bellen" in page and "Taak: Schoolbezoek" in page
    for not_named in ("Al afgerond", "Later gesprek", "Ook op dag drie"):
        assert f"Taak: {not_named}" not in page


def test_the_filter_fold_opens_on_a_phone_only_for_a_filter_that_narrows_or_a_refused_value(app: Flask) -> None:
    """On a small screen the filter is folded (app.js opens it on wide ones). A team lead's switch to
    all cases, a page number or a sort from a column header must not unfold it above the list; a
    filter that leaves cases out, or a value that was refused, must (the user sees why)."""
    with app.app_context():
        lead = make.user(Role.COORDINATOR, Role.TEAM_LEAD)
        make.case(lead)
        db.session.commit()
    client = app.test_client()
    make.login(client, lead)

    def unfolded(query: str) -> bool:
        page = client.get(f"/casussen/{query}").get_data(as_text=True)
        fold = page[page.index('<details class="filter-fold'):]
        return fold[:fold.index(">")].endswith(" open")

    for query in ("", "?alle=y", "?alle=y&pagina=2", "?sorteer=casus&aflopend=y", "?alle=y&fase=&ave=&gemeente="
                  "&coordinator=&sorteer=deadline"):
        assert not unfolded(query), query
    for query in ("?fase=herstel", "?alle=y&ave=3", "?achterstallig=y", "?fase=onbekend", "?sorteer=onbekend"):
        assert unfolded(query), query


def test_the_remembered_filter_follows_new_coordinators_and_refused_values(app: Flask) -> None:
    """The caseload's filter fields are remembered per worker (mda.forms.rendered_fields): a
    coordinator who joins appears in the filter at once, a refused value is said and the next
    request without it is not, and what one user's filter lists never reaches another's page."""
    with app.app_context():
        lead, coordinator = make.user(Role.COORDINATOR, Role.TEAM_LEAD), make.user(Role.COORDINATOR)
        lead.display_name, coordinator.display_name = "Lea Leiding", "Cor Eigen"
        make.case(lead)
        make.case(coordinator)
        db.session.commit()
    lead_client, own_client = app.test_client(), app.test_client()
    make.login(lead_client, lead)
    make.login(own_client, coordinator)
    whole = lead_client.get("/casussen/?alle=y").get_data(as_text=True)
    assert "Cor Eigen" in whole and "Nieuwe Collega" not in whole
    own = own_client.get("/casussen/").get_data(as_text=True)
    assert "Lea Leiding" not in own  # only the coordinators of one's own cases
    with app.app_context():
        make.user(Role.COORDINATOR).display_name = "Nieuwe Collega"
        db.session.commit()
    assert "Nieuwe Collega" in lead_client.get("/casussen/?alle=y").get_data(as_text=True)
    refused = lead_client.get("/casussen/?alle=y&fase=onbekend").get_data(as_text=True)
    assert "Ongeldige keuze" in refused and "is-invalid" in refused
    again = lead_client.get("/casussen/?alle=y").get_data(as_text=True)
    assert "Ongeldige keuze" not in again and "is-invalid" not in again
    assert 'name="alle" value="y"' in again
    assert 'name="alle"' not in own_client.get("/casussen/").get_data(as_text=True)
