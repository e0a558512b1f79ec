"""MDA++ case-coordination tracker: the application factory."""
from __future__ import annotations

from typing import Any, Mapping

from flask import Flask

from .config import ConfigError, load_settings

__all__ = ["create_app", "ConfigError"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Defaults, then ``instance/config.py``, then ``MDA_*`` environment, then ``config``."""
    from .paths import instance_path
    from .web import App

    app = App(__name__, instance_path=str(instance_path()), instance_relative_config=True)
    app.config.from_mapping(
        MODE="production",
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the (short) session
        WTF_I18N_ENABLED=False,    # WTForms' own Dutch messages (mda.forms.Form) instead of Flask-Babel
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=True,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env(prefix="MDA")
    if config:
        app.config.update(config)

    settings = load_settings(app.config, app.instance_path)
    app.config["SECRET_KEY"] = settings.secret_key
    app.config["DEBUG"] = False
    app.config["RATELIMIT_STORAGE_URI"] = settings.rate_limit_storage_uri
    if settings.is_production:
        app.config["SESSION_COOKIE_NAME"] = "__Host-mda-session"  # Secure, Path=/, no Domain
    else:
        app.config["SESSION_COOKIE_SECURE"] = False  # the demo runs on plain http://127.0.0.1
    app.extensions["mda.settings"] = settings
    if settings.trusted_proxies:
        # Behind N reverse proxies the client is the address the N-th proxy saw: the per-address
        # login limit and the audit trail's access point use it instead of the proxy's own address.
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,  # type: ignore[method-assign]
                                x_proto=settings.trusted_proxies)

    from .db import db
    from .security.crypto import BlindIndex, FieldCipher
    from .security.passwords import Passwords, make_hasher

    db.init_app(app, settings.database_url)
    app.extensions["mda.cipher"] = FieldCipher(settings.field_keys, settings.current_field_key_id)
    app.extensions["mda.blind_index"] = BlindIndex(settings.blind_index_key)
    app.extensions["mda.passwords"] = Passwords(make_hasher(fast=settings.mode == "test"))

    # Every mapper (and the next-deadline listener) is known before the first query, whichever
    # command runs: the worker and the CLI reach models that no blueprint has imported yet.
    from . import models  # noqa: F401
    from . import monitoring, web
    monitoring.init_app(app)  # before web: its hooks wrap the whole request, commit included
    web.init_app(app)

    from .cli import register_commands
    register_commands(app)
    return app
