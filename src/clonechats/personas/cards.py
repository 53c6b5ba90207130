"""Character Card V2 export and V1/V2 import (JSON, or PNG with the card in a `chara` chunk).

A V2 card is ``{"spec": "chara_card_v2", "spec_version": "2.0", "data": {...}}``; a V1 card is
the flat ``{name, description, personality, scenario, first_mes, mes_example}``.

Export (persona -> card ``data``):
    name -> name                      traits -> tags
    tagline -> creator_notes, and description (a one-line summary other tools can show)
    the style instructions built from traits, tone and sliders -> personality
    system_prompt -> system_prompt    (only for the owner, or when the owner made it public)
    greeting -> first_mes             example_dialogue -> mes_example
    tone, sliders, tagline -> extensions.clonechats {version, tagline, tone, sliders,
        derived_sha256: {description, personality}} (digests of the generated texts)
    scenario, post_history_instructions, creator, character_version: "";
    alternate_greetings: [].

Import (card -> a new private persona owned by the importer):
    name <- name; traits <- tags; greeting <- first_mes; example_dialogue <- mes_example.
    A card carrying extensions.clonechats restores tagline, tone and sliders from it, and takes
    system_prompt as it is; its description and personality are skipped while their digests
    match what we exported (they were generated from those fields), and merged otherwise.
    Any other card: tagline <- creator_notes when that is one line within the tagline limit
    (otherwise it is reported as ignored: creator notes are for people, never for the model);
    system_prompt <- the card's system_prompt followed by labelled sections for description,
    personality, scenario, post_history_instructions and alternate_greetings, so nothing the
    model would use is lost. In those texts {{char}} / <BOT> become the name and {{user}} /
    <USER> become "User" at the start of a dialogue line and "the user" elsewhere; `<START>`
    separators in mes_example become blank lines. character_book and other tools' extensions
    are reported as ignored.

Limits: a JSON card at most 256 KB, a PNG at most 8 MB, JSON nested at most ``MAX_DEPTH``
deep. Every text field must be a string (null counts as empty), tags and alternate greetings
lists of strings, extensions an object. The resulting fields go through the persona's own
validation (``schemas.PersonaCreate``); a value over a limit is a 422 naming the card field,
never silently cut. Malformed input is a 400, an unsupported card a 422, and nothing is created.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from clonechats.accounts.users import User
from clonechats.errors import AppError
from clonechats.media import service as media
from clonechats.media.errors import MediaError, MediaNotFound
from clonechats.media.images import CleanImage, prepare_image
from clonechats.media.repo import AVATAR
from clonechats.personas import service as persona_service
from clonechats.personas.card_png import (
    MAX_JSON_BYTES,
    CardTooLarge,
    MalformedCard,
    decode_card_text,
    is_png,
    read_card_text,
    write_card_png,
)
from clonechats.personas.instructions import build_instructions
from clonechats.personas.repo import Persona
from clonechats.personas.schemas import TAGLINE_MAX, PersonaCreate, full_sliders

if TYPE_CHECKING:
    from clonechats.context import Ctx


SPEC = "chara_card_v2"
SPEC_VERSION = "2.0"
EXTENSION = "clonechats"
EXTENSION_VERSION = 1
MAX_DEPTH = 32
V1_FIELDS = ("name", "description", "personality", "scenario", "first_mes", "mes_example")
V2_TEXT_FIELDS = (*V1_FIELDS, "creator_notes", "system_prompt", "post_history_instructions",
                  "creator", "character_version")

_PERSONA_TO_CARD = {
    "name": "name", "tagline": "creator_notes", "traits": "tags",
    "tone": "extensions.clonechats.tone", "sliders": "extensions.clonechats.sliders",
    "system_prompt": "system_prompt", "greeting": "first_mes",
    "example_dialogue": "mes_example",
}
_CHAR = re.compile(r"\{\{\s*char\s*\}\}|<BOT>", re.IGNORECASE)
_USER_LINE = re.compile(r"^(\s*)(?:\{\{\s*user\s*\}\}|<USER>)(\s*:)", re.IGNORECASE | re.M)
_USER = re.compile(r"\{\{\s*user\s*\}\}|<USER>", re.IGNORECASE)
_ORIGINAL = re.compile(r"\{\{\s*original\s*\}\}", re.IGNORECASE)
_START = re.compile(r"^\s*<START>\s*$", re.IGNORECASE | re.MULTILINE)


class InvalidCard(AppError):
    code = "invalid_card"
    status = 422
    message = "The character card is not valid."


class UnsupportedCard(AppError):
    code = "unsupported_card"
    status = 422
    message = ("This is not a Character Card V1 or V2 (expected spec \"chara_card_v2\", "
               "version 2.x, or the V1 fields).")


@dataclass
class ImportedCard:
    fields: PersonaCreate
    ignored: list[str] = field(default_factory=list)  # card fields that were not imported


# -- export -----------------------------------------------------------------------------------

def export_card(persona: Persona, *, include_private: bool) -> dict[str, Any]:
    """The persona as a V2 card; the system prompt only for the owner or when made public."""
    tagline = persona.get("tagline", "")
    sliders = full_sliders(persona.get("sliders"))
    personality = build_instructions(persona)
    show_prompt = include_private or persona.get("system_prompt_public", False)
    return {
        "spec": SPEC,
        "spec_version": SPEC_VERSION,
        "data": {
            "name": persona["name"],
            "description": tagline,
            "personality": personality,
            "scenario": "",
            "first_mes": persona.get("greeting", ""),
            "mes_example": persona.get("example_dialogue", ""),
            "creator_notes": tagline,
            "system_prompt": persona.get("system_prompt", "") if show_prompt else "",
            "post_history_instructions": "",
            "alternate_greetings": [],
            "tags": list(persona.get("traits", [])),
            "creator": "",
            "character_version": "",
            "extensions": {EXTENSION: {
                "version": EXTENSION_VERSION, "tagline": tagline,
                "tone": persona.get("tone", ""), "sliders": sliders,
                "derived_sha256": {"description": _digest(tagline),
                                   "personality": _digest(personality)},
            }},
        },
    }


def card_bytes(card: dict[str, Any]) -> bytes:
    return json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# -- parsing ------------------------------------------------------------------------------------

def parse_card_json(raw: bytes) -> dict[str, Any]:
    """A JSON object from at most 256 KB of UTF-8, nested at most MAX_DEPTH deep."""
    if len(raw) > MAX_JSON_BYTES:
        raise CardTooLarge(f"A character card may be at most {MAX_JSON_BYTES // 1024} KB.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MalformedCard("The character card is not UTF-8 text.") from None
    if _nesting_depth(text) > MAX_DEPTH:
        raise InvalidCard(f"The character card is nested more than {MAX_DEPTH} levels deep.")
    try:
        card = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        raise MalformedCard("The character card is not valid JSON.") from None
    if not isinstance(card, dict):
        raise InvalidCard("The character card must be a JSON object.")
    return card


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects, counted without parsing (strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


# -- import mapping ------------------------------------------------------------------------------

def persona_fields_from_card(card: dict[str, Any]) -> ImportedCard:
    """Valid persona fields from a V1 or V2 card; raises a 4xx AppError for anything else."""
    if "spec" in card:
        spec, version = card.get("spec"), card.get("spec_version", SPEC_VERSION)
        if spec != SPEC or not isinstance(version, str) or not version.startswith("2."):
            raise UnsupportedCard()
        data = card.get("data")
        if not isinstance(data, dict):
            raise InvalidCard("The card's \"data\" must be an object.")
        prefix = "data."
        texts = {name: _text(data, name, prefix) for name in V2_TEXT_FIELDS}
        tags = _strings(data, "tags", prefix)
        greetings = _strings(data, "alternate_greetings", prefix)
        extensions = data.get("extensions") or {}
        if not isinstance(extensions, dict):
            raise InvalidCard("data.extensions must be an object.")
        book = data.get("character_book")
    else:
        if not any(name in card for name in V1_FIELDS):
            raise UnsupportedCard()
        prefix, data = "", card
        texts = {name: _text(card, name, "") for name in V1_FIELDS}
        tags, greetings, extensions, book = [], [], {}, None
    if not texts["name"].strip():
        raise InvalidCard(f"{prefix}name is required.", details=[{"field": f"{prefix}name",
                                                                  "problem": "missing"}])
    ours = extensions.get(EXTENSION)
    ignored = [f"{prefix}extensions.{key}" for key in extensions if key != EXTENSION]
    if book:
        ignored.append(f"{prefix}character_book")
    if isinstance(ours, dict):
        fields = _from_our_card(texts, tags, greetings, ours, prefix)
    else:
        if ours is not None:
            raise InvalidCard(f"{prefix}extensions.{EXTENSION} must be an object.")
        fields, more_ignored = _from_other_card(texts, tags, greetings, prefix)
        ignored += more_ignored
    return ImportedCard(_validated(fields, prefix, isinstance(ours, dict)), ignored)


def _from_our_card(texts: dict[str, str], tags: list[str], greetings: list[str],
                   ours: dict[str, Any], prefix: str) -> dict[str, Any]:
    where = f"{prefix}extensions.{EXTENSION}"
    tagline = _text(ours, "tagline", f"{where}.") if "tagline" in ours else texts[
        "creator_notes"]
    tone = _text(ours, "tone", f"{where}.")
    sliders = ours.get("sliders") or {}
    if not isinstance(sliders, dict):
        raise InvalidCard(f"{where}.sliders must be an object.")
    stored_digests = ours.get("derived_sha256")
    digests: dict[str, Any] = stored_digests if isinstance(stored_digests, dict) else {}
    extra = {name: texts[name] for name in ("description", "personality")
             if texts[name].strip() and digests.get(name) != _digest(texts[name])}
    prompt = _merged_prompt(texts["system_prompt"], {**extra, **_other_texts(texts)},
                            greetings)
    return {"name": texts["name"], "tagline": tagline, "traits": tags, "tone": tone,
            "sliders": sliders, "system_prompt": prompt, "greeting": texts["first_mes"],
            "example_dialogue": texts["mes_example"]}


def _from_other_card(texts: dict[str, str], tags: list[str], greetings: list[str],
                     prefix: str) -> tuple[dict[str, Any], list[str]]:
    name = texts["name"].strip()
    ignored: list[str] = []
    notes = texts.get("creator_notes", "").strip()
    tagline = notes if notes and "\n" not in notes and len(notes) <= TAGLINE_MAX else ""
    if notes and not tagline:
        ignored.append(f"{prefix}creator_notes")
    sections = {key: texts.get(key, "") for key in ("description", "personality")}
    sections.update(_other_texts(texts))
    prompt = _merged_prompt(texts.get("system_prompt", ""), sections, greetings)
    fields = {
        "name": name, "tagline": tagline, "traits": tags, "tone": "", "sliders": {},
        "system_prompt": _prose(prompt, name),
        "greeting": _prose(texts["first_mes"], name),
        "example_dialogue": _dialogue(texts["mes_example"], name),
    }
    return fields, ignored


def _other_texts(texts: dict[str, str]) -> dict[str, str]:
    return {key: texts.get(key, "") for key in ("scenario", "post_history_instructions")}


_SECTION_TITLES = {
    "description": "Description", "personality": "Personality", "scenario": "Scenario",
    "post_history_instructions": "Further instructions",
}


def _merged_prompt(system_prompt: str, sections: dict[str, str], greetings: list[str]) -> str:
    parts = [system_prompt.strip()] if system_prompt.strip() else []
    for key, value in sections.items():
        if value.strip():
            parts.append(f"{_SECTION_TITLES[key]}:\n{value.strip()}")
    shown = [g.strip() for g in greetings if g.strip()]
    if shown:
        parts.append("Other ways this character may open a conversation:\n"
                     + "\n".join(f"- {g}" for g in shown))
    return "\n\n".join(parts)


def _prose(text: str, name: str) -> str:
    text = _CHAR.sub(name, _ORIGINAL.sub("", text))
    text = _USER_LINE.sub(lambda m: f"{m.group(1)}User{m.group(2)}", text)
    return _USER.sub("the user", text)


def _dialogue(text: str, name: str) -> str:
    text = _START.sub("", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return _prose(text, name)


def _validated(fields: dict[str, Any], prefix: str, ours: bool) -> PersonaCreate:
    try:
        return PersonaCreate.model_validate({**fields, "visibility": "private"})
    except ValidationError as error:
        details = []
        for problem in error.errors():
            persona_field = str(problem["loc"][0]) if problem["loc"] else ""
            card_field = _PERSONA_TO_CARD.get(persona_field, persona_field)
            if persona_field == "tagline" and ours:
                card_field = f"extensions.{EXTENSION}.tagline"
            if persona_field == "system_prompt":
                card_field = "system_prompt (with the texts merged into it)"
            details.append({"field": f"{prefix}{card_field}", "problem": problem["msg"]})
        first = details[0]
        raise InvalidCard(f"The card's {first['field']} cannot be imported: {first['problem']}.",
                          details=details) from None


def _text(data: dict[str, Any], name: str, prefix: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidCard(f"{prefix}{name} must be text.",
                          details=[{"field": f"{prefix}{name}", "problem": "must be text"}])
    return value


def _strings(data: dict[str, Any], name: str, prefix: str) -> list[str]:
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidCard(f"{prefix}{name} must be a list of text.",
                          details=[{"field": f"{prefix}{name}",
                                    "problem": "must be a list of text"}])
    return value


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- export and import for a user ---------------------------------------------------------------

async def card_for_viewer(ctx: Ctx, *, persona_id: str,
                          viewer_id: str) -> tuple[Persona, dict[str, Any]]:
    """(persona, card) for its owner, or for anyone when the persona is public (then without
    private fields); another user's private persona is "not found"."""
    persona = await persona_service.get_usable(ctx, user_id=viewer_id, persona_id=persona_id)
    return persona, export_card(persona, include_private=persona["owner_id"] == viewer_id)


async def card_png_for_viewer(ctx: Ctx, *, persona_id: str,
                              viewer_id: str) -> tuple[Persona, bytes]:
    """(persona, PNG): the avatar, or a plain generated picture, with the card embedded."""
    persona, card = await card_for_viewer(ctx, persona_id=persona_id, viewer_id=viewer_id)
    picture = None
    if avatar_id := persona.get("avatar_media_id"):
        try:
            avatar = await media.open_for_viewer(ctx, media_id=avatar_id,
                                                 viewer_id=viewer_id)
            picture = await ctx.media.get(avatar["key"])
        except MediaNotFound:
            picture = None
    png = await asyncio.to_thread(write_card_png, card_bytes(card), image=picture,
                                  seed=persona["_id"])
    return persona, png


async def import_card(ctx: Ctx, *, user: User,
                      data: bytes) -> tuple[Persona, list[str]]:
    """A new private persona from a card (JSON, or PNG with a `chara` chunk; told apart by
    content). Returns (persona, card fields not imported). Nothing is created on any error."""
    picture: CleanImage | None = None
    ignored: list[str] = []
    if is_png(data):
        raw = decode_card_text(read_card_text(data))
        imported = persona_fields_from_card(parse_card_json(raw))
        try:
            picture = await prepare_image(data, max_side=media.max_side(AVATAR))
        except MediaError:
            ignored.append("the PNG's picture (it could not be used as an avatar)")
    else:
        imported = persona_fields_from_card(parse_card_json(data))
    persona = await persona_service.create(ctx, owner_id=user["_id"], data=imported.fields)
    if picture is not None:
        try:
            await media.add_clean_image(ctx, owner_id=user["_id"], persona_id=persona["_id"],
                                        kind=AVATAR, image=picture)
        except BaseException:
            await persona_service.remove_persona(ctx, persona)
            raise
        persona = await persona_service.get_owned(ctx, user_id=user["_id"],
                                                  persona_id=persona["_id"])
    return persona, [*imported.ignored, *ignored]
