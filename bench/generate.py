"""Generate a benchmark data set through the app's own models and encryption.

    python bench/generate.py --workdir /tmp/mda-bench/pilot-sqlite --scale pilot
    python bench/generate.py --workdir /tmp/mda-bench/national-pg --scale national \
        --database postgresql+psycopg://postgres@127.0.0.1:5432/helper_bench

Accounts (with known TOTP secrets) are made with the app's operations (tests/system/harness.seed).
Cases, persons, tasks, safety plans, journal entries and audit records are inserted in bulk
(``session.execute(insert(Model), rows)``), but every encrypted value is produced by the model's
own EncryptedField descriptor (the app's FieldCipher, the same per-row context), persons go through
the ORM so their blind indexes and age bands are set by the model, and the audit chain is sealed
with mda.audit.trail._seal and the app's audit key, continuing from the chain head. The per-case
shape is the same at every scale, so pilot and national differ only in volume.

Writes ``env.json`` (the workers' environment, including the generated keys: benchmark data only)
and ``manifest.json`` (accounts) in the work directory; ``bench/run.py`` reads both.
``--peak`` also makes what ``bench/peak.py`` needs (see add_peak_data); without it nothing changes.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.system.harness import make_app, new_keys, reset_postgres, seed, server_env  # noqa: E402

SCALES = {  # cases, persons, journal entries, audit records
    "pilot": (150, 720, 12_000, 60_000),
    "national": (12_500, 60_000, 1_000_000, 5_000_000),
}
BATCH = 20_000
# --peak: the login accounts of bench/peak.py's 100 simulated users (a national peak's mix). The
# seed's usual counts (20 coordinators, 4 team leads, 4 experts, 2 Veilig Thuis, 2 steering) are
# too few for 100 users who each log in once: a TOTP code is accepted once per account and step.
PEAK_ACCOUNTS = {"coordinator": 50, "lead": 8, "expert": 28, "referrer": 8, "steering": 6}
PEAK_CASES_PER_EXPERT = 20
PEAK_REFERRALS = 100


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def generate(app, cases: int, persons: int, journal: int, audit: int,  # noqa: ANN001, C901
             closed: int = 0) -> dict[str, float]:
    from sqlalchemy import func, insert, select

    from mda.accounts.models import Role, User, UserRole
    from mda.accounts.operations import create_user
    from mda.audit.models import AuditAction, AuditChainHead, AuditEvent, AuditOutcome
    from mda.audit.trail import CHAIN_HEAD_ID, _seal
    from mda.cases.deadlines import refresh_next_deadlines
    from mda.cases.models import Case, CaseStatus, CaseViolenceForm, ClosureReason, IntakeRoute, Phase, ViolenceForm
    from mda.db import db
    from mda.journal.models import JournalEntry, JournalKind, Task
    from mda.organisations.models import Organisation, OrganisationKind
    from mda.people.identity import GenderCategory
    from mda.people.models import Person, PersonRole
    from mda.reference.models import Municipality
    from mda.safety.models import SafetyPlan
    from mda.teams.models import TeamMembership, TeamPhase, TeamRole
    from mda.timeutil import today, utcnow

    timings: dict[str, float] = {}
    with app.app_context():
        session = db.session
        day, now = today(), utcnow()
        towns = [m.id for m in session.scalars(select(Municipality))]
        team = session.scalars(select(Organisation).where(Organisation.kind == OrganisationKind.MDA_TEAM)).first()
        coordinators = list(session.scalars(select(User).join(UserRole).where(UserRole.role == Role.COORDINATOR)
                                            .order_by(User.id)))
        started = time.monotonic()
        # ~20 cases per coordinator. These accounts never log in: hash their random password with
        # the fast test hasher instead of spending ~0.4 s of Argon2id on each.
        from mda.security.passwords import Passwords, make_hasher
        real_passwords = app.extensions["mda.passwords"]
        app.extensions["mda.passwords"] = Passwords(make_hasher(fast=True))
        for number in range(len(coordinators), max(len(coordinators), cases // 20)):
            coordinators.append(create_user(username=f"bulkcoord{number:04d}", display_name=f"Coördinator {number}",
                                            password=f"bench-{uuid.uuid4()}", roles=[Role.COORDINATOR],
                                            organisation=team, by=None))
        session.commit()
        app.extensions["mda.passwords"] = real_passwords
        timings["extra coordinators"] = time.monotonic() - started

        started = time.monotonic()
        forms, phases = list(ViolenceForm), list(Phase)
        # Open unless --closed: all open is the caseload's worst case; the last ``closed`` cases are
        # closed (a region's caseload for the search: 150 open and 500 closed).
        case_rows = [{"reference": f"B{n:07d}", "municipality_id": towns[n % len(towns)],
                      "intake_route": IntakeRoute.ACTIE_OVERLEG,
                      "status": CaseStatus.OPEN,
                      "phase": phases[n % len(phases)], "phase_since": now - timedelta(days=n % 200),
                      "ave_level": 3 + n % 2, "ave_since": now - timedelta(days=n % 90),
                      "opened_on": day - timedelta(days=n % 700), "version": 1} for n in range(cases)]
        for row in case_rows[cases - closed:] if closed else ():
            row.update(status=CaseStatus.CLOSED, closed_on=day, closure_reason=ClosureReason.LASTING_SAFETY)
        case_ids: list[int] = []
        for start in range(0, cases, BATCH):
            case_ids += session.scalars(insert(Case).returning(Case.id), case_rows[start:start + BATCH]).all()
        owner_of = {case_id: coordinators[n % len(coordinators)] for n, case_id in enumerate(case_ids)}
        session.execute(insert(CaseViolenceForm), [{"case_id": c, "form": forms[n % len(forms)]}
                                                   for n, c in enumerate(case_ids)])
        session.execute(insert(TeamMembership), [
            {"case_id": c, "user_id": owner_of[c].id, "organisation_id": team.id, "team_role": TeamRole.COORDINATOR,
             "team_phase": TeamPhase.BASISTEAM, "started_on": day - timedelta(days=800), "added_by_id": owner_of[c].id}
            for c in case_ids])
        session.commit()
        timings["cases"] = time.monotonic() - started

        started = time.monotonic()
        roles = list(PersonRole)
        for start in range(0, persons, 5_000):
            batch = []
            for n in range(start, min(persons, start + 5_000)):
                case_id = case_ids[n % len(case_ids)]
                person = Person(case_id=case_id, role=roles[n % len(roles)], gender=GenderCategory.UNKNOWN)
                person.name = f"Fictief Persoon {n}"
                person.date_of_birth = date(1960 + n % 60, 1 + n % 12, 1 + n % 28)
                person.address = f"Benchmarklaan {n % 500}, Fictiefdorp"
                person.phone = f"06-{n % 100_000_000:08d}"
                person.notes = "Fictieve notitie voor de benchmark."
                batch.append(person)
            session.add_all(batch)
            session.commit()
            session.expunge_all()
        timings["persons"] = time.monotonic() - started

        started = time.monotonic()
        task_rows, plan_rows = [], []
        for n, case_id in enumerate(case_ids):  # two open tasks and one current safety plan per case
            for k in range(2):
                task = Task(case_id=case_id)
                task.uuid = uuid.uuid4()
                task.description = f"Fictieve taak {k}"
                task_rows.append({"uuid": task.uuid, "case_id": case_id, "description_ciphertext": task.description_ciphertext,
                                  "owner_id": owner_of[case_id].id, "due_on": day + timedelta(days=(n + k * 7) % 30 - 5),
                                  "created_by_id": owner_of[case_id].id, "created_at": now, "version": 1})
            plan = SafetyPlan(case_id=case_id)
            plan.uuid = uuid.uuid4()
            plan.agreements, plan.agreed_by = "Fictieve afspraken.", "Gezin en coördinator"
            plan_rows.append({"uuid": plan.uuid, "case_id": case_id, "version_number": 1,
                              "agreed_on": day - timedelta(days=30), "review_on": day + timedelta(days=n % 60 - 10),
                              "agreements_ciphertext": plan.agreements_ciphertext,
                              "agreed_by_ciphertext": plan.agreed_by_ciphertext,
                              "recorded_by_id": owner_of[case_id].id, "recorded_at": now})
        for start in range(0, len(task_rows), BATCH):
            session.execute(insert(Task), task_rows[start:start + BATCH])
        for start in range(0, len(plan_rows), BATCH):
            session.execute(insert(SafetyPlan), plan_rows[start:start + BATCH])
        # Bulk inserts bypass the flush that keeps the stored next deadline: fill it as the migration does.
        refresh_next_deadlines(session)
        session.commit()
        timings["tasks and plans"] = time.monotonic() - started

        started = time.monotonic()
        kinds = list(JournalKind)
        for start in range(0, journal, BATCH):
            rows = []
            for n in range(start, min(journal, start + BATCH)):
                case_id = case_ids[n % len(case_ids)]
                entry = JournalEntry(case_id=case_id)
                entry.uuid = uuid.uuid4()
                entry.body = f"Fictief journaalbericht {n}: contact met het gezin, afspraken nagelopen."
                rows.append({"uuid": entry.uuid, "case_id": case_id, "kind": kinds[n % len(kinds)],
                             "occurred_at": now - timedelta(minutes=n), "body_ciphertext": entry.body_ciphertext,
                             "author_id": owner_of[case_id].id, "recorded_at": now - timedelta(minutes=n)})
            session.execute(insert(JournalEntry), rows)
            session.commit()
            if start and start % 200_000 == 0:
                log(f"  journal {start}")
        timings["journal"] = time.monotonic() - started

        started = time.monotonic()
        key = app.extensions["mda.settings"].audit_key
        head = session.get(AuditChainHead, CHAIN_HEAD_ID)
        prev, next_id = head.last_hash, (session.scalar(select(func.max(AuditEvent.id))) or 0) + 1
        columns = ("id", "occurred_at", "user_id", "username", "role", "action", "object_type", "object_id",
                   "case_id", "person_id", "access_point", "outcome", "detail", "prev_hash", "hash")
        first_moment = now - timedelta(seconds=audit)
        for start in range(0, audit, BATCH):
            rows = []
            for n in range(start, min(audit, start + BATCH)):
                case_id = case_ids[n % len(case_ids)]
                owner = owner_of[case_id]
                event = SimpleNamespace(
                    id=next_id, occurred_at=first_moment + timedelta(seconds=n), user_id=owner.id,
                    username=owner.username, role="coordinator", action=AuditAction.READ, object_type="case",
                    object_id=case_id, case_id=case_id, person_id=None, access_point="127.0.0.1",
                    outcome=AuditOutcome.SUCCESS, detail="overzicht", prev_hash=prev)
                event.hash = _seal(event, key)
                prev, next_id = event.hash, next_id + 1
                rows.append({c: getattr(event, c) for c in columns})
            session.execute(insert(AuditEvent), rows)
            session.commit()
            if start and start % 1_000_000 == 0:
                log(f"  audit {start}")
        if audit:
            head = session.get(AuditChainHead, CHAIN_HEAD_ID)
            head.last_hash, head.last_event_id = prev, next_id - 1
            session.commit()
        timings["audit"] = time.monotonic() - started
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:  # explicit ids above: move the sequence past them
                from sqlalchemy import text
                connection.execute(text("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), "
                                        "(SELECT max(id) FROM audit_events))"))
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                from sqlalchemy import text
                connection.execute(text("VACUUM ANALYZE"))
        else:
            with db.engine.begin() as connection:
                from sqlalchemy import text
                connection.execute(text("ANALYZE"))
        db.dispose()
    return timings


def add_peak_data(app, api_token: str) -> dict[str, float]:  # noqa: ANN001
    """What bench/peak.py's roles need beyond the usual data set: the experts in the teams of
    ~20 cases each, submitted referrals from Veilig Thuis (through the API, as a registration
    system sends them), and one published stuurinformatie release (the last ended quarter)."""
    from sqlalchemy import insert, select

    from mda.accounts.models import Role, User, UserRole
    from mda.cases.models import Case
    from mda.db import db
    from mda.metrics.operations import ReleaseRefused, publish_release, quarter
    from mda.reference.models import Discipline
    from mda.teams.models import TeamMembership, TeamPhase, TeamRole
    from mda.timeutil import today

    from tests.system.test_load import api_payload

    timings: dict[str, float] = {}
    with app.app_context():
        session = db.session
        started = time.monotonic()
        experts = list(session.scalars(select(User).join(UserRole).where(UserRole.role == Role.EXPERT)
                                       .order_by(User.id)))
        case_ids = list(session.scalars(select(Case.id).order_by(Case.id)))
        discipline = session.scalars(select(Discipline.code).order_by(Discipline.code)).first()
        rows = []
        for number, expert in enumerate(experts):
            for case_id in case_ids[number::len(experts)][:PEAK_CASES_PER_EXPERT]:
                rows.append({"case_id": case_id, "user_id": expert.id, "organisation_id": expert.organisation_id,
                             "team_role": TeamRole.EXPERT, "discipline_code": discipline,
                             "team_phase": TeamPhase.BASISTEAM, "started_on": today() - timedelta(days=400),
                             "added_by_id": None})
        if rows:
            session.execute(insert(TeamMembership), rows)
        session.commit()
        timings["peak: expert teams"] = time.monotonic() - started
        started = time.monotonic()
        client = app.test_client()
        logging.getLogger("mda").setLevel(logging.WARNING)  # not a request log line per referral
        for number in range(PEAK_REFERRALS):
            response = client.post("/api/v1/verwijzingen", data=api_payload(f"bench-{number}"), headers={
                "Authorization": f"Bearer {api_token}", "Content-Type": "application/json"})
            if response.status_code != 201:
                raise RuntimeError(f"API referral refused: {response.status_code} {response.get_data(as_text=True)}")
        timings["peak: referrals"] = time.monotonic() - started
        started = time.monotonic()
        day = today()
        year_, number = (day.year, (day.month - 1) // 3) if day.month > 3 else (day.year - 1, 4)
        try:
            publish_release(quarter(year_, number), by=None, config=app.config)
            session.commit()
        except ReleaseRefused as exc:
            session.rollback()
            log(f"no stuurinformatie release: {exc}")
        timings["peak: release"] = time.monotonic() - started
        db.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--scale", choices=sorted(SCALES), default="pilot")
    parser.add_argument("--database", help="SQLAlchemy URL (default: SQLite file in the work directory)")
    parser.add_argument("--cases", type=int)
    parser.add_argument("--persons", type=int)
    parser.add_argument("--journal", type=int)
    parser.add_argument("--audit", type=int)
    parser.add_argument("--closed", type=int, default=0,
                        help="close this many of the cases (the last ones); the others stay open")
    parser.add_argument("--peak", action="store_true",
                        help="also what bench/peak.py needs: login accounts for 100 users (coordinators, team "
                             "leads, experts, Veilig Thuis, steering), experts in case teams, submitted "
                             "referrals and a published stuurinformatie release")
    parser.add_argument("--verify", action="store_true", help="walk the whole audit chain afterwards")
    args = parser.parse_args()
    cases, persons, journal, audit = SCALES[args.scale]
    cases, persons = args.cases or cases, args.persons if args.persons is not None else persons
    journal = args.journal if args.journal is not None else journal
    audit = args.audit if args.audit is not None else audit
    args.workdir.mkdir(parents=True, exist_ok=True)
    url = args.database or f"sqlite:///{args.workdir / 'bench.sqlite'}"
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    else:
        reset_postgres(url)
    instance = args.workdir / "instance"
    instance.mkdir(exist_ok=True)
    env = server_env(url, instance, new_keys(), mode="demo")
    total = time.monotonic()
    log(f"generating {cases} cases, {persons} persons, {journal} journal entries, {audit} audit records on "
        f"{url.split(':')[0]}")
    app = make_app(env)
    started = time.monotonic()
    counts = {"coordinator": 20, "lead": 4, "expert": 4, "referrer": 2, "steering": 2}
    if args.peak:
        counts = {role: max(count, PEAK_ACCOUNTS[role]) for role, count in counts.items()}
    manifest = seed(app, cases=0, coordinators=counts["coordinator"], leads=counts["lead"], experts=counts["expert"],
                    referrers=counts["referrer"], steering=counts["steering"])
    timings = {"accounts (operations)": time.monotonic() - started}
    if not 0 <= args.closed <= cases:
        parser.error("--closed must be between 0 and the number of cases")
    timings.update(generate(app, cases, persons, journal, audit, closed=args.closed))
    if args.peak:
        timings.update(add_peak_data(app, manifest.api_token))
    timings["total"] = time.monotonic() - total
    for name, seconds in timings.items():
        log(f"{name:24} {seconds:8.1f} s")
    if args.verify:
        from mda.audit.trail import verify
        from mda.db import db
        with app.app_context():
            started = time.monotonic()
            report = verify(db.session)
            log(f"audit chain: {report} in {time.monotonic() - started:.1f} s")
            db.dispose()
    (args.workdir / "env.json").write_text(json.dumps(env))
    (args.workdir / "manifest.json").write_text(manifest.to_json())
    (args.workdir / "generation.json").write_text(json.dumps({"cases": cases, "closed": args.closed, "persons": persons, "journal": journal,
                                                              "audit": audit, "peak": args.peak, "seconds": timings}))


if __name__ == "__main__":
    main()
