"""send_email queues (never sends inline); the email.send job delivers, retries and dead-letters."""

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import httpx
import pytest

from clonechats.context import AppContext
from clonechats.jobs import repo as jobs_repo
from clonechats.mail.service import EMAIL_SEND, send_email
from clonechats.providers.email import outbox
from clonechats.providers.email.resend import ResendEmailProvider
from tests.conftest import FrozenClock
from tests.fakes.resend import API_KEY, BASE_URL, FakeResend

RunJobs = Callable[[], Awaitable[int]]
LINK = "https://app.example.com/verify?token=tok_123"
CONTEXT = {"display_name": "<b>Ada</b>", "verification_url": LINK,
           "expires_at": datetime(2026, 3, 2, 12, 0, tzinfo=UTC)}


async def queue_verification(ctx: AppContext, key: str = "verification/u1/t1") -> None:
    await send_email(ctx, to="ada@example.com", template="verification", context=CONTEXT,
                     idempotency_key=key)


async def email_jobs(ctx: AppContext) -> list[dict]:
    return await ctx.db[jobs_repo.COLLECTION].find({"kind": EMAIL_SEND}).to_list()


@pytest.fixture
async def fake_resend(ctx: AppContext) -> AsyncIterator[FakeResend]:
    fake = FakeResend()
    async with fake.client() as http:
        ctx.email = ResendEmailProvider(api_key=API_KEY, from_address="a@mail.example.com",
                                        http=http, base_url=BASE_URL)
        yield fake


async def test_send_email_queues_a_job_and_sends_nothing_inline(ctx: AppContext) -> None:
    await queue_verification(ctx)

    [job] = await email_jobs(ctx)
    assert job["status"] == jobs_repo.QUEUED
    assert job["dedupe_key"] == "email:verification/u1/t1"
    payload = job["payload"]
    assert payload["to"] == "ada@example.com"
    assert payload["idempotency_key"] == "verification/u1/t1"
    assert payload["tags"] == {"template": "verification"}
    assert LINK in payload["text"]
    assert "&lt;b&gt;Ada&lt;/b&gt;" in payload["html"]
    assert await outbox.list_outbox(ctx.db) == ([], None)


async def test_job_delivers_through_the_configured_provider(ctx: AppContext,
                                                            run_jobs: RunJobs) -> None:
    await queue_verification(ctx)

    assert await run_jobs() == 1

    [stored], _ = await outbox.list_outbox(ctx.db)
    assert stored["to"] == "ada@example.com"
    assert stored["subject"] == "Confirm your email address for Clone Chats"
    assert LINK in stored["text"]
    [job] = await email_jobs(ctx)
    assert job["status"] == jobs_repo.DONE


async def test_same_key_twice_queues_one_job_and_sends_one_email(ctx: AppContext,
                                                                 run_jobs: RunJobs) -> None:
    await queue_verification(ctx)
    await queue_verification(ctx)

    assert len(await email_jobs(ctx)) == 1
    await run_jobs()
    await queue_verification(ctx)  # even after delivery
    assert await run_jobs() == 0
    items, _ = await outbox.list_outbox(ctx.db)
    assert len(items) == 1


async def test_different_keys_send_separate_emails(ctx: AppContext, run_jobs: RunJobs) -> None:
    await queue_verification(ctx, "verification/u1/t1")
    await queue_verification(ctx, "verification/u1/t2")

    assert await run_jobs() == 2
    items, _ = await outbox.list_outbox(ctx.db)
    assert len(items) == 2


async def test_resend_delivery_sends_the_rendered_message(
    ctx: AppContext, run_jobs: RunJobs, fake_resend: FakeResend
) -> None:
    await queue_verification(ctx)
    await run_jobs()

    [email] = fake_resend.sent
    assert email["to"] == ["ada@example.com"]
    assert LINK in email["text"]
    assert fake_resend.history[0].headers["idempotency-key"] == "verification/u1/t1"


@pytest.mark.parametrize("failure", [
    {"status": 500},
    {"status": 429, "headers": {"retry-after": "1"}},
    {"error": httpx.ReadTimeout},
])
async def test_retryable_failure_is_retried_with_backoff_then_succeeds(
    ctx: AppContext, clock: FrozenClock, run_jobs: RunJobs, fake_resend: FakeResend,
    failure: dict,
) -> None:
    fake_resend.enqueue_response(**failure)
    await queue_verification(ctx)

    assert await run_jobs() == 1
    [job] = await email_jobs(ctx)
    assert job["status"] == jobs_repo.QUEUED
    assert job["attempts"] == 1
    assert job["run_at"] > clock.now()
    assert fake_resend.sent == []
    assert await run_jobs() == 0  # not due before its backoff

    clock.advance(seconds=ctx.settings.jobs.backoff_base_seconds)
    assert await run_jobs() == 1

    [job] = await email_jobs(ctx)
    assert job["status"] == jobs_repo.DONE
    assert job["attempts"] == 2
    assert len(fake_resend.sent) == 1
    keys = [r.headers["idempotency-key"] for r in fake_resend.history]
    assert keys == ["verification/u1/t1", "verification/u1/t1"]


@pytest.mark.parametrize("status", [422, 401])
async def test_rejected_send_is_dead_lettered_at_once(
    ctx: AppContext, clock: FrozenClock, run_jobs: RunJobs, fake_resend: FakeResend,
    status: int,
) -> None:
    fake_resend.enqueue_response(status)
    await queue_verification(ctx)

    assert await run_jobs() == 1
    [job] = await email_jobs(ctx)
    assert job["status"] == jobs_repo.DEAD
    assert job["attempts"] == 1
    assert str(status) in job["last_error"]
    assert API_KEY not in job["last_error"]

    clock.advance(hours=2)
    assert await run_jobs() == 0
    assert len(fake_resend.history) == 1
    assert fake_resend.sent == []


async def test_runner_dead_letters_any_error_marked_not_retryable(
    ctx: AppContext, run_jobs: RunJobs
) -> None:
    class Permanent(Exception):
        retryable = False

    async def permanent(payload: dict, ctx: AppContext) -> None:
        raise Permanent("no point trying again")

    async def transient(payload: dict, ctx: AppContext) -> None:
        raise RuntimeError("try later")

    ctx.jobs.register("test.permanent", permanent)
    ctx.jobs.register("test.transient", transient)
    dead = await ctx.enqueue("test.permanent", {})
    retried = await ctx.enqueue("test.transient", {})

    assert await run_jobs() == 2
    dead_job = await jobs_repo.get(ctx.db, dead["_id"])
    retried_job = await jobs_repo.get(ctx.db, retried["_id"])
    assert dead_job is not None and retried_job is not None
    assert (dead_job["status"], dead_job["attempts"]) == (jobs_repo.DEAD, 1)
    assert (retried_job["status"], retried_job["attempts"]) == (jobs_repo.QUEUED, 1)
