"""Translation chats: choosing the two languages, and translating each message on its way.

A conversation in translation mode stores `translation: {"user_language",
"persona_language"}` (BCP 47 tags, canonical case). Creating one is refused with 422
`translation_unavailable` unless some translator serves both directions.

- A user message keeps what the user wrote (`text`, `language`) and, before the model sees
  anything, its `translation` into the persona's language (`{"language", "text",
  "provider"}`). When no translator can do it now the message is refused with 503
  `translation_unavailable` before anything is stored or charged.
- A reply is written in the persona's language; once it ends (complete or stopped) it is
  translated for the user in the same write that settles it. When that fails the reply is
  kept as written, with `translation_error` set (`chat.translation.retry` tries again).
- Each text's language is detected (`chat.translation.detection`); one written in another
  language than expected gets a `language_flag` {"detected", "expected", "confidence"}, and
  when a translator serves the detected language, that is what it is translated from (a
  message already in the target language is kept as it is, provider "none").
This module never imports the web framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clonechats.chat import markdown, repo
from clonechats.chat.repo import Conversation, Message
from clonechats.chat.translation import detection
from clonechats.errors import AppError
from clonechats.providers.errors import ProviderError
from clonechats.providers.translation.languages import canonical, english_name, label, primary
from clonechats.providers.translation.registry import TranslationRegistry

if TYPE_CHECKING:
    from clonechats.context import Ctx


UNTRANSLATED = "none"  # the provider of a text already in the target language
TRANSLATED_STATUSES = (repo.COMPLETE, repo.STOPPED)


class TranslationUnavailable(AppError):
    code = "translation_unavailable"
    status = 422
    message = "No translator on this server serves that pair of languages."


class TranslationFailed(AppError):
    code = "translation_unavailable"
    status = 503
    message = ("Your message could not be translated right now, so it was not sent and "
               "nothing was charged. Please try again in a moment.")


class InvalidLanguage(AppError):
    code = "invalid_language"
    status = 422
    message = "A language is a BCP 47 tag such as en, es or pt-BR."


def registry(ctx: Ctx) -> TranslationRegistry:
    return ctx.translation or TranslationRegistry([])


def _tag(value: str, field: str) -> str:
    tag = canonical(value)
    if tag is None:
        raise InvalidLanguage(f"“{value[:40]}” is not a language tag such as en, es or pt-BR.",
                              details={"field": field})
    return tag


def mode_for(ctx: Ctx, *, user_language: str, persona_language: str) -> dict[str, str]:
    """The translation mode of a new conversation, once both directions are served."""
    user = _tag(user_language, "user_language")
    persona = _tag(persona_language, "persona_language")
    if primary(user) == primary(persona):
        raise AppError("A translation chat needs two different languages.",
                       code="same_language", status=422)
    found = registry(ctx)
    missing = [f"{english_name(a)} to {english_name(b)}" for a, b in ((user, persona),
                                                                      (persona, user))
               if not found.serves(a, b)]
    if missing:
        partners = sorted({b for (a, b) in found.pairs() if a == primary(user)
                           and found.serves(b, a)})
        choice = (f" With {english_name(user)} you can pick: "
                  f"{', '.join(english_name(code) for code in partners)}." if partners else
                  f" No language can be paired with {english_name(user)} here.")
        raise TranslationUnavailable(
            f"No translator on this server can translate {' or '.join(missing)}.{choice}",
            details={"user_language": user, "persona_language": persona,
                     "available_persona_languages": partners})
    detection.warm()
    return {"user_language": user, "persona_language": persona}


async def _source_of(ctx: Ctx, mode: dict[str, str], text: str, *, declared: str,
                     target: str) -> tuple[dict[str, Any] | None, str]:
    """The language flag of `text` (None when it is in `declared` or cannot be told) and the
    language to translate it from."""
    settings = ctx.settings.translation
    found = await detection.detect(
        text, languages=[*settings.detect_languages, mode["user_language"],
                         mode["persona_language"]],
        min_chars=settings.detect_min_chars, min_confidence=settings.detect_min_confidence)
    if found is None or found.language == primary(declared):
        return None, declared
    flag = {"detected": found.language, "expected": declared,
            "confidence": found.confidence}
    if found.language == primary(target) or registry(ctx).serves(found.language, target):
        return flag, found.language
    return flag, declared


async def _translate(ctx: Ctx, text: str, *, source: str, target: str) -> dict[str, Any]:
    if primary(source) == primary(target):
        return {"language": target, "text": text, "provider": UNTRANSLATED}
    result = await registry(ctx).translate(text, source=source, target=target)
    return {"language": target, "text": result.text, "provider": result.provider}


async def user_message_fields(ctx: Ctx, conversation: Conversation,
                              text: str) -> Message:
    """What a user message of `conversation` stores besides its text (nothing outside
    translation mode); `TranslationFailed` when it cannot be translated now."""
    mode = conversation.get("translation")
    if not mode:
        return {}
    target = mode["persona_language"]
    flag, source = await _source_of(ctx, mode, text, declared=mode["user_language"],
                                    target=target)
    try:
        translation = await _translate(ctx, text, source=source, target=target)
    except ProviderError:
        raise TranslationFailed(
            f"Your message could not be translated into {english_name(target)} right now, so "
            "it was not sent and nothing was charged. Please try again in a moment.") from None
    return {"language": source if flag else mode["user_language"], "translation": translation,
            "language_flag": flag}


async def reply_fields(ctx: Ctx, *, mode: dict[str, str] | None, status: str,
                       text: str) -> dict[str, Any]:
    """What a settled reply stores besides its text: its language and its translation for
    the user, or `translation_error` when no translator could do it (nothing outside
    translation mode)."""
    if not mode:
        return {}
    fields: dict[str, Any] = {"language": mode["persona_language"], "translation": None,
                              "translation_html": None, "translation_error": None,
                              "language_flag": None}
    if status not in TRANSLATED_STATUSES or not text.strip():
        return fields
    target = mode["user_language"]
    flag, source = await _source_of(ctx, mode, text, declared=mode["persona_language"],
                                    target=target)
    fields["language_flag"] = flag
    if flag:
        fields["language"] = source
    try:
        translation = await _translate(ctx, text, source=source, target=target)
    except ProviderError:
        fields["translation_error"] = TranslationUnavailable.code
        return fields
    fields["translation"] = translation
    fields["translation_html"] = markdown.render(translation["text"])
    return fields


def languages(ctx: Ctx) -> dict[str, Any]:
    """Every pair a translator serves, with who serves it (in the order they are tried), and
    the languages found in them."""
    table = registry(ctx).pairs()
    pairs = [{"source": source, "target": target,
              "providers": [{"name": offer.translator.name, "label": offer.translator.label,
                             "via": offer.via} for offer in offers]}
             for (source, target), offers in sorted(table.items())]
    codes = sorted({code for pair in table for code in pair})
    return {"pairs": pairs,
            "languages": [{"code": code, "name": english_name(code), "label": label(code),
                           "partners": sorted(b for (a, b) in table
                                              if a == code and (b, a) in table)}
                          for code in codes]}
