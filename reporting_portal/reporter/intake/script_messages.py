"""The words web/src/report.js shows, in the reader's language (issue 14).

The script keeps English defaults (DEFAULT_MESSAGES at its top) and takes these from the
``messages`` object of #report-recipients; the keys here are exactly its keys
(tests/reporter/intake/test_script_messages.py holds the two together).
"""

from __future__ import annotations

from flask_babel import gettext as _


def report_script_messages() -> dict[str, str]:
    """Every string report.js shows, translated for this request."""
    # Translators: "{percent}", "{megabytes}" and "{files}" are filled in by the browser;
    # keep them as they are.
    return {
        "encrypting": _("Encrypting… {percent}%"),
        "uploading": _("Uploading… {percent}%"),
        "uploadingUnknown": _("Uploading…"),
        "waiting": _("Sent. Waiting for the confirmation…"),
        "sendFailed": _("Sending failed. Nothing was stored. Please try again."),
        "tooLarge": _("The files are too large: up to {megabytes} MB in all. Nothing was sent."),
        "tooManyFiles": _("Too many files: at most {files}. Nothing was sent."),
        "encryptFailed": _(
            "Your report could not be encrypted in this browser, so nothing was sent. "
            "If you attached files, check that they are still available, then try again."),
    }
