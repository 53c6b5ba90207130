"""API models for personas: what may come in (create, update, preview) and what goes out
(the owner's view, and the public view that never carries owner data).

Every limit has its own message, so a form can say exactly what to fix. Text is trimmed;
single-line fields refuse line breaks; no field accepts control characters.
"""

import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from clonechats.personas import names
from clonechats.personas.repo import Persona

SLIDER_NAMES = ("warmth", "humour", "formality", "verbosity", "curiosity")
SLIDER_DEFAULT = 50
SLIDER_MIN, SLIDER_MAX = 0, 100

NAME_MAX = 60
TAGLINE_MAX = 140
TONE_MAX = 60
TRAITS_MAX = 12
TRAIT_MAX = 30
SYSTEM_PROMPT_MAX = 4000
GREETING_MAX = 1000
EXAMPLE_DIALOGUE_MAX = 4000

Visibility = Literal["private", "public"]


def _fail(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def _has_control_characters(value: str, *, allow_newlines: bool) -> bool:
    allowed = {"\n", "\t"} if allow_newlines else {"\t"}
    return any(unicodedata.category(c) == "Cc" and c not in allowed for c in value)


def _text(label: str, *, max_length: int, min_length: int = 0,
          multiline: bool = False) -> BeforeValidator:
    def check(value: Any) -> str:
        if value is None:
            raise _fail("text_required", f"{label} cannot be null; send an empty string instead"
                        if min_length == 0 else f"{label} is required")
        if not isinstance(value, str):
            raise _fail("text_type", f"{label} must be text")
        text = value.replace("\r\n", "\n").replace("\r", "\n").strip()
        if not multiline and "\n" in text:
            raise _fail("text_single_line", f"{label} must be a single line")
        if _has_control_characters(text, allow_newlines=multiline):
            raise _fail("text_control", f"{label} must not contain control characters")
        if len(text) < min_length or len(text) > max_length:
            if min_length:
                raise _fail("text_length",
                            f"{label} must be {min_length} to {max_length} characters long")
            raise _fail("text_length", f"{label} must be at most {max_length} characters long")
        return text

    return BeforeValidator(check)


def _check_traits(value: Any) -> list[str]:
    if value is None:
        raise _fail("traits_type", "traits must be a list of short tags")
    if not isinstance(value, list):
        raise _fail("traits_type", "traits must be a list of short tags")
    tags: list[str] = []
    seen: set[str] = set()
    for item in value:
        if not isinstance(item, str):
            raise _fail("traits_type", "each trait must be text")
        tag = " ".join(item.split())
        if _has_control_characters(tag, allow_newlines=False):
            raise _fail("trait_control", "traits must not contain control characters")
        if not tag:
            raise _fail("trait_length", f"each trait must be 1 to {TRAIT_MAX} characters long")
        if len(tag) > TRAIT_MAX:
            raise _fail("trait_length", f"each trait must be 1 to {TRAIT_MAX} characters long "
                        f"(\"{tag[:TRAIT_MAX]}…\" is too long)")
        if tag.casefold() not in seen:
            seen.add(tag.casefold())
            tags.append(tag)
    if len(tags) > TRAITS_MAX:
        raise _fail("traits_count", f"a persona can have at most {TRAITS_MAX} traits")
    return tags


def _check_sliders(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise _fail("sliders_type", "sliders must be an object of slider names and values")
    sliders: dict[str, int] = {}
    for name, level in value.items():
        if name not in SLIDER_NAMES:
            raise _fail("slider_unknown", f"there is no slider called \"{str(name)[:40]}\"; "
                        f"the sliders are {', '.join(SLIDER_NAMES)}")
        if isinstance(level, bool) or not isinstance(level, int) or not (
                SLIDER_MIN <= level <= SLIDER_MAX):
            raise _fail("slider_range", f"the {name} slider must be a whole number "
                        f"from {SLIDER_MIN} to {SLIDER_MAX}")
        sliders[name] = level
    return sliders


def _check_name(value: str) -> str:
    reason = names.problem(value)
    if reason is not None:
        raise _fail("name_not_allowed", reason)
    return value


Name = Annotated[str, _text("the name", min_length=1, max_length=NAME_MAX),
                 AfterValidator(_check_name)]
Tagline = Annotated[str, _text("the tagline", max_length=TAGLINE_MAX)]
Tone = Annotated[str, _text("the tone", max_length=TONE_MAX)]
SystemPrompt = Annotated[str, _text("the system prompt", max_length=SYSTEM_PROMPT_MAX,
                                    multiline=True)]
Greeting = Annotated[str, _text("the greeting", max_length=GREETING_MAX, multiline=True)]
ExampleDialogue = Annotated[str, _text("the example dialogue", max_length=EXAMPLE_DIALOGUE_MAX,
                                       multiline=True)]
Traits = Annotated[list[str], BeforeValidator(_check_traits)]
Sliders = Annotated[dict[str, int], BeforeValidator(_check_sliders)]


def full_sliders(given: dict[str, int] | None = None) -> dict[str, int]:
    """Every slider, defaults filled in: stored personas always carry all five."""
    given = given or {}
    return {name: int(given.get(name, SLIDER_DEFAULT)) for name in SLIDER_NAMES}


ModelChoice = Annotated[str, Field(max_length=100)]
"""An enabled model id ("provider:model"), or "" for the operator's default."""


class PersonaVoice(BaseModel):
    """The persona's voice (`GET /api/v1/voices`) and speaking rate; checked against the
    enabled voices by `voice.service.chosen_voice`."""

    model_config = ConfigDict(extra="forbid")

    voice_id: str = Field(max_length=120)
    rate: float = Field(1.0, ge=0.5, le=2.0)


class PersonaCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    tagline: Tagline = ""
    traits: Traits = []
    tone: Tone = ""
    system_prompt: SystemPrompt = ""
    system_prompt_public: bool = False
    sliders: Sliders = {}
    greeting: Greeting = ""
    example_dialogue: ExampleDialogue = ""
    visibility: Visibility = "private"
    model: ModelChoice = ""
    voice: PersonaVoice | None = None


class PersonaUpdate(BaseModel):
    """Only the fields sent change; `sliders` merges into the stored values."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    tagline: Tagline | None = None
    traits: Traits | None = None
    tone: Tone | None = None
    system_prompt: SystemPrompt | None = None
    system_prompt_public: bool | None = None
    sliders: Sliders | None = None
    greeting: Greeting | None = None
    example_dialogue: ExampleDialogue | None = None
    visibility: Visibility | None = None
    model: ModelChoice | None = None
    voice: PersonaVoice | None = None

    @field_validator("*", mode="before")
    @classmethod
    def no_nulls(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            raise _fail("not_null", f"{info.field_name} cannot be null; leave it out to keep "
                        "the current value")
        return value

    def changes(self) -> dict[str, Any]:
        return {key: value for key, value in self.model_dump(exclude_unset=True).items()
                if value is not None}


class InstructionsPreviewIn(BaseModel):
    """The editor's unsaved profile fields, for the live preview; nothing is stored. Only the
    name, traits, tone and sliders shape the text; the rest is checked and otherwise ignored."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, _text("the name", max_length=NAME_MAX)] = ""
    tagline: Tagline = ""
    traits: Traits = []
    tone: Tone = ""
    system_prompt: SystemPrompt = ""
    system_prompt_public: bool = False
    sliders: Sliders = {}
    greeting: Greeting = ""
    example_dialogue: ExampleDialogue = ""
    visibility: Visibility = "private"
    model: ModelChoice = ""
    voice: PersonaVoice | None = None


def share_path(share_id: str | None) -> str | None:
    return f"/p/{share_id}" if share_id else None


class PersonaOut(BaseModel):
    """The owner's view: every profile field, the share id and the media references."""

    id: str
    name: str
    tagline: str
    traits: list[str]
    tone: str
    system_prompt: str
    system_prompt_public: bool
    sliders: dict[str, int]
    greeting: str
    example_dialogue: str
    visibility: Visibility
    model: str | None
    avatar_media_id: str | None
    reference_image_ids: list[str]
    reference_voice_id: str | None
    share_id: str | None
    share_path: str | None
    favourite_count: int
    chat_count: int
    created_at: datetime
    updated_at: datetime
    voice: dict[str, Any] | None = None

    @classmethod
    def of(cls, persona: Persona) -> "PersonaOut":
        return cls(
            id=persona["_id"], name=persona["name"], tagline=persona.get("tagline", ""),
            traits=persona.get("traits", []), tone=persona.get("tone", ""),
            system_prompt=persona.get("system_prompt", ""),
            system_prompt_public=persona.get("system_prompt_public", False),
            sliders=full_sliders(persona.get("sliders")), greeting=persona.get("greeting", ""),
            example_dialogue=persona.get("example_dialogue", ""),
            visibility=persona["visibility"], model=persona.get("model"),
            avatar_media_id=persona.get("avatar_media_id"),
            reference_image_ids=persona.get("reference_image_ids", []),
            reference_voice_id=persona.get("reference_voice_id"),
            share_id=persona.get("share_id"), share_path=share_path(persona.get("share_id")),
            favourite_count=persona.get("favourite_count", 0),
            chat_count=persona.get("chat_count", 0),
            created_at=persona["created_at"], updated_at=persona["updated_at"],
            voice=persona.get("voice"),
        )


class PersonaPublic(BaseModel):
    """What anyone may see: no owner, no memories, and the system prompt only when the owner
    marked it public."""

    id: str
    share_id: str | None
    share_path: str | None
    name: str
    tagline: str
    traits: list[str]
    tone: str
    sliders: dict[str, int]
    greeting: str
    example_dialogue: str
    system_prompt: str | None
    avatar_media_id: str | None
    favourite_count: int
    chat_count: int
    created_at: datetime

    @classmethod
    def of(cls, persona: Persona) -> "PersonaPublic":
        shown_prompt = persona.get("system_prompt", "") if persona.get(
            "system_prompt_public") else None
        return cls(
            id=persona["_id"], share_id=persona.get("share_id"),
            share_path=share_path(persona.get("share_id")), name=persona["name"],
            tagline=persona.get("tagline", ""), traits=persona.get("traits", []),
            tone=persona.get("tone", ""), sliders=full_sliders(persona.get("sliders")),
            greeting=persona.get("greeting", ""),
            example_dialogue=persona.get("example_dialogue", ""), system_prompt=shown_prompt,
            avatar_media_id=persona.get("avatar_media_id"),
            favourite_count=persona.get("favourite_count", 0),
            chat_count=persona.get("chat_count", 0),
            created_at=persona["created_at"],
        )
