"""API models for accounts."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from clonechats.accounts.repo import User


class SignupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    password: str = Field(max_length=4096)
    display_name: str | None = Field(None, max_length=80)
    birth_date: date
    guardian_email: str | None = Field(None, max_length=320)


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=320)
    password: str = Field(max_length=4096)
    next: str | None = Field(None, max_length=2000)
    """Where the browser goes once signed in (a path on this site); kept across the
    two-factor step."""


class TwoFactorCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=32)


class TwoFactorLoginIn(TwoFactorCodeIn):
    token: str | None = Field(None, max_length=200)
    """The pending login's token; browsers send it as the `two_factor_login` cookie instead."""


class TwoFactorDisableIn(TwoFactorCodeIn):
    password: str = Field(max_length=4096)


class TokenIn(BaseModel):
    token: str = Field(max_length=200)


class EmailIn(BaseModel):
    email: str = Field(max_length=320)


class ResetConfirmIn(BaseModel):
    token: str = Field(max_length=200)
    password: str = Field(max_length=4096)


class PasswordChangeIn(BaseModel):
    current_password: str = Field(max_length=4096)
    new_password: str = Field(max_length=4096)


class AccountDeleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str | None = Field(None, max_length=4096)


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(None, max_length=80)
    show_name_on_personas: bool | None = None  # None: leave the choice as it is


Theme = Literal["system", "light", "dark"]
TextSize = Literal["small", "normal", "large"]


class AppearanceUpdate(BaseModel):
    """The page theme and text size; an omitted field keeps its value."""

    model_config = ConfigDict(extra="forbid")

    theme: Theme | None = None
    text_size: TextSize | None = None


class EmailChangeIn(BaseModel):
    new_email: str = Field(max_length=320)
    password: str = Field(max_length=4096)


class ApiKeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=60)


class UserOut(BaseModel):
    id: str
    email: str | None
    display_name: str | None
    show_name_on_personas: bool
    email_verified: bool
    role: str
    status: str
    plan: str
    credits: int
    auth_provider: str
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> "UserOut":
        return cls(id=user["_id"], email=user.get("email"),
                   display_name=user.get("display_name"),
                   show_name_on_personas=user.get("show_name_on_personas", False),
                   email_verified=user.get("email_verified", False), role=user["role"],
                   status=user["status"], plan=user.get("plan", "free"),
                   credits=user.get("credits", 0), auth_provider=user["auth_provider"],
                   created_at=user["created_at"])


class SessionOut(BaseModel):
    id: str
    created_at: datetime
    last_seen_at: datetime
    user_agent: str
    current: bool


class ApiKeyOut(BaseModel):
    id: str
    name: str
    hint: str
    created_at: datetime
    last_used_at: datetime | None
