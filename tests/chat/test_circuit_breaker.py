"""An LLM provider that keeps failing opens its circuit: further messages get 503 with
Retry-After at once (nothing stored, nothing reserved, the provider not called), other routes
keep working, and one probe after the open period closes it again when the provider is back."""

from clonechats.providers.llm.breaker import CircuitBreaker
from clonechats.providers.llm.registry import LLMRegistry
from tests.fakes.llm import FAKE_MODEL


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_the_breaker_opens_fails_fast_and_recovers(ann, fake_llm, ctx):
    ticks = Ticks()
    ctx.llm = LLMRegistry([fake_llm], default_model=FAKE_MODEL.id,
                          breaker=CircuitBreaker(failures_to_open=3, open_seconds=30,
                                                 monotonic=ticks))
    persona = await ann.persona(name="Ada")
    conversation = await ann.conversation(persona["_id"])
    for _ in range(3):
        fake_llm.enqueue(["never"], fail_after=0)
        failed = await ann.say(conversation["id"], "Hello?", stream="false")
        assert failed.status_code == 503 and failed.json()["error"]["code"] == \
            "provider_unavailable"
    calls, stored, balance = (len(fake_llm.history),
                              await ctx.db.messages.count_documents({}), await ann.balance())

    refused = await ann.say(conversation["id"], "Hello?", stream="false")
    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "provider_circuit_open"
    assert refused.headers["retry-after"] == "30"
    assert len(fake_llm.history) == calls  # the provider is not even called
    assert await ctx.db.messages.count_documents({}) == stored
    assert await ann.balance() == balance
    assert (await ann.client.get("/api/v1/personas")).status_code == 200  # the rest works

    ticks.now += 20
    again = await ann.say(conversation["id"], "Hello?", stream="true")
    assert again.status_code == 503 and again.headers["retry-after"] == "10"

    ticks.now += 11  # half-open: one probe goes through, and the provider is back
    fake_llm.enqueue(["Back", " again."])
    probe = await ann.say(conversation["id"], "Hello?", stream="false")
    assert probe.status_code == 201, probe.text
    fake_llm.enqueue(["Fine."])
    assert (await ann.say(conversation["id"], "Still there?", stream="false")).status_code == 201


def test_a_failed_probe_opens_the_circuit_again():
    ticks = Ticks()
    breaker = CircuitBreaker(failures_to_open=2, open_seconds=30, monotonic=ticks)
    breaker.failure("x")
    breaker.failure("x")
    assert breaker.is_open("x")
    ticks.now += 31
    breaker.check("x")  # the probe
    try:
        breaker.check("x")  # a second caller while the probe is out
        raise AssertionError("a second call went through while half-open")
    except Exception as exc:
        assert getattr(exc, "code", None) == "provider_circuit_open"
    breaker.failure("x")
    assert breaker.is_open("x")


def test_half_the_recent_calls_failing_also_opens_it():
    breaker = CircuitBreaker(failures_to_open=100, window_calls=4, monotonic=Ticks())
    for ok in (True, False, True, False):
        breaker.success("x") if ok else breaker.failure("x")
    assert breaker.is_open("x")
