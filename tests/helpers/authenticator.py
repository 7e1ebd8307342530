"""A software WebAuthn authenticator, and the passkey pages' forms as a browser posts them.

:class:`SoftAuthenticator` makes what a platform authenticator does (an ES256 key pair,
"none" attestation, assertions with a signature counter, the PRF extension as
HMAC-SHA-256 of a secret of its own), so the server's checks are tested without a
browser: each field can be made wrong on purpose (the origin, the relying party, user
verification, the counter). The browser tests use Chromium's virtual authenticator.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from flask.testing import FlaskClient

from crypto.prf import PRF_INPUT

ORIGIN = "https://localhost"  # the test client's (tests/helpers/client.py)
RP_ID = "localhost"
_UP, _UV, _AT = 0x01, 0x04, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftAuthenticator:
    """One credential on one authenticator. Change a field to make a wrong answer."""

    origin: str = ORIGIN
    rp_id: str = RP_ID
    user_verified: bool = True
    prf: bool = True
    sign_count: int = 0
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    prf_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    user_handle: bytes = b""

    def prf_output(self, salt: bytes = PRF_INPUT) -> bytes:
        # WebAuthn hashes the input with a context before the authenticator's hmac-secret.
        return hmac.new(self.prf_secret, hashlib.sha256(b"WebAuthn PRF\x00" + salt).digest(),
                        hashlib.sha256).digest()

    def _flags(self, extra: int = 0) -> int:
        return _UP | (_UV if self.user_verified else 0) | extra

    def _client_data(self, kind: str, options: dict[str, Any]) -> bytes:
        return json.dumps({"type": kind, "challenge": options["challenge"],
                           "origin": self.origin, "crossOrigin": False}).encode()

    def register(self, options: dict[str, Any]) -> str:
        """The browser's JSON for navigator.credentials.create() with ``options``."""
        self.user_handle = from_b64url(options["user"]["id"])
        numbers = self.key.public_key().public_numbers()
        cose_key = {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                    -3: numbers.y.to_bytes(32, "big")}
        auth_data = (hashlib.sha256(self.rp_id.encode()).digest()
                     + bytes([self._flags(_AT)]) + struct.pack(">I", self.sign_count)
                     + bytes(16) + struct.pack(">H", len(self.credential_id))
                     + self.credential_id + cbor2.dumps(cose_key))
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps({
            "id": b64url(self.credential_id), "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {"clientDataJSON": b64url(self._client_data("webauthn.create", options)),
                         "attestationObject": b64url(attestation), "transports": ["internal"]},
            "clientExtensionResults": {},
        })

    def assertion(self, options: dict[str, Any], *, count_up: bool = True) -> str:
        """The browser's JSON for navigator.credentials.get() with ``options`` and the
        PRF input the pages ask for."""
        if count_up:
            self.sign_count += 1
        auth_data = (hashlib.sha256(self.rp_id.encode()).digest() + bytes([self._flags()])
                     + struct.pack(">I", self.sign_count))
        client_data = self._client_data("webauthn.get", options)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        extensions = ({"prf": {"results": {"first": b64url(self.prf_output())}}}
                      if self.prf else {})
        return json.dumps({
            "id": b64url(self.credential_id), "rawId": b64url(self.credential_id),
            "type": "public-key",
            "response": {"clientDataJSON": b64url(client_data),
                         "authenticatorData": b64url(auth_data),
                         "signature": b64url(signature),
                         "userHandle": b64url(self.user_handle)},
            "clientExtensionResults": extensions,
        })


@dataclass
class PasskeyPage:
    """A passkey page as the browser got it: its CSRF token and its WebAuthn options."""

    csrf_token: str
    options: dict[str, dict[str, Any]]


def passkey_page(client: FlaskClient, path: str) -> PasskeyPage:
    text = client.get(path).get_data(as_text=True)
    token = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', text)
    assert token, f"no CSRF token on {path}"
    options = {name: json.loads(html.unescape(body)) for name, body in re.findall(
        r'<script type="application/json" id="passkey-([a-z-]+)-options"[^>]*>(.*?)</script>',
        text, flags=re.DOTALL)}
    return PasskeyPage(token.group(1), options)


def add_passkey(client: FlaskClient, authenticator: SoftAuthenticator, name: str = "Laptop",
                *, path: str = "/staff/account/passkeys", with_unlock: bool = True) -> Any:
    """Register ``authenticator`` from the page at ``path``, as passkeys.js does: the
    attestation, then (with PRF) an assertion for the new passkey."""
    page = passkey_page(client, path)
    credential = authenticator.register(page.options["registration"])
    unlock = (authenticator.assertion(page.options["unlock"])
              if with_unlock and authenticator.prf else "")
    return client.post(path, data={"csrf_token": page.csrf_token, "name": name,
                                   "credential": credential, "unlock": unlock})


def passkey_sign_in(client: FlaskClient, authenticator: SoftAuthenticator,
                    **assertion: Any) -> Any:
    page = passkey_page(client, "/staff/sign-in")
    return client.post("/staff/sign-in/passkey", data={
        "csrf_token": page.csrf_token,
        "credential": authenticator.assertion(page.options["sign-in"], **assertion)})
