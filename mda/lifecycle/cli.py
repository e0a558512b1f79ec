"""``mda lifecycle purge`` (retention) and ``mda backup create|restore|generate-key``."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask.cli import AppGroup


@click.group("lifecycle", cls=AppGroup)
def lifecycle_group() -> None:
    """Retention: remove personal data whose term has passed."""


@lifecycle_group.command("purge")
@click.option("--dry-run", is_flag=True, help="Only list what would go (case reference and count).")
def lifecycle_purge(dry_run: bool) -> None:
    """Anonymise expired files (run daily from cron or a systemd timer). Every run is audited."""
    from ..db import db
    from ..errors import DomainError
    from .retention import purge, release_old_pages
    try:
        plan = purge(dry_run=dry_run)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    release_old_pages()
    verb = "would be anonymised" if dry_run else "anonymised"
    for item in plan.cases + plan.referrals:
        click.echo(f"  {item.label}: {item.records} records")
    click.echo(f"{len(plan.cases)} cases and {len(plan.referrals)} referrals ({plan.records} records) {verb}.")
    if plan.audit_records_past_term:
        click.echo(f"{plan.audit_records_past_term} audit records are older than {plan.policy.audit_years} years; "
                   "they are kept, because the hash chain cannot be shortened without breaking verification.")


@click.group("backup", cls=AppGroup)
def backup_group() -> None:
    """Encrypted backups of the database, and restoring them."""


@backup_group.command("generate-key", with_appcontext=False)
@click.option("--path", type=click.Path(path_type=Path), required=True,
              help="Key file to create; keep it on other media than the backups.")
def backup_generate_key(path: Path) -> None:
    """Create a backup key file (base64 of 32 random bytes, mode 600)."""
    from .backup import generate_backup_key
    if path.exists():
        raise click.ClickException(f"{path} already exists; it is never overwritten.")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(generate_backup_key() + "\n")
    click.echo(f"Backup key written to {path}. Set MDA_BACKUP_KEY_FILE={path}; never store it beside the backups.")


@backup_group.command("create")
@click.argument("output", type=click.Path(path_type=Path))
def backup_create(output: Path) -> None:
    """Write an encrypted, consistent backup of the running database to OUTPUT."""
    from flask import current_app

    from ..audit.models import AuditAction
    from ..audit.trail import record
    from ..db import db
    from .backup import BackupError, create_backup
    # Audited first and committed, so the backup itself contains the record that it was made.
    record(AuditAction.EXPORT, username="(systeem)", object_type="backup", detail="versleutelde back-up")
    db.session.commit()
    try:
        create_backup(current_app.extensions["mda.settings"].database_url, output)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Encrypted backup written to {output}.")


@backup_group.command("restore")
@click.argument("backup", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--target-url", required=True, help="An EMPTY database to restore into (SQLAlchemy URL).")
def backup_restore(backup: Path, target_url: str) -> None:
    """Restore BACKUP into an empty database; needs the backup key (and the key file to read it)."""
    from .backup import BackupError, restore_backup
    try:
        restore_backup(backup, target_url)
    except BackupError as exc:
        click.echo(f"Restore failed: {exc}", err=True)
        sys.exit(1)
    click.echo("Backup restored. Start the app on it with the same key file; run `mda audit verify`.")
