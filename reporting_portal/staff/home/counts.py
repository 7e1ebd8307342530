"""The figures on the staff home page's cards.

Plaintext triage columns only (status, due dates, request status): no encrypted object
is read, so counting needs no key and is no read of report content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from reporting_portal.storage.models import (
    AccessGrant,
    IdentityAccessRequest,
    IdentityRequestStatus,
    Report,
    ReportStatus,
)


@dataclass(frozen=True)
class CaseCounts:
    new: int  # received, not yet acknowledged
    overdue: int  # acknowledgement or feedback date past


def case_counts(db: Session, staff_id: int, today: date) -> CaseCounts:
    """Counts over the cases this member of staff holds a grant for (those they can open),
    with the inbox's own definitions of "received" and "overdue" (casework/inbox.py)."""
    overdue = or_(
        and_(Report.status == ReportStatus.RECEIVED, Report.acknowledgement_due < today),
        and_(Report.status != ReportStatus.CLOSED, Report.feedback_due < today),
    )
    new, late = db.execute(
        select(func.count(Report.id).filter(Report.status == ReportStatus.RECEIVED),
               func.count(Report.id).filter(overdue))
        .join(AccessGrant, and_(AccessGrant.report_id == Report.id,
                                AccessGrant.staff_id == staff_id))
    ).one()
    return CaseCounts(new=int(new), overdue=int(late))


def waiting_identity_requests(db: Session) -> int:
    """Identity requests no custodian has decided yet."""
    return int(db.scalar(
        select(func.count(IdentityAccessRequest.id))
        .where(IdentityAccessRequest.status == IdentityRequestStatus.PENDING)
    ) or 0)
