"""A small, explicit rule set for what the platform rules forbid outright and the packaged
classifiers miss: sexual content involving minors, credible threats of violence against the
reader (or against a place), and dehumanising or exterminationist statements about a group.

Each rule is a regular expression over a normalised copy of the text (NFKC, lower case,
straight apostrophes, single spaces). A rule that matches fires its category with score 1.0.

The rules are deliberately narrow, to keep ordinary conversation unflagged ("I need to kill this
bug", "my kid ran around naked on the beach", "you're killing it"):
  * minors: an explicit sexual term (nudes, porn, "naked pictures", "have sex", ...) within
    80 characters of a term for a child or a stated age under 18, in either order;
  * threats: a first-person statement of intent ("I will", "I'm going to", ...) followed, within
    six words and with no negation between, by a violent verb aimed at "you" or someone close to
    the reader; "I know where you live"; the same in es, fr, de, pt and hi (both scripts);
  * hate: "<group> are vermin/parasites/..." and "<group> should be exterminated/wiped out".
What they cannot see (sarcasm, quotations, threats without these words) is left to the
classifiers or to a vendor moderator.
"""

import re
import unicodedata
from dataclasses import dataclass

WINDOW = 80  # characters between a sexual term and a minor term that still count as one remark


@dataclass(frozen=True)
class Rule:
    id: str
    category: str
    pattern: re.Pattern[str]


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(text.split())


def _words(*alternatives: str) -> str:
    return r"(?:" + "|".join(alternatives) + r")"


_SEXUAL = re.compile(r"\b" + _words(
    r"nudes?", r"nudity", r"porn\w*", r"erotic\w*", r"sexy", r"sext\w*", r"lewd",
    r"(?:have|having|had|has) sex", r"sex with", r"sexual(?:ly)? (?:act|acts|touch\w*|photos?"
    r"|pictures?|pics?|images?|videos?|content|roleplay|role-play)",
    r"(?:naked|nude|topless) (?:pics?|photos?|pictures?|images?|videos?|selfies?|bod(?:y|ies))",
    r"undress\w*", r"strip for me",
    # es / pt / fr
    r"desnud[oa]s?", r"sexo con", r"porno", r"nu(?:e|es|s) (?:photos?|images?)", r"sexe avec",
    r"pelad[oa]s?",
) + r"\b|नंग[ीा]|सेक्स")

_MINOR = re.compile(r"\b" + _words(
    r"child(?:ren)?", r"kids?", r"minors?", r"under-?age(?:d)?", r"pre-?teens?", r"toddlers?",
    r"infants?", r"teens?", r"teenagers?", r"teenage", r"school ?girls?", r"school ?boys?",
    r"little (?:girls?|boys?)", r"young (?:girls?|boys?)", r"lolis?", r"shota",
    r"under (?:18|eighteen)", r"(?:middle|elementary|primary|grade) school(?:ers?)?",
    r"(?:[1-9]|1[0-7]) ?(?:yo|y/o|yrs? old|years? old|year-olds?|-year-olds?)",
    r"(?:i'm|i am|im|you're|you are|she's|she is|he's|he is) (?:only |just )?(?:[1-9]|1[0-7])",
    # es / pt / fr / de
    r"niñ[oa]s?", r"menor(?:es)? de edad", r"crianças?", r"enfants?", r"mineur(?:e|es|s)?",
    r"kinder", r"minderjährige\w*",
) + r"\b|बच्च[ाेी]|नाबालिग")

_INTENT = _words(r"i'll", r"i will", r"i'm going to", r"i am going to", r"i'm gonna",
                 r"i am gonna", r"im gonna", r"imma", r"ima", r"i gonna", r"we'll", r"we will",
                 r"we're going to", r"we are going to", r"we're gonna", r"i'd like to",
                 r"i want to", r"i wanna", r"i'm about to", r"i'll make sure to")
_NOT_NEGATED = r"(?:\s+(?![\w']*n't\b|never\b|not\b|no\b|nobody\b)[\w']+){0,6}?"
_VIOLENCE = _words(r"kill", r"murder", r"stab", r"shoot", r"strangle", r"choke", r"rape",
                   r"behead", r"hurt", r"torture", r"slit", r"gut", r"burn",
                   r"beat(?= (?:you|u) (?:up|to death)\b)",
                   r"punch", r"smash your face", r"break your (?:neck|legs?|face)")
_TARGET = _words(r"you", r"u", r"ya", r"yourself",
                 r"your (?:family|kids?|children|wife|husband|mom|mother|dad|father|"
                 r"sister|brother|friends?|girlfriend|boyfriend|dog|cat)")
_GROUPS = _words(r"jews", r"muslims", r"christians", r"blacks", r"whites", r"asians",
                 r"mexicans", r"immigrants", r"migrants", r"refugees", r"gays", r"lesbians",
                 r"trans people", r"women", r"arabs", r"africans", r"hindus", r"sikhs",
                 r"indians", r"chinese", r"foreigners", r"gypsies", r"roma")

RULES: list[Rule] = [
    Rule("threat.intent", "harassment/threatening", re.compile(
        r"\b" + _INTENT + _NOT_NEGATED + r"\s+" + _VIOLENCE + r"\s+" + _TARGET + r"\b")),
    Rule("threat.where-you-live", "harassment/threatening", re.compile(
        r"\bi know where you (?:live|sleep|work)\b")),
    Rule("threat.place", "violence", re.compile(
        r"\b" + _INTENT + r"(?:\s+[\w']+){0,3}?\s+(?:blow up|bomb|shoot up|set fire to|burn "
        r"down) (?:the|your|this|that|a|my) (?:school|office|building|house|church|mosque|"
        r"synagogue|temple|mall|station|airport|hospital)\b")),
    Rule("threat.es", "harassment/threatening", re.compile(
        r"\b(?:te voy a (?:matar|apuñalar|disparar|violar|quemar)|voy a matarte|"
        r"sé dónde vives)\b")),
    Rule("threat.fr", "harassment/threatening", re.compile(
        r"\b(?:je vais te (?:tuer|buter|crever|poignarder|violer|égorger)|je vais vous tuer|"
        r"je sais où tu (?:habites|vis))\b")),
    Rule("threat.de", "harassment/threatening", re.compile(
        r"\b(?:ich (?:bring|bringe) dich um|ich werde dich (?:umbringen|töten|abstechen)|"
        r"ich weiß, wo du wohnst)\b")),
    Rule("threat.pt", "harassment/threatening", re.compile(
        r"\b(?:(?:eu )?vou te (?:matar|esfaquear|estuprar)|vou matar você|"
        r"eu sei onde você mora)\b")),
    Rule("threat.hi", "harassment/threatening", re.compile(
        r"(?:तुझे|तुम्हें|तुमको) (?:जान से )?मार (?:डालूँगा|डालूंगा|दूँगा|दूंगा|डालूँगी|डालूंगी)"
        r"|\b(?:tujhe|tumhe|tumko) (?:jaan se )?(?:maar|mar) (?:dalunga|daalunga|dunga|"
        r"doonga|dalungi|dungi)\b")),
    Rule("hate.dehumanising", "hate", re.compile(
        r"\b" + _GROUPS + r" (?:are|is) (?:all |just |nothing but |like )?(?:\w+ )?"
        r"(?:vermin|parasites|rats|cockroaches|animals|subhumans?|savages|a disease|a plague|"
        r"an infestation|filth|scum|insects|a cancer)\b")),
    Rule("hate.extermination", "hate/threatening", re.compile(
        r"\b" + _GROUPS + r" (?:should|must|need to|deserve to|ought to) (?:all )?(?:be )?"
        r"(?:exterminated|wiped out|gassed|killed|eradicated|burned|hanged|shot|die)\b")),
]


def _near(text: str, first: re.Pattern[str], second: re.Pattern[str]) -> bool:
    a_spans = [m.span() for m in first.finditer(text)]
    if not a_spans:
        return False
    for b_start, b_end in (m.span() for m in second.finditer(text)):
        for a_start, a_end in a_spans:
            gap = max(b_start - a_end, a_start - b_end, 0)
            if gap <= WINDOW:
                return True
    return False


def match(text: str) -> dict[str, float]:
    """The categories the explicit rules fire on `text`, each with score 1.0."""
    normal = normalise(text)
    fired: dict[str, float] = {}
    if _near(normal, _SEXUAL, _MINOR):
        fired["sexual/minors"] = 1.0
    for rule in RULES:
        if rule.pattern.search(normal):
            fired[rule.category] = 1.0
    return fired


def matching_rule_ids(text: str) -> list[str]:
    """Which rules fire on `text` (for tests and for explaining a decision)."""
    normal = normalise(text)
    found = ["minors.sexual-near-minor"] if _near(normal, _SEXUAL, _MINOR) else []
    return found + [rule.id for rule in RULES if rule.pattern.search(normal)]
