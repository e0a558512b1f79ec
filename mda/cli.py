"""Command-line interface: ``mda <command>`` (or ``flask --app mda <command>``)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup

from .accounts.models import Role
from .paths import instance_path

if TYPE_CHECKING:
    from .worker.runner import Worker


def _create_app_for_cli() -> Flask:
    from . import create_app
    return create_app()


class _Group(FlaskGroup):
    """Flask's group, but ``--help`` never builds the app (so it works without keys or a
    database: every command is registered on this group itself), and a configuration or
    database problem ends a command with one line instead of a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return click.Group.list_commands(self, ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return click.Group.get_command(self, ctx, name)

    def invoke(self, ctx: click.Context) -> object:
        from sqlalchemy.exc import OperationalError
        from .config import ConfigError
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise click.ClickException(f"Configuration: {exc}") from None
        except OperationalError as exc:
            # The driver's first line only ("connection refused", "unable to open database file").
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            raise click.ClickException(f"The database does not answer (MDA_DATABASE_URL): {reason}") from None


@click.group(cls=_Group, create_app=_create_app_for_cli, add_default_commands=False,
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
    from .config import DEMO_DATABASE, DEMO_KEY_FILE, write_key_file
    from .db import db
    from .demo import DEMO_PASSWORD, DEMO_USERS, load_demo_data
    from .migrate import upgrade

    folder = instance_path()
    key_file = folder / DEMO_KEY_FILE
    database = folder / DEMO_DATABASE
    if reset:
        for leftover in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
            leftover.unlink(missing_ok=True)
    if not key_file.exists():
        if database.exists():
            raise click.ClickException(f"{database} exists but its key file {key_file} is gone; "
                                       "run `mda demo --reset` to start over.")
        write_key_file(key_file)
        click.echo(f"Demo keys written to {key_file} (never use these for real data).")
    app = create_app({"MODE": "demo", "KEY_FILE": str(key_file), "DATABASE_URL": f"sqlite:///{database}",
                      "APP_BASE_URL": f"http://{host}:{port}"})
    with app.app_context():
        upgrade(db.engine)
        loaded = load_demo_data()
        db.session.commit()
        # A first checkpoint, so `MDA_MODE=demo mda audit verify` also checks the tail.
        from .audit.checkpoints import write_checkpoint
        settings = app.extensions["mda.settings"]
        write_checkpoint(db.session, settings.audit_checkpoint_dir, settings.audit_key)
        db.session.rollback()
        db.dispose()  # the workers open their own connections
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
    click.echo("  The worker runs alongside: e-mails it would send appear in this terminal and, for")
    click.echo("  the functional administrator (beheerder), under E-mail.")
    # The production server, as `mda serve`: one worker (the demo's login limit counts in memory)
    # with threads, so a page and its assets load side by side. The periodic work runs in a thread
    # of that worker, started after gunicorn forked it: SQLite connections must never cross a fork
    # (a worker forked while the master's job thread held a transaction inherited SQLite's record
    # of that lock and answered "database is locked" to the first logins).
    from . import server
    overrides = {"MODE": "demo", "KEY_FILE": str(key_file), "DATABASE_URL": f"sqlite:///{database}",
                 "APP_BASE_URL": f"http://{host}:{port}"}
    server.run(lambda: create_app(overrides),
               server.server_settings(bind=f"{host}:{port}", workers=1, threads=4), in_each_worker=start_demo_jobs)


def start_demo_jobs(app: Flask) -> Worker:
    """The demo's periodic work, in a thread of the (only) app worker; without a mail server its
    e-mails are printed in the terminal and shown to the functional administrator under E-mail.
    Not the release publishing: the demo loader already published the last ended quarter and year,
    and publishing every period since the pilot began would keep the demo busy for minutes."""
    from .notifications.mailer import transport_for
    from .worker.jobs import JOBS
    from .worker.runner import Worker
    settings = app.extensions["mda.settings"]
    demo_jobs = tuple(job for job in JOBS if job.name != "publish_releases")
    worker = Worker(app, transport=transport_for(settings.mail, settings.mode), jobs=demo_jobs)
    worker.start_in_thread()
    return worker


@main.command("serve", with_appcontext=False)
@click.option("--bind", default=None, help="Address(es) to listen on, comma-separated [MDA_BIND; 127.0.0.1:8000].")
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes [MDA_WORKERS; 2].")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Threads per worker; more than 1 uses gthread workers [MDA_THREADS; 1].")
@click.option("--timeout", type=click.IntRange(min=1), default=None,
              help="Seconds a request may take before its worker is restarted [MDA_TIMEOUT; 30].")
def serve_command(bind: str | None, workers: int | None, threads: int | None, timeout: int | None) -> None:
    """Run the app under gunicorn (the production server).

    Settings come from MDA_* variables (options win): MDA_BIND, MDA_WORKERS, MDA_THREADS,
    MDA_TIMEOUT, MDA_GRACEFUL_TIMEOUT, MDA_KEEPALIVE, MDA_MAX_REQUESTS; behind a TLS proxy set
    MDA_TRUSTED_PROXIES to the number of proxies in front of the app. Run `mda db upgrade` first:
    /health/ready answers 503 until the schema is at the latest migration.
    """
    from . import create_app, server
    server.run(create_app, server.server_settings(bind=bind, workers=workers, threads=threads, timeout=timeout))


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


@db_group.command("optimize")
def db_optimize() -> None:
    """Refresh the query planner's statistics (SQLite: ANALYZE + PRAGMA optimize); run it nightly."""
    from .db import db, optimize
    click.echo(optimize(db.engine))


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
@click.option("--checkpoint", "checkpoint_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Checkpoint file (JSON lines) whose newest checkpoint the trail must still contain "
                   "(default: audit-checkpoints.jsonl in AUDIT_CHECKPOINT_DIR).")
def audit_verify(checkpoint_path: Path | None) -> None:
    """Recompute the hash chain and check its tail against the newest checkpoint; name the first
    record that was removed or altered."""
    from .audit.checkpoints import CheckpointError, checkpoint_file, newest_checkpoint
    from .audit.trail import verify
    from .db import db
    settings = current_app.extensions["mda.settings"]
    path = checkpoint_path or checkpoint_file(settings.audit_checkpoint_dir)
    try:
        checkpoint = newest_checkpoint(path)
    except CheckpointError as exc:
        click.echo(f"AUDIT TRAIL NOT VERIFIED: {exc}", err=True)
        sys.exit(1)
    if checkpoint is None and checkpoint_path is not None:
        click.echo(f"AUDIT TRAIL NOT VERIFIED: no checkpoint in {path}.", err=True)
        sys.exit(1)
    report = verify(db.session, checkpoint=checkpoint)
    if not report.intact:
        click.echo(f"AUDIT TRAIL BROKEN at record {report.first_broken_id}: {report.problem} "
                   f"({report.checked} records verified before it).", err=True)
        sys.exit(1)
    click.echo(f"Audit trail intact: {report.checked} records verified.")
    if checkpoint is None:
        click.echo(f"No checkpoint found in {path}: the newest records could not be checked against one. "
                   "Run `mda audit checkpoint` regularly.", err=True)
    else:
        click.echo(f"Tail checked against the checkpoint of {checkpoint.written_at} "
                   f"({checkpoint.records} records up to record {checkpoint.last_id}).")


@audit_group.command("checkpoint")
def audit_checkpoint() -> None:
    """Append a signed checkpoint of the trail's tail to AUDIT_CHECKPOINT_DIR (run every few minutes)."""
    from .audit.checkpoints import checkpoint_file, write_checkpoint
    from .db import db
    settings = current_app.extensions["mda.settings"]
    checkpoint = write_checkpoint(db.session, settings.audit_checkpoint_dir, settings.audit_key)
    db.session.rollback()
    click.echo(f"Checkpoint written to {checkpoint_file(settings.audit_checkpoint_dir)}: "
               f"{checkpoint.records} records up to record {checkpoint.last_id}.")


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


@click.group("people", cls=AppGroup)
def people_group() -> None:
    """Persons of the client systems."""


@people_group.command("reindex")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 100_000))
def people_reindex(batch_size: int) -> None:
    """Recompute the blind index (duplicate check) and age bands from the encrypted data.

    Run once after an upgrade that changes how names are normalised; safe to interrupt and re-run."""
    from .people.operations import reindex_persons
    report = reindex_persons(batch_size=batch_size)
    click.echo(f"{report.checked} personen gelezen, {report.changed} bijgewerkt.")


@main.command("worker")
@click.option("--once", is_flag=True, help="Run every due job once, then stop.")
def worker_command(once: bool) -> None:
    """Run the periodic work: e-mails and digests, ending orders, deadline notifications, the
    daily retention purge, the nightly backup (when BACKUP_DIRECTORY is set). Stops on SIGTERM."""
    from .monitoring.logs import log_to_stderr_as_json
    from .notifications.mailer import transport_for
    from .worker.runner import Worker
    log_to_stderr_as_json()
    settings = current_app.extensions["mda.settings"]
    worker = Worker(current_app._get_current_object(),  # type: ignore[attr-defined]
                    transport=transport_for(settings.mail, settings.mode),
                    tick_seconds=float(current_app.config.get("WORKER_TICK_SECONDS") or 5))
    if once:
        for name, outcome in worker.run_once().items():
            click.echo(f"{name}: {outcome}")
        return
    click.echo(f"Worker {worker.worker_id} running; stop with SIGTERM or Ctrl-C.")
    worker.run_forever()
    click.echo("Worker stopped.")


from .lifecycle.cli import backup_group, lifecycle_group  # noqa: E402
from .metrics.cli import metrics_group  # noqa: E402

COMMAND_GROUPS = (db_group, keys_group, audit_group, users_group, house_ban_group,
                  lifecycle_group, backup_group, people_group, metrics_group)
for _group in COMMAND_GROUPS:
    main.add_command(_group)
