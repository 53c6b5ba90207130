"""API models for the admin area."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from clonechats.accounts.users import User


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: str = Field(max_length=20)
    password: str | None = Field(None, max_length=1024)
    """The acting admin's own password (re-authentication)."""


class AdminUserOut(BaseModel):
    id: str
    email: str | None
    display_name: str | None
    role: str
    status: str
    plan: str
    email_verified: bool
    auth_provider: str
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> "AdminUserOut":
        return cls(id=user["_id"], email=user.get("email"), display_name=user.get("display_name"),
                   role=user["role"], status=user["status"], plan=user.get("plan", "free"),
                   email_verified=user.get("email_verified", False),
                   auth_provider=user["auth_provider"], created_at=user["created_at"])


class AuditEventOut(BaseModel):
    id: str
    event: str
    user_id: str | None
    at: datetime
    ip_hash: str | None
    user_agent: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, event: dict[str, Any]) -> "AuditEventOut":
        return cls(id=event["_id"], event=event["event"], user_id=event.get("user_id"),
                   at=event["at"], ip_hash=event.get("ip_hash"),
                   user_agent=event.get("user_agent"), details=event.get("details") or {})


class SuspendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=2000)
    """Why, for the audit log (not shown to the person)."""
    reason: str | None = Field(None, max_length=300)
    """The sentence the person is shown when sign-in is refused."""


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=2000)


class CreditsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delta: int
    reason: str = Field(max_length=300)
