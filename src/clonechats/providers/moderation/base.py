"""The moderation contract: one text in, one verdict out.

`check(text)` answers whether the text may be passed on (`flagged` False) or must be held back
(`flagged` True). `categories` maps each category that fired to its score (0..1), using the
vocabulary of OpenAI's moderation endpoint where one exists (`harassment`,
`harassment/threatening`, `hate`, `hate/threatening`, `sexual`, `sexual/minors`, `violence`,
`self-harm/instructions`, ...) plus `profanity`; it is empty when nothing fired. `reason` is
one sentence a person can be shown ("This message looks like harassment."), or None when the
text is not flagged.

Failures are `providers.errors.ProviderError`s, and a caller that gets one must not pass the
text on (fail closed). The vendor adapter does not raise for an outage: it falls back to the
offline classifiers rather than letting unmoderated text through.
"""

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class ModerationResult:
    flagged: bool
    categories: dict[str, float]
    reason: str | None


@runtime_checkable
class Moderator(Protocol):
    name: str

    async def check(self, text: str) -> ModerationResult:
        ...


# Most serious first: the first category that fired names the reason a person is shown.
REASONS: dict[str, str] = {
    "sexual/minors": "This message looks like sexual content involving a minor, which is "
                     "never allowed.",
    "harassment/threatening": "This message looks like a threat.",
    "hate/threatening": "This message looks like a threat against a group of people.",
    "violence/graphic": "This message looks like graphic violence.",
    "self-harm/instructions": "This message looks like instructions for self-harm.",
    "illicit/violent": "This message looks like help with violent wrongdoing.",
    "hate": "This message looks like hateful content.",
    "harassment": "This message looks like harassment.",
    "violence": "This message looks like violent content.",
    "illicit": "This message looks like help with something illegal.",
    "sexual": "This message looks like sexual content.",
    "self-harm": "This message looks like it is about self-harm.",
    "self-harm/intent": "This message looks like it is about self-harm.",
    "profanity": "This message contains strong profanity.",
}
FALLBACK_REASON = "This message goes against the platform rules."


def verdict(categories: dict[str, float]) -> ModerationResult:
    """The result for the categories that fired: flagged when any did, with the reason of the
    most serious one."""
    if not categories:
        return ModerationResult(flagged=False, categories={}, reason=None)
    reason = next((REASONS[name] for name in REASONS if name in categories), FALLBACK_REASON)
    scores = {name: round(min(1.0, max(0.0, float(score))), 4)
              for name, score in categories.items()}
    return ModerationResult(flagged=True, categories=scores, reason=reason)


NOT_FLAGGED = ModerationResult(flagged=False, categories={}, reason=None)
