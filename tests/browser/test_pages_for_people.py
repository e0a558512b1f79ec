"""Pages that work for people (issue 16), in a real browser: a refused form says so at the form
with the focus on its error summary; a save comes back to its section with the confirmation in
view; the session warning comes before the idle limit and "Doorgaan" renews the session; a new
safety plan version starts from the current one and shows what changed; typing survives a session
that ended; and at 375 px the pages fit the screen with the menu reachable. axe-core checks every
page visited, at both widths."""
from __future__ import annotations

import re
from typing import Any, Iterator

import pytest

from .conftest import Pages, check_accessibility

PASSWORD = "correct horse battery staple"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1366, "height": 900}


@pytest.fixture(scope="module")
def world(live_app: Any) -> Iterator[dict[str, Any]]:
    from mda.accounts.models import Role
    from mda.db import db
    from mda.organisations.models import OrganisationKind
    from mda.people.models import PersonRole
    from mda.people.operations import add_person
    from tests import factories
    with live_app.app_context():
        team = factories.organisation(OrganisationKind.MDA_TEAM, "MDA++ Noord- en Midden-Limburg")
        vt = factories.organisation(OrganisationKind.VEILIG_THUIS, "Veilig Thuis Limburg-Noord")
        coordinator = factories.user(Role.COORDINATOR, org=team, username="coby.scherm")
        referrer = factories.user(Role.VT_REFERRER, org=vt, username="vera.scherm")
        steering = factories.user(Role.STEERING, org=team, username="stijn.scherm")
        case = factories.case(coordinator)
        planned = factories.case(coordinator)
        for role, name in ((PersonRole.UNDERGOING_VIOLENCE, "Sanne Schermplan"),
                           (PersonRole.USING_VIOLENCE, "Mark Schermplan")):
            add_person(planned, role=role, by=coordinator, name=name)
        db.session.commit()
        yield {"coordinator": coordinator.username, "referrer": referrer.username, "steering": steering.username,
               "case_id": case.id, "plan_case_id": planned.id}


def _new_page(p: Pages, viewport: dict[str, int]) -> Any:
    context = p.browser.new_context(base_url=p.base_url, locale="nl-NL", timezone_id="Europe/Amsterdam",
                                    viewport=viewport)
    context.set_default_timeout(10_000)
    p.contexts.append(context)
    return context.new_page()


def _log_in(live_app: Any, page: Any, username: str) -> None:
    from mda.accounts.models import User
    from mda.auth import mfa
    from mda.db import db
    if not page.url.endswith("/inloggen"):
        page.goto("/inloggen")
    page.get_by_label("Gebruikersnaam").fill(username)
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Volgende").click()
    page.wait_for_url("**/inloggen/code")
    with live_app.app_context():
        account = db.session.query(User).filter_by(username=username).one()
        account.totp_last_step = None  # each test logs in again within one 30-second step
        code = mfa.code_for(account.totp_secret)
        db.session.commit()
    page.get_by_label("Code uit uw authenticator-app").fill(code)
    page.get_by_role("button", name="Inloggen").click()
    page.wait_for_url(lambda url: "/inloggen" not in url)


def _signed_in_at(p: Pages, live_app: Any, username: str, path: str) -> Any:
    """A new desktop-sized page, logged in as ``username``, at ``path``."""
    page = _new_page(p, DESKTOP)
    _log_in(live_app, page, username)
    page.goto(path)
    return page


def _in_view(page: Any, selector: str) -> bool:
    return page.evaluate("(s) => { const r = document.querySelector(s).getBoundingClientRect(); "
                         "return r.top >= 0 && r.top < window.innerHeight; }", selector)


def test_a_refused_referral_shows_its_error_summary_in_view_with_the_focus(
        p_pages: Pages, live_app: Any, world: dict[str, Any]) -> None:
    page = _signed_in_at(p_pages, live_app, world["referrer"], "/verwijzingen/nieuw")
    check_accessibility(page, p_pages.axe_source)
    from datetime import timedelta

    from mda.timeutil import today
    page.get_by_label("Waarom is regie door het MDA++-team nodig?").fill("Wat ik al had getypt.")
    page.get_by_label("Datum van het Actie-overleg").fill((today() + timedelta(days=3)).isoformat())  # refused
    page.get_by_role("button", name="Concept opslaan").click()
    page.wait_for_load_state()
    assert page.url.endswith("/verwijzingen/nieuw#gegevens")
    summary = page.locator(".error-summary")
    assert summary.count() == 1 and summary.get_attribute("role") == "alert"
    page.wait_for_function("() => document.activeElement.classList.contains('error-summary')")
    assert _in_view(page, ".error-summary")
    first_link = summary.get_by_role("link").first
    target = first_link.get_attribute("href")
    first_link.click()
    assert page.evaluate("() => location.hash") == target                       # the link leads to the field
    assert page.get_by_label("Waarom is regie door het MDA++-team nodig?").input_value() == "Wat ik al had getypt."
    check_accessibility(page, p_pages.axe_source)


def test_a_save_comes_back_to_its_section_with_the_confirmation_in_view(
        p_pages: Pages, live_app: Any, world: dict[str, Any]) -> None:
    page = _signed_in_at(p_pages, live_app, world["coordinator"], f"/casussen/{world['case_id']}/journaal")
    form = page.locator("#journaal-toevoegen")
    form.get_by_label("Verslag").fill("Huisbezoek: afspraken doorgenomen.")
    form.get_by_role("button", name="Vastleggen").click()
    page.wait_for_url(re.compile(r".*/journaal#journaal-toevoegen$"))
    confirmation = page.locator("#journaal-toevoegen .flash-message[role=status]")
    assert "Het journaalbericht is vastgelegd" in confirmation.inner_text()
    assert _in_view(page, "#journaal-toevoegen .flash-message")
    check_accessibility(page, p_pages.axe_source)


def test_text_typed_when_the_session_ended_is_back_after_logging_in(
        p_pages: Pages, live_app: Any, world: dict[str, Any]) -> None:
    from datetime import timedelta

    from mda import timeutil
    page = _signed_in_at(p_pages, live_app, world["coordinator"], f"/casussen/{world['case_id']}/journaal")
    typed = "Moeder belde: vader is vanavond weer aan de deur geweest."
    page.locator("#journaal-toevoegen").get_by_label("Verslag").fill(typed)
    timeutil.freeze(timeutil.utcnow() + timedelta(minutes=40))                  # the idle limit has passed
    try:
        page.locator("#journaal-toevoegen").get_by_role("button", name="Vastleggen").click()
        # A redirect without a fragment keeps the form action's #anchor (fetch spec): allowed here.
        page.wait_for_url(re.compile(r".*/inloggen(#[\w-]+)?$"))
    finally:
        timeutil.freeze(None)
    assert "Wat u had ingevuld is bewaard" in page.locator(".flash-message").inner_text()
    assert typed not in page.content()
    assert page.evaluate("() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage)") == "{}{}"
    check_accessibility(page, p_pages.axe_source)
    _log_in(live_app, page, world["coordinator"])
    assert re.search(f"/casussen/{world['case_id']}/journaal(#.*)?$", page.url)  # back where one was
    assert page.locator("#journaal-toevoegen").get_by_label("Verslag").input_value() == typed
    check_accessibility(page, p_pages.axe_source)


def test_the_session_warning_comes_before_the_idle_limit_and_continuing_keeps_the_session(
        p_pages: Pages, live_app: Any, world: dict[str, Any]) -> None:
    """The page's timers run on Playwright's clock and the server's on timeutil's: both are moved
    forward, nobody waits. After "Doorgaan" the session outlives the limit it would have had."""
    from datetime import timedelta

    from mda import timeutil
    idle = live_app.extensions["mda.settings"].session_idle_minutes * 60
    lead = min(120, idle // 3)                                                  # as app.js computes it
    page = _new_page(p_pages, DESKTOP)
    _log_in(live_app, page, world["coordinator"])
    page.clock.install()
    page.goto(f"/casussen/{world['case_id']}/journaal")
    loaded = timeutil.utcnow()                                                  # the server's last activity
    warning = page.locator("#sessie-waarschuwing")
    page.clock.run_for((idle - lead - 5) * 1000)
    assert warning.is_hidden()                                                  # not too early
    page.clock.run_for(10_000)
    assert warning.is_visible()
    assert "Uw sessie verloopt" in warning.inner_text()
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Doorgaan"
    check_accessibility(page, p_pages.axe_source)
    typed = "Na het verlengen van de sessie vastgelegd."
    try:
        timeutil.freeze(loaded + timedelta(seconds=idle - lead + 5))
        with page.expect_response("**/sessie/verlengen") as renewal:
            page.keyboard.press("Enter")                                        # the focus is on Doorgaan
        assert renewal.value.request.method == "POST"
        # Its body is not read here: Playwright's response.json() never returned for this fetch
        # (redirect: "manual") on this machine. The page hiding the warning shows the page read it.
        assert renewal.value.status == 200
        warning.wait_for(state="hidden")
        # Past the limit the page was loaded with: without the renewal this would be the login page.
        timeutil.freeze(loaded + timedelta(seconds=idle + 60))
        form = page.locator("#journaal-toevoegen")
        form.get_by_label("Verslag").fill(typed)
        form.get_by_role("button", name="Vastleggen").click()
        page.wait_for_url(re.compile(r".*/journaal#journaal-toevoegen$"))
    finally:
        timeutil.freeze(None)
    assert "Het journaalbericht is vastgelegd" in page.locator("#journaal-toevoegen .flash-message").inner_text()
    assert typed in page.locator("main").inner_text()
    check_accessibility(page, p_pages.axe_source)


def _version_card(page: Any, number: int) -> Any:
    return page.locator("article.card", has=page.get_by_role("heading", name=f"Versie {number}", exact=True))


def test_a_new_safety_plan_version_starts_from_the_current_one_and_shows_what_changed(
        p_pages: Pages, live_app: Any, world: dict[str, Any]) -> None:
    from datetime import timedelta

    from mda.timeutil import today
    page = _signed_in_at(p_pages, live_app, world["coordinator"], f"/casussen/{world['plan_case_id']}/veiligheid/")
    form = page.locator("#plan-vastleggen")
    mother = form.get_by_role("group", name="Sanne Schermplan")
    father = form.get_by_role("group", name="Mark Schermplan")
    review = (today() + timedelta(days=42)).isoformat()
    form.get_by_label("Evalueren uiterlijk op").fill(review)
    form.get_by_label("Samenvatting van de afspraken").fill("Geen contact zonder begeleiding.")
    mother.get_by_label("Afspraken (wie doet wat, wanneer)").fill("Sanne brengt de kinderen zelf naar school.")
    mother.get_by_label("Signalen van onveiligheid").fill("Mark staat onaangekondigd voor de deur.")
    mother.get_by_label("Wie te bellen als het misgaat").fill("Politie 112, daarna de coördinator.")
    father.get_by_label("Afspraken (wie doet wat, wanneer)").fill("Mark start voor 1 maart met hulpverlening.")
    form.get_by_label("Wat het gezin doet").fill("Oma is er elke woensdagmiddag.")
    form.get_by_label("Wat het netwerk doet").fill("De buurvrouw haalt de kinderen op vrijdag op.")
    form.get_by_label("Afgesproken door").fill("Sanne, Mark, coördinator")
    form.get_by_role("button", name="Vastleggen").click()
    page.wait_for_url(re.compile(r".*/veiligheid/#plan-vastleggen$"))
    assert "De nieuwe versie van het veiligheidsplan is vastgelegd" in form.locator(".flash-message").inner_text()

    # The form now holds version 1: a new version is a change of it, not a blank page.
    assert "begint met de inhoud van versie 1" in form.inner_text()
    assert form.get_by_label("Samenvatting van de afspraken").input_value() == "Geen contact zonder begeleiding."
    assert mother.get_by_label("Signalen van onveiligheid").input_value() == "Mark staat onaangekondigd voor de deur."
    assert father.get_by_label("Afspraken (wie doet wat, wanneer)").input_value() == \
        "Mark start voor 1 maart met hulpverlening."
    assert form.get_by_label("Wat het netwerk doet").input_value() == "De buurvrouw haalt de kinderen op vrijdag op."
    assert form.get_by_label("Afgesproken door").input_value() == "Sanne, Mark, coördinator"
    check_accessibility(page, p_pages.axe_source)

    mother.get_by_label("Signalen van onveiligheid").fill("Mark belt meer dan twee keer per dag.")
    father.get_by_label("Voorwaarden voor de volgende fase").fill("Drie maanden zonder incidenten.")
    form.get_by_label("Wat het netwerk doet").fill("")
    form.get_by_label("Evalueren uiterlijk op").fill(review)
    form.get_by_role("button", name="Vastleggen").click()
    page.wait_for_url(re.compile(r".*/veiligheid/#plan-vastleggen$"))

    second = _version_card(page, 2)
    assert "Actueel" in second.locator(".card-header").inner_text()
    marks = {row.inner_text().strip() for row in second.locator("dt, h4").all()}
    assert "Samenvatting Ongewijzigd" in marks
    assert "Signalen van onveiligheid Gewijzigd" in marks
    assert "Voorwaarden voor de volgende fase Nieuw" in marks
    assert "Wat het gezin doet Ongewijzigd" in marks
    assert "Mark belt meer dan twee keer per dag." in second.inner_text()
    assert re.search(r"Vervallen\s+ten opzichte van versie 1: Wat het netwerk doet", second.inner_text())
    assert "Mark staat onaangekondigd voor de deur." in _version_card(page, 1).inner_text()  # kept as it was
    check_accessibility(page, p_pages.axe_source)

    second.get_by_role("link", name="Afdrukken (versie 2)").click()
    page.wait_for_url(re.compile(r".*/plannen/2/afdrukken$"))
    printed = page.locator("main").inner_text()
    assert "Mark belt meer dan twee keer per dag." in printed and "Drie maanden zonder incidenten." in printed
    check_accessibility(page, p_pages.axe_source)


PHONE_PAGES = [("coordinator", "/"), ("coordinator", "/casussen/"), ("coordinator", "/casussen/{case_id}"),
               ("coordinator", "/casussen/{case_id}/journaal"), ("coordinator", "/casussen/{plan_case_id}/veiligheid/"),
               ("referrer", "/verwijzingen/nieuw"),
               ("steering", "/stuurinformatie/")]


@pytest.mark.parametrize("who", ["coordinator", "referrer", "steering"])
def test_pages_fit_a_phone_and_the_menu_is_reachable(p_pages: Pages, live_app: Any, world: dict[str, Any],
                                                     who: str) -> None:
    for viewport in (PHONE, DESKTOP):
        page = _new_page(p_pages, viewport)
        _log_in(live_app, page, world[who])
        for owner, path in PHONE_PAGES:
            if owner != who:
                continue
            page.goto(path.format(**world))
            widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
            assert widths[0] == widths[1], f"{path} at {viewport['width']} px is {widths[0]} px wide"
            check_accessibility(page, p_pages.axe_source)
            menu = page.get_by_role("navigation", name="Hoofdmenu")
            if viewport is PHONE:
                assert menu.is_hidden()
                page.get_by_role("button", name="Menu").click()
            start = menu.get_by_role("link", name="Start")
            start.wait_for(state="visible")
            assert start.is_visible()



@pytest.fixture
def p_pages(pages: Pages) -> Pages:
    return pages
