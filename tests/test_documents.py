"""A case's documents: encrypted in chunks bound to their record, checked by content, audited,
and reached by backup, erasure, the access report and the retention purge."""
from __future__ import annotations

import io
import re
import os
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from werkzeug.test import EnvironBuilder

from mda.accounts.models import Role, User
from mda.audit.models import AuditAction, AuditEvent
from mda.cases.models import Case
from mda.db import db
from mda.documents import operations as documents
from mda.documents.models import Attachment, AttachmentChunk, AttachmentKind, FileType
from mda.documents.storage import CHUNK_BYTES, DocumentUnreadable, read_chunks
from mda.lifecycle import access_report, erasure
from mda.lifecycle.retention import purge
from mda.people.models import PersonRole
from mda.people.operations import add_person
from mda.security.rotation import key_usage, rotate_all
from tests import factories as make
from tests.test_encryption_at_rest import _raw_database_text

FILE_MARKER = b"Zzmarkerinhoud van het document"
NAME_MARKER = "Zzmarkerbestand Jansën ’24.pdf"
DESCRIPTION_MARKER = "Zzmarkeromschrijving beschikking"


def pdf(size: int = 3 * CHUNK_BYTES + 123, marker: bytes = FILE_MARKER) -> bytes:
    """A file that starts like a PDF, with the marker repeated across several chunks."""
    body = (marker + b"\n") * (size // (len(marker) + 1) + 1)
    return (b"%PDF-1.7\n" + body)[:size]


def office_zip(*names: str, first: tuple[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if first:
            archive.writestr(zipfile.ZipInfo(first[0]), first[1])  # stored, not compressed
        for name in names:
            archive.writestr(name, "<xml/>")
    return buffer.getvalue()


DOCX = office_zip("[Content_Types].xml", "word/document.xml", "_rels/.rels")
XLSX = office_zip("[Content_Types].xml", "xl/workbook.xml")
ODT = office_zip("content.xml", "META-INF/manifest.xml",
                 first=("mimetype", b"application/vnd.oasis.opendocument.text"))
DOCM = office_zip("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin")
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(200)


def _setup() -> tuple[User, Case, User]:
    coordinator = make.user(Role.COORDINATOR)
    case = make.case(coordinator)
    db.session.commit()
    return coordinator, case, make.user(Role.COORDINATOR)


def _keep(case: Case, by: User, content: bytes = b"", name: str = NAME_MARKER, **kwargs: Any) -> Attachment:
    attachment = documents.upload(case, source=io.BytesIO(content or pdf()), file_name=name,
                                  kind=kwargs.pop("kind", AttachmentKind.DECISION),
                                  description=kwargs.pop("description", DESCRIPTION_MARKER), by=by, **kwargs)
    db.session.commit()
    return attachment


def _stored() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(Attachment)),
            db.session.scalar(select(func.count()).select_from(AttachmentChunk)))


# --- encryption at rest ---------------------------------------------------------------------

def test_neither_content_nor_name_in_the_raw_database(ctx: Flask) -> None:
    coordinator, case, _ = _setup()
    attachment = _keep(case, coordinator)
    assert attachment.chunk_count == 4 and attachment.file_type == FileType.PDF
    raw = _raw_database_text(ctx)
    for needle in ("Zzmarker", FILE_MARKER.decode(), "Jansën", "Jans", "%PDF", DESCRIPTION_MARKER):
        assert needle not in raw
    db.session.expire_all()
    again = db.session.get(Attachment, attachment.id)
    assert b"".join(read_chunks(again)) == pdf()
    assert again.file_name == NAME_MARKER and again.description == DESCRIPTION_MARKER


def _chunk(attachment_id: int, number: int) -> bytes:
    return db.session.scalar(select(AttachmentChunk.ciphertext).where(
        AttachmentChunk.attachment_id == attachment_id, AttachmentChunk.number == number))


def _set_chunk(attachment_id: int, number: int, token: bytes) -> None:
    db.session.execute(update(AttachmentChunk).where(AttachmentChunk.attachment_id == attachment_id,
                                                     AttachmentChunk.number == number).values(ciphertext=token))
    db.session.commit()
    db.session.expire_all()


def test_content_moved_reordered_or_cut_short_fails_to_decrypt(ctx: Flask) -> None:
    coordinator, case, _ = _setup()
    one, other = _keep(case, coordinator), _keep(case, coordinator, pdf(marker=b"ander document"))
    # A chunk moved to another attachment, same place.
    _set_chunk(other.id, 0, _chunk(one.id, 0))
    with pytest.raises(DocumentUnreadable):
        b"".join(read_chunks(db.session.get(Attachment, other.id)))
    # Two chunks of the same attachment swapped.
    first, second = _chunk(one.id, 0), _chunk(one.id, 1)
    _set_chunk(one.id, 0, second)
    _set_chunk(one.id, 1, first)
    with pytest.raises(DocumentUnreadable):
        b"".join(read_chunks(db.session.get(Attachment, one.id)))
    _set_chunk(one.id, 0, first)
    _set_chunk(one.id, 1, second)
    assert b"".join(read_chunks(db.session.get(Attachment, one.id))) == pdf()
    # Cut short: the last chunk dropped and the count lowered to match.
    db.session.execute(AttachmentChunk.__table__.delete().where(AttachmentChunk.attachment_id == one.id,
                                                                AttachmentChunk.number == 3))
    db.session.execute(update(Attachment.__table__).where(Attachment.__table__.c.id == one.id)
                       .values(chunk_count=3, size_bytes=3 * CHUNK_BYTES))
    db.session.commit()
    db.session.expire_all()
    with pytest.raises(DocumentUnreadable):
        b"".join(read_chunks(db.session.get(Attachment, one.id)))


def test_a_moved_file_is_refused_on_download_before_any_byte(app: Flask, client) -> None:
    with app.app_context():
        coordinator, case, _ = _setup()
        one, other = _keep(case, coordinator), _keep(case, coordinator)
        for number in range(4):
            _set_chunk(other.id, number, _chunk(one.id, number))
        db.session.refresh(coordinator)
        case_id, other_id = case.id, other.id
    make.login(client, coordinator)
    response = client.get(f"/casussen/{case_id}/documenten/{other_id}/downloaden")
    assert response.status_code == 500
    body = response.get_data()
    assert b"kan niet worden geopend" in body and FILE_MARKER not in body


def test_key_rotation_reencrypts_chunks(app: Flask, keys: dict[str, Any], instance_dir: Path, migrated: str) -> None:
    from tests.conftest import build_app, new_key
    with app.app_context():
        coordinator, case, _ = _setup()
        attachment_id = _keep(case, coordinator).id
    rotated = build_app(migrated, {**keys, "FIELD_KEYS": {**keys["FIELD_KEYS"], "2": new_key()},
                                   "CURRENT_FIELD_KEY_ID": 2}, instance_dir)
    with rotated.app_context():
        assert key_usage(db.session)[1] >= 4
        assert rotate_all(db.session)["attachment_chunks"] == 4
        assert set(key_usage(db.session)) == {2}
        assert b"".join(read_chunks(db.session.get(Attachment, attachment_id))) == pdf()
        db.dispose()


# --- content types and size ----------------------------------------------------------------

@pytest.mark.parametrize("content,expected", [
    (pdf(100), FileType.PDF), (PNG, FileType.PNG), (b"\xff\xd8\xff\xe0" + b"0" * 50, FileType.JPEG),
    (b"GIF89a" + b"0" * 50, FileType.GIF), (b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"0" * 40, FileType.WEBP),
    (DOCX, FileType.DOCX), (XLSX, FileType.XLSX), (ODT, FileType.ODT),
])
def test_allowed_types_are_recognised_by_content(ctx: Flask, content: bytes, expected: FileType) -> None:
    from mda.documents.filetypes import detect
    assert detect(io.BytesIO(content)) == expected


def _post(client, case_id: int, content: bytes, name: str = "bestand.pdf", **fields: str):
    data = {"kind": "decision", "description": "Beschikking", "link": "", "person": "0", **fields,
            "file": (io.BytesIO(content), name)}
    # The test client spools a large body to a temporary file and leaves it open when the app
    # refuses the body unread; this closes it.
    builder = EnvironBuilder(path=f"/casussen/{case_id}/documenten", method="POST", data=data,
                             content_type="multipart/form-data")
    environ = builder.get_environ()
    try:
        return client.open(environ)
    finally:
        environ["wsgi.input"].close()
        builder.close()


@pytest.mark.parametrize("content,name,message", [
    (b"MZ\x90\x00" + b"\x00" * 200, "beschikking.pdf", "de inhoud is geen PDF"),           # a program, renamed
    (b"Gewoon tekst, geen PDF", "verslag.pdf", "de inhoud is geen PDF"),
    (DOCM, "rapport.docx", "zonder macro"),                                                  # macros inside
    (office_zip("a.txt"), "archief.zip", "de inhoud is geen PDF"),                          # any other zip
    (bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 600, "oud.doc", "de inhoud is geen PDF"),  # broken OLE
    (b"", "leeg.pdf", "Het bestand is leeg"),
])
def test_wrong_content_is_refused_with_nothing_stored(app: Flask, client, content: bytes, name: str,
                                                      message: str) -> None:
    with app.app_context():
        coordinator, case, _ = _setup()
        case_id = case.id
    make.login(client, coordinator)
    response = _post(client, case_id, content, name)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert _stored() == (0, 0)


def test_size_limit_refused_with_nothing_stored(app: Flask, client) -> None:
    app.config["ATTACHMENT_MAX_BYTES"] = 100_000
    with app.app_context():
        coordinator, case, _ = _setup()
        case_id = case.id
    make.login(client, coordinator)
    # Over the file limit but within the request's room for the form: refused at the field.
    response = _post(client, case_id, pdf(100_001))
    assert response.status_code == 422
    assert "Het bestand is te groot: hoogstens 98 kB." in response.get_data(as_text=True)
    # Far over it: refused while the body is read, with a Dutch page that names the limit.
    response = _post(client, case_id, pdf(1_300_000))
    assert response.status_code == 413
    body = response.get_data(as_text=True)
    assert "Het bestand is te groot" in body and "Er is niets opgeslagen" in body
    with app.app_context():
        assert _stored() == (0, 0)
    assert _post(client, case_id, pdf(100_000)).status_code == 302


def test_a_failure_while_writing_chunks_keeps_nothing(app: Flask, client, monkeypatch) -> None:
    from mda.documents import storage
    with app.app_context():
        coordinator, case, _ = _setup()
        case_id = case.id
    make.login(client, coordinator)
    original, calls = storage.chunk_context, []

    def failing(attachment, number, last):  # noqa: ANN001, ANN202
        calls.append(number)
        if number == 2:
            raise storage.ContentTooLarge("Het bestand is te groot.", field="file")
        return original(attachment, number, last)

    monkeypatch.setattr(storage, "chunk_context", failing)
    assert _post(client, case_id, pdf()).status_code == 422
    assert calls == [0, 1, 2]
    with app.app_context():
        assert _stored() == (0, 0)


# --- the web flow ----------------------------------------------------------------------------

def _events(action: AuditAction) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action,
                                                            AuditEvent.object_type == "attachment")))


def test_upload_download_replace_delete_each_audited(app: Flask, client) -> None:
    with app.app_context():
        coordinator, case, _ = _setup()
        person = add_person(case, role=PersonRole.CHILD, by=coordinator, name="Kim Voorbeeld")
        db.session.commit()
        case_id, person_id = case.id, person.id
    make.login(client, coordinator)
    response = _post(client, case_id, pdf(), NAME_MARKER, person=str(person_id))
    assert response.status_code == 302
    with app.app_context():
        attachment = db.session.scalars(select(Attachment)).one()
        first_id, first_version = attachment.id, attachment.version
        assert (attachment.person_id, attachment.file_name) == (person_id, NAME_MARKER)
        assert [event.object_id for event in _events(AuditAction.CREATE)] == [first_id]

    page = client.get(f"/casussen/{case_id}/documenten").get_data(as_text=True)
    assert NAME_MARKER in page and "Beschikking" in page

    response = client.get(f"/casussen/{case_id}/documenten/{first_id}/downloaden")
    assert response.status_code == 200 and response.data == pdf()
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Zzmarkerbestand_Jansen_24.pdf"')
    assert f"filename*=UTF-8''{quote('Zzmarkerbestand Jansën ’24.pdf', safe='')}" in disposition
    with app.app_context():
        assert [event.object_id for event in _events(AuditAction.READ)
                if event.detail == "document gedownload"] == [first_id]

    # A new version; the earlier one stays downloadable.
    response = client.post(f"/casussen/{case_id}/documenten/{first_id}/vervangen", content_type="multipart/form-data",
                           data={"version": str(first_version), "file": (io.BytesIO(DOCX), "nieuw.docx")})
    assert response.status_code == 302, re.findall(r'role="alert">([^<]*)<', response.get_data(as_text=True))
    with app.app_context():
        newer = db.session.scalars(select(Attachment).where(Attachment.previous_id == first_id)).one()
        newer_id, newer_version = newer.id, str(newer.version)
        assert (newer.version_number, newer.file_type, newer.description) == (2, FileType.DOCX, "Beschikking")
        assert db.session.get(Attachment, first_id).replaced_at is not None
        assert [event.object_id for event in _events(AuditAction.CHANGE)] == [newer_id]
    assert client.get(f"/casussen/{case_id}/documenten/{first_id}/downloaden").data == pdf()
    # Replacing the old version again (a stale page) is refused.
    response = client.post(f"/casussen/{case_id}/documenten/{first_id}/vervangen", content_type="multipart/form-data",
                           data={"version": str(first_version + 1), "file": (io.BytesIO(DOCX), "nog.docx")})
    assert response.status_code == 422
    assert "nieuwere versie" in response.get_data(as_text=True)

    # Deleting needs a reason, and removes the content of every version.
    url = f"/casussen/{case_id}/documenten/{newer_id}/verwijderen"
    assert client.post(url, data={"version": newer_version, "reason": ""}).status_code == 422
    assert client.post(url, data={"version": newer_version, "reason": "Verkeerd gezin"}).status_code == 302
    with app.app_context():
        assert _stored()[1] == 0
        newer = db.session.get(Attachment, newer_id)
        assert newer.deletion_reason == "Verkeerd gezin" and newer.deleted_at is not None
        assert [event.object_id for event in _events(AuditAction.DELETE)] == [newer_id]
    assert client.get(f"/casussen/{case_id}/documenten/{first_id}/downloaden").status_code == 410
    history = client.get(f"/casussen/{case_id}/documenten/{newer_id}").get_data(as_text=True)
    assert "Verkeerd gezin" in history and "inhoud verwijderd" in history


def test_an_attachment_of_another_case_is_not_found(app: Flask, client) -> None:
    with app.app_context():
        coordinator, case, other_coordinator = _setup()
        other_case = make.case(other_coordinator)
        foreign = _keep(other_case, other_coordinator)
        case_id, foreign_id = case.id, foreign.id
    make.login(client, coordinator)
    for suffix in ("", "/downloaden"):
        assert client.get(f"/casussen/{case_id}/documenten/{foreign_id}{suffix}").status_code == 404
    assert client.post(f"/casussen/{case_id}/documenten/{foreign_id}/verwijderen",
                       data={"version": "1", "reason": "x"}).status_code == 404


def test_links_must_belong_to_the_same_case(ctx: Flask) -> None:
    from mda.errors import InvalidInput
    from mda.journal.models import JournalKind
    from mda.journal.operations import write_journal_entry
    from mda.timeutil import utcnow
    coordinator, case, other_coordinator = _setup()
    other_case = make.case(other_coordinator)
    foreign_entry = write_journal_entry(other_case, kind=JournalKind.ACTION, occurred_at=utcnow(), body="x",
                                        by=other_coordinator)
    with pytest.raises(InvalidInput, match="hoort niet bij deze casus"):
        _keep(case, coordinator, link=documents.Link(journal_entry=foreign_entry))
    own_entry = write_journal_entry(case, kind=JournalKind.ACTION, occurred_at=utcnow(), body="x", by=coordinator)
    assert _keep(case, coordinator, link=documents.Link(journal_entry=own_entry)).journal_entry_id == own_entry.id


# --- lifecycle ------------------------------------------------------------------------------

def test_erasure_removes_documents_about_the_person(ctx: Flask) -> None:
    coordinator, case, _ = _setup()
    bram = add_person(case, role=PersonRole.USING_VIOLENCE, by=coordinator, name="Bram Zzwisvoorbeeld")
    about = _keep(case, coordinator, person=bram, description="Proces-verbaal over Bram Zzwisvoorbeeld")
    family = _keep(case, coordinator, pdf(marker=b"gezinsplan"), name="gezinsplan.pdf", description="Gezinsplan")
    officer = make.user(Role.PRIVACY_OFFICER)

    report = access_report.build(bram)
    assert [line.file_name for line in report.documents] == [NAME_MARKER]
    assert report.family_documents == 2

    from datetime import date
    request = erasure.record_request(bram, received_on=date.today(), by=officer)
    erasure.decide(request, granted=True, by=officer)
    erasure.execute(request, by=officer)
    db.session.commit()
    db.session.expire_all()
    about, family = db.session.get(Attachment, about.id), db.session.get(Attachment, family.id)
    assert (about.file_name, about.description, about.holds_content) == (None, None, False)
    assert about.deleted_at is not None
    assert db.session.scalar(select(func.count()).select_from(AttachmentChunk)
                             .where(AttachmentChunk.attachment_id == about.id)) == 0
    assert b"".join(read_chunks(family)) == pdf(marker=b"gezinsplan")


def test_purge_removes_the_documents_of_an_expired_case(ctx: Flask, clock) -> None:
    from tests.test_lifecycle import START, _family
    clock(START)
    family = _family()
    attachment = _keep(family["case"], family["coordinator"])
    tokens = [_chunk(attachment.id, number) for number in range(4)]
    clock(START + timedelta(days=365 * 20 + 6))
    purge()
    db.session.commit()
    db.session.expire_all()
    attachment = db.session.get(Attachment, attachment.id)
    assert (attachment.file_name, attachment.description, attachment.holds_content) == (None, None, False)
    assert _stored()[1] == 0
    if ctx.extensions["mda.settings"].database_url.startswith("sqlite"):
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = _raw_database_text(ctx)
    assert not any(token.decode("latin-1") in raw for token in tokens)


def test_backup_and_restore_carry_the_documents(migrated: str, keys: dict[str, Any], instance_dir: Path,
                                                tmp_path: Path, request: pytest.FixtureRequest) -> None:
    from tests.conftest import build_app
    backup_app = request.getfixturevalue("backup_app")
    fresh_url = request.getfixturevalue("fresh_url")
    with backup_app.app_context():
        coordinator, case, _ = _setup()
        attachment_id = _keep(case, coordinator).id
    output = tmp_path / "mda.backup"
    assert backup_app.test_cli_runner().invoke(args=["backup", "create", str(output)]).exit_code == 0
    assert FILE_MARKER not in output.read_bytes()
    result = backup_app.test_cli_runner().invoke(args=["backup", "restore", str(output), "--target-url", fresh_url])
    assert result.exit_code == 0, result.output
    restored = build_app(fresh_url, keys, instance_dir)
    with restored.app_context():
        attachment = db.session.get(Attachment, attachment_id)
        assert attachment.file_name == NAME_MARKER
        assert b"".join(read_chunks(attachment)) == pdf()
        db.dispose()


from tests.test_lifecycle_backup import backup_app, fresh_url  # noqa: E402,F401 - fixtures reused


def test_with_csrf_on_a_file_above_the_app_wide_limit_is_taken(migrated: str, keys: dict[str, Any],
                                                               instance_dir: Path) -> None:
    """The CSRF check reads the form before any view runs; it must already see the upload limit,
    not the 2 MB that guards every other form."""
    from tests.conftest import build_app, empty_database
    app = build_app(migrated, keys, instance_dir, WTF_CSRF_ENABLED=True)
    try:
        with app.app_context():
            coordinator, case, _ = _setup()
            db.session.refresh(coordinator)
            case_id = case.id
        client = app.test_client()
        app.config["WTF_CSRF_ENABLED"] = False  # make.login posts without tokens; CSRF is on for the upload
        make.login(client, coordinator)
        app.config["WTF_CSRF_ENABLED"] = True
        page = client.get(f"/casussen/{case_id}/documenten").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        assert app.config["MAX_CONTENT_LENGTH"] < 5_000_000
        assert _post(client, case_id, pdf(5_000_000), csrf_token=token).status_code == 302
        assert _post(client, case_id, pdf(1000)).status_code == 400  # no token: refused
        with app.app_context():
            assert db.session.scalar(select(Attachment.size_bytes)) == 5_000_000
    finally:
        with app.app_context():
            empty_database()
            db.dispose()
