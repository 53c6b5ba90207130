"""One conversation as a file its owner downloads: Markdown to read, or JSON to keep.

Both hold what the chat page shows, in order: the shown messages (not replaced versions, not
text withheld by moderation; a hidden reply shows its notice). The JSON is the API's own
shapes (`ConversationOut`, `MessageOut`) under `conversation` and `messages`; the account's
full data export is `privacy.export`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from clonechats.chat import repo, service
from clonechats.chat.repo import Conversation, Message
from clonechats.chat.schemas import ConversationOut, MessageOut

if TYPE_CHECKING:
    from clonechats.context import Ctx


Format = Literal["markdown", "json"]
MEDIA_TYPES = {"markdown": "text/markdown; charset=utf-8", "json": "application/json"}
EXTENSIONS = {"markdown": "md", "json": "json"}
SLUG_MAX = 40


@dataclass(frozen=True)
class Transcript:
    filename: str
    media_type: str
    body: str


def slug(title: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return words[:SLUG_MAX].rstrip("-") or "chat"


def shown_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def as_markdown(conversation: Conversation, messages: list[Message],
                exported_at: datetime) -> str:
    persona = conversation["persona_name"]
    lines = [f"# {conversation['title']}", "",
             f"A chat with {persona}, exported {shown_time(exported_at)}; "
             f"{len(messages)} message{'' if len(messages) == 1 else 's'}.", ""]
    for message in messages:
        author = "You" if message["role"] == "user" else persona
        note = " (edited)" if message.get("edited_at") else ""
        lines += ["---", "", f"**{author}** · {shown_time(message['created_at'])}{note}", "",
                  message["text"], ""]
    return "\n".join(lines)


def as_json(conversation: Conversation, messages: list[Message],
            exported_at: datetime) -> str:
    document = {
        "exported_at": exported_at.astimezone(UTC).isoformat(),
        "conversation": ConversationOut.of(conversation).model_dump(mode="json"),
        "messages": [MessageOut.of(m).model_dump(mode="json") for m in messages]}
    return json.dumps(document, ensure_ascii=False, indent=2)


async def export(ctx: Ctx, *, user_id: str, conversation_id: str, fmt: Format) -> Transcript:
    conversation = await service.get(ctx, user_id=user_id, conversation_id=conversation_id)
    messages = await repo.visible_after(ctx.db, conversation_id, after_seq=0)
    now = ctx.clock.now()
    body = (as_markdown if fmt == "markdown" else as_json)(conversation, messages, now)
    filename = f"chat-{slug(conversation['title'])}-{now.astimezone(UTC):%Y%m%d}.{EXTENSIONS[fmt]}"
    return Transcript(filename=filename, media_type=MEDIA_TYPES[fmt], body=body)
