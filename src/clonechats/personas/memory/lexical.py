"""Word-based ranking (BM25) for when meaning is not available: the embedding model failed,
or some memories are still waiting for their vectors.

Tokenising is deliberately language-neutral: Unicode NFKC and case folding, accents dropped from
Latin letters (so "café" matches "cafe"), words split on anything that is not a letter or digit,
and scripts written without spaces (Chinese, Japanese, Thai, …) cut into character pairs. A short
list of very common English, Spanish, French, Portuguese and German words is ignored, and a few
plural and verb endings are trimmed from Latin-script words.
"""

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

K1 = 1.2
B = 0.75

_NO_SPACE_SCRIPTS = re.compile(
    "[\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)
_SUFFIXES = ("ingly", "ing", "edly", "ed", "es", "s")
_STOPWORD_LINES = (
    "a an and are as at be but by do does did for from has have had he her his i if in into is it"
    " its me my of on or our she so than that the their them they this to was we were what when"
    " where which who why will with you your about am can could would should there here how",
    "el la los las un una unos unas y o de del que en es son por para con como se su sus mi mis"
    " lo le les al yo tu te qué cuál",
    "le la les un une des et ou de du que qui en est sont pour par avec comme se sa son ses mon"
    " ma mes je tu il elle nous vous ils elles au aux quoi quel quelle",
    "o a os as um uma e ou de do da dos das que em no na nos nas por para com como se seu sua meu"
    " minha",
    "der die das ein eine und oder von zu mit ist sind ich du er sie es wir ihr was wie",
)


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    kept: list[str] = []
    for char in decomposed:
        if unicodedata.combining(char) and kept and kept[-1] < "\u0250":
            continue  # an accent on a Latin letter
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


def _words(text: str) -> Iterable[str]:
    # Letters, digits and combining marks: the vowel signs of Indic scripts are marks, and
    # `\w` would cut every Hindi word apart at them.
    word: list[str] = []
    for char in text:
        if char.isalnum() or char == "_" or unicodedata.category(char)[0] == "M":
            word.append(char)
        elif word:
            yield "".join(word)
            word = []
    if word:
        yield "".join(word)


STOPWORDS = frozenset(_fold(word) for line in _STOPWORD_LINES for word in line.split())


def _trim(word: str) -> str:
    if len(word) > 3 and word.isascii():
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                return word[: -len(suffix)]
    return word


def tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    for word in _words(_fold(text)):
        if _NO_SPACE_SCRIPTS.search(word):
            tokens.extend(word[i:i + 2] for i in range(max(1, len(word) - 1)))
        elif word not in STOPWORDS and not (len(word) == 1 and word.isascii()):
            tokens.append(_trim(word))
    return tokens


class LexicalIndex:
    """BM25 over a fixed list of texts; `scores` looks at only the documents sharing a word."""

    def __init__(self, texts: Iterable[str]) -> None:
        self._postings: dict[str, list[tuple[int, int]]] = {}
        lengths: list[int] = []
        for row, text in enumerate(texts):
            counts = Counter(tokenize(text))
            lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                self._postings.setdefault(term, []).append((row, tf))
        self._lengths = lengths
        self._average = (sum(lengths) / len(lengths)) if lengths else 0.0

    def __len__(self) -> int:
        return len(self._lengths)

    def scores(self, query: str, *, rows: set[int] | None = None) -> dict[int, float]:
        """Row -> BM25 score for every document (or every one in `rows`) sharing a term."""
        total = len(self._lengths)
        result: dict[int, float] = {}
        for term in set(tokenize(query)):
            postings = self._postings.get(term)
            if not postings:
                continue
            idf = math.log(1 + (total - len(postings) + 0.5) / (len(postings) + 0.5))
            for row, tf in postings:
                if rows is not None and row not in rows:
                    continue
                norm = 1 - B + B * (self._lengths[row] / self._average if self._average else 1)
                result[row] = result.get(row, 0.0) + idf * tf * (K1 + 1) / (tf + K1 * norm)
        return result
