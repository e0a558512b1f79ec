"""Running the app in production: health endpoints, Prometheus metrics, structured logs."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Called by create_app before mda.web: these hooks then run first before a request and
    last after it (after the commit), so latency and status are those the client gets."""
    from . import logs, metrics
    from .views import blueprint
    logs.init_app(app)
    metrics.init_app(app)
    app.register_blueprint(blueprint)
