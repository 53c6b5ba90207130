"""The `{{char}}` and `{{user}}` placeholders of character cards, filled in for reading.

Authors (and imported cards) write example dialogue and greetings with `{{char}}` / `<BOT>` for
the persona and `{{user}}` / `<USER>` for whoever is chatting. Pages show them filled in: the
persona's name, and the viewer's display name or "you" ("You" where it starts a line). The
result is plain text; templates escape it like any other author text.
"""

import re

from clonechats.personas.repo import Persona

_CHAR = re.compile(r"\{\{\s*char\s*\}\}|<BOT>", re.IGNORECASE)
_USER = re.compile(r"\{\{\s*user\s*\}\}|<USER>", re.IGNORECASE)
_LINE_START = re.compile(r"^(\s*)$")
FILLED_FIELDS = ("greeting", "example_dialogue")


def fill(text: str, *, char: str, user: str | None) -> str:
    """`text` with the placeholders replaced; `user` None means the viewer is "you"."""
    text = _CHAR.sub(lambda _: char, text)

    def viewer(match: re.Match[str]) -> str:
        if user:
            return user
        line_start = text.rfind("\n", 0, match.start()) + 1
        starts_line = _LINE_START.match(text[line_start:match.start()]) is not None
        return "You" if starts_line else "you"

    return _USER.sub(viewer, text)


def filled_profile(persona: Persona, *, viewer_name: str | None) -> dict[str, str]:
    """The persona's greeting and example dialogue with their placeholders filled in."""
    return {key: fill(str(persona.get(key) or ""), char=persona["name"], user=viewer_name)
            for key in FILLED_FIELDS}
