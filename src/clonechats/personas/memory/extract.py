"""Durable facts a person states about themselves, found by careful patterns (no model call).

`extract_facts("My dog is Biscuit and I'm afraid of storms.")` gives
`[Fact("my:dog", "The user's dog is Biscuit."), Fact("afraid:storms", "The user is afraid of
storms.")]`. Each fact has a key naming what it is about, so a later statement about the same
thing ("my dog is Max now") replaces the memory instead of adding a second one.

It errs on the side of saying nothing: questions, negations, hypotheticals, reported speech and
passing states ("my day is going well", "I'm a bit tired", "I love you") give no fact. Only
English is understood; other languages simply yield nothing. A small offline model was tried
for this and was both slower and less reliable than these patterns.
"""

import re
from dataclasses import dataclass

MAX_VALUE_WORDS = 6
MAX_FACTS = 5


@dataclass(frozen=True)
class Fact:
    key: str
    text: str


_SENTENCES = re.compile(r"(?<=[.!?;])\s+|\n+|,\s+(?:and|but)\s+|"
                        r"\s+(?:and|but)\s+(?=i\b|my\b|i'm\b)", re.IGNORECASE)
_SKIP = re.compile(r"\?|\b(if|would|could|might|maybe|wish|pretend|imagine|suppose|said|says|"
                   r"told|thinks?|not|never|no longer|n't|dont|didnt|doesnt|isnt|wasnt|"
                   r"you|your|roleplay|role-play)\b", re.IGNORECASE)
_TRANSIENT_NOUNS = {
    "day", "week", "weekend", "morning", "night", "evening", "question", "point", "guess",
    "bad", "problem", "issue", "answer", "idea", "turn", "pleasure", "fault", "mistake", "mind",
    "head", "phone", "battery", "internet", "computer", "laptop", "wifi", "heart", "mood",
    "plan", "plans", "reply", "message", "story", "opinion", "feeling", "situation", "train",
    "bus", "flight", "order", "coffee", "tea", "lunch", "dinner", "breakfast", "car",
}
_DURABLE_NOUNS = {
    "name", "nickname", "birthday", "job", "profession", "occupation", "hometown", "age",
    "pronouns", "native language", "first language", "religion", "major", "degree",
    "zodiac sign", "star sign", "blood type", "middle name", "surname", "last name",
}
_PASSING_VALUES = re.compile(r"^(so|very|really|too|quite|a bit|kind of|sort of|going|getting|"
                             r"being|still|just|also|here|there|back|gone|late|busy|tired|"
                             r"sick|ill|broken|dead|down|up|off|on|over|done|fine|ok|okay|"
                             r"good|great|bad|awful|terrible|the best|the worst)\b",
                             re.IGNORECASE)
_OCCUPATION = re.compile(r"^(?:[a-z]+ )?(?:[a-z]+(?:er|or|ist|ian|ant|ent|eer|ess|ic)|nurse|"
                         r"doctor|student|teacher|chef|cook|pilot|vet|vegetarian|vegan|"
                         r"mum|mom|dad|parent|grandparent|grandmother|grandfather|nun|monk|"
                         r"coach|judge|firefighter|nanny|tutor|priest|pastor)$", re.IGNORECASE)
_NOT_OCCUPATION = {"bit", "little", "lot", "fan", "mess", "wreck", "fool", "liar", "genius",
                   "loser", "winner", "monster", "other", "number", "sucker", "beginner"}

_NOT_NAMES = {"Sorry", "Fine", "Good", "Great", "Okay", "Ok", "Back", "Here", "Home", "Done",
              "Ready", "Tired", "Happy", "Sad", "Bored", "Lost", "Confused", "Excited", "Glad",
              "Sure", "Alright", "Just", "So", "Not", "Also", "Still", "Really", "Very"}
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("name", re.compile(r"^(?i:i'm|i am|call me|my name's) (?P<value>[A-Z][\w-]+)$")),
    ("named", re.compile(r"^(?:i have|i've got|i got) (?P<what>(?:a|an|two|three|\d+) "
                         r"(?:[a-z]+ ){0,2}?[a-z]+?)s? (?:named|called) (?P<value>.+)$", re.I)),
    ("my", re.compile(r"^my (?P<what>(?:[a-z]+ ){0,2}[a-z]+?)(?:'s name)? (?:is|are|was "
                      r"called|is called|are called|is named|'s) (?:called |named )?"
                      r"(?P<value>.+)$", re.I)),
    ("afraid", re.compile(r"^i(?:'m| am) (?:really |very |so |terribly )?(?:afraid|scared|"
                          r"terrified|frightened) of (?P<value>.+)$", re.I)),
    ("phobia", re.compile(r"^i (?:have|'ve got) (?:a )?(?:phobia|fear) of (?P<value>.+)$",
                          re.I)),
    ("allergic", re.compile(r"^i(?:'m| am) allergic to (?P<value>.+)$", re.I)),
    ("live", re.compile(r"^i (?:live|stay|reside) in (?P<value>.+)$", re.I)),
    ("from", re.compile(r"^i(?:'m| am) (?:originally )?from (?P<value>.+)$", re.I)),
    ("grew up", re.compile(r"^i grew up in (?P<value>.+)$", re.I)),
    ("work", re.compile(r"^i work (?P<how>as|at|for|in) (?P<value>.+)$", re.I)),
    ("age", re.compile(r"^i(?:'m| am) (?P<value>\d{1,3}) (?:years? old|yo)$", re.I)),
    ("speak", re.compile(r"^i speak (?P<value>.+)$", re.I)),
    ("likes", re.compile(r"^i (?:really |truly |absolutely )?(?P<verb>love|like|enjoy|adore|"
                         r"hate|can't stand|dislike) (?P<value>.+)$", re.I)),
    ("fan", re.compile(r"^i(?:'m| am) (?:a (?:big |huge )?)?fan of (?P<value>.+)$", re.I)),
    ("have", re.compile(r"^i have (?P<value>(?:a|an|one|two|three|four|five|\d+) (?:[a-z]+ )?"
                        r"(?:kids?|children|child|sons?|daughters?|brothers?|sisters?|siblings?|"
                        r"dogs?|cats?|pets?|rabbits?|horses?|parrots?|twins|grandchildren))$",
                        re.I)),
    ("is a", re.compile(r"^i(?:'m| am) (?:a|an) (?P<value>[a-z]+(?: [a-z]+)?)$", re.I)),
]
_PRONOUN_VALUES = {"it", "that", "this", "them", "him", "her", "these", "those", "everything",
                   "nothing", "something", "anything", "everyone", "someone", "me", "us",
                   "so much", "a lot", "here", "there", "lol"}
_VERB_TEXT = {"love": "loves", "like": "likes", "enjoy": "enjoys", "adore": "adores",
              "hate": "hates", "can't stand": "can't stand", "dislike": "dislikes"}


def _clean_value(value: str) -> str | None:
    value = re.sub(r"\s+", " ", value).strip(" .!,;:\"'()")
    value = re.sub(r"\b(now|too|as well|though|lol|haha|btw)$", "", value,
                   flags=re.IGNORECASE).strip(" ,")
    if not value or len(value.split()) > MAX_VALUE_WORDS or len(value) > 80:
        return None
    if re.search(r"\b(i|i'm|me|we|our)\b", value, re.IGNORECASE):
        return None
    value = re.sub(r"\bmy\b", "their", value, flags=re.IGNORECASE)
    value = re.sub(r"\bmyself\b", "themselves", value, flags=re.IGNORECASE)
    return None if value.lower() in _PRONOUN_VALUES else value


def _key(kind: str, what: str) -> str:
    return f"{kind}:{' '.join(what.lower().split())}"


def _my_fact(what: str, value: str) -> Fact | None:
    noun = " ".join(what.lower().split())
    last = noun.split()[-1]
    if last in _TRANSIENT_NOUNS or noun in _TRANSIENT_NOUNS:
        return None
    if noun in _DURABLE_NOUNS:
        value = re.sub(r"^on ", "", value, flags=re.IGNORECASE)
        return Fact(_key("my", noun), f"The user's {noun} is {value}.")
    durable = (noun.startswith(("favourite ", "favorite "))
               or value[:1].isupper() or value[:1].isdigit())
    if not durable or _PASSING_VALUES.match(value):
        return None
    verb = "are" if noun.endswith("s") and not noun.endswith("ss") else "is"
    return Fact(_key("my", noun), f"The user's {noun} {verb} {value}.")


def _fact_from(sentence: str) -> Fact | None:
    sentence = sentence.strip(" \t\"'“”‘’*_-").replace("’", "'")
    sentence = re.sub(r"^(?:well|so|oh|also|btw|by the way|actually|and|but|yes|yeah|hey|hi|"
                      r"hello)[, ]+", "", sentence, flags=re.IGNORECASE).rstrip(" .!")
    if not sentence or _SKIP.search(sentence):
        return None
    for kind, pattern in _PATTERNS:
        found = pattern.match(sentence)
        if found is None:
            continue
        value = _clean_value(found.group("value"))
        if value is None:
            return None
        if kind == "name":
            return None if value in _NOT_NAMES else Fact("my:name",
                                                         f"The user's name is {value}.")
        if kind == "my":
            return _my_fact(found.group("what"), value)
        if kind == "named":
            what = found.group("what").split(" ", 1)[-1]
            return Fact(_key("my", what), f"The user has a {what} called {value}.")
        if kind in ("afraid", "phobia"):
            return Fact(_key("afraid", value), f"The user is afraid of {value}.")
        if kind == "allergic":
            return Fact(_key("allergic", value), f"The user is allergic to {value}.")
        if kind == "live":
            return Fact("live", f"The user lives in {value}.")
        if kind == "from":
            return Fact("from", f"The user is from {value}.")
        if kind == "grew up":
            return Fact("grew up", f"The user grew up in {value}.")
        if kind == "work":
            return Fact(f"work:{found.group('how').lower()}",
                        f"The user works {found.group('how').lower()} {value}.")
        if kind == "age":
            return Fact("age", f"The user is {value} years old.")
        if kind == "speak":
            return Fact(_key("speak", value), f"The user speaks {value}.")
        if kind == "likes":
            verb = found.group("verb").lower()
            if _PASSING_VALUES.match(value) or value.lower().startswith(("to talk", "talking")):
                return None
            return Fact(_key("likes", value), f"The user {_VERB_TEXT[verb]} {value}.")
        if kind == "fan":
            return Fact(_key("likes", value), f"The user is a fan of {value}.")
        if kind == "have":
            return Fact(_key("have", value.split()[-1]), f"The user has {value}.")
        if kind == "is a":
            word = value.lower().split()[-1]
            if word in _NOT_OCCUPATION or not _OCCUPATION.match(value):
                return None
            article = "an" if value[:1].lower() in "aeiou" else "a"
            return Fact(_key("is", word), f"The user is {article} {value}.")
    return None


def extract_facts(text: str) -> list[Fact]:
    """The facts in a user's message, at most MAX_FACTS, one per key (the last one wins)."""
    facts: dict[str, Fact] = {}
    for sentence in _SENTENCES.split(text or ""):
        fact = _fact_from(sentence)
        if fact is not None:
            facts.pop(fact.key, None)
            facts[fact.key] = fact
    return list(facts.values())[-MAX_FACTS:]
