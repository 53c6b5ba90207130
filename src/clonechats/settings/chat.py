"""Chat, debate rooms and scheduled messages: limits, prices per model, timing."""

from decimal import Decimal

from pydantic import BaseModel, Field


class ModelPrice(BaseModel):
    """What one reply from a model costs, in credits (rounded up, never below `minimum`)."""

    prompt_per_1k: Decimal = Field(ge=0, description="Credits per 1,000 prompt tokens.")
    completion_per_1k: Decimal = Field(ge=0, description="Credits per 1,000 reply tokens.")
    minimum: int = Field(1, ge=0, description="Least a reply that delivered text costs.")


def _default_prices() -> dict[str, ModelPrice]:
    return {
        "local:*": ModelPrice(prompt_per_1k=Decimal("0.5"), completion_per_1k=Decimal("2"),
                              minimum=1),
        "*": ModelPrice(prompt_per_1k=Decimal("1"), completion_per_1k=Decimal("3"), minimum=1),
    }


class ChatSettings(BaseModel):
    """Text chat: prices per model, reply length, context budget and generation bookkeeping."""

    prices: dict[str, ModelPrice] = Field(
        default_factory=_default_prices, description="Model id (`openai:gpt-4o-mini`), "
        "`provider:*` or `*` -> price; the most specific match applies.")
    max_reply_tokens: int = Field(512, ge=1, description="Longest reply, in tokens (also "
                                  "capped at a quarter of the model's context window).")
    context_margin_tokens: int = Field(32, ge=0, description="Tokens kept free in the context "
                                       "window besides the reply, for counting differences.")
    max_message_chars: int = Field(4000, ge=1, description="Longest message a user may send.")
    summary_max_chars: int = Field(2000, ge=200, description="Longest running summary of "
                                   "older turns kept for a conversation.")
    temperature: float = Field(0.7, ge=0, le=2, description="Sampling temperature.")
    generation_lease_seconds: float = Field(120.0, gt=0, description="How long a reply in "
                                            "progress holds its conversation; renewed while "
                                            "tokens arrive. An abandoned reply is settled "
                                            "after it expires.")
    stop_poll_seconds: float = Field(1.0, ge=0, description="How often a reply in progress "
                                     "saves its text and checks for a stop request made "
                                     "through another server process.")
    mood_signals: bool = Field(True, description="Label each message with a mood (one "
                               "embedding per message, on this machine, worked out after the "
                               "reply in batches); off: no mood is stored.")
    mood_backlog_max: int = Field(500, ge=0, description="Most messages waiting for their mood "
                                  "in one process; beyond it new ones wait in the database "
                                  "and are picked up when the backlog is idle again.")
    max_concurrent_replies: int = Field(600, ge=1, description="Most replies one server process "
                                        "writes at once; past it a new one is refused with "
                                        "503 `server_busy` and a Retry-After.")


class RoomSettings(BaseModel):
    """Debate rooms: turn length, leases of the job that drives a room, and live viewers."""

    max_turn_tokens: int = Field(256, ge=16, le=4096, description="Longest persona turn, in "
                                 "tokens (also capped by the word limit a room sets).")
    max_summary_tokens: int = Field(384, ge=32, le=4096, description="Longest closing summary "
                                    "or verdict, in tokens.")
    lease_seconds: float = Field(30.0, gt=0, description="How long the job driving a room "
                                 "holds it; renewed while a turn is written. A room whose "
                                 "process died is resumed by the jobs once it expires.")
    renew_seconds: float = Field(1.0, ge=0, description="How often a turn being written "
                                 "renews its lease and checks for a stop made through another "
                                 "process (0: after every token).")
    viewer_poll_seconds: float = Field(0.25, gt=0, description="How often a live viewer's "
                                       "stream looks for new room events in the database.")
    keepalive_seconds: float = Field(15.0, gt=0, description="A comment line is sent to idle "
                                     "viewers this often, so proxies keep the stream open.")
    transcript_chars: int = Field(6000, ge=500, description="Most of the debate so far (newest "
                                  "first) a speaker is shown before older turns are condensed "
                                  "to their first sentence.")
    max_pending: int = Field(3, ge=1, le=20, description="Interjections and moderator actions "
                             "that may wait for the current turn to end.")
    compact_after_seconds: float = Field(3600.0, ge=0, description="How long after a debate "
                                         "ends its token events are dropped (each turn's end "
                                         "event keeps its whole text, so replays stay whole).")


class ScheduledSettings(BaseModel):
    """Scheduled ("send later") messages: limits, and retrying a delivery the model could not
    answer."""

    max_ahead_days: int = Field(365, ge=1, le=366, description="Furthest ahead a message may "
                                "be scheduled.")
    max_pending_per_user: int = Field(100, ge=1, description="Pending scheduled messages one "
                                      "person may hold at once.")
    retry_window_minutes: float = Field(30.0, ge=0, description="How long after its time a "
                                        "delivery keeps being retried while the model is "
                                        "unavailable, before it is marked failed.")
    retry_base_seconds: float = Field(30.0, gt=0, description="First retry delay; doubles "
                                      "each time.")
    retry_max_seconds: float = Field(600.0, gt=0, description="Longest delay between retries.")
    busy_retry_seconds: float = Field(5.0, gt=0, description="Wait when the conversation is "
                                      "busy with another reply at the due time.")
