"""The app's own sections: jobs, accounts, media, Google sign-in, privacy, the server, fraud
signals and the admin console."""

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator

from clonechats.settings.checks import require


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
    account_quota_bytes: int = Field(200 * 1024 * 1024, gt=0, description="Most bytes of "
                                     "files one account may keep, all personas together "
                                     "(403 `storage_quota_exceeded` beyond).")
    orphan_grace_hours: float = Field(24.0, gt=0, description="How long a stored file that "
                                      "no `media` document names is left alone before the "
                                      "daily `media.sweep_orphans` job deletes it (longer "
                                      "than any upload takes).")

    @model_validator(mode="after")
    def _s3_needs_bucket(self) -> "MediaSettings":
        if self.backend == "s3":
            require(self, "media", "s3_bucket", switch="backend")
        return self


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
