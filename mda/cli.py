"""Command-line interface: ``mda <command>`` (or ``flask --app mda <command>``)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup

from .accounts.models import Role
from .paths import instance_path


def _create_app_for_cli() -> Flask:
    from . import create_app
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app_for_cli, add_default_commands=False,
             add_version_option=False, load_dotenv=False)
def main() -> None:
    """MDA++ case tracker. Configuration comes from MDA_* variables and instance/."""


@main.command("demo", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--reset", is_flag=True, help="Throw away the demo database and load fresh demo data.")
@click.option("--no-serve", is_flag=True, help="Prepare the database and data, then stop.")
def demo_command(host: str, port: int, reset: bool, no_serve: bool) -> None:
    """Run the app on a local SQLite database with fictitious data and demo users."""
    from . import create_app
    from .config import write_key_file
    from .db import db
    from .demo import DEMO_PASSWORD, DEMO_USERS, load_demo_data
    from .migrate import upgrade

    folder = instance_path()
    key_file = folder / "demo-keys.json"
    database = folder / "demo.sqlite"
    if reset:
        for leftover in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            leftover.unlink(missing_ok=True)
    if not key_file.exists():
        if database.exists():
            raise click.ClickException(f"{database} exists but its key file {key_file} is gone; "
                                       "run `mda demo --reset` to start over.")
        write_key_file(key_file)
        click.echo(f"Demo keys written to {key_file} (never use these for real data).")
    app = create_app({"MODE": "demo", "KEY_FILE": str(key_file), "DATABASE_URL": f"sqlite:///{database}"})
    with app.app_context():
        upgrade(db.engine)
        loaded = load_demo_data()
        db.session.commit()
    click.echo("")
    click.echo("MDA++ demo" + (" (fictitious demo data loaded)" if loaded else " (existing demo data)"))
    click.echo(f"  Open http://{host}:{port}/ and log in with one of these demo accounts.")
    click.echo(f"  Password for every demo account: {DEMO_PASSWORD}")
    for username, _name, roles, _organisation in DEMO_USERS:
        click.echo(f"    {username:<18} {', '.join(role.label for role in roles)}")
    click.echo("  At its first login each account links an authenticator app (TOTP) by QR code;")
    click.echo("  the page also shows the key for manual entry. An administrator can reset the link.")
    click.echo("  All names, BSNs and addresses in the demo are fictitious.")
    if no_serve:
        return
    # app.run() refuses to start inside a Flask CLI command, so serve with Werkzeug directly.
    from werkzeug.serving import run_simple
    run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)


def register_commands(app: Flask) -> None:
    """Also offer the commands as ``flask --app mda ...``."""
    for command in COMMAND_GROUPS:
        app.cli.add_command(command)


@click.group("db", cls=AppGroup)
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.argument("revision", default="heads")
def db_upgrade(revision: str) -> None:
    from .db import db
    from .migrate import upgrade
    upgrade(db.engine, revision)
    click.echo(f"Database at {revision}.")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    from .db import db
    from .migrate import downgrade
    downgrade(db.engine, revision)


@db_group.command("current")
def db_current() -> None:
    from .db import db
    from .migrate import current
    current(db.engine)


@db_group.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Generate a migration from model changes (review it before committing)."""
    from .db import db
    from .migrate import revision
    revision(db.engine, message)


@click.group("keys", cls=AppGroup)
def keys_group() -> None:
    """Field encryption keys: add a key, re-encrypt under it, retire old keys."""


@keys_group.command("generate", with_appcontext=False)
@click.option("--path", type=click.Path(path_type=Path), default=None,
              help="Key file to create (default: instance/keys.json).")
def keys_generate(path: Path | None) -> None:
    """Create a new key file with a field key, a blind-index key, an audit key and a secret key."""
    from .config import write_key_file
    path = path or instance_path() / "keys.json"
    if path.exists():
        raise click.ClickException(f"{path} already exists; it is never overwritten.")
    write_key_file(path)
    click.echo(f"Key file written to {path} (mode 600). Back it up apart from the database backups.")


@keys_group.command("add", with_appcontext=False)
@click.option("--path", type=click.Path(path_type=Path), default=None)
def keys_add(path: Path | None) -> None:
    """Add a new field key to the key file and make it the current one."""
    import base64
    import secrets
    path = path or instance_path() / "keys.json"
    body = json.loads(path.read_text())
    new_id = max(int(key_id) for key_id in body["field_keys"]) + 1
    body["field_keys"][str(new_id)] = base64.b64encode(secrets.token_bytes(32)).decode()
    body["current_field_key_id"] = new_id
    _write_json_private(path, body)
    click.echo(f"Field key {new_id} added and made current. Run `mda keys rotate` next.")


@keys_group.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every personal field under the current key (safe to interrupt and re-run)."""
    from .audit.models import AuditAction
    from .audit.trail import record
    from .db import db
    from .security.rotation import key_usage, rotate_all
    session = db.session
    changed = rotate_all(session)
    record(AuditAction.KEY_ROTATION, username="(systeem)", detail=f"{sum(changed.values())} rijen")
    session.commit()
    for table, count in changed.items():
        if count:
            click.echo(f"  {table}: {count} rows re-encrypted")
    click.echo("Tokens per key id now: " + json.dumps(dict(key_usage(session))))


@keys_group.command("retire")
@click.argument("key_id", type=int)
@click.option("--path", type=click.Path(path_type=Path), default=None)
def keys_retire(key_id: int, path: Path | None) -> None:
    """Remove an old key from the key file, after checking no stored value still needs it."""
    from .db import db
    from .security.rotation import key_usage
    settings = current_app.extensions["mda.settings"]
    if key_id == settings.current_field_key_id:
        raise click.ClickException("The current key cannot be retired.")
    remaining = key_usage(db.session).get(key_id, 0)
    if remaining:
        raise click.ClickException(f"{remaining} values still use key {key_id}; run `mda keys rotate` first.")
    path = path or instance_path() / "keys.json"
    body = json.loads(path.read_text())
    body["field_keys"].pop(str(key_id), None)
    _write_json_private(path, body)
    click.echo(f"Key {key_id} removed from {path}.")


def _write_json_private(path: Path, body: dict) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(body, indent=2))
    temporary.chmod(0o600)
    temporary.replace(path)


@click.group("audit", cls=AppGroup)
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; name the first record that was removed or altered."""
    from .db import db
    from .audit.trail import verify
    report = verify(db.session)
    if report.intact:
        click.echo(f"Audit trail intact: {report.checked} records verified.")
        return
    click.echo(f"AUDIT TRAIL BROKEN at record {report.first_broken_id}: {report.problem} "
               f"({report.checked} records verified before it).", err=True)
    sys.exit(1)


@click.group("users", cls=AppGroup)
def users_group() -> None:
    """Accounts."""


@users_group.command("create")
@click.option("--username", required=True)
@click.option("--name", "display_name", required=True)
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice([role.value for role in Role]))
@click.option("--organisation", default=None, help="Name of an existing organisation.")
@click.password_option()
def users_create(username: str, display_name: str, roles: tuple[str, ...], organisation: str | None,
                 password: str) -> None:
    """Create an account (for the first functional administrator, for example)."""
    from sqlalchemy import select
    from .accounts.operations import create_user
    from .db import db
    from .errors import DomainError
    from .organisations.models import Organisation
    org = None
    if organisation:
        org = db.session.scalar(select(Organisation).where(Organisation.name == organisation))
        if org is None:
            raise click.ClickException(f"No organisation named {organisation!r}.")
    try:
        create_user(username=username, display_name=display_name, password=password,
                    roles=[Role(role) for role in roles], organisation=org, by=None)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(f"Account {username} created.")


@click.group("huisverbod", cls=AppGroup)
def house_ban_group() -> None:
    """Tijdelijk huisverbod."""


@house_ban_group.command("expire")
def house_ban_expire() -> None:
    """Record the end of running orders whose time is up (run from cron every few minutes)."""
    from .db import db
    from .huisverbod.operations import expire_due_orders
    ended = expire_due_orders()
    db.session.commit()
    click.echo(f"{len(ended)} huisverbod(en) beëindigd.")


from .lifecycle.cli import backup_group, lifecycle_group  # noqa: E402
from .metrics.cli import metrics_group  # noqa: E402

COMMAND_GROUPS = (db_group, keys_group, audit_group, users_group, house_ban_group,
                  lifecycle_group, backup_group, metrics_group)
for _group in COMMAND_GROUPS:
    main.add_command(_group)
