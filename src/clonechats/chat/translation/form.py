"""The "start a chat" page's translation option: the languages offered, and reading the form.

The form offers every language some translator serves both ways, preselecting the first of
the browser's preferred languages (`Accept-Language`) that is offered and is not the persona's
default (English), else Spanish. Checking "translation chat" makes the new conversation a
translation chat with the two languages picked; a pair no translator serves is refused with
422 `translation_unavailable` like the API.
"""

from typing import Any

from fastapi import Request
from starlette.datastructures import FormData

from clonechats.chat.translation import service
from clonechats.providers.translation.languages import primary
from clonechats.web.context import context_of

PERSONA_DEFAULT = "en"
USER_FALLBACK = "es"


def preferred_languages(header: str) -> list[str]:
    """Language subtags of an `Accept-Language` header, best first (q values honoured)."""
    weighted = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*":
            weighted.append((-quality, index, primary(tag)))
    return list(dict.fromkeys(code for _, _, code in sorted(weighted)))


def start_options(request: Request) -> dict[str, Any]:
    offered = [language for language in service.languages(context_of(request))["languages"]
               if language["partners"]]
    codes = [language["code"] for language in offered]
    wanted = preferred_languages(request.headers.get("accept-language", ""))
    user = next((code for code in wanted if code in codes and code != PERSONA_DEFAULT),
                USER_FALLBACK if USER_FALLBACK in codes else (codes[0] if codes else ""))
    persona = PERSONA_DEFAULT if PERSONA_DEFAULT in codes and user != PERSONA_DEFAULT else next(
        (code for code in codes if code != user), "")
    return {"translation_languages": offered, "default_user_language": user,
            "default_persona_language": persona}


def mode_from_form(request: Request, form: FormData) -> dict[str, str] | None:
    if form.get("translation_mode") != "on":
        return None
    user, persona = form.get("user_language"), form.get("persona_language")
    return service.mode_for(context_of(request),
                            user_language=user if isinstance(user, str) else "",
                            persona_language=persona if isinstance(persona, str) else "")
