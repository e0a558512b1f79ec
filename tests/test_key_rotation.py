"""Keys rotate: old data stays readable, rotation re-encrypts it, the old key can go."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from mda.accounts.models import Role
from mda.cli import main
from mda.db import db
from mda.people.models import Person, PersonRole
from mda.people.operations import add_person, find_by_bsn
from mda.security.rotation import key_usage, rotate_all
from tests import factories as make
from tests.conftest import build_app, new_key


def test_rotation_then_retiring_the_old_key_loses_nothing(migrated: str, keys: dict[str, Any],
                                                          instance_dir: Path) -> None:
    key_1, key_2 = keys["FIELD_KEYS"]["1"], new_key()
    shared = {"BLIND_INDEX_KEY": keys["BLIND_INDEX_KEY"], "AUDIT_KEY": keys["AUDIT_KEY"]}

    only_key_1 = build_app(migrated, {**shared, "FIELD_KEYS": {"1": key_1}, "CURRENT_FIELD_KEY_ID": 1}, instance_dir)
    with only_key_1.app_context():
        coordinator = make.user(Role.COORDINATOR)
        person = add_person(make.case(coordinator), role=PersonRole.CHILD, by=coordinator,
                            name="Kim Sleutel", bsn=make.BSN_B, notes="Oude sleutel")
        db.session.commit()
        person_id = person.id
        db.dispose()

    both_keys = build_app(migrated, {**shared, "FIELD_KEYS": {"1": key_1, "2": key_2}, "CURRENT_FIELD_KEY_ID": 2},
                          instance_dir)
    with both_keys.app_context():
        assert db.session.get(Person, person_id).name == "Kim Sleutel"
        assert key_usage(db.session)[1] > 0
        changed = rotate_all(db.session, batch_size=2)
        assert changed["persons"] >= 1
        assert set(key_usage(db.session)) == {2}
        db.dispose()

    only_key_2 = build_app(migrated, {**shared, "FIELD_KEYS": {"2": key_2}, "CURRENT_FIELD_KEY_ID": 2}, instance_dir)
    with only_key_2.app_context():
        again = db.session.get(Person, person_id)
        assert (again.name, again.bsn, again.notes) == ("Kim Sleutel", make.BSN_B, "Oude sleutel")
        assert [p.id for p in find_by_bsn(make.BSN_B)] == [person_id]
        db.dispose()


def test_cli_refuses_to_retire_a_key_still_in_use(app, tmp_path: Path, keys: dict[str, Any]) -> None:
    with app.app_context():
        coordinator = make.user(Role.COORDINATOR)
        add_person(make.case(coordinator), role=PersonRole.CHILD, by=coordinator, name="Kim")
        db.session.commit()
    key_2 = new_key()
    two_keys = {**keys, "FIELD_KEYS": {**keys["FIELD_KEYS"], "2": key_2}, "CURRENT_FIELD_KEY_ID": 2}
    rotating = build_app(app.extensions["mda.settings"].database_url, two_keys, Path(app.instance_path))
    key_file = tmp_path / "keys.json"
    key_file.write_text('{"field_keys": {"1": "%s", "2": "%s"}}' % (keys["FIELD_KEYS"]["1"], key_2))
    runner = rotating.test_cli_runner()
    refused = runner.invoke(args=["keys", "retire", "1", "--path", str(key_file)])
    assert refused.exit_code != 0 and "still use key 1" in refused.output
    rotated = runner.invoke(args=["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    retired = runner.invoke(args=["keys", "retire", "1", "--path", str(key_file)])
    assert retired.exit_code == 0, retired.output
    assert '"1"' not in key_file.read_text()
    with rotating.app_context():
        db.dispose()


def test_keys_generate_writes_private_file_and_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    runner = CliRunner()
    assert runner.invoke(main, ["keys", "generate", "--path", str(path)]).exit_code == 0
    assert path.stat().st_mode & 0o777 == 0o600
    body = path.read_text()
    second = runner.invoke(main, ["keys", "generate", "--path", str(path)])
    assert second.exit_code != 0 and path.read_text() == body
