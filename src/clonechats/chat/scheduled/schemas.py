"""API models for scheduled messages: what comes in, and the item going out.

`send_at` is ISO 8601 with an offset (an instant), or a local time without one, read in
`time_zone` (or the user's profile zone); `fold` picks the second of a local time that happens
twice when the clocks go back. A cancelled item's text is empty: it is no longer stored.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from clonechats.chat.scheduled import timing


class ScheduledCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=100_000)
    send_at: str = Field(max_length=100)
    kind: Literal["message", "reply"] = "message"
    time_zone: str | None = Field(None, max_length=64)
    fold: Literal[0, 1] = 0


class ScheduledUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(None, max_length=100_000)
    send_at: str | None = Field(None, max_length=100)
    time_zone: str | None = Field(None, max_length=64)
    fold: Literal[0, 1] = 0


class SchedulingPreferences(BaseModel):
    model_config = ConfigDict(extra="forbid")
    time_zone: str | None = Field(None, max_length=64)
    email_notice: bool | None = None


class ScheduledError(BaseModel):
    code: str
    message: str


class ScheduledOut(BaseModel):
    id: str
    conversation_id: str
    kind: str
    text: str
    send_at: datetime
    send_at_local: str
    time_zone: str
    status: str
    error: ScheduledError | None
    attempts: int
    retry_at: datetime | None
    delivered_at: datetime | None
    message_ids: list[str]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, item: dict[str, Any]) -> "ScheduledOut":
        return cls(id=item["_id"], conversation_id=item["conversation_id"], kind=item["kind"],
                   text=item.get("text") or "", send_at=item["send_at"],
                   send_at_local=timing.in_zone(item["send_at"], item.get("time_zone")).isoformat(),
                   time_zone=item.get("time_zone") or timing.DEFAULT_TIME_ZONE,
                   status=item["status"], error=item.get("error"),
                   attempts=item.get("attempts", 0), retry_at=item.get("retry_at"),
                   delivered_at=item.get("delivered_at"),
                   message_ids=item.get("message_ids") or [], created_at=item["created_at"],
                   updated_at=item["updated_at"])
