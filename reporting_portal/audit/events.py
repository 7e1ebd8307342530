"""Audit events as typed tags, written through one function with an allow-list of fields.

What an event may hold is fixed by :func:`record_event`'s signature: when, who (a staff
member's public id and role, or a role word for people without an account), what
(a tag from :class:`AuditAction`), which object (type and public id) and the outcome;
a report's submission adds its :class:`Receipt` (channel slug, header digests), which a
reporter's proof of receipt shows to outsiders. There is no free-text field, so report
content, a reporter's identity, an IP address or a user agent has nowhere to go
(STYLE.md 10; DESIGN.md, Access log). Events caused by reporters are held and join the
log once a day in random order (audit.held).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from reporting_portal.audit.held import hold_event
from reporting_portal.audit.log import queue_event
from reporting_portal.storage.models import AuditEvent, Role, StaffAccount


class AuditAction(StrEnum):
    STAFF_SIGN_IN = "staff.sign_in"
    STAFF_SIGN_IN_FAILED = "staff.sign_in_failed"
    STAFF_SIGN_IN_THROTTLED = "staff.sign_in_throttled"
    STAFF_SIGN_OUT = "staff.sign_out"
    # A signed-in staff member sent to a page their roles do not open.
    STAFF_ACCESS_DENIED = "staff.access_denied"
    TOTP_ENROLLED = "staff.totp_enrolled"
    PASSWORD_CHANGED = "staff.password_changed"  # noqa: S105  # nosec B105 -- an event tag, not a secret
    # A signed-in person's password re-check refused: the account's budget is spent.
    PASSWORD_CHECK_THROTTLED = "staff.password_check_throttled"  # noqa: S105  # nosec B105 -- an event tag, not a secret
    # Passkeys (staff.auth.passkeys): the event's object is the passkey, except for the
    # account-wide switches and a registration that made no passkey.
    PASSKEY_REGISTERED = "staff.passkey_registered"
    PASSKEY_REGISTRATION_FAILED = "staff.passkey_registration_failed"
    PASSKEY_USED = "staff.passkey_used"
    PASSKEY_SIGN_IN_FAILED = "staff.passkey_sign_in_failed"
    # A genuine signature whose counter did not advance: a cloned authenticator.
    PASSKEY_COUNTER_WENT_BACK = "staff.passkey_counter_went_back"
    PASSKEY_KEY_COPY_MADE = "staff.passkey_key_copy_made"
    PASSKEY_REMOVED = "staff.passkey_removed"
    PASSKEY_ONLY_ENABLED = "staff.passkey_only_enabled"
    PASSKEY_ONLY_DISABLED = "staff.passkey_only_disabled"
    # An administrator changed the roles that must sign in with a passkey.
    PASSKEY_ROLES_CHANGED = "installation.passkey_roles_changed"
    ACCOUNT_CREATED = "account.created"
    ACCOUNT_TOTP_RESET = "account.totp_reset"
    ACCOUNT_DEACTIVATED = "account.deactivated"
    ACCOUNT_REACTIVATED = "account.reactivated"
    ACCOUNT_LIST_VIEWED = "account.list_viewed"
    INSTALLATION_INITIALISED = "installation.initialised"
    RECOVERY_STORAGE_CONFIRMED = "installation.recovery_storage_confirmed"
    CHANNEL_CREATED = "channel.created"
    CHANNEL_CHANGED = "channel.changed"
    REPORT_SUBMITTED = "report.submitted"
    REPORTER_SIGNED_IN = "reporter.signed_in"
    REPORTER_SIGN_IN_FAILED = "reporter.sign_in_failed"
    REPORTER_MAILBOX_READ = "reporter.mailbox_read"
    REPORTER_MESSAGE_SENT = "reporter.message_sent"
    # The reporter read back what they sent ("What I sent"), or downloaded one of its files.
    REPORTER_REPORT_READ = "reporter.report_read"
    REPORTER_FILE_DOWNLOADED = "reporter.file_downloaded"
    # The reporter downloaded their proof of receipt (crypto/proof_of_receipt.py).
    REPORTER_PROOF_DOWNLOADED = "reporter.proof_downloaded"
    # The reporter reported retaliation from the mailbox (a message of its own type).
    REPORTER_RETALIATION_REPORTED = "reporter.retaliation_reported"
    HANDLER_MESSAGE_SENT = "report.message_sent"
    CASE_READ = "case.read"
    FILE_DOWNLOADED = "case.file_downloaded"
    # A file's copy without its metadata (issue 18), made in memory; a refusal (a format
    # that cannot be cleaned, over the bound) is still a read, with outcome failure.
    CLEANED_FILE_DOWNLOADED = "case.cleaned_file_downloaded"
    CASE_STATUS_CHANGED = "case.status_changed"
    CASE_ACKNOWLEDGED = "case.acknowledged"
    CASE_CLOSED = "case.closed"
    CASE_REOPENED = "case.reopened"
    CASE_PRIORITY_CHANGED = "case.priority_changed"
    CASE_LABELS_CHANGED = "case.labels_changed"
    CASE_HANDLER_ADDED = "case.handler_added"
    CASE_HANDLER_REMOVED = "case.handler_removed"
    CASE_ACCESS_GRANTED = "account.case_access_granted"
    CASE_ACCESS_REVOKED = "account.case_access_revoked"
    CASE_NOTE_WRITTEN = "case.note_written"
    CASE_EXPORTED = "case.exported"
    # Referral to another authority (issue 17, part 3): the redaction preview decrypts the
    # answers (a read), the referral files a redacted copy and a package (a change), and
    # each download of the package decrypts what it holds (a read).
    REFERRAL_PREVIEWED = "case.referral_previewed"
    CASE_REFERRED = "case.referred"
    REFERRAL_DOWNLOADED = "case.referral_downloaded"
    AUTHORITY_ADDED = "authority.added"
    AUTHORITY_CHANGED = "authority.changed"
    # The case's protection record (domain/protection.py): a measure recorded, a
    # measure's state or sharing changed, the review date set, the record closed.
    PROTECTION_MEASURE_RECORDED = "case.protection_measure_recorded"
    PROTECTION_MEASURE_CHANGED = "case.protection_measure_changed"
    PROTECTION_REVIEW_SET = "case.protection_review_set"
    PROTECTION_RECORD_CLOSED = "case.protection_record_closed"
    IDENTITY_FILE_DOWNLOADED = "staff.identity_file_downloaded"
    IDENTITY_ACCESS_REQUESTED = "identity.access_requested"
    IDENTITY_ACCESS_APPROVED = "identity.access_approved"
    IDENTITY_ACCESS_DENIED = "identity.access_denied"
    IDENTITY_VIEWED = "identity.viewed"
    IDENTITY_RESEALED = "identity.resealed"
    LABEL_CREATED = "label.created"
    LABEL_DELETED = "label.deleted"
    REPORT_PURGED = "report.purged"
    AUDIT_KEY_CREATED = "audit.signing_key_created"
    AUDIT_LOG_VIEWED = "audit.log_viewed"
    AUDIT_PROOF_VIEWED = "audit.proof_viewed"
    AUDIT_HEAD_DOWNLOADED = "audit.head_downloaded"
    AUDIT_HEAD_CHECKED = "audit.head_checked"
    AUDIT_EXPORTED = "audit.exported"
    AUDIT_HELD_RELEASED = "audit.held_events_released"
    # The operator's commands (reporting_portal.operations): a backup copies every case's
    # ciphertext, so taking one is logged like an export; a restore starts a new history.
    BACKUP_CREATED = "operations.backup_created"
    BACKUP_RESTORED = "operations.backup_restored"

    # Key rotation (the event's object is the key_rotation row, which holds the counts).
    RECOVERY_ROTATION_STARTED = "installation.recovery_rotation_started"
    RECOVERY_ROTATION_RESUMED = "installation.recovery_rotation_resumed"
    RECOVERY_ROTATION_COMPLETED = "installation.recovery_rotation_completed"
    STAFF_KEY_ROTATION_STARTED = "staff.key_rotation_started"
    STAFF_KEY_ROTATION_COMPLETED = "staff.key_rotation_completed"

    # fsck --repair (reporting_portal.operations.fsck): each act, then the repair itself.
    REPORT_OBJECT_REMOVED = "report.object_removed"
    ORPHAN_BLOB_DELETED = "operations.orphan_blob_deleted"
    UNFINISHED_UPLOAD_ABORTED = "operations.unfinished_upload_aborted"
    FSCK_REPAIRED = "operations.fsck_repaired"


class Outcome(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


class ObjectType(StrEnum):
    ACCOUNT = "account"
    INSTALLATION = "installation"
    REPORT = "report"
    FILE = "file"
    LABEL = "label"
    CHANNEL = "channel"
    AUTHORITY = "authority"
    AUDIT_EVENT = "audit_event"
    KEY_ROTATION = "key_rotation"
    PASSKEY = "passkey"

    # A payload in the blob store that no row names (its random name says nothing).
    BLOB = "blob"


# Roles for actors without a staff account.
SYSTEM = "system"
ANONYMOUS = "anonymous"
# A reporter: never an identifier; the event is held and released with the day's others,
# so the log cannot be used to time a reporter's activity (DESIGN.md: coarse timestamps).
REPORTER = "reporter"


_HEADER_DIGEST = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Receipt:
    """What a report's receipt event adds (crypto/proof_of_receipt.py): the channel's slug
    and the hex SHA-256 of each of the report's age headers. Typed and checked, so it can
    carry nothing else: a digest says nothing of the content it seals."""

    channel: str
    header_sha256: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.channel or any(c.isspace() for c in self.channel):
            raise ValueError("a receipt names a channel by its slug")
        if not all(_HEADER_DIGEST.fullmatch(digest) for digest in self.header_sha256):
            raise ValueError("a receipt's header digests are hex SHA-256")


# The keywords are the allow-list of what an event may say, so they stay spelled out.
def record_event(  # noqa: PLR0913
    db: Session,
    action: AuditAction,
    *,
    actor: StaffAccount | None,
    actor_role: Role | str,
    outcome: Outcome = Outcome.SUCCESS,
    object_type: ObjectType | None = None,
    object_id: str | None = None,
    receipt: Receipt | None = None,
    held_with_reporter: bool = False,
) -> None:
    """Record one event in the caller's transaction, so it lands exactly when the act does.

    A staff or system event joins the Merkle log when the transaction commits (audit.log);
    a reporter's is held, with its day only, for the day's release (audit.held). So is a
    system event that a reporter's act caused (``held_with_reporter``: a priority raised
    because the reporter reported retaliation), whose time would date the reporter's. If
    the transaction rolls back, so does the event. Only a report's submission, a reporter's
    act, carries a ``receipt``.
    """
    if actor_role == REPORTER or held_with_reporter:
        if receipt is not None and action != AuditAction.REPORT_SUBMITTED:
            raise ValueError("only a report's submission carries a receipt")
        hold_event(db, actor_role=str(actor_role), action=str(action), outcome=str(outcome),
                   object_type=str(object_type) if object_type is not None else None,
                   object_id=object_id,
                   receipt_channel=receipt.channel if receipt is not None else None,
                   receipt_headers=(" ".join(receipt.header_sha256)
                                    if receipt is not None else None))
        return
    if receipt is not None:
        raise ValueError("only a report's submission carries a receipt")
    # Seconds are precise enough for an access log, and what the canonical encoding keeps.
    now = datetime.now(UTC).replace(microsecond=0)
    event = AuditEvent(
        occurred_at=now,
        actor_id=actor.public_id if actor is not None else None,
        actor_role=str(actor_role),
        action=str(action),
        object_type=str(object_type) if object_type is not None else None,
        object_id=object_id,
        outcome=str(outcome),
    )
    queue_event(db, event)


def primary_role(account: StaffAccount) -> str:
    """The role an event names when a person holds several: all of them, sorted."""
    return "+".join(sorted(account.role_set)) or "none"
