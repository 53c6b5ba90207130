"""API models of translation chats: the mode asked for at creation, and what messages carry."""

from pydantic import BaseModel, ConfigDict, Field


class TranslationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user_language: str = Field(min_length=1, max_length=40, description="BCP 47, e.g. `es`.")
    persona_language: str = Field(min_length=1, max_length=40, description="BCP 47, e.g. `en`.")


class TranslationModeOut(BaseModel):
    user_language: str
    persona_language: str


class MessageTranslationOut(BaseModel):
    language: str
    text: str
    provider: str  # the translator; "none" when the text was already in that language


class LanguageFlagOut(BaseModel):
    detected: str  # the language the text seems to be in
    expected: str  # the language it should have been in
    confidence: float
