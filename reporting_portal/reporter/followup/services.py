"""The reporter's mailbox: opening it with a receipt code, reading it, answering.

Wrong and unknown codes are indistinguishable: both cost one Argon2id derivation and get
the same answer. A code with a typo is caught by its check digit before any derivation
(anyone can compute a check digit, so saying "typo" reveals nothing).

Receipt sign-ins spend global budgets (behind Tor every client has the same address),
in two lanes so a flood through one cannot close the other: the page's script solves a
proof of work at a difficulty level, and each level has a budget of its own; without
JavaScript there is one plain budget. SECURITY.md, Rate limits, gives the figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from crypto.errors import AgeError, KeyWrapError, ReceiptCodeError, ReceiptCodeTypo
from crypto.kdf import Argon2Params
from crypto.keys import AnyIdentity, parse_identity
from crypto.keywrap import unwrap_with_key
from crypto.receipt import derive_receipt_secrets, normalise_receipt_code
from reporting_portal.audit.events import (
    REPORTER,
    AuditAction,
    ObjectType,
    Outcome,
    record_event,
)
from reporting_portal.domain.deadlines import acknowledgement_due, feedback_due
from reporting_portal.domain.installation import get_installation
from reporting_portal.domain.messages import MESSAGE_VERSION, message_recipients
from reporting_portal.domain.objects import (
    new_object,
    read_small_json,
    seal_for,
    store_small_payload,
)
from reporting_portal.domain.protection import SharedMeasure, shared_measures
from reporting_portal.domain.retaliation import RetaliationWords, retaliation_words
from reporting_portal.reporter.followup.reply_files import described_files
from reporting_portal.reporter.intake.services import SubmissionRefusedError, header_for_upload
from reporting_portal.storage.blobstore import BlobStore
from reporting_portal.storage.models import (
    IdentityAccessRequest,
    IdentityRequestStatus,
    MessageType,
    ObjectKind,
    Report,
    ReportObject,
    ReportStatus,
)
from reporting_portal.web.security.proof_of_work import CHALLENGE_LIFETIME, solves
from reporting_portal.web.security.rate_limit import Budget, BudgetSpentError, RateLimits
from reporting_portal.web.uploads import StoredUpload

# Each difficulty level needs two more leading zero bits: four times the work.
BITS_PER_LEVEL = 2
_MINUTE = timedelta(minutes=1)


class ReceiptTypoError(ValueError):
    """The code's check digit fails: most likely a typing mistake."""


class ReceiptNotRecognisedError(LookupError):
    """No report opens with this code (wrong or unknown: the same to the reporter)."""


class FollowUpBusyError(RuntimeError):
    """The lane's global budget of receipt sign-ins is spent for this minute.

    ``next_level`` is the proof-of-work level the page should try instead, if any;
    ``plain`` says the lane without JavaScript was the one spent.
    """

    def __init__(self, next_level: int | None = None, *, plain: bool = False) -> None:
        super().__init__("receipt sign-ins busy")
        self.next_level = next_level
        self.plain = plain


class ProofOfWorkRefusedError(ValueError):
    """The page's proof of work is missing, wrong or already used."""


@dataclass(frozen=True)
class ProofOfWork:
    """What the browser sent: a nonce for the session's challenge at a level."""

    challenge: bytes | None  # taken out of the session: each challenge is used once
    issued_at: datetime | None  # when the page that carried it was made
    level: int
    nonce: int


# Each challenge is a budget of one. Taking it out of the session is not enough: two
# requests sent at once with the same session cookie both load it before either saves.
_CHALLENGE_USES = Budget("receipt-pow-challenge", 1, timedelta(hours=1))


def pow_bits(settings: Settings, level: int) -> int:
    """Leading zero bits that a solution at ``level`` (0-based) needs."""
    return settings.receipt_pow_first_bits + BITS_PER_LEVEL * level


def plain_budget(settings: Settings) -> Budget:
    """Receipt sign-ins without JavaScript: one global budget."""
    return Budget("receipt-plain", settings.receipt_plain_attempts_per_minute, _MINUTE)


def level_budget(settings: Settings, level: int) -> Budget:
    """Receipt sign-ins with a proof of work at ``level``: a global budget per level.

    The top level has the larger budget: a flood that wants to close the lane must buy
    all of it at the highest price (SECURITY.md, Rate limits).
    """
    top = level == settings.receipt_pow_levels - 1
    per_minute = (settings.receipt_pow_top_attempts_per_minute if top
                  else settings.receipt_pow_attempts_per_minute)
    return Budget(f"receipt-pow-{level}", per_minute, _MINUTE)


def _global_key(rate_limits: RateLimits, budget: Budget) -> bytes:
    return rate_limits.key(budget.bucket, "everyone")


def first_open_level(rate_limits: RateLimits, settings: Settings) -> int:
    """The lowest level whose budget is not spent this minute, for the page to start at.

    Only a hint, read without spending: if the level fills meanwhile, the page moves up.
    """
    for level in range(settings.receipt_pow_levels):
        budget = level_budget(settings, level)
        if not rate_limits.is_spent(budget, _global_key(rate_limits, budget)):
            return level
    return settings.receipt_pow_levels - 1


@dataclass(frozen=True)
class MailboxKey:
    report_public_id: str
    reporter_identity: str  # kept only in the sealed server-side session


@dataclass(frozen=True)
class ReplyFile:
    """A file a case handler attached to a message, for the reporter to download."""

    public_id: str
    name: str
    size: int


@dataclass(frozen=True)
class Message:
    from_reporter: bool
    sent_on: date
    text: str
    file_names: tuple[str, ...]
    # A handler's files, with what the mailbox links to (issue 15, item 5).
    reply_files: tuple[ReplyFile, ...] = ()
    # What the reporter said, when the message is a retaliation report (issue 17).
    retaliation: RetaliationWords | None = None


@dataclass(frozen=True)
class Mailbox:
    status: str
    closing_outcome: str | None
    received_on: date
    acknowledged_on: date | None
    acknowledgement_due: date
    feedback_due: date
    messages: tuple[Message, ...]
    # Days on which a custodian let a case handler see the reporter's identity
    # (EU Directive 2019/1937 art. 16(3)), when the channel tells reporters.
    identity_disclosed_on: tuple[date, ...] = ()
    # Protection measures a case handler chose to show the reporter (issue 17).
    shared_measures: tuple[SharedMeasure, ...] = ()


def _spend_budget(
    rate_limits: RateLimits, settings: Settings, proof: ProofOfWork | None
) -> None:
    """Check the proof of work (one hash), then spend its lane's budget.

    Both come before any Argon2id, in the limiter's own short transaction, so a flood
    costs the server one hash per bad solution and one counter update per good one.
    """
    if proof is None:
        budget = plain_budget(settings)
        next_level = None
    else:
        _check_proof(rate_limits, settings, proof)
        budget = level_budget(settings, proof.level)
        higher = proof.level + 1
        next_level = higher if higher < settings.receipt_pow_levels else None
    try:
        rate_limits.spend(budget, _global_key(rate_limits, budget))
    except BudgetSpentError:
        raise FollowUpBusyError(next_level, plain=proof is None) from None


def _check_proof(rate_limits: RateLimits, settings: Settings, proof: ProofOfWork) -> None:
    """A solution of this session's fresh challenge at a level that exists, used once."""
    if (proof.challenge is None or proof.issued_at is None
            or not 0 <= proof.level < settings.receipt_pow_levels
            or not timedelta(0) <= rate_limits.clock() - proof.issued_at <= CHALLENGE_LIFETIME
            or not solves(proof.challenge, proof.nonce, pow_bits(settings, proof.level))):
        raise ProofOfWorkRefusedError
    try:
        rate_limits.spend(_CHALLENGE_USES, rate_limits.key(_CHALLENGE_USES.bucket,
                                                           proof.challenge),
                          window_of=proof.issued_at)
    except BudgetSpentError:
        raise ProofOfWorkRefusedError from None


def open_mailbox(
    db: Session,
    code_text: str,
    *,
    params: Argon2Params,
    rate_limits: RateLimits,
    settings: Settings,
    proof: ProofOfWork | None,
) -> MailboxKey:
    """Find the report a receipt code opens and unwrap the reporter's identity.

    In order: the check digit (a typo costs nothing and spends nothing), the proof of
    work and the lane's budget (see :func:`_spend_budget`), then one Argon2id derivation
    for every well-formed code, wrong, unknown or right.
    """
    try:
        code = normalise_receipt_code(code_text)
    except ReceiptCodeTypo:
        raise ReceiptTypoError from None
    except ReceiptCodeError:
        raise ReceiptNotRecognisedError from None
    _spend_budget(rate_limits, settings, proof)
    secrets = derive_receipt_secrets(code, get_installation(db).receipt_salt, params)
    report = db.scalar(select(Report).where(Report.receipt_lookup == secrets.lookup))
    try:
        if report is None:
            raise ReceiptNotRecognisedError
        identity = unwrap_with_key(report.wrapped_reporter_identity, secrets.wrapping_key)
    except (ReceiptNotRecognisedError, KeyWrapError):
        record_event(db, AuditAction.REPORTER_SIGN_IN_FAILED, actor=None, actor_role=REPORTER,
                     outcome=Outcome.FAILURE)
        raise ReceiptNotRecognisedError from None
    record_event(db, AuditAction.REPORTER_SIGNED_IN, actor=None, actor_role=REPORTER,
                 object_type=ObjectType.REPORT, object_id=report.public_id)
    return MailboxKey(report.public_id, identity.decode("ascii"))


def find_report(db: Session, public_id: str) -> Report:
    report = db.scalar(select(Report).where(Report.public_id == public_id))
    if report is None:
        raise ReceiptNotRecognisedError
    return report


def read_mailbox(db: Session, store: BlobStore, report: Report, identity_text: str) -> Mailbox:
    """Everything the reporter may see: status, dates, and the messages meant for them."""
    identity: AnyIdentity = parse_identity(identity_text)
    objects = db.scalars(
        select(ReportObject)
        .where(ReportObject.report_id == report.id, ReportObject.kind == ObjectKind.MESSAGE)
        .order_by(ReportObject.id)
    ).all()
    messages = []
    for obj in objects:
        try:
            document = read_small_json(store, obj, [identity])
        except (AgeError, ValueError):
            continue  # not addressed to the reporter (cannot happen for messages) or damaged
        answers = document.get("answers", {})
        files = document.get("files", [])
        messages.append(Message(
            from_reporter=obj.from_reporter,
            sent_on=obj.created_on,
            text=str(answers.get("message", "")) if isinstance(answers, dict) else "",
            file_names=tuple(str(f.get("name", "")) for f in files if isinstance(f, dict)),
            reply_files=() if obj.from_reporter else reply_files_of(db, obj, document),
            retaliation=retaliation_words(document)
            if obj.message_type == MessageType.RETALIATION else None,
        ))
    record_event(db, AuditAction.REPORTER_MAILBOX_READ, actor=None, actor_role=REPORTER,
                  object_type=ObjectType.REPORT, object_id=report.public_id)
    return Mailbox(
        status=report.status,
        closing_outcome=report.closing_outcome,
        received_on=report.received_on,
        acknowledged_on=report.acknowledged_on,
        acknowledgement_due=acknowledgement_due(report.received_on),
        feedback_due=feedback_due(report.received_on, report.acknowledged_on),
        messages=tuple(messages),
        identity_disclosed_on=_identity_disclosures(db, report),
        shared_measures=tuple(shared_measures(db, store, report, identity)),
    )


def reply_files_of(db: Session, message: ReportObject,
                   document: dict[str, object]) -> tuple[ReplyFile, ...]:
    """The files of a handler's message, as the mailbox links them."""
    return tuple(ReplyFile(public_id=obj.public_id, name=name, size=size)
                 for obj, name, size in described_files(db, message, document))


def _identity_disclosures(db: Session, report: Report) -> tuple[date, ...]:
    if not report.channel.notify_identity_disclosure:
        return ()
    decided = db.scalars(
        select(IdentityAccessRequest.decided_at)
        .where(IdentityAccessRequest.report_id == report.id,
               # A withdrawn approval was a disclosure all the same.
               IdentityAccessRequest.status.in_([IdentityRequestStatus.APPROVED,
                                                 IdentityRequestStatus.WITHDRAWN]))
        .order_by(IdentityAccessRequest.decided_at)
    )
    return tuple(moment.date() for moment in decided if moment is not None)


def post_reporter_reply(
    db: Session,
    store: BlobStore,
    report: Report,
    *,
    text: str,
    files: list[StoredUpload],
    content_upload: StoredUpload | None,
) -> ReportObject:
    """File the reporter's answer (text and files), encrypted on either path."""
    if content_upload is None and not text.strip() and not files:
        raise SubmissionRefusedError(_l("Write a message or add a file."))
    return file_reporter_message(db, store, report, answers={"message": text}, files=files,
                                 content_upload=content_upload,
                                 action=AuditAction.REPORTER_MESSAGE_SENT)


def file_reporter_message(
    db: Session,
    store: BlobStore,
    report: Report,
    *,
    answers: dict[str, str | list[str]],
    files: list[StoredUpload],
    content_upload: StoredUpload | None,
    action: AuditAction,
    message_type: MessageType | None = None,
) -> ReportObject:
    """File a message from the reporter: the browser's age file (``content_upload``), or
    else ``answers`` encrypted here; each file sealed for the same recipients."""
    recipients = message_recipients(db, report)
    today = datetime.now(UTC).date()
    if content_upload is not None:
        header = header_for_upload(content_upload, recipients)
        blob_name, size = content_upload.blob_name, content_upload.payload_size
    else:
        document = {
            "version": MESSAGE_VERSION,
            **({"type": str(message_type)} if message_type is not None else {}),
            "answers": answers,
            "files": [{"field": u.field_name, "name": u.filename, "size": u.plaintext_size,
                       "type": u.content_type} for u in files],
        }
        blob_name, size, file_key = store_small_payload(
            db, store, json.dumps(document, ensure_ascii=False).encode("utf-8")
        )
        header = seal_for(file_key, recipients)
    message = new_object(report=report, kind=ObjectKind.MESSAGE, header=header,
                         blob_name=blob_name, payload_size=size, today=today,
                         from_reporter=True)
    message.message_type = str(message_type) if message_type is not None else None
    db.add(message)
    for upload in files:
        db.add(new_object(report=report, kind=ObjectKind.FILE,
                          header=header_for_upload(upload, recipients),
                          blob_name=upload.blob_name, payload_size=upload.payload_size,
                          today=today, from_reporter=True, parent=message))
    record_event(db, action, actor=None, actor_role=REPORTER,
                 object_type=ObjectType.REPORT, object_id=report.public_id)
    return message


STATUS_ORDER = [s.value for s in ReportStatus]
