"""Web wiring: one commit per request, deny-by-default login, error pages, headers."""
from __future__ import annotations

from flask import Flask, Response, abort, current_app, redirect, render_template, request, url_for
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from .db import db
from .errors import DomainError, StaleVersion
from .security.policy import declared_permission

# The only views reachable without a session (SecureDrop's short-list pattern).
PUBLIC_ENDPOINTS = frozenset({"auth.login", "auth.logout", "static"})

csrf = CSRFProtect()
login_manager = LoginManager()


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in om verder te gaan."

    from .auth.sessions import load_user_from_session_id
    login_manager.user_loader(load_user_from_session_id)

    from .auth.views import blueprint as auth_blueprint
    from .home.views import blueprint as home_blueprint
    app.register_blueprint(auth_blueprint)
    app.register_blueprint(home_blueprint)

    app.before_request(_require_login)
    app.after_request(_commit_and_harden)
    _register_error_handlers(app)


def _require_login() -> Response | None:
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None  # None: no such route, the 404 handler answers
    if not current_user.is_authenticated:
        # The requested path is not carried along: a URL may name a case.
        return redirect(url_for("auth.login"))
    view = current_app.view_functions[request.endpoint]
    if declared_permission(view) is None:
        # Deny by default: a view that forgot to declare its permission is unreachable.
        current_app.logger.error("view %s declares no permission", request.endpoint)
        abort(403)
    return None


def _commit_and_harden(response: Response) -> Response:
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    if request.endpoint != "static":
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
