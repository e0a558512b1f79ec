"""Web wiring: one commit per request, deny-by-default login, error pages, headers."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_bootstrap import Bootstrap5
from flask_login import LoginManager, current_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.orm.exc import StaleDataError
from flask_talisman import Talisman
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, UnicodeConverter

from .db import db
from .timeutil import format_moment
from .auth.sessions import end_session, idle_seconds_left, note_activity, session_expired
from .auth.throttle import limiter
from .errors import DomainError, StaleVersion
from .forms import MAX_ID
from .fragments import remembered
from .security.policy import Permission, current_account, declared_permission, granted_without_target, may

if TYPE_CHECKING:
    from .accounts.models import User

# The only views reachable without a session (SecureDrop's short-list pattern).
PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.second_factor", "auth.enrol", "auth.logout", "static",
                              "bootstrap.static",
                              # authenticated by its own API key (Bearer), never by a session
                              "referrals_api.submit_referral"}) | {
                              # health and metrics: no session; metrics checks address or token
                              "monitoring.live", "monitoring.ready", "monitoring.metrics"}

csrf = CSRFProtect()
login_manager = LoginManager()


CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


_REMEMBERED_VALUE_TYPES = frozenset({str, int, type(None)})  # None: left out of the link, as Flask does


class App(Flask):
    """Flask with ``url_for`` remembered per worker. A page builds some thirty links (the menu, its
    forms, its rows), each through werkzeug's rule builder; the same endpoint with the same values
    gives the same path on every request of this app. Remembered only where that holds: inside a
    request, a relative link (no ``_external``, ``_scheme``, ``_method`` or ``_anchor``), values
    that are plain strings, whole numbers or None, and no ``url_defaults`` functions (this app has none;
    one registered later turns the memory off). The key holds the script root, so an app mounted
    under a prefix builds its own links. Paths hold ids only, never personal data (security.md)."""

    URL_MEMORY_SIZE = 4096

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._url_memory: dict[tuple[object, ...], str] = {}

    def url_for(self, endpoint: str, *, _anchor: str | None = None, _method: str | None = None,  # type: ignore[override]
                _scheme: str | None = None, _external: bool | None = None, **values: Any) -> str:
        try:
            this_request = request._get_current_object()  # not the proxy on each read (_require_login)
        except RuntimeError:  # outside a request
            this_request = None
        if (_anchor is not None or _method is not None or _scheme is not None or _external
                or self.url_default_functions or this_request is None
                or not all(type(value) in _REMEMBERED_VALUE_TYPES for value in values.values())):
            return super().url_for(endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme,
                                   _external=_external, **values)
        key = (this_request.script_root, this_request.blueprint if endpoint[:1] == "." else None, endpoint,
               *sorted(values.items()))
        path = self._url_memory.get(key)
        if path is None:
            path = super().url_for(endpoint, **values)
            if len(self._url_memory) >= self.URL_MEMORY_SIZE:
                self._url_memory.clear()  # ids make the keys many; start over rather than grow
            self._url_memory[key] = path
        return path


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: only a whole number an id column can hold matches, so a larger
    one is simply not found (404) instead of reaching the database (SQLite stops at 2^63,
    PostgreSQL's integer at 2^31)."""

    def __init__(self, url_map: object, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = None, signed: bool = False) -> None:  # noqa: A002
        limit = MAX_ID if max is None or max > MAX_ID else max
        super().__init__(url_map, fixed_digits, min, limit, signed)


class TextConverter(UnicodeConverter):
    """A text part of a route (``<code>``): no control characters, which no code or name holds and
    PostgreSQL refuses (NUL) in a query; such a path is simply not found."""

    def __init__(self, url_map: object, minlength: int = 1, maxlength: int | None = None,
                 length: int | None = None) -> None:
        super().__init__(url_map, minlength, maxlength, length)
        self.regex = self.regex.replace("[^/]", "[^/\\x00-\\x1f\\x7f-\\x9f]")


def init_app(app: Flask) -> None:
    settings = app.extensions["mda.settings"]
    # Before any blueprint adds its rules: every <int:...> is bounded to the id columns' range and
    # no text part of a path holds a control character.
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = TextConverter
    csrf.init_app(app)
    # Explicit settings: Talisman's defaults leave out frame-ancestors, and force_https would
    # redirect the plain-HTTP demo; TLS is terminated in front of the app in production.
    Talisman(app, force_https=False, frame_options="DENY", content_security_policy=CONTENT_SECURITY_POLICY,
             referrer_policy="no-referrer", strict_transport_security=settings.is_production,
             session_cookie_secure=settings.is_production, session_cookie_http_only=True,
             session_cookie_samesite="Lax", permissions_policy={"camera": "()", "microphone": "()",
                                                                "geolocation": "()"})
    limiter.init_app(app)
    # Bootstrap 5 comes with the Python package and is served by the app itself, never a CDN.
    app.config["BOOTSTRAP_SERVE_LOCAL"] = True
    Bootstrap5(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in om verder te gaan."
    login_manager.session_protection = "strong"

    from .auth.sessions import load_user_from_session_id
    login_manager.user_loader(load_user_from_session_id)

    from .auth.views import blueprint as auth_blueprint
    from .home.views import blueprint as home_blueprint
    from .accounts.views import blueprint as admin_users_blueprint
    from .cases.views import blueprint as cases_blueprint
    from .reference.views import blueprint as reference_blueprint
    from .journal.views import blueprint as journal_blueprint
    from .people.views import blueprint as people_blueprint
    from .safety.views import blueprint as safety_blueprint
    from .teams.views import blueprint as teams_blueprint
    from .audit.views import blueprint as audit_blueprint
    from .huisverbod.views import blueprint as huisverbod_blueprint
    app.register_blueprint(auth_blueprint)
    app.register_blueprint(home_blueprint)
    app.register_blueprint(admin_users_blueprint)
    app.register_blueprint(cases_blueprint)
    app.register_blueprint(reference_blueprint)
    for case_area in (people_blueprint, teams_blueprint, safety_blueprint, journal_blueprint):
        app.register_blueprint(case_area)
    app.context_processor(_policy_for_templates)
    app.add_template_filter(_localtime, "localtime")
    app.register_blueprint(audit_blueprint)
    app.register_blueprint(huisverbod_blueprint)
    from .documents.uploads import Request as UploadAwareRequest
    from .documents.views import blueprint as documents_blueprint
    app.request_class = UploadAwareRequest  # a larger body only for the views that take files
    app.register_blueprint(documents_blueprint)
    from .lifecycle.views import blueprint as lifecycle_blueprint
    app.register_blueprint(lifecycle_blueprint)
    from .metrics.views import blueprint as metrics_blueprint
    app.register_blueprint(metrics_blueprint)
    from .referrals.api import api_blueprint as referrals_api_blueprint
    from .referrals.views import blueprint as referrals_blueprint
    app.register_blueprint(referrals_blueprint)
    app.register_blueprint(referrals_api_blueprint)
    from .worklist.views import blueprint as worklist_blueprint, header_counts_for_templates
    app.register_blueprint(worklist_blueprint)
    app.context_processor(header_counts_for_templates)
    from .search.views import blueprint as search_blueprint
    app.register_blueprint(search_blueprint)
    # The caseload and case file hear of running huisverboden without the case core importing them.
    from .cases import signals as case_signals
    from .huisverbod.queries import case_signals as house_ban_signals, timeline_entries as house_ban_timeline
    case_signals.register(app, house_ban_signals)
    case_signals.register_timeline(app, house_ban_timeline)
    from .notifications.views import admin_blueprint as mail_admin_blueprint
    from .notifications.views import blueprint as notifications_blueprint
    app.register_blueprint(notifications_blueprint)
    app.register_blueprint(mail_admin_blueprint)
    csrf.exempt(referrals_api_blueprint)  # no cookies, no session: a CSRF token has nothing to protect

    app.before_request(_require_login)
    app.after_request(_commit_and_harden)
    from .auth.resume import remember_page
    app.after_request(remember_page)
    _register_error_handlers(app)


def _localtime(moment: datetime | None, with_time: bool = True) -> str:
    """An instant on the Dutch wall clock, in Dutch notation."""
    return format_moment(moment, with_time=with_time)


def _policy_for_templates() -> dict[str, object]:
    """``can("case:view")`` in templates asks the policy module; templates decide nothing."""
    account: list[User | None] = []  # looked up at the first use, not for a page that asks nothing

    def this_account() -> User | None:
        if not account:
            account.append(current_account())
        return account[0]

    def can(permission: str) -> bool:
        return may(this_account(), Permission(permission))

    def session_idle_seconds() -> int:
        # What is left of the idle limit now (the session's idle clock moves once a minute).
        return idle_seconds_left(current_app.extensions["mda.settings"].session_idle_minutes)

    def main_menu(open_tasks: int, waiting_referrals: int) -> Markup:
        """The main menu: the same for every account granted the same permissions, with the same
        counts in it. Remembered per worker by those values: its dozen permission checks and links
        cost more than the rest of the header."""
        granted = granted_without_target(this_account())
        return remembered("_menu.html", (granted, open_tasks, waiting_referrals), granted=granted,
                          tasks=open_tasks, waiting=waiting_referrals)
    return {"can": can, "session_idle_seconds": session_idle_seconds, "main_menu": main_menu}


def _require_login() -> Response | None:
    # The request, app and user are resolved once: on Python 3.11 every attribute read through one
    # of Flask's proxies raises (and formats) an AttributeError inside werkzeug before it is
    # answered, some 5,000 instructions each, and a signed-in request made about ninety of them.
    this_request = request._get_current_object()  # type: ignore[attr-defined]
    endpoint = this_request.endpoint
    if endpoint in PUBLIC_ENDPOINTS or endpoint is None:
        return None  # None: no such route, the 404 handler answers
    user = current_user._get_current_object()
    if not user.is_authenticated:
        # The requested path is not carried along: a URL may name a case.
        return redirect(url_for("auth.login"))
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = app.extensions["mda.settings"]
    if session_expired(settings.session_idle_minutes, settings.session_absolute_hours):
        end_session(user)
        from .auth.resume import keep_for_after_login
        keep_for_after_login()  # the page they were on, and what a posted form held (encrypted, server side)
        return redirect(url_for("auth.login"))
    note_activity()
    if this_request.method == "GET":
        from .auth.resume import note_page
        note_page(this_request)
    view = app.view_functions[endpoint]
    if declared_permission(view) is None:
        # Deny by default: a view that forgot to declare its permission is unreachable.
        app.logger.error("view %s declares no permission", endpoint)
        abort(403)
    return None


def _commit_and_harden(response: Response) -> Response:
    # 422 is a form shown again with its errors: the refused change was already rolled back
    # (mda.forms.show_domain_error), and the audit record of showing the page must be kept.
    if response.status_code < 400 or response.status_code == 422:
        try:
            db.session.commit()
        except StaleDataError:
            # Another request changed the same versioned row (e.g. the case, via touch) between our
            # read and this commit: nothing was saved; say so instead of answering 500.
            db.session.rollback()
            response = current_app.make_response(
                (render_template("errors/error.html", code=409, message=StaleVersion().message), 409))
    else:
        db.session.rollback()
    if request.endpoint not in ("static", "bootstrap.static"):
        response.headers["Cache-Control"] = "no-store"
    return response


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> tuple[str, int]:
        db.session.rollback()
        return render_template("errors/error.html", code=exc.code, message=_message_for(exc.code)), exc.code or 500

    @app.errorhandler(CSRFError)
    def _csrf_error(_exc: CSRFError) -> tuple[str, int]:
        db.session.rollback()
        return render_template("errors/error.html", code=400,
                               message="Het formulier is verlopen. Laad de pagina opnieuw en probeer het nog eens."), 400

    @app.errorhandler(StaleDataError)
    def _stale(_exc: StaleDataError) -> tuple[str, int]:
        db.session.rollback()
        return render_template("errors/error.html", code=409, message=StaleVersion().message), 409

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> tuple[str, int]:
        db.session.rollback()
        return render_template("errors/error.html", code=exc.status_code, message=exc.message), exc.status_code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[str, int]:
        db.session.rollback()
        # Log the type only: exception messages can carry values from the request.
        app.logger.error("unhandled %s on %s", type(exc).__name__, request.endpoint)
        return render_template("errors/error.html", code=500, message=_message_for(500)), 500


def _message_for(code: int | None) -> str:
    return {
        400: "Het verzoek kon niet worden verwerkt.",
        403: "U heeft geen toegang tot deze pagina.",
        404: "Deze pagina bestaat niet of u heeft er geen toegang toe.",
        405: "Deze handeling is hier niet mogelijk.",
        409: StaleVersion().message,
        413: "Het verzonden bestand of formulier is te groot.",
        429: "Te veel pogingen. Wacht even en probeer het dan opnieuw.",
    }.get(code or 500, "Er ging iets mis. Probeer het later opnieuw; blijft het misgaan, meld het dan "
                       "bij de functioneel beheerder.")
