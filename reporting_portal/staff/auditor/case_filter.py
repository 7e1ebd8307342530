"""The access log's object filter, taking what a handler reads out: a case number
("2026-0142") or the start of a case's reference, as well as a full object id."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from reporting_portal.domain.case_numbers import case_named_by
from reporting_portal.staff.auditor.browse import EventFilter
from reporting_portal.storage.models import Report


def with_case_resolved(db: Session, chosen: EventFilter) -> EventFilter:
    """``chosen`` with a case number or reference prefix replaced by the case's public id
    (the id its events name); any other object id is searched as typed."""
    typed = chosen.object_id
    if not typed or db.scalar(select(Report.id).where(Report.public_id == typed)) is not None:
        return chosen
    report = case_named_by(db, typed)
    return chosen if report is None else replace(chosen, object_id=report.public_id)
