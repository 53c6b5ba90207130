"""Persona names people cannot be fooled by.

A persona's name is shown on Explore and on its public page, next to the operator's own name,
so a name is refused (422) when it:
- carries invisible or direction-changing characters (zero-width spaces and joiners, bidi
  embeddings, overrides and isolates, soft hyphens: Unicode category Cf), which can make one
  name look like another or reorder what is displayed;
- mixes Latin letters with Cyrillic or Greek ones inside one word ("Оfficial" with a Cyrillic
  О), the usual homoglyph trick;
- reads, once folded (NFKC, case, look-alike letters, spaces and punctuation removed), as a
  reserved name such as "Official Support", "Admin" or the operator's staff.
"""

import unicodedata

RESERVED = frozenset({
    "officialsupport", "support", "supportteam", "customersupport", "helpdesk", "admin",
    "administrator", "moderator", "moderation", "system", "staff", "official", "clonechats",
    "clonechatssupport", "clonechatsteam", "clonechatsofficial", "securityteam", "trustandsafety",
})
"""Folded names no persona may take."""
RESERVED_WORDS = ("official", "support", "admin", "moderator", "staff")
"""Two of these together ("Official Staff", "Support Admin") are reserved as well."""

# Cyrillic and Greek letters that look like Latin ones, folded to the Latin letter.
LOOKALIKES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "0": "o", "1": "i", "3": "e", "5": "s", "$": "s", "@": "a",
})
_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")


def _script(char: str) -> str | None:
    name = unicodedata.name(char, "")
    return next((script for script in _SCRIPTS if name.startswith(script)), None)


def fold(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).casefold().translate(LOOKALIKES)
    return "".join(char for char in text if char.isalnum())


def problem(name: str) -> str | None:
    """Why `name` is refused, or None when it is fine."""
    if any(unicodedata.category(char) == "Cf" for char in name):
        return "the name must not contain invisible or text-direction characters"
    for word in name.split():
        scripts = {_script(char) for char in word if char.isalpha()} - {None}
        if "LATIN" in scripts and len(scripts) > 1:
            return "a word of the name mixes Latin letters with look-alike letters of " \
                   "another alphabet"
    folded = fold(name)
    words = [fold(word) for word in name.split()]
    if folded in RESERVED or sum(word in RESERVED_WORDS for word in words) >= 2:
        return "that name is reserved for the service itself; choose another"
    return None
