"""Casusregie stays with the coordinator: an expert adds journal entries, tasks and assessments and
sees the rest; the page says so, and names the coordinator, to whoever the regie is not."""
from __future__ import annotations

from flask import Flask

from mda.accounts.models import Role
from mda.cases.models import Case
from mda.db import db
from mda.organisations.models import OrganisationKind
from mda.security.policy import Permission, may
from mda.teams.models import TeamPhase
from mda.teams.operations import add_expert
from tests import factories as make


def _setting(app: Flask):  # noqa: ANN202
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        coordinator.display_name = "Carla Regisseur"
        expert = make.user(Role.EXPERT, org=make.organisation(OrganisationKind.POLICE))
        lead = make.user(Role.COORDINATOR, Role.TEAM_LEAD)
        case = make.case(coordinator)
        add_expert(case, expert, discipline_code="judicial", team_phase=TeamPhase.BASISTEAM, by=coordinator)
        db.session.commit()
        return coordinator, expert, lead, case.id


def test_expert_rights_are_narrowed_to_their_own_contributions(app: Flask) -> None:
    coordinator, expert, lead, case_id = _setting(app)
    with app.app_context():
        case = db.session.get(Case, case_id)
        assert may(expert, Permission.CASE_EDIT, case) and not may(expert, Permission.CASE_DIRECT, case)
        assert may(coordinator, Permission.CASE_DIRECT, case)
        assert not may(lead, Permission.CASE_DIRECT, case) and may(lead, Permission.CASE_MANAGE_TEAM, case)
    client = app.test_client()
    make.login(client, expert)
    assert client.post(f"/casussen/{case_id}/ave", data={"ave_level": 4, "reason": "x", "version": 1}).status_code == 404
    assert client.post(f"/casussen/{case_id}/afsluiten", data={"version": 1}).status_code == 404
    assert client.post(f"/casussen/{case_id}/journaal", data={}).status_code == 422  # reached, form refused
    track = client.get(f"/casussen/{case_id}/fasen").get_data(as_text=True)
    assert "U bent gedetacheerd expert in deze casus" in track and "Carla Regisseur" in track
    assert f'action="/casussen/{case_id}/ave"' not in track
    with app.app_context():
        assert db.session.get(Case, case_id).ave_level == 3


def test_team_lead_and_coordinator_see_what_is_theirs(app: Flask) -> None:
    coordinator, expert, lead, case_id = _setting(app)
    client = app.test_client()
    make.login(client, lead)
    page = client.get(f"/casussen/{case_id}").get_data(as_text=True)
    assert "U ziet deze casus als teamleider" in page and "Carla Regisseur" in page
    own = app.test_client()
    make.login(own, coordinator)
    page = own.get(f"/casussen/{case_id}/fasen").get_data(as_text=True)
    assert "ligt bij de coördinator" not in page and f'action="/casussen/{case_id}/ave' in page


def test_client_system_and_participation_are_the_coordinators(app: Flask) -> None:
    """An expert sees the persons, their relations and the family's participation, but adds or
    changes none of them; the pages say so. The coordinator of the case records them."""
    from datetime import date

    from sqlalchemy import func, select

    from mda.journal.models import ParticipationRecord
    from mda.people.models import Person, PersonRelation, PersonRole
    from mda.people.operations import add_person
    coordinator, expert, lead, case_id = _setting(app)
    with app.app_context():
        case = db.session.get(Case, case_id)
        first = add_person(case, role=PersonRole.UNDERGOING_VIOLENCE, by=coordinator, name="Anna Eerste")
        second = add_person(case, role=PersonRole.CHILD, by=coordinator, name="Bram Tweede")
        db.session.commit()
        first_id, second_id, first_version = first.id, second.id, first.version

    def stored() -> tuple[int, int, int, str | None]:
        with app.app_context():
            return (db.session.scalar(select(func.count()).select_from(Person).where(Person.case_id == case_id)),
                    db.session.scalar(select(func.count()).select_from(PersonRelation)),
                    db.session.scalar(select(func.count()).select_from(ParticipationRecord)
                                      .where(ParticipationRecord.case_id == case_id)),
                    db.session.get(Person, first_id).name)

    before = stored()
    base = f"/casussen/{case_id}"
    person = {"role": "child", "gender": "unknown", "name": "Nieuw Kind"}
    relation = {"person": first_id, "kind": "parent_of", "other_person": second_id}
    participation = {"recorded_on": date.today().isoformat(), "informed": "Uitleg gegeven."}
    edit = {**person, "name": "Anna Gewijzigd", "role": "undergoing_violence", "version": first_version}
    client = app.test_client()
    make.login(client, expert)
    assert client.post(f"{base}/clientsysteem/personen", data=person).status_code == 404
    assert client.get(f"{base}/clientsysteem/personen/{first_id}").status_code == 404
    assert client.post(f"{base}/clientsysteem/personen/{first_id}", data=edit).status_code == 404
    assert client.post(f"{base}/clientsysteem/relaties", data=relation).status_code == 404
    assert client.post(f"{base}/participatie", data=participation).status_code == 404
    assert stored() == before

    people_page = client.get(f"{base}/clientsysteem/").get_data(as_text=True)
    assert "Anna Eerste" in people_page and 'id="niet-uw-clientsysteem"' in people_page
    assert f'action="{base}/clientsysteem/personen"' not in people_page and "Wijzigen" not in people_page
    assert "cliëntsysteem, participatie van het gezin" in people_page and "Carla Regisseur" in people_page
    participation_page = client.get(f"{base}/participatie").get_data(as_text=True)
    assert 'id="niet-uw-participatie"' in participation_page and 'id="kop-participatie"' not in participation_page
    assert "Uitleg gegeven." not in participation_page  # nothing was recorded by the refused POST
    # The expert's own contributions stay open to them.
    assert client.post(f"{base}/journaal", data={}).status_code == 422  # reached, form refused

    own = app.test_client()
    make.login(own, coordinator)
    page = own.get(f"{base}/clientsysteem/").get_data(as_text=True)
    assert 'id="niet-uw-clientsysteem"' not in page and f'action="{base}/clientsysteem/personen' in page
    assert 'id="kop-participatie"' in own.get(f"{base}/participatie").get_data(as_text=True)
    assert own.post(f"{base}/clientsysteem/personen", data=person).status_code == 302
    assert own.post(f"{base}/clientsysteem/relaties", data=relation).status_code == 302
    assert own.post(f"{base}/participatie", data=participation).status_code == 302
    assert stored() == (before[0] + 1, before[1] + 1, before[2] + 1, "Anna Eerste")


def test_an_experts_case_pages_read_the_same_statements_however_many_task_owners(app: Flask) -> None:
    """The owners of a case's tasks and the coordinator named in the note are read with the page's
    own statements, not one (and their roles one more) for each: the number of statements of an
    expert's case file and journal does not grow with the number of people who own a task."""
    from datetime import timedelta

    from sqlalchemy import event

    from mda.journal.operations import add_task
    from mda.timeutil import today
    coordinator, expert, lead, case_id = _setting(app)
    client = app.test_client()
    make.login(client, expert)

    def statements(path: str) -> int:
        client.get(path)  # once before counting: what a page reads only once per session is not counted
        seen: list[str] = []

        def count(*_: object) -> None:
            seen.append("")
        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    def add_tasks_owned_by(*owners: object) -> None:
        with app.app_context():
            case = db.session.get(Case, case_id)
            for number, owner in enumerate(owners):
                add_task(case, description=f"Taak {number}", owner=owner, due_on=today() + timedelta(days=number + 1),
                         by=coordinator)
            db.session.commit()

    add_tasks_owned_by(coordinator)
    before = {path: statements(path) for path in (f"/casussen/{case_id}", f"/casussen/{case_id}/journaal")}
    with app.app_context():
        case = db.session.get(Case, case_id)
        others = [make.user(Role.EXPERT, org=make.organisation(OrganisationKind.POLICE)) for _ in range(2)]
        for other in others:
            add_expert(case, other, discipline_code="judicial", team_phase=TeamPhase.BASISTEAM, by=coordinator)
        db.session.commit()
    add_tasks_owned_by(*others, lead)
    after = {path: statements(path) for path in before}
    assert after == before
    page = client.get(f"/casussen/{case_id}").get_data(as_text=True)
    assert "Carla Regisseur" in page and page.count("uiterlijk") >= 4
