"""Taking in a report: recipients, encryption, the receipt code.

A report's content and files are encrypted to the channel's case handlers (minus any the
reporter excluded) and the organisation's recovery recipient, and to the reporter when
the channel lets reporters read back what they sent; the optional identity only to the
identity custodians and the recovery recipient. A key pair is made for the reporter; its
secret is wrapped under a key derived from the receipt code, which is shown once and
never stored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import generate_identity, inspect_header
from crypto.kdf import Argon2Params
from crypto.keys import AnyIdentity
from crypto.keywrap import wrap_with_key
from crypto.receipt import derive_receipt_secrets, generate_receipt_code
from reporting_portal.audit.events import REPORTER, AuditAction, ObjectType, Receipt, record_event
from reporting_portal.domain.case_numbers import allocate_case_number
from reporting_portal.domain.deadlines import acknowledgement_due, feedback_due
from reporting_portal.domain.installation import get_installation
from reporting_portal.domain.objects import (
    RecipientKey,
    distinct_recipients,
    new_object,
    seal_for,
    store_small_payload,
)
from reporting_portal.domain.recipients import ChannelRecipients, channel_recipients, ready_handlers
from reporting_portal.storage.blobstore import BlobStore
from reporting_portal.storage.models import (
    AccessGrant,
    Channel,
    ObjectKind,
    Report,
    ReportExclusion,
    ReportObject,
)
from reporting_portal.web.uploads import StoredUpload

CONTENT_VERSION = 1
_KNOWN_STANZAS = {"X25519", "mlkem768x25519"}


class ChannelNotFoundError(LookupError):
    """No open channel of that name (or it has no case handler who can receive yet)."""


class SubmissionRefusedError(ValueError):
    """The submission breaks a rule; the message is for the reporter."""


@dataclass
class Submission:
    """What arrived, on either path. Plaintext answers exist only without JavaScript."""

    excluded_ids: set[str]
    files: list[StoredUpload]
    answers: dict[str, str | list[str]] | None = None
    content_upload: StoredUpload | None = None
    identity: dict[str, str] | None = None
    identity_upload: StoredUpload | None = None
    file_descriptions: list[dict[str, object]] = field(default_factory=list)


def open_channels(db: Session) -> list[Channel]:
    """Channels a reporter can use: active, with at least one handler able to receive."""
    channels = db.scalars(
        select(Channel).where(Channel.is_active.is_(True)).order_by(Channel.name)
    ).all()
    return [channel for channel in channels if ready_handlers(channel)]


def find_open_channel(db: Session, slug: str) -> Channel:
    channel = db.scalar(select(Channel).where(Channel.slug == slug, Channel.is_active.is_(True)))
    if channel is None or not ready_handlers(channel):
        raise ChannelNotFoundError(slug)
    return channel


def check_uploaded_header(header: bytes, recipients: Sequence[RecipientKey]) -> None:
    """A browser-made header must hold one stanza of the right type per recipient."""
    expected = sorted(
        "mlkem768x25519" if recipient.post_quantum else "X25519"
        for recipient in distinct_recipients(recipients)
    )
    found = sorted(kind for kind in inspect_header(header) if kind in _KNOWN_STANZAS)
    if found != expected:
        raise SubmissionRefusedError(
            _l("The report was encrypted for the wrong recipients. Reload the page and try again.")
        )


def header_for_upload(upload: StoredUpload, recipients: Sequence[RecipientKey]) -> bytes:
    if upload.header is not None:
        check_uploaded_header(upload.header, recipients)
        return upload.header
    if upload.file_key is None:
        raise SubmissionRefusedError(_l("An upload was incomplete."))
    return seal_for(upload.file_key, recipients)


def submit_report(
    db: Session,
    store: BlobStore,
    *,
    channel: Channel,
    submission: Submission,
    receipt_params: Argon2Params,
    recipients: ChannelRecipients | None = None,
    reporter_identity: AnyIdentity | None = None,
) -> tuple[Report, str]:
    """Store a report; return it and its receipt code (digits, unformatted): shown once.

    ``recipients`` are the channel's as the request read them (read here if not given).
    ``reporter_identity``, when given, is the reporter's key made with the form
    (intake/reporter_key.py): the content and files are encrypted to it as well, so
    the reporter can read them back. Without it a key is made here, for messages only.
    Uploaded blobs are already in the store; they are deleted if the transaction does
    not commit (domain.objects.track_new_blobs).
    """
    recipients = recipients if recipients is not None else channel_recipients(db, channel)
    known_ids = {handler.public_id for handler in recipients.handlers}
    if not submission.excluded_ids <= known_ids:
        raise SubmissionRefusedError(_l("The list of people to exclude is out of date. Reload."))
    if len(submission.excluded_ids) >= len(known_ids):
        raise SubmissionRefusedError(
            _l("You excluded every case handler of this channel, so nobody could read your "
            "report. Choose another channel or include at least one person.")
        )
    content_keys: list[RecipientKey] = [*recipients.content_for(submission.excluded_ids)]
    content_for_reporter = reporter_identity is not None
    if reporter_identity is None:
        reporter_identity = generate_identity(post_quantum=True)
    else:
        content_keys.append(reporter_identity.recipient)
    today = datetime.now(UTC).date()

    code = generate_receipt_code()
    installation = get_installation(db)
    secrets = derive_receipt_secrets(code, installation.receipt_salt, receipt_params)
    report = Report(
        channel=channel,
        received_on=today,
        acknowledgement_due=acknowledgement_due(today),
        feedback_due=feedback_due(today, None),
        receipt_lookup=secrets.lookup,
        reporter_recipient=str(reporter_identity.recipient),
        wrapped_reporter_identity=wrap_with_key(
            reporter_identity.to_string().encode("ascii"), secrets.wrapping_key
        ),
        content_for_reporter=content_for_reporter,
    )
    allocate_case_number(db, report)
    db.add(report)

    content = _content_object(db, store, report, submission, content_keys, today)
    headers = [content.header]
    for upload in submission.files:
        file_object = new_object(
            report=report, kind=ObjectKind.FILE, header=header_for_upload(upload, content_keys),
            blob_name=upload.blob_name, payload_size=upload.payload_size, today=today,
            from_reporter=True, parent=content,
        )
        headers.append(file_object.header)
        db.add(file_object)
    identity_object = _identity_object(db, store, report, submission, recipients, today)
    if identity_object is not None:
        db.add(identity_object)
    for handler in recipients.handlers:
        if handler.public_id in submission.excluded_ids:
            db.add(ReportExclusion(report=report, staff_id=handler.id))
        else:
            db.add(AccessGrant(report=report, staff_id=handler.id))
    db.flush()  # the report's public id names it in the audit event
    # The receipt a proof of receipt shows (crypto/proof_of_receipt.py): the content's
    # and the files' headers as received. Not the identity's: that one was given at all is
    # for the custodians to know, not for everyone the reporter shows the proof to.
    receipt = Receipt(channel=channel.slug, header_sha256=tuple(
        hashlib.sha256(header).hexdigest() for header in headers))
    record_event(
        db, AuditAction.REPORT_SUBMITTED, actor=None, actor_role=REPORTER,
        object_type=ObjectType.REPORT, object_id=report.public_id, receipt=receipt,
    )
    return report, code


def _content_object(
    db: Session,
    store: BlobStore,
    report: Report,
    submission: Submission,
    keys: list[RecipientKey],
    today: date,
) -> ReportObject:
    if submission.content_upload is not None:
        upload = submission.content_upload
        header = header_for_upload(upload, keys)
        blob_name, size = upload.blob_name, upload.payload_size
    else:
        document = {
            "version": CONTENT_VERSION,
            "answers": submission.answers or {},
            "files": submission.file_descriptions,
        }
        blob_name, size, file_key = store_small_payload(
            db, store, json.dumps(document, ensure_ascii=False).encode("utf-8")
        )
        header = seal_for(file_key, keys)
    content = new_object(
        report=report, kind=ObjectKind.CONTENT, header=header, blob_name=blob_name,
        payload_size=size, today=today, from_reporter=True,
    )
    report.objects.append(content)
    return content


def _identity_object(
    db: Session,
    store: BlobStore,
    report: Report,
    submission: Submission,
    recipients: ChannelRecipients,
    today: date,
) -> ReportObject | None:
    keys = recipients.identity()
    if submission.identity_upload is not None:
        upload = submission.identity_upload
        header = header_for_upload(upload, keys)
        blob_name, size = upload.blob_name, upload.payload_size
    elif submission.identity:
        blob_name, size, file_key = store_small_payload(
            db, store, json.dumps(submission.identity, ensure_ascii=False).encode("utf-8")
        )
        header = seal_for(file_key, keys)
    else:
        return None
    return new_object(
        report=report, kind=ObjectKind.IDENTITY, header=header, blob_name=blob_name,
        payload_size=size, today=today, from_reporter=True,
    )
