"""Login with two factors: enrolment, replay, drift, lockout, rate limit and session lifetime."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from mda.accounts.models import Role, User
from mda.audit.models import AuditAction, AuditEvent
from mda.auth import mfa
from mda.db import db
from mda.timeutil import utcnow
from tests import factories as make
from tests.conftest import build_app


def _account(app: Flask, **kwargs: Any) -> User:
    with app.app_context():
        account = make.user(Role.COORDINATOR, **kwargs)
        db.session.commit()
        return account


def _stored(app: Flask, account: User) -> User:
    with app.app_context():
        return db.session.get(User, account.id)


def _secret(app: Flask, account: User) -> str:
    with app.app_context():
        return db.session.get(User, account.id).totp_secret


def _password_step(client: FlaskClient, account: User, password: str = make.PASSWORD):
    return client.post("/inloggen", data={"username": account.username, "password": password})


def test_second_factor_cannot_be_skipped(app: Flask, client: FlaskClient) -> None:
    account = _account(app)
    assert _password_step(client, account).headers["Location"] == "/inloggen/code"
    for path in ("/", "/casussen/", "/casussen/1"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/inloggen"


def test_first_login_enrols_totp_with_qr_code(app: Flask, client: FlaskClient) -> None:
    account = _account(app, enrolled=False)
    assert _password_step(client, account).headers["Location"] == "/inloggen/koppelen"
    page = client.get("/inloggen/koppelen").get_data(as_text=True)
    assert "<svg" in page and "QR-code" in page
    secret = _secret(app, account)
    assert secret and mfa.grouped(secret) in page
    assert client.post("/inloggen/koppelen", data={"code": "000000"}).status_code == 401
    assert _stored(app, account).mfa_enrolled_at is None
    done = client.post("/inloggen/koppelen", data={"code": mfa.code_for(secret)})
    assert done.status_code == 302 and done.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert _stored(app, account).mfa_enrolled_at is not None
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.user_id == account.id)).all()
    assert AuditAction.MFA_CHANGE in actions and AuditAction.LOGIN in actions


def test_enrolled_user_cannot_reach_enrolment_again(app: Flask, client: FlaskClient) -> None:
    account = _account(app)
    _password_step(client, account)
    assert client.get("/inloggen/koppelen").headers["Location"] == "/inloggen"


def test_used_code_is_refused_on_replay(app: Flask, client: FlaskClient) -> None:
    account = _account(app)
    code = mfa.code_for(_secret(app, account))
    _password_step(client, account)
    assert client.post("/inloggen/code", data={"code": code}).status_code == 302
    client.post("/uitloggen")
    _password_step(client, account)
    replay = client.post("/inloggen/code", data={"code": code})
    assert replay.status_code == 401 and "Inloggen is niet gelukt" in replay.get_data(as_text=True)


def test_one_step_of_drift_is_accepted_two_are_not(app: Flask, client: FlaskClient) -> None:
    account = _account(app)
    secret = _secret(app, account)
    _password_step(client, account)
    assert client.post("/inloggen/code", data={"code": mfa.code_for(secret, offset_steps=2)}).status_code == 401
    assert client.post("/inloggen/code", data={"code": mfa.code_for(secret, offset_steps=1)}).status_code == 302


def test_lockout_after_five_failures_with_the_same_message(app: Flask, client: FlaskClient, clock) -> None:
    account = _account(app)
    start = utcnow()
    clock(start)
    for _ in range(5):
        assert _password_step(client, account, "verkeerd wachtwoord").status_code == 401
    locked = _password_step(client, account)
    assert locked.status_code == 401 and "Inloggen is niet gelukt" in locked.get_data(as_text=True)
    assert _stored(app, account).locked_until is not None
    clock(start + timedelta(minutes=2))
    assert _password_step(client, account).headers["Location"] == "/inloggen/code"


def test_wrong_codes_count_towards_lockout(app: Flask, client: FlaskClient) -> None:
    account = _account(app)
    _password_step(client, account)
    for _ in range(5):
        client.post("/inloggen/code", data={"code": "000000"})
    right = mfa.code_for(_secret(app, account))
    assert client.post("/inloggen/code", data={"code": right}).status_code == 401


def test_per_address_rate_limit(migrated: str, keys, instance_dir) -> None:
    app = build_app(migrated, keys, instance_dir, RATELIMIT_ENABLED=True)
    client = app.test_client()
    statuses = [client.post("/inloggen", data={"username": f"x{n}", "password": "y"}).status_code
                for n in range(11)]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429
    assert "Te veel pogingen" in client.post("/inloggen", data={"username": "x", "password": "y"}).get_data(
        as_text=True)
    with app.app_context():
        db.dispose()


def test_idle_timeout_ends_the_session(app: Flask, client: FlaskClient, clock) -> None:
    account = _account(app)
    start = utcnow()
    clock(start)
    make.login(client, account)
    clock(start + timedelta(minutes=14))
    assert client.get("/").status_code == 200
    clock(start + timedelta(minutes=14 + 16))
    expired = client.get("/")
    assert expired.status_code == 302 and expired.headers["Location"] == "/inloggen"
    assert "Uw sessie is verlopen" in client.get("/inloggen").get_data(as_text=True)


def test_idle_clock_moves_once_a_minute_and_never_ends_the_session_late(app: Flask, client: FlaskClient,
                                                                        clock) -> None:
    account = _account(app)
    idle = app.extensions["mda.settings"].session_idle_minutes
    start = utcnow()
    clock(start)
    make.login(client, account)
    client.get("/")
    clock(start + timedelta(seconds=40))
    unchanged = client.get("/")
    # Within the minute the cookie is neither signed again nor sent; the warning counts from the
    # clock the server keeps, not from this page's load.
    assert unchanged.status_code == 200 and "Set-Cookie" not in unchanged.headers
    assert f'data-idle-seconds="{idle * 60 - 40}"' in unchanged.get_data(as_text=True)
    clock(start + timedelta(minutes=idle - 1))
    moved = client.get("/")
    assert moved.status_code == 200 and "Set-Cookie" in moved.headers
    clock(start + timedelta(minutes=idle - 1, seconds=50))
    assert client.get("/").status_code == 200  # not counted: at most a minute early, never late
    clock(start + timedelta(minutes=2 * idle - 1, seconds=1))
    assert client.get("/").status_code == 302


def test_continuing_the_session_always_restarts_the_idle_clock(app: Flask, client: FlaskClient, clock) -> None:
    account = _account(app)
    idle = app.extensions["mda.settings"].session_idle_minutes
    start = utcnow()
    clock(start)
    make.login(client, account)
    clock(start + timedelta(seconds=30))
    assert client.post("/sessie/verlengen").status_code == 200  # "Doorgaan" in the warning
    clock(start + timedelta(minutes=idle, seconds=20))
    assert client.get("/").status_code == 200


def test_absolute_lifetime_ends_an_active_session(app: Flask, client: FlaskClient, clock) -> None:
    account = _account(app)
    start = utcnow()
    clock(start)
    make.login(client, account)
    moment = start
    while moment < start + timedelta(hours=9, minutes=50):
        moment += timedelta(minutes=10)
        clock(moment)
        assert client.get("/").status_code == 200
    clock(start + timedelta(hours=10, minutes=1))
    assert client.get("/").status_code == 302


def test_new_session_cookie_at_login(app: Flask, client: FlaskClient) -> None:
    account = _account(app)
    client.get("/inloggen")
    before = client.get_cookie("session")
    make.login(client, account)
    after = client.get_cookie("session")
    assert after is not None and (before is None or before.value != after.value)


def test_overlong_password_is_refused_without_hashing(app: Flask, client: FlaskClient) -> None:
    account = _account(app)
    response = _password_step(client, account, "x" * 300)
    assert response.status_code == 200 and "Inloggen" in response.get_data(as_text=True)
    assert _stored(app, account).failed_logins == 0
