"""The worked example of `docs/adding-a-provider.md`, run, so the guide cannot drift from the code.

Every fenced block of the guide carries `title="<path>"`. The Python blocks are executed: the
adapter, its fake and its tests as the modules their titles name (in `sys.modules` for one test
only), the settings and registry excerpts inside the namespaces of the real modules they extend.
The diff blocks must apply to today's files and leave valid Python. The adapter is then checked
against Postbox's API as the guide states it (a `MockTransport` written here, apart from the
guide's fake), through the email contract suite, and through the `email.send` job.
"""

import json
import re
import sys
import types
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from pydantic import Field, SecretStr, ValidationError, create_model, model_validator

from clonechats.clock import Clock, FrozenClock
from clonechats.context import AppContext
from clonechats.jobs import repo as jobs_repo
from clonechats.mail.service import send_email
from clonechats.providers.email import registry
from clonechats.providers.email.base import EmailMessage, EmailProvider
from clonechats.providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderQuotaError,
    ProviderRejected,
    ProviderUnavailable,
)
from clonechats.settings import EmailSettings, Settings
from clonechats.settings.checks import require
from tests.providers.email import test_contract as contract

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "adding-a-provider.md"

ADAPTER = "src/clonechats/providers/email/postbox.py"
SETTINGS = "src/clonechats/settings/providers.py"
REGISTRY = "src/clonechats/providers/email/registry.py"
POLICIES = "src/clonechats/privacy/policies.py"
FAKE = "tests/fakes/postbox.py"
ADAPTER_TESTS = "tests/providers/email/test_postbox.py"
CONTRACT = "tests/providers/email/test_contract.py"
PYTHON_BLOCKS = {ADAPTER, SETTINGS, REGISTRY, FAKE, ADAPTER_TESTS}
DIFF_BLOCKS = {POLICIES, CONTRACT}

OPENING_FENCE = re.compile(r"^```(?P<info>\S.*)$", re.MULTILINE)
TITLED_BLOCK = re.compile(r'^```(?P<language>\w+) title="(?P<title>[^"]+)"\n(?P<body>.*?)^```$',
                          re.MULTILINE | re.DOTALL)

SPEC_URL = "https://postbox.spec.test"
SPEC_KEY = "pb_live_spec_key_0001"
FROM = "Clone Chats <no-reply@mail.example.com>"


@dataclass(frozen=True)
class Block:
    language: str
    title: str
    body: str


def guide_blocks() -> dict[str, Block]:
    text = GUIDE.read_text(encoding="utf-8")
    blocks = [Block(m["language"], m["title"], m["body"]) for m in TITLED_BLOCK.finditer(text)]
    titles = [block.title for block in blocks]
    assert len(titles) == len(set(titles)), f"a title is used twice: {titles}"
    return {block.title: block for block in blocks}


def module_name(title: str) -> str:
    return title.removeprefix("src/").removesuffix(".py").replace("/", ".")


def run_module(name: str, source: str, origin: str, monkeypatch: pytest.MonkeyPatch,
               namespace: dict[str, Any] | None = None) -> types.ModuleType:
    """Execute `source` as module `name`, registered in `sys.modules` for this test only."""
    module = types.ModuleType(name)
    module.__dict__.update(namespace or {})
    module.__dict__["__name__"] = name
    module.__file__ = origin
    monkeypatch.setitem(sys.modules, name, module)
    exec(compile(source, origin, "exec"), module.__dict__)  # noqa: S102 - the guide's own code
    return module


def run_block(block: Block, monkeypatch: pytest.MonkeyPatch, *, name: str | None = None,
              namespace: dict[str, Any] | None = None) -> types.ModuleType:
    return run_module(name or module_name(block.title), block.body,
                      f"{GUIDE.name} [{block.title}]", monkeypatch, namespace)


def apply_diff(source: str, diff: str) -> str:
    """Apply each `@@` hunk of `diff`: its context and removed lines must match `source` once."""
    for hunk in re.split(r"^@@.*\n", diff, flags=re.MULTILINE):
        lines = hunk.splitlines()
        if not lines:
            continue
        assert all(line[:1] in ("", " ", "+", "-") for line in lines), hunk
        old = [line[1:] for line in lines if line[:1] in ("", " ", "-")]
        new = [line[1:] for line in lines if line[:1] in ("", " ", "+")]
        before = "\n" + "\n".join(old) + "\n"
        after = "\n" + "\n".join(new) + "\n"
        assert source.count(before) == 1, f"this hunk no longer matches the file:{before}"
        source = source.replace(before, after)
    return source


def parametrized_calls(function: Callable[..., Any]) -> list[dict[str, Any]]:
    """The keyword arguments of each case of a test function (one `parametrize` mark at most)."""
    marks = [m for m in getattr(function, "pytestmark", []) if m.name == "parametrize"]
    if not marks:
        return [{}]
    assert len(marks) == 1, f"{function.__name__}: one parametrize mark is supported"
    names, rows = marks[0].args[:2]
    names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
    return [dict(zip(names, row if len(names) > 1 else (row,), strict=True)) for row in rows]


@dataclass
class Example:
    adapter: types.ModuleType
    fake: types.ModuleType
    tests: types.ModuleType

    def provider(self, http: httpx.AsyncClient, *, api_key: str | None = None,
                 base_url: str | None = None) -> Any:
        return self.adapter.PostboxEmailProvider(
            api_key=api_key or self.fake.API_KEY, from_address=FROM, http=http,
            base_url=base_url or self.fake.BASE_URL)


@pytest.fixture
def blocks() -> dict[str, Block]:
    return guide_blocks()


@pytest.fixture
def example(blocks: dict[str, Block], monkeypatch: pytest.MonkeyPatch) -> Example:
    adapter = run_block(blocks[ADAPTER], monkeypatch)
    fake = run_block(blocks[FAKE], monkeypatch)
    tests = run_block(blocks[ADAPTER_TESTS], monkeypatch)
    return Example(adapter, fake, tests)


@pytest.fixture
def guide_email_settings(blocks: dict[str, Block],
                         monkeypatch: pytest.MonkeyPatch) -> type[EmailSettings]:
    """`EmailSettings` as the guide's settings excerpt makes it: the excerpt is run as a
    subclass of today's class, which stands for the fields it leaves as `...`."""
    namespace = {"BaseModel": EmailSettings, "Field": Field, "Literal": Literal,
                 "SecretStr": SecretStr, "model_validator": model_validator,
                 "require": require}
    module = run_block(blocks[SETTINGS], monkeypatch, name="tests.docs.guide_settings",
                       namespace=namespace)
    return module.EmailSettings


def guide_settings(email_settings: type[EmailSettings], **email: Any) -> Settings:
    """The app's settings with the guide's email section."""
    model = create_model("GuideSettings", __base__=Settings,
                         email=(email_settings, Field(default_factory=email_settings)))
    return model(_env_file=None, email=email_settings(**email))


def message(*, html: str | None = "<p>Hi Ada</p>", key: str = "verify:t1") -> EmailMessage:
    return EmailMessage(to="ada@example.com", subject="Confirm your email address",
                        text="Hi Ada", html=html, idempotency_key=key,
                        tags={"template": "verification"})


# The guide itself.

def test_every_code_block_of_the_guide_is_run_here(blocks: dict[str, Block]) -> None:
    text = GUIDE.read_text(encoding="utf-8")
    opening = [m["info"] for m in OPENING_FENCE.finditer(text) if m["info"].strip()]
    assert len(opening) == len(blocks), f"every fenced block needs a title: {opening}"
    assert {t for t, b in blocks.items() if b.language == "python"} == PYTHON_BLOCKS
    assert {t for t, b in blocks.items() if b.language == "diff"} == DIFF_BLOCKS


async def test_the_guides_adapter_tests_pass(example: Example) -> None:
    functions = {name: fn for name, fn in vars(example.tests).items()
                 if name.startswith("test_") and callable(fn)}
    ran = 0
    for function in functions.values():
        for arguments in parametrized_calls(function):
            outcome = function(**arguments)
            if isinstance(outcome, Awaitable):
                await outcome
            ran += 1
    assert set(functions) == {"test_sends_the_documented_request_and_returns_the_id",
                              "test_vendor_errors_become_provider_errors",
                              "test_a_timeout_is_retryable"}
    assert ran == 8


def test_the_settings_excerpt_adds_postbox_and_refuses_it_without_a_key(
    guide_email_settings: type[EmailSettings], monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ValidationError, match="CLONECHATS_EMAIL__POSTBOX_API_KEY"):
        guide_email_settings(provider="postbox")
    with pytest.raises(ValidationError, match="CLONECHATS_EMAIL__POSTBOX_API_KEY"):
        guide_email_settings(provider="postbox", postbox_api_key=" ")
    with pytest.raises(ValidationError, match="resend_api_key"):  # the rules it keeps
        guide_email_settings(provider="resend")
    assert guide_email_settings().provider == "outbox"

    monkeypatch.setenv("CLONECHATS_EMAIL__PROVIDER", "postbox")
    monkeypatch.setenv("CLONECHATS_EMAIL__POSTBOX_API_KEY", SPEC_KEY)
    model = create_model("GuideSettings", __base__=Settings,
                         email=(guide_email_settings, Field(default_factory=guide_email_settings)))
    email = model(_env_file=None).email
    assert email.provider == "postbox"
    assert email.postbox_api_key.get_secret_value() == SPEC_KEY
    assert email.postbox_base_url == "https://api.postbox.example"
    assert SPEC_KEY not in repr(email)


async def test_the_registry_excerpt_builds_the_adapter_from_settings(
    blocks: dict[str, Block], example: Example, guide_email_settings: type[EmailSettings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = run_block(blocks[REGISTRY], monkeypatch, name="tests.docs.guide_registry",
                       namespace=dict(vars(registry)))
    build = types.FunctionType(registry.build_email_provider.__code__, module.__dict__)
    settings = guide_email_settings(provider="postbox", postbox_api_key=example.fake.API_KEY,
                                    postbox_base_url=example.fake.BASE_URL, from_address=FROM)
    fake = example.fake.FakePostbox()
    async with fake.client() as http:
        provider = build(settings, db=None, http=http, clock=Clock())
        assert isinstance(provider, example.adapter.PostboxEmailProvider)
        assert isinstance(provider, EmailProvider)
        await provider.send(message())
        outbox = build(guide_email_settings(), db=None, http=http, clock=Clock())
    assert outbox.name == "outbox"
    assert [sent["from"] for sent in fake.sent] == [FROM]


def test_the_policies_diff_applies_and_names_postbox_as_a_processor(
    blocks: dict[str, Block], guide_email_settings: type[EmailSettings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = apply_diff((ROOT / POLICIES).read_text(encoding="utf-8"), blocks[POLICIES].body)
    policies = run_module("tests.docs.guide_policies", source, POLICIES, monkeypatch)

    postbox = guide_settings(guide_email_settings, provider="postbox", postbox_api_key=SPEC_KEY)
    names = [processor.name for processor in policies.processors(postbox)]
    assert "Postbox" in names
    assert "Resend" not in names
    outbox = guide_settings(guide_email_settings)
    assert "Postbox" not in [processor.name for processor in policies.processors(outbox)]


def test_the_contract_diff_applies_and_stays_valid_python(blocks: dict[str, Block]) -> None:
    source = apply_diff((ROOT / CONTRACT).read_text(encoding="utf-8"), blocks[CONTRACT].body)
    compile(source, CONTRACT, "exec")
    assert '@pytest.fixture(params=["outbox", "resend", "postbox"])' in source


# The example against Postbox's API as the guide states it, independently of the guide's fake.

@dataclass
class SpecServer:
    """Answers every request with `reply` (or raises it) and records what was sent."""

    reply: httpx.Response | type[httpx.TransportError]
    requests: list[httpx.Request]

    def client(self) -> httpx.AsyncClient:
        def handle(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            if isinstance(self.reply, httpx.Response):
                return self.reply
            raise self.reply("simulated", request=request)

        return httpx.AsyncClient(transport=httpx.MockTransport(handle))


def spec(reply: httpx.Response | type[httpx.TransportError]) -> SpecServer:
    return SpecServer(reply, [])


def postbox_error(status: int, error_type: str, text: str = "refused",
                  headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": {"type": error_type, "message": text}},
                          headers=headers)


async def send_to(server: SpecServer, example: Example, sent: EmailMessage,
                  base_url: str = SPEC_URL) -> Any:
    async with server.client() as http:
        return await example.provider(http, api_key=SPEC_KEY, base_url=base_url).send(sent)


async def test_the_request_is_postboxs_and_the_id_comes_back(example: Example) -> None:
    server = spec(httpx.Response(201, json={"message_id": "msg_0001"}))

    sent = await send_to(server, example, message())
    await send_to(server, example, message(html=None), base_url=SPEC_URL + "/")

    first, text_only = server.requests
    assert sent.provider_message_id == "msg_0001"
    assert (first.method, str(first.url)) == ("POST", f"{SPEC_URL}/v1/messages")
    assert first.headers["authorization"] == f"Bearer {SPEC_KEY}"
    assert first.headers["idempotency-key"] == "verify:t1"
    assert first.headers["content-type"] == "application/json"
    assert json.loads(first.content) == {"from": FROM, "to": "ada@example.com",
                                         "subject": "Confirm your email address",
                                         "text": "Hi Ada", "html": "<p>Hi Ada</p>"}
    assert str(text_only.url) == f"{SPEC_URL}/v1/messages"
    assert set(json.loads(text_only.content)) == {"from", "to", "subject", "text"}


@pytest.mark.parametrize(("reply", "expected", "code"), [
    (postbox_error(400, "invalid_request"), ProviderRejected, "invalid_request"),
    (postbox_error(401, "unauthorized"), ProviderAuthError, "unauthorized"),
    (postbox_error(403, "forbidden"), ProviderAuthError, "forbidden"),
    (postbox_error(404, "not_found"), ProviderRejected, "not_found"),
    (postbox_error(422, "invalid_recipient"), ProviderRejected, "invalid_recipient"),
    (postbox_error(429, "quota_exceeded"), ProviderQuotaError, "quota_exceeded"),
    (postbox_error(429, "rate_limited"), ProviderUnavailable, "rate_limited"),
    (postbox_error(500, "server_error"), ProviderUnavailable, "server_error"),
    (httpx.Response(502, text="<html>Bad gateway</html>"), ProviderUnavailable, None),
    (postbox_error(503, "unavailable"), ProviderUnavailable, "unavailable"),
], ids=["400", "401", "403", "404", "422", "429-quota", "429-rate", "500", "502-html", "503"])
async def test_each_failure_becomes_the_right_provider_error(
    example: Example, reply: httpx.Response, expected: type[ProviderError], code: str | None,
) -> None:
    with pytest.raises(ProviderError) as caught:
        await send_to(spec(reply), example, message())

    error = caught.value
    assert type(error) is expected
    assert (error.provider, error.status, error.code) == ("postbox", reply.status_code, code)
    assert error.retryable is expected.retryable
    assert SPEC_KEY not in str(error)
    if code is not None:
        assert "refused" in str(error)


async def test_retry_after_is_read_from_a_rate_limit(example: Example) -> None:
    reply = postbox_error(429, "rate_limited", headers={"Retry-After": "12"})
    with pytest.raises(ProviderUnavailable) as caught:
        await send_to(spec(reply), example, message())
    assert caught.value.retry_after == 12.0


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ConnectTimeout,
                                     httpx.ReadTimeout, httpx.RemoteProtocolError])
async def test_transport_failures_are_retryable(example: Example,
                                                failure: type[httpx.TransportError]) -> None:
    with pytest.raises(ProviderUnavailable) as caught:
        await send_to(spec(failure), example, message())
    assert caught.value.retryable
    assert caught.value.provider == "postbox"


@pytest.mark.parametrize("reply", [httpx.Response(201, json={}),
                                   httpx.Response(201, json={"message_id": ""}),
                                   httpx.Response(200, text="accepted")])
async def test_an_accepted_send_without_an_id_is_retried_not_lost(example: Example,
                                                                  reply: httpx.Response) -> None:
    with pytest.raises(ProviderUnavailable):
        await send_to(spec(reply), example, message())


async def test_an_empty_key_is_refused_when_built(example: Example) -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(ValueError, match="API key"):
            example.adapter.PostboxEmailProvider(api_key="", from_address=FROM, http=http)


# The email contract, and the job that sends.

@pytest.fixture
async def subject(example: Example) -> AsyncIterator[contract.Subject]:
    fake = example.fake.FakePostbox()

    async def accepted() -> list[str]:
        return sorted(email["subject"] for email in fake.sent)

    async with fake.client() as http:
        yield contract.Subject(example.provider(http), accepted)


@pytest.mark.parametrize("promise", [contract.test_send_delivers_and_returns_an_id,
                                     contract.test_one_email_per_idempotency_key],
                         ids=["delivers", "once-per-key"])
async def test_the_example_keeps_the_email_contract(
    subject: contract.Subject, promise: Callable[[contract.Subject], Awaitable[None]],
) -> None:
    assert isinstance(subject.provider, EmailProvider)
    await promise(subject)


VERIFICATION = {"display_name": "Ada", "verification_url": "https://app.example.com/verify?t=1",
                "expires_at": datetime(2026, 3, 2, 12, 0, tzinfo=UTC)}


async def email_job(ctx: AppContext, key: str) -> dict[str, Any]:
    job = await ctx.db[jobs_repo.COLLECTION].find_one({"dedupe_key": f"email:{key}"})
    assert job is not None
    return job


async def test_the_email_send_job_delivers_retries_and_dead_letters(
    ctx: AppContext, run_jobs: Callable[[], Awaitable[int]], clock: FrozenClock,
    example: Example,
) -> None:
    fake = example.fake.FakePostbox()
    async with fake.client() as http:
        ctx.email = example.provider(http)

        async def queue(key: str) -> None:
            await send_email(ctx, to="ada@example.com", template="verification",
                             context=VERIFICATION, idempotency_key=key)

        await queue("docs/delivered")
        assert await run_jobs() == 1
        assert (await email_job(ctx, "docs/delivered"))["status"] == jobs_repo.DONE

        fake.enqueue_response(503, "unavailable")
        await queue("docs/retried")
        await run_jobs()
        retried = await email_job(ctx, "docs/retried")
        assert (retried["status"], retried["attempts"]) == (jobs_repo.QUEUED, 1)
        clock.advance(minutes=1)
        await run_jobs()
        assert (await email_job(ctx, "docs/retried"))["status"] == jobs_repo.DONE

        fake.enqueue_response(401, "unauthorized")
        await queue("docs/refused")
        await run_jobs()
        refused = await email_job(ctx, "docs/refused")
        assert (refused["status"], refused["attempts"]) == (jobs_repo.DEAD, 1)

    assert [email["to"] for email in fake.sent] == ["ada@example.com", "ada@example.com"]
    assert [request.headers["idempotency-key"] for request in fake.history] == [
        "docs/delivered", "docs/retried", "docs/retried", "docs/refused"]
