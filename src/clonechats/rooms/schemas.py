"""API models of debate rooms: what a request may carry and what a response shows.

`RoomOut` is the owner's view. `PublicRoomOut` is what a share link shows anyone: the topic,
the speakers' names and taglines, the turns and the summary, with no owner, no persona ids, no
costs and no share settings. Every text is plain text: pages escape it, never mark it safe.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from clonechats.rooms.plan import participant

TOPIC_MAX, TEXT_MAX, WARNING_MAX = 300, 1000, 300
ROUNDS_MIN, ROUNDS_MAX = 1, 10
WORDS_MIN, WORDS_MAX = 10, 500


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RoomCreate(Strict):
    kind: Literal["debate"]
    topic: str = Field(min_length=1, max_length=TOPIC_MAX)
    persona_ids: list[str] = Field(min_length=2, max_length=4)
    rounds: int = Field(ge=ROUNDS_MIN, le=ROUNDS_MAX)
    moderator: Literal["auto", "user"]
    max_turn_words: int | None = Field(None, ge=WORDS_MIN, le=WORDS_MAX)

    @field_validator("topic")
    @classmethod
    def _topic(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value:
            raise ValueError("a topic is some text")
        return value

    @field_validator("persona_ids")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if any(not item or len(item) > 100 for item in value):
            raise ValueError("each persona id is 1 to 100 characters")
        if len(set(value)) != len(value):
            raise ValueError("each persona can take part only once")
        return value


class TextIn(Strict):
    text: str = Field(min_length=1, max_length=TEXT_MAX)


class FloorIn(Strict):
    persona_id: str = Field(min_length=1, max_length=100)


class MuteIn(Strict):
    persona_id: str = Field(min_length=1, max_length=100)
    muted: bool = True


class WarnIn(Strict):
    persona_id: str = Field(min_length=1, max_length=100)
    text: str = Field("", max_length=WARNING_MAX)


class ParticipantOut(BaseModel):
    persona_id: str
    name: str
    tagline: str
    avatar_media_id: str | None
    muted: bool
    left: bool


class TurnOut(BaseModel):
    id: str
    seq: int
    speaker: dict[str, Any]
    round: int
    kind: str
    text: str
    status: str
    trimmed: bool
    credits_charged: int
    created_at: datetime

    @classmethod
    def of(cls, turn: dict[str, Any]) -> "TurnOut":
        return cls(id=turn["_id"], seq=turn["seq"], speaker=turn["speaker"],
                   round=turn["round"], kind=turn["kind"], text=turn["text"],
                   status=turn["status"], trimmed=bool(turn.get("trimmed")),
                   credits_charged=turn.get("credits_charged", 0),
                   created_at=turn["created_at"])


class RoomOut(BaseModel):
    id: str
    kind: str
    topic: str
    status: str
    reason: str | None
    participants: list[ParticipantOut]
    rounds: int
    moderator: str
    max_turn_words: int | None
    floor: dict[str, Any] | None
    pending: int
    summary: str | None
    verdict: str | None
    verdict_requested: bool
    credits_charged: int
    share_id: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    turns: list[TurnOut] | None = None

    @classmethod
    def of(cls, room: dict[str, Any], turns: list[dict[str, Any]] | None = None) -> "RoomOut":
        return cls(
            id=room["_id"], kind=room["kind"], topic=room["topic"], status=room["status"],
            reason=room.get("reason"),
            participants=[ParticipantOut(
                persona_id=p["persona_id"], name=p["name"], tagline=p.get("tagline", ""),
                avatar_media_id=p.get("avatar_media_id"), muted=bool(p.get("muted")),
                left=bool(p.get("left"))) for p in room["participants"]],
            rounds=room["rounds"], moderator=room["moderator"],
            max_turn_words=room.get("max_turn_words"), floor=room.get("floor"),
            pending=len(room.get("pending") or []), summary=room.get("summary"),
            verdict=room.get("verdict"), verdict_requested=bool(room.get("verdict_requested")),
            credits_charged=room.get("credits_charged", 0), share_id=room.get("share_id"),
            created_at=room["created_at"], started_at=room.get("started_at"),
            finished_at=room.get("finished_at"),
            turns=None if turns is None else [TurnOut.of(t) for t in turns])


class PublicTurnOut(BaseModel):
    id: str
    seq: int
    speaker: dict[str, Any]  # {"type", "name"}: no persona ids
    round: int
    kind: str
    text: str
    status: str


class PublicRoomOut(BaseModel):
    topic: str
    status: str
    participants: list[dict[str, str]]
    rounds: int
    moderator: str
    summary: str | None
    verdict: str | None
    turns: list[PublicTurnOut]

    @classmethod
    def of(cls, room: dict[str, Any], turns: list[dict[str, Any]]) -> "PublicRoomOut":
        def speaker(turn: dict[str, Any]) -> dict[str, Any]:
            kind = turn["speaker"]["type"]
            if kind == "persona":
                found = participant(room, turn["speaker"].get("persona_id"))
                return {"type": kind, "name": found["name"] if found else "A speaker",
                        "index": room["participants"].index(found) if found else -1}
            return {"type": kind, "name": "Moderator" if kind == "moderator" else "Host"}

        return cls(topic=room["topic"], status=room["status"],
                   participants=[{"name": p["name"], "tagline": p.get("tagline", "")}
                                 for p in room["participants"]],
                   rounds=room["rounds"], moderator=room["moderator"],
                   summary=room.get("summary"), verdict=room.get("verdict"),
                   turns=[PublicTurnOut(id=t["_id"], seq=t["seq"], speaker=speaker(t),
                                        round=t["round"], kind=t["kind"], text=t["text"],
                                        status=t["status"])
                          for t in turns])
