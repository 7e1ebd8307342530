"""A case's triage history: what each change set, for the case page's timeline (issue 15).

The access log says who changed a case and when, but holds no values (audit.events has
no free-text field, on purpose). What a handler needs to read on the timeline — "Stage:
Assessment → Investigation" — is triage metadata, already plaintext on the report: the
stage, priority and outcome codes, label names and a colleague's public id. Never report
content, never anything about the reporter. Rows go with their report when it is purged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from reporting_portal.storage.db import Base
from reporting_portal.storage.models.types import UTCDateTime, utc_now


class CaseChange(Base):
    """One triage change of a case by a member of staff, with the values it changed."""

    __tablename__ = "case_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"),
                                           index=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    # The staff member's public id, as the access log names them (None: the system).
    actor_id: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))  # an AuditAction tag
    # {"old": ..., "new": ...}, {"added": [...], "removed": [...]}, {"handler": id}; {}
    # for changes made before values were kept (migration 0016). A change the system made
    # because of a reporter's act names its cause as a code ({"cause": "retaliation"}),
    # and is dated to the day (domain/retaliation.py).
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
