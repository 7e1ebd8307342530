"""What a notice counts, when it is queued and again when it is sent.

The outbox row records that a member of staff had news of a kind in a window; the mail
says the count at sending time, so it is never stale however many requests raced to
queue it (a count taken inside one request cannot see another request's report).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from reporting_portal.storage.models import (
    AccessGrant,
    CaseRead,
    IdentityAccessRequest,
    IdentityRequestStatus,
    ObjectKind,
    ReportObject,
    Role,
    StaffAccount,
    StaffRole,
)

# What a reporter sends that a handler has to read; files hang off content or messages.
_UNREAD_KINDS = (ObjectKind.CONTENT, ObjectKind.MESSAGE)


def reachable(role: Role) -> ColumnElement[bool]:
    """Join condition on ``StaffRole``: active holders of ``role`` with an address."""
    return and_(StaffRole.staff_id == StaffAccount.id, StaffRole.role == role,
                StaffAccount.is_active.is_(True), StaffAccount.email.is_not(None),
                StaffAccount.email != "")


def unread_counts(db: Session, staff_ids: list[int]) -> dict[int, int]:
    """Per handler: granted reports whose newest reporter content or message is unread.

    A report without a ``case_read`` row for the handler counts as unread.
    """
    if not staff_ids:
        return {}
    newest = (
        select(
            ReportObject.report_id.label("report_id"),
            func.max(ReportObject.id).label("newest_id"),
        )
        .where(ReportObject.from_reporter.is_(True), ReportObject.kind.in_(_UNREAD_KINDS))
        .group_by(ReportObject.report_id)
        .subquery()
    )
    rows = db.execute(
        select(AccessGrant.staff_id, func.count())
        .join(newest, newest.c.report_id == AccessGrant.report_id)
        .outerjoin(
            CaseRead,
            and_(
                CaseRead.report_id == AccessGrant.report_id,
                CaseRead.staff_id == AccessGrant.staff_id,
            ),
        )
        .where(
            AccessGrant.staff_id.in_(staff_ids),
            or_(CaseRead.last_object_id.is_(None), CaseRead.last_object_id < newest.c.newest_id),
        )
        .group_by(AccessGrant.staff_id)
    )
    return {staff_id: int(count) for staff_id, count in rows}


def waiting_identity_requests(db: Session) -> int:
    """Identity requests waiting for a custodian's decision."""
    return int(db.scalar(select(func.count()).select_from(IdentityAccessRequest).where(
        IdentityAccessRequest.status == IdentityRequestStatus.PENDING)) or 0)


def is_custodian(db: Session, staff_id: int) -> bool:
    return db.scalar(select(StaffRole.staff_id).where(
        StaffRole.staff_id == staff_id, StaffRole.role == Role.IDENTITY_CUSTODIAN)) is not None
