"""Staff accounts and their roles."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reporting_portal.storage.db import Base, new_public_id
from reporting_portal.storage.models.types import UTCDateTime, utc_now


class Role(StrEnum):
    """What a staff member may do. A person holds only the roles granted explicitly."""

    ADMINISTRATOR = "administrator"
    CASE_HANDLER = "case_handler"
    IDENTITY_CUSTODIAN = "identity_custodian"
    AUDITOR = "auditor"


class StaffAccount(Base):
    __tablename__ = "staff_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(256))
    # Set for the one-time password an administrator hands over; cleared when the person
    # chooses their own (ASVS 6.4.6: administrators never know a working password).
    must_change_password: Mapped[bool] = mapped_column(default=True)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last accepted TOTP time step: each code is accepted once (ASVS 6.5.1).
    totp_last_step: Mapped[int | None]
    # The staff member's age identity: public recipient, and the secret wrapped with a
    # key derived from the password. Both are made when the person sets a password.
    age_recipient: Mapped[str | None] = mapped_column(Text)
    wrapped_identity: Mapped[bytes | None] = mapped_column(LargeBinary)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    # Set by the person once they hold a passkey: the password and TOTP code no longer
    # sign them in (staff.auth.passkeys). The password still wraps their key, as a fallback.
    passkey_only: Mapped[bool] = mapped_column(default=False)

    roles: Mapped[list[StaffRole]] = relationship(
        back_populates="staff", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(Role(entry.role) for entry in self.roles)

    def has_role(self, role: Role) -> bool:
        return role in self.role_set


class StaffRole(Base):
    __tablename__ = "staff_role"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_account.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)

    staff: Mapped[StaffAccount] = relationship(back_populates="roles")



class PasskeyRequiredRole(Base):
    """A role whose members must sign in with a passkey, as an administrator chose."""

    __tablename__ = "passkey_required_role"

    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class StaffPasskey(Base):
    """A WebAuthn credential of a staff member (staff.auth.passkeys).

    ``wrapped_identity`` is a second copy of the member's age identity, wrapped under a
    key derived (HKDF-SHA256, ``prf_salt``) from the authenticator's PRF output, which the
    server never stores: with it the passkey alone unlocks the member's key. Empty when
    the authenticator has no PRF, or after a key rotation until the next unlock.
    """

    __tablename__ = "staff_passkey"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_account.id", ondelete="CASCADE"), index=True
    )
    credential_id: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    prf_salt: Mapped[bytes | None] = mapped_column(LargeBinary)
    wrapped_identity: Mapped[bytes | None] = mapped_column(LargeBinary)
