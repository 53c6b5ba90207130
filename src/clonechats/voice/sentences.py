"""Text made speakable, and cut into sentences as a reply streams in.

`speakable` turns a reply's Markdown into what a voice should say: code blocks and images
are left out, links keep their text, emphasis, heading and list marks go, whitespace folds.
`SentenceSplitter` takes text as it arrives (`feed`) and gives back each sentence once it is
known to be complete: after `.`, `!`, `?` or `…` (with any closing quote or bracket) followed by
whitespace, or at a line break. Common abbreviations ("Mr.", "e.g.") and single initials do not
end a sentence. A sentence shorter than `min_chars` waits to be joined with the next, so a reply
is not spoken in tiny clips; `flush` returns whatever remains at the end.
"""

import re

_CODE_BLOCK = re.compile(r"```.*?(```|$)", re.S)
_INLINE_CODE = re.compile(r"`([^`]*)`")
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MARKS = re.compile(r"(\*\*|__|\*|~~|^#{1,6}\s+|^\s*>\s?|^\s*[-*+]\s+|^\s*\d+[.)]\s+)", re.M)
_URL = re.compile(r"https?://\S+")
_SPACE = re.compile(r"[ \t]+")
_END = re.compile(r"([.!?…]+[\"'”’)\]]*)(\s+)|(\n+)")
ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc",
                           "e.g", "i.e", "no", "fig", "approx", "ca"})


def speakable(text: str) -> str:
    text = _CODE_BLOCK.sub(" ", text)
    text = _IMAGE.sub(" ", text)
    text = _LINK.sub(r"\1", text)
    text = _INLINE_CODE.sub(r"\1", text)
    text = _URL.sub("a link", text)
    text = _MARKS.sub("", text)
    text = text.replace("_", " ")
    lines = [_SPACE.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line).strip()


def _is_abbreviation(before: str) -> bool:
    word = before.rsplit(None, 1)[-1] if before.strip() else ""
    word = word.lower().rstrip(".")
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


class SentenceSplitter:
    def __init__(self, *, min_chars: int = 24) -> None:
        self._buffer = ""
        self._pending = ""
        self._min = min_chars
        self._in_code = False

    def feed(self, text: str) -> list[str]:
        self._buffer += text
        done: list[str] = []
        start = 0
        for match in _END.finditer(self._buffer):
            if self._buffer.count("```", 0, match.start()) % 2:
                continue  # inside a code block: not a sentence end
            end = match.end()
            piece = self._buffer[start:match.start()] + (match.group(1) or "")
            if match.group(1) and match.group(1) == "." and _is_abbreviation(piece[:-1]):
                continue
            self._add(piece, done)
            start = end
        self._buffer = self._buffer[start:]
        return done

    def _add(self, piece: str, done: list[str]) -> None:
        sentence = speakable(piece)
        if not sentence:
            return
        self._pending = f"{self._pending} {sentence}".strip() if self._pending else sentence
        if len(self._pending) >= self._min:
            done.append(self._pending)
            self._pending = ""

    def flush(self) -> list[str]:
        rest = speakable(self._buffer)
        self._buffer = ""
        text = f"{self._pending} {rest}".strip() if self._pending else rest
        self._pending = ""
        return [text] if text else []
