"""API models of the privacy domain."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from clonechats.privacy.requests import is_overdue


class SettingsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    analytics_opt_in: bool | None = None


class AnalyticsEventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["page", "feature"] = "page"
    name: str = Field(min_length=1, max_length=300, description="A page's path (pages) or a "
                      "feature's name (features).")


class DataRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["access", "correction", "deletion"]
    message: str = Field("", max_length=4000)


class DataRequestForEmailIn(DataRequestIn):
    email: str = Field(min_length=3, max_length=320)


class DataRequestUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["open", "in_progress", "done", "rejected"] | None = None
    note: str | None = Field(None, max_length=2000)


class DataRequestOut(BaseModel):
    id: str
    kind: str
    message: str
    status: str
    source: str
    created_at: datetime
    due_at: datetime
    closed_at: datetime | None
    overdue: bool

    @classmethod
    def of(cls, request: dict[str, Any], *, now: datetime) -> "DataRequestOut":
        return cls(id=request["_id"], kind=request["kind"], message=request["message"],
                   status=request["status"], source=request["source"],
                   created_at=request["created_at"], due_at=request["due_at"],
                   closed_at=request["closed_at"], overdue=is_overdue(request, now))


class DataRequestAdminOut(DataRequestOut):
    email: str | None
    user_id: str | None
    notes: list[dict[str, Any]]

    @classmethod
    def of(cls, request: dict[str, Any], *, now: datetime) -> "DataRequestAdminOut":
        base = DataRequestOut.of(request, now=now).model_dump()
        return cls(**base, email=request.get("email"), user_id=request.get("user_id"),
                   notes=[{"at": n["at"].isoformat(), "text": n["text"]}
                          for n in request.get("notes", [])])
