"""What a persona's avatar shows when no picture was uploaded: a monogram.

The monogram is the initials of the name on one of `PALETTE_SIZE` colours (the
`.avatar-colour-N` rules of `app.css`, each dark enough for white text), picked from a digest of
the persona id, so a persona keeps its colour on every page and in every process. The macro
that draws avatars, picture or monogram, is `templates/_avatar.html`.
"""

import hashlib

PALETTE_SIZE = 12
MAX_INITIALS = 2


def initials(name: str) -> str:
    """Up to two initials: the first letter or digit of the first two words that have one."""
    letters = [next((c for c in word if c.isalnum()), "") for word in name.split()]
    found = "".join(letter for letter in letters if letter)[:MAX_INITIALS]
    return found.upper() or "?"


def colour_index(persona_id: str) -> int:
    digest = hashlib.sha256(persona_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") % PALETTE_SIZE
