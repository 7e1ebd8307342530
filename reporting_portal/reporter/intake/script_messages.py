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
        **_metadata_messages(),
    }


def _metadata_messages() -> dict[str, str]:
    """What a chosen file reveals, said before it is cleaned in the browser (issue 18)."""
    # Translators: "{name}" is a file's name and "{details}" a list of the phrases below
    # ("a GPS position, the camera and an author's name"); keep both as they are.
    return {
        "metadataChecking": _("Checking {name} for hidden details…"),
        "metadataFound": _(
            "{name} reveals {details}. This will be removed before the file is encrypted "
            "and sent."),
        "metadataNone": _("{name}: no hidden details found."),
        "metadataKeep": _("Keep the hidden details of {name} (send it as it is)"),
        "metadataUnknownFormat": _(
            "{name}: this kind of file cannot be cleaned here, so it will be sent as it is. "
            "Remove hidden details yourself first if you can."),
        "metadataEncrypted": _(
            "{name} is protected with a password, so its hidden details cannot be removed "
            "here. It will be sent as it is."),
        "metadataTooLarge": _(
            "{name} is too large to clean here (over {megabytes} MB), so it will be sent as "
            "it is."),
        "metadataDamaged": _("{name} could not be read to clean it, so it will be sent as it is."),
        "detailGps": _("a GPS position"),
        "detailCamera": _("the camera"),
        "detailAuthor": _("an author's name"),
        "detailOrganisation": _("an organisation"),
        "detailSoftware": _("the software used"),
        "detailTimes": _("when it was made or edited"),
        "detailComments": _("comments"),
        "detailTrackedChanges": _("tracked changes and who made them"),
        "detailOther": _("other metadata"),
    }
