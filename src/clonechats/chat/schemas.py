"""API models for chat: what comes in, and the shapes of conversations and messages going out.

A message never carries its bookkeeping (reservation, stop flag, withheld text): a reply hidden
by moderation shows only the notice and the reason.
"""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from clonechats.chat import conversation_settings, repo
from clonechats.chat.repo import Conversation, Message
from clonechats.chat.translation.schemas import (
    LanguageFlagOut,
    MessageTranslationOut,
    TranslationIn,
    TranslationModeOut,
)


class ConversationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    persona_id: str = Field(min_length=1, max_length=100)
    translation: TranslationIn | None = None  # a translation chat: each side its language


class AboutMeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field("", max_length=conversation_settings.ABOUT_NAME_MAX)
    description: str = Field("", max_length=conversation_settings.ABOUT_TEXT_MAX)


class ConversationUpdate(BaseModel):
    """At least one of: a new title, a pin or an unpin, and the chat's own settings (null
    clears a setting back to its default)."""

    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, max_length=1000)
    pinned: bool | None = None
    model: str | None = Field(None, min_length=1, max_length=200)
    temperature: float | None = Field(None, ge=0, le=2)
    reply_length: conversation_settings.ReplyLength | None = None
    about_me: AboutMeIn | None = None


class AboutMeOut(BaseModel):
    name: str
    description: str


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=100_000)
    speak: bool = False  # also stream the reply as audio (`voice.spoken_reply`)


class ReplyTextIn(BaseModel):
    """A persona reply's new text, written by the conversation's owner."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=100_000)


class ConversationOut(BaseModel):
    id: str
    persona_id: str
    persona_name: str
    title: str
    model: str
    url: str
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime
    translation: TranslationModeOut | None = None
    unread_count: int = 0
    pinned: bool = False
    temperature: float | None = None  # None: the operator's default
    reply_length: str | None = None  # None: the persona's reply-length slider
    about_me: AboutMeOut | None = None

    @classmethod
    def of(cls, conversation: Conversation) -> "ConversationOut":
        return cls(id=conversation["_id"], persona_id=conversation["persona_id"],
                   persona_name=conversation["persona_name"], title=conversation["title"],
                   model=conversation["model"], url=f"/chat/{conversation['_id']}",
                   created_at=conversation["created_at"], updated_at=conversation["updated_at"],
                   last_message_at=conversation["last_message_at"],
                   translation=conversation.get("translation"),
                   unread_count=conversation.get("unread_count") or 0,
                   pinned=bool(conversation.get("pinned")),
                   temperature=conversation.get("temperature"),
                   reply_length=conversation.get("reply_length"),
                   about_me=conversation.get("about_me"))


class SnippetOut(BaseModel):
    """A message in a list: who wrote it, when, and its text on one line, shortened."""

    message_id: str
    role: str
    text: str
    at: datetime


class ConversationListItemOut(ConversationOut):
    preview: SnippetOut | None = None  # the last shown message
    match: SnippetOut | None = None  # in a search: the latest message that matched

    @classmethod
    def of(cls, conversation: Conversation) -> "ConversationListItemOut":
        return cls(**ConversationOut.of(conversation).model_dump(),
                   preview=conversation.get("preview"), match=conversation.get("match"))


class UsageOut(BaseModel):
    prompt_tokens: int
    completion_tokens: int


class MoodOut(BaseModel):
    label: str
    valence: float


class ModerationOut(BaseModel):
    flagged: bool
    reason: str | None


class MessageOut(BaseModel):
    id: str
    conversation_id: str
    role: str
    text: str
    html: str | None
    status: str
    model: str | None
    usage: UsageOut | None
    credits_charged: int
    mood: MoodOut | None
    moderation: ModerationOut | None
    error_code: str | None
    created_at: datetime
    completed_at: datetime | None
    replaces_message_id: str | None
    cut: bool = False  # the reply reached the length limit; it can be continued
    edited: bool = False  # the owner rewrote this persona reply
    edited_at: datetime | None = None
    language: str | None = None  # translation chats: the language `text` is in
    translation: MessageTranslationOut | None = None
    translation_error: str | None = None
    language_flag: LanguageFlagOut | None = None

    @classmethod
    def of(cls, message: Message) -> "MessageOut":
        return cls(
            id=message["_id"], conversation_id=message["conversation_id"], role=message["role"],
            text=message["text"], html=message.get("html"), status=message["status"],
            model=message.get("model"), usage=message.get("usage"),
            credits_charged=message.get("credits_charged", 0), mood=message.get("mood"),
            moderation=message.get("moderation"), error_code=message.get("error_code"),
            created_at=message["created_at"], completed_at=message.get("completed_at"),
            replaces_message_id=message.get("replaces_message_id"),
            cut=repo.is_cut(message), edited=message.get("edited_at") is not None,
            edited_at=message.get("edited_at"), language=message.get("language"),
            translation=message.get("translation"),
            translation_error=message.get("translation_error"),
            language_flag=message.get("language_flag"))
