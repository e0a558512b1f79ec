"""Health, readiness, metrics and structured logs: no session needed, nothing about people shown."""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from mda.accounts.models import Role
from mda.db import db
from mda.monitoring.logs import JsonFormatter
from mda.people.models import PersonRole
from mda.people.operations import add_person
from tests import factories as make
from tests.conftest import build_app, personal_data_in_log

TOKEN = "metrics-token-for-the-tests-0123456789"
NAME, BSN = "Logmarkernaam Metriektest", make.BSN_B


@pytest.fixture
def monitored(migrated: str, keys: dict[str, Any], instance_dir: Path) -> Flask:
    app = build_app(migrated, keys, instance_dir, METRICS_TOKEN=TOKEN, METRICS_ALLOW="10.20.0.0/16")
    yield app
    with app.app_context():
        from tests.conftest import empty_database
        empty_database()
        db.dispose()


def scrape(app: Flask, **headers: str) -> str:
    response = app.test_client().get("/metrics", headers={"Authorization": f"Bearer {TOKEN}", **headers})
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return response.get_data(as_text=True)


def test_liveness_answers_without_session_or_cookie(client) -> None:  # noqa: ANN001
    response = client.get("/health/live")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_ready_when_database_schema_and_keys_are(client) -> None:  # noqa: ANN001
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "checks": {"database": "ok", "schema": "ok", "keys": "ok"}}


def test_not_ready_with_an_outdated_schema(app: Flask) -> None:
    with app.app_context():
        current = db.session.scalar(text("SELECT version_num FROM alembic_version"))
        db.session.execute(text("UPDATE alembic_version SET version_num = '0006'"))
        db.session.commit()
        try:
            response = app.test_client().get("/health/ready")
            assert response.status_code == 503
            body = response.get_json()
            assert body["status"] == "not ready"
            assert body["checks"] == {"database": "ok", "schema": "not at the latest migration", "keys": "ok"}
        finally:
            db.session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": current})
            db.session.commit()
        assert app.test_client().get("/health/ready").status_code == 200


def test_not_ready_on_an_unmigrated_database(keys: dict[str, Any], instance_dir: Path, tmp_path: Path) -> None:
    app = build_app(f"sqlite:///{tmp_path / 'empty.sqlite'}", keys, instance_dir)
    response = app.test_client().get("/health/ready")
    assert response.status_code == 503
    assert response.get_json()["checks"]["schema"] == "not migrated"
    assert app.test_client().get("/health/live").status_code == 200


def test_not_ready_when_the_database_does_not_answer(keys: dict[str, Any], instance_dir: Path,
                                                     tmp_path: Path) -> None:
    app = build_app(f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite'}", keys, instance_dir)
    response = app.test_client().get("/health/ready")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {"database": "unreachable", "schema": "unknown", "keys": "ok"}
    assert "no-such-folder" not in response.get_data(as_text=True)  # no exception text, no path


def test_metrics_refuse_an_unauthorised_caller(client, monitored: Flask) -> None:  # noqa: ANN001
    # Nothing configured (the default): nobody may read them.
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 403
    other = monitored.test_client()
    assert other.get("/metrics").status_code == 403                                         # 127.0.0.1
    assert other.get("/metrics", headers={"Authorization": "Bearer wrong-token-0123456789abcdef"}).status_code == 403
    assert other.get("/metrics", headers={"Authorization": TOKEN}).status_code == 403      # not a Bearer
    assert other.get("/metrics", environ_base={"REMOTE_ADDR": "10.21.0.1"}).status_code == 403
    # From a configured network, or with the token:
    assert other.get("/metrics", environ_base={"REMOTE_ADDR": "10.20.3.4"}).status_code == 200
    assert other.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_metrics_allow_list_uses_the_client_address_behind_trusted_proxies(
        migrated: str, keys: dict[str, Any], instance_dir: Path) -> None:
    forwarded = {"X-Forwarded-For": "10.20.9.9"}
    untrusting = build_app(migrated, keys, instance_dir, METRICS_ALLOW="10.20.0.0/16")
    behind_proxy = build_app(migrated, keys, instance_dir, METRICS_ALLOW="10.20.0.0/16", TRUSTED_PROXIES=1)
    try:
        # Without trusted proxies the header is anyone's to send, so it is ignored.
        assert untrusting.test_client().get("/metrics", headers=forwarded).status_code == 403
        assert behind_proxy.test_client().get("/metrics", headers=forwarded).status_code == 200
        assert behind_proxy.test_client().get("/metrics", headers={"X-Forwarded-For": "192.0.2.1"}).status_code == 403
    finally:  # a scrape reads the outbox gauges: close the connections it opened
        for built in (untrusting, behind_proxy):
            with built.app_context():
                db.dispose()


@pytest.mark.parametrize("config, message", [
    ({"TRUSTED_PROXIES": "two"}, "TRUSTED_PROXIES"), ({"TRUSTED_PROXIES": -1}, "TRUSTED_PROXIES"),
    ({"METRICS_ALLOW": "10.0.0.0/33"}, "METRICS_ALLOW"), ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN")])
def test_bad_monitoring_settings_stop_the_start(migrated: str, keys: dict[str, Any], instance_dir: Path,
                                                config: dict[str, Any], message: str) -> None:
    from mda import ConfigError
    with pytest.raises(ConfigError, match=message):
        build_app(migrated, keys, instance_dir, **config)


def test_metrics_have_route_groups_and_no_case_id_name_or_bsn(monitored: Flask) -> None:
    with monitored.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case = make.case(coordinator)
        add_person(case, role=PersonRole.UNDERGOING_VIOLENCE, by=coordinator, name=NAME, bsn=BSN)
        db.session.commit()
        case_id, account = case.id, coordinator
    client = monitored.test_client()
    make.login(client, account)
    before = _sample(scrape(monitored), "mda_audit_appends_total")
    for path in (f"/casussen/{case_id}", f"/casussen/{case_id + 999}", "/nergens"):
        client.get(path)
    page = client.get(f"/casussen/{case_id}/clientsysteem/")
    assert page.status_code == 200 and NAME in page.get_data(as_text=True)  # the data was really shown

    output = scrape(monitored)
    assert NAME not in output and "Logmarkernaam" not in output and BSN not in output
    assert f"/casussen/{case_id}" not in output
    groups = set(monitored.blueprints) | {"unmatched", "app", "static"}
    requests = 0.0
    for family in text_string_to_metric_families(output):
        for sample in family.samples:
            if not sample.name.startswith("mda_"):
                continue
            assert set(sample.labels) <= {"group", "method", "status", "le"}, sample
            assert sample.labels.get("group", "cases") in groups, sample
            assert sample.labels.get("status", "200").isdigit() and len(sample.labels.get("status", "200")) == 3
            if sample.name == "mda_http_requests_total" and sample.labels["group"] == "cases":
                requests += sample.value
    assert requests >= 2  # the case pages were counted under "cases", not under their paths
    assert 'mda_http_requests_total{group="people",method="GET",status="200"}' in output
    assert 'mda_http_request_duration_seconds_bucket{group="cases"' in output
    assert 'mda_http_requests_total{group="unmatched",method="GET",status="404"}' in output
    assert _sample(output, "mda_audit_appends_total") > before  # reading the case file was audited


def test_server_errors_are_counted_per_group(monitored: Flask) -> None:
    @monitored.route("/kapot")
    def broken() -> str:  # registered after start-up: reachable only as a public endpoint test
        raise RuntimeError("Logmarkernaam in an exception message")
    from mda import web
    web_public = web.PUBLIC_ENDPOINTS
    web.PUBLIC_ENDPOINTS = web_public | {"broken"}
    try:
        before = _sample(scrape(monitored), "mda_http_server_errors_total", group="app")
        assert monitored.test_client().get("/kapot").status_code == 500
        assert _sample(scrape(monitored), "mda_http_server_errors_total", group="app") == before + 1
    finally:
        web.PUBLIC_ENDPOINTS = web_public


def test_request_id_is_kept_if_sane_and_replaced_otherwise(client) -> None:  # noqa: ANN001
    assert client.get("/health/live", headers={"X-Request-ID": "lb-1234abcd"}).headers["X-Request-ID"] == "lb-1234abcd"
    for offered in ("short", "has spaces in it", "Logmarkernaam Metriektest", "x" * 65, "ab<script>cdefgh"):
        answered = client.get("/health/live", headers={"X-Request-ID": offered}).headers["X-Request-ID"]
        assert answered != offered and len(answered) == 32
    generated = client.get("/health/live").headers["X-Request-ID"]
    assert len(generated) == 32 and generated != client.get("/health/live").headers["X-Request-ID"]


def test_request_log_is_one_json_line_with_request_id_and_no_path(monitored: Flask,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    with monitored.app_context():
        coordinator = make.user(Role.COORDINATOR)
        case = make.case(coordinator)
        add_person(case, role=PersonRole.UNDERGOING_VIOLENCE, by=coordinator, name=NAME, bsn=BSN)
        db.session.commit()
        case_id, account = case.id, coordinator
    client = monitored.test_client()
    make.login(client, account)
    caplog.set_level(logging.INFO, logger="mda")
    response = client.get(f"/casussen/{case_id}/clientsysteem/?zoek={NAME}", headers={"X-Request-ID": "req-abcdef12"})
    assert response.status_code == 200 and NAME in response.get_data(as_text=True)
    lines = [JsonFormatter().format(record) for record in caplog.records if record.getMessage() == "request"]
    assert lines, "every request is logged"
    entry = json.loads(lines[-1])
    assert entry["request_id"] == "req-abcdef12" and entry["group"] == "people" and entry["method"] == "GET"
    assert entry["endpoint"] == "people.index" and entry["status"] == 200
    # Only these fields: no path, no query, no case id, no account.
    assert set(entry) == {"time", "level", "logger", "message", "request_id", "method", "endpoint", "group",
                          "status", "duration_ms"}
    assert "/casussen" not in "\n".join(lines) and "zoek" not in "\n".join(lines)
    assert not personal_data_in_log("\n".join(lines))


def test_formatter_never_writes_an_exception_message() -> None:
    try:
        raise ValueError(f"{NAME} {BSN}")
    except ValueError:
        import sys
        record = logging.LogRecord("mda", logging.ERROR, __file__, 1, "unhandled %s", ("ValueError",), sys.exc_info())
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["message"] == "unhandled ValueError" and entry["exception"]["type"] == "ValueError"
    assert personal_data_in_log(line) == [] and NAME not in line


def test_scan_finds_personal_data() -> None:
    assert personal_data_in_log(f'{{"message": "{NAME}"}}')
    assert personal_data_in_log('{"message": "bsn 999990032"}')
    assert personal_data_in_log('{"message": "nummer 123456782"}')       # passes the eleven-test
    assert not personal_data_in_log('{"message": "nummer 123456789"}')   # does not
    assert not personal_data_in_log('{"request_id": "a123456782b", "duration_ms": 12.5}')


def _sample(output: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(output):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def test_metrics_report_the_outbox_backlog_and_failures_as_bare_numbers(monitored: Flask) -> None:
    from mda.notifications.models import OutboxMessage, OutboxStatus
    with monitored.app_context():
        assert _sample(scrape(monitored), "mda_outbox_backlog") == 0
        assert _sample(scrape(monitored), "mda_outbox_failed") == 0
        recipient = make.user(Role.COORDINATOR)
        statuses = [OutboxStatus.PENDING] * 3 + [OutboxStatus.SENDING, OutboxStatus.SENT, OutboxStatus.SENT,
                                                  OutboxStatus.FAILED, OutboxStatus.NO_ADDRESS]
        for n, status in enumerate(statuses):
            db.session.add(OutboxMessage(recipient_id=recipient.id, subject=f"Melding {NAME}", body=f"Over {NAME}",
                                         message_id=f"<outbox-metric-{n}@mda.test>", status=status))
        db.session.commit()
        recipient_id = recipient.id
    output = scrape(monitored)
    assert _sample(output, "mda_outbox_backlog") == 4     # waiting and being sent; not the sent ones
    assert _sample(output, "mda_outbox_failed") == 2      # given up on and without an address
    families = {family.name: family for family in text_string_to_metric_families(output)}
    for name in ("mda_outbox_backlog", "mda_outbox_failed"):
        assert families[name].type == "gauge"
        assert [sample.labels for sample in families[name].samples] == [{}]  # no ids, no labels at all
    assert NAME not in output and "outbox-metric" not in output and "mda.test" not in output
    assert f'"{recipient_id}"' not in output


def test_the_server_leaves_one_handler_for_an_app_made_before_it(capsys) -> None:  # noqa: ANN001
    """The demo creates an app (its worker thread) before gunicorn configures logging in the same
    process: once gunicorn has given the root logger its JSON handler, each line is written once."""
    from logging.config import dictConfig

    from mda.monitoring.logs import configure_logging
    from mda.server import ServerSettings, _log_each_line_once, gunicorn_options
    app_logger, root = logging.getLogger("mda"), logging.getLogger()
    saved = (list(app_logger.handlers), list(root.handlers), root.level)
    try:
        configure_logging()  # as create_app does, with no JSON handler on the root yet
        options = gunicorn_options(ServerSettings())
        dictConfig(options["logconfig_dict"])  # as gunicorn does at its start
        assert options["on_starting"] is _log_each_line_once
        _log_each_line_once(None)
        capsys.readouterr()
        logging.getLogger("mda.worker.runner").warning("job done")
        lines = [line for line in capsys.readouterr().err.splitlines() if "job done" in line]
        assert len(lines) == 1 and json.loads(lines[0])["logger"] == "mda.worker.runner"
    finally:
        app_logger.handlers[:], root.handlers[:] = saved[0], saved[1]
        root.setLevel(saved[2])


def test_metrics_say_which_scheduled_job_is_failing_and_when_each_last_finished(monitored: Flask) -> None:
    """The worker runs in its own process: what it last did reaches /metrics through its lease rows.
    Only the names of the code's own jobs become labels."""
    from datetime import timedelta

    from mda.timeutil import utcnow
    from mda.worker.jobs import Job
    from mda.worker.runner import Worker

    def broken(context: object) -> str:
        raise RuntimeError(f"kapot bij {NAME}")  # the text never leaves the worker

    start = utcnow()
    failing = Worker(monitored, jobs=(Job("audit_checkpoint", broken, every=timedelta(seconds=1)),
                                      Job("not_a_job_of_the_code", broken, every=timedelta(seconds=1))),
                     worker_id="w")
    assert failing.run_once(now=start)["audit_checkpoint"] == "fout: RuntimeError"
    output = scrape(monitored)
    assert _sample(output, "mda_worker_job_failing", job="audit_checkpoint") == 1
    finished = _sample(output, "mda_worker_job_last_finished_timestamp_seconds", job="audit_checkpoint")
    assert abs(finished - utcnow().timestamp()) < 60
    assert "not_a_job_of_the_code" not in output and NAME not in output and "kapot" not in output
    families = {family.name: family for family in text_string_to_metric_families(output)}
    assert families["mda_worker_job_failing"].type == "gauge"
    assert {tuple(sample.labels) for sample in families["mda_worker_job_failing"].samples} == {("job",)}

    # Retried after the pause that follows a failure, and fine again: no longer failing.
    fine = Worker(monitored, jobs=(Job("audit_checkpoint", lambda context: "ok", every=timedelta(seconds=1)),),
                  worker_id="w")
    assert fine.run_once(now=start + timedelta(minutes=6)) == {"audit_checkpoint": "ok"}
    assert _sample(scrape(monitored), "mda_worker_job_failing", job="audit_checkpoint") == 0
