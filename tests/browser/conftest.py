"""Browser tests: the real app behind a real HTTP server, driven by Debian's Chromium.

The app runs in a background thread (werkzeug ``make_server`` on 127.0.0.1, a free port) against
the suite's migrated test database (SQLite, or PostgreSQL when ``MDA_DATABASE_URL`` says so), with
CSRF protection switched on as in production. Playwright for Python drives the system Chromium;
no browser is ever downloaded. Every page visited is checked with axe-core (WCAG 2.1 A and AA),
from a copy installed with npm (``.ci/run`` does that), never from a CDN.

The whole package is skipped, with the reason, where Chromium, Playwright or axe-core is missing,
so the README's test command still works on a machine without them.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

CHROMIUM = Path(os.environ.get("MDA_TEST_CHROMIUM", "/usr/bin/chromium"))
AXE_PIN = "4.14.1"  # keep in step with .ci/run
AXE_FILE = Path(__file__).parent / "vendor" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                 "--lang=nl-NL"]


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"browser tests need Chromium at {CHROMIUM} (Debian package 'chromium')"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests need the Python package 'playwright' (the 'test' extra)"
    if not AXE_FILE.exists():
        return (f"browser tests need axe-core: npm install --prefix tests/browser/vendor "
                f"--no-save --no-package-lock axe-core@{AXE_PIN}")
    return None


MISSING = _missing()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "journey_step: one step of a browser journey; later steps are skipped "
                                       "once one fails")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if MISSING is None:
        return
    if os.environ.get("MDA_REQUIRE_BROWSER_TESTS"):  # set by .ci/run: there they must run
        raise pytest.UsageError(MISSING)
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.skip(reason=MISSING))


# --- results of each phase, for screenshots on failure and for step-by-step journeys -------------

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)
    if report.when == "call" and report.failed and "journey_step" in item.keywords:
        parent = item.parent
        if parent is not None:
            parent._failed_step = item.name  # type: ignore[attr-defined]


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A journey is a sequence: once one step failed, the later ones cannot mean anything."""
    if "journey_step" in item.keywords and item.parent is not None:
        failed = getattr(item.parent, "_failed_step", None)
        if failed is not None:
            pytest.skip(f"an earlier step of the journey failed: {failed}")


# --- the live server ------------------------------------------------------------------------------

class LiveServer:
    def __init__(self, app: Any) -> None:
        from werkzeug.serving import make_server
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="mda-live-server", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def live_app(migrated: str, keys: dict[str, Any], instance_dir: Path) -> Iterator[Any]:
    """The app as the browser meets it (CSRF on); the database is emptied afterwards."""
    from tests.conftest import build_app, empty_database
    from mda.db import db
    app = build_app(migrated, keys, instance_dir, WTF_CSRF_ENABLED=True)
    yield app
    with app.app_context():
        empty_database()
        db.dispose()


@pytest.fixture(scope="module")
def live_server(live_app: Any) -> Iterator[LiveServer]:
    server = LiveServer(live_app)
    server.start()
    yield server
    server.stop()


# --- the browser ----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    return AXE_FILE.read_text(encoding="utf-8")


_CHECKED_ONCE: set[str] = set()


class AccessibilityError(AssertionError):
    pass


def check_accessibility(page: Any, axe_source: str, checked: set[str] | None = None) -> None:
    """Run axe-core in the page (WCAG 2.1 A/AA) and fail with a readable list of violations.

    The app's CSP allows no inline scripts, so axe is not added as a <script>: Playwright's
    evaluate runs it through the DevTools protocol, which the page's CSP does not govern.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source + "\n;undefined")
    result = page.evaluate(
        "async (tags) => { const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, "
        "resultTypes: ['violations']}); return r.violations.map(v => ({id: v.id, impact: v.impact, "
        "help: v.help, nodes: v.nodes.map(n => n.target.join(' ') + ' :: ' + n.failureSummary)}));}",
        WCAG_TAGS)
    if checked is not None:
        checked.add(page.url)
    if result:
        lines = [f"axe-core found WCAG 2.1 A/AA violations on {page.url}:"]
        for violation in result:
            lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
            lines.extend(f"    {node}" for node in violation["nodes"][:5])
        raise AccessibilityError("\n".join(lines))


class Pages:
    """Browser contexts (one per person) with screenshots kept when a test fails."""

    def __init__(self, browser: Any, base_url: str, axe_source: str, folder: Path) -> None:
        self.browser, self.base_url, self.axe_source, self.folder = browser, base_url, axe_source, folder
        self.contexts: list[Any] = []
        self.pages: dict[str, Any] = {}
        self.shots = 0
        self.checked: set[str] = set()
        self.touched: set[str] = set()
        self.duplicate_ids: dict[str, list[str]] = {}

    def page(self, who: str) -> Any:
        if who not in self.pages:
            context = self.browser.new_context(base_url=self.base_url, locale="nl-NL",
                                               timezone_id="Europe/Amsterdam", viewport={"width": 1280, "height": 900})
            context.set_default_timeout(10_000)
            self.contexts.append(context)
            self.pages[who] = context.new_page()
        self.touched.add(who)
        return self.pages[who]

    def screenshot(self, who: str, label: str) -> None:
        page = self.pages.get(who)
        if page is None or page.is_closed():
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        try:
            page.screenshot(path=str(self.folder / f"{self.shots:02d}-{who}-{label}.png"), full_page=True)
        except Exception:  # noqa: BLE001 - a screenshot must never hide the real failure
            pass

    def check(self, page: Any, once: bool = False) -> None:
        """axe-core on the page; ``once``: skip a page already checked in this run (the login
        pages, which every person passes)."""
        path = re.sub(r"^https?://[^/]+", "", page.url)
        if once and path in _CHECKED_ONCE:
            return
        _CHECKED_ONCE.add(path)
        check_accessibility(page, self.axe_source, self.checked)
        # axe-core passes a <label for="x"> when x is the id of several fields; a screen reader
        # then names only the first. Collected here, asserted by the journeys.
        duplicates = page.evaluate(
            "() => [...new Set([...document.querySelectorAll('label[for]')].map(l => l.htmlFor)"
            ".filter(id => document.querySelectorAll('[id=\"' + CSS.escape(id) + '\"]').length > 1))]")
        if duplicates:
            self.duplicate_ids[path] = sorted(set(self.duplicate_ids.get(path, [])) | set(duplicates))

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


@pytest.fixture(scope="module")
def module_pages(request: pytest.FixtureRequest, browser: Any, live_server: LiveServer,
                 axe_source: str) -> Iterator[Pages]:
    """One set of browser contexts shared by the steps of a journey module."""
    folder = ARTIFACTS / _safe(request.node.name.removesuffix(".py"))
    shutil.rmtree(folder, ignore_errors=True)
    pages = Pages(browser, live_server.url, axe_source, folder)
    yield pages
    pages.close()
    failed = getattr(request.node, "_journey_failed", False)
    if not failed:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pages(request: pytest.FixtureRequest, browser: Any, live_server: LiveServer, axe_source: str) -> Iterator[Pages]:
    """Browser contexts for one test; screenshots of every open page are kept if it fails."""
    folder = ARTIFACTS / _safe(request.node.nodeid.split("::")[-1])
    shutil.rmtree(folder, ignore_errors=True)
    pages = Pages(browser, live_server.url, axe_source, folder)
    yield pages
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        for who in pages.pages:
            pages.screenshot(who, "failure")
    pages.close()


@pytest.fixture
def step_screenshots(request: pytest.FixtureRequest, module_pages: Pages) -> Iterator[Pages]:
    """For a journey step: a screenshot of every person's page after the step, kept on failure."""
    yield module_pages
    report = getattr(request.node, "report_call", None)
    failed = report is not None and report.failed
    for who in list(module_pages.pages if failed else module_pages.touched):
        module_pages.screenshot(who, _safe(request.node.name) + ("-FAILED" if failed else ""))
    module_pages.touched.clear()
    if failed:
        request.node.getparent(pytest.Module)._journey_failed = True  # keep the module's folder
        (module_pages.folder / "failure.json").write_text(json.dumps(
            {"step": request.node.name, "urls": {who: p.url for who, p in module_pages.pages.items()}},
            indent=2), encoding="utf-8")
