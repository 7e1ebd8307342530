"""A message form from the mailbox, read from the stream on either path.

Without JavaScript the text fields and files arrive in the clear (over TLS) and the
server encrypts them; with it, the page's script sends one age file of the answers
("content") and one per file, and no text field the form has. A reply and a
retaliation report differ only in their fields.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from reporting_portal.reporter.intake.request_body import read_upload
from reporting_portal.web.uploads import StoredUpload, UploadError


@dataclass(frozen=True)
class SentMessage:
    fields: MultiDict[str, str]
    files: list[StoredUpload]
    # The browser's encrypted answers; None on the server path.
    content: StoredUpload | None


def read_message_form(text_fields: list[str], typed: MultiDict[str, str]) -> SentMessage:
    """Parse the body (its files go straight into the blob store, encrypted).

    ``text_fields`` are the form's answers, named ``q_<field>``; ``typed`` receives the
    text fields as they arrive, so a refusal can show them again. Raises UploadError
    when the parts do not match either path."""
    parsed = read_upload({"attachments"}, typed)
    fields = parsed.fields
    age_parts = [u for u in parsed.uploads if u.header is not None]
    if fields.get("mode") == "encrypted":
        contents = [u for u in age_parts if u.field_name == "content"]
        if len(contents) != 1 or any(f"q_{name}" in fields for name in text_fields):
            raise UploadError(_("The encrypted message was incomplete. Please try again."))
        return SentMessage(fields=fields, content=contents[0],
                           files=[u for u in age_parts if u.field_name == "file"])
    if age_parts:
        raise UploadError(_("The form was not sent as expected. Reload it."))
    return SentMessage(fields=fields, files=list(parsed.uploads), content=None)
