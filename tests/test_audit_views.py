"""The privacy officer's audit-trail pages: search, filter, page, export, and the trail of reading it."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mda.accounts.models import Role, User
from mda.audit.models import AuditAction, AuditEvent, AuditOutcome
from mda.audit.trail import record
from mda.db import db
from mda.exports import neutralise_cell
from mda.timeutil import freeze
from tests import factories as make

COLUMNS = ("tijdstip", "gebruiker", "rol", "handeling", "casus", "persoon", "object", "toegangspunt",
           "uitkomst", "detail")
RANGE_ERROR = "De einddatum mag niet vóór de begindatum liggen."


class _TableRows(HTMLParser):
    """The body rows of the results table, as dicts keyed by COLUMNS."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self._cells: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, _attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tbody":
            self._cells = None
        elif tag == "tr":
            self._cells = []
        elif tag == "td" and self._cells is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._cells is not None:
            self._cells.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._cells:
            self.rows.append(dict(zip(COLUMNS, self._cells)))
            self._cells = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def rows_of(page: str) -> list[dict[str, str]]:
    parser = _TableRows()
    parser.feed(page)
    return parser.rows


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())  # BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), delimiter=";"))


@pytest.fixture
def clock() -> Iterator[None]:
    yield
    freeze(None)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def signed_in_officer(app: Flask, client: FlaskClient) -> User:
    with app.app_context():
        officer = make.user(Role.PRIVACY_OFFICER, username="petra")
        db.session.commit()
    make.login(client, officer)
    return officer


def trail_reads(app: Flask, officer: User) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(
            select(AuditEvent).where(AuditEvent.user_id == officer.id, AuditEvent.object_type == "audit_trail")
            .order_by(AuditEvent.id)))


# --- access -------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/audit/", "/audit/export.csv"])
def test_anonymous_is_sent_to_login(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"] == "/inloggen"


@pytest.mark.parametrize("role", [role for role in Role if role != Role.PRIVACY_OFFICER])
@pytest.mark.parametrize("path", ["/audit/", "/audit/export.csv"])
def test_only_the_privacy_officer_may_read_the_trail(app: Flask, client: FlaskClient, role: Role,
                                                       path: str) -> None:
    with app.app_context():
        other = make.user(role)
        db.session.commit()
    make.login(client, other)
    assert client.get("/").status_code == 200  # signed in, so the 403 is about the trail
    assert client.get(path).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.object_type == "audit_trail")) is None


# --- the page -----------------------------------------------------------------------------------

def test_officer_sees_records_with_labels_and_local_time(app: Flask, client: FlaskClient, clock: None) -> None:
    with app.app_context():
        carla = make.user(Role.COORDINATOR, Role.TEAM_LEAD, username="carla")
        case = make.case(carla)
        freeze(at("2025-07-01T10:15:00"))  # summer time: 12:15 in Amsterdam
        record(AuditAction.READ, by=carla, case_id=case.id, person_id=41, object_type="person", object_id=41,
               detail="dossier geopend")
        freeze(None)
        reference = case.reference
        db.session.commit()
    signed_in_officer(app, client)
    response = client.get("/audit/?username=carla&action=read")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "<h1>Audittrail</h1>" in page and "Exporteren als CSV" in page
    assert rows_of(page) == [{
        "tijdstip": "01-07-2025 12:15:00", "gebruiker": "carla", "rol": "MDA++-coördinator, Teamleider MDA++",
        "handeling": "Inzien", "casus": reference, "persoon": "41", "object": "Persoon 41",
        "toegangspunt": "cli", "uitkomst": "Gelukt", "detail": "dossier geopend"}]


def test_unfiltered_page_is_newest_first(app: Flask, client: FlaskClient, clock: None) -> None:
    with app.app_context():
        carla = make.user(Role.COORDINATOR, username="carla")
        for day in ("2025-01-03", "2025-01-01", "2025-01-02"):
            freeze(at(f"{day}T09:00:00"))
            record(AuditAction.READ, by=carla, detail=day)
        freeze(None)
        db.session.commit()
    signed_in_officer(app, client)
    rows = rows_of(client.get("/audit/").get_data(as_text=True))
    dated = [row["detail"] for row in rows if row["detail"].startswith("2025-")]
    assert dated == ["2025-01-03", "2025-01-02", "2025-01-01"]
    assert rows[-1]["detail"] == "2025-01-01"  # records made now (accounts, logins) come before them


def test_filter_by_user(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        carla = make.user(Role.COORDINATOR, username="carla")
        dirk = make.user(Role.EXPERT, username="dirk")
        for account in (carla, dirk, carla):
            record(AuditAction.READ, by=account, object_type="case", object_id=1)
        db.session.commit()
    signed_in_officer(app, client)
    rows = rows_of(client.get("/audit/?username=Carla+").get_data(as_text=True))
    assert rows and {row["gebruiker"] for row in rows} == {"carla"}
    assert sum(row["handeling"] == "Inzien" for row in rows) == 2


def test_filter_by_case_reference(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        carla = make.user(Role.COORDINATOR, username="carla")
        first, second = make.case(carla), make.case(carla)
        record(AuditAction.READ, by=carla, case_id=second.id, object_type="case", object_id=second.id)
        references = first.reference, second.reference
        db.session.commit()
    signed_in_officer(app, client)
    rows = rows_of(client.get(f"/audit/?case_reference={references[1].lower()}").get_data(as_text=True))
    assert rows and {row["casus"] for row in rows} == {references[1]}
    assert [row["handeling"] for row in rows][0] == "Inzien"
    assert "Aanmaken" in [row["handeling"] for row in rows]


def test_unknown_case_reference_finds_nothing(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        make.case()
        db.session.commit()
    signed_in_officer(app, client)
    response = client.get("/audit/?case_reference=MDA-1999-9999")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert rows_of(page) == [] and "Geen records gevonden." in page


def test_purged_case_is_shown_by_its_id(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        record(AuditAction.DELETE, username="(systeem)", case_id=987654, object_type="case", object_id=987654)
        db.session.commit()
    signed_in_officer(app, client)
    rows = rows_of(client.get("/audit/?action=delete").get_data(as_text=True))
    assert [row["casus"] for row in rows] == ["casus-id 987654"]


def test_filter_by_period_uses_dutch_calendar_days(app: Flask, client: FlaskClient, clock: None) -> None:
    with app.app_context():
        carla = make.user(Role.COORDINATOR, username="carla")
        for moment, label in (("2025-03-09T12:00:00", "voor"),
                              ("2025-03-14T22:59:59", "laatste van de 14e"),   # 23:59:59 in Amsterdam
                              ("2025-03-14T23:30:00", "eerste van de 15e"),    # 00:30 on the 15th
                              ("2025-03-20T12:00:00", "binnen"),
                              ("2025-03-31T12:00:00", "na")):
            freeze(at(moment))
            record(AuditAction.READ, by=carla, detail=label)
        freeze(None)
        db.session.commit()
    signed_in_officer(app, client)

    def details(query: str) -> list[str]:
        return [row["detail"] for row in rows_of(client.get("/audit/?" + query).get_data(as_text=True))]

    assert details("date_from=2025-03-15&date_to=2025-03-20") == ["binnen", "eerste van de 15e"]
    assert details("date_from=2025-03-10&date_to=2025-03-14") == ["laatste van de 14e"]
    assert details("date_to=14-03-2025&username=carla") == ["laatste van de 14e", "voor"]  # Dutch date order
    assert details("date_from=2025-03-14&date_to=2025-03-14") == ["laatste van de 14e"]


def test_pagination_keeps_the_filter(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        carla = make.user(Role.COORDINATOR, username="carla")
        dirk = make.user(Role.COORDINATOR, username="dirk")
        for number in range(120):
            record(AuditAction.READ, by=carla, object_type="case", object_id=number, detail=f"nr {number}")
            record(AuditAction.READ, by=dirk, object_type="case", object_id=number)
        db.session.commit()
    signed_in_officer(app, client)

    first = client.get("/audit/?username=carla&action=read").get_data(as_text=True)
    assert "120 records gevonden, pagina 1 van 3." in first
    assert [row["detail"] for row in rows_of(first)] == [f"nr {n}" for n in range(119, 69, -1)]
    assert 'href="/audit/?pagina=2&amp;username=carla&amp;action=read"' in first
    assert "Vorige pagina" not in first

    second = client.get("/audit/?pagina=2&username=carla&action=read").get_data(as_text=True)
    assert [row["detail"] for row in rows_of(second)] == [f"nr {n}" for n in range(69, 19, -1)]
    assert "Vorige pagina" in second and "Volgende pagina" in second

    last = client.get("/audit/?pagina=3&username=carla&action=read").get_data(as_text=True)
    assert [row["detail"] for row in rows_of(last)] == [f"nr {n}" for n in range(19, -1, -1)]
    assert "Volgende pagina" not in last
    # A page number past the end shows the last page; nonsense shows the first.
    assert rows_of(client.get("/audit/?pagina=99&username=carla&action=read").get_data(as_text=True)) == rows_of(last)
    assert len(rows_of(client.get("/audit/?pagina=x&username=carla").get_data(as_text=True))) == 50


# --- invalid input ------------------------------------------------------------------------------

def test_date_range_the_wrong_way_round_gets_a_dutch_error(app: Flask, client: FlaskClient) -> None:
    officer = signed_in_officer(app, client)
    response = client.get("/audit/?date_from=2025-03-20&date_to=2025-03-10")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert RANGE_ERROR in page
    assert 'aria-invalid="true"' in page and 'aria-describedby="date_to-fout"' in page
    assert "<table" not in page and "Exporteren als CSV" not in page
    assert trail_reads(app, officer)[-1].detail == "ongeldige zoekopdracht; geen records getoond"


@pytest.mark.parametrize("query, message", [
    ("date_from=31-02-2025", "Vul een geldige datum in"),
    ("case_reference=Jansen", "Vul een casusnummer in als MDA-2026-0007."),
    ("action=drop", "Kies een handeling uit de lijst."),
    ("username=" + "x" * 81, "Een gebruikersnaam is ten hoogste 80 tekens."),
])
def test_invalid_fields_get_dutch_errors(app: Flask, client: FlaskClient, query: str, message: str) -> None:
    officer = signed_in_officer(app, client)
    response = client.get("/audit/?" + query)
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    # What was typed into an invalid field never reaches the trail.
    assert "Jansen" not in (trail_reads(app, officer)[-1].detail or "")


def test_export_with_invalid_filter_goes_back_to_the_form(app: Flask, client: FlaskClient) -> None:
    officer = signed_in_officer(app, client)
    response = client.get("/audit/export.csv?date_from=2025-03-20&date_to=2025-03-10&_external=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/audit/?date_from=2025-03-20&date_to=2025-03-10"
    assert [event.action for event in trail_reads(app, officer)] == []
    assert RANGE_ERROR in client.get(response.headers["Location"]).get_data(as_text=True)


# --- export -------------------------------------------------------------------------------------

def test_export_has_every_matching_row_with_neutralised_cells(app: Flask, client: FlaskClient) -> None:
    hostile = ['=HYPERLINK("http://example.invalid","klik")', "+31 6", "-2+3", "@SUM(A1)", "\tx", "\r=1"]
    with app.app_context():
        carla = make.user(Role.COORDINATOR, username="carla")
        for detail in hostile:
            record(AuditAction.CHANGE, by=carla, object_type="case", object_id=7, detail=detail)
        for number in range(60):
            record(AuditAction.READ, by=carla, object_type="case", object_id=number)
        db.session.commit()
    signed_in_officer(app, client)

    response = client.get("/audit/export.csv?username=carla")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.mimetype_params["charset"] == "utf-8"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="audittrail-')
    rows = csv_rows(response.get_data())
    header, records = rows[0], rows[1:]
    assert header[:3] == ["Record", "Tijdstip (Nederlandse tijd)", "Tijdstip (UTC)"]
    detail = header.index("Detail")
    # All of carla's records, not one page: 6 changes and 60 reads (her account was created by the system).
    assert len(records) == 66
    assert {row[header.index("Gebruikersnaam")] for row in records} == {"carla"}
    assert sorted(row[detail] for row in records if row[header.index("Handeling")] == "Wijzigen") == sorted(
        "'" + text for text in hostile)
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)


def test_export_keeps_the_filter_and_dutch_labels(app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        carla = make.user(Role.COORDINATOR, username="carla")
        case = make.case(carla)
        record(AuditAction.READ, by=carla, case_id=case.id, outcome=AuditOutcome.DENIED)
        reference = case.reference
        db.session.commit()
    signed_in_officer(app, client)
    page = client.get(f"/audit/?case_reference={reference}&action=read").get_data(as_text=True)
    assert f'href="/audit/export.csv?case_reference={reference}&amp;action=read"' in page
    rows = csv_rows(client.get(f"/audit/export.csv?case_reference={reference}&action=read").get_data())
    header = rows[0]
    assert [(row[header.index("Casus")], row[header.index("Handeling")], row[header.index("Uitkomst")],
             row[header.index("Rol")]) for row in rows[1:]] == [(reference, "Inzien", "Geweigerd",
                                                                 "MDA++-coördinator")]


# --- reading the trail is itself in the trail -----------------------------------------------------

def test_page_views_and_exports_are_audited_with_the_filter_only(app: Flask, client: FlaskClient) -> None:
    officer = signed_in_officer(app, client)
    client.get("/audit/")
    client.get("/audit/?username=carla&case_reference=MDA-2025-0007&date_from=2025-01-01"
               "&date_to=2025-12-31&action=export&pagina=2")
    client.get("/audit/export.csv?username=carla").get_data()
    reads = trail_reads(app, officer)
    assert [(event.action, event.detail) for event in reads] == [
        (AuditAction.READ, "filter: geen"),
        (AuditAction.READ, "filter op: gebruikersnaam, casusnummer, vanaf datum, tot en met datum, handeling"),
        (AuditAction.EXPORT, "filter op: gebruikersnaam"),
    ]
    assert {(event.username, event.role, event.outcome, event.access_point) for event in reads} == {
        ("petra", "privacy_officer", AuditOutcome.SUCCESS, "127.0.0.1")}


def test_typed_text_never_reaches_the_trail(app: Flask, client: FlaskClient) -> None:
    """Issue 13, item 7: a name typed into the username filter is not stored in the search's record."""
    officer = signed_in_officer(app, client)
    client.get("/audit/?username=Fatima+Typvoorbeeld")
    client.get("/audit/?username=fatima.typvoorbeeld&action=read")
    client.get("/audit/export.csv?username=typvoorbeeld").get_data()
    client.get("/audit/?username=" + "typvoorbeeld" * 10)  # refused as too long: still not stored
    reads = trail_reads(app, officer)
    assert [event.detail for event in reads] == [
        "filter op: gebruikersnaam", "filter op: gebruikersnaam, handeling", "filter op: gebruikersnaam",
        "ongeldige zoekopdracht; geen records getoond"]
    with app.app_context():
        stored = db.session.scalars(select(AuditEvent.detail)).all()
    assert not any("typvoorbeeld" in (detail or "").lower() for detail in stored)


def test_the_officers_own_reading_shows_up_in_the_trail(app: Flask, client: FlaskClient) -> None:
    signed_in_officer(app, client)
    client.get("/audit/")
    rows = rows_of(client.get("/audit/?username=petra&action=read").get_data(as_text=True))
    # The second view is recorded once its rows have been read, so it lists only the first.
    assert [(row["gebruiker"], row["rol"], row["handeling"], row["object"], row["detail"]) for row in rows] == [
        ("petra", "Privacy officer", "Inzien", "Audittrail", "filter: geen")]


# --- the shared CSV helper ----------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+31", "'+31"), ("-5", "'-5"), ("@cmd", "'@cmd"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("gewoon", "gewoon"), ("a=b", "a=b"), ("", ""), (None, ""), (12, "12"), (-3, "'-3"),
])
def test_neutralise_cell(value: object, expected: str) -> None:
    assert neutralise_cell(value) == expected


def test_export_batches_cover_every_row_once_even_with_equal_times(ctx: Flask, clock: None) -> None:
    from mda.audit.queries import AuditFilter, all_matching
    carla = make.user(Role.COORDINATOR, username="carla")
    freeze(at("2025-05-01T08:00:00"))
    ids = [record(AuditAction.READ, by=carla, object_id=n).id for n in range(10)]
    freeze(at("2025-05-02T08:00:00"))
    ids += [record(AuditAction.READ, by=carla, object_id=n).id for n in range(10)]
    freeze(None)
    db.session.commit()
    streamed = [row.id for row in all_matching(AuditFilter(username="carla"), batch_size=7)]
    assert streamed == sorted(ids, reverse=True)
