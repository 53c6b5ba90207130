"""What the model reads of a translation chat: the persona-language side of every message.

A user message in a translation chat keeps what the user wrote (`text`, in `language`) and its
`translation` into the persona's language; a reply keeps what the model wrote (`text`, in the
persona's language) and its translation for the user. `model_text()` picks the persona-language
side, so the context the model sees is in one language; `language_instruction()` asks the model
to write in it. Both leave ordinary conversations exactly as they were.
"""

from typing import Any

from clonechats.chat.repo import Conversation, Message
from clonechats.providers.llm.base import ChatMessage
from clonechats.providers.translation.languages import english_name

TRANSLATION_EVENT = "translation"


def model_text(message: Message) -> str:
    """The text of `message` as the persona reads it."""
    translation = message.get("translation")
    if message.get("role") == "user" and translation and translation.get("text") is not None:
        return translation["text"]
    return message["text"]


def language_instruction(conversation: Conversation) -> list[ChatMessage]:
    mode = conversation.get("translation")
    if not mode:
        return []
    language = english_name(mode["persona_language"])
    return [ChatMessage("system", f"Write every reply in {language}, whatever language "
                                  "earlier messages used.")]


def event_for(message: Message) -> dict[str, Any] | None:
    """The `translation` SSE event of a settled reply in a translation chat, else None."""
    if not message.get("language"):
        return None
    translation = message.get("translation")
    if translation:
        return {"message_id": message["_id"], "language": translation["language"],
                "text": translation["text"], "provider": translation["provider"]}
    if message.get("translation_error"):
        return {"message_id": message["_id"], "language": None, "text": None,
                "provider": None, "error": {"code": message["translation_error"],
                                            "message": UNAVAILABLE_NOTE}}
    return None


UNAVAILABLE_NOTE = ("The translation is unavailable right now, so this reply is shown as the "
                    "persona wrote it. You can try translating it again.")
