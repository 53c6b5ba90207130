"""API models for memories. The text rules themselves live in `service.clean_text`."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Generous bound on what is read at all; the service gives the exact limit its own message.
TEXT_FIELD_MAX = 20_000


class MemoryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=TEXT_FIELD_MAX)
    pinned: bool = False


class MemoryUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, max_length=TEXT_FIELD_MAX)
    pinned: bool | None = None


class MemoryOut(BaseModel):
    id: str
    persona_id: str
    text: str
    pinned: bool
    source: Literal["user", "chat"]
    source_conversation_id: str | None
    created_at: datetime
    updated_at: datetime
    embedding_model: str | None  # the model of the stored vector; None while it is pending
    source_message_id: str | None = None  # the chat message it was learnt from


class LearningUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool


class RecalledOut(MemoryOut):
    score: float
    matched_by: Literal["meaning", "words", "pinned"]
