"""Time-based one-time passwords (RFC 6238) for the second factor of every staff account.

30-second steps (ASVS 6.5.5), 160-bit secrets (NIST: >= 112), one step of clock drift
either way, and each code accepted once: the step of the last accepted code is stored and
a code from that step or an earlier one is refused (ASVS 6.5.1).
"""

from __future__ import annotations

import hmac
import time

import pyotp
import segno
from flask_babel import gettext as _

STEP_SECONDS = 30
_DIGITS = 6
_DRIFT_STEPS = 1


def new_totp_secret() -> str:
    """A fresh base32 secret of 160 bits from the OS CSPRNG."""
    secret: str = pyotp.random_base32(length=32)
    return secret


def secret_for_reading(secret: str) -> str:
    """The secret in groups of four, as a person copies it by hand ("ABCD EFGH ...");
    authenticator apps ignore the spaces."""
    return " ".join(secret[start:start + 4] for start in range(0, len(secret), 4))


def provisioning_uri(secret: str, *, account_name: str, issuer: str) -> str:
    uri: str = pyotp.TOTP(secret, digits=_DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account_name, issuer_name=issuer
    )
    return uri


def qr_code_svg(uri: str) -> str:
    """The enrolment QR code as inline SVG, drawn on the server: no script, no request."""
    svg: str = segno.make(uri, error="m").svg_inline(
        omitsize=True, dark="#111", light="#fff", title=_("QR code")
    )
    return svg


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def verify_code(
    secret: str, code: str, *, last_used_step: int | None, now: float | None = None
) -> int | None:
    """The time step the code belongs to, or ``None`` if it is wrong or already used."""
    code = "".join(code.split())
    if len(code) != _DIGITS or not code.isascii() or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=_DIGITS, interval=STEP_SECONDS)
    step_now = current_step(now)
    matched: int | None = None
    # Compare against every candidate step, so timing does not tell which one matched.
    for step in range(step_now - _DRIFT_STEPS, step_now + _DRIFT_STEPS + 1):
        expected: str = totp.at(step * STEP_SECONDS)
        if hmac.compare_digest(expected, code):
            matched = step
    if matched is None or (last_used_step is not None and matched <= last_used_step):
        return None
    return matched
