"""What a page needs for a passkey ceremony: the options, and the challenge kept for the post.

Each page view makes a fresh challenge, kept in the sealed server-side session under its
purpose ("sign_in", "register", "unlock") and spent by the next post, right or wrong.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from flask import session

from reporting_portal.staff.auth.forms import PasskeySignInForm
from reporting_portal.staff.auth.passkeys import prf_input_b64url, sign_in_challenge
from reporting_portal.web.extensions import get_settings
from reporting_portal.web.security.sri import static_integrity

SCRIPT = "js/passkeys.bundle.js"
_CHALLENGES = "passkey_challenges"
# After a passkey that could not unlock the key: which passkey, and its PRF output (to
# make the copy once the password has unlocked the key). Sealed in the session.
UNLOCK_PENDING = "passkey_unlock_pending"


def encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def keep_challenge(purpose: str, challenge: bytes) -> None:
    challenges = dict(session.get(_CHALLENGES) or {})
    challenges[purpose] = encode(challenge)
    session[_CHALLENGES] = challenges


def spend_challenge(purpose: str) -> bytes | None:
    """The challenge last given for ``purpose``, forgotten as it is read."""
    challenges = dict(session.get(_CHALLENGES) or {})
    value = challenges.pop(purpose, None)
    session[_CHALLENGES] = challenges
    return base64.b64decode(value) if isinstance(value, str) else None


def script_context() -> dict[str, Any]:
    """The script (with its integrity) and the PRF input every passkey page carries."""
    return {"passkey_script_path": SCRIPT, "passkey_script_integrity": static_integrity(SCRIPT),
            "prf_input": prf_input_b64url()}


def sign_in_passkey_context() -> dict[str, Any]:
    """What the sign-in page needs for its passkey button (a fresh challenge)."""
    challenge = sign_in_challenge(get_settings())
    keep_challenge("sign_in", challenge.challenge)
    return {"passkey_form": PasskeySignInForm(formdata=None),
            "passkey_options": json.loads(challenge.options_json), **script_context()}
