"""The data model. Importing this package registers every table on ``Base.metadata``."""

from reporting_portal.storage.models.audit import (
    AuditEvent,
    AuditLogState,
    AuditTreeHead,
    AuditTreeNode,
    HeldAuditEvent,
)
from reporting_portal.storage.models.channels import Channel, ReferralNotice, channel_handler
from reporting_portal.storage.models.history import CaseChange
from reporting_portal.storage.models.outbox import DeadlineReminder, NoticeOutbox, NoticeState
from reporting_portal.storage.models.protection import ProtectionMeasure, ProtectionRecord
from reporting_portal.storage.models.referrals import Authority, Referral
from reporting_portal.storage.models.reports import (
    AccessGrant,
    CaseNumberCounter,
    CaseRead,
    ClosingOutcome,
    IdentityAccessRequest,
    IdentityPurpose,
    IdentityRequestStatus,
    InboxCount,
    Label,
    MessageType,
    ObjectKind,
    Priority,
    Report,
    ReportExclusion,
    ReportObject,
    ReportStatus,
    report_label,
)
from reporting_portal.storage.models.rotation import KeyRotation, RotationSubject
from reporting_portal.storage.models.staff import (
    PasskeyRequiredRole,
    Role,
    StaffAccount,
    StaffPasskey,
    StaffRole,
)
from reporting_portal.storage.models.system import Installation, RateLimitCounter, StoredSession

__all__ = [
    "AccessGrant",
    "AuditEvent",
    "AuditLogState",
    "AuditTreeHead",
    "AuditTreeNode",
    "Authority",
    "CaseChange",
    "CaseNumberCounter",
    "CaseRead",
    "Channel",
    "ClosingOutcome",
    "DeadlineReminder",
    "HeldAuditEvent",
    "IdentityAccessRequest",
    "IdentityPurpose",
    "IdentityRequestStatus",
    "InboxCount",
    "Installation",
    "KeyRotation",
    "Label",
    "MessageType",
    "NoticeOutbox",
    "NoticeState",
    "ObjectKind",
    "PasskeyRequiredRole",
    "Priority",
    "ProtectionMeasure",
    "ProtectionRecord",
    "RateLimitCounter",
    "Referral",
    "ReferralNotice",
    "Report",
    "ReportExclusion",
    "ReportObject",
    "ReportStatus",
    "Role",
    "RotationSubject",
    "StaffAccount",
    "StaffPasskey",
    "StaffRole",
    "StoredSession",
    "channel_handler",
    "report_label",
]
