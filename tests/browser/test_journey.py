"""One family's way through the MDA++ team, in the browser, as the people in it would do it.

Veilig Thuis refers the family after the Actie-overleg, the team lead triages and accepts, the
coordinator keeps the case file (veiligheidstaxatie, safety plan, huisverbod, phase, AVE), a
seconded expert sees that case and nothing else, and the steering group sees only counts.
Only the accounts, organisations and one unrelated case are put into the database directly;
every other step goes through the pages. Each page visited is checked with axe-core.

The steps are tests in file order sharing one server and one browser; when a step fails the
rest are skipped, and test-artifacts/browser/test_journey/ keeps a screenshot of every step.
"""
from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Iterator

import pytest

from mda.timeutil import AMSTERDAM, today, utcnow

from .conftest import Pages

pytestmark = pytest.mark.journey_step

FAMILY = "Journeyman"
VICTIM, PERPETRATOR, CHILD = f"Anna {FAMILY}", f"Bram {FAMILY}", f"Kim {FAMILY}"
VICTIM_BSN = "999990019"
PASSWORD = "correct horse battery staple"


def totp(secret: str, offset: int = 0) -> str:
    from mda.auth import mfa
    return mfa.code_for(secret.replace(" ", ""), offset)


@pytest.fixture(scope="module")
def people(live_app: Any) -> Iterator[dict[str, Any]]:
    """Accounts and organisations, plus one unrelated case the expert must never see."""
    from mda.accounts.models import Role
    from mda.db import db
    from mda.organisations.models import OrganisationKind
    from tests import factories
    with live_app.app_context():
        team = factories.organisation(OrganisationKind.MDA_TEAM, "MDA++-team Noord- en Midden-Limburg")
        vt = factories.organisation(OrganisationKind.VEILIG_THUIS, "Veilig Thuis Noord- en Midden-Limburg")
        police = factories.organisation(OrganisationKind.POLICE, "Politie basisteam Venlo")
        steering = factories.organisation(OrganisationKind.STEERING_GROUP, "Stuurgroep pilot MDA++")
        referrer = factories.user(Role.VT_REFERRER, org=vt, username="vera.vt", enrolled=False)
        lead = factories.user(Role.COORDINATOR, Role.TEAM_LEAD, org=team, username="tom.teamleider")
        coordinator = factories.user(Role.COORDINATOR, org=team, username="carla.coordinator")
        expert = factories.user(Role.EXPERT, org=police, username="erik.expert")
        steer = factories.user(Role.STEERING, org=steering, username="stan.stuurgroep")
        for account, name in ((lead, "Tom Teamleider"), (coordinator, "Carla Coördinator"),
                              (expert, "Erik Expert"), (steer, "Stan Stuurgroep"), (referrer, "Vera Verwijzer")):
            account.display_name = name
        other = factories.case(lead, town="Roermond")
        db.session.commit()
        result = {
            "referrer": {"username": referrer.username, "secret": None},
            "lead": {"username": lead.username, "secret": lead.totp_secret},
            "coordinator": {"username": coordinator.username, "secret": coordinator.totp_secret},
            "expert": {"username": expert.username, "secret": expert.totp_secret},
            "steering": {"username": steer.username, "secret": steer.totp_secret},
            "other_case_id": other.id,
        }
    yield result


@pytest.fixture(scope="module")
def state() -> dict[str, Any]:
    return {}


@pytest.fixture
def p(step_screenshots: Pages, people: dict[str, Any]) -> Pages:
    return step_screenshots


def local_now() -> Any:
    return utcnow().astimezone(AMSTERDAM)


def choose(select: Any, text: str) -> None:
    """Pick the option whose text contains ``text`` (as a person would, reading the list)."""
    value = select.locator("option", has_text=text).first.get_attribute("value")
    select.select_option(value)


def flash(page: Any) -> Any:
    """The confirmation: at the top of the page, or at the section the save returned to."""
    return page.locator("main .flash-message[role=status]").first


def login(pages: Pages, who: str, people: dict[str, Any]) -> Any:
    """Password, then the code from the authenticator app (first login: link the app)."""
    page = pages.page(who)
    account = people[who]
    page.goto("/")
    assert page.url.endswith("/inloggen")
    pages.check(page, once=True)
    page.get_by_label("Gebruikersnaam").fill(account["username"])
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Volgende").click()
    if account["secret"] is None:
        page.wait_for_url("**/inloggen/koppelen")
        assert page.locator(".qr svg").count() == 1
        pages.check(page)
        account["secret"] = page.locator(".secret code").inner_text()
        page.get_by_label("Code uit uw authenticator-app").fill(totp(account["secret"]))
        page.get_by_role("button", name="Koppelen en inloggen").click()
        page.wait_for_url(re.compile(r".*/$"))
        assert "Tweestapsverificatie is gekoppeld" in flash(page).inner_text()
    else:
        page.wait_for_url("**/inloggen/code")
        pages.check(page, once=True)
        page.get_by_label("Code uit uw authenticator-app").fill(totp(account["secret"]))
        page.get_by_role("button", name="Inloggen").click()
        page.wait_for_url(re.compile(r".*/$"))
    pages.check(page)  # the start page differs per role
    return page


def metrics_url(live_app: Any) -> str | None:
    with live_app.test_request_context():
        from flask import url_for
        try:
            return url_for("metrics.releases")   # the steering group sees published releases only
        except Exception:  # noqa: BLE001 - werkzeug.routing.BuildError: not built yet
            return None


def metrics_numbers(page: Any) -> list[str]:
    """The cells of the metrics tables (counts, or "<n" where a small count is hidden)."""
    return page.locator("main table td").all_inner_texts()


NO_METRICS = ("the steering-group metrics (endpoint metrics.releases at /stuurinformatie) do not exist "
              "yet; this step runs as soon as the route is registered")


class TestJourney:
    def test_01_steering_group_baseline(self, p: Pages, people: dict[str, Any], state: dict[str, Any],
                                        live_app: Any) -> None:
        url = metrics_url(live_app)
        if url is None:
            pytest.skip(NO_METRICS)
        page = login(p, "steering", people)
        page.goto(url)
        p.check(page)
        state["metrics_before"] = metrics_numbers(page)

    def test_02_veilig_thuis_drafts_referral_after_actie_overleg(self, p: Pages, people: dict[str, Any],
                                                                 state: dict[str, Any]) -> None:
        page = login(p, "referrer", people)
        page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Verwijzingen").click()
        p.check(page)
        page.get_by_role("link", name=re.compile("Nieuwe verwijzing")).click()
        page.wait_for_url("**/verwijzingen/nieuw")
        p.check(page)
        page.get_by_label("Instroomroute").select_option("actie_overleg")
        page.get_by_label("Datum van het Actie-overleg").fill((today() - timedelta(days=1)).isoformat())
        page.get_by_label("Urgentie").select_option("urgent")
        page.get_by_role("group", name="Aanwezig bij het Actie-overleg").get_by_label("Veilig Thuis").check()
        page.get_by_role("group", name="Aanwezig bij het Actie-overleg").get_by_label("Politie").check()
        page.get_by_label("Waarom is regie door het MDA++-team nodig?").fill(
            "Herhaald partnergeweld met kinderen als getuige; meerdere hulpverleners zonder gezamenlijk plan.")
        page.get_by_role("group", name="Vormen van geweld").locator("input[value=partner_violence]").check()
        page.get_by_label("Gemeente", exact=True).select_option(label="Venlo")
        page.get_by_label("Huidig AVE-niveau").select_option("3")
        page.get_by_label("Wat is al geprobeerd?").fill("Vrijwillige hulp via het lokale team.")
        page.get_by_role("button", name="Concept opslaan").click()
        page.wait_for_url(re.compile(r".*/verwijzingen/\d+/bewerken#clientsysteem$"))
        assert "Het concept is opgeslagen" in flash(page).inner_text()
        p.check(page)
        state["referral_url"] = page.url.removesuffix("/bewerken#clientsysteem")

    def test_03_veilig_thuis_adds_persons_with_roles_and_submits(self, p: Pages, state: dict[str, Any]) -> None:
        page = p.page("referrer")
        persons = [("Slachtoffer (ondergaat geweld)", VICTIM, VICTIM_BSN, "1988-03-01"),
                   ("Pleger (pleegt geweld)", PERPETRATOR, "", "1985-07-02"),
                   ("Kind", CHILD, "", "2016-11-03")]
        for role, name, bsn, born in persons:
            page.get_by_label("Rol in het cliëntsysteem").select_option(label=role)
            page.get_by_label("Naam", exact=True).fill(name)
            if bsn:
                page.get_by_label("BSN", exact=True).fill(bsn)  # not the header search
            page.get_by_label("Geboortedatum").fill(born)
            page.get_by_label("Adres").fill("Fictieve Laan 1, Venlo")
            page.get_by_role("button", name="Persoon toevoegen").click()
            assert "De persoon is toegevoegd" in flash(page).inner_text()
        table = page.get_by_role("table", name="Personen in deze verwijzing")
        for _role, name, _bsn, _born in persons:
            assert table.get_by_role("cell", name=name, exact=True).count() == 1
        assert "De verwijzing is compleet" in page.get_by_role("region", name="Controleren en indienen").inner_text()
        p.check(page)
        page.get_by_role("link", name="Controleren en indienen", exact=True).click()
        page.wait_for_url(state["referral_url"] + "/controleren")
        assert page.get_by_role("region", name="Cliëntsysteem").get_by_role("heading", name=VICTIM).count() == 1
        p.check(page)
        page.get_by_role("button", name="Indienen bij het MDA++-team").click()
        # The redirect keeps the form action's #indienen (a browser keeps a fragment the Location lacks).
        page.wait_for_url(re.compile(re.escape(state["referral_url"]) + r"(#[\w-]+)?$"))
        assert "ingediend bij het MDA++-team" in flash(page).inner_text()
        assert "Ingediend" in page.locator("h1 + .badge").inner_text()
        p.check(page)

    def test_04_team_lead_triages_and_accepts_choosing_the_coordinator(self, p: Pages, people: dict[str, Any],
                                                                        state: dict[str, Any]) -> None:
        page = login(p, "lead", people)
        page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Triage").click()
        p.check(page)
        referral_id = state["referral_url"].rsplit("/", 1)[1]
        page.locator(f"a[href$='/triage/{referral_id}']").first.click()
        page.wait_for_url(f"**/triage/{referral_id}")
        assert page.get_by_role("cell", name=VICTIM, exact=True).count() == 1
        p.check(page)
        accept = page.get_by_role("region", name="Accepteren")
        choose(accept.get_by_label("Coördinator"), "Carla Coördinator")
        accept.get_by_label("AVE-niveau bij de start").select_option("3")
        accept.get_by_role("button", name="Accepteren").click()
        page.wait_for_url(re.compile(r".*/triage/(#[\w-]+)?$"))
        assert "De verwijzing is geaccepteerd" in flash(page).inner_text()
        p.check(page)
        page.get_by_role("link", name=f"Verwijzing {referral_id}", exact=True).click()
        page.wait_for_url(f"**/triage/{referral_id}")
        assert "Geaccepteerd" in page.get_by_role("region", name="Besluit").inner_text()
        p.check(page)
        page.get_by_role("link", name="Naar de casus").click()
        page.wait_for_url(re.compile(r".*/casussen/\d+$"))
        state["case_path"] = re.sub(r"^https?://[^/]+", "", page.url)
        state["reference"] = page.locator("h1").inner_text().removeprefix("Casus ").strip()
        p.check(page)

    def test_05_veilig_thuis_sees_the_decision_not_the_case(self, p: Pages, state: dict[str, Any]) -> None:
        page = p.page("referrer")
        page.goto(state["referral_url"])
        assert "Geaccepteerd" in page.get_by_role("region", name="Status en besluit").inner_text()
        assert VICTIM not in page.locator("main").inner_text()
        p.check(page)
        response = page.goto(state["case_path"])
        assert response is not None and response.status in (403, 404)
        p.check(page)

    def test_06_coordinator_records_veiligheidstaxatie(self, p: Pages, people: dict[str, Any],
                                                       state: dict[str, Any]) -> None:
        page = login(p, "coordinator", people)
        page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Casussen").click()
        p.check(page)
        page.get_by_role("link", name=state["reference"], exact=True).click()
        page.wait_for_url(f"**{state['case_path']}")
        p.check(page)
        page.get_by_role("navigation", name="Onderdelen van de casus").get_by_role(
            "link", name=re.compile("Veiligheid")).first.click()
        p.check(page)
        form = page.locator("form[action*='/taxaties']")
        form.get_by_label("Soort").select_option("veiligheidstaxatie")
        form.get_by_label("Datum").fill(today().isoformat())
        form.get_by_label("Instrument").fill("LIRIK")
        form.get_by_label("Inschatting").select_option("high")
        form.get_by_label("Uitkomst").fill("Acute onveiligheid voor moeder en kind.")
        form.get_by_role("button", name="Vastleggen").click()
        assert "De taxatie is vastgelegd" in flash(page).inner_text()
        assert page.get_by_role("table", name=re.compile("Veiligheidstaxaties")).get_by_role(
            "cell", name="LIRIK").count() == 1
        p.check(page)

    def test_07_coordinator_agrees_the_safety_plan(self, p: Pages) -> None:
        page = p.page("coordinator")
        form = page.locator("form[action*='/plannen']")
        form.get_by_label("Afgesproken op").fill(today().isoformat())
        form.get_by_label("Evalueren uiterlijk op").fill((today() + timedelta(days=42)).isoformat())
        form.get_by_label("Samenvatting van de afspraken", exact=True).fill("Geen contact zonder begeleiding; dagelijks belcontact.")
        form.get_by_label("Afgesproken door (gezinsleden en professionals)").fill("Anna, Bram en de coördinator")
        form.get_by_role("button", name="Vastleggen").click()
        assert "De nieuwe versie van het veiligheidsplan is vastgelegd" in flash(page).inner_text()
        assert "Actueel" in page.locator("article").first.inner_text()
        p.check(page)

    def test_08_coordinator_logs_a_huisverbod(self, p: Pages, state: dict[str, Any]) -> None:
        page = p.page("coordinator")
        page.get_by_role("navigation", name="Onderdelen van de casus").get_by_role(
            "link", name=re.compile("Huisverbod")).click()
        p.check(page)
        page.get_by_role("link", name=re.compile("Huisverbod vastleggen|Nieuw huisverbod")).first.click()
        page.wait_for_url("**/huisverboden/nieuw")
        p.check(page)
        imposed = (local_now() - timedelta(hours=2)).replace(second=0, microsecond=0)
        page.get_by_label("Opgelegd op (datum en tijd)").fill(imposed.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_label("Opgelegd door").select_option(index=0)
        page.get_by_label("Gemeente (burgemeester)").select_option(label="Venlo")
        choose(page.get_by_label("Uithuisgeplaatste", exact=True), PERPETRATOR)
        protected = page.get_by_role("group", name="Beschermde personen")
        protected.get_by_label(re.compile(VICTIM)).check()
        protected.get_by_label(re.compile(CHILD)).check()
        page.get_by_label("Woning waarvoor het huisverbod geldt").fill("Fictieve Laan 1, Venlo")
        page.get_by_role("button", name="Huisverbod vastleggen").click()
        assert "Het huisverbod is vastgelegd" in flash(page).inner_text()
        p.check(page)

    def test_09_coordinator_logs_the_extension(self, p: Pages) -> None:
        page = p.page("coordinator")
        page.locator("summary", has_text="Verlengen (burgemeester)").click()
        extend = page.locator("form[action*='/verlengen']")
        extend.get_by_label("Toelichting").fill("Dreiging houdt aan; burgemeester verlengt.")
        p.check(page)
        extend.get_by_role("button", name="Verlenging vastleggen").click()
        assert "De verlenging is vastgelegd" in flash(page).inner_text()
        p.check(page)

    def test_10_coordinator_moves_to_stabiele_veiligheid(self, p: Pages, state: dict[str, Any]) -> None:
        page = p.page("coordinator")
        page.get_by_role("navigation", name="Onderdelen van de casus").get_by_role(
            "link", name=re.compile("Fasen")).click()
        p.check(page)
        form = page.locator("form[action*='/fase']")
        form.get_by_label("Naar fase").select_option("stabiele_veiligheid")
        form.get_by_label("Reden of toelichting").fill("Directe veiligheid bereikt: plan staat, huisverbod loopt.")
        form.get_by_role("button", name="Fase wijzigen").click()
        assert "De casus staat nu in de fase Stabiele veiligheid" in flash(page).inner_text()
        assert "Stabiele veiligheid" in page.locator("h1 ~ .badge").first.inner_text()
        p.check(page)

    def test_11_coordinator_escalates_and_deescalates_on_ave(self, p: Pages) -> None:
        page = p.page("coordinator")
        for level, reason in (("4", "Pleger overtreedt het contactverbod."),
                              ("3", "Samenwerking hersteld; toezicht loopt.")):
            form = page.locator("form[action*='/ave']")
            form.get_by_label("Naar AVE-niveau").select_option(level)
            # By name, not by label: the phase form's field has the same id "reason", so this
            # form's <label for="reason"> points at the other form's field (see test_15).
            form.locator("textarea[name=reason]").fill(reason)
            form.get_by_role("button", name="AVE-niveau wijzigen").click()
            assert f"De casus staat nu op AVE {level}" in flash(page).inner_text()
            p.check(page)
        history = page.locator("table").nth(1).inner_text()
        assert "Opgeschaald van AVE 3 naar 4" in history and "Afgeschaald van AVE 4 naar 3" in history

    def test_12_coordinator_adds_the_expert(self, p: Pages) -> None:
        page = p.page("coordinator")
        page.get_by_role("navigation", name="Onderdelen van de casus").get_by_role(
            "link", name=re.compile("Team")).click()
        p.check(page)
        form = page.locator("form[action*='/experts']")
        choose(form.get_by_label("Expert"), "Erik Expert")
        form.get_by_label("Discipline").select_option(index=1)
        form.get_by_label("Inzet").select_option("basisteam")
        form.get_by_role("button", name="Toevoegen").click()
        assert "De expert is toegevoegd aan het team" in flash(page).inner_text()
        assert page.get_by_role("cell", name="Erik Expert").count() >= 1
        p.check(page)

    def test_13_expert_sees_only_that_case(self, p: Pages, people: dict[str, Any], state: dict[str, Any]) -> None:
        page = login(p, "expert", people)
        page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Casussen").click()
        p.check(page)
        rows = page.locator("main table tbody tr")
        assert rows.count() == 1
        assert state["reference"] in rows.first.inner_text()
        page.get_by_role("link", name=state["reference"], exact=True).click()
        page.wait_for_url(f"**{state['case_path']}")
        p.check(page)
        page.get_by_role("navigation", name="Onderdelen van de casus").get_by_role(
            "link", name="Cliëntsysteem").click()
        assert page.get_by_text(VICTIM).count() >= 1
        p.check(page)
        response = page.goto(f"/casussen/{people['other_case_id']}")
        assert response is not None and response.status == 404
        assert "Deze pagina bestaat niet of u heeft er geen toegang toe" in page.locator("main").inner_text()
        p.check(page)

    def test_14_steering_group_sees_counts_move_and_nothing_personal(self, p: Pages, people: dict[str, Any],
                                                                     state: dict[str, Any], live_app: Any) -> None:
        url = metrics_url(live_app)
        if url is None:
            pytest.skip(NO_METRICS)
        page = p.page("steering") if "steering" in p.pages else login(p, "steering", people)
        page.goto(url)
        p.check(page)
        text = page.locator("main").inner_text()
        for personal in (VICTIM, PERPETRATOR, CHILD, FAMILY, VICTIM_BSN, state["reference"]):
            assert personal not in text, f"the steering group sees {personal!r}"
        if "metrics_before" in state:
            # Releases are fixed: a new referral changes nothing the steering group can see.
            assert metrics_numbers(page) == state["metrics_before"], "a published release changed"
        response = page.goto(state["case_path"])
        assert response is not None and response.status in (403, 404)

    def test_15_every_label_names_its_own_field(self, p: Pages) -> None:
        assert p.checked, "no page was checked"
        assert p.duplicate_ids == {}
