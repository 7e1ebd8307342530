"""Security headers for every response, in one place and locked by tests.

References: OWASP ASVS 5.0 chapter 3 (3.4.x), SecureDrop's and GlobaLeaks' headers.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g, request
from werkzeug.wrappers import Response as BaseResponse

# Every powerful feature off: a reporting page needs none of them. Only features Chromium
# knows: an unknown name is a console warning on every page (issue 15), and protects nothing.
_FEATURES_OFF = (
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "encrypted-media",
    "fullscreen",
    "geolocation",
    "gyroscope",
    "hid",
    "idle-detection",
    "interest-cohort",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "picture-in-picture",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
)
_PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in _FEATURES_OFF)
# The staff sign-in and account pages (the auth blueprint) sign with passkeys: this origin
# only, never a frame of another. (Creating one is this origin's by default.)
_PASSKEY_PAGES_POLICY = ", ".join(
    [f"{feature}=()" for feature in _FEATURES_OFF if feature != "publickey-credentials-get"]
    + ["publickey-credentials-get=(self)"])

HSTS_VALUE = "max-age=63072000; includeSubDomains"
# A downloaded file (a reporter's evidence above all) must never run as a page of this
# origin, even if a browser ignores Content-Disposition: no script, no style, no frame.
DOWNLOAD_CSP = "sandbox; default-src 'none'"


def csp_nonce() -> str:
    """The nonce of this response, for the few inline scripts and styles a template needs."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    nonce: str = g.csp_nonce
    return nonce


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        )
    )


def as_download(response: BaseResponse, filename: str) -> BaseResponse:
    """Mark ``response`` as a file to save, never to render: attachment, nosniff and the
    sandbox policy, which :func:`apply_security_headers` then leaves in place.

    ``filename`` must already be safe for a header (see ``casework.views.safe_filename``).
    """
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOWNLOAD_CSP
    return response


def apply_security_headers(response: Response) -> Response:
    headers = response.headers
    if "Content-Security-Policy" not in headers:
        # A response that set its own policy (a download's sandbox) keeps it.
        headers["Content-Security-Policy"] = content_security_policy(csp_nonce())
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Permissions-Policy"] = (_PASSKEY_PAGES_POLICY if request.blueprint == "auth"
                                     else _PERMISSIONS_POLICY)
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Cross-Origin-Embedder-Policy"] = "require-corp"
    if request.is_secure:
        headers["Strict-Transport-Security"] = HSTS_VALUE
    if request.endpoint != "static":
        # Pages can hold case data: never in a cache, shared or local (ASVS 14.3.2).
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    else:
        headers["Cache-Control"] = "public, max-age=3600"
    return response


def init_security_headers(app: Flask) -> None:
    app.after_request(apply_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
