"""Start-up fails clearly without keys outside demo and test mode; the demo makes its own."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from mda import ConfigError, create_app
from mda.cli import main
from tests.conftest import key_config


@pytest.fixture
def bare_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MDA_INSTANCE_PATH", str(tmp_path))
    for name in list(os.environ):
        if name.startswith("MDA_") and name != "MDA_INSTANCE_PATH":
            monkeypatch.delenv(name)
    return tmp_path


def test_production_without_keys_fails_with_clear_message(bare_instance: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        create_app({"DATABASE_URL": "sqlite://"})
    message = str(refused.value)
    assert "FIELD_KEYS" in message and "mda keys generate" in message


def test_production_without_database_url_fails(bare_instance: Path) -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app({"SECRET_KEY": "s" * 40, **key_config()})


def test_production_without_shared_rate_limit_storage_fails(bare_instance: Path) -> None:
    with pytest.raises(ConfigError, match="RATELIMIT_STORAGE_URI"):
        create_app({"SECRET_KEY": "s" * 40, "DATABASE_URL": "sqlite://", **key_config()})


def test_keys_must_differ_and_be_32_bytes(bare_instance: Path) -> None:
    same = key_config()
    same["AUDIT_KEY"] = same["BLIND_INDEX_KEY"]
    with pytest.raises(ConfigError, match="differ"):
        create_app({"SECRET_KEY": "s" * 40, "DATABASE_URL": "sqlite://", **same})
    short = key_config()
    short["AUDIT_KEY"] = "c2hvcnQ="
    with pytest.raises(ConfigError, match="32 bytes"):
        create_app({"SECRET_KEY": "s" * 40, "DATABASE_URL": "sqlite://", **short})


def test_keys_from_environment(bare_instance: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = key_config()
    monkeypatch.setenv("MDA_FIELD_KEYS", ",".join(f"{k}:{v}" for k, v in keys["FIELD_KEYS"].items()))
    monkeypatch.setenv("MDA_BLIND_INDEX_KEY", keys["BLIND_INDEX_KEY"])
    monkeypatch.setenv("MDA_AUDIT_KEY", keys["AUDIT_KEY"])
    monkeypatch.setenv("MDA_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("MDA_DATABASE_URL", "sqlite://")
    monkeypatch.setenv("MDA_RATELIMIT_STORAGE_URI", "memory://")
    app = create_app()
    settings = app.extensions["mda.settings"]
    assert settings.is_production and settings.current_field_key_id == 1
    assert app.config["SESSION_COOKIE_SECURE"] is True and app.debug is False
    assert app.config["SESSION_COOKIE_NAME"].startswith("__Host-")


def test_demo_creates_key_file_database_and_demo_users(bare_instance: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert (bare_instance / "demo-keys.json").stat().st_mode & 0o777 == 0o600
    assert "Password for every demo account" in result.output
    for username in ("coordinator", "teamleider", "expert.politie", "verwijzer.vt", "stuurgroep",
                     "beheerder", "privacy"):
        assert username in result.output
    engine = create_engine(f"sqlite:///{bare_instance / 'demo.sqlite'}")
    with engine.connect() as connection:
        # The twelve current families plus the pilot's history since January 2022 (about 60
        # referrals a year, most accepted), with closures, follow-ups and two releases.
        assert connection.scalar(text("SELECT count(*) FROM cases")) > 12 + 100
        assert connection.scalar(text("SELECT count(*) FROM referrals WHERE submitted_at < '2023-01-01'")) >= 40
        assert connection.scalar(text("SELECT count(DISTINCT phase) FROM cases")) == 4
        assert connection.scalar(text("SELECT count(DISTINCT ave_level) FROM cases")) >= 3
        assert connection.scalar(text("SELECT count(*) FROM house_bans WHERE status = 'running'")) >= 1
        assert connection.scalar(text("SELECT count(*) FROM closure_outcomes")) > 50
        assert connection.scalar(text("SELECT count(*) FROM follow_up_checks WHERE recorded_at IS NOT NULL")) > 20
        assert connection.scalar(text("SELECT count(*) FROM metrics_releases")) == 2
        # The history notified its users as it went; what is older than a week was read long ago.
        assert connection.scalar(text("SELECT count(*) FROM notifications")) > 100
        unread = connection.execute(text("SELECT u.username, count(*) FROM notifications n JOIN users u "
                                          "ON u.id = n.recipient_id WHERE n.read_at IS NULL GROUP BY u.username")).all()
        assert unread and all(count < 30 for _name, count in unread), unread
        assert connection.scalar(text("SELECT count(*) FROM notifications WHERE digest_pending")) < 30
        # Every current family's plan has its structured parts (encrypted), the revised ones too.
        assert connection.scalar(text(
            "SELECT count(DISTINCT case_id) FROM safety_plans WHERE structure_ciphertext IS NOT NULL")) >= 12
        assert connection.scalar(text(
            "SELECT count(*) FROM safety_plans WHERE structure_ciphertext IS NOT NULL AND version_number = 2")) >= 8
    engine.dispose()
    again = CliRunner().invoke(main, ["demo", "--no-serve"])
    assert again.exit_code == 0 and "existing demo data" in again.output


def test_mail_settings_are_checked_in_production(bare_instance: Path) -> None:
    from mda.config import load_settings
    base = {"MODE": "production", "DATABASE_URL": "postgresql+psycopg://x@localhost/x", "SECRET_KEY": "s" * 40,
            "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/0", **key_config()}
    assert load_settings(base, str(bare_instance)).mail.host is None  # no mail server: nothing is sent
    with pytest.raises(ConfigError, match="APP_BASE_URL"):
        load_settings({**base, "SMTP_HOST": "smtp.example.nl", "MAIL_SENDER": "mda@example.nl"}, str(bare_instance))
    with pytest.raises(ConfigError, match="MAIL_SENDER"):
        load_settings({**base, "SMTP_HOST": "smtp.example.nl", "APP_BASE_URL": "https://mda.example.nl"},
                      str(bare_instance))
    with pytest.raises(ConfigError, match="SMTP_SECURITY"):
        load_settings({**base, "SMTP_HOST": "smtp.example.nl", "SMTP_SECURITY": "plain"}, str(bare_instance))
    with pytest.raises(ConfigError, match="refused in production"):
        load_settings({**base, "SMTP_HOST": "smtp.example.nl", "SMTP_SECURITY": "none", "MAIL_SENDER": "a@b.nl",
                       "APP_BASE_URL": "https://mda.example.nl"}, str(bare_instance))
    mail = load_settings({**base, "SMTP_HOST": "smtp.example.nl", "SMTP_SECURITY": "tls", "SMTP_USERNAME": "mda",
                          "SMTP_PASSWORD": "geheim", "MAIL_SENDER": "mda@example.nl",
                          "APP_BASE_URL": "https://mda.example.nl/"}, str(bare_instance)).mail
    assert (mail.port, mail.base_url, mail.username) == (465, "https://mda.example.nl", "mda")
    assert "geheim" not in repr(mail)


def test_with_mode_demo_the_commands_find_the_demo_database_and_keys(bare_instance: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 13, item 9: `MDA_MODE=demo mda audit verify` needs no other variable."""
    assert CliRunner().invoke(main, ["demo", "--no-serve"]).exit_code == 0
    monkeypatch.setenv("MDA_MODE", "demo")
    result = CliRunner().invoke(main, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "Audit trail intact" in result.output
    app = create_app()
    assert app.extensions["mda.settings"].database_url.endswith("demo.sqlite")


def test_the_demo_plan_revision_shows_changed_unchanged_and_dropped_parts() -> None:
    from mda.demo import demo_plan
    before = demo_plan(1, 2, 3, revised=False).sections()
    after = demo_plan(1, 2, 3, revised=True).sections()
    assert {key for key in after if before.get(key) != after[key]} == {(2, "agreements"), (2, "next_phase"),
                                                                       (None, "network")}
    assert set(before) - set(after) == {(1, "next_phase")}
    assert {pid for pid, _ in after} == {None, 1, 2, 3}   # every person of the demo family has parts
