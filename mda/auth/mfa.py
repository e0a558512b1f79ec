"""TOTP second factor (pyotp): enrolment with a QR code, replay-proof verification."""
from __future__ import annotations

import hmac
import re
from datetime import timedelta

import pyotp
import segno

from ..accounts.models import User
from ..timeutil import utcnow

ISSUER = "MDA++ Noord- en Midden-Limburg"
DRIFT_STEPS = 1  # at most one 30-second step either way (ASVS 6.5.5)


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, username: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_code_svg(uri: str) -> str:
    """An inline SVG: no image request, nothing leaves the app (the secret is in the URI)."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#12324f", title="QR-code voor de authenticator-app")


def grouped(secret: str) -> str:
    return " ".join(re.findall(".{1,4}", secret))


def accept_code(user: User, code: str) -> bool:
    """True for a valid code from a time step later than the last accepted one.

    pyotp's own ``verify`` accepts a replayed code, so the step is tracked here.
    """
    secret = user.totp_secret
    code = re.sub(r"\s", "", code or "")
    if not secret or not re.fullmatch(r"\d{6}", code):
        return False
    totp = pyotp.TOTP(secret)
    now = utcnow()
    current_step = totp.timecode(now)
    for step in range(current_step - DRIFT_STEPS, current_step + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False  # replay of a code that was already used
            user.totp_last_step = step
            return True
    return False


def code_for(secret: str, offset_steps: int = 0) -> str:
    """The code an authenticator app would show now (for tests and the demo check)."""
    return pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30 * offset_steps))
