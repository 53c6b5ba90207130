"""Every knob of the app, in one place.

Values come from the environment (prefix `CLONECHATS_`, nested with `__`, e.g.
`CLONECHATS_JOBS__MAX_ATTEMPTS=5`) or an optional `.env` file. Nothing here reads the
environment at import time: `Settings()` is built once by the CLI or by tests and passed down.
"""

import os
import secrets
from ipaddress import ip_network
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_FILE_NAME = "secret_key"  # noqa: S105 - a file name, not a secret


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


class JobSettings(BaseModel):
    """The lease-based background job runner."""

    run_in_server: bool | None = Field(
        None,
        description="Run jobs inside `serve`. Default: yes for the embedded engine, "
        "no for MongoDB (run `clonechats worker` processes instead).",
    )
    lease_seconds: float = Field(60.0, gt=0, description="How long a claimed job is reserved.")
    poll_seconds: float = Field(1.0, gt=0, description="Idle wait between claims.")
    max_attempts: int = Field(5, ge=1, description="Failures before a job is dead-lettered.")
    backoff_base_seconds: float = Field(2.0, gt=0, description="Retry delay = base * 2**attempt.")
    backoff_max_seconds: float = Field(3600.0, gt=0, description="Upper bound of a retry delay.")
    concurrency: int = Field(4, ge=1, description="Jobs one runner executes at the same time.")


class MediaSettings(BaseModel):
    """Uploaded and generated files."""

    max_upload_bytes: int = Field(10 * 1024 * 1024, gt=0, description="Largest accepted file.")


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
                            "(emails, share links, payment returns).")
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

    jobs: JobSettings = Field(default_factory=JobSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)

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

    @property
    def uses_mongodb(self) -> bool:
        return bool(self.database_url) and self.database_url.startswith(
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
