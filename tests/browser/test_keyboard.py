"""Keyboard alone: Tab, typing and Enter reach every field, submit the form, and the error is
announced next to its field (aria-invalid, aria-describedby pointing at a role=alert message).
Also the accessibility of the pages around the forms: login, code and the error page."""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Iterator

import pytest

from mda.timeutil import today

from .conftest import Pages

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def accounts(live_app: Any) -> Iterator[dict[str, dict[str, str]]]:
    """Two referrers: an authenticator code is accepted once, so each test logs in its own."""
    from mda.accounts.models import Role
    from mda.db import db
    from mda.organisations.models import OrganisationKind
    from tests import factories
    with live_app.app_context():
        vt = factories.organisation(OrganisationKind.VEILIG_THUIS, "Veilig Thuis Noord- en Midden-Limburg")
        first = factories.user(Role.VT_REFERRER, org=vt, username="vera.toetsenbord")
        second = factories.user(Role.VT_REFERRER, org=vt, username="victor.toetsenbord")
        db.session.commit()
        yield {"first": {"username": first.username, "secret": first.totp_secret},
               "second": {"username": second.username, "secret": second.totp_secret}}


def focused(page: Any) -> dict[str, str | None]:
    return page.evaluate("() => ({id: document.activeElement.id, tag: document.activeElement.tagName, "
                         "type: document.activeElement.getAttribute('type'), "
                         "text: document.activeElement.textContent.trim()})")


def tab_to(page: Any, *, element_id: str | None = None, button: str | None = None, link: str | None = None,
           limit: int = 80) -> None:
    """Press Tab until the field (by id), the button or the link (by its text) has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if element_id is not None and now["id"] == element_id:
            return
        if button is not None and now["tag"] == "BUTTON" and now["text"] == button:
            return
        if link is not None and now["tag"] == "A" and now["text"].startswith(link):
            return
    raise AssertionError(f"Tab never reached {element_id or button or link!r}")


_DATE_ORDER: list[str] = []


def date_keys(page: Any, day: Any) -> str:
    """The keys a user types into a date field for ``day``, in the order this browser shows
    the parts (headless Chromium keeps the month-day-year order whatever the locale)."""
    if not _DATE_ORDER:
        scratch = page.context.new_page()
        scratch.set_content('<input type="date" id="d">')
        scratch.focus("#d")
        scratch.keyboard.type("01022003")
        _DATE_ORDER.extend({"2003-02-01": ["%d", "%m", "%Y"], "2003-01-02": ["%m", "%d", "%Y"]}
                           .get(scratch.input_value("#d"), ["%Y", "%m", "%d"]))
        scratch.close()
    return "".join(day.strftime(part) for part in _DATE_ORDER)


def press_enter_and_wait(page: Any) -> None:
    """Enter submits the form (or follows the link); wait for the page that answers."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def assert_error_announced(page: Any, field_id: str, text: str) -> None:
    """The field is marked invalid and described by a role=alert message right next to it."""
    field = page.locator(f"#{field_id}")
    assert field.get_attribute("aria-invalid") == "true"
    described_by = field.get_attribute("aria-describedby") or ""
    assert described_by, f"#{field_id} has no aria-describedby"
    message = page.locator(f"#{described_by.split()[0]}")
    assert message.get_attribute("role") == "alert"
    assert text in message.inner_text()
    # next to its field: in the same form group as the field
    assert page.locator(f".mb-3:has(#{field_id}) #{described_by.split()[0]}").count() == 1
    # and what a screen reader announces for the field includes the message
    assert text in page.evaluate(
        "(id) => { const f = document.getElementById(id); return (f.getAttribute('aria-describedby') || '')"
        ".split(' ').map(r => document.getElementById(r).textContent).join(' '); }", field_id)


def keyboard_login(pages: Pages, who: str, account: dict[str, str]) -> Any:
    from mda.auth import mfa
    page = pages.page(who)
    page.goto("/inloggen")
    pages.check(page)
    tab_to(page, element_id="username")
    page.keyboard.type(account["username"])
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/inloggen/code")
    pages.check(page)
    tab_to(page, element_id="code")
    page.keyboard.type(mfa.code_for(account["secret"]))
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: url.endswith("/"))
    pages.check(page)
    return page


def test_login_by_keyboard_announces_errors_next_to_the_field(pages: Pages, accounts: dict[str, Any]) -> None:
    from mda.auth import mfa
    accounts = accounts["first"]
    page = pages.page("referrer")
    page.goto("/inloggen")
    # The first Tab reaches the skip link, which is shown while it has the focus.
    page.keyboard.press("Tab")
    assert focused(page)["text"] == "Naar de inhoud"
    assert page.locator(".skip-link").is_visible()
    tab_to(page, element_id="username")
    page.keyboard.type(accounts["username"])
    press_enter_and_wait(page)  # password left empty
    assert_error_announced(page, "password", "Vul uw wachtwoord in.")
    pages.check(page)

    tab_to(page, element_id="password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/inloggen/code")
    tab_to(page, element_id="code")
    page.keyboard.type("000000" if mfa.code_for(accounts["secret"]) != "000000" else "111111")
    press_enter_and_wait(page)
    assert_error_announced(page, "code", "Inloggen is niet gelukt.")
    pages.check(page)

    tab_to(page, element_id="code")
    page.keyboard.press("Control+A")
    page.keyboard.type(mfa.code_for(accounts["secret"]))
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: url.endswith("/"))
    assert page.get_by_role("button", name="Uitloggen").is_visible()
    pages.check(page)


def test_referral_form_by_keyboard(pages: Pages, accounts: dict[str, Any]) -> None:
    """A Veilig Thuis referrer drafts a referral with the keyboard; a date in the future is refused
    and the message is announced with the date field."""
    page = keyboard_login(pages, "referrer", accounts["second"])
    tab_to(page, link="Verwijzingen")
    page.keyboard.press("Enter")
    page.wait_for_url("**/verwijzingen/")
    tab_to(page, link="Nieuwe verwijzing")
    page.keyboard.press("Enter")
    page.wait_for_url("**/verwijzingen/nieuw")
    pages.check(page)

    tab_to(page, element_id="intake_route")
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "actie_overleg_on"
    future = today() + timedelta(days=3)
    page.keyboard.type(date_keys(page, future))
    assert page.locator("#actie_overleg_on").input_value() == future.isoformat()
    tab_to(page, element_id="reason")
    page.keyboard.type("Herhaald partnergeweld; geen gezamenlijk plan.")
    tab_to(page, button="Concept opslaan")
    press_enter_and_wait(page)
    assert page.url.endswith("/verwijzingen/nieuw#gegevens"), "a refused draft stays on the form"
    assert_error_announced(page, "actie_overleg_on", "toekomst")
    pages.check(page)

    # Corrected by keyboard: the draft is saved.
    tab_to(page, element_id="actie_overleg_on")
    page.keyboard.type(date_keys(page, today() - timedelta(days=1)))
    tab_to(page, button="Concept opslaan")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: url.endswith("/bewerken#clientsysteem"))
    assert "Het concept is opgeslagen" in page.locator("#clientsysteem [role=status]").inner_text()
    pages.check(page)


def test_error_page_is_accessible(pages: Pages) -> None:
    page = pages.page("anonymous")
    response = page.goto("/bestaat-niet")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", level=1).count() == 1
    pages.check(page)
