"""Keep what each triage change set, beside its audit event (storage/models/history.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from reporting_portal.audit.events import AuditAction
from reporting_portal.domain.actors import Actor
from reporting_portal.storage.models import CaseChange, Report


def record_case_change(db: Session, actor: Actor, action: AuditAction, report: Report,
                       **detail: Any) -> None:
    """One row of the case's history, in the caller's transaction (with its audit event).

    ``detail`` holds triage values only: stage, priority and outcome codes, label names,
    a colleague's public id. Never report content or anything about the reporter.
    """
    # The moment of the call, not of the flush: a change and the message it sends
    # (an acknowledgement) keep the order they were made in.
    db.add(CaseChange(report_id=report.id, action=str(action), detail=detail,
                      occurred_at=datetime.now(UTC),
                      actor_id=actor.account.public_id if actor.account else None))
