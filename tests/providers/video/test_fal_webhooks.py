"""fal.ai webhook verification: genuine deliveries pass; a forged, altered, stale, foreign or
malformed one does not; rotated keys are fetched again."""

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clonechats.clock import FrozenClock
from clonechats.providers.video.fal_webhooks import FalWebhookVerifier, InvalidWebhook
from tests.fakes.fal import JWKS_URL, USER_ID, FakeFal

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _setup() -> tuple[FakeFal, FrozenClock, str]:
    fake = FakeFal()
    fake.requests["req-1"] = {"app": "fal-ai/infinitalk", "state": "IN_QUEUE"}
    fake.complete("req-1")
    return fake, FrozenClock(NOW), "req-1"


async def test_a_genuine_delivery_verifies() -> None:
    fake, clock, request_id = _setup()
    body, headers = fake.webhook(request_id, timestamp=int(NOW.timestamp()))
    async with fake.client() as http:
        verifier = FalWebhookVerifier(http=http, clock=clock, jwks_url=JWKS_URL,
                                      user_id=USER_ID)
        event = await verifier.verify(body, {k.lower(): v for k, v in headers.items()})
        again = await verifier.verify(body, {k.lower(): v for k, v in headers.items()})
    assert event.request_id == request_id and event.status == "OK"
    assert event.payload and event.payload["video"]["url"].endswith("/output.mp4")
    assert again == event
    assert fake.jwks_fetches == 1  # the keys are cached


@pytest.mark.parametrize("attack", ["body", "signature", "request_id", "other_key", "old",
                                    "future", "user", "missing"])
async def test_forged_or_stale_deliveries_are_refused(attack: str) -> None:
    fake, clock, request_id = _setup()
    timestamp = int(NOW.timestamp())
    if attack == "old":
        timestamp -= 301
    if attack == "future":
        timestamp += 301
    key = Ed25519PrivateKey.generate() if attack == "other_key" else None
    body, headers = fake.webhook(request_id, timestamp=timestamp,
                                 user_id="someone-else" if attack == "user" else USER_ID,
                                 key=key)
    headers = {k.lower(): v for k, v in headers.items()}
    if attack == "body":
        body = body.replace(b'"OK"', b'"ERROR"')
    if attack == "signature":
        headers["x-fal-webhook-signature"] = "0" * 128
    if attack == "request_id":
        headers["x-fal-webhook-request-id"] = "req-2"
    if attack == "missing":
        del headers["x-fal-webhook-signature"]
    async with fake.client() as http:
        verifier = FalWebhookVerifier(http=http, clock=clock, jwks_url=JWKS_URL,
                                      user_id=USER_ID)
        with pytest.raises(InvalidWebhook):
            await verifier.verify(body, headers)


async def test_rotated_keys_are_fetched_again_once() -> None:
    fake, clock, request_id = _setup()
    async with fake.client() as http:
        verifier = FalWebhookVerifier(http=http, clock=clock, jwks_url=JWKS_URL)
        body, headers = fake.webhook(request_id, timestamp=int(clock.now().timestamp()))
        await verifier.verify(body, {k.lower(): v for k, v in headers.items()})
        fake.rotate_key()
        clock.advance(minutes=10)
        body, headers = fake.webhook(request_id, timestamp=int(clock.now().timestamp()))
        event = await verifier.verify(body, {k.lower(): v for k, v in headers.items()})
    assert event.status == "OK"
    assert fake.jwks_fetches == 2


async def test_an_error_delivery_carries_the_error() -> None:
    fake, clock, request_id = _setup()
    fake.fail(request_id, "Invalid status code: 422")
    body, headers = fake.webhook(request_id, timestamp=int(NOW.timestamp()))
    async with fake.client() as http:
        verifier = FalWebhookVerifier(http=http, clock=clock, jwks_url=JWKS_URL)
        event = await verifier.verify(body, {k.lower(): v for k, v in headers.items()})
    assert event.status == "ERROR" and event.error == "Invalid status code: 422"
