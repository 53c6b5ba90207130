"""What the platform adds to a streamed reply: time to first token and tokens per second through
`POST /api/v1/conversations/{id}/messages` (SSE) next to the same instant fake OpenAI-compatible
server called directly, at 1, 50 and 500 concurrent chats, in one run.

    .venv/bin/python bench/chat_overhead.py [--tokens 64] [--levels 1,50,500]

Two real processes on loopback ports: `bench/fake_openai_server.py` (every reply `--tokens`
tokens at once) and `clonechats serve` with its `openai` provider pointed at it, everything else
as an operator gets it by default (embedded database, local moderation of the message and the
reply, mood signals, memory recall, metering with a ledger reservation and release, the cost
event). One signed-up user with generous credits (granted straight into the ledger) has one
conversation per concurrent chat. The direct path sends the fake a prompt of the same size as
the one the platform builds (platform rules plus the persona frame). Both paths are timed by
the same client; at each level the platform and direct runs alternate.

Per reply: time to first token (TTFT, from sending the request), tokens/s over the whole reply
(tokens / time from sending to the last token) and, for the platform, the time to `done`
(which also covers settling: moderation of the reply, moods, the ledger release). Per level:
aggregate tokens/s (all tokens / wall time). Figures are medians and 95th percentiles. Not a
test: it only prints its figures. Compare figures only between runs on the same machine.
"""

import argparse
import asyncio
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from clonechats.billing import ledger
from clonechats.personas.instructions import PLATFORM_RULES, frame_persona_for_model
from clonechats.storage import connect

HERE = Path(__file__).resolve().parent
PERSONA = {"name": "Maren", "tagline": "Keeps the light", "traits": ["calm", "curious"],
           "tone": "warm", "system_prompt": "A lighthouse keeper on a windy island.",
           "sliders": {"warmth": 70, "humour": 40, "formality": 30, "verbosity": 50,
                       "curiosity": 60}, "visibility": "private"}
MESSAGE = "Tell me about the night the storm came in, please."
PASSWORD = "a long benchmark passphrase"  # noqa: S105 - a throwaway account
SINGLE_SAMPLES = 30
ROUNDS = {50: 3}  # rounds per level (default 1); level 1 takes SINGLE_SAMPLES sequential replies


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def process(command: list[str], ready_url: str, env: dict[str, str]) -> Iterator[None]:
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and scripts
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{command} exited with {proc.returncode}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(ready_url, timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command} did not start")
            time.sleep(0.1)
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@dataclass
class Sample:
    ttft: float
    last_token: float
    done: float
    tokens: int

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.last_token if self.last_token else 0.0


async def direct_reply(client: httpx.AsyncClient, body: dict) -> Sample:
    started = time.perf_counter()
    first = last = None
    tokens = 0
    async with client.stream("POST", "/v1/chat/completions", json=body) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                break
            for choice in json.loads(data).get("choices") or []:
                if (choice.get("delta") or {}).get("content"):
                    tokens += 1
                    last = time.perf_counter()
                    first = first or last
    end = time.perf_counter()
    if first is None or last is None:
        raise RuntimeError("the fake server sent no tokens")
    return Sample(first - started, last - started, end - started, tokens)


async def platform_reply(client: httpx.AsyncClient, conversation_id: str) -> Sample:
    started = time.perf_counter()
    first = last = done = None
    tokens = 0
    event = None
    headers = {"X-CSRF-Token": client.cookies.get("csrf_token", "")}
    async with client.stream("POST", f"/api/v1/conversations/{conversation_id}/messages",
                             json={"text": MESSAGE}, headers=headers) as response:
        if response.status_code != 200:
            raise RuntimeError(f"send failed: {response.status_code} {await response.aread()}")
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "token":
                tokens += 1
                last = time.perf_counter()
                first = first or last
            elif line.startswith("data: ") and event == "error":
                raise RuntimeError(f"reply failed: {line}")
            elif line.startswith("data: ") and event == "done":
                done = time.perf_counter()
    if first is None or last is None or done is None:
        raise RuntimeError("the platform sent no complete reply")
    return Sample(first - started, last - started, done - started, tokens)


@dataclass
class Level:
    samples: list[Sample]
    wall: float

    def median(self, name: str) -> float:
        return statistics.median(getattr(s, name) for s in self.samples)

    def p95(self, name: str) -> float:
        values = sorted(getattr(s, name) for s in self.samples)
        return values[min(len(values) - 1, int(0.95 * len(values)))]

    @property
    def aggregate(self) -> float:
        return sum(s.tokens for s in self.samples) / self.wall


async def run_level(level: int, make_one, *, rounds: int) -> Level:
    samples: list[Sample] = []
    wall = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        if level == 1:
            for _ in range(SINGLE_SAMPLES):
                samples.append(await make_one(0))
        else:
            samples.extend(await asyncio.gather(*(make_one(i) for i in range(level))))
        wall += time.perf_counter() - started
    return Level(samples, wall)


async def set_up_platform(url: str, data_dir: Path, chats: int) -> tuple[httpx.AsyncClient, list]:
    client = httpx.AsyncClient(base_url=url, timeout=300,
                               limits=httpx.Limits(max_connections=chats + 20,
                                                   max_keepalive_connections=chats + 20))
    await client.get("/")
    csrf = {"X-CSRF-Token": client.cookies.get("csrf_token", "")}
    signup = await client.post("/api/v1/auth/signup", headers=csrf, json={
        "email": "bench@example.com", "password": PASSWORD, "birth_date": "1990-01-01"})
    signup.raise_for_status()
    user_id = signup.json()["user"]["id"]
    connection = await connect(None, data_dir=data_dir)
    try:
        await ledger.apply(connection.db, user_id=user_id, delta=10_000_000, kind=ledger.GRANT,
                           reason="benchmark credits", idempotency_key="bench:grant",
                           now=datetime.now(UTC))
    finally:
        await connection.close()
    csrf = {"X-CSRF-Token": client.cookies.get("csrf_token", "")}
    persona = await client.post("/api/v1/personas", headers=csrf, json=PERSONA)
    persona.raise_for_status()
    persona_id = persona.json()["persona"]["id"]
    conversations = []
    for _ in range(chats):
        created = await client.post("/api/v1/conversations", headers=csrf,
                                    json={"persona_id": persona_id})
        created.raise_for_status()
        conversations.append(created.json()["conversation"]["id"])
    return client, conversations


def direct_body(tokens: int) -> dict:
    frame = frame_persona_for_model(PERSONA, platform_rules=PLATFORM_RULES)
    return {"model": "bench-model", "messages": [*frame, {"role": "user", "content": MESSAGE}],
            "max_tokens": tokens, "temperature": 0.7, "stream": True,
            "stream_options": {"include_usage": True}}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


async def measure(app_url: str, fake_url: str, data_dir: Path, levels: list[int],
                  tokens: int) -> None:
    most = max(levels)
    app_client, conversations = await set_up_platform(app_url, data_dir, most)
    direct_client = httpx.AsyncClient(
        base_url=fake_url, timeout=300, headers={"Authorization": "Bearer sk-bench"},
        limits=httpx.Limits(max_connections=most + 20, max_keepalive_connections=most + 20))
    body = direct_body(tokens)
    try:
        for i in range(3):  # warm up: classifiers and models load on first use
            await platform_reply(app_client, conversations[i % len(conversations)])
            await direct_reply(direct_client, body)
        print(f"{'':24}{'TTFT ms':>17}{'':5}{'per-reply tok/s':>17}{'':3}"
              f"{'done ms':>8}{'aggregate':>12}")
        print(f"{'':24}{'median':>8} {'p95':>8}   {'median':>8} {'p95*':>8}   "
              f"{'median':>8}{'tok/s':>12}")
        for level in levels:
            rounds = ROUNDS.get(level, 1)
            results: dict[str, Level] = {}
            for label in ("direct", "platform"):
                if label == "direct":
                    results[label] = await run_level(
                        level, lambda _i: direct_reply(direct_client, body), rounds=rounds)
                else:
                    results[label] = await run_level(
                        level, lambda i: platform_reply(app_client, conversations[i]),
                        rounds=rounds)
            for label, found in results.items():
                slowest = sorted(s.tokens_per_second for s in found.samples)
                low = slowest[max(0, int(0.05 * len(slowest)) - 1)]
                print(f"{level:>4} chats  {label:<10}    {ms(found.median('ttft'))} "
                      f"{ms(found.p95('ttft'))}   {found.median('tokens_per_second'):8.0f} "
                      f"{low:8.0f}   {ms(found.median('done'))}{found.aggregate:12.0f}")
            direct, ours = results["direct"], results["platform"]
            print(f"{level:>4} chats  ratio platform/direct: TTFT median "
                  f"x{ours.median('ttft') / direct.median('ttft'):.1f} "
                  f"(+{(ours.median('ttft') - direct.median('ttft')) * 1000:.1f} ms), "
                  f"per-reply tok/s x{ours.median('tokens_per_second') / direct.median('tokens_per_second'):.2f}, "  # noqa: E501
                  f"aggregate tok/s x{ours.aggregate / direct.aggregate:.2f}")
    finally:
        await app_client.aclose()
        await direct_client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=64, help="tokens in every reply")
    parser.add_argument("--levels", default="1,50,500", help="concurrent chats, comma-separated")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    fake_port, app_port = free_port(), free_port()
    fake_url, app_url = f"http://127.0.0.1:{fake_port}", f"http://127.0.0.1:{app_port}"
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("CLONECHATS_")}
    print(f"# {platform.python_implementation()} {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {args.tokens}-token replies from an instant fake server; "
          f"levels {args.levels}")
    print("# * p95 of per-reply tok/s is the 5th percentile (the slow end)")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="clonechats-bench-") as scratch:
        data_dir = Path(scratch) / "data"
        app_env = {**base_env, "CLONECHATS_DEV_MODE": "1", "CLONECHATS_LOG_JSON": "1",
                   "CLONECHATS_ACCOUNTS__BCRYPT_ROUNDS": "4",
                   "CLONECHATS_LLM__OPENAI_API_KEY": "sk-bench",
                   "CLONECHATS_LLM__OPENAI_BASE_URL": f"{fake_url}/v1",
                   "CLONECHATS_LLM__OPENAI_MODELS": json.dumps(
                       [{"name": "bench-model", "context_window": 8192, "label": "Bench"}]),
                   "CLONECHATS_LLM__DEFAULT_MODEL": "openai:bench-model",
                   "CLONECHATS_CHAT__MAX_REPLY_TOKENS": str(args.tokens)}
        fake_cmd = [sys.executable, str(HERE / "fake_openai_server.py"), "--port",
                    str(fake_port), "--tokens", str(args.tokens)]
        app_cmd = [sys.executable, "-m", "clonechats", "serve", "--host", "127.0.0.1",
                   "--port", str(app_port), "--data-dir", str(data_dir), "--dev"]
        with process(fake_cmd, f"{fake_url}/v1/models", base_env), \
                process(app_cmd, f"{app_url}/healthz", app_env):
            asyncio.run(measure(app_url, fake_url, data_dir, levels, args.tokens))
    print(f"# took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
