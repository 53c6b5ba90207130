"""Language tags: the BCP 47 subset translation chats accept, and the names people see.

A tag is a language subtag (2 or 3 letters), then optionally a script (4 letters) and a
region (2 letters or 3 digits): `en`, `es-MX`, `zh-Hant`, `pt-BR`. `canonical()` fixes the case
(`ES-mx` → `es-MX`) and refuses anything else; translators match on the language subtag
(`primary()`), so `es-MX` is served wherever `es` is.
"""

import re

_TAG = re.compile(r"^([A-Za-z]{2,3})(?:-([A-Za-z]{4}))?(?:-([A-Za-z]{2}|[0-9]{3}))?$")

NAMES: dict[str, tuple[str, str]] = {
    # code: (English name, the language's own name)
    "ar": ("Arabic", "العربية"),
    "bg": ("Bulgarian", "Български"),
    "bn": ("Bengali", "বাংলা"),
    "ca": ("Catalan", "Català"),
    "cs": ("Czech", "Čeština"),
    "da": ("Danish", "Dansk"),
    "de": ("German", "Deutsch"),
    "el": ("Greek", "Ελληνικά"),
    "en": ("English", "English"),
    "es": ("Spanish", "Español"),
    "et": ("Estonian", "Eesti"),
    "fi": ("Finnish", "Suomi"),
    "fr": ("French", "Français"),
    "he": ("Hebrew", "עברית"),
    "hi": ("Hindi", "हिन्दी"),
    "hu": ("Hungarian", "Magyar"),
    "id": ("Indonesian", "Bahasa Indonesia"),
    "it": ("Italian", "Italiano"),
    "ja": ("Japanese", "日本語"),
    "ko": ("Korean", "한국어"),
    "lt": ("Lithuanian", "Lietuvių"),
    "lv": ("Latvian", "Latviešu"),
    "nb": ("Norwegian Bokmål", "Norsk bokmål"),
    "nl": ("Dutch", "Nederlands"),
    "pl": ("Polish", "Polski"),
    "pt": ("Portuguese", "Português"),
    "ro": ("Romanian", "Română"),
    "ru": ("Russian", "Русский"),
    "sk": ("Slovak", "Slovenčina"),
    "sl": ("Slovenian", "Slovenščina"),
    "sv": ("Swedish", "Svenska"),
    "ta": ("Tamil", "தமிழ்"),
    "th": ("Thai", "ไทย"),
    "tr": ("Turkish", "Türkçe"),
    "uk": ("Ukrainian", "Українська"),
    "ur": ("Urdu", "اردو"),
    "vi": ("Vietnamese", "Tiếng Việt"),
    "zh": ("Chinese", "中文"),
}


def canonical(tag: str) -> str | None:
    """`tag` with its case fixed, or None when it is not a tag of the accepted form."""
    match = _TAG.match((tag or "").strip())
    if match is None:
        return None
    language, script, region = match.groups()
    parts = [language.lower()]
    if script:
        parts.append(script.title())
    if region:
        parts.append(region.upper())
    return "-".join(parts)


def primary(tag: str) -> str:
    """The language subtag: `es-MX` → `es`."""
    return tag.split("-", 1)[0].lower()


def english_name(tag: str) -> str:
    found = NAMES.get(primary(tag))
    return found[0] if found else tag


def own_name(tag: str) -> str:
    found = NAMES.get(primary(tag))
    return found[1] if found else tag


def label(tag: str) -> str:
    """What a person picks from: "Español (Spanish)", or "English"."""
    english, own = english_name(tag), own_name(tag)
    return english if english == own else f"{own} ({english})"
