"""The data model. Importing this package registers every table on ``Base.metadata``."""

from reporting_portal.storage.models.audit import (
    AuditEvent,
    AuditLogState,
    AuditTreeHead,
    AuditTreeNode,
    HeldAuditEvent,
)
from reporting_portal.storage.models.channels import Channel, channel_handler
from reporting_portal.storage.models.history import CaseChange
from reporting_portal.storage.models.outbox import DeadlineReminder, NoticeOutbox, NoticeState
from reporting_portal.storage.models.reports import (
    AccessGrant,
    CaseNumberCounter,
    CaseRead,
    ClosingOutcome,
    IdentityAccessRequest,
    IdentityRequestStatus,
    InboxCount,
    Label,
    ObjectKind,
    Priority,
    Report,
    ReportExclusion,
    ReportObject,
    ReportStatus,
    report_label,
)
from reporting_portal.storage.models.rotation import KeyRotation, RotationSubject
from reporting_portal.storage.models.staff import Role, StaffAccount, StaffRole
from reporting_portal.storage.models.system import Installation, RateLimitCounter, StoredSession

__all__ = [
    "AccessGrant",
    "AuditEvent",
    "AuditLogState",
    "AuditTreeHead",
    "AuditTreeNode",
    "CaseChange",
    "CaseNumberCounter",
    "CaseRead",
    "Channel",
    "ClosingOutcome",
    "DeadlineReminder",
    "HeldAuditEvent",
    "IdentityAccessRequest",
    "IdentityRequestStatus",
    "InboxCount",
    "Installation",
    "KeyRotation",
    "Label",
    "NoticeOutbox",
    "NoticeState",
    "ObjectKind",
    "Priority",
    "RateLimitCounter",
    "Report",
    "ReportExclusion",
    "ReportObject",
    "ReportStatus",
    "Role",
    "RotationSubject",
    "StaffAccount",
    "StaffRole",
    "StoredSession",
    "channel_handler",
    "report_label",
]
