"""Per-address rate limiting of login attempts (Flask-Limiter).

The storage must be shared by all workers in production (e.g. Redis): an
in-memory store would count per process.
"""
from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

LOGIN_LIMIT = "10 per minute;100 per hour"

limiter = Limiter(get_remote_address, default_limits=[], headers_enabled=False)
