"""Behind a reverse proxy (issue 13, item 5): with MDA_TRUSTED_PROXIES the per-address login limit
and the audit trail use the client's address, not the proxy's; without it X-Forwarded-For is ignored."""
from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from mda import ConfigError
from mda.audit.models import AuditAction, AuditEvent
from mda.db import db
from tests.conftest import build_app

PROXY = "10.9.8.7"


def _attempt(client, client_address: str) -> int:
    return client.post("/inloggen", data={"username": "onbekend", "password": "y"},
                       headers={"X-Forwarded-For": client_address},
                       environ_base={"REMOTE_ADDR": PROXY}).status_code


def _access_points(app: Flask) -> list[str | None]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.access_point)
                                       .where(AuditEvent.action == AuditAction.LOGIN_FAILED)
                                       .order_by(AuditEvent.id)))


def test_one_trusted_proxy_gives_each_client_its_own_limit_and_address(app: Flask, migrated, keys,
                                                                       instance_dir) -> None:
    behind = build_app(migrated, keys, instance_dir, RATELIMIT_ENABLED=True, TRUSTED_PROXIES=1)
    client = behind.test_client()
    statuses = [_attempt(client, "198.51.100.23") for _ in range(11)]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429
    # Someone else behind the same proxy is not blocked by the first person's attempts.
    assert _attempt(client, "203.0.113.77") == 401
    points = _access_points(behind)
    assert points[:10] == ["198.51.100.23"] * 10 and points[-1] == "203.0.113.77"
    with behind.app_context():
        db.dispose()


def test_without_the_setting_the_forwarded_header_is_not_believed(app: Flask) -> None:
    client = app.test_client()
    assert _attempt(client, "198.51.100.99") == 401
    assert _access_points(app) == [PROXY]


def test_the_setting_is_checked(migrated, keys, instance_dir) -> None:
    with pytest.raises(ConfigError):
        build_app(migrated, keys, instance_dir, TRUSTED_PROXIES="veel")
