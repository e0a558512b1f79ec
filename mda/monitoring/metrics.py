"""Prometheus metrics (prometheus-client): requests, latencies and errors per route group, audit
appends, and gauges computed when scraped (the e-mail outbox backlog, see ``scrape_gauge``).

Labels are bounded and carry nothing about people or cases: the route group is the blueprint's
name (``cases``, ``auth``, ...), never a path, so a case id cannot end up in a label.

Under gunicorn (``mda serve``) every worker counts in its own files under
``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode, set up by ``mda.server``
before any worker starts) and a scrape adds up all workers. Without that variable (tests, one
process) the default in-process registry is used.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
import time
from typing import Any, Callable

from flask import Flask, Request, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client import CONTENT_TYPE_LATEST, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from ..audit.trail import APPENDED_KEY  # set by mda.audit.trail._append, counted here at commit
from ..config import ConfigError

disable_created_metrics()  # the *_created series only double the output

REQUESTS = Counter("mda_http_requests_total", "HTTP requests answered, per route group, method and status.",
                   ["group", "method", "status"])
LATENCY = Histogram("mda_http_request_duration_seconds", "Time to answer a request, per route group.",
                    ["group"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
ERRORS = Counter("mda_http_server_errors_total", "Requests answered with a 5xx status, per route group.",
                 ["group"])
AUDIT_APPENDS = Counter("mda_audit_appends_total", "Audit records appended to the chain and committed.")



def route_group(req: Request) -> str:
    """The blueprint of the matched route: a small fixed set, never a path or an id."""
    if req.url_rule is None:
        return "unmatched"
    if req.blueprint:
        return req.blueprint.split(".", 1)[0]
    return "static" if req.endpoint == "static" else "app"


# --- gauges computed at scrape time ----------------------------------------------------------------
# To add one: scrape_gauge(name, documentation, compute) where compute(session) -> int|float runs one
# query in the scraping worker's session. A number without labels: nothing about people or cases.
# With ``label``, compute returns a number per value of that one label, which must come from a small
# fixed set the code defines (a job's name), never from data.
# ``init_app`` registers the e-mail outbox's (issue 17) and the scheduled jobs' gauges.
_SCRAPE_GAUGES: dict[str, tuple[str, Callable[[Session], Any], str | None]] = {}


def scrape_gauge(name: str, documentation: str, compute: Callable[[Session], Any], label: str | None = None) -> None:
    _SCRAPE_GAUGES[name] = (documentation, compute, label)


class _ScrapeGauges:
    def __init__(self, session: Session):
        self.session = session

    def collect(self):  # noqa: ANN201
        for name, (documentation, compute, label) in sorted(_SCRAPE_GAUGES.items()):
            if label is None:
                family = GaugeMetricFamily(name, documentation)
                family.add_metric([], float(compute(self.session)))
            else:
                family = GaugeMetricFamily(name, documentation, labels=[label])
                for value, number in sorted(compute(self.session).items()):
                    family.add_metric([value], float(number))
            yield family


def exposition(session: Session) -> tuple[bytes, str]:
    """The text format of every metric (of all workers in multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        for collector in (REQUESTS, LATENCY, ERRORS, AUDIT_APPENDS):
            registry.register(collector)
    registry.register(_ScrapeGauges(session))
    return generate_latest(registry), CONTENT_TYPE_LATEST


# --- who may read them ---------------------------------------------------------------------------

def parse_networks(value: object) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """``METRICS_ALLOW``: comma-separated addresses or CIDR networks, e.g. "127.0.0.1,10.1.0.0/16"."""
    if value in (None, ""):
        return ()
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    try:
        return tuple(ipaddress.ip_network(str(item).strip(), strict=False) for item in items if str(item).strip())
    except ValueError as exc:
        raise ConfigError(f"METRICS_ALLOW (MDA_METRICS_ALLOW) must list addresses or CIDR networks: {exc}") from exc


def caller_allowed(req: Request, networks: tuple, token: str | None) -> bool:
    """A configured address (after ProxyFix, so the real client) or the bearer token."""
    offered = req.headers.get("Authorization", "")
    if token and offered.startswith("Bearer "):
        if hmac.compare_digest(offered.removeprefix("Bearer ").strip().encode(), token.encode()):
            return True
    if networks and req.remote_addr:
        try:
            address = ipaddress.ip_address(req.remote_addr)
        except ValueError:
            return False
        return any(address in network for network in networks)
    return False


# --- hooks -----------------------------------------------------------------------------------------

@sa_event.listens_for(Session, "after_commit")
def _count_committed_appends(session: Session) -> None:
    appended = session.info.pop(APPENDED_KEY, 0)
    if appended:
        AUDIT_APPENDS.inc(appended)


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_appends(session: Session, previous_transaction: object) -> None:
    if not getattr(previous_transaction, "nested", False):
        session.info.pop(APPENDED_KEY, None)


def register_outbox_gauges() -> None:
    from ..notifications.queries import outbox_backlog, outbox_failed
    scrape_gauge("mda_outbox_backlog", "E-mail messages waiting in the outbox (to send, being sent or to retry).",
                 outbox_backlog)
    scrape_gauge("mda_outbox_failed", "E-mail messages given up on or without an address, waiting for the "
                 "functional administrator.", outbox_failed)


def register_job_gauges() -> None:
    """What the scheduled worker last did, per job, from the lease table (the worker runs in its own
    process, so its counters would never reach this endpoint): a monitoring system can alert on a job
    that keeps failing, or that stopped running, instead of someone reading the worker's log."""
    from ..worker.queries import job_states
    scrape_gauge("mda_worker_job_failing", "1 when the job's last run failed (it is retried after a while), "
                 "else 0.", lambda session: {state.name: int(state.failing) for state in job_states(session)},
                 label="job")
    scrape_gauge("mda_worker_job_last_finished_timestamp_seconds", "When the job last finished (succeeded or "
                 "failed), as Unix time; no sample for a job that never ran.",
                 lambda session: {state.name: state.last_finished_at.timestamp() for state in job_states(session)
                                  if state.last_finished_at is not None}, label="job")


def init_app(app: Flask) -> None:
    register_outbox_gauges()
    register_job_gauges()
    token = app.config.get("METRICS_TOKEN")
    token = str(token) if token not in (None, "") else None
    if token is not None and len(token) < 24:
        raise ConfigError("METRICS_TOKEN (MDA_METRICS_TOKEN) must be at least 24 characters.")
    app.extensions["mda.metrics_access"] = (parse_networks(app.config.get("METRICS_ALLOW")), token)

    @app.before_request
    def _start_clock() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response):  # noqa: ANN001, ANN202
        started = g.pop("metrics_started", None)
        if started is not None:
            this_request = request._get_current_object()  # not the proxy on each read (mda.web)
            group = route_group(this_request)
            elapsed = time.perf_counter() - started
            method = this_request.method
            REQUESTS.labels(group, method if method in _METHODS else "other", str(response.status_code)).inc()
            LATENCY.labels(group).observe(elapsed)
            if response.status_code >= 500:
                ERRORS.labels(group).inc()
            app.logger.info("request", extra={"method": method, "endpoint": this_request.endpoint,
                                              "group": group, "status": response.status_code,
                                              "duration_ms": round(elapsed * 1000, 2)})
        return response


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
