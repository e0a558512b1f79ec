"""Reading the journal back: filters by kind, author, person and period, search in the decrypted
text of the one case, paging, and the persons an entry is about."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from flask import Flask
from sqlalchemy import select

from mda.accounts.models import Role
from mda.audit.models import AuditAction, AuditEvent
from mda.db import db
from mda.errors import InvalidInput
from mda.journal.models import JournalEntryPerson, JournalKind
from mda.journal.operations import write_journal_entry
from mda.journal.queries import JOURNAL_PAGE_SIZE, JournalFilter, search_journal
from mda.people.models import PersonRole
from mda.people.operations import add_person
from mda.teams.models import TeamPhase
from mda.teams.operations import add_expert
from tests import factories as make

UTC = timezone.utc


@pytest.fixture
def journal(ctx: Flask) -> dict:
    coordinator = make.user(Role.COORDINATOR)
    expert = make.user(Role.EXPERT)
    case = make.case(coordinator)
    add_expert(case, expert, discipline_code="judicial", team_phase=TeamPhase.BASISTEAM, by=coordinator)
    zoe = add_person(case, role=PersonRole.CHILD, by=coordinator, name="Zoë de Wit")
    bram = add_person(case, role=PersonRole.USING_VIOLENCE, by=coordinator, name="Bram de Wit")

    def entry(when: datetime, kind: JournalKind, body: str, by=coordinator, about=()):  # noqa: ANN001, ANN202
        return write_journal_entry(case, kind=kind, occurred_at=when, body=body, by=by, about=about)

    entries = {
        "school": entry(datetime(2026, 2, 10, 9, 0, tzinfo=UTC), JournalKind.CONTACT_PARTNER,
                        "Gesprek met de SCHOOL over Zoë: zij komt moe binnen.", about=[zoe]),
        "home": entry(datetime(2026, 2, 20, 14, 0, tzinfo=UTC), JournalKind.CONTACT_FAMILY,
                      "Gesprek thuis; Bram was aanwezig en rustig.", by=expert, about=[bram, zoe]),
        # 23:30 Dutch time on 1 March is 22:30 UTC: it belongs to 1 March on the Dutch calendar.
        "late": entry(datetime(2026, 3, 1, 22, 30, tzinfo=UTC), JournalKind.ACTION,
                      "Avondmelding politie: zoe belde zelf."),
        "meeting": entry(datetime(2026, 3, 5, 10, 0, tzinfo=UTC), JournalKind.TEAM_MEETING,
                         "Teamoverleg, afspraken herzien.", by=expert),
    }
    other_coordinator = make.user(Role.COORDINATOR)
    other_case = make.case(other_coordinator)
    write_journal_entry(other_case, kind=JournalKind.CONTACT_PARTNER, occurred_at=datetime(2026, 2, 11, tzinfo=UTC),
                        body="Ook hier de school en Zoë.", by=other_coordinator)
    db.session.commit()
    return {"case": case, "coordinator": coordinator, "expert": expert, "zoe": zoe, "bram": bram,
            "entries": entries, "other_case": other_case}


def _found(journal: dict, **criteria: object) -> set[str]:
    names = {entry.id: name for name, entry in journal["entries"].items()}
    page = search_journal(journal["case"], JournalFilter(**criteria))
    assert page.total == len(page.entries)
    return {names[entry.id] for entry in page.entries}


def test_filters_and_search(journal: dict) -> None:
    assert _found(journal) == {"school", "home", "late", "meeting"}
    assert _found(journal, kind=JournalKind.CONTACT_FAMILY) == {"home"}
    assert _found(journal, author_id=journal["expert"].id) == {"home", "meeting"}
    assert _found(journal, person_id=journal["zoe"].id) == {"school", "home"}
    assert _found(journal, person_id=journal["bram"].id) == {"home"}
    assert _found(journal, since=date(2026, 2, 15), until=date(2026, 3, 1)) == {"home", "late"}
    assert _found(journal, since=date(2026, 3, 2)) == {"meeting"}
    assert _found(journal, until=date(2026, 2, 28)) == {"school", "home"}
    # Case, accents and spacing do not matter; only this case's entries are searched.
    assert _found(journal, text="school") == {"school"}
    assert _found(journal, text="ZOE") == {"school", "late"}
    assert _found(journal, text="  zoë ") == {"school", "late"}
    assert _found(journal, text="zoe", person_id=journal["zoe"].id) == {"school"}
    assert _found(journal, text="bestaat niet") == set()


def test_paging_with_and_without_search(journal: dict) -> None:
    case, coordinator = journal["case"], journal["coordinator"]
    start = datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
    for number in range(JOURNAL_PAGE_SIZE + 6):
        write_journal_entry(case, kind=JournalKind.ACTION, occurred_at=start + timedelta(hours=number),
                            body=f"Actie {number} rond de veiligheid", by=coordinator)
    db.session.commit()
    first = search_journal(case, JournalFilter())
    assert (first.total, first.pages, len(first.entries)) == (JOURNAL_PAGE_SIZE + 10, 2, JOURNAL_PAGE_SIZE)
    assert first.entries[0].body == f"Actie {JOURNAL_PAGE_SIZE + 5} rond de veiligheid"   # newest first
    second = search_journal(case, JournalFilter(page=2))
    assert len(second.entries) == 10
    found = search_journal(case, JournalFilter(text="veiligheid", page=2))
    assert (found.total, found.pages) == (JOURNAL_PAGE_SIZE + 6, 2)
    assert [entry.body for entry in found.entries] == [f"Actie {n} rond de veiligheid" for n in (5, 4, 3, 2, 1, 0)]


def test_an_entry_names_only_persons_of_its_case(journal: dict) -> None:
    stranger = add_person(journal["other_case"], role=PersonRole.CHILD, by=journal["coordinator"], name="Ander kind")
    with pytest.raises(InvalidInput, match="personen van deze casus"):
        write_journal_entry(journal["case"], kind=JournalKind.ACTION, occurred_at=datetime(2026, 3, 1, tzinfo=UTC),
                            body="x", by=journal["coordinator"], about=[stranger])


def test_search_is_posted_audited_without_its_text(app: Flask, client, journal: dict) -> None:
    case_id = journal["case"].id
    make.login(client, journal["coordinator"])
    response = client.post(f"/casussen/{case_id}/journaal/zoeken", data={"text": "school", "kind": "", "author": "0",
                                                                        "person": "0", "page": "1"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "1 bericht gevonden" in page and "zij komt moe binnen" in page and "Gesprek thuis" not in page
    assert "Ook hier de school" not in page
    details = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.case_id == case_id,
                                                                 AuditEvent.action == AuditAction.SEARCH)).all()
    assert details == ["journaal doorzocht"]
    assert not db.session.scalar(select(AuditEvent.id).where(AuditEvent.detail.contains("school")))
    # The page's own links and paging never carry the search text in a URL.
    assert "school&" not in page and "text=school" not in page

    refused = client.post(f"/casussen/{case_id}/journaal/zoeken",
                          data={"since": "2026-03-05", "until": "2026-03-01", "author": "0", "person": "0"})
    assert refused.status_code == 422 and "De einddatum ligt voor de begindatum." in refused.get_data(as_text=True)


def test_writing_an_entry_about_persons_through_the_form(app: Flask, client, journal: dict) -> None:
    case_id, zoe_id, bram_id = journal["case"].id, journal["zoe"].id, journal["bram"].id
    make.login(client, journal["coordinator"])
    response = client.post(f"/casussen/{case_id}/journaal", data={
        "kind": "contact_family", "occurred_at": "2026-03-10T10:00", "body": "Gesprek met Zoë en Bram",
        "persons": [str(zoe_id), str(bram_id)]})
    assert response.status_code == 302
    entry_id = db.session.scalars(select(JournalEntryPerson.journal_entry_id)
                                  .where(JournalEntryPerson.person_id == bram_id)).all()
    assert len(entry_id) == 2  # the fixture's home visit and this one
    page = client.post(f"/casussen/{case_id}/journaal/zoeken", data={"person": str(bram_id), "author": "0"})
    assert "Over: Zoë de Wit, Bram de Wit" in page.get_data(as_text=True)


def test_paging_through_a_search_posts_the_filters_again(app: Flask, client, journal: dict) -> None:
    case, coordinator = journal["case"], journal["coordinator"]
    for number in range(JOURNAL_PAGE_SIZE + 3):
        write_journal_entry(case, kind=JournalKind.ACTION, occurred_at=datetime(2026, 4, 1, tzinfo=UTC)
                            + timedelta(minutes=number), body=f"Ronde {number} veiligheidscheck", by=coordinator)
    db.session.commit()
    make.login(client, coordinator)
    fields = {"text": "veiligheidscheck", "since": "2026-03-31", "kind": "action", "author": "0", "person": "0"}
    first = client.post(f"/casussen/{case.id}/journaal/zoeken", data=fields).get_data(as_text=True)
    assert f"{JOURNAL_PAGE_SIZE + 3} berichten gevonden · pagina 1 van 2" in first
    assert 'name="text" value="veiligheidscheck"' in first and 'name="since" value="2026-03-31"' in first
    second = client.post(f"/casussen/{case.id}/journaal/zoeken", data={**fields, "page": "2"}).get_data(as_text=True)
    assert "pagina 2 van 2" in second and "Ronde 0 veiligheidscheck" in second and "Ronde 3 " not in second
    plain = client.get(f"/casussen/{case.id}/journaal?pagina=2").get_data(as_text=True)
    assert "pagina 2 van 2" in plain


def test_a_journal_entry_shows_its_current_documents(app: Flask, client, journal: dict) -> None:
    import io

    from mda.documents.models import AttachmentKind
    from mda.documents.operations import Link, upload
    entry = journal["entries"]["school"]
    upload(journal["case"], source=io.BytesIO(b"%PDF-1.7\n" + b"0" * 50), file_name="Verslag school.pdf",
           kind=AttachmentKind.MINUTES, description="Verslag", by=journal["coordinator"],
           link=Link(journal_entry=entry))
    db.session.commit()
    make.login(client, journal["coordinator"])
    page = client.get(f"/casussen/{journal['case'].id}/journaal").get_data(as_text=True)
    assert "Documenten: " in page and "Verslag: Verslag school.pdf" in page
