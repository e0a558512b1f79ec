"""Outcomes: the safety judgement at closure, the follow-up task a year later, and the release's
figures on a hand-computed set of twenty closures."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from mda.accounts.models import Role
from mda.cases.models import ClosureReason
from mda.cases.operations import close_case
from mda.db import db
from mda.errors import InvalidInput, InvalidTransition
from mda.journal.models import Task
from mda.metrics import operations as ops
from mda.organisations.models import OrganisationKind
from mda.outcomes.models import ClosureOutcome, FamilySafe, FollowUpCheck, SafetyJudgement
from mda.outcomes.operations import FOLLOW_UP_TASK, record_follow_up
from tests import factories as make

# Twenty closures in January 2025: 11 judged lasting, 5 partly, 4 not safe.
JUDGEMENTS = [SafetyJudgement.LASTING] * 11 + [SafetyJudgement.PARTLY] * 5 + [SafetyJudgement.NOT] * 4
# A year later, sixteen follow-ups recorded: 10 safe, 3 partly, 3 not; four are still open.
FOLLOW_UPS = [FamilySafe.YES] * 10 + [FamilySafe.PARTLY] * 3 + [FamilySafe.NO] * 3 + [None] * 4


def moment(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 11, tzinfo=timezone.utc)


def close(case, coordinator, judgement: SafetyJudgement, professional: int = 7, family: int | None = None):  # noqa: ANN001, ANN201
    make.safe_start(case, coordinator)
    return close_case(case, closure_reason=ClosureReason.LASTING_SAFETY, receiving_party=OrganisationKind.LOCAL_TEAM,
                      receiving_name="Lokaal team", by=coordinator, safety_judgement=judgement,
                      professional_rating=professional, family_rating=family)


def test_closing_records_the_judgement_and_the_follow_up_falls_due_a_year_later(
        ctx: Flask, clock: Callable[[datetime], None]) -> None:
    clock(moment(2025, 3, 14))
    coordinator = make.user(Role.COORDINATOR)
    case = make.case(coordinator, opened_on=date(2024, 6, 1))
    with pytest.raises(InvalidInput, match="0 tot en met 10"):
        close(case, coordinator, SafetyJudgement.PARTLY, professional=11)
    assert case.closed_on is None and not db.session.scalars(select(ClosureOutcome)).all()   # nothing written
    close_case(case, closure_reason=ClosureReason.LASTING_SAFETY, receiving_party=OrganisationKind.LOCAL_TEAM,
               receiving_name="Lokaal team", by=coordinator, safety_judgement=SafetyJudgement.PARTLY,
               professional_rating=6, family_rating=8)
    outcome = db.session.scalars(select(ClosureOutcome).where(ClosureOutcome.case_id == case.id)).one()
    assert (outcome.judgement, outcome.professional_rating, outcome.family_rating) == (SafetyJudgement.PARTLY, 6, 8)
    check = db.session.scalars(select(FollowUpCheck).where(FollowUpCheck.case_id == case.id)).one()
    task = db.session.get(Task, check.task_id)
    assert check.due_on == task.due_on == date(2026, 3, 14) and task.description == FOLLOW_UP_TASK
    assert task.owner_id == coordinator.id
    assert not task.is_overdue_on(date(2026, 3, 14)) and task.is_overdue_on(date(2026, 3, 15))
    with pytest.raises(InvalidTransition, match="pas op 14-03-2026"):
        record_follow_up(check, family_safe=FamilySafe.YES, new_vt_report=False, new_house_ban=False,
                         new_referral=False, by=coordinator, on=date(2026, 3, 13))
    with pytest.raises(InvalidInput, match="veilig"):
        record_follow_up(check, family_safe=None, new_vt_report=False, new_house_ban=False, new_referral=False,
                         by=coordinator, on=date(2026, 3, 14))
    record_follow_up(check, family_safe=FamilySafe.NO, new_vt_report=True, new_house_ban=True, new_referral=False,
                     by=coordinator, on=date(2026, 3, 16))
    assert (check.family_safe, check.new_vt_report, check.new_house_ban, check.new_referral) == \
        (FamilySafe.NO, True, True, False)
    assert task.done_at is not None
    with pytest.raises(InvalidTransition, match="al vastgelegd"):
        record_follow_up(check, family_safe=FamilySafe.YES, new_vt_report=False, new_house_ban=False,
                         new_referral=False, by=coordinator, on=date(2026, 3, 17))


def test_release_shows_lasting_safety_at_closure_and_after_twelve_months(
        ctx: Flask, clock: Callable[[datetime], None]) -> None:
    coordinator = make.user(Role.COORDINATOR)
    clock(moment(2025, 1, 10))
    cases = [make.case(coordinator, opened_on=date(2024, 3, 1)) for _ in JUDGEMENTS]
    for case, judgement in zip(cases, JUDGEMENTS):
        close(case, coordinator, judgement)
    clock(moment(2026, 2, 1))
    checks = db.session.scalars(select(FollowUpCheck).order_by(FollowUpCheck.id)).all()
    assert len(checks) == 20 and {c.due_on for c in checks} == {date(2026, 1, 10)}
    for check, answer in zip(checks, FOLLOW_UPS):
        if answer is not None:
            record_follow_up(check, family_safe=answer, new_vt_report=answer == FamilySafe.NO, new_house_ban=False,
                             new_referral=False, by=coordinator, on=date(2026, 2, 1))
    db.session.commit()
    clock(moment(2026, 11, 20))
    release = ops.publish_release(ops.quarter(2025, 1), by=None, config={"METRICS_THRESHOLD": 3})
    headline = {row["label"]: row["cells"][0] for row in release.content["tables"][0]["rows"]}
    assert headline["Casussen afgesloten"] == "20"
    assert headline["Oordeel bij afsluiting: duurzaam veilig"] == "11"
    assert headline["Oordeel bij afsluiting: deels veilig"] == "5"
    assert headline["Oordeel bij afsluiting: niet veilig"] == "4"
    assert headline["Follow-up na 12 maanden vastgelegd"] == "16"
    assert headline["waarvan gezin veilig na 12 maanden"] == "10"
    figures = release.content["headlines"]
    assert figures["duurzaam_aandeel"].startswith("55% duurzaam veilig")          # 11 of 20
    assert figures["veilig_na_12"].startswith("63% veilig na twaalf maanden")    # 10 of 16
    assert "33%" in figures["duurzaam_aandeel"]                                    # the baseline: one third
    safety = {t["key"]: t for t in release.content["tables"]}["uitstroom_veiligheid"]
    total = safety["rows"][-1]
    assert total["cells"] == ["20", "11", "16", "10"]


def test_the_follow_up_is_recorded_on_the_case_page_once_due(app: Flask, clock: Callable[[datetime], None]) -> None:
    clock(moment(2025, 3, 14))
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case = make.case(coordinator, opened_on=date(2024, 6, 1))
        close(case, coordinator, SafetyJudgement.LASTING)
        db.session.commit()
        case_id = case.id
    client = app.test_client()
    make.login(client, coordinator)
    page = client.get(f"/casussen/{case_id}/fasen").get_data(as_text=True)
    assert "taak klaar voor 14-03-2026" in page
    clock(moment(2026, 3, 20))
    client = app.test_client()      # a year on: a new session
    make.login(client, coordinator)
    refused = client.post(f"/casussen/{case_id}/follow-up", data={"new_vt_report": "y"})
    assert refused.status_code == 422 and "Geef aan of het gezin veilig is." in refused.get_data(as_text=True)
    done = client.post(f"/casussen/{case_id}/follow-up", data={"family_safe": "yes", "new_referral": "y"})
    assert done.status_code == 302
    with app.app_context():
        check = db.session.scalars(select(FollowUpCheck).where(FollowUpCheck.case_id == case_id)).one()
        assert (check.family_safe, check.new_vt_report, check.new_house_ban, check.new_referral) == \
            (FamilySafe.YES, False, False, True)


def test_a_headline_figure_not_shown_says_why(ctx: Flask) -> None:
    """A share whose part is hidden is not "fewer than 10" when the whole is 41: the text names
    the hidden count; a whole below the threshold or itself hidden says so."""
    rows = {"Casussen afgesloten": 41, "Oordeel bij afsluiting: duurzaam veilig": None,
            "Follow-up na 12 maanden vastgelegd": 6, "waarvan gezin veilig na 12 maanden": 4,
            "Afgesloten en 12 maanden gevolgd": None, "waarvan her-melding binnen 12 maanden": 0,
            "Stabiele veiligheid bereikt": 12}
    figures = ops._headline_figures({"rows": [{"label": k, "numbers": [v]} for k, v in rows.items()]},
                                    ops.year(2025), 10)
    assert figures["duurzaam_aandeel"] == ("niet getoond: het aantal duurzaam veilig afgesloten casussen is "
                                           "verborgen, zodat geen gezin herkenbaar wordt")
    assert figures["veilig_na_12"] == "niet getoond bij minder dan 10 vastgelegde follow-ups"
    assert figures["hermelding_aandeel"] == "niet getoond: het aantal gevolgde casussen is verborgen (klein aantal)"
    assert figures["doorlooptijd_mediaan"] == "geen gegevens"    # 41 closures counted, none in this empty database
    assert set(figures) == {"stabiel_mediaan", "doorlooptijd_mediaan", "duurzaam_aandeel", "veilig_na_12",
                            "hermelding_aandeel"}
