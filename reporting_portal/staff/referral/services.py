"""Referring a case to another competent authority, with redaction (issue 17, part 3).

A handler chooses an authority of the directory, the parts to send (the answers, files,
messages, notes) and marks the spans of the text answers the receiver must not read
(redaction.py). Confirming files a redacted copy of the answers as a new age object for
the case's readers (the original is never changed), the referral row and its audit event,
and, as the channel says, a message in the reporter's mailbox. The package itself is
built on each download from what the row names, streamed, and encrypted to the
authority's recipient only (crypto/referral.py); it is signed with the installation's
audit key, whose verifier the manifest states.

The reporter's identity goes only with a custodian's approval of a request made for this
purpose (staff/custody: purpose "referral").
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import parse_recipient
from crypto.referral import PackageEntry, stream_package
from reporting_portal.audit.events import AuditAction
from reporting_portal.audit.log import installation_signer
from reporting_portal.domain.actors import Actor, record_case_event
from reporting_portal.domain.channel_content import channel_languages
from reporting_portal.domain.installation import get_installation
from reporting_portal.domain.messages import post_message
from reporting_portal.domain.objects import (
    case_recipients,
    new_object,
    read_small_json,
    seal_for,
    store_small_payload,
)
from reporting_portal.staff.custody.services import IdentityRuleError, access_for, approved_identity
from reporting_portal.staff.referral.parts import (
    Part,
    TextAnswer,
    answers_document,
    answers_entry,
    case_objects,
    content_object,
    identity_entry,
    part_entries,
    referable_parts,
    shown_answers,
    text_answers,
)
from reporting_portal.staff.referral.redaction import Redacted, RedactionError, redact
from reporting_portal.storage.blobstore import BlobStore
from reporting_portal.storage.models import (
    Authority,
    IdentityPurpose,
    ObjectKind,
    Referral,
    ReferralNotice,
    Report,
)

REDACTION_VERSION = 1
# A marked answer is its original plus marks: allow room for many marks, and no more.
MARKED_MAX = 60_000


class ReferralRuleError(ValueError):
    """The referral cannot be made as asked; the message is for the handler."""


class ReferralNotFoundError(LookupError):
    """No such referral of this case."""


@dataclass(frozen=True)
class ReferralDraft:
    """What the handler chose: checked by :func:`check_draft` before preview or referral."""

    authority_id: str
    include_answers: bool
    marked: Mapping[str, str]  # answer key -> the answer with [[ ]] marks
    object_ids: Sequence[str]
    include_identity: bool


@dataclass(frozen=True)
class CheckedDraft:
    authority: Authority
    redacted: dict[str, Redacted]  # answer key -> its redaction (text answers only)
    answers: dict[str, object]  # all answers, free text redacted
    parts: list[Part]
    include_answers: bool
    include_identity: bool
    # Every answer as the authority will read it: (question, pieces), hidden pieces marked.
    shown: list[tuple[str, tuple[tuple[str, bool], ...]]]

    @property
    def span_count(self) -> int:
        return sum(r.span_count for r in self.redacted.values())


@dataclass(frozen=True)
class ReferralChoices:
    """What the referral page offers for a case."""

    authorities: Sequence[Authority]
    text_answers: list[TextAnswer]
    parts: list[Part]
    identity_exists: bool
    identity_approved: bool
    identity_pending: bool


def active_authorities(db: Session) -> Sequence[Authority]:
    return db.scalars(select(Authority).where(Authority.is_active.is_(True))
                      .order_by(Authority.name)).all()


def referral_choices(db: Session, store: BlobStore, actor: Actor,
                     report: Report) -> ReferralChoices:
    """The authorities, the answers to redact and the parts to choose, read from the case
    (the caller records the read)."""
    identity = actor.require_identity()
    content = content_object(db, report)
    answers = answers_document(store, content, identity) if content is not None else {}
    access = access_for(db, actor, report, IdentityPurpose.REFERRAL)
    return ReferralChoices(
        authorities=active_authorities(db), text_answers=text_answers(report, answers),
        parts=referable_parts(store, report, case_objects(db, report), identity),
        identity_exists=access.exists, identity_approved=access.approved is not None,
        identity_pending=access.pending is not None)


def check_draft(db: Session, store: BlobStore, actor: Actor, report: Report,
                draft: ReferralDraft) -> CheckedDraft:
    """Apply the marks and check every choice; nothing is stored."""
    authority = db.scalar(select(Authority).where(Authority.public_id == draft.authority_id,
                                                  Authority.is_active.is_(True)))
    if authority is None:
        raise ReferralRuleError(_l("Choose an authority of the directory."))
    identity = actor.require_identity()
    objects = case_objects(db, report)
    content = content_object(db, report)
    answers: dict[str, object] = dict(answers_document(store, content, identity)
                                      if content is not None else {})
    redacted: dict[str, Redacted] = {}
    for text in text_answers(report, answers):
        marked = draft.marked.get(text.key, text.original)
        if len(marked) > MARKED_MAX:
            raise ReferralRuleError(_l("A marked answer is too long."))
        try:
            redacted[text.key] = redact(text.original, marked)
        except RedactionError as error:
            raise ReferralRuleError(f"{text.label}: {error}") from None
        answers[text.key] = redacted[text.key].text
    available = {p.public_id: p for p in referable_parts(store, report, objects, identity)}
    unknown = [i for i in draft.object_ids if i not in available]
    if unknown:
        raise ReferralRuleError(_l("A chosen part is not in this case."))
    parts = [available[i] for i in available if i in set(draft.object_ids)]
    if draft.include_identity:
        access = access_for(db, actor, report, IdentityPurpose.REFERRAL)
        if access.approved is None:
            raise ReferralRuleError(_l("The identity can go only after an identity "
                                       "custodian approved your request for this referral."))
    if not (draft.include_answers or parts or draft.include_identity):
        raise ReferralRuleError(_l("Choose at least one part of the case to refer."))
    shown = [(label, redacted[key].pieces if key in redacted
              else ((answer if isinstance(answer, str) else ", ".join(answer), False),))
             for key, label, answer in shown_answers(report, answers)]
    return CheckedDraft(authority=authority, redacted=redacted, answers=answers, parts=parts,
                        include_answers=draft.include_answers,
                        include_identity=draft.include_identity, shown=shown)


def refer(db: Session, store: BlobStore, actor: Actor, report: Report,
          draft: ReferralDraft) -> Referral:
    """File the referral: the redacted copy, the row, the event, the reporter's notice."""
    checked = check_draft(db, store, actor, report, draft)
    content = content_object(db, report)
    answers_object = content if checked.include_answers else None
    if checked.include_answers and content is not None and checked.span_count:
        document = {"version": REDACTION_VERSION, "answers": checked.answers, "files": [],
                    "redacted_spans": checked.span_count}
        blob_name, size, file_key = store_small_payload(
            db, store, json.dumps(document, ensure_ascii=False).encode("utf-8"))
        answers_object = new_object(
            report=report, kind=ObjectKind.REDACTION,
            header=seal_for(file_key, case_recipients(db, report, get_installation(db))),
            blob_name=blob_name, payload_size=size, today=datetime.now(UTC).date(),
            from_reporter=False, author=actor.account, parent=content)
        db.add(answers_object)
    referral = Referral(report=report, authority=checked.authority, referred_by=actor.staff,
                        object_ids=[p.public_id for p in checked.parts], answers=answers_object,
                        include_identity=checked.include_identity)
    db.add(referral)
    db.flush()  # the referral's id, for the page the handler is sent to
    record_case_event(db, actor, AuditAction.CASE_REFERRED, report)
    _tell_reporter(db, store, actor, report, checked.authority)
    return referral


def _tell_reporter(db: Session, store: BlobStore, actor: Actor, report: Report,
                   authority: Authority) -> None:
    """The mailbox message the channel asks for, in the channel's first language (the
    portal does not know which language the reporter reads)."""
    notice = report.channel.referral_notice
    if notice == ReferralNotice.NONE:
        return
    with force_locale(channel_languages(report.channel)[0]):
        text = (str(_l("Your case was referred to %(authority)s, an authority competent to "
                       "act on it. You can keep using this mailbox.", authority=authority.name))
                if notice == ReferralNotice.NAMED else
                str(_l("Your case was referred to another authority competent to act on it. "
                       "You can keep using this mailbox.")))
    post_message(db, store, report, text=text, author=actor.account)


def find_referral(db: Session, report: Report, public_id: str) -> Referral:
    referral = db.scalar(select(Referral).where(Referral.report_id == report.id,
                                                Referral.public_id == public_id))
    if referral is None:
        raise ReferralNotFoundError(public_id)
    return referral


def referrals_of(db: Session, report: Report) -> Sequence[Referral]:
    return db.scalars(select(Referral).where(Referral.report_id == report.id)
                      .order_by(Referral.id)).all()


def package_stream(db: Session, store: BlobStore, actor: Actor,
                   referral: Referral) -> Iterator[bytes]:
    """The referral's package, for its authority alone. Decrypts what it holds: an event.

    Everything is read and checked before the first byte goes out, except the files'
    payloads, which are decrypted chunk by chunk as they are zipped."""
    report = referral.report
    if referral.referred_by_id != actor.staff.id:
        # The identity's approval, and the choice of parts, were the referring handler's.
        raise ReferralRuleError(_l("Only the case handler who made the referral can "
                                   "download its package."))
    identity = actor.require_identity()
    try:
        recipient = parse_recipient(referral.authority.age_recipient)
    except ValueError:
        raise ReferralRuleError(_l("The authority's key no longer parses: ask an "
                                   "administrator to correct it.")) from None
    entries: list[PackageEntry] = []
    if referral.answers is not None:
        document = read_small_json(store, referral.answers, [identity])
        raw = document.get("answers", {})
        entries.append(answers_entry(report, raw if isinstance(raw, dict) else {},
                                     int(document.get("redacted_spans", 0) or 0)))
    objects = case_objects(db, report)
    chosen = set(referral.object_ids)
    parts = [p for p in referable_parts(store, report, objects, identity) if p.public_id in chosen]
    entries += part_entries(store, parts, objects, identity)
    if referral.include_identity:
        try:
            reporter = approved_identity(db, store, actor, report, IdentityPurpose.REFERRAL)
        except IdentityRuleError as error:
            raise ReferralRuleError(str(error)) from None
        entries.append(identity_entry(reporter.name, reporter.contact))
    signer = installation_signer(db)
    record_case_event(db, actor, AuditAction.REFERRAL_DOWNLOADED, report)
    return stream_package(
        recipient, signer.signer_key(), reference=report.public_id,
        referred_on=referral.referred_at.date(), receiver=referral.authority.name,
        verifier_key=signer.verifier_key(), entries=entries)
