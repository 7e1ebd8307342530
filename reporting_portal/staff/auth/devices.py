"""Device cookies: a browser where an account signed in before keeps its own budget.

OWASP, "Slow Down Online Guessing Attacks with Device Cookies": after a successful
sign-in the browser gets a cookie holding a random nonce and an HMAC, under the secret
key, of that nonce and the account name. A later attempt for the same name that presents
it spends that device's budget; every other attempt for the name spends the budget of
"untrusted devices". A flood of wrong passwords from anywhere else locks only the
untrusted devices, and the real person's browser still signs in.

The cookie holds nothing secret about the account (the name is only inside the MAC), so
it is not a credential: without the password and the code it opens nothing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

COOKIE_NAME = "__Host-device"
_NONCE_BYTES = 16
_TAG_BYTES = 32
_MAX_COOKIE_LENGTH = 100


def _tag(secret_key: str, nonce: bytes, username: str) -> bytes:
    key = hashlib.sha256(b"rp-device-cookie\0" + secret_key.encode()).digest()
    return hmac.new(key, nonce + username.encode(), hashlib.sha256).digest()


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_device_cookie(secret_key: str, username: str) -> str:
    """A fresh cookie value for the (normalised) account name that just signed in."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    return f"{_encode(nonce)}.{_encode(_tag(secret_key, nonce, username))}"


def device_nonce(secret_key: str, cookie: str | None, username: str) -> bytes | None:
    """The device's nonce if ``cookie`` was issued for ``username``, else ``None``.

    The tag is compared in constant time. Unknown names go through the same steps.
    """
    if not cookie or len(cookie) > _MAX_COOKIE_LENGTH or cookie.count(".") != 1:
        return None
    nonce_text, tag_text = cookie.split(".")
    try:
        nonce, tag = _decode(nonce_text), _decode(tag_text)
    except (binascii.Error, ValueError):
        return None
    if len(nonce) != _NONCE_BYTES or len(tag) != _TAG_BYTES:
        return None
    if not hmac.compare_digest(tag, _tag(secret_key, nonce, username)):
        return None
    return nonce
