"""The application context: the collaborators every request and job handler may need.

Built once per process from `Settings` (by `create_app` or `clonechats worker`), opened in the
lifespan and closed after. Domains read what they need from it; nothing here is global.
"""

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from clonechats import __version__, domains
from clonechats.chat.mood_backlog import MoodBacklog
from clonechats.clock import Clock
from clonechats.jobs import service as job_service
from clonechats.jobs.service import JobRegistry
from clonechats.media.s3_store import build_s3_store
from clonechats.media.store import LocalMediaStore, MediaStore
from clonechats.providers.email.base import EmailProvider
from clonechats.providers.email.registry import build_email_provider
from clonechats.providers.embeddings.base import EmbeddingProvider
from clonechats.providers.embeddings.registry import build_embedding_provider
from clonechats.providers.identity.google import GoogleOpenID, build_google
from clonechats.providers.llm.registry import LLMRegistry, build_llm_registry
from clonechats.providers.moderation.base import Moderator
from clonechats.providers.moderation.registry import build_moderator
from clonechats.providers.payments.registry import PaymentProviders, build_payment_providers
from clonechats.providers.speech.registry import SpeechRegistry, build_speech_registry
from clonechats.providers.translation.registry import (
    TranslationRegistry,
    build_translation_registry,
)
from clonechats.providers.video.base import VideoProvider
from clonechats.providers.video.fal_webhooks import FalWebhookVerifier
from clonechats.providers.video.registry import build_fal_webhooks, build_video_provider
from clonechats.settings import Settings
from clonechats.storage import Connection, apply_indexes, connect

log = logging.getLogger(__name__)

@dataclass
class AppContext:
    settings: Settings
    clock: Clock
    connection: Connection
    media: MediaStore
    secret: str
    http: httpx.AsyncClient  # shared by every vendor adapter; closed in close()
    email: EmailProvider
    # Built at start-up without loading its model; the first embedding loads it.
    embeddings: EmbeddingProvider
    payments: PaymentProviders
    # Language models by "provider:name" id; the local model loads on its first use.
    llm: LLMRegistry
    # The configured moderator (`moderation.provider`); its classifiers load on the first check.
    moderation: Moderator
    # Translators for translation chats (`translation.providers`), in the order they are tried.
    translation: TranslationRegistry
    # Voices and speech input (`speech.*`); the local engines load on first use.
    speech: SpeechRegistry
    # Lip-sync video (`video.provider`).
    video: VideoProvider
    jobs: JobRegistry = field(default_factory=JobRegistry)
    google: GoogleOpenID | None = None  # None until settings.google is configured
    fal_webhooks: FalWebhookVerifier | None = None  # only when fal.ai renders the videos
    # Moods of finished messages, worked out in batches after the reply (None: moods are off).
    mood_backlog: MoodBacklog | None = None

    @property
    def db(self) -> Any:
        return self.connection.db

    async def enqueue(self, kind: str, payload: dict[str, Any], run_at: datetime | None = None,
                      *, dedupe_key: str | None = None) -> dict[str, Any]:
        return await job_service.enqueue(self.db, kind, payload, run_at, clock=self.clock,
                                         max_attempts=self.settings.jobs.max_attempts,
                                         dedupe_key=dedupe_key)

    async def close(self) -> None:
        if self.mood_backlog is not None:
            await self.mood_backlog.close()
        await self.http.aclose()
        await self.connection.close()


Ctx = AppContext
"""What services and job handlers take as `ctx` (imported under `TYPE_CHECKING`: this module
imports the providers, and domain modules must not import it at run time)."""


def register_all_jobs(registry: JobRegistry) -> None:
    """Add the job handlers of every domain's `jobs` modules (`domains.DOMAINS`)."""
    for module in domains.job_modules():
        module.register_jobs(registry)


def register_privacy_holders() -> None:
    """Import every domain's `personal_data` modules, in `domains.PERSONAL_DATA_ORDER`: each
    registers a `privacy.registry.DataHolder`. Deletion runs in that order among holders of the
    same `DataHolder.order`; accounts stays last (it removes the user)."""
    domains.import_personal_data()


def build_media_store(settings: Settings) -> MediaStore:
    if settings.media.backend == "s3":
        return build_s3_store(settings.media)
    return LocalMediaStore(settings.media_dir, max_bytes=settings.media.max_upload_bytes)


async def open_context(settings: Settings, *, clock: Clock | None = None) -> AppContext:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    connection = await connect(settings.database_url, data_dir=settings.data_dir,
                               name=settings.database_name,
                               timeout_seconds=settings.database_timeout_seconds)
    try:
        await apply_indexes(connection.db)
    except Exception:
        await connection.close()
        raise
    clock = clock or Clock()
    # Each streamed vendor reply holds a connection for its whole length: allow many at once.
    http = httpx.AsyncClient(headers={"User-Agent": f"clonechats/{__version__}"}, timeout=30.0,
                             limits=httpx.Limits(max_connections=1000,
                                                 max_keepalive_connections=100))
    llm = build_llm_registry(settings.llm, http=http)
    secret = await asyncio.to_thread(settings.resolved_secret)
    context = AppContext(
        settings=settings,
        clock=clock,
        connection=connection,
        media=build_media_store(settings),
        secret=secret,
        http=http,
        email=build_email_provider(settings.email, db=connection.db, http=http, clock=clock),
        embeddings=build_embedding_provider(settings.embeddings),
        payments=build_payment_providers(settings.billing, db=connection.db, http=http,
                                         clock=clock, server_secret=secret),
        llm=llm,
        moderation=build_moderator(settings.moderation, http=http),
        translation=build_translation_registry(settings.translation, http=http, llm=llm),
        speech=build_speech_registry(settings.speech, http=http, data_dir=settings.data_dir),
        video=build_video_provider(settings.video, http=http, public_url=settings.public_url),
        google=build_google(settings.google, http=http, clock=clock),
        fal_webhooks=build_fal_webhooks(settings.video, http=http, clock=clock),
    )
    if settings.chat.mood_signals:
        context.mood_backlog = MoodBacklog(context, limit=settings.chat.mood_backlog_max)
    register_all_jobs(context.jobs)
    register_privacy_holders()
    log.info("context ready", extra={"engine": connection.engine})
    return context
