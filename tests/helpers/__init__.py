"""Code the tests share, by topic; fixtures live in the ``conftest.py`` files.

A test module imports from here (or a topic module below) and never from another test
module (STYLE.md 16a; ``tests/test_test_layout.py`` keeps it so):

- ``client``: the HTTPS test client and the hidden fields of a page's forms;
- ``clock``: a clock only the test moves;
- ``staff``: staff members and signing them in;
- ``custody``: identity access requests;
- ``audit``: the access log's held events;
- ``operations``: backups and restores;
- ``reporting``: the report form, multipart bodies, reading what a report stored;
- ``browser``: Playwright steps of the browser tests;
- ``authenticator``: a software WebAuthn authenticator, and the passkey pages' forms;
- ``interop``: the independent age implementation in JavaScript;
- ``proofs``: proofs of receipt, changed in each way that must fail, and ``python -m crypto``.

The names below were ``tests/helpers.py`` before it became a package.
"""

from tests.helpers.audit import release_held_events_now
from tests.helpers.client import (
    BASE_URL,
    HttpsClient,
    csrf_token,
    hidden_fields,
    https_client,
    submission_token,
)
from tests.helpers.clock import StoppedClock
from tests.helpers.staff import STRONG_PASSWORD, StaffMember, first_sign_in

__all__ = [
    "BASE_URL",
    "STRONG_PASSWORD",
    "HttpsClient",
    "StaffMember",
    "StoppedClock",
    "csrf_token",
    "first_sign_in",
    "hidden_fields",
    "https_client",
    "release_held_events_now",
    "submission_token",
]
