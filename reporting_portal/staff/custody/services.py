"""Identity custody: a case handler learns who reported only with a custodian's approval.

The reporter's identity is an age object of its own, encrypted to the identity custodians
and the recovery key only (DESIGN.md, Key hierarchy). A case handler asks with a written
justification; a custodian who is not the requester (four eyes) approves or denies with a
reason. Approval rewrites the identity object's header in the custodian's session: the
custodian's identity unwraps the file key and the requester's recipient is added, and no
payload is touched. A denial changes nothing but the request's status. Every step, and
every time a handler looks at the identity, is an audit event.

Being a custodian opens no report: custodians are never recipients of a report's content,
and the pages here show a request's metadata and justification, never the report. The
justification and the reason often quote the case, so both are sealed (age) for the
custodians, the requester and the recovery key, never stored as plaintext.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from crypto import NoMatchError, add_recipients, rewrite_recipients
from crypto.keys import Identity
from reporting_portal.audit.events import AuditAction
from reporting_portal.domain.actors import Actor, record_case_event
from reporting_portal.domain.installation import get_installation
from reporting_portal.domain.objects import open_text, read_small_json, recipient_from, seal_text
from reporting_portal.domain.recipients import custodian_recipients
from reporting_portal.storage.blobstore import BlobStore
from reporting_portal.storage.models import (
    AccessGrant,
    IdentityAccessRequest,
    IdentityPurpose,
    IdentityRequestStatus,
    ObjectKind,
    Report,
    ReportExclusion,
    ReportObject,
    Role,
)

# A justification a second person can weigh: a sentence or two, not a word.
JUSTIFICATION_MIN = 40
JUSTIFICATION_MAX = 4000
REASON_MIN = 10
REASON_MAX = 2000
RECENT_DECISIONS = 50


class IdentityRuleError(ValueError):
    """The request or decision breaks a custody rule; the message is for the person."""


class RequestNotFoundError(LookupError):
    """No such identity access request."""


@dataclass(frozen=True)
class ReporterIdentity:
    """What the reporter chose to give: free text, shown as text and never interpreted."""

    name: str
    contact: str


@dataclass(frozen=True)
class IdentityAccess:
    """Where a handler stands with a case's identity, for the case view."""

    exists: bool
    approved: IdentityAccessRequest | None = None
    pending: IdentityAccessRequest | None = None
    last_denied: IdentityAccessRequest | None = None

    # The custodian's reason for the last denial, when the handler's key opens it.
    denial_reason: str | None = None

    @property
    def can_request(self) -> bool:
        return self.exists and self.approved is None and self.pending is None


@dataclass(frozen=True)
class RequestTexts:
    """A request's texts as one reader's key opens them (``None``: it does not)."""

    justification: str | None
    reason: str | None


def _text_recipients(db: Session, request: IdentityAccessRequest) -> list[str]:
    """Who may read a request's texts: the custodians, the requester, the recovery key."""
    keys = [*custodian_recipients(db), request.requester.age_recipient,
            get_installation(db).recovery_recipient]
    return [key for key in keys if key]


def request_texts(request: IdentityAccessRequest, identity: Identity | None) -> RequestTexts:
    """Open a request's justification and reason with ``identity``.

    A custodian appointed after the request was made is not among its recipients and
    gets ``None``: the page says so rather than showing nothing silently.
    """
    if identity is None:
        return RequestTexts(None, None)
    reason = request.sealed_decision_reason
    return RequestTexts(open_text(request.sealed_justification, [identity]),
                        open_text(reason, [identity]) if reason is not None else None)


def identity_object(db: Session, report: Report) -> ReportObject | None:
    return db.scalar(select(ReportObject).where(
        ReportObject.report_id == report.id, ReportObject.kind == ObjectKind.IDENTITY))


def access_for(db: Session, actor: Actor, report: Report,
               purpose: IdentityPurpose = IdentityPurpose.HANDLER) -> IdentityAccess:
    """The handler's requests for this case's identity for ``purpose``, newest deciding.

    A request to read the identity and one to send it with a referral are weighed apart
    by the custodian, so an approval for one purpose never stands for the other."""
    if identity_object(db, report) is None:
        return IdentityAccess(exists=False)
    requests = list(db.scalars(
        select(IdentityAccessRequest)
        .where(IdentityAccessRequest.report_id == report.id,
               IdentityAccessRequest.requester_id == actor.staff.id,
               IdentityAccessRequest.purpose == purpose)
        .order_by(IdentityAccessRequest.id.desc())
    ))

    def newest(status: IdentityRequestStatus) -> IdentityAccessRequest | None:
        return next((r for r in requests if r.status == status), None)

    last_denied = newest(IdentityRequestStatus.DENIED)
    return IdentityAccess(exists=True, approved=newest(IdentityRequestStatus.APPROVED),
                          pending=newest(IdentityRequestStatus.PENDING), last_denied=last_denied,
                          denial_reason=request_texts(last_denied, actor.identity).reason
                          if last_denied is not None else None)


def request_access(db: Session, actor: Actor, report: Report, justification: str,
                   purpose: IdentityPurpose = IdentityPurpose.HANDLER) -> IdentityAccessRequest:
    """File a handler's request; the reporter is not told at this point."""
    text = justification.strip()
    if not JUSTIFICATION_MIN <= len(text) <= JUSTIFICATION_MAX:
        raise IdentityRuleError(
            _l("Explain why you need the identity in %(low)s to %(high)s characters.",
               low=format_decimal(JUSTIFICATION_MIN), high=format_decimal(JUSTIFICATION_MAX)))
    access = access_for(db, actor, report, purpose)
    if not access.exists:
        raise IdentityRuleError(_l("The reporter did not give an identity."))
    if not access.can_request:
        raise IdentityRuleError(_l("You already have a request for this identity."))
    if actor.staff.age_recipient is None:
        raise IdentityRuleError(_l("Set your password first: your key is made with it."))
    request = IdentityAccessRequest(report=report, requester=actor.staff, purpose=purpose)
    request.sealed_justification = seal_text(text, _text_recipients(db, request))
    db.add(request)
    record_case_event(db, actor, AuditAction.IDENTITY_ACCESS_REQUESTED, report)
    return request


def pending_requests(db: Session) -> list[IdentityAccessRequest]:
    """Requests waiting for a custodian, oldest first."""
    return list(db.scalars(
        select(IdentityAccessRequest)
        .where(IdentityAccessRequest.status == IdentityRequestStatus.PENDING)
        .options(joinedload(IdentityAccessRequest.report).joinedload(Report.channel),
                 joinedload(IdentityAccessRequest.requester))
        .order_by(IdentityAccessRequest.requested_at, IdentityAccessRequest.id)
    ))


def recent_decisions(db: Session) -> list[IdentityAccessRequest]:
    return list(db.scalars(
        select(IdentityAccessRequest)
        .where(IdentityAccessRequest.status != IdentityRequestStatus.PENDING)
        .options(joinedload(IdentityAccessRequest.report).joinedload(Report.channel),
                 joinedload(IdentityAccessRequest.requester),
                 joinedload(IdentityAccessRequest.decided_by))
        .order_by(IdentityAccessRequest.decided_at.desc(), IdentityAccessRequest.id.desc())
        .limit(RECENT_DECISIONS)
    ))


def find_request(db: Session, public_id: str) -> IdentityAccessRequest:
    request = db.scalar(select(IdentityAccessRequest)
                        .where(IdentityAccessRequest.public_id == public_id))
    if request is None:
        raise RequestNotFoundError(public_id)
    return request


def _check_decider(actor: Actor, request: IdentityAccessRequest, reason: str) -> str:
    # The route admits custodians only; checked again here so no other caller can skip it.
    if not actor.staff.has_role(Role.IDENTITY_CUSTODIAN):
        raise IdentityRuleError(_l("Only an identity custodian decides identity requests."))
    if request.requester_id == actor.staff.id:
        raise IdentityRuleError(_l("You cannot decide your own request: another custodian must."))
    if request.status != IdentityRequestStatus.PENDING:
        raise IdentityRuleError(_l("This request was already decided."))
    text = reason.strip()
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise IdentityRuleError(
            _l("Give the reason for your decision in %(low)s to %(high)s characters.",
               low=format_decimal(REASON_MIN), high=format_decimal(REASON_MAX)))
    return text


def _requester_still_on_case(db: Session, request: IdentityAccessRequest) -> bool:
    requester = request.requester
    granted = db.get(AccessGrant, (request.report_id, requester.id)) is not None
    excluded = db.get(ReportExclusion, (request.report_id, requester.id)) is not None
    return (requester.is_active and requester.has_role(Role.CASE_HANDLER) and granted
            and not excluded and requester.age_recipient is not None)


def approve(db: Session, actor: Actor, request: IdentityAccessRequest, reason: str) -> None:
    """Add the requester as a recipient of the identity, unwrapping with the custodian's key."""
    text = _check_decider(actor, request, reason)
    if not _requester_still_on_case(db, request):
        raise IdentityRuleError(
            _l("The requester is no longer on this case or cannot receive keys: deny instead."))
    obj = identity_object(db, request.report)
    if obj is None:
        raise IdentityRuleError(_l("This report no longer holds an identity."))
    custodian_identity = actor.require_identity()
    requester_key = request.requester.age_recipient or ""
    try:
        obj.header = add_recipients(obj.header, [custodian_identity],
                                    [recipient_from(requester_key)])
    except NoMatchError:
        raise IdentityRuleError(
            _l("Your key does not open this identity: it was given before you became a "
            "custodian. Another custodian must decide this request.")) from None
    _decide(db, request, actor, IdentityRequestStatus.APPROVED, text)
    record_case_event(db, actor, AuditAction.IDENTITY_ACCESS_APPROVED, request.report)


def deny(db: Session, actor: Actor, request: IdentityAccessRequest, reason: str) -> None:
    """Refuse the request: the identity object is not touched."""
    text = _check_decider(actor, request, reason)
    _decide(db, request, actor, IdentityRequestStatus.DENIED, text)
    record_case_event(db, actor, AuditAction.IDENTITY_ACCESS_DENIED, request.report)


def _decide(db: Session, request: IdentityAccessRequest, actor: Actor,
            status: IdentityRequestStatus, reason: str) -> None:
    request.status = status
    request.decided_by = actor.account
    request.decided_at = datetime.now(UTC)
    request.sealed_decision_reason = seal_text(reason, _text_recipients(db, request))


@dataclass(frozen=True)
class Reseal:
    updated: int
    unopened: int
    withdrawn: int


def reseal_identities(db: Session, actor: Actor) -> Reseal:
    """Make every identity this custodian can open readable by exactly the right people.

    Those are: today's custodians (so one appointed after a report can decide its
    requests), the recovery key, and the handlers whose approved request still stands
    because they are still on the case. A handler who left a case is taken off its
    identity here, and their approval is withdrawn. Identities the custodian's key does
    not open are left for another custodian. One audit event per identity re-sealed.
    """
    if not actor.staff.has_role(Role.IDENTITY_CUSTODIAN):
        raise IdentityRuleError(_l("Only an identity custodian re-seals identities."))
    custodian_identity = actor.require_identity()
    base = [*custodian_recipients(db), get_installation(db).recovery_recipient]
    updated = unopened = withdrawn = 0
    for obj in db.scalars(select(ReportObject).where(ReportObject.kind == ObjectKind.IDENTITY)
                          .options(joinedload(ReportObject.report))):
        approved = list(db.scalars(select(IdentityAccessRequest).where(
            IdentityAccessRequest.report_id == obj.report_id,
            IdentityAccessRequest.status == IdentityRequestStatus.APPROVED)))
        keeping = [r for r in approved if _requester_still_on_case(db, r)]
        wanted = [*base, *(r.requester.age_recipient or "" for r in keeping)]
        try:
            obj.header = rewrite_recipients(obj.header, [custodian_identity],
                                            [recipient_from(key) for key in dict.fromkeys(wanted)])
        except NoMatchError:
            unopened += 1
            continue
        for request in approved:
            if request not in keeping:
                request.status = IdentityRequestStatus.WITHDRAWN
                withdrawn += 1
        updated += 1
        record_case_event(db, actor, AuditAction.IDENTITY_RESEALED, obj.report)
    return Reseal(updated=updated, unopened=unopened, withdrawn=withdrawn)


def read_identity(db: Session, store: BlobStore, actor: Actor, report: Report) -> ReporterIdentity:
    """Decrypt the identity for a handler whose request was approved. An audit event."""
    identity = approved_identity(db, store, actor, report, IdentityPurpose.HANDLER)
    record_case_event(db, actor, AuditAction.IDENTITY_VIEWED, report)
    return identity


def approved_identity(db: Session, store: BlobStore, actor: Actor, report: Report,
                      purpose: IdentityPurpose) -> ReporterIdentity:
    """Decrypt the identity if a custodian approved this handler's request for ``purpose``.

    The caller records what it does with it (looking at it, or a referral's package)."""
    access = access_for(db, actor, report, purpose)
    obj = identity_object(db, report)
    if access.approved is None or obj is None:
        raise IdentityRuleError(_l("You have no approved request for this identity."))
    try:
        document = read_small_json(store, obj, [actor.require_identity()])
    except NoMatchError:
        raise IdentityRuleError(_l("Your access to this identity was withdrawn.")) from None
    return ReporterIdentity(name=str(document.get("name", "")),
                            contact=str(document.get("contact", "")))

