"""Typed settings, parsed once from the Flask config and checked at start-up.

Secrets never have a production default: outside demo and test mode a missing
key is a start-up error with a message that says what to set.
"""
from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

MODES = ("production", "demo", "test")
KEY_BYTES = 32
# What `mda demo` creates in the instance folder; with MODE=demo every command finds them itself.
DEMO_KEY_FILE = "demo-keys.json"
DEMO_DATABASE = "demo.sqlite"


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message tells the operator what to fix."""


@dataclass(frozen=True)
class Settings:
    mode: str
    database_url: str
    secret_key: str
    field_keys: dict[int, bytes]
    current_field_key_id: int
    blind_index_key: bytes
    audit_key: bytes
    session_idle_minutes: int
    session_absolute_hours: int
    ave_outside_band_days: int
    rate_limit_storage_uri: str
    mail: "MailSettings | None" = None
    backup_directory: str | None = None
    backup_keep_days: int = 30
    trusted_proxies: int = 0
    audit_checkpoint_dir: str = ""

    @property
    def is_production(self) -> bool:
        return self.mode == "production"


SMTP_SECURITY = ("starttls", "tls", "none")


@dataclass(frozen=True)
class MailSettings:
    """The SMTP server notifications go out through. Without ``SMTP_HOST`` nothing is sent
    (in the demo the worker shows what it would send instead)."""

    host: str | None
    port: int
    security: str
    username: str | None
    password: str | None = field(repr=False, default=None)
    sender: str = "mda@localhost"
    base_url: str = "http://127.0.0.1:5000"
    timeout_seconds: float = 30.0


def _mail_settings(config: Mapping[str, Any], mode: str) -> MailSettings:
    host = config.get("SMTP_HOST") or None
    security = str(config.get("SMTP_SECURITY") or "starttls").lower()
    if security not in SMTP_SECURITY:
        raise ConfigError(f"SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}, not {security!r}.")
    try:
        port = int(config.get("SMTP_PORT") or (465 if security == "tls" else 587))
    except ValueError as exc:
        raise ConfigError("SMTP_PORT must be a number.") from exc
    base_url = str(config.get("APP_BASE_URL") or "").rstrip("/")
    sender = config.get("MAIL_SENDER")
    if host and mode == "production":
        if not base_url.startswith("https://"):
            raise ConfigError("APP_BASE_URL (MDA_APP_BASE_URL) must be the https:// address of the app when "
                              "SMTP_HOST is set: the e-mails link to it.")
        if not sender:
            raise ConfigError("MAIL_SENDER (MDA_MAIL_SENDER) is required when SMTP_HOST is set.")
        if security == "none":
            raise ConfigError("SMTP_SECURITY=none is refused in production: use starttls or tls.")
    return MailSettings(host=host, port=port, security=security, username=config.get("SMTP_USERNAME") or None,
                        password=str(config.get("SMTP_PASSWORD") or "") or None, sender=str(sender or "mda@localhost"),
                        base_url=base_url or "http://127.0.0.1:5000",
                        timeout_seconds=float(config.get("SMTP_TIMEOUT_SECONDS") or 30))


def generate_key_material() -> dict[str, Any]:
    """A fresh key file body: one field key, a blind-index key, an audit key, a secret key."""
    def b64() -> str:
        return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()

    return {
        "secret_key": secrets.token_urlsafe(48),
        "field_keys": {"1": b64()},
        "current_field_key_id": 1,
        "blind_index_key": b64(),
        "audit_key": b64(),
    }


def write_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Create with owner-only permissions from the start, not chmod afterwards.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(generate_key_material(), handle, indent=2)


def _decode_key(name: str, value: Any) -> bytes:
    if isinstance(value, bytes):
        raw = value
    else:
        try:
            raw = base64.b64decode(str(value), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ConfigError(f"{name} is not valid base64.") from exc
    if len(raw) != KEY_BYTES:
        raise ConfigError(f"{name} must be {KEY_BYTES} bytes (base64-encoded), got {len(raw)}.")
    return raw


def _parse_field_keys(value: Any) -> dict[int, bytes]:
    # Accepts a mapping {"1": "<b64>"} or the environment form "1:<b64>,2:<b64>".
    if isinstance(value, str):
        pairs = {}
        for item in filter(None, (part.strip() for part in value.split(","))):
            key_id, sep, material = item.partition(":")
            if not sep:
                raise ConfigError("MDA_FIELD_KEYS must look like '1:<base64>,2:<base64>'.")
            pairs[key_id] = material
        value = pairs
    if not isinstance(value, Mapping) or not value:
        raise ConfigError("No field encryption keys configured (FIELD_KEYS).")
    keys: dict[int, bytes] = {}
    for key_id, material in value.items():
        try:
            numeric_id = int(key_id)
        except ValueError as exc:
            raise ConfigError(f"Field key id {key_id!r} is not a number.") from exc
        if not 0 < numeric_id < 65536:
            raise ConfigError("Field key ids must be between 1 and 65535.")
        keys[numeric_id] = _decode_key(f"field key {numeric_id}", material)
    return keys


def _load_key_file(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Key file {path} cannot be read: {exc}") from exc


def load_settings(config: Mapping[str, Any], instance_path: str) -> Settings:
    mode = config.get("MODE", "production")
    if mode not in MODES:
        raise ConfigError(f"MODE must be one of {', '.join(MODES)}, not {mode!r}.")

    key_file = Path(config.get("KEY_FILE")
                    or Path(instance_path) / (DEMO_KEY_FILE if mode == "demo" else "keys.json"))
    from_file = _load_key_file(key_file)

    def pick(name: str) -> Any:
        # Explicit config (environment, instance/config.py, tests) wins over the key file.
        value = config.get(name.upper())
        return value if value not in (None, "") else from_file.get(name)

    missing = [name.upper() for name in ("secret_key", "field_keys", "blind_index_key", "audit_key")
               if not pick(name)]
    if missing:
        raise ConfigError(
            "Missing secrets: " + ", ".join(missing) + ". Set them as MDA_<NAME> environment "
            f"variables or create the key file {key_file} with `mda keys generate`. "
            "Keys must never be stored in the repository or beside a backup."
        )

    field_keys = _parse_field_keys(pick("field_keys"))
    current = int(pick("current_field_key_id") or max(field_keys))
    if current not in field_keys:
        raise ConfigError(f"CURRENT_FIELD_KEY_ID {current} has no key in FIELD_KEYS.")
    blind_index_key = _decode_key("BLIND_INDEX_KEY", pick("blind_index_key"))
    audit_key = _decode_key("AUDIT_KEY", pick("audit_key"))
    if blind_index_key in field_keys.values() or audit_key in field_keys.values() \
            or blind_index_key == audit_key:
        raise ConfigError("The blind-index key, the audit key and the field keys must all differ.")

    secret_key = str(pick("secret_key"))
    if mode == "production" and len(secret_key) < 32:
        raise ConfigError("SECRET_KEY must be at least 32 characters in production.")

    database_url = config.get("DATABASE_URL")
    if not database_url:
        if mode == "production":
            raise ConfigError("DATABASE_URL (MDA_DATABASE_URL) is required in production.")
        database_url = f"sqlite:///{Path(instance_path) / (DEMO_DATABASE if mode == 'demo' else 'mda.sqlite')}"

    rate_limit_storage_uri = config.get("RATELIMIT_STORAGE_URI")
    if not rate_limit_storage_uri:
        if mode == "production":
            raise ConfigError("RATELIMIT_STORAGE_URI (MDA_RATELIMIT_STORAGE_URI) is required in production: "
                              "storage shared by all workers, e.g. redis://127.0.0.1:6379/0.")
        rate_limit_storage_uri = "memory://"

    try:
        trusted_proxies = int(config.get("TRUSTED_PROXIES") or 0)
    except (TypeError, ValueError) as exc:
        raise ConfigError("TRUSTED_PROXIES (MDA_TRUSTED_PROXIES) must be a whole number: how many reverse "
                          "proxies in front of the app add X-Forwarded-For (0 when there are none).") from exc
    if not 0 <= trusted_proxies <= 5:
        raise ConfigError("TRUSTED_PROXIES must be between 0 and 5.")

    return Settings(
        mode=mode,
        database_url=database_url,
        secret_key=secret_key,
        field_keys=field_keys,
        current_field_key_id=current,
        blind_index_key=blind_index_key,
        audit_key=audit_key,
        session_idle_minutes=int(config.get("SESSION_IDLE_MINUTES", 15)),
        session_absolute_hours=int(config.get("SESSION_ABSOLUTE_HOURS", 10)),
        ave_outside_band_days=int(config.get("AVE_OUTSIDE_BAND_DAYS", 30)),
        rate_limit_storage_uri=rate_limit_storage_uri,
        mail=_mail_settings(config, mode),
        backup_directory=config.get("BACKUP_DIRECTORY") or None,
        backup_keep_days=int(config.get("BACKUP_KEEP_DAYS") or 30),
        trusted_proxies=trusted_proxies,
        audit_checkpoint_dir=str(config.get("AUDIT_CHECKPOINT_DIR")
                                 or Path(instance_path) / "audit-checkpoints"),
    )
