"""Every knob of the app, in one `Settings` object.

Values come from the environment (prefix `CLONECHATS_`, nested with `__`, e.g.
`CLONECHATS_JOBS__MAX_ATTEMPTS=5`) or an optional `.env` file. Nothing here reads the
environment at import time: `Settings()` is built once by the CLI or by tests and passed down.

The sections live in the modules beside this one (`platform`, `billing`, `providers`,
`chat`); every name is offered from here, so code imports `clonechats.settings`.
"""

import os
import secrets
from ipaddress import ip_network
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from clonechats.settings.billing import (
    CURRENCY_PATTERN,
    PLAN_TIERS,
    BillingSettings,
    CatalogPack,
    CatalogPlan,
)
from clonechats.settings.chat import (
    ChatSettings,
    ModelPrice,
    RoomSettings,
    ScheduledSettings,
)
from clonechats.settings.platform import (
    GOOGLE_ISSUERS,
    AccountSettings,
    AdminSettings,
    FraudSettings,
    GoogleSettings,
    JobSettings,
    MediaSettings,
    PrivacySettings,
    ProcessorSpec,
    ProviderCost,
    ServerSettings,
)
from clonechats.settings.providers import (
    LANGUAGE_TAG,
    TRANSLATION_LANGUAGES,
    ElevenLabsVoiceSpec,
    EmailSettings,
    EmbeddingSettings,
    LLMModelSpec,
    LLMSettings,
    LocalModelName,
    ModerationSettings,
    SafetypeCategory,
    SafetypeLanguage,
    SpeechSettings,
    TranslationSettings,
    TranslatorName,
    VideoSettings,
)

SECRET_FILE_NAME = "secret_key"  # noqa: S105 - a file name, not a secret


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - names them, binds nothing


def _local_url(host: str, port: int) -> str:
    """The URL a browser on this machine reaches a server listening on host:port by."""
    if host in WILDCARD_HOSTS:
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


class Settings(BaseSettings):
    """Application settings. Each field documents itself; see README for the common ones."""

    model_config = SettingsConfigDict(
        env_prefix="CLONECHATS_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    data_dir: Path = Field(Path("data"), description="Where the embedded database, media and "
                           "the generated secret live.")
    database_timeout_seconds: float = Field(
        10.0, gt=0, description="Longest a database call may take before the request fails "
        "with 503 `storage_unavailable` (and `/healthz` says the database is down).")
    database_url: str | None = Field(
        None,
        description="`mongodb://…` or `mongodb+srv://…` for MongoDB; empty or `file:PATH` "
        "for the embedded engine (default: inside data_dir).",
    )
    database_name: str = Field("clonechats", description="Database name inside the server.")
    dev_mode: bool = Field(
        False, description="Plain-HTTP cookies and the outbox viewer for admins."
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Signs CSRF tokens and keys IP hashes. Generated once and kept in "
        "data_dir when unset. Must be at least 32 characters.",
    )
    public_url: str = Field("http://127.0.0.1:8000", description="Base URL used in links "
                            "(emails, share links, payment returns). Unset, `clonechats serve` "
                            "uses the address and port it listens on.")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks whose X-Forwarded-For/-Proto headers are honoured.",
    )
    max_body_bytes: int = Field(12 * 1024 * 1024, gt=0, description="Largest request body.")
    max_json_bytes: int = Field(1024 * 1024, gt=0, description="Largest JSON request body.")
    metrics_token: SecretStr | None = Field(
        None, description="When set, /metrics requires `Authorization: Bearer <token>`."
    )
    log_level: str = Field("INFO", description="Python logging level name.")
    log_json: bool = Field(True, description="One JSON object per log line (off: plain text).")

    operator_name: str = Field("Clone Chats", description="Who runs this instance.")
    contact_email: str = Field("privacy@example.invalid", description="Privacy contact.")
    security_email: str = Field("security@example.invalid", description="Security contact.")

    accounts: AccountSettings = Field(default_factory=AccountSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    embeddings: EmbeddingSettings = Field(default_factory=EmbeddingSettings)
    email: EmailSettings = Field(default_factory=EmailSettings)
    google: GoogleSettings = Field(default_factory=GoogleSettings)
    billing: BillingSettings = Field(default_factory=BillingSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    moderation: ModerationSettings = Field(default_factory=ModerationSettings)
    rooms: RoomSettings = Field(default_factory=RoomSettings)
    translation: TranslationSettings = Field(default_factory=TranslationSettings)
    speech: SpeechSettings = Field(default_factory=SpeechSettings)
    video: VideoSettings = Field(default_factory=VideoSettings)
    scheduled: ScheduledSettings = Field(default_factory=ScheduledSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    admin: AdminSettings = Field(default_factory=AdminSettings)

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ip_network(item, strict=False)
        return value

    @field_validator("secret_key")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("secret_key must be at least 32 characters")
        return value

    @model_validator(mode="after")
    def _production_bcrypt_cost(self) -> "Settings":
        if self.accounts.bcrypt_rounds < 12 and not self.dev_mode:
            raise ValueError("accounts.bcrypt_rounds below 12 is allowed only in dev mode")
        return self

    @property
    def uses_mongodb(self) -> bool:
        return self.database_url is not None and self.database_url.startswith(
            ("mongodb://", "mongodb+srv://")
        )

    @property
    def runs_jobs_in_server(self) -> bool:
        if self.jobs.run_in_server is not None:
            return self.jobs.run_in_server
        return not self.uses_mongodb

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    def served_at(self, host: str, port: int) -> "Settings":
        """These settings for a server listening on host:port: links follow that address unless
        `public_url` was set explicitly."""
        if "public_url" in self.model_fields_set:
            return self
        return self.model_copy(update={"public_url": _local_url(host, port)})

    def resolved_secret(self) -> str:
        """The configured secret, or one generated once and kept (mode 0600) in data_dir."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / SECRET_FILE_NAME
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        generated = secrets.token_urlsafe(48)
        try:
            with open(path, "x", opener=_private_opener) as fh:
                fh.write(generated)
        except FileExistsError:  # another process won the race: use its secret
            return path.read_text().strip()
        return generated


__all__ = [
    "CURRENCY_PATTERN",
    "GOOGLE_ISSUERS",
    "LANGUAGE_TAG",
    "PLAN_TIERS",
    "TRANSLATION_LANGUAGES",
    "AccountSettings",
    "AdminSettings",
    "BillingSettings",
    "CatalogPack",
    "CatalogPlan",
    "ChatSettings",
    "ElevenLabsVoiceSpec",
    "EmailSettings",
    "EmbeddingSettings",
    "FraudSettings",
    "GoogleSettings",
    "JobSettings",
    "LLMModelSpec",
    "LLMSettings",
    "LocalModelName",
    "MediaSettings",
    "ModelPrice",
    "ModerationSettings",
    "PrivacySettings",
    "ProcessorSpec",
    "ProviderCost",
    "RoomSettings",
    "SafetypeCategory",
    "SafetypeLanguage",
    "ScheduledSettings",
    "ServerSettings",
    "Settings",
    "SpeechSettings",
    "TranslationSettings",
    "TranslatorName",
    "VideoSettings",
]
