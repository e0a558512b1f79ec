"""Liveness, readiness and metrics for load balancers and monitoring systems.

None of them needs a session (they are in mda.web.PUBLIC_ENDPOINTS) and none shows data:
liveness and readiness answer a status, metrics answer counts, and only to a configured
address or with the metrics token (MDA_METRICS_ALLOW, MDA_METRICS_TOKEN).
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, request

from ..db import db
from .health import readiness
from .metrics import caller_allowed, exposition

blueprint = Blueprint("monitoring", __name__)

ENDPOINTS = frozenset({"monitoring.live", "monitoring.ready", "monitoring.metrics"})


@blueprint.route("/health/live")
def live() -> Response:
    """The process answers requests; says nothing about the database (that is readiness)."""
    return jsonify(status="ok")


@blueprint.route("/health/ready")
def ready() -> tuple[Response, int]:
    """Ready for traffic: database answers, schema at the latest migration, keys work."""
    checks = readiness(current_app)
    is_ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ready" if is_ready else "not ready", checks=checks), 200 if is_ready else 503


@blueprint.route("/metrics")
def metrics() -> Response:
    networks, token = current_app.extensions["mda.metrics_access"]
    if not caller_allowed(request, networks, token):
        abort(403)
    body, content_type = exposition(db.session)
    return Response(body, content_type=content_type)
