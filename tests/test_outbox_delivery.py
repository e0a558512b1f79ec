"""E-mail through a real SMTP server (aiosmtpd on 127.0.0.1): what arrives, holds no personal
data and links to the app; and the outbox under failure: the server down then up, two workers
at once, a worker that dies in the middle of a send."""
from __future__ import annotations

import threading
from collections import Counter
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from markupsafe import escape
from sqlalchemy import select

from mda.accounts.models import Role, User
from mda.db import db
from mda.journal.operations import add_task
from mda.notifications.delivery import SendReport, claim, send_due as _send_due, send_one
from mda.notifications.digests import send_digests
from mda.notifications.mailer import SmtpTransport
from mda.notifications.models import Delivery, NotificationKind, OutboxMessage, OutboxStatus
from mda.notifications.operations import save_preferences
from mda.organisations.models import OrganisationKind
from mda.people.models import PersonRole
from mda.people.operations import add_person
from mda.referrals.operations import accept, add_referral_person, save_draft, submit
from mda.teams.models import TeamPhase
from mda.teams.operations import add_expert
from mda.timeutil import freeze, today, utcnow
from tests import factories as make
from tests.conftest import build_app, empty_database
from tests.smtp_server import SmtpServer, free_port

BASE_URL = "https://mda.voorbeeld.test"
MARKERS = {"name": "Zwaantje Markeringsnaam", "bsn": make.BSN_C, "note": "Geheime-notitie-markering",
           "address": "Markeringslaan 77, Venlo", "reason": "Verwijsreden-markering"}


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail_app(migrated: str, keys: dict[str, Any], instance_dir: Path, smtp: SmtpServer) -> Iterator[Flask]:
    app = build_app(migrated, keys, instance_dir, SMTP_HOST="127.0.0.1", SMTP_PORT=smtp.port, SMTP_SECURITY="none",
                    MAIL_SENDER="meldingen@mda.voorbeeld.test", APP_BASE_URL=BASE_URL, SMTP_TIMEOUT_SECONDS=5)
    yield app
    freeze(None)
    with app.app_context():
        empty_database()
        db.dispose()


def send_due(*args: Any, **kwargs: Any) -> SendReport:
    """The worker's call; afterwards this test's session reads rows afresh."""
    report = _send_due(*args, **kwargs)
    db.session.expire_all()
    return report


def transport(app: Flask) -> SmtpTransport:
    return SmtpTransport(app.extensions["mda.settings"].mail)


def with_address(user: User, **deliveries: Delivery) -> None:
    save_preferences(user, email=f"{user.username}@werk.example", digest_hour=7,
                     deliveries={NotificationKind(kind): value for kind, value in deliveries.items()}, by=user)


def busy_world(app: Flask) -> dict[str, int]:
    """Every kind of event on a family whose data carry markers; everyone wants mail at once."""
    with app.app_context():
        team = make.organisation(OrganisationKind.MDA_TEAM)
        vt = make.organisation(OrganisationKind.VEILIG_THUIS)
        coordinator = make.user(Role.COORDINATOR, org=team)
        lead = make.user(Role.COORDINATOR, Role.TEAM_LEAD, org=team)
        expert = make.user(Role.EXPERT, org=make.organisation(OrganisationKind.POLICE))
        referrer = make.user(Role.VT_REFERRER, org=vt)
        everyone = dict.fromkeys([kind.value for kind in NotificationKind], Delivery.IMMEDIATE)
        for user in (coordinator, lead, expert, referrer):
            with_address(user, **everyone)
        case = make.case(coordinator)
        add_person(case, role=PersonRole.UNDERGOING_VIOLENCE, by=coordinator, name=MARKERS["name"],
                   bsn=MARKERS["bsn"], address=MARKERS["address"], notes=MARKERS["note"])
        add_expert(case, expert, discipline_code="judicial", team_phase=TeamPhase.BASISTEAM, by=lead)
        add_task(case, description=MARKERS["note"], owner=expert, due_on=today(), by=coordinator)
        draft = save_draft(None, by=referrer, intake_route="actie_overleg",
                           actie_overleg_on=today() - timedelta(days=1), partners_present=["veilig_thuis", "police"],
                           reason=MARKERS["reason"], urgency="crisis", violence_forms=["partner_violence"],
                           municipality=make.municipality("Venlo"), current_ave_level=4)
        add_referral_person(draft, by=referrer, role="child", name=MARKERS["name"] + " Jr")
        submit(draft, by=referrer)
        new_case = accept(draft, by=lead, coordinator=coordinator, ave_level=4)
        db.session.commit()
        return {"case": case.id, "reference": case.reference, "new_reference": new_case.reference,
                "mails": db.session.query(OutboxMessage).count()}


def test_mails_arrive_without_personal_data_and_link_to_the_app(mail_app: Flask, smtp: SmtpServer) -> None:
    world = busy_world(mail_app)
    assert world["mails"] >= 4
    with mail_app.app_context():
        report = send_due(transport(mail_app), "worker-a")
        assert len(report.sent) == world["mails"] and not report.failed
        assert all(m.status == OutboxStatus.SENT for m in db.session.scalars(select(OutboxMessage)))
    received = smtp.recorder.messages
    assert len(received) == world["mails"]
    for message in received:
        text = message.as_string()
        for marker in MARKERS.values():
            assert marker not in text
        assert "Verwijzer" not in text and "Test Gebruiker" not in text   # no staff names either
        assert f"{BASE_URL}/meldingen/" in text
        assert message["From"] == "meldingen@mda.voorbeeld.test" and message["Message-ID"].startswith("<mda-")
    # The case number is the only thing about a case that a mail names.
    assert any(world["reference"] in message.as_string() for message in received)


def test_the_daily_overview_is_one_mail_at_the_chosen_hour(mail_app: Flask, smtp: SmtpServer, clock) -> None:
    from datetime import datetime, timezone
    from mda.timeutil import AMSTERDAM
    morning = datetime.combine(today(), datetime.min.time()).replace(hour=6, tzinfo=AMSTERDAM).astimezone(timezone.utc)
    with mail_app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        expert = make.user(Role.EXPERT, org=make.organisation(OrganisationKind.POLICE))
        case = make.case(coordinator)
        add_expert(case, expert, discipline_code="judicial", team_phase=TeamPhase.BASISTEAM, by=coordinator)
        save_preferences(expert, email="expert@werk.example", digest_hour=8,
                         deliveries={NotificationKind.TASK_ASSIGNED: Delivery.DIGEST,
                                     NotificationKind.TEAM_ADDED: Delivery.DIGEST}, by=expert)
        for number in range(3):
            add_task(case, description=f"Taak {number}", owner=expert, due_on=today(), by=coordinator)
        db.session.commit()
        clock(morning)
        assert send_digests() == 0      # 06:00: before the chosen hour
        clock(morning + timedelta(hours=2, minutes=5))
        assert send_digests() == 1
        assert send_digests() == 0      # once a day
        send_due(transport(mail_app), "worker-a")
    [digest] = smtp.recorder.messages
    assert digest["Subject"] == "MDA++: dagelijks overzicht, 3 meldingen"
    assert digest.as_string().count(f"{BASE_URL}/meldingen/") == 4  # three items and the inbox


def test_server_down_then_up_every_mail_once(mail_app: Flask, smtp: SmtpServer, clock) -> None:
    busy_world(mail_app)
    smtp.stop()
    start = utcnow()
    clock(start)
    with mail_app.app_context():
        total = db.session.query(OutboxMessage).count()
        first = send_due(transport(mail_app), "worker-a")
        assert len(first.retried) == total and not first.sent
        rows = db.session.scalars(select(OutboxMessage)).all()
        assert all(r.status == OutboxStatus.PENDING and r.attempts == 1 and r.last_error for r in rows)
        assert all(r.next_attempt_at == start + timedelta(minutes=1) for r in rows)
        clock(start + timedelta(seconds=30))
        assert not send_due(transport(mail_app), "worker-a").retried  # backing off: not yet
        clock(start + timedelta(minutes=1, seconds=1))
        second = send_due(transport(mail_app), "worker-a")
        assert len(second.retried) == total
        assert all(r.next_attempt_at >= start + timedelta(minutes=3) for r in db.session.scalars(select(OutboxMessage)))
        smtp.start()
        clock(start + timedelta(minutes=4))
        third = send_due(transport(mail_app), "worker-a")
        assert len(third.sent) == total
        assert not send_due(transport(mail_app), "worker-a").sent
    counts = Counter(smtp.recorder.message_ids())
    assert len(counts) == total and set(counts.values()) == {1}


def test_two_workers_at_once_send_every_mail_exactly_once(mail_app: Flask, smtp: SmtpServer) -> None:
    with mail_app.app_context():
        users = [make.user(Role.COORDINATOR)] + [make.user(Role.EXPERT, org=make.organisation(OrganisationKind.POLICE))
                                                 for _ in range(2)]
        case = make.case(users[0])
        for user in users[1:]:
            add_expert(case, user, discipline_code="judicial", team_phase=TeamPhase.BASISTEAM, by=users[0])
        db.session.query(OutboxMessage).delete()
        for user in users:
            with_address(user, task_assigned=Delivery.IMMEDIATE)
        for number in range(40):
            add_task(case, description=f"Taak {number}", owner=users[1 + number % 2], due_on=today(), by=users[0])
        db.session.commit()
        total = db.session.query(OutboxMessage).count()
    assert total == 40
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            with mail_app.app_context():
                barrier.wait()
                send_due(transport(mail_app), name, limit=5)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"worker-{n}",)) for n in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    counts = Counter(smtp.recorder.message_ids())
    assert len(counts) == total and set(counts.values()) == {1}
    with mail_app.app_context():
        rows = db.session.scalars(select(OutboxMessage)).all()
        assert all(r.status == OutboxStatus.SENT and r.attempts == 1 for r in rows)


class Killed(BaseException):
    """What SIGKILL looks like from inside: nothing after this line runs, no handler, no cleanup."""


class DiesAfterSending(SmtpTransport):
    def send(self, message: EmailMessage) -> None:
        super().send(message)     # the server has it ...
        raise Killed()            # ... and the worker dies before writing that down


def test_worker_killed_mid_send_loses_nothing_and_repeats_only_the_message_in_flight(
        mail_app: Flask, smtp: SmtpServer, clock) -> None:
    busy_world(mail_app)
    start = utcnow()
    clock(start)
    with mail_app.app_context():
        total = db.session.query(OutboxMessage).count()
        claimed = claim("worker-a", limit=3)
        with pytest.raises(Killed):
            send_one(claimed[0], "worker-a", DiesAfterSending(mail_app.extensions["mda.settings"].mail), SendReport())
        db.session.rollback()
        # Worker A is gone with three claims. Worker B leaves them alone while A's lease runs ...
        report = send_due(transport(mail_app), "worker-b")
        assert len(report.sent) == total - 3
        # ... and takes them over once it has run out.
        clock(start + timedelta(minutes=5, seconds=1))
        report = send_due(transport(mail_app), "worker-b")
        assert sorted(report.sent) == claimed
        in_flight = db.session.get(OutboxMessage, claimed[0])
        assert in_flight.status == OutboxStatus.SENT and in_flight.attempts == 2
        assert all(m.status == OutboxStatus.SENT for m in db.session.scalars(select(OutboxMessage)))
    counts = Counter(smtp.recorder.message_ids())
    assert len(counts) == total                       # nothing lost
    repeated = [mid for mid, n in counts.items() if n > 1]
    assert repeated == [in_flight.message_id] and counts[in_flight.message_id] == 2  # recognisable repeat


def test_a_refused_mailbox_fails_for_good_shows_on_the_admin_page_and_can_be_sent_again(mail_app: Flask, smtp: SmtpServer) -> None:
    with mail_app.app_context():
        admin = make.user(Role.ADMIN)
        coordinator = make.user(Role.COORDINATOR)
        expert = make.user(Role.EXPERT, org=make.organisation(OrganisationKind.POLICE))
        case = make.case(coordinator)
        save_preferences(expert, email="onbekend@politie.example", digest_hour=7, deliveries={}, by=expert)
        add_expert(case, expert, discipline_code="judicial", team_phase=TeamPhase.BASISTEAM, by=admin)
        db.session.commit()
        send_due(transport(mail_app), "worker-a")  # the server refuses the mailbox: no use retrying
        [message] = db.session.scalars(select(OutboxMessage)).all()
        assert message.status == OutboxStatus.FAILED and message.attempts == 1
        assert message.last_error == "SMTPRecipientsRefused"
        admin_id, expert_id, message_id, message_key = admin.id, expert.id, message.id, message.message_id
    client = mail_app.test_client()
    with mail_app.app_context():
        admin = db.session.get(User, admin_id)
        db.session.expunge(admin)
    assert make.login(client, admin).status_code == 302
    page = client.get("/beheer/e-mail/").get_data(as_text=True)
    assert "Mislukt, niet meer geprobeerd" in page and str(escape(message_key)) in page
    assert "onbekend@" not in page  # the page shows the account, not the address
    with mail_app.app_context():
        with_address(db.session.get(User, expert_id))
        db.session.commit()
    assert client.post(f"/beheer/e-mail/{message_id}/opnieuw").status_code == 302
    with mail_app.app_context():
        send_due(transport(mail_app), "worker-a")
        assert db.session.get(OutboxMessage, message_id).status == OutboxStatus.SENT
    assert smtp.recorder.message_ids() == [message_key]


def test_without_an_address_only_legal_deadlines_are_queued(mail_app: Flask, smtp: SmtpServer) -> None:
    from mda.notifications.events import case_subject
    from mda.notifications.operations import notify
    with mail_app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        expert = make.user(Role.EXPERT, org=make.organisation(OrganisationKind.POLICE))
        case = make.case(coordinator)
        add_expert(case, expert, discipline_code="judicial", team_phase=TeamPhase.BASISTEAM, by=coordinator)
        assert db.session.query(OutboxMessage).count() == 0   # no address: the inbox only
        notify([coordinator], NotificationKind.HOUSE_BAN_EXPIRY_NEAR, case_subject(case, "house_ban", 1),
               link=f"/casussen/{case.id}/huisverboden", due_key="x")
        db.session.commit()
        send_due(transport(mail_app), "worker-a")
        [message] = db.session.scalars(select(OutboxMessage)).all()
        assert message.status == OutboxStatus.NO_ADDRESS      # for the administrator to see


def test_a_worker_asked_to_stop_finishes_the_message_in_hand_and_leaves_the_rest(
        mail_app: Flask, smtp: SmtpServer) -> None:
    busy_world(mail_app)
    with mail_app.app_context():
        total = db.session.query(OutboxMessage).count()
        asked = []

        def stop_after_two() -> bool:  # SIGTERM arrives while the second message is being sent
            asked.append(1)
            return len(asked) > 2

        report = send_due(transport(mail_app), "worker-a", stopping=stop_after_two)
        assert len(report.sent) == 2
        left = db.session.scalars(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.PENDING)).all()
        assert len(left) == total - 2 and all(m.claimed_by is None for m in left)  # free for the next worker


def test_access_ended_between_queueing_and_sending_means_the_mail_is_not_sent(
        mail_app: Flask, smtp: SmtpServer) -> None:
    """An expert taken off the team, or an account switched off, after an e-mail about a case was
    queued and before the worker sends it: the e-mail does not go out, and the outbox says why."""
    from mda.accounts.operations import set_active
    from mda.teams.models import TeamMembership
    from mda.teams.operations import end_expert_membership
    with mail_app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        expert = make.user(Role.EXPERT, org=make.organisation(OrganisationKind.POLICE))
        admin = make.user(Role.ADMIN)
        case = make.case(coordinator)
        for user in (coordinator, expert):
            with_address(user, task_assigned=Delivery.IMMEDIATE)
        add_expert(case, expert, discipline_code="judicial", team_phase=TeamPhase.BASISTEAM, by=coordinator)
        add_task(case, description="Contact school", owner=expert, due_on=today(), by=coordinator)
        other = make.case(coordinator)
        add_task(other, description="Eigen taak", owner=coordinator, due_on=today(), by=make.user(Role.COORDINATOR))
        db.session.commit()
        queued = {m.id: m.recipient_id for m in db.session.scalars(select(OutboxMessage))}
        assert set(queued.values()) == {expert.id, coordinator.id}   # team and task notices
        membership = db.session.scalars(select(TeamMembership).where(TeamMembership.user_id == expert.id)).one()
        end_expert_membership(membership, by=coordinator)
        set_active(coordinator, False, by=admin)
        db.session.commit()
        report = send_due(transport(mail_app), "worker-a", limit=20)
        statuses = {m.id: m.status for m in db.session.scalars(select(OutboxMessage)) if m.id in queued}
        assert set(statuses.values()) == {OutboxStatus.WITHDRAWN}
        assert smtp.recorder.messages == [] and report.sent == []
        assert sorted(report.withdrawn) == sorted(queued)
