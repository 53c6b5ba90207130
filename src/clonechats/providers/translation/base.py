"""The translation contract: a text, a source and a target language in; the translation out.

A `Translator` says which language pairs it serves (`pairs()`, by language subtag, each with
the pivot language it goes through, if any) and translates one text at a time. Tags are BCP 47
(`providers.translation.languages`); a translator matches on the language subtag and may use a
region where the vendor distinguishes one (`en-GB`, `pt-BR`). A blank text translates to "" at
no cost. Failures are `providers.errors.ProviderError`s: a pair it does not serve or a text over
its `max_chars` is `ProviderRejected` (asking again cannot help); an outage, a timeout or an
unreadable answer is `ProviderUnavailable`; refused credentials and used-up quotas are
`ProviderAuthError` and `ProviderQuotaError`. A translator never logs the text it translates.
"""

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from clonechats.providers.errors import ProviderRejected
from clonechats.providers.translation.languages import english_name, primary

DEFAULT_MAX_CHARS = 8000


@dataclass(frozen=True)
class LanguagePair:
    source: str  # language subtag, e.g. "en"
    target: str
    via: str | None = None  # the pivot language a translator goes through, if any


@dataclass(frozen=True)
class TranslationResult:
    text: str
    source: str  # the tags asked for
    target: str
    provider: str  # the translator's name


@runtime_checkable
class Translator(Protocol):
    name: str
    label: str

    def pairs(self) -> list[LanguagePair]:
        """The pairs this translator serves, as configured (empty when it cannot run)."""
        ...

    async def translate(self, text: str, *, source: str, target: str) -> TranslationResult:
        ...


def find_pair(translator: Translator, source: str, target: str) -> LanguagePair | None:
    wanted = (primary(source), primary(target))
    return next((pair for pair in translator.pairs() if (pair.source, pair.target) == wanted),
                None)


def check_request(translator: Translator, text: str, *, source: str, target: str,
                  max_chars: int) -> LanguagePair:
    """The pair serving `source` → `target`, or `ProviderRejected` for an unserved pair or a
    text over `max_chars`."""
    pair = find_pair(translator, source, target)
    if pair is None:
        raise ProviderRejected(f"no {english_name(source)} to {english_name(target)} "
                               "translation here", provider=translator.name,
                               code="unsupported_pair")
    if len(text) > max_chars:
        raise ProviderRejected(f"the text is longer than {max_chars} characters",
                               provider=translator.name, code="text_too_long")
    return pair
